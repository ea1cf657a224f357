//! `domain-fronting-surface`: wildcards over shared CDN and cloud front doors.

use crate::knowledge::exfiltration::FRONT_DOORS;
use crate::psl::wildcard_reaches_registrable_names;
use crate::{Emitter, LintContext};
use srt_schema::domain::HostPattern;

crate::declare_lint! {
    /// ### What it does
    /// Flags an allowed wildcard that reaches arbitrary names under a shared CDN or cloud
    /// front door that the Public Suffix List does not cover (those are
    /// `wildcard-over-public-suffix`): `*.amazonaws.com`, `*.fastly.net`, `*.akamaihd.net`,
    /// `*.azurefd.net`, `*.windows.net`, `*.cloudflare.net`. The check asks the decision
    /// procedure whether a made-up name under each front door is reachable.
    ///
    /// ### Why is this bad
    /// One allowed name reaches many tenants. Behind a shared front door the TLS name the
    /// proxy sees does not decide which customer's endpoint answers: domain fronting, customer
    /// buckets and APIs are all reachable, including ones an attacker runs.
    ///
    /// ### Example
    /// Bad:
    /// ```json
    /// {"network": {"allowedDomains": ["*.amazonaws.com"], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []}}
    /// ```
    /// Use instead (the endpoints the job uses):
    /// ```json
    /// {"network": {"allowedDomains": ["sts.us-east-1.amazonaws.com", "ecr.us-east-1.amazonaws.com"], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []}}
    /// ```
    pub DOMAIN_FRONTING_SURFACE {
        code: "domain-fronting-surface",
        level: Warn,
        summary: "a wildcard over a shared CDN or cloud front door (`*.amazonaws.com`, `*.fastly.net`) reaches many tenants",
        check: check,
    }
}

fn check(ctx: &LintContext<'_>, out: &mut Emitter) {
    let mut reported = Vec::new();
    for (door, what) in FRONT_DOORS {
        let probe = format!("srt-lint-probe.{door}");
        let d = ctx.host(&probe, 443);
        let Some(rule) = d.rule.filter(|_| d.allowed) else {
            continue;
        };
        let HostPattern::Subdomains(base) = &rule.pattern.host else {
            continue;
        };
        let Some(span) = rule.origin.span() else {
            continue;
        };
        // The stronger lint already reports wildcards over public suffixes.
        if reported.contains(&span) || wildcard_reaches_registrable_names(base).is_some() {
            continue;
        }
        reported.push(span);
        let diag = out
            .diag(format!(
                "`{}` reaches every name under {door}: {what}",
                rule.raw
            ))
            .with_label(span, "one entry, many tenants")
            .with_help(format!(
                "allow the exact endpoints the job uses instead of `*.{base}`"
            ));
        out.emit(diag);
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::Target;

    const CODE: &str = "domain-fronting-surface";

    #[test]
    fn passes() {
        for json in [
            r#"{"network": {"allowedDomains": ["sts.amazonaws.com", "*.crates.io"], "deniedDomains": []}}"#,
            // A public-suffix wildcard is the other lint's.
            r#"{"network": {"allowedDomains": ["*.cloudfront.net", "*.googleapis.com"], "deniedDomains": []}}"#,
        ] {
            assert_clean(CODE, json, Target::Linux);
        }
    }

    #[test]
    fn fails() {
        let cases = [(
            "cloud and CDN wildcards",
            r#"{"network": {"allowedDomains": ["*.amazonaws.com", "*.fastly.net", "*.windows.net"], "deniedDomains": []}}"#,
        )];
        insta::assert_snapshot!(render_cases(CODE, &cases, Target::Linux));
    }
}
