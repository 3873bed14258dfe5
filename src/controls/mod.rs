//! Typed controls: named fields a cam exposes on a channel as CBOR, interoperable with the
//! OpenMV firmware's `CBORChannel` (its `protocol` module) and the widgets openmv-studio draws.
//!
//! The wire format: a channel read returns one CBOR array of maps, one map per field, with
//! SenML-style integer keys ([`keys`]): name, widget type (a text such as `"slider"`), value and
//! the widget's parameters. A host sets values by writing an array of `{0: name, 2: value}`
//! maps; the cam ignores unknown names and records without both keys.
//!
//! Everything here is bounded and allocation-free: [`Controls::parse`] checks a whole blob
//! once (well-formed, within [`limits`], the right types under each key) and then lends
//! [`ControlRef`]s that borrow from it; [`Writer`] encodes into a caller's buffer. With the
//! `alloc` feature, [`Control`] and [`Value`] are owned copies with validation for writes.
//! The CBOR itself is read and written by `minicbor`.

mod decode;
mod encode;
mod error;
pub mod keys;
pub mod limits;
mod value;
mod widget;

#[cfg(feature = "alloc")]
mod owned;

pub use decode::{Controls, ControlsIter, Update, Updates, UpdatesIter};
pub use encode::{encode_controls, encode_updates, encoded_len, Counter, Writer};
pub use error::{DecodeError, EncodeError, Error, Unsupported};
pub use value::{ListIter, ListRef, Number, StrIter, StrList, ValueRef};
pub use widget::{DepthShape, Range, WaveformRef, WidgetKind, WidgetRef};

/// One field as the cam sends it, borrowed from the blob it was decoded from (or from a
/// device's declaration).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ControlRef<'a> {
    /// Field name (key 0); host writes address the field by it.
    pub name: &'a str,
    /// Widget type (key -30) with its parameters.
    pub widget: WidgetRef<'a>,
    /// The current value. Depth and waveform fields carry their samples as bytes (key 8).
    pub value: ValueRef<'a>,
    /// SenML unit (e.g. `"Cel"`, `"%RH"`), for labels, sliders, spin boxes and waveforms.
    pub unit: Option<&'a str>,
}

#[cfg(feature = "alloc")]
pub use owned::{decode_controls, encode_updates_vec, Control, Value, Waveform, Widget};
