//! TCP links to network cams (WiFi / Ethernet boards): a byte stream like serial.

use std::io;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use super::{nonzero, split_boxed, RxHalf, Transport, TxHalf};

/// A TCP connection as a [`Transport`]; the address is resolved again on every open.
#[derive(Clone, Debug)]
pub struct TcpTransport {
    addr: String,
    connect_timeout: Duration,
    write_timeout: Duration,
}

impl TcpTransport {
    /// `addr` as "host:port".
    pub fn new(addr: impl Into<String>) -> Self {
        TcpTransport {
            addr: addr.into(),
            connect_timeout: Duration::from_secs(3),
            write_timeout: Duration::from_secs(2),
        }
    }

    /// How long opening may wait for the connection, per resolved address; 0 counts as 1 ms.
    /// Default 3 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long a write may block on a peer that does not read before it fails.
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        self.write_timeout = timeout;
        self
    }

    fn connect(&self) -> io::Result<TcpStream> {
        let addrs: Vec<SocketAddr> = self.addr.to_socket_addrs()?.collect();
        let mut last = io::Error::new(io::ErrorKind::NotFound, format!("{}: no address", self.addr));
        for a in addrs {
            match TcpStream::connect_timeout(&a, nonzero(self.connect_timeout)) {
                Ok(s) => return Ok(s),
                Err(e) => last = e,
            }
        }
        Err(last)
    }
}

impl Transport for TcpTransport {
    fn open(&self) -> io::Result<(Box<dyn RxHalf>, Box<dyn TxHalf>)> {
        let stream = self.connect()?;
        // Requests are small and latency-bound.
        stream.set_nodelay(true)?;
        stream.set_write_timeout(Some(nonzero(self.write_timeout)))?;
        split_boxed(stream, self.describe())
    }

    fn describe(&self) -> String {
        format!("tcp:{}", self.addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::is_link_lost;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    #[test]
    fn round_trip_and_peer_close() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let t = TcpTransport::new(addr.to_string());
        let (mut rx, mut tx) = t.open().unwrap();
        let (mut peer, _) = l.accept().unwrap();
        tx.send(b"ping").unwrap();
        let mut buf = [0u8; 8];
        peer.read_exact(&mut buf[..4]).unwrap();
        assert_eq!(&buf[..4], b"ping");
        assert_eq!(rx.recv(&mut buf, Duration::from_millis(10)).unwrap(), 0);
        peer.write_all(b"pong").unwrap();
        let mut got = 0;
        while got < 4 {
            got += rx.recv(&mut buf[got..], Duration::from_millis(200)).unwrap();
        }
        assert_eq!(&buf[..4], b"pong");
        drop(peer);
        let e = rx.recv(&mut buf, Duration::from_millis(200)).unwrap_err();
        assert!(is_link_lost(&e));
        assert!(t.describe().starts_with("tcp:127.0.0.1:"));
    }

    #[test]
    fn refused_connection_fails_to_open() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        drop(l);
        assert!(TcpTransport::new(addr.to_string()).connect_timeout(Duration::from_millis(200)).open().is_err());
    }
}
