//! UDP links to network cams: every write is one datagram, every read gives one datagram's
//! bytes. The protocol's own framing and retries make up for lost or reordered datagrams.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::time::Duration;

use super::{link_lost, map_read_error, nonzero, RxHalf, Transport, TxHalf};

/// Largest UDP payload over IPv4; longer writes are split.
pub const MAX_DATAGRAM: usize = 65_507;

/// A connected UDP socket as a [`Transport`].
#[derive(Clone, Debug)]
pub struct UdpTransport {
    remote: String,
    local: Option<String>,
}

impl UdpTransport {
    /// The cam at `remote` ("host:port"), from an ephemeral local port.
    pub fn new(remote: impl Into<String>) -> Self {
        UdpTransport { remote: remote.into(), local: None }
    }

    /// Binds the local side to `local` ("0.0.0.0:5001") instead of an ephemeral port.
    pub fn bind(mut self, local: impl Into<String>) -> Self {
        self.local = Some(local.into());
        self
    }

    fn socket(&self) -> io::Result<UdpSocket> {
        let remote: SocketAddr = self
            .remote
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("{}: no address", self.remote)))?;
        let local = match &self.local {
            Some(l) => l.clone(),
            None if remote.is_ipv4() => "0.0.0.0:0".into(),
            None => "[::]:0".into(),
        };
        let s = UdpSocket::bind(local.as_str())?;
        // Connected: only the cam's datagrams are read, and an ICMP refusal is reported.
        s.connect(remote)?;
        Ok(s)
    }
}

impl Transport for UdpTransport {
    fn open(&self) -> io::Result<(Box<dyn RxHalf>, Box<dyn TxHalf>)> {
        let s = self.socket()?;
        let rx = s.try_clone()?;
        let name = self.describe();
        Ok((Box::new(UdpRx { sock: rx, timeout: None, name: name.clone() }), Box::new(UdpTx { sock: s, name })))
    }

    fn describe(&self) -> String {
        format!("udp:{}", self.remote)
    }
}

/// A refused datagram means nothing listens at the cam's port any more (reset, power off).
fn map_udp_error(e: io::Error, name: &str) -> io::Error {
    if e.kind() == io::ErrorKind::ConnectionRefused {
        link_lost(format!("{name}: {e}"))
    } else {
        e
    }
}

struct UdpRx {
    sock: UdpSocket,
    timeout: Option<Duration>,
    name: String,
}

impl RxHalf for UdpRx {
    /// One datagram; give a buffer of at least [`MAX_DATAGRAM`] bytes or its tail is lost.
    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        let timeout = nonzero(timeout);
        if self.timeout != Some(timeout) {
            self.sock.set_read_timeout(Some(timeout))?;
            self.timeout = Some(timeout);
        }
        match self.sock.recv(buf) {
            Ok(n) => Ok(n),
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => Err(map_udp_error(e, &self.name)),
            Err(e) => map_read_error(e, &self.name),
        }
    }
}

struct UdpTx {
    sock: UdpSocket,
    name: String,
}

impl TxHalf for UdpTx {
    fn send(&mut self, data: &[u8]) -> io::Result<()> {
        for chunk in data.chunks(MAX_DATAGRAM) {
            self.sock.send(chunk).map_err(|e| map_udp_error(e, &self.name))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_datagram_per_write() {
        let cam = UdpSocket::bind("127.0.0.1:0").unwrap();
        cam.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
        let t = UdpTransport::new(cam.local_addr().unwrap().to_string());
        let (mut rx, mut tx) = t.open().unwrap();
        tx.send(b"one").unwrap();
        tx.send(b"two").unwrap();
        let mut buf = [0u8; 64];
        let (n, from) = cam.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"one");
        let (n, _) = cam.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"two");
        cam.send_to(b"answer", from).unwrap();
        let mut big = vec![0u8; MAX_DATAGRAM];
        let n = rx.recv(&mut big, Duration::from_millis(500)).unwrap();
        assert_eq!(&big[..n], b"answer");
        assert_eq!(rx.recv(&mut big, Duration::from_millis(5)).unwrap(), 0);
    }
}
