//! The serve loop: one thread owning the device engine, its channels, the script runner and the
//! frame generator, moving bytes between a host's link and the engine.
//!
//! Each turn: pump script output into stdout, run EXEC / STOP, make a frame if one is due, queue
//! stdout NOTIFYs, handle the engine's retransmit timer, send what the engine has; then wait for
//! input until the next deadline (at most a few ms). Input is fed to the engine and every answer
//! it makes for one chunk is written with one call, straight away.

use std::io;
use std::time::{Duration, Instant as StdInstant};

use log::{debug, info, trace, warn};

use super::board::{ResetKind, VcamBoard};
use super::config::ConfigChannel;
use super::frames::FrameGen;
use super::script::ScriptRunner;
use super::sources::{Accept, Link, LinkSource};
use super::ticks::TicksChannel;
use super::{Options, StopToken};
use openmvproto::channels::{FrameChannel, RingChannel, ScriptChannel, ScriptCommand};
use openmvproto::device::{Device, DeviceConfig, Event, EventError, Registry};
use openmvproto::framing::payload::{event, Caps};
use openmvproto::framing::{ChannelId, FastCrc};
use openmvproto::reliability::RetransmitPolicy;
use openmvproto::time::{millis_u32, Instant};

/// Longest wait for input in one turn (bounds how late script output and a stop are seen).
const MAX_WAIT: Duration = Duration::from_millis(5);
/// Longest wait while a script runs, so its output reaches the ring promptly.
const MAX_WAIT_SCRIPT: Duration = Duration::from_millis(2);
/// stdout NOTIFY at most this often while it holds text (PROTOCOL.md 5).
const STDOUT_NOTIFY_EVERY: Duration = Duration::from_millis(50);
/// Bytes read from the link at once.
const RX_CHUNK: usize = 16 * 1024;

/// Ids of the dynamic channels, registered in this order after the static ones (first free
/// slot from 1, as the firmware).
pub const CONFIG_ID: ChannelId = ChannelId(4);
/// Id of the `ticks` channel, registered right after `config`.
pub const TICKS_ID: ChannelId = ChannelId(5);
/// What the firmware prints when a script has ended and it restarts.
const SOFT_REBOOT_TEXT: &[u8] = b"MPY: soft reboot\n";

type Engine = Device<FastCrc, { openmvproto::framing::DEFAULT_PACKET_BUF }>;

/// Buffers the core's channels live in; they outlive engine resets.
struct Storage {
    stdin: Vec<u8>,
    stdout: Vec<u8>,
    frame: Vec<u8>,
}

/// The channels and board of one engine life (SYS_RESET makes new ones).
struct Cam<'s> {
    stdin: ScriptChannel<'s>,
    stdout: RingChannel<'s>,
    stream: FrameChannel<'s>,
    config: ConfigChannel,
    ticks: TicksChannel,
    controls: super::controls::VcamControls,
    board: VcamBoard,
}

impl<'s> Cam<'s> {
    fn new(storage: &'s mut Storage, opts: &Options, epoch: StdInstant) -> Self {
        let framebuffer = storage.frame.len();
        Cam {
            stdin: ScriptChannel::new(&mut storage.stdin),
            stdout: RingChannel::new(&mut storage.stdout),
            stream: FrameChannel::new(&mut storage.frame),
            config: ConfigChannel::with_cap(opts.config_cap),
            ticks: TicksChannel::new(epoch),
            controls: super::controls::VcamControls::new(opts),
            board: VcamBoard::new(framebuffer),
        }
    }

    /// The channel table, borrowed for one engine call. Ids are the same every time:
    /// 1 stdin, 2 stdout, 3 stream, 4 config, 5 ticks.
    fn registry(&mut self) -> Registry<'_> {
        let mut reg = Registry::new();
        let results = [
            reg.register_static(ChannelId::STDIN, "stdin", &mut self.stdin),
            reg.register_static(ChannelId::STDOUT, "stdout", &mut self.stdout),
            reg.register_static(ChannelId::STREAM, "stream", &mut self.stream),
            reg.register("config", &mut self.config),
            reg.register("ticks", &mut self.ticks),
            reg.register("controls", &mut self.controls.channel),
        ];
        debug_assert!(results.iter().all(Result::is_ok), "{results:?}");
        reg.set_board(&mut self.board);
        reg
    }
}

/// Why one engine life ended.
enum Exit {
    Stopped,
    /// The link source has no more hosts.
    Done,
    Reset(ResetKind),
    /// A script ended: the protocol engine restarts, the link and stdout's text stay.
    SoftReboot,
}

/// Serves hosts from `links` until `stop` is set or the source is done.
pub(super) fn run(opts: &Options, links: &mut dyn LinkSource, stop: &StopToken) -> io::Result<()> {
    let epoch = StdInstant::now();
    let frame_len =
        opts.frame_buffer_len().ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "frame size too large"))?;
    let mut storage =
        Storage { stdin: vec![0; opts.script_max], stdout: vec![0; opts.stdout_size], frame: vec![0; frame_len] };
    let mut runner = ScriptRunner::new(&opts.exec_cmd)?;
    let mut link: Option<Link> = None;
    info!(
        "virtual cam: {}x{} {} at {} fps, script interpreter `{}`",
        opts.width, opts.height, opts.format, opts.fps, opts.exec_cmd
    );
    let mut carried: Vec<u8> = Vec::new();
    let mut sensor: Option<FrameGen> = None;
    loop {
        let mut life = Life::new(opts, Cam::new(&mut storage, opts, epoch), epoch);
        life.cam.stdout.push(&carried);
        carried.clear();
        if let Some(frames) = sensor.take() {
            life.frames = frames;
        }
        match life.serve(&mut runner, &mut link, links, stop)? {
            Exit::SoftReboot => {
                info!("script ended: soft reboot (protocol engine restarts)");
                // The sensor keeps counting frames through a soft reboot.
                sensor = Some(std::mem::replace(&mut life.frames, FrameGen::new(opts.format, opts.width, opts.height)));
                let mut buf = [0u8; 4096];
                loop {
                    let n = life.cam.stdout.pop(&mut buf);
                    if n == 0 {
                        break;
                    }
                    carried.extend_from_slice(&buf[..n]);
                }
                continue;
            }
            Exit::Stopped => info!("stopping"),
            Exit::Done => info!("no more hosts; stopping"),
            Exit::Reset(kind) => {
                info!("{kind:?}: the cam restarts (engine, channels, script)");
                runner.stop();
                continue;
            }
        }
        runner.stop();
        return Ok(());
    }
}

/// One engine life: the device with its channels and timers.
struct Life<'o, 's> {
    opts: &'o Options,
    epoch: StdInstant,
    device: Box<Engine>,
    cam: Cam<'s>,
    frames: FrameGen,
    frame_period: Duration,
    /// When the next frame is due; `None` while streaming is off.
    next_frame: Option<StdInstant>,
    frame_error_logged: bool,
    last_stdout_notify: Option<StdInstant>,
    stdout_was_half: bool,
    /// When the host last held the stream frame (seen after feeding it input).
    last_lock_seen: Option<StdInstant>,
    /// One more stream NOTIFY is due then, for a frame announced inside the lock interval.
    renotify_at: Option<StdInstant>,
    /// A script ended: restart the engine once what it queued has been sent.
    soft_reboot: bool,
    caps: Caps,
    rx_buf: Vec<u8>,
    /// Input the engine has not taken yet.
    pending: Vec<u8>,
    batch: Vec<u8>,
}

impl<'o, 's> Life<'o, 's> {
    fn new(opts: &'o Options, cam: Cam<'s>, epoch: StdInstant) -> Self {
        let config = DeviceConfig {
            caps: Caps::DEFAULT,
            retransmit: RetransmitPolicy { timeout_ms: millis_u32(opts.rtx_timeout), ..RetransmitPolicy::default() },
            lock_interval_ms: millis_u32(opts.lock_interval),
            fragment_size: opts.fragment,
        };
        let device = Box::new(Engine::new(config, FastCrc));
        let caps = device.caps();
        Life {
            opts,
            epoch,
            device,
            cam,
            frames: FrameGen::new(opts.format, opts.width, opts.height),
            frame_period: Duration::from_secs_f64(1.0 / f64::from(opts.fps)),
            next_frame: None,
            frame_error_logged: false,
            last_stdout_notify: None,
            stdout_was_half: false,
            last_lock_seen: None,
            renotify_at: None,
            soft_reboot: false,
            caps,
            rx_buf: vec![0; RX_CHUNK],
            pending: Vec::new(),
            batch: Vec::new(),
        }
    }

    fn now(&self, at: StdInstant) -> Instant {
        Instant::from_millis(u64::try_from(at.saturating_duration_since(self.epoch).as_millis()).unwrap_or(u64::MAX))
    }

    fn serve(
        &mut self,
        runner: &mut ScriptRunner,
        link: &mut Option<Link>,
        links: &mut dyn LinkSource,
        stop: &StopToken,
    ) -> io::Result<Exit> {
        loop {
            if stop.is_stopped() {
                return Ok(Exit::Stopped);
            }
            let now = StdInstant::now();
            self.pump_script(runner);
            self.run_script_command(runner);
            self.make_frame(now);
            self.renotify_stream(now);
            self.notify_stdout(now);
            let t = self.now(now);
            if self.device.poll_at().is_some_and(|at| at <= t) {
                self.device.handle_timeout(t);
            }
            self.drain(t);
            self.flush(link);
            if let Some(kind) = self.cam.board.take_reset() {
                return Ok(Exit::Reset(kind));
            }
            if self.soft_reboot {
                return Ok(Exit::SoftReboot);
            }
            if !self.pending.is_empty() {
                let input = std::mem::take(&mut self.pending);
                self.feed(&input, runner);
                self.flush(link);
            }

            let wait = self.wait_time(now, runner.is_running());
            let Some(l) = link.as_mut() else {
                match links.accept(wait)? {
                    Accept::Link(l) => {
                        info!("host link up: {}", l.peer);
                        *link = Some(l);
                    }
                    Accept::Pending => {}
                    Accept::Done => return Ok(Exit::Done),
                }
                continue;
            };
            let mut buf = std::mem::take(&mut self.rx_buf);
            match l.rx.recv(&mut buf, wait) {
                Ok(0) => {}
                Ok(n) => {
                    trace!("rx {n} bytes");
                    if self.pending.is_empty() {
                        self.feed(&buf[..n], runner);
                    } else {
                        // Keep the order: what the engine did not take yet goes first.
                        let mut input = std::mem::take(&mut self.pending);
                        input.extend_from_slice(&buf[..n]);
                        self.feed(&input, runner);
                    }
                    self.flush(link);
                }
                Err(e) => {
                    info!("host link down ({}): {e}", l.peer);
                    self.device.note_transport_error();
                    *link = None;
                }
            }
            self.rx_buf = buf;
            if let Some(kind) = self.cam.board.take_reset() {
                return Ok(Exit::Reset(kind));
            }
        }
    }

    /// Feeds input to the engine, collecting every packet it makes in `batch`. Stops early at
    /// SYS_RESET / SYS_BOOT (the rest of the input belongs to the old life).
    fn feed(&mut self, input: &[u8], runner: &mut ScriptRunner) {
        let mut pos = 0;
        while pos < input.len() {
            let t = self.now(StdInstant::now());
            let used = {
                let mut reg = self.cam.registry();
                self.device.handle_input(t, &input[pos..], &mut reg)
            };
            pos += used;
            if self.cam.stream.is_locked() {
                self.last_lock_seen = Some(StdInstant::now());
            }
            self.run_script_command(runner);
            let made = self.drain(t);
            self.note_caps();
            if self.cam.board.reset_pending() {
                return;
            }
            if used == 0 && !made {
                // Cannot happen once the engine's output is drained; keep the bytes anyway.
                self.pending.extend_from_slice(&input[pos..]);
                return;
            }
        }
    }

    /// Moves every packet the engine has into `batch`; `true` if there was one.
    fn drain(&mut self, t: Instant) -> bool {
        let mut reg = self.cam.registry();
        let before = self.batch.len();
        while let Some(pkt) = self.device.poll_transmit(t, &mut reg) {
            self.batch.extend_from_slice(pkt);
        }
        self.batch.len() > before
    }

    /// Writes `batch` in one call (or drops it with no host).
    fn flush(&mut self, link: &mut Option<Link>) {
        if self.batch.is_empty() {
            return;
        }
        if let Some(l) = link.as_mut() {
            trace!("tx {} bytes", self.batch.len());
            if let Err(e) = l.tx.send(&self.batch) {
                info!("host link down ({}): {e}", l.peer);
                self.device.note_transport_error();
                *link = None;
            }
        }
        self.batch.clear();
    }

    fn note_caps(&mut self) {
        let caps = self.device.caps();
        if caps != self.caps {
            debug!("link settings now {:?}, max_payload {}", caps.flags, caps.max_payload);
            self.caps = caps;
        }
    }

    fn queue(&mut self, channel: ChannelId, code: u16) {
        match self.device.queue_event(Event { channel, code, confirmed: false }) {
            Ok(()) => trace!("event ch {} code {code:#06x}", channel.0),
            Err(EventError::Disabled) => {}
            Err(EventError::QueueFull) => debug!("event queue full; ch {} code {code:#06x} dropped", channel.0),
        }
    }

    fn pump_script(&mut self, runner: &mut ScriptRunner) {
        let stdout = &mut self.cam.stdout;
        if runner.pump(|bytes| stdout.push(bytes)) {
            self.script_ended();
        }
    }

    /// stdin's stopped event; then, as the firmware, SOFT_REBOOT, its line on stdout and a
    /// restart of the protocol engine once these have been sent.
    fn script_ended(&mut self) {
        self.cam.stdin.set_running(false);
        self.queue(ChannelId::STDIN, event::SCRIPT_STOPPED);
        if !self.opts.legacy {
            self.queue(ChannelId::TRANSPORT, event::SOFT_REBOOT);
            self.cam.stdout.push(SOFT_REBOOT_TEXT);
            self.soft_reboot = true;
        }
    }

    fn run_script_command(&mut self, runner: &mut ScriptRunner) {
        let Some(cmd) = self.cam.stdin.take_command() else { return };
        match cmd {
            ScriptCommand::Stop => {
                if runner.stop() {
                    self.script_ended();
                } else {
                    debug!("STOP: no script runs");
                }
            }
            ScriptCommand::Exec { len } => {
                if runner.stop() {
                    info!("EXEC while a script runs: stopped it first");
                    self.cam.stdin.set_running(false);
                    self.queue(ChannelId::STDIN, event::SCRIPT_STOPPED);
                }
                if self.opts.legacy {
                    self.queue(ChannelId::TRANSPORT, event::SOFT_REBOOT);
                }
                let script = self.cam.stdin.script();
                let script = &script[..len.min(script.len())];
                match runner.start(script) {
                    Ok(()) => {
                        self.cam.stdin.set_running(true);
                        self.queue(ChannelId::STDIN, event::SCRIPT_STARTED);
                    }
                    Err(e) => {
                        warn!("cannot run the script with `{}`: {e}", self.opts.exec_cmd);
                        let msg = format!("omv-vcam: cannot run `{}`: {e}\n", self.opts.exec_cmd);
                        self.cam.stdout.push(msg.as_bytes());
                    }
                }
            }
        }
    }

    fn make_frame(&mut self, now: StdInstant) {
        let streaming = self.cam.stream.streaming();
        if streaming != self.next_frame.is_some() {
            info!("streaming {}", if streaming { "on" } else { "off" });
        }
        if !streaming {
            self.next_frame = None;
            return;
        }
        let due = *self.next_frame.get_or_insert(now);
        if now < due || self.cam.stream.is_locked() {
            return;
        }
        // The firmware publishes a frame only once the host has taken the last one.
        if !self.opts.legacy && self.cam.stream.is_ready() {
            return;
        }
        // The host already knows of a frame it has not taken: replacing it is no news.
        let news = !self.cam.stream.is_ready();
        let Some(pixels) = self.cam.stream.pixels_mut() else { return };
        let n = self.frames.next_number();
        let made =
            self.frames.render(pixels).map(|len| self.cam.controls.process(pixels, len, self.frames.size(), now));
        let made = made.map_err(|e| e.to_string()).and_then(|len| {
            let (w, h) = self.frames.size();
            self.cam
                .stream
                .publish(w, h, self.opts.format.pixformat(), len, self.opts.fps)
                .map_err(|s| format!("{s:?}"))
        });
        match made {
            Ok(()) => {
                trace!("frame {n}");
                if news {
                    self.queue(ChannelId::STREAM, event::NOTIFY);
                    // A host that locks on this NOTIFY at once would be refused BUSY: tell it
                    // once more when the interval is over.
                    let open_at = self.last_lock_seen.map(|t| t + self.opts.lock_interval);
                    self.renotify_at = open_at.filter(|&at| now < at && !self.opts.legacy);
                }
            }
            Err(e) if !self.frame_error_logged => {
                warn!("cannot make frame {n}: {e}");
                self.frame_error_logged = true;
            }
            Err(_) => {}
        }
        // A steady rate; after a long hold by the host, start over from now.
        let next = due + self.frame_period;
        self.next_frame = Some(if next <= now { now + self.frame_period } else { next });
    }

    fn renotify_stream(&mut self, now: StdInstant) {
        let Some(at) = self.renotify_at else { return };
        if now < at {
            return;
        }
        self.renotify_at = None;
        if self.cam.stream.is_ready() && !self.cam.stream.is_locked() {
            self.queue(ChannelId::STREAM, event::NOTIFY);
        }
    }

    fn notify_stdout(&mut self, now: StdInstant) {
        if self.cam.stdout.is_empty() {
            self.stdout_was_half = false;
            return;
        }
        let half = self.cam.stdout.half_full();
        let due = self.last_stdout_notify.is_none_or(|t| now.saturating_duration_since(t) >= STDOUT_NOTIFY_EVERY);
        if due || (half && !self.stdout_was_half) {
            self.queue(ChannelId::STDOUT, event::NOTIFY);
            self.last_stdout_notify = Some(now);
        }
        self.stdout_was_half = half;
    }

    /// How long to wait for input: until the next deadline, at most a few ms.
    fn wait_time(&self, now: StdInstant, script: bool) -> Duration {
        let mut wait = if script { MAX_WAIT_SCRIPT } else { MAX_WAIT };
        let mut until = |at: StdInstant| wait = wait.min(at.saturating_duration_since(now));
        if let Some(at) = self.device.poll_at() {
            until(self.epoch + Duration::from_millis(at.as_millis()));
        }
        if let Some(at) = self.next_frame.filter(|_| !self.cam.stream.is_locked()) {
            until(at);
        }
        if let Some(at) = self.renotify_at {
            until(at);
        }
        if let Some(at) = self.last_stdout_notify.filter(|_| !self.cam.stdout.is_empty()) {
            until(at + STDOUT_NOTIFY_EVERY);
        }
        wait
    }
}
