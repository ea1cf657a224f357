//! `shadowed-allow`: rules that never take effect because of another list.

use srt_compiler::{Access, HostReason, Origin, PathPattern};
use srt_schema::domain::HostPattern;

use crate::context::set_aside;
use crate::{Emitter, Level, LintContext};

crate::declare_lint! {
    /// ### What it does
    /// Flags rules that never take effect because of how the lists combine:
    /// - an `allowedDomains` entry that a `deniedDomains` entry always denies first (deny
    ///   wins), as a warning;
    /// - an `allowRead` entry outside every `denyRead` (reading is allowed by default, so it
    ///   re-allows nothing), as a warning;
    /// - an `allowWrite` entry inside a `denyRead` (a path that cannot be read cannot be
    ///   written), as a warning;
    /// - a `denyWrite` entry outside every `allowWrite` root (writing is denied by default),
    ///   as a note: harmless, but the file does not do what it looks like it does.
    ///
    /// Each is decided by the decision procedure, with the entry itself set aside.
    ///
    /// ### Why is this bad
    /// The author expects the entry to change something. A host that is "allowed" but always
    /// refused makes a build fail with a confusing 403; an `allowRead` that re-allows nothing
    /// often means the `denyRead` it was meant to punch through is misspelled.
    ///
    /// ### Example
    /// Bad:
    /// ```json
    /// {"network": {"allowedDomains": ["api.github.com"], "deniedDomains": ["*.github.com"]},
    ///  "filesystem": {"denyRead": ["~/.ssh"], "allowRead": ["~/.gnupg/pubring.kbx"], "allowWrite": [], "denyWrite": []}}
    /// ```
    /// Use instead:
    /// ```json
    /// {"network": {"allowedDomains": ["api.github.com"], "deniedDomains": ["gist.github.com"]},
    ///  "filesystem": {"denyRead": ["~/.ssh", "~/.gnupg"], "allowRead": ["~/.gnupg/pubring.kbx"], "allowWrite": [], "denyWrite": []}}
    /// ```
    pub SHADOWED_ALLOW {
        code: "shadowed-allow",
        level: Warn,
        summary: "an allow that a deny always overrides, an allowRead outside every denyRead, a denyWrite outside every allowWrite",
        check: check,
    }
}

fn check(ctx: &LintContext<'_>, out: &mut Emitter) {
    hosts(ctx, out);
    allow_read(ctx, out);
    deny_write(ctx, out);
    write_in_read_deny(ctx, out);
}

/// Does the list hold an entry of the file (not only built-in rules)? The scratch IR the checks
/// set entries aside in is cloned only then.
fn has_policy_rule(rules: &[srt_compiler::PathRule]) -> bool {
    rules
        .iter()
        .any(|r| matches!(r.origin, Origin::Policy { .. }))
}

fn write_in_read_deny(ctx: &LintContext<'_>, out: &mut Emitter) {
    for rule in &ctx.ir.fs.allow_write {
        let (Origin::Policy { span, .. }, PathPattern::Literal(path)) =
            (&rule.origin, &rule.pattern)
        else {
            continue;
        };
        let d = ctx.ir.decide_path(path, Access::Write);
        let Some(deny) = d.rule.filter(|_| d.via_read_deny) else {
            continue;
        };
        let mut diag = out
            .diag(format!(
                "allowWrite `{}` is not writable: {} denies reading it",
                rule.spelled,
                ctx.describe(&deny.origin)
            ))
            .with_label(*span, "never writable");
        if let Some(by) = deny.origin.span() {
            diag = diag.with_label(by, "denies reading, and so writing");
        }
        out.emit(diag.with_help(
            "a path that cannot be read cannot be written; re-open it with allowRead, or drop it from allowWrite",
        ));
    }
}

fn hosts(ctx: &LintContext<'_>, out: &mut Emitter) {
    for rule in &ctx.ir.net.allowed {
        let Some(span) = rule.origin.span() else {
            continue;
        };
        let host = match &rule.pattern.host {
            HostPattern::Name(n) => n.clone(),
            HostPattern::Subdomains(b) => format!("srt-lint-probe.{b}"),
            HostPattern::Ip(_) => rule.pattern.host.to_string(),
            HostPattern::Any => continue,
        };
        let d = ctx.host(&host, rule.pattern.port.unwrap_or(443));
        let (false, HostReason::Denied(_), Some(deny)) = (d.allowed, &d.reason, d.rule) else {
            continue;
        };
        let mut diag = out
            .diag(format!(
                "`{}` is never reachable: deniedDomains entry `{}` denies it first",
                rule.raw, deny.raw
            ))
            .with_label(span, "never takes effect");
        if let Some(by) = deny.origin.span() {
            diag = diag.with_label(by, "deny wins");
        }
        out.emit(diag.with_help(
            "deniedDomains is checked before allowedDomains; narrow the deny entry, or drop the allow entry",
        ));
    }
}

fn allow_read(ctx: &LintContext<'_>, out: &mut Emitter) {
    if !has_policy_rule(&ctx.ir.fs.allow_read) {
        return;
    }
    let mut scratch = ctx.ir.clone();
    for (index, rule) in ctx.ir.fs.allow_read.iter().enumerate() {
        let Origin::Policy { span, .. } = rule.origin else {
            continue;
        };
        let shadowed = match &rule.pattern {
            PathPattern::Literal(path) => set_aside(
                &mut scratch,
                |ir| &mut ir.fs.allow_read,
                index,
                |without| {
                    let d = without.decide_path(path, Access::Read);
                    d.allowed && d.rule.is_none()
                },
            ),
            PathPattern::Glob { .. } => ctx.ir.fs.deny_read.is_empty(),
        };
        if !shadowed {
            continue;
        }
        let d = out
            .diag(format!(
                "allowRead `{}` re-allows nothing: no denyRead entry covers it",
                rule.spelled
            ))
            .with_label(span, "outside every denyRead")
            .with_help("reading is allowed by default; allowRead only re-opens a part of a denied directory. Is the denyRead it belongs to missing or misspelled?");
        out.emit(d);
    }
}

fn deny_write(ctx: &LintContext<'_>, out: &mut Emitter) {
    if !has_policy_rule(&ctx.ir.fs.deny_write) {
        return;
    }
    let mut scratch = ctx.ir.clone();
    for (index, rule) in ctx.ir.fs.deny_write.iter().enumerate() {
        let Origin::Policy { span, .. } = rule.origin else {
            continue;
        };
        let base = rule.pattern.base();
        let by_default = set_aside(
            &mut scratch,
            |ir| &mut ir.fs.deny_write,
            index,
            |without| {
                let d = without.decide_path(&base, Access::Write);
                !d.allowed && d.rule.is_none() && !d.via_read_deny
            },
        );
        let root_inside = rule.pattern.is_glob()
            && ctx
                .ir
                .fs
                .allow_write
                .iter()
                .any(|w| w.pattern.base().starts_with(&base));
        if !by_default || root_inside {
            continue;
        }
        let d = out
            .diag(format!(
                "denyWrite `{}` denies nothing new: no allowWrite root covers it",
                rule.spelled
            ))
            .with_label(span, "outside every allowWrite")
            .with_help("writing is denied by default; denyWrite only carves exceptions out of allowWrite roots. Keep it only as a guard against a later allowWrite");
        out.emit_at(Level::Note, d);
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::Target;

    const CODE: &str = "shadowed-allow";

    #[test]
    fn passes() {
        for json in [
            r#"{"network": {"allowedDomains": ["api.github.com", "*.crates.io"], "deniedDomains": ["gist.github.com", "evil.crates.io"]}}"#,
            r#"{"filesystem": {"denyRead": ["~/.ssh"], "allowRead": ["~/.ssh/known_hosts"], "allowWrite": ["."], "denyWrite": [".env", "secrets/**"]}}"#,
        ] {
            assert_clean(CODE, json, Target::Linux);
        }
    }

    #[test]
    fn fails() {
        let cases = [
            (
                "deny wins over allow",
                r#"{"network": {"allowedDomains": ["api.github.com", "*.githubusercontent-example.com", "crates.io"], "deniedDomains": ["*.github.com", "*"]}}"#,
            ),
            (
                "allowRead and denyWrite with nothing to act on, allowWrite inside denyRead",
                r#"{"filesystem": {"denyRead": ["~/.ssh", "~/.cache"], "allowRead": ["~/.gnupg/pubring.kbx"], "allowWrite": ["/tmp", "~/.cache/uv"], "denyWrite": [".env"]}}"#,
            ),
        ];
        insta::assert_snapshot!(render_cases(CODE, &cases, Target::Linux));
    }
}
