//! The C API's own `unsafe` (the self-referential instance: registry, channel table, built-in
//! channels and board in one storage) driven from Rust, so that Miri can check it:
//! `cargo +nightly miri test -p openmvproto-firmware --test c_api_borrows` (scripts/test-all.sh
//! runs it). A plain `cargo test` runs the same session natively. The C tests
//! (tests/fw_api_test.c) cover the API's behaviour; this covers its aliasing: channels lent to
//! the registry stay usable while others are registered, removed and registered again, the
//! board is replaced, and the built-ins are reached through the registry.

use core::ffi::c_void;
use core::ptr::{null, null_mut};

use openmvproto::framing::payload::ChannelEntry;
use openmvproto::framing::{encode, ChannelId, Decoder, Flags, Header, Opcode, Role};
use openmvproto_firmware::api::*;
use openmvproto_firmware::api_builtins::*;
use openmvproto_firmware::types::*;
use openmvproto_firmware::Instance;

/// A channel whose bytes are computed: byte `i` is `i % 251`, 1000 bytes.
unsafe extern "C" fn pattern_read(_: *mut c_void, off: u32, buf: *mut u8, len: usize) -> i32 {
    for i in 0..len {
        // SAFETY: the engine passes `len` writable bytes at `buf`.
        unsafe { *buf.add(i) = ((off as usize + i) % 251) as u8 };
    }
    OMV_FW_STATUS_SUCCESS
}

unsafe extern "C" fn pattern_size(_: *mut c_void) -> u32 {
    1000
}

static LENT: [u8; 64] = {
    let mut b = [0u8; 64];
    let mut i = 0;
    while i < 64 {
        b[i] = 200 - i as u8;
        i += 1;
    }
    b
};

/// A channel that lends its bytes (`readp`).
unsafe extern "C" fn lent_readp(_: *mut c_void, off: u32, len: usize) -> *const u8 {
    match LENT.get(off as usize..off as usize + len) {
        Some(s) => s.as_ptr(),
        None => null(),
    }
}

unsafe extern "C" fn lent_size(_: *mut c_void) -> u32 {
    LENT.len() as u32
}

const NO_OPS: ChannelOps = ChannelOps {
    read: None,
    write: None,
    readp: None,
    size: None,
    shape: None,
    poll: None,
    lock: None,
    unlock: None,
    ioctl: None,
};
static PATTERN: ChannelOps = ChannelOps { read: Some(pattern_read), size: Some(pattern_size), ..NO_OPS };
static LENT_OPS: ChannelOps = ChannelOps { readp: Some(lent_readp), size: Some(lent_size), ..NO_OPS };

/// What the cam wrote, appended by the transport hook.
unsafe extern "C" fn collect(user: *mut c_void, data: *const u8, len: usize) -> i32 {
    // SAFETY: `user` is the test's `Vec`, alive for the whole session; `data` holds `len` bytes.
    unsafe { (*user.cast::<Vec<u8>>()).extend_from_slice(core::slice::from_raw_parts(data, len)) };
    0
}

/// One cam over caller storage.
struct Cam {
    fw: *mut Instance,
    /// The transport hook's user data: a raw pointer, as C would hold it (a `Box` moved
    /// around would assert uniqueness over what the hook writes through).
    out: *mut Vec<u8>,
    now: u32,
    _storage: Vec<u64>,
}

impl Cam {
    /// `caps`: the start-up capabilities, `None` for the default (all). The device session
    /// below runs without any (no CRC, seq, ACK or events): the framing is not its subject.
    fn new(caps: Option<u32>) -> Cam {
        let mut storage = vec![0u64; omv_fw_storage_size().div_ceil(8)];
        assert!(omv_fw_storage_align() <= 8);
        let out = Box::into_raw(Box::new(Vec::new()));
        // SAFETY: all-zero bytes are a valid `Config` (integers only).
        let mut cfg = unsafe { core::mem::zeroed::<Config>() };
        // SAFETY: `cfg` is writable; the hooks and storage live as long as the handle.
        unsafe {
            assert_eq!(omv_fw_config_default(&mut cfg), OMV_FW_OK);
            cfg.caps = caps.unwrap_or(cfg.caps);
            let hooks =
                Hooks { write: Some(collect), write_user: out.cast(), crc16: None, crc32: None, crc_user: null_mut() };
            let mut fw = null_mut();
            let size = storage.len() * 8;
            assert_eq!(omv_fw_init(storage.as_mut_ptr().cast(), size, &cfg, &hooks, &mut fw), OMV_FW_OK);
            Cam { fw, out, now: 0, _storage: storage }
        }
    }

    /// Sends one request and returns the payloads of the answer's packets (fragments joined)
    /// and the flags of its last packet.
    fn request(&mut self, channel: u8, opcode: Opcode, payload: &[u8]) -> (Vec<u8>, Flags) {
        let h = Header { seq: 0, channel: ChannelId(channel), flags: Flags::empty(), opcode, length: 0 };
        let mut pkt = [0u8; 64];
        let n = encode(&h, payload, None, &mut pkt).unwrap();
        // Past the lock interval, as a host's pace would be.
        self.now += 20;
        // SAFETY: a live handle and `n` readable bytes.
        unsafe {
            assert_eq!(omv_fw_rx_push(self.fw, pkt.as_ptr(), n), n as i32);
            assert_eq!(omv_fw_poll(self.fw, self.now), OMV_FW_OK);
        }
        let mut dec = Decoder::<4200>::new(Role::Host);
        dec.set_crc(false);
        // SAFETY: `out` is live until drop, and the engine is not running now.
        let bytes = std::mem::take(unsafe { &mut *self.out });
        let (mut at, mut data, mut last) = (0, Vec::new(), None);
        loop {
            let (used, found) = dec.feed(&bytes[at..], &openmvproto::framing::SmallCrc);
            at += used;
            match found {
                Some(Ok(p)) => {
                    data.extend_from_slice(p.payload);
                    last = Some(p.header.flags);
                }
                Some(Err(e)) => panic!("bad packet from the cam: {e:?}"),
                None if used == 0 => break,
                None => {}
            }
        }
        assert_eq!(at, bytes.len(), "the cam wrote a partial packet");
        (data, last.expect("no answer"))
    }

    fn read(&mut self, channel: u8, offset: u32, len: u32) -> Vec<u8> {
        let mut rq = offset.to_le_bytes().to_vec();
        rq.extend_from_slice(&len.to_le_bytes());
        let (data, flags) = self.request(channel, Opcode::CHANNEL_READ, &rq);
        assert!(!flags.contains(Flags::NAK), "read of channel {channel} refused");
        data
    }

    fn list(&mut self) -> Vec<(u8, String)> {
        let (data, _) = self.request(0, Opcode::CHANNEL_LIST, &[]);
        data.chunks(ChannelEntry::LEN)
            .map(|e| ChannelEntry::parse(e).unwrap())
            .map(|e| (e.id.0, String::from_utf8_lossy(e.name_bytes()).into_owned()))
            .collect()
    }
}

impl Drop for Cam {
    fn drop(&mut self) {
        // SAFETY: from `Box::into_raw` in `new`; the engine (its storage) is not used again.
        drop(unsafe { Box::from_raw(self.out) });
    }
}

fn pattern(off: usize, len: usize) -> Vec<u8> {
    (off..off + len).map(|i| (i % 251) as u8).collect()
}

#[test]
fn lent_channels_stay_usable_while_the_table_changes() {
    let mut cam = Cam::new(Some(0));
    let (mut stdout_buf, mut stream_buf, mut stdin_buf) = (vec![0u8; 256], vec![0u8; 512], vec![0u8; 128]);
    // SAFETY: a live handle; the buffers live until the end of the test, after every channel
    // that uses them is unregistered.
    unsafe {
        assert_eq!(omv_fw_stdin_register(cam.fw, stdin_buf.as_mut_ptr(), stdin_buf.len()), 1);
        assert_eq!(omv_fw_stdout_register(cam.fw, stdout_buf.as_mut_ptr(), stdout_buf.len()), 2);
        assert_eq!(omv_fw_stream_register(cam.fw, stream_buf.as_mut_ptr(), stream_buf.len()), 3);
        assert_eq!(omv_fw_channel_register(cam.fw, c"a".as_ptr(), &PATTERN, null_mut()), 4);
        // Registering takes a table entry while "a"'s is lent to the registry.
        assert_eq!(omv_fw_channel_register(cam.fw, c"b".as_ptr(), &LENT_OPS, null_mut()), 5);
    }
    assert_eq!(cam.read(4, 10, 20), pattern(10, 20));
    assert_eq!(cam.read(5, 3, 5), LENT[3..8]);
    // SAFETY: a live handle.
    unsafe {
        assert_eq!(omv_fw_channel_unregister(cam.fw, 4), OMV_FW_OK);
        assert_eq!(omv_fw_channel_register(cam.fw, c"b".as_ptr(), &PATTERN, null_mut()), OMV_FW_ERR_NAME);
        assert_eq!(omv_fw_channel_register(cam.fw, c"c".as_ptr(), &PATTERN, null_mut()), 4);
    }
    assert_eq!(cam.read(5, 0, 64), LENT);
    assert_eq!(cam.read(4, 990, 10), pattern(990, 10));
    let names: Vec<_> = cam.list().into_iter().map(|(id, n)| format!("{id}:{n}")).collect();
    assert_eq!(names, ["1:stdin", "2:stdout", "3:stream", "4:c", "5:b"]);

    // The board replaced while the registry holds it.
    // SAFETY: all-zero bytes are a valid `BoardInfo` (integers, `None` callbacks, NULL user).
    let mut board = unsafe { core::mem::zeroed::<BoardInfo>() };
    board.firmware_version = [5, 0, 1];
    // SAFETY: a live handle; `board` is copied.
    unsafe { assert_eq!(omv_fw_set_board(cam.fw, &board), OMV_FW_OK) };
    let (version, _) = cam.request(0, Opcode::PROTO_VERSION, &[]);
    assert_eq!(version[6..9], [5, 0, 1]);

    // The built-ins, reached through the registry's references.
    // SAFETY: a live handle and readable bytes.
    unsafe { assert_eq!(omv_fw_stdout_write(cam.fw, b"hello".as_ptr(), 5), 5) };
    assert_eq!(cam.read(2, 0, 5), b"hello");
    let mut cap = 0;
    // SAFETY: a live handle; the frame buffer has `cap` writable bytes until publish.
    unsafe {
        let px = omv_fw_stream_frame(cam.fw, &mut cap);
        assert!(!px.is_null() && cap >= 8);
        for i in 0..8 {
            *px.add(i) = 7 * i as u8;
        }
        assert_eq!(omv_fw_stream_publish(cam.fw, 4, 2, OMV_FW_PIXFORMAT_GRAYSCALE, 8, 30.0), OMV_FW_OK);
    }
    let (size, _) = cam.request(3, Opcode::CHANNEL_SIZE, &[]);
    let size = u32::from_le_bytes(size[..4].try_into().unwrap());
    let frame = cam.read(3, 0, size);
    assert_eq!(frame[frame.len() - 8..], [0, 7, 14, 21, 28, 35, 42, 49]);

    // Unregistered built-ins give their buffers back; the cam is done with them after this.
    // SAFETY: a live handle.
    unsafe {
        for id in 1..=5 {
            assert_eq!(omv_fw_channel_unregister(cam.fw, id), OMV_FW_OK);
        }
    }
    assert!(cam.list().is_empty());
    // A C channel at a built-in's id is not that built-in: stdout's calls refuse it. Then
    // stdout again, in a table entry another channel used before.
    // SAFETY: a live handle; `stdout_buf` outlives the registration, undone below.
    unsafe {
        assert_eq!(omv_fw_channel_register_static(cam.fw, 2, c"mine".as_ptr(), &PATTERN, null_mut(), 0), 2);
        assert_eq!(omv_fw_stdout_write(cam.fw, b"x".as_ptr(), 1), OMV_FW_ERR_STATE);
        assert_eq!(omv_fw_channel_unregister(cam.fw, 2), OMV_FW_OK);
        assert_eq!(omv_fw_stdout_register(cam.fw, stdout_buf.as_mut_ptr(), stdout_buf.len()), 2);
        assert_eq!(omv_fw_stdout_write(cam.fw, b"again".as_ptr(), 5), 5);
    }
    assert_eq!(cam.read(2, 0, 5), b"again");
    // SAFETY: a live handle.
    unsafe { assert_eq!(omv_fw_channel_unregister(cam.fw, 2), OMV_FW_OK) };
    assert!(cam.list().is_empty());
    drop((stdout_buf, stream_buf, stdin_buf));
}

/// The host role's C API (feature `host`) against the cam above, in one process: answers go
/// into caller buffers the engine holds as raw memory until completion, and a completion
/// callback starts the next request from inside `omv_fw_host_poll`.
#[cfg(feature = "host")]
mod host_role {
    use super::*;
    use openmvproto_firmware::host_api::*;
    use openmvproto_firmware::HostInstance;

    /// What the host wrote towards the cam, and the requests it completed.
    struct Link {
        to_cam: Vec<u8>,
        done: Vec<(i32, u8, Vec<u8>)>,
        /// For the completion callback, which starts the next request from inside it.
        host: *mut HostInstance,
        /// The answer buffer of that request: memory of its own, lent to the engine.
        size_answer: *mut [u8; 4],
    }

    unsafe extern "C" fn host_write(user: *mut c_void, data: *const u8, len: usize) -> i32 {
        // SAFETY: `user` is the test's `Link`; `data` holds `len` bytes.
        unsafe { (*user.cast::<Link>()).to_cam.extend_from_slice(core::slice::from_raw_parts(data, len)) };
        0
    }

    unsafe extern "C" fn on_complete(user: *mut c_void, r: *const HostResult) {
        // SAFETY: `user` is the `Link`; `r` and its `len` bytes at `data` live for the call.
        unsafe {
            let link = &mut *user.cast::<Link>();
            let r = &*r;
            let data = if r.data.is_null() { Vec::new() } else { core::slice::from_raw_parts(r.data, r.len).to_vec() };
            link.done.push((r.result, r.opcode, data));
            if r.opcode == Opcode::CHANNEL_LIST.0 {
                assert_eq!(omv_fw_host_size(link.host, 1, link.size_answer.cast(), 4), OMV_FW_OK);
            }
        }
    }

    #[test]
    fn host_answers_land_in_caller_buffers() {
        let mut cam = Cam::new(None);
        // SAFETY: a live handle. No built-ins here: the first free id is 1.
        unsafe { assert_eq!(omv_fw_channel_register(cam.fw, c"a".as_ptr(), &PATTERN, null_mut()), 1) };
        let size_answer = Box::into_raw(Box::new([0u8; 4]));
        let link =
            Box::into_raw(Box::new(Link { to_cam: Vec::new(), done: Vec::new(), host: null_mut(), size_answer }));
        let mut storage = vec![0u64; omv_fw_host_storage_size().div_ceil(8)];
        assert!(omv_fw_host_storage_align() <= 8);
        let mut h = null_mut();
        // SAFETY: every pointer is valid; `link` and `storage` outlive the handle's use; all-zero
        // bytes are a valid `HostConfigC` (integers only), filled in before use.
        unsafe {
            let mut cfg = core::mem::zeroed::<HostConfigC>();
            assert_eq!(omv_fw_host_config_default(&mut cfg), OMV_FW_OK);
            cfg.caps = OMV_FW_CAP_CRC | OMV_FW_CAP_SEQ;
            let hooks = HostHooks {
                write: Some(host_write),
                write_user: link.cast(),
                crc16: None,
                crc32: None,
                crc_user: null_mut(),
                on_complete: Some(on_complete),
                on_event: None,
                user: link.cast(),
            };
            let size = storage.len() * 8;
            assert_eq!(omv_fw_host_init(storage.as_mut_ptr().cast(), size, &cfg, &hooks, &mut h), OMV_FW_OK);
            (*link).host = h;
        }
        // Moves bytes both ways, a millisecond a turn, until `want` requests completed (a
        // lost answer would time out within the 10 s this allows).
        let pump = |cam: &mut Cam, want: usize| {
            for _ in 0..10_000 {
                // SAFETY: live handles; the `Link` and the cam's output are not borrowed elsewhere.
                unsafe {
                    let mut to_cam = std::mem::take(&mut (*link).to_cam);
                    while !to_cam.is_empty() {
                        let n = omv_fw_rx_push(cam.fw, to_cam.as_ptr(), to_cam.len());
                        assert!(n >= 0);
                        to_cam.drain(..n as usize);
                        assert_eq!(omv_fw_poll(cam.fw, cam.now), OMV_FW_OK);
                    }
                    cam.now += 1;
                    let to_host = std::mem::take(&mut *cam.out);
                    assert_eq!(omv_fw_host_input(h, to_host.as_ptr(), to_host.len()), OMV_FW_OK);
                    assert!(omv_fw_host_poll(h, cam.now) >= 0);
                    if (*link).done.len() >= want {
                        return;
                    }
                }
            }
            // SAFETY: the `Link` is live and, between calls, borrowed by nobody.
            panic!("no completion: {:?}", unsafe { &(*link).done });
        };
        // SAFETY: a live handle; each answer buffer stays untouched until its completion.
        unsafe {
            assert_eq!(omv_fw_host_resync(h), OMV_FW_OK);
            pump(&mut cam, 1);
            let mut list = [0u8; 256];
            assert_eq!(omv_fw_host_list(h, list.as_mut_ptr(), list.len()), OMV_FW_OK);
            pump(&mut cam, 3); // the list, then the size its callback asked for
            let mut data = vec![0u8; 800];
            assert_eq!(omv_fw_host_read(h, 1, 100, 800, data.as_mut_ptr(), data.len()), OMV_FW_OK);
            pump(&mut cam, 4);
            let done = &(*link).done;
            assert_eq!(done[0].0, OMV_FW_OK, "resync");
            assert_eq!((done[1].0, done[1].2.len()), (OMV_FW_OK, ChannelEntry::LEN));
            assert_eq!(done[2], (OMV_FW_OK, Opcode::CHANNEL_SIZE.0, 1000u32.to_le_bytes().to_vec()));
            assert_eq!((done[3].0, &done[3].2), (OMV_FW_OK, &pattern(100, 800)));
            assert_eq!(data, pattern(100, 800));
            assert_eq!(*size_answer, 1000u32.to_le_bytes());
            drop(Box::from_raw(link));
            drop(Box::from_raw(size_answer));
        }
    }
}
