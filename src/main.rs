//! `srt`: lint, compile and enforce sandbox policies written for the npm srt.
//!
//! The binary is only the command line: argument parsing, subcommand dispatch, output
//! rendering and exit codes. Everything else lives in the workspace's library crates.

use std::process::ExitCode;

mod cli;
mod cmd;
mod flags;
mod output;
mod settings;

fn main() -> ExitCode {
    let invocation = match cli::parse(std::env::args_os().collect()) {
        Ok(i) => i,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match invocation {
        cli::Invocation::Cli(c) => cmd::dispatch(c),
        cli::Invocation::DropIn(args) => cmd::run::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("srt: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
