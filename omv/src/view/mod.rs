//! `omv view` (the default command): a live-view window of the cam.

mod app;
mod controls_panel;
mod rate;
mod worker;

use std::sync::atomic::AtomicBool;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use eframe::egui;

use crate::cli::{LinkArgs, ViewArgs};
use crate::frame_wait::next_frame;
use crate::symbols::Symbols;

use app::ViewApp;
use worker::{Worker, WorkerConfig};

/// Room around the frame for the panels, in points, when the window opens.
const SIDE_PANEL: f32 = 330.0;
const TOP_AND_CONSOLE: f32 = 230.0;
const CONTROLS_PANEL: f32 = 345.0;

pub fn run(link: &LinkArgs, args: &ViewArgs) -> Result<()> {
    if !(args.scale.is_finite() && args.scale > 0.0 && args.scale <= 32.0) {
        bail!("--scale {}: must be between 0 and 32", args.scale);
    }
    let symbols = args.firmware.as_deref().map(Symbols::load).transpose()?;
    let script = match &args.script {
        Some(p) => Some(std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?),
        None => None,
    };
    let (ev_tx, ev_rx) = mpsc::channel();
    let opts = link.client_options()?.auto_reconnect(true).on_event(move |e| {
        let _ = ev_tx.send(e.clone());
    });
    let session = link.connect_with(opts)?;
    let cam = &session.cam;
    if cam.has_channel("profile")? {
        cam.profiler_reset()?;
    }
    let shared: worker::Shared = Arc::default();
    if let Some(script) = &script {
        cam.stop()?;
        cam.exec(script)?;
        shared
            .lock()
            .note(format!("running {}", args.script.as_ref().map(|p| p.display().to_string()).unwrap_or_default()));
    }
    // One frame first, to open the window at the size --scale asks for.
    cam.streaming(true, false, None)?;
    let first = next_frame(cam, Duration::from_secs(3))?;
    let (w, h) = first.as_ref().map_or((320, 240), |f| (f.width, f.height));
    let title = format!("omv: {}", session.target);
    let controls_width = if args.show_controls { CONTROLS_PANEL } else { 0.0 };
    let size = [w as f32 * args.scale + SIDE_PANEL + controls_width, h as f32 * args.scale + TOP_AND_CONSOLE];

    let stop = Arc::new(AtomicBool::new(false));
    let profiling = Arc::new(AtomicBool::new(args.profile_view != 0));
    let controls_open = Arc::new(AtomicBool::new(args.show_controls));
    let (cmd_tx, cmd_rx) = mpsc::channel();
    let session = Arc::new(session);
    let mut worker_thread = None;
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default().with_title(&title).with_app_id("omv").with_inner_size(size),
        renderer: eframe::Renderer::Glow,
        ..Default::default()
    };
    let exit_at = args.exit_after.map(|s| Instant::now() + Duration::from_secs_f64(s.max(0.0)));
    let cfg = WorkerConfig {
        raw: args.raw,
        poll: Duration::from_millis(args.poll.max(1)),
        quiet: link.quiet,
        channel: args.channel.clone(),
        profiling: profiling.clone(),
        controls_open: controls_open.clone(),
        stop: stop.clone(),
    };
    let app_state = shared.clone();
    let sess = session.clone();
    let stop_ui = stop.clone();
    let profile_view = args.profile_view;
    let thread_slot = &mut worker_thread;
    let r = eframe::run_native(
        "omv",
        options,
        Box::new(move |cc| {
            let worker = Worker {
                session: sess,
                shared: app_state.clone(),
                repaint: cc.egui_ctx.clone(),
                events: ev_rx,
                commands: cmd_rx,
                cfg,
            };
            *thread_slot = Some(std::thread::Builder::new().name("omv-view".into()).spawn(move || worker.run())?);
            Ok(Box::new(ViewApp {
                shared: app_state,
                commands: cmd_tx,
                profiling,
                stop: stop_ui,
                symbols,
                exit_at,
                texture: None,
                profile_view,
                exclusive: false,
                title,
                controls_open,
                panel: Default::default(),
            }))
        }),
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    if let Some(t) = worker_thread {
        let _ = t.join();
    }
    drop(session);
    r.map_err(|e| anyhow!("the window failed: {e}"))?;
    Ok(())
}
