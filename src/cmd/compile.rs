//! `srt compile --target macos|linux`: print what a target OS will enforce.

use std::process::ExitCode;

use clap::ValueEnum;

use crate::flags::{SettingsFlags, TargetFlag};

mod linux;
mod macos;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub target: TargetFlag,
    #[command(flatten)]
    pub settings: SettingsFlags,
    /// Output format: `text` (default), `json` (linux), `command` (macos).
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// Linux: the architecture of the seccomp program (default: this machine's).
    #[arg(long, value_enum, value_name = "ARCH")]
    pub arch: Option<Arch>,
    /// Linux: the plan of a run on a terminal (srt's stdin or stdout is its controlling
    /// terminal): srt's init runs, and the sandbox's group gets the terminal.
    #[arg(long)]
    pub terminal: bool,
    /// Linux: the plan of `srt run --fs-violations WHAT` (`off`, the default, `writes`, `all`).
    #[arg(long, value_enum, value_name = "WHAT", default_value = "off")]
    pub fs_violations: super::run::FsViolations,
    /// Linux: `--fs-violations off`.
    #[arg(long)]
    pub no_fs_violations: bool,
    /// Linux: the plan of `srt run --report-network` (or `--violations FILE`): the proxies
    /// run even when no host is allowed, to report what the command tries.
    #[arg(long)]
    pub report_network: bool,

    // --- macOS (Seatbelt) only ---
    /// Loopback port of srt's proxy, named in the profile (macos; default 3128, or the
    /// settings' httpProxyPort/socksProxyPort).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub proxy_port: Option<u16>,
    /// Put a comment above each rule naming the settings key and file:line:col it came
    /// from, or the built-in rule (macos).
    #[arg(long)]
    pub annotate: bool,
    /// The message Seatbelt logs with each denial (macos; default SRT_SBX).
    #[arg(long, value_name = "TAG")]
    pub log_tag: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Arch {
    #[value(name = "x86_64")]
    X86_64,
    Aarch64,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.target.get() {
        srt_lints::Target::Macos => macos::run(&args),
        srt_lints::Target::Linux => linux::run(&args),
    }
}
