//! `mcp-cache-not-writable`: MCP servers allowed on the network, their log cache not writable.

use srt_compiler::Access;
use srt_schema::Fix;

use crate::knowledge::{mcp_cache, MCP_HOSTS};
use crate::{Emitter, LintContext, Target};

crate::declare_lint! {
    /// ### What it does
    /// Flags a policy whose network list enables MCP servers (`context7.com`,
    /// `*.context7.com`, `api.upstash.com`, Bright Data hosts) while Claude Code's MCP log
    /// cache is not writable: `~/Library/Caches/claude-cli-nodejs` on macOS,
    /// `~/.cache/claude-cli-nodejs` on Linux. Which one is checked follows `--target`
    /// (default: this machine's OS).
    ///
    /// ### Why is this bad
    /// Claude Code writes MCP server logs to that directory; when it cannot, the MCP server
    /// fails to start and the tools it provides are silently missing. Either allow the cache
    /// path for the target (the machine-applicable fix), or drop the MCP hosts and run Claude
    /// with `--strict-mcp-config --mcp-config '{"mcpServers":{}}'`.
    ///
    /// ### Example
    /// Bad (on Linux; the macOS path does not help there):
    /// ```json
    /// {"network": {"allowedDomains": ["context7.com", "*.context7.com", "api.upstash.com"], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": [".", "~/Library/Caches/claude-cli-nodejs"], "denyWrite": []}}
    /// ```
    /// Use instead (both, when the file is shared between macOS and Linux):
    /// ```json
    /// {"network": {"allowedDomains": ["context7.com", "*.context7.com", "api.upstash.com"], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": [".", "~/Library/Caches/claude-cli-nodejs", "~/.cache/claude-cli-nodejs"], "denyWrite": []}}
    /// ```
    pub MCP_CACHE_NOT_WRITABLE {
        code: "mcp-cache-not-writable",
        level: Warn,
        summary: "MCP servers are allowed on the network but their log cache is not writable",
        check: check,
    }
}

fn check(ctx: &LintContext<'_>, out: &mut Emitter) {
    let Some((host, server, span, raw)) = MCP_HOSTS.iter().find_map(|(host, server)| {
        let d = ctx.host(host, 443);
        let rule = d.rule.filter(|_| d.allowed)?;
        Some((*host, *server, rule.origin.span()?, rule.raw.clone()))
    }) else {
        return;
    };
    let cache = mcp_cache(ctx.target);
    let decision = ctx.path(cache, Access::Write);
    if decision.allowed {
        return;
    }
    let other = match ctx.target {
        Target::Macos => Target::Linux,
        Target::Linux => Target::Macos,
    };
    let other_cache = mcp_cache(other);
    let mut d = out
        .diag(format!(
            "MCP servers are allowed ({server}), but their log cache `{cache}` is not writable on {}",
            ctx.target.name()
        ))
        .with_label(
            span,
            if raw == host {
                format!("enables {server}")
            } else {
                format!("enables {server} ({host})")
            },
        )
        .with_label(
            ctx.list_anchor("filesystem", "allowWrite"),
            match decision.rule {
                Some(rule) => format!("{cache} is denied by {}", ctx.describe(&rule.origin)),
                None if ctx.writable(other_cache) => {
                    format!("{other_cache} is the {} location", other.name())
                }
                None => format!("nothing here makes {cache} writable"),
            },
        );
    let alternative = "or drop the MCP hosts and run Claude with --strict-mcp-config --mcp-config '{\"mcpServers\":{}}'";
    match decision.rule {
        None => {
            d = d.with_help(format!(
                "Claude Code writes MCP logs to {cache} on {}; add it to filesystem.allowWrite, {alternative}",
                ctx.target.name()
            ));
            if let Some(edit) = ctx.append_to_list("filesystem", "allowWrite", cache) {
                d = d.with_fix(Fix {
                    description: format!("add \"{cache}\" to filesystem.allowWrite"),
                    edits: vec![edit],
                });
            }
        }
        Some(rule) => {
            d = d.with_help(format!(
                "{cache} is denied by {}; narrow that rule and allow the cache, {alternative}",
                ctx.describe(&rule.origin)
            ));
        }
    }
    out.emit(d);
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::Target;

    const CODE: &str = "mcp-cache-not-writable";
    const SEED_CONTEXT7: &str = "{\n  \"network\": {\n    \"allowedDomains\": [\n      \"api.anthropic.com\",\n      \"context7.com\", \"*.context7.com\",\n      \"api.upstash.com\"\n    ]\n  },\n  \"filesystem\": {\n    \"allowWrite\": [\n      \".\",\n      \"~/Library/Caches/claude-cli-nodejs\"\n    ]\n  }\n}";

    #[test]
    fn passes() {
        // The seed's Context7 config is right for macOS, where its author wrote it.
        assert_clean(CODE, SEED_CONTEXT7, Target::Macos);
        for json in [
            r#"{"network": {"allowedDomains": ["api.anthropic.com"], "deniedDomains": []}}"#,
            r#"{"network": {"allowedDomains": ["context7.com"], "deniedDomains": []}, "filesystem": {"denyRead": [], "allowWrite": ["~/.cache"], "denyWrite": []}}"#,
        ] {
            assert_clean(CODE, json, Target::Linux);
        }
    }

    #[test]
    fn fails() {
        let cases = [
            ("seed: Context7, linted for Linux", SEED_CONTEXT7),
            (
                "Context7 without any cache path",
                r#"{"network": {"allowedDomains": ["api.anthropic.com", "mcp.context7.com"], "deniedDomains": []}, "filesystem": {"denyRead": [], "allowWrite": ["."], "denyWrite": []}}"#,
            ),
            (
                "Bright Data with the cache read-denied",
                r#"{"network": {"allowedDomains": ["mcp.brightdata.com"], "deniedDomains": []}, "filesystem": {"denyRead": ["~/.cache"], "allowWrite": ["~/.cache/claude-cli-nodejs"], "denyWrite": []}}"#,
            ),
        ];
        insta::assert_snapshot!(render_cases(CODE, &cases, Target::Linux));
    }
}
