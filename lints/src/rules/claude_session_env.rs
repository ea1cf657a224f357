//! `claude-session-env-not-writable`: a policy for Claude that breaks its bash tool.

use srt_compiler::Access;
use srt_schema::{items, Fix, Span};

use crate::knowledge::CLAUDE_SESSION_ENV;
use crate::{Emitter, Level, LintContext};

crate::declare_lint! {
    /// ### What it does
    /// Flags a policy that looks meant for running Claude Code while `~/.claude/session-env`
    /// is not writable. A policy that grants access to Claude Code's own directory
    /// (`~/.claude/…`) is one for Claude Code: that is a warning. A policy that only allows
    /// `api.anthropic.com` or Claude's MCP log cache (`claude-cli-nodejs`) may as well be for a
    /// program calling the API or for an MCP server, which need no session-env: that is a
    /// note. The lint never stops `srt run`.
    ///
    /// ### Why is this bad
    /// Claude Code keeps per-session shell state in `~/.claude/session-env` and needs it to run
    /// bash commands, even with `--no-session-persistence`. Without it every bash call, in the
    /// main agent and in subagents, fails with `EPERM`, which looks like a sandbox bug rather
    /// than a missing line.
    ///
    /// For the warning, the fix (machine-applicable) adds `~/.claude/session-env` to
    /// `allowWrite`; a note gets no fix.
    ///
    /// ### Example
    /// Bad:
    /// ```json
    /// {"network": {"allowedDomains": ["api.anthropic.com"], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": [".", "/tmp", "~/.claude/todos"], "denyWrite": []}}
    /// ```
    /// Use instead:
    /// ```json
    /// {"network": {"allowedDomains": ["api.anthropic.com"], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": [".", "/tmp", "~/.claude/todos", "~/.claude/session-env"], "denyWrite": []}}
    /// ```
    pub CLAUDE_SESSION_ENV_NOT_WRITABLE {
        code: "claude-session-env-not-writable",
        level: Warn,
        summary: "a policy for Claude Code does not let it write ~/.claude/session-env (bash fails with EPERM)",
        check: check,
    }
}

/// Why the file looks like a policy for Claude Code: the entry, and whether it is Claude
/// Code's own directory (`.claude`) rather than a guess from a host or the MCP log cache.
fn claude_evidence(ctx: &LintContext<'_>) -> Option<(Span, String, bool)> {
    let mut weak = None;
    if let Some(fs) = ctx.settings.filesystem() {
        // Only grants count: denying `~/.claude` protects it from a job that is not Claude.
        for list in [&fs.allow_write, &fs.allow_read] {
            for e in items(list) {
                let p = &e.value.path;
                if p.split('/').any(|c| c == ".claude") {
                    return Some((e.span, "Claude Code's own directory".into(), true));
                }
                if weak.is_none() && p.contains("claude-cli-nodejs") {
                    weak = Some((
                        e.span,
                        "Claude Code's MCP log cache: this policy may run Claude Code".into(),
                        false,
                    ));
                }
            }
        }
    }
    if weak.is_some() {
        return weak;
    }
    let d = ctx.host("api.anthropic.com", 443);
    let rule = d.rule.filter(|_| d.allowed)?;
    Some((
        rule.origin.span()?,
        "allows api.anthropic.com: this policy may run Claude Code".into(),
        false,
    ))
}

fn check(ctx: &LintContext<'_>, out: &mut Emitter) {
    let Some((evidence, why, specific)) = claude_evidence(ctx) else {
        return;
    };
    let decision = ctx.path(CLAUDE_SESSION_ENV, Access::Write);
    if decision.allowed {
        return;
    }
    let blocker = decision.rule.map(|r| ctx.describe(&r.origin));
    let mut d = out
        .diag(format!(
            "`{CLAUDE_SESSION_ENV}` is not writable, so Claude's bash commands fail with EPERM"
        ))
        .with_label(
            ctx.list_anchor("filesystem", "allowWrite"),
            match &blocker {
                Some(b) => format!("{CLAUDE_SESSION_ENV} is denied by {b}"),
                None => format!("nothing here makes {CLAUDE_SESSION_ENV} writable"),
            },
        )
        .with_label(evidence, why);
    match blocker {
        None => {
            d = d.with_help(format!(
                "if this policy runs Claude Code, it needs {CLAUDE_SESSION_ENV} to run bash, even with --no-session-persistence; add it to filesystem.allowWrite (an MCP server or a program calling the API needs nothing)"
            ));
            // A guess (a note) gets no fix: `--fix` must not widen a policy for an MCP server.
            let edit = ctx
                .append_to_list("filesystem", "allowWrite", CLAUDE_SESSION_ENV)
                .filter(|_| specific);
            if let Some(edit) = edit {
                d = d.with_fix(Fix {
                    description: format!("add \"{CLAUDE_SESSION_ENV}\" to filesystem.allowWrite"),
                    edits: vec![edit],
                });
            }
        }
        Some(b) => {
            d = d.with_help(format!(
                "Claude Code needs {CLAUDE_SESSION_ENV} to run bash; narrow {b} so that it no longer covers it, and allow it in filesystem.allowWrite"
            ));
        }
    }
    out.emit_at(if specific { Level::Warn } else { Level::Note }, d);
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::Target;

    const CODE: &str = "claude-session-env-not-writable";

    #[test]
    fn passes() {
        for json in [
            // Not a policy for Claude.
            r#"{"network": {"allowedDomains": ["crates.io"], "deniedDomains": []}, "filesystem": {"denyRead": [], "allowWrite": ["."], "denyWrite": []}}"#,
            // Denying ~/.claude protects it; it does not make the policy one for Claude.
            r#"{"network": {"allowedDomains": ["crates.io"], "deniedDomains": []}, "filesystem": {"denyRead": ["~/.claude"], "allowWrite": ["."], "denyWrite": []}}"#,
            // The seed's DX testing config has it.
            r#"{"network": {"allowedDomains": ["api.anthropic.com"], "deniedDomains": []}, "filesystem": {"denyRead": [], "allowWrite": ["/tmp", "~/.claude/session-env"], "denyWrite": []}}"#,
            // A parent directory works too.
            r#"{"network": {"allowedDomains": ["api.anthropic.com"], "deniedDomains": []}, "filesystem": {"denyRead": [], "allowWrite": ["~/.claude"], "denyWrite": []}}"#,
        ] {
            assert_clean(CODE, json, Target::Linux);
        }
    }

    #[test]
    fn fails() {
        let cases = [
            (
                "seed: project .srt.json (note: only api.anthropic.com hints at Claude)",
                "{\n  \"network\": {\n    \"allowedDomains\": [\n      \"api.anthropic.com\",\n      \"crates.io\"\n    ]\n  },\n  \"filesystem\": {\n    \"denyRead\": [\"~/.ssh\"],\n    \"allowWrite\": [\n      \".\",\n      \"~/.cargo/registry\",\n      \"/tmp\"\n    ]\n  }\n}",
            ),
            (
                "seed: Context7 (note: the MCP log cache hints at Claude)",
                "{\n  \"network\": {\n    \"allowedDomains\": [\n      \"api.anthropic.com\",\n      \"context7.com\", \"*.context7.com\",\n      \"api.upstash.com\"\n    ]\n  },\n  \"filesystem\": {\n    \"allowWrite\": [\n      \".\",\n      \"~/Library/Caches/claude-cli-nodejs\"\n    ]\n  }\n}",
            ),
            (
                "no filesystem at all",
                r#"{"allowPty": true, "network": {"allowedDomains": ["api.anthropic.com"]}}"#,
            ),
            (
                "Claude Code's own directory (warning)",
                r#"{"network": {"allowedDomains": ["api.anthropic.com"], "deniedDomains": []}, "filesystem": {"denyRead": [], "allowWrite": [".", "~/.claude/todos"], "denyWrite": []}}"#,
            ),
            (
                "denied by denyWrite: no automatic fix",
                r#"{"network": {"allowedDomains": ["api.anthropic.com"], "deniedDomains": []}, "filesystem": {"denyRead": [], "allowWrite": ["~/.claude"], "denyWrite": ["~/.claude/session-env"]}}"#,
            ),
        ];
        insta::assert_snapshot!(render_cases(CODE, &cases, Target::Linux));
    }
}
