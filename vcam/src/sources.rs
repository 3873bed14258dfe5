//! Where the serve loop's hosts come from: one given link, a TCP listener (one host at a time),
//! or a pty (always the same link; hosts come and go on the other side).

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use log::warn;

#[cfg(unix)]
use super::pty::Pty;
use openmvproto::transport::split_boxed;
use openmvproto::transport::{RxHalf, TxHalf};

/// A host's link: the two halves and a name for logs.
pub struct Link {
    /// Bytes from the host.
    pub rx: Box<dyn RxHalf>,
    /// Bytes to the host.
    pub tx: Box<dyn TxHalf>,
    /// The host's name in logs, e.g. `tcp:127.0.0.1:50312` or the pty slave's path.
    pub peer: String,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link").field("peer", &self.peer).finish_non_exhaustive()
    }
}

/// What [`LinkSource::accept`] found.
#[derive(Debug)]
pub enum Accept {
    /// A host to serve until its link closes.
    Link(Link),
    /// No host yet.
    Pending,
    /// No host will come any more: the serve loop ends.
    Done,
}

/// Gives the serve loop its hosts, one at a time.
pub trait LinkSource: Send {
    /// Waits at most `timeout` for the next host.
    fn accept(&mut self, timeout: Duration) -> io::Result<Accept>;
}

/// One link, served once.
#[derive(Debug)]
pub struct OnceLink(Option<Link>);

impl OnceLink {
    /// Gives `rx` / `tx` (named `peer` in logs) once; after that the source is done.
    pub fn new(rx: Box<dyn RxHalf>, tx: Box<dyn TxHalf>, peer: impl Into<String>) -> Self {
        OnceLink(Some(Link { rx, tx, peer: peer.into() }))
    }
}

impl LinkSource for OnceLink {
    fn accept(&mut self, _timeout: Duration) -> io::Result<Accept> {
        Ok(self.0.take().map_or(Accept::Done, Accept::Link))
    }
}

/// TCP: hosts connect one after the other.
#[derive(Debug)]
pub struct TcpLinks {
    listener: TcpListener,
}

impl TcpLinks {
    /// Accepts hosts on a bound `listener`, which it makes non-blocking; `Err` if that fails.
    pub fn new(listener: TcpListener) -> io::Result<Self> {
        listener.set_nonblocking(true)?;
        Ok(TcpLinks { listener })
    }

    /// The address the listener is bound to (with the port picked for port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }
}

impl LinkSource for TcpLinks {
    fn accept(&mut self, timeout: Duration) -> io::Result<Accept> {
        match self.listener.accept() {
            Ok((stream, peer)) => {
                stream.set_nonblocking(false)?;
                // Small packets answered one by one: never let Nagle hold them back.
                stream.set_nodelay(true)?;
                let peer = format!("tcp:{peer}");
                let (rx, tx) = split_boxed(stream, peer.clone())?;
                Ok(Accept::Link(Link { rx, tx, peer }))
            }
            Err(e) => {
                if !matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) {
                    // E.g. out of descriptors, or a connection reset before accept: keep serving.
                    warn!("accept: {e}");
                }
                std::thread::sleep(timeout);
                Ok(Accept::Pending)
            }
        }
    }
}

/// A pty: its master is the one link; hosts open and close the slave as they like.
#[cfg(unix)]
#[derive(Debug)]
pub struct PtyLinks {
    pty: Pty,
    given: bool,
}

#[cfg(unix)]
impl PtyLinks {
    /// Gives the master of `pty` as the link; again, after 100 ms, whenever the serve loop
    /// drops it.
    pub fn new(pty: Pty) -> Self {
        PtyLinks { pty, given: false }
    }
}

#[cfg(unix)]
impl LinkSource for PtyLinks {
    fn accept(&mut self, _timeout: Duration) -> io::Result<Accept> {
        if self.given {
            // The master failed in a way the halves did not absorb: do not spin on it.
            log::debug!("pty: serving the master again");
            std::thread::sleep(Duration::from_millis(100));
        }
        self.given = true;
        let (rx, tx) = self.pty.halves();
        Ok(Accept::Link(Link { rx: Box::new(rx), tx: Box::new(tx), peer: self.pty.slave_path().display().to_string() }))
    }
}
