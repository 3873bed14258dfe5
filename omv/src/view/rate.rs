//! Frames per second and bytes per second over a sliding window.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Arrival times and sizes of the frames of the last `window`.
pub struct RateMeter {
    window: Duration,
    seen: VecDeque<(Instant, usize)>,
}

impl RateMeter {
    pub fn new(window: Duration) -> Self {
        RateMeter { window, seen: VecDeque::new() }
    }

    pub fn add(&mut self, bytes: usize) {
        self.add_at(Instant::now(), bytes);
    }

    fn add_at(&mut self, at: Instant, bytes: usize) {
        self.seen.push_back((at, bytes));
        self.trim(at);
    }

    fn trim(&mut self, now: Instant) {
        while self.seen.front().is_some_and(|(t, _)| now.duration_since(*t) > self.window) {
            self.seen.pop_front();
        }
    }

    /// (frames/s, MB/s) now.
    pub fn rates(&mut self) -> (f64, f64) {
        self.rates_at(Instant::now())
    }

    fn rates_at(&mut self, now: Instant) -> (f64, f64) {
        self.trim(now);
        let secs = self.window.as_secs_f64();
        let bytes: usize = self.seen.iter().map(|(_, b)| b).sum();
        (self.seen.len() as f64 / secs, bytes as f64 / secs / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_only_the_window() {
        let mut m = RateMeter::new(Duration::from_secs(1));
        let t0 = Instant::now();
        for i in 0..30 {
            m.add_at(t0 + Duration::from_millis(i * 10), 1_000_000);
        }
        let (fps, mbps) = m.rates_at(t0 + Duration::from_millis(500));
        assert_eq!(fps, 30.0);
        assert_eq!(mbps, 30.0);
        let (fps, _) = m.rates_at(t0 + Duration::from_millis(1_200));
        // 200 ms to 290 ms are within 1 s of 1200 ms.
        assert_eq!(fps, 10.0);
        assert_eq!(m.rates_at(t0 + Duration::from_secs(5)).0, 0.0);
    }
}
