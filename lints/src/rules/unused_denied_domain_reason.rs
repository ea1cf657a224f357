//! `unused-denied-domain-reason`: a reason for a deny entry that does not exist.

use srt_schema::items;

use crate::{Emitter, LintContext};

crate::declare_lint! {
    /// ### What it does
    /// Flags a `network.deniedDomainReasons` key that is not, character for character, an
    /// entry of `network.deniedDomains`, and suggests the entry it was probably meant for.
    ///
    /// ### Why is this bad
    /// Reasons are looked up by the exact deny entry as written. A reason keyed by
    /// `github.com` for the entry `*.github.com`, or with different case, is never shown: the
    /// user sees the generic "host is on the deny list" instead of the explanation.
    ///
    /// ### Example
    /// Bad:
    /// ```json
    /// {"network": {"allowedDomains": [], "deniedDomains": ["*.github.com"],
    ///   "deniedDomainReasons": {"github.com": "no pushing from the sandbox"}},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []}}
    /// ```
    /// Use instead:
    /// ```json
    /// {"network": {"allowedDomains": [], "deniedDomains": ["*.github.com"],
    ///   "deniedDomainReasons": {"*.github.com": "no pushing from the sandbox"}},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []}}
    /// ```
    pub UNUSED_DENIED_DOMAIN_REASON {
        code: "unused-denied-domain-reason",
        level: Warn,
        summary: "a deniedDomainReasons key matches no deniedDomains entry, so the reason is never shown",
        check: check,
    }
}

fn check(ctx: &LintContext<'_>, out: &mut Emitter) {
    let Some(net) = ctx.settings.network() else {
        return;
    };
    let entries: Vec<&str> = items(&net.denied_domains)
        .iter()
        .map(|e| e.value.raw.as_str())
        .collect();
    for (key, _) in &net.denied_domain_reasons {
        if entries.contains(&key.value.as_str()) {
            continue;
        }
        let suggestion = srt_schema::validate::did_you_mean(&key.value, &entries).or_else(|| {
            entries
                .iter()
                .find(|e| e.trim_start_matches("*.") == key.value.trim_start_matches("*."))
                .map(|e| e.to_string())
        });
        let mut d = out
            .diag(format!(
                "deniedDomainReasons key `{}` is not a deniedDomains entry, so its reason is never shown",
                key.value
            ))
            .with_label(key.span, match &suggestion {
                Some(s) => format!("did you mean `{s}`?"),
                None => "no such deny entry".to_string(),
            });
        d = d.with_help(match suggestion {
            Some(s) => format!("reasons are looked up by the deny entry exactly as written; rename the key to `{s}`"),
            None => "reasons are looked up by the deny entry exactly as written; add the entry to deniedDomains or remove the reason".into(),
        });
        out.emit(d);
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::Target;

    const CODE: &str = "unused-denied-domain-reason";

    #[test]
    fn passes() {
        assert_clean(
            CODE,
            r#"{"network": {"allowedDomains": [], "deniedDomains": ["*.github.com"], "deniedDomainReasons": {"*.github.com": "no"}}}"#,
            Target::Linux,
        );
    }

    #[test]
    fn fails() {
        let cases = [(
            "apex instead of wildcard, different case, no entry",
            r#"{"network": {"allowedDomains": [], "deniedDomains": ["*.github.com", "pastebin.com"], "deniedDomainReasons": {"github.com": "a", "PasteBin.com": "b", "gitlab.com": "c"}}}"#,
        )];
        insta::assert_snapshot!(render_cases(CODE, &cases, Target::Linux));
    }
}
