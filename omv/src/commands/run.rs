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

/// Lost stdout reads in a row that end a follow: the link is too bad to go on.
const LOST_READS_MAX: u32 = 3;

/// Prints what the stdout channel holds until it is empty; whether there was any.
fn print_all(cam: &openmvproto::client::Camera, out: &mut std::io::Stdout) -> Result<bool> {
    drain(|| cam.read_stdout(), out, &mut std::io::stderr())
}

/// Writes what `read` gives to `out` until it gives nothing. A read whose answer was lost (the
/// link recovered, that text may be gone) is noted on `notes`, and the follow goes on, unless
/// [`LOST_READS_MAX`] are lost in a row.
fn drain(
    mut read: impl FnMut() -> openmvproto::client::Result<String>,
    out: &mut impl Write,
    notes: &mut impl Write,
) -> Result<bool> {
    let (mut any, mut lost) = (false, 0);
    loop {
        let text = match read() {
            Ok(text) => text,
            Err(e @ openmvproto::client::Error::OutcomeUnknown { .. }) if lost < LOST_READS_MAX => {
                lost += 1;
                writeln!(notes, "\nomv: some script output may be missing ({e})")?;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        lost = 0;
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

#[cfg(test)]
mod tests {
    use super::*;
    use openmvproto::client::Error;

    #[test]
    fn a_lost_stdout_read_is_noted_and_the_follow_goes_on() {
        let mut reads = vec![
            Ok("one\n".to_string()),
            Err(Error::OutcomeUnknown { op: "read_stdout", cause: Box::new(Error::Sequence) }),
            Ok("three\n".to_string()),
            Ok(String::new()),
        ]
        .into_iter();
        let (mut out, mut notes) = (Vec::new(), Vec::new());
        assert!(drain(|| reads.next().unwrap(), &mut out, &mut notes).unwrap());
        assert_eq!(out, b"one\nthree\n");
        let notes = String::from_utf8(notes).unwrap();
        assert!(notes.contains("may be missing") && notes.contains("outcome unknown"), "{notes}");
    }

    #[test]
    fn lost_reads_in_a_row_end_the_follow() {
        let lost = || Err(Error::OutcomeUnknown { op: "read_stdout", cause: Box::new(Error::Sequence) });
        let mut calls = 0;
        let (mut out, mut notes) = (Vec::new(), Vec::new());
        let r = drain(
            || {
                calls += 1;
                lost()
            },
            &mut out,
            &mut notes,
        );
        assert!(r.is_err());
        assert_eq!(calls, LOST_READS_MAX + 1);
    }

    #[test]
    fn other_errors_end_the_follow() {
        let mut reads = vec![Ok("one\n".to_string()), Err(Error::Disconnected)].into_iter();
        let (mut out, mut notes) = (Vec::new(), Vec::new());
        assert!(drain(|| reads.next().unwrap(), &mut out, &mut notes).is_err());
        assert_eq!(out, b"one\n");
        assert!(notes.is_empty());
    }
}
