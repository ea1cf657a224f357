//! `exfiltration-surface`: allowed hosts where anyone can publish data.

use srt_schema::Span;

use crate::knowledge::exfiltration::{Service, SERVICES};
use crate::{Emitter, Level, LintContext};

crate::declare_lint! {
    /// ### What it does
    /// Flags allowed hosts where anyone can write data that the sandbox can later reach or
    /// publish: GitHub (`github.com`, `*.github.com`, `api.github.com`, `gist.github.com`,
    /// `raw.githubusercontent.com`, …), GitLab, Bitbucket, paste and file-drop services,
    /// request catchers and tunnels (`webhook.site`, ngrok), generic object storage
    /// (`storage.googleapis.com`, S3) and chat webhooks. Each finding says what the host lets a
    /// process do, when it is legitimately needed, and the narrower alternative.
    ///
    /// The check asks the decision procedure whether each known host is reachable, so a
    /// wildcard such as `*.github.com` is reported with every host it opens
    /// (`api.github.com` uploads, gists, archives).
    ///
    /// A host that the file's own ecosystem needs is a note, not a warning:
    /// `storage.googleapis.com` when `proxy.golang.org` is allowed (Go's module proxy sends
    /// module downloads there, so a Go policy cannot work without it).
    ///
    /// ### Why is this bad
    /// A sandbox keeps secrets in only if nothing can carry them out. A process that can reach
    /// github.com can push to any repository it has or finds a token for, and domain fronting
    /// reaches any GitHub-hosted endpoint through an allowed name. Builds rarely need that:
    /// registries (crates.io, proxy.golang.org, registry.npmjs.org) serve dependencies without
    /// GitHub. GitHub is needed for git dependencies (Cargo git dependencies, Go modules
    /// fetched directly, npm git refs) and for `bd sync`.
    ///
    /// ### Example
    /// Bad:
    /// ```json
    /// {"network": {"allowedDomains": ["crates.io", "github.com", "*.github.com"], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []}}
    /// ```
    /// Use instead (registries only; add GitHub back only for git dependencies or `bd sync`):
    /// ```json
    /// {"network": {"allowedDomains": ["crates.io"], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []}}
    /// ```
    pub EXFILTRATION_SURFACE {
        code: "exfiltration-surface",
        level: Warn,
        summary: "an allowed host lets the sandbox publish data (GitHub, paste sites, object storage, webhooks)",
        check: check,
    }
}

struct Group<'a> {
    span: Span,
    raw: String,
    hits: Vec<(&'a Service, String, &'a str)>,
}

/// Surfaces a file's ecosystem needs: (host, the allowed host that makes it expected, why).
const EXPECTED: &[(&str, &str, &str)] = &[(
    "storage.googleapis.com",
    "proxy.golang.org",
    "Go's module proxy sends module downloads there",
)];

/// Why `host` is expected in this file, when another allowed host needs it.
fn expected(ctx: &LintContext<'_>, host: &str) -> Option<&'static str> {
    EXPECTED
        .iter()
        .find(|(h, with, _)| *h == host && ctx.reachable(with))
        .map(|(_, _, why)| *why)
}

fn check(ctx: &LintContext<'_>, out: &mut Emitter) {
    let mut groups: Vec<Group<'_>> = Vec::new();
    for service in SERVICES {
        for (host, what) in service.hosts {
            let decision = ctx.host(host, 443);
            let Some(rule) = decision.rule.filter(|_| decision.allowed) else {
                continue;
            };
            let Some(span) = rule.origin.span() else {
                continue;
            };
            let shown = host.strip_prefix("srt-lint-probe.").map_or_else(
                || (*host).to_string(),
                |base| format!("any name under {base}"),
            );
            match groups.iter_mut().find(|g| g.span == span) {
                Some(g) => g.hits.push((service, shown, what)),
                None => groups.push(Group {
                    span,
                    raw: rule.raw.clone(),
                    hits: vec![(service, shown, what)],
                }),
            }
        }
    }
    for g in groups {
        let mut services: Vec<&Service> = Vec::new();
        for (s, _, _) in &g.hits {
            if !services.iter().any(|x| std::ptr::eq(*x, *s)) {
                services.push(s);
            }
        }
        let names: Vec<&str> = services.iter().map(|s| s.name).collect();
        let hosts: Vec<&str> = g.hits.iter().map(|(_, h, _)| h.as_str()).collect();
        let mut help = String::new();
        for s in &services {
            let mut name = s.name.to_string();
            if let Some(first) = name.get_mut(..1) {
                first.make_ascii_uppercase();
            }
            help.push_str(&format!("{name}: {}.\n", s.can));
            for (_, host, what) in g.hits.iter().filter(|(x, _, _)| std::ptr::eq(*x, *s)) {
                help.push_str(&format!("  - {host}: {what}\n"));
            }
            help.push_str(&format!(
                "When it is needed: {}. Minimal alternative: {}.\n",
                s.needed_for, s.instead
            ));
        }
        let whys: Vec<Option<&str>> = hosts.iter().map(|h| expected(ctx, h)).collect();
        let all_expected = whys.iter().all(Option::is_some);
        let mut message = format!(
            "`{}` lets the sandbox publish data ({})",
            g.raw,
            names.join(", ")
        );
        if let (true, Some(Some(why))) = (all_expected, whys.first()) {
            message.push_str(&format!("; expected here: {why}"));
        }
        let d = out
            .diag(message)
            .with_label(g.span, format!("reaches {}", hosts.join(", ")))
            .with_help(help.trim_end().to_string());
        if all_expected {
            out.emit_at(Level::Note, d);
        } else {
            out.emit(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::Target;

    const CODE: &str = "exfiltration-surface";

    #[test]
    fn passes() {
        for json in [
            r#"{"network": {"allowedDomains": ["api.anthropic.com", "crates.io", "*.crates.io"], "deniedDomains": []}}"#,
            // Denied explicitly: the decision procedure says unreachable.
            r#"{"network": {"allowedDomains": ["*.github.com"], "deniedDomains": ["*.github.com"]}}"#,
            r#"{"network": {"allowedDomains": ["github.community"], "deniedDomains": []}}"#,
        ] {
            assert_clean(CODE, json, Target::Linux);
        }
    }

    #[test]
    fn fails() {
        let cases = [
            (
                "seed: with GitHub",
                "{\"network\": {\"allowedDomains\": [\n  \"api.anthropic.com\",\n  \"crates.io\", \"*.crates.io\", \"static.crates.io\", \"index.crates.io\",\n  \"github.com\", \"*.github.com\",\n  \"static.rust-lang.org\",\n  \"*.cloudfront.net\"\n]}}",
            ),
            (
                "Go module zips come from object storage",
                r#"{"network": {"allowedDomains": ["proxy.golang.org", "sum.golang.org", "storage.googleapis.com"], "deniedDomains": []}}"#,
            ),
            (
                "paste site and webhook on one port",
                r#"{"network": {"allowedDomains": ["pastebin.com", "hooks.slack.com:443"], "deniedDomains": []}}"#,
            ),
        ];
        insta::assert_snapshot!(render_cases(CODE, &cases, Target::Linux));
    }
}
