//! The `Camera` object: the thread-safe host client, channels by name.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use openmvproto::client::{self, ListenerId, Options};
use openmvproto::transport::{SerialTransport, TcpTransport};
use parking_lot::Mutex;

use crate::error::CameraError;
use crate::foreign::{deliver, AppTransport, EventListener, Transport};
use crate::types::{
    ChannelInfo, ConnectOptions, Frame, LinkCaps, LinkStats, MemoryPool, ProfileRecord, Resolution, SystemInfo,
    Versions,
};

type Result<T, E = CameraError> = std::result::Result<T, E>;

/// A connection to one cam. Every method may be called from any thread; operations run one
/// at a time, each whole. Methods block (run them off the UI thread). Close the object
/// (Kotlin `close()` / `use {}`, Swift: drop the last reference) to stop the
/// camera's threads and release the link.
#[derive(uniffi::Object)]
pub struct Camera {
    pub(crate) inner: client::Camera,
    /// Our ids for the core's listener ids.
    listeners: Mutex<HashMap<u64, ListenerId>>,
    next_listener: Mutex<u64>,
}

impl fmt::Debug for Camera {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Camera").field("inner", &self.inner).finish()
    }
}

impl Camera {
    fn connect(
        transport: impl openmvproto::transport::Transport + 'static,
        options: &ConnectOptions,
    ) -> Result<Arc<Camera>> {
        let inner = client::Camera::connect(transport, Options::from(options))?;
        Ok(Arc::new(Camera { inner, listeners: Mutex::new(HashMap::new()), next_listener: Mutex::new(1) }))
    }
}

#[uniffi::export]
impl Camera {
    /// A cam on the serial port at `path` ("/dev/ttyACM0", "COM3"). Desktop hosts; on
    /// Android use `withTransport` over the USB host API.
    #[uniffi::constructor]
    pub fn open_serial(path: String, options: ConnectOptions) -> Result<Arc<Camera>> {
        Self::connect(SerialTransport::new(path), &options)
    }

    /// The plugged-in cam with this USB serial number (looked up again on every reconnection).
    #[uniffi::constructor]
    pub fn open_serial_number(serial_number: String, options: ConnectOptions) -> Result<Arc<Camera>> {
        Self::connect(SerialTransport::by_serial_number(serial_number), &options)
    }

    /// A network cam at "host:port".
    #[uniffi::constructor]
    pub fn open_tcp(address: String, options: ConnectOptions) -> Result<Arc<Camera>> {
        Self::connect(TcpTransport::new(address), &options)
    }

    /// A cam behind a byte pipe the app implements (see `Transport`). `transport.openLink`
    /// is called before this returns, and the handshake needs the bytes it feeds.
    #[uniffi::constructor]
    pub fn with_transport(transport: Arc<dyn Transport>, options: ConnectOptions) -> Result<Arc<Camera>> {
        Self::connect(AppTransport::new(transport), &options)
    }

    /// The transport's name, for logs.
    pub fn describe(&self) -> String {
        self.inner.describe()
    }

    /// Whether the link is up.
    pub fn is_connected(&self) -> bool {
        self.inner.is_connected()
    }

    /// Reopens the link and restores the session; listeners get `on_reconnected`.
    pub fn reconnect(&self) -> Result<()> {
        Ok(self.inner.reconnect()?)
    }

    /// Closes the link; calls fail with `Disconnected` until `reconnect`. (Not `close`: that
    /// name is Kotlin's `AutoCloseable.close()`, which frees the object.)
    pub fn disconnect(&self) {
        self.inner.disconnect()
    }

    /// PROTO_SYNC and capabilities again (the cam releases every channel lock).
    pub fn resync(&self) -> Result<()> {
        Ok(self.inner.resync()?)
    }

    /// The capabilities in force on the link.
    pub fn caps(&self) -> LinkCaps {
        self.inner.caps().into()
    }

    /// Adds a listener; returns an id for `unsubscribe`. The camera keeps the listener until
    /// then or until the camera is closed.
    pub fn subscribe(&self, listener: Arc<dyn EventListener>) -> u64 {
        let core = self.inner.subscribe(move |ev| deliver(listener.as_ref(), ev));
        let mut next = self.next_listener.lock();
        let id = *next;
        *next += 1;
        self.listeners.lock().insert(id, core);
        id
    }

    /// Removes a listener; false if it was not there.
    pub fn unsubscribe(&self, id: u64) -> bool {
        match self.listeners.lock().remove(&id) {
            Some(core) => self.inner.unsubscribe(core),
            None => false,
        }
    }

    /// The channel list as last read (refreshed when the cam registered a channel since).
    pub fn channels(&self) -> Result<Vec<ChannelInfo>> {
        Ok(self.inner.channels()?.iter().map(ChannelInfo::from).collect())
    }

    /// CHANNEL_LIST: reads the list from the cam now.
    pub fn list(&self) -> Result<Vec<ChannelInfo>> {
        Ok(self.inner.list()?.iter().map(ChannelInfo::from).collect())
    }

    /// The id of the channel called `name`.
    pub fn channel_id(&self, name: String) -> Result<u8> {
        Ok(self.inner.channel_id(&name)?.0)
    }

    pub fn has_channel(&self, name: String) -> Result<bool> {
        Ok(self.inner.has_channel(&name)?)
    }

    /// CHANNEL_POLL: bit i set when channel i has something for the host.
    pub fn poll(&self) -> Result<u32> {
        Ok(self.inner.poll()?)
    }

    /// CHANNEL_POLL by channel name.
    pub fn read_status(&self) -> Result<HashMap<String, bool>> {
        Ok(self.inner.read_status()?.into_iter().collect())
    }

    /// CHANNEL_SIZE: bytes available on `channel`.
    pub fn size(&self, channel: String) -> Result<u32> {
        Ok(self.inner.size(&channel)?)
    }

    /// CHANNEL_SHAPE: 1 to 4 dimensions.
    pub fn shape(&self, channel: String) -> Result<Vec<u32>> {
        Ok(self.inner.shape(&channel)?)
    }

    /// CHANNEL_READ of `length` bytes from `offset`, any length.
    pub fn read(&self, channel: String, offset: u32, length: u32) -> Result<Vec<u8>> {
        Ok(self.inner.read(&channel, offset, length)?)
    }

    /// CHANNEL_SIZE, then a read of that many bytes from offset 0.
    pub fn read_available(&self, channel: String) -> Result<Vec<u8>> {
        Ok(self.inner.read_available(&channel)?)
    }

    /// CHANNEL_WRITE of `data` at `offset`, any length.
    pub fn write(&self, channel: String, offset: u32, data: Vec<u8>) -> Result<()> {
        Ok(self.inner.write(&channel, offset, &data)?)
    }

    /// CHANNEL_LOCK: false when the cam answers BUSY (nothing ready, or too soon).
    pub fn lock(&self, channel: String) -> Result<bool> {
        Ok(self.inner.lock(&channel)?)
    }

    /// CHANNEL_UNLOCK: false when the cam answers BUSY.
    pub fn unlock(&self, channel: String) -> Result<bool> {
        Ok(self.inner.unlock(&channel)?)
    }

    /// CHANNEL_IOCTL with a request number and its argument bytes. Never repeated after a
    /// recovery: a lost answer gives `OutcomeUnknown`.
    pub fn ioctl(&self, channel: String, request: u32, argument: Vec<u8>) -> Result<()> {
        Ok(self.inner.ioctl(&channel, request, &argument)?)
    }

    /// Runs a MicroPython script (stdin RESET, write, EXEC).
    pub fn exec(&self, script: String) -> Result<()> {
        Ok(self.inner.exec(script)?)
    }

    /// Interrupts the running script.
    pub fn stop(&self) -> Result<()> {
        Ok(self.inner.stop()?)
    }

    /// Turns the frame stream on or off; `raw` frames (uncompressed) need a `resolution`.
    pub fn streaming(&self, enable: bool, raw: bool, resolution: Option<Resolution>) -> Result<()> {
        Ok(self.inner.streaming(enable, raw, resolution.map(|r| (r.width, r.height)))?)
    }

    /// The latest frame, or null when none is ready. With `rgb888`, `Frame.rgb888` holds the
    /// pixels converted (grayscale replicated, RGB565 expanded, JPEG decoded).
    pub fn read_frame(&self, rgb888: bool) -> Result<Option<Frame>> {
        let Some(f) = self.inner.read_frame()? else { return Ok(None) };
        let rgb = if rgb888 { Some(f.to_rgb888()?.pixels) } else { None };
        Ok(Some(Frame::from_core(f, rgb)))
    }

    /// Waits up to `timeout_ms` milliseconds for a frame and returns it, or null when none
    /// came. Sleeps until the cam says a frame is ready (with the `events` capability off it
    /// tries a read every 10 ms); 0 tries once, like `read_frame`. `rgb888` as for
    /// `read_frame`. `disconnect()` from another thread ends a wait with
    /// `CameraException.Disconnected` (`close()` waits for calls in flight to return).
    pub fn wait_frame(&self, timeout_ms: u32, rgb888: bool) -> Result<Option<Frame>> {
        let timeout = std::time::Duration::from_millis(timeout_ms.into());
        let Some(f) = self.inner.wait_frame(timeout)? else { return Ok(None) };
        let rgb = if rgb888 { Some(f.to_rgb888()?.pixels) } else { None };
        Ok(Some(Frame::from_core(f, rgb)))
    }

    /// Frames this camera object has received.
    pub fn frames_received(&self) -> u64 {
        self.inner.frames_received()
    }

    /// The script output the cam holds (consumed); empty when none.
    pub fn read_stdout(&self) -> Result<String> {
        Ok(self.inner.read_stdout()?)
    }

    /// PROTO_VERSION.
    pub fn version(&self) -> Result<Versions> {
        Ok(self.inner.version()?.into())
    }

    /// SYS_INFO.
    pub fn system_info(&self) -> Result<SystemInfo> {
        Ok(self.inner.system_info()?.into())
    }

    /// PROTO_STATS: the cam's link counters.
    pub fn device_stats(&self) -> Result<LinkStats> {
        Ok(self.inner.device_stats()?.into())
    }

    /// This host's link counters since the link was last opened.
    pub fn host_stats(&self) -> LinkStats {
        self.inner.host_stats().into()
    }

    /// SYS_MEMORY: the cam's memory pools.
    pub fn memory(&self) -> Result<Vec<MemoryPool>> {
        Ok(self.inner.memory()?.into_iter().map(MemoryPool::from).collect())
    }

    /// SYS_RESET: the cam restarts; the link is closed (reconnect later).
    pub fn reset(&self) -> Result<()> {
        Ok(self.inner.reset()?)
    }

    /// SYS_BOOT: the cam enters its bootloader; the link is closed.
    pub fn boot(&self) -> Result<()> {
        Ok(self.inner.boot()?)
    }

    /// The profiler's records, or null (no `profile` channel, nothing ready).
    pub fn read_profile(&self) -> Result<Option<Vec<ProfileRecord>>> {
        Ok(self.inner.read_profile()?.map(|v| v.into_iter().map(ProfileRecord::from).collect()))
    }

    /// Profiler mode: exclusive (time in callees not counted) or inclusive.
    pub fn profiler_mode(&self, exclusive: bool) -> Result<()> {
        Ok(self.inner.profiler_mode(exclusive)?)
    }

    /// Makes PMU counter `counter` count event `event_id`.
    pub fn profiler_event(&self, counter: u32, event_id: u32) -> Result<()> {
        Ok(self.inner.profiler_event(counter, event_id)?)
    }

    /// Clears the profiler's records.
    pub fn profiler_reset(&self) -> Result<()> {
        Ok(self.inner.profiler_reset()?)
    }
}
