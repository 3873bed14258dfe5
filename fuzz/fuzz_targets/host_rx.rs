//! The host receive path: any bytes from a device, in any chunking, with the clock moving,
//! must neither panic nor grow an answer past its request's limit nor hold more events than
//! the queue bound; every request ends by its deadline. The same bytes, as a stream channel's
//! contents, go through the client's frame decoding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use openmvproto::client::Frame;
use openmvproto::host::{Host, HostConfig, Request, Response, EVENT_QUEUE};
use openmvproto::framing::payload::{CapFlags, Caps};
use openmvproto::framing::FastCrc;
use openmvproto::{ChannelId, Instant, Opcode};

const OPCODES: [Opcode; 8] = [
    Opcode::CHANNEL_READ,
    Opcode::CHANNEL_LIST,
    Opcode::CHANNEL_SIZE,
    Opcode::CHANNEL_LOCK,
    Opcode::PROTO_GET_CAPS,
    Opcode::SYS_INFO,
    Opcode::CHANNEL_IOCTL,
    Opcode::PROTO_SYNC,
];

fuzz_target!(|data: &[u8]| {
    let Some((&knobs, bytes)) = data.split_first() else { return };
    if let Ok(f) = Frame::from_stream_bytes(bytes.to_vec(), 1) {
        let _ = f.to_rgb888();
    }
    let chunk = 1 + (knobs as usize & 0x1F) * 17;
    let mut wish = Caps::DEFAULT;
    if knobs & 0x20 != 0 {
        wish.flags.remove(CapFlags::CRC);
    }
    let mut host = Host::new(HostConfig { wish, ..HostConfig::default() }, FastCrc);
    let mut now = Instant::from_millis(0);
    let opcode = OPCODES[(knobs >> 5) as usize & 7];
    let len = u32::from(knobs) * 37;
    let payload = match opcode {
        Opcode::CHANNEL_READ => [0u32.to_le_bytes(), len.to_le_bytes()].concat(),
        _ => Vec::new(),
    };
    let req = Request::new(opcode, ChannelId(knobs & 7), payload);
    if opcode == Opcode::PROTO_SYNC {
        host.resync(now);
    } else if host.start(now, &req).is_err() {
        return;
    }
    for piece in bytes.chunks(chunk) {
        now = now + core::time::Duration::from_millis(u64::from(piece[0] & 0x0F) * 20);
        host.handle_input(now, piece);
        host.handle_timeout(now);
        while host.poll_transmit().is_some() {}
        let mut held = 0;
        while host.poll_event().is_some() {
            held += 1;
        }
        assert!(held <= EVENT_QUEUE);
        if let Some(Ok(Response::Data(d))) = host.poll_completion() {
            assert!(d.len() <= req.limit, "answer of {} bytes for a limit of {}", d.len(), req.limit);
        }
    }
    // Whatever came, the request ends by its deadline.
    if let Some(at) = host.poll_at() {
        host.handle_timeout(at);
        assert!(!host.is_busy(), "still waiting after its deadline");
    }
});
