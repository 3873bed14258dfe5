//! Frame streaming from `omv-vcam` over a pseudo-terminal: MB/s, frames/s and host CPU per
//! MB for this project's client and for the real `openmv` 1.0.7 Python client on the same
//! cam, same run, beside the raw byte rate of a pty measured here through the same transport
//! code. The cam produces frames as fast as they are taken (--fps 1000), so the host and the
//! link are what is measured.
//!
//! Run: `cargo bench --bench stream` (needs the venv of scripts/openmv-venv.sh).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use openmvproto::client::{Camera, Options};
use openmvproto::transport::{SerialTransport, Transport};
use openmvproto_vcam::Pty;

const SECONDS: f64 = 3.0;

struct Cam(Child, PathBuf);

impl Drop for Cam {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_file(&self.1);
    }
}

/// What one client moved: frames, bytes, seconds, CPU seconds.
struct Moved {
    frames: u64,
    bytes: u64,
    secs: f64,
    cpu: f64,
}

impl Moved {
    fn mb_s(&self) -> f64 {
        self.bytes as f64 / self.secs / 1e6
    }
    fn cpu_ms_per_mb(&self) -> f64 {
        self.cpu * 1e3 / (self.bytes as f64 / 1e6)
    }
    fn column(&self) -> String {
        format!("{:7.1} fps {:6.2} MB/s {:6.1} ms", self.frames as f64 / self.secs, self.mb_s(), self.cpu_ms_per_mb())
    }
}

fn cpu_self() -> f64 {
    // SAFETY: getrusage only writes the struct we pass; RUSAGE_SELF is always valid.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut ru);
        ru
    };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn start_cam(bin: &Path, width: u32, height: u32, format: &str, lock_interval_ms: u32) -> Cam {
    let link =
        std::env::temp_dir().join(format!("omv-bench-{}-{width}-{format}-{lock_interval_ms}", std::process::id()));
    let child = Command::new(bin)
        .args(["--pty", link.to_str().unwrap(), "--fps", "1000", "--log-level", "warn", "--format", format])
        .args(["--width", &width.to_string(), "--height", &height.to_string()])
        .args(["--lock-interval-ms", &lock_interval_ms.to_string()])
        .stdout(Stdio::null())
        .spawn()
        .expect("start omv-vcam");
    let t = Instant::now();
    while std::fs::symlink_metadata(&link).is_err() {
        assert!(t.elapsed() < Duration::from_secs(10), "omv-vcam made no pty");
        std::thread::sleep(Duration::from_millis(10)); // polling for the link to appear
    }
    Cam(child, link)
}

fn ours(link: &Path) -> Moved {
    let cam = Camera::connect(SerialTransport::new(link.to_str().unwrap()), Options::default()).unwrap();
    cam.streaming(true, false, None).unwrap();
    let (mut frames, mut bytes) = (0u64, 0u64);
    let (start, cpu0) = (Instant::now(), cpu_self());
    while start.elapsed().as_secs_f64() < SECONDS {
        if let Some(f) = cam.wait_frame(Duration::from_millis(500)).unwrap() {
            frames += 1;
            bytes += f.data.len() as u64;
        }
    }
    let (secs, cpu) = (start.elapsed().as_secs_f64(), cpu_self() - cpu0);
    cam.streaming(false, false, None).unwrap();
    Moved { frames, bytes, secs, cpu }
}

fn theirs(link: &Path, python: &Path) -> Option<Moved> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/interop/stream_bench.py");
    let out = Command::new(python)
        .args([script, "--port", link.to_str().unwrap(), "--seconds", &SECONDS.to_string()])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(text.lines().last()?).ok()?;
    Some(Moved {
        frames: v["frames"].as_u64()?,
        bytes: v["bytes"].as_u64()?,
        secs: v["seconds"].as_f64()?,
        cpu: v["cpu_seconds"].as_f64()?,
    })
}

/// Bytes per second from a pty's master to a host reading its slave with this project's
/// serial transport, in 4 KiB writes (a packet buffer's worth), for `SECONDS`.
fn raw_pty_rate() -> f64 {
    let pty = Pty::open().unwrap();
    let (mut rx, _tx) = SerialTransport::new(pty.slave_path().to_str().unwrap()).open().unwrap();
    let (_, mut master) = pty.halves();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            use openmvproto::transport::TxHalf;
            let chunk = [0x5Au8; 4096];
            while !stop.load(Ordering::Relaxed) {
                if master.send(&chunk).is_err() {
                    break;
                }
            }
        })
    };
    let mut buf = vec![0u8; 64 * 1024];
    let (start, mut got) = (Instant::now(), 0u64);
    while start.elapsed().as_secs_f64() < SECONDS {
        got += rx.recv(&mut buf, Duration::from_millis(100)).unwrap() as u64;
    }
    let rate = got as f64 / start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    // Keep reading until the writer sees the flag (its write may be blocked on a full pty).
    while !writer.is_finished() {
        let _ = rx.recv(&mut buf, Duration::from_millis(10));
    }
    writer.join().unwrap();
    rate
}

fn main() {
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().unwrap().parent().unwrap().join("omv-vcam");
    let python = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/venv-openmv/bin/python"));
    let raw = raw_pty_rate() / 1e6;
    println!("frame streaming over a pty from omv-vcam, {SECONDS} s each, same cam, same run");
    println!("raw pty rate (4 KiB writes, this project's serial transport reading): {raw:.1} MB/s");
    println!(
        "{:>18} {:>5}  {:>32}  {:>32}  {:>7} {:>8} {:>7}",
        "frame",
        "lock",
        "openmvproto (fps, MB/s, CPU/MB)",
        "openmv 1.0.7 (fps, MB/s, CPU/MB)",
        "speed",
        "CPU/MB",
        "of pty"
    );
    // The firmware's 10 ms lock interval caps any host at 100 fps; without it the link and
    // the host are what is measured.
    for (w, h, format, lock_ms) in [(320, 240, "grayscale", 10), (640, 480, "rgb565", 0)] {
        let cam = start_cam(&bin, w, h, format, lock_ms);
        let us = ours(&cam.1);
        let name = format!("{w}x{h} {format}");
        let of_pty = format!("{:.0}%", 100.0 * us.mb_s() / raw);
        match theirs(&cam.1, &python) {
            Some(them) if them.frames > 0 => println!(
                "{name:>18} {lock_ms:>3}ms  {:>32}  {:>32}  {:>6.1}x {:>7.1}x {of_pty:>7}",
                us.column(),
                them.column(),
                us.mb_s() / them.mb_s(),
                them.cpu_ms_per_mb() / us.cpu_ms_per_mb()
            ),
            _ => println!("{name:>18} {lock_ms:>3}ms  {:>32}  {:>32}  {of_pty:>25}", us.column(), "(openmv failed)"),
        }
    }
    println!("speed: MB/s ours / theirs; CPU/MB: their host CPU per MB / ours; of pty: our MB/s / the raw pty rate");
}
