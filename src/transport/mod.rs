//! Layer 1 for std hosts: byte pipes. Every transport splits into a receive half, owned by the
//! client's reader thread, and a send half, shared by the threads that issue requests.
//!
//! - [`serial`]: USB CDC and UART ports (the `serialport` crate), [`discover()`]ing cams by USB
//!   vendor id and opening them by path or serial number;
//! - [`tcp`] and [`udp`]: network cams;
//! - [`memory`]: in-process pipes for tests and the virtual cam;
//! - [`callback`]: a pipe the application drives (Android USB host, iOS accessories, C and
//!   UniFFI bindings).
//!
//! Every transport reports a gone link (EOF, unplug, reset peer) as an `io::Error` wrapping
//! [`LinkLost`], so the client can tell "the cable is gone" from other I/O trouble.

use std::io;
use std::time::Duration;

pub mod callback;
pub mod discover;
pub mod memory;
pub mod serial;
pub mod stream;
pub mod tcp;
pub mod udp;

pub use callback::{CallbackTransport, FeedHandle, OpenFn, WriteFn};
pub use discover::{discover, find_by_serial_number, CamPort, CAM_VENDOR_IDS};
pub use memory::{dialer, pair, MemoryAcceptor, MemoryDialer, MemoryEnd, MemoryRx, MemoryTx};
pub use serial::{SerialTransport, DEFAULT_BAUD};
pub use stream::{split_boxed, SocketStream, StreamRx, StreamTx};
pub use tcp::TcpTransport;
pub use udp::UdpTransport;

/// The receive half of a link.
pub trait RxHalf: Send {
    /// Reads what is available into `buf`, waiting at most `timeout`. `Ok(0)` means nothing
    /// arrived in time; a closed or unplugged link is an error carrying [`LinkLost`].
    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize>;
}

/// The send half of a link.
pub trait TxHalf: Send {
    /// Writes all of `data`. A gone link is an error carrying [`LinkLost`].
    fn send(&mut self, data: &[u8]) -> io::Result<()>;
}

/// Something that can (re)open a link: serial port, TCP, UDP, memory, app callbacks.
pub trait Transport: Send + Sync {
    /// Opens the link, giving its two halves. Called again on every reconnection.
    fn open(&self) -> io::Result<(Box<dyn RxHalf>, Box<dyn TxHalf>)>;
    /// A name for logs ("/dev/ttyACM0", "tcp:127.0.0.1:5000").
    fn describe(&self) -> String;
}

impl<T: Transport + ?Sized> Transport for Box<T> {
    fn open(&self) -> io::Result<(Box<dyn RxHalf>, Box<dyn TxHalf>)> {
        (**self).open()
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
}

impl<T: Transport + ?Sized> Transport for std::sync::Arc<T> {
    fn open(&self) -> io::Result<(Box<dyn RxHalf>, Box<dyn TxHalf>)> {
        (**self).open()
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
}

/// The link is gone: end of stream, device unplugged, peer reset. Carried inside an
/// `io::Error` of kind `NotConnected`; test with [`is_link_lost`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("link lost: {reason}")]
pub struct LinkLost {
    /// What ended the link, as text for messages ("tcp:10.0.0.5:5000: closed by peer").
    pub reason: String,
}

/// An `io::Error` that says the link is gone.
pub fn link_lost(reason: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, LinkLost { reason: reason.into() })
}

/// Whether `e` means the link is gone (a [`LinkLost`], or an error kind only a dead link gives).
pub fn is_link_lost(e: &io::Error) -> bool {
    if e.get_ref().is_some_and(|inner| inner.is::<LinkLost>()) {
        return true;
    }
    matches!(
        e.kind(),
        io::ErrorKind::NotConnected
            | io::ErrorKind::UnexpectedEof
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::NotFound
    )
}

/// Maps a stream read's error: timeouts and interrupts are "nothing yet" (`Ok(0)`), a dead
/// link becomes [`LinkLost`], anything else stays as it is.
pub(crate) fn map_read_error(e: io::Error, what: &str) -> io::Result<usize> {
    match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(0),
        _ if is_link_lost(&e) => Err(link_lost(format!("{what}: {e}"))),
        _ => Err(e),
    }
}

/// Maps a write's error: a dead link becomes [`LinkLost`].
pub(crate) fn map_write_error(e: io::Error, what: &str) -> io::Error {
    if is_link_lost(&e) {
        link_lost(format!("{what}: {e}"))
    } else {
        e
    }
}

/// Socket timeouts must be non-zero; a zero wait becomes the shortest one.
pub(crate) fn nonzero(timeout: Duration) -> Duration {
    timeout.max(Duration::from_millis(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_lost_is_recognised() {
        let e = link_lost("gone");
        assert!(is_link_lost(&e));
        assert!(e.to_string().contains("gone"));
        assert!(!is_link_lost(&io::Error::new(io::ErrorKind::InvalidData, "x")));
        assert!(is_link_lost(&io::Error::from(io::ErrorKind::UnexpectedEof)));
    }

    #[test]
    fn timeouts_read_as_nothing() {
        assert_eq!(map_read_error(io::ErrorKind::TimedOut.into(), "t").unwrap(), 0);
        assert_eq!(map_read_error(io::ErrorKind::WouldBlock.into(), "t").unwrap(), 0);
        let e = map_read_error(io::ErrorKind::BrokenPipe.into(), "t").unwrap_err();
        assert!(e.get_ref().unwrap().is::<LinkLost>());
    }
}
