//! The Linux plan: whole-argv equality for the mount order, the host-facts walk, and a
//! property test that the plan's mounts realise `decide_path`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::cell::Cell;
use std::path::{Path, PathBuf};

use common::{ir_with, plan_with, simulate, State};
use srt_compiler::backend::linux::{HostFacts, StubKind};
use srt_compiler::{DirEntry, FakeFs, FileKind, FsView};

fn argv(plan: &srt_compiler::backend::linux::LinuxPlan) -> Vec<String> {
    plan.argv()
        .iter()
        .map(|w| w.to_string_lossy().into_owned())
        .collect()
}

fn split(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

/// The process and init steps of a policy that reaches no host: srt's init is PID 1, without
/// the proxies' socket directory (see `the_init_is_pid_1_and_bridges_only_when_a_host_may_be_reached`).
const TAIL: &str = "--unshare-net --unshare-pid --unshare-user --unshare-ipc --unshare-uts \
    --die-with-parent --as-pid-1 --cap-drop ALL --chdir /home/dev/project \
    --ro-bind /usr/bin/srt /usr/bin/srt";

#[test]
fn the_init_is_pid_1_and_bridges_only_when_a_host_may_be_reached() {
    let fs = FakeFs::new().dir("/home/dev/project");
    let offline = r#"{"network":{"allowedDomains":[],"deniedDomains":[]},"filesystem":{"denyRead":[],"allowWrite":[],"denyWrite":[]}}"#;
    let (_, plan) = plan_with(offline, &fs);
    assert!(!plan.bridges);
    let command = ["true".into()];
    let words = |args: Vec<std::ffi::OsString>| -> Vec<String> {
        args.iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    };
    assert_eq!(
        words(plan.bwrap_args_for(Some(7), &command)),
        split(&format!(
            "--ro-bind / / --dev /dev --proc /proc {TAIL} -- /usr/bin/srt __init --seccomp-fd 7 -- true"
        ))
    );
    let names: Vec<&str> = plan.env.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["SANDBOX_RUNTIME", "TMPDIR"]);

    let online = offline.replace(
        "\"allowedDomains\":[]",
        "\"allowedDomains\":[\"example.com\"]",
    );
    let (_, plan) = plan_with(&online, &fs);
    assert!(plan.bridges);
    let tail = TAIL.replace(
        "--ro-bind /usr/bin/srt",
        "--ro-bind /run/srt-sock /run/srt-sock --ro-bind /usr/bin/srt",
    );
    assert_eq!(
        argv(&plan),
        split(&format!("--ro-bind / / --dev /dev --proc /proc {tail}"))
    );
    assert!(plan.env.iter().any(|(k, _)| k == "HTTPS_PROXY"));
    let args = words(plan.bwrap_args_for(Some(7), &command));
    let init_at = args.iter().rposition(|a| a == "/usr/bin/srt").unwrap();
    assert_eq!(args[init_at + 1], "__init");
    assert!(args.ends_with(&split("--seccomp-fd 7 -- true")));
}

/// On a terminal without proxies the init (PID 1 of every sandbox) keeps the terminal's
/// signals from bwrap and relays stops: `--as-pid-1` and the init's binary, but no bridge, no
/// socket directory and no proxy environment.
#[test]
fn a_terminal_run_has_an_init_without_proxies() {
    let fs = FakeFs::new().dir("/home/dev/project");
    let offline = r#"{"network":{"allowedDomains":[],"deniedDomains":[]},"filesystem":{"denyRead":[],"allowWrite":[],"denyWrite":[]}}"#;
    let ir = ir_with(offline, &fs);
    let facts = HostFacts::gather(&ir, &fs);
    let mut opts = common::options();
    opts.terminal = true;
    let plan = srt_compiler::backend::linux::plan(&ir, &facts, &opts);
    assert!(plan.terminal && !plan.bridges);
    assert_eq!(
        argv(&plan),
        split(&format!("--ro-bind / / --dev /dev --proc /proc {TAIL}"))
    );
    let args: Vec<String> = plan
        .bwrap_args_for(Some(7), &["true".into()])
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    assert!(
        args.ends_with(&split("-- /usr/bin/srt __init --seccomp-fd 7 -- true")),
        "{args:?}"
    );
    let names: Vec<&str> = plan.env.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["SANDBOX_RUNTIME", "TMPDIR"]);
    let text = plan.render_text(&ir);
    assert!(
        text.contains("terminal: the sandbox's group is the terminal's foreground group"),
        "{text}"
    );
}

#[test]
fn read_only_project_has_no_mounts_but_the_base() {
    let fs = FakeFs::new().dir("/home/dev/project");
    let json = r#"{"network":{"allowedDomains":[],"deniedDomains":[]},"filesystem":{"denyRead":[],"allowWrite":[],"denyWrite":[]}}"#;
    let (_, plan) = plan_with(json, &fs);
    assert_eq!(
        argv(&plan),
        split(&format!("--ro-bind / / --dev /dev --proc /proc {TAIL}"))
    );
    assert!(plan.stubs.is_empty());
}

#[test]
fn mount_order_follows_the_contract() {
    let fs = FakeFs::new()
        .file("/home/dev/.ssh/known_hosts")
        .file("/home/dev/.ssh/id_rsa")
        .file("/home/dev/project/.srt.json")
        .file("/home/dev/project/.bashrc")
        .file("/home/dev/project/Cargo.lock")
        .file("/home/dev/project/sub/Cargo.lock")
        .file("/home/dev/project/key.pem")
        .dir("/home/dev/project/out")
        .dir("/home/dev/project/.git/hooks")
        .file("/home/dev/project/.git/config")
        .file("/home/dev/project/sub/deep/.mcp.json");
    let json = r#"{"network":{"allowedDomains":[],"deniedDomains":[]},
      "filesystem":{"denyRead":["~/.ssh","*.pem"],"allowRead":["~/.ssh/known_hosts"],
      "allowWrite":[".","out/**"],"denyWrite":["*.lock","sub/*.lock"]},
      "mandatoryDenySearchDepth": 3}"#;
    let (_, plan) = plan_with(json, &fs);
    let p = "/home/dev/project";
    let mandatory_files = [
        ".bash_profile",
        ".gitconfig",
        ".gitmodules",
        ".mcp.json",
        ".profile",
        ".ripgreprc",
        ".zprofile",
        ".zshrc",
    ];
    let mut expected = format!(
        "--ro-bind / / --dev /dev --proc /proc \
         --ro-bind {p}/.claude {p}/.claude --ro-bind {p}/.git {p}/.git --ro-bind {p}/sub {p}/sub \
         --ro-bind {p}/sub/deep {p}/sub/deep \
         --bind {p} {p} \
         --perms 0555 --tmpfs /home/dev/.ssh --ro-bind /dev/null {p}/key.pem \
         --ro-bind /home/dev/.ssh/known_hosts /home/dev/.ssh/known_hosts "
    );
    // write denies in path order: mandatory names (stubs for the missing ones) and denyWrite
    let mut denies: Vec<String> = mandatory_files
        .iter()
        .chain(&[".bashrc", ".idea", ".vscode"])
        .map(|n| format!("{p}/{n}"))
        .collect();
    denies.extend(
        [
            ".claude/agents",
            ".claude/commands",
            ".claude/settings.json",
            ".claude/settings.local.json",
            ".git/config",
            ".git/config.worktree",
            ".git/hooks",
            "Cargo.lock",
            "sub/Cargo.lock",
            "sub/deep/.mcp.json",
        ]
        .map(|n| format!("{p}/{n}")),
    );
    denies.sort_by(|a, b| Path::new(a).cmp(Path::new(b)));
    for d in &denies {
        expected.push_str(&format!("--ro-bind {d} {d} "));
    }
    expected.push_str(&format!(
        "--ro-bind {p}/.srt.json {p}/.srt.json {TAIL} --remount-ro /home/dev/.ssh"
    ));
    assert_eq!(argv(&plan), split(&expected));
    let stubs: Vec<(String, StubKind)> = plan
        .stubs
        .iter()
        .map(|s| (s.path.display().to_string(), s.kind))
        .collect();
    assert!(stubs.contains(&(format!("{p}/.claude"), StubKind::Dir)));
    assert!(stubs.contains(&(format!("{p}/.claude/commands"), StubKind::Dir)));
    assert!(stubs.contains(&(format!("{p}/.zshrc"), StubKind::File)));
    assert!(!stubs.iter().any(|(s, _)| s.ends_with(".bashrc")));
    // every argument traces to a rule or a named built-in
    assert!(plan
        .args
        .iter()
        .all(|a| !a.origin.describe(None).is_empty()));
}

#[test]
fn a_deny_inside_a_reopened_directory_follows_the_reopen() {
    let fs = FakeFs::new()
        .file("/home/dev/project/src/main.rs")
        .file("/home/dev/project/secret/key")
        .file("/home/dev/notes.txt");
    let json = r#"{"filesystem":{"denyRead":["~","secret"],"allowRead":["."],"allowWrite":["."]}}"#;
    let (ir, plan) = plan_with(json, &fs);
    let a = argv(&plan);
    let pos = |w: &str| a.iter().position(|x| x == w).unwrap();
    let reopen = a
        .windows(3)
        .position(|w| w[0] == "--bind" && w[2] == "/home/dev/project")
        .unwrap();
    assert!(pos("/home/dev") < reopen);
    let secret = a
        .iter()
        .rposition(|x| x == "/home/dev/project/secret")
        .unwrap();
    assert!(reopen < secret, "{a:?}");
    let mounts = simulate(&plan);
    for (path, want) in [
        ("/home/dev/notes.txt", State::Hidden),
        ("/home/dev/project/src/main.rs", State::Writable),
        ("/home/dev/project/secret/key", State::Hidden),
    ] {
        assert_eq!(common::state_at(&mounts, Path::new(path)), want, "{path}");
        assert_eq!(common::decided(&ir, Path::new(path)), want, "{path}");
    }
}

#[test]
fn globs_in_write_lists_are_honoured() {
    // The npm srt drops both of these on Linux.
    let fs = FakeFs::new()
        .file("/home/dev/project/out/a.txt")
        .file("/home/dev/project/Cargo.lock")
        .file("/home/dev/project/yarn.lock")
        .file("/home/dev/project/src/main.rs");
    let json = r#"{"filesystem":{"allowWrite":["out/**"],"denyWrite":["*.lock"]},"network":{"allowedDomains":[]}}"#;
    let (_, plan) = plan_with(json, &fs);
    let a = argv(&plan).join(" ");
    assert!(a.contains("--bind /home/dev/project/out /home/dev/project/out"));
    // *.lock lies outside the write root here: nothing to deny
    assert!(!a.contains("Cargo.lock"));
    let json = r#"{"filesystem":{"allowWrite":["."],"denyWrite":["*.lock"]},"network":{"allowedDomains":[]}}"#;
    let (_, plan) = plan_with(json, &fs);
    let a = argv(&plan).join(" ");
    assert!(a.contains("--ro-bind /home/dev/project/Cargo.lock /home/dev/project/Cargo.lock"));
    assert!(a.contains("--ro-bind /home/dev/project/yarn.lock /home/dev/project/yarn.lock"));
    assert!(plan
        .notes
        .iter()
        .any(|n| n.code == "deny-glob-existing-only"));
}

#[test]
fn a_glob_that_matches_nothing_is_reported() {
    let fs = FakeFs::new().dir("/home/dev/project");
    let json = r#"{"filesystem":{"denyRead":["**/*.pem"],"allowWrite":["."]}}"#;
    let (_, plan) = plan_with(json, &fs);
    let n = plan
        .notes
        .iter()
        .find(|n| n.code == "glob-matches-nothing")
        .unwrap();
    assert!(n.primary_span().is_some());
}

/// Counts directory listings, to check the walk lists each directory once.
struct Counting<'a> {
    inner: &'a FakeFs,
    lists: Cell<usize>,
    listed: std::cell::RefCell<Vec<PathBuf>>,
}

impl FsView for Counting<'_> {
    fn realpath(&self, p: &Path) -> Option<PathBuf> {
        self.inner.realpath(p)
    }
    fn kind(&self, p: &Path) -> Option<FileKind> {
        self.inner.kind(p)
    }
    fn is_symlink(&self, p: &Path) -> bool {
        self.inner.is_symlink(p)
    }
    fn list(&self, d: &Path) -> Option<Vec<DirEntry>> {
        self.lists.set(self.lists.get() + 1);
        self.listed.borrow_mut().push(d.to_path_buf());
        self.inner.list(d)
    }
}

#[test]
fn host_facts_walk_once_for_all_patterns() {
    let mut fs = FakeFs::new();
    for i in 0..5 {
        for j in 0..5 {
            fs = fs
                .file(format!("/home/dev/project/d{i}/e{j}/f.pem"))
                .file(format!("/home/dev/project/d{i}/e{j}/g.lock"));
        }
    }
    fs = fs
        .file("/home/dev/project/node_modules/m/.bashrc")
        .file("/home/dev/project/a/b/c/.bashrc")
        .file("/home/dev/project/a/b/.bashrc")
        .dir("/home/dev/project/a/.git")
        .file("/home/dev/project/a/.claude/commands/x.md");
    let json = r#"{"filesystem":{"denyRead":["**/*.pem"],"allowWrite":["."],"denyWrite":["**/*.lock","d1/**/*.lock"]}}"#;
    let ir = ir_with(json, &fs);
    let counting = Counting {
        inner: &fs,
        lists: Cell::new(0),
        listed: Default::default(),
    };
    let facts = HostFacts::gather(&ir, &counting);
    let listed = counting.listed.borrow();
    let mut unique = listed.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), listed.len(), "a directory was listed twice");
    assert_eq!(facts.dirs_listed, listed.len());
    let pem = &facts.globs["/home/dev/project/**/*.pem"];
    assert_eq!(pem.len(), 25);
    assert_eq!(facts.globs["/home/dev/project/d1/**/*.lock"].len(), 5);
    let found: Vec<String> = facts
        .mandatory_found
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    assert_eq!(
        found,
        [
            "/home/dev/project/a/.claude/commands",
            "/home/dev/project/a/.git/hooks",
            "/home/dev/project/a/b/.bashrc",
        ],
        "depth 3 stops before a/b/c, node_modules is skipped"
    );
}

#[test]
fn mandatory_scan_depth_follows_the_setting() {
    let fs = FakeFs::new()
        .file("/home/dev/project/a/b/c/d/.zshrc")
        .file("/home/dev/project/a/.zshrc");
    let shallow = ir_with(
        r#"{"filesystem":{"allowWrite":["."]},"mandatoryDenySearchDepth":1}"#,
        &fs,
    );
    let deep = ir_with(
        r#"{"filesystem":{"allowWrite":["."]},"mandatoryDenySearchDepth":5}"#,
        &fs,
    );
    assert!(HostFacts::gather(&shallow, &fs).mandatory_found.is_empty());
    assert_eq!(HostFacts::gather(&deep, &fs).mandatory_found.len(), 2);
}

#[test]
fn missing_protected_names_are_stubbed_at_the_cwd_and_home_only() {
    let fs = FakeFs::new()
        .dir("/home/dev/project")
        .file("/home/dev/.profile")
        .file("/tmp/x/.bashrc")
        .dir("/srv/cache");
    let json = r#"{"filesystem":{"allowWrite":["/home","/tmp/x","/srv/cache"]}}"#;
    let (_, plan) = plan_with(json, &fs);
    let stubs: Vec<String> = plan
        .stubs
        .iter()
        .map(|s| s.path.display().to_string())
        .collect();
    assert!(
        stubs.contains(&"/home/dev/.bashrc".to_string()),
        "{stubs:?}"
    );
    assert!(stubs.contains(&"/home/dev/project/.bashrc".to_string()));
    assert!(!stubs
        .iter()
        .any(|s| s.starts_with("/srv") || s.starts_with("/tmp")));
    let a = argv(&plan).join(" ");
    // existing names at other roots are still protected
    assert!(a.contains("--ro-bind /tmp/x/.bashrc /tmp/x/.bashrc"));
    assert!(a.contains("--ro-bind /home/dev/.profile /home/dev/.profile"));
    let note = plan
        .notes
        .iter()
        .find(|n| n.code == "mandatory-deny-not-stubbed")
        .unwrap();
    assert!(note.message.contains("/srv/cache") && note.message.contains("/tmp/x"));
}
