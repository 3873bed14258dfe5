//! The command line: global protocol switches (those of the `openmv` 1.0.7 CLI) and the
//! subcommands.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "omv",
    version,
    about = "OpenMV cam command line and live view",
    long_about = "OpenMV cam command line and live view. With no --port, --tcp or --serial-number every \
                  command runs against a built-in virtual cam; with no command, `omv` opens the live view."
)]
pub struct Cli {
    #[command(flatten)]
    pub link: LinkArgs,
    /// Options of the live view when no command is given (`omv` = `omv view`).
    #[command(flatten)]
    pub view: ViewArgs,
    #[command(subcommand)]
    pub cmd: Option<Cmd>,
}

/// How to reach the cam and how to talk to it.
#[derive(Args, Debug, Clone)]
pub struct LinkArgs {
    /// Serial port of the cam (/dev/ttyACM0, COM3, a virtual cam's pty).
    #[arg(long, global = true, value_name = "PATH", conflicts_with_all = ["tcp", "serial_number"])]
    pub port: Option<String>,
    /// A network cam (or `omv vcam --tcp`) at HOST:PORT.
    #[arg(long, global = true, value_name = "HOST:PORT", conflicts_with = "serial_number")]
    pub tcp: Option<String>,
    /// The plugged-in cam with this USB serial number (see `omv ports`).
    #[arg(long, global = true, value_name = "SN")]
    pub serial_number: Option<String>,
    /// Serial baud rate (USB CDC ignores it).
    #[arg(long, global = true, default_value_t = openmvproto::transport::DEFAULT_BAUD)]
    pub baudrate: u32,
    /// Seconds to wait for an answer.
    #[arg(long, global = true, default_value_t = 1.0, value_name = "SECONDS")]
    pub timeout: f64,
    /// Ask for payload CRCs.
    #[arg(long, global = true, value_name = "BOOL", default_value_t = true, num_args = 0..=1,
          default_missing_value = "true", action = clap::ArgAction::Set, value_parser = parse_bool)]
    pub crc: bool,
    /// Ask for sequence numbers.
    #[arg(long, global = true, value_name = "BOOL", default_value_t = true, num_args = 0..=1,
          default_missing_value = "true", action = clap::ArgAction::Set, value_parser = parse_bool)]
    pub seq: bool,
    /// Ask for acknowledged packets.
    #[arg(long, global = true, value_name = "BOOL", default_value_t = true, num_args = 0..=1,
          default_missing_value = "true", action = clap::ArgAction::Set, value_parser = parse_bool)]
    pub ack: bool,
    /// Ask for event notifications.
    #[arg(long, global = true, value_name = "BOOL", default_value_t = true, num_args = 0..=1,
          default_missing_value = "true", action = clap::ArgAction::Set, value_parser = parse_bool)]
    pub events: bool,
    /// Synchronisation attempts before connecting fails.
    #[arg(long, global = true, default_value_t = 3, value_name = "N")]
    pub max_retry: u32,
    /// Largest payload to ask for (the cam's maximum wins if smaller).
    #[arg(long, global = true, default_value_t = 4096, value_name = "BYTES")]
    pub max_payload: u32,
    /// Simulate a lossy link: drop this fraction (0.0-1.0) of received packets and sent ACKs.
    #[arg(long, global = true, default_value_t = 0.0, value_name = "RATE")]
    pub drop_rate: f64,
    /// No script output in the live view; only errors in the log.
    #[arg(long, global = true)]
    pub quiet: bool,
    /// Log every packet on the wire (stderr).
    #[arg(long, global = true)]
    pub debug: bool,
    /// Print data as JSON (commands whose output is data).
    #[arg(long, global = true)]
    pub json: bool,
}

fn parse_bool(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "yes" | "true" | "t" | "y" | "1" | "on" => Ok(true),
        "no" | "false" | "f" | "n" | "0" | "off" => Ok(false),
        _ => Err(format!("{s:?} is not a boolean (true/false)")),
    }
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Live view: frames, fps, script output, channels, link statistics, profiler (default).
    View(ViewArgs),
    /// Cams plugged in over USB (vendor / product id, serial number).
    Ports,
    /// Versions, system information, capabilities, memory and link statistics.
    Info,
    /// Upload and run a script.
    Run(RunArgs),
    /// Stop the running script.
    Stop,
    /// Save frames from the stream.
    Frames(FramesArgs),
    /// Channel operations.
    #[command(subcommand)]
    Channel(ChannelCmd),
    /// Throughput and latency; with --compare, the same against openmv 1.0.7.
    Bench(BenchArgs),
    /// Typed controls the cam publishes on a channel (list, get, set).
    #[command(subcommand)]
    Controls(ControlsCmd),
    /// Start a virtual cam on a pseudo-terminal or TCP (as `omv-vcam`).
    Vcam(VcamArgs),
}

#[derive(Args, Debug, Clone)]
pub struct ViewArgs {
    /// Upload and run this script first.
    #[arg(long, value_name = "FILE")]
    pub script: Option<PathBuf>,
    /// Initial zoom of the frame (the window is resizable).
    #[arg(long, default_value_t = 2.0)]
    pub scale: f32,
    /// Ask for uncompressed frames (RAW_CFG at the frame's size, then RAW_CTRL).
    #[arg(long)]
    pub raw: bool,
    /// Milliseconds between polls of the cam.
    #[arg(long, default_value_t = 4, value_name = "MS")]
    pub poll: u64,
    /// Firmware ELF for the profiler's function names.
    #[arg(long, value_name = "ELF")]
    pub firmware: Option<PathBuf>,
    /// A channel to poll and read; its bytes show in the console.
    #[arg(long, value_name = "NAME")]
    pub channel: Option<String>,
    /// Open the profiler view at start (1 = performance, 2 = events).
    #[arg(long, default_value_t = 0, value_name = "VIEW", value_parser = clap::value_parser!(u8).range(0..=2))]
    pub profile_view: u8,
    /// Open the controls panel at start (when the cam has controls).
    #[arg(long)]
    pub show_controls: bool,
    /// Close the window by itself after this many seconds (demos, tests).
    #[arg(long, value_name = "SECONDS")]
    pub exit_after: Option<f64>,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The script (MicroPython on a cam; the virtual cam runs it with its interpreter).
    pub script: PathBuf,
    /// Print the script's output as it comes and exit when it ends; Ctrl-C stops it on the cam.
    #[arg(long, short)]
    pub follow: bool,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum ImageFormat {
    Png,
    Jpeg,
    Ppm,
    Raw,
}

#[derive(Args, Debug)]
pub struct FramesArgs {
    /// Frames to save.
    #[arg(long, short = 'n', default_value_t = 1)]
    pub count: u64,
    /// Folder to write into (created if missing).
    #[arg(long, short, value_name = "DIR")]
    pub out: PathBuf,
    /// File format: png, ppm (lossless), jpeg (the cam's own file for JPEG frames), raw (the
    /// cam's bytes as sent).
    #[arg(long, value_enum, default_value_t = ImageFormat::Png)]
    pub format: ImageFormat,
    /// Ask for uncompressed frames at the cam's frame size.
    #[arg(long)]
    pub raw_stream: bool,
    /// Give up when no frame came for this many seconds.
    #[arg(long, default_value_t = 5.0, value_name = "SECONDS")]
    pub frame_timeout: f64,
}

#[derive(Subcommand, Debug)]
pub enum ChannelCmd {
    /// The cam's channels with their flags and poll state.
    List,
    /// Read bytes (all available by default) to stdout or --out.
    Read {
        name: String,
        #[arg(long, default_value_t = 0)]
        offset: u32,
        /// Bytes to read (default: CHANNEL_SIZE).
        #[arg(long)]
        len: Option<u32>,
        /// Lock the channel around the read (channels flagged LOCK, e.g. stream).
        #[arg(long)]
        lock: bool,
        /// Write the bytes here instead of stdout.
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// Write FILE (or stdin when FILE is - or missing) to the channel.
    Write {
        name: String,
        file: Option<PathBuf>,
        #[arg(long, default_value_t = 0)]
        offset: u32,
    },
    /// Bytes available.
    Size { name: String },
    /// Dimensions of what the channel holds.
    Shape { name: String },
    /// CHANNEL_IOCTL with a request number and argument bytes in hex.
    Ioctl {
        name: String,
        /// Request number (decimal or 0x hex).
        #[arg(value_parser = parse_u32)]
        request: u32,
        /// Argument bytes as hex ("01000000"); none by default.
        #[arg(default_value = "")]
        arg: String,
    },
}

pub fn parse_u32(s: &str) -> Result<u32, String> {
    let r = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u32::from_str_radix(h, 16),
        None => s.parse(),
    };
    r.map_err(|e| format!("{s:?}: {e}"))
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Seconds of frame streaming to measure.
    #[arg(long, default_value_t = 3.0)]
    pub seconds: f64,
    /// Request round trips to time for the latency percentiles.
    #[arg(long, default_value_t = 300)]
    pub requests: u32,
    /// Measure openmv 1.0.7 on the same cam in the same run and print ratios (needs a serial
    /// port: the built-in virtual cam is then served on a pty).
    #[arg(long)]
    pub compare: bool,
    /// Python with openmv 1.0.7 installed (default: $OMV_OPENMV_PYTHON, else python3).
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum ControlsCmd {
    /// Every control with its widget, value, unit, range or options.
    List {
        #[arg(long, default_value = "controls")]
        channel: String,
    },
    /// One control's value.
    Get {
        name: String,
        #[arg(long, default_value = "controls")]
        channel: String,
    },
    /// Set a control: a number, true/false, an option's name or index, or text.
    Set {
        name: String,
        value: String,
        #[arg(long, default_value = "controls")]
        channel: String,
    },
}

#[derive(Args, Debug)]
pub struct VcamArgs {
    /// Create a pseudo-terminal and make LINK a symbolic link to it. Without it the cam
    /// serves TCP on the address of --tcp (default 127.0.0.1:0, any free port).
    #[arg(long, value_name = "LINK", conflicts_with = "tcp")]
    pub pty: Option<PathBuf>,
    /// Serve a non-loopback --tcp address although EXEC runs any script a peer sends.
    #[arg(long)]
    pub allow_remote_exec: bool,
    #[command(flatten)]
    pub cam: VcamOptions,
}

/// The virtual cam's options (as `omv-vcam`'s).
#[derive(Args, Debug, Clone)]
pub struct VcamOptions {
    /// Frame width in pixels.
    #[arg(long, default_value_t = 320)]
    pub width: u32,
    /// Frame height in pixels.
    #[arg(long, default_value_t = 240)]
    pub height: u32,
    /// Pixel format: grayscale, rgb565 or jpeg.
    #[arg(long, default_value = "grayscale")]
    pub format: String,
    /// Frames per second while streaming.
    #[arg(long, default_value_t = 30.0)]
    pub fps: f32,
    /// Interpreter for scripts (split at spaces); the script goes to its standard input.
    #[arg(long, value_name = "CMD", default_value = "python3 -u -")]
    pub exec_cmd: String,
    /// First ACK timeout before the cam retransmits.
    #[arg(long, value_name = "MS", default_value_t = 500)]
    pub rtx_timeout_ms: u64,
    /// Largest fragment of a channel read, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = openmvproto::framing::DEFAULT_MAX_PAYLOAD)]
    pub fragment: u16,
    /// A stream lock within this many ms of the last one answers BUSY.
    #[arg(long, value_name = "MS", default_value_t = 10)]
    pub lock_interval_ms: u64,
}
