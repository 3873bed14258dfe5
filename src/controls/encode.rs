//! Encoding fields (cam side) and updates (host side) into a caller's buffer.
//!
//! Keys are written in the order the firmware's `CBORChannel` writes them, integers and
//! lengths in their shortest form and floats as doubles, so a field encodes to the same bytes
//! as the firmware (and Python `cbor2`) would produce.

use minicbor::encode::write::{Cursor, Write};
use minicbor::Encoder;

use super::decode::Update;
use super::error::EncodeError;
use super::keys;
use super::limits::MAX_VALUE_DEPTH;
use super::value::{Number, StrList, ValueRef};
use super::widget::{Range, WidgetRef};
use super::ControlRef;

type Result<T = ()> = core::result::Result<T, EncodeError>;

/// A byte sink that only counts, for sizing buffers.
#[derive(Clone, Copy, Debug, Default)]
pub struct Counter(pub usize);

impl Write for Counter {
    type Error = core::convert::Infallible;

    fn write_all(&mut self, buf: &[u8]) -> core::result::Result<(), Self::Error> {
        self.0 += buf.len();
        Ok(())
    }
}

/// Writes a controls or updates array item by item.
#[derive(Debug)]
pub struct Writer<W: Write> {
    e: Encoder<W>,
}

impl<'b> Writer<Cursor<&'b mut [u8]>> {
    /// A writer into `buf`; writes past its end fail with [`EncodeError::BufferFull`].
    pub fn new(buf: &'b mut [u8]) -> Self {
        Writer { e: Encoder::new(Cursor::new(buf)) }
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.e.writer().position()
    }

    /// Whether nothing has been written yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Writer<Counter> {
    /// A writer that only counts bytes ([`Writer::count`]), to size a buffer.
    pub fn counter() -> Self {
        Writer { e: Encoder::new(Counter(0)) }
    }

    /// Bytes counted so far.
    pub fn count(&self) -> usize {
        self.e.writer().0
    }
}

fn full<E>(_: minicbor::encode::Error<E>) -> EncodeError {
    EncodeError::BufferFull
}

impl<W: Write> Writer<W> {
    /// The array head: `n` fields or update records follow.
    pub fn begin(&mut self, n: usize) -> Result {
        self.e.array(n as u64).map_err(full)?;
        Ok(())
    }

    fn key(&mut self, k: i64) -> Result {
        self.e.i64(k).map_err(full)?;
        Ok(())
    }

    fn str(&mut self, s: &str) -> Result {
        self.e.str(s).map_err(full)?;
        Ok(())
    }

    fn number(&mut self, n: Number) -> Result {
        match n {
            Number::Int(i) => self.e.i64(i).map_err(full)?,
            Number::Float(f) => self.e.f64(f).map_err(full)?,
        };
        Ok(())
    }

    fn str_list(&mut self, l: &StrList<'_>) -> Result {
        self.e.array(l.len() as u64).map_err(full)?;
        for s in l.iter() {
            self.str(s)?;
        }
        Ok(())
    }

    /// One value; lists at most [`MAX_VALUE_DEPTH`] deep.
    pub fn value(&mut self, v: &ValueRef<'_>) -> Result {
        self.value_at(v, 0)
    }

    fn value_at(&mut self, v: &ValueRef<'_>, depth: usize) -> Result {
        match v {
            ValueRef::Null => self.e.null().map_err(full).map(drop),
            ValueRef::Bool(b) => self.e.bool(*b).map_err(full).map(drop),
            ValueRef::Int(i) => self.e.i64(*i).map_err(full).map(drop),
            ValueRef::Float(f) => self.e.f64(*f).map_err(full).map(drop),
            ValueRef::Text(s) => self.str(s),
            ValueRef::Bytes(b) => self.e.bytes(b).map_err(full).map(drop),
            ValueRef::List(l) => {
                if depth >= MAX_VALUE_DEPTH {
                    return Err(EncodeError::TooDeep);
                }
                self.e.array(l.len() as u64).map_err(full)?;
                for item in l.iter() {
                    self.value_at(&item, depth + 1)?;
                }
                Ok(())
            }
        }
    }

    /// One field map, keys in the firmware's order.
    pub fn control(&mut self, c: &ControlRef<'_>) -> Result {
        let unit = c.unit.filter(|u| !u.is_empty() && c.widget.takes_unit());
        let u = unit.is_some() as u64;
        let entries = 2 + match &c.widget {
            WidgetRef::Label | WidgetRef::Other(_) => 1 + u,
            WidgetRef::Text | WidgetRef::LineEdit | WidgetRef::Toggle | WidgetRef::PushButton => 1,
            WidgetRef::Slider(_) | WidgetRef::Spinbox(_) => 4 + u,
            WidgetRef::Select(_) | WidgetRef::Radio(_) => 2,
            WidgetRef::Depth(_) => 5,
            WidgetRef::Waveform(w) => {
                5 + u
                    + w.sample_period.is_some() as u64
                    + w.typecode.is_some() as u64
                    + w.series_names.is_some() as u64
                    + w.time_us.is_some() as u64
            }
        };
        self.e.map(entries).map_err(full)?;
        self.key(keys::NAME)?;
        self.str(c.name)?;
        self.key(keys::WIDGET)?;
        self.str(c.widget.type_name())?;
        let data = match c.value {
            ValueRef::Bytes(b) => b,
            _ => &[],
        };
        let range = |w: &mut Self, r: &Range| -> Result {
            w.key(keys::WIDGET_MIN)?;
            w.number(r.min)?;
            w.key(keys::WIDGET_MAX)?;
            w.number(r.max)?;
            w.key(keys::WIDGET_STEP)?;
            w.number(r.step)
        };
        let shape = |w: &mut Self, width: u32, height: u32, min: Number, max: Number| -> Result {
            w.key(keys::DATA_VALUE)?;
            w.e.bytes(data).map_err(full)?;
            w.key(keys::WIDTH)?;
            w.e.u32(width).map_err(full)?;
            w.key(keys::HEIGHT)?;
            w.e.u32(height).map_err(full)?;
            w.key(keys::DATA_MIN)?;
            w.number(min)?;
            w.key(keys::DATA_MAX)?;
            w.number(max)
        };
        match &c.widget {
            WidgetRef::Depth(s) => shape(self, s.width, s.height, s.min, s.max)?,
            WidgetRef::Waveform(w) => {
                shape(self, w.samples, w.series, w.min, w.max)?;
                self.unit(unit)?;
                if let Some(p) = w.sample_period {
                    self.key(keys::UPDATE_TIME)?;
                    self.e.f64(p).map_err(full)?;
                }
                if let Some(t) = w.typecode {
                    self.key(keys::STRING_VALUE)?;
                    self.str(t)?;
                }
                if let Some(n) = &w.series_names {
                    self.key(keys::OPTIONS)?;
                    self.str_list(n)?;
                }
                if let Some(t) = w.time_us {
                    self.key(keys::TIME)?;
                    self.e.u64(t).map_err(full)?;
                }
            }
            other => {
                self.key(keys::VALUE)?;
                self.value(&c.value)?;
                match other {
                    WidgetRef::Slider(r) | WidgetRef::Spinbox(r) => {
                        range(self, r)?;
                        self.unit(unit)?;
                    }
                    WidgetRef::Select(o) | WidgetRef::Radio(o) => {
                        self.key(keys::OPTIONS)?;
                        self.str_list(o)?;
                    }
                    WidgetRef::Label | WidgetRef::Other(_) => self.unit(unit)?,
                    _ => {}
                }
            }
        }
        Ok(())
    }

    fn unit(&mut self, unit: Option<&str>) -> Result {
        if let Some(u) = unit {
            self.key(keys::UNIT)?;
            self.str(u)?;
        }
        Ok(())
    }

    /// One owned value (`alloc`).
    #[cfg(feature = "alloc")]
    pub fn value_owned(&mut self, v: &super::Value) -> Result {
        self.owned_at(v, 0)
    }

    #[cfg(feature = "alloc")]
    fn owned_at(&mut self, v: &super::Value, depth: usize) -> Result {
        use super::Value;
        match v {
            Value::Null => self.value_at(&ValueRef::Null, depth),
            Value::Bool(b) => self.value_at(&ValueRef::Bool(*b), depth),
            Value::Int(i) => self.value_at(&ValueRef::Int(*i), depth),
            Value::Float(f) => self.value_at(&ValueRef::Float(*f), depth),
            Value::Text(s) => self.value_at(&ValueRef::Text(s), depth),
            Value::Bytes(b) => self.value_at(&ValueRef::Bytes(b), depth),
            Value::List(items) => {
                if depth >= MAX_VALUE_DEPTH {
                    return Err(EncodeError::TooDeep);
                }
                self.e.array(items.len() as u64).map_err(full)?;
                for i in items {
                    self.owned_at(i, depth + 1)?;
                }
                Ok(())
            }
        }
    }

    /// One update record with an owned value (`alloc`).
    #[cfg(feature = "alloc")]
    pub fn update_owned(&mut self, name: &str, value: &super::Value) -> Result {
        self.e.map(2).map_err(full)?;
        self.key(keys::NAME)?;
        self.str(name)?;
        self.key(keys::VALUE)?;
        self.value_owned(value)
    }

    /// One update record `{0: name, 2: value}`.
    pub fn update(&mut self, name: &str, value: &ValueRef<'_>) -> Result {
        self.e.map(2).map_err(full)?;
        self.key(keys::NAME)?;
        self.str(name)?;
        self.key(keys::VALUE)?;
        self.value(value)
    }
}

/// Encodes `controls` as the cam's blob into `buf`; returns the bytes written.
pub fn encode_controls(buf: &mut [u8], controls: &[ControlRef<'_>]) -> Result<usize> {
    let mut w = Writer::new(buf);
    w.begin(controls.len())?;
    for c in controls {
        w.control(c)?;
    }
    Ok(w.len())
}

/// Bytes [`encode_controls`] needs for `controls`.
pub fn encoded_len(controls: &[ControlRef<'_>]) -> Result<usize> {
    let mut w = Writer::counter();
    w.begin(controls.len())?;
    for c in controls {
        w.control(c)?;
    }
    Ok(w.count())
}

/// Encodes a host's write (one record per update) into `buf`; returns the bytes written.
pub fn encode_updates(buf: &mut [u8], updates: &[Update<'_>]) -> Result<usize> {
    let mut w = Writer::new(buf);
    w.begin(updates.len())?;
    for u in updates {
        w.update(u.name, &u.value)?;
    }
    Ok(w.len())
}
