//! The virtual cam: a complete OpenMV cam in software, for tests, examples and benchmarks of
//! hosts (this crate's client, the `openmv` Python package) without hardware.
//!
//! It runs the crate's own device engine ([`openmvproto::device`]) behind any byte link: a
//! pseudo-terminal a host opens like a USB serial port, TCP, or any [`RxHalf`] / [`TxHalf`] pair
//! (e.g. an in-memory transport). Channels:
//!
//! | id | name | what |
//! |---|---|---|
//! | 1 | stdin | script upload; EXEC runs it with an external interpreter (default `python3 -u -`), STOP kills it |
//! | 2 | stdout | 64 KiB ring with the script's standard output and error |
//! | 3 | stream | test-pattern frames ([`frames`]), one every 1/fps s while streaming and not held by the host |
//! | 4 | config | read / write: holds the value last written ([`ConfigChannel`]) |
//! | 5 | ticks | read-only: ms since start, 10 ASCII digits ([`TicksChannel`]) |
//! | 6 | controls | typed controls (CBOR, the firmware's CBORChannel format) that change the frames ([controls]) |
//!
//! User channels take the first free id from 1, as on the firmware without the profiler.
//!
//! Life cycle, as the firmware 5.0.0 (PROTOCOL.md 8): stdin sends 1 / 0 when a script starts /
//! stops; when it stops (by itself, by an error or by STOP) the cam sends SOFT_REBOOT, prints
//! `MPY: soft reboot` into stdout and restarts its protocol engine: counter 0, start-up
//! settings, locks released, streaming off, user channels registered afresh (empty). stdout
//! sends NOTIFY when its ring is half full and at most every 50 ms while it holds text. A frame
//! is published only once the host has taken the last one, then a stream NOTIFY; if that
//! NOTIFY went out while the lock interval would still refuse the host's LOCK, one more NOTIFY
//! follows once the interval has passed (hosts that read only on NOTIFY keep going).
//! [`Options::legacy`] keeps the earlier behaviour. SYS_RESET / SYS_BOOT restart the cam (new
//! engine, channels cleared, script stopped).
//!
//! ```no_run
//! use openmvproto_vcam::{FrameFormat, VirtualCam};
//! let cam = VirtualCam::builder().size(64, 48).format(FrameFormat::Grayscale).spawn_tcp("127.0.0.1:0")?;
//! println!("cam at {}", cam.addr().unwrap());
//! cam.stop()?;
//! # Ok::<(), std::io::Error>(())
//! ```

#![warn(missing_docs)]

mod board;
mod config;
pub mod controls;
pub mod frames;
#[cfg(unix)]
mod pty;
mod script;
mod serve;
mod sources;
mod ticks;

use std::io;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use log::{error, info};

pub use board::{ResetKind, VcamBoard, BOOTLOADER, CPU_ID, FIRMWARE, SENSOR_CHIP_ID, USB_PID, USB_VID};
pub use config::ConfigChannel;
pub use frames::{gray_pixel, rgb565_pixel, FrameFormat, FrameGen};
#[cfg(unix)]
pub use pty::{Pty, PtyRx, PtyTx, SymLink};
pub use script::ScriptRunner;
pub use serve::{CONFIG_ID, TICKS_ID};
#[cfg(unix)]
pub use sources::PtyLinks;
pub use sources::{Accept, Link, LinkSource, OnceLink, TcpLinks};
pub use ticks::{format_ticks, TicksChannel, TICKS_LEN};

use openmvproto::channels::FRAME_DATA_OFFSET;
use openmvproto::transport::{RxHalf, TxHalf};

/// Largest stream frame buffer the cam accepts to allocate.
pub const MAX_FRAME_BUFFER: usize = 256 << 20;

/// How the virtual cam behaves. `Default` is what `omv-vcam` does without options.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// Frame width in pixels, at least 1 (default 320).
    pub width: u32,
    /// Frame height in pixels, at least 1 (default 240).
    pub height: u32,
    /// Pixel format of the stream frames (default GRAYSCALE). Header plus the largest frame of
    /// this size and format must fit in [`MAX_FRAME_BUFFER`].
    pub format: FrameFormat,
    /// Frames per second while streaming (also written into each frame's header).
    pub fps: f32,
    /// Interpreter for EXEC, split at whitespace; the script goes to its standard input.
    pub exec_cmd: String,
    /// The engine's first ACK timeout (doubled after each retransmission, 3 of them).
    pub rtx_timeout: Duration,
    /// Largest fragment of a channel read (never above the negotiated max_payload).
    pub fragment: u16,
    /// CHANNEL_LOCK within this time of the last successful lock answers BUSY.
    pub lock_interval: Duration,
    /// Bytes of the stdout ring.
    pub stdout_size: usize,
    /// Largest script the stdin channel takes.
    pub script_max: usize,
    /// Largest value of the config channel.
    pub config_cap: usize,
    /// Behave like earlier omv-vcam releases instead of the firmware: SOFT_REBOOT before a
    /// script and no engine restart after it, and a newer frame replaces one the host has not
    /// taken. Default off: after every script the cam soft-reboots its protocol engine
    /// (counter 0, start-up settings, locks released, user channels registered again).
    pub legacy: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            width: 320,
            height: 240,
            format: FrameFormat::Grayscale,
            fps: 30.0,
            exec_cmd: "python3 -u -".into(),
            rtx_timeout: Duration::from_millis(500),
            fragment: openmvproto::framing::DEFAULT_MAX_PAYLOAD,
            lock_interval: Duration::from_millis(10),
            stdout_size: 64 * 1024,
            script_max: 1 << 20,
            config_cap: ConfigChannel::DEFAULT_CAP,
            legacy: false,
        }
    }
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

impl Options {
    /// Bytes of the stream channel's buffer: header plus the largest frame.
    pub fn frame_buffer_len(&self) -> Option<usize> {
        self.format.max_data_len(self.width, self.height)?.checked_add(FRAME_DATA_OFFSET)
    }

    /// Refuses options the cam cannot run with.
    pub fn validate(&self) -> io::Result<()> {
        if self.width == 0 || self.height == 0 {
            return Err(invalid(format!("frame size {}x{}: both must be at least 1", self.width, self.height)));
        }
        match self.frame_buffer_len() {
            Some(n) if n <= MAX_FRAME_BUFFER => {}
            _ => return Err(invalid(format!("{}x{} {} frames are too large", self.width, self.height, self.format))),
        }
        if !(self.fps.is_finite() && self.fps >= 0.01 && self.fps <= 10_000.0) {
            return Err(invalid(format!("fps {}: must be between 0.01 and 10000", self.fps)));
        }
        if self.exec_cmd.split_whitespace().next().is_none() {
            return Err(invalid("empty script interpreter command".into()));
        }
        // The engine counts whole milliseconds: less would retransmit at once.
        if self.rtx_timeout < Duration::from_millis(1) {
            return Err(invalid("the retransmit timeout must be at least 1 ms".into()));
        }
        if self.fragment == 0 {
            return Err(invalid("the read fragment size must be at least 1".into()));
        }
        if self.stdout_size < 64 || self.script_max == 0 {
            return Err(invalid("stdout needs at least 64 bytes and stdin at least 1".into()));
        }
        if self.config_cap == 0 {
            return Err(invalid("the config channel needs at least 1 byte".into()));
        }
        Ok(())
    }
}

/// Builds a [`VirtualCam`] (and spawns it).
#[derive(Clone, Debug, Default)]
pub struct Builder {
    opts: Options,
}

impl Builder {
    /// Frame size in pixels ([`Options::width`], [`Options::height`]); both at least 1.
    pub fn size(mut self, width: u32, height: u32) -> Self {
        self.opts.width = width;
        self.opts.height = height;
        self
    }
    /// Pixel format of the frames ([`Options::format`]).
    pub fn format(mut self, format: FrameFormat) -> Self {
        self.opts.format = format;
        self
    }
    /// Frames per second while streaming, 0.01 to 10000 ([`Options::fps`]).
    pub fn fps(mut self, fps: f32) -> Self {
        self.opts.fps = fps;
        self
    }
    /// Interpreter for EXEC, split at whitespace ([`Options::exec_cmd`]).
    pub fn exec_cmd(mut self, cmd: impl Into<String>) -> Self {
        self.opts.exec_cmd = cmd.into();
        self
    }
    /// The engine's first ACK timeout, above 0 ([`Options::rtx_timeout`]).
    pub fn rtx_timeout(mut self, t: Duration) -> Self {
        self.opts.rtx_timeout = t;
        self
    }
    /// Largest fragment of a channel read in bytes, at least 1 ([`Options::fragment`]).
    pub fn fragment(mut self, bytes: u16) -> Self {
        self.opts.fragment = bytes;
        self
    }
    /// CHANNEL_LOCK within this time of the last successful lock answers BUSY
    /// ([`Options::lock_interval`]).
    pub fn lock_interval(mut self, t: Duration) -> Self {
        self.opts.lock_interval = t;
        self
    }
    /// Bytes of the stdout ring, at least 64 ([`Options::stdout_size`]).
    pub fn stdout_size(mut self, bytes: usize) -> Self {
        self.opts.stdout_size = bytes;
        self
    }
    /// Largest value of the config channel in bytes ([`Options::config_cap`]).
    pub fn config_cap(mut self, bytes: usize) -> Self {
        self.opts.config_cap = bytes;
        self
    }
    /// See [`Options::legacy`].
    pub fn legacy(mut self, on: bool) -> Self {
        self.opts.legacy = on;
        self
    }
    /// All options at once.
    pub fn options(mut self, opts: Options) -> Self {
        self.opts = opts;
        self
    }

    /// Makes the cam; `Err` (InvalidInput, naming the option) if [`Options::validate`] refuses
    /// the options.
    pub fn build(self) -> io::Result<VirtualCam> {
        VirtualCam::new(self.opts)
    }

    /// Builds and serves one link on a thread: see [`VirtualCam::spawn`].
    pub fn spawn(self, rx: Box<dyn RxHalf>, tx: Box<dyn TxHalf>) -> io::Result<VcamHandle> {
        self.build()?.spawn(rx, tx)
    }

    /// Builds and serves TCP on a thread: see [`VirtualCam::spawn_tcp`].
    pub fn spawn_tcp(self, addr: impl ToSocketAddrs) -> io::Result<VcamHandle> {
        self.build()?.spawn_tcp(addr)
    }

    /// Builds and serves a new pty on a thread: see [`VirtualCam::spawn_pty`].
    pub fn spawn_pty(self, link: Option<&Path>) -> io::Result<VcamHandle> {
        self.build()?.spawn_pty(link)
    }
}

/// Tells a serving cam to stop; cheap to clone, shared with its thread.
#[derive(Clone, Debug, Default)]
pub struct StopToken(Arc<AtomicBool>);

impl StopToken {
    /// A token not stopped yet.
    pub fn new() -> Self {
        Self::default()
    }
    /// Asks the cam to stop; the serve loop sees it at its next turn (a few ms on the built-in
    /// links). It stays set.
    pub fn stop(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
    /// Whether [`StopToken::stop`] was called on this token or a clone of it.
    pub fn is_stopped(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// A virtual cam, ready to serve.
#[derive(Clone, Debug)]
pub struct VirtualCam {
    opts: Options,
}

impl VirtualCam {
    /// A [`Builder`] with the default [`Options`].
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// A cam running with `opts`; `Err` (InvalidInput) if [`Options::validate`] refuses them.
    pub fn new(opts: Options) -> io::Result<Self> {
        opts.validate()?;
        Ok(VirtualCam { opts })
    }

    /// The options it runs with.
    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// Serves one host over `rx` / `tx` on this thread, until its link closes or `stop`.
    pub fn serve(&self, rx: Box<dyn RxHalf>, tx: Box<dyn TxHalf>, stop: &StopToken) -> io::Result<()> {
        self.serve_links(&mut OnceLink::new(rx, tx, "link"), stop)
    }

    /// Serves the hosts `links` gives, one at a time, on this thread, until `stop` or the
    /// source is done. The cam (script, channels, frame count) lives on across hosts.
    pub fn serve_links(&self, links: &mut dyn LinkSource, stop: &StopToken) -> io::Result<()> {
        serve::run(&self.opts, links, stop)
    }

    /// Serves one link on a new thread.
    pub fn spawn(self, rx: Box<dyn RxHalf>, tx: Box<dyn TxHalf>) -> io::Result<VcamHandle> {
        self.spawn_links(Box::new(OnceLink::new(rx, tx, "link")))
    }

    /// Serves the hosts of `links` on a new thread.
    pub fn spawn_links(self, mut links: Box<dyn LinkSource>) -> io::Result<VcamHandle> {
        let stop = StopToken::new();
        let token = stop.clone();
        let thread = thread::Builder::new().name("omv-vcam".into()).spawn(move || {
            let r = self.serve_links(&mut *links, &token);
            if let Err(e) = &r {
                error!("virtual cam: {e}");
            }
            r
        })?;
        Ok(VcamHandle { stop, thread: Some(thread), addr: None, pty_path: None, _link: None })
    }

    /// Listens on `addr` (port 0 picks a free one, see [`VcamHandle::addr`]) and serves TCP
    /// hosts one after the other on a new thread.
    pub fn spawn_tcp(self, addr: impl ToSocketAddrs) -> io::Result<VcamHandle> {
        let links = TcpLinks::new(TcpListener::bind(addr)?)?;
        let local = links.local_addr()?;
        info!("listening on {local}");
        let mut h = self.spawn_links(Box::new(links))?;
        h.addr = Some(local);
        Ok(h)
    }

    /// Opens a pseudo-terminal, links `link` to its slave if given (replacing a stale link),
    /// and serves whoever opens it on a new thread. The link is removed when the handle stops.
    #[cfg(unix)]
    pub fn spawn_pty(self, link: Option<&Path>) -> io::Result<VcamHandle> {
        let pty = Pty::open()?;
        let slave = pty.slave_path().to_path_buf();
        let symlink = link.map(|l| SymLink::create(l, &slave)).transpose()?;
        match &symlink {
            Some(l) => info!("pty {} linked at {}", slave.display(), l.path().display()),
            None => info!("pty {}", slave.display()),
        }
        let mut h = self.spawn_links(Box::new(PtyLinks::new(pty)))?;
        h.pty_path = Some(slave);
        h._link = symlink;
        Ok(h)
    }

    /// A pty needs a Unix host: this one serves TCP or a given link instead.
    #[cfg(not(unix))]
    pub fn spawn_pty(self, _link: Option<&Path>) -> io::Result<VcamHandle> {
        Err(io::Error::new(io::ErrorKind::Unsupported, "a pty needs a Unix host; serve TCP instead"))
    }
}

/// A cam serving on its own thread. Dropping it stops the cam (and waits for the thread).
#[derive(Debug)]
pub struct VcamHandle {
    stop: StopToken,
    thread: Option<JoinHandle<io::Result<()>>>,
    addr: Option<SocketAddr>,
    pty_path: Option<PathBuf>,
    #[cfg(unix)]
    _link: Option<SymLink>,
    #[cfg(not(unix))]
    _link: Option<()>,
}

impl VcamHandle {
    /// The TCP address it listens on ([`VirtualCam::spawn_tcp`]).
    pub fn addr(&self) -> Option<SocketAddr> {
        self.addr
    }

    /// The pty slave a host opens ([`VirtualCam::spawn_pty`]).
    pub fn pty_path(&self) -> Option<&Path> {
        self.pty_path.as_deref()
    }

    /// A token that stops the cam from anywhere (a signal handler's thread, a test).
    pub fn stop_token(&self) -> StopToken {
        self.stop.clone()
    }

    /// Whether the serving thread has ended (stopped, failed, or its only link closed).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Stops the cam and waits for its thread; gives the serve loop's result.
    pub fn stop(mut self) -> io::Result<()> {
        self.shutdown()
    }

    /// Waits for the serving thread to end by itself (e.g. its only link closed).
    pub fn join(mut self) -> io::Result<()> {
        self.join_thread()
    }

    fn shutdown(&mut self) -> io::Result<()> {
        self.stop.stop();
        self.join_thread()
    }

    fn join_thread(&mut self) -> io::Result<()> {
        match self.thread.take() {
            Some(t) => t.join().unwrap_or_else(|_| Err(io::Error::other("the virtual cam thread panicked"))),
            None => Ok(()),
        }
    }
}

impl Drop for VcamHandle {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

/// Where a virtual cam should listen: `PORT` means loopback, else `ADDR:PORT`. A non-loopback
/// address serves EXEC, which runs any script a peer sends, to the network: refused unless
/// `allow_remote_exec` (the `--allow-remote-exec` of `omv-vcam` and `omv vcam`), then with a
/// warning on stderr.
pub fn tcp_listen_addr(spec: &str, allow_remote_exec: bool) -> io::Result<std::net::SocketAddr> {
    use std::net::ToSocketAddrs;
    let bad = |m: String| io::Error::new(io::ErrorKind::InvalidInput, m);
    let addr = match spec.parse::<u16>() {
        Ok(port) => std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Err(_) => spec
            .to_socket_addrs()
            .map_err(|e| bad(format!("--tcp {spec}: {e}")))?
            .next()
            .ok_or_else(|| bad(format!("--tcp {spec}: no address")))?,
    };
    if !addr.ip().is_loopback() {
        if !allow_remote_exec {
            return Err(bad(format!(
                "--tcp {addr} is not a loopback address and EXEC runs any script a peer sends: add --allow-remote-exec to serve it anyway"
            )));
        }
        log::warn!("serving {addr}: any host that reaches it can run scripts on this machine");
        eprintln!("warning: EXEC is served on {addr}, reachable beyond this machine");
    }
    Ok(addr)
}

#[cfg(all(test, unix))]
mod tests;
