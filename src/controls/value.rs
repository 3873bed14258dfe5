//! Values as they appear in a blob, borrowed from it.

use minicbor::Decoder;

/// A number as CBOR carries it: an integer or a float (the firmware keeps Python's distinction).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number {
    Int(i64),
    Float(f64),
}

impl Number {
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }

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
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(&'a str),
    Bytes(&'a [u8]),
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
        items: &'a [u8],
        len: usize,
    },
    Slice(&'a [ValueRef<'a>]),
}

impl<'a> ListRef<'a> {
    pub fn len(&self) -> usize {
        match self {
            ListRef::Cbor { len, .. } => *len,
            ListRef::Slice(s) => s.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn iter(&self) -> ListIter<'a> {
        match *self {
            ListRef::Cbor { items, len } => ListIter::Cbor(Decoder::new(items), len),
            ListRef::Slice(s) => ListIter::Slice(s.iter()),
        }
    }
}

impl PartialEq for ListRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

/// Items of a [`ListRef`].
#[derive(Debug)]
pub enum ListIter<'a> {
    Cbor(Decoder<'a>, usize),
    Slice(core::slice::Iter<'a, ValueRef<'a>>),
}

impl<'a> Iterator for ListIter<'a> {
    type Item = ValueRef<'a>;

    fn next(&mut self) -> Option<ValueRef<'a>> {
        match self {
            ListIter::Cbor(d, left) => {
                if *left == 0 {
                    return None;
                }
                *left -= 1;
                // The decoder checked these bytes when it made the list.
                super::decode::value(d, None, 1).ok()
            }
            ListIter::Slice(it) => it.next().copied(),
        }
    }
}

/// A list of texts (options, series names): checked CBOR, or a slice.
#[derive(Clone, Copy, Debug)]
pub enum StrList<'a> {
    Cbor { items: &'a [u8], len: usize },
    Slice(&'a [&'a str]),
}

impl<'a> StrList<'a> {
    pub const EMPTY: StrList<'static> = StrList::Slice(&[]);

    pub fn len(&self) -> usize {
        match self {
            StrList::Cbor { len, .. } => *len,
            StrList::Slice(s) => s.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn iter(&self) -> StrIter<'a> {
        match *self {
            StrList::Cbor { items, len } => StrIter::Cbor(Decoder::new(items), len),
            StrList::Slice(s) => StrIter::Slice(s.iter()),
        }
    }

    pub fn get(&self, i: usize) -> Option<&'a str> {
        self.iter().nth(i)
    }

    pub fn position(&self, s: &str) -> Option<usize> {
        self.iter().position(|o| o == s)
    }
}

impl PartialEq for StrList<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

/// Items of a [`StrList`].
#[derive(Debug)]
pub enum StrIter<'a> {
    Cbor(Decoder<'a>, usize),
    Slice(core::slice::Iter<'a, &'a str>),
}

impl<'a> Iterator for StrIter<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        match self {
            StrIter::Cbor(d, left) => {
                if *left == 0 {
                    return None;
                }
                *left -= 1;
                d.str().ok()
            }
            StrIter::Slice(it) => it.next().copied(),
        }
    }
}
