//! `uniffi-bindgen`: generates the Kotlin, Swift and Python bindings of `openmvproto-uniffi`.
//! Run it from inside the cargo workspace (library mode calls `cargo metadata`):
//!
//! ```text
//! uniffi-bindgen generate --library target/release/libopenmvproto_uniffi.so \
//!     --language kotlin --out-dir bindings/kotlin
//! ```
//!
//! `scripts/gen-bindings.sh` does this for every language.

fn main() {
    uniffi::uniffi_bindgen_main()
}
