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
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // The in-sandbox init starts on every run: it parses its own few options, without
    // building the whole command line (a fifth of a start's instructions).
    if args.get(1).is_some_and(|a| a == "__init") {
        return match cli::InitCli::try_parse_from(args.iter().skip(1)) {
            Ok(init) => finish(cmd::run::init(init.args)),
            Err(e) => {
                let _ = e.print();
                ExitCode::from(2)
            }
        };
    }
    let invocation = match cli::parse(args) {
        Ok(i) => i,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
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
