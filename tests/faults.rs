//! Fault injection in memory: bytes dropped, flipped, duplicated and chunks truncated in both
//! directions. Every request completes with the exact data or fails with a typed error, a
//! resync brings the link back, and nothing hangs (`Pair::complete` panics on a hang).

mod common;

use common::*;
use openmvproto::device::DeviceConfig;
use openmvproto::framing::payload::{ReadRequest, WriteRequest};
use openmvproto::host::{RequestError, Response};
use openmvproto::Opcode;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// Resyncs until it works; under heavy faults it may never, which is fine if it ends.
fn resync_until_ok(p: &mut Pair) -> bool {
    (0..50).any(|_| match p.connect() {
        Ok(r) => {
            assert_eq!(r, Response::Ack);
            true
        }
        Err(e) => {
            assert!(
                matches!(
                    e,
                    RequestError::Timeout
                        | RequestError::Nak(_)
                        | RequestError::Unexpected
                        | RequestError::Sequence
                        | RequestError::BadCaps
                ),
                "{e:?}"
            );
            false
        }
    })
}

fn run(seed: u64, ack: bool, faults: Faults) -> (u32, u32) {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut p =
        Pair::new(DeviceConfig { fragment_size: 700, ..DeviceConfig::default() }, wish(true, true, ack, true, 4082))
            .seeded(seed);
    assert!(resync_until_ok(&mut p));
    p.faults_to_dev = faults;
    p.faults_to_host = faults;
    let (mut ok, mut failed) = (0, 0);
    let mut known: Option<Vec<u8>> = None;
    for _ in 0..60 {
        p.chunk = rng.gen_range(1..5000);
        let result = if rng.gen_bool(0.5) {
            let data: Vec<u8> = (0..rng.gen_range(1..4000)).map(|_| rng.gen()).collect();
            let mut payload = WriteRequest::prefix(0, data.len() as u32).to_vec();
            payload.extend_from_slice(&data);
            let r = p.request(Opcode::CHANNEL_WRITE, MEM, payload);
            match &r {
                Ok(resp) => {
                    assert_eq!(*resp, Response::Ack);
                    known = Some(data);
                }
                Err(_) => known = None,
            }
            r.map(|_| ())
        } else if let Some(k) = known.clone() {
            let r = p.request(
                Opcode::CHANNEL_READ,
                MEM,
                ReadRequest { offset: 0, length: k.len() as u32 }.to_bytes().to_vec(),
            );
            if let Ok(resp) = &r {
                assert_eq!(*resp, Response::Data(k), "seed {seed}: wrong data accepted");
            }
            r.map(|_| ())
        } else {
            continue;
        };
        match result {
            Ok(()) => ok += 1,
            Err(e) => {
                assert!(
                    matches!(
                        e,
                        RequestError::Timeout
                            | RequestError::Nak(_)
                            | RequestError::Unexpected
                            | RequestError::Sequence
                    ),
                    "{e:?}"
                );
                failed += 1;
                resync_until_ok(&mut p);
            }
        }
    }
    // Faults off: the link must work again after one resync.
    p.faults_to_dev = Faults::default();
    p.faults_to_host = Faults::default();
    assert_eq!(p.connect(), Ok(Response::Ack), "seed {seed}");
    let data: Vec<u8> = (0..9000u32).map(|i| (i * 7) as u8).collect();
    let mut payload = WriteRequest::prefix(0, 4000).to_vec();
    payload.extend_from_slice(&data[..4000]);
    assert_eq!(p.request(Opcode::CHANNEL_WRITE, MEM, payload), Ok(Response::Ack));
    let r = p.request(Opcode::CHANNEL_READ, MEM, ReadRequest { offset: 0, length: 4000 }.to_bytes().to_vec());
    assert_eq!(r, Ok(Response::Data(data[..4000].to_vec())));
    assert_eq!(p.host.seq(), p.device.seq());
    (ok, failed)
}

#[test]
fn requests_survive_or_fail_cleanly_under_faults() {
    // Per byte, so a 4 KiB packet meets a fault about one time in five.
    let faults = Faults { drop: 2e-5, flip: 2e-5, dup: 2e-5, truncate: 0.01 };
    let (mut ok, mut failed) = (0, 0);
    for seed in 0..12 {
        for ack in [true, false] {
            let (o, f) = run(seed, ack, faults);
            ok += o;
            failed += f;
        }
    }
    eprintln!("under faults: {ok} requests completed exactly, {failed} failed with a typed error");
    // The faults must actually bite, and most requests still get through.
    assert!(failed > 10, "faults too rare to test anything: {failed} failures");
    assert!(ok > failed, "ok {ok} failed {failed}");
}

#[test]
fn heavy_faults_never_hang() {
    let faults = Faults { drop: 0.003, flip: 0.003, dup: 0.003, truncate: 0.1 };
    for seed in 100..104 {
        run(seed, true, faults);
    }
}

#[test]
fn retransmission_recovers_lost_fragments_without_error() {
    // Only the device -> host direction loses whole chunks; with ACK on the device resends.
    let mut p =
        Pair::new(DeviceConfig { fragment_size: 200, ..DeviceConfig::default() }, wish(true, true, true, true, 4082));
    p.mem().data = (0..20_000u32).map(|i| (i % 251) as u8).collect();
    assert_eq!(p.connect(), Ok(Response::Ack));
    p.faults_to_host = Faults { truncate: 0.05, ..Faults::default() };
    let mut retransmits = 0;
    for _ in 0..5 {
        let r = p.request(Opcode::CHANNEL_READ, MEM, ReadRequest { offset: 0, length: 20_000 }.to_bytes().to_vec());
        if r.is_err() {
            resync_until_ok(&mut p);
            continue;
        }
        assert_eq!(r, Ok(Response::Data(p.mem().data.clone())));
        retransmits = p.device.stats().retransmits;
    }
    assert!(retransmits > 0, "no retransmission happened");
}
