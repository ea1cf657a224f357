//! `srt run` reports the filesystem accesses the sandbox refused: real bubblewrap, the init's
//! seccomp user-notification observer, the host's classification with `decide_path`.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::common;

use std::time::{Duration, Instant};

use common::{ok, text, Sandbox};

const POLICY: &str = r#"{"network":{"allowedDomains":[],"deniedDomains":[]},
 "filesystem":{"denyRead":["secret.txt"],"allowRead":[],"allowWrite":["."],"denyWrite":["locked.txt"]}}"#;

/// The `srt: blocked …` reports of a run's stderr that are filesystem reports (from where
/// they start: the command's own messages share stderr).
fn fs_lines(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter_map(|l| {
            let at = ["srt: blocked read ", "srt: blocked write "]
                .iter()
                .filter_map(|p| l.find(p))
                .min()?;
            Some(l[at..].to_string())
        })
        .collect()
}

fn jsonl(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &serde_json::Value| v["kind"] == "filesystem")
        .collect()
}

fn setup() -> (Sandbox, std::path::PathBuf) {
    let sb = Sandbox::new();
    sb.settings(POLICY);
    let elsewhere = sb.root.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::write(sb.project().join("locked.txt"), "v1").unwrap();
    std::fs::write(sb.project().join("secret.txt"), "SECRET").unwrap();
    std::fs::write(sb.project().join("other.txt"), "other").unwrap();
    std::fs::create_dir(sb.project().join("sub")).unwrap();
    (sb, elsewhere)
}

#[test]
fn each_refusal_is_reported_once_with_the_rule_that_decided_it() {
    let (sb, elsewhere) = setup();
    let violations = sb.root.path().join("v.jsonl");
    let e = elsewhere.display();
    let script = format!(
        "echo x > locked.txt 2>/dev/null; echo y > locked.txt 2>/dev/null; \
         touch {e}/outside 2>/dev/null; \
         cd sub && touch ../../elsewhere/dotdot 2>/dev/null; cd ..; \
         echo evil >> .bashrc 2>/dev/null; \
         mv -f other.txt locked.txt 2>/dev/null; \
         cat secret.txt; \
         python3 -c 'import os; d=os.open(\"{e}\", os.O_RDONLY); os.open(\"viafd\", os.O_WRONLY|os.O_CREAT, dir_fd=d)' 2>/dev/null; \
         echo fine > allowed.txt; mkdir newdir; echo done"
    );
    let out = sb
        .srt()
        .args(["run", "-s", ".srt.json", "--violations"])
        .arg(&violations)
        .args(["-c", &script])
        .output()
        .unwrap();
    assert_eq!(ok(&out), "done\n");
    let stderr = text(&out.stderr);
    let lines = fs_lines(&stderr);
    let project = sb.project().canonicalize().unwrap();
    let elsewhere = elsewhere.canonicalize().unwrap();
    let p = project.display();
    let e = elsewhere.display();
    let expect = [
        (
            format!("srt: blocked write {p}/locked.txt "),
            "— on filesystem.denyWrite[0] (.srt.json:2:",
        ),
        (
            format!("srt: blocked write {e}/outside "),
            "— not under any filesystem.allowWrite",
        ),
        (
            format!("srt: blocked write {e}/dotdot "),
            "— not under any filesystem.allowWrite",
        ),
        (
            format!("srt: blocked write {p}/.bashrc "),
            "— built-in mandatory-deny",
        ),
        (
            format!("srt: blocked read {p}/secret.txt "),
            "— on filesystem.denyRead[0] (.srt.json:2:",
        ),
        (
            format!("srt: blocked write {e}/viafd "),
            "— not under any filesystem.allowWrite",
        ),
    ];
    for (start, why) in &expect {
        let matching: Vec<&String> = lines.iter().filter(|l| l.starts_with(start)).collect();
        assert_eq!(matching.len(), 1, "{start}: expected one line in\n{stderr}");
        assert!(matching[0].contains(why), "{}: wants {why}", matching[0]);
    }
    assert_eq!(lines.len(), expect.len(), "unexpected reports:\n{stderr}");
    // The allowed writes are not reported, and the refused ones did not happen.
    assert!(!stderr.contains("allowed.txt") && !stderr.contains("newdir"));
    assert_eq!(
        std::fs::read_to_string(sb.project().join("locked.txt")).unwrap(),
        "v1"
    );
    // The same reports in the JSON lines, with the process that tried.
    let objects = jsonl(&violations);
    assert_eq!(objects.len(), expect.len(), "{objects:#?}");
    let locked = objects
        .iter()
        .find(|o| o["path"] == format!("{p}/locked.txt"))
        .unwrap();
    assert_eq!(locked["access"], "write");
    assert_eq!(locked["ignored"], false);
    assert!(locked["rule"]
        .as_str()
        .unwrap()
        .starts_with("filesystem.denyWrite[0] (.srt.json:2:"));
    assert!(locked["pid"].as_u64().unwrap() > 0);
    assert!(locked["command"].is_string() && locked["syscall"].is_string());
    let secret = objects
        .iter()
        .find(|o| o["path"] == format!("{p}/secret.txt"))
        .unwrap();
    assert_eq!(secret["access"], "read");
    assert_eq!(secret["command"], "cat");
}

#[test]
fn ignore_violations_silences_matching_paths_for_matching_commands() {
    let (sb, elsewhere) = setup();
    sb.settings(&POLICY.replace(
        "\"network\"",
        r#""ignoreViolations":{"*":["locked.txt"],"touch":["outside"],"nomatch":["secret"]},"network""#,
    ));
    let violations = sb.root.path().join("v.jsonl");
    let out = sb
        .srt()
        .args(["run", "-s", ".srt.json", "--violations"])
        .arg(&violations)
        .args([
            "-c",
            &format!(
                "echo x > locked.txt 2>/dev/null; touch {}/outside 2>/dev/null; cat secret.txt; echo done",
                elsewhere.display()
            ),
        ])
        .output()
        .unwrap();
    assert_eq!(ok(&out), "done\n");
    let lines = fs_lines(&text(&out.stderr));
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(lines[0].starts_with("srt: blocked read "), "{lines:#?}");
    // The file still has all three, the silenced ones marked.
    let objects = jsonl(&violations);
    assert_eq!(objects.len(), 3, "{objects:#?}");
    assert_eq!(
        objects.iter().filter(|o| o["ignored"] == true).count(),
        2,
        "{objects:#?}"
    );
}

#[test]
fn the_observer_can_be_narrowed_to_writes_or_turned_off() {
    let (sb, _) = setup();
    let run = |flags: &[&str]| {
        let out = sb
            .srt()
            .args(["run", "-s", ".srt.json"])
            .args(flags)
            .args([
                "-c",
                "echo x > locked.txt 2>/dev/null; cat secret.txt 2>/dev/null; echo done",
            ])
            .output()
            .unwrap();
        assert_eq!(ok(&out), "done\n");
        fs_lines(&text(&out.stderr))
    };
    assert!(run(&["--no-fs-violations"]).is_empty());
    assert!(run(&["--fs-violations", "off"]).is_empty());
    let writes = run(&["--fs-violations", "writes"]);
    assert_eq!(writes.len(), 1, "{writes:#?}");
    assert!(writes[0].starts_with("srt: blocked write "), "{writes:#?}");
    assert_eq!(run(&[]).len(), 2);
}

/// A command that races the observer, hands it an over-long path and floods it: srt keeps up
/// (or drops with a count), stays bounded, and enforcement is untouched.
#[test]
fn a_hostile_command_leaves_srt_responsive_and_bounded() {
    let (sb, elsewhere) = setup();
    let violations = sb.root.path().join("v.jsonl");
    let e = elsewhere.display();
    let script = format!(
        r#"
import ctypes, os, threading
libc = ctypes.CDLL(None, use_errno=True)
buf = ctypes.create_string_buffer(64)
a, b = b"{e}/race-A\0", b"/proc/self/cwd/race-B\0"
stop = False
def flip():
    while not stop:
        ctypes.memmove(buf, a, len(a)); ctypes.memmove(buf, b, len(b))
t = threading.Thread(target=flip); t.start()
for _ in range(2000):
    fd = libc.open(buf, os.O_WRONLY | os.O_CREAT, 0o644)
    if fd >= 0: os.close(fd)
stop = True; t.join()
long = b"/" + b"a" * 4095 + b"b" * 4096
libc.open(ctypes.c_char_p(long), os.O_WRONLY | os.O_CREAT, 0o644)
libc.open(ctypes.c_char_p(None), os.O_WRONLY | os.O_CREAT, 0o644)
libc.open(ctypes.c_void_p(0x10), os.O_WRONLY | os.O_CREAT, 0o644)
for i in range(10000):
    try:
        open("{e}/flood-%d" % i, "w")
    except OSError:
        pass
print("survived")
"#
    );
    let started = Instant::now();
    let out = sb
        .srt()
        .args(["run", "-s", ".srt.json", "--violations"])
        .arg(&violations)
        .args(["--", "python3", "-c", &script])
        .output()
        .unwrap();
    let took = started.elapsed();
    assert_eq!(ok(&out), "survived\n");
    assert!(took < Duration::from_secs(60), "took {took:?}");
    let stderr = text(&out.stderr);
    let lines = fs_lines(&stderr);
    // Rate-limited on stderr, with a count of what was not shown.
    assert!(lines.len() <= 100, "{} lines", lines.len());
    assert!(
        stderr.contains("more filesystem violations were not shown"),
        "{stderr}"
    );
    for l in &lines {
        assert!(l.contains(" — "), "malformed: {l}");
    }
    // Nothing the observer saw was let through.
    assert!(std::fs::read_dir(&elsewhere).unwrap().next().is_none());
    // The file has one object per distinct path, up to its bound.
    let objects = jsonl(&violations);
    assert!(
        objects.len() > 1000 && objects.len() <= 20_000,
        "{}",
        objects.len()
    );
}
