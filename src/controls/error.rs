//! What can be wrong with a controls blob or a control write. All `Copy`, no heap.

use core::fmt;

/// Valid CBOR this format does not use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unsupported {
    /// Indefinite-length strings, arrays or maps (neither end writes them).
    IndefiniteLength,
    /// A tagged item where a value is expected.
    Tag,
    /// A map as a value.
    MapValue,
    /// An integer outside i64.
    BigInteger,
    /// `undefined` or another simple value.
    Simple,
}

/// Why a blob was refused. `key` names the map key at fault ([`super::keys`]), `None` for the
/// outer array or a record itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The input ends inside an item.
    Truncated,
    /// Bytes after the outer array.
    TrailingBytes,
    /// Not well-formed CBOR (reserved encodings, invalid UTF-8, lengths past the address space).
    Malformed,
    /// Valid CBOR of a kind this format does not use.
    Unsupported(Unsupported),
    /// An item of the wrong CBOR type.
    WrongType {
        /// The map key whose value is at fault; `None` for the outer array or a record itself.
        key: Option<i64>,
        /// The type that belongs there, e.g. `"text"`, `"map"` or `"u32"`.
        expected: &'static str,
    },
    /// A field without its name or widget type.
    MissingKey(i64),
    /// The same key twice in one field.
    DuplicateKey(i64),
    /// Lists nested deeper than [`super::limits::MAX_VALUE_DEPTH`] (or skipped items deeper
    /// than `MAX_SKIP_DEPTH`).
    TooDeep,
    /// More fields, entries or list items than [`super::limits`] allows.
    TooMany {
        /// What there were too many of: `"fields"`, `"map entries"` or `"list items"`.
        what: &'static str,
        /// The bound that was passed, from [`super::limits`].
        limit: usize,
    },
    /// A blob longer than [`super::limits::MAX_BLOB_LEN`].
    TooLarge,
}

/// Why encoding stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncodeError {
    /// The caller's buffer is full; [`super::encoded_len`] tells how much is needed.
    BufferFull,
    /// A list value nested deeper than [`super::limits::MAX_VALUE_DEPTH`].
    TooDeep,
}

/// Errors of looking up or setting a control.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The channel's blob did not decode.
    Decode(DecodeError),
    /// A write or blob could not be encoded.
    Encode(EncodeError),
    /// No control of that name on the channel.
    NoSuchControl,
    /// Labels, texts, depth images and waveforms are the cam's to set.
    ReadOnly,
    /// A value of the wrong type for the widget (`expected` names the type it takes).
    WrongType {
        /// The type the widget takes: `"bool"`, `"number"`, `"integer"`, `"text"` or `"bytes"`.
        expected: &'static str,
    },
    /// A slider or spin box value outside its range.
    OutOfRange,
    /// A select or radio value that is not one of its options.
    NotAnOption,
    /// A text longer than the cam's storage for it.
    TooLong,
}

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Self {
        Error::Decode(e)
    }
}

impl From<EncodeError> for Error {
    fn from(e: EncodeError) -> Self {
        Error::Encode(e)
    }
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Unsupported::IndefiniteLength => "indefinite-length item",
            Unsupported::Tag => "tagged item",
            Unsupported::MapValue => "map as a value",
            Unsupported::BigInteger => "integer outside 64 bits",
            Unsupported::Simple => "simple value",
        })
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Truncated => f.write_str("truncated CBOR"),
            DecodeError::TrailingBytes => f.write_str("bytes after the controls array"),
            DecodeError::Malformed => f.write_str("malformed CBOR"),
            DecodeError::Unsupported(u) => write!(f, "unsupported CBOR: {u}"),
            DecodeError::WrongType { key: Some(k), expected } => write!(f, "key {k}: expected {expected}"),
            DecodeError::WrongType { key: None, expected } => write!(f, "expected {expected}"),
            DecodeError::MissingKey(k) => write!(f, "field without key {k}"),
            DecodeError::DuplicateKey(k) => write!(f, "key {k} twice in one field"),
            DecodeError::TooDeep => f.write_str("nested too deep"),
            DecodeError::TooMany { what, limit } => write!(f, "more than {limit} {what}"),
            DecodeError::TooLarge => f.write_str("blob too large"),
        }
    }
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EncodeError::BufferFull => "buffer full",
            EncodeError::TooDeep => "value nested too deep",
        })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Decode(e) => write!(f, "bad controls blob: {e}"),
            Error::Encode(e) => write!(f, "cannot encode controls: {e}"),
            Error::NoSuchControl => f.write_str("no such control"),
            Error::ReadOnly => f.write_str("control is read-only"),
            Error::WrongType { expected } => write!(f, "control takes {expected}"),
            Error::OutOfRange => f.write_str("value outside the control's range"),
            Error::NotAnOption => f.write_str("not one of the control's options"),
            Error::TooLong => f.write_str("text longer than the control holds"),
        }
    }
}

impl core::error::Error for DecodeError {}
impl core::error::Error for EncodeError {}
impl core::error::Error for Error {}
