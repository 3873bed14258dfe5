//! This project's client against the `omv-vcam` binary over a real pseudo-terminal and a real
//! TCP socket, and against the virtual cam in-process over the in-memory transport: the same
//! scenarios the real `openmv` 1.0.7 client passes (tests/interop).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use openmvproto::client::{Camera, ClientEvent, Options};
use openmvproto::framing::payload::{event, PixFormat};
use openmvproto::transport::{memory, SerialTransport, TcpTransport, Transport};
use openmvproto_vcam::VirtualCam;

/// A running `omv-vcam`, killed on drop.
struct Vcam(Child);

impl Drop for Vcam {
    fn drop(&mut self) {
        // SIGTERM lets the cam remove its pty link; SIGKILL only if it does not exit.
        // SAFETY: kill(2) on our own child's pid has no memory-safety preconditions.
        unsafe { libc::kill(self.0.id() as libc::pid_t, libc::SIGTERM) };
        for _ in 0..200 {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn vcam(args: &[&str]) -> Vcam {
    let child = Command::new(env!("CARGO_BIN_EXE_omv-vcam"))
        .args(args)
        .args(["--log-level", "warn"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start omv-vcam");
    Vcam(child)
}

fn vcam_tcp() -> (Vcam, String) {
    let mut v = vcam(&["--tcp", "127.0.0.1:0", "--fps", "60"]);
    let out = v.0.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(out).read_line(&mut line).unwrap();
    let addr = line.trim().strip_prefix("listening on ").expect("address line").to_string();
    (v, addr)
}

fn vcam_pty() -> (Vcam, String) {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let link = std::env::temp_dir().join(format!("omv-vcam-test-{}-{n}", std::process::id()));
    let link = link.to_str().unwrap().to_string();
    let _ = std::fs::remove_file(&link);
    let v = vcam(&["--pty", &link, "--fps", "60"]);
    let t = Instant::now();
    while std::fs::symlink_metadata(&link).is_err() {
        assert!(t.elapsed() < Duration::from_secs(10), "omv-vcam made no pty link");
        std::thread::sleep(Duration::from_millis(10));
    }
    (v, link)
}

fn check_gray(width: u32, height: u32, px: &[u8]) -> u8 {
    assert_eq!(px.len(), (width * height) as usize);
    let n = px[0];
    for y in 0..height {
        for x in 0..width {
            let want = ((x + y + n as u32) % 256) as u8;
            assert_eq!(px[(y * width + x) as usize], want, "pixel ({x}, {y}) of frame {n}");
        }
    }
    n
}

/// The interoperability scenario, end to end.
fn scenario(transport: impl Transport + 'static) {
    let events = Arc::new(AtomicU32::new(0));
    let seen = events.clone();
    let cam = Camera::connect(
        transport,
        Options::default().on_event(move |e| {
            if let ClientEvent::Device { .. } = e {
                seen.fetch_add(1, Ordering::Relaxed);
            }
        }),
    )
    .unwrap();

    let names: Vec<String> = cam.channels().unwrap().into_iter().map(|c| c.name).collect();
    for want in ["stdin", "stdout", "stream", "config", "ticks"] {
        assert!(names.iter().any(|n| n == want), "no {want} in {names:?}");
    }
    let v = cam.version().unwrap();
    assert_eq!((v.protocol.0, v.protocol.1, v.protocol.2), (1, 0, 2));
    assert_eq!(cam.system_info().unwrap().usb_vid(), 0x37C5);
    assert_eq!(cam.read_available("ticks").unwrap().len(), 10);

    // A script's prints come back through stdout.
    cam.exec("import sys\nfor i in range(3):\n    print('hello from script', i)\nsys.stdout.flush()\n").unwrap();
    let mut out = String::new();
    let t = Instant::now();
    while !out.contains("hello from script 2") {
        assert!(t.elapsed() < Duration::from_secs(20), "script output so far: {out:?}");
        out += &cam.read_stdout().unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }

    // Streaming: every frame checked pixel for pixel, frame numbers increasing.
    cam.streaming(true, false, None).unwrap();
    let mut last: Option<u8> = None;
    let mut frames = 0;
    let t = Instant::now();
    while frames < 15 {
        assert!(t.elapsed() < Duration::from_secs(20), "only {frames} frames");
        let Some(f) = cam.read_frame().unwrap() else {
            std::thread::sleep(Duration::from_millis(2));
            continue;
        };
        assert_eq!(f.format, PixFormat::GRAYSCALE);
        assert_eq!((f.width, f.height), (320, 240));
        assert!(f.fps.is_some_and(|fps| fps > 0.0));
        let n = check_gray(f.width, f.height, &f.data);
        if let Some(prev) = last {
            let step = n.wrapping_sub(prev);
            assert!((1..128).contains(&step), "frame {n} after {prev}");
        }
        last = Some(n);
        frames += 1;
    }
    cam.streaming(false, false, None).unwrap();
    assert!(events.load(Ordering::Relaxed) > 0, "no events arrived");

    // A config round trip of 64 KiB and more, in max_payload - 8 pieces.
    for len in [65_536usize, 70_001] {
        let data: Vec<u8> = (0..len as u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
        cam.write("config", 0, &data).unwrap();
        assert_eq!(cam.size("config").unwrap() as usize, len);
        assert_eq!(cam.read_available("config").unwrap(), data);
    }
    let stats = cam.device_stats().unwrap();
    assert!(stats.sent > 50 && stats.received > 50, "{stats:?}");
    assert_eq!(stats.checksum_errors, 0);
    // The script's end restarts the cam's engine at counter 0: a request already on its way
    // when SOFT_REBOOT went out is refused once, then the host resynchronises.
    assert!(stats.sequence_errors <= 1, "{stats:?}");
}

#[test]
fn over_a_pseudo_terminal() {
    let (_v, link) = vcam_pty();
    scenario(SerialTransport::new(&link));
}

#[test]
fn sigterm_ends_the_cam_cleanly_and_removes_its_pty_link() {
    let (mut v, link) = vcam_pty();
    // SAFETY: kill(2) on our own child's pid has no memory-safety preconditions.
    unsafe { libc::kill(v.0.id() as libc::pid_t, libc::SIGTERM) };
    let t = Instant::now();
    let status = loop {
        if let Some(s) = v.0.try_wait().unwrap() {
            break s;
        }
        assert!(t.elapsed() < Duration::from_secs(10), "omv-vcam did not exit on SIGTERM");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(status.success(), "omv-vcam exited with {status}");
    assert!(std::fs::symlink_metadata(&link).is_err(), "the pty link {link} is still there");
}

#[test]
fn over_tcp() {
    let (_v, addr) = vcam_tcp();
    scenario(TcpTransport::new(&addr));
}

#[test]
fn in_process_over_memory() {
    let (host, dev) = memory::pair();
    let (rx, tx) = dev.split();
    let _cam = VirtualCam::builder().fps(60.0).spawn(Box::new(rx), Box::new(tx)).unwrap();
    scenario(host);
}

#[test]
fn a_host_can_leave_and_another_connect() {
    let (_v, link) = vcam_pty();
    for _ in 0..3 {
        let cam = Camera::connect(SerialTransport::new(&link), Options::default()).unwrap();
        cam.write("config", 0, b"thr=42").unwrap();
        assert_eq!(cam.read_available("config").unwrap(), b"thr=42");
    }
}

#[test]
fn many_threads_on_one_client_while_events_stream() {
    let (_v, addr) = vcam_tcp();
    let events = Arc::new(AtomicU32::new(0));
    let seen = events.clone();
    let cam = Arc::new(
        Camera::connect(
            TcpTransport::new(&addr),
            Options::default().on_event(move |e| {
                if matches!(e, ClientEvent::Device { code: event::NOTIFY, .. }) {
                    seen.fetch_add(1, Ordering::Relaxed);
                }
            }),
        )
        .unwrap(),
    );
    cam.streaming(true, false, None).unwrap();
    let threads: Vec<_> = (0..8u8)
        .map(|t| {
            let cam = cam.clone();
            std::thread::spawn(move || {
                for i in 0..25u32 {
                    match t % 4 {
                        0 => assert_eq!(cam.read_available("ticks").unwrap().len(), 10),
                        1 => assert_eq!(cam.version().unwrap().protocol.0, 1),
                        2 => {
                            if let Some(f) = cam.read_frame().unwrap() {
                                check_gray(f.width, f.height, &f.data);
                            }
                        }
                        _ => {
                            let name = cam.channels().unwrap().len();
                            assert!(name >= 5, "{i}");
                        }
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    cam.streaming(false, false, None).unwrap();
    assert!(events.load(Ordering::Relaxed) > 0);
}
