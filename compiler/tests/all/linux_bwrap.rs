//! The planned argv under the real bubblewrap: a project on disk, a policy, the plan built from
//! real host facts; stubs are made the way the runtime makes them, a shell probes what the
//! command may do, and the host tree is checked to be as it was afterwards.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use srt_compiler::backend::linux::{plan, HostFacts, LinuxOptions, LinuxPlan, StubKind};
use srt_compiler::{resolve, Ir, RealFs, ResolveOptions};

struct Sandbox {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

impl Sandbox {
    fn new(files: &[&str], dirs: &[&str]) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(tmp.path()).unwrap();
        for d in dirs {
            fs::create_dir_all(root.join(d)).unwrap();
        }
        for f in files {
            let p = root.join(f);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(&p, format!("content of {f}\n")).unwrap();
        }
        fs::create_dir_all(root.join("sock")).unwrap();
        Sandbox { _tmp: tmp, root }
    }

    fn plan(&self, policy: &str) -> (Ir, LinuxPlan) {
        self.plan_in(policy, "project", "home")
    }

    fn plan_in(&self, policy: &str, cwd: &str, home: &str) -> (Ir, LinuxPlan) {
        let project = self.root.join(cwd);
        let settings = project.join(".srt.json");
        fs::write(&settings, policy).unwrap();
        let loaded = srt_schema::load_file(".srt.json", &settings).unwrap();
        assert!(!loaded.has_errors(), "{:#?}", loaded.diagnostics);
        let opts = ResolveOptions {
            cwd: project,
            home: self.root.join(home),
            settings_path: Some(settings),
        };
        let (ir, _) = resolve(
            &loaded.settings,
            Some(loaded.source.clone()),
            &opts,
            &RealFs,
        );
        let facts = HostFacts::gather(&ir, &RealFs);
        // Any host binary stands in for srt: it is only bound, not run.
        let opts = LinuxOptions::new("/usr/bin/env".into(), self.root.join("sock"));
        let p = plan(&ir, &facts, &opts);
        (ir, p)
    }

    /// Makes the stubs, runs `script` in the sandbox, removes the stubs (as the runtime does).
    fn run(&self, plan: &LinuxPlan, script: &str) -> BTreeMap<String, String> {
        let made = make_stubs(plan);
        let out = Command::new("bwrap")
            .args(plan.argv())
            .args(["--", "/bin/sh", "-c", script])
            .envs(plan.env.iter().map(|(k, v)| (k, v)))
            .output()
            .expect("bwrap runs");
        remove_stubs(&made);
        assert!(
            out.status.success(),
            "bwrap failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn tree(&self) -> Vec<PathBuf> {
        fn walk(d: &Path, out: &mut Vec<PathBuf>) {
            for e in fs::read_dir(d).unwrap() {
                let p = e.unwrap().path();
                out.push(p.clone());
                if p.is_dir() && !p.is_symlink() {
                    walk(&p, out);
                }
            }
        }
        let mut v = Vec::new();
        walk(&self.root, &mut v);
        v.sort();
        v
    }
}

/// Creates the plan's stubs as the runtime does (exclusively; one that exists is not ours).
fn make_stubs(plan: &LinuxPlan) -> Vec<PathBuf> {
    let mut made = Vec::new();
    for s in &plan.stubs {
        let ok = match s.kind {
            StubKind::Dir => fs::create_dir(&s.path).is_ok(),
            StubKind::File => fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&s.path)
                .is_ok(),
        };
        if ok {
            made.push(s.path.clone());
        }
    }
    made
}

fn remove_stubs(made: &[PathBuf]) {
    for p in made.iter().rev() {
        let _ = fs::remove_dir(p).or_else(|_| fs::remove_file(p));
    }
}

/// `probe NAME CMD…`: prints `NAME=ok` or `NAME=denied`.
const PROBE: &str = "probe() { n=$1; shift; if \"$@\" >/dev/null 2>&1; then echo \"$n=ok\"; else echo \"$n=denied\"; fi; }\n";

#[test]
fn write_policy_with_globs_and_mandatory_denies() {
    let sb = Sandbox::new(
        &[
            "project/src/main.rs",
            "project/Cargo.lock",
            "project/sub/yarn.lock",
            "project/.env",
            "project/.git/HEAD",
            "project/.git/config",
            "project/out/keep.txt",
            "project/secret/key",
        ],
        &["project/.git/hooks", "home"],
    );
    let policy = r#"{"network":{"allowedDomains":[],"deniedDomains":[]},
      "filesystem":{"denyRead":["secret"],"allowWrite":[".","out/**"],"denyWrite":["*.lock","sub/*.lock",".env"]}}"#;
    let (_, plan) = sb.plan(policy);
    let before = sb.tree();
    let p = sb.root.join("project").display().to_string();
    let script = format!(
        "{PROBE}cd {p}
probe new_file sh -c 'echo x > new.txt'
probe src sh -c 'echo x >> src/main.rs'
probe out sh -c 'echo x > out/new.txt'
probe lock sh -c 'echo x >> Cargo.lock'
probe sub_lock sh -c 'echo x >> sub/yarn.lock'
probe env sh -c 'echo x >> .env'
probe settings sh -c 'echo x >> .srt.json'
probe bashrc sh -c 'echo x > .bashrc'
probe vscode mkdir .vscode/x
probe claude_commands mkdir -p .claude/commands/x
probe claude_settings sh -c 'echo x > .claude/settings.json'
probe claude_other sh -c 'echo x > .claude/notes.md'
probe hooks sh -c 'echo x > .git/hooks/pre-commit'
probe git_config sh -c 'echo x >> .git/config'
probe rename_git mv .git moved
probe rename_claude mv .claude moved
probe read_secret cat secret/key
probe list_secret sh -c 'test -z \"$(ls -A secret)\"'
probe write_secret sh -c 'echo x > secret/new'
probe chmod_secret chmod 777 secret
probe read_src cat src/main.rs
rm -f new.txt out/new.txt .claude/notes.md
"
    );
    let r = sb.run(&plan, &script);
    let expect = [
        ("new_file", "ok"),
        ("src", "ok"),
        ("out", "ok"),
        ("lock", "denied"),
        ("sub_lock", "denied"),
        ("env", "denied"),
        ("settings", "denied"),
        ("bashrc", "denied"),
        ("vscode", "denied"),
        ("claude_commands", "denied"),
        ("claude_settings", "denied"),
        ("claude_other", "ok"),
        ("hooks", "denied"),
        ("git_config", "denied"),
        ("rename_git", "denied"),
        ("rename_claude", "denied"),
        ("read_secret", "denied"),
        ("list_secret", "ok"),
        ("write_secret", "denied"),
        ("chmod_secret", "denied"),
        ("read_src", "ok"),
    ];
    for (k, v) in expect {
        assert_eq!(r.get(k).map(String::as_str), Some(v), "{k}: {r:?}");
    }
    assert_eq!(sb.tree(), before, "the run left something behind");
}

#[test]
fn read_denies_reopens_and_a_read_only_project() {
    let sb = Sandbox::new(
        &[
            "home/.ssh/id_rsa",
            "home/.ssh/known_hosts",
            "home/notes.txt",
            "project/src/main.rs",
            "project/certs/a.pem",
            "project/certs/b.crt",
        ],
        &[],
    );
    let policy = r#"{"network":{"allowedDomains":[],"deniedDomains":[]},
      "filesystem":{"denyRead":["~/.ssh","**/*.pem"],"allowRead":["~/.ssh/known_hosts"],"allowWrite":[],"denyWrite":[]}}"#;
    let (_, plan) = sb.plan(policy);
    assert!(
        plan.stubs.is_empty(),
        "nothing is writable, so nothing needs a stub"
    );
    let h = sb.root.join("home").display().to_string();
    let p = sb.root.join("project").display().to_string();
    let script = format!(
        "{PROBE}probe id_rsa cat {h}/.ssh/id_rsa
probe known_hosts cat {h}/.ssh/known_hosts
probe notes cat {h}/notes.txt
probe pem cat {p}/certs/a.pem
probe crt cat {p}/certs/b.crt
probe write_project sh -c 'echo x > {p}/new'
probe write_ssh sh -c 'echo x > {h}/.ssh/new'
"
    );
    let r = sb.run(&plan, &script);
    for (k, v) in [
        ("id_rsa", "denied"),
        ("known_hosts", "ok"),
        ("notes", "ok"),
        ("pem", "denied"),
        ("crt", "ok"),
        ("write_project", "denied"),
        ("write_ssh", "denied"),
    ] {
        assert_eq!(r.get(k).map(String::as_str), Some(v), "{k}: {r:?}");
    }
}

#[test]
fn a_project_reopened_inside_a_hidden_home() {
    let sb = Sandbox::new(
        &[
            "home/notes.txt",
            "home/.gitconfig",
            "home/work/proj/src/main.rs",
            "home/work/proj/secret/key",
        ],
        &["home/work/proj/.git/hooks"],
    );
    let policy = r#"{"network":{"allowedDomains":[],"deniedDomains":[]},
      "filesystem":{"denyRead":["~","secret"],"allowRead":["."],"allowWrite":["."],"denyWrite":[]}}"#;
    let (_, plan) = sb.plan_in(policy, "home/work/proj", "home");
    let before = sb.tree();
    let h = sb.root.join("home").display().to_string();
    let script = format!(
        "{PROBE}probe notes cat {h}/notes.txt
probe home_write sh -c 'echo x > {h}/new'
probe src cat src/main.rs
probe src_write sh -c 'echo x >> src/main.rs'
probe new sh -c 'echo x > new.txt && rm new.txt'
probe secret cat secret/key
probe secret_write sh -c 'echo x > secret/new'
probe hooks sh -c 'echo x > .git/hooks/post-checkout'
probe bashrc sh -c 'echo x > .bashrc'
probe pwd sh -c 'test \"$(pwd)\" = {h}/work/proj'
"
    );
    let r = sb.run(&plan, &script);
    for (k, v) in [
        ("notes", "denied"),
        ("home_write", "denied"),
        ("src", "ok"),
        ("src_write", "ok"),
        ("new", "ok"),
        ("secret", "denied"),
        ("secret_write", "denied"),
        ("hooks", "denied"),
        ("bashrc", "denied"),
        ("pwd", "ok"),
    ] {
        assert_eq!(r.get(k).map(String::as_str), Some(v), "{k}: {r:?}");
    }
    // src_write appended a line; restore the tree check on names only
    assert_eq!(sb.tree(), before, "the run left something behind");
}

/// The plan's seccomp bytes as bwrap's own `--seccomp FD` loads them (the runtime's init loads
/// the same bytes the same way): the kernel accepts the program, and inside the sandbox the
/// command cannot make a Unix socket or a user namespace, while ordinary work goes on.
#[test]
fn the_seccomp_bytes_load_and_bite_inside_the_sandbox() {
    let sb = Sandbox::new(&["project/src/main.rs"], &["home"]);
    let policy = r#"{"network":{"allowedDomains":[],"deniedDomains":[]},
      "filesystem":{"denyRead":[],"allowWrite":["."],"denyWrite":[]}}"#;
    let (_, plan) = sb.plan(policy);
    let prog = sb.root.join("seccomp.bpf");
    fs::write(&prog, plan.seccomp.to_bytes()).unwrap();
    let script = r#"
import errno, os, socket, subprocess, threading
def probe(name, f):
    try:
        f(); print(name + "=ok")
    except OSError as e:
        print(name + "=" + errno.errorcode.get(e.errno, str(e.errno)))
probe("unix", lambda: socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
probe("inet", lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM))
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
def unshare_user():
    if libc.unshare(0x10000000) != 0:
        e = ctypes.get_errno(); raise OSError(e, os.strerror(e))
probe("unshare", unshare_user)
t = threading.Thread(target=lambda: None); t.start(); t.join(); print("thread=ok")
print("exec=" + subprocess.run(["/bin/echo", "hi"], capture_output=True, text=True).stdout.strip())
"#;
    let mut args = plan.argv();
    args.extend(["--seccomp".into(), "0".into()]);
    let made = make_stubs(&plan);
    let out = Command::new("bwrap")
        .args(&args)
        .args(["--", "python3", "-c", script])
        .stdin(fs::File::open(&prog).unwrap())
        .output()
        .expect("bwrap runs");
    remove_stubs(&made);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in [
        "unix=EPERM",
        "inet=ok",
        "unshare=EPERM",
        "thread=ok",
        "exec=hi",
    ] {
        assert!(
            stdout.lines().any(|l| l == line),
            "{line} missing in:\n{stdout}"
        );
    }
}
