//! The exported C functions of the built-in channels: stdin (script upload), stdout (text
//! ring) and stream (one frame). Same conventions as `api`.

use openmvproto::framing::payload::{event, PixFormat};

use crate::api::{static_buf, with};
use crate::instance::Instance;
use crate::types::*;

/// Registers the built-in stdin (id 1): a script upload buffer of `len` bytes with the
/// EXEC / STOP / RESET ioctls.
///
/// # Safety
/// `fw` is NULL or a live handle; `buf` is NULL or `len` bytes reserved for the channel
/// until it is unregistered.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_stdin_register(fw: *mut Instance, buf: *mut u8, len: usize) -> i32 {
    // SAFETY: forwarded caller contracts.
    unsafe { builtin(fw, OMV_FW_ID_STDIN, buf, len) }
}

/// Registers the built-in stdout (id 2): a ring of `len` bytes, oldest text dropped.
///
/// # Safety
/// As `omv_fw_stdin_register`.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_stdout_register(fw: *mut Instance, buf: *mut u8, len: usize) -> i32 {
    // SAFETY: forwarded caller contracts.
    unsafe { builtin(fw, OMV_FW_ID_STDOUT, buf, len) }
}

/// Registers the built-in stream (id 3): one frame of up to `len - 32` data bytes.
///
/// # Safety
/// As `omv_fw_stdin_register`.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_stream_register(fw: *mut Instance, buf: *mut u8, len: usize) -> i32 {
    // SAFETY: forwarded caller contracts.
    unsafe { builtin(fw, OMV_FW_ID_STREAM, buf, len) }
}

/// # Safety
/// As `omv_fw_stdin_register`.
unsafe fn builtin(fw: *mut Instance, id: u8, buf: *mut u8, len: usize) -> i32 {
    // SAFETY: forwarded caller contracts.
    unsafe {
        let buf = match static_buf(buf, len) {
            Ok(b) => b,
            Err(e) => return e,
        };
        with(fw, |c| c.register_builtin(id, buf))
    }
}

/// Takes the host's pending stdin request: OMV_FW_STDIN_NONE, OMV_FW_STDIN_EXEC (with the
/// script length in `*len`, if `len` is not NULL) or OMV_FW_STDIN_STOP.
///
/// # Safety
/// `fw` is NULL or a live handle; `len` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_stdin_take_command(fw: *mut Instance, len: *mut u32) -> i32 {
    use openmvproto::channels::ScriptCommand;
    // SAFETY: forwarded caller contract; `len` is checked for NULL before writing.
    unsafe {
        with(fw, |c| match c.stdin().map(|s| s.take_command()) {
            None => OMV_FW_ERR_STATE,
            Some(None) => OMV_FW_STDIN_NONE,
            Some(Some(ScriptCommand::Stop)) => OMV_FW_STDIN_STOP,
            Some(Some(ScriptCommand::Exec { len: n })) => {
                if !len.is_null() {
                    len.write(n as u32);
                }
                OMV_FW_STDIN_EXEC
            }
        })
    }
}

/// The uploaded script (valid until the next call into the engine), length in `*len`.
/// NULL if stdin is not registered or an argument is NULL.
///
/// # Safety
/// `fw` is NULL or a live handle; `len` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_stdin_script(fw: *mut Instance, len: *mut usize) -> *const u8 {
    if len.is_null() {
        return core::ptr::null();
    }
    let mut p = core::ptr::null();
    // SAFETY: forwarded caller contract; `len` is non-NULL and writable.
    unsafe {
        with(fw, |c| match c.stdin() {
            Some(s) => {
                len.write(s.script().len());
                p = s.script().as_ptr();
                OMV_FW_OK
            }
            None => OMV_FW_ERR_STATE,
        })
    };
    p
}

/// Tells the host whether a script runs (CHANNEL_POLL bit, stdin event 1 started / 0 stopped).
///
/// # Safety
/// `fw` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_stdin_set_running(fw: *mut Instance, running: bool) -> i32 {
    // SAFETY: forwarded caller contract.
    unsafe {
        with(fw, |c| {
            let Some(s) = c.stdin() else { return OMV_FW_ERR_STATE };
            s.set_running(running);
            let code = if running { event::SCRIPT_STARTED } else { event::SCRIPT_STOPPED };
            let _ = c.event(OMV_FW_ID_STDIN, code, false);
            OMV_FW_OK
        })
    }
}

/// Appends text to stdout; returns the bytes taken (all; the oldest text is dropped when the
/// ring overflows). Queues NOTIFY when this write fills the ring past half, as the reference
/// firmware; `omv_fw_poll` queues one every 50 ms while the ring holds text.
///
/// # Safety
/// `fw` is NULL or a live handle; `data` is NULL or valid for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_stdout_write(fw: *mut Instance, data: *const u8, len: usize) -> i32 {
    if data.is_null() {
        return OMV_FW_ERR_NULL;
    }
    // SAFETY: `data` is valid for `len` bytes (caller contract).
    let text = unsafe { core::slice::from_raw_parts(data, len) };
    // SAFETY: forwarded caller contract.
    unsafe {
        with(fw, |c| {
            let Some(s) = c.stdout() else { return OMV_FW_ERR_STATE };
            let was_half_full = s.half_full();
            s.push(text);
            if s.half_full() && !was_half_full {
                c.stdout_notify();
            }
            len.min(i32::MAX as usize) as i32
        })
    }
}

/// Room for the next frame's pixel data (capacity in `*cap`), or NULL while the host holds
/// the current frame (or if stream is not registered, or its buffer is shorter than the
/// 32-byte frame header). Taking it withdraws the current frame until `omv_fw_stream_publish`.
///
/// # Safety
/// `fw` is NULL or a live handle; `cap` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_stream_frame(fw: *mut Instance, cap: *mut usize) -> *mut u8 {
    if cap.is_null() {
        return core::ptr::null_mut();
    }
    let mut p = core::ptr::null_mut();
    // SAFETY: forwarded caller contract; `cap` is non-NULL and writable.
    unsafe {
        with(fw, |c| {
            let Some(buf) = c.stream().and_then(|s| s.pixels_mut()) else { return OMV_FW_ERR_STATE };
            cap.write(buf.len());
            p = buf.as_mut_ptr();
            OMV_FW_OK
        })
    };
    p
}

/// Publishes the frame whose `data_len` bytes were written into `omv_fw_stream_frame`'s
/// buffer, and queues the stream's NOTIFY event. OMV_FW_ERR_STATE if stream is not
/// registered, the host holds the current frame, or `data_len` exceeds the buffer.
///
/// # Safety
/// `fw` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_stream_publish(
    fw: *mut Instance,
    width: u32,
    height: u32,
    pixformat: u32,
    data_len: usize,
    fps: f32,
) -> i32 {
    // SAFETY: forwarded caller contract.
    unsafe {
        with(fw, |c| {
            let Some(s) = c.stream() else { return OMV_FW_ERR_STATE };
            if s.publish(width, height, PixFormat(pixformat), data_len, fps).is_err() {
                return OMV_FW_ERR_STATE;
            }
            let _ = c.event(OMV_FW_ID_STREAM, event::NOTIFY, false);
            OMV_FW_OK
        })
    }
}

/// Copies the stream channel's state.
///
/// # Safety
/// `fw` is NULL or a live handle; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_stream_status(fw: *mut Instance, out: *mut StreamStatus) -> i32 {
    if out.is_null() {
        return OMV_FW_ERR_NULL;
    }
    // SAFETY: forwarded caller contract; `out` is non-NULL and writable.
    unsafe {
        with(fw, |c| {
            let Some(s) = c.stream() else { return OMV_FW_ERR_STATE };
            let (raw, w, h) = s.raw_config();
            out.write(StreamStatus {
                ready: s.is_ready(),
                locked: s.is_locked(),
                streaming: s.streaming(),
                raw,
                raw_width: w,
                raw_height: h,
                source: s.source(),
            });
            OMV_FW_OK
        })
    }
}
