//! `omv-vcam`: a virtual OpenMV cam on a pseudo-terminal or TCP, for hosts to talk to without
//! hardware. See `openmvproto_vcam` for what it does.
//!
//! ```text
//! omv-vcam --pty /tmp/omvcam            # hosts open /tmp/omvcam like a USB serial port
//! omv-vcam --tcp 127.0.0.1:0            # prints `listening on 127.0.0.1:PORT`
//! ```
//!
//! Runs until SIGTERM / SIGINT, then removes the link and exits 0.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{ArgGroup, Parser};
use openmvproto_vcam::{FrameFormat, Options, VirtualCam};

#[derive(Parser, Debug)]
#[command(name = "omv-vcam", version, about = "A virtual OpenMV cam (protocol 1.0.2) on a pty or TCP")]
#[command(group(ArgGroup::new("link").required(true).args(["pty", "tcp"])))]
struct Cli {
    /// Create a pseudo-terminal and make LINK a symbolic link to it (a stale link is replaced).
    #[arg(long, value_name = "LINK")]
    pty: Option<PathBuf>,
    /// Serve TCP on PORT of the loopback address, or on ADDR:PORT, one host at a time (port
    /// 0: any free port).
    #[arg(long, value_name = "[ADDR:]PORT")]
    tcp: Option<String>,
    /// Serve a non-loopback address although EXEC runs any script a peer sends.
    #[arg(long)]
    allow_remote_exec: bool,
    /// Behave like earlier omv-vcam releases: SOFT_REBOOT before a script, no protocol
    /// restart after it, newer frames replace untaken ones.
    #[arg(long)]
    legacy: bool,
    /// Frame width in pixels.
    #[arg(long, default_value_t = 320)]
    width: u32,
    /// Frame height in pixels.
    #[arg(long, default_value_t = 240)]
    height: u32,
    /// Pixel format of the frames: grayscale, rgb565 or jpeg.
    #[arg(long, default_value_t = FrameFormat::Grayscale)]
    format: FrameFormat,
    /// Frames per second while streaming.
    #[arg(long, default_value_t = 30.0)]
    fps: f32,
    /// Interpreter for scripts (split at spaces); the script goes to its standard input.
    #[arg(long, value_name = "CMD", default_value = "python3 -u -")]
    exec_cmd: String,
    /// First ACK timeout before the cam retransmits (doubled after each retry).
    #[arg(long, value_name = "MS", default_value_t = 500)]
    rtx_timeout_ms: u64,
    /// Largest fragment of a channel read, in bytes (default: the largest payload).
    #[arg(long, value_name = "BYTES", default_value_t = openmvproto::framing::DEFAULT_MAX_PAYLOAD)]
    fragment: u16,
    /// A stream lock within this many ms of the last one answers BUSY.
    #[arg(long, value_name = "MS", default_value_t = 10)]
    lock_interval_ms: u64,
    /// Log filter: error, warn, info, debug, trace, or env_logger syntax (default: RUST_LOG,
    /// else info).
    #[arg(long, value_name = "LEVEL")]
    log_level: Option<String>,
}

fn init_logging(level: Option<&str>) {
    let mut b = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"));
    if let Some(level) = level {
        b.parse_filters(level);
    }
    b.init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_level.as_deref());
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log::error!("{e}");
            eprintln!("omv-vcam: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> std::io::Result<()> {
    let opts = Options {
        width: cli.width,
        height: cli.height,
        format: cli.format,
        fps: cli.fps,
        exec_cmd: cli.exec_cmd,
        rtx_timeout: Duration::from_millis(cli.rtx_timeout_ms),
        fragment: cli.fragment,
        lock_interval: Duration::from_millis(cli.lock_interval_ms),
        legacy: cli.legacy,
        ..Options::default()
    };
    let cam = VirtualCam::new(opts)?;
    let handle = if let Some(link) = &cli.pty {
        let h = cam.spawn_pty(Some(link))?;
        if let Some(p) = h.pty_path() {
            println!("pty {} at {}", p.display(), link.display());
        }
        h
    } else {
        let addr = openmvproto_vcam::tcp_listen_addr(cli.tcp.as_deref().unwrap_or("0"), cli.allow_remote_exec)?;
        let h = cam.spawn_tcp(addr)?;
        if let Some(a) = h.addr() {
            println!("listening on {a}");
        }
        h
    };
    std::io::stdout().flush()?;
    let stop = handle.stop_token();
    ctrlc::set_handler(move || {
        log::info!("signal received: shutting down");
        stop.stop();
    })
    .map_err(std::io::Error::other)?;
    // Ends when the signal stops the cam, or with the error that ended the serve loop.
    handle.join()
}
