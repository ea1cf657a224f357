//! `redundant-entry`: duplicates, and entries another entry of the same list already covers.

use std::path::PathBuf;

use srt_compiler::{Access, HostRule, Ir, Origin, PathPattern, PathRule};
use srt_schema::domain::HostPattern;
use srt_schema::{Fix, Span};

use crate::context::set_aside;
use crate::edit::remove_element;
use crate::{Emitter, LintContext};

crate::declare_lint! {
    /// ### What it does
    /// Notes entries that change nothing: exact duplicates in any list (the machine-applicable
    /// fix removes the later copy), a host another entry of the same list already covers
    /// (`api.github.com` next to `*.github.com`), and a path inside another entry of the same
    /// list (`./src` next to `.`), or one srt always applies anyway (`/tmp/claude` in `allowWrite`,
    /// `.git/hooks` in `denyWrite`). Coverage is decided by removing the entry and asking the
    /// decision procedure whether anything changes.
    ///
    /// ### Why is this bad
    /// Nothing is wrong yet, but the list is longer than it looks, and removing the broader
    /// entry later silently keeps the narrower one in force (or the other way round). Short
    /// lists are reviewable lists.
    ///
    /// ### Example
    /// Bad:
    /// ```json
    /// {"network": {"allowedDomains": ["*.crates.io", "index.crates.io", "crates.io", "crates.io"], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": [".", "./src"], "denyWrite": []}}
    /// ```
    /// Use instead:
    /// ```json
    /// {"network": {"allowedDomains": ["*.crates.io", "crates.io"], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": ["."], "denyWrite": []}}
    /// ```
    pub REDUNDANT_ENTRY {
        code: "redundant-entry",
        level: Note,
        summary: "a duplicate, or an entry another entry of the same list already covers",
        check: check,
    }
}

fn check(ctx: &LintContext<'_>, out: &mut Emitter) {
    let mut done: Vec<Span> = Vec::new();
    duplicates(ctx, out, &mut done);
    hosts(ctx, out, &done, true);
    hosts(ctx, out, &done, false);
    paths(ctx, out, &done);
}

/// Exact duplicates (same text, or the same parsed pattern), fixed by removing the later one.
fn duplicates(ctx: &LintContext<'_>, out: &mut Emitter, done: &mut Vec<Span>) {
    for (object, list) in [
        ("network", "allowedDomains"),
        ("network", "deniedDomains"),
        ("network", "allowUnixSockets"),
        ("filesystem", "denyRead"),
        ("filesystem", "allowRead"),
        ("filesystem", "allowWrite"),
        ("filesystem", "denyWrite"),
    ] {
        let Some(array) = ctx.node(&format!("/{object}/{list}")) else {
            continue;
        };
        let items = array.as_array().unwrap_or_default();
        let keys: Vec<serde_json::Value> = items
            .iter()
            .map(|j| {
                let v = j.to_value();
                match (list.ends_with("Domains"), v.as_str()) {
                    (true, Some(s)) => serde_json::Value::String(s.to_ascii_lowercase()),
                    _ => v,
                }
            })
            .collect();
        for (i, item) in items.iter().enumerate() {
            let Some(first) = (0..i).find(|&j| keys[j] == keys[i]) else {
                continue;
            };
            done.push(item.span);
            done.push(items[first].span);
            let mut d = out
                .diag(format!(
                    "{object}.{list}[{i}] repeats {object}.{list}[{first}]"
                ))
                .with_label(item.span, "duplicate")
                .with_label(items[first].span, "first here")
                .with_help("remove the duplicate");
            if let Some(edit) = remove_element(&ctx.source.text, array, i) {
                d = d.with_fix(Fix {
                    description: format!("remove the duplicate {object}.{list}[{i}]"),
                    edits: vec![edit],
                });
            }
            out.emit(d);
        }
    }
}

/// A host an entry names, for probing: the name, or a made-up name under a wildcard.
fn probe_host(rule: &HostRule) -> Option<String> {
    match &rule.pattern.host {
        HostPattern::Name(n) => Some(n.clone()),
        HostPattern::Subdomains(b) => Some(format!("srt-lint-probe.{b}")),
        HostPattern::Ip(_) => Some(rule.pattern.host.to_string()),
        HostPattern::Any => None,
    }
}

fn hosts(ctx: &LintContext<'_>, out: &mut Emitter, done: &[Span], allow: bool) {
    type Pick = fn(&mut Ir) -> &mut Vec<HostRule>;
    let (rules, pick): (&[HostRule], Pick) = if allow {
        (&ctx.ir.net.allowed, |ir| &mut ir.net.allowed)
    } else {
        (&ctx.ir.net.denied, |ir| &mut ir.net.denied)
    };
    let mut scratch = ctx.ir.clone();
    for (index, rule) in rules.iter().enumerate() {
        let Some(span) = rule.origin.span() else {
            continue;
        };
        if done.contains(&span) {
            continue;
        }
        let Some(host) = probe_host(rule) else {
            continue;
        };
        // Every port the entry covers must still get the same answer from another entry.
        let ports: Vec<u16> = rule.pattern.port.map_or(vec![443, 22, 8080], |p| vec![p]);
        let covering = set_aside(&mut scratch, pick, index, |without| {
            let mut covering = None;
            for port in ports {
                let d = without.decide_host(&host, port);
                let same_list = d.rule.is_some_and(|r| {
                    (allow && d.allowed) || (!allow && !d.allowed && without.net.denied.contains(r))
                });
                if !same_list {
                    return None;
                }
                covering = d.rule.map(|r| (r.raw.clone(), r.origin.span()));
            }
            covering
        });
        let Some((raw, Some(by))) = covering else {
            continue;
        };
        let key = if allow {
            "allowedDomains"
        } else {
            "deniedDomains"
        };
        let d = out
            .diag(format!(
                "`{}` is already covered by `{raw}` in {key}",
                rule.raw
            ))
            .with_label(span, "changes nothing")
            .with_label(by, "covers it")
            .with_help("remove it, or remove the broader entry if this one is what you meant");
        out.emit(d);
    }
}

fn paths(ctx: &LintContext<'_>, out: &mut Emitter, done: &[Span]) {
    type Pick = fn(&mut Ir) -> &mut Vec<PathRule>;
    let lists: [(&str, Access, bool, Pick); 4] = [
        ("filesystem.denyRead", Access::Read, false, |ir| {
            &mut ir.fs.deny_read
        }),
        ("filesystem.allowRead", Access::Read, true, |ir| {
            &mut ir.fs.allow_read
        }),
        ("filesystem.allowWrite", Access::Write, true, |ir| {
            &mut ir.fs.allow_write
        }),
        ("filesystem.denyWrite", Access::Write, false, |ir| {
            &mut ir.fs.deny_write
        }),
    ];
    for (key, access, allows, pick) in lists {
        let mut scratch = ctx.ir.clone();
        let rules: Vec<PathRule> = pick(&mut scratch).clone();
        for (index, rule) in rules.iter().enumerate() {
            let (Origin::Policy { span, key: k, .. }, PathPattern::Literal(path)) =
                (&rule.origin, &rule.pattern)
            else {
                continue;
            };
            if done.contains(span) || *k != key {
                continue;
            }
            let other = set_aside(&mut scratch, pick, index, |without| {
                let d = without.decide_path(path, access);
                d.rule
                    .filter(|_| d.allowed == allows && !d.via_read_deny)
                    .cloned()
            });
            let Some(other) = other else {
                continue;
            };
            let same = match &other.origin {
                Origin::Policy { key: k, .. } => *k == key,
                Origin::BuiltIn(_) => true,
            };
            if !same {
                continue;
            }
            let mut diag = out.diag(format!(
                "`{}` is already covered by {}",
                rule.spelled,
                match &other.origin {
                    Origin::Policy { .. } => format!("`{}` in {key}", other.spelled),
                    Origin::BuiltIn(name) =>
                        format!("srt's built-in {name} rule ({})", display(&other.pattern)),
                }
            ));
            diag = diag.with_label(*span, "changes nothing");
            if let Some(by) = other.origin.span() {
                diag = diag.with_label(by, "covers it");
            }
            out.emit(
                diag.with_help(
                    "remove it, or remove the broader entry if this one is what you meant",
                ),
            );
        }
    }
}

fn display(p: &PathPattern) -> String {
    match p {
        PathPattern::Literal(path) => PathBuf::from(path).display().to_string(),
        PathPattern::Glob { glob, .. } => glob.clone(),
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::Target;

    const CODE: &str = "redundant-entry";

    #[test]
    fn passes() {
        for json in [
            r#"{"network": {"allowedDomains": ["crates.io", "*.crates.io", "github.com:443", "*.github.com"], "deniedDomains": ["evil.crates.io"]}}"#,
            r#"{"filesystem": {"denyRead": ["~/.ssh"], "allowRead": ["~/.ssh/known_hosts"], "allowWrite": [".", "/tmp"], "denyWrite": [".env"]}}"#,
            // A port-limited entry does not cover the whole host.
            r#"{"network": {"allowedDomains": ["api.github.com", "*.github.com:443"], "deniedDomains": []}}"#,
        ] {
            assert_clean(CODE, json, Target::Linux);
        }
    }

    #[test]
    fn fails() {
        let cases = [
            (
                "seed: Rust minimal (*.crates.io covers the others)",
                "{\"network\": {\"allowedDomains\": [\n  \"api.anthropic.com\",\n  \"crates.io\", \"*.crates.io\", \"static.crates.io\", \"index.crates.io\",\n  \"static.rust-lang.org\"\n]}}",
            ),
            (
                "exact duplicates are fixed",
                "{\n  \"network\": {\"allowedDomains\": [\"crates.io\", \"Crates.io\"], \"deniedDomains\": []},\n  \"filesystem\": {\n    \"denyRead\": [],\n    \"allowWrite\": [\n      \".\",\n      \"/tmp\",\n      \".\"\n    ],\n    \"denyWrite\": []\n  }\n}",
            ),
            (
                "paths inside other entries, and built-in rules",
                r#"{"filesystem": {"denyRead": ["~/.aws", "~/.aws/credentials"], "allowWrite": [".", "./src", "/tmp/claude"], "denyWrite": [".git/hooks"]}}"#,
            ),
        ];
        insta::assert_snapshot!(render_cases(CODE, &cases, Target::Linux));
    }
}
