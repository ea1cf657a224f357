//! The lint corpus: realistic policies (`corpus/*.json`: dotfiles, READMEs, bug reports, Mac and
//! Linux homes, comments, half-finished lists), linted the way `srt lint` does in CI (the same
//! on every machine, no local-disk group), against what a reviewer expects (`corpus/expected.json`):
//!
//! - `expect`: the problems a reviewer wants reported at warning or above, each as (code, text
//!   inside the finding's span); every one must be found;
//! - `reject`: findings at warning or above a reviewer would not sign, with why (they count
//!   against precision; none may be an error);
//! - `missed`: real problems no lint reports yet (they count against recall).
//!
//! Every finding at warning or above must be an `expect` or a `reject`, so a change in what the
//! lints say shows here. Precision (kept / all findings at warning or above) must stay at least
//! 95% and recall (found / expected problems) at least 90%; the numbers are printed and kept in
//! a snapshot. `SRT_CORPUS_DUMP=1` prints every finding, to review a new policy.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;
use srt_lints::portable::{check, file_target, place};
use srt_lints::{LevelConfig, Target};
use srt_schema::Severity;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

struct Finding {
    code: String,
    severity: Severity,
    text: String,
    message: String,
}

/// The findings at warning or above of one corpus file, as `srt lint` in CI reports them.
fn lint(name: &str) -> Vec<Finding> {
    let bytes = std::fs::read(corpus().join(name)).unwrap();
    let loaded = srt_schema::load_bytes(name, None, &bytes);
    let target = file_target(&loaded.settings).unwrap_or(Target::Linux);
    let opts = place(target, name, None, None);
    check(&loaded, &opts, target, &LevelConfig::default(), None)
        .into_iter()
        .filter(|d| d.severity != Severity::Note)
        .map(|d| {
            let text = d
                .primary_span()
                .map(|s| loaded.source.text[s.start..s.end].to_string())
                .unwrap_or_default();
            Finding {
                code: d.code.to_string(),
                severity: d.severity,
                text,
                message: d.message.clone(),
            }
        })
        .collect()
}

fn pairs(v: &Value, key: &str) -> Vec<(String, String)> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|p| {
                    let p = p.as_array().unwrap();
                    (
                        p[0].as_str().unwrap().to_string(),
                        p[1].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_corpus_meets_its_precision_and_recall() {
    let expected: BTreeMap<String, Value> =
        serde_json::from_str(&std::fs::read_to_string(corpus().join("expected.json")).unwrap())
            .unwrap();
    let mut files: Vec<String> = std::fs::read_dir(corpus())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json") && n != "expected.json")
        .collect();
    files.sort();
    assert!(files.len() >= 40, "only {} corpus policies", files.len());
    let dump = std::env::var_os("SRT_CORPUS_DUMP").is_some();
    let mut problems = Vec::new();
    let (mut kept, mut rejected, mut expected_n, mut found_n, mut missed_n) = (0, 0, 0, 0, 0);
    let mut report = String::new();
    for name in &files {
        let findings = lint(name);
        if dump {
            println!("== {name}");
            for f in &findings {
                println!("  {:?} {} [{}] {}", f.severity, f.code, f.text, f.message);
            }
        }
        let Some(exp) = expected.get(name) else {
            problems.push(format!("{name}: not in expected.json"));
            continue;
        };
        let expect = pairs(exp, "expect");
        let reject = pairs(exp, "reject");
        let missed = exp
            .get("missed")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        let matches = |f: &Finding, (code, needle): &(String, String)| {
            f.code == *code && f.text.contains(needle.as_str())
        };
        for e in &expect {
            if findings.iter().any(|f| matches(f, e)) {
                found_n += 1;
            } else {
                problems.push(format!(
                    "{name}: expected {} at {:?} was not found",
                    e.0, e.1
                ));
            }
        }
        expected_n += expect.len() + missed;
        missed_n += missed;
        let (mut k, mut r) = (0, 0);
        for f in &findings {
            if expect.iter().any(|e| matches(f, e)) {
                k += 1;
            } else if reject.iter().any(|e| matches(f, e)) {
                r += 1;
                if f.severity == Severity::Error {
                    problems.push(format!(
                        "{name}: a rejected finding is an error: {} {}",
                        f.code, f.message
                    ));
                }
            } else {
                problems.push(format!(
                    "{name}: unreviewed finding {:?} {} at {:?}: {}",
                    f.severity, f.code, f.text, f.message
                ));
            }
        }
        kept += k;
        rejected += r;
        let _ = writeln!(
            report,
            "{name}: {k} kept, {r} rejected, {} of {} expected found",
            expect.len(),
            expect.len() + missed
        );
    }
    for name in expected.keys() {
        if !files.contains(name) {
            problems.push(format!(
                "expected.json names {name}, which is not in the corpus"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let precision = kept as f64 / (kept + rejected).max(1) as f64;
    let recall = found_n as f64 / expected_n.max(1) as f64;
    let _ = writeln!(
        report,
        "\n{} policies; findings at warning or above: {} ({kept} kept, {rejected} rejected): precision {:.1}%; expected problems: {expected_n} ({found_n} found, {missed_n} missed): recall {:.1}%",
        files.len(),
        kept + rejected,
        precision * 100.0,
        recall * 100.0
    );
    println!("{report}");
    insta::assert_snapshot!(report);
    assert!(precision >= 0.95, "precision {precision:.3} < 0.95");
    assert!(recall >= 0.90, "recall {recall:.3} < 0.90");
}
