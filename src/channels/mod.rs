//! Layer 4: the channel operations (PROTOCOL.md section 6) and ready-made channels.
//!
//! A cam implements [`Channel`] for each data source and registers it in a
//! [`crate::device::Registry`]. Operations a channel does not override answer
//! NAK INVALID ("not supported"); its [`Channel::flags`] says which it does.

mod controls;
mod frame;
mod ring;
mod script;

pub use crate::framing::payload::{ChannelFlags, CHANNEL_NAME_MAX};
pub use controls::{ControlsChannel, ControlsHandler, Field, Store};
pub use frame::{FrameChannel, FRAME_DATA_OFFSET};
pub use ring::RingChannel;
pub use script::{ScriptChannel, ScriptCommand};

use crate::framing::Status;

/// One channel's backend. All operations run on the device's thread, inside its calls.
pub trait Channel {
    /// Which operations this channel supports: READ, WRITE, EXEC, LOCK, STREAM.
    fn flags(&self) -> ChannelFlags;

    /// Whether the channel has something for the host (bit in CHANNEL_POLL).
    fn poll(&mut self) -> bool {
        false
    }

    /// Takes the lock; `false` answers BUSY (e.g. nothing ready yet).
    fn lock(&mut self) -> bool {
        true
    }

    /// Releases the lock; `false` answers BUSY.
    fn unlock(&mut self) -> bool {
        true
    }

    /// Bytes available; `None` if the channel has no size.
    fn size(&mut self) -> Option<u32> {
        None
    }

    /// Up to 4 dimensions written into `dims`; returns how many, `None` if unsupported.
    fn shape(&mut self, dims: &mut [u32; 4]) -> Option<usize> {
        let _ = dims;
        None
    }

    /// Copies `buf.len()` bytes from `offset` into `buf`; what the device calls for
    /// CHANNEL_READ. By default a copy of what [`Channel::readp`] lends.
    fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), Status> {
        match self.readp(offset, buf.len()) {
            Some(src) if src.len() == buf.len() => {
                buf.copy_from_slice(src);
                Ok(())
            }
            _ => Err(Status::Invalid),
        }
    }

    /// The channel's own bytes at `offset..offset + len`, if it can lend them: a channel
    /// that keeps its data in memory implements this and gets [`Channel::read`] for free.
    fn readp(&mut self, offset: u32, len: usize) -> Option<&[u8]> {
        let _ = (offset, len);
        None
    }

    /// Stores `data` at `offset`.
    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), Status> {
        let _ = (offset, data);
        Err(Status::Invalid)
    }

    /// A channel-specific request with its argument bytes.
    fn ioctl(&mut self, request: u32, arg: &[u8]) -> Result<(), Status> {
        let _ = (request, arg);
        Err(Status::Invalid)
    }
}

/// Reads a u32 ioctl argument, refusing any other size (PROTOCOL.md 6: sizes are checked).
pub fn ioctl_u32(arg: &[u8]) -> Result<u32, Status> {
    let b: [u8; 4] = arg.try_into().map_err(|_| Status::Invalid)?;
    Ok(u32::from_le_bytes(b))
}
