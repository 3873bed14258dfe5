//! The host role as a sans-IO machine: one request at a time, any opcode.
//!
//! [`HostMachine`] (module `machine`) is the engine and needs no heap: answers go into a
//! [`ByteBuf`] the caller picks, events into a fixed ring. [`Host`] (feature `alloc`) is that
//! machine over `Vec`s, with owned requests and answers:
//!
//! - [`Host::start`] a request (or [`Host::resync`]), then write what [`Host::poll_transmit`]
//!   gives to the transport;
//! - [`Host::handle_input`] with every received chunk; ACKs the host owes are queued for
//!   transmit at once;
//! - [`Host::poll_event`] for device events and [`Host::poll_completion`] for the result;
//! - [`Host::handle_timeout`] once [`Host::poll_at`] has passed.
//!
//! [`HostMachine`]: crate::host::HostMachine
//! [`ByteBuf`]: crate::host::ByteBuf
//! [`Host`]: crate::host::Host
//! [`Host::start`]: crate::host::Host::start
//! [`Host::resync`]: crate::host::Host::resync
//! [`Host::poll_transmit`]: crate::host::Host::poll_transmit
//! [`Host::handle_input`]: crate::host::Host::handle_input
//! [`Host::poll_event`]: crate::host::Host::poll_event
//! [`Host::poll_completion`]: crate::host::Host::poll_completion
//! [`Host::handle_timeout`]: crate::host::Host::handle_timeout
//! [`Host::poll_at`]: crate::host::Host::poll_at

mod buffers;
mod machine;
mod types;

pub use buffers::{ByteBuf, EventRing, FixedBuf, SliceBuf};
pub use machine::{FixedHost, HostMachine, MachineError, Outcome};
pub use types::{DeviceEvent, HostConfig, RequestError, StartError, ANSWER_LIMIT, EVENT_QUEUE, HOST_PACKET_BUF};

#[cfg(feature = "alloc")]
mod owned;
#[cfg(feature = "alloc")]
pub use owned::{Host, Request, Response};
