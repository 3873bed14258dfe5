//! The test pattern the virtual cam streams. Frame number `n` counts every frame produced,
//! from 0:
//! - GRAYSCALE: pixel (x, y) = (x + y + n) mod 256;
//! - RGB565: pixel (x, y) = ((x + n) mod 32) << 11 | (y mod 64) << 5 | ((x + y) mod 32),
//!   a little-endian u16;
//! - JPEG: the grayscale frame n, JPEG-encoded (baseline, quality [`JPEG_QUALITY`]).

use std::fmt;
use std::str::FromStr;

use image::codecs::jpeg::JpegEncoder;
use image::ExtendedColorType;

use openmvproto::framing::payload::PixFormat;

/// JPEG quality of the encoded frames.
pub const JPEG_QUALITY: u8 = 90;
/// Headroom above width * height * 3 for a JPEG's headers and tables (tiny frames).
const JPEG_HEADROOM: usize = 4096;
/// Largest side JPEG can describe.
const JPEG_MAX_SIDE: u32 = 65_535;

/// What the stream channel carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum FrameFormat {
    /// 1 byte per pixel: (x + y + n) mod 256 ([`gray_pixel`]). The default.
    #[default]
    Grayscale,
    /// 2 bytes per pixel, a little-endian u16 ([`rgb565_pixel`]).
    Rgb565,
    /// The grayscale frame, JPEG-encoded at quality [`JPEG_QUALITY`]; the length varies.
    Jpeg,
}

impl FrameFormat {
    /// The [`PixFormat`] the stream frame header carries.
    pub fn pixformat(self) -> PixFormat {
        match self {
            FrameFormat::Grayscale => PixFormat::GRAYSCALE,
            FrameFormat::Rgb565 => PixFormat::RGB565,
            FrameFormat::Jpeg => PixFormat::JPEG,
        }
    }

    /// Largest pixel data of one `width` x `height` frame (JPEG: a worst case); `None` if the
    /// size does not fit in memory arithmetic or the format cannot describe it.
    pub fn max_data_len(self, width: u32, height: u32) -> Option<usize> {
        let pixels = (width as usize).checked_mul(height as usize)?;
        match self {
            FrameFormat::Grayscale => Some(pixels),
            FrameFormat::Rgb565 => pixels.checked_mul(2),
            FrameFormat::Jpeg if width > JPEG_MAX_SIDE || height > JPEG_MAX_SIDE => None,
            FrameFormat::Jpeg => pixels.checked_mul(3)?.checked_add(JPEG_HEADROOM),
        }
    }
}

impl FromStr for FrameFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "grayscale" | "gray" | "grey" => Ok(FrameFormat::Grayscale),
            "rgb565" => Ok(FrameFormat::Rgb565),
            "jpeg" | "jpg" => Ok(FrameFormat::Jpeg),
            _ => Err(format!("unknown format {s:?}: grayscale, rgb565 or jpeg")),
        }
    }
}

impl fmt::Display for FrameFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FrameFormat::Grayscale => "grayscale",
            FrameFormat::Rgb565 => "rgb565",
            FrameFormat::Jpeg => "jpeg",
        })
    }
}

/// GRAYSCALE pixel (x, y) of frame `n`.
pub fn gray_pixel(x: u32, y: u32, n: u64) -> u8 {
    (u64::from(x).wrapping_add(u64::from(y)).wrapping_add(n) % 256) as u8
}

/// RGB565 pixel (x, y) of frame `n`.
pub fn rgb565_pixel(x: u32, y: u32, n: u64) -> u16 {
    let r = (u64::from(x).wrapping_add(n) % 32) as u16;
    let g = (y % 64) as u16;
    let b = ((u64::from(x) + u64::from(y)) % 32) as u16;
    (r << 11) | (g << 5) | b
}

/// Writes the GRAYSCALE frame `n` into `out` (at least width * height bytes).
fn render_gray(out: &mut [u8], width: u32, height: u32, n: u64) {
    let w = width as usize;
    if w == 0 {
        return;
    }
    for (y, row) in out.chunks_exact_mut(w).take(height as usize).enumerate() {
        let base = gray_pixel(0, y as u32, n);
        for (x, p) in row.iter_mut().enumerate() {
            *p = base.wrapping_add(x as u8);
        }
    }
}

/// Writes the RGB565 frame `n` into `out` (at least width * height * 2 bytes).
fn render_rgb565(out: &mut [u8], width: u32, height: u32, n: u64) {
    let w = width as usize;
    if w == 0 {
        return;
    }
    for (y, row) in out.chunks_exact_mut(w * 2).take(height as usize).enumerate() {
        for (x, p) in row.chunks_exact_mut(2).enumerate() {
            p.copy_from_slice(&rgb565_pixel(x as u32, y as u32, n).to_le_bytes());
        }
    }
}

/// Why a frame could not be made.
#[derive(Debug)]
pub enum RenderError {
    /// The frame buffer is too small for this frame.
    TooLarge {
        /// Bytes the frame needs.
        need: usize,
        /// Bytes the buffer holds.
        have: usize,
    },
    /// The JPEG encoder failed.
    Jpeg(image::ImageError),
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RenderError::TooLarge { need, have } => write!(f, "frame of {need} bytes, buffer holds {have}"),
            RenderError::Jpeg(e) => write!(f, "JPEG encoder: {e}"),
        }
    }
}

impl std::error::Error for RenderError {}

/// Renders successive frames of one size and format.
#[derive(Debug)]
pub struct FrameGen {
    format: FrameFormat,
    width: u32,
    height: u32,
    /// The next frame's number.
    next: u64,
    /// JPEG only: the grayscale source and the encoder's output.
    gray: Vec<u8>,
    encoded: Vec<u8>,
}

impl FrameGen {
    /// Renders `width` x `height` frames in `format`, starting at frame 0.
    pub fn new(format: FrameFormat, width: u32, height: u32) -> Self {
        FrameGen { format, width, height, next: 0, gray: Vec::new(), encoded: Vec::new() }
    }

    /// The format it renders.
    pub fn format(&self) -> FrameFormat {
        self.format
    }

    /// Frame size in pixels: (width, height).
    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// The number the next rendered frame gets.
    pub fn next_number(&self) -> u64 {
        self.next
    }

    /// Renders the next frame into `out`; returns its data length. The frame number advances
    /// only when a frame was made.
    pub fn render(&mut self, out: &mut [u8]) -> Result<usize, RenderError> {
        let (w, h, n) = (self.width, self.height, self.next);
        let pixels = (w as usize).saturating_mul(h as usize);
        let have = out.len();
        let len = match self.format {
            FrameFormat::Grayscale => {
                let dst = out.get_mut(..pixels).ok_or(RenderError::TooLarge { need: pixels, have })?;
                render_gray(dst, w, h, n);
                pixels
            }
            FrameFormat::Rgb565 => {
                let need = pixels.saturating_mul(2);
                let dst = out.get_mut(..need).ok_or(RenderError::TooLarge { need, have })?;
                render_rgb565(dst, w, h, n);
                need
            }
            FrameFormat::Jpeg => {
                self.gray.resize(pixels, 0);
                render_gray(&mut self.gray, w, h, n);
                self.encoded.clear();
                JpegEncoder::new_with_quality(&mut self.encoded, JPEG_QUALITY)
                    .encode(&self.gray, w, h, ExtendedColorType::L8)
                    .map_err(RenderError::Jpeg)?;
                let need = self.encoded.len();
                let dst = out.get_mut(..need).ok_or(RenderError::TooLarge { need, have })?;
                dst.copy_from_slice(&self.encoded);
                need
            }
        };
        self.next = self.next.wrapping_add(1);
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grayscale_formula() {
        let mut g = FrameGen::new(FrameFormat::Grayscale, 320, 240);
        let mut buf = vec![0u8; 320 * 240];
        for n in 0..300u64 {
            assert_eq!(g.next_number(), n);
            assert_eq!(g.render(&mut buf).unwrap(), 320 * 240);
            for (y, x) in [(0usize, 0usize), (0, 255), (17, 300), (239, 319), (100, 1)] {
                assert_eq!(u64::from(buf[y * 320 + x]), (x as u64 + y as u64 + n) % 256, "n {n} ({x},{y})");
            }
        }
        assert_eq!(gray_pixel(200, 100, 1000), ((200 + 100 + 1000) % 256) as u8);
        assert_eq!(gray_pixel(1, 0, u64::MAX), 0);
    }

    #[test]
    fn rgb565_formula() {
        let mut g = FrameGen::new(FrameFormat::Rgb565, 70, 130);
        let mut buf = vec![0u8; 70 * 130 * 2];
        for n in 0..40u64 {
            assert_eq!(g.render(&mut buf).unwrap(), 70 * 130 * 2);
            for y in 0..130usize {
                for x in 0..70usize {
                    let at = (y * 70 + x) * 2;
                    let v = u16::from_le_bytes([buf[at], buf[at + 1]]);
                    let want =
                        ((((x as u64 + n) % 32) << 11) | (((y % 64) as u64) << 5) | ((x + y) % 32) as u64) as u16;
                    assert_eq!(v, want, "n {n} ({x},{y})");
                }
            }
        }
    }

    #[test]
    fn jpeg_is_a_valid_jpeg_of_the_gray_pattern() {
        let (w, h) = (64u32, 48u32);
        let mut g = FrameGen::new(FrameFormat::Jpeg, w, h);
        let mut buf = vec![0u8; FrameFormat::Jpeg.max_data_len(w, h).unwrap()];
        g.render(&mut buf).unwrap();
        let len = g.render(&mut buf).unwrap(); // frame 1
        let jpeg = &buf[..len];
        assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
        assert_eq!(&jpeg[len - 2..], &[0xFF, 0xD9]);
        let img = image::load_from_memory_with_format(jpeg, image::ImageFormat::Jpeg).unwrap().to_luma8();
        assert_eq!(img.dimensions(), (w, h));
        let mut worst = 0i32;
        for (x, y, p) in img.enumerate_pixels() {
            // The pattern wraps from 255 to 0: compare away from the edges of that jump.
            let want = i32::from(gray_pixel(x, y, 1));
            if (8..248).contains(&want) {
                worst = worst.max((i32::from(p.0[0]) - want).abs());
            }
        }
        assert!(worst <= 24, "decoded pixels off by up to {worst}");
    }

    #[test]
    fn small_buffers_are_refused_and_do_not_count() {
        let mut g = FrameGen::new(FrameFormat::Grayscale, 10, 10);
        let mut small = [0u8; 99];
        assert!(matches!(g.render(&mut small), Err(RenderError::TooLarge { need: 100, have: 99 })));
        assert_eq!(g.next_number(), 0);
        let mut j = FrameGen::new(FrameFormat::Jpeg, 8, 8);
        assert!(j.render(&mut small[..10]).is_err());
        assert_eq!(j.next_number(), 0);
    }

    #[test]
    fn sizes_and_names() {
        assert_eq!(FrameFormat::Grayscale.max_data_len(320, 240), Some(76_800));
        assert_eq!(FrameFormat::Rgb565.max_data_len(320, 240), Some(153_600));
        assert!(FrameFormat::Jpeg.max_data_len(320, 240).unwrap() >= 320 * 240 * 3);
        assert_eq!(FrameFormat::Jpeg.max_data_len(70_000, 1), None);
        assert_eq!("RGB565".parse::<FrameFormat>(), Ok(FrameFormat::Rgb565));
        assert_eq!("jpeg".parse::<FrameFormat>().unwrap().pixformat(), PixFormat::JPEG);
        assert!("bayer".parse::<FrameFormat>().is_err());
        assert_eq!(FrameFormat::Grayscale.to_string(), "grayscale");
    }
}
