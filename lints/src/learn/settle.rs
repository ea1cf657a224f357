//! Every candidate is tried on the real file before it is proposed: the text with the
//! candidates added is validated, resolved and linted exactly as `srt lint` would, and each
//! refusal a candidate claims to allow is decided again with `Ir::decide_path` /
//! `Ir::decide_host` on that policy. A candidate that draws a deny-level finding, or that
//! would not in fact allow its refusals (a mandatory deny wins, a deny list still matches),
//! is dropped and its narrower fallbacks are tried instead; warnings and notes stay with it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use srt_compiler::Ir;
use srt_schema::{load_str, Diagnostic, Loaded};

use super::{edits, Finding, LearnInput, List, Subject};

/// A possible addition, before it is checked.
#[derive(Clone, Debug)]
pub(super) struct Candidate {
    pub list: List,
    /// The entry's JSON text.
    pub json: String,
    /// The entry as the user reads it.
    pub shown: String,
    pub known: Option<String>,
    pub why: String,
    /// Indices into the input's refusals.
    pub refusals: Vec<usize>,
    /// Narrower candidates tried when this one is dropped.
    pub fallback: Vec<Candidate>,
    pub missing_dir: Option<PathBuf>,
    /// Its refusals must be allowed by the policy with it (allow lists; not deny records).
    pub verify: bool,
}

/// What survived.
pub(super) struct Settled {
    pub kept: Vec<(Candidate, Vec<Finding>)>,
    /// For each refusal that lost its last candidate: why, and the lint that refused it.
    pub dropped: BTreeMap<usize, (String, Option<String>)>,
    pub findings: Vec<Finding>,
    pub text: String,
}

/// The settings text with `candidates` added, loaded and resolved as `srt run` would (srt's
/// state directory protected). `None` when the text cannot take them.
pub(super) fn hypothetical(
    input: &LearnInput<'_>,
    candidates: &[&Candidate],
) -> Option<(String, Loaded, Ir)> {
    let mut additions: BTreeMap<List, Vec<String>> = BTreeMap::new();
    for c in candidates {
        let values = additions.entry(c.list.clone()).or_default();
        if !values.contains(&c.json) {
            values.push(c.json.clone());
        }
    }
    // Each list's new entries in order, so the file reads the same whatever order the
    // refusals came in.
    additions.values_mut().for_each(|v| v.sort());
    let text = if additions.is_empty() {
        input.text.to_string()
    } else {
        let root = load_str(input.name, input.path, input.text).json?;
        edits::add(input.text, &root, &additions)?
    };
    let loaded = load_str(input.name, input.path, &text);
    if loaded.has_errors() {
        return None;
    }
    let (mut ir, _) = srt_compiler::resolve(
        &loaded.settings,
        Some(loaded.source.clone()),
        input.opts,
        input.fs,
    );
    if let Some(dir) = input.state_dir {
        ir.protect_state_dir(dir);
    }
    Some((text, loaded, ir))
}

/// Why refusal `i` is still refused by `ir`, if it is.
pub(super) fn still_refused(input: &LearnInput<'_>, ir: &Ir, i: usize) -> Option<String> {
    match &input.refusals[i].subject {
        Subject::Host { host, port, .. } => {
            let d = ir.decide_host(host, port.unwrap_or(443));
            (!d.allowed).then(|| match d.rule {
                Some(r) => format!("{} still refuses it", ir.describe(&r.origin)),
                None => d.reason.phrase(),
            })
        }
        Subject::Path { access, path } => {
            let d = ir.decide_path(path, *access);
            (!d.allowed).then(|| super::paths::denial(ir, &d))
        }
        Subject::UnixSocket { path } => {
            let covered = ir
                .net
                .allow_unix_sockets
                .iter()
                .any(|r| r.pattern.covers(path, true));
            (!covered).then(|| "no network.allowUnixSockets entry covers it".to_string())
        }
    }
}

fn lint(input: &LearnInput<'_>, loaded: &Loaded) -> Vec<Diagnostic> {
    crate::check(loaded, input.opts, input.fs, input.target, input.levels)
}

/// The findings of `after` that `before` does not have (compared by code, severity and
/// message, as many times as they occur).
fn new_findings(before: &[Diagnostic], after: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let key = |d: &Diagnostic| (d.code.to_string(), d.severity, d.message.clone());
    let mut old: Vec<_> = before.iter().map(key).collect();
    after
        .into_iter()
        .filter(|d| {
            let k = key(d);
            match old.iter().position(|o| *o == k) {
                Some(i) => {
                    old.swap_remove(i);
                    false
                }
                None => true,
            }
        })
        .collect()
}

/// Rounds of dropping before the engine gives up on the rest (each round drops at least one
/// candidate or ends).
const MAX_ROUNDS: usize = 64;

pub(super) fn settle(input: &LearnInput<'_>, candidates: Vec<Candidate>) -> Settled {
    let baseline = load_str(input.name, input.path, input.text);
    let before = if baseline.has_errors() {
        Vec::new()
    } else {
        lint(input, &baseline)
    };
    let mut pending = candidates;
    let mut dropped: BTreeMap<usize, (String, Option<String>)> = BTreeMap::new();
    for _ in 0..MAX_ROUNDS {
        let refs: Vec<&Candidate> = pending.iter().collect();
        let Some((text, loaded, ir)) = hypothetical(input, &refs) else {
            for c in &pending {
                for i in &c.refusals {
                    dropped.insert(
                        *i,
                        (
                            format!("srt learn could not add `{}` to the file", c.shown),
                            None,
                        ),
                    );
                }
            }
            pending.clear();
            continue;
        };
        let fresh = new_findings(&before, lint(input, &loaded));
        let Some(root) = loaded.json.as_ref() else {
            break;
        };
        let spans: Vec<_> = pending
            .iter()
            .map(|c| edits::entry_span(&text, root, &c.list, &c.json))
            .collect();
        let owner = |d: &Diagnostic| {
            spans.iter().position(|s| {
                s.is_some_and(|s| {
                    d.labels
                        .iter()
                        .any(|l| l.span.start >= s.start && l.span.end <= s.end)
                })
            })
        };
        let mut carried: Vec<Vec<Finding>> = vec![Vec::new(); pending.len()];
        let mut general = Vec::new();
        for d in &fresh {
            match owner(d) {
                Some(i) => carried[i].push(Finding::of(d)),
                None => general.push(Finding::of(d)),
            }
        }
        let mut refused: Vec<(usize, String, Option<String>)> = Vec::new();
        for (i, c) in pending.iter().enumerate() {
            if let Some(e) = carried[i].iter().find(|f| f.is_error()) {
                refused.push((i, e.message.clone(), Some(e.code.clone())));
                continue;
            }
            if c.verify {
                if let Some(why) = c
                    .refusals
                    .iter()
                    .find_map(|r| still_refused(input, &ir, *r))
                {
                    refused.push((i, why, None));
                }
            }
        }
        if refused.is_empty() {
            return Settled {
                kept: pending.into_iter().zip(carried).collect(),
                dropped,
                findings: general,
                text,
            };
        }
        for (i, why, code) in refused.iter().rev() {
            let c = pending.remove(*i);
            for r in &c.refusals {
                dropped.insert(*r, (why.clone(), code.clone()));
            }
            for f in c.fallback {
                if !pending.iter().any(|p| p.list == f.list && p.json == f.json) {
                    pending.push(f);
                }
            }
        }
    }
    // Out of rounds (not expected): propose nothing rather than something unchecked.
    for c in pending {
        for r in c.refusals {
            dropped.insert(r, ("srt learn could not settle this entry".into(), None));
        }
    }
    Settled {
        kept: Vec::new(),
        dropped,
        findings: Vec::new(),
        text: input.text.to_string(),
    }
}
