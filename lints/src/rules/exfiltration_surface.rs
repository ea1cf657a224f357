//! `exfiltration-surface`: allowed hosts where anyone can publish data.

use std::sync::OnceLock;

use srt_schema::domain::{canonical_host, Host, HostPattern};
use srt_schema::Span;

use crate::context::short_list;
use crate::knowledge::base::{probe, shown};
use crate::knowledge::{Channel, CHANNELS};
use crate::{Emitter, Level, LintContext};

crate::declare_lint! {
    /// ### What it does
    /// Flags allowed hosts that carry data out of the sandbox to someone else, and names the
    /// channel: publish channels (code hosts, package registries such as `registry.npmjs.org`,
    /// `rubygems.org`, `upload.pypi.org` and the crates.io API, model hubs, paste sites), ingest
    /// endpoints that take any account's key (Sentry, Bugsnag, analytics collectors, Datadog,
    /// SaaS APIs), object stores (`storage.googleapis.com`, S3, Azure Blob), webhooks, request
    /// catchers and tunnels (`hooks.slack.com`, `discord.com`, `webhook.site`, ngrok) and
    /// fetch-anything proxies (`r.jina.ai`, scraping APIs, CORS proxies, archivers). The list is
    /// the knowledge base under `lints/knowledge/` (see [What the lints know](../knowledge/index.md)):
    /// each entry says what an attacker can do through it, how sure that is, and the narrower
    /// alternative, which the finding's help repeats.
    ///
    /// The check asks the decision procedure whether each known host is reachable, so a
    /// wildcard such as `*.github.com` is reported with every host it opens, and a
    /// `deniedDomains` entry takes a host out. One finding per allowed entry.
    ///
    /// Levels: a warning where the channel is real and general (a publish with a token the
    /// attacker brings, an event sent with the attacker's DSN); a note where it needs a stretch,
    /// or where the file's own ecosystem needs the host (`storage.googleapis.com` with
    /// `proxy.golang.org`: Go's module proxy sends module downloads there).
    ///
    /// ### Why is this bad
    /// A sandbox keeps secrets in only if nothing can carry them out. A publish needs a token,
    /// but not the user's: an attacker's own token travels in a prompt injection or a malicious
    /// dependency, and `npm publish` with it writes a public package holding whatever the
    /// sandbox read, the same exfiltration as a gist. Registries serve installs from the same
    /// host, so the narrower alternative is to install before the sandboxed run (`npm ci`,
    /// `cargo fetch`, `go mod download`), or to read through a mirror that refuses publishes.
    ///
    /// ### Example
    /// Bad:
    /// ```json
    /// {"network": {"allowedDomains": ["index.crates.io", "static.crates.io", "github.com", "*.github.com", "hooks.slack.com"], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []}}
    /// ```
    /// Use instead (dependency downloads only; fetch git dependencies before the run):
    /// ```json
    /// {"network": {"allowedDomains": ["index.crates.io", "static.crates.io"], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []}}
    /// ```
    pub EXFILTRATION_SURFACE {
        code: "exfiltration-surface",
        level: Warn,
        summary: "an allowed host carries data out: a publish channel, ingest endpoint, object store, webhook or tunnel, or fetch-anything proxy",
        check: check,
    }
}

struct Group {
    span: Span,
    raw: String,
    /// Each channel the entry opens, with the hosts (as shown) it reaches there.
    hits: Vec<(&'static Channel, Vec<String>)>,
}

/// Every channel host as probed, canonical, computed once per process.
fn probes() -> &'static [(&'static Channel, &'static str, Host)] {
    static PROBES: OnceLock<Vec<(&'static Channel, &'static str, Host)>> = OnceLock::new();
    PROBES.get_or_init(|| {
        CHANNELS
            .iter()
            .flat_map(|c| c.hosts.iter().map(move |h| (c, *h)))
            .filter_map(|(c, h)| Some((c, h, canonical_host(&probe(h)).ok()?)))
            .collect()
    })
}

/// Why `channel` is expected in this file, when another allowed host needs it.
fn expected(ctx: &LintContext<'_>, channel: &Channel) -> Option<&'static str> {
    channel
        .expected_with
        .iter()
        .any(|h| ctx.reachable(h))
        .then_some(channel.expected_why)
}

fn check(ctx: &LintContext<'_>, out: &mut Emitter) {
    if ctx.ir.net.allowed.is_empty() {
        return;
    }
    let mut groups: Vec<Group> = Vec::new();
    for &(channel, host, ref canonical) in probes() {
        if !ctx.policy_may_reach(canonical) {
            continue;
        }
        {
            let decision = ctx.host(&probe(host), 443);
            let Some(rule) = decision.rule.filter(|_| decision.allowed) else {
                continue;
            };
            let Some(span) = rule.origin.span() else {
                continue;
            };
            let group = match groups.iter_mut().position(|g| g.span == span) {
                Some(i) => &mut groups[i],
                None => {
                    groups.push(Group {
                        span,
                        raw: rule.raw.clone(),
                        hits: Vec::new(),
                    });
                    let last = groups.len() - 1;
                    &mut groups[last]
                }
            };
            match group
                .hits
                .iter_mut()
                .find(|(c, _)| std::ptr::eq(*c, channel))
            {
                Some((_, hosts)) => hosts.push(shown(host).into_owned()),
                None => group.hits.push((channel, vec![shown(host).into_owned()])),
            }
        }
    }
    // An allowed name under a channel's wildcard (`http-intake.logs.datadoghq.com` under
    // `*.datadoghq.com`), which no probe name matches; not where such a name is one
    // customer's (a bucket, a tunnel): that is the narrow form.
    for rule in &ctx.ir.net.allowed {
        let (HostPattern::Name(name), Some(span)) = (&rule.pattern.host, rule.origin.span()) else {
            continue;
        };
        if groups.iter().any(|g| g.span == span) || !ctx.reachable(name) {
            continue;
        }
        for channel in CHANNELS.iter().filter(|c| !c.tenants) {
            let under = channel.hosts.iter().find(|h| {
                h.strip_prefix("*.")
                    .is_some_and(|base| name.ends_with(&format!(".{base}")))
            });
            if let Some(host) = under {
                let shown = format!("{name} (under {})", shown(host));
                match groups.iter_mut().find(|g| g.span == span) {
                    Some(g) => g.hits.push((channel, vec![shown])),
                    None => groups.push(Group {
                        span,
                        raw: rule.raw.clone(),
                        hits: vec![(channel, vec![shown])],
                    }),
                }
            }
        }
    }
    for g in groups {
        let names: Vec<String> = g
            .hits
            .iter()
            .map(|(c, _)| format!("{} ({})", c.name, c.kind_label()))
            .collect();
        let hosts: Vec<&str> = g
            .hits
            .iter()
            .flat_map(|(_, h)| h.iter().map(String::as_str))
            .collect();
        let mut help = String::new();
        for (c, reached) in &g.hits {
            let mut name = c.name.to_string();
            if let Some(first) = name.get_mut(..1) {
                first.make_ascii_uppercase();
            }
            help.push_str(&format!(
                "{name} ({}, {}): {}; reached: {}.\n",
                c.kind_label(),
                c.sure.as_str(),
                c.can,
                reached.join(", ")
            ));
            if !c.needed_for.is_empty() {
                help.push_str(&format!("  When it is needed: {}.\n", c.needed_for));
            }
            help.push_str(&format!("  Narrower: {}.\n", c.instead));
        }
        let whys: Vec<Option<&str>> = g.hits.iter().map(|(c, _)| expected(ctx, c)).collect();
        let all_expected = whys.iter().all(Option::is_some);
        let mut message = format!("`{}` lets data out through {}", g.raw, and_list(&names));
        if let (true, Some(Some(why))) = (all_expected, whys.first()) {
            message.push_str(&format!("; expected here: {why}"));
        }
        let level = if all_expected {
            Level::Note
        } else {
            g.hits
                .iter()
                .map(|(c, _)| c.sure.channel_level())
                .max()
                .unwrap_or(Level::Note)
        };
        let d = out
            .diag(message)
            .with_label(g.span, format!("reaches {}", short_list(&hosts)))
            .with_help(help.trim_end().to_string());
        out.emit_at(level, d);
    }
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
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
            r#"{"network": {"allowedDomains": ["api.anthropic.com", "index.crates.io", "static.crates.io"], "deniedDomains": []}}"#,
            // Downloads only: pypi.org and files.pythonhosted.org serve installs, not uploads;
            // repo.hex.pm is Hex's download CDN.
            r#"{"network": {"allowedDomains": ["pypi.org", "files.pythonhosted.org", "repo.hex.pm", "proxy.golang.org"], "deniedDomains": []}}"#,
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

    /// Every host of issue 12's "Misses" list gets its own finding, naming its channel.
    #[test]
    fn every_listed_miss_is_found_and_named() {
        let misses: &[(&str, &str)] = &[
            ("registry.npmjs.org", "the npm registry (publish channel)"),
            ("npm.pkg.github.com", "the npm registry (publish channel)"),
            ("registry.yarnpkg.com", "the npm registry (publish channel)"),
            ("rubygems.org", "RubyGems (publish channel)"),
            ("hex.pm", "Hex (publish channel)"),
            ("upload.pypi.org", "PyPI uploads (publish channel)"),
            ("crates.io", "the crates.io API (publish channel)"),
            ("sentry.io", "Sentry (ingest endpoint)"),
            ("*.ingest.sentry.io", "Sentry (ingest endpoint)"),
            ("*.bugsnag.com", "Bugsnag (ingest endpoint)"),
            (
                "google-analytics.com",
                "analytics collectors (ingest endpoint)",
            ),
            ("*.datadoghq.com", "observability intake (ingest endpoint)"),
            (
                "api.cloudflare.com",
                "SaaS APIs that take any account's token (ingest endpoint)",
            ),
            (
                "api.atlassian.com",
                "SaaS APIs that take any account's token (ingest endpoint)",
            ),
            ("*.s3.amazonaws.com", "Amazon S3 (object store)"),
            (
                "storage.googleapis.com",
                "Google Cloud Storage (object store)",
            ),
            (
                "*.blob.core.windows.net",
                "Azure Blob Storage (object store)",
            ),
            ("hooks.slack.com", "chat webhooks (webhook or tunnel)"),
            ("discord.com", "chat webhooks (webhook or tunnel)"),
            ("webhook.site", "request catchers (webhook or tunnel)"),
            ("*.ngrok.io", "tunnels (webhook or tunnel)"),
            (
                "pastebin.com",
                "paste and file-drop sites (publish channel)",
            ),
            ("huggingface.co", "model and data hubs (publish channel)"),
            (
                "r.jina.ai",
                "page readers and scraping APIs (fetch-anything proxy)",
            ),
            (
                "api.scraperapi.com",
                "page readers and scraping APIs (fetch-anything proxy)",
            ),
        ];
        let hosts: Vec<String> = misses.iter().map(|(h, _)| format!("{h:?}")).collect();
        let json = format!(
            r#"{{"network": {{"allowedDomains": [{}], "deniedDomains": []}}}}"#,
            hosts.join(", ")
        );
        let found = findings(CODE, &json, Target::Linux);
        assert_eq!(found.len(), misses.len(), "{found:#?}");
        for (d, (host, channel)) in found.iter().zip(misses) {
            assert!(
                d.message.contains(&format!("`{host}`")) && d.message.contains(channel),
                "{host}: {}",
                d.message
            );
            assert_eq!(d.severity, srt_schema::Severity::Warning, "{host}");
        }
    }
}
