//! Worked example 2 with typed controls: the virtual cam's `controls` channel (the firmware's
//! CBOR format: named fields with widgets) holds a threshold slider and a region of interest.
//! The operator lists the fields, sets them by name, and checks the frames change.
//!
//! ```text
//! cargo run --release -p openmvproto-docs --example operator_controls -- 127.0.0.1:5000
//! ```

use std::time::Duration;

use openmvproto::client::{Camera, Frame, Options};
use openmvproto::transport::TcpTransport;
use openmvproto_docs::wait_for;

const ROI: (u32, u32, u32, u32) = (40, 30, 160, 120);

/// The virtual cam's rule: outside the region black; inside, at or above the threshold
/// white, below it black. Both colours must show inside (the gradient spans them).
fn thresholded(f: &Frame) -> bool {
    let (rx, ry, rw, rh) = ROI;
    let mut seen = [false; 2];
    for (i, &v) in f.data.iter().enumerate() {
        let (x, y) = (i as u32 % f.width, i as u32 / f.width);
        let inside = x >= rx && y >= ry && x < rx + rw && y < ry + rh;
        match (inside, v) {
            (false, 0) => {}
            (true, 0) => seen[0] = true,
            (true, 255) => seen[1] = true,
            _ => return false,
        }
    }
    seen == [true, true]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args().nth(1).ok_or("usage: operator_controls HOST:PORT")?;
    let cam = Camera::connect(TcpTransport::new(addr), Options::default())?;
    // ANCHOR: list
    for c in cam.controls("controls")? {
        println!("{:12} {:10} {:?} {}", c.name, c.widget.type_name(), c.value, c.unit.unwrap_or_default());
    }
    // ANCHOR_END: list
    cam.streaming(true, false, None)?;
    // ANCHOR: set
    let (x, y, w, h) = ROI;
    // Checked against each field's widget (range, type) before anything is sent.
    cam.set_controls(
        "controls",
        &[
            ("threshold", 128.into()),
            ("roi x", x.into()),
            ("roi y", y.into()),
            ("roi w", w.into()),
            ("roi h", h.into()),
        ],
    )?;
    // ANCHOR_END: set
    let frame = wait_for(Duration::from_secs(5), Duration::from_millis(2), || {
        cam.read_frame().ok().flatten().filter(thresholded)
    })
    .ok_or("no thresholded frame within 5 s")?;
    println!("frame #{} shows threshold 128 in roi {ROI:?}", frame.counter);

    // Back to the plain test pattern for whoever uses the cam next.
    let (w, h) = (frame.width, frame.height);
    cam.set_controls(
        "controls",
        &[("threshold", 0.into()), ("roi x", 0.into()), ("roi y", 0.into()), ("roi w", w.into()), ("roi h", h.into())],
    )?;
    cam.streaming(false, false, None)?;
    println!("operator_controls: ok");
    Ok(())
}
