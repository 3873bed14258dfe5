//! `omv bench`: frames/s, MB/s and request latency percentiles of this client, and with
//! `--compare` the same of openmv 1.0.7 on the same cam in the same run, as ratios.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use indicatif::ProgressBar;
use serde::Deserialize;
use serde_json::json;

use openmvproto::client::Camera;
use openmvproto::transport::SerialTransport;
use openmvproto_vcam::VirtualCam;

use crate::cli::{BenchArgs, LinkArgs};
use crate::frame_wait::next_frame;

const OPENMV_BENCH: &str = include_str!("bench_openmv.py");

/// One client's figures.
#[derive(Clone, Debug)]
pub struct Figures {
    pub frames: u64,
    pub seconds: f64,
    pub bytes: u64,
    /// Request round trips, seconds, sorted.
    pub latency: Vec<f64>,
}

impl Figures {
    pub fn fps(&self) -> f64 {
        self.frames as f64 / self.seconds
    }
    pub fn mb_per_s(&self) -> f64 {
        self.bytes as f64 / self.seconds / 1e6
    }
    /// The `p`-th percentile (nearest rank), in microseconds.
    pub fn latency_us(&self, p: f64) -> f64 {
        percentile(&self.latency, p) * 1e6
    }
    fn to_json(&self) -> serde_json::Value {
        json!({"frames": self.frames, "seconds": self.seconds, "bytes": self.bytes, "fps": self.fps(),
               "mb_per_s": self.mb_per_s(), "latency_p50_us": self.latency_us(50.0),
               "latency_p99_us": self.latency_us(99.0), "requests": self.latency.len()})
    }
}

/// Nearest-rank percentile of sorted values; 0 for none.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Measures `cam`: request round trips (CHANNEL_POLL, as openmv's read_status), then frames
/// for `seconds`, each converted to RGB888 as openmv's read_frame does.
pub fn measure(cam: &Camera, seconds: f64, requests: u32, bar: &ProgressBar) -> Result<Figures> {
    let mut latency = Vec::with_capacity(requests as usize);
    for _ in 0..requests {
        let t = Instant::now();
        cam.read_status()?;
        latency.push(t.elapsed().as_secs_f64());
    }
    latency.sort_by(f64::total_cmp);
    cam.streaming(true, false, None)?;
    let (mut frames, mut bytes) = (0u64, 0u64);
    let start = Instant::now();
    let span = Duration::from_secs_f64(seconds);
    while start.elapsed() < span {
        let left = span.saturating_sub(start.elapsed());
        if let Some(f) = next_frame(cam, left)? {
            f.to_rgb888()?;
            frames += 1;
            bytes += f.data.len() as u64;
            bar.set_message(format!("{frames} frames"));
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    cam.streaming(false, false, None)?;
    if frames == 0 {
        bail!("no frame in {seconds} s");
    }
    Ok(Figures { frames, seconds: elapsed, bytes, latency })
}

#[derive(Deserialize)]
struct PyFigures {
    version: String,
    frames: u64,
    seconds: f64,
    bytes: u64,
    latency_s: Vec<f64>,
}

fn python(args: &BenchArgs) -> PathBuf {
    args.python
        .clone()
        .or_else(|| std::env::var_os("OMV_OPENMV_PYTHON").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("python3"))
}

/// Runs openmv 1.0.7 on the serial port `port`.
fn measure_openmv(args: &BenchArgs, port: &str, timeout: f64) -> Result<(String, Figures)> {
    let py = python(args);
    let check = Command::new(&py)
        .args(["-c", "import importlib.metadata as m, openmv; print(m.version('openmv'))"])
        .output()
        .with_context(|| format!("--compare: cannot run {}", py.display()))?;
    let version = String::from_utf8_lossy(&check.stdout).trim().to_string();
    if !check.status.success() || version != "1.0.7" {
        bail!("--compare: openmv 1.0.7 is not installed for {} (found {:?}); pass --python", py.display(), version);
    }
    let mut child = Command::new(&py)
        .arg("-")
        .args(["--port", port, "--seconds", &args.seconds.to_string(), "--requests", &args.requests.to_string()])
        .args(["--timeout", &timeout.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot start the openmv benchmark")?;
    use std::io::Write;
    child.stdin.take().context("no stdin")?.write_all(OPENMV_BENCH.as_bytes())?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        bail!("openmv benchmark failed: {}", err.lines().last().unwrap_or("no message"));
    }
    let line = String::from_utf8_lossy(&out.stdout);
    let p: PyFigures = serde_json::from_str(line.trim()).context("openmv benchmark printed no figures")?;
    let mut latency = p.latency_s;
    latency.sort_by(f64::total_cmp);
    Ok((p.version, Figures { frames: p.frames, seconds: p.seconds, bytes: p.bytes, latency }))
}

fn bar(link: &LinkArgs, what: &str) -> ProgressBar {
    if link.json || link.quiet {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::new_spinner().with_prefix(what.to_string());
    b.set_style(indicatif::ProgressStyle::with_template("{spinner} {prefix}: {msg} ({elapsed})").expect("template"));
    b.enable_steady_tick(Duration::from_millis(100));
    b
}

pub fn bench(link: &LinkArgs, args: &BenchArgs) -> Result<()> {
    if !(args.seconds.is_finite() && args.seconds > 0.0 && args.seconds <= 3600.0) {
        bail!("--seconds must be between 0 and 3600");
    }
    if args.requests == 0 {
        bail!("--requests must be at least 1");
    }
    if args.compare && link.tcp.is_some() {
        bail!("--compare needs a serial port: openmv 1.0.7 opens only those");
    }
    // The built-in cam streams as fast as the link goes, so the clients are what is measured.
    let fast = || VirtualCam::builder().fps(10_000.0).lock_interval(Duration::ZERO);
    let b = bar(link, "omv");
    let (ours, target, pty_cam) = if link.is_builtin() && args.compare {
        let vcam = fast().spawn_pty(None).context("cannot start the virtual cam")?;
        let path = vcam.pty_path().context("virtual cam without a pty")?.display().to_string();
        let cam = Camera::connect(SerialTransport::new(path.clone()), link.client_options()?)?;
        let f = measure(&cam, args.seconds, args.requests, &b)?;
        drop(cam);
        (f, path, Some(vcam))
    } else if link.is_builtin() {
        let vcam = fast().spawn_tcp("127.0.0.1:0").context("cannot start the virtual cam")?;
        let addr = vcam.addr().context("no address")?.to_string();
        let cam = Camera::connect(openmvproto::transport::TcpTransport::new(addr.clone()), link.client_options()?)?;
        let f = measure(&cam, args.seconds, args.requests, &b)?;
        drop(cam);
        (f, format!("built-in virtual cam (tcp:{addr})"), None)
    } else {
        let s = link.connect()?;
        let f = measure(&s.cam, args.seconds, args.requests, &b)?;
        (f, s.target.clone(), None)
    };
    b.finish_and_clear();
    let theirs = if args.compare {
        let port = link.port.clone().unwrap_or_else(|| target.clone());
        let b = bar(link, "openmv 1.0.7");
        b.set_message("running");
        let r = measure_openmv(args, &port, link.timeout)?;
        b.finish_and_clear();
        Some(r)
    } else {
        None
    };
    drop(pty_cam);
    report(link, &target, &ours, theirs.as_ref())
}

fn report(link: &LinkArgs, target: &str, ours: &Figures, theirs: Option<&(String, Figures)>) -> Result<()> {
    if link.json {
        let mut v = json!({"target": target, "omv": ours.to_json()});
        if let Some((version, t)) = theirs {
            v["openmv"] = t.to_json();
            v["openmv"]["version"] = json!(version);
            v["ratio"] = json!({
                "fps": ours.fps() / t.fps(),
                "mb_per_s": ours.mb_per_s() / t.mb_per_s(),
                "latency_p50": t.latency_us(50.0) / ours.latency_us(50.0),
                "latency_p99": t.latency_us(99.0) / ours.latency_us(99.0),
            });
        }
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    println!("cam: {target}");
    println!("{:<14} {:>10} {:>10} {:>14} {:>14}", "client", "frames/s", "MB/s", "p50 latency", "p99 latency");
    let row = |name: &str, f: &Figures| {
        println!(
            "{name:<14} {:>10.1} {:>10.2} {:>11.0} us {:>11.0} us",
            f.fps(),
            f.mb_per_s(),
            f.latency_us(50.0),
            f.latency_us(99.0)
        )
    };
    row("omv", ours);
    if let Some((version, t)) = theirs {
        row(&format!("openmv {version}"), t);
        println!(
            "{:<14} {:>9.2}x {:>9.2}x {:>13.2}x {:>13.2}x",
            "omv / openmv",
            ours.fps() / t.fps(),
            ours.mb_per_s() / t.mb_per_s(),
            t.latency_us(50.0) / ours.latency_us(50.0),
            t.latency_us(99.0) / ours.latency_us(99.0)
        );
        println!("(ratios above 1 favour omv: more frames and bytes per second, shorter round trips)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&v, 100.0), 100.0);
        assert_eq!(percentile(&[7.0], 99.0), 7.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
    }
}
