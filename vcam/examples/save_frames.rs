//! Save frames: connect to a cam (by default an in-process virtual cam), stream frames and write
//! them as PNG files.
//!
//! ```text
//! cargo run --release -p openmvproto-vcam --example save_frames             # built-in virtual cam
//! cargo run --release -p openmvproto-vcam --example save_frames -- --port /dev/ttyACM0
//! cargo run --release -p openmvproto-vcam --example save_frames -- --tcp 127.0.0.1:5000 --frames 30
//! ```

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Parser;
use openmvproto::client::{Camera, ClientEvent, Options};
use openmvproto::transport::{memory, SerialTransport, TcpTransport};
use openmvproto_vcam::{VcamHandle, VirtualCam};

#[derive(Parser)]
struct Args {
    /// Serial port of a cam (USB CDC or UART).
    #[arg(long)]
    port: Option<String>,
    /// Address of a network cam or of `omv-vcam --tcp`.
    #[arg(long)]
    tcp: Option<String>,
    /// Frames to save.
    #[arg(long, default_value_t = 10)]
    frames: u32,
    /// Folder for the PNG files.
    #[arg(long, default_value = "target/frames")]
    out: PathBuf,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    env_logger::init();
    let args = Args::parse();
    let opts = Options::default().on_event(|e| {
        if let ClientEvent::LinkLost { reason } = e {
            eprintln!("link lost: {reason}");
        }
    });

    // Keep the embedded cam alive as long as the camera talks to it.
    let mut _embedded: Option<VcamHandle> = None;
    let cam = match (&args.port, &args.tcp) {
        (Some(port), _) => Camera::connect(SerialTransport::new(port), opts)?,
        (None, Some(addr)) => Camera::connect(TcpTransport::new(addr), opts)?,
        (None, None) => {
            let (host_end, cam_end) = memory::pair();
            let (rx, tx) = cam_end.split();
            _embedded = Some(VirtualCam::builder().spawn(Box::new(rx), Box::new(tx))?);
            println!("no cam given: using the built-in virtual cam");
            Camera::connect(host_end, opts)?
        }
    };

    let v = cam.version()?;
    let p = v.protocol;
    println!("connected to {} (protocol {}.{}.{})", cam.describe(), p.0, p.1, p.2);
    for ch in cam.channels()? {
        println!("  channel {:2} {:14} flags {:?}", ch.id.0, ch.name, ch.flags);
    }

    std::fs::create_dir_all(&args.out)?;
    cam.streaming(true, false, None)?;
    let start = Instant::now();
    let mut saved = 0;
    let give_up = start + Duration::from_secs(30);
    while saved < args.frames {
        // Sleeps until the cam says a frame is ready: no polling.
        let left = give_up.saturating_duration_since(Instant::now());
        let Some(frame) = cam.wait_frame(left)? else {
            return Err("no frames within 30 s".into());
        };
        let rgb = frame.to_rgb888()?;
        let path = args.out.join(format!("frame-{:04}.png", frame.counter));
        image::save_buffer(&path, &rgb.pixels, rgb.width, rgb.height, image::ExtendedColorType::Rgb8)?;
        println!("{}  {}x{} {:?} fps {:?}", path.display(), frame.width, frame.height, frame.format, frame.fps);
        saved += 1;
    }
    cam.streaming(false, false, None)?;
    let secs = start.elapsed().as_secs_f64();
    println!("{saved} frames in {secs:.2} s ({:.1} fps)", saved as f64 / secs);
    Ok(())
}
