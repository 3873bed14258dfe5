//! End-to-end check of the emulated cam (firmware/qemu-cam) over TCP, driven by this project's
//! host client, the thread-safe std `openmvproto::client::Camera`:
//!
//!     fw-e2e 127.0.0.1:PORT [--frames N] [--config-bytes N] [--timeout SECS] [--no-boot]
//!
//! Connect (resync, caps), version and system info, channel list, N frames checked pixel for
//! pixel, a config round trip, a script through stdin/stdout, device statistics (printed with
//! the host's); then SYS_BOOT, which ends QEMU with status 0 (unless --no-boot). `--timeout`
//! bounds the whole run; each answer may take up to 5 s (the emulated UART is slow). Exits 0
//! on success, 1 on a failed check, 2 on a usage error.

use std::process::ExitCode;
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use openmvproto::client::{Camera, ClientEvent, Error as ClientError, Options};
use openmvproto::framing::payload::{CapFlags, ChannelFlags, PixFormat};
use openmvproto::framing::ChannelId;
use openmvproto::transport::TcpTransport;

type Res<T> = Result<T, String>;

/// How long one answer (or the next fragment of one) may take.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);
const W: usize = 64;
const H: usize = 48;

struct Opts {
    addr: String,
    frames: usize,
    config_bytes: usize,
    timeout: Duration,
    boot: bool,
}

fn parse_args() -> Res<Opts> {
    let mut args = std::env::args().skip(1);
    let mut o =
        Opts { addr: String::new(), frames: 3, config_bytes: 20_000, timeout: Duration::from_secs(60), boot: true };
    while let Some(a) = args.next() {
        let mut num = |name: &str| -> Res<u64> {
            args.next().and_then(|v| v.parse().ok()).ok_or(format!("{name} needs a number"))
        };
        match a.as_str() {
            "--frames" => o.frames = num("--frames")? as usize,
            "--config-bytes" => o.config_bytes = num("--config-bytes")? as usize,
            "--timeout" => o.timeout = Duration::from_secs(num("--timeout")?),
            "--no-boot" => o.boot = false,
            _ if o.addr.is_empty() && !a.starts_with('-') => o.addr = a,
            _ => return Err(format!("unexpected argument {a}")),
        }
    }
    if o.addr.is_empty() {
        return Err("usage: fw-e2e HOST:PORT [--frames N] [--config-bytes N] [--timeout SECS] [--no-boot]".into());
    }
    Ok(o)
}

fn check(cond: bool, what: impl FnOnce() -> String) -> Res<()> {
    if cond {
        Ok(())
    } else {
        Err(what())
    }
}

/// Client errors as check failures, saying what was being done.
fn ctx(what: &str) -> impl FnOnce(ClientError) -> String + '_ {
    move |e| format!("{what}: {e}")
}

fn step(name: &str, t: Instant) {
    println!("  ok  {name} ({} ms)", t.elapsed().as_millis());
}

/// Device events seen by the client's listener.
type Events = Arc<Mutex<Vec<(ChannelId, u16)>>>;

/// Connects, retrying for 5 s while the port refuses (QEMU may still be starting).
fn connect(o: &Opts, events: &Events) -> Res<Camera> {
    let start = Instant::now();
    loop {
        let seen = events.clone();
        let opts = Options::default().timeout(ANSWER_TIMEOUT).on_event(move |e| {
            if let ClientEvent::Device { channel, code } = e {
                seen.lock().unwrap().push((*channel, *code));
            }
        });
        match Camera::connect(TcpTransport::new(o.addr.clone()), opts) {
            Ok(cam) => return Ok(cam),
            Err(ClientError::Io(e)) if start.elapsed() < Duration::from_secs(5) => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => return Err(format!("connect {}: {e}", o.addr)),
        }
    }
}

fn check_channels(cam: &Camera) -> Res<()> {
    let list = cam.channels().map_err(ctx("channel list"))?;
    use ChannelFlags as F;
    let want = [
        (1, "stdin", F::WRITE | F::EXEC),
        (2, "stdout", F::READ),
        (3, "stream", F::READ | F::LOCK | F::STREAM),
        (4, "config", F::READ | F::WRITE | F::DYNAMIC), // the first free id, as on the firmware
    ];
    for (id, name, flags) in want {
        let c = list.iter().find(|c| c.name == name).ok_or(format!("no channel {name} in {list:?}"))?;
        check(c.id.0 == id && c.flags == flags, || {
            format!("channel {name}: id {} {:?}, want id {id} {flags:?}", c.id.0, c.flags)
        })?;
    }
    Ok(())
}

/// Reads the next frame (retrying while the cam has none ready) and checks every pixel.
/// Returns the frame number modulo 256, taken from pixel (0, 0).
fn read_frame(cam: &Camera) -> Res<u8> {
    let t = Instant::now();
    let f = loop {
        match cam.read_frame().map_err(ctx("read frame"))? {
            Some(f) => break f,
            None if t.elapsed() < Duration::from_secs(5) => std::thread::sleep(Duration::from_millis(12)),
            None => return Err("no frame ready within 5 s".into()),
        }
    };
    check(f.width == W as u32 && f.height == H as u32 && f.format == PixFormat::GRAYSCALE, || {
        format!("frame {}x{} {:?}, want {W}x{H} GRAYSCALE", f.width, f.height, f.format)
    })?;
    let px = &f.data;
    check(px.len() == W * H, || format!("{} pixel bytes, want {}", px.len(), W * H))?;
    let n = px[0];
    for y in 0..H {
        for x in 0..W {
            let want = (x + y + n as usize) as u8;
            check(px[y * W + x] == want, || format!("pixel ({x},{y}) = {}, want {want}", px[y * W + x]))?;
        }
    }
    Ok(n)
}

/// Writes `data` to config (the client splits it into pieces by offset), checks the size,
/// reads it back.
fn config_roundtrip(cam: &Camera, data: &[u8]) -> Res<()> {
    cam.write("config", 0, data).map_err(ctx("config write"))?;
    let size = cam.size("config").map_err(ctx("config size"))?;
    check(size as usize == data.len(), || format!("config size {size}, wrote {}", data.len()))?;
    let back = cam.read_available("config").map_err(ctx("config read"))?;
    check(back.len() == data.len(), || format!("config read back {} bytes, wrote {}", back.len(), data.len()))?;
    check(back == data, || {
        let at = back.iter().zip(data).position(|(a, b)| a != b).unwrap_or(0);
        format!("config read back differs at byte {at}")
    })
}

fn e2e(o: &Opts) -> Res<()> {
    let events: Events = Arc::default();

    let t = Instant::now();
    let cam = connect(o, &events)?;
    let caps = cam.caps();
    check(caps.max_payload == 4082 && caps.flags == CapFlags::all() && caps.flags.bits() == 0xF, || {
        format!("caps {caps:?}")
    })?;
    step(&format!("connect {}, resync, caps 4082 crc+seq+ack+events", cam.describe()), t);

    let t = Instant::now();
    let v = cam.version().map_err(ctx("version"))?;
    check(v.protocol == openmvproto::framing::payload::Version::PROTOCOL, || format!("protocol {:?}", v.protocol))?;
    let info = cam.system_info().map_err(ctx("system info"))?;
    check(info.usb_vid() == 0x37C5, || format!("usb id {:#x}", info.usb_id))?;
    step(&format!("version {:?}, usb {:04x}:{:04x}", v.protocol, info.usb_vid(), info.usb_pid()), t);

    let t = Instant::now();
    check_channels(&cam)?;
    step("channel list: stdin stdout stream config", t);

    let t = Instant::now();
    let mut last: Option<u8> = None;
    for _ in 0..o.frames {
        let n = read_frame(&cam)?;
        if let Some(p) = last {
            check(n == p.wrapping_add(1), || format!("frame n%256 {n} after {p}"))?;
        }
        last = Some(n);
    }
    check(cam.frames_received() == o.frames as u64, || format!("client counted {} frames", cam.frames_received()))?;
    step(&format!("{} frames 64x48 GRAYSCALE pixel-exact, last n%256 {}", o.frames, last.unwrap_or(0)), t);

    let t = Instant::now();
    let mut seed = 0x2545_F491_u32;
    let data: Vec<u8> = (0..o.config_bytes)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed as u8
        })
        .collect();
    config_roundtrip(&cam, &data)?;
    let small = &data[..data.len().min(100)];
    config_roundtrip(&cam, small)?;
    step(
        &format!("config round trip {} bytes, then {} bytes (size follows the last write)", data.len(), small.len()),
        t,
    );

    let t = Instant::now();
    let boot_text = cam.read_stdout().map_err(ctx("stdout"))?;
    check(boot_text.contains("qemu-cam: openmvproto engine up"), || format!("stdout: {boot_text:?}"))?;
    cam.exec("print('hello from fw-e2e')").map_err(ctx("exec"))?;
    let mut out = String::new();
    let t2 = Instant::now();
    while !out.contains("hello from fw-e2e") && t2.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(10));
        out += &cam.read_stdout().map_err(ctx("stdout"))?;
    }
    check(out.contains("bytes:\nprint('hello from fw-e2e')"), || format!("stdout after exec: {out:?}"))?;
    // Listeners run on the client's event thread: give the events a moment to arrive.
    let stdin_events = || events.lock().unwrap().iter().filter(|(c, _)| *c == ChannelId::STDIN).count();
    let t2 = Instant::now();
    while stdin_events() < 2 && t2.elapsed() < Duration::from_secs(1) {
        std::thread::sleep(Duration::from_millis(10));
    }
    check(stdin_events() >= 2, || format!("stdin events {}", stdin_events()))?;
    step("stdout boot text; stdin exec echoed on stdout with script events", t);

    let t = Instant::now();
    let s = cam.device_stats().map_err(ctx("device stats"))?;
    let h = cam.host_stats();
    check(s.checksum_errors == 0 && s.sequence_errors == 0 && s.retransmits == 0, || format!("device stats {s:?}"))?;
    check(h.checksum_errors == 0 && h.sequence_errors == 0 && h.retransmits == 0, || format!("host stats {h:?}"))?;
    step("PROTO_STATS (no errors on either side)", t);
    println!(
        "  device stats: sent {} received {} checksum errors {} sequence errors {} retransmits {} \
         transport errors {} events sent {}",
        s.sent, s.received, s.checksum_errors, s.sequence_errors, s.retransmits, s.transport_errors, s.events
    );
    println!(
        "  host stats:   sent {} received {} checksum errors {} sequence errors {} retransmits {} \
         transport errors {} events {}",
        h.sent, h.received, h.checksum_errors, h.sequence_errors, h.retransmits, h.transport_errors, h.events
    );
    println!("  device events seen by the client: {}", events.lock().unwrap().len());

    if o.boot {
        // No answer comes: the cam ends the emulation; the client closes the link.
        cam.boot().map_err(ctx("boot"))?;
        println!("  sent SYS_BOOT (ends QEMU)");
    }
    Ok(())
}

fn main() -> ExitCode {
    let o = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("fw-e2e: {e}");
            return ExitCode::from(2);
        }
    };
    let t = Instant::now();
    // The whole run is bounded by --timeout: the checks run on their own thread.
    let timeout = o.timeout;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(e2e(&o));
    });
    let result = rx.recv_timeout(timeout).unwrap_or_else(|e| match e {
        mpsc::RecvTimeoutError::Timeout => Err(format!("overall timeout ({} s)", timeout.as_secs())),
        mpsc::RecvTimeoutError::Disconnected => Err("the check thread panicked".into()),
    });
    match result {
        Ok(()) => {
            println!("fw-e2e: PASS in {} ms", t.elapsed().as_millis());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("fw-e2e: FAIL: {e}");
            ExitCode::FAILURE
        }
    }
}
