//! [`RxHalf`] / [`TxHalf`] over a connected socket stream: a TCP connection (either end) or a
//! Unix stream. Used by [`super::TcpTransport`] and by the virtual cam's servers.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use super::{link_lost, map_read_error, map_write_error, RxHalf, TxHalf};

/// Shortest read timeout set on a socket (zero is not allowed there); short, because the
/// virtual cam's serve loop polls with sub-millisecond waits.
const MIN_TIMEOUT: Duration = Duration::from_micros(100);

/// A connected socket the halves can be made of.
pub trait SocketStream: Read + Write + Send + Sized + 'static {
    /// A second handle to the same socket (the send half's).
    fn try_clone_stream(&self) -> io::Result<Self>;
    /// Sets how long a read waits; `None` waits for ever.
    fn set_read_timeout_to(&self, timeout: Option<Duration>) -> io::Result<()>;
    /// Shuts both directions down so the peer sees the end; errors are ignored.
    fn shutdown_both(&self);
}

impl SocketStream for TcpStream {
    fn try_clone_stream(&self) -> io::Result<Self> {
        self.try_clone()
    }
    fn set_read_timeout_to(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.set_read_timeout(timeout)
    }
    fn shutdown_both(&self) {
        let _ = self.shutdown(Shutdown::Both);
    }
}

#[cfg(unix)]
impl SocketStream for std::os::unix::net::UnixStream {
    fn try_clone_stream(&self) -> io::Result<Self> {
        self.try_clone()
    }
    fn set_read_timeout_to(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.set_read_timeout(timeout)
    }
    fn shutdown_both(&self) {
        let _ = self.shutdown(Shutdown::Both);
    }
}

/// The receive half of a stream.
#[derive(Debug)]
pub struct StreamRx<S> {
    stream: S,
    timeout: Option<Duration>,
    name: String,
}

/// The send half of a stream; dropping it shuts the socket down so the peer sees the end.
#[derive(Debug)]
pub struct StreamTx<S: SocketStream> {
    stream: S,
    name: String,
}

/// Splits a connected stream into its two halves (a cloned handle each); `name` is for errors.
pub fn split<S: SocketStream>(stream: S, name: impl Into<String>) -> io::Result<(StreamRx<S>, StreamTx<S>)> {
    let name = name.into();
    let tx = stream.try_clone_stream()?;
    Ok((StreamRx { stream, timeout: None, name: name.clone() }, StreamTx { stream: tx, name }))
}

/// [`split`], boxed as transports and the virtual cam take the halves.
pub fn split_boxed<S: SocketStream>(
    stream: S,
    name: impl Into<String>,
) -> io::Result<(Box<dyn RxHalf>, Box<dyn TxHalf>)> {
    let (rx, tx) = split(stream, name)?;
    Ok((Box::new(rx), Box::new(tx)))
}

impl<S: SocketStream> RxHalf for StreamRx<S> {
    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        let t = timeout.max(MIN_TIMEOUT);
        if self.timeout != Some(t) {
            self.stream.set_read_timeout_to(Some(t))?;
            self.timeout = Some(t);
        }
        match self.stream.read(buf) {
            Ok(0) if !buf.is_empty() => Err(link_lost(format!("{}: closed by peer", self.name))),
            Ok(n) => Ok(n),
            Err(e) => map_read_error(e, &self.name),
        }
    }
}

impl<S: SocketStream> TxHalf for StreamTx<S> {
    fn send(&mut self, data: &[u8]) -> io::Result<()> {
        self.stream.write_all(data).and_then(|()| self.stream.flush()).map_err(|e| map_write_error(e, &self.name))
    }
}

impl<S: SocketStream> Drop for StreamTx<S> {
    fn drop(&mut self) {
        self.stream.shutdown_both();
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::transport::is_link_lost;
    use std::os::unix::net::UnixStream;

    #[test]
    fn moves_bytes_and_reports_close() {
        let (a, b) = UnixStream::pair().unwrap();
        let (mut rx, _tx) = split(a, "a").unwrap();
        let (_rx_b, mut tx_b) = split(b, "b").unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(rx.recv(&mut buf, Duration::ZERO).unwrap(), 0);
        assert_eq!(rx.recv(&mut buf, Duration::from_millis(5)).unwrap(), 0);
        tx_b.send(b"hello").unwrap();
        assert_eq!(rx.recv(&mut buf, Duration::from_secs(1)).unwrap(), 5);
        assert_eq!(&buf[..5], b"hello");
        drop((_rx_b, tx_b));
        let e = rx.recv(&mut buf, Duration::from_secs(1)).unwrap_err();
        assert!(is_link_lost(&e), "{e}");
    }
}
