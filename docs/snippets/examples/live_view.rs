//! Worked example 1: a live view of what the cam sees, in a GUI of your own (egui / eframe).
//! A background thread pulls frames; the UI thread only draws the latest one.
//!
//! ```text
//! cargo run --release -p openmvproto-docs --example live_view -- 127.0.0.1:5000
//! cargo run --release -p openmvproto-docs --example live_view -- 127.0.0.1:5000 --exit-after 30
//! ```

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use eframe::egui;
use openmvproto::client::{Camera, Options, RgbFrame};
use openmvproto::transport::TcpTransport;

// ANCHOR: model
/// What the frame thread hands to the UI: the newest frame (older ones are simply replaced).
#[derive(Default)]
struct Latest {
    frame: Option<(u64, RgbFrame)>,
    error: Option<String>,
}

/// Pulls frames until `stop`, keeping only the newest, and wakes the UI for each.
fn pull_frames(cam: Arc<Camera>, latest: Arc<Mutex<Latest>>, ui: egui::Context, stop: Arc<AtomicBool>) {
    let result = (|| -> Result<(), openmvproto::client::Error> {
        cam.streaming(true, false, None)?;
        while !stop.load(Ordering::Relaxed) {
            // Sleeps until the cam announces a frame; `None` after 200 ms without one.
            if let Some(f) = cam.wait_frame(Duration::from_millis(200))? {
                let rgb = f.to_rgb888()?; // GRAYSCALE, RGB565 or JPEG
                latest.lock().unwrap().frame = Some((f.counter, rgb));
                ui.request_repaint();
            }
        }
        cam.streaming(false, false, None)
    })();
    if let Err(e) = result {
        latest.lock().unwrap().error = Some(e.to_string());
        ui.request_repaint();
    }
}
// ANCHOR_END: model

// ANCHOR: view
struct LiveView {
    latest: Arc<Mutex<Latest>>,
    texture: Option<egui::TextureHandle>,
    shown: Rc<Cell<u64>>, // read by `main` after the window closed
    exit_after: Option<u64>,
}

impl eframe::App for LiveView {
    fn update(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        let (frame, error) = {
            let mut l = self.latest.lock().unwrap();
            (l.frame.take(), l.error.clone())
        };
        if let Some((counter, rgb)) = frame {
            let size = [rgb.width as usize, rgb.height as usize];
            let image = egui::ColorImage::from_rgb(size, &rgb.pixels);
            // One texture, updated in place.
            match &mut self.texture {
                Some(t) => t.set(image, egui::TextureOptions::NEAREST),
                None => self.texture = Some(ctx.load_texture("cam", image, egui::TextureOptions::NEAREST)),
            }
            self.shown.set(self.shown.get() + 1);
            println!("showing frame #{counter} ({}x{})", size[0], size[1]);
        }
        egui::CentralPanel::default().show(ctx, |ui| {
            ui.label(format!("frames shown: {}", self.shown.get()));
            if let Some(e) = &error {
                ui.colored_label(egui::Color32::RED, e);
            }
            if let Some(t) = &self.texture {
                ui.add(egui::Image::new(t).shrink_to_fit()); // scaled to the window
            }
        });
        // `--exit-after N` (used by the book's test): close after N frames, or on an error.
        if self.exit_after.is_some_and(|n| self.shown.get() >= n || error.is_some()) {
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
    }
}
// ANCHOR_END: view

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().ok_or("usage: live_view HOST:PORT [--exit-after N]")?;
    let exit_after = match (args.next().as_deref(), args.next()) {
        (Some("--exit-after"), Some(n)) => Some(n.parse()?),
        (None, _) => None,
        _ => return Err("usage: live_view HOST:PORT [--exit-after N]".into()),
    };
    // ANCHOR: main
    let cam = Arc::new(Camera::connect(TcpTransport::new(addr), Options::default())?);
    let latest = Arc::new(Mutex::new(Latest::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let shown = Rc::new(Cell::new(0));
    let view = LiveView { latest: latest.clone(), texture: None, shown: shown.clone(), exit_after };
    let opts = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default().with_inner_size([640.0, 520.0]).with_title("live view"),
        ..Default::default()
    };
    let s = stop.clone();
    eframe::run_native(
        "live view",
        opts,
        Box::new(move |cc| {
            let ui = cc.egui_ctx.clone();
            std::thread::spawn(move || pull_frames(cam, latest, ui, s));
            Ok(Box::new(view))
        }),
    )?;
    stop.store(true, Ordering::Relaxed);
    // ANCHOR_END: main
    let n = shown.get();
    println!("live_view: showed {n} frames");
    if exit_after.is_some_and(|want| n < want) {
        return Err(format!("showed {n} frames, wanted {}", exit_after.unwrap_or(0)).into());
    }
    Ok(())
}
