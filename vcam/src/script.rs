//! Runs uploaded scripts with an external interpreter (default `python3 -u -`): the script goes
//! to its standard input, its standard output and error come back through reader threads and a
//! channel, for the serve loop to push into the stdout ring.
//!
//! Each script runs in its own process group, so STOP also ends whatever it started.

use std::io::{self, Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::thread;
use std::time::{Duration, Instant};

use log::{debug, info, warn};

/// After the interpreter exits, wait this long for its output pipes to close (something it
/// started may keep them open) before calling the script finished.
const EOF_GRACE: Duration = Duration::from_millis(200);

enum Msg {
    Output(Vec<u8>),
    Eof { run: u64 },
}

struct Running {
    child: Child,
    run: u64,
    open_pipes: u8,
    exited: Option<(ExitStatus, Instant)>,
}

/// Starts, watches and stops one script at a time.
pub struct ScriptRunner {
    program: String,
    args: Vec<String>,
    tx: Sender<Msg>,
    rx: Receiver<Msg>,
    current: Option<Running>,
    runs: u64,
}

impl std::fmt::Debug for ScriptRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptRunner")
            .field("program", &self.program)
            .field("args", &self.args)
            .field("running", &self.current.as_ref().map(|r| r.child.id()))
            .finish()
    }
}

impl ScriptRunner {
    /// `command`: the interpreter and its arguments, split at whitespace (no shell quoting).
    pub fn new(command: &str) -> io::Result<Self> {
        let mut words = command.split_whitespace().map(str::to_owned);
        let program = words
            .next()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "empty script interpreter command"))?;
        let (tx, rx) = mpsc::channel();
        Ok(ScriptRunner { program, args: words.collect(), tx, rx, current: None, runs: 0 })
    }

    /// Whether a script was started and has not yet been stopped or reported finished by
    /// [`ScriptRunner::pump`].
    pub fn is_running(&self) -> bool {
        self.current.is_some()
    }

    /// Starts `script`; the caller stops a running one first.
    pub fn start(&mut self, script: &[u8]) -> io::Result<()> {
        debug_assert!(self.current.is_none());
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let mut child = cmd.spawn()?;
        self.runs += 1;
        let run = self.runs;
        info!("script started: {} bytes, {} (pid {})", script.len(), self.program, child.id());

        if let Some(mut stdin) = child.stdin.take() {
            let script = script.to_vec();
            // A thread, so a script that prints before reading all its input cannot deadlock us.
            spawn_named("vcam-script-in", move || {
                if let Err(e) = stdin.write_all(&script) {
                    debug!("script stdin: {e}");
                }
            })?;
        }
        let mut open_pipes = 0;
        if let Some(out) = child.stdout.take() {
            self.spawn_reader(out, run, "vcam-script-out")?;
            open_pipes += 1;
        }
        if let Some(err) = child.stderr.take() {
            self.spawn_reader(err, run, "vcam-script-err")?;
            open_pipes += 1;
        }
        self.current = Some(Running { child, run, open_pipes, exited: None });
        Ok(())
    }

    fn spawn_reader(&self, mut pipe: impl Read + Send + 'static, run: u64, name: &str) -> io::Result<()> {
        let tx = self.tx.clone();
        spawn_named(name, move || {
            let mut buf = vec![0u8; 4096];
            loop {
                match pipe.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        if tx.send(Msg::Output(buf[..n].to_vec())).is_err() {
                            return;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        debug!("script output pipe: {e}");
                        break;
                    }
                }
            }
            let _ = tx.send(Msg::Eof { run });
        })
    }

    /// Kills the running script (and its process group); `true` if one was running.
    pub fn stop(&mut self) -> bool {
        let Some(mut r) = self.current.take() else { return false };
        if r.exited.is_none() {
            kill_group(&mut r.child);
        }
        match r.child.wait() {
            Ok(status) => info!("script stopped ({status})"),
            Err(e) => warn!("script stopped, but waiting for it failed: {e}"),
        }
        true
    }

    /// Hands the scripts' output to `sink` (output of a stopped script that was still in the
    /// pipes included) and returns `true` when the running script has just finished.
    pub fn pump(&mut self, mut sink: impl FnMut(&[u8])) -> bool {
        loop {
            match self.rx.try_recv() {
                Ok(Msg::Output(bytes)) => sink(&bytes),
                Ok(Msg::Eof { run }) => {
                    if let Some(r) = self.current.as_mut().filter(|r| r.run == run) {
                        r.open_pipes = r.open_pipes.saturating_sub(1);
                    }
                }
                // The runner holds a sender itself, so the channel never disconnects.
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        let Some(r) = self.current.as_mut() else { return false };
        if r.exited.is_none() {
            match r.child.try_wait() {
                Ok(Some(status)) => r.exited = Some((status, Instant::now())),
                Ok(None) => return false,
                Err(e) => {
                    warn!("script: cannot query its state ({e}); stopping it");
                    self.stop();
                    return true;
                }
            }
        }
        let Some((status, at)) = r.exited else { return false };
        if r.open_pipes > 0 && at.elapsed() < EOF_GRACE {
            return false;
        }
        info!("script finished ({status})");
        self.current = None;
        true
    }
}

impl Drop for ScriptRunner {
    fn drop(&mut self) {
        self.stop();
    }
}

fn spawn_named(name: &str, f: impl FnOnce() + Send + 'static) -> io::Result<()> {
    thread::Builder::new().name(name.into()).spawn(f).map(drop)
}

#[cfg(unix)]
fn kill_group(child: &mut Child) {
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill(2) takes plain integers and touches no memory of ours. The child was
        // spawned as the leader of its own process group (process_group(0)) and has not been
        // reaped yet, so -pid names that group and nothing else.
        if pid > 0 && unsafe { libc::kill(-pid, libc::SIGKILL) } == 0 {
            return;
        }
    }
    let _ = child.kill();
}

#[cfg(not(unix))]
fn kill_group(child: &mut Child) {
    let _ = child.kill();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wait_finish(r: &mut ScriptRunner, out: &mut Vec<u8>) -> bool {
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if r.pump(|b| out.extend_from_slice(b)) {
                return true;
            }
            thread::sleep(Duration::from_millis(2));
        }
        false
    }

    #[test]
    fn runs_a_script_and_collects_both_streams() {
        let mut r = ScriptRunner::new("sh -s").unwrap();
        r.start(b"echo out; echo err >&2; echo done\n").unwrap();
        assert!(r.is_running());
        let mut out = Vec::new();
        assert!(wait_finish(&mut r, &mut out));
        let text = String::from_utf8(out).unwrap();
        for want in ["out\n", "err\n", "done\n"] {
            assert!(text.contains(want), "{text:?}");
        }
        assert!(!r.is_running());
        assert!(!r.stop());
    }

    #[test]
    fn stop_kills_the_script_and_what_it_started() {
        let mut r = ScriptRunner::new("sh -s").unwrap();
        r.start(b"sleep 30 & echo started; sleep 30\n").unwrap();
        let mut out = Vec::new();
        let until = Instant::now() + Duration::from_secs(10);
        while !out.ends_with(b"started\n") && Instant::now() < until {
            r.pump(|b| out.extend_from_slice(b));
            thread::sleep(Duration::from_millis(2));
        }
        let t = Instant::now();
        assert!(r.stop());
        assert!(t.elapsed() < Duration::from_secs(5));
        assert!(!r.is_running());
        assert!(!r.pump(|_| {}));
    }

    #[test]
    fn a_missing_interpreter_is_an_error() {
        assert!(ScriptRunner::new("  ").is_err());
        let mut r = ScriptRunner::new("/nonexistent/interpreter -").unwrap();
        assert!(r.start(b"x").is_err());
        assert!(!r.is_running());
    }
}
