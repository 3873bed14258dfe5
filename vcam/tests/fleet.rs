//! A fleet: 64 `omv-vcam` processes read by this one process at once, every frame verified,
//! with the host's CPU and memory per cam printed.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use openmvproto::client::{Camera, Options};
use openmvproto::framing::payload::PixFormat;
use openmvproto::transport::TcpTransport;

struct Vcam(Child);

impl Drop for Vcam {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_vcam() -> (Vcam, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_omv-vcam"))
        .args(["--tcp", "0", "--width", "64", "--height", "48", "--fps", "30", "--log-level", "warn"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start omv-vcam");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.trim().strip_prefix("listening on ").expect("omv-vcam prints its address").to_owned();
    (Vcam(child), addr)
}

/// User plus system CPU time of this process.
fn cpu_time() -> Duration {
    // SAFETY: getrusage writes into the zeroed struct we pass; RUSAGE_SELF is always valid.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut ru);
        ru
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn proc_status(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = s.lines().find(|l| l.starts_with(field)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Checks the test pattern `(x + y + n) mod 256`; gives n.
fn check_gray(width: u32, height: u32, px: &[u8]) -> u8 {
    assert_eq!(px.len(), (width * height) as usize);
    let n = px[0];
    for y in 0..height {
        for x in 0..width {
            assert_eq!(px[(y * width + x) as usize], ((x + y + n as u32) % 256) as u8, "pixel ({x}, {y})");
        }
    }
    n
}

#[test]
fn sixty_four_cams_read_by_one_process() {
    const CAMS: usize = 64;
    const SECONDS: u64 = 3;
    let vcams: Vec<(Vcam, String)> = (0..CAMS).map(|_| spawn_vcam()).collect();
    let cams: Vec<Arc<Camera>> = vcams
        .iter()
        .map(|(_, addr)| {
            let cam = Camera::connect(TcpTransport::new(addr.clone()), Options::default()).expect("connect");
            cam.streaming(true, false, None).unwrap();
            Arc::new(cam)
        })
        .collect();
    let frames = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let (cpu0, t0) = (cpu_time(), Instant::now());
    let readers: Vec<_> = cams
        .iter()
        .map(|cam| {
            let (cam, frames, stop) = (cam.clone(), frames.clone(), stop.clone());
            thread::spawn(move || {
                let mut mine = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    // Sleeps until the cam's NOTIFY: no polling.
                    if let Some(f) = cam.wait_frame(Duration::from_millis(200)).unwrap() {
                        assert_eq!((f.width, f.height, f.format), (64, 48, PixFormat::GRAYSCALE));
                        check_gray(f.width, f.height, &f.data);
                        mine += 1;
                    }
                }
                frames.fetch_add(mine, Ordering::Relaxed);
                mine
            })
        })
        .collect();
    thread::sleep(Duration::from_secs(SECONDS)); // the measuring window, not synchronisation
    stop.store(true, Ordering::Relaxed);
    let per_cam: Vec<u64> = readers.into_iter().map(|r| r.join().unwrap()).collect();
    let (cpu, wall) = (cpu_time() - cpu0, t0.elapsed());
    let total = frames.load(Ordering::Relaxed);
    let rss_kb = proc_status("VmRSS:");
    let nominal = CAMS as f64 * 30.0 * wall.as_secs_f64();
    let report = format!(
        "fleet: {CAMS} cams, {total} frames verified in {:.2} s ({:.0} frames/s, {:.0}% of the cams' 30 fps)",
        wall.as_secs_f64(),
        total as f64 / wall.as_secs_f64(),
        100.0 * total as f64 / nominal
    ) + &format!(
        "\nfleet: host CPU {:.1}% of one core ({:.2}% per cam), {:.0} us per frame; RSS {:.1} MB ({:.0} KB per cam)",
        100.0 * cpu.as_secs_f64() / wall.as_secs_f64(),
        100.0 * cpu.as_secs_f64() / wall.as_secs_f64() / CAMS as f64,
        cpu.as_secs_f64() * 1e6 / total.max(1) as f64,
        rss_kb as f64 / 1024.0,
        rss_kb as f64 / CAMS as f64
    );
    println!("{report}");
    // The test command prints this file: test output is captured.
    std::fs::write(concat!(env!("CARGO_TARGET_TMPDIR"), "/fleet.txt"), format!("{report}\n")).unwrap();
    for (i, n) in per_cam.iter().enumerate() {
        assert!(*n >= 10, "cam {i} delivered only {n} frames in {wall:?}");
    }
}
