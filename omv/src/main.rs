//! `omv`: the OpenMV cam command line and live view. See `omv --help`.
//!
//!     omv                          # live view of the built-in virtual cam
//!     omv --port /dev/ttyACM0      # live view of a cam
//!     omv --port /dev/ttyACM0 run main.py --follow
//!
//! Errors are one line on stderr and exit code 1 (2 for a bad command line).

mod cli;
mod commands;
mod connect;
mod frame_wait;
mod symbols;
mod view;
mod wiretap;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Cmd};

fn init_logging(debug: bool, quiet: bool) {
    let level = if debug {
        "debug"
    } else if quiet {
        "error"
    } else {
        "warn"
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(level)).format_target(debug).init();
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    let link = &cli.link;
    match &cli.cmd {
        None => view::run(link, &cli.view).map(|()| 0),
        Some(Cmd::View(v)) => view::run(link, v).map(|()| 0),
        Some(Cmd::Ports) => commands::info::ports(link).map(|()| 0),
        Some(Cmd::Info) => commands::info::info(link).map(|()| 0),
        Some(Cmd::Run(a)) => commands::run::run(link, a),
        Some(Cmd::Stop) => commands::run::stop(link).map(|()| 0),
        Some(Cmd::Frames(a)) => commands::frames::frames(link, a).map(|()| 0),
        Some(Cmd::Channel(c)) => commands::channel::channel(link, c).map(|()| 0),
        Some(Cmd::Bench(a)) => commands::bench::bench(link, a).map(|()| 0),
        Some(Cmd::Controls(c)) => commands::controls::controls(link, c).map(|()| 0),
        Some(Cmd::Vcam(a)) => commands::vcam::vcam(link, a).map(|()| 0),
    }
}

/// Output into a closed pipe (`omv info | head -1`) ends the process quietly, as other Unix
/// tools do, instead of failing on every later print.
fn default_sigpipe() {
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of SIGPIPE, before any thread is started;
    // no handler code is involved.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> ExitCode {
    default_sigpipe();
    // A bug should still be one line, not a backtrace.
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        eprintln!("omv: internal error: {msg}{at}");
    }));
    let cli = Cli::parse();
    init_logging(cli.link.debug, cli.link.quiet);
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("omv: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, without repeats ("cannot connect: no answer").
fn one_line(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let s = cause.to_string().replace('\n', " ");
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
    }
    parts.join(": ")
}
