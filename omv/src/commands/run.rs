//! `omv run SCRIPT [--follow]` and `omv stop`.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use anyhow::{Context, Result};

use openmvproto::client::ClientEvent;
use openmvproto::framing::payload::event;
use openmvproto::framing::ChannelId;

use crate::cli::{LinkArgs, RunArgs};

/// What the event listener tells the follow loop.
enum Note {
    Started,
    Stopped,
    Output,
}

pub fn run(link: &LinkArgs, args: &RunArgs) -> Result<u8> {
    let script = std::fs::read(&args.script).with_context(|| format!("cannot read {}", args.script.display()))?;
    let (tx, rx) = mpsc::channel();
    let s = link.connect()?;
    let cam = &s.cam;
    let stdin = cam.channel_id("stdin")?;
    let stdout = cam.channel_id("stdout")?;
    if args.follow {
        cam.subscribe(move |e| {
            let note = match e {
                ClientEvent::Device { channel, code } => match (*channel, *code) {
                    (c, event::SCRIPT_STARTED) if c == stdin => Note::Started,
                    (c, event::SCRIPT_STOPPED) if c == stdin => Note::Stopped,
                    // A script's end restarts the cam's engine; its stop event may be lost.
                    (ChannelId::TRANSPORT, event::SOFT_REBOOT) => Note::Stopped,
                    (c, event::NOTIFY) if c == stdout => Note::Output,
                    _ => return,
                },
                ClientEvent::CamRestarted => Note::Stopped,
                _ => return,
            };
            let _ = tx.send(note);
        });
    }
    let interrupted = Arc::new(AtomicBool::new(false));
    if args.follow {
        let flag = interrupted.clone();
        ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed)).context("cannot catch Ctrl-C")?;
    }
    cam.exec(&script)?;
    if !args.follow {
        if !link.json {
            eprintln!("started {} on {}", args.script.display(), s.target);
        }
        return Ok(0);
    }
    let mut out = std::io::stdout();
    let mut started = false;
    loop {
        if interrupted.load(Ordering::Relaxed) {
            cam.stop().context("cannot stop the script")?;
            print_all(cam, &mut out)?;
            eprintln!("\nstopped {} on the cam", args.script.display());
            return Ok(130);
        }
        if print_all(cam, &mut out)? {
            started = true;
        }
        // Output is polled too: without events (--events false) no note comes.
        match rx.recv_timeout(Duration::from_millis(20)) {
            Ok(Note::Started) => started = true,
            Ok(Note::Stopped) if started => {
                print_all(cam, &mut out)?;
                return Ok(0);
            }
            Ok(_) | Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => anyhow::bail!("event thread ended"),
        }
    }
}

/// Prints what the stdout channel holds until it is empty; whether there was any.
fn print_all(cam: &openmvproto::client::Camera, out: &mut std::io::Stdout) -> Result<bool> {
    let mut any = false;
    loop {
        let text = cam.read_stdout()?;
        if text.is_empty() {
            return Ok(any);
        }
        any = true;
        out.write_all(text.as_bytes())?;
        out.flush()?;
    }
}

pub fn stop(link: &LinkArgs) -> Result<()> {
    let s = link.connect()?;
    s.cam.stop()?;
    if !link.json {
        eprintln!("stopped the script on {}", s.target);
    }
    Ok(())
}
