//! The comparison table: for the three configs whose profiles the npm srt generated
//! (`reference/peer-sbpl/`, cwd `/Users/dev/project`, HOME `/Users/dev`), a list of requests
//! with the npm srt's outcome and srt's. Where they differ, the row names the deliberate
//! difference, and `book/src/compile/macos.md` documents it under that name.

use srt_compiler::{resolve, FakeFs, Ir, ResolveOptions};

use crate::sbpl::{Kind, Request};

pub const CWD: &str = "/Users/dev/project";
pub const HOME: &str = "/Users/dev";
/// Where the table puts the settings file in use, so its write-deny shows.
pub const SETTINGS: &str = "/Users/dev/project/.srt.json";

/// The reference configs and the profiles the npm srt 0.0.83 generated for them (see
/// `reference/peer-sbpl/README.md`). The table's rows are about `s1`–`s3`; every config is
/// also compared request by request over [`probes`].
pub const REFERENCE: [(&str, &str, &str); 7] = [
    (
        "s1",
        include_str!("../reference/peer-sbpl/s1.json"),
        include_str!("../reference/peer-sbpl/s1.sb"),
    ),
    (
        "s2",
        include_str!("../reference/peer-sbpl/s2.json"),
        include_str!("../reference/peer-sbpl/s2.sb"),
    ),
    (
        "s3",
        include_str!("../reference/peer-sbpl/s3.json"),
        include_str!("../reference/peer-sbpl/s3.sb"),
    ),
    (
        "s4",
        include_str!("../reference/peer-sbpl/s4.json"),
        include_str!("../reference/peer-sbpl/s4.sb"),
    ),
    (
        "s5",
        include_str!("../reference/peer-sbpl/s5.json"),
        include_str!("../reference/peer-sbpl/s5.sb"),
    ),
    (
        "s6",
        include_str!("../reference/peer-sbpl/s6.json"),
        include_str!("../reference/peer-sbpl/s6.sb"),
    ),
    (
        "s7",
        include_str!("../reference/peer-sbpl/s7.json"),
        include_str!("../reference/peer-sbpl/s7.sb"),
    ),
];

/// The deliberate differences, by the heading the book gives each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Difference {
    /// A path that cannot be read cannot be written, created or moved either.
    ReadDeniedNotWritable,
    /// The mandatory denies apply under every write root, not only under the cwd.
    MandatoryDeniesAtEveryWriteRoot,
    /// A mandatory directory name is denied itself, not only what is inside it.
    MandatoryDirectoryItself,
    /// The settings file in use is not writable.
    SettingsFileNotWritable,
    /// Among the read rules that match, the most specific decides, wherever it sits.
    MostSpecificReadRuleWins,
    /// Claude Code's `.claude/settings.json` and `settings.local.json` are protected names.
    ClaudeSettingsNotWritable,
}

impl Difference {
    /// The heading in `book/src/compile/macos.md`.
    pub fn heading(self) -> &'static str {
        match self {
            Difference::ReadDeniedNotWritable => "### What cannot be read cannot be written",
            Difference::MandatoryDeniesAtEveryWriteRoot => {
                "### Mandatory denies under every write root"
            }
            Difference::MandatoryDirectoryItself => "### A mandatory directory is denied itself",
            Difference::SettingsFileNotWritable => "### The settings file is not writable",
            Difference::MostSpecificReadRuleWins => "### The most specific read rule wins",
            Difference::ClaudeSettingsNotWritable => "### Claude Code's settings are not writable",
        }
    }

    /// The short name used in the reviewed disagreement lists.
    pub fn name(self) -> &'static str {
        match self {
            Difference::ReadDeniedNotWritable => "read-denied-not-writable",
            Difference::MandatoryDeniesAtEveryWriteRoot => "mandatory-denies-at-every-write-root",
            Difference::MandatoryDirectoryItself => "mandatory-directory-itself",
            Difference::SettingsFileNotWritable => "settings-file-not-writable",
            Difference::MostSpecificReadRuleWins => "most-specific-read-rule-wins",
            Difference::ClaudeSettingsNotWritable => "claude-settings-not-writable",
        }
    }
}

/// One row: a request against one reference config.
#[derive(Clone, Debug)]
pub struct Row {
    /// `s1`, `s2` or `s3`.
    pub config: &'static str,
    pub request: Request,
    /// The npm srt's profile allows it.
    pub reference: bool,
    /// srt's profile allows it.
    pub srt: bool,
    pub difference: Option<Difference>,
}

/// The proxy port a reference profile names (random per npm srt run).
pub fn proxy_port(sb: &str) -> u16 {
    let start =
        sb.find("(local ip \"localhost:").expect("a proxy rule") + "(local ip \"localhost:".len();
    sb[start..]
        .split('"')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a port")
}

/// The IR of a reference config (no real filesystem), with the settings file at [`SETTINGS`]
/// when `settings` is set.
pub fn reference_ir(json: &str, settings: bool) -> Ir {
    let loaded = srt_schema::load_str("settings.json", None, json);
    assert!(!loaded.has_errors(), "{:#?}", loaded.diagnostics);
    let opts = ResolveOptions {
        cwd: CWD.into(),
        home: HOME.into(),
        settings_path: settings.then(|| SETTINGS.into()),
    };
    let (ir, notes) = resolve(
        &loaded.settings,
        Some(loaded.source.clone()),
        &opts,
        &FakeFs::new(),
    );
    assert!(notes.is_empty(), "{notes:#?}");
    ir
}

const PROXY: u16 = 0;

fn file(op: &str, path: &str) -> Request {
    let kind = if path.starts_with("/dev/") {
        Kind::CharDevice
    } else if path.ends_with('/') {
        Kind::Dir
    } else {
        Kind::File
    };
    Request::file(op, path.trim_end_matches('/'), kind)
}

/// The rows. A path ending in `/` is a directory; port 0 is the config's proxy port.
pub fn rows(proxy_ports: &dyn Fn(&str) -> u16) -> Vec<Row> {
    use Difference::*;
    let mut rows = Vec::new();
    let mut add = |config: &'static str, request: Request, reference: bool, srt: bool, d| {
        rows.push(Row {
            config,
            request,
            reference,
            srt,
            difference: d,
        })
    };
    let port = |config: &str, p: u16| if p == PROXY { proxy_ports(config) } else { p };
    let (r, w, u, c) = (
        "file-read-data",
        "file-write-data",
        "file-write-unlink",
        "file-write-create",
    );

    // Files, all three configs: defaults, mandatory denies, the move-blocking of their
    // directories.
    for cfg in ["s1", "s2", "s3"] {
        let writable_cwd = cfg != "s1";
        for (op, path, both) in [
            (r, "/etc/passwd", true),
            (r, "/Users/dev/project/src/main.rs", true),
            (w, "/Users/dev/project/src/main.rs", writable_cwd),
            (c, "/Users/dev/project/new.txt", writable_cwd),
            (u, "/Users/dev/project/src/main.rs", writable_cwd),
            (w, "/Users/dev/notes.txt", false),
            (w, "/etc/hosts", false),
            (w, "/tmp/claude/x", true),
            (w, "/private/tmp/claude/x", true),
            (u, "/tmp/claude/x", true),
            (w, "/Users/dev/.npm/_logs/x.log", true),
            (w, "/Users/dev/.claude/debug/x", true),
            (w, "/dev/null", true),
            (w, "/dev/stdout", true),
            (w, "/Users/dev/project/.bashrc", false),
            (w, "/Users/dev/project/sub/deep/.zshrc", false),
            (w, "/Users/dev/project/.gitconfig", false),
            (w, "/Users/dev/project/.mcp.json", false),
            (w, "/Users/dev/project/.vscode/settings.json", false),
            (w, "/Users/dev/project/a/.idea/workspace.xml", false),
            (w, "/Users/dev/project/.claude/commands/x.md", false),
            (w, "/Users/dev/project/.claude/agents/x.md", false),
            (w, "/Users/dev/project/.git/hooks/pre-commit", false),
            (w, "/Users/dev/project/.git/config", false),
            (w, "/Users/dev/project/.git/HEAD", writable_cwd),
            (w, "/Users/dev/project/sub/.git/config", false),
            (c, "/Users/dev/project/.bashrc", false),
            (u, "/Users/dev/project/.git/", false),
            (u, "/Users/dev/project/.claude/", false),
            (u, "/Users/dev/project/", false),
            (u, "/Users/dev/", false),
            (u, "/Users/", false),
        ] {
            add(cfg, file(op, path), both, both, None);
        }
        for name in ["settings.json", "settings.local.json"] {
            let path = format!("/Users/dev/project/.claude/{name}");
            let d = writable_cwd.then_some(ClaudeSettingsNotWritable);
            add(cfg, file(w, &path), writable_cwd, false, d);
        }
        // A nested `.vscode` directory: the npm srt denies what is inside it, srt the
        // directory too.
        add(
            cfg,
            file(c, "/Users/dev/project/sub/.vscode/"),
            writable_cwd,
            false,
            writable_cwd.then_some(MandatoryDirectoryItself),
        );
        add(
            cfg,
            file(w, "/Users/dev/project/.srt.json"),
            writable_cwd,
            false,
            writable_cwd.then_some(SettingsFileNotWritable),
        );
    }

    // s2: denyRead ~/.ssh, /etc/shadow, **/*.pem; allowRead ~/.ssh/known_hosts;
    // allowWrite ., /tmp/out, src/**/*.ts; denyWrite .env, secrets/**, config/*.json.
    for (op, path, both) in [
        (r, "/Users/dev/.ssh/id_rsa", false),
        (r, "/Users/dev/.ssh/", false),
        (r, "/Users/dev/.ssh/known_hosts", true),
        (r, "/Users/dev/.ssh/config", false),
        (r, "/Users/dev/.sshx/config", true),
        (w, "/Users/dev/project/secrets2/x", true),
        (u, "/Users/dev/project/src/", true),
        (w, "/Users/dev/.ssh/known_hosts", false),
        (r, "/etc/shadow", false),
        (r, "/etc/shadow-", true),
        (r, "/Users/dev/project/key.pem", false),
        (r, "/Users/dev/project/a/b/key.pem", false),
        (r, "/Users/dev/project/x.pem/inner", false),
        (r, "/Users/dev/project/key.pemx", true),
        (r, "/Users/dev/elsewhere/key.pem", true),
        (u, "/Users/dev/project/key.pem", false),
        (u, "/Users/dev/.ssh/", false),
        (u, "/Users/dev/.ssh/id_rsa", false),
        (c, "/Users/dev/.ssh/new", false),
        (u, "/etc/", false),
        (u, "/etc/shadow", false),
        (w, "/Users/dev/project/.env", false),
        (u, "/Users/dev/project/.env", false),
        (w, "/Users/dev/project/.env.local", true),
        (w, "/Users/dev/project/secrets/token", false),
        (u, "/Users/dev/project/secrets/", false),
        (w, "/Users/dev/project/config/app.json", false),
        (w, "/Users/dev/project/config/sub/app.json", true),
        (w, "/Users/dev/project/config/app.yaml", true),
        (u, "/Users/dev/project/config/", false),
        (w, "/Users/dev/project/src/lib/x.ts", true),
        (w, "/tmp/out/report.txt", true),
        (u, "/tmp/out/report.txt", true),
        (w, "/tmp/outside.txt", false),
    ] {
        add("s2", file(op, path), both, both, None);
    }
    add(
        "s2",
        file("file-read-metadata", "/Users/dev/.ssh/"),
        true,
        true,
        None,
    );
    for (op, path) in [
        (w, "/Users/dev/project/key.pem"),
        (w, "/Users/dev/project/a/b/key.pem"),
        (c, "/Users/dev/project/new.pem"),
    ] {
        add(
            "s2",
            file(op, path),
            true,
            false,
            Some(ReadDeniedNotWritable),
        );
    }
    for path in ["/tmp/out/.bashrc", "/tmp/out/.git/hooks/post-checkout"] {
        add(
            "s2",
            file(w, path),
            true,
            false,
            Some(MandatoryDeniesAtEveryWriteRoot),
        );
    }

    // s3: allowUnixSockets, allowLocalBinding, allowPty, allowWrite ".".
    // s1 and s2 have none of these.
    for cfg in ["s1", "s2", "s3"] {
        let s3 = cfg == "s3";
        let net = [
            (Request::connect("localhost", port(cfg, PROXY)), true),
            (Request::connect("127.0.0.1", port(cfg, PROXY)), true),
            (Request::connect("localhost", 8080), s3),
            (Request::connect("93.184.216.34", 443), false),
            (Request::connect("93.184.216.34", port(cfg, PROXY)), false),
            (Request::local_ip("network-bind", "localhost", 8080), s3),
            (Request::local_ip("network-bind", "0.0.0.0", 8080), s3),
            (Request::local_ip("network-inbound", "0.0.0.0", 8080), s3),
            (Request::socket("AF_UNIX"), s3),
            (Request::socket("AF_INET"), false),
            (Request::unix_connect("/var/run/docker.sock"), s3),
            (Request::unix_connect("/tmp/agent.sock"), s3),
            (Request::unix_bind("/tmp/agent.sock"), s3),
            (Request::unix_connect("/tmp/other.sock"), false),
            (Request::bare("pseudo-tty"), s3),
            (file(r, "/dev/ttys003"), true),
            (file(w, "/dev/ttys003"), s3),
            (file("file-ioctl", "/dev/ptmx"), s3),
            (file("file-ioctl", "/dev/null"), true),
            (file("file-ioctl", "/dev/disk0"), false),
            (
                Request::named("mach-lookup", "com.apple.trustd.agent"),
                false,
            ),
            (Request::named("mach-lookup", "com.apple.logd"), true),
            (
                Request::named("mach-lookup", "com.apple.coreservices.appleevents"),
                false,
            ),
            (Request::named("sysctl-read", "hw.ncpu"), true),
            (Request::named("sysctl-write", "hw.ncpu"), false),
            (Request::bare("appleevent-send"), false),
            (Request::bare("lsopen"), false),
            (Request::bare("process-exec"), true),
        ];
        for (request, both) in net {
            add(cfg, request, both, both, None);
        }
    }
    rows
}

/// A concrete path shaped like a rule's pattern: each glob token replaced by something it
/// matches.
fn sample(pattern: &str) -> String {
    pattern
        .replace("**/", "a/")
        .replace("**", "a/b")
        .replace('*', "x")
        .replace('?', "q")
        .split('[')
        .enumerate()
        .map(|(i, part)| match (i, part.split_once(']')) {
            (0, _) | (_, None) => part.to_string(),
            (_, Some((set, rest))) => format!("{}{rest}", set.chars().next().unwrap_or('s')),
        })
        .collect()
}

/// Requests to compare two profiles of one config by: reading, writing, unlinking and
/// creating at, inside and next to every path the config names, plus a few fixed ones.
pub fn probes(ir: &Ir) -> Vec<Request> {
    let fs = &ir.fs;
    let mut bases: Vec<String> = fs
        .deny_read
        .iter()
        .chain(&fs.allow_read)
        .chain(&fs.allow_write)
        .chain(&fs.deny_write)
        .map(|r| sample(&r.pattern.display()))
        .collect();
    bases.extend(
        fs.mandatory_deny_roots
            .iter()
            .map(|r| r.display().to_string()),
    );
    bases.extend(
        [
            "/",
            "/etc/passwd",
            "/Users",
            "/Users/dev/x",
            "/tmp/claude/x",
            CWD,
        ]
        .map(String::from),
    );
    let mut paths = std::collections::BTreeSet::new();
    for b in bases {
        let b = b.trim_end_matches('/').to_string();
        let b = if b.is_empty() { "/".to_string() } else { b };
        let join = |s: &str| format!("{}/{s}", b.trim_end_matches('/'));
        for p in [
            b.clone(),
            join("f"),
            join(".env"),
            join("k.pem"),
            join(".bashrc"),
            join(".git/hooks/h"),
            join("sub/.vscode/s.json"),
            join("public/f"),
        ] {
            paths.insert(p);
        }
        if let Some(parent) = std::path::Path::new(&b).parent() {
            paths.insert(parent.display().to_string());
        }
    }
    let mut out = Vec::new();
    for p in paths {
        for op in [
            "file-read-data",
            "file-write-data",
            "file-write-unlink",
            "file-write-create",
        ] {
            out.push(Request::file(op, &p, Kind::File));
        }
    }
    out
}

/// Which documented difference explains a request that the npm srt's profile decides as
/// `npm` and srt's the other way, if any. Used on generated probes, where no one wrote the
/// answer down: an unexplained disagreement fails the test.
pub fn classify(ir: &Ir, req: &Request, npm: bool) -> Option<Difference> {
    use std::path::Path;
    let (path, _) = req.path.as_ref()?;
    let path = Path::new(path);
    let writing = matches!(
        req.op.as_str(),
        "file-write-data" | "file-write-unlink" | "file-write-create"
    );
    let read = ir.decide_path(path, srt_compiler::Access::Read);
    if writing && npm && !read.allowed {
        return Some(Difference::ReadDeniedNotWritable);
    }
    let extra_root = ir
        .fs
        .mandatory_deny_roots
        .iter()
        .find(|r| **r != ir.cwd && path.starts_with(r));
    if writing && npm && extra_root.is_some() {
        return Some(Difference::MandatoryDeniesAtEveryWriteRoot);
    }
    let under_a_deny = ir.fs.deny_read.iter().any(|d| d.pattern.covers(path, true));
    if !npm && read.allowed && under_a_deny && read.rule.is_some() {
        return Some(Difference::MostSpecificReadRuleWins);
    }
    if writing && npm && ir.settings_path.as_deref() == Some(path) {
        return Some(Difference::SettingsFileNotWritable);
    }
    let claude_settings = [".claude/settings.json", ".claude/settings.local.json"]
        .iter()
        .any(|n| path.ends_with(n));
    if writing && npm && claude_settings {
        return Some(Difference::ClaudeSettingsNotWritable);
    }
    None
}
