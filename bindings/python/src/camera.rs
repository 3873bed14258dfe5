//! `NativeCamera`: the Rust client (`openmvproto::client::Camera`) for Python. Every call that
//! talks to the cam, or waits, runs with the GIL released. The openmv-compatible `Camera` class
//! (python/openmvproto/camera.py) is built on it.

use std::sync::Arc;
use std::time::Duration;

use openmvproto::client::{Camera, Chan, Error, Options};
use openmvproto::framing::payload::{CapFlags, Caps, Semver};
use openmvproto::transport::{SerialTransport, TcpTransport};
use parking_lot::RwLock;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::PyDict;

use crate::controls::{control_to_py, value_from_py};
use crate::errors::{to_py, DisconnectedException};
use crate::events::{Event, Hub};
use crate::frame::Frame;

/// `wait_frame(None)` waits in slices this long (a deadline must be a finite instant).
const FOREVER_SLICE: Duration = Duration::from_secs(3600);

/// A channel named by id or by name.
#[derive(FromPyObject)]
pub enum ChanArg {
    Id(u8),
    Name(String),
}

impl ChanArg {
    fn chan(&self) -> Chan<'_> {
        match self {
            ChanArg::Id(id) => Chan::from(*id),
            ChanArg::Name(n) => Chan::from(n.as_str()),
        }
    }
}

/// Longest timeout taken (about 31 years): deadlines must stay representable instants.
const MAX_SECONDS: f64 = 1e9;

fn seconds(what: &'static str, s: f64) -> PyResult<Duration> {
    if !(0.0..=MAX_SECONDS).contains(&s) {
        return Err(PyValueError::new_err(format!("{what} must be between 0 and {MAX_SECONDS} seconds")));
    }
    Duration::try_from_secs_f64(s).map_err(|_| PyValueError::new_err(format!("{what} must be a number of seconds")))
}

fn semver(v: Semver) -> (u8, u8, u8) {
    (v.0, v.1, v.2)
}

/// The connection to one cam.
#[pyclass(module = "openmvproto._native", name = "NativeCamera", frozen)]
pub struct NativeCamera {
    cam: RwLock<Option<Arc<Camera>>>,
    hub: Arc<Hub>,
    describe: String,
}

impl NativeCamera {
    fn cam(&self) -> PyResult<Arc<Camera>> {
        self.cam.read().clone().ok_or_else(|| DisconnectedException::new_err("not connected (camera closed)"))
    }

    /// Runs `f` on the camera without the GIL.
    fn run<T: Send>(&self, py: Python<'_>, f: impl FnOnce(&Camera) -> Result<T, Error> + Send) -> PyResult<T> {
        let cam = self.cam()?;
        py.detach(|| f(&cam)).map_err(to_py)
    }

    fn refresh_stream_id(&self, cam: &Camera) -> Result<(), Error> {
        let id = cam.channels()?.into_iter().find(|c| c.name == "stream").map(|c| c.id.0);
        self.hub.set_stream_id(id);
        Ok(())
    }
}

#[pymethods]
impl NativeCamera {
    /// Connects (resync, capabilities, channel list) to the cam at exactly one of `port` (a
    /// serial device), `tcp` ("host:port") or `serial_number` (a USB serial number).
    #[new]
    #[pyo3(signature = (*, port=None, tcp=None, serial_number=None, baudrate=921600, crc=true, seq=true,
                        ack=true, events=true, timeout=1.0, max_retry=3, max_payload=4096, auto_reconnect=false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        port: Option<String>,
        tcp: Option<String>,
        serial_number: Option<String>,
        baudrate: u32,
        crc: bool,
        seq: bool,
        ack: bool,
        events: bool,
        timeout: f64,
        max_retry: u32,
        max_payload: u16,
        auto_reconnect: bool,
    ) -> PyResult<NativeCamera> {
        let mut flags = CapFlags::empty();
        flags.set(CapFlags::CRC, crc);
        flags.set(CapFlags::SEQ, seq);
        flags.set(CapFlags::ACK, ack);
        flags.set(CapFlags::EVENTS, events);
        let hub = Arc::new(Hub::new());
        let listener = hub.clone();
        let opts = Options::default()
            .caps(Caps { flags, max_payload })
            .timeout(seconds("timeout", timeout)?)
            .sync_attempts(max_retry)
            .auto_reconnect(auto_reconnect)
            .on_event(move |e| listener.on_event(e));
        let cam = py
            .detach(|| match (port, tcp, serial_number) {
                (Some(p), None, None) => Ok(Camera::connect(SerialTransport::new(p).baud(baudrate), opts)),
                (None, Some(addr), None) => Ok(Camera::connect(TcpTransport::new(addr), opts)),
                (None, None, Some(sn)) => {
                    Ok(Camera::connect(SerialTransport::by_serial_number(sn).baud(baudrate), opts))
                }
                _ => Err("give exactly one of port, tcp or serial_number"),
            })
            .map_err(PyValueError::new_err)?
            .map_err(to_py)?;
        let native = NativeCamera { describe: cam.describe(), cam: RwLock::new(None), hub };
        py.detach(|| native.refresh_stream_id(&cam)).map_err(to_py)?;
        *native.cam.write() = Some(Arc::new(cam));
        Ok(native)
    }

    /// Stops the client's threads and drops the connection for good.
    fn close(&self, py: Python<'_>) {
        self.hub.close();
        let cbs = self.hub.clear_callbacks();
        drop(cbs);
        let cam = self.cam.write().take();
        // Disconnecting wakes calls still waiting on other threads (they hold their own
        // reference); the event thread may be waiting for the GIL to run a callback: join it
        // without.
        py.detach(|| {
            if let Some(c) = &cam {
                c.disconnect();
            }
            drop(cam)
        });
    }

    fn is_closed(&self) -> bool {
        self.cam.read().is_none()
    }

    /// Closes the link but keeps the client; `reconnect` opens it again.
    fn disconnect(&self, py: Python<'_>) -> PyResult<()> {
        self.run(py, |c| {
            c.disconnect();
            Ok(())
        })
    }

    fn reconnect(&self, py: Python<'_>) -> PyResult<()> {
        self.run(py, |c| {
            c.reconnect()?;
            self.refresh_stream_id(c)
        })
    }

    fn resync(&self, py: Python<'_>) -> PyResult<()> {
        self.run(py, |c| c.resync())
    }

    fn is_connected(&self, py: Python<'_>) -> bool {
        // The client's link lock may be held across a transport write: wait without the GIL.
        let cam = self.cam.read().clone();
        py.detach(|| cam.is_some_and(|c| c.is_connected()))
    }

    fn describe(&self) -> String {
        self.describe.clone()
    }

    /// The capabilities in force: crc, seq, ack, events, max_payload.
    fn caps<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let cam = self.cam()?;
        // As `is_connected`: the link lock, without the GIL.
        let caps = py.detach(|| cam.caps());
        let d = PyDict::new(py);
        d.set_item("crc", caps.crc())?;
        d.set_item("seq", caps.seq())?;
        d.set_item("ack", caps.flags.contains(CapFlags::ACK))?;
        d.set_item("events", caps.flags.contains(CapFlags::EVENTS))?;
        d.set_item("max_payload", caps.max_payload)?;
        Ok(d)
    }

    // ---- channels ----

    /// The channel list as last read: (id, flags, name) in the cam's order.
    fn channels(&self, py: Python<'_>) -> PyResult<Vec<(u8, u8, String)>> {
        let l = self.run(py, |c| c.channels())?;
        Ok(l.into_iter().map(|ch| (ch.id.0, ch.flags.bits(), ch.name)).collect())
    }

    /// CHANNEL_LIST now.
    fn list_channels(&self, py: Python<'_>) -> PyResult<Vec<(u8, u8, String)>> {
        let l = self.run(py, |c| {
            let l = c.list()?;
            self.refresh_stream_id(c)?;
            Ok(l)
        })?;
        Ok(l.into_iter().map(|ch| (ch.id.0, ch.flags.bits(), ch.name)).collect())
    }

    /// The id of the channel called `name`, or None.
    fn channel_id(&self, py: Python<'_>, name: &str) -> PyResult<Option<u8>> {
        self.run(py, |c| match c.channel_id(name) {
            Ok(id) => Ok(Some(id.0)),
            Err(Error::NoSuchChannel(_)) => Ok(None),
            Err(e) => Err(e),
        })
    }

    fn has_channel(&self, py: Python<'_>, name: &str) -> PyResult<bool> {
        self.run(py, |c| c.has_channel(name))
    }

    /// CHANNEL_POLL: bit i set when channel i has something for the host.
    fn poll(&self, py: Python<'_>) -> PyResult<u32> {
        self.run(py, |c| c.poll())
    }

    /// CHANNEL_POLL by name, in the cam's channel order.
    fn read_status(&self, py: Python<'_>) -> PyResult<Vec<(String, bool)>> {
        self.run(py, |c| {
            let bits = c.poll()?;
            let l = c.channels()?;
            Ok(l.into_iter().map(|ch| (ch.name, ch.id.0 < 32 && bits & (1 << ch.id.0) != 0)).collect())
        })
    }

    fn size(&self, py: Python<'_>, channel: ChanArg) -> PyResult<u32> {
        self.run(py, |c| c.size(channel.chan()))
    }

    fn shape(&self, py: Python<'_>, channel: ChanArg) -> PyResult<Vec<u32>> {
        self.run(py, |c| c.shape(channel.chan()))
    }

    fn read<'py>(
        &self,
        py: Python<'py>,
        channel: ChanArg,
        offset: u32,
        length: u32,
    ) -> PyResult<Bound<'py, pyo3::types::PyBytes>> {
        let d = self.run(py, |c| c.read(channel.chan(), offset, length))?;
        Ok(pyo3::types::PyBytes::new(py, &d))
    }

    /// The script output stdout holds (the read consumes it), as bytes; never repeated after
    /// a recovery, so a lost answer raises rather than losing or doubling text.
    fn read_stdout<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, pyo3::types::PyBytes>> {
        let d = self.run(py, |c| c.read_stdout_bytes())?;
        Ok(pyo3::types::PyBytes::new(py, &d))
    }

    /// CHANNEL_SIZE, then a read of that many bytes.
    fn read_available<'py>(&self, py: Python<'py>, channel: ChanArg) -> PyResult<Bound<'py, pyo3::types::PyBytes>> {
        let d = self.run(py, |c| c.read_available(channel.chan()))?;
        Ok(pyo3::types::PyBytes::new(py, &d))
    }

    /// CHANNEL_WRITE, split into pieces the cam accepts.
    #[pyo3(signature = (channel, data, offset=0))]
    fn write(&self, py: Python<'_>, channel: ChanArg, data: PyBackedBytes, offset: u32) -> PyResult<()> {
        self.run(py, |c| c.write(channel.chan(), offset, &data))
    }

    /// CHANNEL_LOCK: False when the cam answers BUSY.
    fn lock(&self, py: Python<'_>, channel: ChanArg) -> PyResult<bool> {
        self.run(py, |c| c.lock(channel.chan()))
    }

    fn unlock(&self, py: Python<'_>, channel: ChanArg) -> PyResult<bool> {
        self.run(py, |c| c.unlock(channel.chan()))
    }

    #[pyo3(signature = (channel, request, arg=None))]
    fn ioctl(&self, py: Python<'_>, channel: ChanArg, request: u32, arg: Option<PyBackedBytes>) -> PyResult<()> {
        self.run(py, |c| c.ioctl(channel.chan(), request, arg.as_deref().unwrap_or(&[])))
    }

    // ---- scripts and stream ----

    fn exec(&self, py: Python<'_>, script: PyBackedBytes) -> PyResult<()> {
        self.run(py, |c| c.exec(&*script))
    }

    fn stop(&self, py: Python<'_>) -> PyResult<()> {
        self.run(py, |c| c.stop())
    }

    #[pyo3(signature = (enable, raw=false, resolution=None))]
    fn streaming(&self, py: Python<'_>, enable: bool, raw: bool, resolution: Option<(u32, u32)>) -> PyResult<()> {
        self.run(py, |c| c.streaming(enable, raw, resolution))
    }

    /// The latest frame, or None if none is ready.
    fn read_frame(&self, py: Python<'_>) -> PyResult<Option<Frame>> {
        self.hub.take_frame_event();
        Ok(self.run(py, |c| c.read_frame())?.map(Frame::new))
    }

    /// The next frame, waiting up to `timeout` seconds (None: forever); None on timeout.
    #[pyo3(signature = (timeout=None))]
    fn wait_frame(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<Frame>> {
        let limit = timeout.map(|t| seconds("timeout", t)).transpose()?;
        self.hub.take_frame_event();
        let got = self.run(py, |c| match limit {
            Some(t) => c.wait_frame(t),
            None => loop {
                if let Some(f) = c.wait_frame(FOREVER_SLICE)? {
                    return Ok(Some(f));
                }
            },
        })?;
        Ok(got.map(Frame::new))
    }

    /// openmv's `frame_event`: a stream event arrived since the last frame read.
    fn frame_event(&self) -> bool {
        self.hub.peek_frame_event()
    }

    fn frames_received(&self) -> PyResult<u64> {
        Ok(self.cam()?.frames_received())
    }

    // ---- system ----

    /// (protocol, bootloader, firmware), each (major, minor, patch).
    #[allow(clippy::type_complexity)]
    fn version(&self, py: Python<'_>) -> PyResult<((u8, u8, u8), (u8, u8, u8), (u8, u8, u8))> {
        let v = self.run(py, |c| c.version())?;
        Ok((semver(v.protocol), semver(v.bootloader), semver(v.firmware)))
    }

    /// SYS_INFO, field by field as the cam sends them.
    fn system_info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let i = self.run(py, |c| c.system_info())?;
        let d = PyDict::new(py);
        d.set_item("cpu_id", i.cpu_id)?;
        d.set_item("dev_id", (i.dev_id[0], i.dev_id[1], i.dev_id[2]))?;
        d.set_item("usb_id", i.usb_id)?;
        d.set_item("chip_id", (i.chip_id[0], i.chip_id[1], i.chip_id[2]))?;
        d.set_item("hw_caps", (i.hw_caps[0], i.hw_caps[1]))?;
        d.set_item("flash_kb", i.flash_kb)?;
        d.set_item("ram_kb", i.ram_kb)?;
        d.set_item("framebuffer_kb", i.framebuffer_kb)?;
        d.set_item("stream_buffer_kb", i.stream_buffer_kb)?;
        Ok(d)
    }

    /// PROTO_STATS: the cam's link counters.
    fn device_stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.run(py, |c| c.device_stats())?;
        stats_dict(py, &s)
    }

    /// This client's link counters since the link was opened.
    fn host_stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let cam = self.cam()?;
        let s = py.detach(|| cam.host_stats());
        stats_dict(py, &s)
    }

    /// SYS_MEMORY: the cam's memory pools.
    fn memory<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        let pools = self.run(py, |c| c.memory())?;
        pools
            .into_iter()
            .map(|m| {
                let d = PyDict::new(py);
                d.set_item("kind", m.kind)?;
                d.set_item("flags", m.flags)?;
                d.set_item("total", m.total)?;
                d.set_item("used", m.used)?;
                d.set_item("free", m.free)?;
                d.set_item("persistent", m.persistent)?;
                d.set_item("peak", m.peak)?;
                Ok(d)
            })
            .collect()
    }

    fn reset(&self, py: Python<'_>) -> PyResult<()> {
        self.run(py, |c| c.reset())
    }

    fn boot(&self, py: Python<'_>) -> PyResult<()> {
        self.run(py, |c| c.boot())
    }

    // ---- profiler ----

    /// Records as (address, caller, call_count, min_ticks, max_ticks, total_ticks,
    /// total_cycles, events), or None when there is no profile channel or nothing is ready.
    #[allow(clippy::type_complexity)]
    fn read_profile(&self, py: Python<'_>) -> PyResult<Option<Vec<(u32, u32, u32, u32, u32, u64, u64, Vec<u64>)>>> {
        let r = self.run(py, |c| c.read_profile())?;
        Ok(r.map(|recs| {
            recs.into_iter()
                .map(|r| {
                    (
                        r.address,
                        r.caller,
                        r.call_count,
                        r.min_ticks,
                        r.max_ticks,
                        r.total_ticks,
                        r.total_cycles,
                        r.events,
                    )
                })
                .collect()
        }))
    }

    fn profiler_mode(&self, py: Python<'_>, exclusive: bool) -> PyResult<()> {
        self.run(py, |c| c.profiler_mode(exclusive))
    }

    fn profiler_event(&self, py: Python<'_>, counter: u32, event_id: u32) -> PyResult<()> {
        self.run(py, |c| c.profiler_event(counter, event_id))
    }

    fn profiler_reset(&self, py: Python<'_>) -> PyResult<()> {
        self.run(py, |c| c.profiler_reset())
    }

    // ---- typed controls ----

    /// Every field of a controls channel, in the cam's order (see controls.rs for the dicts).
    fn controls<'py>(&self, py: Python<'py>, channel: ChanArg) -> PyResult<Vec<Bound<'py, PyDict>>> {
        let fields = self.run(py, |c| c.controls(channel.chan()))?;
        fields.iter().map(|f| control_to_py(py, f)).collect()
    }

    fn control<'py>(&self, py: Python<'py>, channel: ChanArg, name: &str) -> PyResult<Bound<'py, PyDict>> {
        let f = self.run(py, |c| c.control(channel.chan(), name))?;
        control_to_py(py, &f)
    }

    /// Sets controls in one write after checking every value against its widget; nothing is
    /// written if one fails.
    fn set_controls(&self, py: Python<'_>, channel: ChanArg, values: Vec<(String, Bound<'_, PyAny>)>) -> PyResult<()> {
        let values = values.iter().map(|(n, v)| Ok((n.as_str(), value_from_py(v)?))).collect::<PyResult<Vec<_>>>()?;
        self.run(py, |c| c.set_controls(channel.chan(), &values))
    }

    // ---- events ----

    /// Calls `callback(event)` on the client's event thread for every event; returns an id
    /// for `unsubscribe`.
    fn subscribe(&self, callback: Py<PyAny>) -> u64 {
        self.hub.subscribe(callback)
    }

    fn unsubscribe(&self, id: u64) -> bool {
        self.hub.unsubscribe(id)
    }

    /// The oldest event not yet taken, waiting up to `timeout` seconds (None: forever).
    #[pyo3(signature = (timeout=None))]
    fn next_event(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<Event>> {
        let t = timeout.map(|t| seconds("timeout", t)).transpose()?;
        let hub = self.hub.clone();
        Ok(py.detach(|| hub.next_event(t)))
    }

    /// Events dropped because nobody took them (the queue keeps the latest 1024).
    fn dropped_events(&self) -> u64 {
        self.hub.dropped_events()
    }

    fn __repr__(&self) -> String {
        format!("<openmvproto._native.NativeCamera {}>", self.describe)
    }
}

fn stats_dict<'py>(py: Python<'py>, s: &openmvproto::reliability::Stats) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("sent", s.sent)?;
    d.set_item("received", s.received)?;
    d.set_item("checksum", s.checksum_errors)?;
    d.set_item("sequence", s.sequence_errors)?;
    d.set_item("retransmit", s.retransmits)?;
    d.set_item("transport", s.transport_errors)?;
    d.set_item("events", s.events)?;
    Ok(d)
}

impl Drop for NativeCamera {
    fn drop(&mut self) {
        self.hub.close();
        if let Some(cam) = self.cam.get_mut().take() {
            // Dropping joins the client's event thread, which may be waiting for the GIL this
            // thread may hold (Python frees objects with it held): join elsewhere.
            let _ = std::thread::Builder::new().name("omv-close".into()).spawn(move || drop(cam));
        }
    }
}
