//! Framing throughput, printed as ratios against baselines measured in the same run:
//! plain memcpy of the same bytes, and CRC-32 alone. Decode+verify runs twice, with the
//! 16-table CRC (`TableCrc`) and with the host's `FastCrc` (SIMD carry-less multiply where the
//! CPU has it). Also compares CRC strategies by payload length, which is how `FastCrc` was
//! chosen. Run: `cargo bench --bench framing`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use crc::{Crc, NoTable};
use openmvproto::framing::{
    encode, Checksum, Decoder, FastCrc, Flags, Header, Role, SmallCrc, TableCrc, CRC32, DEFAULT_MAX_PAYLOAD, HEADER_LEN,
};
use openmvproto::{ChannelId, Opcode};

const PACKETS: usize = 4096; // 16 MiB of max-size packets per pass
const HOSTILE_BYTES: usize = 1 << 20; // junk-filled packets with bad CRCs per pass

/// Best of several timed passes of `f`, in bytes per second.
fn throughput(bytes: usize, mut f: impl FnMut()) -> f64 {
    f(); // warm up
    let mut best = Duration::MAX;
    for _ in 0..7 {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed());
    }
    bytes as f64 / best.as_secs_f64()
}

fn main() {
    let payload: Vec<u8> = (0..DEFAULT_MAX_PAYLOAD as u32).map(|i| (i * 31 + 7) as u8).collect();
    let mut wire = Vec::with_capacity(PACKETS * 4096);
    let mut buf = [0u8; 4096];
    for seq in 0..PACKETS {
        let h = Header {
            seq: seq as u8,
            channel: ChannelId(3),
            flags: Flags::FRAGMENT,
            opcode: Opcode::CHANNEL_READ,
            length: 0,
        };
        let n = encode(&h, &payload, Some(&FastCrc), &mut buf).unwrap();
        wire.extend_from_slice(&buf[..n]);
    }
    let total = wire.len();

    let mut dst = vec![0u8; total];
    let memcpy = throughput(total, || {
        dst.copy_from_slice(black_box(&wire));
        black_box(&dst);
    });

    let crc32_only = throughput(total, || {
        black_box(FastCrc.crc32(black_box(&wire)));
    });
    // One call per packet payload: the CRC work a decoder cannot avoid, since each packet
    // carries its own CRC. Against the single call above it adds the per-call cost of the
    // CRC code (large for crc-fast's wide-vector paths on some CPUs: the by-length table).
    let stride = total / PACKETS;
    let crc32_per_packet = throughput(total, || {
        for pkt in wire.chunks_exact(stride) {
            black_box(FastCrc.crc32(black_box(&pkt[HEADER_LEN..HEADER_LEN + payload.len()])));
        }
    });
    let crc32_table = throughput(total, || {
        black_box(TableCrc.crc32(black_box(&wire)));
    });

    let mut dec = Box::new(Decoder::<4096>::new(Role::Host));
    let mut decode_whole = |crc: &dyn Checksum| {
        throughput(total, || {
            let mut rest = &wire[..];
            let mut n = 0;
            while !rest.is_empty() {
                let (used, res) = dec.feed(rest, crc);
                if let Some(Ok(p)) = res {
                    n += p.payload.len();
                }
                rest = &rest[used..];
            }
            assert_eq!(n, PACKETS * payload.len());
        })
    };
    let decode_table = decode_whole(&TableCrc);
    let decode = decode_whole(&FastCrc);

    // The same bytes in 512-byte chunks, as a serial port delivers them: the buffered path.
    let decode_chunked = throughput(total, || {
        let mut n = 0;
        for chunk in wire.chunks(512) {
            let mut rest = chunk;
            loop {
                let (used, res) = dec.feed(rest, &FastCrc);
                if let Some(Ok(p)) = res {
                    n += p.payload.len();
                }
                rest = &rest[used..];
                if rest.is_empty() && res.is_none() {
                    break;
                }
            }
        }
        assert_eq!(n, PACKETS * payload.len());
    });

    // Hostile input (issue 9): packets whose payload is all `AA D5` and whose payload CRC is
    // wrong, in 512-byte chunks (the buffered path). Each failed packet costs one dropped
    // byte, then every `AA D5` left in the buffer is a candidate header to reject. Linear time
    // means the cost per input byte does not grow with the packet: max-size packets cost per
    // byte what quarter-size ones do (a memmove of the buffer per dropped byte made it grow
    // with the packet size).
    let hostile_max = hostile_rate(&mut dec, DEFAULT_MAX_PAYLOAD as usize);
    let hostile_quarter = hostile_rate(&mut dec, (DEFAULT_MAX_PAYLOAD as usize + 14) / 4 - 14);

    let encode_tp = throughput(total, || {
        let h =
            Header { seq: 1, channel: ChannelId(3), flags: Flags::empty(), opcode: Opcode::CHANNEL_READ, length: 0 };
        for _ in 0..PACKETS {
            black_box(encode(&h, black_box(&payload), Some(&FastCrc), &mut buf).unwrap());
        }
    });

    let gb = |v: f64| v / 1e9;
    println!("framing throughput, {} max-size packets ({} MiB) per pass, best of 7", PACKETS, total >> 20);
    let path = if FastCrc::simd() { "SIMD carry-less multiply" } else { "no SIMD on this CPU: tables" };
    println!("  memcpy (baseline)        {:7.2} GB/s", gb(memcpy));
    println!("  CRC-32 16-table          {:7.2} GB/s", gb(crc32_table));
    println!(
        "  CRC-32 FastCrc (baseline){:7.2} GB/s   {:5.2}x the table CRC ({path})",
        gb(crc32_only),
        crc32_only / crc32_table
    );
    println!(
        "  CRC-32 FastCrc per packet{:7.2} GB/s   one call per payload, what the decoder must compute",
        gb(crc32_per_packet)
    );
    println!("  decode+verify, table CRC {:7.2} GB/s   {:5.2}x memcpy time", gb(decode_table), memcpy / decode_table);
    println!(
        "  decode+verify, whole     {:7.2} GB/s   {:5.2}x CRC-32 time ({:4.2}x per packet), {:5.2}x memcpy time, {:5.2}x the table-CRC decode",
        gb(decode),
        crc32_only / decode,
        crc32_per_packet / decode,
        memcpy / decode,
        decode / decode_table
    );
    println!(
        "  decode+verify, 512 B     {:7.2} GB/s   {:5.2}x CRC-32 time, {:5.2}x memcpy time",
        gb(decode_chunked),
        crc32_only / decode_chunked,
        memcpy / decode_chunked
    );
    let ns_per_byte = |bps: f64| 1e9 / bps;
    println!(
        "  hostile, max-size, 512 B {:7.3} ns/byte   {:5.2}x clean decode (512 B) time per byte",
        ns_per_byte(hostile_max),
        decode_chunked / hostile_max
    );
    println!(
        "  hostile, 1/4 size, 512 B {:7.3} ns/byte   max-size costs {:.2}x this per byte",
        ns_per_byte(hostile_quarter),
        hostile_quarter / hostile_max
    );
    println!("    (1 MiB of packets whose payload is all `AA D5`, payload CRC broken)");
    println!(
        "  encode                   {:7.2} GB/s   {:5.2}x CRC-32 time, {:5.2}x memcpy time",
        gb(encode_tp),
        crc32_only / encode_tp,
        memcpy / encode_tp
    );

    println!("CRC-32 strategies (the `crc` crate's tables, `crc-fast` SIMD):");
    type Crc32Fn = fn(&[u8]) -> u32;
    let strategies: [(&str, Crc32Fn); 4] = [
        ("NoTable", |b| Crc::<u32, NoTable>::new(&CRC32).checksum(b)),
        ("Table<1> (SmallCrc)", |b| SmallCrc.crc32(b)),
        ("Table<16> (TableCrc)", |b| TableCrc.crc32(b)),
        ("FastCrc", |b| FastCrc.crc32(b)),
    ];
    let sample = &wire[..1 << 22];
    for (name, f) in strategies.iter() {
        let tp = throughput(sample.len(), || {
            black_box(f(black_box(sample)));
        });
        println!("  {name:24} {:7.2} GB/s", gb(tp));
    }
    crc_by_length(&wire);

    // The real `openmv` 1.0.7 host on a 4 MiB slice of the same packets, if its venv is there.
    let python = concat!(env!("CARGO_MANIFEST_DIR"), "/target/venv-openmv/bin/python");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/decode_bench.py");
    let path = std::env::temp_dir().join(format!("omv-framing-{}.bin", std::process::id()));
    std::fs::write(&path, &wire[..1 << 22]).unwrap();
    let out = std::process::Command::new(python).arg(script).arg(&path).output();
    let _ = std::fs::remove_file(&path);
    match out.ok().and_then(|o| String::from_utf8(o.stdout).ok()?.trim().parse::<f64>().ok()) {
        Some(py) => {
            println!("  openmv 1.0.7 decode (Python) {:7.4} GB/s   this decoder is {:.0}x faster", gb(py), decode / py)
        }
        None => println!("  openmv 1.0.7 decode: not measured (no venv: scripts/openmv-venv.sh)"),
    }

    let within_2x = |crc: f64| gb(decode) >= 1.0 && crc / decode <= 2.0;
    println!(
        "target (>= 1 GB/s and within 2x of CRC-32 alone): {}",
        if within_2x(crc32_only) { "met" } else { "NOT met" }
    );
    // Printed beside the target, not instead of it: the same bound against the CRC calls the
    // packets require, which separates the decoder's own cost from the CRC code's call cost.
    println!(
        "  against one CRC-32 call per packet: {:.2}x, {}",
        crc32_per_packet / decode,
        if within_2x(crc32_per_packet) { "within 2x" } else { "NOT within 2x" }
    );
    // Linear: the cost per junk byte does not depend on the size of the packet it came in.
    let linear = hostile_quarter / hostile_max <= 1.5;
    println!(
        "target (hostile input linear: max-size within 1.5x of 1/4-size per byte): {}",
        if linear { "met" } else { "NOT met" }
    );
}

/// Bytes per second the decoder takes in packets with `payload` bytes of `AA D5` and a broken
/// payload CRC, fed in 512-byte chunks; every packet must be refused.
fn hostile_rate(dec: &mut Decoder<4096>, payload: usize) -> f64 {
    let junk: Vec<u8> = [0xAA, 0xD5].iter().copied().cycle().take(payload).collect();
    let mut buf = [0u8; 4096];
    let mut wire = Vec::with_capacity(HOSTILE_BYTES + 4096);
    let mut packets = 0;
    while wire.len() < HOSTILE_BYTES {
        let h = Header {
            seq: packets as u8,
            channel: ChannelId(3),
            flags: Flags::FRAGMENT,
            opcode: Opcode::CHANNEL_READ,
            length: 0,
        };
        let n = encode(&h, &junk, Some(&FastCrc), &mut buf).unwrap();
        buf[n - 1] ^= 0xFF; // break the payload CRC
        wire.extend_from_slice(&buf[..n]);
        packets += 1;
    }
    throughput(wire.len(), || {
        let mut errors = 0;
        for chunk in wire.chunks(512) {
            let mut rest = chunk;
            loop {
                let (used, res) = dec.feed(rest, &FastCrc);
                match res {
                    Some(Ok(_)) => panic!("a packet with a broken CRC was accepted"),
                    Some(Err(_)) => errors += 1,
                    None => {}
                }
                rest = &rest[used..];
                if rest.is_empty() && res.is_none() {
                    break;
                }
            }
        }
        assert!(errors >= packets);
    })
}

/// Short payloads (an ACK's or a small read's): the 16-table CRC against `crc-fast` called
/// directly, by length, which is where `FastCrc`'s cut-over from tables to SIMD comes from.
fn crc_by_length(bytes: &[u8]) {
    if !FastCrc::simd() {
        println!("  by length: no SIMD CRC on this CPU");
        return;
    }
    assert_eq!(FastCrc::simd_crc32(b"123456789"), Some(CRC32.check));
    println!("  by length (ns per call)   16-table   crc-fast   FastCrc   SIMD/table speed");
    for len in [8usize, 16, 32, 48, 64, 96, 128, 256, 1024, 4096] {
        let calls = (1 << 20) / len.max(64);
        let per_call = |f: &dyn Fn(&[u8]) -> u32| {
            let rate = throughput(calls, || {
                for i in 0..calls {
                    let at = (i * 7) % 64;
                    black_box(f(black_box(&bytes[at..at + len])));
                }
            });
            1e9 / rate
        };
        let table = per_call(&|b| TableCrc.crc32(b));
        let simd = per_call(&|b| FastCrc::simd_crc32(b).unwrap_or_default());
        let fast = per_call(&|b| FastCrc.crc32(b));
        println!("  {len:6} B                 {table:8.1}   {simd:8.1}   {fast:7.1}   {:6.2}x", table / simd);
    }
}
