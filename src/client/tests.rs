//! The Camera against the device engine over in-memory links: a small device loop in a
//! thread owns a `Device`, a `Registry` and its channels, and serves one end of the link.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant as StdInstant};

use parking_lot::Mutex;

use super::*;
use crate::channels::{Channel, ChannelFlags, FrameChannel, RingChannel, ScriptChannel};
use crate::device::{Board, Device, DeviceConfig, Event, Registry};
use crate::framing::payload::{event, ioctl, HwCaps, MemoryEntry, PixFormat, Semver, SysInfo, Version};
use crate::framing::{ChannelId, FastCrc, Flags, Opcode, Status};
use crate::time::Instant;
use crate::transport::{dialer, pair, MemoryAcceptor, MemoryEnd, RxHalf, TxHalf};

const FRAME_W: u32 = 16;
const FRAME_H: u32 = 8;
const BIG_LEN: usize = 10_000;
const PMU: u8 = 2;

/// What the device loop saw.
#[derive(Debug, Default)]
struct Log {
    /// (channel, offset, length) of every CHANNEL_WRITE.
    writes: Vec<(u8, u32, usize)>,
    /// (channel, request, argument) of every CHANNEL_IOCTL.
    ioctls: Vec<(u8, u32, Vec<u8>)>,
    /// The stdin buffer at each successful EXEC.
    scripts: Vec<Vec<u8>>,
    /// PROTO_SYNC requests received.
    syncs: usize,
    /// (opcode, flags) of the packet headers in each chunk received, in order.
    chunks: Vec<Vec<(Opcode, Flags)>>,
}

/// Commands from a test to its device loop.
enum Ctl {
    Event(ChannelId, u16),
    /// Stop (or resume) reading requests: the cam hangs.
    Mute(bool),
    /// Throw away the next received bytes that hold a request (a corrupted request).
    DropNext,
    /// Unplug: close this connection.
    Close,
    /// Register the spare channel under this name and announce it.
    Register(&'static str),
    /// Answered once every earlier command took effect.
    Ping(Sender<()>),
}

struct Knobs {
    device: DeviceConfig,
    frames: u32,
    stdout: &'static [u8],
    /// After the first fragment of a multi-fragment read, send this event and hold the
    /// remaining fragments until the gate opens (at most 800 ms).
    mid_read_event: Option<(Event, Receiver<()>)>,
    /// Width of each frame in turn (then FRAME_W): frames that grow and shrink.
    widths: &'static [u32],
}

/// A cam whose CHANNEL_LOCK has no rate limit, so frames can be taken back to back.
fn no_lock_interval() -> Knobs {
    let mut k = Knobs::default();
    k.device.lock_interval_ms = 0;
    k
}

impl Default for Knobs {
    fn default() -> Self {
        Knobs {
            device: DeviceConfig { fragment_size: 512, ..DeviceConfig::default() },
            frames: 0,
            stdout: b"",
            mid_read_event: None,
            widths: &[],
        }
    }
}

struct TestCam {
    ctl: Sender<Ctl>,
    log: Arc<Mutex<Log>>,
    resets: Arc<AtomicU32>,
    gate_opened: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TestCam {
    /// Sends a command and waits until the device loop applied it.
    fn send(&self, c: Ctl) {
        let _ = self.ctl.send(c);
        let (tx, rx) = mpsc::channel();
        let _ = self.ctl.send(Ctl::Ping(tx));
        let _ = rx.recv_timeout(Duration::from_secs(1));
    }
}

impl Drop for TestCam {
    fn drop(&mut self) {
        let (tx, _) = mpsc::channel();
        self.ctl = tx; // disconnects the loop's receiver
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

enum Source {
    Pair(MemoryEnd),
    Acceptor(MemoryAcceptor),
}

/// A cam on a fixed memory pair; returns the host's end.
fn start(knobs: Knobs) -> (MemoryEnd, TestCam) {
    let (host, dev) = pair();
    (host, spawn_cam(Source::Pair(dev), knobs))
}

fn spawn_cam(src: Source, knobs: Knobs) -> TestCam {
    let (ctl, ctl_rx) = mpsc::channel();
    let log = Arc::new(Mutex::new(Log::default()));
    let resets = Arc::new(AtomicU32::new(0));
    let gate_opened = Arc::new(AtomicBool::new(false));
    let (l, r, g) = (log.clone(), resets.clone(), gate_opened.clone());
    let thread = thread::spawn(move || cam_thread(src, knobs, ctl_rx, l, r, g));
    TestCam { ctl, log, resets, gate_opened, thread: Some(thread) }
}

// ---- channels of the test cam ----

struct Stdin<'a> {
    inner: ScriptChannel<'a>,
    log: Arc<Mutex<Log>>,
}

impl Channel for Stdin<'_> {
    fn flags(&self) -> ChannelFlags {
        self.inner.flags()
    }
    fn poll(&mut self) -> bool {
        self.inner.poll()
    }
    fn size(&mut self) -> Option<u32> {
        self.inner.size()
    }
    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), Status> {
        self.log.lock().writes.push((1, offset, data.len()));
        self.inner.write(offset, data)
    }
    fn ioctl(&mut self, request: u32, arg: &[u8]) -> Result<(), Status> {
        let r = self.inner.ioctl(request, arg);
        let mut log = self.log.lock();
        log.ioctls.push((1, request, arg.to_vec()));
        if request == ioctl::STDIN_EXEC && r.is_ok() {
            log.scripts.push(self.inner.script().to_vec());
        }
        r
    }
}

/// The stream channel, republishing a grayscale frame while `pending` frames remain.
struct Stream<'a> {
    inner: FrameChannel<'a>,
    pending: u32,
    widths: &'static [u32],
    log: Arc<Mutex<Log>>,
}

impl Stream<'_> {
    fn refill(&mut self) {
        if self.pending == 0 || self.inner.is_ready() || self.inner.is_locked() {
            return;
        }
        self.pending -= 1;
        let w = match self.widths.split_first() {
            Some((w, rest)) => {
                self.widths = rest;
                *w
            }
            None => FRAME_W,
        };
        let n = (w * FRAME_H) as usize;
        if let Some(px) = self.inner.pixels_mut() {
            for (i, p) in px[..n].iter_mut().enumerate() {
                *p = i as u8;
            }
        }
        let _ = self.inner.publish(w, FRAME_H, PixFormat::GRAYSCALE, n, 30.0);
    }
}

impl Channel for Stream<'_> {
    fn flags(&self) -> ChannelFlags {
        self.inner.flags()
    }
    fn poll(&mut self) -> bool {
        self.refill();
        self.inner.poll()
    }
    fn lock(&mut self) -> bool {
        self.refill();
        self.inner.lock()
    }
    fn unlock(&mut self) -> bool {
        self.inner.unlock()
    }
    fn size(&mut self) -> Option<u32> {
        self.inner.size()
    }
    fn shape(&mut self, dims: &mut [u32; 4]) -> Option<usize> {
        self.inner.shape(dims)
    }
    fn readp(&mut self, offset: u32, len: usize) -> Option<&[u8]> {
        self.inner.readp(offset, len)
    }
    fn read(&mut self, offset: u32, out: &mut [u8]) -> Result<(), Status> {
        self.inner.read(offset, out)
    }
    fn ioctl(&mut self, request: u32, arg: &[u8]) -> Result<(), Status> {
        self.log.lock().ioctls.push((3, request, arg.to_vec()));
        self.inner.ioctl(request, arg)
    }
}

/// A user channel: readable pattern bytes, writes logged into a separate buffer.
struct Big {
    id: u8,
    data: Vec<u8>,
    written: Vec<u8>,
    log: Arc<Mutex<Log>>,
}

fn pattern(i: usize) -> u8 {
    (i * 7 + i / 251) as u8
}

impl Channel for Big {
    fn flags(&self) -> ChannelFlags {
        ChannelFlags::READ | ChannelFlags::WRITE
    }
    fn size(&mut self) -> Option<u32> {
        Some(self.data.len() as u32)
    }
    fn readp(&mut self, offset: u32, len: usize) -> Option<&[u8]> {
        self.data.get(offset as usize..(offset as usize).checked_add(len)?)
    }
    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), Status> {
        self.log.lock().writes.push((self.id, offset, data.len()));
        let end = offset as usize + data.len();
        if self.written.len() < end {
            self.written.resize(end, 0);
        }
        self.written[offset as usize..end].copy_from_slice(data);
        Ok(())
    }
}

/// The profiler: two records with PMU counters.
struct Profile {
    bytes: Vec<u8>,
    log: Arc<Mutex<Log>>,
}

impl Channel for Profile {
    fn flags(&self) -> ChannelFlags {
        ChannelFlags::READ | ChannelFlags::LOCK
    }
    fn size(&mut self) -> Option<u32> {
        Some(self.bytes.len() as u32)
    }
    fn shape(&mut self, dims: &mut [u32; 4]) -> Option<usize> {
        dims[0] = 2;
        dims[1] = record_len(PMU) as u32;
        Some(2)
    }
    fn readp(&mut self, offset: u32, len: usize) -> Option<&[u8]> {
        self.bytes.get(offset as usize..(offset as usize).checked_add(len)?)
    }
    /// Argument sizes checked as the firmware does (PROTOCOL.md 6).
    fn ioctl(&mut self, request: u32, arg: &[u8]) -> Result<(), Status> {
        let want = match request {
            ioctl::PROFILE_MODE => 4,
            ioctl::PROFILE_SET_EVENT => 8,
            ioctl::PROFILE_RESET | ioctl::PROFILE_STATS => 0,
            _ => return Err(Status::Invalid),
        };
        if arg.len() != want {
            return Err(Status::Invalid);
        }
        self.log.lock().ioctls.push((4, request, arg.to_vec()));
        Ok(())
    }
}

struct TestBoard {
    resets: Arc<AtomicU32>,
}

impl Board for TestBoard {
    fn version(&self) -> Version {
        Version { protocol: Version::PROTOCOL, bootloader: Semver(2, 0, 0), firmware: Semver(5, 0, 0) }
    }
    fn sys_info(&self) -> SysInfo {
        SysInfo {
            usb_id: 0x37C5_9206,
            hw_caps: [(HwCaps::PMU | HwCaps::JPEG_ENCODER).bits() | (u32::from(PMU) << 8), 0],
            ram_kb: 1024,
            ..SysInfo::default()
        }
    }
    fn memory(&self, out: &mut [MemoryEntry]) -> usize {
        out[0] = MemoryEntry { kind: 0, total: 4096, used: 1024, free: 3072, ..Default::default() };
        1
    }
    fn reset(&mut self) {
        self.resets.fetch_add(1, Ordering::AcqRel);
    }
}

// ---- the device loop ----

enum ConnEnd {
    /// The connection closed; serve the next one if there is a source of them.
    Closed,
    /// The test is over.
    Quit,
}

fn cam_thread(
    src: Source,
    mut knobs: Knobs,
    ctl: Receiver<Ctl>,
    log: Arc<Mutex<Log>>,
    resets: Arc<AtomicU32>,
    gate_opened: Arc<AtomicBool>,
) {
    let mut script_buf = [0u8; 4096];
    let mut stdout_buf = [0u8; 1024];
    let mut frame_buf = [0u8; 1024];
    let mut stdin = Stdin { inner: ScriptChannel::new(&mut script_buf), log: log.clone() };
    let mut stdout = RingChannel::new(&mut stdout_buf);
    stdout.push(knobs.stdout);
    let mut stream = Stream {
        inner: FrameChannel::new(&mut frame_buf),
        pending: knobs.frames,
        widths: knobs.widths,
        log: log.clone(),
    };
    let mut profile = Profile {
        bytes: [super::profile::record(0x0800_1000, &[7, 8]), super::profile::record(0x0800_2000, &[9, 10])].concat(),
        log: log.clone(),
    };
    let mut big = Big { id: 5, data: (0..BIG_LEN).map(pattern).collect(), written: Vec::new(), log: log.clone() };
    let mut spare = Big { id: 6, data: vec![1, 2, 3], written: Vec::new(), log: log.clone() };
    let mut board = TestBoard { resets: resets.clone() };
    let mut reg = Registry::new();
    reg.register_static(ChannelId::STDIN, "stdin", &mut stdin).unwrap();
    reg.register_static(ChannelId::STDOUT, "stdout", &mut stdout).unwrap();
    reg.register_static(ChannelId::STREAM, "stream", &mut stream).unwrap();
    reg.register_static(ChannelId::PROFILE, "profile", &mut profile).unwrap();
    assert_eq!(reg.register("big", &mut big).unwrap(), ChannelId(5));
    reg.set_board(&mut board);
    let mut spare = Some(&mut spare);
    let epoch = StdInstant::now();
    let mut first = true;
    loop {
        let end = match &src {
            Source::Pair(e) if first => e.clone(),
            Source::Pair(_) => return,
            Source::Acceptor(a) => loop {
                if let Err(mpsc::TryRecvError::Disconnected) = ctl.try_recv() {
                    return;
                }
                if let Some(e) = a.accept(Duration::from_millis(10)) {
                    break e;
                }
            },
        };
        first = false;
        let mut ctx =
            Conn { reg: &mut reg, spare: &mut spare, knobs: &mut knobs, log: &log, gate_opened: &gate_opened, epoch };
        match serve(&mut ctx, &end, &ctl, &resets) {
            ConnEnd::Quit => return,
            ConnEnd::Closed => end.close(),
        }
    }
}

struct Conn<'r, 'a, 's> {
    reg: &'r mut Registry<'a>,
    spare: &'r mut Option<&'s mut Big>,
    knobs: &'r mut Knobs,
    log: &'r Arc<Mutex<Log>>,
    gate_opened: &'r Arc<AtomicBool>,
    epoch: StdInstant,
}

fn serve<'a, 's: 'a>(c: &mut Conn<'_, 'a, 's>, end: &MemoryEnd, ctl: &Receiver<Ctl>, resets: &AtomicU32) -> ConnEnd {
    let resets_before = resets.load(Ordering::Acquire);
    let (mut rx, mut tx) = end.split();
    let mut dev: Device = Device::new(c.knobs.device, FastCrc);
    let mut input: Vec<u8> = Vec::new();
    let mut buf = [0u8; 4096];
    let (mut muted, mut drop_next, mut holding) = (false, false, false);
    loop {
        loop {
            match ctl.try_recv() {
                Ok(Ctl::Event(channel, code)) => {
                    let _ = dev.queue_event(Event { channel, code, confirmed: false });
                }
                Ok(Ctl::Mute(m)) => muted = m,
                Ok(Ctl::DropNext) => drop_next = true,
                Ok(Ctl::Close) => return ConnEnd::Closed,
                Ok(Ctl::Ping(done)) => drop(done.send(())),
                Ok(Ctl::Register(name)) => {
                    if let Some(ch) = c.spare.take() {
                        c.reg.register(name, ch).unwrap();
                        let _ = dev.queue_event(Event {
                            channel: ChannelId::TRANSPORT,
                            code: event::CHANNEL_REGISTERED,
                            confirmed: false,
                        });
                    }
                }
                Err(mpsc::TryRecvError::Empty) => break,
                Err(mpsc::TryRecvError::Disconnected) => return ConnEnd::Quit,
            }
        }
        match rx.recv(&mut buf, Duration::from_millis(2)) {
            Ok(n) if muted || (drop_next && has_request(&buf[..n])) => drop_next = false,
            Ok(n) => {
                count_syncs(&buf[..n], c.log);
                log_headers(&buf[..n], c.log);
                input.extend_from_slice(&buf[..n]);
            }
            Err(_) => return ConnEnd::Closed,
        }
        let now = Instant::since(c.epoch);
        loop {
            let used = dev.handle_input(now, &input, c.reg);
            input.drain(..used);
            let mut sent = false;
            while let Some(p) = dev.poll_transmit(now, c.reg) {
                let p = p.to_vec();
                if tx.send(&p).is_err() {
                    return ConnEnd::Closed;
                }
                sent = true;
                let (flags, opcode) = (Flags::from_bits_retain(p[4]), Opcode(p[5]));
                if opcode == Opcode::CHANNEL_READ && flags.contains(Flags::FRAGMENT) && !holding {
                    if let Some((ev, _)) = &c.knobs.mid_read_event {
                        let _ = dev.queue_event(*ev);
                        holding = true;
                    }
                }
                if flags.contains(Flags::EVENT) && holding {
                    if let Some((_, gate)) = c.knobs.mid_read_event.take() {
                        if gate.recv_timeout(Duration::from_millis(800)).is_ok() {
                            c.gate_opened.store(true, Ordering::Release);
                        }
                    }
                    holding = false;
                }
            }
            if used == 0 && !sent {
                break;
            }
        }
        dev.handle_timeout(now);
        if resets.load(Ordering::Acquire) != resets_before {
            // The cam restarts: the connection goes.
            return ConnEnd::Closed;
        }
    }
}

/// Whether a chunk holds a request (a packet without ACK or NAK), not just ACKs.
fn has_request(b: &[u8]) -> bool {
    b.windows(5).any(|w| w[0] == 0xAA && w[1] == 0xD5 && w[4] & 0x03 == 0)
}

/// Counts PROTO_SYNC requests (opcode 0, no ACK/NAK flag) in a received chunk.
fn count_syncs(b: &[u8], log: &Mutex<Log>) {
    for w in b.windows(6) {
        if w[0] == 0xAA && w[1] == 0xD5 && w[5] == 0 && w[4] & 0x03 == 0 {
            log.lock().syncs += 1;
        }
    }
}

/// Notes the packet headers of a received chunk (host to cam: requests and ACKs only, no
/// payload that could pass for a header).
fn log_headers(b: &[u8], log: &Mutex<Log>) {
    let heads = b.windows(6).filter(|w| w[0] == 0xAA && w[1] == 0xD5);
    log.lock().chunks.push(heads.map(|w| (Opcode(w[5]), Flags::from_bits_retain(w[4]))).collect());
}

fn quick() -> Options {
    Options::default().timeout(Duration::from_millis(300))
}

fn events_into(opts: Options) -> (Options, Receiver<ClientEvent>) {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    (opts.on_event(move |e| drop(tx.lock().send(e.clone()))), rx)
}

fn wait_for(rx: &Receiver<ClientEvent>, want: impl Fn(&ClientEvent) -> bool, within: Duration) -> bool {
    let deadline = StdInstant::now() + within;
    while let Some(left) = deadline.checked_duration_since(StdInstant::now()) {
        match rx.recv_timeout(left) {
            Ok(e) if want(&e) => return true,
            Ok(_) => {}
            Err(_) => return false,
        }
    }
    false
}

// ---- tests ----

#[test]
fn connect_lists_channels_and_negotiates() {
    let (end, _dev) = start(Knobs::default());
    let cam = Camera::connect(end, quick()).unwrap();
    assert!(cam.is_connected());
    let names: Vec<_> = cam.channels().unwrap().into_iter().map(|c| c.name).collect();
    assert_eq!(names, ["stdin", "stdout", "stream", "profile", "big"]);
    assert_eq!(cam.channel_id("big").unwrap(), ChannelId(5));
    assert!(matches!(cam.channel_id("nope"), Err(Error::NoSuchChannel(_))));
    assert!(!cam.has_channel("nope").unwrap());
    assert_eq!(cam.list().unwrap().len(), 5);
    let caps = cam.caps();
    assert_eq!(caps, crate::framing::payload::Caps::DEFAULT);
}

#[test]
fn system_queries() {
    let (end, _dev) = start(Knobs::default());
    let cam = Camera::connect(end, quick()).unwrap();
    let v = cam.version().unwrap();
    assert_eq!(v.protocol, Version::PROTOCOL);
    assert_eq!(v.firmware, Semver(5, 0, 0));
    let info = cam.system_info().unwrap();
    assert_eq!(info.usb_vid(), 0x37C5);
    assert_eq!(info.pmu_counters(), PMU);
    let mem = cam.memory().unwrap();
    assert_eq!(mem.len(), 1);
    assert_eq!(mem[0].free, 3072);
    let stats = cam.device_stats().unwrap();
    assert!(stats.received >= 5, "{stats:?}");
    assert!(cam.host_stats().sent >= 5);
    assert_eq!(cam.poll().unwrap() & (1 << 5), 0);
}

#[test]
fn multi_fragment_read_is_joined() {
    let (end, _dev) = start(Knobs::default());
    let cam = Camera::connect(end, quick()).unwrap();
    assert_eq!(cam.size("big").unwrap(), BIG_LEN as u32);
    // 512-byte fragments: 20 of them, each ACKed.
    let data = cam.read("big", 0, BIG_LEN as u32).unwrap();
    assert_eq!(data.len(), BIG_LEN);
    assert!(data.iter().enumerate().all(|(i, &b)| b == pattern(i)));
    let part = cam.read(ChannelId(5), 1234, 777).unwrap();
    assert_eq!(part[..], data[1234..1234 + 777]);
    assert_eq!(cam.read_available("big").unwrap().len(), BIG_LEN);
    // Past the end: NAK INVALID (after one resync and retry).
    assert!(matches!(cam.read("big", 9_999, 2), Err(Error::Nak(Status::Invalid))));
    assert!(cam.read("big", 0, 10).is_ok());
}

#[test]
fn small_payload_reads_and_writes_are_split() {
    let (end, dev) = start(Knobs::default());
    let cam = Camera::connect(end, quick().max_payload(64)).unwrap();
    assert_eq!(cam.caps().max_payload, 64);
    let data: Vec<u8> = (0..200u32).map(|i| i as u8).collect();
    cam.write("big", 0, &data).unwrap();
    let writes: Vec<_> = dev.log.lock().writes.clone();
    assert_eq!(writes, [(5, 0, 56), (5, 56, 56), (5, 112, 56), (5, 168, 32)]);
    cam.write("big", 1000, &data[..10]).unwrap();
    assert_eq!(dev.log.lock().writes.last(), Some(&(5, 1000, 10)));
    let read = cam.read("big", 0, 1000).unwrap();
    assert!(read.iter().enumerate().all(|(i, &b)| b == pattern(i)));
}

#[test]
fn exec_and_stop_drive_stdin() {
    let (end, dev) = start(Knobs::default());
    let cam = Camera::connect(end, quick().max_payload(100)).unwrap();
    let script = "import time\n".repeat(20);
    cam.exec(&script).unwrap();
    cam.stop().unwrap();
    let log = dev.log.lock();
    assert_eq!(log.scripts, [script.as_bytes().to_vec()]);
    let reqs: Vec<u32> = log.ioctls.iter().filter(|i| i.0 == 1).map(|i| i.1).collect();
    assert_eq!(reqs, [ioctl::STDIN_RESET, ioctl::STDIN_EXEC, ioctl::STDIN_STOP]);
    assert!(log.writes.iter().filter(|w| w.0 == 1).all(|w| w.2 <= 92));
}

#[test]
fn stdout_is_read_then_empty() {
    let (end, _dev) = start(Knobs { stdout: b"hello cam\n", ..Knobs::default() });
    let cam = Camera::connect(end, quick()).unwrap();
    assert_eq!(cam.read_status().unwrap().get("stdout"), Some(&true));
    assert_eq!(cam.read_stdout().unwrap(), "hello cam\n");
    assert_eq!(cam.read_stdout().unwrap(), "");
}

#[test]
fn lock_busy_is_a_plain_no() {
    let (end, _dev) = start(Knobs { frames: 1, ..no_lock_interval() });
    let cam = Camera::connect(end, quick()).unwrap();
    assert!(cam.lock("stream").unwrap());
    // Held already: BUSY, not an error.
    assert!(!cam.lock("stream").unwrap());
    assert!(cam.unlock("stream").unwrap());
    // Unlocking released the only frame: nothing ready, BUSY again.
    assert!(!cam.lock("stream").unwrap());
    assert!(!cam.unlock("stream").unwrap());
    assert!(cam.read_frame().unwrap().is_none());
    // A channel without LOCK: NAK INVALID is an error.
    assert!(matches!(cam.lock("big"), Err(Error::Nak(Status::Invalid))));
}

#[test]
fn frames_that_grow_and_shrink_are_read_whole() {
    // After a raw frame the next is read at that frame's length without asking its size:
    // a bigger one must be read to its end, a smaller one (the read past its end refused)
    // read again at its own size.
    const WIDTHS: &[u32] = &[16, 16, 8, 8, 32, 64, 16, 4];
    let (end, dev) = start(Knobs { frames: WIDTHS.len() as u32, widths: WIDTHS, ..no_lock_interval() });
    let cam = Camera::connect(end, quick()).unwrap();
    cam.streaming(true, false, None).unwrap();
    for (i, &w) in WIDTHS.iter().enumerate() {
        let f = cam.read_frame().unwrap().unwrap_or_else(|| panic!("frame {i}"));
        assert_eq!((f.width, f.height), (w, FRAME_H), "frame {i}");
        let want: Vec<u8> = (0..(w * FRAME_H) as usize).map(|i| i as u8).collect();
        assert_eq!(f.data, want, "frame {i}");
    }
    assert!(cam.read_frame().unwrap().is_none());
    assert!(cam.is_connected());
    // No frame cost a resynchronisation: the connect's PROTO_SYNC is the only one.
    assert_eq!(dev.log.lock().syncs, 1);
}

#[test]
fn the_frame_iterator_waits_times_out_and_ends_with_the_link() {
    let (end, _dev) = start(Knobs { frames: 3, ..no_lock_interval() });
    let cam = Camera::connect(end, quick()).unwrap();
    cam.streaming(true, false, None).unwrap();
    let mut frames = cam.frames(Duration::from_millis(300));
    for i in 1..=3 {
        let f = frames.next().unwrap().unwrap_or_else(|e| panic!("frame {i}: {e}"));
        assert_eq!((f.width, f.height, f.counter), (FRAME_W, FRAME_H, i));
    }
    // The cam has no more: a step without a frame is a timeout, and the iteration goes on.
    let t = StdInstant::now();
    assert!(matches!(frames.next(), Some(Err(Error::Timeout(_)))));
    assert!(t.elapsed() >= Duration::from_millis(300) && t.elapsed() < Duration::from_secs(3));
    cam.disconnect();
    assert!(matches!(frames.next(), Some(Err(Error::Disconnected))));
    assert!(frames.next().is_none());
}

#[test]
fn frames_are_read_parsed_and_counted() {
    let (end, dev) = start(Knobs { frames: 2, ..no_lock_interval() });
    let cam = Camera::connect(end, quick()).unwrap();
    cam.streaming(true, false, None).unwrap();
    let f1 = cam.read_frame().unwrap().expect("frame 1");
    assert_eq!((f1.width, f1.height, f1.format), (FRAME_W, FRAME_H, PixFormat::GRAYSCALE));
    assert_eq!(f1.data.len(), (FRAME_W * FRAME_H) as usize);
    assert_eq!(f1.fps, Some(30.0));
    assert_eq!(f1.counter, 1);
    let rgb = f1.to_rgb888().unwrap();
    assert_eq!(&rgb.pixels[..6], &[0, 0, 0, 1, 1, 1]);
    let f2 = cam.read_frame().unwrap().expect("frame 2");
    assert_eq!(f2.counter, 2);
    assert!(f2.received >= f1.received);
    assert!(cam.read_frame().unwrap().is_none());
    assert_eq!(cam.frames_received(), 2);
    cam.streaming(false, true, Some((320, 240))).unwrap();
    assert!(matches!(cam.streaming(true, true, None), Err(Error::InvalidArgument(_))));
    let stream_ioctls: Vec<_> = dev.log.lock().ioctls.iter().filter(|i| i.0 == 3).map(|i| (i.1, i.2.clone())).collect();
    let mut cfg = 320u32.to_le_bytes().to_vec();
    cfg.extend_from_slice(&240u32.to_le_bytes());
    assert_eq!(
        stream_ioctls,
        [
            (ioctl::STREAM_RAW_CTRL, 0u32.to_le_bytes().to_vec()),
            (ioctl::STREAM_CTRL, 1u32.to_le_bytes().to_vec()),
            (ioctl::STREAM_RAW_CFG, cfg),
            (ioctl::STREAM_RAW_CTRL, 1u32.to_le_bytes().to_vec()),
            (ioctl::STREAM_CTRL, 0u32.to_le_bytes().to_vec()),
        ]
    );
}

#[test]
fn profile_records_are_parsed() {
    let (end, dev) = start(Knobs::default());
    let cam = Camera::connect(end, quick()).unwrap();
    let recs = cam.read_profile().unwrap().expect("records");
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0].address, 0x0800_1000);
    assert_eq!(recs[1].events, vec![9, 10]);
    assert_eq!(recs[0].total_cycles, 1 << 40);
    cam.profiler_mode(true).unwrap();
    cam.profiler_reset().unwrap();
    cam.profiler_event(0, 0x39).unwrap();
    let reqs: Vec<_> = dev.log.lock().ioctls.iter().filter(|i| i.0 == 4).map(|i| i.1).collect();
    assert_eq!(reqs, [ioctl::PROFILE_MODE, ioctl::PROFILE_RESET, ioctl::PROFILE_SET_EVENT]);
}

#[test]
fn events_reach_listeners_while_a_request_is_in_flight() {
    let (gate_tx, gate_rx) = mpsc::channel();
    let ev = Event { channel: ChannelId::STREAM, code: event::NOTIFY, confirmed: false };
    let (end, dev) = start(Knobs { mid_read_event: Some((ev, gate_rx)), ..Knobs::default() });
    let cam = Arc::new(Camera::connect(end, quick().timeout(Duration::from_secs(1))).unwrap());
    let weak = Arc::downgrade(&cam);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let gate_tx = Mutex::new(gate_tx);
    cam.subscribe(move |e| {
        if let ClientEvent::Device { channel, code } = e {
            seen2.lock().push((*channel, *code));
            // Open the gate: the cam holds the rest of the answer until the listener ran.
            let _ = gate_tx.lock().send(());
            // Listeners may call the camera; it waits for the read in flight.
            if let Some(cam) = weak.upgrade() {
                assert!(cam.size("big").is_ok());
            }
        }
    });
    let data = cam.read("big", 0, BIG_LEN as u32).unwrap();
    assert_eq!(data.len(), BIG_LEN);
    assert!(dev.gate_opened.load(Ordering::Acquire), "listener did not run while the read was in flight");
    assert_eq!(seen.lock()[0], (ChannelId::STREAM, event::NOTIFY));
}

#[test]
fn channel_registered_event_refreshes_the_list() {
    let (end, dev) = start(Knobs::default());
    let (opts, events) = events_into(quick());
    let cam = Camera::connect(end, opts).unwrap();
    dev.send(Ctl::Register("config"));
    assert!(wait_for(&events, ClientEvent::is_channel_registered, Duration::from_secs(1)));
    let names: Vec<_> = cam.channels().unwrap().into_iter().map(|c| c.name).collect();
    assert!(names.contains(&"config".to_string()), "{names:?}");
    assert_eq!(cam.channel_id("config").unwrap(), ChannelId(6));
    dev.send(Ctl::Event(ChannelId::STDIN, event::SCRIPT_STARTED));
    assert!(wait_for(
        &events,
        |e| *e == ClientEvent::Device { channel: ChannelId::STDIN, code: 1 },
        Duration::from_secs(1)
    ));
}

#[test]
fn link_lost_on_close_fails_later_calls() {
    let (end, dev) = start(Knobs::default());
    let (opts, events) = events_into(quick());
    let cam = Camera::connect(end, opts).unwrap();
    dev.send(Ctl::Close);
    assert!(wait_for(&events, |e| matches!(e, ClientEvent::LinkLost { .. }), Duration::from_secs(1)));
    assert!(!cam.is_connected());
    assert!(matches!(cam.version(), Err(Error::LinkLost(_))));
    // A fixed pair cannot be reopened.
    assert!(cam.reconnect().is_err());
}

#[test]
fn link_lost_fails_the_pending_call_at_once() {
    let (end, dev) = start(Knobs::default());
    let cam = Arc::new(Camera::connect(end, quick().timeout(Duration::from_secs(5))).unwrap());
    dev.send(Ctl::Mute(true));
    let c = cam.clone();
    let started = StdInstant::now();
    let sent = cam.host_stats().sent;
    let call = thread::spawn(move || c.version());
    // The call is in flight once its request has gone out.
    let until = StdInstant::now() + Duration::from_secs(2);
    while cam.host_stats().sent == sent {
        assert!(StdInstant::now() < until, "the request never went out");
        thread::yield_now();
    }
    dev.send(Ctl::Close);
    let r = call.join().unwrap();
    assert!(matches!(r, Err(Error::LinkLost(_))), "{r:?}");
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn timeout_resyncs_and_retries_once() {
    let (end, dev) = start(Knobs::default());
    let cam = Camera::connect(end, Options::default().timeout(Duration::from_millis(100))).unwrap();
    let syncs = dev.log.lock().syncs;
    dev.send(Ctl::DropNext); // returns once the cam has taken it
    let started = StdInstant::now();
    assert_eq!(cam.version().unwrap().firmware, Semver(5, 0, 0));
    // The first answer's timeout (the clock has millisecond steps) then resync and retry.
    let el = started.elapsed();
    assert!(el >= Duration::from_millis(95), "{el:?} {} {syncs}", dev.log.lock().syncs);
    assert_eq!(dev.log.lock().syncs, syncs + 1);
    // A cam that stays silent: the call fails with a timeout, it does not hang.
    dev.send(Ctl::Mute(true));
    let r = cam.version();
    assert!(matches!(r, Err(Error::Timeout(_))), "{r:?}");
}

#[test]
fn eight_threads_at_once() {
    let (end, _dev) = start(Knobs::default());
    let cam = Arc::new(Camera::connect(end, quick().timeout(Duration::from_secs(1))).unwrap());
    let workers: Vec<_> = (0..8u32)
        .map(|t| {
            let cam = cam.clone();
            thread::spawn(move || {
                for i in 0..10u32 {
                    let off = (t * 1000 + i * 37) % 9000;
                    let d = cam.read("big", off, 600).unwrap();
                    assert!(d.iter().enumerate().all(|(k, &b)| b == pattern(off as usize + k)));
                    assert_eq!(cam.size("big").unwrap(), BIG_LEN as u32);
                    cam.write("big", t * 10, &[t as u8; 10]).unwrap();
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    assert!(cam.version().is_ok());
}

#[test]
fn auto_reconnect_restores_the_session() {
    let (d, acc) = dialer();
    let dev = spawn_cam(Source::Acceptor(acc), Knobs::default());
    let (opts, events) = events_into(
        quick().auto_reconnect(true).reconnect_interval(Duration::from_millis(10), Duration::from_millis(50)),
    );
    let cam = Camera::connect(d, opts).unwrap();
    dev.send(Ctl::Close);
    assert!(wait_for(&events, |e| matches!(e, ClientEvent::LinkLost { .. }), Duration::from_secs(1)));
    assert!(wait_for(&events, |e| *e == ClientEvent::Reconnected, Duration::from_secs(1)));
    assert!(cam.is_connected());
    assert_eq!(cam.channel_id("big").unwrap(), ChannelId(5));
    assert!(cam.version().is_ok());
}

#[test]
fn disconnect_reconnect_and_reset() {
    let (d, acc) = dialer();
    let dev = spawn_cam(Source::Acceptor(acc), Knobs::default());
    let (opts, events) = events_into(quick());
    let cam = Camera::connect(d, opts).unwrap();
    cam.disconnect();
    assert!(matches!(cam.version(), Err(Error::Disconnected)));
    cam.reconnect().unwrap();
    assert!(wait_for(&events, |e| *e == ClientEvent::Reconnected, Duration::from_secs(1)));
    assert!(cam.version().is_ok());
    cam.reset().unwrap();
    assert!(matches!(cam.version(), Err(Error::Disconnected)));
    let deadline = StdInstant::now() + Duration::from_secs(1);
    while dev.resets.load(Ordering::Acquire) == 0 && StdInstant::now() < deadline {
        thread::yield_now();
    }
    assert_eq!(dev.resets.load(Ordering::Acquire), 1);
    // The cam came back: reconnect.
    cam.reconnect().unwrap();
    assert!(cam.version().is_ok());
}

#[test]
fn drop_joins_threads_quickly() {
    let (end, _dev) = start(Knobs::default());
    let cam = Camera::connect(end, quick()).unwrap();
    let started = StdInstant::now();
    drop(cam);
    assert!(started.elapsed() < Duration::from_millis(500));
}

#[test]
fn connect_to_a_silent_cam_fails_in_bounded_time() {
    let (host, _silent) = pair();
    let started = StdInstant::now();
    let r = Camera::connect(host, Options::default().timeout(Duration::from_millis(50)));
    assert!(matches!(r, Err(Error::Timeout(_))), "{r:?}");
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn callback_transport_serves_a_camera() {
    // The app's side: bytes written go to a memory pair the test cam serves, bytes the cam
    // sends are fed back through the handle.
    let (app_end, cam_end) = pair();
    let dev = spawn_cam(Source::Pair(cam_end), Knobs::default());
    let (mut app_rx, app_tx) = app_end.split();
    let app_tx = Mutex::new(app_tx);
    let (transport, feed) = crate::transport::CallbackTransport::new(Box::new(move |b| app_tx.lock().send(b)));
    let feed2 = feed.clone();
    let pump_stop = Arc::new(AtomicBool::new(false));
    let ps = pump_stop.clone();
    let pump = thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while !ps.load(Ordering::Acquire) {
            match app_rx.recv(&mut buf, Duration::from_millis(5)) {
                Ok(n) => {
                    feed2.feed(&buf[..n]);
                }
                Err(_) => break,
            }
        }
    });
    let (opts, events) = events_into(quick());
    let cam = Camera::connect(transport, opts).unwrap();
    assert_eq!(cam.read("big", 0, 3000).unwrap().len(), 3000);
    feed.close("usb detached");
    assert!(wait_for(&events, |e| matches!(e, ClientEvent::LinkLost { .. }), Duration::from_secs(1)));
    assert!(matches!(cam.version(), Err(Error::LinkLost(_))));
    pump_stop.store(true, Ordering::Release);
    pump.join().unwrap();
    drop(dev);
}

#[test]
fn a_small_frame_is_locked_and_read_in_one_write_and_its_ack_leaves_with_the_unlock() {
    let (end, dev) = start(Knobs { frames: 3, ..no_lock_interval() });
    let cam = Camera::connect(end, quick()).unwrap();
    cam.streaming(true, false, None).unwrap();
    let want: Vec<u8> = (0..(FRAME_W * FRAME_H) as usize).map(|i| i as u8).collect();
    for i in 1..=3 {
        let f = cam.read_frame().unwrap().unwrap_or_else(|| panic!("frame {i}"));
        assert_eq!(f.data, want, "frame {i}");
    }
    let log = dev.log.lock();
    let with = |pair: [(Opcode, Flags); 2]| log.chunks.iter().filter(|c| c.windows(2).any(|w| w == pair)).count();
    let request = Flags::empty();
    // The first frame asks its size; the next two know it and send LOCK and READ together.
    assert_eq!(with([(Opcode::CHANNEL_LOCK, request), (Opcode::CHANNEL_READ, request)]), 2);
    // Every READ answer's ACK (the `ack` capability) goes out in the UNLOCK's write.
    assert_eq!(with([(Opcode::CHANNEL_READ, Flags::ACK), (Opcode::CHANNEL_UNLOCK, request)]), 3);
    assert_eq!(log.syncs, 1, "no frame cost a resync");
}

#[test]
fn a_lock_refused_in_front_of_its_read_costs_no_resync_and_the_frame_comes_later() {
    let mut knobs = Knobs { frames: 3, ..Knobs::default() };
    knobs.device.lock_interval_ms = 300;
    let (end, dev) = start(knobs);
    let cam = Camera::connect(end, quick()).unwrap();
    cam.streaming(true, false, None).unwrap();
    assert!(cam.read_frame().unwrap().is_some(), "the first lock is never rate-limited");
    // Within the lock interval: the LOCK riding in front of the READ is refused BUSY, the
    // read behind it answered (an unlocked frame) and dropped.
    assert!(cam.read_frame().unwrap().is_none());
    let f = cam.wait_frame(Duration::from_secs(3)).unwrap().expect("the frame once the interval passed");
    assert_eq!((f.width, f.height, f.counter), (FRAME_W, FRAME_H, 2));
    assert!(cam.is_connected());
    assert_eq!(dev.log.lock().syncs, 1);
}
