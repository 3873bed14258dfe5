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
    /// No value (`null`).
    Null,
    /// A bool: toggles and push buttons.
    Bool(bool),
    /// An integer within i64.
    Int(i64),
    /// A float (written as a double).
    Float(f64),
    /// UTF-8 text.
    Text(String),
    /// A byte string: depth and waveform samples.
    Bytes(Vec<u8>),
    /// A list; writes fail with [`EncodeError::TooDeep`] past
    /// [`MAX_VALUE_DEPTH`](super::limits::MAX_VALUE_DEPTH) levels.
    List(Vec<Value>),
}

impl Value {
    /// The CBOR type's name, for error messages.
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

    /// The bool of a `Bool`; `None` for other types.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The integer of an `Int`; `None` for other types, floats included.
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

    /// The text of a `Text`; `None` for other types.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The bytes of a `Bytes`; `None` for other types.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// An owned copy of a borrowed value.
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
    /// Samples per series (key -20).
    pub samples: u32,
    /// Interleaved series (key -21).
    pub series: u32,
    /// Smallest sample value (key -23).
    pub min: Number,
    /// Largest sample value (key -24).
    pub max: Number,
    /// Python `array` typecode of a sample (key 3); `None` means `"H"`.
    pub typecode: Option<String>,
    /// Seconds per sample (key 7), the inverse of the sample rate.
    pub sample_period: Option<f64>,
    /// Series names (key -34).
    pub series_names: Option<Vec<String>>,
    /// Sample clock of the latest data in microseconds (key 6).
    pub time_us: Option<u64>,
}

impl Waveform {
    /// The sample typecode: the `typecode` field, or `"H"` (u16) when absent.
    pub fn typecode(&self) -> &str {
        self.typecode.as_deref().unwrap_or("H")
    }

    /// Samples per second, the inverse of the sample period; `None` if that is absent or
    /// not positive.
    pub fn sample_rate(&self) -> Option<f64> {
        self.sample_period.filter(|p| *p > 0.0).map(|p| 1.0 / p)
    }

    /// Bytes per sample for the typecode, as the firmware counts them (4 for any it does not
    /// list).
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
    /// A read-only value (number or text) with an optional unit.
    Label,
    /// Read-only text.
    Text,
    /// On/off switch (bool).
    Toggle,
    /// Momentary button (bool).
    PushButton,
    /// Number in a range, as a slider.
    Slider(Range),
    /// Number in a range, typed in.
    Spinbox(Range),
    /// One of these options as a drop-down; the value is the chosen text.
    Select(Vec<String>),
    /// One of these options as radio buttons; the value is the chosen text.
    Radio(Vec<String>),
    /// Editable text.
    LineEdit,
    /// A depth image; the samples are the value's bytes.
    Depth(DepthShape),
    /// A waveform; the samples are the value's bytes.
    Waveform(Waveform),
    /// A widget type this version does not know, by its name.
    Other(String),
}

fn strings(l: &StrList<'_>) -> Vec<String> {
    l.iter().map(ToString::to_string).collect()
}

impl Widget {
    /// An owned copy of a borrowed widget.
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

    /// The range of a slider or spin box.
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
    /// Field name (key 0); writes address the field by it.
    pub name: String,
    /// Widget type (key -30) with its parameters.
    pub widget: Widget,
    /// The current value (the samples as bytes for depth and waveform).
    pub value: Value,
    /// SenML unit (key 1), kept only for widgets that take one.
    pub unit: Option<String>,
}

impl Control {
    /// An owned copy of a borrowed field.
    pub fn from_ref(c: &ControlRef<'_>) -> Control {
        Control {
            name: c.name.to_string(),
            widget: Widget::from_ref(&c.widget),
            value: Value::from_ref(&c.value),
            unit: c.unit.map(ToString::to_string),
        }
    }

    /// The widget kind; `None` for a widget type this version does not know.
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
                    // NaN and the infinities lie in no range.
                    Value::Float(_) if !r.is_int() => return Err(Error::OutOfRange),
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
