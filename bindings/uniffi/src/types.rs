//! Records and enums: plain data copied across the boundary.

use std::time::Duration;

use openmvproto::client::{self, ChannelInfo as CoreChannel, Options, ProfileRecord as CoreProfile};
use openmvproto::framing::payload::{
    CapFlags, Caps, ChannelFlags, MemoryEntry, PixFormat, ProtoStats, Semver, SysInfo, Version,
};
use openmvproto::framing::DEFAULT_MAX_PAYLOAD;
use openmvproto::transport::CamPort;

/// How a camera connects and talks. `ConnectOptions()` with no arguments (the same as
/// `default_connect_options()`) behaves like the openmv 1.0.7 host: everything on, the
/// largest payload, 1 s per answer, no automatic reconnection.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ConnectOptions {
    /// Ask for CRCs on every packet.
    #[uniffi(default = true)]
    pub crc: bool,
    /// Ask for sequence number checking.
    #[uniffi(default = true)]
    pub seq: bool,
    /// Ask the cam to request ACKs (and retransmit).
    #[uniffi(default = true)]
    pub ack: bool,
    /// Ask for events; without them no listener hears from the cam.
    #[uniffi(default = true)]
    pub events: bool,
    /// Largest payload wished for; the link uses min(cam, this). At least 50.
    #[uniffi(default = 4082)]
    pub max_payload: u16,
    /// Wait at most this long for an answer, or for the next fragment of one.
    #[uniffi(default = 1000)]
    pub timeout_ms: u32,
    /// PROTO_SYNC attempts before a resynchronisation fails.
    #[uniffi(default = 3)]
    pub sync_attempts: u32,
    /// Reopen the link and restore the session by itself when it is lost.
    #[uniffi(default = false)]
    pub auto_reconnect: bool,
    /// First pause before an automatic reconnection, doubled after each failure...
    #[uniffi(default = 200)]
    pub reconnect_interval_ms: u32,
    /// ...up to this.
    #[uniffi(default = 5000)]
    pub reconnect_max_interval_ms: u32,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            crc: true,
            seq: true,
            ack: true,
            events: true,
            max_payload: DEFAULT_MAX_PAYLOAD,
            timeout_ms: 1000,
            sync_attempts: 3,
            auto_reconnect: false,
            reconnect_interval_ms: 200,
            reconnect_max_interval_ms: 5000,
        }
    }
}

impl From<&ConnectOptions> for Options {
    fn from(o: &ConnectOptions) -> Options {
        let ms = |v: u32| Duration::from_millis(u64::from(v));
        Options::new()
            .crc(o.crc)
            .seq(o.seq)
            .ack(o.ack)
            .events(o.events)
            .max_payload(o.max_payload)
            .timeout(ms(o.timeout_ms))
            .sync_attempts(o.sync_attempts)
            .auto_reconnect(o.auto_reconnect)
            .reconnect_interval(ms(o.reconnect_interval_ms), ms(o.reconnect_max_interval_ms))
    }
}

/// The capabilities in force on a link.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LinkCaps {
    pub crc: bool,
    pub seq: bool,
    pub ack: bool,
    pub events: bool,
    pub max_payload: u16,
}

impl From<Caps> for LinkCaps {
    fn from(c: Caps) -> Self {
        LinkCaps {
            crc: c.flags.contains(CapFlags::CRC),
            seq: c.flags.contains(CapFlags::SEQ),
            ack: c.flags.contains(CapFlags::ACK),
            events: c.flags.contains(CapFlags::EVENTS),
            max_payload: c.max_payload,
        }
    }
}

/// One entry of the cam's channel list.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ChannelInfo {
    pub id: u8,
    pub name: String,
    /// The raw flag bits (PROTOCOL.md 6): READ 1, WRITE 2, EXEC 4, LOCK 8, STREAM 16, DYNAMIC 32.
    pub flags: u8,
    pub readable: bool,
    pub writable: bool,
    /// Reads must be bracketed by lock / unlock.
    pub needs_lock: bool,
    pub stream: bool,
    /// Registered at run time (a user channel).
    pub dynamic: bool,
}

impl From<&CoreChannel> for ChannelInfo {
    fn from(c: &CoreChannel) -> Self {
        ChannelInfo {
            id: c.id.0,
            name: c.name.clone(),
            flags: c.flags.bits(),
            readable: c.can_read(),
            writable: c.can_write(),
            needs_lock: c.needs_lock(),
            stream: c.flags.contains(ChannelFlags::STREAM),
            dynamic: c.flags.contains(ChannelFlags::DYNAMIC),
        }
    }
}

/// A frame's pixel format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum PixelFormat {
    /// 1 byte per pixel.
    Grayscale,
    /// 2 bytes per pixel, little-endian RGB565.
    Rgb565,
    /// A JFIF file.
    Jpeg,
    /// A format this library does not know; see `Frame.format_code`.
    Unknown,
}

impl From<PixFormat> for PixelFormat {
    fn from(f: PixFormat) -> Self {
        match f {
            PixFormat::GRAYSCALE => PixelFormat::Grayscale,
            PixFormat::RGB565 => PixelFormat::Rgb565,
            PixFormat::JPEG => PixelFormat::Jpeg,
            _ => PixelFormat::Unknown,
        }
    }
}

/// One frame of the stream channel.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Frame {
    pub width: u32,
    pub height: u32,
    pub format: PixelFormat,
    /// The cam's pixel format code (GRAYSCALE 0x08020001, RGB565 0x0C030002, JPEG 0x06060000).
    pub format_code: u32,
    /// The pixels as the cam sent them (raw rows, or the JPEG file).
    pub data: Vec<u8>,
    /// The cam's frame rate, when its header carries one.
    pub fps: Option<f32>,
    /// 1 for the first frame this camera object received, then 2, 3, ...
    pub counter: u64,
    /// Milliseconds since the Unix epoch when the last byte arrived.
    pub received_at_ms: u64,
    /// RGB888 pixels (3 bytes each, rows top to bottom), when asked for.
    pub rgb888: Option<Vec<u8>>,
}

impl Frame {
    pub(crate) fn from_core(f: client::Frame, rgb888: Option<Vec<u8>>) -> Frame {
        let received_at_ms = f
            .received_at
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis().try_into().unwrap_or(u64::MAX))
            .unwrap_or(0);
        Frame {
            width: f.width,
            height: f.height,
            format: f.format.into(),
            format_code: f.format.0,
            data: f.data,
            fps: f.fps,
            counter: f.counter,
            received_at_ms,
            rgb888,
        }
    }

    /// The frame as the core client knows it, for pixel conversion.
    pub(crate) fn to_core(&self) -> client::Frame {
        client::Frame {
            width: self.width,
            height: self.height,
            format: PixFormat(self.format_code),
            data: self.data.clone(),
            fps: self.fps,
            received_at: std::time::SystemTime::UNIX_EPOCH + Duration::from_millis(self.received_at_ms),
            received: std::time::Instant::now(),
            counter: self.counter,
        }
    }
}

/// Raw streaming resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct Resolution {
    pub width: u32,
    pub height: u32,
}

/// Link counters: the cam's (PROTO_STATS) or this host's.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LinkStats {
    pub sent: u32,
    pub received: u32,
    pub checksum_errors: u32,
    pub sequence_errors: u32,
    pub retransmits: u32,
    pub transport_errors: u32,
    pub events: u32,
}

impl From<ProtoStats> for LinkStats {
    fn from(s: ProtoStats) -> Self {
        LinkStats {
            sent: s.sent,
            received: s.received,
            checksum_errors: s.checksum_errors,
            sequence_errors: s.sequence_errors,
            retransmits: s.retransmits,
            transport_errors: s.transport_errors,
            events: s.events,
        }
    }
}

/// A (major, minor, patch) version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct SemVer {
    pub major: u8,
    pub minor: u8,
    pub patch: u8,
}

impl From<Semver> for SemVer {
    fn from(v: Semver) -> Self {
        SemVer { major: v.0, minor: v.1, patch: v.2 }
    }
}

/// PROTO_VERSION: what the cam runs.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Versions {
    pub protocol: SemVer,
    pub bootloader: SemVer,
    pub firmware: SemVer,
}

impl From<Version> for Versions {
    fn from(v: Version) -> Self {
        Versions { protocol: v.protocol.into(), bootloader: v.bootloader.into(), firmware: v.firmware.into() }
    }
}

/// SYS_INFO (PROTOCOL.md 4.1).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SystemInfo {
    pub cpu_id: u32,
    /// 3 words.
    pub dev_id: Vec<u32>,
    pub usb_vid: u16,
    pub usb_pid: u16,
    /// Detected sensors, 3 words.
    pub chip_id: Vec<u32>,
    /// 2 words; bits of the first: 0 GPU, 1 NPU, ... 6 hardware CRC, 7 PMU, 16 WiFi, ...
    pub hw_caps: Vec<u32>,
    /// PMU event counters (hw_caps bits 8-15).
    pub pmu_counters: u8,
    pub flash_kb: u32,
    pub ram_kb: u32,
    pub framebuffer_kb: u32,
    pub stream_buffer_kb: u32,
}

impl From<SysInfo> for SystemInfo {
    fn from(i: SysInfo) -> Self {
        SystemInfo {
            cpu_id: i.cpu_id,
            dev_id: i.dev_id.to_vec(),
            usb_vid: i.usb_vid(),
            usb_pid: i.usb_pid(),
            chip_id: i.chip_id.to_vec(),
            hw_caps: i.hw_caps.to_vec(),
            pmu_counters: i.pmu_counters(),
            flash_kb: i.flash_kb,
            ram_kb: i.ram_kb,
            framebuffer_kb: i.framebuffer_kb,
            stream_buffer_kb: i.stream_buffer_kb,
        }
    }
}

/// One memory pool of SYS_MEMORY.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct MemoryPool {
    /// 0 GC heap, 1 UMA pool.
    pub kind: u8,
    pub flags: u16,
    pub total: u32,
    pub used: u32,
    pub free: u32,
    pub persistent: u32,
    pub peak: u32,
}

impl From<MemoryEntry> for MemoryPool {
    fn from(m: MemoryEntry) -> Self {
        MemoryPool {
            kind: m.kind,
            flags: m.flags,
            total: m.total,
            used: m.used,
            free: m.free,
            persistent: m.persistent,
            peak: m.peak,
        }
    }
}

/// One function's profiler counters.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ProfileRecord {
    pub address: u32,
    pub caller: u32,
    pub call_count: u32,
    pub min_ticks: u32,
    pub max_ticks: u32,
    pub total_ticks: u64,
    pub total_cycles: u64,
    /// One value per PMU counter.
    pub events: Vec<u64>,
}

impl From<CoreProfile> for ProfileRecord {
    fn from(p: CoreProfile) -> Self {
        ProfileRecord {
            address: p.address,
            caller: p.caller,
            call_count: p.call_count,
            min_ticks: p.min_ticks,
            max_ticks: p.max_ticks,
            total_ticks: p.total_ticks,
            total_cycles: p.total_cycles,
            events: p.events,
        }
    }
}

/// A serial port that looks like a cam (desktop hosts; Android lists USB devices itself).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CamPortInfo {
    pub path: String,
    pub vid: u16,
    pub pid: u16,
    pub serial_number: Option<String>,
    pub manufacturer: Option<String>,
    pub product: Option<String>,
}

impl From<CamPort> for CamPortInfo {
    fn from(p: CamPort) -> Self {
        CamPortInfo {
            path: p.path,
            vid: p.vid,
            pid: p.pid,
            serial_number: p.serial_number,
            manufacturer: p.manufacturer,
            product: p.product,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_options_match_the_core_defaults() {
        let core = Options::default();
        let ours = Options::from(&ConnectOptions::default());
        assert_eq!(ours.caps, core.caps);
        assert_eq!(ours.timeout, core.timeout);
        assert_eq!(ours.sync_attempts, core.sync_attempts);
        assert_eq!(ours.auto_reconnect, core.auto_reconnect);
        assert_eq!(ours.reconnect_interval, core.reconnect_interval);
        assert_eq!(ours.reconnect_max_interval, core.reconnect_max_interval);
        let no_ack = Options::from(&ConnectOptions { ack: false, max_payload: 100, ..Default::default() });
        assert!(!no_ack.caps.flags.contains(CapFlags::ACK));
        assert_eq!(no_ack.caps.max_payload, 100);
    }

    #[test]
    fn frames_round_trip_through_the_record() {
        let mut bytes = openmvproto::framing::payload::FrameHeader {
            width: 2,
            height: 1,
            format: PixFormat::GRAYSCALE,
            size: 0,
            offset: 20,
        }
        .to_bytes()
        .to_vec();
        bytes.extend_from_slice(&[7, 9]);
        let core = client::Frame::from_stream_bytes(bytes, 3).unwrap();
        let f = Frame::from_core(core, None);
        assert_eq!((f.width, f.height, f.format, f.counter), (2, 1, PixelFormat::Grayscale, 3));
        assert_eq!(f.to_core().to_rgb888().unwrap().pixels, vec![7, 7, 7, 9, 9, 9]);
    }
}
