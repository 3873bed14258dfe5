//! Buffer sizes, fixed at compile time. A board with less RAM sets them in the environment of
//! its build, e.g. `OMV_FW_PACKET_BUF=1024 cargo build ...`; `omv_fw_storage_size()` follows.

/// Receive packet buffer (the largest request the cam takes): max_payload is at most this - 14.
pub const PACKET_BUF: usize = env_or(option_env!("OMV_FW_PACKET_BUF"), 4096);
/// Transmit buffer: answers go out in packets of at most this many bytes, so channel reads
/// are sent in fragments of at most this - 14 (512 by default, as the reference firmware
/// sends copying reads). At least 526: a CHANNEL_LIST of 32 channels is rendered whole.
pub const TX_BUF: usize = env_or(option_env!("OMV_FW_TX_BUF"), 526);
/// Bytes the interrupt-side receive ring holds (a power of two).
pub const RX_RING: usize = env_or(option_env!("OMV_FW_RX_RING"), 128);
/// Channels implemented in C (`omv_fw_channel_register*`) registered at once beside the three
/// built-ins (more while a built-in is not registered: they share one table).
pub const C_CHANNELS: usize = env_or(option_env!("OMV_FW_C_CHANNELS"), 12);
/// Entries of the instance's channel table: the C channels and the three built-ins.
pub(crate) const CHANNELS: usize = C_CHANNELS + 3;

const _: () = assert!(RX_RING.is_power_of_two(), "OMV_FW_RX_RING must be a power of two");
// A bit per table entry in a u32, and no more channels than the registry has slots.
const _: () = assert!(CHANNELS <= 32, "OMV_FW_C_CHANNELS above 29");
const _: () = assert!(PACKET_BUF >= 64 && PACKET_BUF <= 65549, "OMV_FW_PACKET_BUF out of range");

/// A decimal number from the build environment, or `default` (evaluated at compile time only).
const fn env_or(value: Option<&str>, default: usize) -> usize {
    let Some(s) = value else { return default };
    let b = s.as_bytes();
    assert!(!b.is_empty(), "empty OMV_FW_* size");
    let (mut i, mut v) = (0, 0usize);
    while i < b.len() {
        assert!(b[i].is_ascii_digit(), "OMV_FW_* sizes are decimal numbers");
        v = v * 10 + (b[i] - b'0') as usize;
        i += 1;
    }
    v
}

/// Host role (`omv_fw_host_*`, feature `host`): receive packet buffer (the largest answer
/// packet taken; the wished max_payload is at most this - 14).
pub const HOST_PACKET_BUF: usize = env_or(option_env!("OMV_FW_HOST_PACKET_BUF"), 1024);
/// Host role: transmit buffer, one request of max_payload plus a few ACKs (at least 128).
pub const HOST_TX_BUF: usize = env_or(option_env!("OMV_FW_HOST_TX_BUF"), 1104);
/// Host role: device events held between two `omv_fw_host_poll` calls.
pub const HOST_EVENTS: usize = env_or(option_env!("OMV_FW_HOST_EVENTS"), 8);

const _: () = assert!(HOST_PACKET_BUF >= 64 && HOST_PACKET_BUF <= 65549, "OMV_FW_HOST_PACKET_BUF out of range");
const _: () = assert!(HOST_TX_BUF >= 128, "OMV_FW_HOST_TX_BUF below 128");
