//! The event queue: order, coalescing (per channel, never reordering one), the bound, and the
//! capability check.

// The crate is no_std without its `std` feature; the tests still run on a host.
extern crate std;
use std::vec::Vec;

use super::{Device, DeviceConfig, Event, EventError, Registry, EVENT_QUEUE};
use crate::framing::payload::{event, CapFlags, Caps};
use crate::framing::{ChannelId, FastCrc, Flags, Header, Opcode, HEADER_LEN};
use crate::time::Instant;

fn ev(channel: u8, code: u16) -> Event {
    Event { channel: ChannelId(channel), code, confirmed: false }
}

/// Every packet the device has ready: (header, payload).
fn drain(d: &mut Device, reg: &mut Registry<'_>) -> Vec<(Header, Vec<u8>)> {
    let mut out = Vec::new();
    while let Some(p) = d.poll_transmit(Instant::ZERO, reg) {
        let h = Header::parse(p[..HEADER_LEN].try_into().unwrap());
        out.push((h, p[HEADER_LEN..HEADER_LEN + h.length as usize].to_vec()));
    }
    out
}

#[test]
fn events_leave_in_order_duplicates_coalesced_up_to_the_bound() {
    let mut d: Device = Device::default();
    let mut reg = Registry::new();
    for i in 0..EVENT_QUEUE as u16 {
        assert_eq!(d.queue_event(ev(2, i)), Ok(()));
    }
    // A repeat of the channel's newest waiting event is taken (and dropped); an older code of
    // that channel is a new event behind the others, and like any new one does not fit.
    assert_eq!(d.queue_event(ev(2, EVENT_QUEUE as u16 - 1)), Ok(()));
    assert_eq!(d.queue_event(ev(2, 3)), Err(EventError::QueueFull));
    assert_eq!(d.queue_event(ev(0, event::SOFT_REBOOT)), Err(EventError::QueueFull));

    let sent = drain(&mut d, &mut reg);
    let codes: Vec<u16> = sent.iter().map(|(_, p)| u16::from_le_bytes([p[0], p[1]])).collect();
    assert_eq!(codes, (0..EVENT_QUEUE as u16).collect::<Vec<_>>());
    for (h, _) in &sent {
        assert_eq!((h.opcode, h.channel), (Opcode::CHANNEL_EVENT, ChannelId(2)));
        assert!(h.flags.contains(Flags::EVENT) && !h.flags.contains(Flags::ACK_REQ));
    }

    // Drained: room again; a system event is SYS_EVENT, a NOTIFY has no payload.
    assert_eq!(d.queue_event(ev(0, event::SOFT_REBOOT)), Ok(()));
    assert_eq!(d.queue_event(ev(2, event::NOTIFY)), Ok(()));
    let sent = drain(&mut d, &mut reg);
    assert_eq!(sent.len(), 2);
    assert_eq!((sent[0].0.opcode, sent[0].1.as_slice()), (Opcode::SYS_EVENT, &event::SOFT_REBOOT.to_le_bytes()[..]));
    assert_eq!((sent[1].0.opcode, sent[1].1.len()), (Opcode::CHANNEL_EVENT, 0));
    // Once sent, the same event is queued again rather than coalesced away.
    assert_eq!(d.queue_event(ev(2, event::NOTIFY)), Ok(()));
    assert_eq!(drain(&mut d, &mut reg).len(), 1);
}

/// Coalescing never reorders one channel's events: a script that stops and starts again before
/// the host hears of it is reported as started last. Other channels' repeats still coalesce.
#[test]
fn coalescing_keeps_each_channels_order() {
    let mut d: Device = Device::default();
    let mut reg = Registry::new();
    let stdin = 1;
    let stdout = 2;
    for e in [
        ev(stdin, event::SCRIPT_STARTED),
        ev(stdout, event::NOTIFY),
        ev(stdin, event::SCRIPT_STOPPED),
        ev(stdout, event::NOTIFY),
        ev(stdin, event::SCRIPT_STARTED),
        ev(stdin, event::SCRIPT_STARTED),
    ] {
        assert_eq!(d.queue_event(e), Ok(()));
    }
    let sent: Vec<(u8, Option<u16>)> = drain(&mut d, &mut reg)
        .iter()
        .map(|(h, p)| (h.channel.0, p.get(..2).map(|c| u16::from_le_bytes([c[0], c[1]]))))
        .collect();
    assert_eq!(
        sent,
        [
            (stdin, Some(event::SCRIPT_STARTED)),
            (stdout, None),
            (stdin, Some(event::SCRIPT_STOPPED)),
            (stdin, Some(event::SCRIPT_STARTED)),
        ]
    );
}

#[test]
fn events_need_the_capability() {
    let config =
        DeviceConfig { caps: Caps { flags: CapFlags::CRC | CapFlags::SEQ, ..Caps::DEFAULT }, ..Default::default() };
    let mut d: Device = Device::new(config, FastCrc);
    assert_eq!(d.queue_event(ev(2, 1)), Err(EventError::Disabled));
    assert!(drain(&mut d, &mut Registry::new()).is_empty());
}
