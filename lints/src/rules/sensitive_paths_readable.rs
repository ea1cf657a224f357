//! `sensitive-paths-readable`: common secrets readable while the network is open.

use srt_compiler::Access;
use srt_schema::Fix;

use crate::context::short_list;
use crate::knowledge::places::{SECRETS, SECRET_NEEDED_BY};
use crate::{Emitter, LintContext};

crate::declare_lint! {
    /// ### What it does
    /// Notes common secrets that `denyRead` leaves readable while some host is reachable:
    /// `~/.ssh`, `~/.gnupg`, `~/.aws`, `~/.config/gcloud`, `~/.azure`, `~/.kube`,
    /// `~/.docker/config.json`, `~/.netrc`, `~/.git-credentials`, `~/.config/gh`,
    /// `~/.npmrc`, `~/.pypirc`, `~/.cargo/credentials.toml`. Readability is decided by the
    /// decision procedure, so a deny of a parent directory counts. A policy with no network
    /// access is not flagged: what it reads cannot leave.
    ///
    /// The fix (machine-applicable) adds the missing paths to `denyRead`, except `~/.npmrc`
    /// and `~/.pypirc` when their registry is allowed (npm and pip read them for registry
    /// settings).
    ///
    /// ### Why is this bad
    /// Reading is allowed by default. Any allowed host is a way out, and a prompt injection or
    /// a malicious dependency needs only one request to send a key or token there.
    ///
    /// ### Example
    /// Bad:
    /// ```json
    /// {"network": {"allowedDomains": ["api.anthropic.com"], "deniedDomains": []},
    ///  "filesystem": {"denyRead": ["~/.ssh"], "allowWrite": [], "denyWrite": []}}
    /// ```
    /// Use instead:
    /// ```json
    /// {"network": {"allowedDomains": ["api.anthropic.com"], "deniedDomains": []},
    ///  "filesystem": {"denyRead": ["~/.ssh", "~/.gnupg", "~/.aws", "~/.config/gcloud", "~/.azure",
    ///    "~/.kube", "~/.docker/config.json", "~/.netrc", "~/.git-credentials", "~/.config/gh",
    ///    "~/.npmrc", "~/.pypirc", "~/.cargo/credentials.toml"], "allowWrite": [], "denyWrite": []}}
    /// ```
    pub SENSITIVE_PATHS_READABLE {
        code: "sensitive-paths-readable",
        level: Note,
        summary: "common secrets (~/.aws, ~/.kube, ~/.netrc, …) are readable while the network is open",
        check: check,
    }
}

fn check(ctx: &LintContext<'_>, out: &mut Emitter) {
    if ctx.ir.net.allowed.is_empty() {
        return;
    }
    let missing: Vec<(&str, &str)> = SECRETS
        .iter()
        .filter(|(p, _)| ctx.path(p, Access::Read).allowed)
        .copied()
        .collect();
    if missing.is_empty() {
        return;
    }
    let to_add: Vec<&str> = missing
        .iter()
        .map(|(p, _)| *p)
        .filter(|p| {
            !SECRET_NEEDED_BY
                .iter()
                .any(|(s, host)| s == p && ctx.reachable(host))
        })
        .collect();
    let list: Vec<String> = missing
        .iter()
        .map(|(p, what)| format!("{p} ({what})"))
        .collect();
    let mut d = out
        .diag(format!(
            "{} common secret location{} readable while the network is open",
            missing.len(),
            if missing.len() == 1 { " is" } else { "s are" }
        ))
        .with_label(
            ctx.list_anchor("filesystem", "denyRead"),
            format!(
                "does not cover {}",
                short_list(&missing.iter().map(|(p, _)| *p).collect::<Vec<_>>())
            ),
        )
        .with_help(format!(
            "any allowed host can carry a secret out; deny reading: {}",
            list.join(", ")
        ));
    if !to_add.is_empty() {
        if let Some(edit) = ctx.append_all_to_list("filesystem", "denyRead", &to_add) {
            d = d.with_fix(Fix {
                description: format!("add {} to filesystem.denyRead", to_add.join(", ")),
                edits: vec![edit],
            });
        }
    }
    out.emit(d);
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::Target;

    const CODE: &str = "sensitive-paths-readable";

    #[test]
    fn passes() {
        for json in [
            // No network: nothing can leave.
            r#"{"network": {"allowedDomains": [], "deniedDomains": []}, "filesystem": {"denyRead": [], "allowWrite": ["."], "denyWrite": []}}"#,
            // Denying the whole home covers every one.
            r#"{"network": {"allowedDomains": ["crates.io"], "deniedDomains": []}, "filesystem": {"denyRead": ["~"], "allowWrite": [], "denyWrite": []}}"#,
        ] {
            assert_clean(CODE, json, Target::Linux);
        }
    }

    #[test]
    fn fails() {
        let cases = [
            (
                "seed: DX testing config (npm registry allowed: ~/.npmrc stays readable)",
                "{\n  \"network\": {\n    \"allowedDomains\": [\n      \"registry.npmjs.org\", \"pypi.org\"\n    ],\n    \"deniedDomains\": []\n  },\n  \"filesystem\": {\n    \"denyRead\": [\"~/.ssh\", \"~/.gnupg\"],\n    \"allowWrite\": [\"/tmp\"],\n    \"denyWrite\": []\n  }\n}",
            ),
            (
                "no filesystem section",
                r#"{"network": {"allowedDomains": ["api.anthropic.com"]}}"#,
            ),
        ];
        insta::assert_snapshot!(render_cases(CODE, &cases, Target::Linux));
    }
}
