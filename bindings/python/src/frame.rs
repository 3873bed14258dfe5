//! `Frame`: one stream frame as the cam sent it, with conversions to bytes and numpy arrays.
//!
//! Pixel conversion runs with the GIL released and writes straight into the Python object that
//! is returned (`bytes` or `bytearray`); numpy arrays are views on that `bytearray`, so a frame
//! costs one pass over its pixels and no further copy.

use std::time::UNIX_EPOCH;

use openmvproto::client::{rgb565_to_rgb888, Frame as RustFrame};
use openmvproto::framing::payload::PixFormat;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes};

use crate::errors::OMVException;

/// One frame of the stream channel.
#[pyclass(module = "openmvproto", name = "Frame", frozen)]
pub struct Frame {
    inner: RustFrame,
}

impl Frame {
    pub fn new(inner: RustFrame) -> Frame {
        Frame { inner }
    }

    fn pixel_count(&self) -> PyResult<usize> {
        (self.inner.width as usize)
            .checked_mul(self.inner.height as usize)
            .ok_or_else(|| OMVException::new_err("frame too large"))
    }

    /// Bytes of RGB888 this frame converts to, or why it cannot be converted.
    fn rgb_len(&self) -> PyResult<usize> {
        self.pixel_count()?.checked_mul(3).ok_or_else(|| OMVException::new_err("frame too large"))
    }

    /// Writes the RGB888 pixels into `out` (exactly `rgb_len` bytes). Runs without the GIL.
    fn fill_rgb888(&self, out: &mut [u8]) -> Result<(), String> {
        let n = out.len() / 3;
        let data = &self.inner.data;
        match self.inner.format {
            PixFormat::GRAYSCALE => {
                let px = data.get(..n).ok_or_else(|| short(n, data.len()))?;
                for (o, &g) in out.chunks_exact_mut(3).zip(px) {
                    o.copy_from_slice(&[g, g, g]);
                }
            }
            PixFormat::RGB565 => {
                let px = data.get(..n * 2).ok_or_else(|| short(n * 2, data.len()))?;
                for (o, p) in out.chunks_exact_mut(3).zip(px.chunks_exact(2)) {
                    o.copy_from_slice(&rgb565_to_rgb888(u16::from_le_bytes([p[0], p[1]])));
                }
            }
            _ => {
                // JPEG (and whatever the core learns to decode): its decoder allocates anyway.
                let rgb = self.inner.to_rgb888().map_err(|e| e.to_string())?;
                if rgb.pixels.len() != out.len() {
                    return Err(format!(
                        "decoded {}x{} image in a {}x{} frame",
                        rgb.width, rgb.height, self.inner.width, self.inner.height
                    ));
                }
                out.copy_from_slice(&rgb.pixels);
            }
        }
        Ok(())
    }

    /// RGB888 as a `bytes` object, converted without the GIL.
    pub fn rgb888_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let len = self.rgb_len()?;
        PyBytes::new_with(py, len, |buf| py.detach(|| self.fill_rgb888(buf)).map_err(OMVException::new_err))
    }

    fn rgb888_bytearray<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyByteArray>> {
        let len = self.rgb_len()?;
        PyByteArray::new_with(py, len, |buf| py.detach(|| self.fill_rgb888(buf)).map_err(OMVException::new_err))
    }

    /// The raw pixels (gray bytes or RGB565 words) in a `bytearray`, `bpp` bytes each.
    fn raw_bytearray<'py>(&self, py: Python<'py>, bpp: usize) -> PyResult<Bound<'py, PyByteArray>> {
        let need = self.pixel_count()?.checked_mul(bpp).ok_or_else(|| OMVException::new_err("frame too large"))?;
        let data = &self.inner.data;
        let px = data.get(..need).ok_or_else(|| OMVException::new_err(short(need, data.len())))?;
        PyByteArray::new_with(py, need, |buf| {
            py.detach(|| buf.copy_from_slice(px));
            Ok(())
        })
    }
}

fn short(need: usize, got: usize) -> String {
    format!("{got} pixel bytes, {need} needed")
}

/// `numpy.frombuffer(buf, dtype).reshape(shape)`: a writable view, no copy.
fn numpy_view<'py>(
    py: Python<'py>,
    buf: Bound<'py, PyByteArray>,
    dtype: &str,
    shape: Vec<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    let np = py.import("numpy")?;
    np.getattr("frombuffer")?.call1((buf, dtype))?.call_method1("reshape", (shape,))
}

#[pymethods]
impl Frame {
    #[getter]
    fn width(&self) -> u32 {
        self.inner.width
    }

    #[getter]
    fn height(&self) -> u32 {
        self.inner.height
    }

    /// The pixel format code (GRAYSCALE 0x08020001, RGB565 0x0C030002, JPEG 0x06060000).
    #[getter]
    fn format(&self) -> u32 {
        self.inner.format.0
    }

    /// "GRAY", "RGB565", "JPEG" or the code in hex, as openmv names formats.
    #[getter]
    fn format_name(&self) -> String {
        format_name(self.inner.format.0)
    }

    /// The header's compressed size: JPEG bytes, 0 for raw formats (openmv calls it depth).
    #[getter]
    fn depth(&self) -> usize {
        if self.inner.format.bytes_per_pixel().is_some() {
            0
        } else {
            self.inner.data.len()
        }
    }

    /// Bytes of pixel data (raw pixels or the JPEG file) the cam sent.
    #[getter]
    fn raw_size(&self) -> usize {
        self.inner.data.len()
    }

    /// The cam's frame rate, when its header carries one (firmware 5.x).
    #[getter]
    fn fps(&self) -> Option<f32> {
        self.inner.fps
    }

    /// 1 for the first frame this camera object received, then 2, 3, ...
    #[getter]
    fn counter(&self) -> u64 {
        self.inner.counter
    }

    /// When the last byte arrived, in seconds since the epoch (as `time.time()`).
    #[getter]
    fn timestamp(&self) -> f64 {
        self.inner.received_at.duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
    }

    /// The pixels as the cam sent them (gray bytes, little-endian RGB565, or a JPEG file).
    #[getter]
    fn data<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.data)
    }

    /// RGB888 bytes, 3 per pixel, rows top to bottom (what openmv's read_frame gives).
    fn rgb888<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        self.rgb888_bytes(py)
    }

    /// A numpy array: H x W uint8 for grayscale, H x W x 3 uint8 RGB for colour and JPEG.
    fn array<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let (h, w) = (self.inner.height as usize, self.inner.width as usize);
        if self.inner.format == PixFormat::GRAYSCALE {
            numpy_view(py, self.raw_bytearray(py, 1)?, "uint8", vec![h, w])
        } else {
            numpy_view(py, self.rgb888_bytearray(py)?, "uint8", vec![h, w, 3])
        }
    }

    /// A numpy H x W x 3 uint8 RGB array, whatever the format.
    fn rgb_array<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let (h, w) = (self.inner.height as usize, self.inner.width as usize);
        numpy_view(py, self.rgb888_bytearray(py)?, "uint8", vec![h, w, 3])
    }

    /// The unconverted pixels as numpy: H x W uint8 (grayscale) or H x W uint16 (RGB565).
    fn raw_array<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let (h, w) = (self.inner.height as usize, self.inner.width as usize);
        match self.inner.format {
            PixFormat::GRAYSCALE => numpy_view(py, self.raw_bytearray(py, 1)?, "uint8", vec![h, w]),
            PixFormat::RGB565 => numpy_view(py, self.raw_bytearray(py, 2)?, "<u2", vec![h, w]),
            _ => Err(OMVException::new_err(format!("no raw pixel array for {}", self.format_name()))),
        }
    }

    /// `numpy.asarray(frame)`: the same as `frame.array()`.
    #[pyo3(signature = (dtype=None, copy=None))]
    fn __array__<'py>(
        &self,
        py: Python<'py>,
        dtype: Option<Bound<'py, PyAny>>,
        copy: Option<bool>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let _ = copy; // always a fresh array
        let a = self.array(py)?;
        match dtype {
            Some(d) => a.call_method1("astype", (d,)),
            None => Ok(a),
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "<openmvproto.Frame #{} {}x{} {} ({} bytes)>",
            self.inner.counter,
            self.inner.width,
            self.inner.height,
            self.format_name(),
            self.inner.data.len()
        )
    }
}

pub fn format_name(code: u32) -> String {
    match PixFormat(code) {
        PixFormat::GRAYSCALE => "GRAY".into(),
        PixFormat::RGB565 => "RGB565".into(),
        PixFormat::JPEG => "JPEG".into(),
        _ => format!("0x{code:08X}"),
    }
}
