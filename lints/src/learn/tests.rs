//! The engine on refusals shaped as `srt run --violations` writes them, against a fake
//! machine (home `/home/dev`, project `/home/dev/project`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use srt_compiler::{FakeFs, ResolveOptions};

use super::*;

const HOME: &str = "/home/dev";
const CWD: &str = "/home/dev/project";

const EMPTY: &str = EMPTY_POLICY;

fn fs() -> FakeFs {
    FakeFs::new()
        .dir("/home/dev/project/src")
        .dir("/home/dev/project/build")
        .dir("/home/dev/project/secrets")
        .file("/home/dev/project/secrets/config.json")
        .file("/home/dev/project/.srt.json")
        .dir("/home/dev/.ssh")
        .file("/home/dev/.ssh/id_rsa")
        .file("/home/dev/.bashrc")
        .file("/home/dev/notes.txt")
        .file("/opt/thing.lock")
        .dir("/home/dev/.cargo/registry")
        .dir("/home/dev/.claude/session-env")
        .dir("/home/dev/.cache/fetcher/sub")
        .dir("/tmp/claude")
        .file("/var/run/docker.sock")
}

fn opts() -> ResolveOptions {
    ResolveOptions {
        cwd: CWD.into(),
        home: HOME.into(),
        settings_path: Some(format!("{CWD}/.srt.json").into()),
    }
}

fn net(host: &str, port: u16, kind: &str) -> String {
    serde_json::json!({"time": "2026-12-07T05:00:00.000Z", "protocol": "CONNECT", "host": host,
        "port": port, "kind": kind, "reason": "host is not on the allow list", "rule": null,
        "line": "…", "ignored": false})
    .to_string()
}

fn file(access: &str, path: &str, syscall: &str, command: &str) -> String {
    serde_json::json!({"time": "2026-12-07T05:00:00.000Z", "kind": "filesystem", "access": access,
        "path": path, "syscall": syscall, "pid": 3, "command": command, "rule": null,
        "reason": "not under any filesystem.allowWrite", "line": "…", "ignored": false})
    .to_string()
}

fn learn_with(text: &str, lines: &[String], target: Target, deny_rest: bool) -> Learned {
    learn_in(text, lines, target, deny_rest, "/tmp/claude")
}

fn learn_in(
    text: &str,
    lines: &[String],
    target: Target,
    deny_rest: bool,
    tmpdir: &str,
) -> Learned {
    let refusals = parse_jsonl(&lines.join("\n"));
    assert_eq!(refusals.unreadable, 0);
    let fs = fs();
    let opts = opts();
    let levels = LevelConfig::default();
    learn(&LearnInput {
        name: ".srt.json",
        path: Some(Path::new("/home/dev/project/.srt.json")),
        text,
        opts: &opts,
        fs: &fs,
        target,
        levels: &levels,
        refusals: &refusals.refusals,
        command: "./fetch.sh --all",
        tmpdir,
        state_dir: Some(Path::new("/home/dev/.local/state/srt")),
        deny_rest,
    })
}

fn entries(l: &Learned) -> Vec<(String, String)> {
    l.proposals
        .iter()
        .map(|p| (p.key.clone(), p.entry.clone()))
        .collect()
}

fn pair(k: &str, e: &str) -> (String, String) {
    (k.to_string(), e.to_string())
}

/// The example: two origins and a cache directory, from an empty policy; the
/// result lints clean and a second round proposes nothing.
#[test]
fn two_origins_and_a_cache_from_an_empty_policy_converge() {
    let lines = vec![
        net("pkg.alpha.test", 8001, "not-allowed"),
        net("pkg.alpha.test", 8001, "not-allowed"),
        net("files.beta.test", 443, "not-allowed"),
        file(
            "write",
            "/home/dev/.cache/fetcher/index.json",
            "openat",
            "python3",
        ),
        file(
            "write",
            "/home/dev/.cache/fetcher/sub/blob",
            "openat",
            "python3",
        ),
    ];
    let l = learn_with(EMPTY, &lines, Target::Linux, false);
    assert_eq!(
        entries(&l),
        [
            pair("network.allowedDomains", "files.beta.test"),
            pair("network.allowedDomains", "pkg.alpha.test:8001"),
            pair("filesystem.allowWrite", "~/.cache/fetcher"),
        ],
        "{l:#?}"
    );
    assert!(l.not_proposed.is_empty(), "{:#?}", l.not_proposed);
    // Notes only (the network is open while secrets are readable: sensitive-paths-readable).
    assert!(
        l.findings.iter().all(|f| f.severity == "note"),
        "{:#?}",
        l.findings
    );
    assert!(l.proposals.iter().all(|p| p.findings.is_empty()), "{l:#?}");
    assert_eq!(l.proposals[1].refusals[0].times, 2);
    assert_eq!(l.proposals[2].refusals[0].commands, ["python3"]);
    // The layout is the file's: one entry per list line as written, nothing else touched.
    assert!(
        l.content
            .contains("\"allowedDomains\": [\"files.beta.test\", \"pkg.alpha.test:8001\"],"),
        "{}",
        l.content
    );
    // Lint-clean at default levels.
    let loaded = srt_schema::load_str(".srt.json", None, &l.content);
    let diags = crate::check(
        &loaded,
        &opts(),
        &fs(),
        Target::Linux,
        &LevelConfig::default(),
    );
    assert!(
        diags
            .iter()
            .all(|d| d.severity == srt_schema::Severity::Note),
        "{diags:#?}"
    );
    // Round two, same refusals: they are all allowed now.
    let again = learn_with(&l.content, &lines, Target::Linux, false);
    assert!(again.converged(), "{again:#?}");
    assert_eq!(again.already_allowed, 5);
    // The human report names the refusals under each added line.
    let text = render::human(&l, ".srt.json", EMPTY);
    assert!(
        text.contains("+    \"allowedDomains\": [\"files.beta.test\", \"pkg.alpha.test:8001\"],"),
        "{text}"
    );
    assert!(
        text.contains("#     refused: CONNECT pkg.alpha.test:8001, 2 times"),
        "{text}"
    );
    assert!(
        text.contains(
            "#     refused: write /home/dev/.cache/fetcher/sub/blob (openat), by python3"
        ),
        "{text}"
    );
}

#[test]
fn wildcards_only_for_several_siblings_and_never_over_a_public_suffix() {
    let lines: Vec<String> = [
        "a.cdn.example.com",
        "b.cdn.example.com",
        "c.cdn.example.com",
        "one.example.org",
        "two.example.org",
        "alice.github.io",
        "bob.github.io",
        "carol.github.io",
    ]
    .iter()
    .map(|h| net(h, 443, "not-allowed"))
    .collect();
    let l = learn_with(EMPTY, &lines, Target::Linux, false);
    let hosts: Vec<String> = l.proposals.iter().map(|p| p.entry.clone()).collect();
    assert_eq!(
        hosts,
        [
            "*.cdn.example.com",
            "alice.github.io",
            "bob.github.io",
            "carol.github.io",
            "one.example.org",
            "two.example.org"
        ],
        "{l:#?}"
    );
    let wild = &l.proposals[0];
    assert_eq!(wild.refusals.len(), 3);
    assert!(
        wild.why.contains("3 names under cdn.example.com"),
        "{}",
        wild.why
    );
}

#[test]
fn what_a_deny_level_lint_or_a_mandatory_deny_refuses_is_not_proposed_and_says_why() {
    let lines = vec![
        file("write", "/home/dev/.bashrc", "openat", "bash"),
        net("169.254.169.254", 80, "not-allowed"),
        net("github.com", 443, "not-allowed"),
        serde_json::json!({"kind": "unix-socket", "path": "/var/run/docker.sock",
            "command": "docker", "ignored": false})
        .to_string(),
    ];
    for target in [Target::Linux, Target::Macos] {
        let l = learn_with(EMPTY, &lines, target, false);
        // github.com is proposed, with its warning next to it.
        assert_eq!(
            entries(&l),
            [pair("network.allowedDomains", "github.com")],
            "{l:#?}"
        );
        assert!(
            l.proposals[0]
                .findings
                .iter()
                .any(|f| f.code == "exfiltration-surface" && f.severity == "warning"),
            "{:#?}",
            l.proposals[0].findings
        );
        let why = |what: &str| {
            l.not_proposed
                .iter()
                .find(|r| r.refusal.refusal.contains(what))
                .unwrap_or_else(|| panic!("{what} in {:#?}", l.not_proposed))
        };
        assert!(
            why("/home/dev/.bashrc").why.contains("mandatory-deny"),
            "{:#?}",
            why(".bashrc")
        );
        let meta = why("169.254.169.254");
        assert_eq!(meta.code.as_deref(), Some("private-or-metadata-host"));
        assert!(meta.why.contains("cloud credentials"), "{}", meta.why);
        let docker = why("docker.sock");
        assert_eq!(
            docker.code.as_deref(),
            Some("dangerous-unix-socket"),
            "{docker:#?}"
        );
        assert!(docker.why.contains("Docker"), "{}", docker.why);
    }
}

#[test]
fn writes_never_widen_to_home_or_root_and_temporary_files_get_advice() {
    let lines = vec![
        file("write", "/home/dev/notes.txt", "openat", "tool"),
        file("write", "/home/dev/work/out/a", "openat", "tool"),
        file("write", "/home/dev/work/out/b/c", "openat", "tool"),
        file("write", "/home/dev/.cache/other/x", "openat", "tool"),
        file("write", "/opt/thing.lock", "openat", "tool"),
        file("write", "/tmp/tool-123/scratch", "openat", "tool"),
        file("write", "/usr/tmp/probe", "openat", "tool"),
        file("write", "/home/dev/project/build/app.o", "openat", "cc"),
        file("write", "/home/dev/project/dist", "mkdir", "cc"),
        file("write", "/proc/self/attr/current", "openat", "tool"),
        file("write", "/home/dev/.local", "mkdir", "tool"),
        file("write", "/home/dev/.new_history", "openat", "tool"),
        file(
            "write",
            "/home/dev/.claude.json.tmp.6.0812c05da8a6",
            "openat",
            "claude",
        ),
    ];
    let l = learn_with(EMPTY, &lines, Target::Linux, false);
    let writes: Vec<String> = l.proposals.iter().map(|p| p.entry.clone()).collect();
    assert_eq!(
        writes,
        [
            ".",
            "/opt/thing.lock",
            "~/.cache/other",
            "~/notes.txt",
            "~/work/out"
        ],
        "{l:#?}"
    );
    let dot = &l.proposals[0];
    assert!(dot.why.contains("2 writes `cc`"), "{}", dot.why);
    let opt = &l.proposals[1];
    assert!(
        opt.why
            .contains("outside the home directory and the project"),
        "{}",
        opt.why
    );
    assert_eq!(
        opt.missing_dir, None,
        "srt learn never creates a system directory"
    );
    assert!(
        l.advice.iter().any(|a| a.contains("TMPDIR=/tmp/claude")),
        "{:#?}",
        l.advice
    );
    assert!(l
        .not_proposed
        .iter()
        .any(|r| r.refusal.refusal.contains("/tmp/tool-123") && r.why.contains("$TMPDIR")));
    assert!(l
        .not_proposed
        .iter()
        .any(|r| r.refusal.refusal.contains("/proc/self") && r.why.contains("kernel")));
    assert!(l
        .not_proposed
        .iter()
        .any(|r| r.refusal.refusal == "write /home/dev/.local (mkdir)"
            && r.why.contains("no write root that wide")));
    // A missing file in a directory too wide to allow cannot be allowed alone; a temporary
    // file that replaces another by a rename cannot be either.
    let why = |p: &str| {
        l.not_proposed
            .iter()
            .find(|r| r.refusal.refusal.contains(p))
            .map(|r| r.why.clone())
            .unwrap_or_default()
    };
    assert!(why(".new_history").contains("does not exist"), "{l:#?}");
    assert!(
        why(".claude.json.tmp").contains("replacing .claude.json"),
        "{l:#?}"
    );
    assert!(
        why(".claude.json.tmp").contains("--no-session-persistence"),
        "{l:#?}"
    );
}

#[test]
fn known_places_are_named() {
    let lines = vec![
        file(
            "write",
            "/home/dev/.cargo/registry/index/x/.cache/se/rd/serde",
            "openat",
            "cargo",
        ),
        file(
            "write",
            "/home/dev/.cargo/registry/cache/x/serde-1.0.crate",
            "openat",
            "cargo",
        ),
        file(
            "write",
            "/home/dev/.claude/session-env/abc",
            "openat",
            "bash",
        ),
        file("write", "/home/dev/.cache/pip/http/1", "mkdir", "pip"),
        file(
            "write",
            "/home/dev/.cargo/.package-cache",
            "openat",
            "cargo",
        ),
        file(
            "write",
            "/home/dev/.cargo/.global-cache-journal",
            "openat",
            "cargo",
        ),
    ];
    let l = learn_with(EMPTY, &lines, Target::Linux, false);
    let named: Vec<(String, Option<String>)> = l
        .proposals
        .iter()
        .map(|p| (p.entry.clone(), p.known.clone()))
        .collect();
    assert_eq!(named.len(), 3, "{l:#?}");
    assert_eq!(named[0].0, "~/.cache/pip");
    assert_eq!(named[1].0, "~/.cargo/registry");
    assert_eq!(
        named[1].1.as_deref(),
        Some("Rust (cargo): the registry cache")
    );
    assert_eq!(named[2].0, "~/.claude/session-env");
    assert!(named[2].1.as_deref().unwrap().contains("Claude Code"));
    assert_eq!(l.proposals[1].refusals.len(), 2);
    // Cargo's lock and cache tracker sit directly in ~/.cargo, and Cargo works without them.
    assert_eq!(l.not_proposed.len(), 2, "{:#?}", l.not_proposed);
    assert!(l.not_proposed.iter().all(|r| r.why.contains("Cargo")));
    // ~/.cache/pip does not exist on this machine: --apply creates it.
    assert_eq!(
        l.proposals[0].missing_dir.as_deref(),
        Some(Path::new("/home/dev/.cache/pip"))
    );
}

#[test]
fn hidden_reads_re_allow_one_path_but_never_a_secret() {
    let text = EMPTY.replace(
        "\"denyRead\": []",
        "\"denyRead\": [\"~/.ssh\", \"./secrets\"]",
    );
    let lines = vec![
        file("read", "/home/dev/.ssh/id_rsa", "openat", "ssh"),
        file(
            "read",
            "/home/dev/project/secrets/config.json",
            "openat",
            "node",
        ),
    ];
    let l = learn_with(&text, &lines, Target::Linux, false);
    assert_eq!(
        entries(&l),
        [pair("filesystem.allowRead", "./secrets/config.json")],
        "{l:#?}"
    );
    assert!(
        l.not_proposed[0].why.contains("SSH keys"),
        "{:#?}",
        l.not_proposed
    );
}

#[test]
fn denied_hosts_guard_refusals_and_ignored_ones_are_not_proposed() {
    let text = EMPTY.replace(
        "\"deniedDomains\": []",
        "\"deniedDomains\": [\"evil.test\"]",
    );
    let mut ignored: serde_json::Value =
        serde_json::from_str(&net("quiet.test", 443, "not-allowed")).unwrap();
    ignored["ignored"] = true.into();
    let lines = vec![
        net("evil.test", 443, "denied"),
        net("local.test", 8080, "resolved-address"),
        ignored.to_string(),
    ];
    let l = learn_with(&text, &lines, Target::Linux, false);
    assert!(l.converged(), "{l:#?}");
    assert_eq!(l.ignored, 1);
    assert!(
        l.not_proposed[0].why.contains("network.deniedDomains[0]"),
        "{:#?}",
        l.not_proposed
    );
    assert!(
        l.not_proposed[1].why.contains("IP:PORT"),
        "{:#?}",
        l.not_proposed
    );
}

/// `--deny-rest`: what is not proposed is recorded, and the next round proposes nothing.
#[test]
fn deny_rest_records_the_rest_and_converges() {
    let lines = vec![
        net("pkg.alpha.test", 8001, "not-allowed"),
        net("169.254.169.254", 80, "not-allowed"),
        file("write", "/home/dev/.bashrc", "openat", "bash"),
    ];
    let l = learn_with(EMPTY, &lines, Target::Linux, true);
    assert_eq!(
        entries(&l),
        [
            pair("network.allowedDomains", "pkg.alpha.test:8001"),
            pair("network.deniedDomains", "169.254.169.254"),
            pair("ignoreViolations../fetch.sh", "/home/dev/.bashrc"),
        ],
        "{l:#?}"
    );
    assert_eq!(
        l.not_proposed
            .iter()
            .map(|r| r.recorded_in.clone().unwrap())
            .collect::<Vec<_>>(),
        ["network.deniedDomains", "ignoreViolations../fetch.sh"]
    );
    // The next run: the metadata host is denied by the file, the rc file's refusal is
    // silenced by ignoreViolations (srt run marks it ignored).
    let mut silenced: serde_json::Value =
        serde_json::from_str(&file("write", "/home/dev/.bashrc", "openat", "bash")).unwrap();
    silenced["ignored"] = true.into();
    let next = vec![
        net("pkg.alpha.test", 8001, "not-allowed"),
        net("169.254.169.254", 80, "denied"),
        silenced.to_string(),
    ];
    let again = learn_with(&l.content, &next, Target::Linux, true);
    assert!(again.converged(), "{again:#?}");
}

#[test]
fn a_file_without_objects_gets_them_whole() {
    let l = learn_with(
        "{}",
        &[net("a.test", 443, "not-allowed")],
        Target::Linux,
        false,
    );
    assert_eq!(
        l.content,
        "{\"network\": {\"allowedDomains\": [\"a.test\"], \"deniedDomains\": []}}"
    );
}

/// The human report: the diff, each added line's why, what is not proposed and the advice.
#[test]
fn human_report() {
    let lines = vec![
        net("pkg.alpha.test", 8001, "not-allowed"),
        net("pkg.alpha.test", 8001, "not-allowed"),
        net("github.com", 443, "not-allowed"),
        file(
            "write",
            "/home/dev/.cache/fetcher/index.json",
            "openat",
            "python3",
        ),
        file(
            "write",
            "/home/dev/.cargo/registry/cache/x/serde-1.0.crate",
            "openat",
            "cargo",
        ),
        file("write", "/home/dev/.bashrc", "openat", "bash"),
        file("write", "/tmp/tool-123/scratch", "openat", "tool"),
        serde_json::json!({"kind": "unix-socket", "path": "/var/run/docker.sock",
            "command": "docker", "ignored": false})
        .to_string(),
    ];
    let l = learn_with(EMPTY, &lines, Target::Linux, false);
    insta::assert_snapshot!(render::human(&l, ".srt.json", EMPTY));
}

/// A TMPDIR moved by CLAUDE_CODE_TMPDIR is not writable by default: writes there propose it,
/// named; `/tmp/claude` (the default) is, so writes elsewhere under /tmp get the advice.
#[test]
fn a_moved_tmpdir_is_proposed_by_name() {
    let lines = vec![
        file("write", "/home/dev/tmp/abc123", "openat", "pip"),
        file("write", "/var/tmp/def456", "openat", "pip"),
    ];
    let l = learn_in(EMPTY, &lines, Target::Linux, false, "/home/dev/tmp");
    assert!(
        l.advice[0].contains("because $TMPDIR (/home/dev/tmp) does not exist"),
        "{:#?}",
        l.advice
    );
    assert_eq!(
        entries(&l),
        [pair("filesystem.allowWrite", "~/tmp")],
        "{l:#?}"
    );
    assert!(l.proposals[0]
        .known
        .as_deref()
        .unwrap()
        .starts_with("$TMPDIR"));
    assert_eq!(
        l.proposals[0].missing_dir.as_deref(),
        Some(Path::new("/home/dev/tmp"))
    );
}
