//! Widget types and their parameters.

use super::value::{Number, StrList};

/// The widget types the firmware knows, by the text it writes under key -30.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WidgetKind {
    /// Read-only value with an optional unit.
    Label,
    /// Read-only text.
    Text,
    /// On/off switch (bool).
    Toggle,
    /// Momentary button (bool).
    PushButton,
    /// Number in a range with a step.
    Slider,
    /// Number in a range with a step, typed in.
    Spinbox,
    /// One of a list of texts, as a drop-down.
    Select,
    /// One of a list of texts, as radio buttons.
    Radio,
    /// Editable text.
    LineEdit,
    /// A width x height image of 16-bit values between min and max (bytes).
    Depth,
    /// Interleaved samples of one or more series at a sample rate (bytes).
    Waveform,
}

impl WidgetKind {
    /// Every kind, in declaration order.
    pub const ALL: [WidgetKind; 11] = [
        WidgetKind::Label,
        WidgetKind::Text,
        WidgetKind::Toggle,
        WidgetKind::PushButton,
        WidgetKind::Slider,
        WidgetKind::Spinbox,
        WidgetKind::Select,
        WidgetKind::Radio,
        WidgetKind::LineEdit,
        WidgetKind::Depth,
        WidgetKind::Waveform,
    ];

    /// The text the firmware writes for this widget.
    pub fn name(self) -> &'static str {
        match self {
            WidgetKind::Label => "label",
            WidgetKind::Text => "text",
            WidgetKind::Toggle => "toggle",
            WidgetKind::PushButton => "pushbutton",
            WidgetKind::Slider => "slider",
            WidgetKind::Spinbox => "spinbox",
            WidgetKind::Select => "select",
            WidgetKind::Radio => "radio",
            WidgetKind::LineEdit => "lineedit",
            WidgetKind::Depth => "depth",
            WidgetKind::Waveform => "waveform",
        }
    }

    /// The kind the firmware writes as `s` (exact, lower case); `None` for a name this
    /// version does not know.
    pub fn from_name(s: &str) -> Option<WidgetKind> {
        WidgetKind::ALL.into_iter().find(|k| k.name() == s)
    }

    /// Whether a host may set it (display widgets are the cam's).
    pub fn is_input(self) -> bool {
        !matches!(self, WidgetKind::Label | WidgetKind::Text | WidgetKind::Depth | WidgetKind::Waveform)
    }
}

/// A slider's or spin box's range (keys -31, -32, -33).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Range {
    /// Smallest value (key -31; 0 when absent).
    pub min: Number,
    /// Largest value (key -32; 100 when absent).
    pub max: Number,
    /// Step between values (key -33; 1 when absent); a hint for the widget, not checked on
    /// writes.
    pub step: Number,
}

impl Range {
    /// The firmware's defaults: 0 to 100 by 1.
    pub const DEFAULT: Range = Range { min: Number::Int(0), max: Number::Int(100), step: Number::Int(1) };

    /// Whether every bound is an integer: the control then takes integers.
    pub fn is_int(&self) -> bool {
        self.min.is_int() && self.max.is_int() && self.step.is_int()
    }

    /// Whether `v` lies in `min..=max`, compared as f64 (the step is not checked).
    pub fn contains(&self, v: Number) -> bool {
        let x = v.as_f64();
        x >= self.min.as_f64() && x <= self.max.as_f64()
    }
}

/// A depth image's shape and value range (keys -20, -21, -23, -24).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DepthShape {
    /// Columns (key -20; 0 when absent).
    pub width: u32,
    /// Rows (key -21; 0 when absent).
    pub height: u32,
    /// Smallest data value (key -23; 0 when absent).
    pub min: Number,
    /// Largest data value (key -24; 1000 when absent).
    pub max: Number,
}

/// A waveform's layout: `series` interleaved series of `samples` each.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WaveformRef<'a> {
    /// Samples per series (key -20).
    pub samples: u32,
    /// Interleaved series (key -21).
    pub series: u32,
    /// Smallest sample value (key -23; 0 when absent).
    pub min: Number,
    /// Largest sample value (key -24; 65535 when absent).
    pub max: Number,
    /// Python `array` typecode of a sample (key 3); `None` means `"H"`.
    pub typecode: Option<&'a str>,
    /// Seconds per sample (key 7), the inverse of the sample rate.
    pub sample_period: Option<f64>,
    /// Series names (key -34).
    pub series_names: Option<StrList<'a>>,
    /// Sample clock of the latest data in microseconds (key 6).
    pub time_us: Option<u64>,
}

impl WaveformRef<'_> {
    /// The sample typecode: key 3, or `"H"` (u16) when absent.
    pub fn typecode(&self) -> &str {
        self.typecode.unwrap_or("H")
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
}

pub(crate) fn item_size(typecode: &str) -> usize {
    match typecode {
        "b" | "B" => 1,
        "h" | "H" => 2,
        _ => 4,
    }
}

/// A widget with its parameters, borrowed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum WidgetRef<'a> {
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
    /// One of the options (key -34) as a drop-down; the value is the chosen text.
    Select(StrList<'a>),
    /// One of the options (key -34) as radio buttons; the value is the chosen text.
    Radio(StrList<'a>),
    /// Editable text.
    LineEdit,
    /// A depth image; the samples are the value's bytes (key 8).
    Depth(DepthShape),
    /// A waveform; the samples are the value's bytes (key 8).
    Waveform(WaveformRef<'a>),
    /// A widget type this version does not know, by its name.
    Other(&'a str),
}

impl WidgetRef<'_> {
    /// The kind, `None` for [`WidgetRef::Other`].
    pub fn kind(&self) -> Option<WidgetKind> {
        Some(match self {
            WidgetRef::Label => WidgetKind::Label,
            WidgetRef::Text => WidgetKind::Text,
            WidgetRef::Toggle => WidgetKind::Toggle,
            WidgetRef::PushButton => WidgetKind::PushButton,
            WidgetRef::Slider(_) => WidgetKind::Slider,
            WidgetRef::Spinbox(_) => WidgetKind::Spinbox,
            WidgetRef::Select(_) => WidgetKind::Select,
            WidgetRef::Radio(_) => WidgetKind::Radio,
            WidgetRef::LineEdit => WidgetKind::LineEdit,
            WidgetRef::Depth(_) => WidgetKind::Depth,
            WidgetRef::Waveform(_) => WidgetKind::Waveform,
            WidgetRef::Other(_) => return None,
        })
    }

    /// Whether a unit goes with this widget: labels, sliders, spin boxes, waveforms, and
    /// widgets this version does not know (written as labels are). The encoder writes a unit
    /// only for these, and the decoder keeps one only for these.
    pub fn takes_unit(&self) -> bool {
        matches!(
            self,
            WidgetRef::Label
                | WidgetRef::Slider(_)
                | WidgetRef::Spinbox(_)
                | WidgetRef::Waveform(_)
                | WidgetRef::Other(_)
        )
    }

    /// The text written under key -30.
    pub fn type_name(&self) -> &str {
        match self {
            WidgetRef::Other(s) => s,
            w => w.kind().map(WidgetKind::name).unwrap_or(""),
        }
    }
}
