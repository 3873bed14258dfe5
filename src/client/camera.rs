//! [`Camera`]: the thread-safe host client, every operation of PROTOCOL.md sections 4 and 6.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use super::channel::{Chan, ChannelInfo};
use super::error::{Error, Result};
use super::events::{self, ClientEvent, ListenerId};
use super::frame::Frame;
use super::link::{self, LinkState, Session, Shared, StreamWish};
use super::options::Options;
use super::profile::{parse_records, ProfileRecord};
use crate::framing::payload::{
    ioctl, Caps, FrameHeader, MemoryEntry, ProtoStats, ReadRequest, SysInfo, Version, WriteRequest,
};
use crate::framing::{ChannelId, Opcode, Status};
use crate::host::{Request, Response};
use crate::reliability::Stats;
use crate::transport::{SerialTransport, Transport};

/// A connection to one cam, shareable between threads (`Arc<Camera>`).
///
/// Operations are serialised: each runs whole (a frame read is lock, size, read, unlock)
/// before the next starts. A background reader thread feeds the protocol engine and a
/// dedicated event thread calls listeners. After a protocol error (timeout, NAK other than
/// BUSY, unexpected answer) an operation resynchronises and runs once more, as openmv 1.0.7
/// does. Dropping the camera stops and joins both threads.
pub struct Camera {
    shared: Arc<Shared>,
    reader: Option<JoinHandle<()>>,
    events: Option<JoinHandle<()>>,
}

impl fmt::Debug for Camera {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Camera")
            .field("transport", &self.shared.transport.describe())
            .field("state", &self.shared.state())
            .finish()
    }
}

/// How soon [`Camera::wait_frame`] asks again for a frame the cam refused BUSY while one is
/// ready: the firmware's default lock interval.
const LOCK_RETRY: Duration = Duration::from_millis(10);

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> Result<JoinHandle<()>> {
    Ok(thread::Builder::new().name(name.into()).spawn(f)?)
}

fn u32_of(b: &[u8], what: &str) -> Result<u32> {
    match b {
        [a, b, c, d, ..] => Ok(u32::from_le_bytes([*a, *b, *c, *d])),
        _ => Err(Error::bad(format!("{what}: {} bytes", b.len()))),
    }
}

impl Camera {
    /// Opens `transport`, resynchronises (PROTO_SYNC, capabilities as `opts.caps` wishes)
    /// and reads the channel list.
    pub fn connect(transport: impl Transport + 'static, opts: Options) -> Result<Camera> {
        let (tx, rx) = mpsc::sync_channel(link::EVENT_BACKLOG);
        let shared = Arc::new(Shared::new(Box::new(transport), opts, tx));
        let mut cam = Camera { shared: shared.clone(), reader: None, events: None };
        let s = shared.clone();
        cam.reader = Some(spawn("omv-reader", move || link::reader(s))?);
        let s = shared.clone();
        cam.events = Some(spawn("omv-events", move || events::run(s, rx))?);
        shared.open_link(&mut shared.session.lock())?;
        Ok(cam)
    }

    /// A cam on the serial port at `path`, at the default baud rate.
    pub fn open_serial(path: &str, opts: Options) -> Result<Camera> {
        Self::connect(SerialTransport::new(path), opts)
    }

    /// The plugged-in cam with this USB serial number.
    pub fn open_serial_number(serial: &str, opts: Options) -> Result<Camera> {
        Self::connect(SerialTransport::by_serial_number(serial), opts)
    }

    /// The transport's name, for logs.
    pub fn describe(&self) -> String {
        self.shared.transport.describe()
    }

    /// The settings this camera was connected with.
    pub fn options(&self) -> &Options {
        &self.shared.opts
    }

    /// Whether the link is up.
    pub fn is_connected(&self) -> bool {
        self.shared.state() == LinkState::Up
    }

    /// Reopens the transport and restores the session (resync, channel list); listeners get
    /// [`ClientEvent::Reconnected`].
    pub fn reconnect(&self) -> Result<()> {
        let mut s = self.shared.session.lock();
        self.shared.open_link(&mut s)?;
        drop(s);
        self.shared.emit(ClientEvent::Reconnected);
        Ok(())
    }

    /// Closes the link; later calls fail with [`Error::Disconnected`] until `reconnect`.
    /// A call in progress on another thread ends at once with that error (it does not wait
    /// for the operation lock).
    pub fn disconnect(&self) {
        self.shared.close(LinkState::Closed);
    }

    /// Device events lost because nobody took them in time (the engine's bounded queue and
    /// the event thread's backlog).
    pub fn events_dropped(&self) -> u64 {
        self.shared.events_dropped()
    }

    /// Resynchronises now: PROTO_SYNC (the cam releases every lock) and capabilities again.
    pub fn resync(&self) -> Result<()> {
        let mut s = self.shared.session.lock();
        self.shared.resync(&mut s)
    }

    /// The capabilities in force on the link.
    pub fn caps(&self) -> Caps {
        self.shared.caps()
    }

    /// Adds a listener for [`ClientEvent`]s. It runs on the client's event thread, outside
    /// every client lock, so it may call this camera (through a `Weak` or clone of an
    /// `Arc<Camera>` it captured; a strong `Arc` keeps the camera alive until unsubscribed).
    /// A panicking listener is logged and skipped.
    pub fn subscribe(&self, f: impl Fn(&ClientEvent) + Send + Sync + 'static) -> ListenerId {
        let id = self.shared.next_listener.fetch_add(1, Ordering::Relaxed);
        self.shared.listeners.lock().push((id, Arc::new(f)));
        ListenerId(id)
    }

    /// Removes a listener; `false` if it was not there.
    pub fn unsubscribe(&self, id: ListenerId) -> bool {
        let mut l = self.shared.listeners.lock();
        let before = l.len();
        l.retain(|(i, _)| *i != id.0);
        l.len() != before
    }

    /// Runs `f` as one operation (see [`Shared::op`]).
    fn op<T>(&self, f: impl FnMut(&Shared, &mut Session) -> Result<T>) -> Result<T> {
        self.shared.op(f)
    }

    // ---- channel list ----

    /// The channel list as last read (refreshed first if the cam registered a channel since).
    pub fn channels(&self) -> Result<Vec<ChannelInfo>> {
        self.op(|_, s| Ok(s.channels.clone()))
    }

    /// CHANNEL_LIST: reads the list from the cam now.
    pub fn list(&self) -> Result<Vec<ChannelInfo>> {
        self.op(|sh, s| {
            sh.refresh_channels(s)?;
            Ok(s.channels.clone())
        })
    }

    /// The id of the channel called `name`.
    pub fn channel_id(&self, name: &str) -> Result<ChannelId> {
        self.op(|sh, s| sh.channel_by_name(s, name))
    }

    /// Whether the cam has a channel called `name`. A name missing from the list read last
    /// makes the client read the list again first; link errors are returned as they are.
    pub fn has_channel(&self, name: &str) -> Result<bool> {
        match self.channel_id(name) {
            Ok(_) => Ok(true),
            Err(Error::NoSuchChannel(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    // ---- channel operations ----

    /// CHANNEL_POLL: bit i set when channel i has something for the host.
    pub fn poll(&self) -> Result<u32> {
        self.op(poll_in)
    }

    /// CHANNEL_POLL by channel name, as openmv's `read_status`.
    pub fn read_status(&self) -> Result<BTreeMap<String, bool>> {
        self.op(|sh, s| {
            let bits = poll_in(sh, s)?;
            Ok(s.channels.iter().map(|c| (c.name.clone(), c.id.0 < 32 && bits & (1 << c.id.0) != 0)).collect())
        })
    }

    /// CHANNEL_SIZE: bytes available.
    pub fn size<'a>(&self, ch: impl Into<Chan<'a>>) -> Result<u32> {
        let ch = ch.into();
        self.op(|sh, s| {
            let id = resolve(sh, s, ch)?;
            size_in(sh, s, id)
        })
    }

    /// CHANNEL_SHAPE: 1 to 4 dimensions.
    pub fn shape<'a>(&self, ch: impl Into<Chan<'a>>) -> Result<Vec<u32>> {
        let ch = ch.into();
        self.op(|sh, s| {
            let id = resolve(sh, s, ch)?;
            shape_in(sh, s, id)
        })
    }

    /// CHANNEL_READ of `len` bytes from `offset`, whatever the length: the cam fragments,
    /// the client joins.
    pub fn read<'a>(&self, ch: impl Into<Chan<'a>>, offset: u32, len: u32) -> Result<Vec<u8>> {
        let ch = ch.into();
        self.op(|sh, s| {
            let id = resolve(sh, s, ch)?;
            read_in(sh, s, id, offset, len)
        })
    }

    /// CHANNEL_SIZE then CHANNEL_READ of that many bytes from offset 0.
    pub fn read_available<'a>(&self, ch: impl Into<Chan<'a>>) -> Result<Vec<u8>> {
        let ch = ch.into();
        self.op(|sh, s| {
            let id = resolve(sh, s, ch)?;
            let n = size_in(sh, s, id)?;
            read_in(sh, s, id, 0, n)
        })
    }

    /// CHANNEL_WRITE of `data` at `offset`, split into pieces of max_payload - 8 bytes, each
    /// with its own offset.
    pub fn write<'a>(&self, ch: impl Into<Chan<'a>>, offset: u32, data: &[u8]) -> Result<()> {
        self.write_as(ch.into(), offset, data, None)
    }

    /// [`Camera::write`]; with `once`, named as the operation, it is not repeated after a
    /// recovery ([`Error::OutcomeUnknown`] when its answer was lost).
    pub(crate) fn write_as(&self, ch: Chan<'_>, offset: u32, data: &[u8], once: Option<&'static str>) -> Result<()> {
        self.op(|sh, s| {
            let id = resolve(sh, s, ch)?;
            if once.is_some() {
                s.committed = once;
            }
            write_in(sh, s, id, offset, data)
        })
    }

    /// CHANNEL_LOCK: `Ok(false)` when the cam answers BUSY (nothing ready, or too soon).
    pub fn lock<'a>(&self, ch: impl Into<Chan<'a>>) -> Result<bool> {
        let ch = ch.into();
        self.op(|sh, s| {
            let id = resolve(sh, s, ch)?;
            lock_in(sh, s, id)
        })
    }

    /// CHANNEL_UNLOCK: `Ok(false)` when the cam answers BUSY.
    pub fn unlock<'a>(&self, ch: impl Into<Chan<'a>>) -> Result<bool> {
        let ch = ch.into();
        self.op(|sh, s| {
            let id = resolve(sh, s, ch)?;
            unlock_in(sh, s, id)
        })
    }

    /// CHANNEL_IOCTL with the request number and its argument bytes.
    ///
    /// Never repeated after a recovery: what a request does is the channel's business, and a
    /// second one may do it twice ([`Error::OutcomeUnknown`] when its answer was lost). The
    /// calls that send the built-in ioctls ([`Camera::streaming`], [`Camera::stop`]) are
    /// repeated, as those set a state.
    pub fn ioctl<'a>(&self, ch: impl Into<Chan<'a>>, request: u32, arg: &[u8]) -> Result<()> {
        let ch = ch.into();
        self.op(|sh, s| {
            let id = resolve(sh, s, ch)?;
            s.committed = Some("ioctl");
            ioctl_in(sh, s, id, request, arg)
        })
    }

    // ---- scripts, stream, stdout ----

    /// Runs a script: stdin RESET, the script written, stdin EXEC.
    pub fn exec(&self, script: impl AsRef<[u8]>) -> Result<()> {
        let script = script.as_ref();
        self.op(|sh, s| {
            let id = sh.channel_by_name(s, "stdin")?;
            ioctl_in(sh, s, id, ioctl::STDIN_RESET, &[])?;
            write_in(sh, s, id, 0, script)?;
            // Never repeated: a lost answer must not run the script twice.
            s.committed = Some("exec");
            ioctl_in(sh, s, id, ioctl::STDIN_EXEC, &[])
        })
    }

    /// Interrupts the running script (stdin STOP).
    pub fn stop(&self) -> Result<()> {
        self.op(|sh, s| {
            let id = sh.channel_by_name(s, "stdin")?;
            ioctl_in(sh, s, id, ioctl::STDIN_STOP, &[])
        })
    }

    /// Turns the frame stream on or off. With `raw`, frames are sent uncompressed at
    /// `resolution` (RAW_CFG, which `raw` needs), then RAW_CTRL, then STREAM_CTRL.
    pub fn streaming(&self, enable: bool, raw: bool, resolution: Option<(u32, u32)>) -> Result<()> {
        if raw && resolution.is_none() {
            return Err(Error::InvalidArgument("raw streaming needs a resolution"));
        }
        let wish = StreamWish { enable, raw, resolution };
        self.op(|sh, s| {
            let id = sh.channel_by_name(s, "stream")?;
            for (request, arg) in stream_ioctls(wish) {
                ioctl_in(sh, s, id, request, &arg)?;
            }
            s.stream = Some(wish);
            Ok(())
        })
    }

    /// Waits up to `timeout` for a frame and returns it, or `None` if none came. Sleeps until
    /// the stream NOTIFY says a frame is ready (or, while the cam's lock interval refuses a
    /// ready frame, until the interval has passed), so a waiting host costs no CPU.
    ///
    /// With events on, the cam announces every frame it publishes, and publishes the next
    /// only once the last is taken: so no NOTIFY since the last frame this call took means
    /// no frame yet, and no LOCK is sent for it. One last look at the deadline covers a
    /// NOTIFY lost on the way.
    pub fn wait_frame(&self, timeout: Duration) -> Result<Option<Frame>> {
        let deadline = std::time::Instant::now() + timeout;
        let events = self.caps().events();
        loop {
            let seen = self.shared.stream_notifies();
            let now = std::time::Instant::now();
            let announced = !events || self.shared.frame_taken_at() != Some(seen);
            if announced || now >= deadline {
                if let Some(f) = self.read_frame()? {
                    self.shared.set_frame_taken_at(seen);
                    return Ok(Some(f));
                }
            }
            if now >= deadline {
                return Ok(None);
            }
            // A NOTIFY since the failed lock, or a ready frame refused by the lock interval:
            // try again after the interval; without events, that is all there is.
            let retry =
                if events && !self.shared.frame_pending() { deadline } else { (now + LOCK_RETRY).min(deadline) };
            self.shared.wait_stream_notify(seen, retry);
            if !self.is_connected() {
                return Err(match self.shared.state() {
                    LinkState::Lost(r) => Error::LinkLost(r),
                    _ => Error::Disconnected,
                });
            }
        }
    }

    /// Frames as the cam announces them: each step waits up to `timeout` (see
    /// [`Camera::wait_frame`]); a step without a frame yields [`Error::Timeout`] and the
    /// iteration goes on, a lost or closed link ends it after its error.
    pub fn frames(&self, timeout: Duration) -> Frames<'_> {
        Frames { cam: self, timeout, done: false }
    }

    /// The latest frame, or `None` if none is ready (lock BUSY, or no data past the header).
    /// The stream channel is locked, read whole from offset 0 and always unlocked, which
    /// lets the cam produce the next frame.
    pub fn read_frame(&self) -> Result<Option<Frame>> {
        let bytes = self.op(|sh, s| {
            let id = sh.channel_by_name(s, "stream")?;
            let one_packet = s.raw_frame_len.filter(|&n| n <= u32::from(sh.caps().max_payload));
            let got = match one_packet {
                Some(len) => lock_and_read_frame(sh, s, id, len),
                None => with_lock(sh, s, id, |sh, s| read_locked_frame(sh, s, id)),
            };
            sh.set_frame_pending(matches!(got, Ok(None)));
            got
        })?;
        let Some(bytes) = bytes.flatten() else { return Ok(None) };
        let n = self.shared.frames.fetch_add(1, Ordering::Relaxed) + 1;
        Frame::from_stream_bytes(bytes, n).map(Some)
    }

    /// Frames this client has received so far.
    pub fn frames_received(&self) -> u64 {
        self.shared.frames.load(Ordering::Relaxed)
    }

    /// The script output the cam holds (consumed by the read); empty when there is none.
    /// Bytes that are not UTF-8 become U+FFFD.
    pub fn read_stdout(&self) -> Result<String> {
        self.read_stdout_bytes().map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    /// [`Camera::read_stdout`] as the bytes the cam sent, for a caller that decodes them
    /// itself. Never repeated after a recovery, as the read consumes
    /// ([`Error::OutcomeUnknown`] when its answer was lost).
    pub fn read_stdout_bytes(&self) -> Result<Vec<u8>> {
        self.op(|sh, s| {
            let id = sh.channel_by_name(s, "stdout")?;
            match size_in(sh, s, id)? {
                0 => Ok(Vec::new()),
                n => {
                    // The read consumes: never repeated, so text is neither lost nor doubled
                    // by a retry (a lost answer is reported as outcome-unknown).
                    s.committed = Some("read_stdout");
                    read_in(sh, s, id, 0, n)
                }
            }
        })
    }

    // ---- system ----

    /// PROTO_VERSION.
    pub fn version(&self) -> Result<Version> {
        self.op(|sh, s| {
            let d = data_of(sh, s, Opcode::PROTO_VERSION)?;
            Version::parse(&d).map_err(|_| Error::bad(format!("version of {} bytes", d.len())))
        })
    }

    /// SYS_INFO (also cached for the profiler).
    pub fn system_info(&self) -> Result<SysInfo> {
        self.op(|sh, s| {
            s.sysinfo = None;
            sysinfo_in(sh, s)
        })
    }

    /// PROTO_STATS: the cam's link counters.
    pub fn device_stats(&self) -> Result<ProtoStats> {
        self.op(|sh, s| {
            let d = data_of(sh, s, Opcode::PROTO_STATS)?;
            ProtoStats::parse(&d).map_err(|_| Error::bad(format!("stats of {} bytes", d.len())))
        })
    }

    /// This client's link counters (since the link was last opened).
    pub fn host_stats(&self) -> Stats {
        self.shared.host_stats()
    }

    /// SYS_MEMORY: the cam's memory pools.
    pub fn memory(&self) -> Result<Vec<MemoryEntry>> {
        self.op(|sh, s| parse_memory(&data_of(sh, s, Opcode::SYS_MEMORY)?))
    }

    /// SYS_RESET: the cam restarts without answering; the link is closed (reconnect later).
    pub fn reset(&self) -> Result<()> {
        self.op(|sh, s| sh.send_final(s, Opcode::SYS_RESET))
    }

    /// SYS_BOOT: the cam enters its bootloader without answering; the link is closed.
    pub fn boot(&self) -> Result<()> {
        self.op(|sh, s| sh.send_final(s, Opcode::SYS_BOOT))
    }

    // ---- profiler ----

    /// The profiler's records, or `None` if the cam has no `profile` channel or nothing is
    /// ready (lock BUSY, empty shape). Lock, shape (count, record size), read, unlock.
    pub fn read_profile(&self) -> Result<Option<Vec<ProfileRecord>>> {
        self.op(|sh, s| {
            let id = match sh.channel_by_name(s, "profile") {
                Ok(id) => id,
                Err(Error::NoSuchChannel(_)) => return Ok(None),
                Err(e) => return Err(e),
            };
            let pmu = sysinfo_in(sh, s)?.pmu_counters();
            let got = with_lock(sh, s, id, |sh, s| {
                let shape = shape_in(sh, s, id)?;
                let [count, size, ..] = shape[..] else { return Ok(None) };
                let total = count.checked_mul(size).ok_or_else(|| Error::bad("profile shape overflows"))?;
                if total == 0 {
                    return Ok(None);
                }
                let data = read_in(sh, s, id, 0, total)?;
                parse_records(&data, count, size, pmu).map(Some)
            })?;
            Ok(got.flatten())
        })
    }

    /// Profiler mode: exclusive (time in callees not counted) or inclusive.
    pub fn profiler_mode(&self, exclusive: bool) -> Result<()> {
        self.profile_ioctl(ioctl::PROFILE_MODE, &u32::from(exclusive).to_le_bytes())
    }

    /// Makes PMU counter `counter` count event `event_id`.
    pub fn profiler_event(&self, counter: u32, event_id: u32) -> Result<()> {
        let mut arg = counter.to_le_bytes().to_vec();
        arg.extend_from_slice(&event_id.to_le_bytes());
        self.profile_ioctl(ioctl::PROFILE_SET_EVENT, &arg)
    }

    /// Clears the profiler's records.
    pub fn profiler_reset(&self) -> Result<()> {
        self.profile_ioctl(ioctl::PROFILE_RESET, &[])
    }

    fn profile_ioctl(&self, request: u32, arg: &[u8]) -> Result<()> {
        self.op(|sh, s| {
            let id = sh.channel_by_name(s, "profile")?;
            ioctl_in(sh, s, id, request, arg)
        })
    }
}

/// The iterator of [`Camera::frames`].
#[derive(Debug)]
pub struct Frames<'a> {
    cam: &'a Camera,
    timeout: Duration,
    done: bool,
}

impl Iterator for Frames<'_> {
    type Item = Result<Frame>;

    fn next(&mut self) -> Option<Result<Frame>> {
        if self.done {
            return None;
        }
        Some(match self.cam.wait_frame(self.timeout) {
            Ok(Some(f)) => Ok(f),
            Ok(None) => Err(Error::Timeout(self.timeout)),
            Err(e) => {
                self.done = e.is_disconnected();
                Err(e)
            }
        })
    }
}

impl Drop for Camera {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        self.shared.send_stop();
        self.shared.close(LinkState::Closed);
        let me = thread::current().id();
        for h in [self.reader.take(), self.events.take()].into_iter().flatten() {
            // The last handle may be dropped by a listener, on the event thread itself.
            if h.thread().id() != me {
                let _ = h.join();
            }
        }
    }
}

// ---- one request each; callers hold the operation lock ----

fn resolve(sh: &Shared, s: &mut Session, ch: Chan<'_>) -> Result<ChannelId> {
    match ch {
        Chan::Id(id) => Ok(id),
        Chan::Name(name) => sh.channel_by_name(s, name),
    }
}

fn data_of(sh: &Shared, s: &mut Session, op: Opcode) -> Result<Vec<u8>> {
    answer_data(sh.request(s, op, ChannelId::TRANSPORT, Vec::new())?, op)
}

fn channel_data(sh: &Shared, s: &mut Session, op: Opcode, id: ChannelId, payload: Vec<u8>) -> Result<Vec<u8>> {
    answer_data(sh.request(s, op, id, payload)?, op)
}

/// The data of an answer to `op`, which must carry data.
fn answer_data(r: Response, op: Opcode) -> Result<Vec<u8>> {
    match r {
        Response::Data(d) => Ok(d),
        Response::Ack => Err(Error::bad(format!("bare ACK to opcode 0x{:02X}", op.0))),
    }
}

fn poll_in(sh: &Shared, s: &mut Session) -> Result<u32> {
    u32_of(&data_of(sh, s, Opcode::CHANNEL_POLL)?, "poll")
}

fn size_in(sh: &Shared, s: &mut Session, id: ChannelId) -> Result<u32> {
    u32_of(&channel_data(sh, s, Opcode::CHANNEL_SIZE, id, Vec::new())?, "size")
}

fn shape_in(sh: &Shared, s: &mut Session, id: ChannelId) -> Result<Vec<u32>> {
    let d = channel_data(sh, s, Opcode::CHANNEL_SHAPE, id, Vec::new())?;
    if d.is_empty() || d.len() % 4 != 0 || d.len() > 16 {
        return Err(Error::bad(format!("shape of {} bytes", d.len())));
    }
    Ok(d.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
}

fn read_in(sh: &Shared, s: &mut Session, id: ChannelId, offset: u32, len: u32) -> Result<Vec<u8>> {
    if len == 0 {
        return Ok(Vec::new());
    }
    if len as usize > sh.opts.max_answer {
        return Err(Error::SizeLimit { claimed: len.into(), limit: sh.opts.max_answer });
    }
    let d = channel_data(sh, s, Opcode::CHANNEL_READ, id, read_payload(offset, len))?;
    if d.len() != len as usize {
        return Err(Error::bad(format!("read of {len} bytes gave {}", d.len())));
    }
    Ok(d)
}

fn write_in(sh: &Shared, s: &mut Session, id: ChannelId, offset: u32, data: &[u8]) -> Result<()> {
    let piece = usize::from(sh.caps().max_payload).saturating_sub(WriteRequest::PREFIX).max(1);
    let mut at = offset;
    for chunk in data.chunks(piece) {
        let n = chunk.len() as u32;
        let mut p = Vec::with_capacity(WriteRequest::PREFIX + chunk.len());
        p.extend_from_slice(&WriteRequest::prefix(at, n));
        p.extend_from_slice(chunk);
        sh.request(s, Opcode::CHANNEL_WRITE, id, p)?;
        at = at.checked_add(n).ok_or(Error::InvalidArgument("write past offset 4 GiB"))?;
    }
    Ok(())
}

/// BUSY is a plain "no"; any other NAK is an error.
fn busy_is_no(r: Result<Response>) -> Result<bool> {
    match r {
        Ok(_) => Ok(true),
        Err(Error::Nak(Status::Busy)) => Ok(false),
        Err(e) => Err(e),
    }
}

fn lock_in(sh: &Shared, s: &mut Session, id: ChannelId) -> Result<bool> {
    busy_is_no(sh.request(s, Opcode::CHANNEL_LOCK, id, Vec::new()))
}

fn unlock_in(sh: &Shared, s: &mut Session, id: ChannelId) -> Result<bool> {
    busy_is_no(sh.request(s, Opcode::CHANNEL_UNLOCK, id, Vec::new()))
}

pub(crate) fn ioctl_in(sh: &Shared, s: &mut Session, id: ChannelId, request: u32, arg: &[u8]) -> Result<()> {
    let mut p = request.to_le_bytes().to_vec();
    p.extend_from_slice(arg);
    sh.request(s, Opcode::CHANNEL_IOCTL, id, p).map(|_| ())
}

/// The stream ioctls that put a [`StreamWish`] in force, in order.
pub(crate) fn stream_ioctls(w: StreamWish) -> Vec<(u32, Vec<u8>)> {
    let mut v = Vec::with_capacity(3);
    if let (true, Some((width, height))) = (w.raw, w.resolution) {
        let mut arg = width.to_le_bytes().to_vec();
        arg.extend_from_slice(&height.to_le_bytes());
        v.push((ioctl::STREAM_RAW_CFG, arg));
    }
    v.push((ioctl::STREAM_RAW_CTRL, u32::from(w.raw).to_le_bytes().to_vec()));
    v.push((ioctl::STREAM_CTRL, u32::from(w.enable).to_le_bytes().to_vec()));
    v
}

/// Locks `id`, runs `f`, and unlocks whatever `f` did; `Ok(None)` if the lock was BUSY.
fn with_lock<T>(
    sh: &Shared,
    s: &mut Session,
    id: ChannelId,
    f: impl FnOnce(&Shared, &mut Session) -> Result<T>,
) -> Result<Option<T>> {
    if !lock_in(sh, s, id)? {
        return Ok(None);
    }
    let r = f(sh, s);
    unlock_after(sh, s, id, r)
}

/// Unlocks `id` after what `r` did under the lock; the first error wins.
fn unlock_after<T>(sh: &Shared, s: &mut Session, id: ChannelId, r: Result<T>) -> Result<Option<T>> {
    let u = unlock_in(sh, s, id);
    match (r, u) {
        (Ok(v), Ok(_)) => Ok(Some(v)),
        (Ok(_), Err(e)) => Err(e),
        (Err(e), _) => Err(e),
    }
}

/// The locked stream channel's bytes, `None` if it holds no more than a header.
///
/// A raw frame's length follows from its header, and stays put while the resolution does,
/// so after a raw frame the next is read in one request of that length (lock, read, unlock:
/// three round trips, not four). The header then says what the frame really needs: the
/// rest is read if it grew, the excess dropped if it shrank, and a read the cam refuses
/// (past a smaller frame's end) falls back to CHANNEL_SIZE. Compressed frames change length
/// every time and always ask their size.
fn read_locked_frame(sh: &Shared, s: &mut Session, id: ChannelId) -> Result<Option<Vec<u8>>> {
    match s.raw_frame_len.take() {
        Some(len) => {
            let answer = sh.request(s, Opcode::CHANNEL_READ, id, read_payload(0, len));
            read_rest_of_frame(sh, s, id, answer)
        }
        None => read_sized_frame(sh, s, id),
    }
}

/// A raw frame that fits one packet: CHANNEL_LOCK and the read of the last frame's length
/// leave in one write (two round trips per frame with the unlock, not three). A refused lock
/// costs the cam one packet of reading, whose answer is dropped.
fn lock_and_read_frame(sh: &Shared, s: &mut Session, id: ChannelId, len: u32) -> Result<Option<Option<Vec<u8>>>> {
    s.raw_frame_len = None;
    let read = Request::new(Opcode::CHANNEL_READ, id, read_payload(0, len));
    let (lock, answer) = sh.request_pair(s, (Opcode::CHANNEL_LOCK, id), read)?;
    if !busy_is_no(lock)? {
        // Read while not locked: not a frame to show. A NAK is the cam's refusal; anything
        // else failed means the link is in doubt.
        if let Err(e) = answer {
            if !matches!(e, Error::Nak(_)) {
                return Err(e);
            }
        }
        s.raw_frame_len = Some(len);
        return Ok(None);
    }
    let r = read_rest_of_frame(sh, s, id, answer);
    unlock_after(sh, s, id, r)
}

/// A CHANNEL_READ request's payload.
fn read_payload(offset: u32, length: u32) -> Vec<u8> {
    ReadRequest { offset, length }.to_bytes().to_vec()
}

/// The frame from the answer to a read of the last raw frame's length: completed or cut to
/// what its header says, or asked its size when the answer is not a raw frame or the cam
/// refused the read (past a smaller frame's end: INVALID here, FAILED on firmware 5).
fn read_rest_of_frame(
    sh: &Shared,
    s: &mut Session,
    id: ChannelId,
    answer: Result<Response>,
) -> Result<Option<Vec<u8>>> {
    match answer.and_then(|r| answer_data(r, Opcode::CHANNEL_READ)) {
        Ok(mut d) => {
            if let Some(need) = raw_frame_len(&d) {
                if need as usize > d.len() {
                    let rest = read_in(sh, s, id, d.len() as u32, need - d.len() as u32)?;
                    d.extend_from_slice(&rest);
                }
                d.truncate(need as usize);
                s.raw_frame_len = Some(need);
                return Ok(Some(d));
            }
            // Not a raw frame any more: ask its size.
        }
        Err(Error::Nak(Status::Invalid | Status::Failed)) => {}
        Err(e) => return Err(e),
    }
    read_sized_frame(sh, s, id)
}

/// CHANNEL_SIZE, then the whole frame.
fn read_sized_frame(sh: &Shared, s: &mut Session, id: ChannelId) -> Result<Option<Vec<u8>>> {
    let size = size_in(sh, s, id)?;
    if size as usize <= FrameHeader::LEN {
        return Ok(None);
    }
    let d = read_in(sh, s, id, 0, size)?;
    s.raw_frame_len = raw_frame_len(&d).filter(|&n| n == size);
    Ok(Some(d))
}

/// Header plus pixel bytes of a raw frame whose header `bytes` start with.
fn raw_frame_len(bytes: &[u8]) -> Option<u32> {
    let h = FrameHeader::parse(bytes).ok()?;
    h.format.bytes_per_pixel()?;
    let total = h.data_len()?.checked_add(h.offset as usize)?;
    (h.offset as usize >= FrameHeader::LEN).then_some(u32::try_from(total).ok()?)
}

fn sysinfo_in(sh: &Shared, s: &mut Session) -> Result<SysInfo> {
    if let Some(i) = s.sysinfo {
        return Ok(i);
    }
    let d = data_of(sh, s, Opcode::SYS_INFO)?;
    let info = SysInfo::parse(&d).map_err(|_| Error::bad(format!("system info of {} bytes", d.len())))?;
    s.sysinfo = Some(info);
    Ok(info)
}

fn parse_memory(d: &[u8]) -> Result<Vec<MemoryEntry>> {
    let count = usize::from(*d.first().ok_or_else(|| Error::bad("empty memory answer"))?);
    let body = d.get(MemoryEntry::PREFIX..).unwrap_or(&[]);
    if body.len() < count * MemoryEntry::LEN {
        return Err(Error::bad(format!("{count} memory pools in {} bytes", d.len())));
    }
    body.chunks_exact(MemoryEntry::LEN)
        .take(count)
        .map(|c| MemoryEntry::parse(c).map_err(|_| Error::bad("memory pool")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_answers_are_length_checked() {
        assert!(parse_memory(&[]).is_err());
        assert!(parse_memory(&[2, 0, 0, 0]).is_err());
        assert!(parse_memory(&[0]).unwrap().is_empty());
        let mut d = vec![1, 0, 0, 0];
        d.extend_from_slice(&MemoryEntry { kind: 1, total: 100, ..Default::default() }.to_bytes());
        assert_eq!(parse_memory(&d).unwrap()[0].total, 100);
    }

    #[test]
    fn camera_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Camera>();
    }
}
