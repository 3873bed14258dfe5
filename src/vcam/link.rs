//! [`RxHalf`] / [`TxHalf`] over a connected byte stream (a TCP connection the cam accepted, one
//! end of a `UnixStream::pair()`), so the serve loop can take either.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::transport::{RxHalf, TxHalf};

/// Shortest read timeout set on a socket: a zero timeout is not allowed there.
const MIN_TIMEOUT: Duration = Duration::from_micros(100);

/// A socket-like stream the halves can be made of.
pub trait SocketStream: Read + Write + Send + Sized + 'static {
    fn try_clone_stream(&self) -> io::Result<Self>;
    fn set_read_timeout_to(&self, timeout: Option<Duration>) -> io::Result<()>;
}

impl SocketStream for TcpStream {
    fn try_clone_stream(&self) -> io::Result<Self> {
        self.try_clone()
    }
    fn set_read_timeout_to(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.set_read_timeout(timeout)
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
}

/// The receive half of a stream.
#[derive(Debug)]
pub struct StreamRx<S> {
    stream: S,
    timeout: Option<Duration>,
}

/// The send half of a stream.
#[derive(Debug)]
pub struct StreamTx<S> {
    stream: S,
}

/// Splits a connected stream into its two halves (a cloned handle each).
pub fn split<S: SocketStream>(stream: S) -> io::Result<(StreamRx<S>, StreamTx<S>)> {
    let tx = stream.try_clone_stream()?;
    Ok((StreamRx { stream, timeout: None }, StreamTx { stream: tx }))
}

/// Splits a stream into boxed halves, as the serve loop takes them.
pub fn split_boxed<S: SocketStream>(stream: S) -> io::Result<(Box<dyn RxHalf>, Box<dyn TxHalf>)> {
    let (rx, tx) = split(stream)?;
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
            Ok(0) if !buf.is_empty() => Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the peer closed the link")),
            Ok(n) => Ok(n),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
                ) =>
            {
                Ok(0)
            }
            Err(e) => Err(e),
        }
    }
}

impl<S: SocketStream> TxHalf for StreamTx<S> {
    fn send(&mut self, data: &[u8]) -> io::Result<()> {
        self.stream.write_all(data)?;
        self.stream.flush()
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::net::UnixStream;

    #[test]
    fn moves_bytes_and_reports_close() {
        let (a, b) = UnixStream::pair().unwrap();
        let (mut rx, _tx) = split(a).unwrap();
        let (_rx_b, mut tx_b) = split(b).unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(rx.recv(&mut buf, Duration::ZERO).unwrap(), 0);
        assert_eq!(rx.recv(&mut buf, Duration::from_millis(5)).unwrap(), 0);
        tx_b.send(b"hello").unwrap();
        assert_eq!(rx.recv(&mut buf, Duration::from_secs(1)).unwrap(), 5);
        assert_eq!(&buf[..5], b"hello");
        drop((_rx_b, tx_b));
        let e = rx.recv(&mut buf, Duration::from_secs(1)).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
    }
}
