//! What both host flavours share: settings, errors, events (no heap).

use core::time::Duration;

use crate::framing::payload::Caps;
use crate::framing::{ChannelId, Status};

/// Largest packet a host can take: a u16 length plus header and CRC.
pub const HOST_PACKET_BUF: usize = u16::MAX as usize + 14;

/// The most data a non-read answer may carry (the largest, CHANNEL_LIST of 32 channels, is
/// 512 bytes; the slack is for firmware that grows its structures).
pub const ANSWER_LIMIT: usize = 64 * 1024;

/// Most device events held for [`super::Host::poll_event`]; older ones are dropped and counted.
pub const EVENT_QUEUE: usize = 256;

/// Why a request failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestError {
    /// The device answered NAK with this status.
    Nak(Status),
    /// No answer (or no next fragment) within the timeout.
    Timeout,
    /// An answer that does not belong to the request.
    Unexpected,
    /// [`super::Host::resync`] or a new connection cut the request short.
    Aborted,
    /// The GET_CAPS answer was malformed.
    BadCaps,
    /// The answer grew past the request's limit (a read longer than asked for).
    TooLong,
    /// A non-event packet carried another sequence number than the host's: the cam's
    /// counter restarted (soft reboot) or the ends fell out of step.
    Sequence,
    /// The cam announced a soft reboot while the request was in flight: it may or may not
    /// have been carried out, and its answer will not come.
    Reset,
}

/// Why a request could not start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartError {
    /// Another request is in flight.
    Busy,
    /// The payload is larger than the negotiated max_payload (or than the transmit buffer
    /// of a fixed-capacity host holds).
    TooLarge,
}

/// A device event (PROTOCOL.md 5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceEvent {
    /// 0 for system events.
    pub channel: ChannelId,
    /// The code; [`crate::framing::payload::event::NOTIFY`] when the event had no payload.
    pub code: u16,
}

/// Host settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostConfig {
    /// Wait for an answer, or for its next fragment, at most this long.
    pub timeout: Duration,
    /// What a resync asks the device for (max_payload = min(device, this)).
    pub wish: Caps,
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig { timeout: Duration::from_millis(1000), wish: Caps::DEFAULT }
    }
}
