//! The host against cams that misbehave, one way per case: a scripted cam on an in-memory
//! link answers the handshake like a real one, then lies, floods, stalls or resets. Every case
//! asserts a typed outcome within a time bound, and the test binary's allocator bounds memory.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use openmvproto::channels::ChannelFlags;
use openmvproto::client::{Camera, ClientEvent, Error, Options};
use openmvproto::framing::payload::{event, ioctl, CapFlags, Caps, ChannelEntry, FrameHeader, PixFormat};
use openmvproto::framing::{encode_parts, Checksum, Decoder, FastCrc, Role};
use openmvproto::transport::memory::{self, MemoryEnd};
use openmvproto::transport::{RxHalf, Transport, TxHalf};
use openmvproto::{ChannelId, Flags, Header, Opcode, Status};

/// Counts live heap bytes and their peak, so a cam claiming gigabytes shows up here.
struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only counts sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(l.size(), Ordering::Relaxed) + l.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        // SAFETY: same layout contract as our caller's.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        // SAFETY: `p` came from `System.alloc` with this layout.
        unsafe { System.dealloc(p, l) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// No case may hold more than this at once (all cases together, run in parallel).
const MEMORY_BOUND: usize = 256 << 20;
const TIMEOUT: Duration = Duration::from_millis(300);
const CONFIG: ChannelId = ChannelId(4);

/// What the scripted cam does with one request after the handshake.
enum Act {
    /// Answer as a good cam would.
    Normal,
    /// Send these packets instead (built with [`Cam::pkt`]).
    Send(Vec<Vec<u8>>),
    /// Say nothing.
    Silence,
    /// Close the link after sending these packets.
    SendThenClose(Vec<Vec<u8>>),
}

/// The scripted cam's state, as the behaviour sees it.
struct Cam {
    seq: u8,
    crc: FastCrc,
    /// Requests seen so far, the handshake included.
    requests: usize,
}

impl Cam {
    /// A packet with CRCs; seq as given.
    fn pkt(&self, seq: u8, channel: ChannelId, flags: Flags, opcode: Opcode, payload: &[u8]) -> Vec<u8> {
        let h = Header { seq, channel, flags, opcode, length: 0 };
        let p = encode_parts(&h, payload, Some(&self.crc as &dyn Checksum)).unwrap();
        [&p.header[..], p.payload, p.crc_bytes()].concat()
    }

    /// The answer to `h`, advancing the counter as a device does.
    fn answer(&mut self, h: &Header, flags: Flags, payload: &[u8]) -> Vec<u8> {
        let p = self.pkt(h.seq, h.channel, flags, h.opcode, payload);
        self.seq = h.seq.wrapping_add(1);
        p
    }

    fn event(&self, channel: ChannelId, code: u16) -> Vec<u8> {
        let op = if channel == ChannelId::TRANSPORT { Opcode::SYS_EVENT } else { Opcode::CHANNEL_EVENT };
        self.pkt(self.seq, channel, Flags::EVENT, op, &code.to_le_bytes())
    }

    fn nak(&mut self, h: &Header, status: u16) -> Vec<u8> {
        self.answer(h, Flags::NAK, &status.to_le_bytes())
    }

    /// What a good cam with stdin, stdout, stream and `config` (64 bytes) answers.
    fn normal(&mut self, h: &Header) -> Vec<u8> {
        let u32b = |v: u32| v.to_le_bytes().to_vec();
        let data = match h.opcode {
            Opcode::PROTO_SYNC => {
                let p = self.pkt(h.seq, h.channel, Flags::ACK, h.opcode, &[]);
                self.seq = 0;
                return p;
            }
            Opcode::PROTO_GET_CAPS => {
                Caps { flags: CapFlags::CRC | CapFlags::SEQ | CapFlags::EVENTS, max_payload: 4082 }.to_bytes().to_vec()
            }
            Opcode::CHANNEL_LIST => {
                let list = [
                    (1, ChannelFlags::WRITE | ChannelFlags::EXEC, "stdin"),
                    (2, ChannelFlags::READ, "stdout"),
                    (3, ChannelFlags::READ | ChannelFlags::LOCK | ChannelFlags::STREAM, "stream"),
                    (4, ChannelFlags::READ | ChannelFlags::WRITE | ChannelFlags::DYNAMIC, "config"),
                ];
                list.iter().flat_map(|&(id, f, n)| ChannelEntry::new(ChannelId(id), f, n).unwrap().to_bytes()).collect()
            }
            Opcode::CHANNEL_POLL => u32b(0),
            Opcode::CHANNEL_SIZE => u32b(64),
            Opcode::CHANNEL_READ => vec![7; 16],
            _ => return self.answer(h, Flags::ACK, &[]),
        };
        self.answer(h, Flags::empty(), &data)
    }
}

type Behaviour = Box<dyn FnMut(&mut Cam, &Header, &[u8]) -> Act + Send>;

/// Runs the scripted cam on `end` until the link closes or `stop` is set.
fn serve(end: MemoryEnd, mut behave: Behaviour, spam: Option<(Duration, ChannelId)>, stop: Arc<AtomicBool>) {
    let (mut rx, mut tx) = end.split();
    let mut cam = Cam { seq: 0, crc: FastCrc, requests: 0 };
    let mut dec: Box<Decoder<4096>> = Box::new(Decoder::new(Role::Device));
    let mut buf = vec![0u8; 8192];
    let mut last_spam = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let wait = spam.map_or(Duration::from_millis(20), |(every, _)| every);
        let n = match rx.recv(&mut buf, wait) {
            Ok(n) => n,
            Err(_) => return,
        };
        if let Some((every, ch)) = spam {
            if last_spam.elapsed() >= every {
                last_spam = Instant::now();
                if tx.send(&cam.event(ch, event::NOTIFY)).is_err() {
                    return;
                }
            }
        }
        let mut input = &buf[..n];
        loop {
            let (used, got) = dec.feed(input, &FastCrc);
            input = &input[used..];
            let req = match got {
                Some(Ok(p)) => Some((p.header, p.payload.to_vec())),
                _ => None,
            };
            if let Some((h, payload)) = req {
                cam.requests += 1;
                let handshake =
                    matches!(h.opcode, Opcode::PROTO_SYNC | Opcode::PROTO_GET_CAPS | Opcode::PROTO_SET_CAPS);
                let act = if handshake { Act::Normal } else { behave(&mut cam, &h, &payload) };
                let (out, close) = match act {
                    Act::Normal => (vec![cam.normal(&h)], false),
                    Act::Send(p) => (p, false),
                    Act::Silence => (vec![], false),
                    Act::SendThenClose(p) => (p, true),
                };
                for p in out {
                    if tx.send(&p).is_err() {
                        return;
                    }
                }
                if close {
                    end.close();
                    return;
                }
            } else if input.is_empty() {
                break;
            }
        }
    }
}

/// A camera connected to a scripted cam, the cam's thread stopped on drop.
struct Rig {
    cam: Camera,
    stop: Arc<AtomicBool>,
    events: parking_lot::Mutex<mpsc::Receiver<ClientEvent>>,
}

impl Drop for Rig {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn rig_with(behave: Behaviour, spam: Option<(Duration, ChannelId)>, opts: Options) -> Rig {
    let (host_end, cam_end) = memory::pair();
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    thread::spawn(move || serve(cam_end, behave, spam, s));
    let (tx, events) = mpsc::channel();
    let opts = opts.timeout(TIMEOUT).ack(false).on_event(move |e| {
        let _ = tx.send(e.clone());
    });
    let cam = Camera::connect(host_end, opts).expect("handshake with the scripted cam");
    Rig { cam, stop, events: parking_lot::Mutex::new(events) }
}

fn rig(behave: impl FnMut(&mut Cam, &Header, &[u8]) -> Act + Send + 'static) -> Rig {
    rig_with(Box::new(behave), None, Options::default())
}

/// Runs `f`, asserting it ends within `bound`; gives its result.
fn within<T>(bound: Duration, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let r = f();
    assert!(t.elapsed() <= bound, "took {:?}, bound {bound:?}", t.elapsed());
    assert!(PEAK.load(Ordering::Relaxed) < MEMORY_BOUND, "peak heap {} bytes", PEAK.load(Ordering::Relaxed));
    r
}

/// Worst case of a failing operation: its attempt, a resync (3 attempts), the retry.
const BOUND: Duration = Duration::from_secs(3);

#[test]
fn event_spam_with_no_answer_times_out() {
    let r = rig_with(
        Box::new(
            |cam, h, _| if h.opcode == Opcode::CHANNEL_SIZE { Act::Silence } else { Act::Send(vec![cam.normal(h)]) },
        ),
        Some((Duration::from_millis(5), ChannelId::STDOUT)),
        Options::default(),
    );
    let e = within(BOUND, || r.cam.size("config")).unwrap_err();
    assert!(matches!(e, Error::Timeout(_)), "{e:?}");
    // The link is still usable afterwards.
    assert_eq!(r.cam.read(CONFIG, 0, 16).unwrap(), vec![7; 16]);
}

#[test]
fn sizes_in_gigabytes_are_refused_before_any_allocation() {
    let r = rig(|cam, h, _| match h.opcode {
        Opcode::CHANNEL_SIZE => Act::Send(vec![cam.answer(h, Flags::empty(), &u32::MAX.to_le_bytes())]),
        _ => Act::Normal,
    });
    let e = within(BOUND, || r.cam.read_available("config")).unwrap_err();
    assert!(matches!(e, Error::SizeLimit { claimed, .. } if claimed == u64::from(u32::MAX)), "{e:?}");
    let e = within(BOUND, || r.cam.read_frame()).unwrap_err();
    assert!(matches!(e, Error::SizeLimit { .. }), "{e:?}");
}

#[test]
fn endless_fragments_end_at_the_requested_length() {
    let r = rig(|cam, h, _| match h.opcode {
        Opcode::CHANNEL_READ => {
            // Each fragment carries the next seq, as a device's would.
            let mut seq = h.seq;
            let frags = (0..100)
                .map(|_| {
                    let p = cam.pkt(seq, h.channel, Flags::FRAGMENT, h.opcode, &[1; 50]);
                    seq = seq.wrapping_add(1);
                    p
                })
                .collect();
            cam.seq = seq;
            Act::Send(frags)
        }
        _ => Act::Normal,
    });
    let e = within(BOUND, || r.cam.read(CONFIG, 0, 120)).unwrap_err();
    assert!(matches!(e, Error::AnswerTooLong), "{e:?}");
}

#[test]
fn empty_fragments_do_not_extend_the_deadline() {
    let r = rig_with(
        Box::new(|cam, h, _| match h.opcode {
            // One empty fragment per request; the spam thread below keeps the link busy.
            Opcode::CHANNEL_READ => Act::Send(vec![cam.answer(h, Flags::FRAGMENT, &[])]),
            _ => Act::Normal,
        }),
        Some((Duration::from_millis(5), ChannelId::STREAM)),
        Options::default(),
    );
    let e = within(BOUND, || r.cam.read(CONFIG, 0, 16)).unwrap_err();
    assert!(matches!(e, Error::Timeout(_)), "{e:?}");
}

#[test]
fn answers_with_the_wrong_seq_opcode_or_channel_are_typed_errors() {
    for case in 0..3 {
        let r = rig(move |cam, h, _| {
            if h.opcode != Opcode::CHANNEL_SIZE {
                return Act::Normal;
            }
            let mut wrong = *h;
            match case {
                0 => wrong.seq = h.seq.wrapping_add(5),
                1 => wrong.opcode = Opcode::CHANNEL_POLL,
                _ => wrong.channel = ChannelId(2),
            }
            Act::Send(vec![cam.answer(&wrong, Flags::empty(), &64u32.to_le_bytes())])
        });
        let e = within(BOUND, || r.cam.size("config")).unwrap_err();
        match case {
            0 => assert!(matches!(e, Error::Sequence), "{e:?}"),
            _ => assert!(matches!(e, Error::BadAnswer(_)), "{e:?}"),
        }
        // Only the one operation failed.
        assert_eq!(r.cam.read(CONFIG, 0, 16).unwrap(), vec![7; 16]);
    }
}

#[test]
fn garbage_floods_full_of_sync_words_do_not_hide_the_answer() {
    let r = rig(|cam, h, _| {
        let mut flood: Vec<u8> =
            (0..32 * 1024).flat_map(|i| if i % 7 == 0 { [0x11, 0x22] } else { [0xAA, 0xD5] }).collect();
        flood.extend_from_slice(&cam.normal(h));
        Act::Send(vec![flood])
    });
    let d = within(BOUND, || r.cam.read(CONFIG, 0, 16)).unwrap();
    assert_eq!(d, vec![7; 16]);
}

#[test]
fn every_nak_status_is_typed() {
    let r = rig(|cam, h, p| match h.opcode {
        Opcode::CHANNEL_READ => {
            let status = u32::from_le_bytes(p[0..4].try_into().unwrap()) as u16;
            Act::Send(vec![cam.nak(h, status)])
        }
        _ => Act::Normal,
    });
    for status in (0u16..=9).chain([0x1234]) {
        let e = within(BOUND, || r.cam.read(CONFIG, u32::from(status), 4)).unwrap_err();
        let ok = match status {
            5 => matches!(e, Error::Checksum),
            6 => matches!(e, Error::Sequence),
            _ => matches!(e, Error::Nak(s) if s == Status::from_u16(status)),
        };
        assert!(ok, "status {status}: {e:?}");
    }
}

#[test]
fn byte_by_byte_slow_answers_arrive() {
    // This cam sends each answer one byte at a time, 0.5 ms apart: well inside the timeout.
    let (host_end, cam_end) = memory::pair();
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    thread::spawn(move || {
        let (mut crx, mut ctx) = cam_end.split();
        let mut cam = Cam { seq: 0, crc: FastCrc, requests: 0 };
        let mut dec: Box<Decoder<4096>> = Box::new(Decoder::new(Role::Device));
        let mut buf = vec![0u8; 4096];
        while !s.load(Ordering::Relaxed) {
            let Ok(n) = crx.recv(&mut buf, Duration::from_millis(20)) else { return };
            let mut input = &buf[..n];
            loop {
                let (used, got) = dec.feed(input, &FastCrc);
                input = &input[used..];
                let req = match got {
                    Some(Ok(p)) => Some(p.header),
                    _ => None,
                };
                match req {
                    Some(h) => {
                        for b in cam.normal(&h) {
                            if ctx.send(&[b]).is_err() {
                                return;
                            }
                            thread::sleep(Duration::from_micros(500));
                        }
                    }
                    None if input.is_empty() => break,
                    None => {}
                }
            }
        }
    });
    let cam = Camera::connect(host_end, Options::default().timeout(TIMEOUT).ack(false)).unwrap();
    assert_eq!(within(BOUND, || cam.read(CONFIG, 0, 16)).unwrap(), vec![7; 16]);
    stop.store(true, Ordering::Relaxed);
}

#[test]
fn frames_that_lie_are_typed_errors() {
    let lies: Vec<(u32, u32, PixFormat, u32, u32, usize)> = vec![
        (64, 48, PixFormat::GRAYSCALE, 0, 20, 100), // fewer pixels than 64 x 48
        (1, 1, PixFormat::GRAYSCALE, 0, 5000, 10),  // offset past the data
        (1, 1, PixFormat(0xDEAD_BEEF), 0, 20, 10),  // unknown pixel format
        (8, 8, PixFormat::JPEG, 6, 20, 10),         // "JPEG" that is not
    ];
    for (w, ht, f, size, off, data) in lies {
        let mut bytes = FrameHeader { width: w, height: ht, format: f, size, offset: off }.to_bytes().to_vec();
        bytes.resize(20 + data, 3);
        let len = bytes.len() as u32;
        let r = rig(move |cam, h, p| match h.opcode {
            Opcode::CHANNEL_SIZE => Act::Send(vec![cam.answer(h, Flags::empty(), &len.to_le_bytes())]),
            Opcode::CHANNEL_READ => {
                let want = u32::from_le_bytes(p[4..8].try_into().unwrap()) as usize;
                Act::Send(vec![cam.answer(h, Flags::empty(), &bytes[..want.min(bytes.len())])])
            }
            _ => Act::Normal,
        });
        let e = within(BOUND, || r.cam.read_frame()).unwrap_err();
        assert!(matches!(e, Error::Decode(_)), "{w}x{ht} {f:?}: {e:?}");
    }
}

#[test]
fn disconnect_mid_frame_is_link_lost_at_once() {
    let r = rig(|cam, h, _| match h.opcode {
        Opcode::CHANNEL_SIZE => Act::Send(vec![cam.answer(h, Flags::empty(), &10_000u32.to_le_bytes())]),
        Opcode::CHANNEL_READ => Act::SendThenClose(vec![cam.answer(h, Flags::FRAGMENT, &[0; 1000])]),
        _ => Act::Normal,
    });
    let e = within(Duration::from_millis(TIMEOUT.as_millis() as u64 / 2 + 200), || r.cam.read_frame()).unwrap_err();
    assert!(e.is_disconnected(), "{e:?}");
}

#[test]
fn event_storms_are_bounded_and_counted() {
    let r = rig(|cam, h, _| {
        let mut v: Vec<Vec<u8>> = (0..20_000).map(|_| cam.event(ChannelId::STDOUT, event::NOTIFY)).collect();
        v.push(cam.normal(h));
        Act::Send(vec![v.concat()])
    });
    // Nobody reads the listener's channel: the backlog fills and drops are counted.
    assert_eq!(within(BOUND, || r.cam.read(CONFIG, 0, 16)).unwrap(), vec![7; 16]);
    let until = Instant::now() + BOUND;
    while r.cam.events_dropped() == 0 {
        assert!(Instant::now() < until, "20000 events, none dropped");
        thread::yield_now();
    }
}

#[test]
fn a_reset_to_sequence_zero_mid_session_is_recovered() {
    // The cam restarts (counter 0) after the 8th request; it then refuses requests that do
    // not carry its counter, as the firmware does, until the host resynchronises.
    let r = rig(|cam, h, _| {
        if cam.requests == 8 {
            cam.seq = 0;
        }
        if h.seq != cam.seq {
            let p = cam.pkt(cam.seq, h.channel, Flags::NAK, h.opcode, &(Status::Sequence as u16).to_le_bytes());
            cam.seq = cam.seq.wrapping_add(1);
            return Act::Send(vec![p]);
        }
        Act::Normal
    });
    for _ in 0..10 {
        assert_eq!(within(BOUND, || r.cam.read(CONFIG, 0, 16)).unwrap(), vec![7; 16]);
    }
}

#[test]
fn a_soft_reboot_event_restores_the_session_and_tells_the_app() {
    let r = rig(|cam, h, _| {
        if cam.requests == 6 {
            // The script ended: stdin stopped, SOFT_REBOOT, then an engine at counter 0.
            let out = vec![
                cam.normal(h),
                cam.event(ChannelId::STDIN, event::SCRIPT_STOPPED),
                cam.event(ChannelId::TRANSPORT, event::SOFT_REBOOT),
            ];
            cam.seq = 0;
            return Act::Send(out);
        }
        if h.seq != cam.seq {
            return Act::Silence; // a confused engine: only a resync helps
        }
        Act::Normal
    });
    r.cam.streaming(true, false, None).unwrap();
    for _ in 0..6 {
        assert_eq!(within(BOUND, || r.cam.read(CONFIG, 0, 16)).unwrap(), vec![7; 16]);
    }
    let until = Instant::now() + BOUND;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        match r.events.lock().recv_timeout(left) {
            Ok(ClientEvent::CamRestarted) => break,
            Ok(_) => {}
            Err(e) => panic!("no CamRestarted event: {e}"),
        }
    }
}

#[test]
fn exec_whose_answer_is_lost_is_never_repeated() {
    let execs = Arc::new(AtomicUsize::new(0));
    let n = execs.clone();
    let r = rig(move |cam, h, p| {
        if h.opcode == Opcode::CHANNEL_IOCTL && p.get(..4) == Some(&2u32.to_le_bytes()) {
            n.fetch_add(1, Ordering::Relaxed);
            return Act::Silence;
        }
        Act::Send(vec![cam.normal(h)])
    });
    let e = within(BOUND, || r.cam.exec("print(1)")).unwrap_err();
    assert!(matches!(e, Error::OutcomeUnknown { op: "exec", .. }), "{e:?}");
    assert_eq!(execs.load(Ordering::Relaxed), 1, "EXEC sent more than once");
}

#[test]
fn stdout_read_whose_answer_is_lost_is_never_repeated() {
    // The read consumes on the cam: repeating it after the recovery would drop that text.
    let reads = Arc::new(AtomicUsize::new(0));
    let n = reads.clone();
    let r = rig(move |cam, h, _| {
        if h.opcode == Opcode::CHANNEL_READ && h.channel == ChannelId::STDOUT {
            n.fetch_add(1, Ordering::Relaxed);
            return Act::Silence;
        }
        if h.opcode == Opcode::CHANNEL_SIZE && h.channel == ChannelId::STDOUT {
            return Act::Send(vec![cam.answer(h, Flags::empty(), &16u32.to_le_bytes())]);
        }
        Act::Normal
    });
    let e = within(BOUND, || r.cam.read_stdout_bytes()).unwrap_err();
    assert!(matches!(e, Error::OutcomeUnknown { op: "read_stdout", .. }), "{e:?}");
    assert_eq!(reads.load(Ordering::Relaxed), 1, "the stdout read sent more than once");
}

#[test]
fn user_ioctl_whose_answer_is_lost_is_never_repeated() {
    // A user channel's ioctl is a command the client cannot judge: a second one may act twice.
    let ioctls = Arc::new(AtomicUsize::new(0));
    let n = ioctls.clone();
    let r = rig(move |_, h, _| {
        if h.opcode == Opcode::CHANNEL_IOCTL && h.channel == CONFIG {
            n.fetch_add(1, Ordering::Relaxed);
            return Act::Silence;
        }
        Act::Normal
    });
    let e = within(BOUND, || r.cam.ioctl("config", 7, &[1])).unwrap_err();
    assert!(matches!(e, Error::OutcomeUnknown { op: "ioctl", .. }), "{e:?}");
    assert_eq!(ioctls.load(Ordering::Relaxed), 1, "the ioctl sent more than once");
}

#[test]
fn stream_settings_whose_answer_is_lost_are_sent_again() {
    // STREAM_CTRL sets a state: after the recovery it is sent again and the call succeeds.
    let ctrls = Arc::new(AtomicUsize::new(0));
    let n = ctrls.clone();
    let r = rig(move |_, h, p| {
        let ctrl = p.get(..4) == Some(&ioctl::STREAM_CTRL.to_le_bytes());
        if h.opcode == Opcode::CHANNEL_IOCTL
            && h.channel == ChannelId::STREAM
            && ctrl
            && n.fetch_add(1, Ordering::Relaxed) == 0
        {
            return Act::Silence;
        }
        Act::Normal
    });
    within(BOUND, || r.cam.streaming(true, false, None)).unwrap();
    assert_eq!(ctrls.load(Ordering::Relaxed), 2, "the lost STREAM_CTRL and its one repeat");
}

/// A `config` channel holding controls: a slider and a push button.
fn controls_blob() -> Vec<u8> {
    use openmvproto::controls::{encode_controls, ControlRef, Number, Range, ValueRef, WidgetRef};
    let range = Range { min: Number::Int(0), max: Number::Int(255), step: Number::Int(1) };
    let fields = [
        ControlRef { name: "threshold", widget: WidgetRef::Slider(range), value: ValueRef::Int(0), unit: None },
        ControlRef { name: "reset", widget: WidgetRef::PushButton, value: ValueRef::Bool(false), unit: None },
    ];
    let mut buf = vec![0u8; 256];
    let n = encode_controls(&mut buf, &fields).unwrap();
    buf.truncate(n);
    buf
}

/// A rig whose `config` is [`controls_blob`] and which drops the answer to the first write.
fn controls_rig_losing_first_write(writes: Arc<AtomicUsize>) -> Rig {
    let blob = controls_blob();
    rig(move |cam, h, _| match h.opcode {
        Opcode::CHANNEL_SIZE if h.channel == CONFIG => {
            Act::Send(vec![cam.answer(h, Flags::empty(), &(blob.len() as u32).to_le_bytes())])
        }
        Opcode::CHANNEL_READ if h.channel == CONFIG => Act::Send(vec![cam.answer(h, Flags::empty(), &blob)]),
        Opcode::CHANNEL_WRITE if h.channel == CONFIG && writes.fetch_add(1, Ordering::Relaxed) == 0 => Act::Silence,
        _ => Act::Normal,
    })
}

#[test]
fn button_press_whose_answer_is_lost_is_never_repeated() {
    let writes = Arc::new(AtomicUsize::new(0));
    let r = controls_rig_losing_first_write(writes.clone());
    let e = within(BOUND, || r.cam.set_control("config", "reset", true)).unwrap_err();
    assert!(matches!(e, Error::OutcomeUnknown { op: "set_controls", .. }), "{e:?}");
    assert_eq!(writes.load(Ordering::Relaxed), 1, "the press sent more than once");
    // Unchecked, any bool may be a press.
    let e = within(BOUND, || {
        writes.store(0, Ordering::Relaxed);
        r.cam.set_controls_unchecked("config", &[("reset", &openmvproto::controls::Value::Bool(true))])
    })
    .unwrap_err();
    assert!(matches!(e, Error::OutcomeUnknown { op: "set_controls", .. }), "{e:?}");
    assert_eq!(writes.load(Ordering::Relaxed), 1, "the unchecked press sent more than once");
}

#[test]
fn control_value_whose_answer_is_lost_is_written_again() {
    let writes = Arc::new(AtomicUsize::new(0));
    let r = controls_rig_losing_first_write(writes.clone());
    within(BOUND, || r.cam.set_control("config", "threshold", 9)).unwrap();
    assert_eq!(writes.load(Ordering::Relaxed), 2, "the lost write and its one repeat");
}

#[test]
fn stdout_read_the_cam_refused_is_read_again() {
    // A restarted engine refuses a request with NAK SEQUENCE without carrying it out: the
    // consuming stdout read did not happen, so after the recovery it runs again, once.
    let reads = Arc::new(AtomicUsize::new(0));
    let n = reads.clone();
    let r = rig(move |cam, h, _| {
        if h.opcode == Opcode::CHANNEL_READ && h.channel == ChannelId::STDOUT && n.fetch_add(1, Ordering::Relaxed) == 0
        {
            return Act::Send(vec![cam.nak(h, Status::Sequence as u16)]);
        }
        if h.opcode == Opcode::CHANNEL_SIZE && h.channel == ChannelId::STDOUT {
            return Act::Send(vec![cam.answer(h, Flags::empty(), &16u32.to_le_bytes())]);
        }
        Act::Normal
    });
    let text = within(BOUND, || r.cam.read_stdout()).unwrap();
    assert_eq!(text.as_bytes(), [7u8; 16]);
    assert_eq!(reads.load(Ordering::Relaxed), 2, "the refused read and its one repeat");
}

#[test]
fn disconnect_from_another_thread_ends_a_call_within_100_ms() {
    let r = Arc::new(rig(|_, h, _| if h.opcode == Opcode::CHANNEL_READ { Act::Silence } else { Act::Normal }));
    let r2 = r.clone();
    let (tx, rx) = mpsc::channel();
    let caller = thread::spawn(move || {
        tx.send(()).unwrap();
        let t = Instant::now();
        let res = r2.cam.read(CONFIG, 0, 16);
        (res, t.elapsed())
    });
    rx.recv().unwrap();
    // Let the request reach the wire: the call is in flight once the cam has its READ.
    let until = Instant::now() + BOUND;
    while r.cam.host_stats().sent < 5 {
        assert!(Instant::now() < until);
        thread::yield_now();
    }
    let t = Instant::now();
    r.cam.disconnect();
    let (res, _) = caller.join().unwrap();
    assert!(t.elapsed() < Duration::from_millis(100), "call ended {:?} after disconnect", t.elapsed());
    assert!(matches!(res, Err(Error::Disconnected)), "{res:?}");
}

/// A transport whose receive half panics after the handshake.
struct Panicky(MemoryEnd, Arc<AtomicBool>);
struct PanickyRx(Box<dyn RxHalf>, Arc<AtomicBool>);

impl RxHalf for PanickyRx {
    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> std::io::Result<usize> {
        if self.1.load(Ordering::Relaxed) {
            panic!("a user transport with a bug");
        }
        self.0.recv(buf, timeout)
    }
}

impl Transport for Panicky {
    fn open(&self) -> std::io::Result<(Box<dyn RxHalf>, Box<dyn TxHalf>)> {
        let (rx, tx) = self.0.open()?;
        Ok((Box::new(PanickyRx(rx, self.1.clone())), tx))
    }
    fn describe(&self) -> String {
        "panicky".into()
    }
}

#[test]
fn a_panicking_transport_is_a_lost_link() {
    let (host_end, cam_end) = memory::pair();
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    thread::spawn(move || serve(cam_end, Box::new(|_, _, _| Act::Normal), None, s));
    let arm = Arc::new(AtomicBool::new(false));
    let cam = Camera::connect(Panicky(host_end, arm.clone()), Options::default().timeout(TIMEOUT).ack(false)).unwrap();
    arm.store(true, Ordering::Relaxed);
    // The reader's next receive panics: the link is marked lost, the reader lives on.
    let until = Instant::now() + BOUND;
    while cam.is_connected() {
        assert!(Instant::now() < until, "a panicking transport left the link up");
        thread::yield_now();
    }
    let e = within(BOUND, || cam.read(CONFIG, 0, 16)).unwrap_err();
    assert!(matches!(e, Error::LinkLost(ref m) if m.contains("panicked")), "{e:?}");
    stop.store(true, Ordering::Relaxed);
}
