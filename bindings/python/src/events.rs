//! Events for Python: a bounded queue (the `events()` iterator), callbacks, and openmv's
//! `frame_event` flag.
//!
//! The Rust client calls [`Hub::on_event`] on its event thread. Callbacks need the GIL, so
//! that thread attaches to Python only while callbacks are registered and the camera is open;
//! closing the camera (which joins that thread) always happens with the GIL released.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use openmvproto::client::ClientEvent;
use openmvproto::framing::payload::event;
use parking_lot::{Condvar, Mutex};
use pyo3::prelude::*;

/// Events kept for `next_event` before the oldest are dropped.
const QUEUE_LIMIT: usize = 1024;
/// `stream_id` when the cam has no stream channel (ids are u8).
const NO_CHANNEL: u16 = u16::MAX;

/// One event, as callbacks and the iterator see it.
#[pyclass(module = "openmvproto", name = "Event", frozen, get_all)]
#[derive(Clone)]
pub struct Event {
    /// "device" (the cam sent it), "link_lost", "reconnected" or "cam_restarted" (the cam
    /// soft-rebooted and the client restored the session).
    pub kind: &'static str,
    /// The channel id of a device event (0: system events).
    pub channel: Option<u8>,
    /// The event code of a device event.
    pub code: Option<u16>,
    /// Why the link was lost.
    pub reason: Option<String>,
}

#[pymethods]
impl Event {
    /// A readable name for system events (channel 0), else None.
    #[getter]
    fn name(&self) -> Option<&'static str> {
        match (self.channel, self.code) {
            (Some(0), Some(event::CHANNEL_REGISTERED)) => Some("CHANNEL_REGISTERED"),
            (Some(0), Some(event::CHANNEL_UNREGISTERED)) => Some("CHANNEL_UNREGISTERED"),
            (Some(0), Some(event::SOFT_REBOOT)) => Some("SOFT_REBOOT"),
            _ => None,
        }
    }

    fn __repr__(&self) -> String {
        match (self.kind, self.channel, self.code, &self.reason) {
            ("device", Some(ch), Some(code), _) => format!("<openmvproto.Event device channel={ch} code=0x{code:04X}>"),
            (kind, _, _, Some(r)) => format!("<openmvproto.Event {kind} reason={r:?}>"),
            (kind, ..) => format!("<openmvproto.Event {kind}>"),
        }
    }
}

impl Event {
    fn bare(kind: &'static str) -> Event {
        Event { kind, channel: None, code: None, reason: None }
    }

    fn of(ev: &ClientEvent) -> Event {
        match ev {
            ClientEvent::Device { channel, code } => {
                Event { kind: "device", channel: Some(channel.0), code: Some(*code), reason: None }
            }
            ClientEvent::LinkLost { reason } => {
                Event { kind: "link_lost", channel: None, code: None, reason: Some(reason.clone()) }
            }
            ClientEvent::Reconnected => Event::bare("reconnected"),
            ClientEvent::CamRestarted => Event::bare("cam_restarted"),
            // The client may learn new events; Python sees them by their debug name.
            #[allow(unreachable_patterns)]
            other => Event { kind: "other", channel: None, code: None, reason: Some(format!("{other:?}")) },
        }
    }
}

/// Shared between the Rust client's listener and the Python-facing camera.
pub struct Hub {
    queue: Mutex<VecDeque<Event>>,
    queued: Condvar,
    dropped: AtomicU64,
    /// openmv's `frame_event`: set by a stream event, cleared by `take_frame_event`.
    frame_event: AtomicBool,
    stream_id: AtomicU16,
    callbacks: Mutex<Vec<(u64, Py<PyAny>)>>,
    next_callback: AtomicU64,
    closed: AtomicBool,
}

impl Hub {
    pub fn new() -> Hub {
        Hub {
            queue: Mutex::new(VecDeque::new()),
            queued: Condvar::new(),
            dropped: AtomicU64::new(0),
            frame_event: AtomicBool::new(false),
            stream_id: AtomicU16::new(NO_CHANNEL),
            callbacks: Mutex::new(Vec::new()),
            next_callback: AtomicU64::new(1),
            closed: AtomicBool::new(false),
        }
    }

    pub fn set_stream_id(&self, id: Option<u8>) {
        self.stream_id.store(id.map_or(NO_CHANNEL, u16::from), Ordering::Release);
    }

    /// Stops calling into Python (before the camera is dropped).
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.queued.notify_all();
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// The client's listener: runs on its event thread, in order.
    pub fn on_event(&self, ev: &ClientEvent) {
        if let ClientEvent::Device { channel, .. } = ev {
            if u16::from(channel.0) == self.stream_id.load(Ordering::Acquire) {
                self.frame_event.store(true, Ordering::Release);
            }
        }
        let py_event = Event::of(ev);
        {
            let mut q = self.queue.lock();
            if q.len() == QUEUE_LIMIT {
                q.pop_front();
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
            q.push_back(py_event.clone());
        }
        self.queued.notify_all();
        self.call_back(py_event);
    }

    fn call_back(&self, ev: Event) {
        if self.is_closed() || self.callbacks.lock().is_empty() {
            return;
        }
        Python::attach(|py| {
            let cbs: Vec<Py<PyAny>> = self.callbacks.lock().iter().map(|(_, cb)| cb.clone_ref(py)).collect();
            for cb in cbs {
                if let Err(e) = Py::new(py, ev.clone()).and_then(|obj| cb.call1(py, (obj,))) {
                    // As Python does for errors in callbacks it cannot raise to anyone.
                    e.write_unraisable(py, Some(cb.bind(py)));
                }
            }
        });
    }

    pub fn subscribe(&self, cb: Py<PyAny>) -> u64 {
        let id = self.next_callback.fetch_add(1, Ordering::Relaxed);
        self.callbacks.lock().push((id, cb));
        id
    }

    pub fn unsubscribe(&self, id: u64) -> bool {
        let mut cbs = self.callbacks.lock();
        let before = cbs.len();
        cbs.retain(|(i, _)| *i != id);
        cbs.len() != before
    }

    /// Drops every callback (with the GIL held: they are Python objects).
    pub fn clear_callbacks(&self) -> Vec<Py<PyAny>> {
        std::mem::take(&mut *self.callbacks.lock()).into_iter().map(|(_, cb)| cb).collect()
    }

    /// The oldest queued event, waiting up to `timeout` (forever with `None`). Call without the GIL.
    pub fn next_event(&self, timeout: Option<Duration>) -> Option<Event> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut q = self.queue.lock();
        loop {
            if let Some(ev) = q.pop_front() {
                return Some(ev);
            }
            if self.is_closed() {
                return None;
            }
            match deadline {
                Some(d) => {
                    if self.queued.wait_until(&mut q, d).timed_out() {
                        return q.pop_front();
                    }
                }
                None => self.queued.wait(&mut q),
            }
        }
    }

    pub fn dropped_events(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    pub fn take_frame_event(&self) -> bool {
        self.frame_event.swap(false, Ordering::AcqRel)
    }

    pub fn peek_frame_event(&self) -> bool {
        self.frame_event.load(Ordering::Acquire)
    }
}
