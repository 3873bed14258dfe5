//! The live view's cam thread: polls the cam, takes frames, script output, channel states,
//! link statistics and profiler records, and hands them to the window through [`Shared`].
//! It never stops on a cam error: a lost link is waited out (the client reconnects by
//! itself), a soft reboot or reconnection switches the stream on again.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use eframe::egui;
use parking_lot::Mutex;

use openmvproto::client::{ClientEvent, Error, ProfileRecord};
use openmvproto::controls::{Control, Value};
use openmvproto::framing::payload::{event, PixFormat, ProtoStats};
use openmvproto::framing::ChannelId;

use super::rate::RateMeter;
use crate::connect::Session;
use crate::frame_wait::next_frame;

/// Lines the console keeps.
const CONSOLE_LINES: usize = 2000;
/// How often link statistics are read.
const STATS_EVERY: Duration = Duration::from_millis(500);
/// How often profiler records are read while a profiler view is open (openmv: 10 Hz).
const PROFILE_EVERY: Duration = Duration::from_millis(100);
/// Without a frame for this long the stream is switched on again (a cam that rebooted
/// without telling).
const STREAM_STALL: Duration = Duration::from_secs(2);
/// How often the controls are read while the panel is open.
const CONTROLS_EVERY: Duration = Duration::from_millis(200);
/// The channel the controls panel shows.
pub const CONTROLS_CHANNEL: &str = "controls";

/// What the window asks the cam thread to do.
#[derive(Debug)]
pub enum Command {
    ProfilerMode { exclusive: bool },
    ProfilerReset,
    SetControl { name: String, value: Value },
}

/// A frame ready for the window.
pub struct FrameImage {
    pub image: egui::ColorImage,
}

/// Everything the window shows, written by the cam thread.
#[derive(Default)]
pub struct ViewState {
    /// A frame the window has not uploaded yet.
    pub new_frame: Option<FrameImage>,
    pub frame_size: (u32, u32),
    pub frame_format: String,
    pub frames: u64,
    pub fps: f64,
    pub mb_per_s: f64,
    pub cam_fps: Option<f32>,
    pub console: VecDeque<String>,
    /// Text after the last newline, not yet a console line.
    partial: String,
    /// Channel name, id and whether the last poll said it has data.
    pub channels: Vec<(u8, String, bool)>,
    pub host_stats: ProtoStats,
    pub cam_stats: Option<ProtoStats>,
    pub link: String,
    pub link_up: bool,
    pub reconnects: u32,
    pub soft_reboots: u32,
    pub has_profiler: bool,
    pub profile: Option<Vec<ProfileRecord>>,
    pub has_controls: bool,
    /// The controls as last read, or why they could not be.
    pub controls: Option<Result<Vec<Control>, String>>,
    pub last_error: Option<String>,
}

impl ViewState {
    pub fn push_text(&mut self, text: &str) {
        self.partial.push_str(text);
        while let Some(i) = self.partial.find('\n') {
            let line: String = self.partial.drain(..=i).collect();
            self.console.push_back(line.trim_end_matches(['\n', '\r']).to_string());
        }
        while self.console.len() > CONSOLE_LINES {
            self.console.pop_front();
        }
    }

    pub fn note(&mut self, line: impl Into<String>) {
        if !self.partial.is_empty() {
            let p = std::mem::take(&mut self.partial);
            self.console.push_back(p);
        }
        self.push_text(&format!("-- {}\n", line.into()));
    }

    /// The console with the unfinished last line.
    pub fn console_text(&self) -> String {
        let mut s: String = self.console.iter().map(|l| format!("{l}\n")).collect();
        s.push_str(&self.partial);
        s
    }
}

pub type Shared = Arc<Mutex<ViewState>>;

/// How the cam thread runs.
pub struct WorkerConfig {
    pub raw: bool,
    pub poll: Duration,
    pub quiet: bool,
    pub channel: Option<String>,
    /// Read profiler records (a profiler view is open).
    pub profiling: Arc<AtomicBool>,
    /// Read the controls (the panel is open).
    pub controls_open: Arc<AtomicBool>,
    pub stop: Arc<AtomicBool>,
}

pub struct Worker {
    pub session: Arc<Session>,
    pub shared: Shared,
    pub repaint: egui::Context,
    pub events: Receiver<ClientEvent>,
    pub commands: Receiver<Command>,
    pub cfg: WorkerConfig,
}

fn format_name(f: PixFormat) -> String {
    match f {
        PixFormat::GRAYSCALE => "GRAYSCALE".into(),
        PixFormat::RGB565 => "RGB565".into(),
        PixFormat::JPEG => "JPEG".into(),
        PixFormat(x) => format!("0x{x:08X}"),
    }
}

impl Worker {
    pub fn run(self) {
        let mut rate = RateMeter::new(Duration::from_secs(1));
        let mut need_stream = true;
        let mut last_frame = Instant::now();
        let mut last_stats = Instant::now() - STATS_EVERY;
        let mut last_profile = Instant::now() - PROFILE_EVERY;
        let mut last_controls = Instant::now() - CONTROLS_EVERY;
        let mut raw_size: Option<(u32, u32)> = None;
        while !self.cfg.stop.load(Ordering::Relaxed) {
            // Events first: they say when to switch streaming back on.
            while let Ok(ev) = self.events.try_recv() {
                self.on_event(&ev, &mut need_stream);
            }
            while let Ok(c) = self.commands.try_recv() {
                let (what, r) = match c {
                    Command::ProfilerMode { exclusive } => {
                        ("profiler".to_string(), self.session.cam.profiler_mode(exclusive))
                    }
                    Command::ProfilerReset => ("profiler".to_string(), self.session.cam.profiler_reset()),
                    Command::SetControl { name, value } => {
                        // Read back at once, so the panel shows what the cam took.
                        last_controls = Instant::now() - CONTROLS_EVERY;
                        let r = self.session.cam.set_control(CONTROLS_CHANNEL, &name, value);
                        (format!("control {name}"), r)
                    }
                };
                if let Err(e) = r {
                    self.shared.lock().note(format!("{what}: {e}"));
                }
            }
            let r = self.turn(
                &mut rate,
                &mut need_stream,
                &mut last_frame,
                &mut last_stats,
                &mut last_profile,
                &mut last_controls,
                &mut raw_size,
            );
            match r {
                Ok(_) => continue,
                Err(e) if e.is_disconnected() => {
                    {
                        let mut s = self.shared.lock();
                        if s.link_up {
                            s.note(format!("{e}; waiting for the cam"));
                        }
                        s.link_up = false;
                        s.link = format!("reconnecting ({e})");
                    }
                    self.repaint.request_repaint();
                    need_stream = true;
                    // Wait for the client's reconnection (or a stop) rather than spinning.
                    match self.events.recv_timeout(Duration::from_millis(100)) {
                        Ok(ev) => self.on_event(&ev, &mut need_stream),
                        Err(RecvTimeoutError::Timeout) => {}
                        Err(RecvTimeoutError::Disconnected) => return,
                    }
                }
                Err(e) => {
                    let msg = e.to_string();
                    let mut s = self.shared.lock();
                    if s.last_error.as_deref() != Some(msg.as_str()) {
                        s.note(format!("error: {msg}"));
                    }
                    s.last_error = Some(msg);
                    drop(s);
                    self.idle(&mut need_stream);
                }
            }
        }
        let _ = self.session.cam.streaming(false, false, None);
    }

    /// Waits one poll interval, waking early for an event (a frame or output ready).
    fn idle(&self, need_stream: &mut bool) {
        if let Ok(ev) = self.events.recv_timeout(self.cfg.poll) {
            self.on_event(&ev, need_stream);
        }
    }

    fn on_event(&self, ev: &ClientEvent, need_stream: &mut bool) {
        match ev {
            ClientEvent::Reconnected => {
                *need_stream = true;
                let mut s = self.shared.lock();
                s.reconnects += 1;
                s.note("reconnected");
            }
            ClientEvent::Device { channel, code }
                if *channel == ChannelId::TRANSPORT && *code == event::SOFT_REBOOT =>
            {
                *need_stream = true;
                let mut s = self.shared.lock();
                s.soft_reboots += 1;
                s.note("soft reboot");
            }
            ClientEvent::CamRestarted => {
                // The client restores the stream itself; asking again costs one request.
                *need_stream = true;
                self.shared.lock().note("the cam restarted its protocol engine");
            }
            ClientEvent::LinkLost { reason } => {
                let mut s = self.shared.lock();
                s.link_up = false;
                s.link = format!("reconnecting ({reason})");
            }
            _ => {}
        }
        self.repaint.request_repaint();
    }

    /// One round of polling, at most one poll interval long. `Ok(true)` when a frame came.
    #[allow(clippy::too_many_arguments)]
    fn turn(
        &self,
        rate: &mut RateMeter,
        need_stream: &mut bool,
        last_frame: &mut Instant,
        last_stats: &mut Instant,
        last_profile: &mut Instant,
        last_controls: &mut Instant,
        raw_size: &mut Option<(u32, u32)>,
    ) -> Result<bool, Error> {
        let cam = &self.session.cam;
        if *need_stream || last_frame.elapsed() > STREAM_STALL {
            let res = if self.cfg.raw { *raw_size } else { None };
            cam.streaming(true, self.cfg.raw && res.is_some(), res)?;
            *need_stream = false;
            *last_frame = Instant::now();
            let has_profiler = cam.has_channel("profile")?;
            let has_controls = cam.has_channel(CONTROLS_CHANNEL)?;
            let mut s = self.shared.lock();
            s.has_profiler = has_profiler;
            s.has_controls = has_controls;
            s.link_up = true;
            s.link = cam.describe();
            s.last_error = None;
        }
        let status = cam.read_status()?;
        let list = cam.channels()?;
        {
            let mut s = self.shared.lock();
            s.channels =
                list.iter().map(|c| (c.id.0, c.name.clone(), status.get(&c.name).copied().unwrap_or(false))).collect();
        }
        if status.get("stdout").copied().unwrap_or(false) {
            let text = cam.read_stdout()?;
            if !text.is_empty() && !self.cfg.quiet {
                let mut o = std::io::stdout();
                let _ = o.write_all(text.as_bytes());
                let _ = o.flush();
                self.shared.lock().push_text(&text);
            }
        }
        if let Some(name) = &self.cfg.channel {
            if status.get(name).copied().unwrap_or(false) {
                let data = cam.read_available(name.as_str())?;
                if !data.is_empty() {
                    let preview: String = data.iter().take(16).map(|b| format!("{b:02x}")).collect();
                    let text = String::from_utf8_lossy(&data[..data.len().min(40)]).into_owned();
                    self.shared.lock().note(format!("[{name}] ({} bytes) {preview} {text:?}", data.len()));
                }
            }
        }
        if self.cfg.profiling.load(Ordering::Relaxed) && last_profile.elapsed() >= PROFILE_EVERY {
            *last_profile = Instant::now();
            if let Some(p) = cam.read_profile()? {
                self.shared.lock().profile = Some(p);
            }
        }
        if self.cfg.controls_open.load(Ordering::Relaxed) && last_controls.elapsed() >= CONTROLS_EVERY {
            *last_controls = Instant::now();
            if self.shared.lock().has_controls {
                let r = match cam.controls(CONTROLS_CHANNEL) {
                    Ok(c) => Ok(c),
                    Err(e) if e.is_disconnected() => return Err(e),
                    Err(e) => Err(e.to_string()),
                };
                self.shared.lock().controls = Some(r);
            }
        }
        if last_stats.elapsed() >= STATS_EVERY {
            *last_stats = Instant::now();
            let dev = cam.device_stats().ok();
            let host = cam.host_stats();
            let mut s = self.shared.lock();
            s.cam_stats = dev;
            s.host_stats = host;
        }
        // Sleeps until a frame is ready, at most one poll interval.
        let Some(frame) = next_frame(cam, self.cfg.poll)? else {
            let mut s = self.shared.lock();
            let (fps, mbps) = rate.rates();
            s.fps = fps;
            s.mb_per_s = mbps;
            return Ok(false);
        };
        *last_frame = Instant::now();
        if self.cfg.raw && raw_size.is_none() {
            *raw_size = Some((frame.width, frame.height));
            *need_stream = true;
        }
        rate.add(frame.data.len());
        let rgb = match frame.to_rgb888() {
            Ok(rgb) => rgb,
            Err(e) => {
                self.shared.lock().note(format!("frame {}: {e}", frame.counter));
                return Ok(true);
            }
        };
        let image = egui::ColorImage::from_rgb([rgb.width as usize, rgb.height as usize], &rgb.pixels);
        let (fps, mbps) = rate.rates();
        {
            let mut s = self.shared.lock();
            s.new_frame = Some(FrameImage { image });
            s.frame_size = (rgb.width, rgb.height);
            s.frame_format = format_name(frame.format);
            s.frames = frame.counter;
            s.cam_fps = frame.fps;
            s.fps = fps;
            s.mb_per_s = mbps;
        }
        self.repaint.request_repaint();
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_joins_partial_lines_and_is_bounded() {
        let mut s = ViewState::default();
        s.push_text("hel");
        s.push_text("lo\nwor");
        assert_eq!(s.console_text(), "hello\nwor");
        s.note("soft reboot");
        assert_eq!(s.console_text(), "hello\nwor\n-- soft reboot\n");
        for i in 0..CONSOLE_LINES + 10 {
            s.push_text(&format!("{i}\n"));
        }
        assert_eq!(s.console.len(), CONSOLE_LINES);
    }
}
