//! The driver around the sans-IO [`Host`]: one link, its reader thread, and request/answer
//! under locks.
//!
//! Locks, always taken in this order:
//! 1. `session` (the operation lock): held for a whole operation (read_frame = lock, size,
//!    read, unlock), so operations from many threads never interleave on the wire;
//! 2. `link`: the Host, the send half and the link state, held briefly. Requesters wait for
//!    answers on `cv`, which releases it; the reader thread takes it to feed received bytes.
//!
//! Bytes are written while `link` is held, so ACKs and requests leave in the order the Host
//! produced them.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Condvar, Mutex, MutexGuard};

use super::channel::{parse_list, ChannelInfo};
use super::error::{Error, Result};
use super::events::{ClientEvent, Listener, Msg};
use super::options::Options;
use crate::framing::payload::{event, SysInfo};
use crate::framing::{ChannelId, FastCrc, Opcode};
use crate::host::{Host, HostConfig, Request, Response};
use crate::time::Instant;
use crate::transport::{is_link_lost, RxHalf, Transport, TxHalf};

/// How long the reader waits in one `recv`: bounds how soon it notices a closed or replaced
/// link and a stopping client.
pub(crate) const READ_POLL: Duration = Duration::from_millis(50);
/// Receive buffer: a whole UDP datagram fits.
const READ_BUF: usize = 64 * 1024;
/// Events waiting for the event thread; past this they are dropped and counted.
pub(crate) const EVENT_BACKLOG: usize = 1024;

/// Why the link is not up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum LinkState {
    Up,
    /// Being opened or restored.
    Connecting,
    /// Gone without being asked to.
    Lost(String),
    /// Closed on purpose (disconnect, reset, boot, drop).
    Closed,
}

struct Link {
    host: Host,
    tx: Option<Box<dyn TxHalf>>,
    /// A freshly opened receive half for the reader thread to take.
    new_rx: Option<Box<dyn RxHalf>>,
    /// Bumped whenever the link is closed or reopened: answers and halves of an older
    /// generation are ignored.
    generation: u64,
    /// The generation of the receive half the reader holds.
    reader_holds: Option<u64>,
    state: LinkState,
}

impl Link {
    fn check_up(&self) -> Result<()> {
        match &self.state {
            LinkState::Up => Ok(()),
            LinkState::Lost(r) => Err(Error::LinkLost(r.clone())),
            LinkState::Connecting | LinkState::Closed => Err(Error::Disconnected),
        }
    }
}

/// What the user asked of the stream channel, restored after the cam restarts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StreamWish {
    pub enable: bool,
    pub raw: bool,
    pub resolution: Option<(u32, u32)>,
}

/// What only a holder of the operation lock may touch.
#[derive(Debug, Default)]
pub(crate) struct Session {
    pub channels: Vec<ChannelInfo>,
    pub sysinfo: Option<SysInfo>,
    pub stream: Option<StreamWish>,
    /// Set (with the operation's name) once the operation sent a request that must not be
    /// repeated: after that, a failure is reported as outcome-unknown instead of retried.
    pub committed: Option<&'static str>,
    /// The last resync failed or was cut short: resync before the next operation.
    pub needs_resync: bool,
}

/// Everything the camera handle, the reader thread and the event thread share.
pub(crate) struct Shared {
    pub transport: Box<dyn Transport>,
    pub opts: Options,
    epoch: std::time::Instant,
    pub session: Mutex<Session>,
    link: Mutex<Link>,
    cv: Condvar,
    events: Mutex<SyncSender<Msg>>,
    /// Events dropped because the event thread fell [`EVENT_BACKLOG`] behind.
    pub events_dropped: AtomicU64,
    pub listeners: Mutex<Vec<(u64, Listener)>>,
    pub next_listener: AtomicU64,
    pub stop: AtomicBool,
    /// A channel was (un)registered: refresh the list before the next lookup.
    pub channels_stale: AtomicBool,
    /// Frames this client received.
    pub frames: AtomicU64,
    /// The last frame lock was refused while a NOTIFY had said a frame is ready.
    frame_pending: AtomicBool,
    /// Stream NOTIFYs received; `frame_cv` is signalled with each (and on close).
    pub stream_notifies: Mutex<u64>,
    pub frame_cv: Condvar,
}

impl Shared {
    pub fn new(transport: Box<dyn Transport>, opts: Options, events: SyncSender<Msg>) -> Shared {
        let listeners = opts.listeners.iter().cloned().enumerate().map(|(i, l)| (i as u64, l)).collect::<Vec<_>>();
        let next = listeners.len() as u64;
        Shared {
            transport,
            epoch: std::time::Instant::now(),
            session: Mutex::new(Session::default()),
            link: Mutex::new(Link {
                host: Host::new(host_config(&opts), FastCrc),
                tx: None,
                new_rx: None,
                generation: 0,
                reader_holds: None,
                state: LinkState::Closed,
            }),
            cv: Condvar::new(),
            events: Mutex::new(events),
            events_dropped: AtomicU64::new(0),
            listeners: Mutex::new(listeners),
            next_listener: AtomicU64::new(next),
            stop: AtomicBool::new(false),
            channels_stale: AtomicBool::new(false),
            frames: AtomicU64::new(0),
            frame_pending: AtomicBool::new(false),
            stream_notifies: Mutex::new(0),
            frame_cv: Condvar::new(),
            opts,
        }
    }

    fn now(&self) -> Instant {
        Instant::since(self.epoch)
    }

    fn std_at(&self, at: Instant) -> std::time::Instant {
        self.epoch + Duration::from_millis(at.as_millis())
    }

    /// Queues an event for the listeners without ever blocking: a stuck listener costs
    /// events (counted), never the link.
    pub fn emit(&self, ev: ClientEvent) {
        if let Err(TrySendError::Full(_)) = self.events.lock().try_send(Msg::Event(ev)) {
            self.events_dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn send_stop(&self) {
        // Blocks only while the backlog is full, which the event thread drains.
        let _ = self.events.lock().send(Msg::Stop);
    }

    pub fn frame_pending(&self) -> bool {
        self.frame_pending.load(Ordering::Relaxed)
    }

    pub fn set_frame_pending(&self, busy: bool) {
        self.frame_pending.store(busy, Ordering::Relaxed);
    }

    /// Events lost on the way: the engine's queue and the event thread's backlog.
    pub fn events_dropped(&self) -> u64 {
        self.link.lock().host.events_dropped() + self.events_dropped.load(Ordering::Relaxed)
    }

    pub fn state(&self) -> LinkState {
        self.link.lock().state.clone()
    }

    pub fn caps(&self) -> crate::framing::payload::Caps {
        self.link.lock().host.caps()
    }

    pub fn host_stats(&self) -> crate::reliability::Stats {
        self.link.lock().host.stats()
    }

    /// Marks the link lost (once per generation) and tells the listeners.
    fn lose(&self, l: &mut Link, reason: String) {
        if l.state == LinkState::Up {
            log::warn!("link to {} lost: {reason}", self.transport.describe());
            l.state = LinkState::Lost(reason.clone());
            l.tx = None;
            l.generation += 1;
            self.cv.notify_all();
            self.emit(ClientEvent::LinkLost { reason });
        }
    }

    /// Closes the link on purpose; the reader drops its half within [`READ_POLL`].
    pub fn close(&self, state: LinkState) {
        let mut l = self.link.lock();
        l.state = state;
        l.tx = None;
        l.new_rx = None;
        l.generation += 1;
        self.cv.notify_all();
        drop(l);
        let _n = self.stream_notifies.lock();
        self.frame_cv.notify_all();
    }

    /// Writes what the Host has to send. A dead link is marked lost.
    fn flush(&self, l: &mut Link) -> Result<()> {
        while let Some(bytes) = l.host.poll_transmit() {
            let Some(tx) = l.tx.as_mut() else { return l.check_up() };
            let sent = catch_unwind(AssertUnwindSafe(|| tx.send(&bytes))).unwrap_or_else(|_| Err(panicked("send")));
            if let Err(e) = sent {
                if is_link_lost(&e) {
                    let reason = e.to_string();
                    self.lose(l, reason.clone());
                    return Err(Error::LinkLost(reason));
                }
                return Err(Error::Io(e));
            }
        }
        Ok(())
    }

    /// Waits for the Host's answer to what was started in generation `gen`.
    fn wait(&self, l: &mut MutexGuard<'_, Link>, gen: u64) -> Result<Response> {
        let timeout = self.opts.timeout;
        loop {
            if l.generation != gen {
                l.check_up()?;
                return Err(Error::Disconnected);
            }
            if let Some(r) = l.host.poll_completion() {
                return r.map_err(|e| Error::from_request(e, timeout));
            }
            l.host.handle_timeout(self.now());
            if let Some(r) = l.host.poll_completion() {
                return r.map_err(|e| Error::from_request(e, timeout));
            }
            // The Host always has a deadline while a request is pending; the fallback only
            // keeps a confused engine from blocking for ever.
            let deadline = match l.host.poll_at() {
                Some(at) => self.std_at(at),
                None => std::time::Instant::now() + timeout,
            };
            if self.cv.wait_until(l, deadline).timed_out() && l.host.poll_at().is_none() && l.generation == gen {
                if let Some(r) = l.host.poll_completion() {
                    return r.map_err(|e| Error::from_request(e, timeout));
                }
                return Err(Error::Timeout(timeout));
            }
        }
    }

    /// One request and its answer. Caller holds the operation lock (`_s`).
    pub fn request(&self, _s: &mut Session, opcode: Opcode, channel: ChannelId, payload: Vec<u8>) -> Result<Response> {
        let mut l = self.link.lock();
        l.check_up()?;
        let gen = l.generation;
        let _stale = l.host.poll_completion();
        let now = self.now();
        l.host.start(now, &Request::new(opcode, channel, payload)).map_err(Error::from_start)?;
        self.flush(&mut l)?;
        self.wait(&mut l, gen)
    }

    /// Sends a request that has no answer (SYS_RESET, SYS_BOOT), then closes the link: the
    /// cam is gone.
    pub fn send_final(&self, _s: &mut Session, opcode: Opcode) -> Result<()> {
        {
            let mut l = self.link.lock();
            l.check_up()?;
            let _stale = l.host.poll_completion();
            let now = self.now();
            l.host.start(now, &Request::new(opcode, ChannelId::TRANSPORT, Vec::new())).map_err(Error::from_start)?;
            self.flush(&mut l)?;
        }
        self.close(LinkState::Closed);
        Ok(())
    }

    /// PROTO_SYNC, GET_CAPS, SET_CAPS with the configured wishes, up to `sync_attempts` times.
    pub fn resync(&self, s: &mut Session) -> Result<()> {
        s.needs_resync = true;
        let mut last = Error::Timeout(self.opts.timeout);
        for attempt in 0..self.opts.sync_attempts.max(1) {
            if self.stop.load(Ordering::Acquire) {
                return Err(Error::Disconnected);
            }
            let mut l = self.link.lock();
            l.check_up()?;
            let gen = l.generation;
            let _stale = l.host.poll_completion();
            let now = self.now();
            l.host.resync(now);
            self.flush(&mut l)?;
            match self.wait(&mut l, gen) {
                Ok(_) => {
                    log::debug!("synchronised with {}: {:?}", self.transport.describe(), l.host.caps());
                    s.needs_resync = false;
                    return Ok(());
                }
                Err(e) if e.is_disconnected() => return Err(e),
                Err(e) => {
                    log::warn!("sync attempt {} failed: {e}", attempt + 1);
                    last = e;
                }
            }
        }
        Err(last)
    }

    /// CHANNEL_LIST into the session.
    pub fn refresh_channels(&self, s: &mut Session) -> Result<()> {
        self.channels_stale.store(false, Ordering::Release);
        match self
            .request(s, Opcode::CHANNEL_LIST, ChannelId::TRANSPORT, Vec::new())
            .and_then(|r| parse_list(&r.into_data()))
        {
            Ok(list) => {
                s.channels = list;
                Ok(())
            }
            Err(e) => {
                self.channels_stale.store(true, Ordering::Release);
                Err(e)
            }
        }
    }

    /// Opens the transport afresh and restores the session: resync, channel list.
    pub fn open_link(&self, s: &mut Session) -> Result<()> {
        let old = {
            let mut l = self.link.lock();
            l.state = LinkState::Connecting;
            l.tx = None;
            l.new_rx = None;
            l.generation += 1;
            self.cv.notify_all();
            l.generation
        };
        // A port opened exclusively must be closed before it is opened again: wait for the
        // reader to drop the old half.
        {
            let mut l = self.link.lock();
            let deadline = std::time::Instant::now() + READ_POLL * 20;
            while l.reader_holds.is_some_and(|g| g < old) {
                if self.cv.wait_until(&mut l, deadline).timed_out() {
                    break;
                }
            }
        }
        let (rx, tx) = match self.transport.open() {
            Ok(halves) => halves,
            Err(e) => {
                let lost = is_link_lost(&e);
                self.close(LinkState::Lost(e.to_string()));
                return Err(if lost { Error::LinkLost(e.to_string()) } else { Error::Io(e) });
            }
        };
        {
            let mut l = self.link.lock();
            if self.stop.load(Ordering::Acquire) {
                // The camera is being dropped: the halves close here.
                l.state = LinkState::Closed;
                return Err(Error::Disconnected);
            }
            l.host = Host::new(host_config(&self.opts), FastCrc);
            l.tx = Some(tx);
            l.new_rx = Some(rx);
            l.state = LinkState::Up;
            self.cv.notify_all();
        }
        s.sysinfo = None;
        // A cam that soft-reboots while the session is being set up (a script just ended)
        // gets one more try, against its restarted engine.
        let restored = match self.recover(s, false) {
            Err(e) if e.is_protocol_error() => self.recover(s, true),
            r => r,
        };
        if let Err(e) = &restored {
            self.close(LinkState::Lost(format!("session not restored: {e}")));
        }
        restored
    }

    /// Reopens the link if it is lost (not if it was closed on purpose or is back already).
    /// Returns whether it reconnected.
    pub fn reconnect_if_lost(&self) -> Result<bool> {
        let mut s = self.session.lock();
        if !matches!(self.state(), LinkState::Lost(_)) {
            return Ok(false);
        }
        self.open_link(&mut s)?;
        drop(s);
        self.emit(ClientEvent::Reconnected);
        Ok(true)
    }

    /// Brings the session back after the cam restarted or the ends fell out of step:
    /// resync, a fresh channel list, streaming as last asked for. Tells the listeners when
    /// the cam had restarted.
    pub fn recover(&self, s: &mut Session, restarted: bool) -> Result<()> {
        self.resync(s)?;
        self.refresh_channels(s)?;
        s.sysinfo = None;
        if let Some(w) = s.stream {
            restore_stream(self, s, w)?;
        }
        if restarted {
            log::info!("{} restarted; session restored", self.transport.describe());
            self.emit(ClientEvent::CamRestarted);
        }
        Ok(())
    }

    /// Runs one operation under the operation lock.
    ///
    /// A cam that announced a restart is recovered first. After a protocol error (timeout,
    /// NAK other than BUSY, unexpected or out-of-sequence answer, restart) the session is
    /// recovered and the operation runs once more, as openmv 1.0.7 does (the cam releases
    /// every lock on PROTO_SYNC) - unless it had already sent a request that must not be
    /// repeated, which gives [`Error::OutcomeUnknown`].
    pub fn op<T>(&self, mut f: impl FnMut(&Shared, &mut Session) -> Result<T>) -> Result<T> {
        let mut s = self.session.lock();
        let restarted = {
            let l = self.link.lock();
            l.check_up()?;
            l.host.cam_restarted()
        };
        if restarted || s.needs_resync {
            self.recover(&mut s, restarted)?;
        }
        if self.channels_stale.load(Ordering::Acquire) {
            if let Err(e) = self.refresh_channels(&mut s) {
                log::debug!("channel list refresh failed: {e}");
            }
        }
        s.committed = None;
        match f(self, &mut s) {
            Err(e) if e.is_protocol_error() => {
                log::info!("{e}: resynchronising");
                let restarted =
                    matches!(e, Error::CamRestarted | Error::Sequence) || self.link.lock().host.cam_restarted();
                if let Err(re) = self.recover(&mut s, restarted) {
                    return Err(if re.is_disconnected() { re } else { e });
                }
                if let Some(op) = s.committed.take() {
                    return Err(Error::OutcomeUnknown { op, cause: Box::new(e) });
                }
                let r = f(self, &mut s);
                if r.as_ref().is_err_and(|e| e.is_protocol_error()) {
                    s.needs_resync = true;
                }
                r
            }
            r => r,
        }
    }

    /// Looks a channel up by name in the cached list, refreshing it once if not found.
    pub fn channel_by_name(&self, s: &mut Session, name: &str) -> Result<ChannelId> {
        let find = |s: &Session| s.channels.iter().find(|c| c.name == name).map(|c| c.id);
        if let Some(id) = find(s) {
            return Ok(id);
        }
        self.refresh_channels(s)?;
        find(s).ok_or_else(|| Error::NoSuchChannel(name.to_owned()))
    }
}

/// Re-sends the stream settings the user asked for (idempotent ioctls).
fn restore_stream(sh: &Shared, s: &mut Session, w: StreamWish) -> Result<()> {
    let id = sh.channel_by_name(s, "stream")?;
    for (request, arg) in super::camera::stream_ioctls(w) {
        super::camera::ioctl_in(sh, s, id, request, &arg)?;
    }
    Ok(())
}

fn panicked(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::BrokenPipe, format!("the transport panicked in {what}"))
}

fn host_config(opts: &Options) -> HostConfig {
    HostConfig { timeout: opts.timeout, wish: opts.caps }
}

/// The reader thread: owns the receive half, feeds the Host, hands events to the event
/// thread, and notices a lost link.
pub(crate) fn reader(shared: Arc<Shared>) {
    let mut buf = vec![0u8; READ_BUF];
    let mut cur: Option<(Box<dyn RxHalf>, u64)> = None;
    while !shared.stop.load(Ordering::Acquire) {
        let Some((rx, gen)) = cur.as_mut() else {
            let mut l = shared.link.lock();
            match l.new_rx.take() {
                Some(rx) => {
                    l.reader_holds = Some(l.generation);
                    cur = Some((rx, l.generation));
                }
                None => {
                    if l.reader_holds.take().is_some() {
                        shared.cv.notify_all();
                    }
                    shared.cv.wait_for(&mut l, READ_POLL);
                }
            }
            continue;
        };
        let gen = *gen;
        // A panicking user transport becomes a lost link, never a silently dead reader.
        let got =
            catch_unwind(AssertUnwindSafe(|| rx.recv(&mut buf, READ_POLL))).unwrap_or_else(|_| Err(panicked("recv")));
        let mut events = Vec::new();
        let mut frame_news = false;
        {
            let mut l = shared.link.lock();
            if l.generation != gen {
                // Closed or replaced meanwhile: drop the old half (closing the port).
                cur = None;
                l.reader_holds = None;
                shared.cv.notify_all();
                continue;
            }
            match got {
                Ok(0) => continue,
                Ok(n) => {
                    let now = shared.now();
                    l.host.handle_input(now, &buf[..n]);
                    // ACKs the Host owes; a failure here is seen by the requester too.
                    let _ = shared.flush(&mut l);
                    while let Some(ev) = l.host.poll_event() {
                        if ev.channel == ChannelId::TRANSPORT
                            && matches!(ev.code, event::CHANNEL_REGISTERED | event::CHANNEL_UNREGISTERED)
                        {
                            shared.channels_stale.store(true, Ordering::Release);
                        }
                        frame_news |= ev.channel == ChannelId::STREAM && ev.code == event::NOTIFY;
                        events.push(ClientEvent::Device { channel: ev.channel, code: ev.code });
                    }
                    shared.cv.notify_all();
                }
                Err(e) => {
                    shared.lose(&mut l, e.to_string());
                    cur = None;
                    l.reader_holds = None;
                    shared.cv.notify_all();
                }
            }
        }
        if frame_news {
            // After the link lock is released: waiters take the notify lock first.
            *shared.stream_notifies.lock() += 1;
            shared.frame_cv.notify_all();
        }
        for ev in events {
            shared.emit(ev);
        }
    }
    let mut l = shared.link.lock();
    l.reader_holds = None;
    shared.cv.notify_all();
}
