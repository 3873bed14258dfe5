//! A ring buffer channel for script output (stdout): oldest text dropped on overflow,
//! reads consume.

use super::{Channel, ChannelFlags};
use crate::framing::Status;

/// stdout: a byte ring over caller-provided storage (the firmware uses 1024 bytes).
#[derive(Debug)]
pub struct RingChannel<'a> {
    buf: &'a mut [u8],
    head: usize,
    len: usize,
    /// Bytes dropped because the host did not read them in time.
    pub overflowed: u32,
}

impl<'a> RingChannel<'a> {
    /// An empty ring over `buf`, holding at most `buf.len()` bytes.
    pub fn new(buf: &'a mut [u8]) -> Self {
        RingChannel { buf, head: 0, len: 0, overflowed: 0 }
    }

    /// Bytes held, waiting to be read.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no bytes are held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Most bytes the ring holds; a push beyond it drops the oldest.
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Whether the ring is at least half full (stdout then sends NOTIFY, PROTOCOL.md 5).
    pub fn half_full(&self) -> bool {
        self.len * 2 >= self.buf.len()
    }

    /// Appends output, dropping the oldest bytes if it does not fit. Byte by byte: script
    /// output is slow text, and the loop is a fraction of a two-part copy's code on a cam.
    pub fn push(&mut self, data: &[u8]) {
        let cap = self.buf.len();
        // Only the newest `cap` bytes can survive.
        for &b in &data[data.len().saturating_sub(cap)..] {
            let tail = self.head + self.len;
            let tail = if tail >= cap { tail - cap } else { tail };
            self.buf[tail] = b;
            if self.len < cap {
                self.len += 1;
            } else {
                self.head = if self.head + 1 == cap { 0 } else { self.head + 1 };
                self.overflowed = self.overflowed.wrapping_add(1);
            }
        }
    }

    /// Removes up to `out.len()` of the oldest bytes into `out`. Byte by byte, as `push`.
    pub fn pop(&mut self, out: &mut [u8]) -> usize {
        let cap = self.buf.len();
        let n = out.len().min(self.len);
        for o in &mut out[..n] {
            *o = self.buf[self.head];
            self.head = if self.head + 1 == cap { 0 } else { self.head + 1 };
        }
        self.len -= n;
        n
    }
}

impl Channel for RingChannel<'_> {
    fn flags(&self) -> ChannelFlags {
        ChannelFlags::READ
    }

    fn poll(&mut self) -> bool {
        !self.is_empty()
    }

    fn size(&mut self) -> Option<u32> {
        Some(self.len as u32)
    }

    fn shape(&mut self, dims: &mut [u32; 4]) -> Option<usize> {
        dims[0] = self.len as u32;
        Some(1)
    }

    /// Reads consume from the oldest byte; the offset is ignored, as on the firmware.
    fn read(&mut self, _offset: u32, out: &mut [u8]) -> Result<(), Status> {
        if out.len() > self.len {
            return Err(Status::Invalid);
        }
        self.pop(out);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use proptest::prelude::*;
    use std::collections::VecDeque;
    use std::vec::Vec;

    proptest! {
        /// Any mix of pushes and pops, across the wrap and past overflow, keeps the newest
        /// bytes in order, as a queue that drops its oldest bytes would.
        #[test]
        fn any_pushes_and_pops_match_a_bounded_queue(
            cap in 1usize..40,
            ops in proptest::collection::vec((any::<bool>(), 0usize..60), 0..60),
        ) {
            let mut storage = std::vec![0u8; cap];
            let mut ring = RingChannel::new(&mut storage);
            let mut model = VecDeque::new();
            let mut next = 0u8;
            for (is_push, n) in ops {
                if is_push {
                    let data: Vec<u8> = (0..n).map(|_| { next = next.wrapping_add(1); next }).collect();
                    ring.push(&data);
                    model.extend(&data);
                    while model.len() > cap {
                        model.pop_front();
                    }
                } else {
                    let mut out = std::vec![0u8; n];
                    let got = ring.pop(&mut out);
                    prop_assert_eq!(got, n.min(model.len()));
                    let want: Vec<u8> = model.drain(..got).collect();
                    prop_assert_eq!(&out[..got], &want[..]);
                    prop_assert!(out[got..].iter().all(|&b| b == 0));
                }
                prop_assert_eq!(ring.len(), model.len());
            }
        }
    }
}
