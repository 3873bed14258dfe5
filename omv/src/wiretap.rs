//! A transport wrapper between the client and the link: logs every packet (`--debug`) and
//! drops a fraction of received packets and sent ACKs (`--drop-rate`), as the `openmv` 1.0.7
//! package's `drop_rate` does, so a lossy link can be tried without a bad cable.
//!
//! Bytes are cut into packets by their header (sync word, payload length); bytes that do not
//! start a packet are passed on unchanged, so the client's own resynchronisation sees them.

use std::collections::VecDeque;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use openmvproto::framing::{Flags, HEADER_LEN, PAYLOAD_CRC_LEN, SYNC};
use openmvproto::transport::{RxHalf, Transport, TxHalf};

/// What the tap does; `rate` is checked to be within 0..=1 when it is made.
#[derive(Clone, Copy, Debug)]
pub struct TapConfig {
    pub drop_rate: f64,
    pub log: bool,
}

impl TapConfig {
    pub fn is_passthrough(&self) -> bool {
        self.drop_rate <= 0.0 && !self.log
    }
}

/// Packets dropped so far (received, ACKs not sent).
#[derive(Debug, Default)]
pub struct DropCounts {
    pub received: u64,
    pub acks: u64,
}

/// Wraps a transport with the tap.
pub struct Tapped<T> {
    inner: T,
    cfg: TapConfig,
    pub drops: Arc<Mutex<DropCounts>>,
}

impl<T: Transport> Tapped<T> {
    pub fn new(inner: T, cfg: TapConfig) -> Self {
        Tapped { inner, cfg, drops: Arc::default() }
    }
}

impl<T: Transport> Transport for Tapped<T> {
    fn open(&self) -> io::Result<(Box<dyn RxHalf>, Box<dyn TxHalf>)> {
        let (rx, tx) = self.inner.open()?;
        let seed = std::process::id() as u64 ^ 0x9E37_79B9_7F4A_7C15;
        let rx = TapRx {
            inner: rx,
            cfg: self.cfg,
            split: Splitter::default(),
            out: VecDeque::new(),
            rng: Rng(seed),
            drops: self.drops.clone(),
        };
        let tx = TapTx { inner: tx, cfg: self.cfg, rng: Rng(seed.rotate_left(17) | 1), drops: self.drops.clone() };
        Ok((Box::new(rx), Box::new(tx)))
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }
}

/// xorshift64*: enough randomness to pick packets to drop, no dependency.
struct Rng(u64);

impl Rng {
    fn unit(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// One piece of the byte stream: a whole packet, or bytes that do not start one.
#[derive(Debug, PartialEq, Eq)]
enum Piece {
    Packet(Vec<u8>),
    Other(Vec<u8>),
}

/// Cuts a byte stream into packets at their sync word and length field.
#[derive(Default)]
struct Splitter {
    buf: Vec<u8>,
}

/// Whole length of the packet whose header starts `b`.
fn packet_len(b: &[u8]) -> usize {
    let len = usize::from(u16::from_le_bytes([b[6], b[7]]));
    HEADER_LEN + len + if len > 0 { PAYLOAD_CRC_LEN } else { 0 }
}

impl Splitter {
    fn push(&mut self, data: &[u8], out: &mut Vec<Piece>) {
        self.buf.extend_from_slice(data);
        loop {
            let Some(start) = self.buf.windows(2).position(|w| w == SYNC) else {
                // Keep a trailing first sync byte: the second may come with the next read.
                let keep = usize::from(self.buf.last() == Some(&SYNC[0]));
                let n = self.buf.len() - keep;
                if n > 0 {
                    out.push(Piece::Other(self.buf.drain(..n).collect()));
                }
                return;
            };
            if start > 0 {
                out.push(Piece::Other(self.buf.drain(..start).collect()));
            }
            if self.buf.len() < HEADER_LEN {
                return;
            }
            let n = packet_len(&self.buf);
            if self.buf.len() < n {
                return;
            }
            out.push(Piece::Packet(self.buf.drain(..n).collect()));
        }
    }
}

fn describe_packet(p: &[u8]) -> String {
    let flags = Flags::from_bits_truncate(p[4]);
    let len = u16::from_le_bytes([p[6], p[7]]);
    let shown = &p[HEADER_LEN..p.len().min(HEADER_LEN + 16)];
    let hex: String = shown.iter().map(|b| format!("{b:02x}")).collect();
    let more = if usize::from(len) > shown.len() { "…" } else { "" };
    format!("seq {:3} ch {:2} op 0x{:02X} flags {:?} len {len} {hex}{more}", p[2], p[3], p[5], flags)
}

struct TapRx {
    inner: Box<dyn RxHalf>,
    cfg: TapConfig,
    split: Splitter,
    out: VecDeque<u8>,
    rng: Rng,
    drops: Arc<Mutex<DropCounts>>,
}

impl RxHalf for TapRx {
    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        if self.out.is_empty() {
            let mut tmp = vec![0u8; buf.len().max(HEADER_LEN)];
            let n = self.inner.recv(&mut tmp, timeout)?;
            let mut pieces = Vec::new();
            self.split.push(&tmp[..n], &mut pieces);
            for p in pieces {
                match p {
                    Piece::Packet(p) => {
                        if self.cfg.drop_rate > 0.0 && self.rng.unit() < self.cfg.drop_rate {
                            self.drops.lock().received += 1;
                            if self.cfg.log {
                                log::debug!("drop {}", describe_packet(&p));
                            }
                            continue;
                        }
                        if self.cfg.log {
                            log::debug!("recv {}", describe_packet(&p));
                        }
                        self.out.extend(p);
                    }
                    Piece::Other(b) => {
                        if self.cfg.log {
                            log::debug!("recv {} bytes outside packets", b.len());
                        }
                        self.out.extend(b);
                    }
                }
            }
        }
        let n = self.out.len().min(buf.len());
        for (d, s) in buf.iter_mut().zip(self.out.drain(..n)) {
            *d = s;
        }
        Ok(n)
    }
}

struct TapTx {
    inner: Box<dyn TxHalf>,
    cfg: TapConfig,
    rng: Rng,
    drops: Arc<Mutex<DropCounts>>,
}

impl TxHalf for TapTx {
    fn send(&mut self, data: &[u8]) -> io::Result<()> {
        // The client sends whole packets, one or more per call.
        let mut split = Splitter::default();
        let mut pieces = Vec::new();
        split.push(data, &mut pieces);
        if !split.buf.is_empty() {
            pieces.push(Piece::Other(std::mem::take(&mut split.buf)));
        }
        let mut keep = Vec::with_capacity(data.len());
        for p in pieces {
            match p {
                Piece::Packet(p) => {
                    let ack = Flags::from_bits_truncate(p[4]).contains(Flags::ACK);
                    if ack && self.cfg.drop_rate > 0.0 && self.rng.unit() < self.cfg.drop_rate {
                        self.drops.lock().acks += 1;
                        if self.cfg.log {
                            log::debug!("drop {}", describe_packet(&p));
                        }
                        continue;
                    }
                    if self.cfg.log {
                        log::debug!("send {}", describe_packet(&p));
                    }
                    keep.extend_from_slice(&p);
                }
                Piece::Other(b) => keep.extend_from_slice(&b),
            }
        }
        if keep.is_empty() {
            return Ok(());
        }
        self.inner.send(&keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(len: u16) -> Vec<u8> {
        let mut p = vec![0xAA, 0xD5, 1, 2, 0, 0x12];
        p.extend_from_slice(&len.to_le_bytes());
        p.extend_from_slice(&[0, 0]);
        p.extend(std::iter::repeat_n(7u8, usize::from(len)));
        if len > 0 {
            p.extend_from_slice(&[0; 4]);
        }
        p
    }

    #[test]
    fn splits_packets_across_reads_and_keeps_other_bytes() {
        let mut stream = vec![1, 2, 3];
        stream.extend(packet(5));
        stream.extend(packet(0));
        let mut s = Splitter::default();
        let mut out = Vec::new();
        for chunk in stream.chunks(4) {
            s.push(chunk, &mut out);
        }
        assert_eq!(out, vec![Piece::Other(vec![1, 2, 3]), Piece::Packet(packet(5)), Piece::Packet(packet(0))]);
        assert!(s.buf.is_empty());
    }

    #[test]
    fn rng_is_uniform_enough() {
        let mut r = Rng(42);
        let n = 10_000;
        let below = (0..n).filter(|_| r.unit() < 0.25).count();
        assert!((2000..3000).contains(&below), "{below}");
    }
}
