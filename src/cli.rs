//! Command-line definitions, and the npm srt's drop-in form.

use std::ffi::OsString;

use clap::{Parser, Subcommand};

use crate::cmd;

/// Policy compiler, linter and runtime for process sandboxes.
///
/// Reads the settings files of the npm srt (`~/.srt-settings.json`, a project's `.srt.json`).
/// Drop-in form: `srt [-s FILE] [-d] -c 'COMMAND'` or `srt [-s FILE] COMMAND ARGS…` runs the
/// command in the sandbox, exactly like `srt run`.
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

/// Is `word` one of srt's subcommands (for telling `srt lint x` from the drop-in `srt make x`)?
fn is_subcommand(word: &str) -> bool {
    word == "help"
        || <Cli as clap::CommandFactory>::command()
            .get_subcommands()
            .any(|s| s.get_name() == word)
}

/// Rewrites the npm srt's drop-in form to `srt run …`: when the first word that is not one of
/// the drop-in options is not a subcommand (or `-c` is given), the invocation runs a command.
pub fn drop_in_argv(argv: Vec<OsString>) -> Vec<OsString> {
    let mut i = 1;
    let mut saw_c = false;
    while i < argv.len() {
        let a = argv[i].to_string_lossy();
        match a.as_ref() {
            "-s" | "--settings" | "--control-fd" => i += 2,
            "-c" => {
                saw_c = true;
                break;
            }
            "-d" | "--debug" => i += 1,
            s if s.starts_with("--settings=") => i += 1,
            _ => break,
        }
    }
    let first = argv.get(i).map(|a| a.to_string_lossy().into_owned());
    let is_flag = first.as_deref().is_some_and(|f| f.starts_with('-'));
    let is_sub = first.as_deref().is_some_and(is_subcommand);
    let drop_in = saw_c || (i > 1 && !is_sub) || (first.is_some() && !is_flag && !is_sub);
    if !drop_in {
        return argv;
    }
    let mut out = Vec::with_capacity(argv.len() + 2);
    out.push(argv[0].clone());
    out.push(OsString::from("run"));
    let mut rest = argv.into_iter().skip(1).peekable();
    // Options before the command stay options of `run`; the command follows `--`.
    let mut j = 1;
    while j < i {
        if let Some(a) = rest.next() {
            out.push(a);
        }
        j += 1;
    }
    if saw_c {
        out.extend(rest);
    } else if rest.peek().is_some() {
        out.push(OsString::from("--"));
        out.extend(rest);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rw(args: &[&str]) -> Vec<String> {
        drop_in_argv(args.iter().map(OsString::from).collect())
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn drop_in_forms_become_run() {
        assert_eq!(
            rw(&["srt", "-s", "f.json", "-c", "echo hi"]),
            ["srt", "run", "-s", "f.json", "-c", "echo hi"]
        );
        assert_eq!(rw(&["srt", "-c", "true"]), ["srt", "run", "-c", "true"]);
        assert_eq!(
            rw(&["srt", "echo", "a b", "-n"]),
            ["srt", "run", "--", "echo", "a b", "-n"]
        );
        assert_eq!(
            rw(&["srt", "-d", "-s", "f", "make", "test"]),
            ["srt", "run", "-d", "-s", "f", "--", "make", "test"]
        );
    }

    #[test]
    fn subcommands_and_flags_are_left_alone() {
        assert_eq!(rw(&["srt", "lint", "x.json"]), ["srt", "lint", "x.json"]);
        assert_eq!(rw(&["srt", "--version"]), ["srt", "--version"]);
        assert_eq!(
            rw(&["srt", "run", "--", "true"]),
            ["srt", "run", "--", "true"]
        );
        assert_eq!(rw(&["srt"]), ["srt"]);
    }
}
