//! `openmvproto`: the OpenMV camera protocol 1.0.x, one engine for both ends of the cable.
//!
//! The layers, bottom up (PROTOCOL.md section 1):
//! - [`framing`]: packets, CRCs, the streaming decoder (layer 2);
//! - [`reliability`]: sequence counter, capabilities, retransmission timers, statistics (layer 3);
//! - [`channels`]: the channel operations and ready-made channels a cam can register (layer 4);
//! - [`device`]: the role a cam runs, and [`host`]: the role a host runs (both without a heap;
//!   the host's owned-buffer `Host` needs `alloc`).
//!
//! Both roles are sans-IO: they never sleep, spawn or read a clock. The caller feeds received
//! bytes and the current [`time::Instant`], takes out bytes to send, results and events, and asks
//! for the next deadline. The `std` feature adds the outer rings: transports, the thread-safe
//! [`client::Camera`]; `capi` adds the C ABI. The virtual cam is the crate `openmvproto-vcam`.
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_debug_implementations, missing_docs)]
// The docs link to heap and std items (`Host`, `client::Camera`, the owned controls) that a
// build without `std` may not have; there they stay plain text. The default build's docs are
// checked with every link (scripts/test-all.sh), the no_std build's for everything else.
#![cfg_attr(not(feature = "std"), allow(rustdoc::broken_intra_doc_links))]

#[cfg(feature = "alloc")]
extern crate alloc;

/// Declares the Rust-only modules. cbindgen does not expand macros, so it never reads them:
/// include/openmvproto.h is what `capi` declares, whether cbindgen is given src/capi/mod.rs
/// (scripts/check-header.sh) or the whole crate. A `/// cbindgen:ignore` on each module would do
/// the same, but rustdoc then resolves the module's own intra-doc links from the crate root and
/// prints the marker at the top of its page.
macro_rules! rust_only {
    ($($(#[$attr:meta])* $name:ident),* $(,)?) => {
        $($(#[$attr])* pub mod $name;)*
    };
}

rust_only! {
    channels,
    controls,
    device,
    framing,
    reliability,
    time,
    host,
    #[cfg(feature = "std")]
    client,
    #[cfg(feature = "std")]
    transport,
}

#[cfg(feature = "capi")]
pub mod capi;

pub use framing::{ChannelId, Flags, Header, Opcode, Status};
pub use time::Instant;
