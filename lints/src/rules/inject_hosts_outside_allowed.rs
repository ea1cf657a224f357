//! `inject-hosts-outside-allowed`: a masked credential's scope names hosts the sandbox cannot
//! reach, or none at all.

use srt_compiler::secrets::{CredentialMode, CredentialSource};
use srt_compiler::Origin;
use srt_schema::domain::{parse_pattern, DomainList, DomainPattern, Host, HostPattern};
use srt_schema::json::Json;

use crate::{Emitter, LintContext};

crate::declare_lint! {
    /// ### What it does
    /// Flags, for each masked credential, an `injectHosts` entry that `network.allowedDomains`
    /// does not cover (ports aside), an entry that `network.tlsTerminate.excludeDomains`
    /// covers entirely (excluded hosts are never terminated, so never injected), and an
    /// explicitly empty `injectHosts`. The npm srt rejects each of these; `srt run` refuses
    /// them (deny level).
    ///
    /// ### Why is this bad
    /// `injectHosts` is where the real value may go. An entry the sandbox cannot reach, or
    /// that is never terminated, says the credential is injected somewhere it never will be:
    /// usually a typo, or an allow entry that was removed and left the credential's scope
    /// wider than the policy. An empty list masks a value that is then never usable.
    ///
    /// ### Example
    /// Bad:
    /// ```json
    /// {"network": {"allowedDomains": ["api.github.com"], "deniedDomains": [], "tlsTerminate": {}},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []},
    ///  "credentials": {"envVars": [{"name": "GITHUB_TOKEN", "mode": "mask", "injectHosts": ["*.github.com"]}]}}
    /// ```
    /// Use instead:
    /// ```json
    /// {"network": {"allowedDomains": ["api.github.com"], "deniedDomains": [], "tlsTerminate": {}},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []},
    ///  "credentials": {"envVars": [{"name": "GITHUB_TOKEN", "mode": "mask", "injectHosts": ["api.github.com"]}]}}
    /// ```
    pub INJECT_HOSTS_OUTSIDE_ALLOWED {
        code: "inject-hosts-outside-allowed",
        level: Deny,
        summary: "a masked credential's injectHosts names a host the policy does not allow, one never terminated, or none",
        check: check,
    }
}

/// Whether `inner` (a host pattern, port ignored) names only hosts some pattern of `outer`
/// matches (ports ignored).
pub(crate) fn covered(inner: &DomainPattern, outer: &[DomainPattern]) -> bool {
    outer.iter().any(|o| match (&inner.host, &o.host) {
        (_, HostPattern::Any) => true,
        (HostPattern::Name(n), _) => o.host_matches(&Host::Name(n.clone())),
        (HostPattern::Ip(ip), _) => o.host_matches(&Host::Ip(*ip)),
        (HostPattern::Subdomains(a), HostPattern::Subdomains(b)) => {
            a == b || a.ends_with(&format!(".{b}"))
        }
        _ => false,
    })
}

trait HostMatches {
    fn host_matches(&self, host: &Host) -> bool;
}

impl HostMatches for DomainPattern {
    fn host_matches(&self, host: &Host) -> bool {
        DomainPattern {
            host: self.host.clone(),
            port: None,
        }
        .matches(host, 0)
    }
}

fn check(ctx: &LintContext<'_>, out: &mut Emitter) {
    let allowed: Vec<DomainPattern> = ctx
        .ir
        .net
        .allowed
        .iter()
        .map(|r| r.pattern.clone())
        .collect();
    let excluded: Vec<DomainPattern> = ctx
        .ir
        .secrets
        .tls
        .iter()
        .flat_map(|t| t.exclude.iter().map(|r| r.pattern.clone()))
        .collect();
    for c in &ctx.ir.secrets.credentials {
        let list = match c.source {
            CredentialSource::Env(_) => "envVars",
            CredentialSource::File(_) => "files",
        };
        let Origin::Policy { index, .. } = c.origin else {
            continue;
        };
        let pointer = format!("/credentials/{list}/{index}/injectHosts");
        if c.mode != CredentialMode::Mask {
            continue;
        }
        let Some(node) = ctx.node(&pointer) else {
            continue;
        };
        let entries = node.as_array().unwrap_or_default();
        if entries.is_empty() {
            let d = out
                .diag(format!("injectHosts of {} is empty: the credential is masked but never injected", c.what()))
                .with_label(node.span, "empty")
                .with_help("omit injectHosts to inject at every allowed host, or list the hosts that need the real value");
            out.emit(d);
            continue;
        }
        for e in entries {
            emit_entry(out, c.what(), e, &allowed, &excluded);
        }
    }
}

fn emit_entry(
    out: &mut Emitter,
    what: String,
    e: &Json,
    allowed: &[DomainPattern],
    excluded: &[DomainPattern],
) {
    let Some(raw) = e.as_str() else { return };
    let Ok(p) = parse_pattern(raw, DomainList::Allow) else {
        return;
    };
    if !covered(&p, allowed) {
        let d = out
            .diag(format!(
                "injectHosts entry `{raw}` of {what} is not reachable via network.allowedDomains"
            ))
            .with_label(e.span, "not allowed")
            .with_help(format!(
                "add \"{raw}\" (or a covering wildcard) to allowedDomains, or remove it from injectHosts"
            ));
        out.emit(d);
    } else if covered(&p, excluded) {
        let d = out
            .diag(format!(
                "injectHosts entry `{raw}` of {what} is covered by network.tlsTerminate.excludeDomains, so it receives the sentinel, never the credential"
            ))
            .with_label(e.span, "never terminated")
            .with_help("credentials are injected only on TLS-terminated connections; remove the host from one of the two lists");
        out.emit(d);
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::Target;

    const CODE: &str = "inject-hosts-outside-allowed";

    #[test]
    fn passes() {
        assert_clean(
            CODE,
            r#"{"network": {"allowedDomains": ["*.github.com:443", "example.com"], "deniedDomains": [], "tlsTerminate": {}}, "credentials": {"envVars": [{"name": "T", "mode": "mask", "injectHosts": ["api.github.com", "*.uploads.github.com", "example.com"]}, {"name": "U", "mode": "deny", "injectHosts": []}]}}"#,
            Target::Linux,
        );
    }

    #[test]
    fn fails() {
        let cases = [(
            "outside the allow list, never terminated, empty",
            "{\n  \"network\": {\"allowedDomains\": [\"api.github.com\", \"mtls.example.com\"], \"deniedDomains\": [],\n    \"tlsTerminate\": {\"excludeDomains\": [\"mtls.example.com\"]}},\n  \"credentials\": {\n    \"envVars\": [{\"name\": \"GITHUB_TOKEN\", \"mode\": \"mask\", \"injectHosts\": [\"*.github.com\", \"mtls.example.com\"]}],\n    \"files\": [{\"path\": \"~/.token\", \"mode\": \"mask\", \"injectHosts\": []}]\n  }\n}",
        )];
        insta::assert_snapshot!(render_cases(CODE, &cases, Target::Linux));
    }
}
