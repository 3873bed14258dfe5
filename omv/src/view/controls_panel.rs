//! The live view's controls panel: one egui widget per control type, writing changes back.
//! A value the user just changed is shown as set until the cam's next answer confirms it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use eframe::egui::{self, Color32, Sense};

use openmvproto::controls::{Control, Number, Value, Widget};

use crate::commands::controls::value_text;

/// How long a value set here overrides what the cam last said.
const EDIT_HOLD: Duration = Duration::from_millis(800);

/// Values set in the panel and not yet confirmed; line edits being typed in.
#[derive(Default)]
pub struct PanelState {
    edits: HashMap<String, (Value, Instant)>,
    typing: HashMap<String, String>,
}

impl PanelState {
    fn current(&mut self, c: &Control) -> Value {
        match self.edits.get(&c.name) {
            Some((v, at)) if at.elapsed() < EDIT_HOLD => v.clone(),
            _ => {
                self.edits.remove(&c.name);
                c.value.clone()
            }
        }
    }

    fn set(&mut self, name: &str, v: Value, out: &mut Vec<(String, Value)>) {
        self.edits.insert(name.to_string(), (v.clone(), Instant::now()));
        out.push((name.to_string(), v));
    }
}

fn as_f64(v: &Value) -> f64 {
    v.as_f64().or_else(|| v.as_i64().map(|i| i as f64)).unwrap_or(0.0)
}

fn num(n: Number) -> f64 {
    n.as_f64()
}

/// Draws every control; returns the (name, value) pairs the user set this frame.
pub fn show(ui: &mut egui::Ui, controls: &[Control], st: &mut PanelState) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    egui::Grid::new("controls").num_columns(2).striped(true).show(ui, |ui| {
        for c in controls {
            ui.label(&c.name);
            let unit = c.unit.clone().unwrap_or_default();
            let v = st.current(c);
            match &c.widget {
                Widget::Label => {
                    ui.monospace(format!("{} {unit}", value_text(c)));
                }
                Widget::Text => {
                    ui.add(egui::Label::new(egui::RichText::new(value_text(c)).monospace()).wrap());
                }
                Widget::Toggle => {
                    let mut b = v.as_bool().unwrap_or(false);
                    if ui.checkbox(&mut b, "").changed() {
                        st.set(&c.name, Value::Bool(b), &mut out);
                    }
                }
                Widget::PushButton => {
                    if ui.button("press").clicked() {
                        out.push((c.name.clone(), Value::Bool(true)));
                    }
                }
                Widget::Slider(r) | Widget::Spinbox(r) => {
                    let (lo, hi) = (num(r.min), num(r.max));
                    let is_slider = matches!(c.widget, Widget::Slider(_));
                    let resp = if r.is_int() {
                        let mut x = as_f64(&v).round() as i64;
                        let (lo, hi) = (lo as i64, hi as i64);
                        let resp = if is_slider {
                            ui.add(egui::Slider::new(&mut x, lo..=hi).suffix(format!(" {unit}")))
                        } else {
                            ui.add(egui::DragValue::new(&mut x).range(lo..=hi).suffix(format!(" {unit}")))
                        };
                        (resp.changed()).then_some(Value::Int(x))
                    } else {
                        let mut x = as_f64(&v);
                        let step = num(r.step);
                        let resp = if is_slider {
                            ui.add(egui::Slider::new(&mut x, lo..=hi).step_by(step).suffix(format!(" {unit}")))
                        } else {
                            ui.add(egui::DragValue::new(&mut x).range(lo..=hi).speed(step).suffix(format!(" {unit}")))
                        };
                        (resp.changed()).then_some(Value::Float(x))
                    };
                    if let Some(nv) = resp {
                        st.set(&c.name, nv, &mut out);
                    }
                }
                Widget::Select(opts) => {
                    let cur = v.as_str().unwrap_or("").to_string();
                    egui::ComboBox::from_id_salt(&c.name).selected_text(&cur).show_ui(ui, |ui| {
                        for o in opts {
                            if ui.selectable_label(*o == cur, o).clicked() && *o != cur {
                                st.set(&c.name, Value::Text(o.clone()), &mut out);
                            }
                        }
                    });
                }
                Widget::Radio(opts) => {
                    let cur = v.as_str().unwrap_or("").to_string();
                    ui.horizontal(|ui| {
                        for o in opts {
                            if ui.radio(*o == cur, o).clicked() && *o != cur {
                                st.set(&c.name, Value::Text(o.clone()), &mut out);
                            }
                        }
                    });
                }
                Widget::LineEdit => {
                    let text = st.typing.entry(c.name.clone()).or_insert_with(|| v.as_str().unwrap_or("").to_string());
                    let resp = ui.add(egui::TextEdit::singleline(text).desired_width(160.0));
                    if resp.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                        let t = text.clone();
                        st.set(&c.name, Value::Text(t), &mut out);
                    } else if !resp.has_focus() {
                        *text = v.as_str().unwrap_or("").to_string();
                    }
                }
                Widget::Depth(d) => depth(ui, c, d.width, d.height, num(d.min), num(d.max)),
                Widget::Waveform(w) => {
                    let samples = c.value.as_bytes().and_then(|b| w.samples_f64(b)).unwrap_or_default();
                    waveform(ui, &samples, w.series.max(1) as usize, num(w.min), num(w.max));
                }
                Widget::Other(kind) => {
                    ui.label(format!("({kind}) {}", value_text(c)));
                }
            }
            ui.end_row();
        }
    });
    out
}

/// Grey levels of a depth image: u16 little-endian cells (u8 or f32 when the size says so).
fn depth(ui: &mut egui::Ui, c: &Control, w: u32, h: u32, lo: f64, hi: f64) {
    let (w, h) = (w as usize, h as usize);
    let data = c.value.as_bytes().unwrap_or(&[]);
    let n = w * h;
    let cell = |i: usize| -> Option<f64> {
        match data.len() {
            l if l == n * 2 => Some(u16::from_le_bytes([data[2 * i], data[2 * i + 1]]) as f64),
            l if l == n => Some(data[i] as f64),
            l if l == n * 4 => {
                Some(f32::from_le_bytes([data[4 * i], data[4 * i + 1], data[4 * i + 2], data[4 * i + 3]]) as f64)
            }
            _ => None,
        }
    };
    let px = 8.0;
    let (rect, _) = ui.allocate_exact_size(egui::vec2(w as f32 * px, h as f32 * px), Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 0.0, Color32::from_gray(40));
    if n == 0 || cell(0).is_none() {
        return;
    }
    let span = (hi - lo).max(f64::EPSILON);
    for y in 0..h {
        for x in 0..w {
            let v = cell(y * w + x).unwrap_or(lo);
            let g = (((v - lo) / span).clamp(0.0, 1.0) * 255.0) as u8;
            let r = egui::Rect::from_min_size(rect.min + egui::vec2(x as f32 * px, y as f32 * px), egui::vec2(px, px));
            painter.rect_filled(r, 0.0, Color32::from_gray(g));
        }
    }
}

/// Interleaved series drawn as lines between `lo` and `hi`.
fn waveform(ui: &mut egui::Ui, samples: &[f64], series: usize, lo: f64, hi: f64) {
    let (rect, _) = ui.allocate_exact_size(egui::vec2(200.0, 60.0), Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, Color32::from_gray(30));
    let per = samples.len() / series;
    if per < 2 {
        return;
    }
    let (lo, hi) = if hi > lo { (lo, hi) } else { (0.0, samples.iter().cloned().fold(1.0, f64::max)) };
    let colors = [Color32::from_rgb(120, 200, 255), Color32::from_rgb(255, 180, 90), Color32::from_rgb(140, 230, 140)];
    for s in 0..series {
        let pts: Vec<egui::Pos2> = (0..per)
            .map(|i| {
                let v = samples[i * series + s];
                let x = rect.left() + rect.width() * i as f32 / (per - 1) as f32;
                let y = rect.bottom() - rect.height() * (((v - lo) / (hi - lo)).clamp(0.0, 1.0) as f32);
                egui::pos2(x, y)
            })
            .collect();
        painter.add(egui::Shape::line(pts, egui::Stroke::new(1.5, colors[s % colors.len()])));
    }
}
