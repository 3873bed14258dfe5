//! Owned controls for hosts (`alloc`): decoded copies, and checking a value before a write.

use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use super::decode::Controls;
use super::encode::Writer;
use super::error::{DecodeError, EncodeError, Error};
use super::value::{Number, StrList, ValueRef};
use super::widget::{item_size, DepthShape, Range, WidgetKind, WidgetRef};
use super::ControlRef;

/// An owned field value; see [`ValueRef`] for the CBOR mapping.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    Bytes(Vec<u8>),
    List(Vec<Value>),
}

impl Value {
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "integer",
            Value::Float(_) => "float",
            Value::Text(_) => "text",
            Value::Bytes(_) => "bytes",
            Value::List(_) => "list",
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// Integers and floats as f64.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    pub fn from_ref(v: &ValueRef<'_>) -> Value {
        match *v {
            ValueRef::Null => Value::Null,
            ValueRef::Bool(b) => Value::Bool(b),
            ValueRef::Int(i) => Value::Int(i),
            ValueRef::Float(f) => Value::Float(f),
            ValueRef::Text(s) => Value::Text(s.to_string()),
            ValueRef::Bytes(b) => Value::Bytes(b.to_vec()),
            ValueRef::List(l) => Value::List(l.iter().map(|i| Value::from_ref(&i)).collect()),
        }
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Int(v.into())
    }
}
impl From<u32> for Value {
    fn from(v: u32) -> Self {
        Value::Int(v.into())
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::Bytes(v)
    }
}
impl From<Number> for Value {
    fn from(n: Number) -> Self {
        match n {
            Number::Int(i) => Value::Int(i),
            Number::Float(f) => Value::Float(f),
        }
    }
}

/// A waveform's layout, owned; see [`WaveformRef`](super::WaveformRef).
#[derive(Clone, Debug, PartialEq)]
pub struct Waveform {
    pub samples: u32,
    pub series: u32,
    pub min: Number,
    pub max: Number,
    pub typecode: Option<String>,
    pub sample_period: Option<f64>,
    pub series_names: Option<Vec<String>>,
    pub time_us: Option<u64>,
}

impl Waveform {
    pub fn typecode(&self) -> &str {
        self.typecode.as_deref().unwrap_or("H")
    }

    pub fn sample_rate(&self) -> Option<f64> {
        self.sample_period.filter(|p| *p > 0.0).map(|p| 1.0 / p)
    }

    pub fn item_size(&self) -> usize {
        item_size(self.typecode())
    }

    /// The samples of `data` as f64, series interleaved, for the typecodes b B h H i I l L f
    /// (little-endian, as the cam's `array` stores them); `None` for another typecode.
    pub fn samples_f64(&self, data: &[u8]) -> Option<Vec<f64>> {
        let tc = self.typecode();
        let size = match tc {
            "b" | "B" => 1,
            "h" | "H" => 2,
            "i" | "I" | "l" | "L" | "f" => 4,
            _ => return None,
        };
        Some(
            data.chunks_exact(size)
                .map(|c| match tc {
                    "b" => c[0] as i8 as f64,
                    "B" => c[0] as f64,
                    "h" => i16::from_le_bytes([c[0], c[1]]) as f64,
                    "H" => u16::from_le_bytes([c[0], c[1]]) as f64,
                    "i" | "l" => i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64,
                    "I" | "L" => u32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64,
                    _ => f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64,
                })
                .collect(),
        )
    }
}

/// A widget with its parameters, owned; see [`WidgetRef`].
#[derive(Clone, Debug, PartialEq)]
pub enum Widget {
    Label,
    Text,
    Toggle,
    PushButton,
    Slider(Range),
    Spinbox(Range),
    Select(Vec<String>),
    Radio(Vec<String>),
    LineEdit,
    Depth(DepthShape),
    Waveform(Waveform),
    Other(String),
}

fn strings(l: &StrList<'_>) -> Vec<String> {
    l.iter().map(ToString::to_string).collect()
}

impl Widget {
    pub fn from_ref(w: &WidgetRef<'_>) -> Widget {
        match w {
            WidgetRef::Label => Widget::Label,
            WidgetRef::Text => Widget::Text,
            WidgetRef::Toggle => Widget::Toggle,
            WidgetRef::PushButton => Widget::PushButton,
            WidgetRef::Slider(r) => Widget::Slider(*r),
            WidgetRef::Spinbox(r) => Widget::Spinbox(*r),
            WidgetRef::Select(o) => Widget::Select(strings(o)),
            WidgetRef::Radio(o) => Widget::Radio(strings(o)),
            WidgetRef::LineEdit => Widget::LineEdit,
            WidgetRef::Depth(d) => Widget::Depth(*d),
            WidgetRef::Waveform(w) => Widget::Waveform(Waveform {
                samples: w.samples,
                series: w.series,
                min: w.min,
                max: w.max,
                typecode: w.typecode.map(ToString::to_string),
                sample_period: w.sample_period,
                series_names: w.series_names.as_ref().map(strings),
                time_us: w.time_us,
            }),
            WidgetRef::Other(s) => Widget::Other(s.to_string()),
        }
    }

    /// The kind, `None` for [`Widget::Other`].
    pub fn kind(&self) -> Option<WidgetKind> {
        Some(match self {
            Widget::Label => WidgetKind::Label,
            Widget::Text => WidgetKind::Text,
            Widget::Toggle => WidgetKind::Toggle,
            Widget::PushButton => WidgetKind::PushButton,
            Widget::Slider(_) => WidgetKind::Slider,
            Widget::Spinbox(_) => WidgetKind::Spinbox,
            Widget::Select(_) => WidgetKind::Select,
            Widget::Radio(_) => WidgetKind::Radio,
            Widget::LineEdit => WidgetKind::LineEdit,
            Widget::Depth(_) => WidgetKind::Depth,
            Widget::Waveform(_) => WidgetKind::Waveform,
            Widget::Other(_) => return None,
        })
    }

    /// The text the cam writes under key -30.
    pub fn type_name(&self) -> &str {
        match self {
            Widget::Other(s) => s,
            w => w.kind().map(WidgetKind::name).unwrap_or(""),
        }
    }

    /// Options of a select or radio group.
    pub fn options(&self) -> Option<&[String]> {
        match self {
            Widget::Select(o) | Widget::Radio(o) => Some(o),
            _ => None,
        }
    }

    pub fn range(&self) -> Option<&Range> {
        match self {
            Widget::Slider(r) | Widget::Spinbox(r) => Some(r),
            _ => None,
        }
    }
}

/// One field of a cam's controls channel, owned.
#[derive(Clone, Debug, PartialEq)]
pub struct Control {
    pub name: String,
    pub widget: Widget,
    /// The current value (the samples as bytes for depth and waveform).
    pub value: Value,
    pub unit: Option<String>,
}

impl Control {
    pub fn from_ref(c: &ControlRef<'_>) -> Control {
        Control {
            name: c.name.to_string(),
            widget: Widget::from_ref(&c.widget),
            value: Value::from_ref(&c.value),
            unit: c.unit.map(ToString::to_string),
        }
    }

    pub fn kind(&self) -> Option<WidgetKind> {
        self.widget.kind()
    }

    /// Whether a host may set it.
    pub fn is_input(&self) -> bool {
        self.kind().is_some_and(WidgetKind::is_input)
    }

    /// Checks `v` against the widget and returns what to send: booleans for toggles and
    /// buttons; a number in range for sliders and spin boxes (an integral float becomes an
    /// integer where the range is integral); an option's text for selects and radios (an
    /// integer picks by index); any text for a line edit. Display widgets are read-only;
    /// widgets this version does not know take any value.
    pub fn check(&self, v: Value) -> Result<Value, Error> {
        match &self.widget {
            Widget::Label | Widget::Text | Widget::Depth(_) | Widget::Waveform(_) => Err(Error::ReadOnly),
            Widget::Other(_) => Ok(v),
            Widget::Toggle | Widget::PushButton => match v {
                Value::Bool(_) => Ok(v),
                _ => Err(Error::WrongType { expected: "bool" }),
            },
            Widget::Slider(r) | Widget::Spinbox(r) => {
                let n = match v {
                    Value::Int(i) => Number::Int(i),
                    // A whole number within i64's exact range (no_std has no `fract`).
                    Value::Float(f) if r.is_int() && f > -9.0e15 && f < 9.0e15 && (f as i64) as f64 == f => {
                        Number::Int(f as i64)
                    }
                    Value::Float(f) if !r.is_int() && f.is_finite() => Number::Float(f),
                    Value::Float(_) => return Err(Error::WrongType { expected: "integer" }),
                    _ => return Err(Error::WrongType { expected: "number" }),
                };
                if !r.contains(n) {
                    return Err(Error::OutOfRange);
                }
                Ok(n.into())
            }
            Widget::Select(opts) | Widget::Radio(opts) => match v {
                Value::Text(s) if opts.contains(&s) => Ok(Value::Text(s)),
                Value::Text(_) => Err(Error::NotAnOption),
                Value::Int(i) => usize::try_from(i)
                    .ok()
                    .and_then(|i| opts.get(i))
                    .cloned()
                    .map(Value::Text)
                    .ok_or(Error::NotAnOption),
                _ => Err(Error::WrongType { expected: "text" }),
            },
            Widget::LineEdit => match v {
                Value::Text(_) => Ok(v),
                _ => Err(Error::WrongType { expected: "text" }),
            },
        }
    }
}

/// Decodes a controls blob into owned fields.
pub fn decode_controls(blob: &[u8]) -> Result<Vec<Control>, DecodeError> {
    Ok(Controls::parse(blob)?.iter().map(|c| Control::from_ref(&c)).collect())
}

/// Encodes a host's write of `updates` (`{0: name, 2: value}` records).
pub fn encode_updates_vec(updates: &[(&str, &Value)]) -> Result<Vec<u8>, EncodeError> {
    let mut c = Writer::counter();
    c.begin(updates.len())?;
    for (name, v) in updates {
        c.update_owned(name, v)?;
    }
    let mut buf = vec![0u8; c.count()];
    let mut w = Writer::new(&mut buf);
    w.begin(updates.len())?;
    for (name, v) in updates {
        w.update_owned(name, v)?;
    }
    Ok(buf)
}
