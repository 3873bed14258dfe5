//! `omv_host`: the host client ([`Camera`]) behind an opaque, thread-safe handle.
//!
//! The handle lives from an `omv_host_open_*` / `omv_host_new_callback` to `omv_host_free`.
//! `omv_host_close` shuts the link and stops the client's threads; the handle stays valid and
//! every later call returns `OMV_STATUS_CLOSED`, until `omv_host_free` releases it.

use std::cell::{Cell, RefCell};
use std::ffi::{c_char, c_void};
use std::io;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Mutex, ReentrantMutex, RwLock};

use super::error::{copy_c_string, Fail};
use super::ffi::{arg_array_out, arg_bytes, arg_bytes_mut, arg_ref, arg_str, check_struct_size, guard, opt_out, Out};
use super::frame::{frame_into_box, omv_frame, FramePixels};
use super::omv_status;
use super::types::*;
use crate::client::{Camera, ClientEvent, Options};
use crate::framing::payload::{CapFlags, Caps};
use crate::framing::{ChannelId, MIN_MAX_PAYLOAD};
use crate::transport::{CallbackTransport, FeedHandle, SerialTransport, TcpTransport, Transport, UdpTransport};

/// A connection to one cam. Opaque; created by `omv_host_open_serial`, `omv_host_open_tcp`,
/// `omv_host_open_udp` or `omv_host_new_callback`, released by `omv_host_free`.
///
/// Thread-safe: any number of threads may call functions on one handle at once (operations
/// are serialised on the wire), except `omv_host_free`, which must be the last call.
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct omv_host {
    _private: [u8; 0],
}

/// Receives events: `kind` says what happened; for `OMV_EVENT_KIND_DEVICE`, `channel` (0 for
/// system events) and `code` are what the cam sent.
#[allow(non_camel_case_types)]
pub type omv_event_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, kind: omv_event_kind, channel: u8, code: u16)>;

/// The C event callback and its user data.
#[derive(Clone, Copy)]
struct EventCb {
    f: unsafe extern "C" fn(*mut c_void, omv_event_kind, u8, u16),
    user: *mut c_void,
}

// SAFETY: the callback and its user data are only used to call the callback on the client's
// event thread; the header requires user data usable from that thread.
unsafe impl Send for EventCb {}

/// The handle's event callback. The reentrant lock is held while the callback runs, so
/// replacing it from another thread waits for a running call to end, while the callback itself
/// may replace it (same thread).
#[derive(Default)]
struct EventSlot {
    cb: ReentrantMutex<RefCell<Option<EventCb>>>,
}

thread_local! {
    /// The handle whose event callback this thread is running (0: none).
    static IN_CALLBACK: Cell<usize> = const { Cell::new(0) };
}

impl EventSlot {
    fn set(&self, cb: Option<EventCb>) {
        let g = self.cb.lock();
        *g.borrow_mut() = cb;
    }

    fn dispatch(&self, handle: usize, ev: &ClientEvent) {
        let (kind, channel, code) = match ev {
            ClientEvent::Device { channel, code } => (omv_event_kind::Device, channel.0, *code),
            ClientEvent::LinkLost { .. } => (omv_event_kind::LinkLost, 0, 0),
            ClientEvent::Reconnected => (omv_event_kind::Reconnected, 0, 0),
            ClientEvent::CamRestarted => (omv_event_kind::CamRestarted, 0, 0),
        };
        let g = self.cb.lock();
        let cb = *g.borrow();
        let Some(cb) = cb else { return };
        let prev = IN_CALLBACK.with(|c| c.replace(handle));
        // SAFETY: `f` is the non-NULL function the application registered with this user data;
        // the header documents that it runs on the event thread.
        unsafe { (cb.f)(cb.user, kind, channel, code) };
        IN_CALLBACK.with(|c| c.set(prev));
    }
}

/// The application's write callback for `omv_host_new_callback`.
#[derive(Clone, Copy)]
struct WriteCb {
    f: unsafe extern "C" fn(*mut c_void, *const u8, usize) -> i32,
    user: *mut c_void,
}

// SAFETY: the client calls the write callback from its threads one at a time (under its write
// lock); the header requires the callback and user data to be usable from any thread.
unsafe impl Send for WriteCb {}

impl WriteCb {
    fn call(&self, data: &[u8]) -> io::Result<()> {
        // SAFETY: `f` is the non-NULL callback the application gave; `data` is valid for `len`
        // bytes during the call.
        let r = unsafe { (self.f)(self.user, data.as_ptr(), data.len()) };
        if r == 0 {
            Ok(())
        } else {
            Err(io::Error::new(io::ErrorKind::BrokenPipe, format!("write callback returned {r}")))
        }
    }
}

enum State {
    /// An application-driven link, not connected yet (or the last attempt failed).
    Ready(CallbackTransport),
    /// `omv_host_connect` is under way on some thread.
    Connecting,
    Open(Arc<Camera>),
    Closed,
}

/// What an `omv_host` pointer really points to.
pub(crate) struct HostObj {
    state: RwLock<State>,
    /// The application's side of a callback link.
    feed: Option<FeedHandle>,
    events: Arc<EventSlot>,
    /// Script output read from the cam but not yet delivered (a caller's buffer was full).
    stdout_rest: Mutex<Vec<u8>>,
}

impl HostObj {
    fn new(state: State, feed: Option<FeedHandle>) -> HostObj {
        HostObj {
            state: RwLock::new(state),
            feed,
            events: Arc::new(EventSlot::default()),
            stdout_rest: Mutex::new(Vec::new()),
        }
    }

    fn camera(&self) -> Result<Arc<Camera>, Fail> {
        match &*self.state.read() {
            State::Open(c) => Ok(c.clone()),
            State::Closed => Err(Fail::closed()),
            State::Ready(_) | State::Connecting => {
                Err(Fail::new(omv_status::Disconnected, "not connected yet (call omv_host_connect)"))
            }
        }
    }

    fn is_closed(&self) -> bool {
        matches!(*self.state.read(), State::Closed)
    }

    /// Client options with this handle's event callback as a listener.
    fn client_options(&self, opts: Options) -> Options {
        let slot = self.events.clone();
        let me = self as *const HostObj as usize;
        opts.on_event(move |ev| slot.dispatch(me, ev))
    }

    fn close(&self) {
        // Disconnect first, under the read lock calls in flight share: they end at once with
        // OMV_STATUS_DISCONNECTED instead of holding the close up.
        if let State::Open(cam) = &*self.state.read() {
            cam.disconnect();
        }
        let old = std::mem::replace(&mut *self.state.write(), State::Closed);
        if let State::Open(cam) = old {
            cam.disconnect();
            // The last reference stops and joins the client's threads.
            drop(cam);
        }
        if let Some(f) = &self.feed {
            f.close("host closed");
        }
    }
}

/// # Safety
/// `h` must be NULL or a handle from this library not yet freed.
unsafe fn host<'a>(h: *const omv_host) -> Result<&'a HostObj, Fail> {
    // SAFETY: forwarded contract; the pointer came from `Box<HostObj>::into_raw`.
    unsafe { arg_ref(h.cast::<HostObj>(), "host") }
}

fn into_handle(obj: HostObj) -> *mut omv_host {
    Box::into_raw(Box::new(obj)).cast()
}

fn to_client_options(o: Option<&omv_options>) -> Result<Options, Fail> {
    let Some(o) = o else { return Ok(Options::default()) };
    check_struct_size(o.struct_size, std::mem::size_of::<omv_options>(), "options")?;
    if o.max_payload < MIN_MAX_PAYLOAD {
        return Err(Fail::invalid(format!("max_payload {} is below the minimum {MIN_MAX_PAYLOAD}", o.max_payload)));
    }
    if o.timeout_ms == 0 {
        return Err(Fail::invalid("timeout_ms must be above 0"));
    }
    let mut flags = CapFlags::empty();
    flags.set(CapFlags::CRC, o.crc);
    flags.set(CapFlags::SEQ, o.seq);
    flags.set(CapFlags::ACK, o.ack);
    flags.set(CapFlags::EVENTS, o.events);
    Ok(Options::default()
        .caps(Caps { flags, max_payload: o.max_payload })
        .timeout(Duration::from_millis(u64::from(o.timeout_ms)))
        .sync_attempts(o.sync_attempts.max(1))
        .auto_reconnect(o.auto_reconnect))
}

/// Opens a host over `transport` and connects; the handle goes to `out`.
fn open_with(
    transport: impl Transport + 'static,
    opts: Option<&omv_options>,
    out: Out<*mut omv_host>,
) -> Result<(), Fail> {
    let opts = to_client_options(opts)?;
    let obj = HostObj::new(State::Closed, None);
    // The listener captures the object's address, so box it first and connect in place.
    let obj = Box::new(obj);
    let cam = Camera::connect(transport, obj.client_options(opts))?;
    *obj.state.write() = State::Open(Arc::new(cam));
    out.set(Box::into_raw(obj).cast());
    Ok(())
}

/// Fills `out` with the default options: everything on, max_payload 4082, 1000 ms timeout,
/// 3 sync attempts, no automatic reconnection.
///
/// # Safety
/// `out` must be NULL or point to writable memory for an `omv_options`.
#[no_mangle]
pub unsafe extern "C" fn omv_options_default(out: *mut omv_options) -> omv_status {
    guard("omv_options_default", || {
        // SAFETY: the caller's contract.
        let out = unsafe { Out::new(out, "out") }?;
        let d = Options::default();
        out.set(omv_options {
            struct_size: std::mem::size_of::<omv_options>(),
            crc: d.caps.crc(),
            seq: d.caps.seq(),
            ack: d.caps.ack(),
            events: d.caps.events(),
            max_payload: d.caps.max_payload,
            timeout_ms: u32::try_from(d.timeout.as_millis()).unwrap_or(u32::MAX),
            sync_attempts: d.sync_attempts,
            auto_reconnect: d.auto_reconnect,
        });
        Ok(())
    })
}

/// Opens the serial port at `path` (`baud` 0: the default 921600) and connects.
/// `options` may be NULL for the defaults. On success `*out` is the new handle. Thread-safe
/// (every call makes an independent handle); on failure `*out` is left untouched.
///
/// # Safety
/// `path` must be NULL or a NUL-terminated string; `options` NULL or a valid `omv_options`;
/// `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn omv_host_open_serial(
    path: *const c_char,
    baud: u32,
    options: *const omv_options,
    out: *mut *mut omv_host,
) -> omv_status {
    guard("omv_host_open_serial", || {
        // SAFETY: the caller's contract.
        let (path, opts, out) = unsafe { (arg_str(path, "path")?, opt_ref(options)?, Out::new(out, "out")?) };
        let mut t = SerialTransport::new(path);
        if baud != 0 {
            t = t.baud(baud);
        }
        open_with(t, opts, out)
    })
}

/// Connects over TCP to `address` ("host:port") and synchronises. `options` may be NULL.
/// Thread-safe (every call makes an independent handle).
///
/// # Safety
/// As `omv_host_open_serial`.
#[no_mangle]
pub unsafe extern "C" fn omv_host_open_tcp(
    address: *const c_char,
    options: *const omv_options,
    out: *mut *mut omv_host,
) -> omv_status {
    guard("omv_host_open_tcp", || {
        // SAFETY: the caller's contract.
        let (addr, opts, out) = unsafe { (arg_str(address, "address")?, opt_ref(options)?, Out::new(out, "out")?) };
        open_with(TcpTransport::new(addr), opts, out)
    })
}

/// Talks UDP to `address` ("host:port") and synchronises. `options` may be NULL.
/// Thread-safe (every call makes an independent handle).
///
/// # Safety
/// As `omv_host_open_serial`.
#[no_mangle]
pub unsafe extern "C" fn omv_host_open_udp(
    address: *const c_char,
    options: *const omv_options,
    out: *mut *mut omv_host,
) -> omv_status {
    guard("omv_host_open_udp", || {
        // SAFETY: the caller's contract.
        let (addr, opts, out) = unsafe { (arg_str(address, "address")?, opt_ref(options)?, Out::new(out, "out")?) };
        open_with(UdpTransport::new(addr), opts, out)
    })
}

/// # Safety
/// `p` must be NULL or point to a valid `omv_options`.
unsafe fn opt_ref<'a>(p: *const omv_options) -> Result<Option<&'a omv_options>, Fail> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: forwarded contract.
    unsafe { arg_ref(p, "options") }.map(Some)
}

/// Creates a host over a link the application drives: bytes to send go to `write`
/// (with `user_data`); bytes received go in with `omv_host_feed`. The handle is not connected
/// yet: call `omv_host_connect` once the application is ready to feed answers.
///
/// `write` may run on any of the client's threads: one issuing a request, the reader thread
/// (ACKs) or the event thread (automatic reconnection, calls from the event callback). Calls
/// come one at a time, while the client holds its link lock: `write` may call `omv_host_feed`
/// / `omv_host_feed_close` (even on the same handle), but no other `omv_host_*` function on
/// this handle. `user_data` must be usable from any thread. Returning nonzero marks the link
/// lost (see `omv_write_fn`). This function is thread-safe (every call makes an independent
/// handle).
///
/// # Safety
/// `out` must be NULL or writable; `write` must be safe to call with `user_data` from any
/// thread until `omv_host_free` returns.
#[no_mangle]
pub unsafe extern "C" fn omv_host_new_callback(
    write: omv_write_fn,
    user_data: *mut c_void,
    out: *mut *mut omv_host,
) -> omv_status {
    guard("omv_host_new_callback", || {
        // SAFETY: the caller's contract.
        let out = unsafe { Out::new(out, "out") }?;
        let f = write.ok_or_else(|| Fail::null("write"))?;
        let cb = WriteCb { f, user: user_data };
        let (transport, feed) = CallbackTransport::new(Box::new(move |data| cb.call(data)));
        out.set(into_handle(HostObj::new(State::Ready(transport), Some(feed))));
        Ok(())
    })
}

/// Connects a host made by `omv_host_new_callback`: PROTO_SYNC, capabilities, channel list.
/// The answers must arrive through `omv_host_feed` (from the write callback or another thread)
/// while this call blocks. A failed attempt may be retried. `options` may be NULL.
/// Thread-safe; a second concurrent call fails with `OMV_STATUS_INVALID_ARGUMENT`.
///
/// # Safety
/// `host` must be NULL or a live handle; `options` NULL or a valid `omv_options`.
#[no_mangle]
pub unsafe extern "C" fn omv_host_connect(host: *mut omv_host, options: *const omv_options) -> omv_status {
    guard("omv_host_connect", || {
        // SAFETY: the caller's contract.
        let (obj, opts) = unsafe { (self::host(host)?, opt_ref(options)?) };
        let opts = to_client_options(opts)?;
        let transport = {
            let mut st = obj.state.write();
            match std::mem::replace(&mut *st, State::Connecting) {
                State::Ready(t) => t,
                other => {
                    let err = match &other {
                        State::Closed => Fail::closed(),
                        State::Open(_) => Fail::invalid("already connected"),
                        _ => Fail::invalid("a connection is already under way"),
                    };
                    *st = other;
                    return Err(err);
                }
            }
        };
        let result = Camera::connect(transport.clone(), obj.client_options(opts));
        let mut st = obj.state.write();
        match (&*st, result) {
            (State::Closed, Ok(cam)) => {
                drop(st);
                cam.disconnect();
                Err(Fail::closed())
            }
            (State::Closed, Err(_)) => Err(Fail::closed()),
            (_, Ok(cam)) => {
                *st = State::Open(Arc::new(cam));
                Ok(())
            }
            (_, Err(e)) => {
                *st = State::Ready(transport);
                Err(e.into())
            }
        }
    })
}

/// Bytes received from the cam on an application-driven link. Thread-safe; may be called from
/// the write callback. `OMV_STATUS_LINK_LOST` (bytes dropped) once the link was closed with
/// `omv_host_feed_close`.
///
/// # Safety
/// `host` must be NULL or a live handle; `data` NULL (with `len` 0) or `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn omv_host_feed(host: *mut omv_host, data: *const u8, len: usize) -> omv_status {
    guard("omv_host_feed", || {
        // SAFETY: the caller's contract.
        let (obj, data) = unsafe { (self::host(host)?, arg_bytes(data, len, "data")?) };
        let feed = obj.feed.as_ref().ok_or_else(|| Fail::invalid("not a callback link (omv_host_new_callback)"))?;
        if obj.is_closed() {
            return Err(Fail::closed());
        }
        if !feed.feed(data) {
            return Err(Fail::new(omv_status::LinkLost, "the link was closed with omv_host_feed_close"));
        }
        Ok(())
    })
}

/// The application's link is gone (device detached): requests fail with
/// `OMV_STATUS_LINK_LOST`, and the event callback gets `OMV_EVENT_KIND_LINK_LOST`. This is
/// final for the handle: neither `options.auto_reconnect` nor `omv_host_connect` can reopen
/// it; free it and make a new one with `omv_host_new_callback`. `reason` may be NULL.
/// Thread-safe; may be called from the write callback.
///
/// # Safety
/// `host` must be NULL or a live handle; `reason` NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn omv_host_feed_close(host: *mut omv_host, reason: *const c_char) -> omv_status {
    guard("omv_host_feed_close", || {
        // SAFETY: the caller's contract.
        let obj = unsafe { self::host(host) }?;
        let reason = if reason.is_null() {
            "closed by the application"
        } else {
            // SAFETY: non-NULL, NUL-terminated by the caller's contract.
            unsafe { arg_str(reason, "reason") }?
        };
        let feed = obj.feed.as_ref().ok_or_else(|| Fail::invalid("not a callback link (omv_host_new_callback)"))?;
        if obj.is_closed() {
            return Err(Fail::closed());
        }
        feed.close(reason);
        Ok(())
    })
}

/// Sets (or with NULL removes) the handle's event callback. It runs on the client's event
/// thread, never on the reader thread and never under a client lock: it may call any
/// `omv_host_*` function on this handle (including `omv_host_close`), except `omv_host_free`.
/// Calls wait for operations in flight, like calls from other threads. Thread-safe: when this
/// returns (called outside the callback), the old callback is not running and will not run
/// again. `OMV_EVENT_KIND_DEVICE` events need `options.events` on; the other kinds come
/// either way.
///
/// # Safety
/// `host` must be NULL or a live handle; `callback` must be safe to call with `user_data` on
/// the event thread until it is replaced or the handle freed.
#[no_mangle]
pub unsafe extern "C" fn omv_host_set_event_callback(
    host: *mut omv_host,
    callback: omv_event_fn,
    user_data: *mut c_void,
) -> omv_status {
    guard("omv_host_set_event_callback", || {
        // SAFETY: the caller's contract.
        let obj = unsafe { self::host(host) }?;
        if obj.is_closed() {
            return Err(Fail::closed());
        }
        obj.events.set(callback.map(|f| EventCb { f, user: user_data }));
        Ok(())
    })
}

/// Closes the link and stops the client's threads; an operation in flight on another thread
/// ends at once with `OMV_STATUS_DISCONNECTED`. The
/// handle stays valid: later calls return `OMV_STATUS_CLOSED` until `omv_host_free`.
/// Thread-safe; may be called from the event callback. Closing twice returns
/// `OMV_STATUS_CLOSED`.
///
/// # Safety
/// `host` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn omv_host_close(host: *mut omv_host) -> omv_status {
    guard("omv_host_close", || {
        // SAFETY: the caller's contract.
        let obj = unsafe { self::host(host) }?;
        if obj.is_closed() {
            return Err(Fail::closed());
        }
        obj.close();
        Ok(())
    })
}

/// Closes the link if open and releases the handle. Not thread-safe: it must be the last call
/// on the handle, with no other thread using it; not allowed from inside the handle's event callback
/// (`OMV_STATUS_INVALID_ARGUMENT`). After it returns no callback of this handle runs.
///
/// # Safety
/// `host` must be NULL or a live handle that no other thread uses, and is invalid afterwards.
#[no_mangle]
pub unsafe extern "C" fn omv_host_free(host: *mut omv_host) -> omv_status {
    guard("omv_host_free", || {
        // SAFETY: the caller's contract.
        let obj = unsafe { self::host(host) }?;
        if IN_CALLBACK.with(|c| c.get()) == obj as *const HostObj as usize {
            return Err(Fail::invalid("omv_host_free called from inside the handle's own event callback"));
        }
        // First the callback (waits for a running call), then the link and threads.
        obj.events.set(None);
        obj.close();
        // SAFETY: the pointer came from `Box::into_raw` and, by contract, nothing else uses it.
        drop(unsafe { Box::from_raw(host.cast::<HostObj>()) });
        Ok(())
    })
}

/// Shorthand for the body of an operation on an open handle.
///
/// # Safety
/// `h` must be NULL or a live handle.
pub(crate) unsafe fn with_camera(
    h: *mut omv_host,
    f: impl FnOnce(&HostObj, &Camera) -> Result<(), Fail>,
) -> Result<(), Fail> {
    // SAFETY: forwarded contract.
    let obj = unsafe { host(h) }?;
    let cam = obj.camera()?;
    f(obj, &cam)
}

/// Whether the link is up now: `*out` is false while it is lost or after a reset / boot.
/// A handle from `omv_host_new_callback` not connected yet returns `OMV_STATUS_DISCONNECTED`
/// and a closed one `OMV_STATUS_CLOSED`, without writing `*out`. Thread-safe.
///
/// # Safety
/// `host` must be NULL or a live handle; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn omv_host_is_connected(host: *mut omv_host, out: *mut bool) -> omv_status {
    guard("omv_host_is_connected", || {
        // SAFETY: the caller's contract.
        let out = unsafe { Out::new(out, "out") }?;
        // SAFETY: the caller's contract.
        unsafe { with_camera(host, |_, cam| out.put(cam.is_connected())) }
    })
}

/// CHANNEL_LIST: reads the cam's channels into `out`, which has room for `*count` entries;
/// `*count` becomes the number of channels. If they do not all fit, the first `*count` are
/// written, `*count` is set to the number needed and `OMV_STATUS_BUFFER_TOO_SMALL` returned
/// (`out` may be NULL with `*count` 0 to ask for the number). Thread-safe.
///
/// # Safety
/// `host` NULL or live; `count` NULL or a valid `size_t`; `out` NULL or `*count` writable entries.
#[no_mangle]
pub unsafe extern "C" fn omv_host_list(
    host: *mut omv_host,
    out: *mut omv_channel_info,
    count: *mut usize,
) -> omv_status {
    guard("omv_host_list", || {
        // SAFETY: the caller's contract.
        let count_ref = unsafe { arg_ref(count, "count") }?;
        let cap = *count_ref;
        // SAFETY: the caller's contract.
        let (arr, count) = unsafe { (arg_array_out(out, cap, "out")?, Out::new(count, "count")?) };
        // SAFETY: the caller's contract.
        unsafe {
            with_camera(host, |_, cam| {
                let list = cam.list()?;
                for (dst, c) in arr.iter_mut().zip(&list) {
                    let mut name = [0 as c_char; 16];
                    for (d, s) in name.iter_mut().zip(c.name.bytes().take(15)) {
                        *d = s as c_char;
                    }
                    *dst = omv_channel_info { id: c.id.0, flags: c.flags.bits(), name };
                }
                count.set(list.len());
                if list.len() > cap {
                    return Err(Fail::new(
                        omv_status::BufferTooSmall,
                        format!("{} channels, room for {cap}", list.len()),
                    ));
                }
                Ok(())
            })
        }
    })
}

/// The id of the channel called `name` (from the cached list, refreshed if not found).
/// `OMV_STATUS_NO_SUCH_CHANNEL` if the cam has none. Thread-safe.
///
/// # Safety
/// `host` NULL or live; `name` NULL or NUL-terminated; `id` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn omv_host_channel_id(host: *mut omv_host, name: *const c_char, id: *mut u8) -> omv_status {
    guard("omv_host_channel_id", || {
        // SAFETY: the caller's contract.
        let (name, id) = unsafe { (arg_str(name, "name")?, Out::new(id, "id")?) };
        // SAFETY: the caller's contract.
        unsafe { with_camera(host, |_, cam| id.put(cam.channel_id(name)?.0)) }
    })
}

/// CHANNEL_POLL: bit i of `*bits` is set when channel i has something. Thread-safe.
///
/// # Safety
/// `host` NULL or live; `bits` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn omv_host_poll(host: *mut omv_host, bits: *mut u32) -> omv_status {
    guard("omv_host_poll", || {
        // SAFETY: the caller's contract.
        let bits = unsafe { Out::new(bits, "bits") }?;
        // SAFETY: the caller's contract.
        unsafe { with_camera(host, |_, cam| bits.put(cam.poll()?)) }
    })
}

/// CHANNEL_SIZE: bytes the channel holds. Thread-safe.
///
/// # Safety
/// `host` NULL or live; `size` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn omv_host_size(host: *mut omv_host, channel: u8, size: *mut u32) -> omv_status {
    guard("omv_host_size", || {
        // SAFETY: the caller's contract.
        let size = unsafe { Out::new(size, "size") }?;
        // SAFETY: the caller's contract.
        unsafe { with_camera(host, |_, cam| size.put(cam.size(ChannelId(channel))?)) }
    })
}

/// CHANNEL_SHAPE: up to 4 dimensions into `dims`, which has room for `*count`; `*count`
/// becomes the number of dimensions (`OMV_STATUS_BUFFER_TOO_SMALL` if they do not fit, with
/// the first `*count` written). Thread-safe.
///
/// # Safety
/// `host` NULL or live; `count` NULL or valid; `dims` NULL or `*count` writable `uint32_t`s.
#[no_mangle]
pub unsafe extern "C" fn omv_host_shape(
    host: *mut omv_host,
    channel: u8,
    dims: *mut u32,
    count: *mut usize,
) -> omv_status {
    guard("omv_host_shape", || {
        // SAFETY: the caller's contract.
        let cap = *unsafe { arg_ref(count, "count") }?;
        // SAFETY: the caller's contract.
        let (arr, count) = unsafe { (arg_array_out(dims, cap, "dims")?, Out::new(count, "count")?) };
        // SAFETY: the caller's contract.
        unsafe {
            with_camera(host, |_, cam| {
                let shape = cam.shape(ChannelId(channel))?;
                for (d, s) in arr.iter_mut().zip(&shape) {
                    *d = *s;
                }
                count.set(shape.len());
                if shape.len() > cap {
                    return Err(Fail::new(
                        omv_status::BufferTooSmall,
                        format!("{} dimensions, room for {cap}", shape.len()),
                    ));
                }
                Ok(())
            })
        }
    })
}

/// CHANNEL_READ: exactly `len` bytes from `offset` into `buf` (the cam fragments, the
/// library joins). Thread-safe.
///
/// # Safety
/// `host` NULL or live; `buf` NULL (with `len` 0) or `len` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn omv_host_read(
    host: *mut omv_host,
    channel: u8,
    offset: u32,
    buf: *mut u8,
    len: usize,
) -> omv_status {
    guard("omv_host_read", || {
        // SAFETY: the caller's contract.
        let buf = unsafe { arg_bytes_mut(buf, len, "buf") }?;
        let n = u32::try_from(len).map_err(|_| Fail::invalid("len above 4 GiB"))?;
        // SAFETY: the caller's contract.
        unsafe {
            with_camera(host, |_, cam| {
                let data = cam.read(ChannelId(channel), offset, n)?;
                if data.len() != buf.len() {
                    return Err(Fail::new(omv_status::BadAnswer, "short read"));
                }
                buf.copy_from_slice(&data);
                Ok(())
            })
        }
    })
}

/// CHANNEL_WRITE of `len` bytes at `offset` (split into packets as needed). Thread-safe.
///
/// # Safety
/// `host` NULL or live; `data` NULL (with `len` 0) or `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn omv_host_write(
    host: *mut omv_host,
    channel: u8,
    offset: u32,
    data: *const u8,
    len: usize,
) -> omv_status {
    guard("omv_host_write", || {
        // SAFETY: the caller's contract.
        let data = unsafe { arg_bytes(data, len, "data") }?;
        // SAFETY: the caller's contract.
        unsafe { with_camera(host, |_, cam| Ok(cam.write(ChannelId(channel), offset, data)?)) }
    })
}

/// CHANNEL_LOCK: `*taken` is false when the cam answered BUSY (nothing ready, or too soon).
/// Thread-safe.
///
/// # Safety
/// `host` NULL or live; `taken` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn omv_host_lock(host: *mut omv_host, channel: u8, taken: *mut bool) -> omv_status {
    guard("omv_host_lock", || {
        // SAFETY: the caller's contract.
        let taken = unsafe { Out::new(taken, "taken") }?;
        // SAFETY: the caller's contract.
        unsafe { with_camera(host, |_, cam| taken.put(cam.lock(ChannelId(channel))?)) }
    })
}

/// CHANNEL_UNLOCK: `*released` is false when the cam answered BUSY. `released` may be NULL.
/// Thread-safe.
///
/// # Safety
/// `host` NULL or live; `released` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn omv_host_unlock(host: *mut omv_host, channel: u8, released: *mut bool) -> omv_status {
    guard("omv_host_unlock", || {
        // SAFETY: the caller's contract.
        let released = unsafe { opt_out(released, "released") }?;
        // SAFETY: the caller's contract.
        unsafe {
            with_camera(host, |_, cam| {
                let r = cam.unlock(ChannelId(channel))?;
                if let Some(o) = released {
                    o.set(r);
                }
                Ok(())
            })
        }
    })
}

/// CHANNEL_IOCTL with `request` and `arg_len` argument bytes. Thread-safe. Never repeated
/// after a recovery: a lost answer gives `OMV_STATUS_OUTCOME_UNKNOWN`.
///
/// # Safety
/// `host` NULL or live; `arg` NULL (with `arg_len` 0) or `arg_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn omv_host_ioctl(
    host: *mut omv_host,
    channel: u8,
    request: u32,
    arg: *const u8,
    arg_len: usize,
) -> omv_status {
    guard("omv_host_ioctl", || {
        // SAFETY: the caller's contract.
        let arg = unsafe { arg_bytes(arg, arg_len, "arg") }?;
        // SAFETY: the caller's contract.
        unsafe { with_camera(host, |_, cam| Ok(cam.ioctl(ChannelId(channel), request, arg)?)) }
    })
}

/// Runs a script (NUL-terminated): stdin RESET, the script written, stdin EXEC. Its output
/// comes through `omv_host_read_stdout`. Thread-safe.
///
/// # Safety
/// `host` NULL or live; `script` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn omv_host_exec(host: *mut omv_host, script: *const c_char) -> omv_status {
    guard("omv_host_exec", || {
        // SAFETY: the caller's contract.
        let script = unsafe { arg_str(script, "script") }?;
        // SAFETY: the caller's contract.
        unsafe { with_camera(host, |_, cam| Ok(cam.exec(script)?)) }
    })
}

/// Interrupts the running script (stdin STOP). Thread-safe.
///
/// # Safety
/// `host` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn omv_host_stop(host: *mut omv_host) -> omv_status {
    // SAFETY: the caller's contract.
    guard("omv_host_stop", || unsafe { with_camera(host, |_, cam| Ok(cam.stop()?)) })
}

/// Turns the frame stream on or off. With `raw`, frames come uncompressed at `width` x
/// `height` (both above 0); otherwise those are ignored. Thread-safe.
///
/// # Safety
/// `host` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn omv_host_streaming(
    host: *mut omv_host,
    enable: bool,
    raw: bool,
    width: u32,
    height: u32,
) -> omv_status {
    guard("omv_host_streaming", || {
        if raw && (width == 0 || height == 0) {
            return Err(Fail::invalid("raw streaming needs a width and height above 0"));
        }
        let res = raw.then_some((width, height));
        // SAFETY: the caller's contract.
        unsafe { with_camera(host, |_, cam| Ok(cam.streaming(enable, raw, res)?)) }
    })
}

/// Reads the latest frame (CHANNEL_LOCK, CHANNEL_READ, CHANNEL_UNLOCK, with a CHANNEL_SIZE
/// first when the frame's length is not known). `*out` is a new frame to release with
/// `omv_frame_free`, or NULL when no frame is ready (still `OMV_STATUS_OK`). With
/// `OMV_FRAME_RGB888` in `flags` the pixels are converted to RGB888. Thread-safe.
///
/// # Safety
/// `host` NULL or live; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn omv_host_read_frame(host: *mut omv_host, flags: u32, out: *mut *mut omv_frame) -> omv_status {
    guard("omv_host_read_frame", || {
        // SAFETY: the caller's contract.
        let out = unsafe { Out::new(out, "out") }?;
        check_frame_flags(flags)?;
        // SAFETY: the caller's contract.
        unsafe {
            with_camera(host, |_, cam| {
                let frame = match cam.read_frame()? {
                    Some(f) => Some(frame_into_box(FramePixels::take(f, flags & OMV_FRAME_RGB888 != 0)?)),
                    None => None,
                };
                out.set(frame.unwrap_or(std::ptr::null_mut()));
                Ok(())
            })
        }
    })
}

/// Waits up to `timeout_ms` milliseconds for a frame and takes it. With `options.events` on
/// (the default) it sleeps until the cam says one is ready, so a waiting host costs no CPU;
/// with events off it tries every 10 ms. `*out` is a new frame to release with
/// `omv_frame_free`, or NULL when none came within the timeout (still `OMV_STATUS_OK`, as
/// `omv_host_read_frame` reports "no frame"). `timeout_ms` 0 tries once, like
/// `omv_host_read_frame`. `flags` as for `omv_host_read_frame`. Thread-safe; other calls on
/// the same handle may run while one waits.
///
/// # Safety
/// `host` NULL or live; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn omv_host_wait_frame(
    host: *mut omv_host,
    flags: u32,
    timeout_ms: u32,
    out: *mut *mut omv_frame,
) -> omv_status {
    guard("omv_host_wait_frame", || {
        // SAFETY: the caller's contract.
        let out = unsafe { Out::new(out, "out") }?;
        check_frame_flags(flags)?;
        let timeout = Duration::from_millis(timeout_ms.into());
        // SAFETY: the caller's contract.
        unsafe {
            with_camera(host, |_, cam| {
                let frame = match cam.wait_frame(timeout)? {
                    Some(f) => Some(frame_into_box(FramePixels::take(f, flags & OMV_FRAME_RGB888 != 0)?)),
                    None => None,
                };
                out.set(frame.unwrap_or(std::ptr::null_mut()));
                Ok(())
            })
        }
    })
}

/// Reads the latest frame into the caller's `buf` of `cap` bytes. `*got` says whether a frame
/// was ready; if so `info` describes it (`info->data` = `buf`, `info->len` = bytes written).
/// If the pixels do not fit, `info->len` is the size needed, `OMV_STATUS_BUFFER_TOO_SMALL` is
/// returned and the frame is dropped. `info` belongs to the caller: never pass it to
/// `omv_frame_free`. Thread-safe.
///
/// # Safety
/// `host` NULL or live; `buf` NULL (with `cap` 0) or `cap` writable bytes; `info` and `got`
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn omv_host_read_frame_into(
    host: *mut omv_host,
    flags: u32,
    buf: *mut u8,
    cap: usize,
    info: *mut omv_frame,
    got: *mut bool,
) -> omv_status {
    guard("omv_host_read_frame_into", || {
        // SAFETY: the caller's contract.
        let (dst, info, got) =
            unsafe { (arg_bytes_mut(buf, cap, "buf")?, Out::new(info, "info")?, Out::new(got, "got")?) };
        check_frame_flags(flags)?;
        // SAFETY: the caller's contract.
        unsafe {
            with_camera(host, |_, cam| {
                let Some(f) = cam.read_frame()? else {
                    got.set(false);
                    return Ok(());
                };
                let px = FramePixels::take(f, flags & OMV_FRAME_RGB888 != 0)?;
                let n = px.pixels.len();
                let fits = n <= dst.len();
                if fits {
                    dst[..n].copy_from_slice(&px.pixels);
                }
                info.set(px.describe(buf.cast_const(), n));
                got.set(true);
                if !fits {
                    return Err(Fail::new(omv_status::BufferTooSmall, format!("frame of {n} bytes, buffer of {cap}")));
                }
                Ok(())
            })
        }
    })
}

fn check_frame_flags(flags: u32) -> Result<(), Fail> {
    if flags & !OMV_FRAME_RGB888 != 0 {
        return Err(Fail::invalid(format!("unknown frame flags 0x{flags:X}")));
    }
    Ok(())
}

/// Script output the cam holds, consumed by the read, as a NUL-terminated string in `buf`
/// (`cap` >= 1). `*written` is the number of bytes before the NUL; 0 when there is none. Text
/// that does not fit is kept for the next call. Thread-safe.
///
/// # Safety
/// `host` NULL or live; `buf` NULL or `cap` writable bytes; `written` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn omv_host_read_stdout(
    host: *mut omv_host,
    buf: *mut c_char,
    cap: usize,
    written: *mut usize,
) -> omv_status {
    guard("omv_host_read_stdout", || {
        if cap == 0 {
            return Err(Fail::new(omv_status::BufferTooSmall, "cap must be at least 1 (room for the NUL)"));
        }
        // SAFETY: the caller's contract.
        let (dst, written) = unsafe { (arg_bytes_mut(buf.cast(), cap, "buf")?, Out::new(written, "written")?) };
        // SAFETY: the caller's contract.
        unsafe {
            with_camera(host, |obj, cam| {
                let mut rest = obj.stdout_rest.lock();
                if rest.is_empty() {
                    rest.extend_from_slice(cam.read_stdout()?.as_bytes());
                }
                let (n, _) = copy_c_string(&rest, dst);
                rest.drain(..n);
                written.set(n);
                Ok(())
            })
        }
    })
}

/// PROTO_VERSION. Thread-safe.
///
/// # Safety
/// `host` NULL or live; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn omv_host_version(host: *mut omv_host, out: *mut omv_version) -> omv_status {
    guard("omv_host_version", || {
        // SAFETY: the caller's contract.
        let out = unsafe { Out::new(out, "out") }?;
        // SAFETY: the caller's contract.
        unsafe { with_camera(host, |_, cam| out.put(cam.version()?.into())) }
    })
}

/// SYS_INFO. Thread-safe.
///
/// # Safety
/// `host` NULL or live; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn omv_host_system_info(host: *mut omv_host, out: *mut omv_system_info) -> omv_status {
    guard("omv_host_system_info", || {
        // SAFETY: the caller's contract.
        let out = unsafe { Out::new(out, "out") }?;
        // SAFETY: the caller's contract.
        unsafe { with_camera(host, |_, cam| out.put(cam.system_info()?.into())) }
    })
}

/// PROTO_STATS: the cam's link counters. Thread-safe.
///
/// # Safety
/// `host` NULL or live; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn omv_host_device_stats(host: *mut omv_host, out: *mut omv_stats) -> omv_status {
    guard("omv_host_device_stats", || {
        // SAFETY: the caller's contract.
        let out = unsafe { Out::new(out, "out") }?;
        // SAFETY: the caller's contract.
        unsafe { with_camera(host, |_, cam| out.put(cam.device_stats()?.into())) }
    })
}

/// This host's own link counters (no request is sent). Thread-safe.
///
/// # Safety
/// `host` NULL or live; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn omv_host_host_stats(host: *mut omv_host, out: *mut omv_stats) -> omv_status {
    guard("omv_host_host_stats", || {
        // SAFETY: the caller's contract.
        let out = unsafe { Out::new(out, "out") }?;
        // SAFETY: the caller's contract.
        unsafe { with_camera(host, |_, cam| out.put(cam.host_stats().into())) }
    })
}

/// SYS_MEMORY: the cam's memory pools into `out` (room for `*count`; `*count` becomes the
/// number of pools, `OMV_STATUS_BUFFER_TOO_SMALL` if they do not fit). Thread-safe.
///
/// # Safety
/// `host` NULL or live; `count` NULL or valid; `out` NULL or `*count` writable entries.
#[no_mangle]
pub unsafe extern "C" fn omv_host_memory(
    host: *mut omv_host,
    out: *mut omv_memory_pool,
    count: *mut usize,
) -> omv_status {
    guard("omv_host_memory", || {
        // SAFETY: the caller's contract.
        let cap = *unsafe { arg_ref(count, "count") }?;
        // SAFETY: the caller's contract.
        let (arr, count) = unsafe { (arg_array_out(out, cap, "out")?, Out::new(count, "count")?) };
        // SAFETY: the caller's contract.
        unsafe {
            with_camera(host, |_, cam| {
                let pools = cam.memory()?;
                for (d, p) in arr.iter_mut().zip(&pools) {
                    *d = (*p).into();
                }
                count.set(pools.len());
                if pools.len() > cap {
                    return Err(Fail::new(
                        omv_status::BufferTooSmall,
                        format!("{} pools, room for {cap}", pools.len()),
                    ));
                }
                Ok(())
            })
        }
    })
}

/// SYS_RESET: the cam restarts; the link is closed (calls then fail with
/// `OMV_STATUS_DISCONNECTED`; close and open a new handle). Thread-safe.
///
/// # Safety
/// `host` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn omv_host_reset(host: *mut omv_host) -> omv_status {
    // SAFETY: the caller's contract.
    guard("omv_host_reset", || unsafe { with_camera(host, |_, cam| Ok(cam.reset()?)) })
}

/// SYS_BOOT: the cam enters its bootloader; the link is closed. Thread-safe.
///
/// # Safety
/// `host` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn omv_host_boot(host: *mut omv_host) -> omv_status {
    // SAFETY: the caller's contract.
    guard("omv_host_boot", || unsafe { with_camera(host, |_, cam| Ok(cam.boot()?)) })
}
