//! `dangerous-unix-socket`: sockets that hand the host to the sandbox.

use std::path::Path;

use srt_compiler::PathRule;
use srt_schema::Span;

use crate::knowledge::places::{
    DANGEROUS_SOCKET_NAMES, DANGEROUS_SOCKET_PATHS, SOCKET_DIRECTORIES,
};
use crate::{Emitter, Level, LintContext, Target};

crate::declare_lint! {
    /// ### What it does
    /// Flags `network.allowUnixSockets` entries that reach the Docker, Podman, containerd or
    /// CRI-O daemons, libvirt, systemd, the D-Bus buses, an SSH agent or the GnuPG agent —
    /// whether the entry names the socket or a directory holding it — as errors, and
    /// `network.allowAllUnixSockets: true` as a warning.
    ///
    /// Whether an entry covers a known socket is decided by the compiler's path rules, so a
    /// directory holding one counts: `/run/user/1000` (`$XDG_RUNTIME_DIR`: the D-Bus session
    /// bus, the user's systemd, rootless Docker), `/tmp` (ssh-agent's sockets),
    /// `/private/tmp` (launchd's SSH agent on macOS). A directory where programs keep sockets of
    /// their own but no known dangerous one (`/var/folders`, macOS's `$TMPDIR`) is a warning:
    /// close to `allowAllUnixSockets`.
    ///
    /// A dangerous socket is an error for every target, so the file gets one verdict on every
    /// machine: on macOS the list is enforced as written, and on Linux a listed socket is
    /// reachable with `allowAllUnixSockets: true`; without it the seccomp filter refuses every
    /// new Unix socket, so the entry does nothing there today, which the finding says instead of
    /// a second, contradicting note (`platform-no-op` leaves such an entry to this lint).
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

/// The known dangerous sockets an entry reaches: (the first, what it is, how many).
fn dangerous(ctx: &LintContext<'_>, rule: &PathRule) -> Option<(String, &'static str, usize)> {
    let name = Path::new(&rule.spelled)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if let Some((_, what)) = DANGEROUS_SOCKET_NAMES.iter().find(|(n, _)| *n == name) {
        return Some((rule.spelled.clone(), what, 1));
    }
    if name.starts_with("ssh-") || name.starts_with("agent.") {
        return Some((
            rule.spelled.clone(),
            "an SSH agent: log in as the user anywhere",
            1,
        ));
    }
    let hits: Vec<(String, &'static str)> = DANGEROUS_SOCKET_PATHS
        .iter()
        .filter_map(|(probe, what)| {
            let abs = ctx.ir.absolute(Path::new(probe));
            rule.pattern
                .covers(&abs, true)
                .then(|| (shown(&abs), *what))
        })
        .collect();
    let (first, what) = hits.first()?.clone();
    Some((first, what, hits.len()))
}

/// How a probe is named: its directory for a made-up socket name.
fn shown(abs: &Path) -> String {
    let s = abs.display().to_string();
    match s.find("srt-lint-probe") {
        Some(i) => format!("{}…", &s[..i]),
        None => s,
    }
}

/// The `allowUnixSockets` entries this lint reports as dangerous (so `platform-no-op` does not
/// also call them harmless).
pub(crate) fn dangerous_entries(ctx: &LintContext<'_>) -> Vec<Span> {
    ctx.ir
        .net
        .allow_unix_sockets
        .iter()
        .filter(|r| dangerous(ctx, r).is_some())
        .filter_map(|r| r.origin.span())
        .collect()
}

fn check(ctx: &LintContext<'_>, out: &mut Emitter) {
    // On Linux a listed socket is reachable only with allowAllUnixSockets (the seccomp filter
    // refuses every new Unix socket otherwise); on macOS the list is enforced as written.
    let effective = ctx.target == Target::Macos || ctx.ir.net.allow_all_unix_sockets;
    for rule in &ctx.ir.net.allow_unix_sockets {
        let Some(span) = rule.origin.span() else {
            continue;
        };
        let Some((first, what, count)) = dangerous(ctx, rule) else {
            directory_wide(ctx, out, rule, span, effective);
            continue;
        };
        let more = if count > 1 {
            format!(" (and {} more)", count - 1)
        } else {
            String::new()
        };
        // One verdict on every machine: the file hands the socket over wherever the list is
        // enforced, so it is an error on Linux too, where the entry alone does nothing today.
        let (message, note) = if effective {
            (
                format!("`{}` lets the sandbox talk to {what}", rule.spelled),
                "",
            )
        } else {
            (
                format!(
                    "`{}` hands the sandbox {what} wherever the list is enforced (macOS, or Linux with allowAllUnixSockets); on Linux without it the entry does nothing",
                    rule.spelled
                ),
                "; on Linux the seccomp filter refuses new Unix sockets while allowAllUnixSockets is off, but the same file grants the socket on macOS",
            )
        };
        let d = out
            .diag(message)
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

/// A directory where programs keep their own sockets, allowed whole: close to
/// `allowAllUnixSockets`.
fn directory_wide(
    ctx: &LintContext<'_>,
    out: &mut Emitter,
    rule: &PathRule,
    span: Span,
    effective: bool,
) {
    if !effective {
        return;
    }
    let Some((probe, what)) = SOCKET_DIRECTORIES.iter().find(|(probe, _)| {
        rule.pattern
            .covers(&ctx.ir.absolute(Path::new(probe)), true)
    }) else {
        return;
    };
    let d = out
        .diag(format!(
            "`{}` allows every socket in {what}: close to allowAllUnixSockets",
            rule.spelled
        ))
        .with_label(span, format!("covers {}", shown(Path::new(probe))))
        .with_help("list the one socket the job needs (its full path) instead of the directory: whatever another program opens there later (an SSH agent, an editor's or a language server's control socket) becomes reachable");
    out.emit_at(Level::Warn, d);
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
        let mut s = render_cases(CODE, &cases, Target::Linux);
        let all = [(
            "the docker socket with every socket allowed (reachable on Linux too)",
            r#"{"network": {"allowedDomains": [], "deniedDomains": [], "allowUnixSockets": ["/var/run/docker.sock"], "allowAllUnixSockets": true}}"#,
        )];
        s.push_str(&render_cases(CODE, &all, Target::Linux));
        let mac = [
            (
                "the docker socket on macOS",
                r#"{"network": {"allowedDomains": [], "deniedDomains": [], "allowUnixSockets": ["/var/run/docker.sock"]}}"#,
            ),
            (
                "directory-wide: $XDG_RUNTIME_DIR, /private/tmp, /var/folders",
                r#"{"network": {"allowedDomains": [], "deniedDomains": [], "allowUnixSockets": ["/run/user/1000", "/private/tmp", "/var/folders"]}}"#,
            ),
        ];
        s.push_str(&render_cases(CODE, &mac, Target::Macos));
        insta::assert_snapshot!(s);
    }

    /// The Docker socket on Linux: one finding, an error on both targets, and no
    /// `platform-no-op` note calling it harmless next to it.
    #[test]
    fn docker_socket_on_linux_is_one_consistent_error() {
        let json = r#"{"network": {"allowedDomains": [], "deniedDomains": [], "allowUnixSockets": ["/var/run/docker.sock"]}, "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []}}"#;
        let all = all(json, Target::Linux);
        let codes: Vec<(&str, srt_schema::Severity)> =
            all.iter().map(|d| (d.code.as_ref(), d.severity)).collect();
        assert_eq!(codes, [(CODE, srt_schema::Severity::Error)], "{all:#?}");
        assert_eq!(
            findings(CODE, json, Target::Macos)[0].severity,
            srt_schema::Severity::Error
        );
    }
}
