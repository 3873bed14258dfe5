//! Bounds on what a decoder accepts, so hostile input costs little time and no memory.

/// Bytes in one blob (a read of the channel or one host write).
pub const MAX_BLOB_LEN: usize = 1 << 20;
/// Fields in one blob.
pub const MAX_FIELDS: usize = 256;
/// Entries in one field's map.
pub const MAX_ENTRIES: usize = 32;
/// Items in one list (a list value, options, series names).
pub const MAX_LIST_LEN: usize = 1024;
/// Nesting of lists inside a value: 2 allows a list of lists (e.g. a list of points).
pub const MAX_VALUE_DEPTH: usize = 2;
/// Nesting of an unknown key's value the decoder skips over.
pub const MAX_SKIP_DEPTH: usize = 8;
