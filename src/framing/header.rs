//! The 10-byte packet header and the small types inside it.

use super::{Checksum, HEADER_LEN, SYNC};

bitflags::bitflags! {
    /// Header flags (PROTOCOL.md section 2). Bits 6-7 are reserved and sent as 0.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
    pub struct Flags: u8 {
        /// Bit 0: a success answer, or the confirmation of an ACK_REQ packet; no payload.
        const ACK = 1 << 0;
        /// Bit 1: a failure answer; the payload is a 2-byte [`Status`].
        const NAK = 1 << 1;
        /// Bit 2: a retransmission: same seq as the first send, header CRC recomputed.
        const RTX = 1 << 2;
        /// Bit 3: the receiver must answer with a bare ACK (same opcode, channel and seq).
        const ACK_REQ = 1 << 3;
        /// Bit 4: more fragments of this answer follow.
        const FRAGMENT = 1 << 4;
        /// Bit 5: an event (section 5); its seq is the sender's counter, not advanced.
        const EVENT = 1 << 5;
    }
}

/// An opcode (PROTOCOL.md section 4). Unknown values stay representable so they can be NAKed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Opcode(pub u8);

impl Opcode {
    /// 0x00: resynchronise. The device restores its start-up capabilities, releases every lock,
    /// answers ACK, then resets its counter to 0.
    pub const PROTO_SYNC: Opcode = Opcode(0x00);
    /// 0x01: the device's capabilities; answer 16 bytes ([`Caps`](super::payload::Caps)).
    pub const PROTO_GET_CAPS: Opcode = Opcode(0x01);
    /// 0x02: set capabilities (16-byte payload). ACK under the old settings, then they apply;
    /// or NAK INVALID.
    pub const PROTO_SET_CAPS: Opcode = Opcode(0x02);
    /// 0x03: the link counters; answer 32 bytes ([`ProtoStats`](super::payload::ProtoStats)).
    pub const PROTO_STATS: Opcode = Opcode(0x03);
    /// 0x04: protocol, bootloader and firmware versions; answer 16 bytes
    /// ([`Version`](super::payload::Version)).
    pub const PROTO_VERSION: Opcode = Opcode(0x04);
    /// 0x10: reset the cam; no answer.
    pub const SYS_RESET: Opcode = Opcode(0x10);
    /// 0x11: make the cam enter its bootloader; no answer.
    pub const SYS_BOOT: Opcode = Opcode(0x11);
    /// 0x12: board information; answer 76 bytes ([`SysInfo`](super::payload::SysInfo)).
    pub const SYS_INFO: Opcode = Opcode(0x12);
    /// 0x13: a system event on channel 0, device to host only (codes in
    /// [`event`](super::payload::event)).
    pub const SYS_EVENT: Opcode = Opcode(0x13);
    /// 0x14: memory pools; answer u8 count, 3 reserved bytes, then 24-byte
    /// [`MemoryEntry`](super::payload::MemoryEntry) records.
    pub const SYS_MEMORY: Opcode = Opcode(0x14);
    /// 0x20: the registered channels; answer 16 bytes per
    /// [`ChannelEntry`](super::payload::ChannelEntry).
    pub const CHANNEL_LIST: Opcode = Opcode(0x20);
    /// 0x21: which channels have something for the host; answer a u32, bit i for channel i.
    pub const CHANNEL_POLL: Opcode = Opcode(0x21);
    /// 0x22: lock the channel in the header; ACK, or NAK BUSY (nothing ready, or within the
    /// lock interval of the last lock).
    pub const CHANNEL_LOCK: Opcode = Opcode(0x22);
    /// 0x23: release the channel's lock; ACK, or NAK BUSY.
    pub const CHANNEL_UNLOCK: Opcode = Opcode(0x23);
    /// 0x24: the channel's shape; answer 1 to 4 u32 dimensions.
    pub const CHANNEL_SHAPE: Opcode = Opcode(0x24);
    /// 0x25: the bytes the channel holds; answer a u32.
    pub const CHANNEL_SIZE: Opcode = Opcode(0x25);
    /// 0x26: read bytes; payload u32 offset, u32 length
    /// ([`ReadRequest`](super::payload::ReadRequest)). The answer is the bytes, fragmented
    /// as needed.
    pub const CHANNEL_READ: Opcode = Opcode(0x26);
    /// 0x27: write bytes; payload u32 offset, u32 length, then the data
    /// ([`WriteRequest`](super::payload::WriteRequest)). ACK or NAK.
    pub const CHANNEL_WRITE: Opcode = Opcode(0x27);
    /// 0x28: a channel-specific request; payload u32 request, then argument bytes
    /// ([`IoctlRequest`](super::payload::IoctlRequest)). ACK or NAK.
    pub const CHANNEL_IOCTL: Opcode = Opcode(0x28);
    /// 0x29: a channel event on the channel's id, device to host only; the channel defines
    /// the code.
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
    /// 0: the transport itself (PHYSICAL); protocol and system opcodes use it.
    pub const TRANSPORT: ChannelId = ChannelId(0);
    /// 1: stdin, the script upload buffer.
    pub const STDIN: ChannelId = ChannelId(1);
    /// 2: stdout, the script's output.
    pub const STDOUT: ChannelId = ChannelId(2);
    /// 3: stream, the latest camera frame.
    pub const STREAM: ChannelId = ChannelId(3);
    /// 4: profile, on profiling builds only; elsewhere the first dynamic channel takes id 4.
    pub const PROFILE: ChannelId = ChannelId(4);
}

/// A NAK status (PROTOCOL.md section 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum Status {
    /// 0: success (normally sent as a bare ACK, not as a NAK).
    Success = 0,
    /// 1: the operation failed, e.g. EXEC with an empty script.
    Failed = 1,
    /// 2: a bad request: unknown opcode, wrong channel, unsupported operation or bad payload.
    Invalid = 2,
    /// 3: an operation timed out.
    Timeout = 3,
    /// 4: not now, e.g. a lock refused; `openmv` 1.0.7 treats it as a plain "no".
    Busy = 4,
    /// 5: the payload failed its CRC-32.
    Checksum = 5,
    /// 6: the request's seq was not the device's counter.
    Sequence = 6,
    /// 7: too long: a header claimed more than max_payload bytes, or data did not fit a buffer.
    Overflow = 7,
    /// 8: a fragmentation error; no check of this engine raises it.
    Fragment = 8,
    /// 9: an unknown error; also what undefined values decode to.
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

    /// The 2-byte NAK payload: the status as a little-endian u16.
    pub fn to_bytes(self) -> [u8; 2] {
        (self as u16).to_le_bytes()
    }
}

/// A decoded packet header (the length is the payload's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Byte 2: the sequence number (section 3.1), wrapping 255 -> 0.
    pub seq: u8,
    /// Byte 3: the channel; 0 for protocol and system opcodes.
    pub channel: ChannelId,
    /// Byte 4: the ACK, NAK, RTX, ACK_REQ, FRAGMENT and EVENT bits.
    pub flags: Flags,
    /// Byte 5: what the packet asks or answers.
    pub opcode: Opcode,
    /// Bytes 6-7 (u16): payload bytes, 0 to max_payload, CRC not included.
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
