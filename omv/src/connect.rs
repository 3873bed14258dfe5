//! Opening the cam the global switches name, or the built-in virtual cam when they name none.

use std::time::Duration;

use anyhow::{bail, Context, Result};

use openmvproto::client::{Camera, Options};
use openmvproto::framing::payload::{CapFlags, Caps};
use openmvproto::framing::MIN_MAX_PAYLOAD;
use openmvproto::transport::{SerialTransport, TcpTransport, Transport};
use openmvproto_vcam::{FrameFormat, VcamHandle, VirtualCam};

use crate::cli::{LinkArgs, VcamOptions};
use crate::wiretap::{TapConfig, Tapped};

/// A connected cam, and the virtual cam serving it when it is the built-in one.
pub struct Session {
    pub cam: Camera,
    /// Kept alive for the session; dropped after `cam` (field order), so the client closes first.
    pub _vcam: Option<VcamHandle>,
    pub target: String,
}

impl LinkArgs {
    /// Whether no cam was named: commands then use the built-in virtual cam.
    pub fn is_builtin(&self) -> bool {
        self.port.is_none() && self.tcp.is_none() && self.serial_number.is_none()
    }

    /// Client options from the switches.
    pub fn client_options(&self) -> Result<Options> {
        if !(self.timeout.is_finite() && self.timeout > 0.0 && self.timeout <= 3600.0) {
            bail!("--timeout {}: must be between 0 and 3600 seconds", self.timeout);
        }
        if self.max_payload < u32::from(MIN_MAX_PAYLOAD) {
            bail!("--max-payload {}: the protocol's smallest is {MIN_MAX_PAYLOAD}", self.max_payload);
        }
        if self.max_retry == 0 {
            bail!("--max-retry must be at least 1");
        }
        let mut flags = CapFlags::empty();
        flags.set(CapFlags::CRC, self.crc);
        flags.set(CapFlags::SEQ, self.seq);
        flags.set(CapFlags::ACK, self.ack);
        flags.set(CapFlags::EVENTS, self.events);
        let max_payload = self.max_payload.min(u32::from(u16::MAX)) as u16;
        Ok(Options::default()
            .caps(Caps { flags, max_payload })
            .timeout(Duration::from_secs_f64(self.timeout))
            .sync_attempts(self.max_retry))
    }

    fn tap(&self) -> Result<TapConfig> {
        if !(0.0..=1.0).contains(&self.drop_rate) {
            bail!("--drop-rate {}: must be between 0.0 and 1.0", self.drop_rate);
        }
        Ok(TapConfig { drop_rate: self.drop_rate, log: self.debug })
    }

    /// The transport the switches name; `None` for the built-in virtual cam.
    pub fn transport(&self) -> Result<Option<(Box<dyn Transport>, String)>> {
        let tap = self.tap()?;
        let t: Box<dyn Transport> = if let Some(p) = &self.port {
            Box::new(SerialTransport::new(p.clone()).baud(self.baudrate))
        } else if let Some(a) = &self.tcp {
            Box::new(TcpTransport::new(a.clone()))
        } else if let Some(sn) = &self.serial_number {
            Box::new(SerialTransport::by_serial_number(sn.clone()).baud(self.baudrate))
        } else {
            return Ok(None);
        };
        let name = t.describe();
        Ok(Some((wrap(t, tap), name)))
    }

    /// Connects with `opts` (made by [`Self::client_options`], maybe with listeners added).
    pub fn connect_with(&self, opts: Options) -> Result<Session> {
        match self.transport()? {
            Some((t, name)) => {
                let cam = Camera::connect(t, opts).with_context(|| format!("cannot connect to {name}"))?;
                Ok(Session { cam, _vcam: None, target: name })
            }
            None => {
                let vcam = VirtualCam::builder().spawn_tcp("127.0.0.1:0").context("cannot start the virtual cam")?;
                let addr = vcam.addr().context("virtual cam without an address")?;
                let t = wrap(Box::new(TcpTransport::new(addr.to_string())), self.tap()?);
                let cam = Camera::connect(t, opts).context("cannot connect to the built-in virtual cam")?;
                Ok(Session { cam, _vcam: Some(vcam), target: format!("built-in virtual cam (tcp:{addr})") })
            }
        }
    }

    pub fn connect(&self) -> Result<Session> {
        self.connect_with(self.client_options()?)
    }
}

/// The transport behind the tap, or as it is when the tap would do nothing.
fn wrap(t: Box<dyn Transport>, tap: TapConfig) -> Box<dyn Transport> {
    if tap.is_passthrough() {
        t
    } else {
        Box::new(Tapped::new(t, tap))
    }
}

impl VcamOptions {
    pub fn to_options(&self) -> Result<openmvproto_vcam::Options> {
        let format: FrameFormat = self.format.parse().map_err(anyhow::Error::msg)?;
        let o = openmvproto_vcam::Options {
            width: self.width,
            height: self.height,
            format,
            fps: self.fps,
            exec_cmd: self.exec_cmd.clone(),
            rtx_timeout: Duration::from_millis(self.rtx_timeout_ms),
            fragment: self.fragment,
            lock_interval: Duration::from_millis(self.lock_interval_ms),
            ..Default::default()
        };
        o.validate()?;
        Ok(o)
    }
}
