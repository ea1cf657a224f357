//! `srt run` (not in this build yet) and the hidden in-sandbox init.

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Settings file (default: ~/.srt-settings.json).
    #[arg(short = 's', long = "settings", value_name = "FILE")]
    pub settings: Option<std::path::PathBuf>,
    /// Debug output.
    #[arg(short = 'd', long = "debug")]
    pub debug: bool,
    /// Run COMMAND with /bin/sh -c.
    #[arg(short = 'c', value_name = "COMMAND")]
    pub command_string: Option<String>,
    /// The command and its arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub argv: Vec<String>,
}

/// `srt __init`: run by bubblewrap as PID 1 inside the sandbox (see `srt_runtime::init`).
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Listen on 127.0.0.1:PORT (and [::1]:PORT) and relay to the Unix socket SOCKET.
    #[arg(long = "bridge", value_name = "PORT=SOCKET")]
    pub bridges: Vec<String>,
    /// Read the seccomp program (raw `struct sock_filter` array) from this inherited fd.
    #[arg(long, value_name = "FD")]
    pub seccomp_fd: Option<i32>,
    /// The command and its arguments.
    #[arg(last = true, required = true)]
    pub argv: Vec<std::ffi::OsString>,
}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    super::not_yet("run")
}

#[cfg(target_os = "linux")]
pub fn init(args: InitArgs) -> anyhow::Result<ExitCode> {
    use srt_runtime::init::{filter_from_bytes, run, Bridge, InitConfig};
    let mut bridges = Vec::new();
    for b in &args.bridges {
        let (port, socket) = b
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--bridge wants PORT=SOCKET, got {b}"))?;
        bridges.push(Bridge {
            port: port.parse()?,
            unix_socket: socket.into(),
        });
    }
    let filter = match args.seccomp_fd {
        Some(fd) => {
            use std::io::{Read, Seek};
            use std::os::fd::FromRawFd;
            // SAFETY: the host passed this fd to us for exactly this; we take ownership and
            // close it after reading, so the command does not inherit it.
            let mut file = unsafe { std::fs::File::from_raw_fd(fd) };
            // A memfd or file is read from its start (the host's writes moved the shared
            // offset); a pipe cannot seek and is read as it is.
            let _ = file.rewind();
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes)?;
            Some(
                filter_from_bytes(&bytes)
                    .ok_or_else(|| anyhow::anyhow!("fd {fd} does not hold a seccomp program"))?,
            )
        }
        None => None,
    };
    let status = run(InitConfig {
        bridges,
        filter,
        argv: args.argv,
    })?;
    // Exit statuses above 255 cannot happen (128+N with N < 128); clamp defensively.
    Ok(ExitCode::from(u8::try_from(status).unwrap_or(255)))
}

#[cfg(not(target_os = "linux"))]
pub fn init(_args: InitArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("the in-sandbox init runs only on Linux")
}
