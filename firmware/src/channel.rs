//! Every kind of channel a cam registers, as one type: the registry holds these, so the
//! engine calls a channel through a `match`, not a vtable per kind (issue 15: less flash).

use openmvproto::channels::{Channel, ChannelFlags, FrameChannel, RingChannel, ScriptChannel};
use openmvproto::framing::Status;

use crate::glue::CChannel;

/// A registered channel: a built-in, which lives in its own field of the instance, or a
/// channel implemented in C.
#[derive(Debug)]
pub enum FwChannel {
    Stdin(&'static mut ScriptChannel<'static>),
    Stdout(&'static mut RingChannel<'static>),
    Stream(&'static mut FrameChannel<'static>),
    C(CChannel),
}

/// `$body` with `$c` bound to the channel inside `$chan`, whichever kind it is.
macro_rules! each {
    ($chan:expr, $c:ident => $body:expr) => {
        match $chan {
            FwChannel::Stdin($c) => $body,
            FwChannel::Stdout($c) => $body,
            FwChannel::Stream($c) => $body,
            FwChannel::C($c) => $body,
        }
    };
}

impl Channel for FwChannel {
    fn flags(&self) -> ChannelFlags {
        each!(self, c => c.flags())
    }

    fn poll(&mut self) -> bool {
        each!(self, c => c.poll())
    }

    fn lock(&mut self) -> bool {
        each!(self, c => c.lock())
    }

    fn unlock(&mut self) -> bool {
        each!(self, c => c.unlock())
    }

    fn size(&mut self) -> Option<u32> {
        each!(self, c => c.size())
    }

    fn shape(&mut self, dims: &mut [u32; 4]) -> Option<usize> {
        each!(self, c => c.shape(dims))
    }

    fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), Status> {
        each!(self, c => c.read(offset, buf))
    }

    fn readp(&mut self, offset: u32, len: usize) -> Option<&[u8]> {
        each!(self, c => c.readp(offset, len))
    }

    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), Status> {
        each!(self, c => c.write(offset, data))
    }

    fn ioctl(&mut self, request: u32, arg: &[u8]) -> Result<(), Status> {
        each!(self, c => c.ioctl(request, arg))
    }
}
