//! The engine's CRCs: a hardware unit through two C hooks, else the core's small tables
//! (not the 16 KiB slice-by-16 tables of `FastCrc`). With the `hw-crc` feature the tables
//! are left out and the hooks are required.

use core::ffi::c_void;

use openmvproto::framing::Checksum;
#[cfg(not(feature = "hw-crc"))]
use openmvproto::framing::SmallCrc;

type Crc16 = unsafe extern "C" fn(*mut c_void, *const u8, usize) -> u16;
type Crc32 = unsafe extern "C" fn(*mut c_void, *const u8, usize) -> u32;

#[derive(Clone, Copy, Debug)]
pub struct FwCrc {
    hw: Option<(Crc16, Crc32, *mut c_void)>,
}

impl FwCrc {
    /// The software CRC; `None` when the build has none (`hw-crc`).
    pub fn software() -> Option<Self> {
        cfg!(not(feature = "hw-crc")).then_some(FwCrc { hw: None })
    }

    pub fn hardware(crc16: Crc16, crc32: Crc32, user: *mut c_void) -> Self {
        FwCrc { hw: Some((crc16, crc32, user)) }
    }

    pub fn is_hardware(&self) -> bool {
        self.hw.is_some()
    }
}

impl Checksum for FwCrc {
    fn crc16(&self, data: &[u8]) -> u16 {
        match self.hw {
            // SAFETY: `data` is a live slice for the duration of the call; the hook's contract
            // (header docs) is to read `len` bytes from it and nothing else.
            Some((f, _, user)) => unsafe { f(user, data.as_ptr(), data.len()) },
            #[cfg(not(feature = "hw-crc"))]
            None => SmallCrc.crc16(data),
            #[cfg(feature = "hw-crc")]
            None => 0, // not reached: `software()` gives no such value in this build
        }
    }

    fn crc32(&self, data: &[u8]) -> u32 {
        match self.hw {
            // SAFETY: as for `crc16`.
            Some((_, f, user)) => unsafe { f(user, data.as_ptr(), data.len()) },
            #[cfg(not(feature = "hw-crc"))]
            None => SmallCrc.crc32(data),
            #[cfg(feature = "hw-crc")]
            None => 0,
        }
    }
}
