//! The virtual cam in-process: a test or a demo that needs a cam but no hardware and no
//! second program. Over TCP on a free port, then over an in-memory link.
//!
//! ```text
//! cargo run --release -p openmvproto-docs --example embedded_vcam
//! ```

use openmvproto::client::{Camera, Options};
use openmvproto::transport::{memory, TcpTransport};
use openmvproto_vcam::{FrameFormat, VirtualCam};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // ANCHOR: tcp
    let vcam = VirtualCam::builder().size(64, 48).format(FrameFormat::Rgb565).spawn_tcp("127.0.0.1:0")?;
    let addr = vcam.addr().ok_or("no address")?;
    let cam = Camera::connect(TcpTransport::new(addr.to_string()), Options::default())?;
    // ANCHOR_END: tcp
    println!("over TCP at {addr}: {} channels", cam.channels()?.len());
    drop(cam);
    vcam.stop()?;

    // ANCHOR: memory
    let (host_end, cam_end) = memory::pair();
    let (rx, tx) = cam_end.split();
    let _vcam = VirtualCam::builder().spawn(Box::new(rx), Box::new(tx))?; // stops when dropped
    let cam = Camera::connect(host_end, Options::default())?;
    // ANCHOR_END: memory
    let names: Vec<String> = cam.channels()?.into_iter().map(|c| c.name).collect();
    println!("in memory: {names:?}");
    if !names.iter().any(|n| n == "config") {
        return Err("no config channel".into());
    }
    println!("embedded_vcam: ok");
    Ok(())
}
