//! The host side in Rust, as the book teaches it: connect, list the channels, pull data, push
//! a command back, and listen to the cam's events.
//!
//! ```text
//! cargo run --release -p openmvproto-docs --example host_tour -- 127.0.0.1:5000
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

// ANCHOR: connect
use openmvproto::client::{Camera, ClientEvent, Options};
use openmvproto::transport::TcpTransport;
// ANCHOR_END: connect
use openmvproto::framing::payload::event;
use openmvproto::ChannelId;
use openmvproto_docs::wait_for;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args().nth(1).ok_or("usage: host_tour HOST:PORT")?;

    // ANCHOR: open
    // PROTO_SYNC, capabilities, channel list: all done before `connect` returns.
    let cam = Camera::connect(TcpTransport::new(addr), Options::default())?;
    let v = cam.version()?;
    println!("protocol {}.{}.{}, caps {:?}", v.protocol.0, v.protocol.1, v.protocol.2, cam.caps());
    // ANCHOR_END: open

    // ANCHOR: list
    for ch in cam.channels()? {
        println!("channel {:2} {:14} {:?}", ch.id.0, ch.name, ch.flags);
    }
    // ANCHOR_END: list

    // ANCHOR: events
    // Listeners run on the client's event thread, outside its locks; a call they make waits
    // for any operation in flight.
    let notifies = Arc::new(AtomicUsize::new(0));
    let seen = notifies.clone();
    cam.subscribe(move |e| {
        if let ClientEvent::Device { channel: ChannelId::STREAM, code: event::NOTIFY } = e {
            seen.fetch_add(1, Ordering::Relaxed);
        }
    });
    // ANCHOR_END: events

    // ANCHOR: push
    // Push a command: a user channel takes bytes at an offset (long values are split).
    cam.write("config", 0, b"threshold=60\n")?;
    // Pull data: size, then read; `read_available` does both.
    let back = cam.read_available("config")?;
    println!("config holds {:?}", String::from_utf8_lossy(&back));
    // ANCHOR_END: push
    if back != b"threshold=60\n" {
        return Err(format!("config read back {back:?}").into());
    }

    // ANCHOR: pull
    cam.streaming(true, false, None)?;
    let frame = cam.wait_frame(Duration::from_secs(10))?.ok_or("no frame within 10 s")?;
    println!(
        "frame #{}: {}x{} {:?}, {} bytes",
        frame.counter,
        frame.width,
        frame.height,
        frame.format,
        frame.data.len()
    );
    // ANCHOR_END: pull
    if frame.data.is_empty() || frame.width == 0 {
        return Err("an empty frame".into());
    }
    if wait_for(Duration::from_secs(5), Duration::from_millis(5), || {
        (notifies.load(Ordering::Relaxed) > 0).then_some(())
    })
    .is_none()
    {
        return Err("no stream NOTIFY event".into());
    }
    cam.streaming(false, false, None)?;

    // ANCHOR: stats
    let cam_side = cam.device_stats()?; // PROTO_STATS: what the cam counted
    let host_side = cam.host_stats(); // the same counters, as this host counted
    println!(
        "cam: {} in, {} out, {} retransmits; host: {} checksum errors",
        cam_side.received, cam_side.sent, cam_side.retransmits, host_side.checksum_errors
    );
    // ANCHOR_END: stats
    println!("host_tour: ok");
    Ok(())
}
