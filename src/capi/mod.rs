//! The C ABI (`capi` feature): `libopenmvproto.so` / `.a` with `include/openmvproto.h`,
//! generated from this module by cbindgen (see `cbindgen.toml`).
//!
//! Conventions, the same for every function:
//! - names start with `omv_`; handles (`omv_host`, `omv_device`, `omv_controls`) are opaque
//!   pointers made by the library and released by their `*_free` function (`omv_host_free`,
//!   `omv_device_free`, `omv_controls_free`). `omv_frame` is not opaque: its fields are read
//!   directly; the frames `omv_host_read_frame` / `omv_host_wait_frame` return are released
//!   by `omv_frame_free`;
//! - every function returns an [`omv_status`]: `OMV_STATUS_OK` (0) or an error, and results go
//!   through out-pointers; `omv_last_error` explains the last failure on the calling thread;
//! - NULL, misaligned or out-of-range arguments are errors, never crashes; a panic inside the
//!   library is caught and returned as `OMV_STATUS_PANIC`;
//! - each handle function's comment says whether it is thread-safe.
//!
//! Layout: [`error`] (the status and its single mapping from Rust errors), `ffi` (the
//! boundary guard and argument checks), [`types`] (plain structs and constants), [`host`],
//! [`frame`] and [`device`].

pub mod controls;
pub mod device;
pub mod error;
pub(crate) mod ffi;
pub mod frame;
pub mod host;
pub mod types;

use std::ffi::c_char;

pub use error::omv_status;

use error::{copy_last_error, status_name_ptr, Fail};
use ffi::{arg_bytes_mut, guard, opt_out, Out};

/// Major version of this library.
pub const OMV_VERSION_MAJOR: u32 = 0;
/// Minor version of this library.
pub const OMV_VERSION_MINOR: u32 = 1;
/// Patch version of this library. (`OMV_VERSION_STRING`, "MAJOR.MINOR.PATCH", is defined
/// from these three in the header; a unit test checks them against Cargo.toml.)
pub const OMV_VERSION_PATCH: u32 = 0;

/// The version of the library actually loaded (compare with the `OMV_VERSION_*` macros the
/// program was compiled with). `version` may be NULL; so may each number. Thread-safe.
///
/// # Safety
/// Each pointer must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn omv_library_version(
    version: *mut *const c_char,
    major: *mut u32,
    minor: *mut u32,
    patch: *mut u32,
) -> omv_status {
    guard("omv_library_version", || {
        // SAFETY: the caller's contract.
        let outs = unsafe {
            (opt_out(version, "version")?, opt_out(major, "major")?, opt_out(minor, "minor")?, opt_out(patch, "patch")?)
        };
        const STRING: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
        let (v, a, b, c) = outs;
        if let Some(v) = v {
            v.set(STRING.as_ptr().cast());
        }
        let parse = |s: &str| s.parse::<u32>().unwrap_or(0);
        for (o, n) in [
            (a, parse(env!("CARGO_PKG_VERSION_MAJOR"))),
            (b, parse(env!("CARGO_PKG_VERSION_MINOR"))),
            (c, parse(env!("CARGO_PKG_VERSION_PATCH"))),
        ] {
            if let Some(o) = o {
                o.set(n);
            }
        }
        Ok(())
    })
}

/// Copies the calling thread's last error message ("function: OMV_STATUS_X: why") into `buf`
/// (`len` bytes, NUL-terminated, truncated to fit); empty if no call on this thread failed.
/// `*written` (may be NULL) is the number of bytes before the NUL. Returns
/// `OMV_STATUS_BUFFER_TOO_SMALL` if the message was truncated, and also when `len` is 0, then
/// without writing `buf` or `*written`. Does not change the last error itself. Thread-safe
/// (per-thread state).
///
/// # Safety
/// `buf` NULL or `len` writable bytes; `written` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn omv_last_error(buf: *mut c_char, len: usize, written: *mut usize) -> omv_status {
    // Not through `guard`'s error path: a failure here must not replace the message.
    let r = std::panic::catch_unwind(|| {
        if len == 0 {
            return omv_status::BufferTooSmall;
        }
        // SAFETY: the caller's contract.
        let (buf, written) = match unsafe { (arg_bytes_mut(buf.cast(), len, "buf"), opt_out(written, "written")) } {
            (Ok(b), Ok(w)) => (b, w),
            (Err(f), _) | (_, Err(f)) => return f.status,
        };
        let (n, whole) = copy_last_error(buf);
        if let Some(w) = written {
            w.set(n);
        }
        if whole {
            omv_status::Ok
        } else {
            omv_status::BufferTooSmall
        }
    });
    r.unwrap_or(omv_status::Panic)
}

/// The name of a status number (`"OMV_STATUS_TIMEOUT"`), a static string, into `*name`;
/// `"OMV_STATUS_<unknown>"` and `OMV_STATUS_INVALID_ARGUMENT` for numbers no status has.
/// Thread-safe.
///
/// # Safety
/// `name` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn omv_status_str(status: i32, name: *mut *const c_char) -> omv_status {
    guard("omv_status_str", || {
        // SAFETY: the caller's contract.
        let out = unsafe { Out::new(name, "name") }?;
        out.set(status_name_ptr(i64::from(status)));
        match omv_status::from_i64(i64::from(status)) {
            Some(_) => Ok(()),
            None => Err(Fail::invalid(format!("no status has the number {status}"))),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_macros_match_the_package() {
        assert_eq!(OMV_VERSION_MAJOR.to_string(), env!("CARGO_PKG_VERSION_MAJOR"));
        assert_eq!(OMV_VERSION_MINOR.to_string(), env!("CARGO_PKG_VERSION_MINOR"));
        assert_eq!(OMV_VERSION_PATCH.to_string(), env!("CARGO_PKG_VERSION_PATCH"));
    }
}
