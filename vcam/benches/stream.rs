//! Frame streaming from `omv-vcam` over a pseudo-terminal: frames per second and MB/s for this
//! project's client and for the real `openmv` 1.0.7 Python client on the same cam, same run.
//! The cam produces frames as fast as they are taken (--fps 1000), so the host is measured.
//!
//! Run: `cargo bench --bench stream` (needs the venv of scripts/openmv-venv.sh).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use openmvproto::client::{Camera, Options};
use openmvproto::transport::SerialTransport;

const SECONDS: f64 = 5.0;

struct Cam(Child, PathBuf);

impl Drop for Cam {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_file(&self.1);
    }
}

fn start_cam(bin: &Path, width: u32, height: u32, lock_interval_ms: u32) -> Cam {
    let link = std::env::temp_dir().join(format!("omv-bench-{}-{width}-{lock_interval_ms}", std::process::id()));
    let child = Command::new(bin)
        .args(["--pty", link.to_str().unwrap(), "--fps", "1000", "--log-level", "warn"])
        .args(["--width", &width.to_string(), "--height", &height.to_string()])
        .args(["--lock-interval-ms", &lock_interval_ms.to_string()])
        .stdout(Stdio::null())
        .spawn()
        .expect("start omv-vcam");
    let t = Instant::now();
    while std::fs::symlink_metadata(&link).is_err() {
        assert!(t.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(10));
    }
    Cam(child, link)
}

fn ours(link: &Path) -> (u64, f64, u64) {
    let cam = Camera::connect(SerialTransport::new(link.to_str().unwrap()), Options::default()).unwrap();
    cam.streaming(true, false, None).unwrap();
    let (mut frames, mut bytes) = (0u64, 0u64);
    let start = Instant::now();
    while start.elapsed().as_secs_f64() < SECONDS {
        if let Some(f) = cam.read_frame().unwrap() {
            frames += 1;
            bytes += f.data.len() as u64;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    cam.streaming(false, false, None).unwrap();
    (frames, secs, bytes)
}

fn theirs(link: &Path, python: &Path) -> Option<(u64, f64, u64)> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/interop/stream_bench.py");
    let out = Command::new(python)
        .args([script, "--port", link.to_str().unwrap(), "--seconds", &SECONDS.to_string()])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(text.lines().last()?).ok()?;
    Some((v["frames"].as_u64()?, v["seconds"].as_f64()?, v["bytes"].as_u64()?))
}

fn main() {
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().unwrap().parent().unwrap().join("omv-vcam");
    let python = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/venv-openmv/bin/python"));
    println!("frame streaming over a pty from omv-vcam, {SECONDS} s each, same cam, same run");
    println!("{:>10} {:>5}  {:>22}  {:>22}  {:>8}", "frame", "lock", "openmvproto", "openmv 1.0.7", "ratio");
    // The firmware's 10 ms lock interval caps any host at 100 fps; without it the link and
    // the host are what is measured.
    for (w, h, lock_ms) in [(160, 120, 10), (320, 240, 10), (640, 480, 10), (320, 240, 0), (640, 480, 0)] {
        let cam = start_cam(&bin, w, h, lock_ms);
        let (f1, s1, b1) = ours(&cam.1);
        let them = theirs(&cam.1, &python);
        let fps1 = f1 as f64 / s1;
        let ours_col = format!("{fps1:7.1} fps {:6.2} MB/s", b1 as f64 / s1 / 1e6);
        match them {
            Some((f2, s2, b2)) if f2 > 0 => {
                let fps2 = f2 as f64 / s2;
                let theirs_col = format!("{fps2:7.1} fps {:6.2} MB/s", b2 as f64 / s2 / 1e6);
                println!(
                    "{:>10} {:>3}ms  {ours_col:>22}  {theirs_col:>22}  {:7.1}x",
                    format!("{w}x{h}"),
                    lock_ms,
                    fps1 / fps2
                );
            }
            _ => println!("{:>10} {:>3}ms  {ours_col:>22}  {:>22}", format!("{w}x{h}"), lock_ms, "(openmv failed)"),
        }
    }
}
