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

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub rest: Vec<String>,
}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    super::not_yet("run")
}

pub fn init(_args: InitArgs) -> anyhow::Result<ExitCode> {
    super::not_yet("__init")
}
