//! `srt compile --target linux`.

use std::process::ExitCode;

pub fn run(_args: &super::Args) -> anyhow::Result<ExitCode> {
    crate::cmd::not_yet("compile --target linux")
}
