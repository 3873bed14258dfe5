//! What the app implements (foreign traits) and the Rust objects handed to it:
//! - [`EventListener`]: hears cam events and link changes, on the client's event thread;
//! - [`Transport`]: a byte pipe the app drives (Android `UsbSerialPort`, iOS `EASession`, a
//!   socket), with [`ByteFeed`] the way received bytes come back in.

use std::fmt;
use std::io;
use std::sync::Arc;

use openmvproto::client::ClientEvent;
use openmvproto::transport::{CallbackTransport, FeedHandle, RxHalf, Transport as CoreTransport, TxHalf};

use crate::error::CameraError;

/// Events of one camera. Methods run on the camera's event thread, one at a time and in
/// order, outside every camera lock: they may call the camera (from another thread is better
/// for long work). A thrown exception is logged and the next listener runs.
#[uniffi::export(foreign)]
pub trait EventListener: Send + Sync {
    /// An event the cam sent: `channel` 0 for system events (0 CHANNEL_REGISTERED,
    /// 1 CHANNEL_UNREGISTERED, 2 SOFT_REBOOT), else the channel's own code (stream: 0xFFFF
    /// NOTIFY per new frame; stdin: 1 script started, 0 stopped).
    fn on_event(&self, channel: u8, code: u16) -> Result<(), CameraError>;
    /// The link went away; calls fail with `LinkLost` until `reconnect` (or automatic
    /// reconnection) brings it back.
    fn on_link_lost(&self, reason: String) -> Result<(), CameraError>;
    /// The link is back, or the cam restarted, and the session is restored.
    fn on_reconnected(&self) -> Result<(), CameraError>;
}

/// Calls `listener` for `ev`; a thrown exception is logged, never unwinds.
pub(crate) fn deliver(listener: &dyn EventListener, ev: &ClientEvent) {
    let r = match ev {
        ClientEvent::Device { channel, code } => listener.on_event(channel.0, *code),
        ClientEvent::LinkLost { reason } => listener.on_link_lost(reason.clone()),
        // Both mean "the session was restored"; the raw SOFT_REBOOT came through on_event.
        ClientEvent::Reconnected | ClientEvent::CamRestarted => listener.on_reconnected(),
    };
    if let Err(e) = r {
        log::warn!("event listener failed on {ev:?}: {e}");
    }
}

/// A byte pipe implemented by the app. The camera calls `open_link` when it connects and on
/// every reconnection; the app then starts reading its device and pushes every byte it reads
/// into the `feed` it was given. `close_link` is called when the camera lets go of the link
/// (disconnect, link lost, before a reconnection, camera closed): stop reading, release the
/// device if it is yours to release.
///
/// `write` runs on whichever camera thread sends, while the camera holds its link lock: it
/// must not call the camera (feeding is fine, from any thread). Throw
/// `CameraException.LinkLost` (Swift: `CameraError.LinkLost`) when the device is gone; any
/// other exception fails the request.
/// Every method may throw: an exception is an error value in Rust, never a crash.
#[uniffi::export(foreign)]
pub trait Transport: Send + Sync {
    /// Opens (or reopens) the device; bytes read from it go to `feed.push(...)`.
    fn open_link(&self, feed: Arc<ByteFeed>) -> Result<(), CameraError>;
    /// Sends all of `data` to the cam.
    fn write(&self, data: Vec<u8>) -> Result<(), CameraError>;
    /// The camera no longer uses the link. A thrown exception is logged.
    fn close_link(&self) -> Result<(), CameraError>;
    /// A name for logs ("usb:OpenMV Cam H7", "tcp:192.168.4.1:5000").
    fn describe(&self) -> Result<String, CameraError>;
}

/// Where an app transport puts the bytes it receives. Thread-safe; hold on to it for as long
/// as the link is open.
#[derive(uniffi::Object)]
pub struct ByteFeed {
    handle: FeedHandle,
}

impl fmt::Debug for ByteFeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ByteFeed").field("open", &self.handle.is_open()).finish()
    }
}

#[uniffi::export]
impl ByteFeed {
    /// Bytes received from the cam, in order. Returns false (and drops them) after
    /// `link_lost`, until the camera opens the link again.
    pub fn push(&self, data: Vec<u8>) -> bool {
        self.handle.feed(&data)
    }

    /// The device is gone (detached, permission revoked, socket closed): the camera sees a
    /// lost link, its listeners get `on_link_lost`.
    pub fn link_lost(&self, reason: String) {
        self.handle.close(&reason)
    }

    /// Whether pushes are accepted: false after `link_lost`, until the camera opens the link
    /// again.
    pub fn is_open(&self) -> bool {
        self.handle.is_open()
    }
}

/// The app's [`Transport`] as a core transport: a [`CallbackTransport`] whose write goes to
/// the app, with the app told to open and close.
pub(crate) struct AppTransport {
    app: Arc<dyn Transport>,
    inner: CallbackTransport,
    feed: Arc<ByteFeed>,
}

impl AppTransport {
    pub(crate) fn new(app: Arc<dyn Transport>) -> AppTransport {
        let writer = app.clone();
        let (inner, handle) = CallbackTransport::new(Box::new(move |bytes: &[u8]| {
            writer.write(bytes.to_vec()).map_err(CameraError::into_io)
        }));
        AppTransport { app, inner, feed: Arc::new(ByteFeed { handle }) }
    }
}

impl CoreTransport for AppTransport {
    fn open(&self) -> io::Result<(Box<dyn RxHalf>, Box<dyn TxHalf>)> {
        // Reopened and emptied before the app starts reading, so nothing it pushes is lost.
        self.feed.handle.reopen();
        let (rx, tx) = self.inner.open()?;
        let tx = AppTx { inner: tx, app: self.app.clone() };
        self.app.open_link(self.feed.clone()).map_err(CameraError::into_io)?;
        Ok((rx, Box::new(tx)))
    }

    fn describe(&self) -> String {
        self.app.describe().unwrap_or_else(|e| format!("app transport ({e})"))
    }
}

/// The send half; dropping it (the client lets go of the link) tells the app.
struct AppTx {
    inner: Box<dyn TxHalf>,
    app: Arc<dyn Transport>,
}

impl TxHalf for AppTx {
    fn send(&mut self, data: &[u8]) -> io::Result<()> {
        self.inner.send(data)
    }
}

impl Drop for AppTx {
    fn drop(&mut self) {
        if let Err(e) = self.app.close_link() {
            log::warn!("app transport close_link failed: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openmvproto::transport::is_link_lost;
    use std::sync::Mutex;
    use std::time::Duration;

    #[derive(Default)]
    struct Loop {
        feed: Mutex<Option<Arc<ByteFeed>>>,
        log: Mutex<Vec<String>>,
    }

    impl Transport for Loop {
        fn open_link(&self, feed: Arc<ByteFeed>) -> Result<(), CameraError> {
            self.log.lock().unwrap().push("open".into());
            *self.feed.lock().unwrap() = Some(feed);
            Ok(())
        }
        fn write(&self, data: Vec<u8>) -> Result<(), CameraError> {
            if data == b"gone" {
                return Err(CameraError::LinkLost { reason: "unplugged".into() });
            }
            // Echo.
            self.feed.lock().unwrap().as_ref().unwrap().push(data);
            Ok(())
        }
        fn close_link(&self) -> Result<(), CameraError> {
            self.log.lock().unwrap().push("close".into());
            Err(CameraError::Callback { detail: "failures here are only logged".into() })
        }
        fn describe(&self) -> Result<String, CameraError> {
            Ok("loop".into())
        }
    }

    #[test]
    fn app_transport_opens_echoes_and_closes() {
        let app = Arc::new(Loop::default());
        let t = AppTransport::new(app.clone());
        assert_eq!(t.describe(), "loop");
        let (mut rx, mut tx) = t.open().unwrap();
        tx.send(b"hello").unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(rx.recv(&mut buf, Duration::from_millis(100)).unwrap(), 5);
        assert_eq!(&buf[..5], b"hello");
        assert!(is_link_lost(&tx.send(b"gone").unwrap_err()));
        drop(tx);
        assert_eq!(*app.log.lock().unwrap(), ["open", "close"]);
        // The app reports the device gone: the receive half fails, pushes are refused; a
        // reopen works again.
        let feed = app.feed.lock().unwrap().clone().unwrap();
        feed.link_lost("detached".into());
        assert!(!feed.is_open());
        assert!(is_link_lost(&rx.recv(&mut buf, Duration::from_millis(10)).unwrap_err()));
        assert!(!feed.push(vec![1]));
        let (mut rx2, _tx2) = t.open().unwrap();
        assert!(feed.push(vec![1, 2]));
        assert_eq!(rx2.recv(&mut buf, Duration::from_millis(100)).unwrap(), 2);
    }
}
