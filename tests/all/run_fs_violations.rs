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
        .args([
            "run",
            "-s",
            ".srt.json",
            "--fs-violations",
            "all",
            "--violations",
        ])
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
        .args(["run", "-s", ".srt.json", "--fs-violations", "all", "--violations"])
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
fn the_observer_reports_writes_or_reads_on_request_and_nothing_by_default() {
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
    // Off by default, as in the npm srt's CLI: each observed call costs about 8 µs.
    assert!(run(&[]).is_empty());
    let all = run(&["--fs-violations", "all"]);
    assert_eq!(all.len(), 2, "{all:#?}");
    assert!(all[1].starts_with("srt: blocked read "), "{all:#?}");
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
        .args([
            "run",
            "-s",
            ".srt.json",
            "--fs-violations",
            "writes",
            "--violations",
        ])
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

/// A rename over a protected file is refused by the mount (`EBUSY`) and reported as a write
/// of the file it would have replaced, once, naming the rule: a `denyWrite` file and a
/// mandatory-deny name, each touched by nothing but the rename.
#[test]
fn a_rename_over_a_protected_file_is_reported_once_naming_the_rule() {
    let (sb, _) = setup();
    std::fs::write(sb.project().join("o2.txt"), "o2").unwrap();
    let violations = sb.root.path().join("v.jsonl");
    let out = sb
        .srt()
        .args([
            "run",
            "-s",
            ".srt.json",
            "--fs-violations",
            "writes",
            "--violations",
        ])
        .arg(&violations)
        .args([
            "-c",
            "mv -f other.txt locked.txt 2>/dev/null; mv -f other.txt locked.txt 2>/dev/null; \
             mv -f o2.txt .bashrc 2>/dev/null; echo done",
        ])
        .output()
        .unwrap();
    assert_eq!(ok(&out), "done\n");
    let stderr = text(&out.stderr);
    let lines = fs_lines(&stderr);
    let p = sb.project().canonicalize().unwrap();
    let p = p.display();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(
        lines[0].starts_with(&format!("srt: blocked write {p}/locked.txt (rename"))
            && lines[0].contains("by mv, pid ")
            && lines[0].contains("— on filesystem.denyWrite[0] (.srt.json:2:"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with(&format!("srt: blocked write {p}/.bashrc (rename"))
            && lines[1].ends_with("— built-in mandatory-deny"),
        "{}",
        lines[1]
    );
    // The source of each rename is inside the write root: not reported, and still there.
    assert!(!stderr.contains("other.txt") && !stderr.contains("o2.txt"));
    assert_eq!(
        std::fs::read_to_string(sb.project().join("locked.txt")).unwrap(),
        "v1"
    );
    assert!(sb.project().join("other.txt").exists() && sb.project().join("o2.txt").exists());
    let objects = jsonl(&violations);
    assert_eq!(objects.len(), 2, "{objects:#?}");
    for o in &objects {
        assert_eq!(o["access"], "write");
        assert_eq!(o["command"], "mv");
        assert!(o["syscall"].as_str().unwrap().starts_with("rename"), "{o}");
    }
    assert_eq!(objects[1]["rule"], "built-in mandatory-deny");
}

/// A path of 4,095 bytes (the longest the kernel takes) is read whole and folded: the report
/// names the file it leads to. One byte more and the kernel refuses the call itself
/// (`ENAMETOOLONG`): nothing is reported, and nothing made up.
#[test]
fn a_path_of_the_longest_length_the_kernel_takes_is_reported_by_the_file_it_names() {
    let (sb, elsewhere) = setup();
    let elsewhere = elsewhere.canonicalize().unwrap();
    let e = elsewhere.display().to_string();
    // `E/././…/./long4k`, 4,095 bytes: the `./` padding fills what the name does not.
    let name = "long4k";
    let pad = 4095 - e.len() - 1 - name.len();
    let dots = "./".repeat(pad / 2) + if pad % 2 == 1 { "/" } else { "" };
    let long = format!("{e}/{dots}{name}");
    assert_eq!(long.len(), 4095);
    let too_long = format!("{e}/{dots}x{name}");
    assert_eq!(too_long.len(), 4096);
    let script = format!(
        r#"
import os, sys
for p in [{long:?}, {too_long:?}]:
    try:
        open(p, "w")
    except OSError as e:
        print(e.errno)
"#
    );
    let out = sb
        .srt()
        .args([
            "run",
            "-s",
            ".srt.json",
            "--fs-violations",
            "writes",
            "--",
            "python3",
            "-c",
            &script,
        ])
        .output()
        .unwrap();
    // EROFS for the first (outside every write root), ENAMETOOLONG for the second.
    assert_eq!(ok(&out), "30\n36\n");
    let stderr = text(&out.stderr);
    let lines = fs_lines(&stderr);
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with(&format!("srt: blocked write {e}/{name} (open"))
            && lines[0].ends_with("— not under any filesystem.allowWrite"),
        "{}",
        lines[0]
    );
}

/// `VmHWM` (peak resident set, KiB) of a `/proc/PID/status` text.
fn peak_kib(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// Floods of distinct refused paths, from one process and from a thousand short-lived ones,
/// and processes killed while their calls are observed: the init (which reads every call)
/// and the host srt (which reports them) keep a bounded peak memory, and the run ends
/// promptly. A leak per observed call or per distinct path would show here.
#[test]
fn floods_of_paths_and_processes_leave_the_init_and_srt_bounded_in_memory() {
    let (sb, elsewhere) = setup();
    let violations = sb.root.path().join("v.jsonl");
    let e = elsewhere.display();
    // The init is PID 1 of the sandbox; its status is readable (not its memory).
    let script = format!(
        r#"
import os, signal, time
def peak():
    for l in open("/proc/1/status"):
        if l.startswith("VmHWM:"):
            return int(l.split()[1])
print("init-before", peak(), flush=True)
for i in range(20000):
    try: open("{e}/flood-%d" % i, "w")
    except OSError: pass
kids = []
for k in range(1000):
    pid = os.fork()
    if pid == 0:
        try: open("{e}/kid-%d" % k, "w")
        except OSError: pass
        os._exit(0)
    kids.append(pid)
for p in kids: os.waitpid(p, 0)
# Killed mid-call: a process looping on observed writes, stopped with SIGKILL.
for k in range(20):
    pid = os.fork()
    if pid == 0:
        n = 0
        while True:
            try: open("{e}/dying-%d-%d" % (k, n % 100), "w")
            except OSError: pass
            n += 1
    time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
print("init-after", peak(), flush=True)
"#
    );
    let started = Instant::now();
    let child = sb
        .srt()
        .args([
            "run",
            "-s",
            ".srt.json",
            "--fs-violations",
            "writes",
            "--violations",
        ])
        .arg(&violations)
        .args(["--", "python3", "-c", &script])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Sample srt's own peak while it runs (the last reading before it exits).
    let status = format!("/proc/{}/status", child.id());
    let sampler = std::thread::spawn(move || {
        let mut peak = 0;
        while let Ok(text) = std::fs::read_to_string(&status) {
            if text.contains("State:\tZ") {
                break;
            }
            peak = peak_kib(&text).unwrap_or(peak).max(peak);
            std::thread::sleep(Duration::from_millis(10));
        }
        peak
    });
    let out = child.wait_with_output().unwrap();
    let took = started.elapsed();
    let host_peak = sampler.join().unwrap();
    let stdout = ok(&out);
    let init = |what: &str| -> u64 {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(what))
            .unwrap_or_else(|| panic!("no {what} in {stdout}"))
            .trim()
            .parse()
            .unwrap()
    };
    let (before, after) = (init("init-before"), init("init-after"));
    assert!(took < Duration::from_secs(90), "took {took:?}");
    // Measured: the init grows by well under 1 MiB, srt peaks near 20 MiB (debug build).
    assert!(
        after < before + 8 * 1024,
        "the init's peak went from {before} KiB to {after} KiB"
    );
    assert!(
        host_peak > 0 && host_peak < 64 * 1024,
        "srt peaked at {host_peak} KiB"
    );
    // Everything it saw was refused, and what was reported is well-formed.
    assert!(std::fs::read_dir(&elsewhere).unwrap().next().is_none());
    let objects = jsonl(&violations);
    assert!(objects.len() > 1000, "{}", objects.len());
    assert!(objects.iter().all(|o| o["path"]
        .as_str()
        .unwrap()
        .starts_with(&*elsewhere.to_string_lossy())));
}
