//! `srt run` enforces the filesystem policy under real bubblewrap.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::common;

use common::{exists, ok, text, Sandbox};

const WRITE_DOT: &str = r#"{"network":{"allowedDomains":[],"deniedDomains":[]},
 "filesystem":{"denyRead":["~/.ssh","**/*.pem"],"allowRead":[],"allowWrite":["."],"denyWrite":["locked.txt"]}}"#;

#[test]
fn writes_outside_allow_write_fail_and_inside_succeed() {
    let sb = Sandbox::new();
    sb.settings(WRITE_DOT);
    let elsewhere = sb.root.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::write(sb.project().join("locked.txt"), "v1").unwrap();
    let out = sb.run(&format!(
        "touch inside.txt && echo in-ok; touch {0}/x 2>/dev/null || echo out-denied; touch ~/x 2>/dev/null || echo home-denied; \
         echo v2 > locked.txt 2>/dev/null || echo locked-denied; rm -f locked.txt 2>/dev/null; mv locked.txt m 2>/dev/null || echo move-denied",
        elsewhere.display()
    ));
    let stdout = ok(&out);
    assert_eq!(
        stdout,
        "in-ok\nout-denied\nhome-denied\nlocked-denied\nmove-denied\n"
    );
    assert!(sb.project().join("inside.txt").exists());
    assert!(!elsewhere.join("x").exists() && !sb.home().join("x").exists());
    assert_eq!(
        std::fs::read_to_string(sb.project().join("locked.txt")).unwrap(),
        "v1"
    );
}

#[test]
fn denied_reads_fail_through_globs_proc_root_and_hard_links() {
    let sb = Sandbox::new();
    sb.settings(WRITE_DOT);
    std::fs::create_dir(sb.home().join(".ssh")).unwrap();
    std::fs::write(sb.home().join(".ssh/id_rsa"), "SECRET-KEY").unwrap();
    std::fs::create_dir(sb.project().join("certs")).unwrap();
    std::fs::write(sb.project().join("certs/server.pem"), "SECRET-PEM").unwrap();
    std::fs::write(sb.project().join("readme.txt"), "public").unwrap();
    let home = sb.home().display().to_string();
    let out = sb.run(&format!(
        "cat readme.txt; echo; \
         cat ~/.ssh/id_rsa 2>/dev/null; cat /proc/self/root{home}/.ssh/id_rsa 2>/dev/null; cat /proc/1/root{home}/.ssh/id_rsa 2>/dev/null; \
         ls -A ~/.ssh; cat certs/server.pem; cat /proc/self/root$PWD/certs/server.pem; \
         ln ~/.ssh/id_rsa stolen 2>/dev/null; ln certs/server.pem stolen.pem 2>/dev/null; cat stolen stolen.pem 2>/dev/null; \
         cp certs/server.pem copy.pem 2>/dev/null; cat copy.pem 2>/dev/null; echo end"
    ));
    let stdout = ok(&out);
    assert!(!stdout.contains("SECRET"), "a secret leaked:\n{stdout}");
    assert!(
        stdout.starts_with("public\n") && stdout.ends_with("end\n"),
        "{stdout}"
    );
    // The host's files are untouched.
    assert_eq!(
        std::fs::read_to_string(sb.home().join(".ssh/id_rsa")).unwrap(),
        "SECRET-KEY"
    );
}

#[test]
fn mandatory_denies_hold_for_existing_and_new_names() {
    let sb = Sandbox::new();
    sb.settings(WRITE_DOT);
    std::fs::write(sb.project().join(".bashrc"), "original").unwrap();
    std::fs::create_dir_all(sb.project().join(".git/hooks")).unwrap();
    std::fs::write(sb.project().join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
    let out = sb.run(
        "echo evil >> .bashrc 2>/dev/null || echo bashrc-denied; echo evil > .zshrc 2>/dev/null || echo zshrc-denied; \
         echo evil > .git/hooks/pre-commit 2>/dev/null || echo hook-denied; echo x > .git/config 2>/dev/null || echo config-denied; \
         mkdir -p .vscode 2>/dev/null; echo x > .vscode/tasks.json 2>/dev/null || echo vscode-denied; \
         mv .git .git-old 2>/dev/null || echo git-move-denied; echo ok > .git/HEAD && echo head-ok",
    );
    assert_eq!(
        ok(&out),
        "bashrc-denied\nzshrc-denied\nhook-denied\nconfig-denied\nvscode-denied\ngit-move-denied\nhead-ok\n"
    );
    assert_eq!(
        std::fs::read_to_string(sb.project().join(".bashrc")).unwrap(),
        "original"
    );
    for name in [
        ".zshrc",
        ".git/hooks/pre-commit",
        ".vscode/tasks.json",
        ".git/config",
    ] {
        assert!(
            !exists(&sb.project().join(name)),
            "{name} exists after the run"
        );
    }
    // The stubs made for missing names are gone, and nothing else is left.
    let mut names: Vec<String> = std::fs::read_dir(sb.project())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, [".bashrc", ".git", ".srt.json"]);
    assert_eq!(sb.leftovers(), Vec::<String>::new());
}

#[test]
fn the_settings_file_cannot_be_edited_from_inside() {
    let sb = Sandbox::new();
    let settings = sb.settings(WRITE_DOT);
    let out = sb.run(
        "echo '{}' > .srt.json 2>/dev/null || echo write-denied; rm .srt.json 2>/dev/null || echo rm-denied; \
         mv .srt.json x 2>/dev/null || echo mv-denied",
    );
    assert_eq!(ok(&out), "write-denied\nrm-denied\nmv-denied\n");
    assert_eq!(std::fs::read_to_string(settings).unwrap(), WRITE_DOT);
}

#[test]
fn unix_sockets_and_user_namespaces_are_refused_ordinary_work_is_not() {
    let sb = Sandbox::new();
    sb.settings(WRITE_DOT);
    let out = sb.run(
        "python3 -c 'import socket; socket.socket(socket.AF_UNIX)' 2>/dev/null || echo unix-denied; \
         python3 -c 'import socket; socket.socket(socket.AF_INET).close(); print(\"inet-ok\")'; \
         unshare -U true 2>/dev/null || echo userns-denied; \
         python3 -c 'import os; os.unshare(os.CLONE_NEWNS)' 2>/dev/null || echo mountns-denied; \
         (sleep 0.01 & wait) && echo fork-ok",
    );
    assert_eq!(
        ok(&out),
        "unix-denied\ninet-ok\nuserns-denied\nmountns-denied\nfork-ok\n"
    );
}

#[test]
fn without_settings_there_is_no_network_and_no_writes() {
    let sb = Sandbox::new(); // no ~/.srt-settings.json: the built-in default
    let out = sb
        .srt()
        .args([
            "--fs-violations",
            "writes",
            "-c",
            "touch x 2>/dev/null || echo no-write; echo $SANDBOX_RUNTIME",
        ])
        .output()
        .unwrap();
    assert_eq!(ok(&out), "no-write\n1\n");
    assert!(!sb.project().join("x").exists());
    // The refused write is reported (when asked), and nothing else is said.
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with("srt: blocked write ")
            && lines[0].contains("/project/x (")
            && lines[0].ends_with("— not under any filesystem.allowWrite"),
        "{stderr}"
    );
}

/// A `denyRead` entry with a NUL in it names no path the kernel can have: it used to be
/// accepted and deny nothing. It is a validation error now, so the run does not start.
#[test]
fn a_path_entry_with_nul_is_an_error_not_a_silent_no_op() {
    let sb = Sandbox::new();
    std::fs::write(sb.project().join("secret.txt"), "SECRET").unwrap();
    for entry in [
        r#""secret.txt\u0000""#,
        r#"{"path":"secret.txt\u0000x","literal":true}"#,
    ] {
        sb.settings(&format!(
            r#"{{"network":{{"allowedDomains":[],"deniedDomains":[]}},
             "filesystem":{{"denyRead":[{entry}],"allowRead":[],"allowWrite":[],"denyWrite":[]}}}}"#
        ));
        let out = sb.run("cat secret.txt");
        assert!(
            !text(&out.stdout).contains("SECRET"),
            "{entry}: the secret was read"
        );
        assert_eq!(out.status.code(), Some(1), "{entry}: {}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("NUL"),
            "{entry}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn a_working_directory_under_dev_is_refused_with_the_reason() {
    // bwrap's private /dev hides /dev/shm/…: without the refusal bwrap fails to chdir (or the
    // command would start in an empty private directory).
    let sb = Sandbox::new();
    let shm = tempfile::tempdir_in("/dev/shm").unwrap();
    std::fs::write(shm.path().join(".srt.json"), WRITE_DOT).unwrap();
    for args in [&["-c", "echo ran"][..], &["run", "--", "echo", "ran"][..]] {
        let out = sb
            .srt()
            .current_dir(shm.path())
            .args(["-s", ".srt.json"])
            .args(args)
            .output()
            .unwrap();
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(!text(&out.stdout).contains("ran"), "{args:?}");
        let words = common::words(&out.stderr);
        assert!(words.contains("liesunder/dev,"), "{args:?}: {err}");
        assert!(words.contains("outside/dev"), "{args:?}: {err}");
    }
    let out = sb
        .srt()
        .current_dir(shm.path())
        .args(["compile", "--target", "linux", "-s", ".srt.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("cwd-in-kernel-fs"));
}
