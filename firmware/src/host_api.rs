//! The exported C functions of the host role (`omv_fw_host_*`, feature `host`): this cam asks
//! another cam (a device on a UART) for its channel list, info, channel data, writes, ioctls
//! and locks. One request at a time per instance; results and device events arrive through
//! callbacks from `omv_fw_host_poll`, which runs them outside the instance, so a callback may
//! start the next request. Every pointer is checked for NULL; beyond that, pointers must be
//! valid as each function says. Main loop only (one thread per instance).

use core::ffi::c_void;

use openmvproto::framing::payload::{ReadRequest, WriteRequest};
use openmvproto::framing::{ChannelId, Opcode, Status};
use openmvproto::host::{ByteBuf, MachineError, Outcome, RequestError, StartError, ANSWER_LIMIT};

use crate::host_instance::{
    self, HostEngine, HostInstance, RawBuf, HOST_MAX_PAYLOAD, HOST_STORAGE_ALIGN, HOST_STORAGE_SIZE,
};
use crate::types::*;

/// A request is in flight (one at a time per instance).
pub const OMV_FW_HOST_ERR_BUSY: i32 = -20;
/// Results (`omv_fw_host_result_t.result`): the device answered NAK (`nak_status` says why).
pub const OMV_FW_HOST_NAK: i32 = -21;
/// No answer, or no next fragment, within the configured timeout.
pub const OMV_FW_HOST_TIMEOUT: i32 = -22;
/// An answer that belongs to another request.
pub const OMV_FW_HOST_UNEXPECTED: i32 = -23;
/// A resync cut the request short.
pub const OMV_FW_HOST_ABORTED: i32 = -24;
/// The device's capabilities answer was malformed.
pub const OMV_FW_HOST_BAD_CAPS: i32 = -25;
/// The answer was longer than the request asked for.
pub const OMV_FW_HOST_TOO_LONG: i32 = -26;
/// The device's sequence counter is out of step (it restarted): resync.
pub const OMV_FW_HOST_SEQUENCE: i32 = -27;
/// The device announced a soft reboot while the request was in flight.
pub const OMV_FW_HOST_RESET: i32 = -28;
/// The answer did not fit the caller's buffer (its first `len` bytes are there).
pub const OMV_FW_HOST_ANSWER_FULL: i32 = -29;

/// Host settings; `omv_fw_host_config_default` fills them.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct HostConfigC {
    /// Capabilities a resync asks for, OMV_FW_CAP_*.
    pub caps: u32,
    /// Largest payload asked for; 0 means the largest the instance holds (1010 at the
    /// default OMV_FW_HOST_PACKET_BUF of 1024).
    pub max_payload: u16,
    /// Wait for an answer, or its next fragment, at most this long (at least 1).
    pub timeout_ms: u32,
}

/// The result of a request.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct HostResult {
    /// 0 (an ACK, or data of `len` bytes), or OMV_FW_HOST_* < 0.
    pub result: i32,
    /// With OMV_FW_HOST_NAK: the device's status (OMV_FW_STATUS_*).
    pub nak_status: u16,
    /// The request's opcode and channel (also for the request a resync cut short,
    /// OMV_FW_HOST_ABORTED); opcode 0 and channel 0 for the resync itself.
    pub opcode: u8,
    pub channel: u8,
    /// Answer bytes in the caller's buffer `data`.
    pub len: usize,
    pub data: *const u8,
}

/// A request finished (`result` is valid during the call only).
pub type CompleteFn = Option<unsafe extern "C" fn(user: *mut c_void, result: *const HostResult)>;
/// The device sent an event (`code` 0xFFFF: NOTIFY without payload).
pub type EventFn = Option<unsafe extern "C" fn(user: *mut c_void, channel: u8, code: u16)>;

/// Callbacks fixed at initialisation.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct HostHooks {
    /// Required: writes to the link towards the device (blocking).
    pub write: WriteFn,
    pub write_user: *mut c_void,
    /// A hardware CRC unit: both or neither (as in `omv_fw_hooks_t`).
    pub crc16: Crc16Fn,
    pub crc32: Crc32Fn,
    pub crc_user: *mut c_void,
    pub on_complete: CompleteFn,
    pub on_event: EventFn,
    /// Passed to `on_complete` and `on_event`.
    pub user: *mut c_void,
}

/// Fills `out`: all capabilities, the largest payload the instance holds, 1000 ms timeout.
///
/// # Safety
/// `out` is NULL or valid for writing one `omv_fw_host_config_t`.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_host_config_default(out: *mut HostConfigC) -> i32 {
    if out.is_null() {
        return OMV_FW_ERR_NULL;
    }
    let c = HostConfigC { caps: 0xF, max_payload: 0, timeout_ms: 1000 };
    // SAFETY: non-NULL, and valid for writes by the caller's contract.
    unsafe { out.write(c) };
    OMV_FW_OK
}

/// Bytes of storage `omv_fw_host_init` needs (the receive packet buffer, the transmit
/// buffer, the event ring; see `sizes`).
#[no_mangle]
pub extern "C" fn omv_fw_host_storage_size() -> usize {
    HOST_STORAGE_SIZE
}

/// Alignment the storage must have.
#[no_mangle]
pub extern "C" fn omv_fw_host_storage_align() -> usize {
    HOST_STORAGE_ALIGN
}

/// The largest request payload the instance sends (a write carries 8 bytes less data).
#[no_mangle]
pub extern "C" fn omv_fw_host_max_payload() -> usize {
    HOST_MAX_PAYLOAD
}

/// Builds a host instance in `storage` (`size` bytes, aligned to
/// `omv_fw_host_storage_align()`) and returns its handle in `*out`. Start with
/// `omv_fw_host_resync`, which negotiates the capabilities.
///
/// # Safety
/// `storage` is valid for `size` bytes and reserved for the instance as long as the handle
/// is used; `config` and `hooks` are NULL or valid; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_host_init(
    storage: *mut c_void,
    size: usize,
    config: *const HostConfigC,
    hooks: *const HostHooks,
    out: *mut *mut HostInstance,
) -> i32 {
    if storage.is_null() || config.is_null() || hooks.is_null() || out.is_null() {
        return OMV_FW_ERR_NULL;
    }
    // SAFETY: the pointers are non-NULL and valid by the caller's contract.
    unsafe {
        match host_instance::init(storage.cast(), size, &*config, &*hooks) {
            Ok(h) => {
                out.write(h);
                OMV_FW_OK
            }
            Err(e) => e,
        }
    }
}

/// # Safety
/// `h` is NULL or a live handle; one thread.
unsafe fn with(h: *mut HostInstance, mut f: impl FnMut(&mut HostEngine) -> i32) -> i32 {
    // SAFETY: forwarded caller contract.
    unsafe { host_instance::enter(h, &mut f) }
}

fn start_error(e: StartError) -> i32 {
    match e {
        StartError::Busy => OMV_FW_HOST_ERR_BUSY,
        StartError::TooLarge => OMV_FW_ERR_SIZE,
    }
}

/// Starts a request whose answer goes into `answer` (`cap` bytes).
///
/// # Safety
/// `h` NULL or live; `answer` NULL (no data expected) or valid for `cap` bytes until the
/// completion; `payload` is a live slice.
unsafe fn start(
    h: *mut HostInstance,
    opcode: Opcode,
    channel: u8,
    payload: &[u8],
    limit: usize,
    answer: *mut u8,
    cap: usize,
) -> i32 {
    // SAFETY: forwarded caller contract.
    unsafe {
        with(h, |e| {
            if e.machine.is_busy() {
                return OMV_FW_HOST_ERR_BUSY;
            }
            // SAFETY: the caller keeps `answer` valid for `cap` bytes until the completion.
            *e.machine.answer_mut() = RawBuf::new(answer, cap);
            let now = e.now;
            match e.machine.start(now, opcode, ChannelId(channel), payload, limit) {
                Ok(()) => {
                    e.started = (opcode.0, channel);
                    e.flush();
                    OMV_FW_OK
                }
                Err(err) => {
                    *e.machine.answer_mut() = RawBuf::EMPTY;
                    start_error(err)
                }
            }
        })
    }
}

/// # Safety
/// `p` is NULL (then `len` must be 0) or valid for reads of `len` bytes.
unsafe fn bytes<'a>(p: *const u8, len: usize) -> Result<&'a [u8], i32> {
    match (p.is_null(), len) {
        (_, 0) => Ok(&[]),
        (true, _) => Err(OMV_FW_ERR_NULL),
        // SAFETY: caller contract.
        (false, n) => Ok(unsafe { core::slice::from_raw_parts(p, n) }),
    }
}

/// Resynchronises with the device (PROTO_SYNC, GET_CAPS, SET_CAPS from the configured wish).
/// A request in flight completes first, with OMV_FW_HOST_ABORTED and its own opcode and
/// channel; then the resync completes (opcode 0): 0 once the link is set up, else
/// OMV_FW_HOST_TIMEOUT, _NAK or _BAD_CAPS. Each `omv_fw_host_poll` delivers one completion.
///
/// # Safety
/// `h` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_host_resync(h: *mut HostInstance) -> i32 {
    // SAFETY: forwarded caller contract.
    unsafe {
        with(h, |e| {
            let now = e.now;
            // A request in flight keeps its tag for the ABORTED completion; the resync's own
            // completion then finds (0, 0).
            if !e.machine.is_busy() {
                e.started = (0, 0);
            }
            e.machine.resync(now);
            // An aborted request's buffer is the caller's again: nothing more goes into it.
            *e.machine.answer_mut() = RawBuf::EMPTY;
            e.flush();
            OMV_FW_OK
        })
    }
}

/// Any request: `payload` as the protocol defines it for `opcode`; the answer (at most
/// `cap` bytes) goes into `answer`.
///
/// # Safety
/// `h` NULL or live; `payload` NULL or valid for `len` bytes (copied before returning);
/// `answer` NULL or valid for `cap` bytes, untouched by the caller until the completion.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_host_request(
    h: *mut HostInstance,
    opcode: u8,
    channel: u8,
    payload: *const u8,
    len: usize,
    answer: *mut u8,
    cap: usize,
) -> i32 {
    // SAFETY: caller contract.
    let p = match unsafe { bytes(payload, len) } {
        Ok(p) => p,
        Err(e) => return e,
    };
    let limit = match (Opcode(opcode), p.get(4..8)) {
        (Opcode::CHANNEL_READ, Some(&[a, b, c, d])) => u32::from_le_bytes([a, b, c, d]) as usize,
        _ => ANSWER_LIMIT,
    };
    // SAFETY: forwarded caller contract.
    unsafe { start(h, Opcode(opcode), channel, p, limit, answer, cap) }
}

/// CHANNEL_LIST: 16-byte entries (id, flags, name) into `answer`.
///
/// # Safety
/// As `omv_fw_host_request`.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_host_list(h: *mut HostInstance, answer: *mut u8, cap: usize) -> i32 {
    // SAFETY: forwarded caller contract.
    unsafe { start(h, Opcode::CHANNEL_LIST, 0, &[], ANSWER_LIMIT, answer, cap) }
}

/// SYS_INFO: the device's 76-byte system information into `answer`.
///
/// # Safety
/// As `omv_fw_host_request`.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_host_info(h: *mut HostInstance, answer: *mut u8, cap: usize) -> i32 {
    // SAFETY: forwarded caller contract.
    unsafe { start(h, Opcode::SYS_INFO, 0, &[], ANSWER_LIMIT, answer, cap) }
}

/// CHANNEL_SIZE: the channel's size, a u32 little endian, into `answer` (4 bytes).
///
/// # Safety
/// As `omv_fw_host_request`.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_host_size(h: *mut HostInstance, channel: u8, answer: *mut u8, cap: usize) -> i32 {
    // SAFETY: forwarded caller contract.
    unsafe { start(h, Opcode::CHANNEL_SIZE, channel, &[], ANSWER_LIMIT, answer, cap) }
}

/// CHANNEL_READ of `length` bytes from `offset` into `answer` (`cap` bytes; the device
/// answers in fragments, joined in place).
///
/// # Safety
/// As `omv_fw_host_request`.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_host_read(
    h: *mut HostInstance,
    channel: u8,
    offset: u32,
    length: u32,
    answer: *mut u8,
    cap: usize,
) -> i32 {
    let p = ReadRequest { offset, length }.to_bytes();
    // SAFETY: forwarded caller contract.
    unsafe { start(h, Opcode::CHANNEL_READ, channel, &p, length as usize, answer, cap) }
}

/// CHANNEL_WRITE of `len` bytes at `offset` (copied before returning): at most the link's
/// payload (`omv_fw_host_link_max_payload()`, set by the resync, never above
/// `omv_fw_host_max_payload()`) minus 8, else OMV_FW_ERR_SIZE. Uses about that many bytes of
/// stack.
///
/// # Safety
/// `h` NULL or live; `data` NULL or valid for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_host_write(
    h: *mut HostInstance,
    channel: u8,
    offset: u32,
    data: *const u8,
    len: usize,
) -> i32 {
    // SAFETY: caller contract.
    let d = match unsafe { bytes(data, len) } {
        Ok(d) => d,
        Err(e) => return e,
    };
    let mut payload = [0u8; HOST_MAX_PAYLOAD];
    let n = WriteRequest::PREFIX + d.len();
    let Some(dst) = payload.get_mut(..n) else { return OMV_FW_ERR_SIZE };
    dst[..WriteRequest::PREFIX].copy_from_slice(&WriteRequest::prefix(offset, d.len() as u32));
    dst[WriteRequest::PREFIX..].copy_from_slice(d);
    // SAFETY: forwarded caller contract; no answer data is expected.
    unsafe { start(h, Opcode::CHANNEL_WRITE, channel, &payload[..n], 0, core::ptr::null_mut(), 0) }
}

/// CHANNEL_IOCTL `request` with `len` argument bytes (copied before returning).
///
/// # Safety
/// `h` NULL or live; `arg` NULL or valid for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_host_ioctl(
    h: *mut HostInstance,
    channel: u8,
    request: u32,
    arg: *const u8,
    len: usize,
) -> i32 {
    // SAFETY: caller contract.
    let a = match unsafe { bytes(arg, len) } {
        Ok(a) => a,
        Err(e) => return e,
    };
    let mut payload = [0u8; HOST_MAX_PAYLOAD];
    let Some(dst) = payload.get_mut(..4 + a.len()) else { return OMV_FW_ERR_SIZE };
    dst[..4].copy_from_slice(&request.to_le_bytes());
    dst[4..].copy_from_slice(a);
    // SAFETY: forwarded caller contract.
    unsafe { start(h, Opcode::CHANNEL_IOCTL, channel, &payload[..4 + a.len()], 0, core::ptr::null_mut(), 0) }
}

/// CHANNEL_LOCK (a stream frame: held until unlocked).
///
/// # Safety
/// `h` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_host_lock(h: *mut HostInstance, channel: u8) -> i32 {
    // SAFETY: forwarded caller contract.
    unsafe { start(h, Opcode::CHANNEL_LOCK, channel, &[], 0, core::ptr::null_mut(), 0) }
}

/// CHANNEL_UNLOCK.
///
/// # Safety
/// `h` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_host_unlock(h: *mut HostInstance, channel: u8) -> i32 {
    // SAFETY: forwarded caller contract.
    unsafe { start(h, Opcode::CHANNEL_UNLOCK, channel, &[], 0, core::ptr::null_mut(), 0) }
}

/// Bytes received from the device (any chunking). ACKs owed go out at once through the
/// write hook; results and events wait for `omv_fw_host_poll`.
///
/// # Safety
/// `h` NULL or live; `data` NULL or valid for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_host_input(h: *mut HostInstance, data: *const u8, len: usize) -> i32 {
    // SAFETY: caller contract.
    let d = match unsafe { bytes(data, len) } {
        Ok(d) => d,
        Err(e) => return e,
    };
    // SAFETY: forwarded caller contract.
    unsafe {
        with(h, |e| {
            let now = e.now;
            e.machine.handle_input(now, d);
            e.flush();
            OMV_FW_OK
        })
    }
}

fn result_code(e: MachineError) -> (i32, u16) {
    match e {
        MachineError::AnswerFull => (OMV_FW_HOST_ANSWER_FULL, 0),
        MachineError::Request(r) => match r {
            RequestError::Nak(s) => (OMV_FW_HOST_NAK, status_code(s)),
            RequestError::Timeout => (OMV_FW_HOST_TIMEOUT, 0),
            RequestError::Unexpected => (OMV_FW_HOST_UNEXPECTED, 0),
            RequestError::Aborted => (OMV_FW_HOST_ABORTED, 0),
            RequestError::BadCaps => (OMV_FW_HOST_BAD_CAPS, 0),
            RequestError::TooLong => (OMV_FW_HOST_TOO_LONG, 0),
            RequestError::Sequence => (OMV_FW_HOST_SEQUENCE, 0),
            RequestError::Reset => (OMV_FW_HOST_RESET, 0),
        },
    }
}

fn status_code(s: Status) -> u16 {
    s as u16
}

/// Advances the clock to `now_ms`, fails a request whose deadline passed, then calls
/// `on_event` for each event received and `on_complete` for a finished request (outside the
/// instance: they may start requests). Returns the number of events and completions taken,
/// whether or not their callback is set.
///
/// # Safety
/// `h` is NULL or a live handle; the callbacks follow their contracts.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_host_poll(h: *mut HostInstance, now_ms: u32) -> i32 {
    let mut hooks = None;
    // SAFETY: forwarded caller contract.
    let rc = unsafe {
        with(h, |e| {
            e.tick(now_ms);
            let now = e.now;
            if e.machine.poll_at().is_some_and(|t| t <= now) {
                e.machine.handle_timeout(now);
            }
            e.flush();
            hooks = Some(e.hooks);
            OMV_FW_OK
        })
    };
    let Some(hooks) = hooks else { return rc };
    let mut calls = 0;
    loop {
        let mut ev = None;
        // SAFETY: as above.
        unsafe {
            with(h, |e| {
                ev = e.machine.poll_event();
                OMV_FW_OK
            })
        };
        let Some(ev) = ev else { break };
        calls += 1;
        if let Some(f) = hooks.on_event {
            // SAFETY: the hook's contract; it may call back into the instance.
            unsafe { f(hooks.user, ev.channel.0, ev.code) };
        }
    }
    let mut done = None;
    // SAFETY: as above.
    unsafe {
        with(h, |e| {
            if let Some(r) = e.machine.poll_completion() {
                let (opcode, channel) = core::mem::take(&mut e.started);
                let ans = e.machine.answer();
                let (result, nak_status, len) = match r {
                    Ok(Outcome::Ack) => (OMV_FW_OK, 0, 0),
                    Ok(Outcome::Data(n)) => (OMV_FW_OK, 0, n),
                    Err(err) => {
                        let (c, s) = result_code(err);
                        (c, s, ans.len())
                    }
                };
                done = Some(HostResult { result, nak_status, opcode, channel, len, data: ans.as_ptr() });
                *e.machine.answer_mut() = RawBuf::EMPTY;
            }
            OMV_FW_OK
        })
    };
    if let Some(r) = done {
        calls += 1;
        if let Some(f) = hooks.on_complete {
            // SAFETY: `r` lives for the call; the hook may call back into the instance.
            unsafe { f(hooks.user, &r) };
        }
    }
    calls
}

/// 1 while a request (or resync) is in flight, 0 if not, < 0 on a bad handle. 0 comes as
/// soon as the answer is in, before `omv_fw_host_poll` delivers it: start the next request
/// from `on_complete` or after that poll, or the undelivered completion is lost.
///
/// # Safety
/// `h` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_host_busy(h: *mut HostInstance) -> i32 {
    // SAFETY: forwarded caller contract.
    unsafe { with(h, |e| i32::from(e.machine.is_busy())) }
}

/// The max_payload in force on the link (after a resync: min(device, wish)).
///
/// # Safety
/// `h` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_host_link_max_payload(h: *mut HostInstance) -> i32 {
    // SAFETY: forwarded caller contract.
    unsafe { with(h, |e| i32::from(e.machine.caps().max_payload)) }
}
