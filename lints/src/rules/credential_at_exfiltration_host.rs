//! `credential-at-exfiltration-host`: a masked credential whose real value is put back into
//! requests to a host where anyone can publish what they send.

use srt_compiler::secrets::CredentialMode;
use srt_compiler::Origin;
use srt_schema::domain::canonical_host;

use crate::knowledge::base::{probe, shown};
use crate::knowledge::CHANNELS;
use crate::{Emitter, LintContext};

crate::declare_lint! {
    /// ### What it does
    /// Flags a masked credential whose inject hosts (its `injectHosts`, else every allowed
    /// host) include a host where anyone can upload or publish data: GitHub (gists, issues,
    /// any repository), GitLab, Bitbucket, paste sites, request catchers, object storage, chat
    /// webhooks (the hosts `exfiltration-surface` knows). Each finding names the hosts.
    ///
    /// ### Why is this bad
    /// The proxy replaces a sentinel with the real value in every header and in the body of a
    /// request to an inject host. A sandboxed process that posts its sentinel to such a host
    /// (a gist, a paste, an issue comment) publishes the real credential: masking then protects
    /// nothing against that host. Inject a credential only at the API host that authenticates
    /// with it, and do not allow upload hosts at all where you can.
    ///
    /// ### Example
    /// Bad (the token is injected everywhere the sandbox can reach, pastebin included):
    /// ```json
    /// {"network": {"allowedDomains": ["api.openai.com", "pastebin.com"], "deniedDomains": [], "tlsTerminate": {}},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []},
    ///  "credentials": {"envVars": [{"name": "OPENAI_API_KEY", "mode": "mask"}]}}
    /// ```
    /// Use instead:
    /// ```json
    /// {"network": {"allowedDomains": ["api.openai.com", "pastebin.com"], "deniedDomains": [], "tlsTerminate": {}},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []},
    ///  "credentials": {"envVars": [{"name": "OPENAI_API_KEY", "mode": "mask", "injectHosts": ["api.openai.com"]}]}}
    /// ```
    pub CREDENTIAL_AT_EXFILTRATION_HOST {
        code: "credential-at-exfiltration-host",
        level: Warn,
        summary: "a masked credential's real value is injected at a host where anyone can publish what is sent (GitHub, paste sites, …)",
        check: check,
    }
}

fn check(ctx: &LintContext<'_>, out: &mut Emitter) {
    for c in &ctx.ir.secrets.credentials {
        if c.mode != CredentialMode::Mask {
            continue;
        }
        let inject = c.inject_patterns(&ctx.ir.net.allowed);
        let mut hits: Vec<(&str, String, &str)> = Vec::new();
        for channel in CHANNELS {
            for host in channel.hosts {
                let probe = probe(host);
                let Ok(h) = canonical_host(&probe) else {
                    continue;
                };
                // Only where the sandbox can actually send it.
                if ctx.reachable(&probe) && inject.iter().any(|p| p.matches(&h, 0)) {
                    hits.push((channel.name, shown(host).into_owned(), channel.can));
                }
            }
        }
        if hits.is_empty() {
            continue;
        }
        let Origin::Policy { span, .. } = c.origin else {
            continue;
        };
        let names: Vec<String> = hits.iter().map(|(_, h, _)| h.clone()).collect();
        let scope = if c.inject_hosts.is_some() {
            "its injectHosts include"
        } else {
            "it has no injectHosts, so every allowed host gets it, including"
        };
        let mut examples: Vec<String> = Vec::new();
        for (service, _, what) in &hits {
            let example = format!("{service}: {what}");
            if !examples.contains(&example) && examples.len() < 2 {
                examples.push(example);
            }
        }
        let d = out
            .diag(format!(
                "the real value of {} is injected at upload hosts: {scope} {}",
                c.what(),
                crate::context::short_list(&names.iter().map(String::as_str).collect::<Vec<_>>())
            ))
            .with_label(span, "masked credential")
            .with_help(format!(
                "a sentinel sent to such a host (in a gist, a paste, a comment) is replaced by the real value and published ({}); set injectHosts to the API host that needs the credential",
                examples.join("; ")
            ));
        out.emit(d);
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::Target;

    const CODE: &str = "credential-at-exfiltration-host";

    #[test]
    fn passes() {
        assert_clean(
            CODE,
            r#"{"network": {"allowedDomains": ["api.openai.com", "pastebin.com"], "deniedDomains": [], "tlsTerminate": {}}, "credentials": {"envVars": [{"name": "K", "mode": "mask", "injectHosts": ["api.openai.com"]}, {"name": "D", "mode": "deny"}]}}"#,
            Target::Linux,
        );
    }

    #[test]
    fn fails() {
        let cases = [(
            "default inject hosts include pastebin; explicit ones include gist.github.com",
            "{\n  \"network\": {\"allowedDomains\": [\"api.openai.com\", \"pastebin.com\", \"*.github.com\"], \"deniedDomains\": [], \"tlsTerminate\": {}},\n  \"credentials\": {\"envVars\": [\n    {\"name\": \"OPENAI_API_KEY\", \"mode\": \"mask\"},\n    {\"name\": \"GITHUB_TOKEN\", \"mode\": \"mask\", \"injectHosts\": [\"*.github.com\"]}\n  ]}\n}",
        )];
        insta::assert_snapshot!(render_cases(CODE, &cases, Target::Linux));
    }
}
