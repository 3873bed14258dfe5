//! Property tests: no byte string makes a decoder or an engine panic; encoding and decoding
//! are inverse for any header and payload.

mod common;

use common::*;
use openmvproto::device::DeviceConfig;
use openmvproto::framing::{encode, Checksum, Decoder, FastCrc, Flags, FrameError, Header, Role};
use openmvproto::host::HostConfig;
use openmvproto::{ChannelId, Instant, Opcode};
use proptest::prelude::*;

fn header() -> impl Strategy<Value = Header> {
    (any::<u8>(), any::<u8>(), 0u8..64, any::<u8>()).prop_map(|(seq, ch, flags, op)| Header {
        seq,
        channel: ChannelId(ch),
        flags: Flags::from_bits_retain(flags),
        opcode: Opcode(op),
        length: 0,
    })
}

/// Bytes that are mostly garbage but often contain sync words and real packets.
fn wire() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..64),
        Just(vec![0xAA, 0xD5]),
        (header(), prop::collection::vec(any::<u8>(), 0..300), any::<bool>()).prop_map(|(h, p, crc)| {
            let mut out = vec![0; 400];
            let n = encode(&h, &p, crc.then_some(&FastCrc as &dyn Checksum), &mut out).unwrap();
            out.truncate(n);
            out
        }),
    ];
    prop::collection::vec(piece, 0..12).prop_map(|v| v.concat())
}

/// What a decoder hands out for `bytes` fed in `chunk`-byte pieces.
type Decoded = Vec<Result<(Header, Vec<u8>), FrameError>>;

fn decode_all<const IN_PLACE: bool>(role: Role, bytes: &[u8], chunk: usize, crc: bool, seq: Option<u8>) -> Decoded {
    let mut dec = Decoder::<512, IN_PLACE>::new(role);
    dec.set_crc(crc);
    dec.set_expected_seq(seq);
    let mut out = Vec::new();
    for piece in bytes.chunks(chunk) {
        let mut rest = piece;
        loop {
            let (used, res) = dec.feed(rest, &FastCrc);
            match res {
                Some(Ok(p)) => out.push(Ok((p.header, p.payload.to_vec()))),
                Some(Err(e)) => out.push(Err(e)),
                None if used == 0 => break,
                None => {}
            }
            rest = &rest[used..];
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// The copying decoder (the device's) and the in-place one (the host's) are one decoder:
    /// the same packets and errors, in the same order, for any bytes.
    #[test]
    fn copying_and_in_place_decoders_agree(bytes in wire(), chunk in 1usize..600, crc in any::<bool>(), seq in proptest::option::of(any::<u8>())) {
        for role in [Role::Device, Role::Host] {
            let in_place = decode_all::<true>(role, &bytes, chunk, crc, seq);
            let copying = decode_all::<false>(role, &bytes, chunk, crc, seq);
            prop_assert_eq!(copying, in_place);
        }
    }

    #[test]
    fn decoders_never_panic(bytes in wire(), chunk in 1usize..64, crc in any::<bool>(), seq in proptest::option::of(any::<u8>())) {
        for role in [Role::Device, Role::Host] {
            let mut dec = Decoder::<512>::new(role);
            dec.set_crc(crc);
            dec.set_expected_seq(seq);
            for piece in bytes.chunks(chunk) {
                let mut rest = piece;
                loop {
                    let max = dec.max_payload();
                    let (used, res) = dec.feed(rest, &FastCrc);
                    if let Some(Ok(p)) = res {
                        prop_assert!(p.payload.len() <= max);
                    }
                    rest = &rest[used..];
                    if used == 0 && res.is_none() {
                        break;
                    }
                }
            }
            prop_assert!(dec.buffered() <= 512);
        }
    }

    #[test]
    fn engines_never_panic(bytes in wire(), chunk in 1usize..300) {
        let mut p = Pair::new(DeviceConfig::default(), HostConfig::default());
        let mut now = 0u64;
        for piece in bytes.chunks(chunk) {
            now += 7;
            let t = Instant::from_millis(now);
            let mut rest = piece;
            while !rest.is_empty() {
                let used = p.device.handle_input(t, rest, &mut p.reg);
                while p.device.poll_transmit(t, &mut p.reg).is_some() {}
                p.device.handle_timeout(t);
                rest = &rest[used..];
            }
            p.host.handle_input(t, piece);
            p.host.handle_timeout(t);
            while p.host.poll_transmit().is_some() {}
        }
    }

    #[test]
    fn encode_decode_round_trip(h in header(), payload in prop::collection::vec(any::<u8>(), 0..4082), crc in any::<bool>(), chunk in 1usize..5000) {
        let mut out = vec![0; 4096];
        let c = crc.then_some(&FastCrc as &dyn Checksum);
        let n = encode(&h, &payload, c, &mut out).unwrap();
        let mut dec = Decoder::<4096>::new(Role::Host);
        dec.set_crc(crc);
        let mut got = None;
        for piece in out[..n].chunks(chunk) {
            let (used, res) = dec.feed(piece, &FastCrc);
            prop_assert_eq!(used, piece.len());
            if let Some(r) = res {
                let pkt = r.unwrap();
                got = Some((pkt.header, pkt.payload.to_vec()));
            }
        }
        let (gh, gp) = got.expect("decoded");
        prop_assert_eq!(gh, Header { length: payload.len() as u16, ..h });
        prop_assert_eq!(gp, payload);
    }
}
