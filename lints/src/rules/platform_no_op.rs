//! `platform-no-op`: keys that do nothing on the target OS.

use srt_schema::{Settings, Span};

use crate::{Emitter, LintContext, Target};

crate::declare_lint! {
    /// ### What it does
    /// Notes keys that do nothing on the target OS (`--target`, default this machine's):
    /// on Linux `allowPty`, `network.allowLocalBinding`, `network.allowUnixSockets`,
    /// `network.allowMachLookup`, `enableWeakerNetworkIsolation` and `allowAppleEvents`; on
    /// macOS `enableWeakerNestedSandbox`, `allowNestedUserNamespaces`, `bwrapPath` and
    /// `mandatoryDenySearchDepth` (macOS denies the mandatory names by pattern, without a
    /// search). A socket list of nothing but sockets that hand over the host is left to
    /// `dangerous-unix-socket`, which says both what it does on macOS and that it does nothing
    /// on Linux.
    ///
    /// ### Why is this bad
    /// Nothing breaks, which is the problem: a setting that looks like it allows or restricts
    /// something has no effect here. On Linux, for example, `allowUnixSockets` does not open
    /// the listed sockets; the seccomp filter blocks creating Unix sockets whatever the list
    /// says. Knowing that saves debugging a policy that works on one OS only.
    ///
    /// ### Example
    /// Bad (linted for Linux):
    /// ```json
    /// {"allowPty": true, "network": {"allowedDomains": [], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []}}
    /// ```
    /// Use instead (a Linux-only policy needs no macOS keys):
    /// ```json
    /// {"network": {"allowedDomains": [], "deniedDomains": []},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []}}
    /// ```
    pub PLATFORM_NO_OP {
        code: "platform-no-op",
        level: Note,
        summary: "a key that does nothing on the target OS (allowPty on Linux, bwrapPath on macOS, …)",
        check: check,
    }
}

/// (key, where it is set, what it does where it works).
fn no_ops(s: &Settings, target: Target) -> Vec<(&'static str, Span, &'static str)> {
    let on = |b: &Option<srt_schema::Spanned<bool>>| {
        b.as_ref().filter(|v| v.value).map(|v| v.full_span())
    };
    let mut out = Vec::new();
    let net = s.network();
    match target {
        Target::Linux => {
            let cands = [
                ("allowPty", on(&s.allow_pty), "opens pseudo-terminals under macOS's sandbox-exec"),
                ("enableWeakerNetworkIsolation", on(&s.enable_weaker_network_isolation), "lets macOS's trustd run"),
                ("allowAppleEvents", on(&s.allow_apple_events), "allows Apple Events on macOS"),
                (
                    "network.allowLocalBinding",
                    net.and_then(|n| on(&n.allow_local_binding)),
                    "allows local ports on macOS",
                ),
                (
                    "network.allowUnixSockets",
                    net.and_then(|n| n.allow_unix_sockets.as_ref())
                        .filter(|l| !l.value.is_empty())
                        .map(|l| l.full_span()),
                    "opens the listed sockets on macOS; on Linux the seccomp filter blocks new Unix sockets whatever the list says",
                ),
                (
                    "network.allowMachLookup",
                    net.and_then(|n| n.allow_mach_lookup.as_ref())
                        .filter(|l| !l.value.is_empty())
                        .map(|l| l.full_span()),
                    "opens Mach services, which exist only on macOS",
                ),
            ];
            out.extend(
                cands
                    .into_iter()
                    .filter_map(|(k, span, what)| Some((k, span?, what))),
            );
        }
        Target::Macos => {
            let cands = [
                ("enableWeakerNestedSandbox", on(&s.enable_weaker_nested_sandbox), "changes how bubblewrap mounts /proc on Linux"),
                ("allowNestedUserNamespaces", on(&s.allow_nested_user_namespaces), "relaxes the Linux seccomp filter"),
                (
                    "bwrapPath",
                    s.bwrap_path.as_ref().map(|b| b.full_span()),
                    "names the bubblewrap binary, which only Linux uses",
                ),
                (
                    "mandatoryDenySearchDepth",
                    s.mandatory_deny_search_depth.as_ref().map(|d| d.full_span()),
                    "bounds the Linux search for mandatory-deny names; macOS denies them by pattern",
                ),
            ];
            out.extend(
                cands
                    .into_iter()
                    .filter_map(|(k, span, what)| Some((k, span?, what))),
            );
        }
    }
    out
}

fn check(ctx: &LintContext<'_>, out: &mut Emitter) {
    // `dangerous-unix-socket` reports a dangerous socket entry itself (as harmless here but
    // not on macOS); a list of nothing else is not called a no-op on top of that.
    let dangerous = crate::rules::dangerous_unix_socket::dangerous_entries(ctx);
    let only_dangerous = !dangerous.is_empty()
        && ctx
            .ir
            .net
            .allow_unix_sockets
            .iter()
            .all(|r| r.origin.span().is_some_and(|s| dangerous.contains(&s)));
    for (key, span, what) in no_ops(ctx.settings, ctx.target) {
        if key == "network.allowUnixSockets" && only_dangerous {
            continue;
        }
        let d = out
            .diag(format!("`{key}` does nothing on {}", ctx.target.name()))
            .with_label(span, format!("no effect on {}", ctx.target.name()))
            .with_help(format!(
                "it {what}; keep it only if the same file is used on the other OS"
            ));
        out.emit(d);
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::Target;

    const CODE: &str = "platform-no-op";

    #[test]
    fn passes() {
        assert_clean(
            CODE,
            r#"{"allowPty": true, "network": {"allowedDomains": [], "deniedDomains": [], "allowUnixSockets": ["/tmp/a.sock"]}}"#,
            Target::Macos,
        );
        assert_clean(
            CODE,
            r#"{"allowPty": false, "enableWeakerNestedSandbox": true, "mandatoryDenySearchDepth": 5}"#,
            Target::Linux,
        );
    }

    #[test]
    fn fails() {
        let cases = [(
            "macOS keys on Linux",
            "{\n  \"allowPty\": true,\n  \"network\": {\n    \"allowedDomains\": [],\n    \"deniedDomains\": [],\n    \"allowUnixSockets\": [\"/tmp/a.sock\"],\n    \"allowMachLookup\": [\"com.example.*\"]\n  }\n}",
        )];
        let mut s = render_cases(CODE, &cases, Target::Linux);
        let mac = [(
            "Linux keys on macOS",
            r#"{"enableWeakerNestedSandbox": true, "bwrapPath": "/usr/bin/bwrap", "mandatoryDenySearchDepth": 5}"#,
        )];
        s.push_str(&render_cases(CODE, &mac, Target::Macos));
        insta::assert_snapshot!(s);
    }
}
