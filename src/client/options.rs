//! How a [`super::Camera`] talks: capability wishes, timeouts, reconnection, listeners.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::events::{ClientEvent, Listener};
use crate::framing::payload::{CapFlags, Caps};

/// Client settings. `Options::default()` behaves like openmv 1.0.7: everything on, the
/// largest payload the cam takes, 1 s per answer, no automatic reconnection.
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
    pub fn new() -> Self {
        Self::default()
    }

    pub fn caps(mut self, caps: Caps) -> Self {
        self.caps = caps;
        self
    }

    fn flag(mut self, flag: CapFlags, on: bool) -> Self {
        self.caps.flags.set(flag, on);
        self
    }

    pub fn crc(self, on: bool) -> Self {
        self.flag(CapFlags::CRC, on)
    }

    pub fn seq(self, on: bool) -> Self {
        self.flag(CapFlags::SEQ, on)
    }

    pub fn ack(self, on: bool) -> Self {
        self.flag(CapFlags::ACK, on)
    }

    /// Without events no [`ClientEvent::Device`] arrives, and channel registrations go unseen.
    pub fn events(self, on: bool) -> Self {
        self.flag(CapFlags::EVENTS, on)
    }

    pub fn max_payload(mut self, max: u16) -> Self {
        self.caps.max_payload = max;
        self
    }

    pub fn max_answer(mut self, bytes: usize) -> Self {
        self.max_answer = bytes;
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn sync_attempts(mut self, n: u32) -> Self {
        self.sync_attempts = n.max(1);
        self
    }

    pub fn auto_reconnect(mut self, on: bool) -> Self {
        self.auto_reconnect = on;
        self
    }

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
