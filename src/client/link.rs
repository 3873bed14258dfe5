//! The driver around the sans-IO [`Host`]: one link, its reader thread, and request/answer
//! under locks.
//!
//! Whoever waits reads. The receive half is a token: a caller waiting for an answer (or for
//! a frame) takes it and reads the transport itself, so a request costs its own write and
//! read and no thread hand-off. The reader thread takes the token only once it has lain
//! unused for [`READER_GRACE`] (nobody calling: events, ACKs and a lost link are still
//! noticed), and gives it back as soon as a caller is waiting.
//!
//! Locks, always taken in this order:
//! 1. `session` (the operation lock): held for a whole operation (a frame's lock, reads and
//!    unlock), so operations from many threads never interleave on the wire;
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
use crate::host::{Host, HostConfig, Request, RequestError, Response};
use crate::time::Instant;
use crate::transport::{is_link_lost, RxHalf, Transport, TxHalf};

/// How long the reader waits in one `recv`: bounds how soon it notices a closed or replaced
/// link and a stopping client.
pub(crate) const READ_POLL: Duration = Duration::from_millis(50);
/// Receive buffer: a whole UDP datagram fits.
const READ_BUF: usize = 64 * 1024;
/// Events waiting for the event thread; past this they are dropped and counted.
pub(crate) const EVENT_BACKLOG: usize = 1024;
/// How long the receive half may lie unused before the reader thread reads it: a caller
/// that asks again within this time (a frame loop) keeps reading it itself.
pub(crate) const READER_GRACE: Duration = Duration::from_millis(100);

/// The receive half and what travels with it.
struct RxToken {
    half: Box<dyn RxHalf>,
    /// The link generation it was opened in.
    generation: u64,
    buf: Box<[u8]>,
}

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
    /// The receive half while nobody is reading it.
    rx: Option<RxToken>,
    /// When `rx` was last put back.
    rx_parked_at: std::time::Instant,
    /// The generation of the receive half someone is reading outside the lock.
    rx_out: Option<u64>,
    /// Callers waiting on `cv` (for an answer or a frame) while the half is out.
    waiters: usize,
    /// Bumped whenever the link is closed or reopened: answers and halves of an older
    /// generation are ignored.
    generation: u64,
    state: LinkState,
    /// Stream NOTIFYs received.
    stream_notifies: u64,
    /// An operation is running: ACKs owed once nothing is in flight wait for its next
    /// request or its end, and leave in the same write (a frame's READ answer is ACKed
    /// together with its UNLOCK).
    hold_acks: bool,
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
    /// Bytes of the last frame when it was raw (fixed size at a given resolution): the next
    /// frame is read in one request without asking its size first.
    pub raw_frame_len: Option<u32>,
}

/// Everything the camera handle, the reader thread and the event thread share.
pub(crate) struct Shared {
    pub transport: Box<dyn Transport>,
    pub opts: Options,
    epoch: std::time::Instant,
    pub session: Mutex<Session>,
    link: Mutex<Link>,
    /// Callers wait here: answers, NOTIFYs, the receive half put back, state changes.
    cv: Condvar,
    /// The reader thread waits here; woken only by stop, close and a new link.
    reader_cv: Condvar,
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
    /// 1 + the stream NOTIFY count when `wait_frame` last took a frame (0: never).
    frame_taken_at: AtomicU64,
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
                rx: None,
                rx_parked_at: std::time::Instant::now(),
                rx_out: None,
                waiters: 0,
                generation: 0,
                state: LinkState::Closed,
                stream_notifies: 0,
                hold_acks: false,
            }),
            cv: Condvar::new(),
            reader_cv: Condvar::new(),
            events: Mutex::new(events),
            events_dropped: AtomicU64::new(0),
            listeners: Mutex::new(listeners),
            next_listener: AtomicU64::new(next),
            stop: AtomicBool::new(false),
            channels_stale: AtomicBool::new(false),
            frames: AtomicU64::new(0),
            frame_pending: AtomicBool::new(false),
            frame_taken_at: AtomicU64::new(0),
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
    /// events (counted), never the link. Device events nobody listens to are not queued
    /// (a NOTIFY per frame would wake the event thread for nothing).
    pub fn emit(&self, ev: ClientEvent) {
        if matches!(ev, ClientEvent::Device { .. }) && self.listeners.lock().is_empty() {
            return;
        }
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

    /// The stream NOTIFY count seen before `wait_frame` last took a frame.
    pub fn frame_taken_at(&self) -> Option<u64> {
        self.frame_taken_at.load(Ordering::Relaxed).checked_sub(1)
    }

    pub fn set_frame_taken_at(&self, notifies: u64) {
        self.frame_taken_at.store(notifies + 1, Ordering::Relaxed);
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
            l.rx = None;
            l.generation += 1;
            self.cv.notify_all();
            self.emit(ClientEvent::LinkLost { reason });
        }
    }

    /// Closes the link on purpose; whoever reads drops the half within [`READ_POLL`].
    pub fn close(&self, state: LinkState) {
        let mut l = self.link.lock();
        l.state = state;
        l.tx = None;
        l.rx = None;
        l.generation += 1;
        self.cv.notify_all();
        self.reader_cv.notify_all();
    }

    /// Stream NOTIFYs received so far.
    pub fn stream_notifies(&self) -> u64 {
        self.link.lock().stream_notifies
    }

    /// Waits (reading the link itself when it can) until a stream NOTIFY after the `seen`th
    /// arrives, the link goes down, or `deadline` passes.
    pub fn wait_stream_notify(&self, seen: u64, deadline: std::time::Instant) {
        self.wait_until(deadline, |l| l.stream_notifies != seen || l.state != LinkState::Up);
    }

    /// Writes what the Host has to send, from its own buffer (no copy, no allocation). A dead
    /// link is marked lost.
    fn flush(&self, l: &mut Link) -> Result<()> {
        if l.host.transmit_bytes().is_empty() {
            return Ok(());
        }
        let Some(tx) = l.tx.as_mut() else {
            l.host.transmitted();
            return l.check_up();
        };
        let bytes = l.host.transmit_bytes();
        let sent = catch_unwind(AssertUnwindSafe(|| tx.send(bytes))).unwrap_or_else(|_| Err(panicked("send")));
        l.host.transmitted();
        match sent {
            Ok(()) => Ok(()),
            Err(e) if is_link_lost(&e) => {
                let reason = e.to_string();
                self.lose(l, reason.clone());
                Err(Error::LinkLost(reason))
            }
            Err(e) => Err(Error::Io(e)),
        }
    }

    /// Waits for the Host's answer to what was started in generation `gen`, reading the
    /// transport itself whenever the receive half is free. The outer error is the link's, the
    /// inner result the Host's completion.
    fn wait(&self, l: &mut MutexGuard<'_, Link>, gen: u64) -> Result<core::result::Result<Response, RequestError>> {
        loop {
            if l.generation != gen {
                l.check_up()?;
                return Err(Error::Disconnected);
            }
            if let Some(r) = l.host.poll_completion() {
                return Ok(r);
            }
            l.host.handle_timeout(self.now());
            if let Some(r) = l.host.poll_completion() {
                return Ok(r);
            }
            // The Host always has a deadline while a request is pending; the fallback only
            // keeps a confused engine from blocking for ever.
            let deadline = match l.host.poll_at() {
                Some(at) => self.std_at(at),
                None => std::time::Instant::now() + self.opts.timeout,
            };
            if !self.read_or_wait(l, deadline) && l.host.poll_at().is_none() && l.generation == gen {
                return Ok(l.host.poll_completion().unwrap_or(Err(RequestError::Timeout)));
            }
        }
    }

    /// Waits until `done` holds, the link changes generation, or `deadline` passes,
    /// reading the transport itself while the receive half is free. Returns whether `done`
    /// held.
    fn wait_until(&self, deadline: std::time::Instant, done: impl Fn(&Link) -> bool) -> bool {
        let mut l = self.link.lock();
        let gen = l.generation;
        loop {
            if done(&l) {
                return true;
            }
            if l.generation != gen || std::time::Instant::now() >= deadline {
                return false;
            }
            self.read_or_wait(&mut l, deadline);
        }
    }

    /// One step of waiting: reads the transport once (at most until `deadline`, at most
    /// [`READ_POLL`]) if the receive half is free, else waits on `cv` for whoever has it.
    /// Returns `false` once `deadline` has passed without news.
    fn read_or_wait(&self, l: &mut MutexGuard<'_, Link>, deadline: std::time::Instant) -> bool {
        let now = std::time::Instant::now();
        if now >= deadline {
            return false;
        }
        if l.rx.is_some() {
            self.read_once(l, (deadline - now).min(READ_POLL));
            return true;
        }
        l.waiters += 1;
        let timed_out = self.cv.wait_until(l, deadline.min(now + READ_POLL)).timed_out();
        l.waiters -= 1;
        !timed_out || std::time::Instant::now() < deadline
    }

    /// Takes the free receive half, reads once outside the lock, feeds what came and puts
    /// the half back (or drops it if the link moved on meanwhile).
    fn read_once(&self, l: &mut MutexGuard<'_, Link>, wait: Duration) {
        let Some(mut tok) = l.rx.take() else { return };
        l.rx_out = Some(tok.generation);
        let got = MutexGuard::unlocked(l, || {
            // A panicking user transport becomes a lost link, never a dead client.
            catch_unwind(AssertUnwindSafe(|| tok.half.recv(&mut tok.buf, wait)))
                .unwrap_or_else(|_| Err(panicked("recv")))
        });
        l.rx_out = None;
        if l.generation != tok.generation {
            // Closed or replaced meanwhile: the old half closes here.
            drop(tok);
            self.cv.notify_all();
            return;
        }
        let news = match got {
            Ok(n) => self.feed(l, &tok.buf[..n]),
            Err(e) => {
                self.lose(l, e.to_string());
                self.cv.notify_all();
                return;
            }
        };
        l.rx = Some(tok);
        l.rx_parked_at = std::time::Instant::now();
        if l.waiters > 0 || news.is_some() {
            self.cv.notify_all();
        }
        if let Some(events) = news {
            // Outside the link lock: emitting may wait on the event queue's lock, whose holder
            // (a dropping camera's stop message) waits for the event thread, which may be in a
            // listener calling this camera.
            MutexGuard::unlocked(l, || {
                for ev in events {
                    self.emit(ev);
                }
            });
        }
    }

    /// Feeds received bytes to the Host, sends the ACKs it owes, and collects the device
    /// events for the listeners (`None` when there were none).
    fn feed(&self, l: &mut Link, bytes: &[u8]) -> Option<Vec<ClientEvent>> {
        if bytes.is_empty() {
            return None;
        }
        l.host.handle_input(self.now(), bytes);
        if !l.hold_acks || l.host.is_busy() {
            // A failure here is seen by the requester too.
            let _ = self.flush(l);
        }
        let mut events = None;
        while let Some(ev) = l.host.poll_event() {
            if ev.channel == ChannelId::TRANSPORT
                && matches!(ev.code, event::CHANNEL_REGISTERED | event::CHANNEL_UNREGISTERED)
            {
                self.channels_stale.store(true, Ordering::Release);
            }
            if ev.channel == ChannelId::STREAM && ev.code == event::NOTIFY {
                l.stream_notifies += 1;
            }
            events.get_or_insert_with(Vec::new).push(ClientEvent::Device { channel: ev.channel, code: ev.code });
        }
        events
    }

    /// One request and its answer. Caller holds the operation lock (`_s`).
    ///
    /// A NAK is the cam's refusal: the request was not carried out, so one that must not be
    /// repeated (the session's `committed`) may be after all.
    pub fn request(&self, s: &mut Session, opcode: Opcode, channel: ChannelId, payload: Vec<u8>) -> Result<Response> {
        let mut l = self.link.lock();
        l.check_up()?;
        let gen = l.generation;
        let _stale = l.host.poll_completion();
        let now = self.now();
        l.host.start(now, &Request::new(opcode, channel, payload)).map_err(Error::from_start)?;
        self.flush(&mut l)?;
        let r = self.wait(&mut l, gen)?;
        if let Err(RequestError::Nak(_)) = r {
            s.committed = None;
        }
        r.map_err(|e| Error::from_request(e, self.opts.timeout))
    }

    /// `lead`, a request answered by one ACK or NAK (CHANNEL_LOCK), and `then` right behind
    /// it in the same write, so the pair costs one write and one wait where two requests in
    /// turn cost two of each: `then`'s sequence number is known because `lead`'s answer moves
    /// the counter by exactly one. The cam carries out `then` whatever it answered `lead`.
    /// Both answers are returned; the outer error is the link's, or a failure that leaves
    /// both answers unknown. Not for requests that must not be repeated (see `committed`).
    pub fn request_pair(
        &self,
        _s: &mut Session,
        lead: (Opcode, ChannelId),
        then: Request,
    ) -> Result<(Result<Response>, Result<Response>)> {
        let mut l = self.link.lock();
        l.check_up()?;
        let gen = l.generation;
        let now = self.now();
        let lead = Request { limit: 0, ..Request::new(lead.0, lead.1, Vec::new()) };
        l.host.start(now, &lead).map_err(Error::from_start)?;
        l.host.start(now, &then).map_err(Error::from_start)?;
        self.flush(&mut l)?;
        // Both completions are taken: a failure that ends `lead` without its answer ends
        // `then` too.
        let (first, second) = (self.wait(&mut l, gen)?, self.wait(&mut l, gen)?);
        let timeout = self.opts.timeout;
        match first {
            Err(e) if !matches!(e, RequestError::Nak(_)) => Err(Error::from_request(e, timeout)),
            first => Ok((
                first.map_err(|e| Error::from_request(e, timeout)),
                second.map_err(|e| Error::from_request(e, timeout)),
            )),
        }
    }

    /// Ends an operation's hold on owed ACKs and sends them.
    fn release_acks(&self) {
        let mut l = self.link.lock();
        l.hold_acks = false;
        let _ = self.flush(&mut l);
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
            match self.wait(&mut l, gen)?.map_err(|e| Error::from_request(e, self.opts.timeout)) {
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
            l.rx = None;
            l.generation += 1;
            self.cv.notify_all();
            l.generation
        };
        // A port opened exclusively must be closed before it is opened again: wait for
        // whoever reads the old half to drop it.
        {
            let mut l = self.link.lock();
            let deadline = std::time::Instant::now() + READ_POLL * 20;
            while l.rx_out.is_some_and(|g| g < old) {
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
            l.rx = Some(RxToken { half: rx, generation: l.generation, buf: vec![0u8; READ_BUF].into_boxed_slice() });
            l.rx_parked_at = std::time::Instant::now();
            l.state = LinkState::Up;
            self.cv.notify_all();
            self.reader_cv.notify_all();
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
    pub fn op<T>(&self, f: impl FnMut(&Shared, &mut Session) -> Result<T>) -> Result<T> {
        let mut s = self.session.lock();
        self.link.lock().hold_acks = true;
        let r = self.op_held(&mut s, f);
        self.release_acks();
        r
    }

    fn op_held<T>(&self, s: &mut Session, mut f: impl FnMut(&Shared, &mut Session) -> Result<T>) -> Result<T> {
        let restarted = {
            let l = self.link.lock();
            l.check_up()?;
            l.host.cam_restarted()
        };
        if restarted || s.needs_resync {
            self.recover(s, restarted)?;
        }
        if self.channels_stale.load(Ordering::Acquire) {
            if let Err(e) = self.refresh_channels(s) {
                log::debug!("channel list refresh failed: {e}");
            }
        }
        s.committed = None;
        match f(self, s) {
            Err(e) if e.is_protocol_error() => {
                log::info!("{e}: resynchronising");
                // Taken before the recovery, whose own requests must not touch it.
                let committed = s.committed.take();
                let restarted =
                    matches!(e, Error::CamRestarted | Error::Sequence) || self.link.lock().host.cam_restarted();
                if let Err(re) = self.recover(s, restarted) {
                    return Err(if re.is_disconnected() { re } else { e });
                }
                if let Some(op) = committed {
                    return Err(Error::OutcomeUnknown { op, cause: Box::new(e) });
                }
                let r = f(self, s);
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

/// The reader thread: reads the receive half while no caller does (after [`READER_GRACE`]
/// unused), so events reach the listeners, owed ACKs leave and a lost link is noticed.
pub(crate) fn reader(shared: Arc<Shared>) {
    let mut l = shared.link.lock();
    while !shared.stop.load(Ordering::Acquire) {
        let idle_since = l.rx.as_ref().map(|_| l.rx_parked_at);
        match idle_since {
            Some(at) if at.elapsed() >= READER_GRACE => {
                // Keep reading while nobody else wants the half.
                while l.waiters == 0 && l.rx.is_some() && !shared.stop.load(Ordering::Acquire) {
                    shared.read_once(&mut l, READ_POLL);
                }
            }
            Some(at) => {
                let _ = shared.reader_cv.wait_until(&mut l, at + READER_GRACE);
            }
            None => {
                let _ = shared.reader_cv.wait_for(&mut l, READER_GRACE);
            }
        }
    }
}
