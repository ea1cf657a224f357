//! `srt compile --target macos|linux`: print what a target OS will enforce.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;
pub use srt_lints::Target;

mod linux;
mod macos;

/// `--target macos|linux`, parsed into the one `Target` type the lints and backends share.
pub fn target_parser() -> impl clap::builder::TypedValueParser<Value = Target> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(["macos", "linux"]).map(|s| {
        if s == "macos" {
            Target::Macos
        } else {
            Target::Linux
        }
    })
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The OS to compile for (default: this one).
    #[arg(long, value_parser = target_parser())]
    pub target: Option<Target>,
    /// Settings file (default: ./.srt.json if present, else ~/.srt-settings.json).
    #[arg(short = 's', long = "settings", value_name = "FILE")]
    pub settings: Option<PathBuf>,
    /// Resolve relative paths against DIR (default: the current directory).
    #[arg(long, value_name = "DIR")]
    pub cwd: Option<PathBuf>,
    /// Expand `~` to DIR (default: $HOME).
    #[arg(long, value_name = "DIR")]
    pub home: Option<PathBuf>,
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
    match args.target.unwrap_or_else(Target::host) {
        Target::Macos => macos::run(&args),
        Target::Linux => linux::run(&args),
    }
}
