//! The `ticks` user channel (read-only): the milliseconds since the virtual cam started, as
//! 10 ASCII digits, zero-padded (size 10). The count wraps at 10^10 ms (about 115 days).
//!
//! The value is taken when a read starts at offset 0 and kept for reads at other offsets, so a
//! host reading it in small fragments gets one consistent number.

use std::time::Instant;

use openmvproto::channels::{Channel, ChannelFlags};

/// Digits in the value.
pub const TICKS_LEN: usize = 10;
const WRAP: u128 = 10_000_000_000;

/// The `ticks` channel.
#[derive(Debug)]
pub struct TicksChannel {
    epoch: Instant,
    latched: [u8; TICKS_LEN],
}

impl TicksChannel {
    /// Counts from `epoch` (the cam's start).
    pub fn new(epoch: Instant) -> Self {
        TicksChannel { epoch, latched: format_ticks(0) }
    }

    /// The current value.
    pub fn now(&self) -> [u8; TICKS_LEN] {
        format_ticks(self.epoch.elapsed().as_millis() % WRAP)
    }
}

/// `ms` as 10 zero-padded ASCII digits (`ms` below 10^10).
pub fn format_ticks(ms: u128) -> [u8; TICKS_LEN] {
    let mut out = [b'0'; TICKS_LEN];
    let mut v = ms % WRAP;
    for d in out.iter_mut().rev() {
        *d = b'0' + (v % 10) as u8;
        v /= 10;
    }
    out
}

impl Channel for TicksChannel {
    fn flags(&self) -> ChannelFlags {
        ChannelFlags::READ
    }

    fn size(&mut self) -> Option<u32> {
        Some(TICKS_LEN as u32)
    }

    fn shape(&mut self, dims: &mut [u32; 4]) -> Option<usize> {
        dims[0] = TICKS_LEN as u32;
        Some(1)
    }

    fn readp(&mut self, offset: u32, len: usize) -> Option<&[u8]> {
        let start = usize::try_from(offset).ok()?;
        let end = start.checked_add(len).filter(|&e| e <= TICKS_LEN)?;
        if start == 0 {
            self.latched = self.now();
        }
        self.latched.get(start..end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openmvproto::framing::Status;
    use std::time::Duration;

    #[test]
    fn formats_ten_digits() {
        assert_eq!(&format_ticks(0), b"0000000000");
        assert_eq!(&format_ticks(1234), b"0000001234");
        assert_eq!(&format_ticks(9_999_999_999), b"9999999999");
        assert_eq!(&format_ticks(10_000_000_001), b"0000000001");
    }

    #[test]
    fn counts_milliseconds_since_start() {
        let epoch = Instant::now() - Duration::from_millis(1500);
        let mut t = TicksChannel::new(epoch);
        assert_eq!(t.size(), Some(10));
        assert_eq!(t.flags(), ChannelFlags::READ);
        let mut b = [0u8; 10];
        t.read(0, &mut b).unwrap();
        let ms: u64 = std::str::from_utf8(&b).unwrap().parse().unwrap();
        assert!((1500..60_000).contains(&ms), "{ms}");
    }

    #[test]
    fn fragments_read_one_latched_value() {
        let mut t = TicksChannel::new(Instant::now() - Duration::from_millis(42));
        let mut a = [0u8; 4];
        t.read(0, &mut a).unwrap();
        std::thread::sleep(Duration::from_millis(3));
        let mut rest = [0u8; 6];
        t.read(4, &mut rest).unwrap();
        let mut joined = a.to_vec();
        joined.extend_from_slice(&rest);
        assert_eq!(joined, t.latched);
    }

    #[test]
    fn bad_reads_and_writes_are_refused() {
        let mut t = TicksChannel::new(Instant::now());
        let mut b = [0u8; 11];
        assert_eq!(t.read(0, &mut b), Err(Status::Invalid));
        assert_eq!(t.read(u32::MAX, &mut b[..1]), Err(Status::Invalid));
        assert!(t.readp(5, usize::MAX).is_none());
        assert_eq!(t.write(0, b"1"), Err(Status::Invalid));
    }
}
