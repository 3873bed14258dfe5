//! Payload structures of PROTOCOL.md sections 3.4, 4, 5 and 6, each with `parse` and `emit`.
//! `parse` checks the length first, after which nothing can over-read.

use super::ChannelId;

/// A payload of the wrong size or content for its opcode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PayloadError;

fn u32_at(b: &[u8], at: usize) -> u32 {
    match b.get(at..at + 4) {
        Some(s) => u32::from_le_bytes([s[0], s[1], s[2], s[3]]),
        None => 0,
    }
}

fn put_u32(b: &mut [u8], at: usize, v: u32) {
    if let Some(s) = b.get_mut(at..at + 4) {
        s.copy_from_slice(&v.to_le_bytes());
    }
}

/// Writes `words` little-endian from the start of `b` (as many as fit). One loop for every
/// structure made of u32 fields, which keeps the device's answer code small.
fn put_words(b: &mut [u8], words: &[u32]) {
    for (out, w) in b.chunks_exact_mut(4).zip(words) {
        out.copy_from_slice(&w.to_le_bytes());
    }
}

bitflags::bitflags! {
    /// Capability flags of GET_CAPS / SET_CAPS.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
    pub struct CapFlags: u32 {
        const CRC = 1 << 0;
        const SEQ = 1 << 1;
        const ACK = 1 << 2;
        const EVENTS = 1 << 3;
    }
}

/// Capabilities (section 3.4): the same 16 bytes for GET_CAPS answers and SET_CAPS requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Caps {
    pub flags: CapFlags,
    pub max_payload: u16,
}

impl Caps {
    pub const LEN: usize = 16;

    /// What every peer starts with: everything on, the default packet size.
    pub const DEFAULT: Caps = Caps { flags: CapFlags::all(), max_payload: super::DEFAULT_MAX_PAYLOAD };

    pub fn parse(b: &[u8]) -> Result<Caps, PayloadError> {
        if b.len() != Self::LEN {
            return Err(PayloadError);
        }
        Ok(Caps { flags: CapFlags::from_bits_truncate(u32_at(b, 0)), max_payload: u16::from_le_bytes([b[4], b[5]]) })
    }

    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        let mut b = [0; Self::LEN];
        put_u32(&mut b, 0, self.flags.bits());
        b[4..6].copy_from_slice(&self.max_payload.to_le_bytes());
        b
    }

    pub fn crc(&self) -> bool {
        self.flags.contains(CapFlags::CRC)
    }
    pub fn seq(&self) -> bool {
        self.flags.contains(CapFlags::SEQ)
    }
    pub fn ack(&self) -> bool {
        self.flags.contains(CapFlags::ACK)
    }
    pub fn events(&self) -> bool {
        self.flags.contains(CapFlags::EVENTS)
    }
}

/// A (major, minor, patch) triple.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Semver(pub u8, pub u8, pub u8);

/// PROTO_VERSION answer: 16 bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Version {
    pub protocol: Semver,
    pub bootloader: Semver,
    pub firmware: Semver,
}

impl Version {
    pub const LEN: usize = 16;
    /// The protocol version this engine speaks.
    pub const PROTOCOL: Semver = Semver(1, 0, 2);

    pub fn parse(b: &[u8]) -> Result<Version, PayloadError> {
        if b.len() < 9 {
            return Err(PayloadError);
        }
        Ok(Version {
            protocol: Semver(b[0], b[1], b[2]),
            bootloader: Semver(b[3], b[4], b[5]),
            firmware: Semver(b[6], b[7], b[8]),
        })
    }

    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        let (p, l, f) = (self.protocol, self.bootloader, self.firmware);
        [p.0, p.1, p.2, l.0, l.1, l.2, f.0, f.1, f.2, 0, 0, 0, 0, 0, 0, 0]
    }
}

bitflags::bitflags! {
    /// `hw_caps[0]` bits of SYS_INFO (bits 8-15 hold the PMU counter count, see `pmu_counters`).
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
    pub struct HwCaps: u32 {
        const GPU = 1 << 0;
        const NPU = 1 << 1;
        const ISP = 1 << 2;
        const VIDEO_ENCODER = 1 << 3;
        const JPEG_ENCODER = 1 << 4;
        const DRAM = 1 << 5;
        const HW_CRC = 1 << 6;
        const PMU = 1 << 7;
        const WIFI = 1 << 16;
        const BLUETOOTH = 1 << 17;
        const SD_CARD = 1 << 18;
        const ETHERNET = 1 << 19;
        const USB_HIGH_SPEED = 1 << 20;
        const MULTI_CORE = 1 << 21;
        const _ = !0;
    }
}

/// SYS_INFO answer (section 4.1): 76 bytes.
// repr(C): the firmware's C struct of the same fields copies into it as one block.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SysInfo {
    pub cpu_id: u32,
    pub dev_id: [u32; 3],
    /// VID << 16 | PID.
    pub usb_id: u32,
    pub chip_id: [u32; 3],
    pub hw_caps: [u32; 2],
    pub flash_kb: u32,
    pub ram_kb: u32,
    pub framebuffer_kb: u32,
    pub stream_buffer_kb: u32,
}

impl SysInfo {
    pub const LEN: usize = 76;

    pub fn usb_vid(&self) -> u16 {
        (self.usb_id >> 16) as u16
    }
    pub fn usb_pid(&self) -> u16 {
        self.usb_id as u16
    }
    pub fn hw_caps(&self) -> HwCaps {
        HwCaps::from_bits_retain(self.hw_caps[0])
    }
    pub fn pmu_counters(&self) -> u8 {
        (self.hw_caps[0] >> 8) as u8
    }

    pub fn parse(b: &[u8]) -> Result<SysInfo, PayloadError> {
        if b.len() < Self::LEN {
            return Err(PayloadError);
        }
        let w = |i: usize| u32_at(b, i * 4);
        Ok(SysInfo {
            cpu_id: w(0),
            dev_id: [w(1), w(2), w(3)],
            usb_id: w(4),
            chip_id: [w(5), w(6), w(7)],
            hw_caps: [w(10), w(11)],
            flash_kb: w(12),
            ram_kb: w(13),
            framebuffer_kb: w(14),
            stream_buffer_kb: w(15),
        })
    }

    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        let mut b = [0; Self::LEN];
        self.write(&mut b);
        b
    }

    /// Writes the answer at the front of `out` (as much as fits), without a copy on the stack:
    /// how the device renders it straight into its packet buffer.
    pub fn write(&self, out: &mut [u8]) -> usize {
        let words = [
            self.cpu_id,
            self.dev_id[0],
            self.dev_id[1],
            self.dev_id[2],
            self.usb_id,
            self.chip_id[0],
            self.chip_id[1],
            self.chip_id[2],
            0, // words 8 and 9 are reserved
            0,
            self.hw_caps[0],
            self.hw_caps[1],
            self.flash_kb,
            self.ram_kb,
            self.framebuffer_kb,
            self.stream_buffer_kb,
            0, // words 16 to 18 are reserved
            0,
            0,
        ];
        put_words(out, &words);
        Self::LEN.min(out.len())
    }
}

/// PROTO_STATS answer: 32 bytes of u32 counters. Both roles keep their link counters in it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProtoStats {
    pub sent: u32,
    pub received: u32,
    pub checksum_errors: u32,
    pub sequence_errors: u32,
    pub retransmits: u32,
    pub transport_errors: u32,
    /// Events sent (a device's count) or received (a host's).
    pub events: u32,
}

impl ProtoStats {
    pub const LEN: usize = 32;

    pub fn parse(b: &[u8]) -> Result<ProtoStats, PayloadError> {
        if b.len() < 28 {
            return Err(PayloadError);
        }
        let w = |i: usize| u32_at(b, i * 4);
        Ok(ProtoStats {
            sent: w(0),
            received: w(1),
            checksum_errors: w(2),
            sequence_errors: w(3),
            retransmits: w(4),
            transport_errors: w(5),
            events: w(6),
        })
    }

    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        let mut b = [0; Self::LEN];
        self.write(&mut b);
        b
    }

    /// Writes the answer at the front of `out` (as much as fits), as [`SysInfo::write`].
    pub fn write(&self, out: &mut [u8]) -> usize {
        let v = [
            self.sent,
            self.received,
            self.checksum_errors,
            self.sequence_errors,
            self.retransmits,
            self.transport_errors,
            self.events,
            0, // reserved
        ];
        put_words(out, &v);
        Self::LEN.min(out.len())
    }
}

/// One SYS_MEMORY entry: 24 bytes.
// repr(C): the firmware's C struct of the same fields copies into it as one block.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemoryEntry {
    /// 0 GC heap, 1 UMA pool.
    pub kind: u8,
    pub flags: u16,
    pub total: u32,
    pub used: u32,
    pub free: u32,
    pub persistent: u32,
    pub peak: u32,
}

impl MemoryEntry {
    pub const LEN: usize = 24;
    /// SYS_MEMORY starts with u8 count and 3 reserved bytes.
    pub const PREFIX: usize = 4;

    pub fn parse(b: &[u8]) -> Result<MemoryEntry, PayloadError> {
        if b.len() < Self::LEN {
            return Err(PayloadError);
        }
        Ok(MemoryEntry {
            kind: b[0],
            flags: u16::from_le_bytes([b[2], b[3]]),
            total: u32_at(b, 4),
            used: u32_at(b, 8),
            free: u32_at(b, 12),
            persistent: u32_at(b, 16),
            peak: u32_at(b, 20),
        })
    }

    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        let mut b = [0; Self::LEN];
        b[0] = self.kind;
        b[2..4].copy_from_slice(&self.flags.to_le_bytes());
        put_words(&mut b[4..], &[self.total, self.used, self.free, self.persistent, self.peak]);
        b
    }
}

bitflags::bitflags! {
    /// Channel flags (section 6).
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
    pub struct ChannelFlags: u8 {
        const READ = 1 << 0;
        const WRITE = 1 << 1;
        const EXEC = 1 << 2;
        const LOCK = 1 << 3;
        const STREAM = 1 << 4;
        const DYNAMIC = 1 << 5;
        const PHYSICAL = 1 << 6;
        const _ = !0;
    }
}

/// Longest channel name: 14 bytes NUL-padded on the wire, 13 usable.
pub const CHANNEL_NAME_MAX: usize = 13;

/// One CHANNEL_LIST entry: 16 bytes.
// repr(C): the wire's field order, so an entry is copied into CHANNEL_LIST as one block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct ChannelEntry {
    pub id: ChannelId,
    pub flags: ChannelFlags,
    pub name: [u8; 14],
}

impl ChannelEntry {
    pub const LEN: usize = 16;

    // `any`, not `contains`: the latter links a 120-byte memchr into the cam image.
    #[allow(clippy::manual_contains)]
    pub fn new(id: ChannelId, flags: ChannelFlags, name: &str) -> Option<ChannelEntry> {
        let n = name.as_bytes();
        if n.is_empty() || n.len() > CHANNEL_NAME_MAX || n.iter().any(|&b| b == 0) {
            return None;
        }
        let mut b = [0; 14];
        b[..n.len()].copy_from_slice(n);
        Some(ChannelEntry { id, flags, name: b })
    }

    /// The name up to its first NUL; `None` if it is not UTF-8.
    pub fn name(&self) -> Option<&str> {
        core::str::from_utf8(self.name_bytes()).ok()
    }

    /// The name's bytes up to its first NUL (no UTF-8 check: comparing names needs none).
    pub fn name_bytes(&self) -> &[u8] {
        let end = self.name.iter().position(|&c| c == 0).unwrap_or(self.name.len());
        &self.name[..end]
    }

    pub fn parse(b: &[u8]) -> Result<ChannelEntry, PayloadError> {
        if b.len() < Self::LEN {
            return Err(PayloadError);
        }
        let mut name = [0; 14];
        name.copy_from_slice(&b[2..16]);
        Ok(ChannelEntry { id: ChannelId(b[0]), flags: ChannelFlags::from_bits_retain(b[1]), name })
    }

    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        let mut b = [0; Self::LEN];
        b[0] = self.id.0;
        b[1] = self.flags.bits();
        b[2..].copy_from_slice(&self.name);
        b
    }
}

/// CHANNEL_READ request: exactly 8 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadRequest {
    pub offset: u32,
    pub length: u32,
}

impl ReadRequest {
    pub const LEN: usize = 8;

    pub fn parse(b: &[u8]) -> Result<ReadRequest, PayloadError> {
        if b.len() != Self::LEN {
            return Err(PayloadError);
        }
        Ok(ReadRequest { offset: u32_at(b, 0), length: u32_at(b, 4) })
    }

    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        let mut b = [0; Self::LEN];
        put_u32(&mut b, 0, self.offset);
        put_u32(&mut b, 4, self.length);
        b
    }
}

/// CHANNEL_WRITE request: u32 offset, u32 length, then exactly `length` data bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteRequest<'a> {
    pub offset: u32,
    pub data: &'a [u8],
}

impl<'a> WriteRequest<'a> {
    pub const PREFIX: usize = 8;

    /// Refuses a `length` field that disagrees with the bytes that came (PROTOCOL.md 7).
    pub fn parse(b: &'a [u8]) -> Result<WriteRequest<'a>, PayloadError> {
        let data = b.get(Self::PREFIX..).ok_or(PayloadError)?;
        if u32_at(b, 4) as usize != data.len() {
            return Err(PayloadError);
        }
        Ok(WriteRequest { offset: u32_at(b, 0), data })
    }

    /// The 8-byte prefix; the data follows it.
    pub fn prefix(offset: u32, len: u32) -> [u8; 8] {
        ReadRequest { offset, length: len }.to_bytes()
    }
}

/// CHANNEL_IOCTL request: u32 request, then argument bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoctlRequest<'a> {
    pub request: u32,
    pub arg: &'a [u8],
}

impl<'a> IoctlRequest<'a> {
    pub fn parse(b: &'a [u8]) -> Result<IoctlRequest<'a>, PayloadError> {
        let arg = b.get(4..).ok_or(PayloadError)?;
        Ok(IoctlRequest { request: u32_at(b, 0), arg })
    }
}

/// Event codes (section 5).
pub mod event {
    /// A bare event with no payload.
    pub const NOTIFY: u16 = 0xFFFF;
    pub const CHANNEL_REGISTERED: u16 = 0;
    pub const CHANNEL_UNREGISTERED: u16 = 1;
    pub const SOFT_REBOOT: u16 = 2;
    pub const SCRIPT_STARTED: u16 = 1;
    pub const SCRIPT_STOPPED: u16 = 0;
}

/// Ioctl requests of the built-in channels (section 6).
pub mod ioctl {
    pub const STDIN_STOP: u32 = 1;
    pub const STDIN_EXEC: u32 = 2;
    pub const STDIN_RESET: u32 = 3;
    pub const STREAM_CTRL: u32 = 0;
    pub const STREAM_RAW_CTRL: u32 = 1;
    pub const STREAM_RAW_CFG: u32 = 2;
    pub const STREAM_SOURCE: u32 = 3;
    pub const PROFILE_MODE: u32 = 0;
    pub const PROFILE_SET_EVENT: u32 = 1;
    pub const PROFILE_RESET: u32 = 2;
    pub const PROFILE_STATS: u32 = 3;
}

/// Stream pixel formats (section 6.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PixFormat(pub u32);

impl PixFormat {
    pub const GRAYSCALE: PixFormat = PixFormat(0x0802_0001);
    pub const RGB565: PixFormat = PixFormat(0x0C03_0002);
    pub const JPEG: PixFormat = PixFormat(0x0606_0000);

    /// Bytes per pixel of raw formats; `None` for compressed ones.
    pub fn bytes_per_pixel(self) -> Option<u32> {
        match self {
            Self::GRAYSCALE => Some(1),
            Self::RGB565 => Some(2),
            _ => None,
        }
    }
}

/// The stream channel's frame header (section 6.1): 20 bytes, pixels start at `offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    pub width: u32,
    pub height: u32,
    pub format: PixFormat,
    /// Compressed bytes; 0 for raw formats.
    pub size: u32,
    pub offset: u32,
}

impl FrameHeader {
    pub const LEN: usize = 20;

    pub fn parse(b: &[u8]) -> Result<FrameHeader, PayloadError> {
        if b.len() < Self::LEN {
            return Err(PayloadError);
        }
        let h = FrameHeader {
            width: u32_at(b, 0),
            height: u32_at(b, 4),
            format: PixFormat(u32_at(b, 8)),
            size: u32_at(b, 12),
            offset: u32_at(b, 16),
        };
        if (h.offset as usize) < Self::LEN {
            return Err(PayloadError);
        }
        Ok(h)
    }

    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        let mut b = [0; Self::LEN];
        put_words(&mut b, &self.words());
        b
    }

    fn words(&self) -> [u32; 5] {
        [self.width, self.height, self.format.0, self.size, self.offset]
    }

    /// The header, then `fps` as an f32 at byte 20 and zeros up to `out`'s end (the 32 bytes
    /// before a stream frame's pixels, as firmware 5.x lays them out), in one pass.
    pub fn write_with_fps(&self, out: &mut [u8], fps: f32) {
        let [w, h, f, s, o] = self.words();
        out.fill(0);
        put_words(out, &[w, h, f, s, o, fps.to_bits()]);
    }

    /// Pixel data bytes: `size` for compressed frames, width x height x bpp for raw ones.
    pub fn data_len(&self) -> Option<usize> {
        match self.format.bytes_per_pixel() {
            Some(bpp) => (self.width as usize).checked_mul(self.height as usize)?.checked_mul(bpp as usize),
            None => Some(self.size as usize),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The device renders SYS_INFO into a packet buffer that holds older bytes: every byte of
    /// the answer is written, reserved words as zeros, and none after it.
    #[test]
    fn sys_info_write_covers_its_bytes_only() {
        let info = SysInfo {
            cpu_id: 1,
            dev_id: [2, 3, 4],
            usb_id: 5,
            chip_id: [6, 7, 8],
            hw_caps: [9, 10],
            flash_kb: 11,
            ram_kb: 12,
            framebuffer_kb: 13,
            stream_buffer_kb: 14,
        };
        let mut dirty = [0xAA; SysInfo::LEN + 4];
        assert_eq!(info.write(&mut dirty), SysInfo::LEN);
        assert!(dirty[32..40].iter().all(|&b| b == 0), "words 8 and 9");
        assert!(dirty[64..SysInfo::LEN].iter().all(|&b| b == 0), "words 16 to 18");
        assert_eq!(dirty[SysInfo::LEN..], [0xAA; 4]);
        assert_eq!(SysInfo::parse(&dirty), Ok(info));
        assert_eq!(dirty[..SysInfo::LEN], info.to_bytes());
    }

    #[test]
    fn proto_stats_write_covers_its_bytes_only() {
        let stats = ProtoStats {
            sent: 1,
            received: 2,
            checksum_errors: 3,
            sequence_errors: 4,
            retransmits: 5,
            transport_errors: 6,
            events: 7,
        };
        let mut dirty = [0xAA; ProtoStats::LEN + 4];
        assert_eq!(stats.write(&mut dirty), ProtoStats::LEN);
        assert_eq!(dirty[28..ProtoStats::LEN], [0; 4], "the reserved word");
        assert_eq!(dirty[ProtoStats::LEN..], [0xAA; 4]);
        assert_eq!(ProtoStats::parse(&dirty), Ok(stats));
    }
}
