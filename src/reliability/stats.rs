//! Link statistics, the PROTO_STATS counters.

use crate::framing::payload::ProtoStats;

/// Counters one engine keeps; they wrap rather than overflow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub sent: u32,
    pub received: u32,
    pub checksum_errors: u32,
    pub sequence_errors: u32,
    pub retransmits: u32,
    pub transport_errors: u32,
    pub events: u32,
}

impl Stats {
    pub fn bump(counter: &mut u32) {
        *counter = counter.wrapping_add(1);
    }

    pub fn to_wire(&self) -> ProtoStats {
        ProtoStats {
            sent: self.sent,
            received: self.received,
            checksum_errors: self.checksum_errors,
            sequence_errors: self.sequence_errors,
            retransmits: self.retransmits,
            transport_errors: self.transport_errors,
            events_sent: self.events,
        }
    }
}
