//! `omv vcam`: a virtual cam on a pty (`--pty LINK`) or TCP (`--tcp ADDR:PORT`), until Ctrl-C
//! or SIGTERM.

use std::io::Write;

use anyhow::{Context, Result};

use openmvproto_vcam::VirtualCam;

use crate::cli::{LinkArgs, VcamArgs};

pub fn vcam(link: &LinkArgs, args: &VcamArgs) -> Result<()> {
    let cam = VirtualCam::new(args.cam.to_options()?)?;
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
    let stop = handle.stop_token();
    ctrlc::set_handler(move || stop.stop()).context("cannot catch Ctrl-C")?;
    // Ends when the signal stops the cam, or with the error that ended the serve loop.
    Ok(handle.join()?)
}
