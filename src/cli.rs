//! Command-line definitions, and the npm srt's drop-in form.

use std::ffi::OsString;

use clap::{Parser, Subcommand};

use crate::cmd;

/// Policy compiler, linter and runtime for process sandboxes.
///
/// Reads the settings files of the npm srt (`~/.srt-settings.json`, a project's `.srt.json`).
/// Drop-in form: `srt [RUN OPTIONS] -c 'COMMAND'` or `srt [RUN OPTIONS] COMMAND ARGS…` runs the
/// command in the sandbox, exactly like `srt run`, with every option of `srt run`.
#[derive(Debug, Parser)]
#[command(name = "srt", version, about, long_about = None, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check settings files for errors and dangerous or dead rules.
    Lint(cmd::lint::Args),
    /// Print what a target OS will enforce (Seatbelt profile, or bwrap plan + seccomp).
    Compile(cmd::compile::Args),
    /// Run a command in the sandbox.
    Run(cmd::run::Args),
    /// Explain a decision (`--path`, `--host`) or a lint code.
    Explain(cmd::explain::Args),
    /// Compare the effective permissions of two settings files.
    Diff(cmd::diff::Args),
    /// Check that this machine can enforce a sandbox.
    Doctor(cmd::doctor::Args),
    /// Write a minimal policy from presets.
    Init(cmd::init::Args),
    /// Run a command in the sandbox and propose the smallest policy additions that let it work.
    Learn(cmd::learn::Args),
    /// Print the settings JSON Schema.
    Schema,
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print a man page (roff): `srt man | man -l -`, or `srt man lint` for `srt-lint(1)`.
    Man {
        /// A subcommand, for its own page.
        subcommand: Option<String>,
    },
    /// The in-sandbox init (internal).
    #[command(name = "__init", hide = true)]
    Init0(cmd::run::InitArgs),
    /// SSH ProxyCommand through the sandbox's HTTP proxy (internal): `__proxy-connect %h %p`.
    /// Credentials, when the proxy wants them, come from `$SRT_PROXY_AUTH` (`user:password`).
    #[command(name = "__proxy-connect", hide = true)]
    ProxyConnect {
        host: String,
        port: u16,
        /// The HTTP proxy: the in-sandbox bridge on Linux, a loopback port on macOS.
        #[arg(long, default_value = "127.0.0.1:3128")]
        proxy: String,
    },
}

/// `srt __init` alone (see `main`): the same options as the `__init` subcommand.
#[derive(Debug, Parser)]
#[command(name = "__init")]
pub struct InitCli {
    #[command(flatten)]
    pub args: cmd::run::InitArgs,
}

/// The npm srt's drop-in form: `srt [OPTIONS] -c 'COMMAND'` or `srt [OPTIONS] COMMAND ARGS…`,
/// with every option of `srt run`, in any order before the command.
#[derive(Debug, Parser)]
#[command(
    name = "srt",
    version,
    about = "Run a command in the sandbox (the npm srt's form; `srt help` lists the subcommands).",
    max_term_width = 100
)]
pub struct DropIn {
    #[command(flatten)]
    pub run: cmd::run::Args,
}

/// What the command line asks for.
#[derive(Debug)]
pub enum Invocation {
    /// A subcommand (`srt lint …`, `srt run …`), or top-level help and version.
    Cli(Cli),
    /// The drop-in form, parsed exactly like `srt run`'s arguments.
    DropIn(cmd::run::Args),
}

/// Is `word` one of srt's subcommands (for telling `srt lint x` from the drop-in `srt make x`)?
fn is_subcommand(word: &str) -> bool {
    word == "help"
        || <Cli as clap::CommandFactory>::command()
            .get_subcommands()
            .any(|s| s.get_name() == word)
}

/// Parses the command line. The first word decides: a subcommand, `-h/--help`,
/// `-V/--version` or nothing at all is srt's own command line; anything else (an option of
/// `srt run`, or the command to run) is the npm srt's drop-in form, parsed by clap with
/// `srt run`'s own argument definitions, so every `run` option works there in any order.
pub fn parse(argv: Vec<OsString>) -> Result<Invocation, clap::Error> {
    let first = argv.get(1).map(|a| a.to_string_lossy().into_owned());
    let own = match first.as_deref() {
        None => true,
        Some(w) => is_subcommand(w) || matches!(w, "-h" | "--help" | "-V" | "--version"),
    };
    if own {
        Cli::try_parse_from(argv).map(Invocation::Cli)
    } else {
        DropIn::try_parse_from(argv).map(|d| Invocation::DropIn(d.run))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn drop_in(args: &[&str]) -> cmd::run::Args {
        match parse(args.iter().map(OsString::from).collect()).unwrap() {
            Invocation::DropIn(a) => a,
            Invocation::Cli(c) => panic!("{args:?} parsed as {c:?}"),
        }
    }

    #[test]
    fn drop_in_takes_every_run_option_in_any_order() {
        let a = drop_in(&[
            "srt",
            "-A",
            "exfiltration-surface",
            "-s",
            "f.json",
            "-d",
            "--violations",
            "v.jsonl",
            "-W",
            "missing-path",
            "--resolve",
            "a.test=127.0.0.1",
            "-D",
            "warnings",
            "--cwd",
            "/tmp",
            "--home",
            "/h",
            "-c",
            "echo hi",
        ]);
        assert_eq!(a.settings.settings.as_deref(), Some("f.json".as_ref()));
        assert_eq!(a.command_string.as_deref(), Some("echo hi"));
        assert!(a.debug);
        assert_eq!(a.levels.allow, ["exfiltration-surface"]);
        assert_eq!(a.levels.warn, ["missing-path"]);
        assert_eq!(a.levels.deny, ["warnings"]);
        assert_eq!(a.violations.as_deref(), Some("v.jsonl".as_ref()));
        assert_eq!(a.resolve.len(), 1);
        assert_eq!(a.settings.place.cwd.as_deref(), Some("/tmp".as_ref()));
        assert_eq!(a.settings.place.home.as_deref(), Some("/h".as_ref()));
        // The command and everything after it are the command's, hyphens included.
        let a = drop_in(&["srt", "-s", "f", "make", "-j4", "-s", "x"]);
        assert_eq!(a.argv, ["make", "-j4", "-s", "x"]);
        assert_eq!(a.settings.settings.as_deref(), Some("f".as_ref()));
        let a = drop_in(&["srt", "echo", "a b", "-n"]);
        assert_eq!(a.argv, ["echo", "a b", "-n"]);
        let a = drop_in(&["srt", "--settings=f", "--", "lint", "x"]);
        assert_eq!(a.argv, ["lint", "x"]);
    }

    #[test]
    fn subcommands_help_and_version_are_srt_s_own() {
        for args in [
            &["srt", "lint", "x.json"][..],
            &["srt", "run", "--", "true"],
        ] {
            assert!(matches!(
                parse(args.iter().map(OsString::from).collect()),
                Ok(Invocation::Cli(_))
            ));
        }
        for args in [
            &["srt"][..],
            &["srt", "--version"],
            &["srt", "-h"],
            &["srt", "help"],
        ] {
            let e = parse(args.iter().map(OsString::from).collect()).unwrap_err();
            assert_ne!(
                e.kind(),
                clap::error::ErrorKind::UnknownArgument,
                "{args:?}"
            );
        }
        // An option srt does not have is an error, not a command to run.
        let e = parse(
            ["srt", "--bogus", "-c", "true"]
                .map(OsString::from)
                .to_vec(),
        )
        .unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::UnknownArgument);
    }
}
