//! Subcommands: one module each.

use std::process::ExitCode;

use crate::cli::{Cli, Command};

pub mod compile;
pub mod diff;
pub mod doctor;
pub mod explain;
pub mod init;
pub mod learn;
pub mod lint;
pub mod run;
mod run_control;
mod run_gate;

pub fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Lint(a) => lint::run(a),
        Command::Compile(a) => compile::run(a),
        Command::Run(a) => run::run(a),
        Command::Explain(a) => explain::run(a),
        Command::Diff(a) => diff::run(a),
        Command::Doctor(a) => doctor::run(a),
        Command::Init(a) => init::run(a),
        Command::Learn(a) => learn::run(a),
        Command::Schema => {
            print!("{}", srt_schema::SCHEMA_TEXT);
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions { shell } => {
            let mut cmd = without_hidden(<Cli as clap::CommandFactory>::command());
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut cmd, "srt", &mut out);
            write_stdout(&out)
        }
        Command::Man { subcommand } => {
            let top = <Cli as clap::CommandFactory>::command();
            let page = match subcommand {
                None => top,
                Some(name) => match top.find_subcommand(&name).filter(|s| !s.is_hide_set()) {
                    Some(sub) => sub.clone().name(format!("srt-{name}")),
                    None => anyhow::bail!("no subcommand `{name}`"),
                },
            };
            let mut out = Vec::new();
            clap_mangen::Man::new(page).render(&mut out)?;
            write_stdout(&out)
        }
        Command::Init0(a) => run::init(a),
        Command::ProxyConnect { host, port, proxy } => {
            use srt_runtime::proxy_connect::{auth_from_env, run};
            let auth = auth_from_env();
            let auth = auth.as_ref().map(|(u, p)| (u.as_str(), p.as_str()));
            match run(&host, port, &proxy, auth) {
                Ok(()) => Ok(ExitCode::SUCCESS),
                Err(e) => {
                    eprintln!("srt: {e}");
                    Ok(ExitCode::from(255))
                }
            }
        }
    }
}

/// The command line without its hidden (internal) subcommands, which clap_complete would
/// otherwise offer.
fn without_hidden(full: clap::Command) -> clap::Command {
    let mut out = clap::Command::new(full.get_name().to_string());
    for a in full.get_arguments() {
        out = out.arg(a.clone());
    }
    for sub in full.get_subcommands().filter(|s| !s.is_hide_set()) {
        out = out.subcommand(sub.clone());
    }
    out
}

/// Writes generated output; a closed pipe (`| head`) is not an error.
pub fn write_stdout(bytes: &[u8]) -> anyhow::Result<ExitCode> {
    crate::output::stdout(&String::from_utf8_lossy(bytes));
    Ok(ExitCode::SUCCESS)
}
