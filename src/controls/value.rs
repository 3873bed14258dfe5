//! Values as they appear in a blob, borrowed from it.

use minicbor::Decoder;

/// A number as CBOR carries it: an integer or a float (the firmware keeps Python's distinction).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number {
    /// A CBOR integer (within i64).
    Int(i64),
    /// A CBOR float; half and single precision are widened to f64.
    Float(f64),
}

impl Number {
    /// The number as f64 (integers beyond 2^53 are rounded).
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }

    /// Whether it is an integer (an integral float such as `2.0` is not).
    pub fn is_int(self) -> bool {
        matches!(self, Number::Int(_))
    }
}

impl From<i64> for Number {
    fn from(v: i64) -> Self {
        Number::Int(v)
    }
}

impl From<f64> for Number {
    fn from(v: f64) -> Self {
        Number::Float(v)
    }
}

/// A field's value. CBOR types map one to one: null, bool, integer, float (half, single or
/// double on input, double on output), text, bytes, array.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ValueRef<'a> {
    /// `null`; also what a field without a value (key 2 or 8) decodes to.
    Null,
    /// A bool: toggles and push buttons.
    Bool(bool),
    /// An integer within i64.
    Int(i64),
    /// A float (widened to f64 on input, written as a double).
    Float(f64),
    /// UTF-8 text: texts, text labels, line edits, a select's or radio's chosen option.
    Text(&'a str),
    /// A byte string: depth and waveform samples (key 8).
    Bytes(&'a [u8]),
    /// An array, at most [`MAX_VALUE_DEPTH`](super::limits::MAX_VALUE_DEPTH) lists deep
    /// (e.g. a list of points).
    List(ListRef<'a>),
}

impl<'a> ValueRef<'a> {
    /// The CBOR type's name, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            ValueRef::Null => "null",
            ValueRef::Bool(_) => "bool",
            ValueRef::Int(_) => "integer",
            ValueRef::Float(_) => "float",
            ValueRef::Text(_) => "text",
            ValueRef::Bytes(_) => "bytes",
            ValueRef::List(_) => "list",
        }
    }

    /// The number of an `Int` or `Float`; `None` for other types.
    pub fn as_number(&self) -> Option<Number> {
        match *self {
            ValueRef::Int(i) => Some(Number::Int(i)),
            ValueRef::Float(f) => Some(Number::Float(f)),
            _ => None,
        }
    }
}

impl From<Number> for ValueRef<'_> {
    fn from(n: Number) -> Self {
        match n {
            Number::Int(i) => ValueRef::Int(i),
            Number::Float(f) => ValueRef::Float(f),
        }
    }
}

/// A list value: either the already-checked CBOR items of a blob, or a slice.
#[derive(Clone, Copy, Debug)]
pub enum ListRef<'a> {
    /// `len` items, encoded back to back in `items` (checked by the decoder).
    Cbor {
        /// The items' CBOR bytes.
        items: &'a [u8],
        /// Number of items.
        len: usize,
    },
    /// Items given by the caller, e.g. to encode.
    Slice(&'a [ValueRef<'a>]),
}

impl<'a> ListRef<'a> {
    /// Number of items.
    pub fn len(&self) -> usize {
        match self {
            ListRef::Cbor { len, .. } => *len,
            ListRef::Slice(s) => s.len(),
        }
    }

    /// Whether the list has no items.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The items, in order. For `Cbor` bytes the decoder did not check, iteration stops at
    /// the first bad item.
    pub fn iter(&self) -> ListIter<'a> {
        match *self {
            ListRef::Cbor { items, len } => ListIter(Items::Cbor(Decoder::new(items), len)),
            ListRef::Slice(s) => ListIter(Items::Slice(s.iter())),
        }
    }
}

impl PartialEq for ListRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

/// What the two list iterators walk: `len` more CBOR items, or a slice.
#[derive(Debug)]
enum Items<'a, T> {
    Cbor(Decoder<'a>, usize),
    Slice(core::slice::Iter<'a, T>),
}

/// Items of a [`ListRef`] ([`ListRef::iter`]).
#[derive(Debug)]
pub struct ListIter<'a>(Items<'a, ValueRef<'a>>);

impl<'a> Iterator for ListIter<'a> {
    type Item = ValueRef<'a>;

    fn next(&mut self) -> Option<ValueRef<'a>> {
        match &mut self.0 {
            Items::Cbor(d, left) => {
                if *left == 0 {
                    return None;
                }
                *left -= 1;
                // The decoder checked these bytes when it made the list.
                super::decode::value(d, None, 1).ok()
            }
            Items::Slice(it) => it.next().copied(),
        }
    }
}

/// A list of texts (options, series names): checked CBOR, or a slice.
#[derive(Clone, Copy, Debug)]
pub enum StrList<'a> {
    /// `len` texts, encoded back to back in `items` (checked by the decoder).
    Cbor {
        /// The texts' CBOR bytes.
        items: &'a [u8],
        /// Number of texts.
        len: usize,
    },
    /// Texts given by the caller (a cam's declared options).
    Slice(&'a [&'a str]),
}

impl<'a> StrList<'a> {
    /// No texts: the options of a select or radio sent without key -34.
    pub const EMPTY: StrList<'static> = StrList::Slice(&[]);

    /// Number of texts.
    pub fn len(&self) -> usize {
        match self {
            StrList::Cbor { len, .. } => *len,
            StrList::Slice(s) => s.len(),
        }
    }

    /// Whether there are no texts.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The texts, in order. For `Cbor` bytes the decoder did not check, iteration stops at
    /// the first bad item.
    pub fn iter(&self) -> StrIter<'a> {
        match *self {
            StrList::Cbor { items, len } => StrIter(Items::Cbor(Decoder::new(items), len)),
            StrList::Slice(s) => StrIter(Items::Slice(s.iter())),
        }
    }

    /// The text at index `i`; `None` past the end.
    pub fn get(&self, i: usize) -> Option<&'a str> {
        self.iter().nth(i)
    }

    /// The index of the first text equal to `s`; `None` if none is.
    pub fn position(&self, s: &str) -> Option<usize> {
        self.iter().position(|o| o == s)
    }
}

impl PartialEq for StrList<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

/// Texts of a [`StrList`] ([`StrList::iter`]).
#[derive(Debug)]
pub struct StrIter<'a>(Items<'a, &'a str>);

impl<'a> Iterator for StrIter<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        match &mut self.0 {
            Items::Cbor(d, left) => {
                if *left == 0 {
                    return None;
                }
                *left -= 1;
                d.str().ok()
            }
            Items::Slice(it) => it.next().copied(),
        }
    }
}
