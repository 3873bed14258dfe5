//! The device's channel table: 32 slots; ids 1-4 for the built-ins, user channels in the first free slot from 1.

use crate::channels::Channel;
use crate::framing::payload::{ChannelEntry, ChannelFlags};
use crate::framing::ChannelId;

use super::{Board, NoBoard};
use core::ptr::NonNull;

/// Slots in the channel table, id 0 (the transport) included.
pub const MAX_CHANNELS: usize = 32;
/// The highest fixed id: 1 stdin, 2 stdout, 3 stream, 4 profile. A user channel takes the first
/// free id from 1, not from above this ([`Registry::register`]).
pub const MAX_STATIC_ID: u8 = 4;

/// Why a channel could not be registered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegistryError {
    /// Empty, longer than 13 bytes, or containing NUL.
    BadName,
    /// No free slot.
    Full,
    /// The id is taken, or not a static id (1-4).
    BadId,
}

struct Slot<'a, Ch: ?Sized> {
    entry: ChannelEntry,
    chan: &'a mut Ch,
}

/// The registered channels' list entries, by id.
pub struct Entries<'r, 'a, Ch: ?Sized = dyn Channel + 'a>(core::slice::Iter<'r, Option<Slot<'a, Ch>>>);

impl<Ch: ?Sized> Iterator for Entries<'_, '_, Ch> {
    type Item = ChannelEntry;

    fn next(&mut self) -> Option<ChannelEntry> {
        self.0.by_ref().flatten().next().map(|s| s.entry)
    }
}

impl<Ch: ?Sized> core::fmt::Debug for Entries<'_, '_, Ch> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Entries")
    }
}

/// Channels and board of one device. Borrowed by the device engine on each call, so the
/// channels can be owned anywhere (statics, the stack, an arena) without a heap.
///
/// `Ch` is what every channel is and `B` what the board is: by default any [`Channel`] and any
/// [`Board`], called through vtables. A cam that knows all its kinds of channel names one type
/// for them (an enum), and its board's type, so the engine calls them directly: less flash,
/// and thin references in the table (the firmware crate's `FwChannel`).
pub struct Registry<'a, Ch: ?Sized + 'a = dyn Channel + 'a, B: ?Sized + 'a = dyn Board + 'a> {
    slots: [Option<Slot<'a, Ch>>; MAX_CHANNELS],
    /// `NoBoard` until one is set: always a board, so no fallback code on a cam.
    board: &'a mut B,
}

impl<Ch: ?Sized + Channel, B: ?Sized + Board> core::fmt::Debug for Registry<'_, Ch, B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.entries().map(|e| e.id.0)).finish()
    }
}

impl Default for Registry<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a> Registry<'a> {
    /// An empty registry of any kind of channel ([`Registry::empty`]; this one names the
    /// type, which inference would otherwise take from the first channel registered).
    #[inline(always)]
    pub const fn new() -> Self {
        Self::empty()
    }
}

impl<'a, Ch: ?Sized + Channel + 'a> Registry<'a, Ch> {
    /// An empty registry of channels of type `Ch`: no channels, `NoBoard`.
    #[inline(always)]
    pub const fn empty() -> Self {
        // SAFETY: `NoBoard` has no bytes. A reference to a zero-sized type only has to be
        // non-null and aligned, which a dangling pointer is, and it reaches no memory, so
        // any number of them may exist at once.
        let none: &'a mut NoBoard = unsafe { &mut *NonNull::<NoBoard>::dangling().as_ptr() };
        Self::with_board(none)
    }
}

impl<'a, Ch: ?Sized + Channel + 'a, B: ?Sized + Board + 'a> Registry<'a, Ch, B> {
    /// An empty registry with a board of type `B`: a cam with one kind of board names it, so
    /// the engine calls it directly, not through a vtable.
    #[inline(always)] // so a cam builds the table in place, not on its stack
    pub const fn with_board(board: &'a mut B) -> Self {
        Registry { slots: [const { None }; MAX_CHANNELS], board }
    }

    /// The board hook for SYS_INFO, PROTO_VERSION, SYS_MEMORY, SYS_RESET and SYS_BOOT
    /// (`NoBoard` until set).
    pub fn set_board(&mut self, board: &'a mut B) {
        self.board = board;
    }

    pub(crate) fn board(&mut self) -> &mut B {
        &mut *self.board
    }

    /// Registers a built-in channel at its fixed id (1 stdin, 2 stdout, 3 stream, 4 profile).
    pub fn register_static(&mut self, id: ChannelId, name: &str, chan: &'a mut Ch) -> Result<ChannelId, RegistryError> {
        self.register_at(Some(id), name, chan)
    }

    /// [`Registry::register_static`] with `Some(id)`, else [`Registry::register`]: one call
    /// for a caller that takes both (the firmware's C registrations).
    pub fn register_at(
        &mut self,
        id: Option<ChannelId>,
        name: &str,
        chan: &'a mut Ch,
    ) -> Result<ChannelId, RegistryError> {
        let (id, extra) = match id {
            Some(id) if (1..=MAX_STATIC_ID).contains(&id.0) => (id, ChannelFlags::empty()),
            Some(_) => return Err(RegistryError::BadId),
            None => (self.next_dynamic_id().ok_or(RegistryError::Full)?, ChannelFlags::DYNAMIC),
        };
        self.insert(id, name, extra, chan)
    }

    /// Registers a user channel in the first free slot counting from id 1, as the firmware
    /// does (id 4 when no profile channel is built in); the host learns of it through a
    /// CHANNEL_REGISTERED event the caller queues on the device.
    pub fn register(&mut self, name: &str, chan: &'a mut Ch) -> Result<ChannelId, RegistryError> {
        self.register_at(None, name, chan)
    }

    /// The id [`Registry::register`] would give a channel now.
    pub fn next_dynamic_id(&self) -> Option<ChannelId> {
        (1..MAX_CHANNELS as u8).find(|&i| self.slots[i as usize].is_none()).map(ChannelId)
    }

    fn insert(
        &mut self,
        id: ChannelId,
        name: &str,
        extra: ChannelFlags,
        chan: &'a mut Ch,
    ) -> Result<ChannelId, RegistryError> {
        let mut entry = ChannelEntry::new(id, ChannelFlags::empty(), name).ok_or(RegistryError::BadName)?;
        // Names are NUL-padded to 14 bytes, so equal arrays are equal names.
        if self.slots.iter().flatten().any(|s| s.entry.name == entry.name) {
            return Err(RegistryError::BadName);
        }
        let slot = &mut self.slots[id.0 as usize];
        if slot.is_some() {
            return Err(RegistryError::BadId);
        }
        entry.flags = (chan.flags() & !(ChannelFlags::DYNAMIC | ChannelFlags::PHYSICAL)) | extra;
        *slot = Some(Slot { entry, chan });
        Ok(id)
    }

    /// Removes a channel, giving its backend back.
    pub fn unregister(&mut self, id: ChannelId) -> Option<&'a mut Ch> {
        self.slots.get_mut(id.0 as usize)?.take().map(|s| s.chan)
    }

    /// A channel by id; the slot table is looked up, never a count (PROTOCOL.md 7).
    pub fn get(&mut self, id: ChannelId) -> Option<&mut Ch> {
        match self.slots.get_mut(id.0 as usize) {
            Some(Some(s)) => Some(&mut *s.chan),
            _ => None,
        }
    }

    /// A channel with its list entry.
    pub fn get_with_entry(&mut self, id: ChannelId) -> Option<(ChannelEntry, &mut Ch)> {
        match self.slots.get_mut(id.0 as usize) {
            Some(Some(s)) => Some((s.entry, &mut *s.chan)),
            _ => None,
        }
    }

    /// Looks a channel up by name.
    pub fn find(&self, name: &str) -> Option<ChannelId> {
        self.slots.iter().flatten().find(|s| s.entry.name_bytes() == name.as_bytes()).map(|s| s.entry.id)
    }

    /// The CHANNEL_LIST entries, by id.
    pub fn entries(&self) -> Entries<'_, 'a, Ch> {
        Entries(self.slots.iter())
    }

    /// CHANNEL_POLL: bit i set when channel i has something for the host.
    pub fn poll_bits(&mut self) -> u32 {
        let mut bits = 0;
        for (i, s) in self.slots.iter_mut().enumerate() {
            if let Some(s) = s {
                if s.chan.poll() {
                    bits |= 1 << i;
                }
            }
        }
        bits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Fails to compile unless an empty registry can be built in a constant context.
    const _: () = {
        let _ = Registry::new();
        let _ = Registry::<'static, Plain>::empty();
    };

    struct Plain;
    impl Channel for Plain {
        fn flags(&self) -> ChannelFlags {
            ChannelFlags::READ | ChannelFlags::DYNAMIC
        }
    }

    #[test]
    fn register_at_checks_ids_and_fills_from_one() {
        let mut chans: [Plain; 40] = core::array::from_fn(|_| Plain);
        let mut it = chans.iter_mut();
        let mut reg = Registry::new();
        for bad in [0, MAX_STATIC_ID + 1, 31] {
            assert_eq!(reg.register_at(Some(ChannelId(bad)), "x", it.next().unwrap()), Err(RegistryError::BadId));
        }
        assert_eq!(reg.register_at(Some(ChannelId(2)), "stdout", it.next().unwrap()), Ok(ChannelId(2)));
        assert_eq!(reg.register_at(Some(ChannelId(2)), "again", it.next().unwrap()), Err(RegistryError::BadId));
        assert_eq!(reg.register_at(None, "stdout", it.next().unwrap()), Err(RegistryError::BadName));
        // Dynamic ids start at the first free slot from 1; a channel's own DYNAMIC flag is
        // not trusted: the registry sets it for dynamic registrations only.
        assert_eq!(reg.register_at(None, "a", it.next().unwrap()), Ok(ChannelId(1)));
        let flags = |reg: &mut Registry<'_>, id| reg.get_with_entry(ChannelId(id)).unwrap().0.flags;
        assert_eq!(flags(&mut reg, 1), ChannelFlags::READ | ChannelFlags::DYNAMIC);
        assert_eq!(flags(&mut reg, 2), ChannelFlags::READ);
        for id in 3..MAX_CHANNELS as u8 {
            let name = [b'c', b'0' + id / 10, b'0' + id % 10];
            let name = core::str::from_utf8(&name).unwrap();
            assert_eq!(reg.register_at(None, name, it.next().unwrap()), Ok(ChannelId(id)));
        }
        assert_eq!(reg.register_at(None, "last", it.next().unwrap()), Err(RegistryError::Full));
    }
}
