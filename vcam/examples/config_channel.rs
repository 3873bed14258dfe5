//! An operator changing a threshold and a region of interest at run time through a user
//! channel (`config`), the way a robot's control loop would tune its cam.
//!
//! ```text
//! cargo run --release --example config_channel                      # built-in virtual cam
//! cargo run --release --example config_channel -- --tcp 127.0.0.1:5000
//! ```

use clap::Parser;
use openmvproto::client::{Camera, Options};
use openmvproto::transport::{memory, SerialTransport, TcpTransport};
use openmvproto_vcam::{VcamHandle, VirtualCam};

#[derive(Parser)]
struct Args {
    #[arg(long)]
    port: Option<String>,
    #[arg(long)]
    tcp: Option<String>,
    /// Name of the user channel the cam's script reads its settings from.
    #[arg(long, default_value = "config")]
    channel: String,
}

/// The settings the cam's script reads: a line of `key=value` pairs.
struct Settings {
    threshold: u8,
    roi: (u32, u32, u32, u32),
}

impl Settings {
    fn encode(&self) -> String {
        let (x, y, w, h) = self.roi;
        format!("threshold={} roi={x},{y},{w},{h}\n", self.threshold)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    env_logger::init();
    let args = Args::parse();
    let mut _embedded: Option<VcamHandle> = None;
    let cam = match (&args.port, &args.tcp) {
        (Some(port), _) => Camera::connect(SerialTransport::new(port), Options::default())?,
        (None, Some(addr)) => Camera::connect(TcpTransport::new(addr), Options::default())?,
        (None, None) => {
            let (host_end, cam_end) = memory::pair();
            let (rx, tx) = cam_end.split();
            _embedded = Some(VirtualCam::builder().spawn(Box::new(rx), Box::new(tx))?);
            Camera::connect(host_end, Options::default())?
        }
    };
    if !cam.has_channel(&args.channel)? {
        return Err(format!("the cam has no `{}` channel", args.channel).into());
    }

    // The operator tightens the threshold and moves the region of interest, step by step.
    for (step, threshold) in [40u8, 60, 80].into_iter().enumerate() {
        let s = Settings { threshold, roi: (10 * step as u32, 20, 160, 120) };
        let text = s.encode();
        cam.write(args.channel.as_str(), 0, text.as_bytes())?;
        // Read it back as the cam sees it.
        let back = cam.read_available(args.channel.as_str())?;
        assert_eq!(back, text.as_bytes(), "the cam holds what was written");
        print!("set {}", String::from_utf8_lossy(&back));
    }
    let stats = cam.device_stats()?;
    println!(
        "cam counted {} packets in, {} out, {} checksum errors",
        stats.received, stats.sent, stats.checksum_errors
    );
    Ok(())
}
