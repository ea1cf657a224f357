//! `srt init` (not in this build yet).

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    pub rest: Vec<String>,
}

pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    super::not_yet("init")
}
