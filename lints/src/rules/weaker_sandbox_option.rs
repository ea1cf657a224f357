//! `weaker-sandbox-option`: options that trade isolation for compatibility.

use crate::knowledge::WEAKER_OPTIONS;
use crate::{Emitter, LintContext};

crate::declare_lint! {
    /// ### What it does
    /// Flags options set to `true` that weaken the sandbox on the target OS, and says what
    /// each gives up: `filesystem.disabled`, `enableWeakerNestedSandbox` and
    /// `allowNestedUserNamespaces` (Linux), `enableWeakerNetworkIsolation`, `allowAppleEvents`
    /// and `network.allowLocalBinding` (macOS). On the other OS the option does nothing and
    /// `platform-no-op` reports it instead.
    ///
    /// ### Why is this bad
    /// Each exists for a real need (a sandbox inside Docker, a Go binary verifying
    /// certificates on macOS, a dev server), and each opens a way around the rules the rest of
    /// the file sets. They belong in a policy only with a reason, and the reason belongs next
    /// to them.
    ///
    /// ### Example
    /// Bad:
    /// ```json
    /// {"network": {"allowedDomains": [], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": ["."], "denyWrite": [], "disabled": true}}
    /// ```
    /// Use instead:
    /// ```json
    /// {"network": {"allowedDomains": [], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": ["."], "denyWrite": []}}
    /// ```
    pub WEAKER_SANDBOX_OPTION {
        code: "weaker-sandbox-option",
        level: Warn,
        summary: "an option that weakens isolation is on (filesystem.disabled, allowAppleEvents, allowLocalBinding, …)",
        check: check,
    }
}

fn check(ctx: &LintContext<'_>, out: &mut Emitter) {
    for opt in WEAKER_OPTIONS.iter().filter(|o| o.on.applies(ctx.target)) {
        let Some(value) = (opt.get)(ctx.settings).filter(|v| v.value) else {
            continue;
        };
        let d = out
            .diag(format!(
                "`{}` weakens the sandbox on {}",
                opt.key,
                ctx.target.name()
            ))
            .with_label(value.full_span(), "gives up isolation")
            .with_help(format!(
                "it gives up {}; keep it only if the job cannot run without it",
                opt.gives_up
            ));
        out.emit(d);
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::Target;

    const CODE: &str = "weaker-sandbox-option";

    #[test]
    fn passes() {
        assert_clean(
            CODE,
            r#"{"allowAppleEvents": true, "network": {"allowedDomains": [], "deniedDomains": [], "allowLocalBinding": true}}"#,
            Target::Linux,
        );
        assert_clean(
            CODE,
            r#"{"enableWeakerNestedSandbox": true, "allowNestedUserNamespaces": false}"#,
            Target::Macos,
        );
    }

    #[test]
    fn fails() {
        let cases = [(
            "Linux options and a disabled filesystem",
            r#"{"enableWeakerNestedSandbox": true, "allowNestedUserNamespaces": true, "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": [], "disabled": true}}"#,
        )];
        let mut s = render_cases(CODE, &cases, Target::Linux);
        let mac = [(
            "macOS options",
            r#"{"allowAppleEvents": true, "enableWeakerNetworkIsolation": true, "network": {"allowedDomains": [], "deniedDomains": [], "allowLocalBinding": true}}"#,
        )];
        s.push_str(&render_cases(CODE, &mac, Target::Macos));
        insta::assert_snapshot!(s);
    }
}
