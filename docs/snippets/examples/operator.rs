//! Worked example 2: an operator changes a threshold and a region of interest at run time,
//! without reflashing, and sees the cam's frames change. The cam is `rust_cam` (or any cam
//! whose `config` channel reads the same line format, [`openmvproto_docs::Settings`]).
//!
//! ```text
//! cargo run --release -p openmvproto-docs --example operator -- 127.0.0.1:5000
//! ```

use std::time::Duration;

use openmvproto::client::{Camera, Frame, Options};
use openmvproto::transport::TcpTransport;
use openmvproto_docs::{wait_for, Settings};

/// Whether every pixel of `f` is what the cam makes under `s` (the frame number is read from
/// pixel (0, 0), which stays outside every region used here).
fn shows(f: &Frame, s: &Settings) -> bool {
    let n = u32::from(f.data[0]);
    f.data.len() == (f.width * f.height) as usize
        && f.data.iter().enumerate().all(|(i, &v)| v == s.pixel(i as u32 % f.width, i as u32 / f.width, n))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args().nth(1).ok_or("usage: operator HOST:PORT")?;
    let cam = Camera::connect(TcpTransport::new(addr), Options::default())?;
    if !cam.has_channel("config")? {
        return Err("the cam has no `config` channel".into());
    }
    cam.streaming(true, false, None)?;
    // ANCHOR: tune
    // The operator raises the threshold and moves the region, step by step.
    for (step, threshold) in [64u8, 128, 192].into_iter().enumerate() {
        let s = Settings { threshold: Some(threshold), roi: (8 + 8 * step as u32, 8, 32, 24) };
        cam.write("config", 0, s.encode().as_bytes())?;
        // The cam applies it to the next frame it makes; wait for that frame.
        let frame = wait_for(Duration::from_secs(5), Duration::from_millis(2), || {
            cam.read_frame().ok().flatten().filter(|f| shows(f, &s))
        });
        match frame {
            Some(f) => println!("frame #{} shows {}", f.counter, s.encode().trim_end()),
            None => return Err(format!("no frame showed {} within 5 s", s.encode().trim_end()).into()),
        }
    }
    // ANCHOR_END: tune
    cam.streaming(false, false, None)?;
    println!("operator: ok");
    Ok(())
}
