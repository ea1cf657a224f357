//! `srt run` and the host process around the sandbox: the descriptors srt inherited, the
//! process group the sandbox runs in, and which bubblewrap srt executes (issue 10, items 3, 7
//! and 10). Each test is the exploit, run against the real `srt` and bubblewrap.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::common;

use std::os::fd::AsFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use common::{ok, text, Sandbox};

const POLICY: &str = r#"{"network":{"allowedDomains":["example.com"],"deniedDomains":[]},
 "filesystem":{"denyRead":[],"allowRead":[],"allowWrite":["."],"denyWrite":[]}}"#;
/// No host to reach: no proxies, and no init of srt's (bwrap's PID 1 and `--seccomp`).
const OFFLINE: &str = r#"{"network":{"allowedDomains":[],"deniedDomains":[]},
 "filesystem":{"denyRead":[],"allowRead":[],"allowWrite":["."],"denyWrite":[]}}"#;

/// Runs `srt run -s .srt.json ARGS…` with a directory outside every write root open on an
/// inheritable descriptor, as a caller's `7<dir` would leave it; `{fd}` in ARGS is its number.
fn run_with_inherited_dir(
    sb: &Sandbox,
    dir: &std::fs::File,
    args: &[&str],
) -> std::process::Output {
    let mut cmd = sb.srt();
    let (_handed, fd) = common::hand_fd(&mut cmd, dir.as_fd());
    let fd = fd.to_string();
    cmd.args(["run", "-s", ".srt.json"])
        .args(args.iter().map(|a| a.replace("{fd}", &fd)));
    cmd.output().unwrap()
}

/// Item 3: the caller leaves a directory open without `O_CLOEXEC`; the command writes through
/// `/proc/self/fd/N` into a host directory no write root covers. Only 0-2 may reach the
/// command: neither what srt inherited nor what it hands bwrap (`--info-fd`, the seccomp memfd).
#[test]
fn inherited_descriptors_do_not_reach_the_sandbox() {
    for policy in [POLICY, OFFLINE] {
        let sb = Sandbox::new();
        sb.settings(policy);
        let outside = sb.root.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        let dir = std::fs::File::open(&outside).unwrap();
        let out = run_with_inherited_dir(
            &sb,
            &dir,
            &[
                "-c",
                "echo planted > /proc/self/fd/{fd}/x 2>/dev/null && echo wrote-outside; true",
            ],
        );
        let stdout = ok(&out);
        assert!(
            !outside.join("x").exists(),
            "{policy}: the command wrote outside through an inherited descriptor:\n{stdout}"
        );
        // `ls` lists its own descriptors: 0-2, and 3 for the directory it reads.
        let out = run_with_inherited_dir(&sb, &dir, &["--", "ls", "/proc/self/fd"]);
        assert_eq!(
            ok(&out),
            "0\n1\n2\n3\n",
            "{policy}: the command's descriptors"
        );
    }
}

/// Item 7: `kill(0, SIG)` in the sandbox signals the caller's process group. The caller here
/// is a shell (an agent, a pipeline) that started srt without a group of its own; it must not
/// get the command's SIGUSR1 (a Node agent would open its inspector on it).
#[test]
fn the_sandbox_cannot_signal_the_callers_process_group() {
    for policy in [POLICY, OFFLINE] {
        let sb = Sandbox::new();
        sb.settings(policy);
        let marker = sb.root.path().join("caller-got-usr1");
        let sibling = sb.root.path().join("sibling-got-usr1");
        let script = format!(
            "trap 'echo got > {marker}' USR1; \
             (trap 'echo got > {sibling}; exit' USR1; while :; do sleep 0.05; done) & \
             {srt} run -s .srt.json -c 'kill -USR1 0; sleep 0.5'; \
             sleep 0.3; kill $! 2>/dev/null; wait; echo done",
            marker = marker.display(),
            sibling = sibling.display(),
            srt = env!("CARGO_BIN_EXE_srt"),
        );
        let mut cmd = Command::new("sh");
        cmd.args(["-c", &script])
            .current_dir(sb.project())
            .env("HOME", sb.home())
            .env("XDG_STATE_HOME", sb.state())
            .env("XDG_RUNTIME_DIR", sb.root.path())
            .stdin(std::process::Stdio::null())
            // The caller's own group, so that the test process is not the one at risk.
            .process_group(0);
        let out = cmd.output().unwrap();
        assert!(
            text(&out.stdout).ends_with("done\n"),
            "{policy}: {}\n{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        assert!(
            !marker.exists(),
            "{policy}: the shell that started srt got the sandbox's SIGUSR1"
        );
        assert!(
            !sibling.exists(),
            "{policy}: a process in the caller's group got the sandbox's SIGUSR1"
        );
    }
}

/// An executable `bwrap` that records it ran, then runs the real one.
fn plant_bwrap(at: &Path, marker: &Path) {
    std::fs::create_dir_all(at.parent().unwrap()).unwrap();
    std::fs::write(
        at,
        format!(
            "#!/bin/sh\necho ran >> {}\nexec /usr/bin/bwrap \"$@\"\n",
            marker.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(at, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Item 10: npm puts the project's `node_modules/.bin` first on PATH; one run plants a `bwrap`
/// there (the project is a write root) and the next run executes it on the host.
#[test]
fn a_bwrap_planted_on_path_is_not_executed() {
    let sb = Sandbox::new();
    sb.settings(OFFLINE);
    let marker = sb.root.path().join("planted-bwrap-ran");
    let out = sb
        .srt()
        .args(["run", "-s", ".srt.json", "-c"])
        .arg(format!(
            "mkdir -p node_modules/.bin && cat > node_modules/.bin/bwrap <<'EOF'\n\
             #!/bin/sh\necho ran >> {}\nexec /usr/bin/bwrap \"$@\"\nEOF\n\
             chmod +x node_modules/.bin/bwrap && echo planted",
            marker.display()
        ))
        .output()
        .unwrap();
    assert_eq!(ok(&out), "planted\n");
    let path = format!(
        "{}:{}",
        sb.project().join("node_modules/.bin").display(),
        std::env::var("PATH").unwrap()
    );
    let out = sb
        .srt()
        .env("PATH", path)
        .args(["run", "-s", ".srt.json", "-c", "echo ran-sandboxed"])
        .output()
        .unwrap();
    assert_eq!(ok(&out), "ran-sandboxed\n");
    assert!(
        !marker.exists(),
        "srt executed the bwrap the sandbox planted on PATH"
    );
}

/// `bwrapPath` naming a program the sandbox could replace is refused, whether the file itself,
/// a directory above it, or the target of a symlink lies where the policy lets it write.
#[test]
fn a_bwrap_the_sandbox_could_replace_is_refused() {
    let sb = Sandbox::new();
    let marker = sb.root.path().join("bwrap-ran");
    let in_project = sb.project().join("tools/bwrap");
    plant_bwrap(&in_project, &marker);
    let link = sb.root.path().join("bin/bwrap");
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&in_project, &link).unwrap();
    let with = |bwrap: &Path, deny_write: &str| {
        OFFLINE
            .replace(
                "{\"network\"",
                &format!("{{\"bwrapPath\":\"{}\",\"network\"", bwrap.display()),
            )
            .replace("\"denyWrite\":[]", &format!("\"denyWrite\":[{deny_write}]"))
    };
    for (settings, why) in [
        (with(&in_project, ""), "the file is in a write root"),
        (
            with(&in_project, "\"tools/bwrap\""),
            "the file is read-only, its directory is not",
        ),
        (with(&link, ""), "a symlink to a file in a write root"),
    ] {
        sb.settings(&settings);
        let out = sb
            .srt()
            .args(["run", "-s", ".srt.json", "-c", "touch ran"])
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{why}: {stderr}");
        assert!(!marker.exists(), "{why}: srt executed the bwrap");
        assert!(!sb.project().join("ran").exists(), "{why}: the command ran");
        assert!(
            stderr.contains("the sandbox could replace") && stderr.contains("/usr/bin/bwrap"),
            "{why}: {stderr}"
        );
    }
}

/// srt does not execute itself on the host, but the user's next `srt` does: a run whose
/// command could replace this srt (installed in the project, say) warns.
#[test]
fn an_srt_the_sandbox_could_replace_is_reported() {
    let sb = Sandbox::new();
    sb.settings(OFFLINE);
    let local = sb.project().join("node_modules/.bin/srt");
    std::fs::create_dir_all(local.parent().unwrap()).unwrap();
    std::fs::hard_link(env!("CARGO_BIN_EXE_srt"), &local).unwrap();
    let out = Command::new(&local)
        .args(["run", "-s", ".srt.json", "-c", "echo ok"])
        .current_dir(sb.project())
        .env("HOME", sb.home())
        .env("XDG_STATE_HOME", sb.state())
        .env("XDG_RUNTIME_DIR", sb.root.path())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(ok(&out), "ok\n");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("srt: warning: the command could replace this srt")
            && stderr.contains("allowWrite[0]"),
        "{stderr}"
    );
    // Installed elsewhere: nothing to say.
    let out = sb.run("echo ok");
    assert_eq!(ok(&out), "ok\n");
    assert!(
        !text(&out.stderr).contains("warning"),
        "{}",
        text(&out.stderr)
    );
}

/// `filesystem.disabled` lets the command write everything the user may: as root that
/// includes `/usr/bin/bwrap`, which later runs would execute, so srt refuses; as anyone else
/// the system's bwrap is out of reach and the run goes on.
#[test]
fn filesystem_disabled_is_refused_only_where_it_reaches_bwrap() {
    let sb = Sandbox::new();
    sb.settings(
        r#"{"network":{"allowedDomains":[],"deniedDomains":[]},"filesystem":{"disabled":true}}"#,
    );
    let out = sb.run("echo ran");
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("could replace /usr/bin/bwrap")
                && text(&out.stderr).contains("unprivileged user"),
            "{}",
            text(&out.stderr)
        );
        assert!(out.stdout.is_empty());
    } else {
        assert_eq!(ok(&out), "ran\n");
    }
}
