//! Channels as the client sees them, and how a caller names one.

use crate::framing::payload::{ChannelEntry, ChannelFlags};
use crate::framing::ChannelId;

use super::error::{Error, Result};

/// One entry of the cam's channel list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelInfo {
    /// The channel's id (0..=31), which requests carry in the header.
    pub id: ChannelId,
    /// What the channel supports (PROTOCOL.md 6): READ, WRITE, EXEC, LOCK, STREAM, DYNAMIC, PHYSICAL.
    pub flags: ChannelFlags,
    /// The name the cam lists ("stdin", "stream", a user channel's own), up to its first NUL.
    pub name: String,
}

impl ChannelInfo {
    /// Whether the channel can be read (flag READ).
    pub fn can_read(&self) -> bool {
        self.flags.contains(ChannelFlags::READ)
    }
    /// Whether the channel takes writes (flag WRITE).
    pub fn can_write(&self) -> bool {
        self.flags.contains(ChannelFlags::WRITE)
    }
    /// The channel must be locked around reads.
    pub fn needs_lock(&self) -> bool {
        self.flags.contains(ChannelFlags::LOCK)
    }
}

/// Parses a CHANNEL_LIST answer: 16 bytes per channel; a trailing partial entry is an error.
pub(crate) fn parse_list(b: &[u8]) -> Result<Vec<ChannelInfo>> {
    if !b.len().is_multiple_of(ChannelEntry::LEN) {
        return Err(Error::bad(format!("channel list of {} bytes", b.len())));
    }
    b.chunks_exact(ChannelEntry::LEN)
        .map(|c| {
            let e = ChannelEntry::parse(c).map_err(|_| Error::bad("channel entry"))?;
            // Names are ASCII in practice; keep what decodes, as openmv does.
            let end = e.name.iter().position(|&c| c == 0).unwrap_or(e.name.len());
            let name = String::from_utf8_lossy(&e.name[..end]).into_owned();
            Ok(ChannelInfo { id: e.id, flags: e.flags, name })
        })
        .collect()
}

/// A channel by id or by name: `cam.read("stdout", ..)`, `cam.read(ChannelId(5), ..)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chan<'a> {
    /// The channel with this id, used as it is.
    Id(ChannelId),
    /// The channel with this name, looked up in the channel list.
    Name(&'a str),
}

impl From<ChannelId> for Chan<'_> {
    fn from(id: ChannelId) -> Self {
        Chan::Id(id)
    }
}

impl From<u8> for Chan<'_> {
    fn from(id: u8) -> Self {
        Chan::Id(ChannelId(id))
    }
}

impl<'a> From<&'a str> for Chan<'a> {
    fn from(name: &'a str) -> Self {
        Chan::Name(name)
    }
}

impl<'a> From<&'a String> for Chan<'a> {
    fn from(name: &'a String) -> Self {
        Chan::Name(name)
    }
}

impl<'a> From<&'a ChannelInfo> for Chan<'a> {
    fn from(c: &'a ChannelInfo) -> Self {
        Chan::Id(c.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_parses_and_rejects_partial_entries() {
        let mut b = Vec::new();
        b.extend_from_slice(&ChannelEntry::new(ChannelId(1), ChannelFlags::WRITE, "stdin").unwrap().to_bytes());
        b.extend_from_slice(&ChannelEntry::new(ChannelId(2), ChannelFlags::READ, "stdout").unwrap().to_bytes());
        let l = parse_list(&b).unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(l[1].name, "stdout");
        assert!(l[1].can_read());
        assert!(parse_list(&b[..20]).is_err());
        assert!(parse_list(&[]).unwrap().is_empty());
    }
}
