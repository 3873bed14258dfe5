//! The Rust snippets of the book in `docs/` live in `examples/`: each is a complete program
//! that `scripts/test-docs.sh` builds and runs against a cam, and that the book includes by
//! anchor (`{{#include ../../snippets/examples/host_tour.rs:connect}}`), so no snippet in the
//! book can drift from code that compiles.
//!
//! The library itself only holds what several examples share.

use std::time::{Duration, Instant};

/// Calls `f` until it gives `Some`, or `timeout` passes (then `None`); `pause` between tries.
pub fn wait_for<T>(timeout: Duration, pause: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(pause);
    }
}

// ANCHOR: settings
/// What an operator tunes at run time, as a line of text in the cam's `config` channel:
/// `threshold=128 roi=16,8,32,24` (x, y, width, height). Both sides share this one format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    /// Pixels inside the region at or above it become 255, the others 0.
    pub threshold: Option<u8>,
    pub roi: (u32, u32, u32, u32),
}

impl Settings {
    pub fn encode(&self) -> String {
        let (x, y, w, h) = self.roi;
        match self.threshold {
            Some(t) => format!("threshold={t} roi={x},{y},{w},{h}\n"),
            None => format!("roi={x},{y},{w},{h}\n"),
        }
    }

    /// Reads what `encode` wrote; unknown or malformed fields are skipped, never fatal.
    pub fn parse(text: &[u8]) -> Settings {
        let mut s = Settings::default();
        for field in String::from_utf8_lossy(text).split_whitespace() {
            match field.split_once('=') {
                Some(("threshold", v)) => s.threshold = v.parse().ok(),
                Some(("roi", v)) => {
                    let n: Vec<u32> = v.split(',').filter_map(|p| p.parse().ok()).collect();
                    if let [x, y, w, h] = n[..] {
                        s.roi = (x, y, w, h);
                    }
                }
                _ => {}
            }
        }
        s
    }

    /// Pixel (x, y) of test frame `n` as the cam produces it under these settings.
    pub fn pixel(&self, x: u32, y: u32, n: u32) -> u8 {
        let raw = (x.wrapping_add(y).wrapping_add(n) % 256) as u8;
        let (rx, ry, rw, rh) = self.roi;
        let inside = x >= rx && y >= ry && x - rx < rw && y - ry < rh;
        match self.threshold {
            Some(t) if inside => {
                if raw >= t {
                    255
                } else {
                    0
                }
            }
            _ => raw,
        }
    }
}
// ANCHOR_END: settings
