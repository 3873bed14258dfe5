//! One engine instance, laid out in storage the caller provides (no globals, no heap).
//!
//! The instance is self-referential: its registry borrows the channel table, whose entries
//! borrow the built-in channels, and the board, all of which live beside it. It is therefore
//! never moved and never reached through one `&mut Instance`; every access goes through raw
//! field pointers, so the parts the registry borrows, the receive ring the interrupt handler
//! shares, and the engine state the main loop uses stay disjoint.

use core::cell::Cell;
use core::ffi::c_void;
use core::mem::{align_of, size_of, MaybeUninit};
use core::ptr::{addr_of, addr_of_mut};

use openmvproto::channels::{ChannelFlags, FrameChannel, RingChannel, ScriptChannel};
use openmvproto::device::{Device, DeviceConfig, Event, EventError, Registry, RegistryError};
use openmvproto::framing::payload::{event, CapFlags, Caps};
use openmvproto::framing::{max_payload_u16, ChannelId, MIN_MAX_PAYLOAD};
use openmvproto::reliability::RetransmitPolicy;
use openmvproto::time::Instant;

use crate::channel::FwChannel;
use crate::crc::FwCrc;
use crate::glue::{CBoard, CChannel};
use crate::ring::SpscRing;
use crate::sizes::{CHANNELS, PACKET_BUF, TX_BUF};
use crate::types::*;

const MAGIC: u32 = 0x4F4D_5646;
/// stdout sends NOTIFY at most this often while it holds text (PROTOCOL.md 5).
const STDOUT_NOTIFY_EVERY_MS: u32 = 50;

/// The C handle `omv_fw_t`.
// Fields in declared order (`repr(C)`): small state first and the engine, which ends in the
// packet buffers, last, so every field lies within 4 KiB of the handle, as far as a Thumb-2
// load or store reaches from one base register (92 B of flash, with Engine, SpscRing and
// Decoder ordered the same way). Written as `cfg_attr` so cbindgen keeps the handle opaque.
#[cfg_attr(all(), repr(C))]
pub struct Instance {
    magic: u32,
    busy: Cell<bool>,
    /// Shared with the interrupt handler; only `&` access.
    rx: SpscRing,
    // Entry i is initialised and borrowed by the registry while bit i of `Engine::lent` is
    // set; the others are borrowed by nobody and are overwritten when next lent.
    chans: [MaybeUninit<FwChannel>; CHANNELS],
    board: CBoard,
    // Borrowed by the lent `chans` entry of their kind while registered; the C API reaches
    // them through the registry's reference (`Ctx::stdin` and the others).
    stdin: MaybeUninit<ScriptChannel<'static>>,
    stdout: MaybeUninit<RingChannel<'static>>,
    stream: MaybeUninit<FrameChannel<'static>>,
    engine: Engine,
}

/// State only the main loop touches; the device, which ends in its receive buffer, last
/// (see `Instance`).
#[repr(C)]
pub(crate) struct Engine {
    pub registry: Registry<'static, FwChannel, CBoard>,
    write: unsafe extern "C" fn(*mut c_void, *const u8, usize) -> i32,
    write_user: *mut c_void,
    last_ms: u32,
    now: Instant,
    rx_dropped_seen: u32,
    /// `last_ms` when stdout last sent NOTIFY.
    stdout_notified_ms: u32,
    /// Bit `i` set: `chans` entry `i` is lent to the registry. Kept here, in state only the
    /// main loop touches, because a lent entry must not be read through the table meanwhile.
    lent: u32,
    pub device: Device<FwCrc, PACKET_BUF, TX_BUF>,
}

pub const STORAGE_SIZE: usize = size_of::<Instance>();
pub const STORAGE_ALIGN: usize = align_of::<Instance>();

/// The largest max_payload the packet buffer holds.
const MAX_PAYLOAD_LIMIT: u16 = max_payload_u16(PACKET_BUF);

/// The engine settings a C configuration asks for.
pub fn device_config(c: &Config) -> Result<DeviceConfig, i32> {
    let flags = CapFlags::from_bits(c.caps).ok_or(OMV_FW_ERR_CONFIG)?;
    let limit = MAX_PAYLOAD_LIMIT;
    let max_payload = if c.max_payload == 0 { limit } else { c.max_payload };
    if !(MIN_MAX_PAYLOAD..=limit).contains(&max_payload) || c.retransmit_timeout_ms == 0 {
        return Err(OMV_FW_ERR_CONFIG);
    }
    let frag = if c.read_fragment_size == 0 { max_payload } else { c.read_fragment_size.min(max_payload) };
    Ok(DeviceConfig {
        caps: Caps { flags, max_payload },
        retransmit: RetransmitPolicy { timeout_ms: c.retransmit_timeout_ms, retries: c.retransmit_count },
        lock_interval_ms: c.lock_interval_ms,
        fragment_size: frag,
    })
}

pub fn default_config() -> Config {
    let d = DeviceConfig::default();
    Config {
        caps: d.caps.flags.bits(),
        // The reference firmware's 4082, or less when the build's packet buffer is smaller.
        max_payload: d.caps.max_payload.min(MAX_PAYLOAD_LIMIT),
        read_fragment_size: 512,
        retransmit_count: d.retransmit.retries,
        retransmit_timeout_ms: d.retransmit.timeout_ms,
        lock_interval_ms: d.lock_interval_ms,
    }
}

/// Builds an instance in `storage`.
///
/// # Safety
/// `storage` must be valid for writes of `size` bytes, and it must not be used otherwise
/// (nor moved) while the returned handle is in use.
pub unsafe fn init(storage: *mut u8, size: usize, cfg: &Config, hooks: &Hooks) -> Result<*mut Instance, i32> {
    let p = storage.cast::<Instance>();
    if !p.is_aligned() {
        return Err(OMV_FW_ERR_ALIGN);
    }
    if size < STORAGE_SIZE {
        return Err(OMV_FW_ERR_SIZE);
    }
    let write = hooks.write.ok_or(OMV_FW_ERR_NULL)?;
    let crc = match (hooks.crc16, hooks.crc32) {
        (Some(a), Some(b)) => FwCrc::hardware(a, b, hooks.crc_user),
        (None, None) => FwCrc::software().ok_or(OMV_FW_ERR_CONFIG)?,
        _ => return Err(OMV_FW_ERR_CONFIG),
    };
    let config = device_config(cfg)?;
    // SAFETY: `p` is aligned and has room for an `Instance` (checked above) and the caller
    // gives us the storage. It is zeroed first (one memset, less code than writing each zero
    // field): all-zero bytes are a valid `Cell<bool>` (false), `SpscRing` (empty), `CBoard`
    // (null pointers, `None` callbacks, zero numbers) and the engine's clocks, counters and
    // bit set (zero: none lent), which are therefore not written again; the channel table and
    // the built-ins are `MaybeUninit`, written when lent. The other fields are written in
    // place; no field has drop glue, so overwriting an earlier instance is fine.
    unsafe {
        storage.write_bytes(0, STORAGE_SIZE);
        addr_of_mut!((*p).board.hw_crc).write(crc.is_hardware());
        let e = addr_of_mut!((*p).engine);
        // Built in place: by value the engine's two packet buffers would pass over the stack.
        // A `MaybeUninit<T>` has the layout of `T`, and the field is not yet initialised.
        Device::new_in(
            &mut *addr_of_mut!((*e).device).cast::<MaybeUninit<Device<FwCrc, PACKET_BUF, TX_BUF>>>(),
            config,
            crc,
        );
        // The board lives as long as the storage, which the caller keeps for the handle's life.
        addr_of_mut!((*e).registry).write(Registry::with_board(&mut *addr_of_mut!((*p).board)));
        addr_of_mut!((*e).write).write(write);
        addr_of_mut!((*e).write_user).write(hooks.write_user);
        addr_of_mut!((*p).magic).write(MAGIC);
    }
    Ok(p)
}

/// The interrupt-side view: only the receive ring.
///
/// # Safety
/// `fw` is NULL or a handle from [`init`] whose storage is still valid.
#[inline(never)] // one handle check for every export (opt-level "s" would copy it into each)
pub unsafe fn rx_ring<'a>(fw: *mut Instance) -> Result<&'a SpscRing, i32> {
    if fw.is_null() {
        return Err(OMV_FW_ERR_NULL);
    }
    // SAFETY: a handle points at an initialised instance (caller contract); `magic` and `rx`
    // are never written after `init`, and `rx` is only ever shared.
    unsafe {
        if addr_of!((*fw).magic).read() != MAGIC {
            return Err(OMV_FW_ERR_HANDLE);
        }
        Ok(&*addr_of!((*fw).rx))
    }
}

/// Runs `f` with the main-loop view of the instance, refusing re-entry from a callback;
/// returns its result or the negative error. The checks are out of line (`claim`, which
/// answers in one register), so each export adds only a call, a test and the release.
///
/// # Safety
/// `fw` is NULL or a handle from [`init`] whose storage is still valid, used from the main
/// loop only (one thread).
#[inline(always)]
pub unsafe fn enter(fw: *mut Instance, f: impl FnOnce(&mut Ctx<'_>) -> i32) -> i32 {
    // SAFETY: caller contract.
    let e = unsafe { claim(fw) };
    if e != OMV_FW_OK {
        return e;
    }
    // SAFETY: `claim` checked the handle and set `busy`, so this is the only main-loop view
    // until `busy` is cleared below. `engine` is a field disjoint from everything the
    // registry borrows and from the ring, which is only ever shared.
    let mut ctx = unsafe { Ctx { inst: fw, engine: &mut *addr_of_mut!((*fw).engine), rx: &*addr_of!((*fw).rx) } };
    let r = f(&mut ctx);
    // SAFETY: `claim` checked the handle; `busy` is a Cell touched only from the main loop.
    unsafe { (*addr_of!((*fw).busy)).set(false) };
    r
}

/// The handle and re-entry checks of `enter`: OMV_FW_OK with `busy` set, or the error.
///
/// # Safety
/// As for `enter`.
#[inline(never)]
unsafe fn claim(fw: *mut Instance) -> i32 {
    // SAFETY: caller contract, as for `rx_ring`.
    if let Err(e) = unsafe { rx_ring(fw) } {
        return e;
    }
    // SAFETY: `busy` is a Cell touched only from the main loop; shared access is enough.
    let busy = unsafe { &*addr_of!((*fw).busy) };
    if busy.replace(true) {
        return OMV_FW_ERR_REENTERED;
    }
    OMV_FW_OK
}

/// The main-loop view of one instance.
pub(crate) struct Ctx<'a> {
    inst: *mut Instance,
    pub engine: &'a mut Engine,
    pub rx: &'a SpscRing,
}

fn registry_error(e: RegistryError) -> i32 {
    match e {
        RegistryError::BadName => OMV_FW_ERR_NAME,
        RegistryError::Full => OMV_FW_ERR_FULL,
        RegistryError::BadId => OMV_FW_ERR_ID,
    }
}

fn event_error(e: EventError) -> i32 {
    match e {
        EventError::Disabled => OMV_FW_ERR_EVENTS_OFF,
        EventError::QueueFull => OMV_FW_ERR_QUEUE_FULL,
    }
}

impl Ctx<'_> {
    /// Moves received bytes into the engine, sends what it answers, runs timers.
    pub fn poll(&mut self, now_ms: u32) {
        let e = &mut *self.engine;
        // u32 milliseconds wrap every ~49.7 days; the engine's clock is 64-bit.
        e.now = Instant::from_millis(e.now.as_millis() + u64::from(now_ms.wrapping_sub(e.last_ms)));
        e.last_ms = now_ms;
        let now = e.now;
        let dropped = self.rx.dropped();
        if dropped != e.rx_dropped_seen {
            e.rx_dropped_seen = dropped;
            e.device.note_transport_error();
        }
        if e.device.poll_at().is_some_and(|t| t <= now) {
            e.device.handle_timeout(now);
        }
        loop {
            e.flush(now);
            // SAFETY: the main loop is the ring's only consumer (`enter` refuses re-entry).
            let used = unsafe {
                self.rx.consume_with(|bytes| match bytes {
                    [] => 0,
                    _ => e.device.handle_input(now, bytes, &mut e.registry),
                })
            };
            if used == 0 {
                break;
            }
        }
        let notify = self.stdout().is_some_and(|s| !s.is_empty())
            && now_ms.wrapping_sub(self.engine.stdout_notified_ms) >= STDOUT_NOTIFY_EVERY_MS;
        if notify {
            self.stdout_notify();
        }
        self.engine.flush(now);
    }

    pub fn event(&mut self, channel: u8, code: u16, confirmed: bool) -> i32 {
        let ev = Event { channel: ChannelId(channel), code, confirmed };
        match self.engine.device.queue_event(ev) {
            Ok(()) => OMV_FW_OK,
            Err(e) => event_error(e),
        }
    }

    /// Registers a C channel at `id` (1-4) or, with `None`, in the first free slot (from 1, as
    /// the reference firmware: id 4 beside stdin, stdout and stream).
    pub fn register_c(
        &mut self,
        id: Option<u8>,
        name: &str,
        ops: *const ChannelOps,
        user: *mut c_void,
        extra: ChannelFlags,
    ) -> i32 {
        let chan = FwChannel::C(CChannel::new(ops, user, extra));
        match self.lend(id, name, chan) {
            Ok(got) => {
                if id.is_none() {
                    let _ = self.event(0, event::CHANNEL_REGISTERED, false);
                }
                got as i32
            }
            Err(e) => e,
        }
    }

    /// Puts `chan` in the first `chans` entry not lent and registers it (at `id`, or the first
    /// free id); the registry refuses a bad or taken id, and then the entry is not lent.
    fn lend(&mut self, id: Option<u8>, name: &str, chan: FwChannel) -> Result<u8, i32> {
        let at = (!self.engine.lent).trailing_zeros() as usize;
        if at >= CHANNELS {
            return Err(OMV_FW_ERR_FULL);
        }
        // SAFETY: `at` indexes the table, inside the instance storage. Entry `at` is not lent,
        // so nothing borrows it; it lives in the instance storage, which outlives the
        // registration.
        let entry: &'static mut FwChannel = unsafe {
            let g = addr_of_mut!((*self.inst).chans).cast::<FwChannel>().add(at);
            g.write(chan);
            &mut *g
        };
        let got = self.engine.registry.register_at(id.map(ChannelId), name, entry).map_err(registry_error)?;
        self.engine.lent |= 1 << at;
        Ok(got.0)
    }

    pub fn unregister(&mut self, id: u8) -> i32 {
        let reg = &mut self.engine.registry;
        let dynamic = match reg.get_with_entry(ChannelId(id)) {
            Some((e, _)) if id != 0 => e.flags.contains(ChannelFlags::DYNAMIC),
            _ => return OMV_FW_ERR_ID,
        };
        // The table entry is the one at the address the registry gives back; the reference is
        // given up here (and with it a built-in's storage and caller buffer). Addresses are
        // only compared: the distance from the table's start names the entry.
        let gone = reg.unregister(ChannelId(id)).map_or(0, |c| c as *mut FwChannel as usize);
        // SAFETY: the address of a field of the instance; nothing is read.
        let table = unsafe { addr_of!((*self.inst).chans) } as usize;
        let at = gone.wrapping_sub(table) / size_of::<FwChannel>();
        if at < CHANNELS {
            self.engine.lent &= !(1 << at);
        }
        if dynamic {
            let _ = self.event(0, event::CHANNEL_UNREGISTERED, false);
        }
        OMV_FW_OK
    }

    /// Registers a built-in channel over `buf` at its fixed id.
    pub fn register_builtin(&mut self, id: u8, buf: &'static mut [u8]) -> i32 {
        if self.engine.registry.get(ChannelId(id)).is_some() {
            return OMV_FW_ERR_ID;
        }
        let p = self.inst;
        // SAFETY: the id is free, so no lent table entry refers to this built-in's storage
        // (each is only ever registered at its own id); it lives in the instance storage,
        // which outlives the registration. From here on the table entry is the only way to
        // the channel.
        let (name, chan) = unsafe {
            match id {
                OMV_FW_ID_STDIN => {
                    let c = addr_of_mut!((*p).stdin).cast::<ScriptChannel<'static>>();
                    c.write(ScriptChannel::new(buf));
                    ("stdin", FwChannel::Stdin(&mut *c))
                }
                OMV_FW_ID_STDOUT => {
                    let c = addr_of_mut!((*p).stdout).cast::<RingChannel<'static>>();
                    c.write(RingChannel::new(buf));
                    ("stdout", FwChannel::Stdout(&mut *c))
                }
                _ => {
                    let c = addr_of_mut!((*p).stream).cast::<FrameChannel<'static>>();
                    c.write(FrameChannel::new(buf));
                    ("stream", FwChannel::Stream(&mut *c))
                }
            }
        };
        match self.lend(Some(id), name, chan) {
            Ok(_) => id as i32,
            Err(e) => e,
        }
    }

    /// The channel registered at `id`, if any.
    fn channel(&mut self, id: u8) -> Option<&mut FwChannel> {
        self.engine.registry.get(ChannelId(id))
    }

    pub fn stdin(&mut self) -> Option<&mut ScriptChannel<'static>> {
        match self.channel(OMV_FW_ID_STDIN)? {
            FwChannel::Stdin(c) => Some(c),
            _ => None,
        }
    }

    pub fn stdout(&mut self) -> Option<&mut RingChannel<'static>> {
        match self.channel(OMV_FW_ID_STDOUT)? {
            FwChannel::Stdout(c) => Some(c),
            _ => None,
        }
    }

    pub fn stream(&mut self) -> Option<&mut FrameChannel<'static>> {
        match self.channel(OMV_FW_ID_STREAM)? {
            FwChannel::Stream(c) => Some(c),
            _ => None,
        }
    }

    /// Queues stdout's NOTIFY and restarts its 50 ms period.
    #[inline(never)] // from the poll loop and from stdout writes
    pub fn stdout_notify(&mut self) {
        self.engine.stdout_notified_ms = self.engine.last_ms;
        let _ = self.event(OMV_FW_ID_STDOUT, event::NOTIFY, false);
    }

    /// Replaces the board description.
    pub fn set_board(&mut self, info: &BoardInfo) {
        // SAFETY: the registry's old reference to the board is replaced below and never used
        // again; the board lives in the instance storage, which outlives the registry.
        unsafe {
            let board = addr_of_mut!((*self.inst).board);
            (*board).info = *info;
            self.engine.registry.set_board(&mut *board);
        }
    }
}

impl Engine {
    /// Writes every packet the device has ready.
    fn flush(&mut self, now: Instant) {
        while let Some(pkt) = self.device.poll_transmit(now, &mut self.registry) {
            // SAFETY: the transport hook from `init`, given a live packet slice and its user data.
            let rc = unsafe { (self.write)(self.write_user, pkt.as_ptr(), pkt.len()) };
            if rc < 0 {
                self.device.note_transport_error();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{omv_fw_config_default, omv_fw_init};
    use core::ptr::null_mut;

    unsafe extern "C" fn sink(_: *mut c_void, _: *const u8, _: usize) -> i32 {
        0
    }

    #[cfg(feature = "hw-crc")]
    unsafe extern "C" fn crc16(_: *mut c_void, _: *const u8, _: usize) -> u16 {
        0
    }

    #[cfg(feature = "hw-crc")]
    unsafe extern "C" fn crc32(_: *mut c_void, _: *const u8, _: usize) -> u32 {
        0
    }

    /// The defaults C gets are ones `omv_fw_init` takes, whatever the build's sizes:
    /// firmware/test.sh also runs this in a build with a 1 KiB packet buffer.
    #[test]
    fn the_default_config_initialises_in_this_build() {
        #[repr(C, align(16))]
        struct Storage([u8; STORAGE_SIZE]);
        const _: () = assert!(STORAGE_ALIGN <= 16);
        let mut st = std::boxed::Box::new(Storage([0; STORAGE_SIZE]));
        let mut cfg = MaybeUninit::<Config>::uninit();
        #[cfg(not(feature = "hw-crc"))]
        let (c16, c32) = (None, None);
        #[cfg(feature = "hw-crc")]
        let (c16, c32) = (Some(crc16 as _), Some(crc32 as _));
        let hooks = Hooks { write: Some(sink), write_user: null_mut(), crc16: c16, crc32: c32, crc_user: null_mut() };
        let mut fw = null_mut();
        // SAFETY: every pointer is to a live local; the storage outlives the handle's use.
        unsafe {
            assert_eq!(omv_fw_config_default(cfg.as_mut_ptr()), OMV_FW_OK);
            let cfg = cfg.assume_init();
            assert_eq!(usize::from(cfg.max_payload), (PACKET_BUF - 14).min(4082));
            assert_eq!(omv_fw_init(st.0.as_mut_ptr().cast(), STORAGE_SIZE, &cfg, &hooks, &mut fw), OMV_FW_OK);
        }
        assert!(!fw.is_null());
    }
}
