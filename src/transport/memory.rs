//! In-process links: [`pair`] gives two connected ends (a host on one, the device engine on
//! the other, as tests and the virtual cam do); [`dialer`] gives a transport that makes a
//! fresh pair on every `open`, handing the far end to an acceptor, so reconnection can be
//! exercised without hardware.

use std::collections::VecDeque;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use super::{link_lost, RxHalf, Transport, TxHalf};

/// One direction of a pair: bytes in flight and whether either side has gone.
#[derive(Debug, Default)]
struct Pipe {
    state: Mutex<PipeState>,
    cv: Condvar,
}

#[derive(Debug, Default)]
struct PipeState {
    buf: VecDeque<u8>,
    closed: bool,
}

impl Pipe {
    fn close(&self) {
        self.state.lock().closed = true;
        self.cv.notify_all();
    }

    fn write(&self, data: &[u8]) -> io::Result<()> {
        let mut s = self.state.lock();
        if s.closed {
            return Err(link_lost("memory pipe closed"));
        }
        s.buf.extend(data);
        drop(s);
        self.cv.notify_all();
        Ok(())
    }

    /// Bytes already sent are still delivered after the writer closed; then EOF.
    fn read(&self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        let deadline = Instant::now() + timeout;
        let mut s = self.state.lock();
        loop {
            if !s.buf.is_empty() {
                let n = buf.len().min(s.buf.len());
                for (dst, src) in buf.iter_mut().zip(s.buf.drain(..n)) {
                    *dst = src;
                }
                return Ok(n);
            }
            if s.closed {
                return Err(link_lost("memory pipe closed"));
            }
            if self.cv.wait_until(&mut s, deadline).timed_out() && s.buf.is_empty() && !s.closed {
                return Ok(0);
            }
        }
    }
}

/// Both directions of one connection, seen from one end.
#[derive(Debug, Clone)]
struct Link {
    incoming: Arc<Pipe>,
    outgoing: Arc<Pipe>,
}

impl Link {
    fn close(&self) {
        self.incoming.close();
        self.outgoing.close();
    }
}

/// One end of an in-memory connection. It is a [`Transport`] that opens once: after either
/// end closed, `open` fails, as a cable pulled out stays out.
#[derive(Debug, Clone)]
pub struct MemoryEnd {
    link: Link,
    name: String,
}

/// Two connected ends: what one writes, the other reads.
pub fn pair() -> (MemoryEnd, MemoryEnd) {
    let a = Arc::new(Pipe::default());
    let b = Arc::new(Pipe::default());
    (
        MemoryEnd { link: Link { incoming: a.clone(), outgoing: b.clone() }, name: "memory:a".into() },
        MemoryEnd { link: Link { incoming: b, outgoing: a }, name: "memory:b".into() },
    )
}

impl MemoryEnd {
    /// The two halves of this end, for code that drives it directly (a device loop).
    pub fn split(&self) -> (MemoryRx, MemoryTx) {
        (MemoryRx { link: self.link.clone() }, MemoryTx { link: self.link.clone() })
    }

    /// Closes both directions: the peer's reads end with [`super::LinkLost`] once drained.
    pub fn close(&self) {
        self.link.close();
    }

    /// Whether the connection is closed, by either end or by a dropped half; then `open` fails.
    pub fn is_closed(&self) -> bool {
        self.link.incoming.state.lock().closed || self.link.outgoing.state.lock().closed
    }
}

impl Transport for MemoryEnd {
    fn open(&self) -> io::Result<(Box<dyn RxHalf>, Box<dyn TxHalf>)> {
        if self.is_closed() {
            return Err(link_lost("memory pair closed"));
        }
        let (rx, tx) = self.split();
        Ok((Box::new(rx), Box::new(tx)))
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}

/// Receive half of a [`MemoryEnd`]. Dropping it closes the connection.
#[derive(Debug)]
pub struct MemoryRx {
    link: Link,
}

impl MemoryRx {
    /// Closes the connection from this side.
    pub fn close(&self) {
        self.link.close();
    }
}

impl RxHalf for MemoryRx {
    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        self.link.incoming.read(buf, timeout)
    }
}

impl Drop for MemoryRx {
    fn drop(&mut self) {
        self.link.close();
    }
}

/// Send half of a [`MemoryEnd`]. Dropping it closes the connection.
#[derive(Debug)]
pub struct MemoryTx {
    link: Link,
}

impl TxHalf for MemoryTx {
    fn send(&mut self, data: &[u8]) -> io::Result<()> {
        self.link.outgoing.write(data)
    }
}

impl Drop for MemoryTx {
    fn drop(&mut self) {
        self.link.close();
    }
}

/// A transport whose every `open` creates a new [`pair`] and hands the far end to the
/// [`MemoryAcceptor`], like a cam that comes back after a reset.
#[derive(Debug)]
pub struct MemoryDialer {
    accept: Mutex<mpsc::Sender<MemoryEnd>>,
    opened: Arc<AtomicUsize>,
}

/// Where a [`MemoryDialer`]'s connections arrive.
#[derive(Debug)]
pub struct MemoryAcceptor {
    incoming: mpsc::Receiver<MemoryEnd>,
    opened: Arc<AtomicUsize>,
}

/// A reopenable in-memory transport and the acceptor that gets the far end of each connection.
pub fn dialer() -> (MemoryDialer, MemoryAcceptor) {
    let (tx, rx) = mpsc::channel();
    let opened = Arc::new(AtomicUsize::new(0));
    (MemoryDialer { accept: Mutex::new(tx), opened: opened.clone() }, MemoryAcceptor { incoming: rx, opened })
}

impl Transport for MemoryDialer {
    fn open(&self) -> io::Result<(Box<dyn RxHalf>, Box<dyn TxHalf>)> {
        let (near, far) = pair();
        self.accept.lock().send(far).map_err(|_| io::Error::new(io::ErrorKind::ConnectionRefused, "no acceptor"))?;
        self.opened.fetch_add(1, Ordering::Relaxed);
        near.open()
    }

    fn describe(&self) -> String {
        "memory:dialer".into()
    }
}

impl MemoryAcceptor {
    /// The far end of the next connection, waiting at most `timeout`.
    pub fn accept(&self, timeout: Duration) -> Option<MemoryEnd> {
        self.incoming.recv_timeout(timeout).ok()
    }

    /// How many connections the dialer opened so far.
    pub fn opened(&self) -> usize {
        self.opened.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::is_link_lost;

    #[test]
    fn bytes_cross_and_close_ends_the_stream() {
        let (a, b) = pair();
        let (mut arx, mut atx) = a.open().unwrap();
        let (mut brx, mut btx) = b.open().unwrap();
        atx.send(b"hello").unwrap();
        btx.send(b"yo").unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(brx.recv(&mut buf, Duration::from_millis(100)).unwrap(), 5);
        assert_eq!(&buf[..5], b"hello");
        assert_eq!(arx.recv(&mut buf, Duration::from_millis(100)).unwrap(), 2);
        assert_eq!(arx.recv(&mut buf, Duration::from_millis(10)).unwrap(), 0);
        atx.send(b"last").unwrap();
        drop(atx);
        assert_eq!(brx.recv(&mut buf, Duration::from_millis(10)).unwrap(), 4);
        let e = brx.recv(&mut buf, Duration::from_millis(10)).unwrap_err();
        assert!(is_link_lost(&e));
        assert!(btx.send(b"x").is_err());
        assert!(b.open().is_err());
    }

    #[test]
    fn recv_wakes_on_write() {
        let (a, b) = pair();
        let (mut brx, _btx) = b.split();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            let (_r, mut w) = a.split();
            w.send(b"x").unwrap();
        });
        let start = Instant::now();
        let mut buf = [0u8; 4];
        assert_eq!(brx.recv(&mut buf, Duration::from_secs(2)).unwrap(), 1);
        assert!(start.elapsed() < Duration::from_secs(1));
        t.join().unwrap();
    }

    #[test]
    fn dialer_makes_a_new_pair_per_open() {
        let (d, acc) = dialer();
        let (_r1, mut t1) = d.open().unwrap();
        let far1 = acc.accept(Duration::from_millis(100)).unwrap();
        t1.send(b"1").unwrap();
        let (mut r, _w) = far1.split();
        let mut buf = [0u8; 4];
        assert_eq!(r.recv(&mut buf, Duration::from_millis(100)).unwrap(), 1);
        let _second = d.open().unwrap();
        assert!(acc.accept(Duration::from_millis(100)).is_some());
        assert_eq!(acc.opened(), 2);
    }
}
