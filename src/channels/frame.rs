//! The stream channel: the latest frame behind a 32-byte header (PROTOCOL.md 6.1).

use super::{ioctl_u32, Channel, ChannelFlags};
use crate::framing::payload::{ioctl, FrameHeader, PixFormat};
use crate::framing::Status;

/// Where pixels start: after the 20-byte header and the f32 fps at byte 20, aligned to 32 as
/// firmware 5.x does, so hosts must honour `offset`.
pub const FRAME_DATA_OFFSET: usize = 32;

/// stream: one frame in caller-provided storage, handed to the host under a lock.
#[derive(Debug)]
pub struct FrameChannel<'a> {
    buf: &'a mut [u8],
    /// Header plus data bytes of the current frame.
    len: usize,
    ready: bool,
    locked: bool,
    streaming: bool,
    raw: bool,
    raw_size: (u32, u32),
    source: u32,
}

impl<'a> FrameChannel<'a> {
    /// A stream channel over `buf`, which holds one frame: [`FRAME_DATA_OFFSET`] header bytes,
    /// then pixel data. No frame is ready and streaming is off.
    pub fn new(buf: &'a mut [u8]) -> Self {
        FrameChannel {
            buf,
            len: 0,
            ready: false,
            locked: false,
            streaming: false,
            raw: false,
            raw_size: (0, 0),
            source: 0,
        }
    }

    /// Whether the host enabled streaming (ioctl STREAM_CTRL).
    pub fn streaming(&self) -> bool {
        self.streaming
    }

    /// RAW_CTRL and RAW_CFG as the host set them: (raw on, width, height).
    pub fn raw_config(&self) -> (bool, u32, u32) {
        (self.raw, self.raw_size.0, self.raw_size.1)
    }

    /// The sensor the host selected (ioctl SOURCE).
    pub fn source(&self) -> u32 {
        self.source
    }

    /// Whether the host holds the frame (between LOCK and UNLOCK); the cam must not touch it.
    pub fn is_locked(&self) -> bool {
        self.locked
    }

    /// Whether a published frame waits for the host (what CHANNEL_POLL reports).
    pub fn is_ready(&self) -> bool {
        self.ready
    }

    /// Room for pixel data of the next frame, `None` while the host holds the current one.
    /// The published frame is withdrawn (no longer ready) until [`FrameChannel::publish`], as
    /// its bytes are about to be overwritten.
    pub fn pixels_mut(&mut self) -> Option<&mut [u8]> {
        if self.locked {
            return None;
        }
        self.ready = false;
        self.buf.get_mut(FRAME_DATA_OFFSET..)
    }

    /// Publishes the frame whose `data_len` bytes were written through [`Self::pixels_mut`].
    pub fn publish(
        &mut self,
        width: u32,
        height: u32,
        format: PixFormat,
        data_len: usize,
        fps: f32,
    ) -> Result<(), Status> {
        let end = FRAME_DATA_OFFSET.checked_add(data_len).filter(|&e| e <= self.buf.len()).ok_or(Status::Overflow)?;
        if self.locked {
            return Err(Status::Busy);
        }
        let size = if format.bytes_per_pixel().is_some() { 0 } else { data_len as u32 };
        let h = FrameHeader { width, height, format, size, offset: FRAME_DATA_OFFSET as u32 };
        h.write_with_fps(&mut self.buf[..FRAME_DATA_OFFSET], fps);
        self.len = end;
        self.ready = true;
        Ok(())
    }

    fn header(&self) -> Option<FrameHeader> {
        FrameHeader::parse(self.buf.get(..self.len)?).ok()
    }
}

impl Channel for FrameChannel<'_> {
    fn flags(&self) -> ChannelFlags {
        ChannelFlags::READ | ChannelFlags::LOCK | ChannelFlags::STREAM
    }

    fn poll(&mut self) -> bool {
        self.ready
    }

    /// Nothing ready, or already held: BUSY.
    fn lock(&mut self) -> bool {
        if !self.ready || self.locked {
            return false;
        }
        self.locked = true;
        true
    }

    /// Releases the frame so the cam can produce the next one.
    fn unlock(&mut self) -> bool {
        if !self.locked {
            return false;
        }
        self.locked = false;
        self.ready = false;
        true
    }

    fn size(&mut self) -> Option<u32> {
        Some(if self.ready { self.len as u32 } else { 0 })
    }

    fn shape(&mut self, dims: &mut [u32; 4]) -> Option<usize> {
        let h = self.header().filter(|_| self.ready)?;
        match h.format.bytes_per_pixel() {
            Some(bpp) => {
                dims[..3].copy_from_slice(&[h.width, h.height, bpp]);
                Some(3)
            }
            None => {
                dims[0] = h.size;
                Some(1)
            }
        }
    }

    fn readp(&mut self, offset: u32, len: usize) -> Option<&[u8]> {
        let start = offset as usize;
        let end = start.checked_add(len)?;
        if !self.ready || end > self.len {
            return None;
        }
        self.buf.get(start..end)
    }

    fn ioctl(&mut self, request: u32, arg: &[u8]) -> Result<(), Status> {
        match request {
            ioctl::STREAM_CTRL => self.streaming = ioctl_u32(arg)? != 0,
            ioctl::STREAM_RAW_CTRL => self.raw = ioctl_u32(arg)? != 0,
            ioctl::STREAM_RAW_CFG => {
                let b: [u8; 8] = arg.try_into().map_err(|_| Status::Invalid)?;
                let w = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                let h = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
                self.raw_size = (w, h);
            }
            ioctl::STREAM_SOURCE => self.source = ioctl_u32(arg)?,
            _ => return Err(Status::Invalid),
        }
        Ok(())
    }
}
