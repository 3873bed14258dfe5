//! Where the host machine puts bytes and events: a byte buffer trait with a growable (`Vec`),
//! a fixed-capacity and a borrowed-slice implementation, and a fixed event ring.

use super::types::DeviceEvent;
use crate::framing::ChannelId;

/// A byte buffer the machine appends to: an answer being joined, or bytes to transmit.
pub trait ByteBuf {
    /// Bytes held.
    fn len(&self) -> usize;
    /// Bytes that can still be appended.
    fn spare(&self) -> usize;
    /// Appends `bytes` whole, or nothing if they do not fit (returns false).
    fn append(&mut self, bytes: &[u8]) -> bool;
    /// Forgets what is held.
    fn clear(&mut self);
    /// What is held.
    fn as_slice(&self) -> &[u8];

    /// Whether nothing is held.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(feature = "alloc")]
impl ByteBuf for alloc::vec::Vec<u8> {
    fn len(&self) -> usize {
        alloc::vec::Vec::len(self)
    }
    fn spare(&self) -> usize {
        usize::MAX - alloc::vec::Vec::len(self)
    }
    fn append(&mut self, bytes: &[u8]) -> bool {
        self.extend_from_slice(bytes);
        true
    }
    fn clear(&mut self) {
        alloc::vec::Vec::clear(self)
    }
    fn as_slice(&self) -> &[u8] {
        self
    }
}

/// A buffer of at most `N` bytes held inline.
#[derive(Clone, Debug)]
pub struct FixedBuf<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> FixedBuf<N> {
    /// An empty buffer.
    pub const fn new() -> Self {
        FixedBuf { buf: [0; N], len: 0 }
    }
}

impl<const N: usize> Default for FixedBuf<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> ByteBuf for FixedBuf<N> {
    fn len(&self) -> usize {
        self.len
    }
    fn spare(&self) -> usize {
        N - self.len
    }
    fn append(&mut self, bytes: &[u8]) -> bool {
        append_into(&mut self.buf[..], &mut self.len, bytes)
    }
    fn clear(&mut self) {
        self.len = 0;
    }
    fn as_slice(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// Appends `bytes` whole at `*len` in `buf`, or nothing if they do not fit.
fn append_into(buf: &mut [u8], len: &mut usize, bytes: &[u8]) -> bool {
    match buf.get_mut(*len..*len + bytes.len()) {
        Some(dst) => {
            dst.copy_from_slice(bytes);
            *len += bytes.len();
            true
        }
        None => false,
    }
}

/// A buffer over caller memory (an answer read straight into the caller's array).
#[derive(Debug)]
pub struct SliceBuf<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> SliceBuf<'a> {
    /// An empty buffer over `buf`: it holds at most `buf.len()` bytes, written from the start.
    pub fn new(buf: &'a mut [u8]) -> Self {
        SliceBuf { buf, len: 0 }
    }
}

impl ByteBuf for SliceBuf<'_> {
    fn len(&self) -> usize {
        self.len
    }
    fn spare(&self) -> usize {
        self.buf.len() - self.len
    }
    fn append(&mut self, bytes: &[u8]) -> bool {
        append_into(&mut self.buf[..], &mut self.len, bytes)
    }
    fn clear(&mut self) {
        self.len = 0;
    }
    fn as_slice(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// The newest `N` device events; pushing onto a full ring drops the oldest.
#[derive(Clone, Debug)]
pub struct EventRing<const N: usize> {
    events: [DeviceEvent; N],
    head: usize,
    len: usize,
}

impl<const N: usize> EventRing<N> {
    const EMPTY: DeviceEvent = DeviceEvent { channel: ChannelId(0), code: 0 };

    /// An empty ring.
    pub const fn new() -> Self {
        EventRing { events: [Self::EMPTY; N], head: 0, len: 0 }
    }

    /// Events held, at most `N`.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no event is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds `ev`; returns false when an older event had to be dropped for it (or, with
    /// `N == 0`, when `ev` itself was).
    pub fn push(&mut self, ev: DeviceEvent) -> bool {
        if N == 0 {
            return false;
        }
        let full = self.len == N;
        if full {
            self.head = (self.head + 1) % N;
            self.len -= 1;
        }
        self.events[(self.head + self.len) % N] = ev;
        self.len += 1;
        !full
    }

    /// Takes the oldest event held; `None` when the ring is empty.
    pub fn pop(&mut self) -> Option<DeviceEvent> {
        if self.len == 0 {
            return None;
        }
        let ev = self.events[self.head];
        self.head = (self.head + 1) % N;
        self.len -= 1;
        Some(ev)
    }
}

impl<const N: usize> Default for EventRing<N> {
    fn default() -> Self {
        Self::new()
    }
}
