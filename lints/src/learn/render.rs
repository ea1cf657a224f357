//! How `srt learn` shows what it found: the settings file's diff with, under each added
//! line, why (which refusal, how many times, from which command) and what the lints say
//! about it; then what it will not propose and why, and its advice. `--format json` gives
//! the same as one object.

use std::fmt::Write;

use super::{Cited, Finding, Learned, Proposal};
use crate::fix::unified_diff;

fn cited(c: &Cited) -> String {
    let times = if c.times == 1 {
        String::new()
    } else {
        format!(", {} times", c.times)
    };
    let by = if c.commands.is_empty() {
        String::new()
    } else {
        format!(", by {}", c.commands.join(", "))
    };
    format!("{}{times}{by}", c.refusal)
}

fn finding(f: &Finding) -> String {
    format!("{}[{}]: {}", f.severity, f.code, f.message)
}

/// The lines under an added line for one proposal (each starts with `#`, so the block is
/// never mistaken for the file's text).
fn why(p: &Proposal, out: &mut String) {
    let what = match &p.known {
        Some(k) => format!(" ({k})"),
        None => String::new(),
    };
    let _ = writeln!(out, "#   {} in {}{what}: {}", p.entry, p.key, p.why);
    const SHOWN: usize = 5;
    for c in p.refusals.iter().take(SHOWN) {
        let _ = writeln!(out, "#     refused: {}", cited(c));
    }
    if p.refusals.len() > SHOWN {
        let _ = writeln!(out, "#     … and {} more", p.refusals.len() - SHOWN);
    }
    if let Some(d) = &p.missing_dir {
        let _ = writeln!(
            out,
            "#     {} does not exist yet: `srt learn --apply` creates it (srt binds only what exists)",
            d.display()
        );
    }
    for f in &p.findings {
        let _ = writeln!(out, "#     {}", finding(f));
    }
}

/// The human report, after the run's status line.
pub fn human(learned: &Learned, name: &str, old: &str) -> String {
    let mut out = String::new();
    if learned.converged() {
        out.push_str("Nothing to add: ");
        out.push_str(if learned.not_proposed.is_empty() {
            "the command needed nothing the file does not allow.\n"
        } else {
            "everything refused is below, with why it is not proposed.\n"
        });
    } else {
        let diff = unified_diff(name, old, &learned.content);
        let mut shown = vec![false; learned.proposals.len()];
        for line in diff.lines() {
            out.push_str(line);
            out.push('\n');
            if !line.starts_with('+') || line.starts_with("+++") {
                continue;
            }
            for (i, p) in learned.proposals.iter().enumerate() {
                if !shown[i] && line.contains(&p.json) {
                    shown[i] = true;
                    why(p, &mut out);
                }
            }
        }
        for (i, p) in learned.proposals.iter().enumerate() {
            if !shown[i] {
                why(p, &mut out);
            }
        }
    }
    if !learned.findings.is_empty() {
        out.push_str("\nThe lints on the file with these additions:\n");
        for f in &learned.findings {
            let _ = writeln!(out, "  {}", finding(f));
        }
    }
    if !learned.not_proposed.is_empty() {
        out.push_str("\nNot proposed:\n");
        // Refusals with the same reason (a tool's temporary files) are shown together.
        let mut groups: Vec<Vec<&super::Rejected>> = Vec::new();
        for r in &learned.not_proposed {
            let same = |g: &&mut Vec<&super::Rejected>| {
                g[0].why == r.why && g[0].code == r.code && g[0].recorded_in == r.recorded_in
            };
            match groups.iter_mut().find(same) {
                Some(g) => g.push(r),
                None => groups.push(vec![r]),
            }
        }
        const SHOWN: usize = 3;
        for g in groups {
            let r = g[0];
            let code = r
                .code
                .as_ref()
                .map(|c| format!(" [{c}]"))
                .unwrap_or_default();
            let _ = writeln!(out, "  - {}:{code} {}", cited(&r.refusal), r.why);
            for other in g.iter().skip(1).take(SHOWN) {
                let _ = writeln!(out, "    also {}", cited(&other.refusal));
            }
            if g.len() > SHOWN + 1 {
                let _ = writeln!(out, "    … and {} more like these", g.len() - SHOWN - 1);
            }
            if let Some(k) = &r.recorded_in {
                let _ = writeln!(out, "    recorded in {k} (--deny-rest)");
            }
        }
    }
    if !learned.advice.is_empty() {
        out.push_str("\nAdvice:\n");
        for a in &learned.advice {
            let _ = writeln!(out, "  - {a}");
        }
    }
    let mut quiet = Vec::new();
    if learned.ignored > 0 {
        quiet.push(format!(
            "{} refusal{} silenced by ignoreViolations",
            learned.ignored,
            if learned.ignored == 1 { "" } else { "s" }
        ));
    }
    if learned.already_allowed > 0 {
        quiet.push(format!(
            "{} refusal{} the file allows now",
            learned.already_allowed,
            if learned.already_allowed == 1 {
                ""
            } else {
                "s"
            }
        ));
    }
    if !quiet.is_empty() {
        let _ = writeln!(out, "\n({}.)", quiet.join("; "));
    }
    out
}

/// The report as one JSON object: the proposals, what is not proposed, the advice, the diff
/// and the new text.
pub fn json(learned: &Learned, name: &str, old: &str) -> serde_json::Value {
    let mut v = serde_json::to_value(learned).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.insert("settings".into(), name.into());
        o.insert("converged".into(), learned.converged().into());
        o.insert(
            "diff".into(),
            if learned.converged() {
                String::new()
            } else {
                unified_diff(name, old, &learned.content)
            }
            .into(),
        );
        o.insert("content".into(), learned.content.clone().into());
    }
    v
}
