//! The `controls` channel: typed controls (openmvproto::controls, the firmware's CBORChannel
//! format) that change the frames the cam produces.
//!
//! | name | widget | effect |
//! |---|---|---|
//! | threshold | slider 0..255 | 0 off; else pixels at or above become white, the rest black |
//! | roi x, roi y, roi w, roi h | spin boxes | pixels outside the region are black |
//! | reset roi | push button | the region becomes the whole frame |
//! | mirror | toggle | left and right swapped |
//! | pattern | select gradient / checkers / solid | the test pattern (gradient is [`super::frames`]'s) |
//! | shade | radio normal / inverted | inverted: every pixel's bits flipped |
//! | note | line edit | shown in `status` |
//! | fps | label (Hz) | frames made per second, measured |
//! | status | text | pattern, size and note |
//! | brightness | waveform | mean brightness of the last frames, at the cam's fps |
//! | depth | depth 16x12 | the last frame scaled down, 0..1000 |
//!
//! With every control at its default the frames are exactly the test pattern. JPEG frames are
//! encoded before this hook sees them and stay as they are.

use std::fmt::Write as _;
use std::time::{Duration, Instant as StdInstant};

use openmvproto::channels::{ControlsChannel, ControlsHandler, Field};
use openmvproto::controls::{DepthShape, Number, Range, WaveformRef};

use super::frames::FrameFormat;
use super::Options;

/// Choices of the `pattern` select, by index ([`Settings::pattern`]).
pub const PATTERNS: [&str; 3] = ["gradient", "checkers", "solid"];
/// Choices of the `shade` radio; index 1 sets [`Settings::inverted`].
pub const SHADES: [&str; 2] = ["normal", "inverted"];
/// Brightness samples kept for the waveform.
const WAVE_LEN: usize = 64;
const DEPTH_W: u32 = 16;
const DEPTH_H: u32 = 12;
/// The fps label averages over this window.
const FPS_WINDOW: Duration = Duration::from_secs(1);

/// Live values the handler publishes on each read.
#[derive(Debug, Default)]
pub struct Live {
    /// When recent frames were made (within [`FPS_WINDOW`]).
    frame_times: std::collections::VecDeque<StdInstant>,
    wave: std::collections::VecDeque<u16>,
    depth: Vec<u8>,
    epoch: Option<StdInstant>,
    status: String,
    fresh: bool,
}

impl Live {
    fn fps(&self) -> f64 {
        match (self.frame_times.front(), self.frame_times.back()) {
            (Some(a), Some(b)) if self.frame_times.len() > 1 && b > a => {
                (self.frame_times.len() - 1) as f64 / (*b - *a).as_secs_f64()
            }
            _ => 0.0,
        }
    }
}

impl ControlsHandler for Live {
    fn on_read(&mut self, fields: &mut [Field<'_>]) {
        let fps = self.fps();
        let wave: Vec<u8> = self.wave.iter().flat_map(|s| s.to_le_bytes()).collect();
        let t = self.frame_times.back().zip(self.epoch).map_or(0, |(b, e)| b.duration_since(e).as_micros() as u64);
        for f in fields.iter_mut() {
            let _ = match f.name() {
                "fps" => f.set_number(Number::Float((fps * 10.0).round() / 10.0)),
                "brightness" => f.set_waveform(&wave, t),
                "depth" if !self.depth.is_empty() => f.set_bytes(&self.depth),
                "status" => f.set_text(&self.status),
                _ => Ok(()),
            };
        }
        self.fresh = false;
    }

    fn on_write(&mut self, fields: &mut [Field<'_>], index: usize) {
        if fields[index].name() == "reset roi" && fields[index].as_bool() == Some(true) {
            for f in fields.iter_mut() {
                let full = match f.widget() {
                    openmvproto::controls::WidgetRef::Spinbox(r) => r.max,
                    _ => continue,
                };
                let _ = match f.name() {
                    "roi x" | "roi y" => f.set_number(Number::Int(0)),
                    "roi w" | "roi h" => f.set_number(full),
                    _ => Ok(()),
                };
            }
            let _ = fields[index].set_bool(false);
        }
    }

    fn changed(&mut self) -> bool {
        self.fresh
    }
}

/// The settings one frame is made with, read from the fields.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    /// 0: off; else pixels whose gray level (RGB565: luma) is at or above it become white,
    /// the rest black.
    pub threshold: u8,
    /// The region kept, `(x, y, w, h)` in pixels; pixels outside it become black.
    pub roi: (u32, u32, u32, u32),
    /// Left and right swapped.
    pub mirror: bool,
    /// Index into [`PATTERNS`]: 1 checkers (8 x 8 px squares, moving every 8 frames), 2 solid
    /// gray 128; 0 or any other value leaves the rendered gradient.
    pub pattern: usize,
    /// Every pixel's bits flipped (`shade` is `inverted`).
    pub inverted: bool,
}

/// The channel and what it applies to frames.
#[derive(Debug)]
pub struct VcamControls {
    /// The `controls` channel (id 6 in the serve loop), with the fields of the module's table.
    pub channel: ControlsChannel<'static, Live>,
    format: FrameFormat,
    frames: u64,
}

fn int(v: i64) -> Number {
    Number::Int(v)
}

impl VcamControls {
    /// Controls for `opts.width` x `opts.height` frames in `opts.format`, all at their defaults
    /// (region: the whole frame); the brightness waveform's sample period is 1 / `opts.fps` s.
    pub fn new(opts: &Options) -> Self {
        let (w, h) = (i64::from(opts.width), i64::from(opts.height));
        let spin = |max: i64| Range { min: int(0), max: int(max), step: int(1) };
        let fields = vec![
            Field::slider("threshold", Range { min: int(0), max: int(255), step: int(1) }, int(0)),
            Field::spinbox("roi x", spin(w), int(0)).with_unit("px"),
            Field::spinbox("roi y", spin(h), int(0)).with_unit("px"),
            Field::spinbox("roi w", spin(w), int(w)).with_unit("px"),
            Field::spinbox("roi h", spin(h), int(h)).with_unit("px"),
            Field::push_button("reset roi"),
            Field::toggle("mirror", false),
            Field::select("pattern", &PATTERNS, 0),
            Field::radio("shade", &SHADES, 0),
            Field::line_edit("note", vec![0u8; 64]),
            Field::label("fps", Number::Float(0.0)).with_unit("Hz"),
            Field::text("status", vec![0u8; 160]),
            Field::waveform(
                "brightness",
                WaveformRef {
                    samples: 0,
                    series: 1,
                    min: int(0),
                    max: int(255),
                    typecode: Some("H"),
                    sample_period: Some(1.0 / f64::from(opts.fps.max(0.001))),
                    series_names: None,
                    time_us: None,
                },
                vec![0u8; WAVE_LEN * 2],
            ),
            Field::depth(
                "depth",
                DepthShape { width: DEPTH_W, height: DEPTH_H, min: int(0), max: int(1000) },
                vec![0u8; (DEPTH_W * DEPTH_H * 2) as usize],
            ),
        ];
        let live = Live { epoch: Some(StdInstant::now()), ..Live::default() };
        let mut channel = ControlsChannel::new(fields, vec![0u8; 4096], vec![0u8; 4096], live);
        let _ = channel.refresh();
        VcamControls { channel, format: opts.format, frames: 0 }
    }

    /// The settings now in the fields; a field that is missing or holds no number counts as 0.
    pub fn settings(&self) -> Settings {
        let c = &self.channel;
        let num = |n: &str| c.field(n).and_then(|f| f.as_number()).map_or(0, |n| n.as_f64() as i64);
        Settings {
            threshold: num("threshold").clamp(0, 255) as u8,
            roi: (num("roi x") as u32, num("roi y") as u32, num("roi w") as u32, num("roi h") as u32),
            mirror: c.field("mirror").and_then(|f| f.as_bool()).unwrap_or(false),
            pattern: c.field("pattern").and_then(|f| f.choice()).unwrap_or(0),
            inverted: c.field("shade").and_then(|f| f.choice()) == Some(1),
        }
    }

    /// Applies the controls to a frame just rendered into `pixels[..len]` and records it for
    /// the live values; returns `len`.
    pub fn process(&mut self, pixels: &mut [u8], len: usize, (width, height): (u32, u32), now: StdInstant) -> usize {
        let s = self.settings();
        let bpp = match self.format {
            FrameFormat::Grayscale => 1,
            FrameFormat::Rgb565 => 2,
            FrameFormat::Jpeg => 0,
        };
        let n = self.frames;
        self.frames += 1;
        let px = &mut pixels[..len];
        if bpp > 0 && px.len() >= (width * height) as usize * bpp && width > 0 {
            apply(px, width as usize, height as usize, bpp, &s, n);
        }
        self.record(px, width, height, bpp, &s, now);
        len
    }

    fn record(&mut self, px: &[u8], width: u32, height: u32, bpp: usize, s: &Settings, now: StdInstant) {
        let note = self.channel.field("note").and_then(|f| f.as_text()).unwrap_or("").to_string();
        let live = self.channel.handler_mut();
        live.frame_times.push_back(now);
        while live.frame_times.front().is_some_and(|t| now.duration_since(*t) > FPS_WINDOW) {
            live.frame_times.pop_front();
        }
        let pixels = (width * height) as usize;
        if bpp > 0 && pixels > 0 && px.len() >= pixels * bpp {
            let luma = |i: usize| gray_of(px, i, bpp);
            let mean = (0..pixels).map(|i| u64::from(luma(i))).sum::<u64>() / pixels as u64;
            if live.wave.len() == WAVE_LEN {
                live.wave.pop_front();
            }
            live.wave.push_back(mean as u16);
            live.depth.clear();
            for dy in 0..DEPTH_H {
                for dx in 0..DEPTH_W {
                    let (x, y) = (dx * width / DEPTH_W, dy * height / DEPTH_H);
                    let v = u16::from(luma((y * width + x) as usize)) as u32 * 1000 / 255;
                    live.depth.extend_from_slice(&(v as u16).to_le_bytes());
                }
            }
        }
        live.status.clear();
        let _ = write!(live.status, "{} {}x{}", PATTERNS[s.pattern.min(PATTERNS.len() - 1)], width, height);
        if !note.is_empty() {
            let _ = write!(live.status, ": {}", &note[..note.len().min(64)]);
        }
        live.fresh = true;
    }
}

fn gray_of(px: &[u8], i: usize, bpp: usize) -> u8 {
    if bpp == 1 {
        px[i]
    } else {
        let v = u16::from_le_bytes([px[2 * i], px[2 * i + 1]]);
        // RGB565 to 8-bit luma from the three fields' top bits.
        let (r, g, b) = (u32::from(v >> 11) << 3, u32::from((v >> 5) & 63) << 2, u32::from(v & 31) << 3);
        ((r * 77 + g * 150 + b * 29) >> 8) as u8
    }
}

fn put(px: &mut [u8], i: usize, bpp: usize, g: u8) {
    if bpp == 1 {
        px[i] = g;
    } else {
        let v = (u16::from(g >> 3) << 11) | (u16::from(g >> 2) << 5) | u16::from(g >> 3);
        px[2 * i..2 * i + 2].copy_from_slice(&v.to_le_bytes());
    }
}

/// The pattern, then mirror, region, threshold and shade, in that order.
pub fn apply(px: &mut [u8], w: usize, h: usize, bpp: usize, s: &Settings, n: u64) {
    match s.pattern {
        1 => {
            for y in 0..h {
                for x in 0..w {
                    let on = ((x / 8 + y / 8) as u64 + n / 8) % 2 == 1;
                    put(px, y * w + x, bpp, if on { 255 } else { 0 });
                }
            }
        }
        2 => (0..w * h).for_each(|i| put(px, i, bpp, 128)),
        _ => {}
    }
    if s.mirror {
        for row in px.chunks_exact_mut(w * bpp).take(h) {
            for x in 0..w / 2 {
                let (a, b) = (x * bpp, (w - 1 - x) * bpp);
                for k in 0..bpp {
                    row.swap(a + k, b + k);
                }
            }
        }
    }
    let (rx, ry, rw, rh) = s.roi;
    let inside = |x: usize, y: usize| {
        x >= rx as usize
            && y >= ry as usize
            && x < (rx as usize).saturating_add(rw as usize)
            && y < (ry as usize).saturating_add(rh as usize)
    };
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            if !inside(x, y) {
                put(px, i, bpp, 0);
                continue;
            }
            if s.threshold > 0 {
                let g = gray_of(px, i, bpp);
                put(px, i, bpp, if g >= s.threshold { 255 } else { 0 });
            }
            if s.inverted {
                for b in &mut px[i * bpp..(i + 1) * bpp] {
                    *b = !*b;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(w: usize, h: usize) -> Vec<u8> {
        (0..h).flat_map(|y| (0..w).map(move |x| ((x + y) % 256) as u8)).collect()
    }

    const DEFAULT: Settings = Settings { threshold: 0, roi: (0, 0, 8, 4), mirror: false, pattern: 0, inverted: false };

    #[test]
    fn defaults_leave_the_frame_alone() {
        let mut px = gradient(8, 4);
        apply(&mut px, 8, 4, 1, &DEFAULT, 0);
        assert_eq!(px, gradient(8, 4));
    }

    #[test]
    fn each_setting_changes_pixels() {
        let mut px = gradient(8, 4);
        apply(&mut px, 8, 4, 1, &Settings { mirror: true, ..DEFAULT }, 0);
        assert_eq!(&px[..8], &[7, 6, 5, 4, 3, 2, 1, 0]);
        let mut px = gradient(8, 4);
        apply(&mut px, 8, 4, 1, &Settings { threshold: 5, ..DEFAULT }, 0);
        assert_eq!(&px[..8], &[0, 0, 0, 0, 0, 255, 255, 255]);
        let mut px = gradient(8, 4);
        apply(&mut px, 8, 4, 1, &Settings { roi: (2, 1, 3, 2), ..DEFAULT }, 0);
        assert_eq!(&px[8..16], &[0, 0, 3, 4, 5, 0, 0, 0]);
        assert!(px[..8].iter().all(|&p| p == 0));
        let mut px = gradient(8, 4);
        apply(&mut px, 8, 4, 1, &Settings { pattern: 2, inverted: true, ..DEFAULT }, 0);
        assert!(px.iter().all(|&p| p == 127));
    }
}
