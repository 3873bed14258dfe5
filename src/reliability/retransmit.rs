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

impl RetransmitPolicy {
    /// The first timeout in milliseconds, saturating at `u32::MAX` (about 49 days).
    pub fn timeout_ms(&self) -> u32 {
        u32::try_from(self.timeout.as_millis()).unwrap_or(u32::MAX)
    }
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
        Self::start(opcode, seq, now, RetransmitPolicy::timeout_ms(policy), policy.retries)
    }

    /// [`AckWait::new`] with the policy already in milliseconds (the device converts it once,
    /// not per packet: 128-bit `Duration` arithmetic is costly on a cam).
    pub fn start(opcode: Opcode, seq: u8, now: Instant, timeout_ms: u32, retries: u8) -> Self {
        let deadline = Instant::from_millis(now.as_millis().saturating_add(timeout_ms.into()));
        AckWait { opcode, seq, deadline, timeout_ms, retries_left: retries }
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
