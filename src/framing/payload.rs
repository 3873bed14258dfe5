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
        /// Bit 0: CRCs are computed and checked; when off, the CRC fields are sent as 0.
        const CRC = 1 << 0;
        /// Bit 1: the device checks each request's seq (NAK SEQUENCE on a mismatch).
        const SEQ = 1 << 1;
        /// Bit 2: the device sets ACK_REQ on its answers and waits for the host's ACK.
        const ACK = 1 << 2;
        /// Bit 3: the device may send events.
        const EVENTS = 1 << 3;
    }
}

/// Capabilities (section 3.4): the same 16 bytes for GET_CAPS answers and SET_CAPS requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Caps {
    /// Bytes 0-3 (u32): the capability bits; [`Caps::parse`] drops unknown ones.
    pub flags: CapFlags,
    /// Bytes 4-5 (u16): the largest payload either side may send. Bytes 6-15 are reserved, 0.
    pub max_payload: u16,
}

impl Caps {
    /// Bytes on the wire: 16.
    pub const LEN: usize = 16;

    /// What every peer starts with: everything on, the default packet size.
    pub const DEFAULT: Caps = Caps { flags: CapFlags::all(), max_payload: super::DEFAULT_MAX_PAYLOAD };

    /// Reads a GET_CAPS answer or SET_CAPS request; `Err` unless exactly 16 bytes. Does not
    /// check `max_payload` (a device uses [`crate::reliability::validate_caps`]).
    pub fn parse(b: &[u8]) -> Result<Caps, PayloadError> {
        if b.len() != Self::LEN {
            return Err(PayloadError);
        }
        Ok(Caps { flags: CapFlags::from_bits_truncate(u32_at(b, 0)), max_payload: u16::from_le_bytes([b[4], b[5]]) })
    }

    /// The 16 wire bytes, reserved bytes 0.
    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        let mut b = [0; Self::LEN];
        put_u32(&mut b, 0, self.flags.bits());
        b[4..6].copy_from_slice(&self.max_payload.to_le_bytes());
        b
    }

    /// Whether CRCs are on (bit 0).
    pub fn crc(&self) -> bool {
        self.flags.contains(CapFlags::CRC)
    }
    /// Whether the device checks sequence numbers (bit 1).
    pub fn seq(&self) -> bool {
        self.flags.contains(CapFlags::SEQ)
    }
    /// Whether ACK_REQ packets are sent and confirmed (bit 2).
    pub fn ack(&self) -> bool {
        self.flags.contains(CapFlags::ACK)
    }
    /// Whether the device may send events (bit 3).
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
    /// Bytes 0-2: the protocol version.
    pub protocol: Semver,
    /// Bytes 3-5: the bootloader version.
    pub bootloader: Semver,
    /// Bytes 6-8: the firmware version. Bytes 9-15 are reserved, 0.
    pub firmware: Semver,
}

impl Version {
    /// Bytes on the wire: 16.
    pub const LEN: usize = 16;
    /// The protocol version this engine speaks.
    pub const PROTOCOL: Semver = Semver(1, 0, 2);

    /// Reads a PROTO_VERSION answer; `Err` if shorter than the 9 version bytes.
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

    /// The 16 wire bytes, reserved bytes 0.
    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        let (p, l, f) = (self.protocol, self.bootloader, self.firmware);
        [p.0, p.1, p.2, l.0, l.1, l.2, f.0, f.1, f.2, 0, 0, 0, 0, 0, 0, 0]
    }
}

bitflags::bitflags! {
    /// `hw_caps[0]` bits of SYS_INFO (bits 8-15 hold the PMU counter count, see `pmu_counters`).
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
    pub struct HwCaps: u32 {
        /// Bit 0: a GPU.
        const GPU = 1 << 0;
        /// Bit 1: an NPU.
        const NPU = 1 << 1;
        /// Bit 2: an image signal processor.
        const ISP = 1 << 2;
        /// Bit 3: a video encoder.
        const VIDEO_ENCODER = 1 << 3;
        /// Bit 4: a JPEG encoder.
        const JPEG_ENCODER = 1 << 4;
        /// Bit 5: external DRAM.
        const DRAM = 1 << 5;
        /// Bit 6: a hardware CRC unit, which the firmware may use for the packet CRCs.
        const HW_CRC = 1 << 6;
        /// Bit 7: a performance monitoring unit; bits 8-15 count its event counters.
        const PMU = 1 << 7;
        /// Bit 16: WiFi.
        const WIFI = 1 << 16;
        /// Bit 17: Bluetooth.
        const BLUETOOTH = 1 << 17;
        /// Bit 18: an SD card slot.
        const SD_CARD = 1 << 18;
        /// Bit 19: Ethernet.
        const ETHERNET = 1 << 19;
        /// Bit 20: high-speed USB.
        const USB_HIGH_SPEED = 1 << 20;
        /// Bit 21: more than one CPU core.
        const MULTI_CORE = 1 << 21;
        const _ = !0;
    }
}

/// SYS_INFO answer (section 4.1): 76 bytes.
// repr(C): the firmware's C struct of the same fields copies into it as one block.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SysInfo {
    /// Bytes 0-3: the CPU id.
    pub cpu_id: u32,
    /// Bytes 4-15: the chip's unique device id.
    pub dev_id: [u32; 3],
    /// VID << 16 | PID.
    pub usb_id: u32,
    /// Bytes 20-31: chip ids of the detected sensors. Bytes 32-39 are reserved.
    pub chip_id: [u32; 3],
    /// Bytes 40-47: hardware capabilities, word 0 read by [`SysInfo::hw_caps`] and
    /// [`SysInfo::pmu_counters`].
    pub hw_caps: [u32; 2],
    /// Bytes 48-51: flash size in KiB.
    pub flash_kb: u32,
    /// Bytes 52-55: RAM size in KiB.
    pub ram_kb: u32,
    /// Bytes 56-59: frame buffer size in KiB.
    pub framebuffer_kb: u32,
    /// Bytes 60-63: stream buffer size in KiB. Bytes 64-75 are reserved.
    pub stream_buffer_kb: u32,
}

impl SysInfo {
    /// Bytes on the wire: 76.
    pub const LEN: usize = 76;

    /// USB vendor id, the high half of `usb_id` (0x37C5 OpenMV, 0x2341 Arduino, 0x1209 early
    /// OpenMV).
    pub fn usb_vid(&self) -> u16 {
        (self.usb_id >> 16) as u16
    }
    /// USB product id, the low half of `usb_id`.
    pub fn usb_pid(&self) -> u16 {
        self.usb_id as u16
    }
    /// `hw_caps[0]` as flags; the PMU counter count in bits 8-15 is kept too.
    pub fn hw_caps(&self) -> HwCaps {
        HwCaps::from_bits_retain(self.hw_caps[0])
    }
    /// Number of PMU event counters: bits 8-15 of `hw_caps[0]`.
    pub fn pmu_counters(&self) -> u8 {
        (self.hw_caps[0] >> 8) as u8
    }

    /// Reads a SYS_INFO answer; `Err` if shorter than 76 bytes. Reserved words are ignored.
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

    /// The 76 wire bytes, reserved words 0.
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
    /// Bytes 0-3: packets sent.
    pub sent: u32,
    /// Bytes 4-7: packets received whole and valid.
    pub received: u32,
    /// Bytes 8-11: packets whose payload failed its CRC-32.
    pub checksum_errors: u32,
    /// Bytes 12-15: packets that carried an unexpected seq.
    pub sequence_errors: u32,
    /// Bytes 16-19: retransmissions sent (a device's count) or received (a host's).
    pub retransmits: u32,
    /// Bytes 20-23: transport errors, as the caller reports them.
    pub transport_errors: u32,
    /// Events sent (a device's count) or received (a host's).
    pub events: u32,
}

impl ProtoStats {
    /// Bytes on the wire: 32, the last word reserved.
    pub const LEN: usize = 32;

    /// Reads a PROTO_STATS answer; `Err` if shorter than the 28 bytes of counters.
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

    /// The 32 wire bytes, reserved word 0.
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
    /// Bytes 2-3: pool flags, as the firmware reports them. Byte 1 is reserved.
    pub flags: u16,
    /// Bytes 4-7: pool size in bytes.
    pub total: u32,
    /// Bytes 8-11: bytes in use.
    pub used: u32,
    /// Bytes 12-15: bytes free.
    pub free: u32,
    /// Bytes 16-19: persistent bytes, as the firmware counts them.
    pub persistent: u32,
    /// Bytes 20-23: the most bytes in use so far.
    pub peak: u32,
}

impl MemoryEntry {
    /// Bytes of one entry on the wire: 24.
    pub const LEN: usize = 24;
    /// SYS_MEMORY starts with u8 count and 3 reserved bytes.
    pub const PREFIX: usize = 4;

    /// Reads one entry from the front of `b`; `Err` if shorter than 24 bytes.
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

    /// The 24 wire bytes, reserved byte 0.
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
        /// Bit 0: the channel can be read.
        const READ = 1 << 0;
        /// Bit 1: the channel can be written.
        const WRITE = 1 << 1;
        /// Bit 2: the channel runs what is written to it (stdin).
        const EXEC = 1 << 2;
        /// Bit 3: the host must lock the channel before reading it.
        const LOCK = 1 << 3;
        /// Bit 4: the channel carries frames (section 6.1).
        const STREAM = 1 << 4;
        /// Bit 5: registered at run time.
        const DYNAMIC = 1 << 5;
        /// Bit 6: the transport itself; never addressed by channel operations.
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
    /// Byte 0: the channel's id.
    pub id: ChannelId,
    /// Byte 1: the channel's flags.
    pub flags: ChannelFlags,
    /// Bytes 2-15: the name, NUL-padded; see [`ChannelEntry::name`].
    pub name: [u8; 14],
}

impl ChannelEntry {
    /// Bytes of one entry on the wire: 16.
    pub const LEN: usize = 16;

    /// An entry for a channel named `name`; `None` if the name is empty, longer than
    /// [`CHANNEL_NAME_MAX`] bytes, or holds a NUL.
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

    /// Reads one entry from the front of `b`; `Err` if shorter than 16 bytes. The name is not
    /// checked.
    pub fn parse(b: &[u8]) -> Result<ChannelEntry, PayloadError> {
        if b.len() < Self::LEN {
            return Err(PayloadError);
        }
        let mut name = [0; 14];
        name.copy_from_slice(&b[2..16]);
        Ok(ChannelEntry { id: ChannelId(b[0]), flags: ChannelFlags::from_bits_retain(b[1]), name })
    }

    /// The 16 wire bytes.
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
    /// Bytes 0-3: the first byte to read.
    pub offset: u32,
    /// Bytes 4-7: how many bytes to read.
    pub length: u32,
}

impl ReadRequest {
    /// Bytes on the wire: 8.
    pub const LEN: usize = 8;

    /// `Err` unless exactly 8 bytes (a device answers NAK INVALID, PROTOCOL.md 7).
    pub fn parse(b: &[u8]) -> Result<ReadRequest, PayloadError> {
        if b.len() != Self::LEN {
            return Err(PayloadError);
        }
        Ok(ReadRequest { offset: u32_at(b, 0), length: u32_at(b, 4) })
    }

    /// The 8 wire bytes.
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
    /// Bytes 0-3: where in the channel the data goes.
    pub offset: u32,
    /// The data, from byte 8 on; bytes 4-7 hold its length.
    pub data: &'a [u8],
}

impl<'a> WriteRequest<'a> {
    /// Bytes before the data: u32 offset, u32 length.
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
    /// Bytes 0-3: the request number; [`ioctl`] lists the built-in channels' ones.
    pub request: u32,
    /// The argument bytes, from byte 4 on; their size depends on the request.
    pub arg: &'a [u8],
}

impl<'a> IoctlRequest<'a> {
    /// `Err` if shorter than the 4-byte request (PROTOCOL.md 7); the argument may be empty.
    pub fn parse(b: &'a [u8]) -> Result<IoctlRequest<'a>, PayloadError> {
        let arg = b.get(4..).ok_or(PayloadError)?;
        Ok(IoctlRequest { request: u32_at(b, 0), arg })
    }
}

/// Event codes (section 5).
pub mod event {
    /// A bare event with no payload.
    pub const NOTIFY: u16 = 0xFFFF;
    /// System event 0: a channel was registered; the host should list the channels again.
    pub const CHANNEL_REGISTERED: u16 = 0;
    /// System event 1: a channel was unregistered.
    pub const CHANNEL_UNREGISTERED: u16 = 1;
    /// System event 2: the script has ended and the cam restarts its protocol engine; the host
    /// must resynchronise.
    pub const SOFT_REBOOT: u16 = 2;
    /// stdin channel event 1: a script started.
    pub const SCRIPT_STARTED: u16 = 1;
    /// stdin channel event 0: the script stopped.
    pub const SCRIPT_STOPPED: u16 = 0;
}

/// Ioctl requests of the built-in channels (section 6).
pub mod ioctl {
    /// stdin 1: interrupt the running script. No argument.
    pub const STDIN_STOP: u32 = 1;
    /// stdin 2: run the uploaded buffer; NAK FAILED if it is empty. No argument.
    pub const STDIN_EXEC: u32 = 2;
    /// stdin 3: clear the upload buffer. No argument.
    pub const STDIN_RESET: u32 = 3;
    /// stream 0: streaming on or off. Argument: u32 enable.
    pub const STREAM_CTRL: u32 = 0;
    /// stream 1: raw frames on or off. Argument: u32 enable.
    pub const STREAM_RAW_CTRL: u32 = 1;
    /// stream 2: raw frame size. Argument: u32 width, u32 height.
    pub const STREAM_RAW_CFG: u32 = 2;
    /// stream 3: the sensor to stream from. Argument: u32 sensor chip id.
    pub const STREAM_SOURCE: u32 = 3;
    /// profile 0: the profiling mode. Argument: u32, 1 for exclusive.
    pub const PROFILE_MODE: u32 = 0;
    /// profile 1: what a PMU counter counts. Argument: u32 counter, u32 event id.
    pub const PROFILE_SET_EVENT: u32 = 1;
    /// profile 2: RESET. No argument.
    pub const PROFILE_RESET: u32 = 2;
    /// profile 3: STATS. No argument.
    pub const PROFILE_STATS: u32 = 3;
}

/// Stream pixel formats (section 6.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PixFormat(pub u32);

impl PixFormat {
    /// 0x08020001: 1 byte per pixel.
    pub const GRAYSCALE: PixFormat = PixFormat(0x0802_0001);
    /// 0x0C030002: 2 bytes per pixel, a little-endian u16.
    pub const RGB565: PixFormat = PixFormat(0x0C03_0002);
    /// 0x06060000: `size` bytes of JFIF.
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
    /// Bytes 0-3: width in pixels.
    pub width: u32,
    /// Bytes 4-7: height in pixels.
    pub height: u32,
    /// Bytes 8-11: the pixel format.
    pub format: PixFormat,
    /// Compressed bytes; 0 for raw formats.
    pub size: u32,
    /// Bytes 16-19: where pixel data starts, counted from the header's first byte; at least 20.
    /// Hosts must use it, never assume 20.
    pub offset: u32,
}

impl FrameHeader {
    /// Bytes of the header proper: 20.
    pub const LEN: usize = 20;

    /// Reads the header at the front of a stream frame; `Err` if shorter than 20 bytes or if
    /// `offset` points into the header.
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

    /// The 20 header bytes, without the fps or padding (see [`FrameHeader::write_with_fps`]).
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
