//! Subcommands: one module each.

use std::process::ExitCode;

use crate::cli::{Cli, Command};

pub mod compile;
pub mod diff;
pub mod doctor;
pub mod explain;
pub mod init;
pub mod lint;
pub mod run;

pub fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Lint(a) => lint::run(a),
        Command::Compile(a) => compile::run(a),
        Command::Run(a) => run::run(a),
        Command::Explain(a) => explain::run(a),
        Command::Diff(a) => diff::run(a),
        Command::Doctor(a) => doctor::run(a),
        Command::Init(a) => init::run(a),
        Command::Schema => {
            print!("{}", srt_schema::SCHEMA_TEXT);
            Ok(ExitCode::SUCCESS)
        }
        Command::Init0(a) => run::init(a),
    }
}

/// A subcommand that this build does not have yet: say so, exit 2, never pretend.
pub fn not_yet(what: &str) -> anyhow::Result<ExitCode> {
    eprintln!("srt: `{what}` is not available in this build yet");
    Ok(ExitCode::from(2))
}
