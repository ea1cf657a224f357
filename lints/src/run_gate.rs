//! What stops `srt run`, and what it only reports.
//!
//! A lint is advice for review (`srt lint` in CI); running is a promise to the npm srt's users
//! that a file it runs, srt runs. So `srt run` refuses a file only when it cannot enforce it
//! as written (validation errors, keys it does not implement, a rule that did not resolve) or
//! when running it hands the sandbox the host outright ([`RUN_POLICY`]'s short list). Every
//! other finding is reported once, in a line, and the run goes on. A lint the user raised to
//! `deny` on the command line (`-D CODE`, `-D warnings`) stops the run too: they asked for it.

use srt_compiler::{FsView, ResolveOptions};
use srt_schema::{Diagnostic, Loaded, Severity};

use crate::{check, find, unenforceable_keys, Kind, LevelConfig, Target};

/// A deny-level lint's place at run time.
#[derive(Clone, Copy, Debug)]
pub struct RunPolicy {
    pub code: &'static str,
    /// Whether an error-level finding of this lint stops `srt run`.
    pub stops: bool,
    /// Why, in one sentence (the book's table).
    pub why: &'static str,
}

/// Every lint that reports errors by default, and whether its errors stop `srt run`. A test
/// keeps this list complete; the book's lint chapter prints it.
pub const RUN_POLICY: &[RunPolicy] = &[
    RunPolicy {
        code: "dangerous-unix-socket",
        stops: true,
        why: "the Docker or Podman socket, an SSH agent or D-Bus hands the sandbox the host: one request undoes every rule in the file",
    },
    RunPolicy {
        code: "write-allows-host-code-execution",
        stops: true,
        why: "a writable `~`, `$PATH` directory, `~/.ssh` or autostart entry runs the sandbox's code outside it, with the user's rights, the next time the user logs in or opens a shell",
    },
    RunPolicy {
        code: "private-or-metadata-host",
        stops: true,
        why: "an allowed cloud metadata endpoint hands the sandbox this machine's cloud credentials (its loopback and private-address findings are warnings and never stop a run)",
    },
    RunPolicy {
        code: "unsupported-key",
        stops: true,
        why: "srt cannot enforce the key (stripResponseHeaders, ambiguousRequestTarget, …) as written; running without it would be weaker than the file says",
    },
    RunPolicy {
        code: "mask-without-tls",
        stops: true,
        why: "a masked credential would be put back into plaintext requests, where anyone on the path reads it; srt cannot enforce the mask as written without `tlsTerminate` (or `allowPlaintextInject`, which says the author accepts that)",
    },
    RunPolicy {
        code: "inject-hosts-outside-allowed",
        stops: false,
        why: "the real value never reaches a host the sandbox cannot reach (or reaches only through an opaque tunnel): the entry is narrower than it reads, which hands nothing over",
    },
    RunPolicy {
        code: "wildcard-over-public-suffix",
        stops: false,
        why: "a wildcard over a suffix anyone can register (`*.co.uk`) widens the network, which the file's author chose; it does not hand over the host",
    },
];

/// The run-time place of `code`, when it reports errors by default.
pub fn run_policy(code: &str) -> Option<&'static RunPolicy> {
    RUN_POLICY.iter().find(|p| p.code == code)
}

/// The verdict on one file before `srt run` starts anything.
#[derive(Debug, Default)]
pub struct RunGate {
    /// Findings that stop the run (each with its remedy in its help).
    pub stops: Vec<Diagnostic>,
    /// Findings reported in a line each before the run goes on (errors that do not stop it,
    /// and warnings).
    pub reports: Vec<Diagnostic>,
    /// How many notes there were (not printed one by one at run time).
    pub notes: usize,
}

/// Does this error stop the run?
fn stops(d: &Diagnostic, levels: &LevelConfig) -> bool {
    if d.severity != Severity::Error {
        return false;
    }
    match find(&d.code) {
        // Validation errors, unresolved rules and backend errors: the file cannot be enforced
        // as written. An unknown code is treated the same way: fail closed.
        Some(l) if l.kind != Kind::Lint => true,
        None => true,
        Some(l) => run_policy(l.code).is_some_and(|p| p.stops) || levels.asks_deny(l.code),
    }
}

/// Lints `loaded` as `srt run` does (for this machine's OS) and sorts the findings into those
/// that stop the run and those that are only reported. Keys srt cannot enforce always stop it.
pub fn run_gate(
    loaded: &Loaded,
    opts: &ResolveOptions,
    fs: &dyn FsView,
    levels: &LevelConfig,
) -> RunGate {
    gate_of(
        loaded,
        check(loaded, opts, fs, Target::host(), levels),
        levels,
    )
}

/// [`run_gate`] of a file already resolved (`ir` and `notes` from `resolve` with the options
/// `srt run` uses): the run resolves it once.
pub fn run_gate_resolved(
    loaded: &Loaded,
    ir: &srt_compiler::Ir,
    notes: Vec<Diagnostic>,
    fs: &dyn FsView,
    levels: &LevelConfig,
) -> RunGate {
    let findings = crate::check_resolved(loaded, ir, notes, fs, Target::host(), levels);
    gate_of(loaded, findings, levels)
}

fn gate_of(loaded: &Loaded, findings: Vec<Diagnostic>, levels: &LevelConfig) -> RunGate {
    let mut gate = RunGate::default();
    for d in findings {
        if stops(&d, levels) {
            gate.stops.push(d);
        } else if d.severity == Severity::Note {
            gate.notes += 1;
        } else {
            gate.reports.push(d);
        }
    }
    if loaded.has_errors() {
        return gate;
    }
    for d in unenforceable_keys(&loaded.settings) {
        gate.reports
            .retain(|r| !(r.code == d.code && r.primary_span() == d.primary_span()));
        if !gate.stops.contains(&d) {
            gate.stops.push(d);
        }
    }
    gate
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::{lints, Level};

    /// Every lint that reports errors by default has a deliberate place at run time.
    #[test]
    fn every_deny_level_lint_has_a_run_policy() {
        for l in lints().filter(|l| l.level == Level::Deny) {
            assert!(run_policy(l.code).is_some(), "{} has no run policy", l.code);
        }
        for p in RUN_POLICY {
            assert!(find(p.code).is_some(), "{} is not a code", p.code);
        }
    }
}
