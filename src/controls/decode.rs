//! Bounded decoding of controls blobs (cam to host) and update blobs (host to cam).
//!
//! Each blob is checked whole before anything is handed out, so a bad blob yields one typed
//! error and a good one can be walked without further checks.

use minicbor::data::Type;
use minicbor::Decoder;

use super::error::{DecodeError, Unsupported};
use super::keys;
use super::limits::{MAX_BLOB_LEN, MAX_ENTRIES, MAX_FIELDS, MAX_LIST_LEN, MAX_SKIP_DEPTH, MAX_VALUE_DEPTH};
use super::value::{ListRef, Number, StrList, ValueRef};
use super::widget::{DepthShape, Range, WaveformRef, WidgetKind, WidgetRef};
use super::ControlRef;

type Result<T> = core::result::Result<T, DecodeError>;

/// A checked controls blob: the array of field maps a cam's controls channel returns.
#[derive(Clone, Copy, Debug)]
pub struct Controls<'a> {
    items: &'a [u8],
    len: usize,
}

impl<'a> Controls<'a> {
    /// Checks the whole blob; afterwards [`Controls::iter`] cannot fail.
    pub fn parse(blob: &'a [u8]) -> Result<Controls<'a>> {
        let (mut d, len) = outer(blob)?;
        let start = d.position();
        for _ in 0..len {
            field(&mut d)?;
        }
        end(&d, blob)?;
        Ok(Controls { items: &blob[start..], len })
    }

    /// Fields in the blob.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the blob holds no fields.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The fields, in the cam's order.
    pub fn iter(&self) -> ControlsIter<'a> {
        ControlsIter { d: Decoder::new(self.items), left: self.len }
    }

    /// The first field of that name.
    pub fn get(&self, name: &str) -> Option<ControlRef<'a>> {
        self.iter().find(|c| c.name == name)
    }
}

/// The fields of a [`Controls`] blob, in the cam's order.
#[derive(Debug)]
pub struct ControlsIter<'a> {
    d: Decoder<'a>,
    left: usize,
}

impl<'a> Iterator for ControlsIter<'a> {
    type Item = ControlRef<'a>;

    fn next(&mut self) -> Option<ControlRef<'a>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        field(&mut self.d).ok()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

/// One record of a host's write: set `name` to `value`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Update<'a> {
    /// Field name (key 0).
    pub name: &'a str,
    /// The value to set (key 2). Decoded records never hold `Null`: the firmware reads it as
    /// no value, and such records are skipped.
    pub value: ValueRef<'a>,
}

/// A checked update blob: an array of `{0: name, 2: value}` maps. Records without a text
/// name or without a value are skipped, as the firmware skips them.
#[derive(Clone, Copy, Debug)]
pub struct Updates<'a> {
    items: &'a [u8],
    len: usize,
}

impl<'a> Updates<'a> {
    /// Checks the whole blob (well-formed, within [`limits`](super::limits), key 0 or 2 at most
    /// once per record); afterwards [`Updates::iter`] cannot fail.
    pub fn parse(blob: &'a [u8]) -> Result<Updates<'a>> {
        let (mut d, len) = outer(blob)?;
        let start = d.position();
        for _ in 0..len {
            update(&mut d)?;
        }
        end(&d, blob)?;
        Ok(Updates { items: &blob[start..], len })
    }

    /// Records in the blob, including those that will be skipped.
    pub fn records(&self) -> usize {
        self.len
    }

    /// The usable records, in order (without the skipped ones).
    pub fn iter(&self) -> UpdatesIter<'a> {
        UpdatesIter { d: Decoder::new(self.items), left: self.len }
    }
}

/// The usable records of an [`Updates`] blob.
#[derive(Debug)]
pub struct UpdatesIter<'a> {
    d: Decoder<'a>,
    left: usize,
}

impl<'a> Iterator for UpdatesIter<'a> {
    type Item = Update<'a>;

    fn next(&mut self) -> Option<Update<'a>> {
        while self.left > 0 {
            self.left -= 1;
            match update(&mut self.d) {
                Ok(Some(u)) => return Some(u),
                Ok(None) => continue,
                Err(_) => return None,
            }
        }
        None
    }
}

fn outer(blob: &[u8]) -> Result<(Decoder<'_>, usize)> {
    if blob.len() > MAX_BLOB_LEN {
        return Err(DecodeError::TooLarge);
    }
    let mut d = Decoder::new(blob);
    let len = array_len(&mut d, None, MAX_FIELDS, "fields")?;
    Ok((d, len))
}

fn end(d: &Decoder<'_>, blob: &[u8]) -> Result<()> {
    if d.position() == blob.len() {
        Ok(())
    } else {
        Err(DecodeError::TrailingBytes)
    }
}

/// Maps minicbor's error to ours; `expected` names what `key` should hold.
fn conv(e: minicbor::decode::Error, key: Option<i64>, expected: &'static str) -> DecodeError {
    if e.is_end_of_input() {
        DecodeError::Truncated
    } else if e.is_type_mismatch() {
        DecodeError::WrongType { key, expected }
    } else {
        DecodeError::Malformed
    }
}

fn datatype(d: &Decoder<'_>, key: Option<i64>) -> Result<Type> {
    d.datatype().map_err(|e| conv(e, key, "a value"))
}

/// A definite array head of at most `limit` items.
fn array_len(d: &mut Decoder<'_>, key: Option<i64>, limit: usize, what: &'static str) -> Result<usize> {
    match datatype(d, key)? {
        Type::Array => {}
        Type::ArrayIndef => return Err(DecodeError::Unsupported(Unsupported::IndefiniteLength)),
        _ => return Err(DecodeError::WrongType { key, expected: "array" }),
    }
    let n = d.array().map_err(|e| conv(e, key, "array"))?.unwrap_or(0);
    if n > limit as u64 {
        return Err(DecodeError::TooMany { what, limit });
    }
    Ok(n as usize)
}

/// A definite map head of at most [`MAX_ENTRIES`] entries; `None` if the item is no map.
fn map_len(d: &mut Decoder<'_>) -> Result<Option<usize>> {
    match datatype(d, None)? {
        Type::Map => {}
        Type::MapIndef => return Err(DecodeError::Unsupported(Unsupported::IndefiniteLength)),
        _ => return Ok(None),
    }
    let n = d.map().map_err(|e| conv(e, None, "map"))?.unwrap_or(0);
    if n > MAX_ENTRIES as u64 {
        return Err(DecodeError::TooMany { what: "map entries", limit: MAX_ENTRIES });
    }
    Ok(Some(n as usize))
}

fn int(d: &mut Decoder<'_>, key: Option<i64>) -> Result<i64> {
    let i = d.int().map_err(|e| conv(e, key, "integer"))?;
    i64::try_from(i).map_err(|_| DecodeError::Unsupported(Unsupported::BigInteger))
}

fn text<'a>(d: &mut Decoder<'a>, key: Option<i64>) -> Result<&'a str> {
    match datatype(d, key)? {
        Type::String => d.str().map_err(|e| conv(e, key, "text")),
        Type::StringIndef => Err(DecodeError::Unsupported(Unsupported::IndefiniteLength)),
        _ => Err(DecodeError::WrongType { key, expected: "text" }),
    }
}

fn bytes<'a>(d: &mut Decoder<'a>, key: Option<i64>) -> Result<&'a [u8]> {
    match datatype(d, key)? {
        Type::Bytes => d.bytes().map_err(|e| conv(e, key, "bytes")),
        Type::BytesIndef => Err(DecodeError::Unsupported(Unsupported::IndefiniteLength)),
        _ => Err(DecodeError::WrongType { key, expected: "bytes" }),
    }
}

fn number(d: &mut Decoder<'_>, key: Option<i64>) -> Result<Number> {
    match datatype(d, key)? {
        Type::F16 | Type::F32 | Type::F64 => d.f64().map(Number::Float).map_err(|e| conv(e, key, "number")),
        Type::U8 | Type::U16 | Type::U32 | Type::U64 | Type::I8 | Type::I16 | Type::I32 | Type::I64 | Type::Int => {
            int(d, key).map(Number::Int)
        }
        _ => Err(DecodeError::WrongType { key, expected: "number" }),
    }
}

fn u32_of(d: &mut Decoder<'_>, key: i64) -> Result<u32> {
    let k = Some(key);
    match number(d, k)? {
        Number::Int(i) => u32::try_from(i).map_err(|_| DecodeError::WrongType { key: k, expected: "u32" }),
        Number::Float(_) => Err(DecodeError::WrongType { key: k, expected: "u32" }),
    }
}

/// A value at list nesting `depth` (0 for a field's own value).
pub(crate) fn value<'a>(d: &mut Decoder<'a>, key: Option<i64>, depth: usize) -> Result<ValueRef<'a>> {
    Ok(match datatype(d, key)? {
        Type::Bool => ValueRef::Bool(d.bool().map_err(|e| conv(e, key, "bool"))?),
        Type::Null => {
            d.null().map_err(|e| conv(e, key, "null"))?;
            ValueRef::Null
        }
        Type::U8 | Type::U16 | Type::U32 | Type::U64 | Type::I8 | Type::I16 | Type::I32 | Type::I64 | Type::Int => {
            ValueRef::Int(int(d, key)?)
        }
        Type::F16 | Type::F32 | Type::F64 => ValueRef::Float(d.f64().map_err(|e| conv(e, key, "float"))?),
        Type::String => ValueRef::Text(text(d, key)?),
        Type::Bytes => ValueRef::Bytes(bytes(d, key)?),
        Type::Array => {
            if depth >= MAX_VALUE_DEPTH {
                return Err(DecodeError::TooDeep);
            }
            let len = array_len(d, key, MAX_LIST_LEN, "list items")?;
            let start = d.position();
            for _ in 0..len {
                value(d, key, depth + 1)?;
            }
            ValueRef::List(ListRef::Cbor { items: &d.input()[start..d.position()], len })
        }
        Type::StringIndef | Type::BytesIndef | Type::ArrayIndef | Type::MapIndef => {
            return Err(DecodeError::Unsupported(Unsupported::IndefiniteLength))
        }
        Type::Map => return Err(DecodeError::Unsupported(Unsupported::MapValue)),
        Type::Tag => return Err(DecodeError::Unsupported(Unsupported::Tag)),
        Type::Undefined | Type::Simple => return Err(DecodeError::Unsupported(Unsupported::Simple)),
        _ => return Err(DecodeError::Malformed),
    })
}

fn str_list<'a>(d: &mut Decoder<'a>, key: i64) -> Result<StrList<'a>> {
    let len = array_len(d, Some(key), MAX_LIST_LEN, "list items")?;
    let start = d.position();
    for _ in 0..len {
        text(d, Some(key))?;
    }
    Ok(StrList::Cbor { items: &d.input()[start..d.position()], len })
}

/// Steps over one item of any type (an unknown key's value), at most `depth` levels deep.
fn skip(d: &mut Decoder<'_>, depth: usize) -> Result<()> {
    if depth > MAX_SKIP_DEPTH {
        return Err(DecodeError::TooDeep);
    }
    match datatype(d, None)? {
        Type::Array => {
            let n = array_len(d, None, MAX_LIST_LEN, "list items")?;
            for _ in 0..n {
                skip(d, depth + 1)?;
            }
        }
        Type::Map => {
            let n = d.map().map_err(|e| conv(e, None, "map"))?.unwrap_or(0);
            if n > MAX_ENTRIES as u64 {
                return Err(DecodeError::TooMany { what: "map entries", limit: MAX_ENTRIES });
            }
            for _ in 0..n * 2 {
                skip(d, depth + 1)?;
            }
        }
        Type::Tag => {
            d.tag().map_err(|e| conv(e, None, "tag"))?;
            skip(d, depth + 1)?;
        }
        Type::StringIndef | Type::BytesIndef | Type::ArrayIndef | Type::MapIndef => {
            return Err(DecodeError::Unsupported(Unsupported::IndefiniteLength))
        }
        Type::Undefined | Type::Simple => {
            d.skip().map_err(|e| conv(e, None, "simple value"))?;
        }
        _ => {
            value(d, None, MAX_VALUE_DEPTH)?;
        }
    }
    Ok(())
}

/// A map key: an integer, or anything else (SenML text keys, ...) as `None`.
fn key(d: &mut Decoder<'_>) -> Result<Option<i64>> {
    match datatype(d, None)? {
        Type::U8 | Type::U16 | Type::U32 | Type::U64 | Type::I8 | Type::I16 | Type::I32 | Type::I64 => {
            int(d, None).map(Some)
        }
        _ => skip(d, 0).map(|()| None),
    }
}

/// Keys a field may carry, as bits for duplicate detection.
const KNOWN: [i64; 16] = [
    keys::NAME,
    keys::UNIT,
    keys::VALUE,
    keys::STRING_VALUE,
    keys::TIME,
    keys::UPDATE_TIME,
    keys::DATA_VALUE,
    keys::WIDTH,
    keys::HEIGHT,
    keys::DATA_MIN,
    keys::DATA_MAX,
    keys::WIDGET,
    keys::WIDGET_MIN,
    keys::WIDGET_MAX,
    keys::WIDGET_STEP,
    keys::OPTIONS,
];

#[derive(Default)]
struct RawField<'a> {
    name: Option<&'a str>,
    unit: Option<&'a str>,
    value: Option<ValueRef<'a>>,
    typecode: Option<&'a str>,
    time: Option<u64>,
    update_time: Option<f64>,
    data: Option<&'a [u8]>,
    width: Option<u32>,
    height: Option<u32>,
    data_min: Option<Number>,
    data_max: Option<Number>,
    widget: Option<&'a str>,
    widget_min: Option<Number>,
    widget_max: Option<Number>,
    widget_step: Option<Number>,
    options: Option<StrList<'a>>,
}

fn field<'a>(d: &mut Decoder<'a>) -> Result<ControlRef<'a>> {
    let n = map_len(d)?.ok_or(DecodeError::WrongType { key: None, expected: "map" })?;
    let mut f = RawField::default();
    let mut seen = 0u16;
    for _ in 0..n {
        let Some(k) = key(d)? else {
            skip(d, 0)?;
            continue;
        };
        if let Some(bit) = KNOWN.iter().position(|&x| x == k) {
            if seen & (1 << bit) != 0 {
                return Err(DecodeError::DuplicateKey(k));
            }
            seen |= 1 << bit;
        }
        let key = Some(k);
        match k {
            keys::NAME => f.name = Some(text(d, key)?),
            keys::UNIT => f.unit = Some(text(d, key)?),
            keys::VALUE => f.value = Some(value(d, key, 0)?),
            keys::STRING_VALUE => f.typecode = Some(text(d, key)?),
            keys::TIME => {
                let t = int(d, key)?;
                f.time = Some(u64::try_from(t).map_err(|_| DecodeError::WrongType { key, expected: "u64" })?);
            }
            keys::UPDATE_TIME => f.update_time = Some(number(d, key)?.as_f64()),
            keys::DATA_VALUE => f.data = Some(bytes(d, key)?),
            keys::WIDTH => f.width = Some(u32_of(d, k)?),
            keys::HEIGHT => f.height = Some(u32_of(d, k)?),
            keys::DATA_MIN => f.data_min = Some(number(d, key)?),
            keys::DATA_MAX => f.data_max = Some(number(d, key)?),
            keys::WIDGET => f.widget = Some(text(d, key)?),
            keys::WIDGET_MIN => f.widget_min = Some(number(d, key)?),
            keys::WIDGET_MAX => f.widget_max = Some(number(d, key)?),
            keys::WIDGET_STEP => f.widget_step = Some(number(d, key)?),
            keys::OPTIONS => f.options = Some(str_list(d, k)?),
            _ => skip(d, 0)?,
        }
    }
    build(f)
}

/// Makes the typed field; absent parameters take the firmware's defaults.
fn build(f: RawField<'_>) -> Result<ControlRef<'_>> {
    let name = f.name.ok_or(DecodeError::MissingKey(keys::NAME))?;
    let widget_name = f.widget.ok_or(DecodeError::MissingKey(keys::WIDGET))?;
    let range = || Range {
        min: f.widget_min.unwrap_or(Range::DEFAULT.min),
        max: f.widget_max.unwrap_or(Range::DEFAULT.max),
        step: f.widget_step.unwrap_or(Range::DEFAULT.step),
    };
    let options = f.options.unwrap_or(StrList::EMPTY);
    let widget = match WidgetKind::from_name(widget_name) {
        Some(WidgetKind::Label) => WidgetRef::Label,
        Some(WidgetKind::Text) => WidgetRef::Text,
        Some(WidgetKind::Toggle) => WidgetRef::Toggle,
        Some(WidgetKind::PushButton) => WidgetRef::PushButton,
        Some(WidgetKind::Slider) => WidgetRef::Slider(range()),
        Some(WidgetKind::Spinbox) => WidgetRef::Spinbox(range()),
        Some(WidgetKind::Select) => WidgetRef::Select(options),
        Some(WidgetKind::Radio) => WidgetRef::Radio(options),
        Some(WidgetKind::LineEdit) => WidgetRef::LineEdit,
        Some(WidgetKind::Depth) => WidgetRef::Depth(DepthShape {
            width: f.width.unwrap_or(0),
            height: f.height.unwrap_or(0),
            min: f.data_min.unwrap_or(Number::Int(0)),
            max: f.data_max.unwrap_or(Number::Int(1000)),
        }),
        Some(WidgetKind::Waveform) => WidgetRef::Waveform(WaveformRef {
            samples: f.width.unwrap_or(0),
            series: f.height.unwrap_or(1),
            min: f.data_min.unwrap_or(Number::Int(0)),
            max: f.data_max.unwrap_or(Number::Int(65535)),
            typecode: f.typecode,
            sample_period: f.update_time,
            series_names: f.options,
            time_us: f.time,
        }),
        None => WidgetRef::Other(widget_name),
    };
    // Depth and waveform data lives under key 8; a value under key 2 wins for other widgets.
    let value = match (f.value, f.data) {
        (_, Some(b)) if matches!(widget, WidgetRef::Depth(_) | WidgetRef::Waveform(_)) => ValueRef::Bytes(b),
        (Some(v), _) => v,
        (None, Some(b)) => ValueRef::Bytes(b),
        (None, None) => ValueRef::Null,
    };
    // A unit under a widget that takes none (a text's, say) is not the field's: dropped, as
    // the encoder would drop it.
    let unit = f.unit.filter(|_| widget.takes_unit());
    Ok(ControlRef { name, widget, value, unit })
}

/// One update record; `Ok(None)` for a map the cam skips.
fn update<'a>(d: &mut Decoder<'a>) -> Result<Option<Update<'a>>> {
    let n = map_len(d)?.ok_or(DecodeError::WrongType { key: None, expected: "map" })?;
    let (mut name, mut val) = (None, None);
    for _ in 0..n {
        match key(d)? {
            Some(keys::NAME) if name.is_none() => {
                // A name of another type matches no field: the record is skipped.
                name = match value(d, Some(keys::NAME), 0)? {
                    ValueRef::Text(s) => Some(Some(s)),
                    _ => Some(None),
                }
            }
            Some(keys::VALUE) if val.is_none() => val = Some(value(d, Some(keys::VALUE), 0)?),
            Some(k @ (keys::NAME | keys::VALUE)) => return Err(DecodeError::DuplicateKey(k)),
            _ => skip(d, 0)?,
        }
    }
    // A null value is skipped too: the firmware reads it as "no value".
    Ok(match (name.flatten(), val) {
        (Some(_), Some(ValueRef::Null)) => None,
        (Some(name), Some(value)) => Some(Update { name, value }),
        _ => None,
    })
}
