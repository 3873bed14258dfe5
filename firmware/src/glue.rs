//! Adapters between the engine's traits and what lives in C: a channel behind a C vtable,
//! and the board hooks.

use core::ffi::c_void;

use openmvproto::channels::{Channel, ChannelFlags};
use openmvproto::device::Board;
use openmvproto::framing::payload::{HwCaps, MemoryEntry, Semver, SysInfo as WireSysInfo, Version};
use openmvproto::framing::Status;

use crate::types::{BoardInfo, ChannelOps, MemoryPool, SysInfo};

/// A protocol status from a C callback's result (0 success; unknown or negative: FAILED).
#[inline(never)] // shared by read, write and ioctl
fn status(code: i32) -> Result<(), Status> {
    match code {
        0 => Ok(()),
        2 => Err(Status::Invalid),
        3 => Err(Status::Timeout),
        4 => Err(Status::Busy),
        _ => Err(Status::Failed),
    }
}

/// A channel implemented by C callbacks.
#[derive(Clone, Copy, Debug)]
pub struct CChannel {
    ops: *const ChannelOps,
    user: *mut c_void,
    extra: ChannelFlags,
}

impl CChannel {
    /// `ops` must be non-NULL and stay valid while the channel is registered.
    pub fn new(ops: *const ChannelOps, user: *mut c_void, extra: ChannelFlags) -> Self {
        CChannel { ops, user, extra: extra & (ChannelFlags::EXEC | ChannelFlags::STREAM) }
    }

    fn ops(&self) -> &ChannelOps {
        // SAFETY: `new` is only called with a non-NULL table that the C side keeps valid while
        // the channel is registered (header contract); the engine calls channels only then.
        unsafe { &*self.ops }
    }
}

impl Channel for CChannel {
    fn flags(&self) -> ChannelFlags {
        let o = self.ops();
        let mut f = self.extra;
        f.set(ChannelFlags::READ, o.read.is_some() || o.readp.is_some());
        f.set(ChannelFlags::WRITE, o.write.is_some());
        f.set(ChannelFlags::LOCK, o.lock.is_some());
        f
    }

    fn poll(&mut self) -> bool {
        // SAFETY: a callback of the registered table, called with its user pointer.
        self.ops().poll.is_some_and(|f| unsafe { f(self.user) })
    }

    fn lock(&mut self) -> bool {
        // SAFETY: as in `poll`.
        self.ops().lock.is_some_and(|f| unsafe { f(self.user) })
    }

    fn unlock(&mut self) -> bool {
        // SAFETY: as in `poll`.
        self.ops().unlock.is_none_or(|f| unsafe { f(self.user) })
    }

    fn size(&mut self) -> Option<u32> {
        // SAFETY: as in `poll`.
        self.ops().size.map(|f| unsafe { f(self.user) })
    }

    fn shape(&mut self, dims: &mut [u32; 4]) -> Option<usize> {
        let f = self.ops().shape?;
        // SAFETY: as in `poll`; `dims` has room for the 4 dimensions the callback may write.
        let n = unsafe { f(self.user, dims.as_mut_ptr()) };
        (n > 0).then_some(n.min(4))
    }

    /// A copy of what `readp` lends, else (none, or NULL) through `read`.
    fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), Status> {
        let o = self.ops();
        if let Some(f) = o.readp {
            // SAFETY: as in `poll`.
            let p = unsafe { f(self.user, offset, buf.len()) };
            if !p.is_null() {
                // SAFETY: the readp contract: `buf.len()` readable bytes at `p`, unchanged
                // until the next call into the engine, and not inside `buf` (the engine's
                // own packet buffer).
                unsafe { core::ptr::copy_nonoverlapping(p, buf.as_mut_ptr(), buf.len()) };
                return Ok(());
            }
        }
        let f = o.read.ok_or(Status::Invalid)?;
        // SAFETY: as in `poll`; `buf` is writable for `buf.len()` bytes.
        status(unsafe { f(self.user, offset, buf.as_mut_ptr(), buf.len()) })
    }

    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), Status> {
        let f = self.ops().write.ok_or(Status::Invalid)?;
        // SAFETY: as in `poll`; `data` is readable for `data.len()` bytes.
        status(unsafe { f(self.user, offset, data.as_ptr(), data.len()) })
    }

    fn ioctl(&mut self, request: u32, arg: &[u8]) -> Result<(), Status> {
        let f = self.ops().ioctl.ok_or(Status::Invalid)?;
        // SAFETY: as in `poll`; `arg` is readable for `arg.len()` bytes.
        status(unsafe { f(self.user, request, arg.as_ptr(), arg.len()) })
    }
}

/// Pools SYS_MEMORY reports at most (the engine's own limit).
const MEMORY_POOLS: usize = 8;

/// Fails the build unless C struct `$c` is engine struct `$e` field for field (both
/// `repr(C)`: same size, alignment and offsets), so one may be copied as the other.
macro_rules! same_layout {
    ($c:ty, $e:ty, $($field:ident),+) => {
        const _: () = {
            use core::mem::{align_of, offset_of, size_of};
            assert!(size_of::<$c>() == size_of::<$e>());
            assert!(align_of::<$c>() == align_of::<$e>());
            $(assert!(offset_of!($c, $field) == offset_of!($e, $field));)+
        };
    };
}

same_layout!(
    SysInfo,
    WireSysInfo,
    cpu_id,
    dev_id,
    usb_id,
    chip_id,
    hw_caps,
    flash_kb,
    ram_kb,
    framebuffer_kb,
    stream_buffer_kb
);
same_layout!(MemoryPool, MemoryEntry, kind, flags, total, used, free, persistent, peak);

/// The board as C described it; all-zero bytes are a valid empty board (see `instance::init`).
#[derive(Clone, Copy, Debug)]
pub struct CBoard {
    pub info: BoardInfo,
    pub hw_crc: bool,
}

impl Board for CBoard {
    fn version(&self) -> Version {
        let (b, f) = (self.info.bootloader_version, self.info.firmware_version);
        Version {
            protocol: Version::PROTOCOL,
            bootloader: Semver(b[0], b[1], b[2]),
            firmware: Semver(f[0], f[1], f[2]),
        }
    }

    fn sys_info(&self) -> WireSysInfo {
        // SAFETY: the C struct is the engine's, field for field (checked at compile time
        // above), and any bytes are valid for both (integers only).
        let mut i: WireSysInfo = unsafe { core::mem::transmute(self.info.info) };
        if self.hw_crc {
            i.hw_caps[0] |= HwCaps::HW_CRC.bits();
        }
        i
    }

    fn memory(&self, out: &mut [MemoryEntry]) -> usize {
        let Some(f) = self.info.memory else { return 0 };
        let max = out.len().min(MEMORY_POOLS);
        // SAFETY: the callback fills at most `max` pools, which `out` has room for; a
        // `MemoryPool` has the layout of a `MemoryEntry` (checked at compile time above) and
        // any bytes are valid for both (integers only), so C writes the engine's entries directly.
        unsafe { f(self.info.user, out.as_mut_ptr().cast::<MemoryPool>(), max) }.min(max)
    }

    fn reset(&mut self) {
        if let Some(f) = self.info.reset {
            // SAFETY: a C function given by `omv_fw_set_board`, called with its user pointer.
            unsafe { f(self.info.user) }
        }
    }

    fn boot(&mut self) {
        if let Some(f) = self.info.boot {
            // SAFETY: as for `reset`.
            unsafe { f(self.info.user) }
        }
    }
}
