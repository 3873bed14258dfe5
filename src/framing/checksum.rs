//! The protocol's two CRCs, behind a trait so firmware can use a hardware CRC unit.

use crc::{Algorithm, Crc, NoTable, Table};

/// Header CRC: CRC-16, poly 0xF94F, init 0xFFFF, MSB-first, no final xor.
pub const CRC16: Algorithm<u16> = Algorithm {
    width: 16,
    poly: 0xF94F,
    init: 0xFFFF,
    refin: false,
    refout: false,
    xorout: 0x0000,
    check: 0xE541,
    residue: 0x0000,
};

/// Payload CRC: CRC-32, poly 0xFA567D89, init 0xFFFFFFFF, MSB-first, no final xor.
pub const CRC32: Algorithm<u32> = Algorithm {
    width: 32,
    poly: 0xFA56_7D89,
    init: 0xFFFF_FFFF,
    refin: false,
    refout: false,
    xorout: 0x0000_0000,
    check: 0x41B4_03D3,
    residue: 0x0000_0000,
};

/// Computes both protocol CRCs. Implement it to plug in a hardware CRC unit.
pub trait Checksum {
    /// CRC-16 of a header's first 8 bytes.
    fn crc16(&self, data: &[u8]) -> u16;
    /// CRC-32 of a payload.
    fn crc32(&self, data: &[u8]) -> u32;
}

impl<T: Checksum + ?Sized> Checksum for &T {
    fn crc16(&self, data: &[u8]) -> u16 {
        (**self).crc16(data)
    }
    fn crc32(&self, data: &[u8]) -> u32 {
        (**self).crc32(data)
    }
}

// Slice-by-16 CRC-32 was the fastest table strategy in `benches/framing.rs` (about 16 KiB of
// tables); headers are 8 bytes, where a single 256-entry table is as fast as any.
static FAST16: Crc<u16, Table<1>> = Crc::<u16, Table<1>>::new(&CRC16);
static FAST32: Crc<u32, Table<16>> = Crc::<u32, Table<16>>::new(&CRC32);
static SMALL32: Crc<u32, Table<1>> = Crc::<u32, Table<1>>::new(&CRC32);
// Bit by bit: 8 header bytes cost a few hundred instructions, and no 512-byte table.
static BITWISE16: Crc<u16, NoTable> = Crc::<u16, NoTable>::new(&CRC16);

/// The hosts' CRCs: the payload CRC-32 by SIMD carry-less multiply where the CPU has it
/// (detected once at run time, through `crc-fast`), else by the 16-table [`TableCrc`]. Without
/// the `std` feature it is [`TableCrc`].
#[derive(Clone, Copy, Debug, Default)]
pub struct FastCrc;

impl Checksum for FastCrc {
    fn crc16(&self, data: &[u8]) -> u16 {
        FAST16.checksum(data)
    }
    #[cfg(feature = "std")]
    fn crc32(&self, data: &[u8]) -> u32 {
        simd::crc32(data)
    }
    #[cfg(not(feature = "std"))]
    fn crc32(&self, data: &[u8]) -> u32 {
        FAST32.checksum(data)
    }
}

/// Table-driven software CRCs tuned for throughput (slice-by-16, about 16 KiB of tables): the
/// fallback of [`FastCrc`], and the portable choice.
#[derive(Clone, Copy, Debug, Default)]
pub struct TableCrc;

impl Checksum for TableCrc {
    fn crc16(&self, data: &[u8]) -> u16 {
        FAST16.checksum(data)
    }
    fn crc32(&self, data: &[u8]) -> u32 {
        FAST32.checksum(data)
    }
}

#[cfg(feature = "std")]
mod simd {
    use std::sync::LazyLock;

    use crc_fast::{CrcAlgorithm, CrcParams};

    use super::{CRC32, FAST32};

    /// Below this many bytes the tables win: `crc-fast` costs about 35 ns a call whatever the
    /// length, which the tables match up to about 100 bytes (`benches/framing.rs`, by length).
    pub(super) const SIMD_MIN_LEN: usize = 128;

    /// The folding constants for the protocol's polynomial, derived once; `None` when the CPU
    /// has no carry-less multiply (`crc-fast` would then use its own tables behind a mutex).
    static PARAMS: LazyLock<Option<CrcParams>> = LazyLock::new(|| {
        if crc_fast::get_calculator_target(CrcAlgorithm::CrcCustom).starts_with("software") {
            return None;
        }
        let p = CrcParams::new(
            "CRC-32/OPENMV",
            CRC32.width,
            CRC32.poly.into(),
            CRC32.init.into(),
            CRC32.refin,
            CRC32.xorout.into(),
            CRC32.check.into(),
        );
        Some(p)
    });

    /// The carry-less-multiply CRC-32 at any length; `None` on a CPU without it.
    pub(super) fn clmul(data: &[u8]) -> Option<u32> {
        // The result of a 32-bit CRC fits in 32 bits.
        PARAMS.as_ref().map(|p| crc_fast::checksum_with_params(*p, data) as u32)
    }

    pub(super) fn crc32(data: &[u8]) -> u32 {
        let simd = if data.len() >= SIMD_MIN_LEN { clmul(data) } else { None };
        simd.unwrap_or_else(|| FAST32.checksum(data))
    }

    /// Whether payload CRCs run on the SIMD path on this CPU.
    pub(super) fn available() -> bool {
        PARAMS.is_some()
    }
}

impl FastCrc {
    /// Whether this CPU computes the payload CRC-32 by SIMD carry-less multiply (false without
    /// the `std` feature, or on a CPU without it: then the tables do the work).
    pub fn simd() -> bool {
        #[cfg(feature = "std")]
        return simd::available();
        #[cfg(not(feature = "std"))]
        return false;
    }

    /// The payload CRC-32 by carry-less multiply whatever the length (what [`FastCrc`] uses
    /// from 128 bytes on), `None` where [`FastCrc::simd`] is false; for measuring the cut-over.
    pub fn simd_crc32(data: &[u8]) -> Option<u32> {
        #[cfg(feature = "std")]
        return simd::clmul(data);
        #[cfg(not(feature = "std"))]
        return {
            let _ = data;
            None
        };
    }
}

/// Software CRCs for flash-constrained firmware: the payload CRC-32 with one 1 KiB table,
/// the header CRC-16 (8 bytes a packet) bit by bit, without a table.
#[derive(Clone, Copy, Debug, Default)]
pub struct SmallCrc;

impl Checksum for SmallCrc {
    fn crc16(&self, data: &[u8]) -> u16 {
        BITWISE16.checksum(data)
    }
    fn crc32(&self, data: &[u8]) -> u32 {
        SMALL32.checksum(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_values() {
        for c in [&FastCrc as &dyn Checksum, &TableCrc, &SmallCrc] {
            assert_eq!(c.crc16(b"123456789"), 0xE541);
            assert_eq!(c.crc32(b"123456789"), 0x41B4_03D3);
        }
    }

    /// The SIMD path against the `crc` crate on random lengths and unaligned starts: every
    /// length up to 5000 once, both sides of the SIMD cut-off, and the folding loop's tails.
    #[cfg(feature = "std")]
    #[test]
    fn simd_matches_tables() {
        use rand::{rngs::SmallRng, Rng, SeedableRng};
        let reference = Crc::<u32, NoTable>::new(&CRC32);
        let mut rng = SmallRng::seed_from_u64(0x41B4_03D3);
        let mut buf = vec![0u8; 5000 + 64];
        rng.fill(&mut buf[..]);
        for len in 0..=5000usize {
            let start = rng.gen_range(0..64);
            let data = &buf[start..start + len];
            let want = reference.checksum(data);
            assert_eq!(FastCrc.crc32(data), want, "FastCrc, length {len} at offset {start}");
            assert_eq!(TableCrc.crc32(data), want, "TableCrc, length {len} at offset {start}");
        }
        for _ in 0..200 {
            let start = rng.gen_range(0..64);
            let len = rng.gen_range(0..=5000);
            rng.fill(&mut buf[start..start + len]);
            let data = &buf[start..start + len];
            assert_eq!(FastCrc.crc32(data), reference.checksum(data), "length {len} at offset {start}");
        }
        // The SIMD path is taken exactly where the CPU has carry-less multiply, so on such a
        // CPU the comparisons above ran it, not only the tables.
        #[cfg(target_arch = "x86_64")]
        {
            let clmul = std::is_x86_feature_detected!("sse4.1") && std::is_x86_feature_detected!("pclmulqdq");
            assert_eq!(FastCrc::simd(), clmul);
        }
        #[cfg(target_arch = "aarch64")]
        assert_eq!(FastCrc::simd(), std::arch::is_aarch64_feature_detected!("aes"));
    }
}
