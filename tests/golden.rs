//! Every packet `openmv` 1.0.7 encoded (tests/vectors/packets.json, from shared/vectors):
//! encoding gives exactly its wire bytes, decoding gives its fields back.

use openmvproto::framing::{encode, Checksum, Decoder, FastCrc, Flags, Header, Role, SmallCrc, CRC16, CRC32};
use openmvproto::{ChannelId, Opcode};
use serde_json::Value;

fn vectors() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/packets.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn num(v: &Value) -> u64 {
    match v {
        Value::Number(n) => n.as_u64().unwrap(),
        Value::String(s) => u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap(),
        _ => panic!("not a number: {v}"),
    }
}

#[test]
fn crc_parameters_and_check_values() {
    let v = vectors();
    assert_eq!(CRC16.poly as u64, num(&v["crc16"]["poly"]));
    assert_eq!(CRC16.init as u64, num(&v["crc16"]["init"]));
    assert_eq!(CRC32.poly as u64, num(&v["crc32"]["poly"]));
    assert_eq!(CRC32.init as u64, num(&v["crc32"]["init"]));
    for c in [&FastCrc as &dyn Checksum, &SmallCrc] {
        assert_eq!(c.crc16(b"123456789") as u64, num(&v["crc16"]["check_123456789"]));
        assert_eq!(c.crc32(b"123456789") as u64, num(&v["crc32"]["check_123456789"]));
    }
}

#[test]
fn every_golden_packet_encodes_and_decodes() {
    let v = vectors();
    let packets = v["packets"].as_array().unwrap();
    assert!(packets.len() >= 18);
    for p in packets {
        let what = p["what"].as_str().unwrap();
        let payload = hex(p["payload_hex"].as_str().unwrap());
        let wire = hex(p["wire_hex"].as_str().unwrap());
        let crc_on = p["crc_enabled"].as_bool().unwrap();
        let header = Header {
            seq: num(&p["seq"]) as u8,
            channel: ChannelId(num(&p["channel"]) as u8),
            flags: Flags::from_bits_retain(num(&p["flags"]) as u8),
            opcode: Opcode(num(&p["opcode"]) as u8),
            length: payload.len() as u16,
        };
        let crc = crc_on.then_some(&FastCrc as &dyn Checksum);

        let mut out = [0u8; 4096];
        let n = encode(&header, &payload, crc, &mut out).unwrap();
        assert_eq!(&out[..n], &wire[..], "encode: {what}");

        // Whole, then one byte at a time: same packet back.
        for chunk in [wire.len(), 1] {
            let mut dec = Decoder::<4096>::new(Role::Host);
            dec.set_crc(crc_on);
            let mut got = None;
            for piece in wire.chunks(chunk) {
                let (used, res) = dec.feed(piece, &FastCrc);
                assert_eq!(used, piece.len(), "{what}");
                if let Some(r) = res {
                    let pkt = r.unwrap_or_else(|e| panic!("{what}: {e:?}"));
                    got = Some((pkt.header, pkt.payload.to_vec()));
                }
            }
            let (h, body) = got.unwrap_or_else(|| panic!("no packet decoded: {what}"));
            assert_eq!(h, header, "decode: {what}");
            assert_eq!(body, payload, "decode payload: {what}");
        }
    }
}

#[test]
fn a_flipped_bit_in_any_golden_packet_is_refused() {
    let v = vectors();
    for p in v["packets"].as_array().unwrap() {
        if !p["crc_enabled"].as_bool().unwrap() {
            continue;
        }
        let wire = hex(p["wire_hex"].as_str().unwrap());
        for bit in 16..wire.len() * 8 {
            let mut bad = wire.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            let mut dec = Decoder::<4096>::new(Role::Host);
            let (_, res) = dec.feed(&bad, &FastCrc);
            assert!(!matches!(res, Some(Ok(_))), "{} accepted with bit {bit} flipped", p["what"]);
        }
    }
}
