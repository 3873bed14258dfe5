//! A link the application drives: it gives a write callback, and pushes what it receives
//! through a [`FeedHandle`]. This is how a host runs over pipes Rust cannot open itself
//! (Android's USB host API, iOS accessories) and what the C ABI and UniFFI bindings wrap.
//!
//! The write callback runs on whichever client thread sends, while the client holds its link
//! lock: it must not call back into the client.

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use super::{link_lost, map_write_error, RxHalf, Transport, TxHalf};

/// Sends bytes to the cam; an `Err` fails the request (a `NotConnected` or `BrokenPipe`
/// kind means the link is gone).
pub type WriteFn = Box<dyn FnMut(&[u8]) -> io::Result<()> + Send>;
/// (Re)opens the app's device when the client (re)connects.
pub type OpenFn = Box<dyn FnMut() -> io::Result<()> + Send>;

/// Received bytes queue up here until the reader thread takes them; unbounded, as the app
/// cannot be told to wait.
struct Shared {
    write: Mutex<WriteFn>,
    on_open: Mutex<Option<OpenFn>>,
    state: Mutex<State>,
    cv: Condvar,
}

struct State {
    buf: VecDeque<u8>,
    open: bool,
    /// Bumped by every `open`, so halves of an earlier session stop working.
    generation: u64,
    reason: String,
}

/// The transport side: give it to the client.
#[derive(Clone)]
pub struct CallbackTransport {
    shared: Arc<Shared>,
}

/// The application's side: feed received bytes, report the link closed or back.
#[derive(Clone)]
pub struct FeedHandle {
    shared: Arc<Shared>,
}

impl fmt::Debug for CallbackTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CallbackTransport")
    }
}

impl fmt::Debug for FeedHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FeedHandle").field("open", &self.is_open()).finish()
    }
}

impl CallbackTransport {
    /// A link whose bytes go out through `write`. The link starts open.
    pub fn new(write: WriteFn) -> (CallbackTransport, FeedHandle) {
        Self::build(write, None)
    }

    /// As [`CallbackTransport::new`], with `open` called on every connection and reconnection
    /// (the app reopens its device there; an `Err` fails the connection attempt).
    pub fn with_open(write: WriteFn, open: OpenFn) -> (CallbackTransport, FeedHandle) {
        Self::build(write, Some(open))
    }

    fn build(write: WriteFn, open: Option<OpenFn>) -> (CallbackTransport, FeedHandle) {
        let shared = Arc::new(Shared {
            write: Mutex::new(write),
            on_open: Mutex::new(open),
            state: Mutex::new(State { buf: VecDeque::new(), open: true, generation: 0, reason: String::new() }),
            cv: Condvar::new(),
        });
        (CallbackTransport { shared: shared.clone() }, FeedHandle { shared })
    }
}

impl FeedHandle {
    /// Bytes received from the cam. Returns `false` (and drops them) while the link is closed.
    pub fn feed(&self, bytes: &[u8]) -> bool {
        let mut s = self.shared.state.lock();
        if !s.open {
            return false;
        }
        s.buf.extend(bytes);
        drop(s);
        self.shared.cv.notify_all();
        true
    }

    /// The link is gone (device detached, permission revoked): the client sees a lost link.
    pub fn close(&self, reason: &str) {
        let mut s = self.shared.state.lock();
        s.open = false;
        s.reason = reason.to_owned();
        s.buf.clear();
        drop(s);
        self.shared.cv.notify_all();
    }

    /// The device is back: the next `open` (the client's reconnection) may succeed.
    pub fn reopen(&self) {
        self.shared.state.lock().open = true;
        self.shared.cv.notify_all();
    }

    /// Whether the link is open: true from the start, false after [`FeedHandle::close`] until
    /// [`FeedHandle::reopen`] or a successful open through the open callback.
    pub fn is_open(&self) -> bool {
        self.shared.state.lock().open
    }
}

impl Transport for CallbackTransport {
    fn open(&self) -> io::Result<(Box<dyn RxHalf>, Box<dyn TxHalf>)> {
        let reopened = match self.shared.on_open.lock().as_mut() {
            Some(open) => {
                open()?;
                true
            }
            None => false,
        };
        let mut s = self.shared.state.lock();
        if reopened {
            s.open = true;
        }
        if !s.open {
            return Err(link_lost(format!("callback link closed: {}", s.reason)));
        }
        s.generation += 1;
        s.buf.clear();
        let generation = s.generation;
        drop(s);
        self.shared.cv.notify_all();
        Ok((
            Box::new(CallbackRx { shared: self.shared.clone(), generation }),
            Box::new(CallbackTx { shared: self.shared.clone(), generation }),
        ))
    }

    fn describe(&self) -> String {
        "callback".into()
    }
}

impl Shared {
    fn check(&self, s: &State, generation: u64) -> io::Result<()> {
        if !s.open {
            return Err(link_lost(format!("callback link closed: {}", s.reason)));
        }
        if s.generation != generation {
            return Err(link_lost("callback link reopened"));
        }
        Ok(())
    }
}

struct CallbackRx {
    shared: Arc<Shared>,
    generation: u64,
}

impl RxHalf for CallbackRx {
    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        let deadline = Instant::now() + timeout;
        let mut s = self.shared.state.lock();
        loop {
            self.shared.check(&s, self.generation)?;
            if !s.buf.is_empty() {
                let n = buf.len().min(s.buf.len());
                for (dst, src) in buf.iter_mut().zip(s.buf.drain(..n)) {
                    *dst = src;
                }
                return Ok(n);
            }
            if self.shared.cv.wait_until(&mut s, deadline).timed_out() {
                self.shared.check(&s, self.generation)?;
                if s.buf.is_empty() {
                    return Ok(0);
                }
            }
        }
    }
}

struct CallbackTx {
    shared: Arc<Shared>,
    generation: u64,
}

impl TxHalf for CallbackTx {
    fn send(&mut self, data: &[u8]) -> io::Result<()> {
        self.shared.check(&self.shared.state.lock(), self.generation)?;
        let mut write = self.shared.write.lock();
        (write)(data).map_err(|e| map_write_error(e, "callback write"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::is_link_lost;

    #[test]
    fn write_goes_out_feed_comes_in_close_ends() {
        let sent = Arc::new(Mutex::new(Vec::new()));
        let s2 = sent.clone();
        let (t, h) = CallbackTransport::new(Box::new(move |b| {
            s2.lock().extend_from_slice(b);
            Ok(())
        }));
        let (mut rx, mut tx) = t.open().unwrap();
        tx.send(b"abc").unwrap();
        assert_eq!(&*sent.lock(), b"abc");
        assert!(h.feed(b"xyz"));
        let mut buf = [0u8; 8];
        assert_eq!(rx.recv(&mut buf, Duration::from_millis(50)).unwrap(), 3);
        assert_eq!(rx.recv(&mut buf, Duration::from_millis(5)).unwrap(), 0);
        h.close("unplugged");
        let e = rx.recv(&mut buf, Duration::from_millis(50)).unwrap_err();
        assert!(is_link_lost(&e));
        assert!(tx.send(b"x").is_err());
        assert!(!h.feed(b"dropped"));
        assert!(t.open().is_err());
        h.reopen();
        let (mut rx2, _tx2) = t.open().unwrap();
        // The old session's halves are dead, the new one works.
        assert!(rx.recv(&mut buf, Duration::from_millis(5)).is_err());
        assert!(h.feed(b"1"));
        assert_eq!(rx2.recv(&mut buf, Duration::from_millis(50)).unwrap(), 1);
    }

    #[test]
    fn open_callback_reopens() {
        let (t, h) = CallbackTransport::with_open(Box::new(|_| Ok(())), Box::new(|| Ok(())));
        h.close("gone");
        assert!(t.open().is_ok());
        assert!(h.is_open());
    }
}
