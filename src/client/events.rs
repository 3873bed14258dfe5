//! Events for the application, and the thread that delivers them.
//!
//! Listeners run on a dedicated event thread, never on the reader thread and never under a
//! client lock, so a listener may call back into the [`super::Camera`] (the call waits for
//! any operation in flight, as calls from other threads do). The same thread runs automatic
//! reconnection, so listeners see `LinkLost` before any reconnection attempt.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;

use super::link::Shared;
use crate::framing::payload::event;
use crate::framing::ChannelId;

/// Something the application may want to react to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientEvent {
    /// An event the cam sent (PROTOCOL.md 5): `channel` 0 for system events.
    Device {
        /// The channel that sent it; [`ChannelId::TRANSPORT`] (0) for system events.
        channel: ChannelId,
        /// The event code; 0xFFFF (NOTIFY) when the event had no payload.
        code: u16,
    },
    /// The link went away; calls fail with `Error::LinkLost` until it is back.
    LinkLost {
        /// The transport's error message.
        reason: String,
    },
    /// The link was reopened and the session restored (resync and channel list).
    Reconnected,
    /// The cam restarted its protocol engine (soft reboot after a script, or a counter
    /// found back at 0) and the client restored the session: resync, a fresh channel list
    /// (user channels may have new ids), streaming as last asked for.
    CamRestarted,
}

impl ClientEvent {
    /// A system event announcing a channel registration (the channel list was refreshed).
    pub fn is_channel_registered(&self) -> bool {
        *self == ClientEvent::Device { channel: ChannelId::TRANSPORT, code: event::CHANNEL_REGISTERED }
    }
}

/// A listener callback.
pub type Listener = Arc<dyn Fn(&ClientEvent) + Send + Sync>;

/// Identifies a listener added with `Camera::subscribe`, to remove it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ListenerId(pub(crate) u64);

/// What the event thread is told.
#[derive(Debug)]
pub(crate) enum Msg {
    Event(ClientEvent),
    Stop,
}

/// The event thread: delivers events in order until told to stop.
pub(crate) fn run(shared: Arc<Shared>, rx: Receiver<Msg>) {
    while let Ok(msg) = rx.recv() {
        match msg {
            Msg::Stop => return,
            Msg::Event(ev) => {
                let lost = matches!(ev, ClientEvent::LinkLost { .. });
                dispatch(&shared, &ev);
                if lost && shared.opts.auto_reconnect && !auto_reconnect(&shared, &rx) {
                    return;
                }
            }
        }
    }
}

fn dispatch(shared: &Shared, ev: &ClientEvent) {
    // Snapshot, so listeners can (un)subscribe from inside a callback.
    let listeners: Vec<_> = shared.listeners.lock().iter().map(|(_, l)| l.clone()).collect();
    for l in listeners {
        if catch_unwind(AssertUnwindSafe(|| l(ev))).is_err() {
            log::warn!("an event listener panicked on {ev:?}");
        }
    }
}

/// Retries the connection with a growing pause until it is back, the user reconnected or
/// disconnected by hand, or the client stops. Returns `false` when told to stop.
fn auto_reconnect(shared: &Arc<Shared>, rx: &Receiver<Msg>) -> bool {
    let mut delay = shared.opts.reconnect_interval;
    loop {
        match rx.recv_timeout(delay) {
            Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => return false,
            Ok(Msg::Event(ev)) => {
                dispatch(shared, &ev);
                continue;
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
        if shared.stop.load(Ordering::Acquire) {
            return false;
        }
        match shared.reconnect_if_lost() {
            Ok(_) => return true,
            Err(e) => {
                log::debug!("reconnection to {} failed: {e}", shared.transport.describe());
                delay = (delay * 2).min(shared.opts.reconnect_max_interval);
            }
        }
    }
}
