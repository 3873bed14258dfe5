//! Layer 2: one packet on the wire (PROTOCOL.md section 2).
//!
//! `AA D5 | seq | channel | flags | opcode | len u16 | crc16 u16 | payload | crc32 u32`

mod checksum;
mod decoder;
mod encoder;
mod header;
pub mod payload;

pub use checksum::{Checksum, FastCrc, SmallCrc, TableCrc, CRC16, CRC32};
pub use decoder::{Decoder, FrameError, Packet, Role};
pub use encoder::{encode, encode_parts, encoded_len, seal, EncodeError, Parts};
pub use header::{ChannelId, Flags, Header, Opcode, Status};

/// The sync word as it appears on the wire (0xD5AA little-endian).
pub const SYNC: [u8; 2] = [0xAA, 0xD5];
/// Bytes of a header, CRC-16 included.
pub const HEADER_LEN: usize = 10;
/// Bytes of the payload CRC-32, present only when the payload is not empty.
pub const PAYLOAD_CRC_LEN: usize = 4;
/// Default packet buffer of both peers.
pub const DEFAULT_PACKET_BUF: usize = 4096;
/// Default maximum payload: 4096 - 10 - 4.
pub const DEFAULT_MAX_PAYLOAD: u16 = 4082;
/// Smallest maximum payload a peer may negotiate: 64 - 10 - 4.
pub const MIN_MAX_PAYLOAD: u16 = 50;

/// Largest payload that fits a packet buffer of `buf` bytes.
pub const fn max_payload_for(buf: usize) -> usize {
    buf.saturating_sub(HEADER_LEN + PAYLOAD_CRC_LEN)
}

/// [`max_payload_for`] capped at what a header's u16 length field can claim: the largest
/// max_payload a buffer of `buf` bytes can be configured with.
pub const fn max_payload_u16(buf: usize) -> u16 {
    let n = max_payload_for(buf);
    if n > u16::MAX as usize {
        u16::MAX
    } else {
        n as u16
    }
}
