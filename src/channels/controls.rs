//! A typed controls channel ([`crate::controls`]): named fields with widgets, read by the host
//! as one CBOR blob and set by it with `{0: name, 2: value}` records, the format of the OpenMV
//! firmware's `CBORChannel`.
//!
//! Storage is the caller's: the field table, the output blob buffer and the input buffer are
//! borrowed slices (firmware, C) or, with `alloc`, vectors ([`Store`]). Texts and sample data
//! live in per-field buffers the same way.
//!
//! Reading: CHANNEL_SIZE calls [`ControlsHandler::on_read`] (refresh live values) and encodes
//! the fields; the reads that follow are served from that blob until one reaches its end, so
//! a blob read in pieces is never re-encoded half way. Writing: pieces are gathered by offset
//! (offset 0 starts a new blob); once they form a whole CBOR array it is checked and applied
//! record by record, each accepted record followed by [`ControlsHandler::on_write`]. Unknown
//! names, records without both keys and values a field cannot take are skipped (counted in
//! [`ControlsChannel::rejected`]); a malformed blob answers NAK INVALID and changes nothing.

use core::ops::{Deref, DerefMut};

use super::{Channel, ChannelFlags};
use crate::controls::{
    ControlRef, DecodeError, DepthShape, EncodeError, Error, Number, Range, StrList, Updates, ValueRef, WaveformRef,
    WidgetRef, Writer,
};
use crate::framing::Status;

/// A slice the channel uses: borrowed caller storage, or (`alloc`) an owned vector.
#[derive(Debug)]
pub enum Store<'a, T> {
    /// Caller storage, borrowed for the channel's lifetime `'a` (firmware, C).
    Borrowed(&'a mut [T]),
    /// A vector the channel owns (`alloc`).
    #[cfg(feature = "alloc")]
    Owned(alloc::vec::Vec<T>),
}

impl<T> Deref for Store<'_, T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        match self {
            Store::Borrowed(s) => s,
            #[cfg(feature = "alloc")]
            Store::Owned(v) => v,
        }
    }
}

impl<T> DerefMut for Store<'_, T> {
    fn deref_mut(&mut self) -> &mut [T] {
        match self {
            Store::Borrowed(s) => s,
            #[cfg(feature = "alloc")]
            Store::Owned(v) => v,
        }
    }
}

impl<'a, T> From<&'a mut [T]> for Store<'a, T> {
    fn from(s: &'a mut [T]) -> Self {
        Store::Borrowed(s)
    }
}

impl<'a, T, const N: usize> From<&'a mut [T; N]> for Store<'a, T> {
    fn from(s: &'a mut [T; N]) -> Self {
        Store::Borrowed(s)
    }
}

#[cfg(feature = "alloc")]
impl<T> From<alloc::vec::Vec<T>> for Store<'_, T> {
    fn from(v: alloc::vec::Vec<T>) -> Self {
        Store::Owned(v)
    }
}

/// Where a field keeps its value.
#[derive(Debug)]
enum Slot<'a> {
    Bool(bool),
    Number(Number),
    /// UTF-8 text of `len` bytes in `buf`.
    Text {
        buf: Store<'a, u8>,
        len: usize,
    },
    /// An index into the widget's options.
    Choice(usize),
    /// Sample bytes (depth, waveform).
    Bytes {
        buf: Store<'a, u8>,
        len: usize,
    },
}

/// One declared field.
#[derive(Debug)]
pub struct Field<'a> {
    name: &'a str,
    widget: WidgetRef<'a>,
    unit: Option<&'a str>,
    slot: Slot<'a>,
}

impl<'a> Field<'a> {
    fn new(name: &'a str, widget: WidgetRef<'a>, slot: Slot<'a>) -> Self {
        Field { name, widget, unit: None, slot }
    }

    /// A read-only number.
    pub fn label(name: &'a str, value: Number) -> Self {
        Field::new(name, WidgetRef::Label, Slot::Number(value))
    }

    /// A read-only text, in `buf`.
    pub fn text(name: &'a str, buf: impl Into<Store<'a, u8>>) -> Self {
        Field::new(name, WidgetRef::Text, Slot::Text { buf: buf.into(), len: 0 })
    }

    /// A read-only text label (a label whose value is text), in `buf`.
    pub fn label_text(name: &'a str, buf: impl Into<Store<'a, u8>>) -> Self {
        Field::new(name, WidgetRef::Label, Slot::Text { buf: buf.into(), len: 0 })
    }

    /// An on/off switch (bool), `on` at declaration; the host may set it.
    pub fn toggle(name: &'a str, on: bool) -> Self {
        Field::new(name, WidgetRef::Toggle, Slot::Bool(on))
    }

    /// A push button: a bool the host may set, `false` at declaration.
    pub fn push_button(name: &'a str) -> Self {
        Field::new(name, WidgetRef::PushButton, Slot::Bool(false))
    }

    /// A slider over `range`, at `value` (not checked against the range); host writes
    /// outside `range` are rejected.
    pub fn slider(name: &'a str, range: Range, value: Number) -> Self {
        Field::new(name, WidgetRef::Slider(range), Slot::Number(value))
    }

    /// A spin box over `range`, at `value` (not checked against the range); host writes
    /// outside `range` are rejected.
    pub fn spinbox(name: &'a str, range: Range, value: Number) -> Self {
        Field::new(name, WidgetRef::Spinbox(range), Slot::Number(value))
    }

    /// A drop-down of `options`, `index` chosen.
    pub fn select(name: &'a str, options: &'a [&'a str], index: usize) -> Self {
        Field::new(name, WidgetRef::Select(StrList::Slice(options)), Slot::Choice(index))
    }

    /// Radio buttons of `options`, `index` chosen.
    pub fn radio(name: &'a str, options: &'a [&'a str], index: usize) -> Self {
        Field::new(name, WidgetRef::Radio(StrList::Slice(options)), Slot::Choice(index))
    }

    /// Editable text, at most `buf.len()` bytes.
    pub fn line_edit(name: &'a str, buf: impl Into<Store<'a, u8>>) -> Self {
        Field::new(name, WidgetRef::LineEdit, Slot::Text { buf: buf.into(), len: 0 })
    }

    /// A depth image (16-bit values) in `buf`, filled with [`Field::set_bytes`].
    pub fn depth(name: &'a str, shape: DepthShape, buf: impl Into<Store<'a, u8>>) -> Self {
        Field::new(name, WidgetRef::Depth(shape), Slot::Bytes { buf: buf.into(), len: 0 })
    }

    /// A waveform of `series` interleaved series (its `samples` follow from the data set with
    /// [`Field::set_waveform`]).
    pub fn waveform(name: &'a str, shape: WaveformRef<'a>, buf: impl Into<Store<'a, u8>>) -> Self {
        let shape = WaveformRef { samples: 0, time_us: None, ..shape };
        Field::new(name, WidgetRef::Waveform(shape), Slot::Bytes { buf: buf.into(), len: 0 })
    }

    /// Adds a unit (labels, sliders, spin boxes, waveforms).
    pub fn with_unit(mut self, unit: &'a str) -> Self {
        self.unit = Some(unit);
        self
    }

    /// Sets the text of a text, text label or line edit at declaration.
    pub fn with_text(mut self, s: &str) -> Self {
        let _ = self.set_text(s);
        self
    }

    /// The name (key 0) the host reads and writes the field by.
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// The widget type with its parameters (range, options, shape).
    pub fn widget(&self) -> &WidgetRef<'a> {
        &self.widget
    }

    /// The unit set with [`Field::with_unit`]; it is sent only for widgets that take one
    /// ([`WidgetRef::takes_unit`]).
    pub fn unit(&self) -> Option<&'a str> {
        self.unit
    }

    /// The field as the host sees it.
    pub fn as_control(&self) -> ControlRef<'_> {
        let value = match &self.slot {
            Slot::Bool(b) => ValueRef::Bool(*b),
            Slot::Number(n) => (*n).into(),
            Slot::Text { buf, len } => ValueRef::Text(core::str::from_utf8(&buf[..*len]).unwrap_or("")),
            Slot::Choice(_) => ValueRef::Text(self.choice_text().unwrap_or("")),
            Slot::Bytes { buf, len } => ValueRef::Bytes(&buf[..*len]),
        };
        ControlRef { name: self.name, widget: self.widget, value, unit: self.unit }
    }

    /// The value of a toggle or push button; `None` for other widgets.
    pub fn as_bool(&self) -> Option<bool> {
        match self.slot {
            Slot::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The value of a number label, slider or spin box; `None` for other widgets.
    pub fn as_number(&self) -> Option<Number> {
        match self.slot {
            Slot::Number(n) => Some(n),
            _ => None,
        }
    }

    /// [`Field::as_number`] as f64.
    pub fn as_f64(&self) -> Option<f64> {
        self.as_number().map(Number::as_f64)
    }

    /// The text of a text, text label or line edit; `None` for other widgets.
    pub fn as_text(&self) -> Option<&str> {
        match &self.slot {
            Slot::Text { buf, len } => core::str::from_utf8(&buf[..*len]).ok(),
            _ => None,
        }
    }

    /// The chosen option's index (select, radio).
    pub fn choice(&self) -> Option<usize> {
        match self.slot {
            Slot::Choice(i) => Some(i),
            _ => None,
        }
    }

    /// The chosen option's text (select, radio); `None` for other widgets or an index past
    /// the options (the host then reads an empty text).
    pub fn choice_text(&self) -> Option<&'a str> {
        let i = self.choice()?;
        match &self.widget {
            WidgetRef::Select(o) | WidgetRef::Radio(o) => o.get(i),
            _ => None,
        }
    }

    /// The sample bytes of a depth image or waveform; `None` for other widgets.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match &self.slot {
            Slot::Bytes { buf, len } => Some(&buf[..*len]),
            _ => None,
        }
    }

    /// Cam side: sets a toggle or button.
    pub fn set_bool(&mut self, b: bool) -> Result<(), Error> {
        match &mut self.slot {
            Slot::Bool(v) => {
                *v = b;
                Ok(())
            }
            _ => Err(Error::WrongType { expected: self.expected() }),
        }
    }

    /// Cam side: sets a number (label, slider, spin box; not range-checked: the cam decides).
    pub fn set_number(&mut self, n: Number) -> Result<(), Error> {
        match &mut self.slot {
            Slot::Number(v) => {
                *v = n;
                Ok(())
            }
            _ => Err(Error::WrongType { expected: self.expected() }),
        }
    }

    /// Cam side: a slider's or spin box's new range and value, like the firmware's
    /// `ch[name] = (min, max, value)`.
    pub fn set_range(&mut self, range: Range, value: Number) -> Result<(), Error> {
        match &mut self.widget {
            WidgetRef::Slider(r) | WidgetRef::Spinbox(r) => *r = range,
            _ => return Err(Error::WrongType { expected: self.expected() }),
        }
        self.set_number(value)
    }

    /// Sets the text of a text, text label or line edit; [`Error::TooLong`] if `s` has more
    /// bytes than the field's buffer.
    pub fn set_text(&mut self, s: &str) -> Result<(), Error> {
        match &mut self.slot {
            Slot::Text { buf, len } => {
                let dst = buf.get_mut(..s.len()).ok_or(Error::TooLong)?;
                dst.copy_from_slice(s.as_bytes());
                *len = s.len();
                Ok(())
            }
            _ => Err(Error::WrongType { expected: self.expected() }),
        }
    }

    /// Chooses option `index` of a select or radio; [`Error::NotAnOption`] past the last
    /// option.
    pub fn set_choice(&mut self, index: usize) -> Result<(), Error> {
        let n = match &self.widget {
            WidgetRef::Select(o) | WidgetRef::Radio(o) => o.len(),
            _ => return Err(Error::WrongType { expected: self.expected() }),
        };
        match &mut self.slot {
            Slot::Choice(i) if index < n => {
                *i = index;
                Ok(())
            }
            Slot::Choice(_) => Err(Error::NotAnOption),
            _ => Err(Error::WrongType { expected: self.expected() }),
        }
    }

    /// Cam side: a depth image's data.
    pub fn set_bytes(&mut self, data: &[u8]) -> Result<(), Error> {
        match &mut self.slot {
            Slot::Bytes { buf, len } => {
                let dst = buf.get_mut(..data.len()).ok_or(Error::TooLong)?;
                dst.copy_from_slice(data);
                *len = data.len();
                Ok(())
            }
            _ => Err(Error::WrongType { expected: self.expected() }),
        }
    }

    /// Cam side: a waveform's samples (interleaved series) and their clock in microseconds;
    /// the samples per series follow from the data length, as in the firmware.
    pub fn set_waveform(&mut self, data: &[u8], time_us: u64) -> Result<(), Error> {
        let WidgetRef::Waveform(w) = self.widget else { return Err(Error::WrongType { expected: "bytes" }) };
        self.set_bytes(data)?;
        let per = w.item_size() * (w.series.max(1) as usize);
        if let WidgetRef::Waveform(w) = &mut self.widget {
            w.samples = u32::try_from(data.len() / per).unwrap_or(u32::MAX);
            w.time_us = Some(time_us);
        }
        Ok(())
    }

    fn expected(&self) -> &'static str {
        match self.slot {
            Slot::Bool(_) => "bool",
            Slot::Number(_) => "number",
            Slot::Text { .. } | Slot::Choice(_) => "text",
            Slot::Bytes { .. } => "bytes",
        }
    }

    /// Host side: takes `v` if the widget accepts it (the rules of
    /// [`crate::controls::Control::check`]); `Ok(false)` if it equals the current value.
    pub fn accept(&mut self, v: &ValueRef<'_>) -> Result<bool, Error> {
        if !self.widget.kind().is_some_and(|k| k.is_input()) {
            return Err(Error::ReadOnly);
        }
        match (&self.widget, v) {
            (WidgetRef::Toggle | WidgetRef::PushButton, ValueRef::Bool(b)) => {
                let changed = self.as_bool() != Some(*b);
                self.set_bool(*b).map(|()| changed)
            }
            (WidgetRef::Slider(r) | WidgetRef::Spinbox(r), _) => {
                let n = match *v {
                    ValueRef::Int(i) if r.is_int() => Number::Int(i),
                    ValueRef::Int(i) => Number::Float(i as f64),
                    ValueRef::Float(f) if r.is_int() && integral(f) => Number::Int(f as i64),
                    ValueRef::Float(f) if !r.is_int() && f.is_finite() => Number::Float(f),
                    // NaN and the infinities lie in no range.
                    ValueRef::Float(_) if !r.is_int() => return Err(Error::OutOfRange),
                    ValueRef::Float(_) => return Err(Error::WrongType { expected: "integer" }),
                    _ => return Err(Error::WrongType { expected: "number" }),
                };
                if !r.contains(n) {
                    return Err(Error::OutOfRange);
                }
                let changed = self.as_number() != Some(n);
                self.set_number(n).map(|()| changed)
            }
            (WidgetRef::Select(o) | WidgetRef::Radio(o), _) => {
                let i = match *v {
                    ValueRef::Text(s) => o.position(s).ok_or(Error::NotAnOption)?,
                    ValueRef::Int(i) => usize::try_from(i).ok().filter(|&i| i < o.len()).ok_or(Error::NotAnOption)?,
                    _ => return Err(Error::WrongType { expected: "text" }),
                };
                let changed = self.choice() != Some(i);
                self.set_choice(i).map(|()| changed)
            }
            (WidgetRef::LineEdit, ValueRef::Text(s)) => {
                let changed = self.as_text() != Some(s);
                self.set_text(s).map(|()| changed)
            }
            _ => Err(Error::WrongType { expected: self.expected() }),
        }
    }
}

/// Whether `f` is a whole number an i64 holds exactly (no `f64::fract` in `core`).
fn integral(f: f64) -> bool {
    f > -9.0e15 && f < 9.0e15 && (f as i64) as f64 == f
}

/// The cam's hooks into its controls channel. Both run on the device's thread inside its calls.
pub trait ControlsHandler {
    /// Before each encoding of the fields (the host's CHANNEL_SIZE): refresh live values.
    fn on_read(&mut self, fields: &mut [Field<'_>]) {
        let _ = fields;
    }

    /// After a host write to `fields[index]` was accepted, also one that left the value as it
    /// was: a write is the operator's action (a push button pressed twice is two presses).
    /// [`ControlsChannel::apply`]'s count holds only the writes that changed a value.
    fn on_write(&mut self, fields: &mut [Field<'_>], index: usize) {
        let _ = (fields, index);
    }

    /// Whether the host should read again (a bit in CHANNEL_POLL); host writes and
    /// [`ControlsChannel::mark_changed`] set it too.
    fn changed(&mut self) -> bool {
        false
    }
}

impl ControlsHandler for () {}

/// The channel: fields, the encoded blob, the input being gathered, and the handler.
#[derive(Debug)]
pub struct ControlsChannel<'a, H = ()> {
    fields: Store<'a, Field<'a>>,
    out: Store<'a, u8>,
    out_len: usize,
    /// A blob is being read: CHANNEL_SIZE does not re-encode until a read reaches its end.
    serving: bool,
    input: Store<'a, u8>,
    in_len: usize,
    changed: bool,
    handler: H,
    rejected: u32,
    last_encode_error: Option<EncodeError>,
}

impl<'a, H: ControlsHandler> ControlsChannel<'a, H> {
    /// `out` holds the encoded blob (size it with [`ControlsChannel::encoded_len`]); `input`
    /// the largest write the host may send.
    pub fn new(
        fields: impl Into<Store<'a, Field<'a>>>,
        out: impl Into<Store<'a, u8>>,
        input: impl Into<Store<'a, u8>>,
        handler: H,
    ) -> Self {
        ControlsChannel {
            fields: fields.into(),
            out: out.into(),
            out_len: 0,
            serving: false,
            input: input.into(),
            in_len: 0,
            changed: true,
            handler,
            rejected: 0,
            last_encode_error: None,
        }
    }

    /// The declared fields, in the order the host reads them.
    pub fn fields(&self) -> &[Field<'a>] {
        &self.fields
    }

    /// The fields, for the cam to change values; then call
    /// [`ControlsChannel::mark_changed`] so the host reads again.
    pub fn fields_mut(&mut self) -> &mut [Field<'a>] {
        &mut self.fields
    }

    /// The first field named `name`; `None` if there is none.
    pub fn field(&self, name: &str) -> Option<&Field<'a>> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The first field named `name`, to change (see [`ControlsChannel::fields_mut`]).
    pub fn field_mut(&mut self, name: &str) -> Option<&mut Field<'a>> {
        self.fields.iter_mut().find(|f| f.name == name)
    }

    /// The handler given to [`ControlsChannel::new`].
    pub fn handler(&self) -> &H {
        &self.handler
    }

    /// The handler given to [`ControlsChannel::new`], mutably.
    pub fn handler_mut(&mut self) -> &mut H {
        &mut self.handler
    }

    /// Tells the host (through CHANNEL_POLL) that values changed.
    pub fn mark_changed(&mut self) {
        self.changed = true;
    }

    /// Host records skipped so far: unknown names, wrong types, out of range, read-only.
    pub fn rejected(&self) -> u32 {
        self.rejected
    }

    /// Why the last encoding failed (the host then read an empty channel).
    pub fn last_encode_error(&self) -> Option<EncodeError> {
        self.last_encode_error
    }

    /// Bytes the blob needs now (with texts and data at their current lengths).
    pub fn encoded_len(&self) -> usize {
        let mut w = Writer::counter();
        let _ = w.begin(self.fields.len());
        for f in self.fields.iter() {
            let _ = w.control(&f.as_control());
        }
        w.count()
    }

    /// The blob of the last CHANNEL_SIZE.
    pub fn blob(&self) -> &[u8] {
        &self.out[..self.out_len]
    }

    /// Calls the handler's `on_read` and encodes the fields into the output buffer.
    pub fn refresh(&mut self) -> Result<usize, EncodeError> {
        self.handler.on_read(&mut self.fields);
        let mut w = Writer::new(&mut self.out);
        let r = (|| {
            w.begin(self.fields.len())?;
            for f in self.fields.iter() {
                w.control(&f.as_control())?;
            }
            Ok(w.len())
        })();
        self.out_len = *r.as_ref().unwrap_or(&0);
        self.last_encode_error = r.err();
        r
    }

    /// Applies a whole update blob; returns how many records changed a field.
    pub fn apply(&mut self, blob: &[u8]) -> Result<usize, DecodeError> {
        let updates = Updates::parse(blob)?;
        let mut changed = 0;
        let mut skipped = updates.records();
        for u in updates.iter() {
            let Some(i) = self.fields.iter().position(|f| f.name == u.name) else { continue };
            skipped -= 1;
            match self.fields[i].accept(&u.value) {
                Ok(c) => {
                    changed += c as usize;
                    self.changed = true;
                    self.handler.on_write(&mut self.fields, i);
                }
                Err(_) => skipped += 1,
            }
        }
        self.rejected = self.rejected.saturating_add(skipped as u32);
        Ok(changed)
    }
}

impl<H: ControlsHandler> Channel for ControlsChannel<'_, H> {
    fn flags(&self) -> ChannelFlags {
        ChannelFlags::READ | ChannelFlags::WRITE
    }

    fn poll(&mut self) -> bool {
        self.changed || self.handler.changed()
    }

    fn size(&mut self) -> Option<u32> {
        if !self.serving {
            let _ = self.refresh();
            self.changed = false;
            self.serving = self.out_len > 0;
        }
        Some(self.out_len as u32)
    }

    fn readp(&mut self, offset: u32, len: usize) -> Option<&[u8]> {
        let start = offset as usize;
        let end = start.checked_add(len).filter(|&e| e <= self.out_len)?;
        if end == self.out_len {
            self.serving = false;
        }
        Some(&self.out[start..end])
    }

    /// Pieces by offset (0 starts over, the rest must follow on); applied once whole.
    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), Status> {
        let off = offset as usize;
        if off == 0 {
            self.in_len = 0;
        }
        if off != self.in_len {
            return Err(Status::Invalid);
        }
        let end = off.checked_add(data.len()).filter(|&e| e <= self.input.len()).ok_or(Status::Overflow)?;
        self.input[off..end].copy_from_slice(data);
        self.in_len = end;
        let mut input = core::mem::replace(&mut self.input, Store::Borrowed(&mut []));
        let r = self.apply(&input[..end]);
        core::mem::swap(&mut self.input, &mut input);
        match r {
            Err(DecodeError::Truncated) => Ok(()),
            Ok(_) => {
                self.in_len = 0;
                Ok(())
            }
            Err(_) => {
                self.in_len = 0;
                Err(Status::Invalid)
            }
        }
    }
}
