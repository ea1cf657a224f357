//! `srt compile --target macos`.

use std::process::ExitCode;

pub fn run(_args: &super::Args) -> anyhow::Result<ExitCode> {
    crate::cmd::not_yet("compile --target macos")
}
