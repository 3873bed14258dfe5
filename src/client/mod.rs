//! The std host client: [`Camera`], a thread-safe connection to one cam over any
//! [`crate::transport::Transport`].
//!
//! ```no_run
//! use openmvproto::client::{Camera, Options};
//! use openmvproto::transport::discover;
//!
//! let port = discover()?.into_iter().next().expect("no cam plugged in");
//! let cam = Camera::open_serial(&port.path, Options::default().on_event(|e| println!("{e:?}")))?;
//! cam.exec("print('hello')")?;
//! cam.streaming(true, false, None)?;
//! if let Some(frame) = cam.read_frame()? {
//!     let rgb = frame.to_rgb888()?;
//!     println!("{}x{} frame #{}, {} RGB bytes", rgb.width, rgb.height, frame.counter, rgb.pixels.len());
//! }
//! print!("{}", cam.read_stdout()?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod camera;
mod channel;
mod controls;
mod error;
mod events;
mod frame;
mod link;
mod options;
mod profile;

#[cfg(test)]
mod tests;

pub use camera::{Camera, Frames};
pub use channel::{Chan, ChannelInfo};
pub use error::{Error, Result};
pub use events::{ClientEvent, Listener, ListenerId};
pub use frame::{rgb565_to_rgb888, Frame, RgbFrame};
pub use options::Options;
pub use profile::{parse_records, record_len, ProfileRecord};
