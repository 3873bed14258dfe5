//! Serial links: USB CDC (where the baud rate is ignored) and UART at any baud.
//!
//! The port is opened with explicit timeouts (the crate's default of 0 would make every read
//! fail at once). A read that errors, or returns end of file, means the port is gone (unplug,
//! `NoDevice`, hang-up): reported as [`super::LinkLost`].

use std::io::{self, Read, Write};
use std::time::Duration;

use serialport::SerialPort;

use super::discover::find_by_serial_number;
use super::{link_lost, RxHalf, Transport, TxHalf};

/// What openmv 1.0.7 uses; USB CDC ignores it, UARTs need it to match the cam.
pub const DEFAULT_BAUD: u32 = 921_600;

/// How the port is found on every open.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Target {
    Path(String),
    /// Looked up again on each (re)open: a cam may come back under another path.
    SerialNumber(String),
}

/// A serial port as a [`Transport`].
#[derive(Clone, Debug)]
pub struct SerialTransport {
    target: Target,
    baud: u32,
    write_timeout: Duration,
}

impl SerialTransport {
    /// The port at `path` ("/dev/ttyACM0", "COM3") at [`DEFAULT_BAUD`].
    pub fn new(path: impl Into<String>) -> Self {
        SerialTransport { target: Target::Path(path.into()), baud: DEFAULT_BAUD, write_timeout: Duration::from_secs(1) }
    }

    /// The cam whose USB serial number is `serial` (see [`super::discover()`]).
    pub fn by_serial_number(serial: impl Into<String>) -> Self {
        SerialTransport { target: Target::SerialNumber(serial.into()), ..Self::new("") }
    }

    /// Sets the baud rate, used from the next open (default [`DEFAULT_BAUD`]). USB CDC ignores
    /// it; a UART needs the cam's rate.
    pub fn baud(mut self, baud: u32) -> Self {
        self.baud = baud;
        self
    }

    /// How long a write may wait for room in the driver before it fails.
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        self.write_timeout = timeout;
        self
    }

    fn path(&self) -> io::Result<String> {
        match &self.target {
            Target::Path(p) => Ok(p.clone()),
            Target::SerialNumber(sn) => match find_by_serial_number(sn)? {
                Some(cam) => Ok(cam.path),
                None => Err(io::Error::new(io::ErrorKind::NotFound, format!("no cam with serial number {sn}"))),
            },
        }
    }
}

impl Transport for SerialTransport {
    fn open(&self) -> io::Result<(Box<dyn RxHalf>, Box<dyn TxHalf>)> {
        let path = self.path()?;
        let port = serialport::new(path.as_str(), self.baud)
            .timeout(super::nonzero(self.write_timeout))
            .dtr_on_open(true)
            .open()
            .map_err(io::Error::from)?;
        let rx = port.try_clone().map_err(io::Error::from)?;
        let rx = SerialRx { port: rx, timeout: None, path: path.clone() };
        Ok((Box::new(rx), Box::new(SerialTx { port, path })))
    }

    fn describe(&self) -> String {
        match &self.target {
            Target::Path(p) => p.clone(),
            Target::SerialNumber(sn) => format!("serial-number:{sn}"),
        }
    }
}

/// Any read error but a timeout ends the link: a serial port does not recover in place.
fn map_serial_read(r: io::Result<usize>, path: &str) -> io::Result<usize> {
    match r {
        Ok(0) => Err(link_lost(format!("{path}: end of file"))),
        Ok(n) => Ok(n),
        Err(e)
            if matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) =>
        {
            Ok(0)
        }
        Err(e) => Err(link_lost(format!("{path}: {e}"))),
    }
}

struct SerialRx {
    port: Box<dyn SerialPort>,
    /// The timeout last set on the port, to skip the syscall when it has not changed.
    timeout: Option<Duration>,
    path: String,
}

impl RxHalf for SerialRx {
    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        let timeout = super::nonzero(timeout);
        if self.timeout != Some(timeout) {
            self.port.set_timeout(timeout).map_err(|e| link_lost(format!("{}: {e}", self.path)))?;
            self.timeout = Some(timeout);
        }
        map_serial_read(self.port.read(buf), &self.path)
    }
}

struct SerialTx {
    port: Box<dyn SerialPort>,
    path: String,
}

impl TxHalf for SerialTx {
    fn send(&mut self, data: &[u8]) -> io::Result<()> {
        self.port.write_all(data).map_err(|e| match e.kind() {
            // A full driver buffer is not a dead cable; the request fails, the link stays.
            io::ErrorKind::TimedOut => e,
            _ => link_lost(format!("{}: {e}", self.path)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::is_link_lost;

    #[test]
    fn read_errors_map_to_link_lost() {
        assert_eq!(map_serial_read(Err(io::ErrorKind::TimedOut.into()), "p").unwrap(), 0);
        assert!(is_link_lost(&map_serial_read(Ok(0), "p").unwrap_err()));
        let eio = io::Error::other("I/O error");
        assert!(is_link_lost(&map_serial_read(Err(eio), "p").unwrap_err()));
        assert_eq!(map_serial_read(Ok(3), "p").unwrap(), 3);
    }

    #[test]
    fn missing_port_fails_to_open() {
        let t = SerialTransport::new("/dev/does-not-exist-omv").baud(115_200);
        assert!(t.open().is_err());
        assert_eq!(t.describe(), "/dev/does-not-exist-omv");
        let t = SerialTransport::by_serial_number("no-such-cam");
        assert!(t.open().is_err());
    }

    /// A pty stands in for a cam's CDC port: bytes flow both ways, and closing the far side
    /// reads as a lost link.
    #[cfg(unix)]
    #[test]
    fn pty_round_trip_and_hangup() {
        use serialport::TTYPort;
        let Ok((mut master, slave)) = TTYPort::pair() else { return eprintln!("skipped: no pty") };
        let Some(path) = slave.name() else { return eprintln!("skipped: pty without a name") };
        drop(slave);
        let t = SerialTransport::new(path);
        let (mut rx, mut tx) = t.open().expect("open the pty as a serial port");
        tx.send(b"ping").unwrap();
        let mut buf = [0u8; 16];
        master.set_timeout(Duration::from_millis(500)).unwrap();
        let n = master.read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"ping");
        master.write_all(b"pong").unwrap();
        let mut got = Vec::new();
        for _ in 0..50 {
            let n = rx.recv(&mut buf, Duration::from_millis(20)).unwrap();
            got.extend_from_slice(&buf[..n]);
            if got.len() >= 4 {
                break;
            }
        }
        assert_eq!(got, b"pong");
        drop(master);
        let mut lost = false;
        for _ in 0..50 {
            if let Err(e) = rx.recv(&mut buf, Duration::from_millis(20)) {
                assert!(is_link_lost(&e));
                lost = true;
                break;
            }
        }
        assert!(lost, "hang-up not seen");
    }
}
