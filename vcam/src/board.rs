//! What the virtual cam says about itself (SYS_INFO, PROTO_VERSION, SYS_MEMORY), and what it
//! does on SYS_RESET / SYS_BOOT.
//!
//! It poses as an OpenMV-class cam: USB id 0x37C5:0x9204 (the OpenMV vendor id; product id
//! 0x9204 is this project's pick for the virtual cam), a Cortex-M7 r1p2 CPU id, an OV5640 sensor,
//! JPEG encoder, SDRAM, high-speed USB; protocol 1.0.2, firmware 5.0.0, bootloader 4.0.1;
//! 32 MiB flash, 32 MiB RAM, a frame buffer sized for the configured frames; two memory pools,
//! a 4 MiB GC heap and a 16 MiB UMA pool.

use log::{info, warn};

use openmvproto::device::Board;
use openmvproto::framing::payload::{HwCaps, MemoryEntry, Semver, SysInfo, Version};

/// USB vendor id: OpenMV's.
pub const USB_VID: u16 = 0x37C5;
/// USB product id of the virtual cam, this project's pick; SYS_INFO's usb_id is
/// `USB_VID << 16 | USB_PID`.
pub const USB_PID: u16 = 0x9204;
/// ARM Cortex-M7 r1p2 (the SCB CPUID register of an STM32H7).
pub const CPU_ID: u32 = 0x411F_C272;
/// OV5640's chip id.
pub const SENSOR_CHIP_ID: u32 = 0x5640;
/// Firmware version in PROTO_VERSION: 5.0.0, the release whose life cycle the cam follows.
pub const FIRMWARE: Semver = Semver(5, 0, 0);
/// Bootloader version in PROTO_VERSION.
pub const BOOTLOADER: Semver = Semver(4, 0, 1);

const GC_HEAP: u32 = 4 << 20;
const UMA_POOL: u32 = 16 << 20;

/// What the host asked for with SYS_RESET or SYS_BOOT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResetKind {
    /// SYS_RESET: the cam restarts (new engine, channels cleared, script stopped).
    Reset,
    /// SYS_BOOT: a virtual cam has no bootloader, so it restarts as on SYS_RESET.
    Boot,
}

/// The virtual cam's [`Board`].
#[derive(Debug)]
pub struct VcamBoard {
    framebuffer_kb: u32,
    reset: Option<ResetKind>,
}

impl VcamBoard {
    /// `framebuffer_bytes`: the stream frame buffer's size.
    pub fn new(framebuffer_bytes: usize) -> Self {
        let kb = u32::try_from(framebuffer_bytes.div_ceil(1024)).unwrap_or(u32::MAX);
        VcamBoard { framebuffer_kb: kb, reset: None }
    }

    /// SYS_RESET or SYS_BOOT received since the last call.
    pub fn take_reset(&mut self) -> Option<ResetKind> {
        self.reset.take()
    }

    /// Whether SYS_RESET or SYS_BOOT is waiting to be taken.
    pub fn reset_pending(&self) -> bool {
        self.reset.is_some()
    }
}

impl Board for VcamBoard {
    fn version(&self) -> Version {
        Version { protocol: Version::PROTOCOL, bootloader: BOOTLOADER, firmware: FIRMWARE }
    }

    fn sys_info(&self) -> SysInfo {
        let caps = HwCaps::JPEG_ENCODER | HwCaps::DRAM | HwCaps::USB_HIGH_SPEED;
        SysInfo {
            cpu_id: CPU_ID,
            // A fixed unique id: "VCAM" / "OMVP" / 1.
            dev_id: [0x4D41_4356, 0x5056_4D4F, 0x0000_0001],
            usb_id: (u32::from(USB_VID) << 16) | u32::from(USB_PID),
            chip_id: [SENSOR_CHIP_ID, 0, 0],
            hw_caps: [caps.bits(), 0],
            flash_kb: 32 * 1024,
            ram_kb: 32 * 1024,
            framebuffer_kb: self.framebuffer_kb,
            stream_buffer_kb: self.framebuffer_kb,
        }
    }

    fn memory(&self, out: &mut [MemoryEntry]) -> usize {
        let heap_used = 64 * 1024;
        let uma_used = self.framebuffer_kb.saturating_mul(1024).min(UMA_POOL);
        let pools = [
            MemoryEntry {
                kind: 0,
                flags: 0,
                total: GC_HEAP,
                used: heap_used,
                free: GC_HEAP - heap_used,
                persistent: heap_used,
                peak: heap_used,
            },
            MemoryEntry {
                kind: 1,
                flags: 0,
                total: UMA_POOL,
                used: uma_used,
                free: UMA_POOL - uma_used,
                persistent: uma_used,
                peak: uma_used,
            },
        ];
        let n = pools.len().min(out.len());
        out[..n].copy_from_slice(&pools[..n]);
        n
    }

    fn reset(&mut self) {
        info!("SYS_RESET from the host: resetting the cam");
        self.reset = Some(ResetKind::Reset);
    }

    fn boot(&mut self) {
        warn!("SYS_BOOT from the host: a virtual cam has no bootloader; resetting the cam");
        self.reset = Some(ResetKind::Boot);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_a_plausible_cam() {
        let mut b = VcamBoard::new(76_832);
        let info = SysInfo::parse(&b.sys_info().to_bytes()).unwrap();
        assert_eq!((info.usb_vid(), info.usb_pid()), (USB_VID, USB_PID));
        assert_eq!(info.framebuffer_kb, 76);
        assert!(info.hw_caps().contains(HwCaps::JPEG_ENCODER));
        assert_eq!(b.version().protocol, Semver(1, 0, 2));
        let mut pools = [MemoryEntry::default(); 4];
        assert_eq!(b.memory(&mut pools), 2);
        assert_eq!((pools[0].kind, pools[1].kind), (0, 1));
        for p in &pools[..2] {
            assert_eq!(p.used + p.free, p.total);
        }
        assert_eq!(b.memory(&mut pools[..1]), 1);
        assert_eq!(b.take_reset(), None);
        b.boot();
        assert_eq!(b.take_reset(), Some(ResetKind::Boot));
        assert_eq!(b.take_reset(), None);
    }
}
