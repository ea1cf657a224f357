//! The engine's two ends: refusals sorted into candidates and rejections (hosts, paths,
//! sockets), and the settled candidates turned into the result, with `--deny-rest`'s
//! records for what was not proposed.

use std::collections::{BTreeMap, BTreeSet};

use super::settle::{self, Candidate, Settled};
use super::{
    hosts, ignore_key, paths, Cited, LearnInput, Learned, List, Proposal, Rejected, Subject,
};
use crate::Target;

pub(super) struct Classified {
    pub candidates: Vec<Candidate>,
    /// Refusal index → why it is not proposed.
    pub rejected: BTreeMap<usize, String>,
    /// Refusals the user's own deny lists made: `--deny-rest` has nothing to record.
    pub user_denied: BTreeSet<usize>,
    pub advice: Vec<String>,
    pub ignored: u64,
    pub already: u64,
}

fn cite(input: &LearnInput<'_>, i: usize) -> Cited {
    let r = &input.refusals[i];
    Cited {
        refusal: r.describe(),
        times: r.times,
        commands: r.commands.iter().cloned().collect(),
    }
}

pub(super) fn classify(input: &LearnInput<'_>) -> Classified {
    let mut out = Classified {
        candidates: Vec::new(),
        rejected: BTreeMap::new(),
        user_denied: BTreeSet::new(),
        advice: Vec::new(),
        ignored: 0,
        already: 0,
    };
    let Some((_, _, ir)) = settle::hypothetical(input, &[]) else {
        return out;
    };
    let (mut host_idx, mut path_idx) = (Vec::new(), Vec::new());
    for (i, r) in input.refusals.iter().enumerate() {
        if r.ignored {
            out.ignored += r.times;
            continue;
        }
        match &r.subject {
            Subject::Host { .. } => host_idx.push(i),
            Subject::Path { .. } => path_idx.push(i),
            Subject::UnixSocket { path } => {
                if settle::still_refused(input, &ir, i).is_none() && input.target != Target::Linux {
                    out.already += r.times;
                    continue;
                }
                let Some(p) = path.to_str() else {
                    out.rejected.insert(i, "the path is not UTF-8".into());
                    continue;
                };
                out.candidates.push(Candidate {
                    list: List::AllowUnixSockets,
                    json: serde_json::Value::from(p).to_string(),
                    shown: p.to_string(),
                    known: None,
                    why: "the socket the command connected to".into(),
                    refusals: vec![i],
                    fallback: Vec::new(),
                    missing_dir: None,
                    verify: true,
                });
            }
        }
    }
    let h = hosts::candidates(input, &ir, &host_idx);
    let p = paths::candidates(input, &ir, &path_idx);
    out.candidates.extend(h.candidates);
    out.candidates.extend(p.candidates);
    out.rejected.extend(h.rejected);
    out.rejected.extend(p.rejected);
    out.user_denied.extend(h.user_denied);
    out.user_denied.extend(p.user_denied);
    out.advice.extend(p.advice);
    out.already += h.already + p.already;
    out
}

/// On Linux one Unix socket cannot be allowed: a socket candidate that survived the lints is
/// still not proposed there.
const LINUX_SOCKETS: &str = "on Linux srt cannot allow one Unix socket: its seccomp filter refuses every new Unix socket unless network.allowAllUnixSockets is true, which hands the sandbox every socket on the machine (the Docker socket, the session bus) and which srt learn never proposes";

/// `--deny-rest`'s record for a refusal not proposed: a host into `deniedDomains`, anything
/// else into `ignoreViolations` under the command's key.
fn deny_record(input: &LearnInput<'_>, i: usize) -> Candidate {
    let r = &input.refusals[i];
    let (list, entry) = match &r.subject {
        Subject::Host { host, port, kind } if kind == "not-allowed" => {
            let entry = match port {
                None | Some(80) | Some(443) => super::refusal::destination(host, None),
                Some(p) => super::refusal::destination(host, Some(*p)),
            };
            (List::DeniedDomains, entry)
        }
        Subject::Host { host, port, .. } => (
            List::IgnoreViolations(ignore_key(input.command)),
            super::refusal::destination(host, *port),
        ),
        Subject::Path { path, .. } | Subject::UnixSocket { path } => (
            List::IgnoreViolations(ignore_key(input.command)),
            path.to_string_lossy().into_owned(),
        ),
    };
    Candidate {
        list,
        json: serde_json::Value::from(entry.clone()).to_string(),
        shown: entry,
        known: None,
        why: "--deny-rest: a refusal srt learn does not propose to allow, recorded".into(),
        refusals: vec![i],
        fallback: Vec::new(),
        missing_dir: None,
        verify: false,
    }
}

pub(super) fn finish(input: &LearnInput<'_>, classified: Classified, settled: Settled) -> Learned {
    let Classified {
        mut rejected,
        user_denied,
        advice,
        ignored,
        already,
        ..
    } = classified;
    let mut codes: BTreeMap<usize, String> = BTreeMap::new();
    let mut settled = settled;
    // Sockets kept on Linux do nothing there.
    if input.target == Target::Linux {
        let (sockets, others): (Vec<_>, Vec<_>) = settled
            .kept
            .into_iter()
            .partition(|(c, _)| c.list == List::AllowUnixSockets);
        settled.kept = others;
        let removed = !sockets.is_empty();
        for (c, _) in sockets {
            for r in c.refusals {
                rejected.insert(r, LINUX_SOCKETS.into());
            }
        }
        if removed {
            let kept: Vec<Candidate> = settled.kept.iter().map(|(c, _)| c.clone()).collect();
            let again = settle::settle(input, kept);
            settled = Settled {
                dropped: settled.dropped.into_iter().chain(again.dropped).collect(),
                ..again
            };
        }
    }
    let covered: BTreeSet<usize> = settled
        .kept
        .iter()
        .flat_map(|(c, _)| c.refusals.iter().copied())
        .collect();
    for (i, (why, code)) in settled.dropped {
        if !covered.contains(&i) && !rejected.contains_key(&i) {
            rejected.insert(i, why);
            if let Some(code) = code {
                codes.insert(i, code);
            }
        }
    }
    if input.deny_rest && !rejected.is_empty() {
        let mut all: Vec<Candidate> = settled.kept.iter().map(|(c, _)| c.clone()).collect();
        let records: Vec<Candidate> = rejected
            .keys()
            .filter(|i| !user_denied.contains(i))
            .map(|&i| deny_record(input, i))
            .collect();
        all.extend(records);
        settled = settle::settle(input, all);
    }
    let mut recorded: BTreeMap<usize, String> = BTreeMap::new();
    let mut proposals = Vec::new();
    for (c, findings) in settled.kept {
        if !c.verify {
            for r in &c.refusals {
                recorded.insert(*r, c.list.key());
            }
        }
        // Several records for one entry (an ignore pattern twice) show once.
        if let Some(p) = proposals
            .iter_mut()
            .find(|p: &&mut Proposal| p.key == c.list.key() && p.json == c.json)
        {
            p.refusals
                .extend(c.refusals.iter().map(|&r| cite(input, r)));
            continue;
        }
        proposals.push(Proposal {
            key: c.list.key(),
            entry: c.shown,
            known: c.known,
            why: c.why,
            refusals: c.refusals.iter().map(|&r| cite(input, r)).collect(),
            findings,
            missing_dir: c.missing_dir,
            json: c.json,
        });
    }
    proposals.sort_by(|a, b| (list_rank(&a.key), &a.entry).cmp(&(list_rank(&b.key), &b.entry)));
    let not_proposed = rejected
        .into_iter()
        .map(|(i, why)| Rejected {
            refusal: cite(input, i),
            why,
            code: codes.remove(&i),
            recorded_in: recorded.remove(&i),
        })
        .collect();
    Learned {
        proposals,
        not_proposed,
        advice,
        findings: settled.findings,
        ignored,
        already_allowed: already,
        content: settled.text,
    }
}

/// Proposals are listed in the file's order: network, filesystem, then the rest.
fn list_rank(key: &str) -> u8 {
    match key {
        "network.allowedDomains" => 0,
        "network.deniedDomains" => 1,
        "network.allowUnixSockets" => 2,
        "filesystem.allowRead" => 3,
        "filesystem.allowWrite" => 4,
        _ => 5,
    }
}
