//! `omv_device`: the device engine ([`Device`] + [`Registry`]) for C programs that act as a
//! cam. Channels are C vtables; the handle owns their adapters.
//!
//! The device is single-threaded: one thread (or one lock the application holds) drives it
//! with `omv_device_feed` and `omv_device_poll`. Only `omv_device_send_event` may be called
//! from any thread and from inside channel callbacks: events go through a queue the next
//! feed / poll hands to the engine.

use std::ffi::{c_char, c_void};
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;

use super::error::Fail;
use super::ffi::{arg_bytes, arg_ref, arg_str, check_struct_size, guard, opt_out, Out};
use super::omv_status;
use super::types::*;
use crate::channels::Channel;
use crate::device::{Board, Device, DeviceConfig, Event, EventError, Registry, MAX_CHANNELS};
use crate::framing::payload::{event, ChannelFlags, SysInfo, Version};
use crate::framing::{ChannelId, FastCrc, Status, MIN_MAX_PAYLOAD};
use crate::reliability::{Caps, RetransmitPolicy};
use crate::time::Instant;

/// A device engine acting as a cam. Opaque; created by `omv_device_new`, released by
/// `omv_device_free`.
///
/// Not thread-safe: call it from one thread at a time (`omv_device_send_event` excepted). A
/// call made while another is running on the handle (from a channel or write callback, or a
/// second thread) returns `OMV_STATUS_BUSY` instead of corrupting it.
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct omv_device {
    _private: [u8; 0],
}

/// Device settings. Initialise with `omv_device_config_default`, then change fields.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct omv_device_config {
    /// `sizeof(omv_device_config)`, set by `omv_device_config_default`.
    pub struct_size: usize,
    /// The largest payload the device takes (50..=4082; default 4082).
    pub max_payload: u16,
    /// Largest fragment of a channel read, above 0; never more than the link's max_payload
    /// (default 4082).
    pub fragment_size: u16,
    /// First wait in ms for the host's ACK before retransmitting, doubled per retry; above 0
    /// (default 500).
    pub rtx_timeout_ms: u32,
    /// Retransmissions before giving up (default 3).
    pub rtx_retries: u8,
    /// A lock within this many ms of the last one answers BUSY (default 10).
    pub lock_interval_ms: u32,
    /// What PROTO_VERSION answers (default protocol 1.0.2, the rest 0).
    pub version: omv_version,
    /// What SYS_INFO answers (default all 0).
    pub system_info: omv_system_info,
}

/// A channel's operations. A NULL entry means "not supported": the channel flags follow
/// (READ with `read`, WRITE with `write`, LOCK with `lock`) and the host's request is
/// answered NAK INVALID. Every callback gets the `user_data` given at registration and runs
/// inside `omv_device_feed` / `omv_device_poll`, on that thread. Status results are
/// `OMV_PROTO_*` codes: 0 success, else the NAK status sent to the host.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct omv_channel_vtable {
    /// `sizeof(omv_channel_vtable)`.
    pub struct_size: usize,
    /// Extra flags: `OMV_CHANNEL_EXEC`, `OMV_CHANNEL_STREAM` (others are ignored).
    pub extra_flags: u8,
    /// Copy `len` bytes from `offset` into `buf`.
    pub read: Option<unsafe extern "C" fn(user_data: *mut c_void, offset: u32, buf: *mut u8, len: usize) -> i32>,
    /// Store `len` bytes of `data` at `offset`.
    pub write: Option<unsafe extern "C" fn(user_data: *mut c_void, offset: u32, data: *const u8, len: usize) -> i32>,
    /// Bytes available into `*size`; nonzero: the channel has no size (NAK INVALID).
    pub size: Option<unsafe extern "C" fn(user_data: *mut c_void, size: *mut u32) -> i32>,
    /// Whether the channel has something for the host (CHANNEL_POLL bit).
    pub poll: Option<unsafe extern "C" fn(user_data: *mut c_void) -> bool>,
    /// Take the lock; false answers BUSY.
    pub lock: Option<unsafe extern "C" fn(user_data: *mut c_void) -> bool>,
    /// Release the lock; false answers BUSY. NULL: always released.
    pub unlock: Option<unsafe extern "C" fn(user_data: *mut c_void) -> bool>,
    /// A channel-specific request with `len` argument bytes.
    pub ioctl: Option<unsafe extern "C" fn(user_data: *mut c_void, request: u32, arg: *const u8, len: usize) -> i32>,
    /// Up to 4 dimensions into `dims`, their number into `*count`.
    pub shape: Option<unsafe extern "C" fn(user_data: *mut c_void, dims: *mut u32, count: *mut usize) -> i32>,
    /// Called once when the channel is unregistered or the device freed (may be NULL); it
    /// must not call the device.
    pub destroy: Option<unsafe extern "C" fn(user_data: *mut c_void)>,
}

/// A C vtable as a [`Channel`]. Runs the callbacks on the device's thread.
struct CChannel {
    vt: omv_channel_vtable,
    user: *mut c_void,
}

impl Drop for CChannel {
    fn drop(&mut self) {
        if let Some(f) = self.vt.destroy {
            // SAFETY: the application's destructor, called once, with its own user data.
            unsafe { f(self.user) }
        }
    }
}

fn status_of(v: i32) -> Result<(), Status> {
    omv_status::nak_of_callback(v)
}

impl Channel for CChannel {
    fn flags(&self) -> ChannelFlags {
        let mut f = ChannelFlags::from_bits_retain(self.vt.extra_flags) & (ChannelFlags::EXEC | ChannelFlags::STREAM);
        f.set(ChannelFlags::READ, self.vt.read.is_some());
        f.set(ChannelFlags::WRITE, self.vt.write.is_some());
        f.set(ChannelFlags::LOCK, self.vt.lock.is_some());
        f
    }

    fn poll(&mut self) -> bool {
        // SAFETY: a non-NULL function the application registered for this channel, called
        // with its user data (the same holds for every callback below, with pointers valid
        // for the call).
        self.vt.poll.is_some_and(|f| unsafe { f(self.user) })
    }

    fn lock(&mut self) -> bool {
        // SAFETY: see `poll`.
        self.vt.lock.is_none_or(|f| unsafe { f(self.user) })
    }

    fn unlock(&mut self) -> bool {
        // SAFETY: see `poll`.
        self.vt.unlock.is_none_or(|f| unsafe { f(self.user) })
    }

    fn size(&mut self) -> Option<u32> {
        let f = self.vt.size?;
        let mut n = 0u32;
        // SAFETY: see `poll`; `n` is a valid u32 for the call.
        (unsafe { f(self.user, &mut n) } == 0).then_some(n)
    }

    fn shape(&mut self, dims: &mut [u32; 4]) -> Option<usize> {
        let f = self.vt.shape?;
        let mut count = 0usize;
        // SAFETY: see `poll`; `dims` has room for 4 u32s as the header says.
        let r = unsafe { f(self.user, dims.as_mut_ptr(), &mut count) };
        (r == 0 && (1..=4).contains(&count)).then_some(count)
    }

    fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), Status> {
        let f = self.vt.read.ok_or(Status::Invalid)?;
        // SAFETY: see `poll`; `buf` is writable for its length.
        status_of(unsafe { f(self.user, offset, buf.as_mut_ptr(), buf.len()) })
    }

    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), Status> {
        let f = self.vt.write.ok_or(Status::Invalid)?;
        // SAFETY: see `poll`; `data` is readable for its length.
        status_of(unsafe { f(self.user, offset, data.as_ptr(), data.len()) })
    }

    fn ioctl(&mut self, request: u32, arg: &[u8]) -> Result<(), Status> {
        let f = self.vt.ioctl.ok_or(Status::Invalid)?;
        // SAFETY: see `poll`; `arg` is readable for its length.
        status_of(unsafe { f(self.user, request, arg.as_ptr(), arg.len()) })
    }
}

/// SYS_INFO and PROTO_VERSION from the configuration; reset and boot do nothing.
struct CBoard {
    version: Version,
    info: SysInfo,
}

impl Board for CBoard {
    fn version(&self) -> Version {
        self.version
    }
    fn sys_info(&self) -> SysInfo {
        self.info
    }
}

/// The application's write callback.
struct DevWrite {
    f: unsafe extern "C" fn(*mut c_void, *const u8, usize) -> i32,
    user: *mut c_void,
}

/// Events waiting for the engine: thread-safe, filled by `omv_device_send_event`.
const EVENT_BACKLOG: usize = 64;

/// The engine and everything it borrows. Only reached through [`DeviceObj::enter`].
struct Inner {
    engine: Box<Device>,
    /// Borrows the leaked channel and board boxes below; dropped before they are reclaimed.
    registry: Registry<'static>,
    /// Owners of the channels in `registry`, by id (raw: the registry holds the `&mut`).
    channels: [Option<*mut CChannel>; MAX_CHANNELS],
    board: *mut CBoard,
    write: DevWrite,
    /// Input the engine could not take yet.
    pending: Vec<u8>,
}

/// What an `omv_device` pointer really points to.
struct DeviceObj {
    busy: AtomicBool,
    events: Mutex<Vec<Event>>,
    events_on: AtomicBool,
    inner: std::cell::UnsafeCell<Inner>,
}

/// Exclusive access to a device's [`Inner`] for one call: holds the busy flag, clears it when
/// dropped (also on panic).
struct Entered<'a>(&'a DeviceObj);

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        self.0.busy.store(false, Ordering::Release);
    }
}

impl std::ops::Deref for Entered<'_> {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        // SAFETY: this guard holds the busy flag, so no other reference to `inner` exists.
        unsafe { &*self.0.inner.get() }
    }
}

impl std::ops::DerefMut for Entered<'_> {
    fn deref_mut(&mut self) -> &mut Inner {
        // SAFETY: this guard holds the busy flag, and `&mut self` makes the borrow unique.
        unsafe { &mut *self.0.inner.get() }
    }
}

impl DeviceObj {
    /// Exclusive access for one call; `OMV_STATUS_BUSY` if a call is already running.
    fn enter(&self) -> Result<Entered<'_>, Fail> {
        if self.busy.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
            return Err(Fail::new(
                omv_status::Busy,
                "the device is in use (called from one of its callbacks, or from two threads at once)",
            ));
        }
        Ok(Entered(self))
    }

    /// Hands queued events to the engine (those that do not fit stay queued).
    fn take_events(&self, inner: &mut Inner) {
        let mut q = self.events.lock();
        while let Some(ev) = q.first().copied() {
            match inner.engine.queue_event(ev) {
                Ok(()) | Err(EventError::Disabled) => {
                    q.remove(0);
                }
                Err(EventError::QueueFull) => break,
            }
        }
    }

    fn note_caps(&self, inner: &Inner) {
        self.events_on.store(inner.engine.caps().events(), Ordering::Release);
    }
}

impl Inner {
    /// Writes every packet the engine has. A failing write callback counts as a transport error.
    fn drain(&mut self, now: Instant) -> Result<bool, Fail> {
        let mut made = false;
        let mut failed = None;
        while let Some(pkt) = self.engine.poll_transmit(now, &mut self.registry) {
            made = true;
            // SAFETY: the application's write callback with its user data; `pkt` is readable
            // for its length during the call.
            let r = unsafe { (self.write.f)(self.write.user, pkt.as_ptr(), pkt.len()) };
            if r != 0 {
                failed = Some(r);
            }
        }
        if let Some(r) = failed {
            self.engine.note_transport_error();
            return Err(Fail::new(omv_status::Io, format!("write callback returned {r}")));
        }
        Ok(made)
    }

    /// Feeds input (after what is pending), writing answers as they come.
    fn feed(&mut self, now: Instant, input: &[u8]) -> Result<(), Fail> {
        let mut data = std::mem::take(&mut self.pending);
        data.extend_from_slice(input);
        let mut pos = 0;
        let mut result = Ok(());
        while pos < data.len() {
            let used = self.engine.handle_input(now, &data[pos..], &mut self.registry);
            pos += used;
            let made = match self.drain(now) {
                Ok(m) => m,
                Err(e) => {
                    result = Err(e);
                    true
                }
            };
            if used == 0 && !made {
                break;
            }
        }
        self.pending = data.split_off(pos);
        result
    }

    fn unregister(&mut self, id: u8) -> bool {
        let Some(owner) = self.channels.get_mut(usize::from(id)).and_then(Option::take) else { return false };
        // The registry's `&mut` is dropped here, before the box is reclaimed.
        let _ = self.registry.unregister(ChannelId(id));
        // SAFETY: `owner` came from `Box::into_raw` in `register`; the registry no longer
        // holds a reference to it, and it is reclaimed exactly once (the slot was taken).
        drop(unsafe { Box::from_raw(owner) });
        true
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        for id in 0..MAX_CHANNELS as u8 {
            self.unregister(id);
        }
        // Drop the registry (and its board reference) before reclaiming the board.
        self.registry = Registry::new();
        // SAFETY: `board` came from `Box::into_raw` in `omv_device_new`, and the only other
        // reference (the registry's) is gone.
        drop(unsafe { Box::from_raw(self.board) });
    }
}

/// # Safety
/// `d` must be NULL or a device handle from this library not yet freed.
unsafe fn device<'a>(d: *mut omv_device) -> Result<&'a DeviceObj, Fail> {
    // SAFETY: forwarded contract; the pointer came from `Box<DeviceObj>::into_raw`.
    unsafe { arg_ref(d.cast_const().cast::<DeviceObj>(), "device") }
}

fn ms(now_ms: u64) -> Instant {
    Instant::from_millis(now_ms)
}

/// Fills `out` with the default device settings.
///
/// # Safety
/// `out` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn omv_device_config_default(out: *mut omv_device_config) -> omv_status {
    guard("omv_device_config_default", || {
        // SAFETY: the caller's contract.
        let out = unsafe { Out::new(out, "out") }?;
        out.set(default_config());
        Ok(())
    })
}

/// Creates a device whose packets go out through `write` (with `user_data`; return 0 on
/// success, see `omv_write_fn`). `config` may be NULL for the defaults; a config outside the
/// ranges its fields give returns `OMV_STATUS_INVALID_ARGUMENT`. No channels are registered yet.
/// Thread-safe (every call makes an independent device); the device itself is not.
///
/// # Safety
/// `config` NULL or valid; `out` NULL or writable; `write` safe to call with `user_data` from
/// the thread driving the device until `omv_device_free`.
#[no_mangle]
pub unsafe extern "C" fn omv_device_new(
    config: *const omv_device_config,
    write: omv_write_fn,
    user_data: *mut c_void,
    out: *mut *mut omv_device,
) -> omv_status {
    guard("omv_device_new", || {
        // SAFETY: the caller's contract.
        let out = unsafe { Out::new(out, "out") }?;
        let f = write.ok_or_else(|| Fail::null("write"))?;
        let cfg = if config.is_null() {
            default_config()
        } else {
            // SAFETY: non-NULL; validity is the caller's contract.
            let cfg = *unsafe { arg_ref(config, "config") }?;
            check_struct_size(cfg.struct_size, std::mem::size_of::<omv_device_config>(), "config")?;
            cfg
        };
        if !(MIN_MAX_PAYLOAD..=OMV_DEFAULT_MAX_PAYLOAD).contains(&cfg.max_payload) {
            return Err(Fail::invalid(format!(
                "max_payload {} outside {MIN_MAX_PAYLOAD}..={OMV_DEFAULT_MAX_PAYLOAD}",
                cfg.max_payload
            )));
        }
        if cfg.fragment_size == 0 || cfg.rtx_timeout_ms == 0 {
            return Err(Fail::invalid("fragment_size and rtx_timeout_ms must be above 0"));
        }
        let defaults = DeviceConfig::default();
        let dc = DeviceConfig {
            caps: Caps { max_payload: cfg.max_payload, ..defaults.caps },
            retransmit: RetransmitPolicy { timeout_ms: cfg.rtx_timeout_ms, retries: cfg.rtx_retries },
            lock_interval_ms: cfg.lock_interval_ms,
            fragment_size: cfg.fragment_size,
        };
        let engine = Box::new(Device::new(dc, FastCrc));
        let events_on = engine.caps().events();
        let board = Box::into_raw(Box::new(CBoard { version: cfg.version.into(), info: cfg.system_info.into() }));
        let mut registry = Registry::new();
        // SAFETY: `board` is a fresh box that only the registry references until `Inner::drop`
        // drops the registry and reclaims it.
        registry.set_board(unsafe { &mut *board });
        let inner = Inner {
            engine,
            registry,
            channels: [None; MAX_CHANNELS],
            board,
            write: DevWrite { f, user: user_data },
            pending: Vec::new(),
        };
        let obj = DeviceObj {
            busy: AtomicBool::new(false),
            events: Mutex::new(Vec::new()),
            events_on: AtomicBool::new(events_on),
            inner: std::cell::UnsafeCell::new(inner),
        };
        out.set(Box::into_raw(Box::new(obj)).cast());
        Ok(())
    })
}

/// The default configuration.
fn default_config() -> omv_device_config {
    let d = DeviceConfig::default();
    omv_device_config {
        struct_size: std::mem::size_of::<omv_device_config>(),
        max_payload: d.caps.max_payload,
        fragment_size: d.fragment_size,
        rtx_timeout_ms: d.retransmit.timeout_ms,
        rtx_retries: d.retransmit.retries,
        lock_interval_ms: d.lock_interval_ms,
        version: Version { protocol: Version::PROTOCOL, ..Version::default() }.into(),
        system_info: omv_system_info::default(),
    }
}

/// Registers a channel. `id` 0 picks the first free id counting from 1 (1..31, with the
/// DYNAMIC flag), as the firmware does; 1-4 take a built-in id (1 stdin, 2 stdout, 3 stream,
/// 4 profile), so register the built-ins first to keep their fixed ids. `name`: 1-13 bytes,
/// unique. `OMV_STATUS_FULL` when all 31 ids are taken. The vtable is copied; `user_data`
/// goes to every callback. `*out_id` (may be NULL) is the id. A CHANNEL_REGISTERED event is
/// queued for the host (if events are on). Not thread-safe.
///
/// # Safety
/// `device` NULL or live; `name` NULL or NUL-terminated; `vtable` NULL or valid; `out_id` NULL
/// or writable; the callbacks must be safe to call with `user_data` until `destroy` runs.
#[no_mangle]
pub unsafe extern "C" fn omv_device_register(
    device: *mut omv_device,
    id: u8,
    name: *const c_char,
    vtable: *const omv_channel_vtable,
    user_data: *mut c_void,
    out_id: *mut u8,
) -> omv_status {
    guard("omv_device_register", || {
        // SAFETY: the caller's contract.
        let (obj, name, vt, out_id) = unsafe {
            (self::device(device)?, arg_str(name, "name")?, *arg_ref(vtable, "vtable")?, opt_out(out_id, "out_id")?)
        };
        check_struct_size(vt.struct_size, std::mem::size_of::<omv_channel_vtable>(), "vtable")?;
        if id > crate::device::MAX_STATIC_ID {
            return Err(Fail::invalid(format!("id {id}: pass 0 for a user channel or 1-4 for a built-in one")));
        }
        let mut g = obj.enter()?;
        let inner = &mut *g;
        // Checked before the channel exists, so a refused registration never calls `destroy`.
        if inner.registry.find(name).is_some() {
            return Err(Fail::invalid(format!("a channel called {name:?} exists")));
        }
        let raw = Box::into_raw(Box::new(CChannel { vt, user: user_data }));
        // SAFETY: a fresh box; the registry holds the only reference until `unregister`.
        let chan: &'static mut CChannel = unsafe { &mut *raw };
        let r = if id == 0 {
            inner.registry.register(name, chan)
        } else {
            inner.registry.register_static(ChannelId(id), name, chan)
        };
        let got = match r {
            Ok(got) => got,
            Err(e) => {
                // SAFETY: the registry refused it and holds no reference; reclaim the box
                // without running `destroy` (the channel never existed for the application).
                let mut b = unsafe { Box::from_raw(raw) };
                b.vt.destroy = None;
                return Err(e.into());
            }
        };
        inner.channels[usize::from(got.0)] = Some(raw);
        let _ = inner.engine.queue_event(Event {
            channel: ChannelId::TRANSPORT,
            code: event::CHANNEL_REGISTERED,
            confirmed: false,
        });
        if let Some(o) = out_id {
            o.set(got.0);
        }
        Ok(())
    })
}

/// Removes a channel (its `destroy` callback runs) and queues CHANNEL_UNREGISTERED (if events
/// are on). `OMV_STATUS_INVALID_ARGUMENT` if no channel has that id. Not thread-safe.
///
/// # Safety
/// `device` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn omv_device_unregister(device: *mut omv_device, id: u8) -> omv_status {
    guard("omv_device_unregister", || {
        // SAFETY: the caller's contract.
        let obj = unsafe { self::device(device) }?;
        let mut g = obj.enter()?;
        let inner = &mut *g;
        if !inner.unregister(id) {
            return Err(Fail::invalid(format!("no channel with id {id}")));
        }
        let _ = inner.engine.queue_event(Event {
            channel: ChannelId::TRANSPORT,
            code: event::CHANNEL_UNREGISTERED,
            confirmed: false,
        });
        Ok(())
    })
}

/// Queues an event for the host: `channel` 0 for a system event, else the channel's id;
/// `code` `OMV_EVENT_NOTIFY` for a bare notification. It is sent by the next
/// `omv_device_feed` / `omv_device_poll`. Events are on from `omv_device_new` and after every
/// PROTO_SYNC; `OMV_STATUS_EVENTS_DISABLED` only after the host's PROTO_SET_CAPS turned them
/// off. `OMV_STATUS_FULL` if 64 events wait. Thread-safe, and allowed from inside channel
/// callbacks.
///
/// # Safety
/// `device` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn omv_device_send_event(device: *mut omv_device, channel: u8, code: u16) -> omv_status {
    guard("omv_device_send_event", || {
        // SAFETY: the caller's contract.
        let obj = unsafe { self::device(device) }?;
        if usize::from(channel) >= MAX_CHANNELS {
            return Err(Fail::invalid(format!("channel {channel} is not below {MAX_CHANNELS}")));
        }
        if !obj.events_on.load(Ordering::Acquire) {
            return Err(EventError::Disabled.into());
        }
        let mut q = obj.events.lock();
        if q.len() >= EVENT_BACKLOG {
            return Err(EventError::QueueFull.into());
        }
        q.push(Event { channel: ChannelId(channel), code, confirmed: false });
        Ok(())
    })
}

/// Feeds `len` received bytes; answers go out through the write callback before it returns.
/// `now_ms` is the current time in ms on any monotonic clock the application keeps (the same
/// for every call). Bytes the engine cannot take yet are kept for the next call.
/// `OMV_STATUS_IO` if the write callback failed. Not thread-safe.
///
/// # Safety
/// `device` NULL or live; `data` NULL (with `len` 0) or `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn omv_device_feed(
    device: *mut omv_device,
    now_ms: u64,
    data: *const u8,
    len: usize,
) -> omv_status {
    guard("omv_device_feed", || {
        // SAFETY: the caller's contract.
        let (obj, data) = unsafe { (self::device(device)?, arg_bytes(data, len, "data")?) };
        let mut g = obj.enter()?;
        let inner = &mut *g;
        let now = ms(now_ms);
        obj.take_events(inner);
        let r = inner.feed(now, data).and_then(|_| inner.drain(now).map(|_| ()));
        obj.note_caps(inner);
        r
    })
}

/// Drives timers and queued work: retransmits unacknowledged packets whose time has come,
/// sends queued events, and takes pending input. `*next_ms` (may be NULL) is when to call
/// again at the latest (`UINT64_MAX`: only after new input or events). Call it from the main
/// loop. `OMV_STATUS_IO` if the write callback failed. Not thread-safe.
///
/// # Safety
/// `device` NULL or live; `next_ms` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn omv_device_poll(device: *mut omv_device, now_ms: u64, next_ms: *mut u64) -> omv_status {
    guard("omv_device_poll", || {
        // SAFETY: the caller's contract.
        let (obj, next) = unsafe { (self::device(device)?, opt_out(next_ms, "next_ms")?) };
        let mut g = obj.enter()?;
        let inner = &mut *g;
        let now = ms(now_ms);
        if inner.engine.poll_at().is_some_and(|at| at <= now) {
            inner.engine.handle_timeout(now);
        }
        obj.take_events(inner);
        let r = inner.drain(now).and_then(|_| if inner.pending.is_empty() { Ok(()) } else { inner.feed(now, &[]) });
        obj.note_caps(inner);
        if let Some(o) = next {
            let pending_events = !obj.events.lock().is_empty();
            let at = if pending_events { now_ms } else { inner.engine.poll_at().map_or(u64::MAX, Instant::as_millis) };
            o.set(at);
        }
        r
    })
}

/// The device's link counters. Not thread-safe.
///
/// # Safety
/// `device` NULL or live; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn omv_device_stats(device: *mut omv_device, out: *mut omv_stats) -> omv_status {
    guard("omv_device_stats", || {
        // SAFETY: the caller's contract.
        let (obj, out) = unsafe { (self::device(device)?, Out::new(out, "out")?) };
        let mut g = obj.enter()?;
        let inner = &mut *g;
        out.set(inner.engine.stats().into());
        Ok(())
    })
}

/// Releases the device; every channel's `destroy` runs. Not thread-safe: it must be the last
/// call on the handle; `OMV_STATUS_BUSY` from inside one of its callbacks.
///
/// # Safety
/// `device` NULL or live, not used by any other thread, and invalid afterwards.
#[no_mangle]
pub unsafe extern "C" fn omv_device_free(device: *mut omv_device) -> omv_status {
    guard("omv_device_free", || {
        // SAFETY: the caller's contract.
        let obj = unsafe { self::device(device) }?;
        // Refuses a free from inside a callback; the guard is forgotten with the object.
        let g = obj.enter()?;
        std::mem::forget(g);
        // SAFETY: the pointer came from `Box::into_raw` in `omv_device_new`; by contract nothing
        // else uses it, and the busy flag shows no call of ours is running on it.
        drop(unsafe { Box::from_raw(device.cast::<DeviceObj>()) });
        Ok(())
    })
}
