//! Golden Linux plans: every good fixture and every fixture under `policies/linux`, planned
//! against one fake host (a project with globs to match, mandatory-deny names at several
//! depths, symlinks and missing paths), rendered as `srt compile --target linux` text.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use srt_compiler::backend::linux::seccomp::Arch;
use srt_compiler::backend::linux::{plan, HostFacts, LinuxOptions};
use srt_compiler::{resolve, FakeFs, Origin, ResolveOptions};

/// The built-in origins `book/src/compile/linux.md` documents.
const BUILT_INS: &[&str] = &[
    "read-only-root",
    "private-dev",
    "private-proc",
    "default-write-path",
    "mandatory-deny",
    "settings-file",
    "filesystem-disabled",
    "isolation",
    "network-restricted",
    "cwd",
    "proxy-sockets",
    "init",
    "srt-state",
    "link-pins",
    "git-files",
];

fn fixtures(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("policies")
        .join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

fn host() -> FakeFs {
    let p = "/home/dev/project";
    let mut fs = FakeFs::new()
        .dir("/dev")
        .dir("/proc")
        .dir("/sys")
        .dir("/tmp")
        .file("/etc/passwd")
        .file("/etc/ssl/certs/ca.pem")
        .file("/usr/bin/env")
        .file("/srv/secret/token")
        .dir("/srv/out")
        .file("/home/dev/.ssh/id_rsa")
        .file("/home/dev/.ssh/known_hosts")
        .dir("/home/dev/.aws")
        .file("/home/dev/.cargo/registry/index/.gitconfig")
        .file("/home/dev/.cargo/registry/cache/a/b/c/.bashrc")
        .dir("/home/dev/.npm/_logs")
        .link(format!("{p}/linked-secret"), "/srv/secret")
        .link(format!("{p}/linked-out"), "/srv/out");
    for f in [
        ".srt.json",
        "src/a.ts",
        "src/deep/b.ts",
        "src/main.rs",
        "config/app.json",
        "Cargo.lock",
        "yarn.lock",
        ".env",
        ".bashrc",
        ".git/HEAD",
        ".git/config",
        "sub/.vscode/settings.json",
        "sub/pkg/.bashrc",
        "sub/pkg/deeper/still/.zshrc",
        "node_modules/x/.bashrc",
        "key.pem",
        "certs/server.key",
        "vendor/lib/.git/HEAD",
    ] {
        fs = fs.file(format!("{p}/{f}"));
    }
    fs.dir(format!("{p}/.git/hooks"))
        .dir(format!("{p}/out"))
        .dir(format!("{p}/generated"))
}

#[test]
fn linux_plans() {
    let fs = host();
    let mut files = fixtures("good");
    files.extend(fixtures("linux"));
    assert!(files.len() >= 12);
    let mut opts = LinuxOptions::new("/usr/local/bin/srt".into(), "/tmp/srt-XXXXXXXX".into());
    opts.arch = Arch::X86_64;
    for file in files {
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        let loaded = srt_schema::load_bytes(".srt.json", None, &std::fs::read(&file).unwrap());
        assert!(!loaded.has_errors(), "{stem}: {:#?}", loaded.diagnostics);
        let ropts = ResolveOptions {
            cwd: "/home/dev/project".into(),
            home: "/home/dev".into(),
            settings_path: Some("/home/dev/project/.srt.json".into()),
        };
        let (ir, mut notes) = resolve(&loaded.settings, Some(loaded.source.clone()), &ropts, &fs);
        let facts = HostFacts::gather(&ir, &fs);
        let mut plan = plan(&ir, &facts, &opts);
        notes.append(&mut plan.notes);
        plan.notes = notes;
        // Every argument traces to a settings entry or a named, documented built-in.
        for a in &plan.args {
            match &a.origin {
                Origin::Policy { .. } => {}
                Origin::BuiltIn(name) => {
                    assert!(BUILT_INS.contains(&name.name()), "{stem}: {name}")
                }
            }
        }
        insta::assert_snapshot!(format!("linux-{stem}"), plan.render_text(&ir));
    }
}
