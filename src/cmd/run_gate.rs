//! What `srt run` prints about the file before it runs: the findings that stop it in full,
//! with a remedy that works in the form typed (`srt run …` and the drop-in `srt -s F …` take
//! the same options), and every other finding in one line.

use std::process::ExitCode;
use std::sync::Arc;

use srt_lints::{find, Kind, RunGate};
use srt_schema::{Diagnostic, SourceFile};

use crate::output::{print_diagnostics, Format};

/// One line for a finding that does not stop the run: `srt: warning[code] file:line:col: message`.
pub fn brief(d: &Diagnostic, source: &SourceFile) -> String {
    let at = d
        .primary_span()
        .map(|s| format!(" {}", source.location(s)))
        .unwrap_or_default();
    format!(
        "srt: {}[{}]{at}: {}",
        d.severity.as_str(),
        d.code,
        d.message
    )
}

/// A stopping finding's code, when `-A CODE` relaxes it (a lint's own finding; keys srt
/// cannot enforce and validation errors cannot be relaxed).
fn relaxable(d: &Diagnostic) -> Option<&str> {
    find(&d.code)
        .filter(|l| l.kind == Kind::Lint && l.code != "unsupported-key")
        .map(|l| l.code)
}

/// The refusal's last line: the file, and what lets it run.
fn refusal(gate: &RunGate, source: &SourceFile) -> String {
    let mut codes: Vec<&str> = gate.stops.iter().filter_map(relaxable).collect();
    codes.sort_unstable();
    codes.dedup();
    let fixed = gate.stops.iter().any(|d| relaxable(d).is_none());
    let allow = codes
        .iter()
        .map(|c| format!("-A {c}"))
        .collect::<Vec<_>>()
        .join(" ");
    let remedy = match (fixed, codes.is_empty()) {
        (true, true) => "fix the file as shown above (these cannot be relaxed)".to_string(),
        (true, false) => format!(
            "fix the file as shown above; the lints among them can be relaxed for one run with {allow} before the command"
        ),
        (false, _) => format!(
            "fix the file as shown above, or relax the lints for this run with {allow} before the command (`srt -s FILE {allow} -c CMD` or `srt run -s FILE {allow} -c CMD`)"
        ),
    };
    format!(
        "{} has problems that stop the run (above): {remedy}",
        source.name
    )
}

/// Prints the gate's findings. Returns the exit status when the run must not start.
pub fn apply(gate: &RunGate, source: &Arc<SourceFile>) -> Option<ExitCode> {
    if !gate.stops.is_empty() {
        let items: Vec<_> = gate
            .stops
            .iter()
            .map(|d| (d.clone(), source.clone()))
            .collect();
        print_diagnostics(&items, Format::Human);
        eprintln!("Error: {}", refusal(gate, source));
        return Some(ExitCode::from(1));
    }
    // One line per code and severity: the first finding, and how many more there are.
    let mut seen: Vec<(&str, srt_schema::Severity)> = Vec::new();
    for d in &gate.reports {
        let key = (d.code.as_ref(), d.severity);
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let same = |r: &&Diagnostic| r.code == d.code && r.severity == d.severity;
        let more = gate.reports.iter().filter(same).count() - 1;
        let more = if more > 0 {
            format!(" (and {more} more)")
        } else {
            String::new()
        };
        eprintln!("{}{more}", brief(d, source));
    }
    if !gate.reports.is_empty() {
        eprintln!(
            "srt: running anyway; `srt lint {}` explains each finding, `-A CODE` hides one",
            source.name
        );
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn the_remedy_names_what_relaxes_each_stop() {
        let src = SourceFile::new("p.json", None, "{}");
        let lint = Diagnostic::error(
            srt_schema::Code::declared("dangerous-unix-socket"),
            "docker",
        );
        let key = Diagnostic::error(
            srt_schema::Code::declared("unsupported-key"),
            "tlsTerminate",
        );
        let gate = RunGate {
            stops: vec![lint.clone()],
            ..RunGate::default()
        };
        let r = refusal(&gate, &src);
        assert!(r.contains("-A dangerous-unix-socket"), "{r}");
        assert!(
            r.contains("srt -s FILE -A dangerous-unix-socket -c CMD"),
            "{r}"
        );
        let gate = RunGate {
            stops: vec![key],
            ..RunGate::default()
        };
        let r = refusal(&gate, &src);
        assert!(r.contains("cannot be relaxed") && !r.contains("-A"), "{r}");
        let d = Diagnostic::warning(srt_schema::Code::declared("exfiltration-surface"), "github");
        assert_eq!(
            brief(&d, &src),
            "srt: warning[exfiltration-surface]: github"
        );
    }
}
