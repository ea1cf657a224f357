//! `wildcard-over-public-suffix`: `*.X` where X is on the Public Suffix List.

use srt_schema::domain::HostPattern;
use srt_schema::items;

use crate::psl::{wildcard_reaches_registrable_names, Section};
use crate::{Emitter, Level, LintContext};

crate::declare_lint! {
    /// ### What it does
    /// Flags an `allowedDomains` wildcard `*.X` where X is a public suffix, or where the
    /// Public Suffix List makes every name under X one. The list is vendored with srt
    /// (`lints/data/`), so the check needs no network. What the finding says, and its level,
    /// follow the section of the list the suffix comes from:
    ///
    /// - **ICANN section** (`*.co.uk`, `*.com.au`): registries sell names under these to
    ///   anyone. An error for `srt lint`.
    /// - **Private section** (`*.github.io`, `*.cloudfront.net`, `*.githubusercontent.com`,
    ///   `*.s3.amazonaws.com`): a company lists names it hands to separate customers or
    ///   tenants, so browsers keep their cookies apart. Nobody registers these at a registry;
    ///   whether anyone can get one depends on the company (anyone can make a GitHub Pages
    ///   site or a CloudFront distribution; GitHub alone names hosts under
    ///   `githubusercontent.com`, though users choose much of what they serve). A warning.
    ///
    /// Neither stops `srt run`: a broad allowlist is the author's choice, reported, not refused.
    ///
    /// ### Why is this bad
    /// A wildcard over such a suffix allows hosts other parties control: a registered domain,
    /// someone's Pages site or distribution. Whatever the sandbox can read is then one request
    /// away from leaving.
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
        summary: "a wildcard over a public suffix: registrable names (`*.co.uk`, error) or a company's customer names (`*.github.io`, warning)",
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
        let exact = format!(
            "allow the exact host(s) the job uses (e.g. `name.{base}`), not the whole suffix{}",
            if base == "cloudfront.net" {
                "; if this was added for crate downloads, `static.crates.io` is enough"
            } else {
                ""
            }
        );
        let (level, message, label) = match ps.section {
            Some(Section::Private) => (
                Level::Warn,
                format!(
                    "`{}` reaches hosts `{base}`'s operator hands to separate customers: {} on the Public Suffix List's private section",
                    entry.value.raw,
                    placed(&ps.suffix, base)
                ),
                "hosts of other customers or tenants match this",
            ),
            _ => (
                Level::Deny,
                format!(
                    "`{}` allows names anyone can register: {} a public suffix (ICANN section)",
                    entry.value.raw,
                    placed(&ps.suffix, base)
                ),
                "attacker-registered hosts match this",
            ),
        };
        let d = out
            .diag(message)
            .with_label(entry.span, label)
            .with_help(exact);
        out.emit_at(level, d);
    }
}

/// "`base` is" or "every name directly under `base` is" (a wildcard rule of the list).
fn placed(suffix: &str, base: &str) -> String {
    if suffix.starts_with('*') {
        format!("every name directly under `{base}` is")
    } else {
        format!("`{base}` is")
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
