//! `srt`: lint, compile and enforce sandbox policies written for the npm srt.
//!
//! The binary is only the command line: argument parsing, subcommand dispatch, output
//! rendering and exit codes. Everything else lives in the workspace's library crates.

use std::process::ExitCode;

use clap::Parser;

mod cli;
mod cmd;
mod flags;
mod output;
mod settings;

fn main() -> ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // The in-sandbox init starts on every run: it parses its own few options, without
    // building the whole command line (a fifth of a start's instructions).
    if argv.get(1).is_some_and(|a| a == "__init") {
        return match cli::InitCli::try_parse_from(argv.iter().skip(1)) {
            Ok(init) => finish(cmd::run::init(init.args)),
            Err(e) => {
                let _ = e.print();
                ExitCode::from(2)
            }
        };
    }
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
    finish(match invocation {
        cli::Invocation::Cli(c) => cmd::dispatch(c),
        cli::Invocation::DropIn(args) => cmd::run::run(args),
    })
}

fn finish(result: anyhow::Result<ExitCode>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("srt: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
