//! A lock-free single-producer single-consumer byte ring: the UART interrupt pushes, the main
//! loop reads. Indices run freely (wrapping u32) so a full ring differs from an empty one.
//!
//! Ordering: the producer writes bytes, then publishes `tail` with Release; the consumer loads
//! `tail` with Acquire before reading those bytes. Symmetrically the consumer publishes `head`
//! with Release once it has finished reading, and the producer loads `head` with Acquire before
//! it overwrites the freed cells. Every atomic has one writer, so plain loads and stores
//! suffice (no read-modify-write, which some cores lack).

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU32, Ordering};

/// Bytes the ring holds; a power of two so wrapping indices map onto cells.
use crate::sizes::RX_RING;
const MASK: u32 = RX_RING as u32 - 1;

/// The indices before the cells (see `Instance` for why the order matters).
#[repr(C)]
pub struct SpscRing {
    /// Next cell the consumer reads; written only by the consumer.
    head: AtomicU32,
    /// Next cell the producer writes; written only by the producer.
    tail: AtomicU32,
    /// Bytes refused because the ring was full, ever; written only by the producer.
    dropped: AtomicU32,
    cells: [UnsafeCell<u8>; RX_RING],
}

// SAFETY: the cells are shared by one producer and one consumer (the `unsafe fn` contracts
// below), each touching only the cells the index protocol gives it; the indices are atomics.
unsafe impl Sync for SpscRing {}

impl SpscRing {
    /// An empty ring: all-zero bytes, which is how `instance::init` makes it in place.
    #[cfg(test)]
    pub const fn new() -> Self {
        SpscRing {
            cells: [const { UnsafeCell::new(0) }; RX_RING],
            head: AtomicU32::new(0),
            tail: AtomicU32::new(0),
            dropped: AtomicU32::new(0),
        }
    }

    /// Free cells, as the producer sees them (a lower bound: the consumer may free more).
    pub fn space(&self) -> usize {
        let tail = self.tail.load(Ordering::Relaxed);
        let head = self.head.load(Ordering::Acquire);
        RX_RING - tail.wrapping_sub(head) as usize
    }

    /// Copies as much of `data` as fits; the rest is counted as dropped.
    ///
    /// # Safety
    /// Only one producer may run at a time (one interrupt handler, or the main loop when no
    /// interrupt pushes).
    pub unsafe fn push(&self, data: &[u8]) -> usize {
        let tail = self.tail.load(Ordering::Relaxed);
        let n = data.len().min(self.space());
        // Two copies: up to the end of the cells, then from their start.
        let start = (tail & MASK) as usize;
        let first = n.min(RX_RING - start);
        // SAFETY: cells from `tail` up to `head + RX_RING` belong to the sole producer until
        // `tail` is published below; the consumer reads none of them. `UnsafeCell<u8>` has the
        // layout of `u8`, the pointer covers the whole array, `start + first <= RX_RING` and
        // `n - first <= start`; `data` is a separate slice.
        unsafe {
            let cells = UnsafeCell::raw_get(self.cells.as_ptr());
            core::ptr::copy_nonoverlapping(data.as_ptr(), cells.add(start), first);
            core::ptr::copy_nonoverlapping(data.as_ptr().add(first), cells, n - first);
        }
        self.tail.store(tail.wrapping_add(n as u32), Ordering::Release);
        if n < data.len() {
            let d = self.dropped.load(Ordering::Relaxed);
            self.dropped.store(d.wrapping_add((data.len() - n) as u32), Ordering::Relaxed);
        }
        n
    }

    /// Hands the oldest bytes held (the part before the wrap) to `f`, then frees as many as
    /// `f` says it used (clamped to what it was given). Returns that count.
    ///
    /// # Safety
    /// Only one consumer may run at a time.
    pub unsafe fn consume_with(&self, f: impl FnOnce(&[u8]) -> usize) -> usize {
        let head = self.head.load(Ordering::Relaxed);
        let tail = self.tail.load(Ordering::Acquire);
        let held = tail.wrapping_sub(head) as usize;
        let start = (head & MASK) as usize;
        let len = held.min(RX_RING - start);
        // SAFETY: cells `head..tail` were published by the producer (Acquire above), which
        // does not write them again until `head` moves past them; only this sole consumer
        // moves `head`, after `f` has returned and the slice is gone. `UnsafeCell<u8>` has the
        // layout of `u8`, and `start + len <= RX_RING`.
        let bytes = unsafe { core::slice::from_raw_parts(UnsafeCell::raw_get(self.cells.as_ptr()).add(start), len) };
        let used = f(bytes).min(len);
        self.head.store(head.wrapping_add(used as u32), Ordering::Release);
        used
    }

    /// Bytes refused so far (wrapping counter).
    pub fn dropped(&self) -> u32 {
        self.dropped.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    #[test]
    fn wraps_and_counts_drops() {
        let r = SpscRing::new();
        let (mut sent, mut got) = (Vec::new(), Vec::new());
        let mut next = 0u8;
        for round in 0..60u32 {
            let chunk: Vec<u8> = (0..round * 7 % 300).map(|i| (i as u8).wrapping_add(next)).collect();
            // SAFETY: single-threaded test: one producer, one consumer.
            let n = unsafe { r.push(&chunk) };
            next = next.wrapping_add(n as u8);
            sent.extend_from_slice(&chunk[..n]);
            for _ in 0..2 {
                // SAFETY: as above.
                unsafe {
                    r.consume_with(|b| {
                        let k = b.len().min(100);
                        got.extend_from_slice(&b[..k]);
                        k
                    })
                };
            }
        }
        // SAFETY: as above.
        while unsafe {
            r.consume_with(|b| {
                got.extend_from_slice(b);
                b.len()
            })
        } > 0
        {}
        assert_eq!(sent, got);
        assert!(r.dropped() > 0);
    }

    #[test]
    fn order_is_kept_across_threads() {
        use std::sync::Arc;
        let r = Arc::new(SpscRing::new());
        let p = Arc::clone(&r);
        // Under Miri (which checks the atomics for data races) a few ring turns are enough.
        let total = if cfg!(miri) { 3_000 } else { 300_000u32 };
        let prod = std::thread::spawn(move || {
            let mut i = 0u32;
            while i < total {
                let chunk: Vec<u8> = (i..(i + 13).min(total)).map(|v| v as u8).collect();
                // SAFETY: this thread is the only producer.
                i += unsafe { p.push(&chunk) } as u32;
            }
        });
        let mut expect = 0u32;
        while expect < total {
            // SAFETY: this thread is the only consumer.
            unsafe {
                r.consume_with(|b| {
                    for &x in b {
                        assert_eq!(x, expect as u8);
                        expect += 1;
                    }
                    b.len()
                })
            };
        }
        prod.join().unwrap();
    }
}
