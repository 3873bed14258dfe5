//! `omv vcam`: a virtual cam on a pty (`--pty LINK`) or TCP (`--tcp ADDR:PORT`), until Ctrl-C
//! or SIGTERM.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};

use openmvproto_vcam::VirtualCam;

use crate::cli::{LinkArgs, VcamArgs};

pub fn vcam(link: &LinkArgs, args: &VcamArgs) -> Result<()> {
    let cam = VirtualCam::new(args.cam.to_options()?)?;
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed)).context("cannot catch Ctrl-C")?;
    let handle = match &args.pty {
        Some(l) => {
            let h = cam.spawn_pty(Some(l))?;
            let slave = h.pty_path().map(|p| p.display().to_string()).unwrap_or_default();
            println!("pty {slave} at {}", l.display());
            h
        }
        None => {
            // As omv-vcam: only loopback, unless the user accepts serving EXEC to the network.
            let addr = openmvproto_vcam::tcp_listen_addr(link.tcp.as_deref().unwrap_or("0"), args.allow_remote_exec)?;
            let h = cam.spawn_tcp(addr).with_context(|| format!("cannot listen on {addr}"))?;
            println!("listening on {}", h.addr().context("no address")?);
            h
        }
    };
    std::io::stdout().flush()?;
    // A signal only sets the flag; look at it often enough to exit promptly.
    while !stop.load(Ordering::Relaxed) {
        if handle.is_finished() {
            return Ok(handle.join()?);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(handle.stop()?)
}
