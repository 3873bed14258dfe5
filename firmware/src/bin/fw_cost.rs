//! Cost per payload byte of the device engine, measured by callgrind on a host build: a fixed
//! session goes through the C API exactly as a cam's main loop drives it (bytes pushed into the
//! receive ring as an interrupt would, `omv_fw_poll`, packets out through the write hook).
//!
//!     fw-cost reads|writes|session
//!
//! - `reads`: PROTO_SYNC, then 1 MiB of CHANNEL_READ in 4 KiB requests from a zero-copy
//!   (`readp`) channel, every fragment ACKed (default caps: crc, seq, ack, events);
//! - `writes`: PROTO_SYNC, then 64 KiB of CHANNEL_WRITE in requests of max_payload - 8 bytes;
//! - `session`: PROTO_SYNC, CHANNEL_LIST, 4 events, the reads, the writes.
//!
//! Only the engine is counted: run under
//! `valgrind --tool=callgrind --collect-atstart=no --toggle-collect=omv_fw_poll
//! --toggle-collect=omv_fw_rx_push --toggle-collect=omv_fw_send_event --toggle-collect='fw_cost_*'`;
//! the host side (encoding requests, parsing answers, the channel's own callbacks, all named
//! `fw_cost_*`) runs inside the engine's calls with collection toggled off again. Prints the
//! payload bytes each way; firmware/cost/run.sh divides callgrind's instruction count by them.

use std::ffi::c_void;
use std::process::ExitCode;

use openmvproto::framing::payload::ReadRequest;
use openmvproto::framing::{encode, ChannelId, FastCrc, Flags, Header, Opcode, HEADER_LEN};
use openmvproto_firmware::api::*;
use openmvproto_firmware::sizes::PACKET_BUF;
use openmvproto_firmware::types::*;
use openmvproto_firmware::Instance;

const READ_TOTAL: usize = 1 << 20;
const READ_REQUEST: usize = 4096;
const WRITE_TOTAL: usize = 64 << 10;
const DATA_ID_NAME: &std::ffi::CStr = c"data";

/// The host side of the link.
struct Host {
    seq: u8,
    /// ACKs owed for packets that carried ACK_REQ, sent with the next push.
    acks: Vec<u8>,
    /// Requests still to push into the cam.
    rx: Vec<u8>,
    /// The final (not FRAGMENT) answer packet of the current request arrived.
    answered: bool,
    sent_payload: u64,
    received_payload: u64,
    events: u32,
    written: Vec<u8>,
}

/// The transport write hook: one packet per call (the engine writes whole packets).
#[no_mangle]
unsafe extern "C" fn fw_cost_sink(user: *mut c_void, data: *const u8, len: usize) -> i32 {
    // SAFETY: `user` is the `Host` given to omv_fw_init; `data` is valid for `len` bytes.
    let (host, pkt) = unsafe { (&mut *user.cast::<Host>(), std::slice::from_raw_parts(data, len)) };
    let Some(head) = pkt.first_chunk::<HEADER_LEN>() else { return -1 };
    let h = Header::parse(head);
    host.sent_payload += h.length as u64;
    if h.flags.contains(Flags::EVENT) {
        host.events += 1;
    } else {
        host.seq = host.seq.wrapping_add(1);
        if !h.flags.contains(Flags::FRAGMENT) {
            host.answered = true;
        }
    }
    if h.flags.contains(Flags::ACK_REQ) {
        let ack = Header { flags: Flags::ACK, length: 0, ..h };
        host.acks.extend_from_slice(&ack.emit(Some(&FastCrc)));
    }
    0
}

static DATA: [u8; 1 << 16] = {
    let mut d = [0u8; 1 << 16];
    let mut i = 0;
    while i < d.len() {
        d[i] = (i * 7 + 3) as u8;
        i += 1;
    }
    d
};

/// Zero-copy read: 1 MiB of channel, the same 64 KiB repeated.
#[no_mangle]
unsafe extern "C" fn fw_cost_readp(_: *mut c_void, offset: u32, len: usize) -> *const u8 {
    let at = offset as usize % DATA.len();
    if at + len > DATA.len() {
        return std::ptr::null();
    }
    DATA[at..].as_ptr()
}

#[no_mangle]
unsafe extern "C" fn fw_cost_size(_: *mut c_void) -> u32 {
    READ_TOTAL as u32
}

#[no_mangle]
unsafe extern "C" fn fw_cost_write(user: *mut c_void, offset: u32, data: *const u8, len: usize) -> i32 {
    // SAFETY: `user` is the `Host` given at registration; `data` is valid for `len` bytes.
    let (host, data) = unsafe { (&mut *user.cast::<Host>(), std::slice::from_raw_parts(data, len)) };
    let end = offset as usize + len;
    if host.written.len() < end {
        host.written.resize(end, 0);
    }
    host.written[offset as usize..end].copy_from_slice(data);
    0
}

/// Encodes a request with the host's counter (host-side work, outside the engine).
fn request(host: &mut Host, opcode: u8, channel: u8, payload: &[u8]) {
    let h =
        Header { seq: host.seq, channel: ChannelId(channel), flags: Flags::empty(), opcode: Opcode(opcode), length: 0 };
    let mut buf = vec![0u8; PACKET_BUF];
    let n = encode(&h, payload, Some(&FastCrc), &mut buf).expect("request fits the packet buffer");
    host.received_payload += payload.len() as u64;
    host.rx.extend_from_slice(&buf[..n]);
    host.answered = false;
}

/// Feeds the cam until the current request is answered, as a main loop with a UART interrupt:
/// push what the ring takes, poll, repeat. The clock advances 1 ms per poll.
fn run(fw: *mut Instance, host: *mut Host, now: &mut u32) -> Result<(), String> {
    for _ in 0..1_000_000 {
        // SAFETY: `host` outlives the instance's use of it; the engine does not run now.
        let h = unsafe { &mut *host };
        if h.answered && h.rx.is_empty() && h.acks.is_empty() {
            return Ok(());
        }
        let mut pending = std::mem::take(&mut h.acks);
        pending.append(&mut h.rx);
        // SAFETY: a live handle; `pending` is valid for its length.
        let took = unsafe { omv_fw_rx_push(fw, pending.as_ptr(), pending.len()) };
        let took = usize::try_from(took).map_err(|_| format!("rx_push failed: {took}"))?;
        // SAFETY: as above (no engine call runs).
        let h = unsafe { &mut *host };
        h.rx = pending.split_off(took);
        *now = now.wrapping_add(1);
        // SAFETY: a live handle, main loop.
        let rc = unsafe { omv_fw_poll(fw, *now) };
        if rc != OMV_FW_OK {
            return Err(format!("poll failed: {rc}"));
        }
    }
    Err("the cam did not answer".into())
}

fn main() -> ExitCode {
    let phase = std::env::args().nth(1).unwrap_or_default();
    let (reads, writes, extras) = match phase.as_str() {
        "reads" => (true, false, false),
        "writes" => (false, true, false),
        "session" => (true, true, true),
        _ => {
            eprintln!("usage: fw-cost reads|writes|session");
            return ExitCode::from(2);
        }
    };
    match session(reads, writes, extras) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fw-cost: {e}");
            ExitCode::FAILURE
        }
    }
}

fn session(reads: bool, writes: bool, extras: bool) -> Result<(), String> {
    let host: *mut Host = Box::into_raw(Box::new(Host {
        seq: 0,
        acks: Vec::new(),
        rx: Vec::new(),
        answered: true,
        sent_payload: 0,
        received_payload: 0,
        events: 0,
        written: Vec::new(),
    }));
    let storage = vec![0u64; omv_fw_storage_size().div_ceil(8)];
    let storage = Box::leak(storage.into_boxed_slice());
    let mut cfg = std::mem::MaybeUninit::<Config>::uninit();
    // SAFETY: `cfg` is writable; the calls below get valid pointers and live storage.
    let fw = unsafe {
        omv_fw_config_default(cfg.as_mut_ptr());
        let cfg = cfg.assume_init();
        let hooks = Hooks {
            write: Some(fw_cost_sink),
            write_user: host.cast(),
            crc16: None,
            crc32: None,
            crc_user: std::ptr::null_mut(),
        };
        let mut fw = std::ptr::null_mut();
        let rc = omv_fw_init(storage.as_mut_ptr().cast(), storage.len() * 8, &cfg, &hooks, &mut fw);
        if rc != OMV_FW_OK {
            return Err(format!("init failed: {rc}"));
        }
        fw
    };
    static OPS: ChannelOps = ChannelOps {
        read: None,
        write: Some(fw_cost_write),
        readp: Some(fw_cost_readp),
        size: Some(fw_cost_size),
        shape: None,
        poll: None,
        lock: None,
        unlock: None,
        ioctl: None,
    };
    // SAFETY: a live handle; the name is NUL-terminated; OPS and the host outlive the channel.
    let id = unsafe { omv_fw_channel_register(fw, DATA_ID_NAME.as_ptr(), &OPS, host.cast()) };
    let id = u8::try_from(id).map_err(|_| format!("register failed: {id}"))?;
    let mut now = 0u32;
    let req = move |op: Opcode, payload: &[u8], ch: u8, now: &mut u32| -> Result<(), String> {
        // SAFETY: no engine call runs while the host is borrowed here.
        request(unsafe { &mut *host }, op.0, ch, payload);
        run(fw, host, now)
    };
    req(Opcode::PROTO_SYNC, &[], 0, &mut now)?;
    // SAFETY: as above.
    unsafe { (*host).seq = 0 };
    if extras {
        req(Opcode::CHANNEL_LIST, &[], 0, &mut now)?;
        for (code, confirmed) in [(1u16, false), (2, false), (3, true), (0xFFFF, false)] {
            // SAFETY: a live handle, main loop.
            let rc = unsafe { omv_fw_send_event(fw, id, code, confirmed) };
            if rc != OMV_FW_OK {
                return Err(format!("send_event failed: {rc}"));
            }
        }
        // The events go out with the next poll; a GET_CAPS follows them.
        req(Opcode::PROTO_GET_CAPS, &[], 0, &mut now)?;
    }
    if reads {
        for i in 0..READ_TOTAL / READ_REQUEST {
            let rq = ReadRequest { offset: (i * READ_REQUEST) as u32, length: READ_REQUEST as u32 };
            req(Opcode::CHANNEL_READ, &rq.to_bytes(), id, &mut now)?;
        }
    }
    if writes {
        let chunk = PACKET_BUF - 14 - 8; // max_payload - 8 data bytes per request
        let mut offset = 0;
        while offset < WRITE_TOTAL {
            let n = chunk.min(WRITE_TOTAL - offset);
            let mut p = Vec::with_capacity(8 + n);
            p.extend_from_slice(&(offset as u32).to_le_bytes());
            p.extend_from_slice(&(n as u32).to_le_bytes());
            p.extend_from_slice(&DATA[offset % DATA.len()..][..n]);
            req(Opcode::CHANNEL_WRITE, &p, id, &mut now)?;
            offset += n;
        }
    }
    // SAFETY: the engine is idle; nothing else uses the host now.
    let h = unsafe { &*host };
    if writes && h.written.as_slice() != &DATA[..WRITE_TOTAL] {
        return Err("the written bytes did not arrive intact".into());
    }
    let mut stats = LinkStats::default();
    // SAFETY: a live handle; `stats` is writable.
    unsafe { omv_fw_stats(fw, &mut stats) };
    println!(
        "sent_payload={} received_payload={} events={} packets_sent={} packets_received={} checksum_errors={}",
        h.sent_payload, h.received_payload, h.events, stats.sent, stats.received, stats.checksum_errors
    );
    if reads && h.sent_payload < READ_TOTAL as u64 {
        return Err("fewer read bytes than asked for".into());
    }
    Ok(())
}
