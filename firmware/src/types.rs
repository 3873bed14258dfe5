//! The C-visible structures and constants (names in C: see cbindgen.toml, prefix `omv_fw_`).

use core::ffi::c_void;

/// Result codes of the API: 0 or a positive value (an id, a count) on success.
pub const OMV_FW_OK: i32 = 0;
/// A required pointer was NULL.
pub const OMV_FW_ERR_NULL: i32 = -1;
/// Storage (or a buffer) too small.
pub const OMV_FW_ERR_SIZE: i32 = -2;
/// Storage not aligned to `omv_fw_storage_align()`.
pub const OMV_FW_ERR_ALIGN: i32 = -3;
/// A configuration value out of range.
pub const OMV_FW_ERR_CONFIG: i32 = -4;
/// Not a handle returned by `omv_fw_init` (or, for `omv_fw_host_*`, by `omv_fw_host_init`).
pub const OMV_FW_ERR_HANDLE: i32 = -5;
/// Called from inside a callback of the same instance.
pub const OMV_FW_ERR_REENTERED: i32 = -6;
/// Channel name empty, longer than 13 bytes, not ASCII, or taken.
pub const OMV_FW_ERR_NAME: i32 = -7;
/// Channel id out of range or taken (or free, when unregistering).
pub const OMV_FW_ERR_ID: i32 = -8;
/// No free channel slot.
pub const OMV_FW_ERR_FULL: i32 = -9;
/// The host has not enabled events.
pub const OMV_FW_ERR_EVENTS_OFF: i32 = -10;
/// The event queue is full.
pub const OMV_FW_ERR_QUEUE_FULL: i32 = -11;
/// Not possible now (built-in channel not registered, frame held by the host, ...).
pub const OMV_FW_ERR_STATE: i32 = -12;

/// Protocol status codes a channel callback returns (0 success; section 4 of PROTOCOL.md).
pub const OMV_FW_STATUS_SUCCESS: i32 = 0;
/// The operation failed; the host gets NAK FAILED (also what any unknown or negative result
/// becomes).
pub const OMV_FW_STATUS_FAILED: i32 = 1;
/// A request the channel refuses (bad offset, argument or operation): NAK INVALID.
pub const OMV_FW_STATUS_INVALID: i32 = 2;
/// The channel timed out: NAK TIMEOUT.
pub const OMV_FW_STATUS_TIMEOUT: i32 = 3;
/// Not now, the host may retry: NAK BUSY.
pub const OMV_FW_STATUS_BUSY: i32 = 4;

/// Capability flags (`omv_fw_config_t.caps`).
pub const OMV_FW_CAP_CRC: u32 = 1;
/// Requests must carry the engine's sequence number (else NAK SEQUENCE).
pub const OMV_FW_CAP_SEQ: u32 = 2;
/// The engine asks the host to ACK each packet it sends and retransmits until it does.
pub const OMV_FW_CAP_ACK: u32 = 4;
/// The engine may send events (`omv_fw_send_event`, stdout NOTIFYs, registrations).
pub const OMV_FW_CAP_EVENTS: u32 = 8;

/// Extra channel flags a static registration may add (the rest follow from the callbacks).
pub const OMV_FW_CHANNEL_EXEC: u8 = 1 << 2;
/// The channel carries frames with the stream header (PROTOCOL.md 6.1).
pub const OMV_FW_CHANNEL_STREAM: u8 = 1 << 4;

/// Fixed channel ids. A user channel takes the first free id from 1, so register the
/// built-ins first: a user channel registered before them takes their ids.
pub const OMV_FW_ID_STDIN: u8 = 1;
/// stdout, the script's output (`omv_fw_stdout_register`).
pub const OMV_FW_ID_STDOUT: u8 = 2;
/// stream, the latest frame (`omv_fw_stream_register`).
pub const OMV_FW_ID_STREAM: u8 = 3;
/// profile, for a C channel registered with `omv_fw_channel_register_static`.
pub const OMV_FW_ID_PROFILE: u8 = 4;

/// Event codes (PROTOCOL.md 5).
pub const OMV_FW_EVENT_NOTIFY: u16 = 0xFFFF;
/// System event (channel 0): a user channel was registered (queued by the engine).
pub const OMV_FW_EVENT_CHANNEL_REGISTERED: u16 = 0;
/// System event (channel 0): a user channel was unregistered (queued by the engine).
pub const OMV_FW_EVENT_CHANNEL_UNREGISTERED: u16 = 1;
/// System event (channel 0): the script ended and the protocol restarts; send it before
/// building the instance again, as the reference firmware does.
pub const OMV_FW_EVENT_SOFT_REBOOT: u16 = 2;

/// Stream pixel formats.
pub const OMV_FW_PIXFORMAT_GRAYSCALE: u32 = 0x0802_0001;
/// 2 bytes per pixel, a little-endian u16.
pub const OMV_FW_PIXFORMAT_RGB565: u32 = 0x0C03_0002;
/// A JPEG file of the frame's size.
pub const OMV_FW_PIXFORMAT_JPEG: u32 = 0x0606_0000;

/// `omv_fw_stdin_take_command` results.
pub const OMV_FW_STDIN_NONE: i32 = 0;
/// The host asked to run the uploaded script.
pub const OMV_FW_STDIN_EXEC: i32 = 1;
/// The host asked to stop the running script.
pub const OMV_FW_STDIN_STOP: i32 = 2;

/// Default packet buffer (the build's is set by the environment variable of that name); the
/// device's max_payload is at most the build's buffer minus 14.
pub const OMV_FW_PACKET_BUF: usize = 4096;

/// Engine settings. `omv_fw_config_default` fills the reference firmware's values.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Start-up capabilities, OMV_FW_CAP_* (restored by PROTO_SYNC).
    pub caps: u32,
    /// Largest payload, 50 to the packet buffer minus 14 (4082 at the default 4096); 0 means
    /// that maximum.
    pub max_payload: u16,
    /// Largest fragment of a channel read; 0 means max_payload. Fragments never exceed the
    /// transmit buffer minus 14 either (512 at the default `OMV_FW_TX_BUF`).
    pub read_fragment_size: u16,
    /// Retransmissions of an unacknowledged packet before giving up.
    pub retransmit_count: u8,
    /// First ACK timeout, doubled after each retransmission; at least 1.
    pub retransmit_timeout_ms: u32,
    /// A CHANNEL_LOCK within this many milliseconds of the last successful one answers BUSY
    /// (0: no limit).
    pub lock_interval_ms: u32,
}

/// Writes `len` bytes to the transport; returns 0, or a negative value on failure (the
/// device role counts it as a transport error in PROTO_STATS; the host role ignores it).
pub type WriteFn = Option<unsafe extern "C" fn(user: *mut c_void, data: *const u8, len: usize) -> i32>;
/// Hardware CRC-16 of `len` bytes (poly 0xF94F, init 0xFFFF, MSB-first, no final xor).
pub type Crc16Fn = Option<unsafe extern "C" fn(user: *mut c_void, data: *const u8, len: usize) -> u16>;
/// Hardware CRC-32 of `len` bytes (poly 0xFA567D89, init 0xFFFFFFFF, MSB-first, no final xor).
pub type Crc32Fn = Option<unsafe extern "C" fn(user: *mut c_void, data: *const u8, len: usize) -> u32>;

/// Callbacks fixed at initialisation.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Hooks {
    /// Required.
    pub write: WriteFn,
    /// Passed to `write`.
    pub write_user: *mut c_void,
    /// A hardware CRC unit: both or neither (then a software CRC with one 1 KiB table is
    /// used; a build with the `hw-crc` feature has no software CRC and requires both).
    pub crc16: Crc16Fn,
    /// The CRC-32 of the same unit.
    pub crc32: Crc32Fn,
    /// Passed to `crc16` and `crc32`.
    pub crc_user: *mut c_void,
}

/// A channel implemented in C. NULL entries are unsupported operations (the host gets NAK
/// INVALID): READ follows from `read` or `readp`, WRITE from `write`, LOCK from `lock`;
/// except that a NULL `unlock` always succeeds and a NULL `poll` has nothing to report.
/// Status results are OMV_FW_STATUS_*. The table must stay valid while the channel is
/// registered.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ChannelOps {
    /// Copies `len` bytes from `offset` into `buf`.
    pub read: Option<unsafe extern "C" fn(user: *mut c_void, offset: u32, buf: *mut u8, len: usize) -> i32>,
    /// Stores `len` bytes at `offset`.
    pub write: Option<unsafe extern "C" fn(user: *mut c_void, offset: u32, data: *const u8, len: usize) -> i32>,
    /// Lending read: a pointer to `len` bytes at `offset`, valid until the next call into the
    /// engine, or NULL (then `read` is tried). The engine copies them into its packet once,
    /// where `read` needs a copy out of the channel's storage first.
    pub readp: Option<unsafe extern "C" fn(user: *mut c_void, offset: u32, len: usize) -> *const u8>,
    /// Bytes the channel holds (CHANNEL_SIZE); reads past it are refused. NULL: no size, reads
    /// of any length are passed on.
    pub size: Option<unsafe extern "C" fn(user: *mut c_void) -> u32>,
    /// Writes up to 4 dimensions into `dims`; returns how many (0: none).
    pub shape: Option<unsafe extern "C" fn(user: *mut c_void, dims: *mut u32) -> usize>,
    /// Whether the channel has something for the host.
    pub poll: Option<unsafe extern "C" fn(user: *mut c_void) -> bool>,
    /// Takes the lock; false answers BUSY.
    pub lock: Option<unsafe extern "C" fn(user: *mut c_void) -> bool>,
    /// Releases the lock; false answers BUSY.
    pub unlock: Option<unsafe extern "C" fn(user: *mut c_void) -> bool>,
    /// A channel-specific request with `len` argument bytes.
    pub ioctl: Option<unsafe extern "C" fn(user: *mut c_void, request: u32, arg: *const u8, len: usize) -> i32>,
}

/// SYS_INFO fields (PROTOCOL.md 4.1).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct SysInfo {
    /// The CPU id (CPUID register on a Cortex-M).
    pub cpu_id: u32,
    /// The chip's unique device id.
    pub dev_id: [u32; 3],
    /// VID << 16 | PID.
    pub usb_id: u32,
    /// Chip ids of the detected image sensors (0: none).
    pub chip_id: [u32; 3],
    /// `hw_caps[0]` bits: 0 GPU, 1 NPU, 2 ISP, 3 video encoder, 4 JPEG encoder, 5 DRAM,
    /// 6 hardware CRC (set by the engine when CRC hooks are given), 7 PMU, 8-15 PMU event
    /// counters, 16 WiFi, 17 Bluetooth, 18 SD card, 19 Ethernet, 20 high-speed USB,
    /// 21 multi-core.
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

/// One SYS_MEMORY pool.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MemoryPool {
    /// 0 GC heap, 1 UMA pool.
    pub kind: u8,
    /// Pool flags, passed to the host as they are.
    pub flags: u16,
    /// Pool size in bytes.
    pub total: u32,
    /// Bytes in use.
    pub used: u32,
    /// Bytes free.
    pub free: u32,
    /// Bytes that stay allocated across scripts.
    pub persistent: u32,
    /// The most bytes in use so far.
    pub peak: u32,
}

/// Board information and actions; copied by `omv_fw_set_board`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BoardInfo {
    /// What SYS_INFO answers.
    pub info: SysInfo,
    /// PROTO_VERSION bootloader and firmware (major, minor, patch); the protocol is the
    /// engine's own, 1.0.2.
    pub bootloader_version: [u8; 3],
    /// The firmware's version (major, minor, patch).
    pub firmware_version: [u8; 3],
    /// SYS_MEMORY: fills up to `max` pools, returns how many. NULL: no pools.
    pub memory: Option<unsafe extern "C" fn(user: *mut c_void, out: *mut MemoryPool, max: usize) -> usize>,
    /// SYS_RESET (no answer is sent). NULL: ignored.
    pub reset: Option<unsafe extern "C" fn(user: *mut c_void)>,
    /// SYS_BOOT: enter the bootloader (no answer is sent). NULL: ignored.
    pub boot: Option<unsafe extern "C" fn(user: *mut c_void)>,
    /// Passed to `memory`, `reset` and `boot`.
    pub user: *mut c_void,
}

/// Link counters (PROTO_STATS) plus bytes the receive ring refused.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct LinkStats {
    /// Packets written through the write hook.
    pub sent: u32,
    /// Valid packets received.
    pub received: u32,
    /// Packets whose payload failed its CRC-32.
    pub checksum_errors: u32,
    /// Requests with another sequence number than expected.
    pub sequence_errors: u32,
    /// Packets sent again for want of an ACK.
    pub retransmits: u32,
    /// Failed writes of the write hook, plus one for each `omv_fw_poll` that found newly
    /// dropped receive bytes.
    pub transport_errors: u32,
    /// Events sent.
    pub events_sent: u32,
    /// Bytes `omv_fw_rx_push` could not queue (the ring was full).
    pub rx_dropped: u32,
}

/// State of the built-in stream channel.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct StreamStatus {
    /// A frame is published and not yet released by the host.
    pub ready: bool,
    /// The host holds the frame (between LOCK and UNLOCK).
    pub locked: bool,
    /// ioctl STREAM_CTRL as the host set it.
    pub streaming: bool,
    /// ioctl RAW_CTRL: the host wants raw frames rather than JPEG.
    pub raw: bool,
    /// ioctl RAW_CFG: the raw frame width the host asked for.
    pub raw_width: u32,
    /// ioctl RAW_CFG: the raw frame height the host asked for.
    pub raw_height: u32,
    /// ioctl SOURCE: the sensor's chip id the host asked to stream from.
    pub source: u32,
}
