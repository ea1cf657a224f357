//! `dangerous-unix-socket`: sockets that hand the host to the sandbox.

use std::path::Path;

use crate::knowledge::places::{DANGEROUS_SOCKET_NAMES, DANGEROUS_SOCKET_PATHS};
use crate::{Emitter, Level, LintContext, Target};

crate::declare_lint! {
    /// ### What it does
    /// Flags `network.allowUnixSockets` entries that reach the Docker, Podman, containerd or
    /// CRI-O daemons, libvirt, systemd, the D-Bus buses, an SSH agent or the GnuPG agent —
    /// whether the entry names the socket or a directory holding it — as errors, and
    /// `network.allowAllUnixSockets: true` as a warning.
    ///
    /// Whether an entry covers a known socket is decided by the compiler's path rules. The
    /// lint fires for every target: a policy file travels, and on macOS these entries are
    /// enforced as written (the npm srt ignores `allowUnixSockets` on Linux, where
    /// `platform-no-op` says so too).
    ///
    /// ### Why is this bad
    /// The Docker socket is root on the host: `docker run -v /:/host` from inside the sandbox
    /// undoes every rule in the file. An SSH agent lets the sandbox log in as the user
    /// anywhere; the D-Bus session bus lets it start programs outside the sandbox. On Linux,
    /// `allowAllUnixSockets` also turns off the seccomp filter that blocks new Unix sockets.
    ///
    /// ### Example
    /// Bad:
    /// ```json
    /// {"network": {"allowedDomains": [], "deniedDomains": [], "allowUnixSockets": ["/var/run/docker.sock"]},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []}}
    /// ```
    /// Use instead (run containers from outside the sandbox, or a socket of your own):
    /// ```json
    /// {"network": {"allowedDomains": [], "deniedDomains": [], "allowUnixSockets": ["/tmp/my-app/app.sock"]},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []}}
    /// ```
    pub DANGEROUS_UNIX_SOCKET {
        code: "dangerous-unix-socket",
        level: Deny,
        summary: "a Unix socket that hands over the host (docker.sock, an SSH agent, D-Bus) is allowed",
        check: check,
    }
}

fn check(ctx: &LintContext<'_>, out: &mut Emitter) {
    for rule in &ctx.ir.net.allow_unix_sockets {
        let Some(span) = rule.origin.span() else {
            continue;
        };
        let mut hits: Vec<(String, &str)> = Vec::new();
        let name = Path::new(&rule.spelled)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Some((_, what)) = DANGEROUS_SOCKET_NAMES.iter().find(|(n, _)| *n == name) {
            hits.push((rule.spelled.clone(), what));
        } else if name.starts_with("ssh-") || name.starts_with("agent.") {
            hits.push((
                rule.spelled.clone(),
                "an SSH agent: log in as the user anywhere",
            ));
        }
        if hits.is_empty() {
            for (probe, what) in DANGEROUS_SOCKET_PATHS {
                let abs = ctx.ir.absolute(Path::new(probe));
                if rule.pattern.covers(&abs, true) {
                    hits.push((abs.display().to_string(), what));
                }
            }
        }
        let Some((first, what)) = hits.first() else {
            continue;
        };
        let more = if hits.len() > 1 {
            format!(" (and {} more)", hits.len() - 1)
        } else {
            String::new()
        };
        let note = if ctx.target == Target::Linux {
            "; the npm srt ignores allowUnixSockets on Linux, but the same file grants it on macOS"
        } else {
            ""
        };
        let d = out
            .diag(format!(
                "`{}` lets the sandbox talk to {what}",
                rule.spelled
            ))
            .with_label(span, format!("reaches {first}{more}"))
            .with_help(format!(
                "remove it: whoever holds this socket controls the host, whatever else the file denies{note}"
            ));
        out.emit(d);
    }
    if let Some(all) = ctx
        .settings
        .network()
        .and_then(|n| n.allow_all_unix_sockets.as_ref())
        .filter(|b| b.value)
    {
        let extra = match ctx.target {
            Target::Linux => "; on Linux it also drops the seccomp filter, so the sandbox can create any Unix socket and user namespaces",
            Target::Macos => "",
        };
        let d = out
            .diag("`allowAllUnixSockets` allows every Unix socket, docker.sock and SSH agents included")
            .with_label(all.full_span(), "every socket on the machine")
            .with_help(format!(
                "list the sockets the job needs in allowUnixSockets instead{extra}"
            ));
        out.emit_at(Level::Warn, d);
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::*;
    use crate::Target;

    const CODE: &str = "dangerous-unix-socket";

    #[test]
    fn passes() {
        for json in [
            r#"{"network": {"allowedDomains": [], "deniedDomains": [], "allowUnixSockets": ["/tmp/app.sock"], "allowAllUnixSockets": false}}"#,
            r#"{"network": {"allowedDomains": [], "deniedDomains": []}}"#,
        ] {
            assert_clean(CODE, json, Target::Macos);
        }
    }

    #[test]
    fn fails() {
        let cases = [
            (
                "the docker socket, a directory holding it, an SSH agent",
                r#"{"network": {"allowedDomains": [], "deniedDomains": [], "allowUnixSockets": ["/var/run/docker.sock", "/run", "/tmp/ssh-XXXX/agent.1234", "~/.gnupg/S.gpg-agent.ssh"]}}"#,
            ),
            (
                "all sockets",
                r#"{"network": {"allowedDomains": [], "deniedDomains": [], "allowAllUnixSockets": true}}"#,
            ),
        ];
        insta::assert_snapshot!(render_cases(CODE, &cases, Target::Linux));
    }
}
