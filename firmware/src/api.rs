//! The exported C functions. Every pointer is checked for NULL (an error code, never a crash);
//! beyond that, pointers must be valid as each function says.
//!
//! Threading: `omv_fw_rx_push` and `omv_fw_rx_space` may run in one interrupt handler (the
//! single producer); every other function belongs to the main loop and must not be called
//! from an interrupt. Callbacks must not call back into the same instance
//! (OMV_FW_ERR_REENTERED).

use core::ffi::{c_char, c_void};

use openmvproto::channels::{ChannelFlags, CHANNEL_NAME_MAX};

use crate::instance::{self, Ctx, Instance, STORAGE_ALIGN, STORAGE_SIZE};
use crate::types::*;

/// # Safety
/// `fw` is NULL or a live handle; main loop only.
#[inline(always)]
pub(crate) unsafe fn with(fw: *mut Instance, f: impl FnOnce(&mut Ctx<'_>) -> i32) -> i32 {
    // SAFETY: forwarded caller contract.
    unsafe { instance::enter(fw, f) }
}

/// A channel name: NUL-terminated, at most 13 bytes, ASCII (as the reference firmware's
/// names; a full UTF-8 check would cost more flash than the rest of this file).
///
/// # Safety
/// `name` is NULL or points to a NUL-terminated string (only up to 14 bytes are read).
unsafe fn name_str<'a>(name: *const c_char) -> Result<&'a str, i32> {
    if name.is_null() {
        return Err(OMV_FW_ERR_NULL);
    }
    let mut len = 0;
    loop {
        // SAFETY: reads stop at the terminating NUL, which the caller guarantees, or earlier.
        match unsafe { *name.cast::<u8>().add(len) } {
            0 => break,
            // ASCII checked here, byte by byte, rather than in a second pass.
            b if b.is_ascii() && len < CHANNEL_NAME_MAX => len += 1,
            _ => return Err(OMV_FW_ERR_NAME),
        }
    }
    // SAFETY: the `len` bytes before the NUL were just read, so they are valid.
    let bytes = unsafe { core::slice::from_raw_parts(name.cast::<u8>(), len) };
    // SAFETY: ASCII is valid UTF-8.
    Ok(unsafe { core::str::from_utf8_unchecked(bytes) })
}

/// A caller buffer that lives as long as the registration.
///
/// # Safety
/// `buf` is NULL or valid for reads and writes of `len` bytes, used by nobody else, for as
/// long as the instance may use it.
pub(crate) unsafe fn static_buf(buf: *mut u8, len: usize) -> Result<&'static mut [u8], i32> {
    if buf.is_null() {
        return Err(OMV_FW_ERR_NULL);
    }
    if len == 0 {
        return Err(OMV_FW_ERR_SIZE);
    }
    // SAFETY: caller contract above.
    Ok(unsafe { core::slice::from_raw_parts_mut(buf, len) })
}

/// Fills `out` with the reference firmware's settings: all capabilities, max payload 4082,
/// 512-byte read fragments, 3 retransmissions after 500 ms (doubling), lock interval 10 ms.
///
/// # Safety
/// `out` is NULL or valid for writing one `omv_fw_config_t`.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_config_default(out: *mut Config) -> i32 {
    if out.is_null() {
        return OMV_FW_ERR_NULL;
    }
    // SAFETY: non-NULL, and valid for writes by the caller's contract.
    unsafe { out.write(instance::default_config()) };
    OMV_FW_OK
}

/// Bytes of storage `omv_fw_init` needs (about 6 KiB at the default sizes: the 4096-byte
/// receive packet buffer, a 526-byte transmit buffer, the channel table; see `sizes`).
#[no_mangle]
pub extern "C" fn omv_fw_storage_size() -> usize {
    STORAGE_SIZE
}

/// Alignment the storage must have.
#[no_mangle]
pub extern "C" fn omv_fw_storage_align() -> usize {
    STORAGE_ALIGN
}

/// Builds an engine in `storage` (`size` bytes, aligned to `omv_fw_storage_align()`) and
/// returns its handle in `*out`. The engine is built in place in the storage: this call needs
/// under 128 B of stack, `omv_fw_poll` and the others under 1 KiB (measured in the emulated
/// cam, firmware/size/limits).
///
/// # Safety
/// `storage` is valid for `size` bytes and reserved for the instance as long as the handle
/// is used; `config` and `hooks` are NULL or valid; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_init(
    storage: *mut c_void,
    size: usize,
    config: *const Config,
    hooks: *const Hooks,
    out: *mut *mut Instance,
) -> i32 {
    if storage.is_null() || config.is_null() || hooks.is_null() || out.is_null() {
        return OMV_FW_ERR_NULL;
    }
    // SAFETY: the pointers are non-NULL and valid by the caller's contract.
    unsafe {
        match instance::init(storage.cast(), size, &*config, &*hooks) {
            Ok(fw) => {
                out.write(fw);
                OMV_FW_OK
            }
            Err(e) => e,
        }
    }
}

/// Sets what SYS_INFO, PROTO_VERSION, SYS_MEMORY, SYS_RESET and SYS_BOOT answer (copied).
///
/// # Safety
/// `fw` is NULL or a live handle; `board` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_set_board(fw: *mut Instance, board: *const BoardInfo) -> i32 {
    if board.is_null() {
        return OMV_FW_ERR_NULL;
    }
    // SAFETY: `board` is non-NULL and valid (caller contract), copied before returning.
    let info = unsafe { *board };
    // SAFETY: forwarded caller contract.
    unsafe {
        with(fw, |c| {
            c.set_board(&info);
            OMV_FW_OK
        })
    }
}

/// Registers a user channel in the first free slot from id 1 (id 4 beside stdin, stdout and
/// stream, as the reference firmware); returns its id. Queues a CHANNEL_REGISTERED event
/// when the host enabled events.
///
/// # Safety
/// `fw` is NULL or a live handle; `name` is NULL or a NUL-terminated string; `ops` is NULL or
/// a table valid until the channel is unregistered; `user` is passed back to the callbacks.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_channel_register(
    fw: *mut Instance,
    name: *const c_char,
    ops: *const ChannelOps,
    user: *mut c_void,
) -> i32 {
    // SAFETY: forwarded caller contracts.
    unsafe { register(fw, None, name, ops, user, 0) }
}

/// Registers a channel at a fixed id (1 stdin, 2 stdout, 3 stream, 4 profile); returns the
/// id. `extra_flags` may add OMV_FW_CHANNEL_EXEC and OMV_FW_CHANNEL_STREAM.
///
/// # Safety
/// As `omv_fw_channel_register`.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_channel_register_static(
    fw: *mut Instance,
    id: u8,
    name: *const c_char,
    ops: *const ChannelOps,
    user: *mut c_void,
    extra_flags: u8,
) -> i32 {
    // SAFETY: forwarded caller contracts.
    unsafe { register(fw, Some(id), name, ops, user, extra_flags) }
}

/// Both registrations: the argument checks once, then `Ctx::register_c`.
///
/// # Safety
/// As `omv_fw_channel_register`.
#[inline(never)]
unsafe fn register(
    fw: *mut Instance,
    id: Option<u8>,
    name: *const c_char,
    ops: *const ChannelOps,
    user: *mut c_void,
    extra_flags: u8,
) -> i32 {
    if ops.is_null() {
        return OMV_FW_ERR_NULL;
    }
    let extra = ChannelFlags::from_bits_truncate(extra_flags);
    // SAFETY: forwarded caller contracts.
    unsafe {
        let name = match name_str(name) {
            Ok(n) => n,
            Err(e) => return e,
        };
        with(fw, |c| c.register_c(id, name, ops, user, extra))
    }
}

/// Removes a channel (user channels queue CHANNEL_UNREGISTERED). Its buffers and callbacks
/// are no longer used afterwards.
///
/// # Safety
/// `fw` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_channel_unregister(fw: *mut Instance, id: u8) -> i32 {
    // SAFETY: forwarded caller contract.
    unsafe { with(fw, |c| c.unregister(id)) }
}

/// Interrupt-safe (single producer): queues received bytes for the next `omv_fw_poll`.
/// Returns how many fit; the rest are dropped, counted in `rx_dropped` byte by byte, and the
/// next `omv_fw_poll` counts one transport error for them.
///
/// # Safety
/// `fw` is NULL or a live handle; `data` is NULL or valid for `len` bytes. Only one context
/// (one interrupt handler, or the main loop) may push.
#[no_mangle]
#[inline(never)] // a function of its own in every build: the cost harness counts from its entry
pub unsafe extern "C" fn omv_fw_rx_push(fw: *mut Instance, data: *const u8, len: usize) -> i32 {
    if data.is_null() {
        return OMV_FW_ERR_NULL;
    }
    // SAFETY: caller contract: live handle, `len` readable bytes, sole producer.
    unsafe {
        match instance::rx_ring(fw) {
            Ok(rx) => rx.push(core::slice::from_raw_parts(data, len)) as i32,
            Err(e) => e,
        }
    }
}

/// Interrupt-safe: free bytes in the receive ring (a handler can leave a byte in the UART,
/// and mask its interrupt, rather than drop it).
///
/// # Safety
/// `fw` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_rx_space(fw: *mut Instance) -> i32 {
    // SAFETY: caller contract.
    match unsafe { instance::rx_ring(fw) } {
        Ok(rx) => rx.space() as i32,
        Err(e) => e,
    }
}

/// Main loop: feeds received bytes to the engine, writes its answers and events through the
/// write hook, and runs retransmission timers. `now_ms` is a free-running millisecond clock
/// (it may wrap around).
///
/// # Safety
/// `fw` is NULL or a live handle.
#[no_mangle]
#[inline(never)] // a function of its own in every build: the cost harness counts from its entry
pub unsafe extern "C" fn omv_fw_poll(fw: *mut Instance, now_ms: u32) -> i32 {
    // SAFETY: forwarded caller contract.
    unsafe {
        with(fw, |c| {
            c.poll(now_ms);
            OMV_FW_OK
        })
    }
}

/// Queues an event: channel 0 sends SYS_EVENT, others CHANNEL_EVENT; code
/// OMV_FW_EVENT_NOTIFY has no payload. `confirmed` asks the host to ACK it (only while the
/// host has the ack capability on). A repeat of the newest event still waiting on that
/// channel is merged into it (OMV_FW_OK; the waiting one's `confirmed` stands); each
/// channel's events reach the host in the order they were queued. Events still waiting when
/// the host turns events off are dropped.
///
/// # Safety
/// `fw` is NULL or a live handle.
#[no_mangle]
#[inline(never)] // a function of its own in every build: the cost harness counts from its entry
pub unsafe extern "C" fn omv_fw_send_event(fw: *mut Instance, channel: u8, code: u16, confirmed: bool) -> i32 {
    // SAFETY: forwarded caller contract.
    unsafe { with(fw, |c| c.event(channel, code, confirmed)) }
}

/// Copies the link counters.
///
/// # Safety
/// `fw` is NULL or a live handle; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_stats(fw: *mut Instance, out: *mut LinkStats) -> i32 {
    if out.is_null() {
        return OMV_FW_ERR_NULL;
    }
    // SAFETY: forwarded caller contract; `out` is non-NULL and writable.
    unsafe {
        with(fw, |c| {
            let s = c.engine.device.stats();
            out.write(LinkStats {
                sent: s.sent,
                received: s.received,
                checksum_errors: s.checksum_errors,
                sequence_errors: s.sequence_errors,
                retransmits: s.retransmits,
                transport_errors: s.transport_errors,
                events_sent: s.events,
                rx_dropped: c.rx.dropped(),
            });
            OMV_FW_OK
        })
    }
}
