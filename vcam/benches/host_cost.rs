//! What the host spends per cam, per frame and per request, against floors measured in the
//! same run.
//!
//! 1. A fleet: 64 `omv-vcam` processes (TCP, 64x48 grayscale, 30 fps) read by this one
//!    process, one thread per cam, every frame verified; first the loop a new user writes
//!    without a way to wait (`read_frame`, 1 ms sleep on `None`), then `wait_frame`. Host CPU
//!    as % of one core, CPU per frame, context switches per frame, RSS.
//! 2. Round-trip latency of a small request (a 16-byte read of `config`), p50 and p99,
//!    against a bare 16-byte TCP ping-pong between two threads of this process (the
//!    syscall and wake-up floor of any request/answer over loopback).
//!
//! Run: `cargo bench -p openmvproto-vcam --bench host_cost`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use openmvproto::client::{Camera, Frame, Options};
use openmvproto::framing::payload::PixFormat;
use openmvproto::transport::TcpTransport;

const CAMS: usize = 64;
const FPS: f64 = 30.0;
const WINDOW: Duration = Duration::from_secs(3);
const ROUND_TRIPS: usize = 3000;

struct Vcam(Child);

impl Drop for Vcam {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_vcam(args: &[&str]) -> (Vcam, String) {
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().unwrap().parent().unwrap().join("omv-vcam");
    let mut child = Command::new(bin)
        .args(["--tcp", "0", "--log-level", "warn"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start omv-vcam (cargo build --release -p openmvproto-vcam)");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().strip_prefix("listening on ").expect("omv-vcam prints its address").to_owned();
    (Vcam(child), addr)
}

/// This process's CPU time (user + system, all threads) and context switches.
fn usage() -> (Duration, u64) {
    // SAFETY: getrusage only writes the struct we pass; RUSAGE_SELF is always valid.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut ru);
        ru
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    (tv(ru.ru_utime) + tv(ru.ru_stime), (ru.ru_nvcsw + ru.ru_nivcsw) as u64)
}

fn rss_mb() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: f64 =
        s.lines().find_map(|l| l.strip_prefix("VmRSS:")).unwrap().trim().trim_end_matches(" kB").parse().unwrap();
    kb / 1024.0
}

/// Panics unless the frame is the vcam's test pattern `(x + y + n) mod 256`.
fn verify(f: &Frame) {
    assert_eq!((f.width, f.height, f.format), (64, 48, PixFormat::GRAYSCALE));
    assert_eq!(f.data.len(), 64 * 48);
    let n = f.data[0] as usize;
    for (i, px) in f.data.iter().enumerate() {
        let (x, y) = (i % 64, i / 64);
        assert_eq!(*px as usize, (x + y + n) % 256, "pixel ({x}, {y})");
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Poll,
    Wait,
}

struct FleetRun {
    frames: u64,
    secs: f64,
    cpu: Duration,
    switches: u64,
    min_per_cam: u64,
}

fn fleet_run(cams: &[Arc<Camera>], mode: Mode) -> FleetRun {
    let stop = Arc::new(AtomicBool::new(false));
    // Drain what waited in the cams before measuring.
    for cam in cams {
        while cam.read_frame().unwrap().is_some() {}
    }
    let ((cpu0, sw0), t0) = (usage(), Instant::now());
    let readers: Vec<_> = cams
        .iter()
        .map(|cam| {
            let (cam, stop) = (cam.clone(), stop.clone());
            thread::spawn(move || {
                let mut mine = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let got = match mode {
                        Mode::Poll => cam.read_frame().unwrap(),
                        Mode::Wait => cam.wait_frame(Duration::from_millis(200)).unwrap(),
                    };
                    match got {
                        Some(f) => {
                            verify(&f);
                            mine += 1;
                        }
                        None if mode == Mode::Poll => thread::sleep(Duration::from_millis(1)),
                        None => {}
                    }
                }
                mine
            })
        })
        .collect();
    thread::sleep(WINDOW); // the measuring window, not synchronisation
    stop.store(true, Ordering::Relaxed);
    let per_cam: Vec<u64> = readers.into_iter().map(|r| r.join().unwrap()).collect();
    let ((cpu1, sw1), secs) = (usage(), t0.elapsed().as_secs_f64());
    FleetRun {
        frames: per_cam.iter().sum(),
        secs,
        cpu: cpu1 - cpu0,
        switches: sw1 - sw0,
        min_per_cam: per_cam.iter().copied().min().unwrap_or(0),
    }
}

fn fleet() {
    let vcams: Vec<(Vcam, String)> =
        (0..CAMS).map(|_| spawn_vcam(&["--width", "64", "--height", "48", "--fps", "30"])).collect();
    let cams: Vec<Arc<Camera>> = vcams
        .iter()
        .map(|(_, addr)| {
            let cam = Camera::connect(TcpTransport::new(addr.clone()), Options::default()).expect("connect");
            cam.streaming(true, false, None).unwrap();
            Arc::new(cam)
        })
        .collect();
    println!(
        "fleet: {CAMS} omv-vcam processes (TCP, 64x48 grayscale, {FPS} fps), one thread each, {} s per mode, every frame verified",
        WINDOW.as_secs()
    );
    println!(
        "{:>36} {:>9} {:>7} {:>10} {:>11} {:>13} {:>8}",
        "loop", "frames/s", "of fps", "CPU %core", "CPU us/fr", "switches/fr", "RSS MB"
    );
    let mut rows = Vec::new();
    for (mode, name) in [(Mode::Poll, "read_frame + 1 ms sleep on None"), (Mode::Wait, "wait_frame")] {
        let r = fleet_run(&cams, mode);
        let fps = r.frames as f64 / r.secs;
        let core = 100.0 * r.cpu.as_secs_f64() / r.secs;
        let us = r.cpu.as_secs_f64() * 1e6 / r.frames.max(1) as f64;
        println!(
            "{name:>36} {fps:>9.0} {:>6.1}% {core:>9.1}% {us:>11.1} {:>13.2} {:>8.1}",
            100.0 * fps / (CAMS as f64 * FPS),
            r.switches as f64 / r.frames.max(1) as f64,
            rss_mb()
        );
        // Liveness, not speed: every cam must keep delivering.
        assert!(r.min_per_cam >= 10, "{name}: a cam delivered only {} frames", r.min_per_cam);
        rows.push((fps, core, us));
    }
    let ((_, poll_core, poll_us), (fps, core, us)) = (rows[0], rows[1]);
    println!(
        "fleet: wait_frame uses {:.1}x less CPU per frame than polling; {:.1}% of one core for {fps:.0} frames/s (target: all frames in <= 15%: {})",
        poll_us / us,
        core,
        if core <= 15.0 && fps >= 0.98 * CAMS as f64 * FPS { "met" } else { "NOT met" }
    );
    let _ = poll_core;
}

/// Percentile of sorted samples, in microseconds.
fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e6
}

/// A bare request/answer of 16 bytes over loopback TCP between two threads: the round
/// times, and the CPU per round trip of one side (half of both, as both are this process).
fn tcp_ping_pong() -> (Vec<Duration>, Duration) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let echo = thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        s.set_nodelay(true).unwrap();
        let mut b = [0u8; 16];
        while s.read_exact(&mut b).is_ok() {
            if s.write_all(&b).is_err() {
                break;
            }
        }
    });
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_nodelay(true).unwrap();
    let mut b = [7u8; 16];
    let mut v = Vec::with_capacity(ROUND_TRIPS);
    let (cpu0, _) = usage();
    for _ in 0..ROUND_TRIPS {
        let t = Instant::now();
        s.write_all(&b).unwrap();
        s.read_exact(&mut b).unwrap();
        v.push(t.elapsed());
    }
    let cpu = (usage().0 - cpu0) / 2;
    drop(s);
    echo.join().unwrap();
    (v, cpu / ROUND_TRIPS as u32)
}

fn latency() {
    let (_vcam, addr) = spawn_vcam(&["--fps", "1"]);
    let cam = Camera::connect(TcpTransport::new(addr), Options::default()).expect("connect");
    let value = *b"threshold=0042;\n";
    cam.write("config", 0, &value).unwrap();
    let (cpu0, _) = usage();
    let mut ours = Vec::with_capacity(ROUND_TRIPS);
    for _ in 0..ROUND_TRIPS {
        let t = Instant::now();
        let got = cam.read("config", 0, 16).unwrap();
        ours.push(t.elapsed());
        assert_eq!(got, value);
    }
    let cpu = usage().0 - cpu0;
    drop(cam);
    let (mut floor, floor_cpu) = tcp_ping_pong();
    ours.sort();
    floor.sort();
    println!("latency: {ROUND_TRIPS} round trips each, loopback TCP");
    println!("{:>44} {:>9} {:>9} {:>12}", "request", "p50 us", "p99 us", "CPU us/req");
    println!(
        "{:>44} {:>9.1} {:>9.1} {:>12.1}",
        "read 16 B of config (omv-vcam)",
        pct(&ours, 0.5),
        pct(&ours, 0.99),
        cpu.as_secs_f64() * 1e6 / ROUND_TRIPS as f64
    );
    println!(
        "{:>44} {:>9.1} {:>9.1} {:>12.1}",
        "bare 16 B TCP ping-pong (floor, one side)",
        pct(&floor, 0.5),
        pct(&floor, 0.99),
        floor_cpu.as_secs_f64() * 1e6
    );
    println!(
        "latency: p50 {:.1}x, CPU per request {:.1}x the bare round trip",
        pct(&ours, 0.5) / pct(&floor, 0.5),
        cpu.as_secs_f64() / ROUND_TRIPS as f64 / floor_cpu.as_secs_f64()
    );
}

fn main() {
    // `cargo bench` passes --bench; a filter picks one section.
    let filter: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let want = |name: &str| filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str()));
    if want("fleet") {
        fleet();
    }
    if want("latency") {
        latency();
    }
}
