//! Host and device engines back to back in memory: every opcode, every capability
//! combination, every fragment size, events between fragments, every chunk size.

mod common;

use common::*;
use openmvproto::device::{DeviceConfig, Event};
use openmvproto::framing::encoded_len;
use openmvproto::framing::payload::{
    event, ioctl, Caps, ChannelEntry, FrameHeader, MemoryEntry, ProtoStats, SysInfo, Version,
};
use openmvproto::framing::Status;
use openmvproto::host::{HostConfig, Request, RequestError, Response, StartError};
use openmvproto::{ChannelId, Opcode};

fn data(r: Result<Response, RequestError>) -> Vec<u8> {
    match r {
        Ok(Response::Data(d)) => d,
        other => panic!("expected data, got {other:?}"),
    }
}

/// Runs one of every request and checks each answer.
fn every_opcode(p: &mut Pair) {
    assert_eq!(p.connect(), Ok(Response::Ack));
    let caps = p.host.caps();
    assert_eq!(p.device.caps(), caps);

    let got = Caps::parse(&data(p.request(Opcode::PROTO_GET_CAPS, ChannelId(0), vec![]))).unwrap();
    assert_eq!(got.max_payload, 4082);
    let bad = Caps { max_payload: 49, ..caps }.to_bytes().to_vec();
    assert_eq!(p.request(Opcode::PROTO_SET_CAPS, ChannelId(0), bad), Err(RequestError::Nak(Status::Invalid)));
    assert_eq!(p.request(Opcode::PROTO_SET_CAPS, ChannelId(0), vec![1, 2, 3]), Err(RequestError::Nak(Status::Invalid)));
    assert_eq!(p.request(Opcode::PROTO_SET_CAPS, ChannelId(0), caps.to_bytes().to_vec()), Ok(Response::Ack));
    // A newer host's flag bits and non-zero reserved bytes are ignored, not refused.
    let mut newer = caps.to_bytes();
    newer[0] |= 0xF0;
    newer[3] = 0x80;
    newer[10] = 1;
    newer[15] = 0xFF;
    assert_eq!(p.request(Opcode::PROTO_SET_CAPS, ChannelId(0), newer.to_vec()), Ok(Response::Ack));
    assert_eq!(p.device.caps(), caps);

    let stats = ProtoStats::parse(&data(p.request(Opcode::PROTO_STATS, ChannelId(0), vec![]))).unwrap();
    assert!(stats.received >= 5 && stats.sent >= 5, "{stats:?}");
    let v = Version::parse(&data(p.request(Opcode::PROTO_VERSION, ChannelId(0), vec![]))).unwrap();
    assert_eq!(v.protocol, Version::PROTOCOL);
    assert_eq!(v.firmware.0, 4);
    let info = data(p.request(Opcode::SYS_INFO, ChannelId(0), vec![]));
    assert_eq!(info.len(), SysInfo::LEN);
    assert_eq!(SysInfo::parse(&info).unwrap().usb_vid(), 0x37C5);
    let mem = data(p.request(Opcode::SYS_MEMORY, ChannelId(0), vec![]));
    assert_eq!(mem.len(), 4 + 2 * MemoryEntry::LEN);
    assert_eq!(mem[0], 2);
    assert_eq!(MemoryEntry::parse(&mem[4 + 24..]).unwrap().total, 2000);
    // System opcodes only on channel 0.
    assert_eq!(p.request(Opcode::PROTO_VERSION, STREAM, vec![]), Err(RequestError::Nak(Status::Invalid)));

    let list = data(p.request(Opcode::CHANNEL_LIST, ChannelId(0), vec![]));
    let names: Vec<_> = list
        .chunks(16)
        .map(|c| ChannelEntry::parse(c).unwrap())
        .map(|e| (e.id.0, e.name().unwrap().to_string()))
        .collect();
    assert_eq!(names, [(1, "stdin".into()), (2, "stdout".into()), (3, "stream".into()), (4, "mem".into())]);

    // A channel with data, a stdout with text, a frame ready.
    p.stdout().push(b"hello from the cam\n");
    p.publish_frame(64, 48, 3);
    let payload = pattern(10_000, 1);
    for (i, piece) in payload.chunks(caps.max_payload as usize - 8).enumerate() {
        let off = (i * (caps.max_payload as usize - 8)) as u32;
        assert_eq!(p.request(Opcode::CHANNEL_WRITE, MEM, write_req(off, piece)), Ok(Response::Ack));
    }
    assert_eq!(p.mem().data, payload);
    let poll = u32::from_le_bytes(data(p.request(Opcode::CHANNEL_POLL, ChannelId(0), vec![])).try_into().unwrap());
    assert_eq!(poll, 1 << 2 | 1 << 3 | 1 << 4);

    assert_eq!(data(p.request(Opcode::CHANNEL_SIZE, MEM, vec![])), 10_000u32.to_le_bytes());
    assert_eq!(
        data(p.request(Opcode::CHANNEL_SHAPE, MEM, vec![])),
        [10_000u32.to_le_bytes(), 7u32.to_le_bytes()].concat()
    );
    assert_eq!(data(p.request(Opcode::CHANNEL_READ, MEM, read_req(0, 10_000))), payload);
    assert_eq!(data(p.request(Opcode::CHANNEL_READ, MEM, read_req(1234, 77))), payload[1234..1311]);
    assert_eq!(p.request(Opcode::CHANNEL_IOCTL, MEM, vec![7, 0, 0, 0, 9]), Ok(Response::Ack));
    assert_eq!(p.mem().last_ioctl, Some((7, vec![9])));
    assert_eq!(p.request(Opcode::CHANNEL_IOCTL, MEM, vec![99, 0, 0, 0]), Err(RequestError::Nak(Status::Failed)));

    // Lock, then a second lock within the lock interval: BUSY; unlock; unlock again: BUSY.
    assert_eq!(p.request(Opcode::CHANNEL_LOCK, STREAM, vec![]), Ok(Response::Ack));
    assert_eq!(p.request(Opcode::CHANNEL_LOCK, MEM, vec![]), Err(RequestError::Nak(Status::Busy)));
    let size = u32::from_le_bytes(data(p.request(Opcode::CHANNEL_SIZE, STREAM, vec![])).try_into().unwrap());
    let frame = data(p.request(Opcode::CHANNEL_READ, STREAM, read_req(0, size)));
    let h = FrameHeader::parse(&frame).unwrap();
    assert_eq!((h.width, h.height), (64, 48));
    let px = &frame[h.offset as usize..];
    assert_eq!(px.len(), 64 * 48);
    assert!(px.iter().enumerate().all(|(i, &v)| v as usize == (i % 64 + i / 64 + 3) % 256));
    assert_eq!(data(p.request(Opcode::CHANNEL_SHAPE, STREAM, vec![])), [64u32, 48, 1].map(u32::to_le_bytes).concat());
    assert_eq!(p.request(Opcode::CHANNEL_UNLOCK, STREAM, vec![]), Ok(Response::Ack));
    assert_eq!(p.request(Opcode::CHANNEL_UNLOCK, STREAM, vec![]), Err(RequestError::Nak(Status::Busy)));
    // Nothing ready: BUSY even after the interval.
    p.now = p.now + std::time::Duration::from_millis(20);
    assert_eq!(p.request(Opcode::CHANNEL_LOCK, STREAM, vec![]), Err(RequestError::Nak(Status::Busy)));

    // stdout reads consume.
    let n = u32::from_le_bytes(data(p.request(Opcode::CHANNEL_SIZE, STDOUT, vec![])).try_into().unwrap());
    assert_eq!(data(p.request(Opcode::CHANNEL_READ, STDOUT, read_req(0, n))), b"hello from the cam\n");
    assert_eq!(data(p.request(Opcode::CHANNEL_SIZE, STDOUT, vec![])), 0u32.to_le_bytes());

    // stdin: exec of an empty buffer fails, of a script is taken by the cam.
    assert_eq!(
        p.request(Opcode::CHANNEL_IOCTL, STDIN, ioctl::STDIN_EXEC.to_le_bytes().to_vec()),
        Err(RequestError::Nak(Status::Failed))
    );
    assert_eq!(p.request(Opcode::CHANNEL_WRITE, STDIN, write_req(0, b"print(1)")), Ok(Response::Ack));
    assert_eq!(p.request(Opcode::CHANNEL_IOCTL, STDIN, ioctl::STDIN_EXEC.to_le_bytes().to_vec()), Ok(Response::Ack));
    assert_eq!(
        p.request(Opcode::CHANNEL_IOCTL, STDIN, [ioctl::STDIN_EXEC.to_le_bytes(), [0; 4]].concat()),
        Err(RequestError::Nak(Status::Invalid))
    );

    // Unknown opcode, unknown channel, unsupported operation, events from a host.
    assert_eq!(p.request(Opcode(0x77), ChannelId(0), vec![]), Err(RequestError::Nak(Status::Invalid)));
    assert_eq!(p.request(Opcode::CHANNEL_SIZE, ChannelId(9), vec![]), Err(RequestError::Nak(Status::Invalid)));
    assert_eq!(p.request(Opcode::CHANNEL_WRITE, STDOUT, write_req(0, b"x")), Err(RequestError::Nak(Status::Invalid)));
    assert_eq!(p.request(Opcode::CHANNEL_EVENT, MEM, vec![]), Err(RequestError::Nak(Status::Invalid)));
    assert_eq!(p.request(Opcode::SYS_EVENT, ChannelId(0), vec![]), Err(RequestError::Nak(Status::Invalid)));

    // Reset and boot: no answer (the host times out), the board hook ran.
    assert_eq!(p.request(Opcode::SYS_RESET, ChannelId(0), vec![]), Err(RequestError::Timeout));
    assert_eq!(p.request(Opcode::SYS_BOOT, ChannelId(0), vec![]), Err(RequestError::Timeout));
    assert_eq!((p.resets.get(), p.boots.get()), (1, 1));
    // The link works again after a resync.
    assert_eq!(p.connect(), Ok(Response::Ack));
    assert_eq!(data(p.request(Opcode::CHANNEL_READ, MEM, read_req(5000, 5000))), payload[5000..]);
}

#[test]
fn every_opcode_with_every_capability_combination() {
    for bits in 0..16u8 {
        let (crc, seq, ack, ev) = (bits & 1 != 0, bits & 2 != 0, bits & 4 != 0, bits & 8 != 0);
        for max in [50, 4082] {
            let mut p = Pair::new(DeviceConfig::default(), wish(crc, seq, ack, ev, max));
            every_opcode(&mut p);
            assert_eq!(p.host.caps().crc(), crc);
            assert_eq!(p.host.caps().max_payload, max);
        }
    }
}

#[test]
fn every_fragment_size_from_50_to_4082() {
    let payload = pattern(9000, 2);
    for ack in [false, true] {
        let mut p = Pair::new(DeviceConfig::default(), wish(true, true, ack, true, 4082));
        p.mem().data = payload.clone();
        assert_eq!(p.connect(), Ok(Response::Ack));
        for frag in 50..=4082u16 {
            // A new device config per size: rebuild the device, resync.
            p.device = openmvproto::device::Device::new(
                DeviceConfig { fragment_size: frag, ..DeviceConfig::default() },
                openmvproto::framing::FastCrc,
            );
            assert_eq!(p.connect(), Ok(Response::Ack));
            let len = 9000 - (frag as usize % 97);
            let got = data(p.request(Opcode::CHANNEL_READ, MEM, read_req(0, len as u32)));
            assert_eq!(got, payload[..len], "fragment size {frag}");
        }
    }
}

#[test]
fn events_between_fragments_with_and_without_ack() {
    let payload = pattern(20_000, 3);
    for (ack, confirmed) in [(false, false), (true, false), (true, true)] {
        let mut p = Pair::new(
            DeviceConfig { fragment_size: 100, ..DeviceConfig::default() },
            wish(true, true, ack, true, 4082),
        );
        p.mem().data = payload.clone();
        assert_eq!(p.connect(), Ok(Response::Ack));
        p.inject_event = Some(Event { channel: STREAM, code: event::NOTIFY, confirmed });
        assert_eq!(data(p.request(Opcode::CHANNEL_READ, MEM, read_req(0, 20_000))), payload);
        // One event per fragment (coalesced while queued): 200 fragments.
        assert!(p.events.len() >= 199, "events: {}", p.events.len());
        assert!(p.events.iter().all(|e| e.channel == STREAM && e.code == event::NOTIFY));
        p.inject_event = Some(Event { channel: ChannelId(0), code: event::CHANNEL_REGISTERED, confirmed });
        p.events.clear();
        assert_eq!(data(p.request(Opcode::CHANNEL_READ, MEM, read_req(0, 20_000))), payload);
        // The last STREAM event queued by the previous read may come first.
        let registered =
            p.events.iter().filter(|e| e.channel == ChannelId(0) && e.code == event::CHANNEL_REGISTERED).count();
        assert!(registered >= 199 && registered + 1 >= p.events.len(), "{:?}", &p.events[..3]);
        // Counters stayed in step through all of it.
        assert_eq!(p.host.seq(), p.device.seq());
    }
}

#[test]
fn events_off_means_no_events() {
    let mut p = Pair::new(DeviceConfig::default(), wish(true, true, true, false, 4082));
    assert_eq!(p.connect(), Ok(Response::Ack));
    assert!(p.device.queue_event(Event { channel: STREAM, code: 1, confirmed: false }).is_err());
}

#[test]
fn every_chunk_size_from_one_byte() {
    let payload = pattern(12_000, 4);
    for chunk in (1..=300).chain([1000, 4095, 4096, 4097, 9000, 70_000]) {
        let mut p = Pair::new(DeviceConfig::default(), wish(true, true, true, true, 4082));
        p.chunk = chunk;
        p.mem().data = payload.clone();
        assert_eq!(p.connect(), Ok(Response::Ack), "chunk {chunk}");
        p.inject_event = Some(Event { channel: STDOUT, code: event::NOTIFY, confirmed: true });
        assert_eq!(data(p.request(Opcode::CHANNEL_READ, MEM, read_req(0, 12_000))), payload, "chunk {chunk}");
        assert_eq!(p.request(Opcode::CHANNEL_WRITE, MEM, write_req(0, &payload[..4074])), Ok(Response::Ack));
        assert_eq!(p.mem().data, payload[..4074]);
    }
}

#[test]
fn host_config_timeout_is_honoured() {
    let mut p = Pair::new(
        DeviceConfig::default(),
        HostConfig { timeout: std::time::Duration::from_millis(250), ..HostConfig::default() },
    );
    assert_eq!(p.connect(), Ok(Response::Ack));
    let t0 = p.now;
    assert_eq!(p.request(Opcode::SYS_RESET, ChannelId(0), vec![]), Err(RequestError::Timeout));
    assert_eq!((p.now - t0).as_millis(), 250);
}

/// A lock with a limit of 0: answered by one status packet, so a request may ride behind it.
fn lead(opcode: Opcode, channel: ChannelId) -> Request {
    Request { limit: 0, ..Request::new(opcode, channel, vec![]) }
}

#[test]
fn a_lock_and_the_read_behind_it_leave_in_one_write_and_keep_the_counter_in_step() {
    for bits in 0..16u8 {
        let (crc, seq, ack, ev) = (bits & 1 != 0, bits & 2 != 0, bits & 4 != 0, bits & 8 != 0);
        let mut p = Pair::new(DeviceConfig::default(), wish(crc, seq, ack, ev, 4082));
        assert_eq!(p.connect(), Ok(Response::Ack));
        p.publish_frame(64, 48, 5);
        let size = u32::from_le_bytes(data(p.request(Opcode::CHANNEL_SIZE, STREAM, vec![]))[..4].try_into().unwrap());
        let s = p.host.seq();
        // With `ack`, the ACK owed for the size answer waits there too and leaves with them.
        let owed = p.host.transmit_bytes().len();
        p.host.start(p.now, &lead(Opcode::CHANNEL_LOCK, STREAM)).unwrap();
        p.host.start(p.now, &Request::new(Opcode::CHANNEL_READ, STREAM, read_req(0, size))).unwrap();
        // A third is refused: only a status-only request has a known answer length.
        let third = p.host.start(p.now, &Request::new(Opcode::CHANNEL_SIZE, STREAM, vec![]));
        assert_eq!(third, Err(StartError::Busy));
        let wire = &p.host.transmit_bytes()[owed..];
        let lock_len = encoded_len(0);
        assert_eq!(wire.len(), lock_len + encoded_len(8), "both requests wait in one buffer");
        assert_eq!((wire[2], wire[lock_len + 2]), (s, s.wrapping_add(1)), "the second carries the next seq");
        assert_eq!(p.complete(), Ok(Response::Ack), "caps {bits:04b}: the lock");
        let frame = data(p.complete());
        assert_eq!(frame.len(), size as usize);
        let h = FrameHeader::parse(&frame).unwrap();
        assert_eq!((h.width, h.height), (64, 48));
        assert_eq!(frame[h.offset as usize + 1], 6, "pixel (1, 0) of frame 5");
        assert_eq!(p.request(Opcode::CHANNEL_UNLOCK, STREAM, vec![]), Ok(Response::Ack));
        assert_eq!(data(p.request(Opcode::CHANNEL_POLL, ChannelId(0), vec![])).len(), 4, "still in step");
    }
}

/// A connected pair with a CHANNEL_LOCK and a 100-byte CHANNEL_READ of the stream behind it
/// in flight (nothing published).
fn connected_with_lock_and_read() -> Pair {
    let mut p = Pair::new(DeviceConfig::default(), wish(true, true, true, true, 4082));
    assert_eq!(p.connect(), Ok(Response::Ack));
    p.host.start(p.now, &lead(Opcode::CHANNEL_LOCK, STREAM)).unwrap();
    p.host.start(p.now, &Request::new(Opcode::CHANNEL_READ, STREAM, read_req(0, 100))).unwrap();
    p
}

#[test]
fn a_refused_lock_still_gets_the_request_behind_it_answered_in_step() {
    let mut p = connected_with_lock_and_read();
    // Nothing published: the lock is refused, and the read behind it meets no frame.
    assert_eq!(p.complete(), Err(RequestError::Nak(Status::Busy)));
    assert!(matches!(p.complete(), Err(RequestError::Nak(_)) | Ok(Response::Data(_))));
    assert_eq!(data(p.request(Opcode::CHANNEL_POLL, ChannelId(0), vec![])).len(), 4, "still in step");
}

#[test]
fn a_lost_answer_ends_the_request_behind_it_too() {
    let mut p = connected_with_lock_and_read();
    let _lost = p.host.poll_transmit().unwrap();
    let at = p.host.poll_at().unwrap();
    p.host.handle_timeout(at);
    assert_eq!(p.host.poll_completion(), Some(Err(RequestError::Timeout)));
    assert_eq!(p.host.poll_completion(), Some(Err(RequestError::Timeout)));
    assert_eq!(p.host.poll_completion(), None);
    assert!(!p.host.is_busy());
    p.now = at;
    assert_eq!(p.connect(), Ok(Response::Ack));
    assert_eq!(data(p.request(Opcode::CHANNEL_POLL, ChannelId(0), vec![])).len(), 4);
}

#[test]
fn a_resync_reports_the_pair_it_cut_short_once() {
    let mut p = connected_with_lock_and_read();
    p.host.resync(p.now);
    assert_eq!(p.host.poll_completion(), Some(Err(RequestError::Aborted)));
    assert_eq!(p.complete(), Ok(Response::Ack), "then the resync's own completion");
}

#[test]
fn nothing_rides_behind_a_request_whose_answer_may_carry_data() {
    let mut p = Pair::new(DeviceConfig::default(), wish(true, true, true, true, 4082));
    assert_eq!(p.connect(), Ok(Response::Ack));
    p.host.start(p.now, &Request::new(Opcode::CHANNEL_LOCK, STREAM, vec![])).unwrap();
    let behind = p.host.start(p.now, &Request::new(Opcode::CHANNEL_POLL, ChannelId(0), vec![]));
    assert_eq!(behind, Err(StartError::Busy));
}
