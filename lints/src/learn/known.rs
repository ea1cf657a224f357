//! What `srt learn` recognises and names: the write places of Claude Code and the usual
//! toolchains (taken from the lints' knowledge, so `srt init`'s presets, the lints and learn
//! agree), the hosts of the package ecosystems and MCP servers, and the directories too wide
//! to be a write root.

use crate::knowledge::{mcp_cache, CLAUDE_SESSION_ENV, ECOSYSTEMS, MCP_HOSTS};
use crate::Target;

/// A directory a known tool writes, spelled with `~`, and what it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownPlace {
    pub spelled: String,
    pub what: String,
}

/// Claude Code's own places under `~/.claude` that its sandboxed commands write.
const CLAUDE_PLACES: &[(&str, &str)] = &[
    (
        CLAUDE_SESSION_ENV,
        "Claude Code's per-session shell state (its bash tool fails with EPERM without it)",
    ),
    ("~/.claude/todos", "Claude Code's task lists"),
    ("~/.claude/shell-snapshots", "Claude Code's shell snapshots"),
    ("~/.claude/projects", "Claude Code's session transcripts"),
    ("~/.claude/statsig", "Claude Code's feature-flag cache"),
];

/// Every known write place for `target`.
pub fn places(target: Target) -> Vec<KnownPlace> {
    let mut out: Vec<KnownPlace> = CLAUDE_PLACES
        .iter()
        .map(|(p, what)| KnownPlace {
            spelled: (*p).to_string(),
            what: (*what).to_string(),
        })
        .collect();
    out.push(KnownPlace {
        spelled: mcp_cache(target).to_string(),
        what: "Claude Code's MCP server logs".into(),
    });
    for eco in ECOSYSTEMS {
        for cache in eco.caches {
            let paths = match target {
                Target::Linux => cache.linux,
                Target::Macos => cache.macos,
            };
            for p in paths {
                out.push(KnownPlace {
                    spelled: (*p).to_string(),
                    what: format!("{}: {}", eco.name, cache.what),
                });
            }
        }
    }
    out
}

/// What a host is, when srt knows it: `Rust (cargo): the sparse registry index`.
pub fn host(name: &str) -> Option<String> {
    for eco in ECOSYSTEMS {
        if let Some((_, what)) = eco.hosts.iter().find(|(h, _)| *h == name) {
            return Some(format!("{}: {what}", eco.name));
        }
    }
    if let Some((_, server)) = MCP_HOSTS.iter().find(|(h, _)| *h == name) {
        return Some(format!("the {server} MCP server"));
    }
    if name == "api.anthropic.com" {
        return Some("the Anthropic API (Claude Code, the SDKs)".into());
    }
    None
}

/// Files tools write beside what they need, in a directory too wide to allow, and work
/// without: `(path prefix spelled with ~, why it is not proposed)`. Matched as a prefix of
/// the path's text (`.global-cache` also matches its SQLite journal).
pub const NOT_NEEDED: &[(&str, &str)] = &[
    (
        "~/.cargo/.package-cache",
        "Cargo's package cache lock, directly in ~/.cargo: Cargo goes on without it when ~/.cargo is read-only (as `srt init --preset rust` leaves it), and allowing it would take ~/.cargo itself (its bin/ and config run outside the sandbox)",
    ),
    (
        "~/.cargo/.global-cache",
        "Cargo's global cache tracker, a SQLite database directly in ~/.cargo whose journal comes and goes beside it: Cargo works without it (it only skips its automatic cache cleaning), and allowing it would take ~/.cargo itself",
    ),
];

/// Files tools replace (a temporary file beside them, then a rename) in a directory too wide
/// to allow, with what to do instead: `(path spelled with ~, advice)`.
pub const REPLACED: &[(&str, &str)] = &[(
    "~/.claude.json",
    "It is Claude Code's global state, rewritten at every start (--no-session-persistence does not stop it): give Claude Code a directory of its own with CLAUDE_CONFIG_DIR (its .claude.json moves there) and run srt learn again to allow that directory.",
)];

/// Directories under the home directory that hold many tools' state (or files that run
/// outside the sandbox): never proposed as a write root themselves, only places below them.
pub const SHARED_UNDER_HOME: &[&str] = &[
    ".cache",
    ".config",
    ".local",
    ".local/share",
    ".local/state",
    ".claude",
    ".cargo",
    ".rustup",
    "go",
    "Library",
    "Library/Caches",
    "Library/Application Support",
    "Library/Preferences",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toolchain_and_claude_places_are_named() {
        let linux = places(Target::Linux);
        let find = |p: &str| {
            linux
                .iter()
                .find(|k| k.spelled == p)
                .map(|k| k.what.clone())
        };
        assert_eq!(
            find("~/.cargo/registry").as_deref(),
            Some("Rust (cargo): the registry cache")
        );
        assert!(find("~/.claude/session-env").is_some_and(|w| w.contains("EPERM")));
        assert!(find("~/.cache/claude-cli-nodejs").is_some());
        assert!(find("~/.npm").is_some() && find("~/.cache/pip").is_some());
        let macos = places(Target::Macos);
        assert!(macos
            .iter()
            .any(|k| k.spelled == "~/Library/Caches/claude-cli-nodejs"));
        assert_eq!(
            host("index.crates.io").as_deref(),
            Some("Rust (cargo): the sparse registry index")
        );
        assert_eq!(host("example.com"), None);
    }
}
