//! Time as the caller tells it: the core never reads a clock.

use core::ops::{Add, Sub};
use core::time::Duration;

/// A point in time in milliseconds since an epoch the caller chooses (boot, process start).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(u64);

impl Instant {
    /// The epoch: 0 ms.
    pub const ZERO: Instant = Instant(0);

    /// `ms` milliseconds after the epoch.
    pub const fn from_millis(ms: u64) -> Self {
        Instant(ms)
    }

    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// Time since `earlier`, zero if `earlier` is in the future.
    pub fn saturating_since(self, earlier: Instant) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }
}

/// A `Duration` in whole milliseconds, saturating at `u32::MAX` (about 49.7 days): how the
/// engines' configurations take times.
pub fn millis_u32(d: Duration) -> u32 {
    u32::try_from(d.as_millis()).unwrap_or(u32::MAX)
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Instant(self.0.saturating_add(ms))
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, rhs: Instant) -> Duration {
        self.saturating_since(rhs)
    }
}

#[cfg(feature = "std")]
impl Instant {
    /// Milliseconds elapsed since `epoch`, for std callers that keep a `std::time::Instant`.
    pub fn since(epoch: std::time::Instant) -> Self {
        Instant(u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX))
    }
}
