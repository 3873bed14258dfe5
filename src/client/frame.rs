//! Stream frames (PROTOCOL.md 6.1): header parsing, and conversion to RGB888 on request.

use std::time::SystemTime;

use super::error::{Error, Result};
use crate::framing::payload::{FrameHeader, PixFormat};

/// Bytes of the optional fps field firmware 5.x puts right after the header.
const FPS_END: usize = FrameHeader::LEN + 4;

/// One frame read from the stream channel, pixels as the cam sent them.
#[derive(Clone, Debug)]
pub struct Frame {
    /// Width in pixels, from the frame header.
    pub width: u32,
    /// Height in pixels, from the frame header.
    pub height: u32,
    /// Pixel format from the frame header: GRAYSCALE, RGB565 or JPEG (others are refused).
    pub format: PixFormat,
    /// Raw pixels (GRAYSCALE, RGB565 little-endian) or the JPEG file, without the header.
    pub data: Vec<u8>,
    /// The cam's frame rate, when its header carries one (firmware 5.x).
    pub fps: Option<f32>,
    /// Wall-clock time the last byte arrived.
    pub received_at: SystemTime,
    /// Monotonic time the last byte arrived, for measuring rates.
    pub received: std::time::Instant,
    /// 1 for the first frame this client received, then 2, 3, ...
    pub counter: u64,
}

/// Pixels in RGB888 order, 3 bytes per pixel, rows top to bottom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RgbFrame {
    /// Width in pixels (a JPEG's own, as decoded).
    pub width: u32,
    /// Height in pixels (a JPEG's own, as decoded).
    pub height: u32,
    /// `width * height * 3` bytes: R, G, B for each pixel.
    pub pixels: Vec<u8>,
}

impl Frame {
    /// Builds a frame from the stream channel's bytes (header, padding, pixels). Pixels start
    /// at the header's `offset`; for raw formats trailing bytes past width x height x bpp
    /// are dropped, for JPEG those past `size`.
    ///
    /// A frame that lies gets [`Error::Decode`]: an offset inside the header or past the
    /// data, an unknown pixel format, fewer pixel bytes than width x height x bpp (or than
    /// a JPEG's `size`), a JPEG that does not start with its SOI marker.
    pub fn from_stream_bytes(mut bytes: Vec<u8>, counter: u64) -> Result<Frame> {
        let h = FrameHeader::parse(&bytes).map_err(|_| Error::bad("frame header"))?;
        let offset = h.offset as usize;
        if offset < FrameHeader::LEN || offset > bytes.len() {
            return Err(Error::Decode(format!("frame data offset {offset} outside 20..={}", bytes.len())));
        }
        if h.format.bytes_per_pixel().is_none() && h.format != PixFormat::JPEG {
            return Err(Error::Decode(format!("pixel format 0x{:08X}", h.format.0)));
        }
        let need = h.data_len().ok_or_else(|| Error::Decode("frame size overflows".into()))?;
        let have = bytes.len() - offset;
        if need == 0 || need > have {
            return Err(Error::Decode(format!("{}x{} frame needs {need} data bytes, {have} sent", h.width, h.height)));
        }
        if h.format == PixFormat::JPEG && !bytes[offset..].starts_with(&[0xFF, 0xD8]) {
            return Err(Error::Decode("JPEG frame without a JPEG start marker".into()));
        }
        let fps = (offset >= FPS_END)
            .then(|| f32::from_le_bytes([bytes[20], bytes[21], bytes[22], bytes[23]]))
            .filter(|f| f.is_finite() && *f > 0.0);
        bytes.drain(..offset);
        bytes.truncate(need);
        Ok(Frame {
            width: h.width,
            height: h.height,
            format: h.format,
            data: bytes,
            fps,
            received_at: SystemTime::now(),
            received: std::time::Instant::now(),
            counter,
        })
    }

    /// Whether `data` is a JPEG file rather than raw pixels.
    pub fn is_jpeg(&self) -> bool {
        self.format == PixFormat::JPEG
    }

    /// Pixels as RGB888: grayscale replicated, RGB565 expanded as openmv does, JPEG decoded.
    pub fn to_rgb888(&self) -> Result<RgbFrame> {
        let n = (self.width as usize)
            .checked_mul(self.height as usize)
            .ok_or_else(|| Error::Decode("frame too large".into()))?;
        match self.format {
            PixFormat::GRAYSCALE => {
                let px = self.data.get(..n).ok_or_else(|| short(n, self.data.len()))?;
                let pixels = px.iter().flat_map(|&g| [g, g, g]).collect();
                Ok(RgbFrame { width: self.width, height: self.height, pixels })
            }
            PixFormat::RGB565 => {
                let need = n.checked_mul(2).ok_or_else(|| Error::Decode("frame too large".into()))?;
                let px = self.data.get(..need).ok_or_else(|| short(need, self.data.len()))?;
                let pixels =
                    px.chunks_exact(2).flat_map(|p| rgb565_to_rgb888(u16::from_le_bytes([p[0], p[1]]))).collect();
                Ok(RgbFrame { width: self.width, height: self.height, pixels })
            }
            PixFormat::JPEG => decode_jpeg(&self.data),
            PixFormat(f) => Err(Error::Decode(format!("pixel format 0x{f:08X}"))),
        }
    }
}

fn short(need: usize, got: usize) -> Error {
    Error::Decode(format!("{got} pixel bytes, {need} needed"))
}

/// Scales each field to 0..=255 with truncation, exactly like openmv's numpy conversion.
pub fn rgb565_to_rgb888(v: u16) -> [u8; 3] {
    let r = u32::from((v >> 11) & 0x1F);
    let g = u32::from((v >> 5) & 0x3F);
    let b = u32::from(v & 0x1F);
    [(r * 255 / 31) as u8, (g * 255 / 63) as u8, (b * 255 / 31) as u8]
}

fn decode_jpeg(data: &[u8]) -> Result<RgbFrame> {
    let img = image::load_from_memory_with_format(data, image::ImageFormat::Jpeg)
        .map_err(|e| Error::Decode(e.to_string()))?;
    let rgb = img.to_rgb8();
    Ok(RgbFrame { width: rgb.width(), height: rgb.height(), pixels: rgb.into_raw() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream_bytes(w: u32, h: u32, f: PixFormat, size: u32, offset: u32, fps: Option<f32>, data: &[u8]) -> Vec<u8> {
        let mut b = FrameHeader { width: w, height: h, format: f, size, offset }.to_bytes().to_vec();
        b.resize(offset as usize, 0);
        if let Some(fps) = fps {
            b[20..24].copy_from_slice(&fps.to_le_bytes());
        }
        b.extend_from_slice(data);
        b
    }

    #[test]
    fn header_offset_is_honoured_and_fps_read() {
        let b = stream_bytes(2, 1, PixFormat::GRAYSCALE, 0, 32, Some(29.5), &[10, 20, 0xEE]);
        let f = Frame::from_stream_bytes(b, 1).unwrap();
        assert_eq!(f.data, vec![10, 20]);
        assert_eq!(f.fps, Some(29.5));
        assert_eq!(f.to_rgb888().unwrap().pixels, vec![10, 10, 10, 20, 20, 20]);
        // A plain 20-byte header: no fps.
        let f = Frame::from_stream_bytes(stream_bytes(2, 1, PixFormat::GRAYSCALE, 0, 20, None, &[1, 2]), 2).unwrap();
        assert_eq!(f.fps, None);
        assert_eq!(f.counter, 2);
    }

    #[test]
    fn bad_headers_are_errors_not_panics() {
        assert!(Frame::from_stream_bytes(vec![0; 10], 1).is_err());
        let mut b = stream_bytes(1, 1, PixFormat::GRAYSCALE, 0, 20, None, &[]);
        b[16..20].copy_from_slice(&1000u32.to_le_bytes());
        assert!(Frame::from_stream_bytes(b, 1).is_err());
        // Frames that lie are refused whole, never converted into garbage pixels.
        type Lie = (u32, u32, PixFormat, u32, u32, &'static [u8]);
        let lies: [Lie; 6] = [
            (4, 4, PixFormat::RGB565, 0, 20, &[1, 2, 3]),         // too few pixels
            (u32::MAX, u32::MAX, PixFormat::RGB565, 0, 20, &[1]), // size overflows
            (1, 1, PixFormat::JPEG, 3, 20, &[1, 2, 3]),           // not a JPEG
            (1, 1, PixFormat::JPEG, 9, 20, &[0xFF, 0xD8]),        // JPEG size past the data
            (1, 1, PixFormat(0x1234_5678), 0, 20, &[1]),          // unknown pixel format
            (1, 1, PixFormat::GRAYSCALE, 0, 8, &[1]),             // offset inside the header
        ];
        for (w, h, f, size, off, data) in lies {
            let b = stream_bytes(w, h, f, size, off, None, data);
            let r = Frame::from_stream_bytes(b, 1);
            assert!(matches!(r, Err(Error::Decode(_) | Error::BadAnswer(_))), "{w}x{h} {f:?} {size} {off}: {r:?}");
        }
    }

    #[test]
    fn rgb565_matches_openmv() {
        assert_eq!(rgb565_to_rgb888(0xFFFF), [255, 255, 255]);
        assert_eq!(rgb565_to_rgb888(0xF800), [255, 0, 0]);
        assert_eq!(rgb565_to_rgb888(0x07E0), [0, 255, 0]);
        // r = 16: int(16 * 255.0 / 31.0) = 131
        assert_eq!(rgb565_to_rgb888(16 << 11), [131, 0, 0]);
    }

    #[test]
    fn jpeg_decodes() {
        let mut img = image::RgbImage::new(8, 8);
        for p in img.pixels_mut() {
            *p = image::Rgb([200, 100, 50]);
        }
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 95).encode_image(&img).unwrap();
        let b = stream_bytes(8, 8, PixFormat::JPEG, jpeg.len() as u32, 32, Some(10.0), &jpeg);
        let f = Frame::from_stream_bytes(b, 1).unwrap();
        assert!(f.is_jpeg());
        assert_eq!(f.data, jpeg);
        let rgb = f.to_rgb888().unwrap();
        assert_eq!((rgb.width, rgb.height), (8, 8));
        assert!(rgb.pixels[0].abs_diff(200) < 8);
    }
}
