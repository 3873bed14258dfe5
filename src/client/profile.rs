//! Profiler records of the `profile` channel (PROTOCOL.md 6).

use super::error::{Error, Result};

/// One function's counters. On the wire: u32 address, caller, call count, min ticks,
/// max ticks; u64 total ticks, total cycles; u64 per PMU counter; a trailing u32.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProfileRecord {
    /// Address of the function (record offset 0).
    pub address: u32,
    /// Address of its caller (offset 4).
    pub caller: u32,
    /// Calls counted (offset 8).
    pub call_count: u32,
    /// Ticks of the shortest call (offset 12).
    pub min_ticks: u32,
    /// Ticks of the longest call (offset 16).
    pub max_ticks: u32,
    /// Ticks of all calls together (offset 20).
    pub total_ticks: u64,
    /// Cycles of all calls together (offset 28).
    pub total_cycles: u64,
    /// One value per PMU event counter (SYS_INFO hw_caps bits 8-15 say how many).
    pub events: Vec<u64>,
}

/// Bytes a record needs with `pmu` counters.
pub fn record_len(pmu: u8) -> usize {
    5 * 4 + 2 * 8 + usize::from(pmu) * 8 + 4
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from(u32_at(b, at)) | (u64::from(u32_at(b, at + 4)) << 32)
}

/// Parses `count` records spaced `record_size` apart; records that do not fit in `data` are
/// left out, as openmv does. A record size too small for `pmu` counters is a bad answer.
pub fn parse_records(data: &[u8], count: u32, record_size: u32, pmu: u8) -> Result<Vec<ProfileRecord>> {
    let size = record_size as usize;
    let need = record_len(pmu);
    if size < need {
        return Err(Error::bad(format!("profile record of {size} bytes, {need} needed for {pmu} counters")));
    }
    let n = (count as usize).min(data.len() / size);
    Ok(data
        .chunks_exact(size)
        .take(n)
        .map(|r| ProfileRecord {
            address: u32_at(r, 0),
            caller: u32_at(r, 4),
            call_count: u32_at(r, 8),
            min_ticks: u32_at(r, 12),
            max_ticks: u32_at(r, 16),
            total_ticks: u64_at(r, 20),
            total_cycles: u64_at(r, 28),
            events: (0..usize::from(pmu)).map(|i| u64_at(r, 36 + i * 8)).collect(),
        })
        .collect())
}

/// One profile record as a cam sends it, for tests here and in `client::tests`.
#[cfg(test)]
pub(crate) fn record(addr: u32, events: &[u64]) -> Vec<u8> {
    let mut b = Vec::new();
    for v in [addr, 0x100, 3, 1, 9] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    b.extend_from_slice(&15u64.to_le_bytes());
    b.extend_from_slice(&(1u64 << 40).to_le_bytes());
    for e in events {
        b.extend_from_slice(&e.to_le_bytes());
    }
    b.extend_from_slice(&0u32.to_le_bytes());
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_parse_with_counters() {
        let mut data = record(0x0800_1000, &[7, 8]);
        data.extend(record(0x0800_2000, &[9, 10]));
        let size = record_len(2) as u32;
        let r = parse_records(&data, 2, size, 2).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].address, 0x0800_1000);
        assert_eq!(r[0].total_cycles, 1 << 40);
        assert_eq!(r[1].events, vec![9, 10]);
        // Fewer bytes than records claimed: only whole ones.
        assert_eq!(parse_records(&data[..60], 2, size, 2).unwrap().len(), 1);
        assert!(parse_records(&data, 2, 20, 2).is_err());
        assert!(parse_records(&[], 5, size, 2).unwrap().is_empty());
    }
}
