//! `wildcard-over-public-suffix`: `*.X` where anyone can register names under X.

use srt_schema::domain::HostPattern;
use srt_schema::items;

use crate::psl::{wildcard_reaches_registrable_names, Section};
use crate::{Emitter, LintContext};

crate::declare_lint! {
    /// ### What it does
    /// Flags an `allowedDomains` wildcard `*.X` where X is a public suffix, or where the
    /// Public Suffix List makes every name under X one: `*.github.io`, `*.cloudfront.net`,
    /// `*.herokuapp.com`, `*.vercel.app`, `*.co.uk`, `*.s3.amazonaws.com`,
    /// `*.compute.amazonaws.com`. The list is vendored with srt (`lints/data/`), so the check
    /// needs no network.
    ///
    /// ### Why is this bad
    /// Anyone can register a name under a public suffix: a GitHub Pages site, a CloudFront
    /// distribution, a Heroku app. The wildcard therefore allows hosts an attacker controls,
    /// which makes every secret the sandbox can read one request away from leaving.
    ///
    /// ### Example
    /// Bad:
    /// ```json
    /// {"network": {"allowedDomains": ["static.crates.io", "*.cloudfront.net"], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []}}
    /// ```
    /// Use instead (the exact host the build uses):
    /// ```json
    /// {"network": {"allowedDomains": ["static.crates.io", "d1a2b3c4d5e6f7.cloudfront.net"], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []}}
    /// ```
    pub WILDCARD_OVER_PUBLIC_SUFFIX {
        code: "wildcard-over-public-suffix",
        level: Deny,
        summary: "a wildcard over a public suffix (`*.github.io`, `*.cloudfront.net`) allows attacker-registered hosts",
        check: check,
    }
}

fn check(ctx: &LintContext<'_>, out: &mut Emitter) {
    let Some(net) = ctx.settings.network() else {
        return;
    };
    for entry in items(&net.allowed_domains) {
        let Some(HostPattern::Subdomains(base)) = entry.value.pattern.as_ref().map(|p| &p.host)
        else {
            continue;
        };
        let Some(ps) = wildcard_reaches_registrable_names(base) else {
            continue;
        };
        let section = match ps.section {
            Some(Section::Private) => "a public suffix a company runs for its customers",
            _ => "a public suffix",
        };
        let what = if ps.suffix.starts_with('*') {
            format!("every name directly under `{base}` is {section}")
        } else {
            format!("`{base}` is {section}")
        };
        let d = out
            .diag(format!(
                "`{}` allows names anyone can register: {what}",
                entry.value.raw
            ))
            .with_label(entry.span, "attacker-controlled hosts match this")
            .with_help(format!(
                "allow the exact host(s) the job uses (e.g. `name.{base}`), not the whole suffix{}",
                if base == "cloudfront.net" {
                    "; if this was added for crate downloads, `static.crates.io` is enough"
                } else {
                    ""
                }
            ));
        out.emit(d);
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::Target;

    const CODE: &str = "wildcard-over-public-suffix";

    #[test]
    fn passes() {
        for json in [
            r#"{"network": {"allowedDomains": ["*.crates.io", "*.github.com", "*.npmjs.org", "foo.github.io"], "deniedDomains": ["*.github.io"]}}"#,
            r#"{"network": {"allowedDomains": ["*.corp.internal-example"], "deniedDomains": []}}"#,
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
                "ICANN and private suffixes, and a wildcard rule",
                r#"{"network": {"allowedDomains": ["*.co.uk", "*.github.io", "*.vercel.app:443", "*.compute.amazonaws.com", "*.githubusercontent.com"], "deniedDomains": []}}"#,
            ),
        ];
        insta::assert_snapshot!(render_cases(CODE, &cases, Target::Linux));
    }
}
