//! `omv_frame`: a frame read by `omv_host_read_frame` or `omv_host_wait_frame`, owned by the
//! library until `omv_frame_free`.

use super::error::Fail;
use super::ffi::guard;
use super::omv_status;
use super::types::OMV_PIXFORMAT_RGB888;
use crate::client::Frame;

/// One stream frame. The fields are for reading; `data` points to `len` pixel bytes (raw
/// GRAYSCALE / RGB565 / RGB888 rows top to bottom, or a JPEG file) that stay valid until
/// `omv_frame_free`. A frame is plain immutable data: it may be read from any thread.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug)]
pub struct omv_frame {
    /// Width in pixels (after conversion, with `OMV_FRAME_RGB888`).
    pub width: u32,
    /// Height in pixels (after conversion, with `OMV_FRAME_RGB888`).
    pub height: u32,
    /// `OMV_PIXFORMAT_*`.
    pub pixformat: u32,
    /// The first of `len` pixel bytes: owned by the frame, or the caller's buffer for
    /// `omv_host_read_frame_into`. Never write through it or free it.
    pub data: *const u8,
    /// Bytes at `data`: width x height x bytes per pixel for raw formats, the file's size for
    /// JPEG. After `OMV_STATUS_BUFFER_TOO_SMALL` from `omv_host_read_frame_into`, the size needed.
    pub len: usize,
    /// Frames per second the cam reported, 0 if it did not.
    pub fps: f32,
    /// Which frame this handle read: 1 for the first, then 2, 3, ... Frames read but not
    /// returned (malformed, failed to convert, too large for `omv_host_read_frame_into`)
    /// take a number too, so numbers may be skipped.
    pub counter: u64,
}

/// What an `omv_frame` pointer points to: the C-visible part first, then the pixels it lends.
/// The pixels are released from here, never through the (caller-writable) `data` field.
#[repr(C)]
struct FrameBox {
    frame: omv_frame,
    pixels: Vec<u8>,
}

/// A frame's description and pixels, converted as asked.
pub(crate) struct FramePixels {
    pub width: u32,
    pub height: u32,
    pub format: u32,
    pub fps: f32,
    pub counter: u64,
    pub pixels: Vec<u8>,
}

impl FramePixels {
    pub fn take(f: Frame, rgb888: bool) -> Result<FramePixels, Fail> {
        let (fps, counter) = (f.fps.unwrap_or(0.0), f.counter);
        if rgb888 {
            let rgb = f.to_rgb888()?;
            return Ok(FramePixels {
                width: rgb.width,
                height: rgb.height,
                format: OMV_PIXFORMAT_RGB888,
                fps,
                counter,
                pixels: rgb.pixels,
            });
        }
        Ok(FramePixels { width: f.width, height: f.height, format: f.format.0, fps, counter, pixels: f.data })
    }

    /// The C description of these pixels stored at `data` (`len` bytes).
    pub fn describe(&self, data: *const u8, len: usize) -> omv_frame {
        omv_frame {
            width: self.width,
            height: self.height,
            pixformat: self.format,
            data,
            len,
            fps: self.fps,
            counter: self.counter,
        }
    }
}

/// A heap frame for C; release with `omv_frame_free`.
pub(crate) fn frame_into_box(px: FramePixels) -> *mut omv_frame {
    let mut b = Box::new(FrameBox { frame: px.describe(std::ptr::null(), 0), pixels: Vec::new() });
    b.frame = px.describe(px.pixels.as_ptr(), px.pixels.len());
    b.pixels = px.pixels;
    // `repr(C)` with `frame` first: a pointer to the box is a pointer to its `omv_frame`.
    Box::into_raw(b).cast()
}

/// Releases a frame from `omv_host_read_frame` or `omv_host_wait_frame`. Thread-safe for
/// distinct frames; `frame` must not be used afterwards. NULL returns
/// `OMV_STATUS_NULL_ARGUMENT` and does nothing.
///
/// # Safety
/// `frame` must be NULL or a frame from `omv_host_read_frame` / `omv_host_wait_frame` not yet
/// freed (never an `omv_frame` the caller filled or got from `omv_host_read_frame_into`).
#[no_mangle]
pub unsafe extern "C" fn omv_frame_free(frame: *mut omv_frame) -> omv_status {
    guard("omv_frame_free", || {
        if frame.is_null() {
            return Err(Fail::null("frame"));
        }
        // SAFETY: by contract the pointer came from `frame_into_box` (a `Box<FrameBox>`), so
        // casting back and dropping frees the box and its pixel vector exactly once.
        drop(unsafe { Box::from_raw(frame.cast::<FrameBox>()) });
        Ok(())
    })
}
