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
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let bare = argv.len() <= 1;
    let invocation = match cli::parse(argv) {
        Ok(i) => i,
        Err(e) => {
            let _ = e.print();
            // Bare `srt` is the npm srt's drop-in form without a command: its refusal, exit 1.
            if bare {
                eprintln!(
                    "\nError: No command specified. Use -c <command> or provide command arguments."
                );
                return ExitCode::from(1);
            }
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
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
