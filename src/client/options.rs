//! How a [`super::Camera`] talks: capability wishes, timeouts, reconnection, listeners.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::events::{ClientEvent, Listener};
use crate::framing::payload::{CapFlags, Caps};

/// Client settings. `Options::default()` behaves like openmv 1.0.7: everything on, payloads
/// of up to 4082 bytes (less if the cam takes less), 1 s per answer, no automatic
/// reconnection.
#[derive(Clone)]
pub struct Options {
    /// What to ask the cam for after PROTO_SYNC; max_payload becomes min(cam, this).
    pub caps: Caps,
    /// Wait at most this long for an answer, or for the next fragment of one.
    pub timeout: Duration,
    /// PROTO_SYNC attempts before a resynchronisation fails (openmv: 3).
    pub sync_attempts: u32,
    /// Reopen the transport and restore the session when the link is lost.
    pub auto_reconnect: bool,
    /// First wait before an automatic reconnection attempt; doubled after each failure...
    pub reconnect_interval: Duration,
    /// ...up to this.
    pub reconnect_max_interval: Duration,
    /// Called with every [`ClientEvent`], on the client's event thread.
    pub listeners: Vec<Listener>,
    /// The most bytes one read may take in (a CHANNEL_SIZE or frame claiming more gets
    /// [`super::Error::SizeLimit`], not an allocation). Default 64 MiB.
    pub max_answer: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            caps: Caps::DEFAULT,
            timeout: Duration::from_secs(1),
            sync_attempts: 3,
            auto_reconnect: false,
            reconnect_interval: Duration::from_millis(200),
            reconnect_max_interval: Duration::from_secs(5),
            listeners: Vec::new(),
            max_answer: 64 << 20,
        }
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("caps", &self.caps)
            .field("timeout", &self.timeout)
            .field("sync_attempts", &self.sync_attempts)
            .field("auto_reconnect", &self.auto_reconnect)
            .field("reconnect_interval", &self.reconnect_interval)
            .field("reconnect_max_interval", &self.reconnect_max_interval)
            .field("listeners", &self.listeners.len())
            .field("max_answer", &self.max_answer)
            .finish()
    }
}

impl Options {
    /// The defaults, the same as `Options::default()`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the whole capability wish, flags and max_payload (default [`Caps::DEFAULT`]: all
    /// flags on, 4082 bytes).
    pub fn caps(mut self, caps: Caps) -> Self {
        self.caps = caps;
        self
    }

    fn flag(mut self, flag: CapFlags, on: bool) -> Self {
        self.caps.flags.set(flag, on);
        self
    }

    /// Asks for CRCs on or off (header CRC-16 and payload CRC-32; off sends them as 0). Default on.
    pub fn crc(self, on: bool) -> Self {
        self.flag(CapFlags::CRC, on)
    }

    /// Asks for sequence checking on or off (PROTOCOL.md 3.1). Default on.
    pub fn seq(self, on: bool) -> Self {
        self.flag(CapFlags::SEQ, on)
    }

    /// Asks for the `ack` capability on or off: with it the cam sets ACK_REQ and waits for the
    /// host's ACK of each packet it sends (PROTOCOL.md 3.2). Default on.
    pub fn ack(self, on: bool) -> Self {
        self.flag(CapFlags::ACK, on)
    }

    /// Without events no [`ClientEvent::Device`] arrives, and channel registrations go unseen.
    pub fn events(self, on: bool) -> Self {
        self.flag(CapFlags::EVENTS, on)
    }

    /// Sets the largest payload to ask for, in bytes; the link uses min(cam, this). Default
    /// 4082. Below 50 the cam refuses SET_CAPS and every resynchronisation fails.
    pub fn max_payload(mut self, max: u16) -> Self {
        self.caps.max_payload = max;
        self
    }

    /// Sets the most bytes one read may take in. Default 64 MiB.
    pub fn max_answer(mut self, bytes: usize) -> Self {
        self.max_answer = bytes;
        self
    }

    /// Sets how long to wait for an answer, or for its next fragment. Default 1 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the PROTO_SYNC attempts of one resynchronisation; 0 counts as 1. Default 3.
    pub fn sync_attempts(mut self, n: u32) -> Self {
        self.sync_attempts = n.max(1);
        self
    }

    /// Turns automatic reconnection on or off. When on, the event thread reopens a lost link,
    /// pausing between attempts as [`Options::reconnect_interval`] sets. Default off.
    pub fn auto_reconnect(mut self, on: bool) -> Self {
        self.auto_reconnect = on;
        self
    }

    /// Sets the first pause before an automatic reconnection attempt and the most it doubles
    /// to; a `max` below `first` counts as `first`. Default 200 ms and 5 s.
    pub fn reconnect_interval(mut self, first: Duration, max: Duration) -> Self {
        self.reconnect_interval = first;
        self.reconnect_max_interval = max.max(first);
        self
    }

    /// Adds a listener (see [`super::Camera::subscribe`] for the rules it runs under).
    pub fn on_event(mut self, f: impl Fn(&ClientEvent) + Send + Sync + 'static) -> Self {
        self.listeners.push(Arc::new(f));
        self
    }
}
