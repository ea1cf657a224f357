//! `srt`: lint, compile and enforce sandbox policies written for the npm srt.
//!
//! The binary is only the command line: argument parsing, subcommand dispatch, output
//! rendering and exit codes. Everything else lives in the workspace's library crates.

use std::process::ExitCode;

use clap::Parser;

mod cli;
mod cmd;
mod output;
#[allow(dead_code)] // load_and_resolve serves compile, run and explain as they land
mod settings;

fn main() -> ExitCode {
    let argv = cli::drop_in_argv(std::env::args_os().collect());
    let cli = match cli::Cli::try_parse_from(argv) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cmd::dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("srt: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
