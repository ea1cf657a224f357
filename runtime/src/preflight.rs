//! Can this machine enforce a sandbox? The probes `srt run` makes before anything starts
//! (fail closed: any failed required probe refuses the run), and `srt doctor` prints.
//!
//! Each probe names the cause and the fix; the last one actually starts a sandbox, because
//! the reliable answer to "do user namespaces work here" is trying one.

use std::path::Path;
use std::process::Command;

use srt_compiler::Ir;

use crate::host_program::not_installed;
pub use crate::host_program::{
    check_out_of_reach, choose_bwrap, find_bwrap, Bwrap, BwrapSource, Refusal, SYSTEM_BWRAP,
};

/// The oldest bubblewrap srt accepts: `--as-pid-1`, `--info-fd`, `--perms` and `--chmod`
/// (0.5.0) are needed by the plan.
pub const MIN_BWRAP: (u32, u32, u32) = (0, 5, 0);

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Ok,
    /// Not fatal, but weaker or slower than it could be.
    Warn,
    /// `srt run` refuses.
    Fail,
}

/// One line of the checklist.
#[derive(Clone, Debug)]
pub struct Check {
    pub name: &'static str,
    pub status: Status,
    pub detail: String,
    /// What to do about a failure or warning.
    pub fix: Option<String>,
}

impl Check {
    fn ok(name: &'static str, detail: impl Into<String>) -> Self {
        Check {
            name,
            status: Status::Ok,
            detail: detail.into(),
            fix: None,
        }
    }

    fn fail(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Check {
            name,
            status: Status::Fail,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }

    fn warn(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Check {
            name,
            status: Status::Warn,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }
}

/// `bubblewrap 0.8.0` → (0, 8, 0).
pub fn parse_version(text: &str) -> Option<(u32, u32, u32)> {
    let v = text
        .split_whitespace()
        .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))?;
    let mut parts = v.split('.').map(|p| {
        p.chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse::<u32>()
    });
    Some((
        parts.next()?.ok()?,
        parts.next().unwrap_or(Ok(0)).ok()?,
        parts.next().unwrap_or(Ok(0)).ok()?,
    ))
}

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

/// Explains a failed sandbox start from bwrap's stderr: the cause and the fix.
pub fn diagnose_bwrap_failure(stderr: &str) -> (String, String) {
    let s = stderr.trim();
    let lower = s.to_ascii_lowercase();
    if lower.contains("rtm_newaddr") || lower.contains("loopback") {
        (
            format!("bubblewrap could not set up loopback in a new network namespace ({s})"),
            "AppArmor restricts unprivileged user namespaces here (Ubuntu 23.10+): allow bwrap with an AppArmor profile (`/etc/apparmor.d/bwrap` with `userns,`), or run `sysctl kernel.apparmor_restrict_unprivileged_userns=0`".into(),
        )
    } else if lower.contains("uid map")
        || lower.contains("setting up uid")
        || lower.contains("no permissions to creat")
        || lower.contains("operation not permitted")
    {
        (
            format!("unprivileged user namespaces are not available ({s})"),
            "enable them: `sysctl kernel.unprivileged_userns_clone=1` (Debian/Ubuntu) and `sysctl user.max_user_namespaces=15000`; inside a container, run it with user namespaces allowed (e.g. docker `--security-opt seccomp=unconfined` or a rootless runtime)".into(),
        )
    } else if lower.contains("unrecognized option") || lower.contains("unknown option") {
        (
            format!("bubblewrap is too old for srt's plan ({s})"),
            format!(
                "install bubblewrap {}.{}.{} or newer",
                MIN_BWRAP.0, MIN_BWRAP.1, MIN_BWRAP.2
            ),
        )
    } else {
        (
            format!("bubblewrap failed to start a sandbox ({s})"),
            "run `srt doctor` for the full checklist".into(),
        )
    }
}

/// Every probe, in order. `configured_bwrap` is `bwrapPath`, if any; with the policy `ir`,
/// a bwrap its sandbox could replace fails (and is not run).
pub fn checks(configured_bwrap: Option<&Path>, ir: Option<&Ir>) -> Vec<Check> {
    let mut out = Vec::new();
    let Some(found) = find_bwrap(configured_bwrap) else {
        let refusal = not_installed(configured_bwrap);
        out.push(Check::fail(
            "bubblewrap installed",
            refusal.cause,
            refusal.fix,
        ));
        return out;
    };
    let detail = format!("{} ({})", found.path.display(), found.why());
    out.push(match found.source {
        BwrapSource::Path => Check::warn(
            "bubblewrap installed",
            detail,
            "a bwrap from PATH is only as safe as every directory before it on PATH: install bubblewrap with the system's package manager, or set bwrapPath",
        ),
        _ => Check::ok("bubblewrap installed", detail),
    });
    if let Some(ir) = ir {
        match check_out_of_reach(&found, ir) {
            Ok(()) => out.push(Check::ok(
                "bubblewrap out of the sandbox's reach",
                "the policy lets the sandbox write neither bwrap nor a directory on the way to it",
            )),
            Err(refusal) => {
                out.push(Check::fail(
                    "bubblewrap out of the sandbox's reach",
                    refusal.cause,
                    refusal.fix,
                ));
                return out;
            }
        }
    }
    let bwrap = found.path;
    match Command::new(&bwrap).arg("--version").output() {
        Ok(o) => {
            let text = String::from_utf8_lossy(&o.stdout).to_string();
            match parse_version(&text) {
                Some(v) if v >= MIN_BWRAP => {
                    out.push(Check::ok("bubblewrap version", text.trim().to_string()))
                }
                Some(_) => out.push(Check::fail(
                    "bubblewrap version",
                    format!(
                        "{} is older than {}.{}.{}",
                        text.trim(),
                        MIN_BWRAP.0,
                        MIN_BWRAP.1,
                        MIN_BWRAP.2
                    ),
                    "upgrade bubblewrap",
                )),
                None => out.push(Check::warn(
                    "bubblewrap version",
                    format!("unrecognised: {text:?}"),
                    "check `bwrap --version`",
                )),
            }
        }
        Err(e) => out.push(Check::fail(
            "bubblewrap version",
            format!("cannot run {}: {e}", bwrap.display()),
            "check the bwrap binary",
        )),
    }
    if is_setuid(&bwrap) {
        out.push(Check::warn(
            "bubblewrap not setuid",
            "bwrap is setuid root; srt works, but the setuid binary has a larger attack surface",
            "prefer a non-setuid bwrap with unprivileged user namespaces",
        ));
    }
    match read_trimmed("/proc/sys/kernel/unprivileged_userns_clone").as_deref() {
        Some("0") => out.push(Check::fail(
            "unprivileged user namespaces",
            "kernel.unprivileged_userns_clone = 0",
            "`sysctl -w kernel.unprivileged_userns_clone=1` (persist it in /etc/sysctl.d/)",
        )),
        _ => match read_trimmed("/proc/sys/user/max_user_namespaces").as_deref() {
            Some("0") => out.push(Check::fail(
                "unprivileged user namespaces",
                "user.max_user_namespaces = 0",
                "`sysctl -w user.max_user_namespaces=15000`",
            )),
            Some(n) => out.push(Check::ok(
                "unprivileged user namespaces",
                format!("user.max_user_namespaces = {n}"),
            )),
            None => out.push(Check::warn(
                "unprivileged user namespaces",
                "cannot read /proc/sys/user/max_user_namespaces",
                "check the kernel configuration",
            )),
        },
    }
    if read_trimmed("/proc/sys/kernel/apparmor_restrict_unprivileged_userns").as_deref()
        == Some("1")
    {
        out.push(Check::warn(
            "AppArmor user-namespace restriction",
            "kernel.apparmor_restrict_unprivileged_userns = 1",
            "if the sandbox probe below fails, give bwrap an AppArmor profile with `userns,`",
        ));
    }
    match std::fs::read_to_string("/proc/self/status") {
        Ok(s) if s.lines().any(|l| l.starts_with("Seccomp:")) => {
            out.push(Check::ok("seccomp", "the kernel supports seccomp filters"))
        }
        _ => out.push(Check::fail(
            "seccomp",
            "no Seccomp line in /proc/self/status",
            "a kernel with CONFIG_SECCOMP_FILTER is required",
        )),
    }
    out.push(match crate::fsviolations::probe::probe() {
        Ok(()) => Check::ok(
            "filesystem violation reports",
            "seccomp user notification lets an observed call continue (srt run reports the file accesses it refuses)",
        ),
        Err(why) => Check::warn(
            "filesystem violation reports",
            format!("srt run cannot report the file accesses it refuses: {why}"),
            "Linux 5.5 or newer; enforcement does not depend on it",
        ),
    });
    out.push(probe_sandbox(&bwrap));
    out
}

fn is_setuid(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.permissions().mode() & 0o4000 != 0)
}

/// Starts a minimal sandbox with the namespaces `srt run` uses.
pub fn probe_sandbox(bwrap: &Path) -> Check {
    let out = Command::new(bwrap)
        .args(["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"])
        .args([
            "--unshare-user",
            "--unshare-pid",
            "--unshare-net",
            "--as-pid-1",
            "--die-with-parent",
        ])
        .args(["--", "/bin/true"])
        .output();
    match out {
        Ok(o) if o.status.success() => Check::ok(
            "sandbox starts",
            "bwrap started a sandbox with user, pid and network namespaces",
        ),
        Ok(o) => {
            let (cause, fix) = diagnose_bwrap_failure(&String::from_utf8_lossy(&o.stderr));
            Check::fail("sandbox starts", cause, fix)
        }
        Err(e) => Check::fail(
            "sandbox starts",
            format!("cannot run {}: {e}", bwrap.display()),
            "check the bwrap binary",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse() {
        assert_eq!(parse_version("bubblewrap 0.8.0\n"), Some((0, 8, 0)));
        assert_eq!(parse_version("bubblewrap 0.11.0-rc1"), Some((0, 11, 0)));
        assert_eq!(parse_version("bubblewrap 0.4"), Some((0, 4, 0)));
        assert_eq!(parse_version("nope"), None);
        assert!(parse_version("bubblewrap 0.4.1").unwrap() < MIN_BWRAP);
    }

    #[test]
    fn failures_are_explained() {
        let (cause, fix) =
            diagnose_bwrap_failure("bwrap: loopback: Failed RTM_NEWADDR: Operation not permitted");
        assert!(
            cause.contains("loopback") && fix.contains("AppArmor"),
            "{cause} / {fix}"
        );
        let (cause, fix) = diagnose_bwrap_failure("bwrap: setting up uid map: Permission denied");
        assert!(cause.contains("user namespaces") && fix.contains("unprivileged_userns_clone"));
        let (_, fix) = diagnose_bwrap_failure("bwrap: Unknown option --as-pid-1");
        assert!(fix.contains("0.5.0"));
    }

    #[test]
    fn a_missing_configured_bwrap_fails_first() {
        let checks = checks(Some(Path::new("/nonexistent/bwrap")), None);
        assert_eq!(checks.len(), 1);
        assert_eq!(checks[0].status, Status::Fail);
        assert!(checks[0].detail.contains("/nonexistent/bwrap"));
    }

    #[test]
    fn this_machine_can_run_a_sandbox() {
        // CI installs bubblewrap; this is the real probe, not a fake.
        let checks = checks(None, None);
        let failed: Vec<_> = checks.iter().filter(|c| c.status == Status::Fail).collect();
        assert!(failed.is_empty(), "{failed:#?}");
    }
}
