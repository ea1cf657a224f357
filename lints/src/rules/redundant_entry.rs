//! `redundant-entry`: duplicates, and entries another entry of the same list already covers.

use std::path::PathBuf;

use srt_compiler::{builtin, Access, HostRule, Ir, Origin, PathPattern, PathRule};
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
    /// `.vscode` or `.bashrc` at the project or the home in `denyWrite`). Coverage is decided by
    /// removing the entry and asking the decision procedure whether anything changes.
    ///
    /// A `denyWrite` that a built-in rule covers only in part is not redundant, and not
    /// reported: `.git/hooks` and `.git/config` (the built-in protects them only in a repository
    /// that exists when the run starts; an explicit entry is created when missing, so it also
    /// covers a `.git` made during the run, and removing it would make `.git/hooks` writable
    /// there), a protected name elsewhere than the project or the home (the built-in protects
    /// only what exists there), git's other files (found in existing repositories only), and
    /// `.claude/settings.json` and `.claude/settings.local.json` (the npm srt does not protect
    /// them, so a file shared with it needs the entry).
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
    // One scratch copy of the IR for every list: `set_aside` puts each rule back.
    let mut scratch = ctx.ir.clone();
    hosts(ctx, out, &done, true, &mut scratch);
    hosts(ctx, out, &done, false, &mut scratch);
    paths(ctx, out, &done, &mut scratch);
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

fn hosts(ctx: &LintContext<'_>, out: &mut Emitter, done: &[Span], allow: bool, scratch: &mut Ir) {
    type Pick = fn(&mut Ir) -> &mut Vec<HostRule>;
    let (rules, pick): (&[HostRule], Pick) = if allow {
        (&ctx.ir.net.allowed, |ir| &mut ir.net.allowed)
    } else {
        (&ctx.ir.net.denied, |ir| &mut ir.net.denied)
    };
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
        let covering = set_aside(scratch, pick, index, |without| {
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

fn paths(ctx: &LintContext<'_>, out: &mut Emitter, done: &[Span], scratch: &mut Ir) {
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
        let rules: Vec<PathRule> = pick(scratch).clone();
        for (index, rule) in rules.iter().enumerate() {
            let (Origin::Policy { span, key: k, .. }, PathPattern::Literal(path)) =
                (&rule.origin, &rule.pattern)
            else {
                continue;
            };
            if done.contains(span) || *k != key {
                continue;
            }
            let other = set_aside(scratch, pick, index, |without| {
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
                Origin::BuiltIn(name) => !builtin_is_weaker(ctx, *name, path),
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

/// Names srt's mandatory denies protect that the npm srt's do not: a `denyWrite` of one is
/// needed for a file shared with it.
const NOT_PROTECTED_BY_THE_NPM_SRT: [&str; 2] =
    [".claude/settings.json", ".claude/settings.local.json"];

/// Is the built-in rule `name` that covers `path` narrower than an explicit `denyWrite` of it,
/// so that the explicit entry is not redundant? The built-in protects `.git/…` only in a
/// repository that exists when the run starts (a mount at `.git` would stop `git init`), and
/// creates missing protected names only at the working directory and the home directory; git's
/// other files are found in repositories that exist. An explicit entry is created (empty) when
/// it is missing, wherever it is, so it still covers a `.git` made during the run.
fn builtin_is_weaker(
    ctx: &LintContext<'_>,
    name: srt_compiler::origin::BuiltIn,
    path: &std::path::Path,
) -> bool {
    match name {
        builtin::GIT_FILES => true,
        builtin::MANDATORY_DENY => {
            let in_git = path.components().any(|c| c.as_os_str() == ".git");
            let at_stubbed_root = [&ctx.ir.cwd, &ctx.ir.home].iter().any(|root| {
                path.strip_prefix(root).is_ok_and(|rel| {
                    let rel = rel.to_string_lossy();
                    ctx.ir.fs.mandatory_deny_names.iter().any(|n| rel == *n)
                        && !NOT_PROTECTED_BY_THE_NPM_SRT.contains(&rel.as_ref())
                })
            });
            in_git || !at_stubbed_root
        }
        _ => false,
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
            // Built-in denies that cover less than the entry: `.git/…` (only in a repository
            // that exists at the start), a name at another write root (only if it exists),
            // and the names the npm srt does not protect.
            r#"{"filesystem": {"denyRead": [], "allowWrite": [".", "/srv/other"], "denyWrite": [".git/hooks", ".git/config", "/srv/other/.vscode", ".claude/settings.json", ".claude/settings.local.json"]}}"#,
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
                r#"{"filesystem": {"denyRead": ["~/.aws", "~/.aws/credentials"], "allowWrite": [".", "./src", "/tmp/claude"], "denyWrite": [".vscode", "~/.bashrc"]}}"#,
            ),
        ];
        insta::assert_snapshot!(render_cases(CODE, &cases, Target::Linux));
    }
}
