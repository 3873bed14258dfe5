//! Link statistics: the PROTO_STATS counters, which both roles keep.

pub use crate::framing::payload::ProtoStats as Stats;

impl Stats {
    /// Counts one more; counters wrap rather than overflow.
    pub fn bump(counter: &mut u32) {
        *counter = counter.wrapping_add(1);
    }
}
