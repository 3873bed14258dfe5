//! Hostile requests straight at the device engine, as raw packets: every malformed request of
//! PROTOCOL.md section 7 (and the framing errors of 3.5) gets its NAK status, and nothing
//! reaches a channel it should not.

mod common;

use common::*;
use openmvproto::channels::{Channel, ChannelFlags};
use openmvproto::device::{DeviceConfig, Registry};
use openmvproto::framing::{encode, Checksum, Decoder, FastCrc, Flags, Header, Role, Status};
use openmvproto::host::HostConfig;
use openmvproto::{ChannelId, Instant, Opcode};

fn packet(seq: u8, channel: u8, opcode: Opcode, payload: &[u8]) -> Vec<u8> {
    let h = Header { seq, channel: ChannelId(channel), flags: Flags::empty(), opcode, length: 0 };
    let mut out = vec![0; 16 + payload.len()];
    let n = encode(&h, payload, Some(&FastCrc as &dyn Checksum), &mut out).unwrap();
    out.truncate(n);
    out
}

/// Feeds `bytes` to the device and returns the headers and payloads of what it sends back.
fn exchange(p: &mut Pair, bytes: &[u8]) -> Vec<(Header, Vec<u8>)> {
    let now = Instant::from_millis(5_000);
    let mut wire = Vec::new();
    let mut rest = bytes;
    loop {
        let used = p.device.handle_input(now, rest, &mut p.reg);
        while let Some(pkt) = p.device.poll_transmit(now, &mut p.reg) {
            wire.extend_from_slice(pkt);
        }
        rest = &rest[used..];
        if rest.is_empty() || used == 0 && !p.device.is_busy() {
            break;
        }
    }
    let mut dec = Decoder::<4096>::new(Role::Host);
    let mut out = Vec::new();
    let mut rest = &wire[..];
    while !rest.is_empty() {
        let (used, res) = dec.feed(rest, &FastCrc);
        if let Some(Ok(pkt)) = res {
            out.push((pkt.header, pkt.payload.to_vec()));
        }
        rest = &rest[used..];
    }
    out
}

/// A request with the device's current seq, as a well-behaved host would send it.
fn request(p: &mut Pair, channel: u8, opcode: Opcode, payload: &[u8]) -> Vec<(Header, Vec<u8>)> {
    let bytes = packet(p.device.seq(), channel, opcode, payload);
    exchange(p, &bytes)
}

fn nak_of(answers: &[(Header, Vec<u8>)]) -> Status {
    let (h, body) = answers.last().expect("an answer");
    assert!(h.flags.contains(Flags::NAK), "not a NAK: {h:?}");
    Status::from_u16(u16::from_le_bytes([body[0], body[1]]))
}

/// A pair whose device has no ACK capability so answers are not held back.
fn pair() -> Pair {
    let mut p = Pair::new(DeviceConfig::default(), HostConfig::default());
    // Switch ACK off through a real SET_CAPS so the raw exchanges below need no ACKs.
    let mut caps = openmvproto::framing::payload::Caps::DEFAULT;
    caps.flags.remove(openmvproto::framing::payload::CapFlags::ACK);
    let a = exchange(&mut p, &packet(0, 0, Opcode::PROTO_SET_CAPS, &caps.to_bytes()));
    assert!(a[0].0.flags.contains(Flags::ACK));
    p
}

#[test]
fn write_whose_length_exceeds_its_payload_is_invalid() {
    let mut p = pair();
    let seq = p.device.seq();
    // offset 0, length 100, but only 4 data bytes came.
    let mut body = vec![0, 0, 0, 0, 100, 0, 0, 0];
    body.extend_from_slice(b"abcd");
    let a = exchange(&mut p, &packet(seq, MEM.0, Opcode::CHANNEL_WRITE, &body));
    assert_eq!(nak_of(&a), Status::Invalid);
    assert!(p.mem().data.is_empty(), "the channel was written");
    // Shorter than its 8-byte prefix.
    let a = request(&mut p, MEM.0, Opcode::CHANNEL_WRITE, &[1, 2, 3]);
    assert_eq!(nak_of(&a), Status::Invalid);
}

#[test]
fn ioctl_shorter_than_its_request_is_invalid() {
    let mut p = pair();
    for len in 0..4 {
        let a = request(&mut p, MEM.0, Opcode::CHANNEL_IOCTL, &[7; 4][..len]);
        assert_eq!(nak_of(&a), Status::Invalid, "{len} bytes");
    }
    assert_eq!(p.mem().last_ioctl, None);
}

#[test]
fn read_without_its_request_is_invalid() {
    let mut p = pair();
    p.mem().data = vec![9; 100];
    for len in [0usize, 4, 7, 9] {
        let a = request(&mut p, MEM.0, Opcode::CHANNEL_READ, &vec![0; len]);
        assert_eq!(nak_of(&a), Status::Invalid, "{len} bytes");
    }
    // A read past the channel's size would stream for ever: refused.
    let huge = [0u8, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF];
    assert_eq!(nak_of(&request(&mut p, MEM.0, Opcode::CHANNEL_READ, &huge)), Status::Invalid);
}

struct Probe;
impl Channel for Probe {
    fn flags(&self) -> ChannelFlags {
        ChannelFlags::READ
    }
    fn size(&mut self) -> Option<u32> {
        Some(31)
    }
}

#[test]
fn a_dynamic_channel_in_a_high_slot_is_reachable() {
    // Ids 1..=31 are all free in an empty table: user channels take them from 1 up.
    let probes: Vec<&'static mut Probe> = (0..31).map(|_| Box::leak(Box::new(Probe))).collect();
    let mut reg = Registry::new();
    let mut ids = Vec::new();
    for (i, pr) in probes.into_iter().enumerate() {
        ids.push(reg.register(&format!("user{i}"), pr).unwrap());
    }
    assert_eq!(ids.last(), Some(&ChannelId(31)));
    assert!(reg.register("one-too-many", Box::leak(Box::new(Probe))).is_err());
    assert_eq!(ids.first(), Some(&ChannelId(1)));
    // Free low slots: only 3 channels remain, the last one at id 31.
    for id in &ids[..28] {
        reg.unregister(*id);
    }
    let mut p = pair();
    p.reg = reg;
    let a = request(&mut p, 31, Opcode::CHANNEL_SIZE, &[]);
    assert_eq!(a[0].1, 31u32.to_le_bytes());
    // Out-of-table ids are refused, not looked up.
    for id in [0u8, 32, 200, 255] {
        assert_eq!(nak_of(&request(&mut p, id, Opcode::CHANNEL_SIZE, &[])), Status::Invalid);
    }
}

#[test]
fn framing_errors_get_their_nak() {
    let mut p = pair();
    // A header claiming more than max_payload: OVERFLOW.
    let h =
        Header { seq: p.device.seq(), channel: MEM, flags: Flags::empty(), opcode: Opcode::CHANNEL_SIZE, length: 5000 };
    let head = h.emit(Some(&FastCrc));
    assert_eq!(nak_of(&exchange(&mut p, &head)), Status::Overflow);
    // A payload failing its CRC: CHECKSUM, and the channel untouched.
    let mut bad = packet(p.device.seq(), MEM.0, Opcode::CHANNEL_WRITE, &[0, 0, 0, 0, 1, 0, 0, 0, b'x']);
    let last = bad.len() - 1;
    bad[last] ^= 0x40;
    assert_eq!(nak_of(&exchange(&mut p, &bad)), Status::Checksum);
    assert!(p.mem().data.is_empty());
    // A request with the wrong seq: SEQUENCE, and it is not executed.
    let wrong = p.device.seq().wrapping_add(3);
    let a = exchange(&mut p, &packet(wrong, MEM.0, Opcode::CHANNEL_WRITE, &[0, 0, 0, 0, 1, 0, 0, 0, b'y']));
    assert_eq!(nak_of(&a), Status::Sequence);
    assert_eq!(a[0].0.seq, wrong);
    assert!(p.mem().data.is_empty());
    // A system opcode on a channel: INVALID.
    assert_eq!(nak_of(&request(&mut p, 3, Opcode::SYS_INFO, &[])), Status::Invalid);
}

#[test]
fn a_stalled_packet_gives_way_to_sync() {
    let mut p = pair();
    // The start of a 3000-byte write that never completes, then garbage, then PROTO_SYNC.
    let full = packet(p.device.seq(), MEM.0, Opcode::CHANNEL_WRITE, &[0u8; 3000]);
    let mut bytes = full[..1200].to_vec();
    bytes.extend_from_slice(&[0xAA, 0x00, 0xD5, 0x13]);
    bytes.extend_from_slice(&packet(0, 0, Opcode::PROTO_SYNC, &[]));
    let a = exchange(&mut p, &bytes);
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].0.opcode, Opcode::PROTO_SYNC);
    assert!(a[0].0.flags.contains(Flags::ACK));
    assert_eq!(p.device.seq(), 0);
    // And the link works at once.
    let a = exchange(&mut p, &packet(0, 0, Opcode::PROTO_VERSION, &[]));
    assert_eq!(a[0].1.len(), 16);
}

#[test]
fn sync_releases_locks_and_restores_settings() {
    let mut p = pair();
    p.publish_frame(8, 8, 0);
    let a = request(&mut p, STREAM.0, Opcode::CHANNEL_LOCK, &[]);
    assert!(a[0].0.flags.contains(Flags::ACK));
    assert!(p.frame().is_locked());
    exchange(&mut p, &packet(0, 0, Opcode::PROTO_SYNC, &[]));
    assert!(!p.frame().is_locked());
    assert!(p.device.caps().ack(), "start-up settings restored");
}
