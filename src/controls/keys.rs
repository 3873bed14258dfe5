//! The integer map keys of a field (SenML names where SenML has one).

/// Field name (SenML `n`).
pub const NAME: i64 = 0;
/// Unit (SenML `u`).
pub const UNIT: i64 = 1;
/// Value (SenML `v`; here any scalar, text or list).
pub const VALUE: i64 = 2;
/// String value (SenML `vs`): a waveform's sample typecode.
pub const STRING_VALUE: i64 = 3;
/// Time (SenML `t`): a waveform's sample clock in microseconds.
pub const TIME: i64 = 6;
/// Update time (SenML `ut`): a waveform's seconds per sample.
pub const UPDATE_TIME: i64 = 7;
/// Data value (SenML `vd`): a depth image's or waveform's bytes.
pub const DATA_VALUE: i64 = 8;
/// Width: depth columns, or samples per series of a waveform.
pub const WIDTH: i64 = -20;
/// Height: depth rows, or the number of interleaved series of a waveform.
pub const HEIGHT: i64 = -21;
/// Smallest data value (depth, waveform).
pub const DATA_MIN: i64 = -23;
/// Largest data value (depth, waveform).
pub const DATA_MAX: i64 = -24;
/// Widget type, a text ([`super::WidgetKind::name`]).
pub const WIDGET: i64 = -30;
/// Slider / spin box minimum.
pub const WIDGET_MIN: i64 = -31;
/// Slider / spin box maximum.
pub const WIDGET_MAX: i64 = -32;
/// Slider / spin box step.
pub const WIDGET_STEP: i64 = -33;
/// Options of a select or radio group, or a waveform's series names.
pub const OPTIONS: i64 = -34;
