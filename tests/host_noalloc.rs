//! The heap-free host machine (`HostMachine` over fixed buffers and caller memory) against the
//! device engine in memory: every opcode, every fragment size, events between fragments,
//! answers larger than the caller's buffer, and any chunking of the received bytes.

mod common;

use std::collections::VecDeque;

use common::*;
use openmvproto::device::{DeviceConfig, Event};
use openmvproto::framing::payload::{
    event, ioctl, Caps, ChannelEntry, FrameHeader, MemoryEntry, ProtoStats, SysInfo, Version,
};
use openmvproto::framing::{FastCrc, Flags, Status};
use openmvproto::host::{
    ByteBuf, FixedBuf, FixedHost, HostConfig, HostMachine, MachineError, Outcome, RequestError, SliceBuf,
};
use openmvproto::{ChannelId, Opcode};
use proptest::prelude::*;

/// Answers up to 12 KiB, one 4 KiB request or many ACKs queued, 8 events held.
type Small = FixedHost<FastCrc, 4096, 12_288, 4200, 8>;

/// A heap-free host joined to the device of a [`Pair`] (whose own alloc host stays unused).
struct Rig<A: ByteBuf> {
    pair: Pair,
    host: HostMachine<FastCrc, A, FixedBuf<4200>, 4096, 8>,
    to_dev: VecDeque<u8>,
    to_host: VecDeque<u8>,
    /// Sizes of the chunks the host is handed, used in turn.
    chunks: Vec<usize>,
    next_chunk: usize,
    events: Vec<openmvproto::host::DeviceEvent>,
}

impl<A: ByteBuf> Rig<A> {
    fn new(device: DeviceConfig, host: HostConfig, answer: A) -> Self {
        Rig {
            pair: Pair::new(device, host),
            host: HostMachine::new(host, FastCrc, answer, FixedBuf::new()),
            to_dev: VecDeque::new(),
            to_host: VecDeque::new(),
            chunks: vec![usize::MAX],
            next_chunk: 0,
            events: Vec::new(),
        }
    }

    fn chunk(&mut self) -> usize {
        let c = self.chunks[self.next_chunk % self.chunks.len()];
        self.next_chunk += 1;
        c.max(1)
    }

    fn drain_device(&mut self) {
        let p = &mut self.pair;
        while let Some(bytes) = p.device.poll_transmit(p.now, &mut p.reg) {
            let is_event = bytes[4] & Flags::EVENT.bits() != 0;
            self.to_host.extend(bytes);
            if let (Some(e), false) = (p.inject_event, is_event) {
                let _ = p.device.queue_event(e);
            }
        }
    }

    fn pump(&mut self) -> bool {
        let mut moved = false;
        let tx = self.host.tx_mut();
        if !tx.is_empty() {
            self.to_dev.extend(tx.as_slice());
            tx.clear();
            moved = true;
        }
        loop {
            self.drain_device();
            if self.to_dev.is_empty() {
                break;
            }
            let chunk: Vec<u8> = self.to_dev.iter().copied().collect();
            let p = &mut self.pair;
            let used = p.device.handle_input(p.now, &chunk, &mut p.reg);
            self.to_dev.drain(..used);
            moved |= used > 0;
            if used == 0 {
                break;
            }
        }
        self.drain_device();
        while !self.to_host.is_empty() {
            let n = self.chunk().min(self.to_host.len());
            let piece: Vec<u8> = self.to_host.drain(..n).collect();
            self.host.handle_input(self.pair.now, &piece);
            moved = true;
            // Read after every chunk, as a main loop would: the ring holds only 8.
            while let Some(e) = self.host.poll_event() {
                self.events.push(e);
            }
        }
        moved
    }

    /// Runs until the request completes, jumping the clock to the next deadline when idle.
    fn complete(&mut self) -> Result<Outcome, MachineError> {
        for _ in 0..1_000_000 {
            let moved = self.pump();
            if let Some(r) = self.host.poll_completion() {
                return r;
            }
            if !moved {
                let next = [self.host.poll_at(), self.pair.device.poll_at()].into_iter().flatten().min();
                let t = next.expect("idle with no deadline and no completion");
                self.pair.now = self.pair.now.max(t);
                self.pair.device.handle_timeout(self.pair.now);
                self.host.handle_timeout(self.pair.now);
            }
        }
        panic!("request never completed");
    }

    fn request(&mut self, opcode: Opcode, channel: ChannelId, payload: &[u8]) -> Result<Outcome, MachineError> {
        let limit = match (opcode, payload.get(4..8)) {
            (Opcode::CHANNEL_READ, Some(l)) => u32::from_le_bytes(l.try_into().unwrap()) as usize,
            _ => 64 * 1024,
        };
        self.host.start(self.pair.now, opcode, channel, payload, limit).unwrap();
        self.complete()
    }

    /// The request's answer data; panics on anything else.
    fn data(&mut self, opcode: Opcode, channel: ChannelId, payload: &[u8]) -> Vec<u8> {
        match self.request(opcode, channel, payload) {
            Ok(Outcome::Data(n)) => {
                assert_eq!(n, self.host.answer().len());
                self.host.answer().as_slice().to_vec()
            }
            other => panic!("expected data, got {other:?}"),
        }
    }

    fn connect(&mut self) -> Result<Outcome, MachineError> {
        self.host.resync(self.pair.now);
        self.complete()
    }
}

fn nak(s: Status) -> Result<Outcome, MachineError> {
    Err(MachineError::Request(RequestError::Nak(s)))
}

fn u32_of(d: Vec<u8>) -> u32 {
    u32::from_le_bytes(d.try_into().unwrap())
}

fn small(device: DeviceConfig, host: HostConfig) -> Rig<FixedBuf<12_288>> {
    Rig::new(device, host, FixedBuf::new())
}

/// One of every request through the heap-free host, each answer checked.
fn every_opcode(r: &mut Rig<FixedBuf<12_288>>) {
    assert_eq!(r.connect(), Ok(Outcome::Ack));
    let caps = r.host.caps();
    assert_eq!(r.pair.device.caps(), caps);

    let got = Caps::parse(&r.data(Opcode::PROTO_GET_CAPS, ChannelId(0), &[])).unwrap();
    assert_eq!(got.max_payload, 4082);
    let bad = Caps { max_payload: 49, ..caps }.to_bytes();
    assert_eq!(r.request(Opcode::PROTO_SET_CAPS, ChannelId(0), &bad), nak(Status::Invalid));
    assert_eq!(r.request(Opcode::PROTO_SET_CAPS, ChannelId(0), &caps.to_bytes()), Ok(Outcome::Ack));
    let stats = ProtoStats::parse(&r.data(Opcode::PROTO_STATS, ChannelId(0), &[])).unwrap();
    assert!(stats.received >= 4 && stats.sent >= 4, "{stats:?}");
    let v = Version::parse(&r.data(Opcode::PROTO_VERSION, ChannelId(0), &[])).unwrap();
    assert_eq!((v.protocol, v.firmware.0), (Version::PROTOCOL, 4));
    let info = r.data(Opcode::SYS_INFO, ChannelId(0), &[]);
    assert_eq!(SysInfo::parse(&info).unwrap().usb_vid(), 0x37C5);
    let mem = r.data(Opcode::SYS_MEMORY, ChannelId(0), &[]);
    assert_eq!(mem.len(), 4 + 2 * MemoryEntry::LEN);
    assert_eq!(MemoryEntry::parse(&mem[4 + 24..]).unwrap().total, 2000);

    let list = r.data(Opcode::CHANNEL_LIST, ChannelId(0), &[]);
    let names: Vec<_> = list
        .chunks(16)
        .map(|c| ChannelEntry::parse(c).unwrap())
        .map(|e| (e.id.0, e.name().unwrap().to_string()))
        .collect();
    assert_eq!(names, [(1, "stdin".into()), (2, "stdout".into()), (3, "stream".into()), (4, "mem".into())]);

    r.pair.stdout().push(b"hello from the cam\n");
    r.pair.publish_frame(64, 48, 3);
    let payload = pattern(10_000, 1);
    let piece = caps.max_payload as usize - 8;
    for (i, part) in payload.chunks(piece).enumerate() {
        let w = write_req((i * piece) as u32, part);
        assert_eq!(r.request(Opcode::CHANNEL_WRITE, MEM, &w), Ok(Outcome::Ack));
    }
    assert_eq!(r.pair.mem().data, payload);
    assert_eq!(u32_of(r.data(Opcode::CHANNEL_POLL, ChannelId(0), &[])), 1 << 2 | 1 << 3 | 1 << 4);
    assert_eq!(u32_of(r.data(Opcode::CHANNEL_SIZE, MEM, &[])), 10_000);
    assert_eq!(r.data(Opcode::CHANNEL_SHAPE, MEM, &[]), [10_000u32.to_le_bytes(), 7u32.to_le_bytes()].concat());
    assert_eq!(r.data(Opcode::CHANNEL_READ, MEM, &read_req(0, 10_000)), payload);
    assert_eq!(r.data(Opcode::CHANNEL_READ, MEM, &read_req(1234, 77)), payload[1234..1311]);
    assert_eq!(r.request(Opcode::CHANNEL_IOCTL, MEM, &[7, 0, 0, 0, 9]), Ok(Outcome::Ack));
    assert_eq!(r.pair.mem().last_ioctl, Some((7, vec![9])));
    assert_eq!(r.request(Opcode::CHANNEL_IOCTL, MEM, &[99, 0, 0, 0]), nak(Status::Failed));

    assert_eq!(r.request(Opcode::CHANNEL_LOCK, STREAM, &[]), Ok(Outcome::Ack));
    assert_eq!(r.request(Opcode::CHANNEL_LOCK, MEM, &[]), nak(Status::Busy));
    let size = u32_of(r.data(Opcode::CHANNEL_SIZE, STREAM, &[]));
    let frame = r.data(Opcode::CHANNEL_READ, STREAM, &read_req(0, size));
    let h = FrameHeader::parse(&frame).unwrap();
    assert_eq!((h.width, h.height), (64, 48));
    let px = &frame[h.offset as usize..];
    assert!(px.len() == 64 * 48 && px.iter().enumerate().all(|(i, &v)| v as usize == (i % 64 + i / 64 + 3) % 256));
    assert_eq!(r.request(Opcode::CHANNEL_UNLOCK, STREAM, &[]), Ok(Outcome::Ack));
    assert_eq!(r.request(Opcode::CHANNEL_UNLOCK, STREAM, &[]), nak(Status::Busy));

    let n = u32_of(r.data(Opcode::CHANNEL_SIZE, STDOUT, &[]));
    assert_eq!(r.data(Opcode::CHANNEL_READ, STDOUT, &read_req(0, n)), b"hello from the cam\n");
    assert_eq!(r.request(Opcode::CHANNEL_WRITE, STDIN, &write_req(0, b"print(1)")), Ok(Outcome::Ack));
    assert_eq!(r.request(Opcode::CHANNEL_IOCTL, STDIN, &ioctl::STDIN_EXEC.to_le_bytes()), Ok(Outcome::Ack));

    assert_eq!(r.request(Opcode(0x77), ChannelId(0), &[]), nak(Status::Invalid));
    assert_eq!(r.request(Opcode::CHANNEL_SIZE, ChannelId(9), &[]), nak(Status::Invalid));
    assert_eq!(r.request(Opcode::SYS_RESET, ChannelId(0), &[]), Err(MachineError::Request(RequestError::Timeout)));
    assert_eq!(r.request(Opcode::SYS_BOOT, ChannelId(0), &[]), Err(MachineError::Request(RequestError::Timeout)));
    assert_eq!((r.pair.resets.get(), r.pair.boots.get()), (1, 1));
    assert_eq!(r.connect(), Ok(Outcome::Ack));
    assert_eq!(r.data(Opcode::CHANNEL_READ, MEM, &read_req(5000, 5000)), payload[5000..]);
    assert_eq!(r.host.seq(), r.pair.device.seq());
}

#[test]
fn every_opcode_with_every_capability_combination() {
    for bits in 0..16u8 {
        let (crc, seq, ack, ev) = (bits & 1 != 0, bits & 2 != 0, bits & 4 != 0, bits & 8 != 0);
        for max in [50, 512, 4082] {
            let mut r = small(DeviceConfig::default(), wish(crc, seq, ack, ev, max));
            every_opcode(&mut r);
            assert_eq!(r.host.caps().crc(), crc);
            assert_eq!(r.host.caps().max_payload, max);
        }
    }
}

#[test]
fn fragment_sizes_and_max_payloads() {
    let payload = pattern(9000, 2);
    for max in [50u16, 64, 511, 512, 1000, 4082] {
        for frag in (50..=4082u16).step_by(53).chain([4082]) {
            let mut r = small(
                DeviceConfig { fragment_size: frag, ..DeviceConfig::default() },
                wish(true, true, true, true, max),
            );
            r.pair.mem().data = payload.clone();
            assert_eq!(r.connect(), Ok(Outcome::Ack));
            let len = 9000 - (frag as usize % 97);
            assert_eq!(
                r.data(Opcode::CHANNEL_READ, MEM, &read_req(0, len as u32)),
                payload[..len],
                "frag {frag} max {max}"
            );
        }
    }
}

#[test]
fn events_between_fragments_with_and_without_ack() {
    let payload = pattern(12_000, 3);
    for (ack, confirmed) in [(false, false), (true, false), (true, true)] {
        let mut r =
            small(DeviceConfig { fragment_size: 100, ..DeviceConfig::default() }, wish(true, true, ack, true, 4082));
        r.pair.mem().data = payload.clone();
        r.chunks = vec![600];
        assert_eq!(r.connect(), Ok(Outcome::Ack));
        r.pair.inject_event = Some(Event { channel: STREAM, code: event::NOTIFY, confirmed });
        assert_eq!(r.data(Opcode::CHANNEL_READ, MEM, &read_req(0, 12_000)), payload);
        // One event per fragment (coalesced while queued): 120 fragments.
        assert!(r.events.len() >= 119, "events: {}", r.events.len());
        assert!(r.events.iter().all(|e| e.channel == STREAM && e.code == event::NOTIFY));
        assert_eq!(r.host.events_dropped(), 0);
        assert_eq!(r.host.seq(), r.pair.device.seq());
    }
}

#[test]
fn a_full_event_ring_drops_the_oldest_and_counts() {
    let mut r =
        small(DeviceConfig { fragment_size: 100, ..DeviceConfig::default() }, wish(true, true, false, true, 4082));
    r.pair.mem().data = pattern(3000, 5);
    assert_eq!(r.connect(), Ok(Outcome::Ack));
    // Events arrive in one chunk with the answer: more than the ring holds before anyone reads.
    r.pair.inject_event = Some(Event { channel: STREAM, code: event::NOTIFY, confirmed: false });
    r.host.start(r.pair.now, Opcode::CHANNEL_READ, MEM, &read_req(0, 3000), 3000).unwrap();
    let tx = r.host.tx_mut().as_slice().to_vec();
    r.host.tx_mut().clear();
    let p = &mut r.pair;
    assert_eq!(p.device.handle_input(p.now, &tx, &mut p.reg), tx.len());
    let mut all = Vec::new();
    while let Some(b) = p.device.poll_transmit(p.now, &mut p.reg) {
        let is_event = b[4] & Flags::EVENT.bits() != 0;
        all.extend_from_slice(b);
        if !is_event {
            let _ = p.device.queue_event(Event { channel: STREAM, code: event::NOTIFY, confirmed: false });
        }
    }
    r.host.handle_input(r.pair.now, &all);
    assert!(matches!(r.host.poll_completion(), Some(Ok(Outcome::Data(3000)))));
    let mut held = 0;
    while r.host.poll_event().is_some() {
        held += 1;
    }
    assert_eq!(held, 8);
    assert!(r.host.events_dropped() >= 20, "dropped {}", r.host.events_dropped());
}

#[test]
fn answer_larger_than_the_caller_buffer_is_a_typed_error() {
    let payload = pattern(5000, 6);
    let mut mem = [0u8; 1000];
    {
        let mut r = Rig::new(
            DeviceConfig { fragment_size: 300, ..DeviceConfig::default() },
            wish(true, true, true, true, 4082),
            SliceBuf::new(&mut mem),
        );
        r.pair.mem().data = payload.clone();
        assert_eq!(r.connect(), Ok(Outcome::Ack));
        // Fits: read straight into the caller's array.
        assert_eq!(r.data(Opcode::CHANNEL_READ, MEM, &read_req(100, 1000)), payload[100..1100]);
        // Larger than the array, found in the last packet and in a fragment: AnswerFull, and
        // never a byte past the array; the caller resynchronises and the link works again.
        for len in [1001, 1500] {
            assert_eq!(r.request(Opcode::CHANNEL_READ, MEM, &read_req(0, len)), Err(MachineError::AnswerFull));
            assert_eq!(r.host.answer().as_slice(), &payload[..900]);
            assert!(!r.host.is_busy());
            assert_eq!(r.connect(), Ok(Outcome::Ack));
        }
        // A request's own limit still comes first: TooLong.
        r.host.start(r.pair.now, Opcode::CHANNEL_READ, MEM, &read_req(0, 900), 800).unwrap();
        assert_eq!(r.complete(), Err(MachineError::Request(RequestError::TooLong)));
        assert_eq!(r.connect(), Ok(Outcome::Ack));
        assert_eq!(r.data(Opcode::CHANNEL_READ, MEM, &read_req(4000, 1000)), payload[4000..]);
    }
    assert_eq!(mem[..], payload[4000..]);
}

#[test]
fn a_request_larger_than_the_transmit_buffer_does_not_start() {
    let mut h: FixedHost<FastCrc, 256, 64, 100, 2> =
        HostMachine::new(HostConfig::default(), FastCrc, FixedBuf::new(), FixedBuf::new());
    let too_big = write_req(0, &[1; 90]);
    assert_eq!(
        h.start(openmvproto::Instant::ZERO, Opcode::CHANNEL_WRITE, MEM, &too_big, 0),
        Err(openmvproto::host::StartError::TooLarge)
    );
    assert!(!h.is_busy());
    assert_eq!(h.start(openmvproto::Instant::ZERO, Opcode::CHANNEL_WRITE, MEM, &write_req(0, &[1; 40]), 0), Ok(()));
    assert_eq!(h.tx_mut().len(), 14 + 48);
}

#[test]
fn built_in_place_like_firmware_does() {
    let mut slot = Box::new(std::mem::MaybeUninit::<Small>::uninit());
    let h = Small::new_in(&mut slot, HostConfig::default(), FastCrc, FixedBuf::new(), FixedBuf::new());
    assert_eq!(h.caps(), Caps::DEFAULT);
    assert!(!h.is_busy() && h.poll_at().is_none() && h.tx_mut().is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Any fragment size, max_payload and chunking of what the host receives: the answer is
    /// the channel's bytes and the counters stay in step.
    #[test]
    fn any_fragmenting_and_chunking(
        frag in 50u16..=4082,
        max in 50u16..=4082,
        chunks in proptest::collection::vec(1usize..700, 1..6),
        offset in 0u32..2000,
        len in 0u32..10_000,
        ack in any::<bool>(),
        events in any::<bool>(),
    ) {
        let payload = pattern(12_000, 9);
        let mut r = small(DeviceConfig { fragment_size: frag, ..DeviceConfig::default() }, wish(true, true, ack, true, max));
        r.chunks = chunks;
        r.pair.mem().data = payload.clone();
        prop_assert_eq!(r.connect(), Ok(Outcome::Ack));
        if events {
            r.pair.inject_event = Some(Event { channel: STDOUT, code: event::NOTIFY, confirmed: ack });
        }
        let got = r.data(Opcode::CHANNEL_READ, MEM, &read_req(offset, len));
        prop_assert_eq!(&got[..], &payload[offset as usize..(offset + len) as usize]);
        let w = write_req(0, &payload[..max as usize - 8]);
        prop_assert_eq!(r.request(Opcode::CHANNEL_WRITE, MEM, &w), Ok(Outcome::Ack));
        prop_assert_eq!(&r.pair.mem().data[..], &payload[..max as usize - 8]);
        prop_assert_eq!(r.host.seq(), r.pair.device.seq());
    }
}
