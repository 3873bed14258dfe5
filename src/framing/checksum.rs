//! The protocol's two CRCs, behind a trait so firmware can use a hardware CRC unit.

use crc::{Algorithm, Crc, Table};

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

// Slice-by-16 CRC-32 was the fastest strategy in `benches/framing.rs` (about 16 KiB of tables);
// headers are 8 bytes, where a single 256-entry table is as fast as any.
static FAST16: Crc<u16, Table<1>> = Crc::<u16, Table<1>>::new(&CRC16);
static FAST32: Crc<u32, Table<16>> = Crc::<u32, Table<16>>::new(&CRC32);
static SMALL32: Crc<u32, Table<1>> = Crc::<u32, Table<1>>::new(&CRC32);

/// Table-driven software CRCs tuned for throughput (hosts).
#[derive(Clone, Copy, Debug, Default)]
pub struct FastCrc;

impl Checksum for FastCrc {
    fn crc16(&self, data: &[u8]) -> u16 {
        FAST16.checksum(data)
    }
    fn crc32(&self, data: &[u8]) -> u32 {
        FAST32.checksum(data)
    }
}

/// Software CRCs with one 1 KiB table each, for flash-constrained firmware.
#[derive(Clone, Copy, Debug, Default)]
pub struct SmallCrc;

impl Checksum for SmallCrc {
    fn crc16(&self, data: &[u8]) -> u16 {
        FAST16.checksum(data)
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
        for c in [&FastCrc as &dyn Checksum, &SmallCrc] {
            assert_eq!(c.crc16(b"123456789"), 0xE541);
            assert_eq!(c.crc32(b"123456789"), 0x41B4_03D3);
        }
    }
}
