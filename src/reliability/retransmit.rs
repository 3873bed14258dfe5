//! Waiting for an ACK, with retransmission on a doubling timeout (PROTOCOL.md 3.2).

use crate::framing::Opcode;
use crate::time::Instant;
use core::time::Duration;

/// How a sender waits for ACKs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetransmitPolicy {
    /// First timeout; doubled after each one.
    pub timeout: Duration,
    /// Retransmissions before giving up.
    pub retries: u8,
}

impl Default for RetransmitPolicy {
    fn default() -> Self {
        RetransmitPolicy { timeout: Duration::from_millis(500), retries: 3 }
    }
}

/// One packet sent with ACK_REQ, waiting for its ACK.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AckWait {
    pub opcode: Opcode,
    pub seq: u8,
    pub deadline: Instant,
    /// The current timeout in milliseconds (a `Duration` would take 16 bytes on a cam).
    timeout_ms: u32,
    retries_left: u8,
}

/// What to do when the deadline passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expiry {
    Retransmit,
    GiveUp,
}

impl AckWait {
    pub fn new(opcode: Opcode, seq: u8, now: Instant, policy: &RetransmitPolicy) -> Self {
        let timeout_ms = u32::try_from(policy.timeout.as_millis()).unwrap_or(u32::MAX);
        AckWait { opcode, seq, deadline: now + policy.timeout, timeout_ms, retries_left: policy.retries }
    }

    /// Whether an ACK (opcode, seq) releases this wait.
    pub fn matches(&self, opcode: Opcode, seq: u8) -> bool {
        self.opcode == opcode && self.seq == seq
    }

    /// Called at or after the deadline: retransmit with a doubled timeout, or give up.
    pub fn expire(&mut self, now: Instant) -> Expiry {
        if self.retries_left == 0 {
            return Expiry::GiveUp;
        }
        self.retries_left -= 1;
        self.timeout_ms = self.timeout_ms.saturating_mul(2);
        self.deadline = Instant::from_millis(now.as_millis().saturating_add(self.timeout_ms.into()));
        Expiry::Retransmit
    }
}
