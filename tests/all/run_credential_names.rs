//! A credential file is masked or denied by name: its other names read the real contents in a
//! real sandbox, and `srt lint` (`credential-readable-elsewhere`, local-disk group) names them:
//! a hard link, and the same path under a second mount of its filesystem.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::common::{ok, text};
use crate::run_tls::{setup, srt_run, FILE_SECRET, TOKEN};

/// A masked file is masked by name: a hard link to it elsewhere (here in the project) reads
/// the real contents inside the sandbox. srt cannot follow a file's other names, so `srt lint`
/// names the file (`credential-readable-elsewhere`, local-disk group) instead.
#[test]
fn a_hard_link_to_a_masked_file_is_named_by_the_lint() {
    let (sb, _origin) = setup();
    let link = sb.project().join("key-link");
    std::fs::hard_link(sb.home().join(".api-key"), &link).unwrap();
    let out = srt_run(&sb, &[], "cat ~/.api-key; cat key-link");
    let stdout = ok(&out);
    let mut lines = stdout.lines();
    let (masked, linked) = (lines.next().unwrap(), lines.next().unwrap());
    assert_ne!(masked, FILE_SECRET, "the name is masked");
    assert_eq!(
        linked, FILE_SECRET,
        "the other name is not (what the lint reports)"
    );
    let lint = sb
        .srt()
        .env_remove("CI")
        .env_remove("PRE_COMMIT")
        .args(["lint", ".srt.json"])
        .output()
        .unwrap();
    let report = format!("{}{}", text(&lint.stdout), text(&lint.stderr));
    assert!(
        report.contains("credential-readable-elsewhere") && report.contains("2 hard links"),
        "{report}"
    );
    // Without the second name the lint is quiet.
    std::fs::remove_file(&link).unwrap();
    let lint = sb
        .srt()
        .env_remove("CI")
        .env_remove("PRE_COMMIT")
        .args(["lint", ".srt.json"])
        .output()
        .unwrap();
    let report = format!("{}{}", text(&lint.stdout), text(&lint.stderr));
    assert!(
        !report.contains("credential-readable-elsewhere"),
        "{report}"
    );
}

/// A bind mount of the home directory elsewhere (made here in a private mount namespace) shows
/// the masked file's real contents under the second path inside the sandbox (the sandbox sees
/// the host's mounts); `srt lint` names that path (`credential-readable-elsewhere`, from
/// `/proc/self/mountinfo`).
#[test]
fn a_second_mount_of_a_masked_file_is_named_by_the_lint() {
    let (sb, _origin) = setup();
    let second = sb.root.path().join("homes-again");
    std::fs::create_dir(&second).unwrap();
    let template = sb.srt();
    let srt = env!("CARGO_BIN_EXE_srt");
    let script = format!(
        "mount --bind '{home}' '{second}' || exit 99\n\
         '{srt}' run -s .srt.json -c \"cat ~/.api-key; cat '{second}/.api-key'\"\n\
         '{srt}' lint .srt.json 2>&1",
        home = sb.home().display(),
        second = second.display(),
    );
    let mut c = std::process::Command::new("unshare");
    c.args(["-m", "--propagation", "private", "sh", "-c", &script])
        .current_dir(template.get_current_dir().unwrap())
        .env("TOKEN", TOKEN)
        .env_remove("CI")
        .env_remove("PRE_COMMIT");
    for (k, v) in template.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    let out = c.output().unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    let mut lines = stdout.lines();
    let (masked, other) = (lines.next().unwrap(), lines.next().unwrap());
    assert_ne!(masked, FILE_SECRET, "the name is masked");
    assert_eq!(
        other, FILE_SECRET,
        "the second mount is not (what the lint reports)"
    );
    let other_name = format!("{}/.api-key", second.display());
    assert!(
        stdout.contains("credential-readable-elsewhere") && stdout.contains(&other_name),
        "{stdout}"
    );
}
