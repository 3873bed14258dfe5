//! The `config` user channel: an operator writes a value (a threshold, a region of interest, a
//! whole settings file) and reads it back. It holds exactly the bytes last written.
//!
//! Write rules, for a value sent in pieces by offset as `openmv`'s `channel_write` does:
//! - a write at offset 0 starts a new value: the old one is dropped, the data becomes the value;
//! - a write at offset == current length appends;
//! - a write at 0 < offset < length overwrites in place and extends the value if it runs past
//!   the end;
//! - a write at offset > length would leave a hole of undefined bytes: NAK INVALID;
//! - a value longer than the channel's cap (default [`ConfigChannel::DEFAULT_CAP`]): NAK FAILED,
//!   and the value is left as it was.
//!
//! Size (and the one-dimensional shape) is the value's length; reads must lie inside it.

use openmvproto::channels::{Channel, ChannelFlags};
use openmvproto::framing::Status;

/// The `config` channel.
#[derive(Debug, Default)]
pub struct ConfigChannel {
    value: Vec<u8>,
    cap: usize,
}

impl ConfigChannel {
    /// Values up to this many bytes are accepted by default: 4 MiB.
    pub const DEFAULT_CAP: usize = 4 << 20;

    /// An empty channel accepting values of up to [`ConfigChannel::DEFAULT_CAP`] bytes.
    pub fn new() -> Self {
        Self::with_cap(Self::DEFAULT_CAP)
    }

    /// A channel accepting values of at most `cap` bytes.
    pub fn with_cap(cap: usize) -> Self {
        ConfigChannel { value: Vec::new(), cap }
    }

    /// The value last written.
    pub fn value(&self) -> &[u8] {
        &self.value
    }

    /// Largest value it accepts, in bytes; a write past it is refused with FAILED.
    pub fn cap(&self) -> usize {
        self.cap
    }
}

impl Channel for ConfigChannel {
    fn flags(&self) -> ChannelFlags {
        ChannelFlags::READ | ChannelFlags::WRITE
    }

    fn size(&mut self) -> Option<u32> {
        // The cap keeps the length far below u32::MAX; saturate rather than trust that.
        Some(u32::try_from(self.value.len()).unwrap_or(u32::MAX))
    }

    fn shape(&mut self, dims: &mut [u32; 4]) -> Option<usize> {
        dims[0] = self.size()?;
        Some(1)
    }

    fn readp(&mut self, offset: u32, len: usize) -> Option<&[u8]> {
        let start = usize::try_from(offset).ok()?;
        let end = start.checked_add(len)?;
        self.value.get(start..end)
    }

    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), Status> {
        let off = usize::try_from(offset).map_err(|_| Status::Invalid)?;
        let end = off.checked_add(data.len()).ok_or(Status::Failed)?;
        if end > self.cap {
            return Err(Status::Failed);
        }
        if off == 0 {
            self.value.clear();
        } else if off > self.value.len() {
            return Err(Status::Invalid);
        }
        let within = self.value.len().min(end) - off;
        self.value[off..off + within].copy_from_slice(&data[..within]);
        self.value.extend_from_slice(&data[within..]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(c: &mut ConfigChannel) -> Vec<u8> {
        let n = c.size().unwrap() as usize;
        let mut out = vec![0; n];
        c.read(0, &mut out).unwrap();
        out
    }

    #[test]
    fn pieces_by_offset_make_the_value() {
        let mut c = ConfigChannel::new();
        assert_eq!(c.size(), Some(0));
        c.write(0, b"hello ").unwrap();
        c.write(6, b"world").unwrap();
        assert_eq!(read_all(&mut c), b"hello world");
        assert_eq!(c.size(), Some(11));
        let mut dims = [0; 4];
        assert_eq!(c.shape(&mut dims), Some(1));
        assert_eq!(dims[0], 11);
    }

    #[test]
    fn offset_zero_starts_a_new_value() {
        let mut c = ConfigChannel::new();
        c.write(0, b"a long old value").unwrap();
        c.write(0, b"new").unwrap();
        assert_eq!(c.value(), b"new");
        // An empty write at 0 clears it.
        c.write(0, b"").unwrap();
        assert_eq!(c.size(), Some(0));
    }

    #[test]
    fn inner_offsets_overwrite_and_extend() {
        let mut c = ConfigChannel::new();
        c.write(0, b"abcdef").unwrap();
        c.write(2, b"XY").unwrap();
        assert_eq!(c.value(), b"abXYef");
        c.write(4, b"1234").unwrap();
        assert_eq!(c.value(), b"abXY1234");
    }

    #[test]
    fn holes_and_oversize_are_refused() {
        let mut c = ConfigChannel::with_cap(16);
        c.write(0, b"abc").unwrap();
        assert_eq!(c.write(4, b"x"), Err(Status::Invalid));
        assert_eq!(c.write(3, &[0; 14]), Err(Status::Failed));
        assert_eq!(c.write(u32::MAX, b"x"), Err(Status::Failed));
        assert_eq!(c.value(), b"abc", "a refused write leaves the value alone");
        c.write(3, &[7; 13]).unwrap();
        assert_eq!(c.size(), Some(16));
    }

    #[test]
    fn reads_outside_the_value_are_refused() {
        let mut c = ConfigChannel::new();
        c.write(0, b"0123456789").unwrap();
        let mut b = [0u8; 4];
        c.read(6, &mut b).unwrap();
        assert_eq!(&b, b"6789");
        assert_eq!(c.read(7, &mut b), Err(Status::Invalid));
        assert_eq!(c.read(u32::MAX, &mut b), Err(Status::Invalid));
        assert!(c.readp(u32::MAX, usize::MAX).is_none());
        assert_eq!(c.readp(10, 0), Some(&[][..]));
    }

    #[test]
    fn a_mebibyte_in_4074_byte_pieces() {
        let mut c = ConfigChannel::new();
        let data: Vec<u8> = (0..(1usize << 20)).map(|i| (i * 7 + i / 256) as u8).collect();
        for (k, piece) in data.chunks(4074).enumerate() {
            c.write((k * 4074) as u32, piece).unwrap();
        }
        assert_eq!(c.value(), &data[..]);
    }
}
