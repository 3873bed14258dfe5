//! Waiting for an ACK, with retransmission on a doubling timeout (PROTOCOL.md 3.2).

use crate::framing::Opcode;
use crate::time::Instant;

/// How a sender waits for ACKs. Times are whole milliseconds, the unit of a cam's clock:
/// no `Duration` arithmetic (128-bit on the way out) in a cam's flash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetransmitPolicy {
    /// First timeout in milliseconds; doubled after each one.
    pub timeout_ms: u32,
    /// Retransmissions before giving up.
    pub retries: u8,
}

impl Default for RetransmitPolicy {
    fn default() -> Self {
        RetransmitPolicy { timeout_ms: 500, retries: 3 }
    }
}

/// One packet sent with ACK_REQ, waiting for its ACK.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AckWait {
    /// Opcode of the packet waiting; its ACK carries the same.
    pub opcode: Opcode,
    /// Seq of the packet waiting; its ACK carries the same.
    pub seq: u8,
    /// When [`AckWait::expire`] is due.
    pub deadline: Instant,
    /// The current timeout in milliseconds (a `Duration` would take 16 bytes on a cam).
    timeout_ms: u32,
    retries_left: u8,
}

/// What to do when the deadline passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expiry {
    /// Send the packet again with RTX set; the wait goes on with a doubled timeout.
    Retransmit,
    /// No retries left: stop waiting and drop the exchange.
    GiveUp,
}

impl AckWait {
    /// Starts waiting at `now`: the first deadline is `timeout_ms` later.
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
