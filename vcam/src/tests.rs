//! End to end: the crate's sans-IO host drives a served virtual cam over a socket.

use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant as StdInstant};

use super::*;
use openmvproto::framing::payload::{
    event, ioctl, Caps, ChannelEntry, FrameHeader, PixFormat, ReadRequest, SysInfo, Version, WriteRequest,
};
use openmvproto::framing::{ChannelId, Opcode, Status};
use openmvproto::host::{DeviceEvent, Host, Request, RequestError, Response};
use openmvproto::time::Instant;
use openmvproto::transport::split_boxed;

/// A blocking driver around the sans-IO host.
struct TestHost {
    host: Host,
    rx: Box<dyn RxHalf>,
    tx: Box<dyn TxHalf>,
    epoch: StdInstant,
    events: Vec<DeviceEvent>,
    buf: Vec<u8>,
}

impl TestHost {
    fn new((rx, tx): Halves) -> Self {
        TestHost { host: Host::default(), rx, tx, epoch: StdInstant::now(), events: Vec::new(), buf: vec![0; 65536] }
    }

    fn now(&self) -> Instant {
        Instant::since(self.epoch)
    }

    fn pump(&mut self) {
        if let Some(bytes) = self.host.poll_transmit() {
            self.tx.send(&bytes).unwrap();
        }
    }

    /// Runs the link until the request in flight completes.
    fn wait(&mut self) -> Result<Response, RequestError> {
        loop {
            self.pump();
            while let Some(e) = self.host.poll_event() {
                self.events.push(e);
            }
            if let Some(r) = self.host.poll_completion() {
                return r;
            }
            let n = self.rx.recv(&mut self.buf, Duration::from_millis(5)).unwrap();
            let now = self.now();
            if n > 0 {
                self.host.handle_input(now, &self.buf[..n]);
            }
            self.host.handle_timeout(now);
        }
    }

    /// Takes in what the cam sends for up to 5 ms (events, with no request in flight).
    fn listen(&mut self) {
        let n = self.rx.recv(&mut self.buf, Duration::from_millis(5)).unwrap();
        let now = self.now();
        self.host.handle_input(now, &self.buf[..n]);
        self.pump();
        while let Some(e) = self.host.poll_event() {
            self.events.push(e);
        }
    }

    fn connect(&mut self) {
        self.host.resync(self.now());
        assert_eq!(self.wait(), Ok(Response::Ack));
    }

    fn request(&mut self, opcode: Opcode, channel: ChannelId, payload: Vec<u8>) -> Result<Response, RequestError> {
        self.host.start(self.now(), &Request::new(opcode, channel, payload)).unwrap();
        self.wait()
    }

    fn data(&mut self, opcode: Opcode, channel: ChannelId, payload: Vec<u8>) -> Vec<u8> {
        match self.request(opcode, channel, payload) {
            Ok(Response::Data(d)) => d,
            other => panic!("{opcode:?} on {channel:?}: {other:?}"),
        }
    }

    fn ack(&mut self, opcode: Opcode, channel: ChannelId, payload: Vec<u8>) {
        assert_eq!(self.request(opcode, channel, payload), Ok(Response::Ack), "{opcode:?} on {channel:?}");
    }

    fn ioctl(&mut self, channel: ChannelId, request: u32, arg: &[u8]) -> Result<Response, RequestError> {
        let mut p = request.to_le_bytes().to_vec();
        p.extend_from_slice(arg);
        self.request(Opcode::CHANNEL_IOCTL, channel, p)
    }

    fn size(&mut self, channel: ChannelId) -> u32 {
        let d = self.data(Opcode::CHANNEL_SIZE, channel, vec![]);
        u32::from_le_bytes(d[..4].try_into().unwrap())
    }

    fn read(&mut self, channel: ChannelId, offset: u32, length: u32) -> Result<Response, RequestError> {
        self.request(Opcode::CHANNEL_READ, channel, ReadRequest { offset, length }.to_bytes().to_vec())
    }

    fn write(&mut self, channel: ChannelId, offset: u32, data: &[u8]) -> Result<Response, RequestError> {
        let mut p = WriteRequest::prefix(offset, data.len() as u32).to_vec();
        p.extend_from_slice(data);
        self.request(Opcode::CHANNEL_WRITE, channel, p)
    }

    /// Writes `data` in pieces as large as the link allows.
    fn write_all(&mut self, channel: ChannelId, data: &[u8]) {
        let piece = self.host.caps().max_payload as usize - 8;
        for (k, chunk) in data.chunks(piece).enumerate() {
            assert_eq!(self.write(channel, (k * piece) as u32, chunk), Ok(Response::Ack));
        }
    }

    fn read_all(&mut self, channel: ChannelId) -> Vec<u8> {
        let n = self.size(channel);
        if n == 0 {
            return Vec::new();
        }
        self.data(Opcode::CHANNEL_READ, channel, ReadRequest { offset: 0, length: n }.to_bytes().to_vec())
    }

    fn exec(&mut self, script: &str) {
        assert_eq!(self.ioctl(ChannelId::STDIN, ioctl::STDIN_RESET, &[]), Ok(Response::Ack));
        self.write_all(ChannelId::STDIN, script.as_bytes());
        assert_eq!(self.ioctl(ChannelId::STDIN, ioctl::STDIN_EXEC, &[]), Ok(Response::Ack));
    }

    /// Collects stdout until it contains `want`.
    fn stdout_until(&mut self, want: &str) -> String {
        let until = StdInstant::now() + Duration::from_secs(20);
        let mut text = String::new();
        while !text.contains(want) {
            assert!(StdInstant::now() < until, "stdout so far: {text:?}");
            text.push_str(&String::from_utf8_lossy(&self.read_all(ChannelId::STDOUT)));
            std::thread::sleep(Duration::from_millis(5));
        }
        text
    }

    /// Lock, size, read, unlock: one frame.
    fn frame(&mut self) -> Vec<u8> {
        let until = StdInstant::now() + Duration::from_secs(10);
        loop {
            assert!(StdInstant::now() < until, "no frame");
            match self.request(Opcode::CHANNEL_LOCK, ChannelId::STREAM, vec![]) {
                Ok(Response::Ack) => break,
                Err(RequestError::Nak(Status::Busy)) => std::thread::sleep(Duration::from_millis(2)),
                other => panic!("lock: {other:?}"),
            }
        }
        let data = self.read_all(ChannelId::STREAM);
        self.ack(Opcode::CHANNEL_UNLOCK, ChannelId::STREAM, vec![]);
        data
    }

    fn saw(&self, channel: ChannelId, code: u16) -> bool {
        self.events.iter().any(|e| e.channel == channel && e.code == code)
    }
}

type Halves = (Box<dyn RxHalf>, Box<dyn TxHalf>);

fn unix_pair() -> (Halves, Halves) {
    let (a, b) = UnixStream::pair().unwrap();
    (split_boxed(a, "a").unwrap(), split_boxed(b, "b").unwrap())
}

/// Checks a grayscale frame against the pattern; returns its number mod 256.
fn check_gray(frame: &[u8], w: u32, h: u32) -> u8 {
    let hd = FrameHeader::parse(frame).unwrap();
    assert_eq!((hd.width, hd.height, hd.format, hd.size), (w, h, PixFormat::GRAYSCALE, 0));
    let off = hd.offset as usize;
    assert_eq!(frame.len(), off + (w * h) as usize, "size is exactly offset + pixels");
    let fps = f32::from_le_bytes(frame[20..24].try_into().unwrap());
    assert!(fps > 0.0);
    let px = &frame[off..];
    let n = px[0];
    for y in 0..h {
        for x in 0..w {
            assert_eq!(px[(y * w + x) as usize], gray_pixel(x, y, u64::from(n)), "({x},{y})");
        }
    }
    n
}

#[test]
fn a_host_runs_a_script_reads_frames_and_uses_user_channels() {
    let (cam_end, host_end) = unix_pair();
    let cam = VirtualCam::builder().size(64, 48).fps(200.0).spawn(cam_end.0, cam_end.1).unwrap();
    let mut h = TestHost::new(host_end);
    let t0 = StdInstant::now();
    h.connect();
    assert_eq!(h.host.caps().max_payload, openmvproto::framing::DEFAULT_MAX_PAYLOAD);

    let list = h.data(Opcode::CHANNEL_LIST, ChannelId::TRANSPORT, vec![]);
    let names: Vec<(u8, String)> = list
        .chunks(16)
        .map(|c| {
            let e = ChannelEntry::parse(c).unwrap();
            (e.id.0, e.name().unwrap().to_owned())
        })
        .collect();
    let want: Vec<(u8, String)> =
        [(1, "stdin"), (2, "stdout"), (3, "stream"), (4, "config"), (5, "ticks"), (6, "controls")]
            .iter()
            .map(|&(i, n)| (i, n.into()))
            .collect();
    assert_eq!(names, want);

    let v = Version::parse(&h.data(Opcode::PROTO_VERSION, ChannelId::TRANSPORT, vec![])).unwrap();
    assert_eq!(v.protocol, Version::PROTOCOL);
    let info = h.data(Opcode::SYS_INFO, ChannelId::TRANSPORT, vec![]);
    assert_eq!(info.len(), SysInfo::LEN);
    assert_eq!(SysInfo::parse(&info).unwrap().usb_vid(), USB_VID);
    let mem = h.data(Opcode::SYS_MEMORY, ChannelId::TRANSPORT, vec![]);
    assert_eq!((mem[0], mem.len()), (2, 4 + 2 * 24));

    // A script: it prints, ends, and the cam soft-reboots as the firmware does: its engine
    // restarts at counter 0, so the host resynchronises; the text survives the restart.
    h.exec("print(\"hi\")\n");
    let until = StdInstant::now() + Duration::from_secs(10);
    while !h.saw(ChannelId::TRANSPORT, event::SOFT_REBOOT) {
        assert!(StdInstant::now() < until, "no soft reboot: {:?}", h.events);
        h.listen();
    }
    assert!(h.saw(ChannelId::STDIN, event::SCRIPT_STOPPED));
    h.connect();
    let text = h.stdout_until("MPY: soft reboot\n");
    assert_eq!(text, "hi\nMPY: soft reboot\n");
    assert!(h.saw(ChannelId::TRANSPORT, event::SOFT_REBOOT));
    assert!(h.saw(ChannelId::STDIN, event::SCRIPT_STARTED));
    assert!(h.saw(ChannelId::STDOUT, event::NOTIFY));
    let t_script = t0.elapsed();

    // Frames: numbers only grow, pixels follow the pattern.
    assert_eq!(h.ioctl(ChannelId::STREAM, ioctl::STREAM_CTRL, &1u32.to_le_bytes()), Ok(Response::Ack));
    let mut last = None;
    for _ in 0..5 {
        let n = check_gray(&h.frame(), 64, 48);
        if let Some(l) = last {
            assert_ne!(n, l, "a new frame each time");
        }
        last = Some(n);
    }
    assert!(h.saw(ChannelId::STREAM, event::NOTIFY));
    assert_eq!(h.ioctl(ChannelId::STREAM, ioctl::STREAM_CTRL, &0u32.to_le_bytes()), Ok(Response::Ack));

    // config: a value written in pieces reads back whole; ticks counts.
    let value: Vec<u8> = (0..100_000u32).map(|i| (i * 31 % 251) as u8).collect();
    h.write_all(CONFIG_ID, &value);
    assert_eq!(h.size(CONFIG_ID), value.len() as u32);
    assert_eq!(h.read_all(CONFIG_ID), value);
    let ticks = h.read_all(TICKS_ID);
    let ms: u64 = std::str::from_utf8(&ticks).unwrap().parse().unwrap();
    assert_eq!(ticks.len(), 10);
    assert!((1..600_000).contains(&ms), "{ms}");

    // What a host must not do gets NAKs, and the cam goes on.
    assert_eq!(h.read(CONFIG_ID, 99_999, 2), Err(RequestError::Nak(Status::Invalid)));
    assert_eq!(h.read(CONFIG_ID, u32::MAX, u32::MAX), Err(RequestError::Nak(Status::Invalid)));
    assert_eq!(h.write(CONFIG_ID, 200_000, b"x"), Err(RequestError::Nak(Status::Invalid)));
    assert_eq!(h.write(TICKS_ID, 0, b"x"), Err(RequestError::Nak(Status::Invalid)));
    assert_eq!(h.ioctl(ChannelId::STDIN, ioctl::STDIN_EXEC, &[1]), Err(RequestError::Nak(Status::Invalid)));
    assert_eq!(h.request(Opcode::CHANNEL_SIZE, ChannelId(9), vec![]), Err(RequestError::Nak(Status::Invalid)));
    h.connect();
    assert_eq!(h.size(CONFIG_ID), value.len() as u32);

    // A long-running script is stopped by STOP.
    h.exec("import time\nprint('up', flush=True)\ntime.sleep(60)\n");
    h.stdout_until("up");
    h.events.clear();
    assert_eq!(h.ioctl(ChannelId::STDIN, ioctl::STDIN_STOP, &[]), Ok(Response::Ack));
    let until = StdInstant::now() + Duration::from_secs(10);
    while !h.saw(ChannelId::TRANSPORT, event::SOFT_REBOOT) {
        assert!(StdInstant::now() < until, "no soft reboot after STOP: {:?}", h.events);
        h.listen();
    }
    assert!(h.saw(ChannelId::STDIN, event::SCRIPT_STOPPED), "{:?}", h.events);
    // The restarted engine is at counter 0: an unsynchronised request is refused...
    assert_eq!(h.request(Opcode::CHANNEL_POLL, ChannelId::TRANSPORT, vec![]), Err(RequestError::Nak(Status::Sequence)));
    // ...and after a resync it answers, with the script gone and the user channels fresh.
    h.connect();
    let poll = h.data(Opcode::CHANNEL_POLL, ChannelId::TRANSPORT, vec![]);
    assert_eq!(u32::from_le_bytes(poll[..4].try_into().unwrap()) & 0b10, 0, "stdin no longer running");
    assert_eq!(h.size(CONFIG_ID), 0, "user channels are registered afresh");

    eprintln!("end to end: connect + script {:?}, all {:?}", t_script, t0.elapsed());
    // The link closing ends the cam's thread by itself.
    drop(h);
    let until = StdInstant::now() + Duration::from_secs(5);
    while !cam.is_finished() {
        assert!(StdInstant::now() < until, "the cam did not notice the link closing");
        std::thread::sleep(Duration::from_millis(5));
    }
    cam.join().unwrap();
}

fn tcp_host(addr: SocketAddr) -> TestHost {
    let s = TcpStream::connect(addr).unwrap();
    s.set_nodelay(true).unwrap();
    TestHost::new(split_boxed(s, "tcp").unwrap())
}

#[test]
fn tcp_serves_hosts_one_after_another_and_resets() {
    let cam = VirtualCam::builder().size(40, 30).format(FrameFormat::Rgb565).spawn_tcp("127.0.0.1:0").unwrap();
    let addr = cam.addr().unwrap();

    let mut h = tcp_host(addr);
    h.connect();
    h.write_all(CONFIG_ID, b"threshold=42");
    assert_eq!(h.ioctl(ChannelId::STREAM, ioctl::STREAM_CTRL, &1u32.to_le_bytes()), Ok(Response::Ack));
    let f = h.frame();
    let hd = FrameHeader::parse(&f).unwrap();
    assert_eq!((hd.width, hd.height, hd.format), (40, 30, PixFormat::RGB565));
    let px = &f[hd.offset as usize..];
    assert_eq!(px.len(), 40 * 30 * 2);
    let first = u16::from_le_bytes([px[0], px[1]]);
    let n = u64::from(first >> 11); // (0 + n) mod 32
    for y in 0..30u32 {
        for x in 0..40u32 {
            let at = ((y * 40 + x) * 2) as usize;
            assert_eq!(u16::from_le_bytes([px[at], px[at + 1]]), rgb565_pixel(x, y, n), "({x},{y})");
        }
    }
    drop(h);

    // The next host finds the cam as the last one left it.
    let mut h = tcp_host(addr);
    h.connect();
    assert_eq!(h.read_all(CONFIG_ID), b"threshold=42");
    // SYS_RESET: no answer; the cam restarts with empty channels.
    h.host.start(h.now(), &Request::new(Opcode::SYS_RESET, ChannelId::TRANSPORT, vec![])).unwrap();
    h.pump();
    std::thread::sleep(Duration::from_millis(50));
    drop(h);
    let mut h = tcp_host(addr);
    h.connect();
    assert_eq!(h.size(CONFIG_ID), 0);
    let t = StdInstant::now();
    cam.stop().unwrap();
    assert!(t.elapsed() < Duration::from_secs(1));
}

#[test]
fn jpeg_frames_decode_to_the_pattern() {
    let (cam_end, host_end) = unix_pair();
    let _cam = VirtualCam::builder().size(32, 24).format(FrameFormat::Jpeg).spawn(cam_end.0, cam_end.1).unwrap();
    let mut h = TestHost::new(host_end);
    h.connect();
    assert_eq!(h.ioctl(ChannelId::STREAM, ioctl::STREAM_CTRL, &1u32.to_le_bytes()), Ok(Response::Ack));
    let f = h.frame();
    let hd = FrameHeader::parse(&f).unwrap();
    assert_eq!(hd.format, PixFormat::JPEG);
    assert_eq!(f.len(), hd.offset as usize + hd.size as usize);
    let img = image::load_from_memory_with_format(&f[hd.offset as usize..], image::ImageFormat::Jpeg).unwrap();
    assert_eq!((img.width(), img.height()), (32, 24));
}

#[test]
fn bad_options_are_refused() {
    assert!(VirtualCam::builder().size(0, 10).build().is_err());
    assert!(VirtualCam::builder().fps(0.0).build().is_err());
    assert!(VirtualCam::builder().fps(f32::NAN).build().is_err());
    assert!(VirtualCam::builder().exec_cmd(" ").build().is_err());
    assert!(VirtualCam::builder().size(100_000, 100_000).build().is_err());
    assert!(VirtualCam::builder().fragment(0).build().is_err());
    assert!(VirtualCam::builder().build().is_ok());
}

/// A small deterministic generator for hostile traffic.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn hostile_traffic_never_kills_the_cam() {
    use openmvproto::framing::payload::CapFlags;
    use openmvproto::framing::{encode_parts, FastCrc, Flags, Header};
    use openmvproto::host::HostConfig;

    let (cam_end, host_end) = unix_pair();
    let cam = VirtualCam::builder()
        .size(16, 8)
        .fps(500.0)
        .exec_cmd("cat")
        .config_cap(10_000)
        .spawn(cam_end.0, cam_end.1)
        .unwrap();
    let mut h = TestHost::new(host_end);
    // No seq check, no ACKs: every packet below reaches the channel code.
    let wish = Caps { flags: CapFlags::CRC, max_payload: openmvproto::framing::DEFAULT_MAX_PAYLOAD };
    h.host.set_config(HostConfig { wish, ..HostConfig::default() });
    h.connect();

    let ops =
        [0x01u8, 0x03, 0x04, 0x12, 0x13, 0x14, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x30, 0xFF];
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut sink = vec![0u8; 1 << 16];
    for i in 0..3000 {
        let opcode = Opcode(ops[rng.below(ops.len() as u64) as usize]);
        let channel = ChannelId(match rng.below(4) {
            0 => rng.below(256) as u8,
            _ => [0, 1, 2, 3, 5, 6][rng.below(6) as usize],
        });
        let flags = if rng.below(8) == 0 { Flags::from_bits_retain(rng.below(256) as u8) } else { Flags::empty() };
        let mut payload: Vec<u8> = (0..rng.below(24)).map(|_| rng.next() as u8).collect();
        if rng.below(2) == 0 {
            // Plausible requests with wild numbers: u32 offset / request, u32 length, data.
            let words = [0, 1, 2, 3, 9, 10, 4095, 9_999, 10_000, 1 << 20, u32::MAX - 1, u32::MAX];
            let mut p = Vec::new();
            for _ in 0..2 {
                let w =
                    if rng.below(2) == 0 { words[rng.below(words.len() as u64) as usize] } else { rng.next() as u32 };
                p.extend_from_slice(&w.to_le_bytes());
            }
            p.extend_from_slice(&payload);
            payload = p;
        }
        if opcode == Opcode::SYS_RESET {
            continue; // restarts the cam: covered elsewhere
        }
        let hd = Header { seq: rng.next() as u8, channel, flags, opcode, length: 0 };
        let parts = encode_parts(&hd, &payload, Some(&FastCrc)).unwrap();
        let mut bytes = parts.header.to_vec();
        bytes.extend_from_slice(parts.payload);
        bytes.extend_from_slice(parts.crc_bytes());
        if i % 50 == 0 {
            // And some line noise.
            let junk: Vec<u8> = (0..rng.below(300)).map(|_| rng.next() as u8).collect();
            h.tx.send(&junk).unwrap();
        }
        h.tx.send(&bytes).unwrap();
        if i % 10 == 0 {
            // Take whatever came back (socket timeouts are coarse: not after every packet).
            while h.rx.recv(&mut sink, Duration::from_micros(300)).unwrap() > 0 {}
        }
    }

    // Back to normal: a fresh host with default settings finds a working cam.
    h.host = Host::default();
    h.connect();
    let list = h.data(Opcode::CHANNEL_LIST, ChannelId::TRANSPORT, vec![]);
    assert_eq!(list.len(), 6 * 16);
    h.write_all(CONFIG_ID, b"still alive");
    assert_eq!(h.read_all(CONFIG_ID), b"still alive");
    assert_eq!(h.ioctl(ChannelId::STREAM, ioctl::STREAM_CTRL, &1u32.to_le_bytes()), Ok(Response::Ack));
    check_gray(&h.frame(), 16, 8);
    assert!(!cam.is_finished());
}

#[test]
fn options_the_engine_cannot_run_are_refused() {
    assert!(Options::default().validate().is_ok());
    let refused = |o: Options| o.validate().unwrap_err().kind() == io::ErrorKind::InvalidInput;
    // Whole milliseconds only: 500 us would become a retransmit timeout of 0.
    assert!(refused(Options { rtx_timeout: Duration::from_micros(500), ..Options::default() }));
    assert!(refused(Options { config_cap: 0, ..Options::default() }));
    assert!(refused(Options { fragment: 0, ..Options::default() }));
    assert!(Options { rtx_timeout: Duration::from_millis(1), ..Options::default() }.validate().is_ok());
}
