//! Every config block of the seed document (`snapshots/policies/good/seed-*.json`) is linted as
//! its author would expect: the overview of findings per block is a snapshot, and the design
//! card's expectations are asserted one by one.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use srt_compiler::{FakeFs, ResolveOptions};
use srt_lints::{check, LevelConfig, Target};
use srt_schema::{Diagnostic, Loaded};

fn seeds() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../snapshots/policies/good");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("seed-")
        })
        .collect();
    v.sort();
    assert!(v.len() >= 13);
    v
}

fn lint(text: &str, target: Target) -> (Loaded, Vec<Diagnostic>) {
    let loaded = srt_schema::load_str(".srt.json", None, text);
    let opts = ResolveOptions {
        cwd: "/Users/dev/project".into(),
        home: "/Users/dev".into(),
        settings_path: Some("/Users/dev/project/.srt.json".into()),
    };
    let fs = FakeFs::new()
        .dir("/Users/dev/project")
        .dir("/Users/dev/.ssh")
        .dir("/Users/dev/.cargo/registry")
        .dir("/Users/dev/.cargo/git")
        .dir("/Users/dev/Library/Caches/claude-cli-nodejs")
        .dir("/tmp");
    let d = check(&loaded, &opts, &fs, target, &LevelConfig::default());
    (loaded, d)
}

fn at<'a>(
    loaded: &Loaded,
    diags: &'a [Diagnostic],
    code: &str,
    text: &str,
) -> Option<&'a Diagnostic> {
    diags
        .iter()
        .find(|d| d.code == code && d.labels.iter().any(|l| loaded.source.slice(l.span) == text))
}

fn read(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../snapshots/policies/good")
            .join(name),
    )
    .unwrap()
}

#[test]
fn overview() {
    let mut out = String::new();
    for path in seeds() {
        let text = std::fs::read_to_string(&path).unwrap();
        for target in [Target::Macos, Target::Linux] {
            let (loaded, diags) = lint(&text, target);
            out.push_str(&format!(
                "== {} ({})\n",
                path.file_name().unwrap().to_string_lossy(),
                target.name()
            ));
            for d in &diags {
                let span = d.primary_span().unwrap_or_default();
                let (l, c) = loaded.source.line_col(span.start);
                out.push_str(&format!(
                    "  {:<8} {} {l}:{c} {:?}: {}\n",
                    d.severity.as_str(),
                    d.code,
                    loaded.source.slice(span),
                    d.message
                ));
            }
        }
    }
    insta::assert_snapshot!(out);
}

#[test]
fn with_github_gets_exfiltration_and_public_suffix_findings() {
    let text = read("seed-03.json");
    for target in [Target::Macos, Target::Linux] {
        let (loaded, d) = lint(&text, target);
        assert!(at(&loaded, &d, "exfiltration-surface", "\"github.com\"").is_some());
        let wildcard = at(&loaded, &d, "exfiltration-surface", "\"*.github.com\"").unwrap();
        assert!(wildcard.labels[0]
            .message
            .as_deref()
            .unwrap()
            .contains("api.github.com"));
        let help = wildcard.help.as_deref().unwrap();
        assert!(help.contains("push to any repository") && help.contains("domain fronting"));
        assert!(help.contains("bd sync") && help.contains("Narrower:"));
        let psl = at(
            &loaded,
            &d,
            "wildcard-over-public-suffix",
            "\"*.cloudfront.net\"",
        )
        .unwrap();
        // CloudFront is on the list's private section: a warning, not an error.
        assert_eq!(psl.severity, srt_schema::Severity::Warning);
    }
}

#[test]
fn claude_policies_without_session_env_get_the_session_env_lint() {
    for path in seeds() {
        let text = std::fs::read_to_string(&path).unwrap();
        let (_, d) = lint(&text, Target::Macos);
        let runs_claude = text.contains("api.anthropic.com") || text.contains(".claude");
        let has_session_env = text.contains("~/.claude/session-env");
        let found: Vec<_> = d
            .iter()
            .filter(|x| x.code == "claude-session-env-not-writable")
            .collect();
        assert_eq!(
            !found.is_empty(),
            runs_claude && !has_session_env,
            "{}",
            path.display()
        );
        // No seed grants Claude Code's own directory: allowing the API or the MCP log cache is
        // a hint, reported as a note (an MCP server or an API client needs no session-env).
        for f in found {
            assert_eq!(f.severity, srt_schema::Severity::Note, "{}", path.display());
        }
    }
}

#[test]
fn context7_without_the_cache_path_gets_mcp_cache_not_writable() {
    for name in ["seed-07.json", "seed-12.json"] {
        let text = read(name);
        // As written, for macOS: the author's cache path is there.
        let (_, d) = lint(&text, Target::Macos);
        assert!(
            !d.iter().any(|x| x.code == "mcp-cache-not-writable"),
            "{name}"
        );
        // Without it, or on Linux where Claude uses another path, the MCP server would fail.
        let without = text.replace(",\n      \"~/Library/Caches/claude-cli-nodejs\"", "");
        assert_ne!(without, text);
        let (loaded, d) = lint(&without, Target::Macos);
        assert!(
            at(&loaded, &d, "mcp-cache-not-writable", "\"context7.com\"").is_some(),
            "{name}"
        );
        let (_, d) = lint(&text, Target::Linux);
        assert!(
            d.iter().any(|x| x.code == "mcp-cache-not-writable"),
            "{name}"
        );
    }
}
