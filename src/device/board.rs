//! What the device engine asks of the board it runs on.

use crate::framing::payload::{MemoryEntry, SysInfo, Version};

/// Board information and system actions (SYS_INFO, PROTO_VERSION, SYS_MEMORY, SYS_RESET,
/// SYS_BOOT). Every method has a default, so a board implements only what it knows.
pub trait Board {
    /// The PROTO_VERSION answer. By default only the protocol version is set
    /// ([`Version::PROTOCOL`]); bootloader and firmware read 0.0.0.
    fn version(&self) -> Version {
        Version { protocol: Version::PROTOCOL, ..Version::default() }
    }

    /// The SYS_INFO answer; by default all zeros.
    fn sys_info(&self) -> SysInfo {
        SysInfo::default()
    }

    /// Fills `out` with memory pools; returns how many.
    fn memory(&self, out: &mut [MemoryEntry]) -> usize {
        let _ = out;
        0
    }

    /// SYS_RESET: the host expects no answer.
    fn reset(&mut self) {}

    /// SYS_BOOT: enter the bootloader; no answer.
    fn boot(&mut self) {}
}

/// A board that reports only the protocol version.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoBoard;

impl Board for NoBoard {}
