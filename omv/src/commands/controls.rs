//! `omv controls list|get|set`: the typed controls a cam publishes on a channel.

use anyhow::{bail, Result};
use serde_json::{json, Value as Json};

use openmvproto::controls::{Control, Number, Value, Widget};

use crate::cli::{ControlsCmd, LinkArgs};

fn number(n: Number) -> Json {
    match n {
        Number::Int(i) => json!(i),
        Number::Float(f) => json!(f),
    }
}

fn value_json(v: &Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Bool(b) => json!(b),
        Value::Int(i) => json!(i),
        Value::Float(f) => json!(f),
        Value::Text(s) => json!(s),
        Value::Bytes(b) => json!({"bytes": b.len()}),
        Value::List(l) => l.iter().map(value_json).collect(),
    }
}

/// A control as JSON: name, widget, value, unit and the widget's parameters.
pub fn control_json(c: &Control) -> Json {
    let mut j = json!({"name": c.name, "widget": c.widget.type_name(), "value": value_json(&c.value),
                       "unit": c.unit, "input": c.is_input()});
    if let Some(r) = c.widget.range() {
        j["min"] = number(r.min);
        j["max"] = number(r.max);
        j["step"] = number(r.step);
    }
    if let Some(o) = c.widget.options() {
        j["options"] = json!(o);
    }
    match &c.widget {
        Widget::Depth(d) => {
            j["width"] = json!(d.width);
            j["height"] = json!(d.height);
        }
        Widget::Waveform(w) => {
            j["samples"] = json!(w.samples);
            j["series"] = json!(w.series);
            if let Some(s) = c.value.as_bytes().and_then(|b| w.samples_f64(b)) {
                j["last"] = s.last().copied().map_or(Json::Null, |v| json!(v));
            }
        }
        _ => {}
    }
    j
}

/// The value as a person reads it.
pub fn value_text(c: &Control) -> String {
    match (&c.widget, &c.value) {
        (Widget::Waveform(w), Value::Bytes(b)) => match w.samples_f64(b) {
            Some(s) if !s.is_empty() => format!("{} samples, last {}", s.len(), s[s.len() - 1]),
            _ => format!("{} bytes", b.len()),
        },
        (Widget::Depth(d), Value::Bytes(b)) => format!("{}x{} image, {} bytes", d.width, d.height, b.len()),
        (_, v) => plain(v),
    }
}

fn plain(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => format!("{f}"),
        Value::Text(s) => s.clone(),
        Value::Bytes(b) => format!("{} bytes", b.len()),
        Value::List(l) => format!("[{}]", l.iter().map(plain).collect::<Vec<_>>().join(", ")),
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "on" | "yes" | "1" => Some(true),
        "false" | "off" | "no" | "0" => Some(false),
        _ => None,
    }
}

/// Reads `text` as the type the control's widget takes (the client checks ranges and options).
pub fn parse_value(c: &Control, text: &str) -> Result<Value> {
    Ok(match &c.widget {
        Widget::Toggle | Widget::PushButton => match parse_bool(text) {
            Some(b) => Value::Bool(b),
            None => bail!("{}: {text:?} is not true or false", c.name),
        },
        Widget::Slider(r) | Widget::Spinbox(r) => {
            if r.is_int() {
                match text.parse::<i64>() {
                    Ok(i) => Value::Int(i),
                    Err(_) => bail!("{}: {text:?} is not an integer", c.name),
                }
            } else {
                match text.parse::<f64>() {
                    Ok(f) => Value::Float(f),
                    Err(_) => bail!("{}: {text:?} is not a number", c.name),
                }
            }
        }
        Widget::Select(o) | Widget::Radio(o) if !o.iter().any(|x| x == text) => match text.parse::<i64>() {
            Ok(i) => Value::Int(i),
            Err(_) => Value::Text(text.to_string()),
        },
        Widget::Other(_) => {
            if let Ok(i) = text.parse::<i64>() {
                Value::Int(i)
            } else if let Ok(f) = text.parse::<f64>() {
                Value::Float(f)
            } else if let Some(b) = parse_bool(text) {
                Value::Bool(b)
            } else {
                Value::Text(text.to_string())
            }
        }
        _ => Value::Text(text.to_string()),
    })
}

pub fn controls(link: &LinkArgs, cmd: &ControlsCmd) -> Result<()> {
    let s = link.connect()?;
    let cam = &s.cam;
    match cmd {
        ControlsCmd::List { channel } => {
            let list = cam.controls(channel.as_str())?;
            if link.json {
                let v: Vec<Json> = list.iter().map(control_json).collect();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                for c in &list {
                    let mut extra = String::new();
                    if let Some(r) = c.widget.range() {
                        extra = format!(" [{} .. {} step {}]", number(r.min), number(r.max), number(r.step));
                    }
                    if let Some(o) = c.widget.options() {
                        extra = format!(" [{}]", o.join(" | "));
                    }
                    let unit = c.unit.as_deref().map(|u| format!(" {u}")).unwrap_or_default();
                    println!("{:<14} {:<11} {}{unit}{extra}", c.name, c.widget.type_name(), value_text(c));
                }
            }
        }
        ControlsCmd::Get { name, channel } => {
            let c = cam.control(channel.as_str(), name)?;
            if link.json {
                println!("{}", serde_json::to_string_pretty(&control_json(&c))?);
            } else {
                println!("{}", value_text(&c));
            }
        }
        ControlsCmd::Set { name, value, channel } => {
            let c = cam.control(channel.as_str(), name)?;
            let v = parse_value(&c, value)?;
            cam.set_control(channel.as_str(), name, v)?;
            if link.json {
                let c = cam.control(channel.as_str(), name)?;
                println!("{}", serde_json::to_string_pretty(&control_json(&c))?);
            }
        }
    }
    Ok(())
}
