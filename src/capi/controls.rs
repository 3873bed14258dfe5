//! `omv_controls`: a controls channel's fields read from the cam ([`crate::controls`]), and
//! setting them by name.
//!
//! ```c
//! omv_controls *c;
//! if (omv_host_controls(host, "controls", &c) == OMV_STATUS_OK) {
//!     size_t n; omv_controls_count(c, &n);
//!     for (size_t i = 0; i < n; i++) {
//!         omv_control f; omv_controls_get(c, i, &f);   // pointers valid until omv_controls_free
//!         printf("%s (%s)\n", f.name, f.widget_name);
//!     }
//!     omv_controls_free(c);
//! }
//! omv_host_set_control_int(host, "controls", "threshold", 128);
//! ```

use std::ffi::{c_char, CString};

use super::error::Fail;
use super::ffi::{arg_str, guard, Out};
use super::host::{omv_host, with_camera};
use super::omv_status;
use crate::controls::{Control, Error as ControlsError, Number, Value, Widget};

/// The fields of one read of a controls channel. Opaque; from `omv_host_controls`, released
/// by `omv_controls_free`. Not thread-safe (use one handle from one thread at a time).
#[allow(non_camel_case_types)]
#[derive(Debug)]
pub struct omv_controls {
    controls: Vec<Control>,
    /// NUL-terminated copies of each control's texts, which the `omv_control` views point at.
    texts: Vec<Texts>,
}

#[derive(Debug)]
struct Texts {
    name: CString,
    widget: CString,
    unit: Option<CString>,
    text: Option<CString>,
    typecode: Option<CString>,
    options: Vec<CString>,
}

/// A control's widget type.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum omv_widget {
    /// A read-only value (number or text) with an optional `unit`.
    Label = 0,
    /// Read-only text (`value_text`).
    Text = 1,
    /// An on/off switch (`value_bool`); set with `omv_host_set_control_bool`.
    Toggle = 2,
    /// A momentary button (`value_bool`); set with `omv_host_set_control_bool`.
    Pushbutton = 3,
    /// A number from `min` to `max` by `step`, as a slider; set with `omv_host_set_control_int`
    /// or `omv_host_set_control_float`.
    Slider = 4,
    /// A number from `min` to `max` by `step`, typed in; set as a slider is.
    Spinbox = 5,
    /// One of `option_count` options as a drop-down; the value is the chosen text. Set with
    /// `omv_host_set_control_text` (the text) or `omv_host_set_control_int` (the index).
    Select = 6,
    /// One of `option_count` options as radio buttons; set as a select is.
    Radio = 7,
    /// Editable text (`value_text`); set with `omv_host_set_control_text`.
    Lineedit = 8,
    /// A `width` x `height` image of 16-bit values from `min` to `max`, in `value_bytes`.
    Depth = 9,
    /// `height` interleaved series of `width` samples each, in `value_bytes`; see
    /// `sample_rate`, `typecode` and, for the series names, `omv_controls_option`.
    Waveform = 10,
    /// A widget type this library does not know (see `widget_name`).
    Other = 255,
}

/// The type of a control's value.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum omv_value_type {
    /// No value (CBOR null).
    Null = 0,
    /// In `value_bool`.
    Bool = 1,
    /// In `value_int`, and as a double in `value_float`.
    Int = 2,
    /// In `value_float`.
    Float = 3,
    /// In `value_text`, NUL-terminated (cut at the first NUL the text holds).
    Text = 4,
    /// In `value_bytes`, `value_bytes_len` bytes (depth and waveform samples).
    Bytes = 5,
    /// A list (e.g. a firmware tuple); not expanded in C: `list_len` items.
    List = 6,
}

/// One control, viewed: pointers into its `omv_controls`, valid until `omv_controls_free`.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct omv_control {
    /// The control's name, NUL-terminated: the `name` the `omv_host_set_control_*` functions take.
    pub name: *const c_char,
    /// The widget type; `OMV_WIDGET_OTHER` for one this library does not know.
    pub widget: omv_widget,
    /// The widget type as the cam wrote it ("slider", ...).
    pub widget_name: *const c_char,
    /// NULL when the control has none.
    pub unit: *const c_char,
    /// Which `value_*` field holds the value.
    pub value_type: omv_value_type,
    /// The value for `OMV_VALUE_TYPE_BOOL`; false otherwise.
    pub value_bool: bool,
    /// The value for `OMV_VALUE_TYPE_INT`; 0 otherwise.
    pub value_int: i64,
    /// The value as a double for ints and floats.
    pub value_float: f64,
    /// NUL-terminated, for text values; NULL otherwise.
    pub value_text: *const c_char,
    /// Depth and waveform samples (bytes values); NULL otherwise.
    pub value_bytes: *const u8,
    /// Bytes at `value_bytes`; 0 when it is NULL.
    pub value_bytes_len: usize,
    /// Items of an `OMV_VALUE_TYPE_LIST` value; 0 otherwise.
    pub list_len: usize,
    /// Slider / spin box range and step; depth / waveform data range (step 0).
    pub min: f64,
    /// Top of that range; 0 for other widgets.
    pub max: f64,
    /// Step of a slider or spin box; 0 for other widgets.
    pub step: f64,
    /// Whether min, max and step are all integers (the control takes integers).
    pub integral: bool,
    /// Depth: width x height. Waveform: samples per series x number of series.
    pub width: u32,
    /// Depth: rows. Waveform: number of series. 0 for other widgets.
    pub height: u32,
    /// Waveform: samples per second (0 if unknown) and the sample typecode ("H", ...).
    pub sample_rate: f64,
    /// Waveform: NUL-terminated ("H", u16, when the cam gave none); NULL for other widgets.
    pub typecode: *const c_char,
    /// Options of a select or radio (series names of a waveform): `omv_controls_option`.
    pub option_count: usize,
}

fn cstring(s: &str) -> CString {
    // A NUL inside a name or text cannot come through C; cut there.
    CString::new(s.split('\0').next().unwrap_or("")).unwrap_or_default()
}

impl omv_controls {
    fn new(controls: Vec<Control>) -> Self {
        let texts = controls
            .iter()
            .map(|c| {
                let (typecode, options) = match &c.widget {
                    Widget::Select(o) | Widget::Radio(o) => (None, o.iter().map(|s| cstring(s)).collect()),
                    Widget::Waveform(w) => {
                        (Some(cstring(w.typecode())), w.series_names.iter().flatten().map(|s| cstring(s)).collect())
                    }
                    _ => (None, Vec::new()),
                };
                Texts {
                    name: cstring(&c.name),
                    widget: cstring(c.widget.type_name()),
                    unit: c.unit.as_deref().map(cstring),
                    text: c.value.as_str().map(cstring),
                    typecode,
                    options,
                }
            })
            .collect();
        omv_controls { controls, texts }
    }

    fn view(&self, i: usize) -> Option<omv_control> {
        let (c, t) = (self.controls.get(i)?, &self.texts[i]);
        let widget = match &c.widget {
            Widget::Label => omv_widget::Label,
            Widget::Text => omv_widget::Text,
            Widget::Toggle => omv_widget::Toggle,
            Widget::PushButton => omv_widget::Pushbutton,
            Widget::Slider(_) => omv_widget::Slider,
            Widget::Spinbox(_) => omv_widget::Spinbox,
            Widget::Select(_) => omv_widget::Select,
            Widget::Radio(_) => omv_widget::Radio,
            Widget::LineEdit => omv_widget::Lineedit,
            Widget::Depth(_) => omv_widget::Depth,
            Widget::Waveform(_) => omv_widget::Waveform,
            Widget::Other(_) => omv_widget::Other,
        };
        let mut v = omv_control {
            name: t.name.as_ptr(),
            widget,
            widget_name: t.widget.as_ptr(),
            unit: t.unit.as_ref().map_or(std::ptr::null(), |u| u.as_ptr()),
            value_type: omv_value_type::Null,
            value_bool: false,
            value_int: 0,
            value_float: 0.0,
            value_text: t.text.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
            value_bytes: std::ptr::null(),
            value_bytes_len: 0,
            list_len: 0,
            min: 0.0,
            max: 0.0,
            step: 0.0,
            integral: false,
            width: 0,
            height: 0,
            sample_rate: 0.0,
            typecode: t.typecode.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
            option_count: t.options.len(),
        };
        match &c.value {
            Value::Null => {}
            Value::Bool(b) => (v.value_type, v.value_bool) = (omv_value_type::Bool, *b),
            Value::Int(i) => (v.value_type, v.value_int, v.value_float) = (omv_value_type::Int, *i, *i as f64),
            Value::Float(f) => (v.value_type, v.value_float) = (omv_value_type::Float, *f),
            Value::Text(_) => v.value_type = omv_value_type::Text,
            Value::Bytes(b) => {
                (v.value_type, v.value_bytes, v.value_bytes_len) = (omv_value_type::Bytes, b.as_ptr(), b.len())
            }
            Value::List(l) => (v.value_type, v.list_len) = (omv_value_type::List, l.len()),
        }
        let range = |min: Number, max: Number| (min.as_f64(), max.as_f64());
        match &c.widget {
            Widget::Slider(r) | Widget::Spinbox(r) => {
                (v.min, v.max) = range(r.min, r.max);
                v.step = r.step.as_f64();
                v.integral = r.is_int();
            }
            Widget::Depth(d) => {
                (v.min, v.max) = range(d.min, d.max);
                (v.width, v.height) = (d.width, d.height);
            }
            Widget::Waveform(w) => {
                (v.min, v.max) = range(w.min, w.max);
                (v.width, v.height) = (w.samples, w.series);
                v.sample_rate = w.sample_rate().unwrap_or(0.0);
            }
            _ => {}
        }
        Some(v)
    }
}

/// The C status of a controls error: decode errors are a bad answer, the rest a bad argument.
pub(crate) fn status_of(e: &ControlsError) -> omv_status {
    match e {
        ControlsError::Decode(_) => omv_status::BadAnswer,
        _ => omv_status::InvalidArgument,
    }
}

/// Reads every field of the controls channel `channel` (e.g. "controls"). Thread-safe (on
/// `host`); `*out` must be released with `omv_controls_free`.
///
/// # Safety
/// `host` NULL or live; `channel` NULL or NUL-terminated; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn omv_host_controls(
    host: *mut omv_host,
    channel: *const c_char,
    out: *mut *mut omv_controls,
) -> omv_status {
    guard("omv_host_controls", || {
        // SAFETY: the caller's contract.
        let (channel, out) = unsafe { (arg_str(channel, "channel")?, Out::new(out, "out")?) };
        // SAFETY: the caller's contract.
        unsafe {
            with_camera(host, |_, cam| {
                let list = cam.controls(channel)?;
                out.put(Box::into_raw(Box::new(omv_controls::new(list))))
            })
        }
    })
}

/// # Safety
/// `c` must be NULL or a live `omv_controls`.
unsafe fn controls<'a>(c: *const omv_controls) -> Result<&'a omv_controls, Fail> {
    // SAFETY: forwarded contract (live handles are valid, aligned `omv_controls`).
    unsafe { super::ffi::arg_ref(c, "controls") }
}

/// The number of controls.
///
/// # Safety
/// `controls` NULL or live; `count` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn omv_controls_count(controls: *const omv_controls, count: *mut usize) -> omv_status {
    guard("omv_controls_count", || {
        // SAFETY: the caller's contract.
        let (c, count) = unsafe { (self::controls(controls)?, Out::new(count, "count")?) };
        count.put(c.controls.len())
    })
}

/// Control `index` (0 to count - 1) viewed into `*out`.
///
/// # Safety
/// `controls` NULL or live; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn omv_controls_get(
    controls: *const omv_controls,
    index: usize,
    out: *mut omv_control,
) -> omv_status {
    guard("omv_controls_get", || {
        // SAFETY: the caller's contract.
        let (c, out) = unsafe { (self::controls(controls)?, Out::new(out, "out")?) };
        out.put(c.view(index).ok_or_else(|| Fail::invalid(format!("index {index} of {}", c.controls.len())))?)
    })
}

/// Option `option` of control `index` (select / radio options, waveform series names), a
/// NUL-terminated string valid until `omv_controls_free`.
///
/// # Safety
/// `controls` NULL or live; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn omv_controls_option(
    controls: *const omv_controls,
    index: usize,
    option: usize,
    out: *mut *const c_char,
) -> omv_status {
    guard("omv_controls_option", || {
        // SAFETY: the caller's contract.
        let (c, out) = unsafe { (self::controls(controls)?, Out::new(out, "out")?) };
        let s =
            c.texts.get(index).and_then(|t| t.options.get(option)).ok_or_else(|| Fail::invalid("no such option"))?;
        out.put(s.as_ptr())
    })
}

/// Releases the controls (NULL is ignored).
///
/// # Safety
/// `controls` NULL or a live handle, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn omv_controls_free(controls: *mut omv_controls) -> omv_status {
    guard("omv_controls_free", || {
        if !controls.is_null() {
            // SAFETY: made by Box::into_raw in omv_host_controls; the caller gives it up.
            drop(unsafe { Box::from_raw(controls) });
        }
        Ok(())
    })
}

/// # Safety
/// The pointer arguments of the `omv_host_set_control_*` functions.
unsafe fn set(host: *mut omv_host, channel: *const c_char, name: *const c_char, v: Value) -> Result<(), Fail> {
    // SAFETY: forwarded contract.
    let (channel, name) = unsafe { (arg_str(channel, "channel")?, arg_str(name, "name")?) };
    // SAFETY: forwarded contract.
    unsafe { with_camera(host, |_, cam| Ok(cam.set_control(channel, name, v)?)) }
}

/// Sets a toggle or push button. The value is checked against the control first
/// (`OMV_STATUS_INVALID_ARGUMENT` with the reason in `omv_last_error`). Thread-safe. A press
/// is never repeated after a recovery: a lost answer gives `OMV_STATUS_OUTCOME_UNKNOWN`.
///
/// # Safety
/// `host` NULL or live; `channel`, `name` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn omv_host_set_control_bool(
    host: *mut omv_host,
    channel: *const c_char,
    name: *const c_char,
    value: bool,
) -> omv_status {
    // SAFETY: the caller's contract.
    guard("omv_host_set_control_bool", || unsafe { set(host, channel, name, Value::Bool(value)) })
}

/// Sets a slider or spin box to an integer, or picks a select / radio option by index.
/// Thread-safe.
///
/// # Safety
/// `host` NULL or live; `channel`, `name` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn omv_host_set_control_int(
    host: *mut omv_host,
    channel: *const c_char,
    name: *const c_char,
    value: i64,
) -> omv_status {
    // SAFETY: the caller's contract.
    guard("omv_host_set_control_int", || unsafe { set(host, channel, name, Value::Int(value)) })
}

/// Sets a slider or spin box to a number (an integral one becomes an integer where the range
/// is integral). Thread-safe.
///
/// # Safety
/// `host` NULL or live; `channel`, `name` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn omv_host_set_control_float(
    host: *mut omv_host,
    channel: *const c_char,
    name: *const c_char,
    value: f64,
) -> omv_status {
    // SAFETY: the caller's contract.
    guard("omv_host_set_control_float", || unsafe { set(host, channel, name, Value::Float(value)) })
}

/// Sets a line edit's text, or picks a select / radio option by its text. Thread-safe.
///
/// # Safety
/// `host` NULL or live; `channel`, `name`, `value` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn omv_host_set_control_text(
    host: *mut omv_host,
    channel: *const c_char,
    name: *const c_char,
    value: *const c_char,
) -> omv_status {
    guard("omv_host_set_control_text", || {
        // SAFETY: the caller's contract.
        let v = unsafe { arg_str(value, "value") }?;
        // SAFETY: the caller's contract.
        unsafe { set(host, channel, name, Value::Text(v.to_string())) }
    })
}
