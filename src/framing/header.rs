//! The 10-byte packet header and the small types inside it.

use super::{Checksum, HEADER_LEN, SYNC};

bitflags::bitflags! {
    /// Header flags (PROTOCOL.md section 2). Bits 6-7 are reserved and sent as 0.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
    pub struct Flags: u8 {
        const ACK = 1 << 0;
        const NAK = 1 << 1;
        const RTX = 1 << 2;
        const ACK_REQ = 1 << 3;
        const FRAGMENT = 1 << 4;
        const EVENT = 1 << 5;
    }
}

/// An opcode (PROTOCOL.md section 4). Unknown values stay representable so they can be NAKed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Opcode(pub u8);

impl Opcode {
    pub const PROTO_SYNC: Opcode = Opcode(0x00);
    pub const PROTO_GET_CAPS: Opcode = Opcode(0x01);
    pub const PROTO_SET_CAPS: Opcode = Opcode(0x02);
    pub const PROTO_STATS: Opcode = Opcode(0x03);
    pub const PROTO_VERSION: Opcode = Opcode(0x04);
    pub const SYS_RESET: Opcode = Opcode(0x10);
    pub const SYS_BOOT: Opcode = Opcode(0x11);
    pub const SYS_INFO: Opcode = Opcode(0x12);
    pub const SYS_EVENT: Opcode = Opcode(0x13);
    pub const SYS_MEMORY: Opcode = Opcode(0x14);
    pub const CHANNEL_LIST: Opcode = Opcode(0x20);
    pub const CHANNEL_POLL: Opcode = Opcode(0x21);
    pub const CHANNEL_LOCK: Opcode = Opcode(0x22);
    pub const CHANNEL_UNLOCK: Opcode = Opcode(0x23);
    pub const CHANNEL_SHAPE: Opcode = Opcode(0x24);
    pub const CHANNEL_SIZE: Opcode = Opcode(0x25);
    pub const CHANNEL_READ: Opcode = Opcode(0x26);
    pub const CHANNEL_WRITE: Opcode = Opcode(0x27);
    pub const CHANNEL_IOCTL: Opcode = Opcode(0x28);
    pub const CHANNEL_EVENT: Opcode = Opcode(0x29);

    /// Every opcode a host may send, in table order.
    pub const REQUESTS: [Opcode; 18] = [
        Self::PROTO_SYNC,
        Self::PROTO_GET_CAPS,
        Self::PROTO_SET_CAPS,
        Self::PROTO_STATS,
        Self::PROTO_VERSION,
        Self::SYS_RESET,
        Self::SYS_BOOT,
        Self::SYS_INFO,
        Self::SYS_MEMORY,
        Self::CHANNEL_LIST,
        Self::CHANNEL_POLL,
        Self::CHANNEL_LOCK,
        Self::CHANNEL_UNLOCK,
        Self::CHANNEL_SHAPE,
        Self::CHANNEL_SIZE,
        Self::CHANNEL_READ,
        Self::CHANNEL_WRITE,
        Self::CHANNEL_IOCTL,
    ];

    /// Protocol and system opcodes, which must arrive on channel 0.
    pub fn is_system(self) -> bool {
        self.0 <= Self::SYS_MEMORY.0
    }
}

/// A channel id. 0 is the transport itself; 1..=31 are channels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ChannelId(pub u8);

impl ChannelId {
    pub const TRANSPORT: ChannelId = ChannelId(0);
    pub const STDIN: ChannelId = ChannelId(1);
    pub const STDOUT: ChannelId = ChannelId(2);
    pub const STREAM: ChannelId = ChannelId(3);
    pub const PROFILE: ChannelId = ChannelId(4);
}

/// A NAK status (PROTOCOL.md section 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum Status {
    Success = 0,
    Failed = 1,
    Invalid = 2,
    Timeout = 3,
    Busy = 4,
    Checksum = 5,
    Sequence = 6,
    Overflow = 7,
    Fragment = 8,
    Unknown = 9,
}

impl Status {
    /// Decodes a status; values this protocol version does not define read as `Unknown`.
    pub fn from_u16(v: u16) -> Status {
        match v {
            0 => Status::Success,
            1 => Status::Failed,
            2 => Status::Invalid,
            3 => Status::Timeout,
            4 => Status::Busy,
            5 => Status::Checksum,
            6 => Status::Sequence,
            7 => Status::Overflow,
            8 => Status::Fragment,
            _ => Status::Unknown,
        }
    }

    pub fn to_bytes(self) -> [u8; 2] {
        (self as u16).to_le_bytes()
    }
}

/// A decoded packet header (the length is the payload's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub seq: u8,
    pub channel: ChannelId,
    pub flags: Flags,
    pub opcode: Opcode,
    pub length: u16,
}

impl Header {
    /// Writes the 10 header bytes; the CRC field is 0 when `crc` is `None` (CRC disabled).
    pub fn emit(&self, crc: Option<&dyn Checksum>) -> [u8; HEADER_LEN] {
        let mut b = [0; HEADER_LEN];
        self.emit_into(&mut b, crc);
        b
    }

    /// [`Header::emit`] straight into the packet's first bytes.
    pub fn emit_into(&self, b: &mut [u8; HEADER_LEN], crc: Option<&dyn Checksum>) {
        let len = self.length.to_le_bytes();
        *b = [SYNC[0], SYNC[1], self.seq, self.channel.0, self.flags.bits(), self.opcode.0, len[0], len[1], 0, 0];
        if let Some(c) = crc {
            let v = c.crc16(&b[..8]).to_le_bytes();
            b[8] = v[0];
            b[9] = v[1];
        }
    }

    /// Reads a header from its 10 bytes, without checking sync or CRC.
    pub fn parse(b: &[u8; HEADER_LEN]) -> Header {
        Header {
            seq: b[2],
            channel: ChannelId(b[3]),
            flags: Flags::from_bits_retain(b[4]),
            opcode: Opcode(b[5]),
            length: u16::from_le_bytes([b[6], b[7]]),
        }
    }

    /// Whether a header's CRC field matches its first 8 bytes.
    pub fn crc_ok(b: &[u8; HEADER_LEN], crc: &dyn Checksum) -> bool {
        crc.crc16(&b[..8]) == u16::from_le_bytes([b[8], b[9]])
    }

    /// The payload bytes plus payload CRC that follow this header.
    pub fn body_len(&self) -> usize {
        match self.length {
            0 => 0,
            n => n as usize + super::PAYLOAD_CRC_LEN,
        }
    }

    /// Packets neither side checks the seq of: events, retransmissions, PROTO_SYNC (3.1).
    pub fn seq_exempt(&self) -> bool {
        self.flags.intersects(Flags::EVENT | Flags::RTX) || self.opcode == Opcode::PROTO_SYNC
    }
}
