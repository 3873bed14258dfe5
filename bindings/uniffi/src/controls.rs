//! Typed controls (`openmvproto::controls`): a controls channel's fields, read and set by name.

use openmvproto::controls::{self as core, Number, Widget};

use crate::camera::Camera;
use crate::error::CameraError;

type Result<T, E = CameraError> = std::result::Result<T, E>;

/// A control's value, typed as the cam sent it.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum ControlValue {
    None,
    Bool {
        value: bool,
    },
    Int {
        value: i64,
    },
    Float {
        value: f64,
    },
    Text {
        value: String,
    },
    /// Depth and waveform samples.
    Bytes {
        value: Vec<u8>,
    },
    /// A list (a firmware tuple), at most two levels deep.
    Tuple {
        items: Vec<ControlValue>,
    },
}

impl From<&core::Value> for ControlValue {
    fn from(v: &core::Value) -> Self {
        match v {
            core::Value::Null => ControlValue::None,
            core::Value::Bool(b) => ControlValue::Bool { value: *b },
            core::Value::Int(i) => ControlValue::Int { value: *i },
            core::Value::Float(f) => ControlValue::Float { value: *f },
            core::Value::Text(s) => ControlValue::Text { value: s.clone() },
            core::Value::Bytes(b) => ControlValue::Bytes { value: b.clone() },
            core::Value::List(l) => ControlValue::Tuple { items: l.iter().map(ControlValue::from).collect() },
        }
    }
}

impl From<ControlValue> for core::Value {
    fn from(v: ControlValue) -> Self {
        match v {
            ControlValue::None => core::Value::Null,
            ControlValue::Bool { value } => core::Value::Bool(value),
            ControlValue::Int { value } => core::Value::Int(value),
            ControlValue::Float { value } => core::Value::Float(value),
            ControlValue::Text { value } => core::Value::Text(value),
            ControlValue::Bytes { value } => core::Value::Bytes(value),
            ControlValue::Tuple { items } => core::Value::List(items.into_iter().map(core::Value::from).collect()),
        }
    }
}

/// The widget a control is drawn with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum WidgetType {
    Label,
    Text,
    Toggle,
    PushButton,
    Slider,
    Spinbox,
    Select,
    Radio,
    LineEdit,
    Depth,
    Waveform,
    /// A type this library does not know: see `widgetName`.
    Other,
}

/// One field of a controls channel with its widget's parameters.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Control {
    pub name: String,
    pub widget: WidgetType,
    /// The widget type as the cam wrote it ("slider", ...).
    pub widget_name: String,
    pub value: ControlValue,
    pub unit: Option<String>,
    /// Slider / spin box range and step; depth / waveform data range.
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub step: Option<f64>,
    /// Whether the range is integral (the control takes integers).
    pub integral: bool,
    /// Select / radio options; waveform series names.
    pub options: Vec<String>,
    /// Depth: width x height. Waveform: samples per series x number of series.
    pub width: u32,
    pub height: u32,
    /// Waveform: samples per second, typecode ("H" unless the cam says otherwise), clock.
    pub sample_rate: Option<f64>,
    pub typecode: Option<String>,
    pub time_us: Option<u64>,
    /// Whether a host may set it.
    pub writable: bool,
}

/// One control to set, for `setControls`.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ControlUpdate {
    pub name: String,
    pub value: ControlValue,
}

impl From<&core::Control> for Control {
    fn from(c: &core::Control) -> Self {
        let mut out = Control {
            name: c.name.clone(),
            widget: WidgetType::Other,
            widget_name: c.widget.type_name().to_owned(),
            value: ControlValue::from(&c.value),
            unit: c.unit.clone(),
            min: None,
            max: None,
            step: None,
            integral: false,
            options: Vec::new(),
            width: 0,
            height: 0,
            sample_rate: None,
            typecode: None,
            time_us: None,
            writable: c.is_input(),
        };
        let f = Number::as_f64;
        out.widget = match &c.widget {
            Widget::Label => WidgetType::Label,
            Widget::Text => WidgetType::Text,
            Widget::Toggle => WidgetType::Toggle,
            Widget::PushButton => WidgetType::PushButton,
            Widget::Slider(_) => WidgetType::Slider,
            Widget::Spinbox(_) => WidgetType::Spinbox,
            Widget::Select(_) => WidgetType::Select,
            Widget::Radio(_) => WidgetType::Radio,
            Widget::LineEdit => WidgetType::LineEdit,
            Widget::Depth(_) => WidgetType::Depth,
            Widget::Waveform(_) => WidgetType::Waveform,
            Widget::Other(_) => WidgetType::Other,
        };
        match &c.widget {
            Widget::Slider(r) | Widget::Spinbox(r) => {
                (out.min, out.max, out.step, out.integral) =
                    (Some(f(r.min)), Some(f(r.max)), Some(f(r.step)), r.is_int());
            }
            Widget::Select(o) | Widget::Radio(o) => out.options = o.clone(),
            Widget::Depth(d) => {
                (out.min, out.max, out.width, out.height) = (Some(f(d.min)), Some(f(d.max)), d.width, d.height);
            }
            Widget::Waveform(w) => {
                (out.min, out.max, out.width, out.height) = (Some(f(w.min)), Some(f(w.max)), w.samples, w.series);
                out.sample_rate = w.sample_rate();
                out.typecode = Some(w.typecode().to_owned());
                out.options = w.series_names.clone().unwrap_or_default();
                out.time_us = w.time_us;
            }
            _ => {}
        }
        out
    }
}

/// The binding error of a controls error: a malformed blob is a bad answer, the rest (no such
/// control, wrong type, out of range, ...) an invalid argument.
pub(crate) fn camera_error(e: &core::Error) -> CameraError {
    match e {
        core::Error::Decode(_) => CameraError::BadAnswer { detail: format!("controls: {e}") },
        _ => CameraError::InvalidArgument { detail: format!("controls: {e}") },
    }
}

#[uniffi::export]
impl Camera {
    /// Every field of the controls channel `channel` (e.g. "controls"), in the cam's order.
    pub fn controls(&self, channel: String) -> Result<Vec<Control>> {
        Ok(self.inner.controls(channel.as_str())?.iter().map(Control::from).collect())
    }

    /// One field by name.
    pub fn control(&self, channel: String, name: String) -> Result<Control> {
        Ok(Control::from(&self.inner.control(channel.as_str(), &name)?))
    }

    /// Sets a control after checking the value against its widget. A push-button press is
    /// never repeated after a recovery: a lost answer gives `OutcomeUnknown`.
    pub fn set_control(&self, channel: String, name: String, value: ControlValue) -> Result<()> {
        Ok(self.inner.set_control(channel.as_str(), &name, core::Value::from(value))?)
    }

    /// Sets several controls in one write; nothing is sent if one of them does not fit.
    pub fn set_controls(&self, channel: String, updates: Vec<ControlUpdate>) -> Result<()> {
        let values: Vec<(String, core::Value)> = updates.into_iter().map(|u| (u.name, u.value.into())).collect();
        let refs: Vec<(&str, core::Value)> = values.iter().map(|(n, v)| (n.as_str(), v.clone())).collect();
        Ok(self.inner.set_controls(channel.as_str(), &refs)?)
    }
}
