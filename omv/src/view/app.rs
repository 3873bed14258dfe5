//! The live view's window (egui): frame, figures, console, channels, link statistics,
//! profiler overlay. Keys as the `openmv` CLI: ESC quit, P profiler view (off, performance,
//! events), M inclusive / exclusive, R reset the profiler.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::{Duration, Instant};

use eframe::egui::{self, Color32, Key, RichText, TextureHandle, TextureOptions};

use openmvproto::client::ProfileRecord;
use openmvproto::framing::payload::ProtoStats;

use super::controls_panel::{self, PanelState};
use super::worker::{Command, Shared};
use crate::symbols::Symbols;

pub struct ViewApp {
    pub shared: Shared,
    pub commands: Sender<Command>,
    pub profiling: Arc<AtomicBool>,
    pub stop: Arc<AtomicBool>,
    pub symbols: Option<Symbols>,
    pub exit_at: Option<Instant>,
    pub texture: Option<TextureHandle>,
    /// 0 off, 1 performance table, 2 event counters.
    pub profile_view: u8,
    pub exclusive: bool,
    pub title: String,
    pub controls_open: Arc<AtomicBool>,
    pub panel: PanelState,
}

/// The largest whole zoom that fits `avail` (crisp pixels), below 1 a fraction. The window
/// opens at the size `--scale` needs, so that is the zoom until the window is resized.
pub fn fit_scale(frame: (f32, f32), avail: (f32, f32)) -> f32 {
    if frame.0 <= 0.0 || frame.1 <= 0.0 {
        return 1.0;
    }
    let fit = (avail.0 / frame.0).min(avail.1 / frame.1);
    if fit >= 1.0 {
        fit.floor()
    } else {
        fit.max(0.05)
    }
}

fn stats_line(s: &ProtoStats) -> String {
    format!(
        "sent {} recv {} crc err {} seq err {} rtx {} io err {} events {}",
        s.sent, s.received, s.checksum_errors, s.sequence_errors, s.retransmits, s.transport_errors, s.events
    )
}

impl ViewApp {
    fn keys(&mut self, ctx: &egui::Context) {
        // Letters only while no text field has the keyboard (the controls' line edits). Presses
        // are counted: two quick presses can arrive within one frame.
        let typing = ctx.wants_keyboard_input();
        let (esc, p, m, r, c) = ctx.input(|i| {
            let k = |key| if typing { 0 } else { i.num_presses(key) };
            (i.key_pressed(Key::Escape), k(Key::P), k(Key::M), k(Key::R), k(Key::C))
        });
        if c % 2 == 1 {
            let open = !self.controls_open.load(Ordering::Relaxed);
            self.controls_open.store(open, Ordering::Relaxed);
        }
        if esc {
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
        if p > 0 {
            self.profile_view = ((self.profile_view as usize + p) % 3) as u8;
            self.profiling.store(self.profile_view != 0, Ordering::Relaxed);
        }
        if m % 2 == 1 {
            self.exclusive = !self.exclusive;
            let _ = self.commands.send(Command::ProfilerMode { exclusive: self.exclusive });
        }
        if r > 0 {
            let _ = self.commands.send(Command::ProfilerReset);
        }
    }

    fn name_of(&self, addr: u32) -> String {
        self.symbols.as_ref().and_then(|s| s.name(u64::from(addr))).unwrap_or_else(|| format!("0x{addr:08X}"))
    }

    fn profiler(&self, ui: &mut egui::Ui, has_profiler: bool, records: Option<&Vec<ProfileRecord>>) {
        let mode = if self.exclusive { "exclusive" } else { "inclusive" };
        let what = if self.profile_view == 1 { "performance" } else { "events" };
        ui.heading(format!("Profiler: {what}, {mode}"));
        ui.label("P next view / off, M inclusive/exclusive, R reset");
        if !has_profiler {
            ui.colored_label(Color32::from_rgb(255, 190, 80), "this cam has no profile channel");
            return;
        }
        let Some(records) = records else {
            ui.label("waiting for records...");
            return;
        };
        let mut rows: Vec<&ProfileRecord> = records.iter().collect();
        rows.sort_by_key(|r| std::cmp::Reverse(r.total_ticks));
        let total: u64 = rows.iter().map(|r| r.total_ticks).sum::<u64>().max(1);
        egui::ScrollArea::vertical().max_height(400.0).show(ui, |ui| {
            egui::Grid::new("profile").striped(true).show(ui, |ui| {
                if self.profile_view == 1 {
                    for h in ["function", "calls", "min", "max", "avg", "total ticks", "%", "cycles"] {
                        ui.strong(h);
                    }
                    ui.end_row();
                    for r in rows.iter().take(40) {
                        let avg = if r.call_count > 0 { r.total_ticks / u64::from(r.call_count) } else { 0 };
                        ui.monospace(self.name_of(r.address));
                        ui.monospace(r.call_count.to_string());
                        ui.monospace(r.min_ticks.to_string());
                        ui.monospace(r.max_ticks.to_string());
                        ui.monospace(avg.to_string());
                        ui.monospace(r.total_ticks.to_string());
                        ui.monospace(format!("{:.1}", r.total_ticks as f64 * 100.0 / total as f64));
                        ui.monospace(r.total_cycles.to_string());
                        ui.end_row();
                    }
                } else {
                    ui.strong("function");
                    let n = rows.first().map_or(0, |r| r.events.len());
                    for i in 0..n {
                        ui.strong(format!("event {i}"));
                    }
                    ui.end_row();
                    for r in rows.iter().take(40) {
                        ui.monospace(self.name_of(r.address));
                        for e in &r.events {
                            ui.monospace(e.to_string());
                        }
                        ui.end_row();
                    }
                }
            });
        });
    }
}

impl eframe::App for ViewApp {
    fn update(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.keys(ctx);
        if self.exit_at.is_some_and(|t| Instant::now() >= t) {
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
        let mut s = self.shared.lock();
        if let Some(f) = s.new_frame.take() {
            match &mut self.texture {
                Some(t) => t.set(f.image, TextureOptions::NEAREST),
                None => self.texture = Some(ctx.load_texture("frame", f.image, TextureOptions::NEAREST)),
            }
        }
        let link_color = if s.link_up { Color32::from_rgb(120, 220, 120) } else { Color32::from_rgb(255, 120, 80) };
        egui::TopBottomPanel::top("figures").show(ctx, |ui| {
            ui.horizontal(|ui| {
                let cam_fps = s.cam_fps.map_or("-".to_string(), |f| format!("{f:.1}"));
                ui.monospace(format!(
                    "{:6.1} fps  {:6.2} MB/s  frame {:>7}  cam {cam_fps} fps  {}x{} {}",
                    s.fps, s.mb_per_s, s.frames, s.frame_size.0, s.frame_size.1, s.frame_format
                ));
                ui.separator();
                ui.colored_label(link_color, &s.link);
            });
        });
        egui::SidePanel::right("side").default_width(300.0).show(ctx, |ui| {
            ui.heading("Channels");
            egui::Grid::new("channels").striped(true).show(ui, |ui| {
                ui.strong("id");
                ui.strong("name");
                ui.strong("poll");
                ui.end_row();
                for (id, name, ready) in &s.channels {
                    ui.monospace(id.to_string());
                    ui.monospace(name);
                    if *ready {
                        ui.colored_label(Color32::from_rgb(120, 220, 120), "ready");
                    } else {
                        ui.label("-");
                    }
                    ui.end_row();
                }
            });
            ui.separator();
            ui.heading("Link");
            ui.label(RichText::new(format!("host {}", stats_line(&s.host_stats))).small().monospace());
            match &s.cam_stats {
                Some(c) => ui.label(RichText::new(format!("cam  {}", stats_line(c))).small().monospace()),
                None => ui.label("cam: -"),
            };
            ui.label(format!("reconnects {}  soft reboots {}", s.reconnects, s.soft_reboots));
            ui.separator();
            ui.label(&self.title);
            ui.label("ESC quit  P profiler  M incl/excl  R reset  C controls");
        });
        egui::TopBottomPanel::bottom("console").resizable(true).default_height(150.0).show(ctx, |ui| {
            ui.horizontal(|ui| {
                ui.heading("Console");
                if ui.small_button("clear").clicked() {
                    s.console.clear();
                }
            });
            egui::ScrollArea::vertical().stick_to_bottom(true).auto_shrink([false, false]).show(ui, |ui| {
                ui.add(egui::Label::new(RichText::new(s.console_text()).monospace()).wrap());
            });
        });
        let has_profiler = s.has_profiler;
        let profile = s.profile.clone();
        let has_controls = s.has_controls;
        let controls = if self.controls_open.load(Ordering::Relaxed) { s.controls.clone() } else { None };
        drop(s);
        if self.controls_open.load(Ordering::Relaxed) {
            let mut set = Vec::new();
            egui::SidePanel::left("controls").default_width(330.0).show(ctx, |ui| {
                ui.heading("Controls");
                egui::ScrollArea::vertical().show(ui, |ui| match &controls {
                    _ if !has_controls => {
                        ui.colored_label(Color32::from_rgb(255, 190, 80), "this cam has no controls channel");
                    }
                    None => {
                        ui.label("reading...");
                    }
                    Some(Err(e)) => {
                        ui.colored_label(Color32::from_rgb(255, 120, 80), e);
                    }
                    Some(Ok(list)) => set = controls_panel::show(ui, list, &mut self.panel),
                });
            });
            for (name, value) in set {
                let _ = self.commands.send(Command::SetControl { name, value });
            }
        }
        egui::CentralPanel::default().frame(egui::Frame::NONE.fill(Color32::from_gray(24))).show(ctx, |ui| {
            let avail = ui.available_rect_before_wrap();
            if let Some(t) = &self.texture {
                let [w, h] = t.size();
                let z = fit_scale((w as f32, h as f32), (avail.width(), avail.height()));
                let size = egui::vec2(w as f32 * z, h as f32 * z);
                // Whole pixels, so each cam pixel covers the same screen pixels.
                let ppp = ctx.pixels_per_point();
                let min = (avail.min.to_vec2() * ppp).round() / ppp;
                let rect = egui::Rect::from_min_size(min.to_pos2(), size);
                ui.painter().image(
                    t.id(),
                    rect,
                    egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0)),
                    Color32::WHITE,
                );
            } else {
                ui.centered_and_justified(|ui| ui.label("waiting for the first frame..."));
            }
            if self.profile_view != 0 {
                let at = avail.min + egui::vec2(16.0, 16.0);
                egui::Area::new(egui::Id::new("profiler")).fixed_pos(at).show(ctx, |ui| {
                    egui::Frame::popup(ui.style()).fill(Color32::from_rgba_unmultiplied(10, 10, 40, 235)).show(
                        ui,
                        |ui| {
                            self.profiler(ui, has_profiler, profile.as_ref());
                        },
                    );
                });
            }
        });
        ctx.request_repaint_after(Duration::from_millis(100));
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zoom_is_whole_when_it_fits() {
        assert_eq!(fit_scale((320.0, 240.0), (700.0, 500.0)), 2.0);
        assert_eq!(fit_scale((320.0, 240.0), (639.0, 500.0)), 1.0);
        assert!((fit_scale((320.0, 240.0), (160.0, 500.0)) - 0.5).abs() < 1e-6);
        assert_eq!(fit_scale((0.0, 240.0), (100.0, 100.0)), 1.0);
    }
}
