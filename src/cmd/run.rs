//! `srt run`: run a command in the sandbox (also the npm srt's drop-in form), and the hidden
//! in-sandbox init.
//!
//! Before anything starts, the file is linted (`srt_lints::run_gate`): it stops the run only
//! when srt cannot enforce it as written or when it would hand the sandbox the host; every
//! other finding is reported in a line and the run goes on. Then the runtime builds the plan
//! and runs it; it never runs the command outside the sandbox.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use srt_runtime::proxy::{ignore_patterns, ViolationOptions};
use srt_runtime::run::{RunError, RunRequest};

use crate::flags::{LevelArgs, SettingsFlags};
use crate::settings::{load_and_resolve, report, SettingsError};

#[derive(Clone, Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub settings: SettingsFlags,
    /// Print the plan and the proxies' decisions.
    #[arg(short = 'd', long = "debug")]
    pub debug: bool,
    /// Run COMMAND with bash -c (sh -c where there is no bash), as the npm srt does.
    #[arg(short = 'c', value_name = "COMMAND", conflicts_with = "argv")]
    pub command_string: Option<String>,
    /// Append every network denial to FILE as a JSON object per line (implies
    /// --report-network).
    #[arg(long, value_name = "FILE")]
    pub violations: Option<PathBuf>,
    /// Start the proxies even when the policy allows no host, so every destination the
    /// command tries is refused by them and reported (without it, such a policy has no
    /// network at all and nothing to report).
    #[arg(long)]
    pub report_network: bool,
    /// Resolve NAME to IP in the proxies (like curl's --resolve; the resolved-address guard
    /// still applies). Repeatable.
    #[arg(long, value_name = "NAME=IP", value_parser = parse_resolve)]
    pub resolve: Vec<(String, std::net::IpAddr)>,
    /// Read policy updates from this inherited descriptor (3 or above): one settings
    /// document per line; each valid line's network lists apply to the next connection.
    #[arg(long, value_name = "FD")]
    pub control_fd: Option<i32>,
    /// Which refused filesystem accesses to report: `off` (the default, as in the npm srt's
    /// CLI), `writes`, or `all` (writes, and reads of the paths the policy hides). Each observed
    /// call waits for srt's init: `writes` observes the calls that can write (about 8 us each:
    /// +19% on a `git clone`, 2x unpacking 10,000 tiny files); `all` every open when the policy
    /// hides a path.
    #[arg(long, value_enum, value_name = "WHAT", default_value = "off")]
    pub fs_violations: FsViolations,
    /// `--fs-violations off`.
    #[arg(long)]
    pub no_fs_violations: bool,
    #[command(flatten)]
    pub levels: LevelArgs,
    /// The command and its arguments (after `--`, or after the options).
    #[arg(trailing_var_arg = true)]
    pub argv: Vec<OsString>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FsViolations {
    All,
    Writes,
    Off,
}

impl Args {
    /// What the observer reports, `None` when it is off.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    fn fs_report(&self, ignore: Vec<String>) -> Option<srt_runtime::fsviolations::ReportOptions> {
        if self.no_fs_violations || self.fs_violations == FsViolations::Off {
            return None;
        }
        Some(srt_runtime::fsviolations::ReportOptions {
            stderr: true,
            jsonl: self.violations.clone(),
            ignore,
            reads: self.fs_violations == FsViolations::All,
        })
    }
}

pub(crate) fn parse_resolve(s: &str) -> Result<(String, std::net::IpAddr), String> {
    let (name, ip) = s.split_once('=').ok_or("expected NAME=IP")?;
    let ip = ip.trim_start_matches('[').trim_end_matches(']');
    Ok((
        name.to_string(),
        ip.parse().map_err(|e| format!("{ip}: {e}"))?,
    ))
}

/// The shell for `-c`: bash as the npm srt uses, else `/bin/sh`.
fn shell() -> PathBuf {
    let from_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join("bash"))
            .find(|p| p.is_file())
    });
    from_path.unwrap_or_else(|| PathBuf::from("/bin/sh"))
}

fn refuse(message: impl std::fmt::Display) -> anyhow::Result<ExitCode> {
    eprintln!("Error: {message}");
    Ok(ExitCode::from(1))
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    // Checked first, before anything is built: a caller that asked for a control channel
    // gets an error, not a run whose updates go nowhere.
    let control = match args
        .control_fd
        .map(srt_runtime::control::ControlChannel::open)
    {
        Some(Ok(c)) => Some(c),
        Some(Err(e)) => {
            eprintln!("{:?}", miette::Report::new(e));
            return Ok(ExitCode::from(1));
        }
        None => None,
    };
    let command: Vec<OsString> = match (&args.command_string, args.argv.is_empty()) {
        // `-c ''` is no command, as the npm srt says.
        (Some(c), _) if !c.trim().is_empty() => {
            vec![shell().into_os_string(), "-c".into(), c.into()]
        }
        (None, false) => args.argv.clone(),
        _ => return refuse("No command specified. Use -c <command> or provide command arguments."),
    };
    let levels = match args.levels.config() {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{:?}", miette::Report::new(e));
            return Ok(ExitCode::from(2));
        }
    };
    let resolved = match load_and_resolve(&args.settings, srt_lints::Target::host()) {
        Ok(r) => r,
        // A settings file that cannot be read is srt's refusal to run, exit 1, as the npm
        // srt's (it would run with the built-in defaults otherwise).
        Err(SettingsError::Unreadable(e)) => {
            eprintln!("{:?}", miette::Report::new(e));
            return Ok(ExitCode::from(1));
        }
        Err(e) => return Ok(report(e)),
    };
    if args.debug {
        if let Some(n) = resolved.choice.notice() {
            eprintln!("{n}");
        }
    }
    // A proxy variable srt cannot use is left out, not silently.
    for w in &resolved.ir.chain.environment_warnings {
        eprintln!("srt: warning: {w}");
    }
    let gate = srt_lints::run_gate_resolved(
        &resolved.loaded,
        &resolved.ir,
        resolved.notes.clone(),
        &srt_compiler::RealFs,
        &levels,
    );
    if let Some(code) = super::run_gate::apply(&gate, &resolved.loaded.source) {
        return Ok(code);
    }
    let control = control.map(|channel| {
        let fd = channel.fd();
        let opts = resolved.resolve_options();
        srt_runtime::control::Control {
            channel,
            validate: Box::new(move |text, number| {
                super::run_control::validate(fd, &opts, &levels, text, number)
            }),
            debug: args.debug,
        }
    });
    let mut req = request(&args, &resolved, command)?;
    req.control = control;
    let bwrap_path = resolved
        .loaded
        .settings
        .bwrap_path
        .as_ref()
        .map(|b| PathBuf::from(&b.value));
    let result = srt_runtime::run::host_sandbox(bwrap_path)
        .and_then(|mut os| srt_runtime::run::run(req, os.as_mut()));
    Ok(exit_code(result))
}

/// The run's request, the same on every OS.
fn request(
    args: &Args,
    resolved: &crate::settings::Resolved,
    command: Vec<OsString>,
) -> anyhow::Result<RunRequest> {
    let shown = command
        .iter()
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    Ok(RunRequest {
        ir: std::sync::Arc::new(resolved.ir.clone()),
        command,
        srt_binary: srt_runtime::run::options::this_srt()?,
        state_dir: srt_runtime::state_dir::default_state_dir(),
        violations: ViolationOptions {
            stderr: true,
            jsonl: args.violations.clone(),
            ignore: ignore_patterns(&resolved.loaded.settings, &shown),
            ..ViolationOptions::default()
        },
        debug: args.debug,
        resolve: args.resolve.clone(),
        fs_violations: args.fs_report(ignore_patterns(&resolved.loaded.settings, &shown)),
        control: None,
        report_network: args.report_network || args.violations.is_some(),
    })
}

/// The command's status as srt's exit code, or the error reported and 1.
fn exit_code(result: Result<i32, RunError>) -> ExitCode {
    match result {
        Ok(status) => ExitCode::from(u8::try_from(status).unwrap_or(255)),
        Err(e) => {
            eprintln!("{:?}", miette::Report::new(e));
            ExitCode::from(1)
        }
    }
}

/// `srt __init`: run by bubblewrap as PID 1 inside the sandbox (see `srt_runtime::init`).
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Mount this symlink on itself before the command starts, so it cannot be replaced.
    #[arg(long = "pin-link", value_name = "PATH")]
    pub link_pins: Vec<PathBuf>,
    /// Listen on 127.0.0.1:PORT (and [::1]:PORT) and relay to the Unix socket SOCKET, which
    /// must be a socket of this user with device DEV and inode INO (checked before the command
    /// starts; connections then go through the descriptor opened for the check).
    #[arg(long = "bridge", value_name = "PORT=DEV:INO:SOCKET")]
    pub bridges: Vec<String>,
    /// Read the seccomp program (raw `struct sock_filter` array) from this inherited fd.
    #[arg(long, value_name = "FD")]
    pub seccomp_fd: Option<i32>,
    /// Read the filesystem observer's program and rules from this inherited fd, and install
    /// it on the command after the seccomp program.
    #[arg(long, value_name = "FD", requires = "fs_events")]
    pub fs_observer: Option<i32>,
    /// Report what the observer sees on this inherited pipe.
    #[arg(long, value_name = "FD", requires = "fs_observer")]
    pub fs_events: Option<i32>,
    /// The command and its arguments.
    #[arg(last = true, required = true)]
    pub argv: Vec<std::ffi::OsString>,
}

#[cfg(target_os = "linux")]
pub fn init(args: InitArgs) -> anyhow::Result<ExitCode> {
    use srt_runtime::init::{filter_from_bytes, run, Bridge, InitConfig};
    let bridges = args
        .bridges
        .iter()
        .map(|b| {
            Bridge::parse(b).ok_or_else(|| {
                anyhow::anyhow!("--bridge wants PORT=DEV:INO:SOCKET (an absolute path), got {b}")
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let filter = match args.seccomp_fd {
        Some(fd) => Some(
            filter_from_bytes(&read_inherited(fd)?)
                .ok_or_else(|| anyhow::anyhow!("fd {fd} does not hold a seccomp program"))?,
        ),
        None => None,
    };
    let observer = match (args.fs_observer, args.fs_events) {
        (Some(config), Some(events)) => {
            use std::os::fd::{FromRawFd, OwnedFd};
            let bytes = read_inherited(config)?;
            let config = srt_runtime::fsviolations::ObserverConfig::decode(&bytes)
                .ok_or_else(|| anyhow::anyhow!("fd {config} does not hold an observer"))?;
            // SAFETY: the host passed this pipe's write end to us for exactly this.
            let events = unsafe { OwnedFd::from_raw_fd(events) };
            Some(srt_runtime::fsviolations::supervisor::Pending::new(
                config, events,
            )?)
        }
        _ => None,
    };
    let status = run(InitConfig {
        link_pins: args.link_pins,
        bridges,
        filter,
        observer,
        argv: args.argv,
    })?;
    // Exit statuses above 255 cannot happen (128+N with N < 128); clamp defensively.
    Ok(ExitCode::from(u8::try_from(status).unwrap_or(255)))
}

/// The whole of a file the host passed the init (a memfd), which is closed after reading so
/// the command does not inherit it.
#[cfg(target_os = "linux")]
fn read_inherited(fd: i32) -> anyhow::Result<Vec<u8>> {
    use std::io::{Read, Seek};
    use std::os::fd::FromRawFd;
    // SAFETY: the host passed this fd to us for exactly this; we take ownership and close it
    // after reading.
    let mut file = unsafe { std::fs::File::from_raw_fd(fd) };
    // A memfd or file is read from its start (the host's writes moved the shared offset); a
    // pipe cannot seek and is read as it is.
    let _ = file.rewind();
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

#[cfg(not(target_os = "linux"))]
pub fn init(_args: InitArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("the in-sandbox init runs only on Linux")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    /// The request, the same on every OS: the settings, the violation options, the command.
    #[test]
    fn the_request_from_the_cli() {
        let dir = tempfile::tempdir().unwrap();
        let settings = dir.path().join("s.json");
        std::fs::write(
            &settings,
            r#"{"network":{"allowedDomains":["example.com"],"deniedDomains":[]},
 "filesystem":{"denyRead":[],"allowWrite":[],"denyWrite":[]},
 "ignoreViolations":{"*":["x.test"],"echo":["y.test"],"other":["z.test"]}}"#,
        )
        .unwrap();
        let flags = SettingsFlags {
            settings: Some(settings.clone()),
            ..SettingsFlags::default()
        };
        let args = Args {
            settings: flags.clone(),
            debug: true,
            command_string: None,
            violations: Some(dir.path().join("v.jsonl")),
            resolve: vec![("a.test".into(), "127.0.0.1".parse().unwrap())],
            control_fd: None,
            fs_violations: FsViolations::Writes,
            no_fs_violations: false,
            report_network: false,
            levels: LevelArgs::default(),
            argv: vec![],
        };
        let Ok(resolved) = load_and_resolve(&flags, srt_lints::Target::host()) else {
            panic!("settings do not load");
        };
        let command: Vec<OsString> = vec!["/bin/bash".into(), "-c".into(), "echo 'hi'".into()];
        let req = request(&args, &resolved, command.clone()).unwrap();
        assert_eq!(req.command, command);
        assert!(req.srt_binary.is_absolute());
        assert_eq!(req.violations.jsonl, args.violations);
        assert_eq!(req.violations.ignore, ["x.test", "y.test"]);
        assert!(req.violations.stderr && req.debug);
        assert_eq!(req.resolve, args.resolve);
        assert_eq!(req.ir.net.allowed.len(), 1);
        assert_eq!(exit_code(Ok(3)), ExitCode::from(3));
        assert_eq!(exit_code(Err(RunError::UnsupportedOs)), ExitCode::from(1));
    }
}
