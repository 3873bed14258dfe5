//! Plain-data structs and constants shared by the host and device halves of the C ABI.
#![allow(non_camel_case_types)]

use std::ffi::{c_char, c_void};

use crate::framing::payload::{MemoryEntry, ProtoStats, Semver, SysInfo, Version};

/// Channel flag: the channel can be read.
pub const OMV_CHANNEL_READ: u8 = 1;
/// Channel flag: the channel can be written.
pub const OMV_CHANNEL_WRITE: u8 = 2;
/// Channel flag: the channel runs scripts (stdin).
pub const OMV_CHANNEL_EXEC: u8 = 4;
/// Channel flag: lock the channel before reading it.
pub const OMV_CHANNEL_LOCK: u8 = 8;
/// Channel flag: the channel streams frames.
pub const OMV_CHANNEL_STREAM: u8 = 16;
/// Channel flag: registered at run time.
pub const OMV_CHANNEL_DYNAMIC: u8 = 32;
/// Channel flag: the transport itself (never addressed).
pub const OMV_CHANNEL_PHYSICAL: u8 = 64;

/// Longest channel name in bytes (without the NUL).
pub const OMV_CHANNEL_NAME_MAX: usize = 13;

/// Built-in channel id: stdin (script upload).
pub const OMV_CHANNEL_ID_STDIN: u8 = 1;
/// Built-in channel id: stdout (script output).
pub const OMV_CHANNEL_ID_STDOUT: u8 = 2;
/// Built-in channel id: stream (frames).
pub const OMV_CHANNEL_ID_STREAM: u8 = 3;
/// Built-in channel id: profile (profiler records).
pub const OMV_CHANNEL_ID_PROFILE: u8 = 4;

/// Pixel format GRAYSCALE (0x08020001): 1 byte per pixel.
pub const OMV_PIXFORMAT_GRAYSCALE: u32 = 0x08020001;
/// Pixel format RGB565 (0x0C030002): 2 bytes per pixel, a little-endian u16.
pub const OMV_PIXFORMAT_RGB565: u32 = 0x0C030002;
/// Pixel format JPEG (0x06060000): `len` bytes of a JFIF file.
pub const OMV_PIXFORMAT_JPEG: u32 = 0x06060000;
/// Pixel format RGB888 (0x0C040003). Not a wire code: frames converted on request
/// (`OMV_FRAME_RGB888`) carry it; 3 bytes per pixel in R, G, B order.
pub const OMV_PIXFORMAT_RGB888: u32 = 0x0C040003;

/// Frame read flag: convert the pixels to RGB888 (grayscale replicated, RGB565 expanded,
/// JPEG decoded).
pub const OMV_FRAME_RGB888: u32 = 1;

/// Event code without payload (a NOTIFY).
pub const OMV_EVENT_NOTIFY: u16 = 0xFFFF;
/// System event (channel 0): a channel was registered; the host re-lists channels.
pub const OMV_EVENT_CHANNEL_REGISTERED: u16 = 0;
/// System event (channel 0): a channel was unregistered.
pub const OMV_EVENT_CHANNEL_UNREGISTERED: u16 = 1;
/// System event (channel 0): the script has ended and the cam restarts its protocol engine
/// (sequence back to 0, channels registered again); the client resynchronises by itself.
pub const OMV_EVENT_SOFT_REBOOT: u16 = 2;
/// stdin event: the script stopped.
pub const OMV_EVENT_SCRIPT_STOPPED: u16 = 0;
/// stdin event: a script started.
pub const OMV_EVENT_SCRIPT_STARTED: u16 = 1;

/// Channel callback result: success.
pub const OMV_PROTO_SUCCESS: i32 = 0;
/// Channel callback result: answer NAK FAILED.
pub const OMV_PROTO_FAILED: i32 = 1;
/// Channel callback result: answer NAK INVALID (bad offset, length or argument).
pub const OMV_PROTO_INVALID: i32 = 2;
/// Channel callback result: answer NAK TIMEOUT.
pub const OMV_PROTO_TIMEOUT: i32 = 3;
/// Channel callback result: answer NAK BUSY.
pub const OMV_PROTO_BUSY: i32 = 4;
/// Channel callback result: answer NAK OVERFLOW.
pub const OMV_PROTO_OVERFLOW: i32 = 7;

/// The largest payload a packet may carry by default (4096-byte packet buffers).
pub const OMV_DEFAULT_MAX_PAYLOAD: u16 = 4082;

/// Sends bytes on the application's link. Return 0 when all `len` bytes were written,
/// nonzero when they could not be. For a host (`omv_host_new_callback`), nonzero marks the
/// link lost: the call fails with `OMV_STATUS_LINK_LOST` and the event callback gets
/// `OMV_EVENT_KIND_LINK_LOST`. For a device (`omv_device_new`), it counts a transport error
/// (`transport_errors` in `omv_stats`) and the `omv_device_feed` / `omv_device_poll` call
/// returns `OMV_STATUS_IO`; the device goes on.
pub type omv_write_fn = Option<unsafe extern "C" fn(user_data: *mut c_void, data: *const u8, len: usize) -> i32>;

/// What kind of event an event callback receives.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum omv_event_kind {
    /// An event the cam sent: `channel` (0 for system events) and `code`.
    Device = 0,
    /// The link went away; `channel` and `code` are 0.
    LinkLost = 1,
    /// The link came back (automatic reconnection); `channel` and `code` are 0.
    Reconnected = 2,
    /// The cam restarted its protocol (soft reboot after a script) and the session was
    /// restored: fresh channel list, streaming as last asked for; `channel` and `code` are 0.
    CamRestarted = 3,
}

/// Host link settings. Initialise with `omv_options_default`, then change fields.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct omv_options {
    /// `sizeof(omv_options)`, set by `omv_options_default`.
    pub struct_size: usize,
    /// Ask for CRCs on the link (default on).
    pub crc: bool,
    /// Ask for sequence number checking (default on).
    pub seq: bool,
    /// Ask the cam to want ACKs for what it sends (default on).
    pub ack: bool,
    /// Ask the cam to send events (default on). Needed for `OMV_EVENT_KIND_DEVICE` callbacks
    /// and for `omv_host_wait_frame` to sleep instead of polling. `OMV_EVENT_KIND_LINK_LOST`,
    /// `OMV_EVENT_KIND_RECONNECTED` and `OMV_EVENT_KIND_CAM_RESTARTED` come either way
    /// (without events a cam's restart is only noticed when a later request runs into it).
    pub events: bool,
    /// Largest payload wished; the link uses min(cam, this) (default 4082, at least 50).
    pub max_payload: u16,
    /// Wait at most this long for an answer or the next fragment of one (default 1000).
    pub timeout_ms: u32,
    /// PROTO_SYNC attempts before a resynchronisation fails (default 3).
    pub sync_attempts: u32,
    /// Reopen the transport and restore the session when the link is lost (default off),
    /// retrying with a growing pause on the event thread. A callback link closed with
    /// `omv_host_feed_close` is never reopened: free that handle and make a new one.
    pub auto_reconnect: bool,
}

/// One entry of the cam's channel list.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct omv_channel_info {
    /// The channel's id (0 to 31), by which requests address it.
    pub id: u8,
    /// `OMV_CHANNEL_*` bits.
    pub flags: u8,
    /// NUL-terminated.
    pub name: [c_char; 16],
}

/// PROTO_VERSION: (major, minor, patch) triples.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct omv_version {
    /// Protocol version: major, minor, patch.
    pub protocol: [u8; 3],
    /// Bootloader version: major, minor, patch.
    pub bootloader: [u8; 3],
    /// Firmware version: major, minor, patch.
    pub firmware: [u8; 3],
}

/// SYS_INFO (PROTOCOL.md 4.1).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct omv_system_info {
    /// The CPU id (SYS_INFO bytes 0-3).
    pub cpu_id: u32,
    /// The chip's unique device id (bytes 4-15).
    pub dev_id: [u32; 3],
    /// USB VID << 16 | PID.
    pub usb_id: u32,
    /// Detected sensors.
    pub chip_id: [u32; 3],
    /// Hardware capabilities (bytes 40-47). Bits of `hw_caps[0]`: 0 GPU, 1 NPU, 2 ISP, 3 video
    /// encoder, 4 JPEG encoder, 5 DRAM, 6 hardware CRC, 7 PMU, 8-15 number of PMU event
    /// counters, 16 WiFi, 17 Bluetooth, 18 SD card, 19 Ethernet, 20 USB high speed, 21 multi-core.
    pub hw_caps: [u32; 2],
    /// Flash size in KiB.
    pub flash_kb: u32,
    /// RAM size in KiB.
    pub ram_kb: u32,
    /// Frame buffer size in KiB.
    pub framebuffer_kb: u32,
    /// Stream buffer size in KiB.
    pub stream_buffer_kb: u32,
}

/// Link counters (PROTO_STATS for the cam, or the host's own).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct omv_stats {
    /// Packets sent.
    pub sent: u32,
    /// Valid packets received.
    pub received: u32,
    /// Packets whose payload failed its CRC-32.
    pub checksum_errors: u32,
    /// Packets that carried another sequence number than expected.
    pub sequence_errors: u32,
    /// Retransmissions: sent (a cam's count) or received with the RTX flag (the host's).
    pub retransmits: u32,
    /// Errors the cam's transport reported; 0 in the host's own counters.
    pub transport_errors: u32,
    /// Events sent (a cam's count) or received (the host's).
    pub events: u32,
}

/// One SYS_MEMORY pool.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct omv_memory_pool {
    /// 0 GC heap, 1 UMA pool.
    pub kind: u8,
    /// Pool flags, as the firmware reports them.
    pub flags: u16,
    /// Pool size in bytes.
    pub total: u32,
    /// Bytes in use.
    pub used: u32,
    /// Bytes free.
    pub free: u32,
    /// Persistent bytes, as the firmware counts them.
    pub persistent: u32,
    /// The most bytes in use so far.
    pub peak: u32,
}

fn semver(s: Semver) -> [u8; 3] {
    [s.0, s.1, s.2]
}

impl From<Version> for omv_version {
    fn from(v: Version) -> Self {
        omv_version { protocol: semver(v.protocol), bootloader: semver(v.bootloader), firmware: semver(v.firmware) }
    }
}

impl From<omv_version> for Version {
    fn from(v: omv_version) -> Self {
        let s = |a: [u8; 3]| Semver(a[0], a[1], a[2]);
        Version { protocol: s(v.protocol), bootloader: s(v.bootloader), firmware: s(v.firmware) }
    }
}

impl From<SysInfo> for omv_system_info {
    fn from(i: SysInfo) -> Self {
        omv_system_info {
            cpu_id: i.cpu_id,
            dev_id: i.dev_id,
            usb_id: i.usb_id,
            chip_id: i.chip_id,
            hw_caps: i.hw_caps,
            flash_kb: i.flash_kb,
            ram_kb: i.ram_kb,
            framebuffer_kb: i.framebuffer_kb,
            stream_buffer_kb: i.stream_buffer_kb,
        }
    }
}

impl From<omv_system_info> for SysInfo {
    fn from(i: omv_system_info) -> Self {
        SysInfo {
            cpu_id: i.cpu_id,
            dev_id: i.dev_id,
            usb_id: i.usb_id,
            chip_id: i.chip_id,
            hw_caps: i.hw_caps,
            flash_kb: i.flash_kb,
            ram_kb: i.ram_kb,
            framebuffer_kb: i.framebuffer_kb,
            stream_buffer_kb: i.stream_buffer_kb,
        }
    }
}

impl From<ProtoStats> for omv_stats {
    fn from(s: ProtoStats) -> Self {
        omv_stats {
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

impl From<MemoryEntry> for omv_memory_pool {
    fn from(m: MemoryEntry) -> Self {
        omv_memory_pool {
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
