//! `openmvproto-uniffi`: the OpenMV host client for Kotlin (Android) and Swift (iOS), through
//! UniFFI proc-macros (Python has its own PyO3 package, `bindings/python`). Nothing here speaks the protocol: it wraps
//! [`openmvproto::client::Camera`] in FFI-friendly types.
//!
//! - [`Camera`]: opened by serial path, TCP address, or an app-implemented [`Transport`];
//! - records: [`ConnectOptions`], [`ChannelInfo`], [`Frame`], [`LinkStats`], [`Versions`],
//!   [`SystemInfo`], ...; one error enum, [`CameraError`];
//! - foreign traits the app implements: [`EventListener`], [`Transport`] (with [`ByteFeed`]
//!   for the bytes it receives).
//!
//! Every export is synchronous: blocking calls for the app to run off its UI thread.

mod camera;
mod controls;
mod error;
mod foreign;
mod types;

pub use camera::Camera;
pub use controls::{Control, ControlUpdate, ControlValue, WidgetType};
pub use error::CameraError;
pub use foreign::{ByteFeed, EventListener, Transport};
pub use types::{
    CamPortInfo, ChannelInfo, ConnectOptions, Frame, LinkCaps, LinkStats, MemoryPool, PixelFormat, ProfileRecord,
    Resolution, SemVer, SystemInfo, Versions,
};

uniffi::setup_scaffolding!("openmvproto");

/// The options a `Camera` uses when given no others (as the openmv 1.0.7 host does).
#[uniffi::export]
pub fn default_connect_options() -> ConnectOptions {
    ConnectOptions::default()
}

/// A frame's pixels as RGB888 (3 bytes per pixel): grayscale replicated, RGB565 expanded,
/// JPEG decoded.
#[uniffi::export]
pub fn frame_to_rgb888(frame: &Frame) -> Result<Vec<u8>, CameraError> {
    Ok(frame.to_core().to_rgb888()?.pixels)
}

/// Serial ports whose USB vendor id is a cam's (desktop hosts).
#[uniffi::export]
pub fn discover_cams() -> Result<Vec<CamPortInfo>, CameraError> {
    Ok(openmvproto::transport::discover()?.into_iter().map(CamPortInfo::from).collect())
}

/// This library's version.
#[uniffi::export]
pub fn library_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

/// The protocol version this library speaks.
#[uniffi::export]
pub fn protocol_version() -> SemVer {
    openmvproto::framing::payload::Version::PROTOCOL.into()
}
