//! One host-role instance (the `omv_fw_host_t` handle), laid out in caller storage: the
//! heap-free host machine, its transmit buffer and the C hooks. No globals, no heap; any
//! number of instances, beside device instances in the same image.
//!
//! The machine's transmit buffer points at `tx` in the same storage, so an instance is never
//! moved; the answer buffer points at the caller's memory of the request in flight. `tx` is
//! beside the engine, not in it: the machine writes it through its raw pointer while the
//! engine is borrowed `&mut`, so the borrow must not cover it.

use core::cell::Cell;
use core::mem::{align_of, size_of, MaybeUninit};
use core::ptr::{addr_of, addr_of_mut};
use core::time::Duration;

use openmvproto::framing::payload::{CapFlags, Caps};
use openmvproto::framing::{max_payload_u16, MIN_MAX_PAYLOAD};
use openmvproto::host::{ByteBuf, HostConfig, HostMachine};
use openmvproto::time::Instant;

use crate::crc::FwCrc;
use crate::host_api::{HostConfigC, HostHooks};
use crate::sizes::{HOST_EVENTS, HOST_PACKET_BUF, HOST_TX_BUF};
use crate::types::*;

const MAGIC: u32 = 0x4F4D_5648;

/// Caller memory the machine appends to.
pub struct RawBuf {
    ptr: *mut u8,
    cap: usize,
    len: usize,
}

impl RawBuf {
    pub const EMPTY: RawBuf = RawBuf { ptr: core::ptr::null_mut(), cap: 0, len: 0 };

    /// # Safety
    /// `ptr` is valid for reads and writes of `cap` bytes, used by nobody else, for as long as
    /// the buffer is in use (`cap` is 0 when `ptr` is NULL).
    pub unsafe fn new(ptr: *mut u8, cap: usize) -> Self {
        RawBuf { ptr, cap: if ptr.is_null() { 0 } else { cap }, len: 0 }
    }

    pub fn as_ptr(&self) -> *const u8 {
        self.ptr
    }
}

impl ByteBuf for RawBuf {
    fn len(&self) -> usize {
        self.len
    }
    fn spare(&self) -> usize {
        self.cap - self.len
    }
    fn append(&mut self, bytes: &[u8]) -> bool {
        if bytes.len() > self.spare() {
            return false;
        }
        if !bytes.is_empty() {
            // SAFETY: `len + bytes.len() <= cap` (checked), and `ptr` is valid for `cap` bytes
            // (contract of `new`); `bytes` is a Rust slice, so it does not overlap memory the
            // caller handed over for exclusive use.
            unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), self.ptr.add(self.len), bytes.len()) };
            self.len += bytes.len();
        }
        true
    }
    fn clear(&mut self) {
        self.len = 0;
    }
    fn as_slice(&self) -> &[u8] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: the first `len` bytes were written by `append` and `ptr` stays valid (`new`).
        unsafe { core::slice::from_raw_parts(self.ptr, self.len) }
    }
}

pub type Machine = HostMachine<FwCrc, RawBuf, RawBuf, HOST_PACKET_BUF, HOST_EVENTS>;

/// The C handle `omv_fw_host_t`.
pub struct HostInstance {
    magic: u32,
    busy: Cell<bool>,
    /// Reached only through the machine's transmit `RawBuf`.
    tx: [u8; HOST_TX_BUF],
    engine: HostEngine,
}

/// State behind the re-entry guard.
pub(crate) struct HostEngine {
    pub machine: Machine,
    pub hooks: HostHooks,
    last_ms: u32,
    pub now: Instant,
    /// Opcode and channel of the request in flight, for its completion (also when a resync
    /// cuts it short); (0, 0) otherwise.
    pub started: (u8, u8),
}

pub const HOST_STORAGE_SIZE: usize = size_of::<HostInstance>();
pub const HOST_STORAGE_ALIGN: usize = align_of::<HostInstance>();
/// The largest payload the instance takes or sends.
pub const HOST_MAX_PAYLOAD: usize = {
    let a = max_payload_u16(HOST_PACKET_BUF) as usize;
    let b = HOST_TX_BUF - 14 - 64;
    if a < b {
        a
    } else {
        b
    }
};
const _: () = assert!(HOST_MAX_PAYLOAD >= MIN_MAX_PAYLOAD as usize, "host buffers below the protocol minimum");

pub fn host_config(c: &HostConfigC) -> Result<HostConfig, i32> {
    let flags = CapFlags::from_bits(c.caps).ok_or(OMV_FW_ERR_CONFIG)?;
    let limit = HOST_MAX_PAYLOAD as u16;
    let max_payload = if c.max_payload == 0 { limit } else { c.max_payload };
    if !(MIN_MAX_PAYLOAD..=limit).contains(&max_payload) || c.timeout_ms == 0 {
        return Err(OMV_FW_ERR_CONFIG);
    }
    Ok(HostConfig { timeout: Duration::from_millis(c.timeout_ms.into()), wish: Caps { flags, max_payload } })
}

/// Builds a host instance in `storage`.
///
/// # Safety
/// `storage` must be valid for writes of `size` bytes, and it must not be used otherwise
/// (nor moved) while the returned handle is in use.
pub unsafe fn init(
    storage: *mut u8,
    size: usize,
    cfg: &HostConfigC,
    hooks: &HostHooks,
) -> Result<*mut HostInstance, i32> {
    let p = storage.cast::<HostInstance>();
    if !p.is_aligned() {
        return Err(OMV_FW_ERR_ALIGN);
    }
    if size < HOST_STORAGE_SIZE {
        return Err(OMV_FW_ERR_SIZE);
    }
    if hooks.write.is_none() {
        return Err(OMV_FW_ERR_NULL);
    }
    let crc = match (hooks.crc16, hooks.crc32) {
        (Some(a), Some(b)) => FwCrc::hardware(a, b, hooks.crc_user),
        (None, None) => FwCrc::software().ok_or(OMV_FW_ERR_CONFIG)?,
        _ => return Err(OMV_FW_ERR_CONFIG),
    };
    let config = host_config(cfg)?;
    // SAFETY: `p` is aligned and has room for a `HostInstance` (checked above), and the caller
    // gives us the storage. It is zeroed first: all-zero bytes are a valid `Cell<bool>` and
    // `[u8; N]`. Every other field is written in place (the machine through `new_in`, so its
    // packet buffer never passes over the stack); no field has drop glue.
    unsafe {
        storage.write_bytes(0, HOST_STORAGE_SIZE);
        let e = addr_of_mut!((*p).engine);
        let tx = RawBuf::new(addr_of_mut!((*p).tx).cast::<u8>(), HOST_TX_BUF);
        // A `MaybeUninit<T>` has the layout of `T`, and the field is not yet initialised.
        Machine::new_in(
            &mut *addr_of_mut!((*e).machine).cast::<MaybeUninit<Machine>>(),
            config,
            crc,
            RawBuf::EMPTY,
            tx,
        );
        addr_of_mut!((*e).hooks).write(*hooks);
        addr_of_mut!((*e).last_ms).write(0);
        addr_of_mut!((*e).now).write(Instant::ZERO);
        addr_of_mut!((*e).started).write((0, 0));
        addr_of_mut!((*p).magic).write(MAGIC);
    }
    Ok(p)
}

/// Runs `f` on the instance's engine, refusing re-entry; returns its result or the negative
/// error. Callbacks run outside it (`host_api`), so they may start the next request.
///
/// # Safety
/// `h` is NULL or a handle from [`init`] whose storage is still valid, used from one thread.
pub unsafe fn enter(h: *mut HostInstance, f: &mut dyn FnMut(&mut HostEngine) -> i32) -> i32 {
    if h.is_null() {
        return OMV_FW_ERR_NULL;
    }
    // SAFETY: a handle points at an initialised instance (caller contract); `magic` is never
    // written after `init`, and `busy` is a Cell used from this thread only.
    let busy = unsafe {
        if addr_of!((*h).magic).read() != MAGIC {
            return OMV_FW_ERR_HANDLE;
        }
        &*addr_of!((*h).busy)
    };
    if busy.replace(true) {
        return OMV_FW_ERR_REENTERED;
    }
    // SAFETY: not re-entered (checked above), so this is the only reference to `engine`.
    let engine = unsafe { &mut *addr_of_mut!((*h).engine) };
    let r = f(engine);
    busy.set(false);
    r
}

impl HostEngine {
    /// Moves the clock to `now_ms` (u32 milliseconds wrap; the engine's clock is 64-bit).
    pub fn tick(&mut self, now_ms: u32) {
        self.now = Instant::from_millis(self.now.as_millis() + u64::from(now_ms.wrapping_sub(self.last_ms)));
        self.last_ms = now_ms;
    }

    /// Writes what the machine queued through the write hook.
    pub fn flush(&mut self) {
        let tx = self.machine.tx_mut();
        if tx.is_empty() {
            return;
        }
        if let Some(write) = self.hooks.write {
            // SAFETY: the hook's contract (header): it reads `len` bytes from `data`, which is
            // live for the call. A failed write is a lost packet: the request times out.
            let _ = unsafe { write(self.hooks.write_user, tx.as_slice().as_ptr(), tx.len()) };
        }
        tx.clear();
    }
}
