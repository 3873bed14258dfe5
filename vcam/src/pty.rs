//! A pseudo-terminal for the virtual cam: the cam serves the master side, a host opens the
//! slave path (or a symbolic link to it) as if it were the cam's USB serial port.
//!
//! - The slave is put in raw mode at once: before a host opens it, the line discipline would
//!   otherwise echo the cam's own output back into its input and mangle CR/LF.
//! - The cam keeps a slave descriptor open itself, so the master never sees EOF / EIO when a host
//!   closes the port; another host can open it later.
//! - The master is non-blocking. With no host reading, the pty's buffer fills up: a write then
//!   waits a little (at most [`WRITE_STALL`]) and drops what does not fit, as a USB cam's output
//!   goes nowhere with no host attached. Once a write has stalled, later writes wait only
//!   [`WRITE_STALL_AGAIN`] until one goes through whole again.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use log::{debug, info, warn};

use openmvproto::transport::{RxHalf, TxHalf};

/// How long a write waits for room before it drops the rest of its bytes.
pub const WRITE_STALL: Duration = Duration::from_millis(250);
/// The same, once a write has stalled (nobody reads), until one goes through whole again.
pub const WRITE_STALL_AGAIN: Duration = Duration::from_millis(20);

/// An open pseudo-terminal pair.
#[derive(Debug)]
pub struct Pty {
    master: Arc<File>,
    /// Kept open so the master never sees a hangup.
    _slave: OwnedFd,
    slave_path: PathBuf,
}

fn check(ret: libc::c_int, what: &str) -> io::Result<libc::c_int> {
    if ret < 0 {
        let e = io::Error::last_os_error();
        Err(io::Error::new(e.kind(), format!("{what}: {e}")))
    } else {
        Ok(ret)
    }
}

fn set_cloexec(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl(F_GETFD / F_SETFD) on a descriptor we own; only integers are passed.
    let flags = check(unsafe { libc::fcntl(fd, libc::F_GETFD) }, "fcntl(F_GETFD)")?;
    // SAFETY: as above.
    check(unsafe { libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC) }, "fcntl(F_SETFD)")?;
    Ok(())
}

fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl(F_GETFL / F_SETFL) on a descriptor we own; only integers are passed.
    let flags = check(unsafe { libc::fcntl(fd, libc::F_GETFL) }, "fcntl(F_GETFL)")?;
    // SAFETY: as above.
    check(unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) }, "fcntl(F_SETFL)")?;
    Ok(())
}

fn make_raw(fd: RawFd) -> io::Result<()> {
    // SAFETY: termios is a plain C struct of integers and arrays; all zeroes is a valid value,
    // and tcgetattr overwrites it before use.
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: `fd` is an open terminal descriptor we own and `t` is a valid, writable termios.
    check(unsafe { libc::tcgetattr(fd, &mut t) }, "tcgetattr")?;
    // SAFETY: `t` is a valid termios obtained from tcgetattr; cfmakeraw only edits its fields.
    unsafe { libc::cfmakeraw(&mut t) };
    // SAFETY: `fd` is an open terminal descriptor, `t` a valid termios read above.
    check(unsafe { libc::tcsetattr(fd, libc::TCSANOW, &t) }, "tcsetattr")?;
    Ok(())
}

fn tty_name(fd: RawFd) -> io::Result<PathBuf> {
    let mut buf = [0u8; 256];
    // SAFETY: `buf` is writable for `buf.len()` bytes; ttyname_r writes at most that many,
    // NUL terminator included, and fails with ERANGE otherwise.
    let r = unsafe { libc::ttyname_r(fd, buf.as_mut_ptr().cast(), buf.len()) };
    if r != 0 {
        let e = io::Error::from_raw_os_error(r);
        return Err(io::Error::new(e.kind(), format!("ttyname_r: {e}")));
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let name = std::str::from_utf8(&buf[..end])
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "pty name is not UTF-8"))?;
    Ok(PathBuf::from(name))
}

/// Waits up to `timeout` for `events` on `fd`; returns the events seen (0 on timeout).
fn poll_fd(fd: RawFd, events: libc::c_short, timeout: Duration) -> io::Result<libc::c_short> {
    let mut p = libc::pollfd { fd, events, revents: 0 };
    // Round up, so a short wait is not a busy spin.
    let ms = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int;
    // SAFETY: `p` is one valid pollfd and we pass a count of 1.
    let r = unsafe { libc::poll(&mut p, 1, ms) };
    if r < 0 {
        let e = io::Error::last_os_error();
        return if e.kind() == io::ErrorKind::Interrupted { Ok(0) } else { Err(e) };
    }
    Ok(if r == 0 { 0 } else { p.revents })
}

impl Pty {
    /// Opens a pseudo-terminal, slave in raw mode, master non-blocking; neither descriptor is
    /// inherited by scripts the cam runs.
    pub fn open() -> io::Result<Pty> {
        let (mut m, mut s): (libc::c_int, libc::c_int) = (-1, -1);
        // SAFETY: `m` and `s` are valid out-pointers; a null name, termios and winsize are
        // allowed and mean "do not report the name, default settings".
        let rc = unsafe { libc::openpty(&mut m, &mut s, std::ptr::null_mut(), std::ptr::null(), std::ptr::null()) };
        check(rc, "openpty")?;
        // SAFETY: openpty succeeded, so `m` and `s` are fresh descriptors that nothing else
        // owns; each is wrapped exactly once and closed when dropped.
        let (master, slave) = unsafe { (OwnedFd::from_raw_fd(m), OwnedFd::from_raw_fd(s)) };
        set_cloexec(master.as_raw_fd())?;
        set_cloexec(slave.as_raw_fd())?;
        make_raw(slave.as_raw_fd())?;
        set_nonblocking(master.as_raw_fd())?;
        let slave_path = tty_name(slave.as_raw_fd())?;
        Ok(Pty { master: Arc::new(File::from(master)), _slave: slave, slave_path })
    }

    /// The path a host opens, e.g. /dev/pts/5.
    pub fn slave_path(&self) -> &Path {
        &self.slave_path
    }

    /// The two halves of the master side, for the serve loop.
    pub fn halves(&self) -> (PtyRx, PtyTx) {
        (
            PtyRx { master: Arc::clone(&self.master), hung_up: false },
            PtyTx { master: Arc::clone(&self.master), stalled: false },
        )
    }
}

/// The receive half of a pty master.
#[derive(Debug)]
pub struct PtyRx {
    master: Arc<File>,
    hung_up: bool,
}

impl PtyRx {
    /// No host on the other side (or the pty reported an error): wait out the timeout and
    /// report nothing, so the serve loop keeps going without spinning.
    fn idle(&mut self, why: &str, timeout: Duration) -> io::Result<usize> {
        if !self.hung_up {
            debug!("pty: {why}; waiting for a host");
            self.hung_up = true;
        }
        std::thread::sleep(timeout.max(Duration::from_millis(1)));
        Ok(0)
    }
}

impl RxHalf for PtyRx {
    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        let fd = self.master.as_raw_fd();
        let ev = poll_fd(fd, libc::POLLIN, timeout)?;
        if ev == 0 {
            return Ok(0);
        }
        if ev & libc::POLLIN == 0 {
            return self.idle("hangup on the master", timeout);
        }
        match (&*self.master).read(buf) {
            Ok(n) => {
                self.hung_up = false;
                Ok(n)
            }
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) => Ok(0),
            Err(e) if e.raw_os_error() == Some(libc::EIO) => self.idle("EIO on the master", timeout),
            Err(e) => Err(e),
        }
    }
}

/// The send half of a pty master.
#[derive(Debug)]
pub struct PtyTx {
    master: Arc<File>,
    /// The last write could not go through whole: nobody reads the slave.
    stalled: bool,
}

impl TxHalf for PtyTx {
    fn send(&mut self, data: &[u8]) -> io::Result<()> {
        let fd = self.master.as_raw_fd();
        let until = Instant::now() + if self.stalled { WRITE_STALL_AGAIN } else { WRITE_STALL };
        let mut sent = 0;
        while sent < data.len() {
            match (&*self.master).write(&data[sent..]) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    let left = until.saturating_duration_since(Instant::now());
                    if left.is_zero() || poll_fd(fd, libc::POLLOUT, left)? == 0 {
                        break;
                    }
                }
                Err(e) if e.raw_os_error() == Some(libc::EIO) => break,
                Err(e) => return Err(e),
            }
        }
        if sent < data.len() {
            if !self.stalled {
                warn!("pty: no host reads the port; dropping output until one does");
                self.stalled = true;
            }
            debug!("pty: dropped {} of {} bytes", data.len() - sent, data.len());
        } else if self.stalled {
            info!("pty: output flows again");
            self.stalled = false;
        }
        Ok(())
    }
}

/// A symbolic link to the pty's slave, removed again when dropped (if it still points there).
#[derive(Debug)]
pub struct SymLink {
    link: PathBuf,
    target: PathBuf,
}

impl SymLink {
    /// Makes `link` point to `target`, replacing an existing (e.g. stale) symbolic link
    /// atomically (a new link is renamed over it). Any other file at `link` is left alone and
    /// reported as an error.
    pub fn create(link: &Path, target: &Path) -> io::Result<SymLink> {
        match std::fs::symlink_metadata(link) {
            Ok(m) if m.file_type().is_symlink() => {
                let old = std::fs::read_link(link).unwrap_or_default();
                info!("replacing the old link {} -> {}", link.display(), old.display());
            }
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{} exists and is not a symbolic link", link.display()),
                ))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let mut tmp_name = link.file_name().unwrap_or_default().to_os_string();
        tmp_name.push(format!(".{}.tmp", std::process::id()));
        let tmp = link.with_file_name(tmp_name);
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(target, &tmp)?;
        if let Err(e) = std::fs::rename(&tmp, link) {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        Ok(SymLink { link: link.to_path_buf(), target: target.to_path_buf() })
    }

    /// Where the link is: the `link` given to [`SymLink::create`].
    pub fn path(&self) -> &Path {
        &self.link
    }
}

impl Drop for SymLink {
    fn drop(&mut self) {
        if std::fs::read_link(&self.link).is_ok_and(|t| t == self.target) {
            if let Err(e) = std::fs::remove_file(&self.link) {
                warn!("cannot remove {}: {e}", self.link.display());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::OpenOptions;

    #[test]
    fn bytes_cross_both_ways_and_a_host_may_come_and_go() {
        let pty = Pty::open().unwrap();
        let (mut rx, mut tx) = pty.halves();
        let mut buf = [0u8; 64];
        for round in 0..2 {
            let mut host = OpenOptions::new().read(true).write(true).open(pty.slave_path()).unwrap();
            host.write_all(b"\xAA\xD5\r\n").unwrap();
            let mut got = Vec::new();
            let until = Instant::now() + Duration::from_secs(5);
            while got.len() < 4 && Instant::now() < until {
                let n = rx.recv(&mut buf, Duration::from_millis(20)).unwrap();
                got.extend_from_slice(&buf[..n]);
            }
            assert_eq!(got, b"\xAA\xD5\r\n", "raw mode keeps CR/LF, round {round}");
            tx.send(b"\r\nok").unwrap();
            let mut back = [0u8; 4];
            host.read_exact(&mut back).unwrap();
            assert_eq!(&back, b"\r\nok");
            drop(host);
            // With the host gone the master keeps serving: no error, nothing read.
            assert_eq!(rx.recv(&mut buf, Duration::from_millis(5)).unwrap(), 0);
        }
    }

    #[test]
    fn output_with_no_reader_is_dropped_not_blocking() {
        let pty = Pty::open().unwrap();
        let (_rx, mut tx) = pty.halves();
        let t = Instant::now();
        for _ in 0..64 {
            tx.send(&[0x55; 4096]).unwrap();
        }
        assert!(t.elapsed() < Duration::from_secs(5));
        assert!(tx.stalled);
    }

    #[test]
    fn symlink_replaces_a_stale_link_and_is_removed() {
        let dir = std::env::temp_dir().join(format!("vcam-link-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let link = dir.join("cam");
        std::os::unix::fs::symlink("/nonexistent/stale", &link).unwrap();
        let pty = Pty::open().unwrap();
        let l = SymLink::create(&link, pty.slave_path()).unwrap();
        assert_eq!(std::fs::read_link(&link).unwrap(), pty.slave_path());
        drop(l);
        assert!(std::fs::symlink_metadata(&link).is_err());
        std::fs::write(&link, b"x").unwrap();
        assert!(SymLink::create(&link, pty.slave_path()).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
