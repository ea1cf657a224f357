//! `incomplete-ecosystem-allowlist`: a package ecosystem partly allowed.

use crate::knowledge::ECOSYSTEMS;
use crate::{Emitter, LintContext, Target};

crate::declare_lint! {
    /// ### What it does
    /// Flags a package ecosystem that the policy allows only in part: some of its registry
    /// hosts are reachable but not all, or its cache directory is not writable. It knows the
    /// ecosystems of the seed allowlists:
    ///
    /// | ecosystem | hosts | caches |
    /// |---|---|---|
    /// | Rust | `index.crates.io`, `static.crates.io` | `~/.cargo/registry`, `~/.cargo/git` |
    /// | Go | `proxy.golang.org`, `sum.golang.org`, `storage.googleapis.com` | `~/go/pkg/mod`, `~/.cache/go-build` (macOS: `~/Library/Caches/go-build`) |
    /// | Node | `registry.npmjs.org` | `~/.npm/_cacache` (not all of `~/.npm`: `npx` runs what `~/.npm/_npx` holds) |
    /// | Python | `pypi.org`, `files.pythonhosted.org` | `~/.cache/pip` or `~/.cache/uv` (macOS: `~/Library/Caches/pip`) |
    ///
    /// An ecosystem counts as in use when one of its registry hosts is reachable (`crates.io`
    /// counts for Rust, but is never suggested: it is the publish API, which builds with the sparse
    /// index do not use); hosts and caches are checked with the decision procedure.
    ///
    /// ### Why is this bad
    /// The build fails in a confusing way: cargo reports a network error for a crate whose
    /// index it could fetch, Go fails to create `~/go/pkg/mod`, npm falls back to a slower
    /// path and then gives up with `EACCES`.
    ///
    /// ### Example
    /// Bad:
    /// ```json
    /// {"network": {"allowedDomains": ["crates.io", "index.crates.io"], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": ["."], "denyWrite": []}}
    /// ```
    /// Use instead:
    /// ```json
    /// {"network": {"allowedDomains": ["index.crates.io", "static.crates.io", "static.rust-lang.org"], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": [".", "~/.cargo/registry", "~/.cargo/git"], "denyWrite": []}}
    /// ```
    pub INCOMPLETE_ECOSYSTEM_ALLOWLIST {
        code: "incomplete-ecosystem-allowlist",
        level: Warn,
        summary: "a package ecosystem (Rust, Go, Node, Python) is partly allowed: hosts missing or caches not writable",
        check: check,
    }
}

fn check(ctx: &LintContext<'_>, out: &mut Emitter) {
    for eco in ECOSYSTEMS {
        let Some((span, raw)) = eco.signature.iter().find_map(|h| {
            let d = ctx.host(h, 443);
            let rule = d.rule.filter(|_| d.allowed)?;
            Some((rule.origin.span()?, rule.raw.clone()))
        }) else {
            continue;
        };
        let missing_hosts: Vec<&(&str, &str)> = eco
            .hosts
            .iter()
            .filter(|(h, _)| !ctx.reachable(h))
            .collect();
        let missing_caches: Vec<(&str, &[&str])> = eco
            .caches
            .iter()
            .map(|c| {
                let any = match ctx.target {
                    Target::Linux => c.linux,
                    Target::Macos => c.macos,
                };
                (c.what, any)
            })
            .filter(|(_, any)| !any.iter().any(|p| ctx.writable(p)))
            .collect();
        if missing_hosts.is_empty() && missing_caches.is_empty() {
            continue;
        }
        let mut parts = Vec::new();
        if !missing_hosts.is_empty() {
            let hosts: Vec<&str> = missing_hosts.iter().map(|(h, _)| *h).collect();
            parts.push(format!("{} not reachable", hosts.join(", ")));
        }
        if !missing_caches.is_empty() {
            let caches: Vec<String> = missing_caches
                .iter()
                .map(|(_, any)| any.join(" or "))
                .collect();
            parts.push(format!("{} not writable", caches.join(", ")));
        }
        let mut help = Vec::new();
        for (h, what) in &missing_hosts {
            help.push(format!("add \"{h}\" to network.allowedDomains ({what})"));
        }
        for (what, any) in &missing_caches {
            help.push(format!(
                "add \"{}\" to filesystem.allowWrite ({what})",
                any.first().copied().unwrap_or_default()
            ));
        }
        let mut d = out
            .diag(format!(
                "{} is partly allowed: {}",
                eco.name,
                parts.join("; ")
            ))
            .with_label(span, format!("`{raw}` allows {}", eco.name));
        if !missing_caches.is_empty() {
            d = d.with_label(
                ctx.list_anchor("filesystem", "allowWrite"),
                "its cache is not writable here",
            );
        }
        out.emit(d.with_help(format!(
            "{}; or, if the build does not use {}, remove its hosts",
            help.join("; "),
            eco.name
        )));
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::Target;

    const CODE: &str = "incomplete-ecosystem-allowlist";

    #[test]
    fn passes() {
        for json in [
            // The seed's Rust .srt.json, complete.
            r#"{"network": {"allowedDomains": ["api.anthropic.com", "crates.io", "*.crates.io", "static.crates.io", "index.crates.io", "static.rust-lang.org"]}, "filesystem": {"denyRead": ["~/.ssh"], "allowWrite": [".", "~/.cargo/registry", "~/.cargo/git", "/tmp"]}}"#,
            r#"{"network": {"allowedDomains": ["registry.npmjs.org", "pypi.org", "files.pythonhosted.org"], "deniedDomains": []}, "filesystem": {"denyRead": [], "allowWrite": ["~/.npm", "~/.cache/uv"], "denyWrite": []}}"#,
            // Not a build policy at all.
            r#"{"network": {"allowedDomains": ["api.anthropic.com", "storage.googleapis.com"], "deniedDomains": []}}"#,
        ] {
            assert_clean(CODE, json, Target::Linux);
        }
    }

    #[test]
    fn fails() {
        let cases = [
            (
                "seed: Go minimal (no caches)",
                "{\"network\": {\"allowedDomains\": [\n  \"api.anthropic.com\",\n  \"proxy.golang.org\", \"sum.golang.org\", \"storage.googleapis.com\",\n  \"gopkg.in\"\n]}}",
            ),
            (
                "seed: Node minimal",
                "{\"network\": {\"allowedDomains\": [\n  \"api.anthropic.com\",\n  \"registry.npmjs.org\", \"*.npmjs.org\"\n]}}",
            ),
            (
                "Rust without static.crates.io, Python without a cache",
                r#"{"network": {"allowedDomains": ["crates.io", "index.crates.io", "static.rust-lang.org", "pypi.org", "files.pythonhosted.org"], "deniedDomains": []}, "filesystem": {"denyRead": [], "allowWrite": ["~/.cargo/registry", "~/.cargo/git"], "denyWrite": []}}"#,
            ),
        ];
        insta::assert_snapshot!(render_cases(CODE, &cases, Target::Linux));
    }
}
