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
#![warn(missing_debug_implementations)]

#[cfg(feature = "alloc")]
extern crate alloc;

pub mod channels;
pub mod controls;
pub mod device;
pub mod framing;
pub mod reliability;
pub mod time;

pub mod host;

#[cfg(feature = "std")]
pub mod client;
#[cfg(feature = "std")]
pub mod transport;

#[cfg(feature = "capi")]
pub mod capi;

pub use framing::{ChannelId, Flags, Header, Opcode, Status};
pub use time::Instant;
