//! Layer 3: what makes exchanges reliable, shared by both roles (PROTOCOL.md section 3).

mod retransmit;
mod stats;

pub use retransmit::{AckWait, Expiry, RetransmitPolicy};
pub use stats::Stats;

pub use crate::framing::payload::{CapFlags, Caps};

/// The shared sequence counter (section 3.1): wraps 255 -> 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SeqCounter(pub u8);

impl SeqCounter {
    /// The current value: the seq of the next packet that uses the counter.
    pub fn get(self) -> u8 {
        self.0
    }
    /// Steps on by one, 255 wrapping to 0.
    pub fn advance(&mut self) {
        self.0 = self.0.wrapping_add(1);
    }
    /// Back to 0, as after PROTO_SYNC.
    pub fn reset(&mut self) {
        self.0 = 0;
    }
}

/// The capabilities a device accepts in SET_CAPS (section 3.4): `None` if it must NAK INVALID.
pub fn validate_caps(requested: &[u8], device_max: u16) -> Option<Caps> {
    let caps = Caps::parse(requested).ok()?;
    (crate::framing::MIN_MAX_PAYLOAD..=device_max).contains(&caps.max_payload).then_some(caps)
}

/// What a host asks for: its wishes, with max_payload = min(device, host).
pub fn negotiate(device: Caps, wish: Caps) -> Caps {
    Caps { flags: wish.flags, max_payload: wish.max_payload.min(device.max_payload) }
}
