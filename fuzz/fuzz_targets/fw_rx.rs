//! The cam's C API (`openmvproto-firmware`, as C firmware calls it): any bytes through the
//! interrupt-side ring in any chunking, interleaved with the main loop's own calls (stdout
//! prints, frames published, user channels registered and removed), must neither crash nor
//! over-read (the sanitizer sees the caller storage and the channel buffers), every call
//! answers a documented code, and every packet written is a whole, bounded packet.
#![no_main]

use core::ffi::c_void;
use core::ptr::null_mut;

use libfuzzer_sys::fuzz_target;
use openmvproto::framing::{HEADER_LEN, PAYLOAD_CRC_LEN, SYNC};
use openmvproto_firmware::api::*;
use openmvproto_firmware::api_builtins::*;
use openmvproto_firmware::sizes::TX_BUF;
use openmvproto_firmware::types::*;

unsafe extern "C" fn pattern_read(_: *mut c_void, off: u32, buf: *mut u8, len: usize) -> i32 {
    // SAFETY: the engine passes `len` writable bytes at `buf`.
    let buf = unsafe { core::slice::from_raw_parts_mut(buf, len) };
    for (i, b) in buf.iter_mut().enumerate() {
        *b = (off as usize + i) as u8;
    }
    OMV_FW_STATUS_SUCCESS
}

unsafe extern "C" fn pattern_size(_: *mut c_void) -> u32 {
    3000
}

unsafe extern "C" fn accept_write(_: *mut c_void, _: u32, data: *const u8, len: usize) -> i32 {
    // SAFETY: the engine passes `len` readable bytes; touching them lets the sanitizer check.
    let data = unsafe { core::slice::from_raw_parts(data, len) };
    if data.iter().fold(0u8, |a, &b| a ^ b) == 0xA5 {
        OMV_FW_STATUS_BUSY
    } else {
        OMV_FW_STATUS_SUCCESS
    }
}

unsafe extern "C" fn yes(_: *mut c_void) -> bool {
    true
}

static OPS: ChannelOps = ChannelOps {
    read: Some(pattern_read),
    write: Some(accept_write),
    readp: None,
    size: Some(pattern_size),
    shape: None,
    poll: Some(yes),
    lock: Some(yes),
    unlock: Some(yes),
    ioctl: None,
};

/// Packets the cam wrote: each must be whole (the hook is called once per packet).
unsafe extern "C" fn check_packet(_: *mut c_void, data: *const u8, len: usize) -> i32 {
    assert!((HEADER_LEN..=TX_BUF).contains(&len), "packet of {len} bytes");
    // SAFETY: the engine passes `len` readable bytes.
    let pkt = unsafe { core::slice::from_raw_parts(data, len) };
    assert_eq!(pkt[..2], SYNC);
    let length = u16::from_le_bytes([pkt[6], pkt[7]]) as usize;
    assert_eq!(len, if length == 0 { HEADER_LEN } else { HEADER_LEN + length + PAYLOAD_CRC_LEN });
    0
}

fn ok_or_error(rc: i32) {
    assert!((OMV_FW_ERR_STATE..=OMV_FW_OK).contains(&rc), "undocumented code {rc}");
}

fuzz_target!(|data: &[u8]| {
    let Some((&knobs, mut rest)) = data.split_first() else { return };
    let mut storage = vec![0u64; omv_fw_storage_size().div_ceil(8)];
    let (mut stdin, mut stdout, mut stream) = (vec![0u8; 300], vec![0u8; 128], vec![0u8; 400]);
    let mut fw = null_mut();
    // SAFETY: every pointer is valid for the call; storage and buffers outlive the handle's use;
    // all-zero bytes are a valid `Config` (integers only), filled in before use.
    unsafe {
        let mut cfg = core::mem::zeroed::<Config>();
        assert_eq!(omv_fw_config_default(&mut cfg), OMV_FW_OK);
        cfg.caps = u32::from(knobs & 0x0F);
        cfg.read_fragment_size = 50 + u16::from(knobs) * 3;
        let hooks =
            Hooks { write: Some(check_packet), write_user: null_mut(), crc16: None, crc32: None, crc_user: null_mut() };
        let size = storage.len() * 8;
        assert_eq!(omv_fw_init(storage.as_mut_ptr().cast(), size, &cfg, &hooks, &mut fw), OMV_FW_OK);
        assert_eq!(omv_fw_stdin_register(fw, stdin.as_mut_ptr(), stdin.len()), 1);
        assert_eq!(omv_fw_stdout_register(fw, stdout.as_mut_ptr(), stdout.len()), 2);
        assert_eq!(omv_fw_stream_register(fw, stream.as_mut_ptr(), stream.len()), 3);
        assert_eq!(omv_fw_channel_register(fw, c"pattern".as_ptr(), &OPS, null_mut()), 4);
    }
    let names = [c"u0", c"u1", c"u2"];
    let mut now = 0u32;
    while let Some((&op, tail)) = rest.split_first() {
        rest = tail;
        now = now.wrapping_add(u32::from(op & 0x1F) * 5);
        // SAFETY: `fw` is live; every pointer passed is valid for the call.
        unsafe {
            match op >> 5 {
                // Received bytes, as an interrupt handler pushes them, then the main loop.
                0..=3 => {
                    let n = (1 + usize::from(op & 0x7F)).min(rest.len());
                    let (bytes, tail) = rest.split_at(n);
                    rest = tail;
                    let took = omv_fw_rx_push(fw, bytes.as_ptr(), bytes.len());
                    assert!((0..=n as i32).contains(&took));
                    ok_or_error(omv_fw_poll(fw, now));
                }
                // 6 bytes taken, or stdout is no longer registered.
                4 => assert!(matches!(omv_fw_stdout_write(fw, b"print\n".as_ptr(), 6), 6 | OMV_FW_ERR_STATE)),
                5 => {
                    let mut cap = 0;
                    let px = omv_fw_stream_frame(fw, &mut cap);
                    if !px.is_null() {
                        let n = cap.min(64);
                        core::slice::from_raw_parts_mut(px, n).fill(op);
                        ok_or_error(omv_fw_stream_publish(fw, 8, n as u32 / 8, OMV_FW_PIXFORMAT_GRAYSCALE, n, 25.0));
                    }
                }
                6 => {
                    let name = names[usize::from(op) % names.len()];
                    // The channel's id, or an error (a name taken, no free slot).
                    let rc = omv_fw_channel_register(fw, name.as_ptr(), &OPS, null_mut());
                    assert!((OMV_FW_ERR_STATE..32).contains(&rc) && rc != OMV_FW_OK, "register: {rc}");
                }
                _ => ok_or_error(omv_fw_channel_unregister(fw, op & 0x0F)),
            }
            let mut len = 0;
            let script = omv_fw_stdin_script(fw, &mut len);
            if !script.is_null() {
                assert!(len <= stdin.len());
            }
            let command = omv_fw_stdin_take_command(fw, null_mut());
            assert!((OMV_FW_ERR_STATE..=OMV_FW_STDIN_STOP).contains(&command));
        }
    }
    // SAFETY: `fw` is live; the final poll drains what is left.
    unsafe { ok_or_error(omv_fw_poll(fw, now.wrapping_add(5000))) };
    drop((stdin, stdout, stream, storage));
});
