//! The stdin channel: a script upload buffer with EXEC / STOP / RESET ioctls.

use super::{Channel, ChannelFlags};
use crate::framing::payload::ioctl;
use crate::framing::Status;

/// What the host asked the script runner to do; taken by the cam's main loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScriptCommand {
    /// Run the `len` bytes of script now in the buffer.
    Exec {
        /// Bytes of script, from the start of the buffer.
        len: usize,
    },
    /// Interrupt the running script.
    Stop,
}

/// stdin: holds the uploaded script in caller-provided storage.
#[derive(Debug)]
pub struct ScriptChannel<'a> {
    buf: &'a mut [u8],
    len: usize,
    running: bool,
    command: Option<ScriptCommand>,
}

impl<'a> ScriptChannel<'a> {
    /// An empty upload buffer over `buf`; a write past `buf.len()` bytes answers FAILED.
    pub fn new(buf: &'a mut [u8]) -> Self {
        ScriptChannel { buf, len: 0, running: false, command: None }
    }

    /// The script uploaded so far.
    pub fn script(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// The pending EXEC or STOP, if any.
    pub fn take_command(&mut self) -> Option<ScriptCommand> {
        self.command.take()
    }

    /// The cam tells the channel whether a script runs (CHANNEL_POLL reports it).
    pub fn set_running(&mut self, running: bool) {
        self.running = running;
    }

    /// Whether a script runs, as the cam last said through [`ScriptChannel::set_running`].
    pub fn is_running(&self) -> bool {
        self.running
    }
}

impl Channel for ScriptChannel<'_> {
    fn flags(&self) -> ChannelFlags {
        ChannelFlags::WRITE | ChannelFlags::EXEC
    }

    fn poll(&mut self) -> bool {
        self.running
    }

    fn size(&mut self) -> Option<u32> {
        Some(self.len as u32)
    }

    /// A write at offset 0 restarts the buffer; writes must be contiguous.
    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), Status> {
        let off = offset as usize;
        if off == 0 {
            self.len = 0;
        }
        if off != self.len {
            return Err(Status::Invalid);
        }
        let end = off.checked_add(data.len()).filter(|&e| e <= self.buf.len()).ok_or(Status::Failed)?;
        self.buf[off..end].copy_from_slice(data);
        self.len = end;
        Ok(())
    }

    fn ioctl(&mut self, request: u32, arg: &[u8]) -> Result<(), Status> {
        if !arg.is_empty() {
            return Err(Status::Invalid);
        }
        match request {
            ioctl::STDIN_STOP => self.command = Some(ScriptCommand::Stop),
            ioctl::STDIN_EXEC if self.len == 0 => return Err(Status::Failed),
            ioctl::STDIN_EXEC => self.command = Some(ScriptCommand::Exec { len: self.len }),
            ioctl::STDIN_RESET => self.len = 0,
            _ => return Err(Status::Invalid),
        }
        Ok(())
    }
}
