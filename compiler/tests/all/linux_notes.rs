//! Every code in `NOTE_CODES` can fire, in the situation its documentation (`srt explain
//! CODE`, `book/src/lints/CODE.md`, declared in `lints/src/codes/linux_*.rs`) describes.
//! The bad cases are those pages' examples; the good ones their remedies where a change to
//! the settings silences the note, else the same settings without the entry at fault.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::{options, CWD, HOME};
use srt_compiler::backend::linux::{plan, HostFacts, NOTE_CODES};
use srt_compiler::{resolve, DirEntry, FakeFs, FileKind, FsView, ResolveOptions};
use srt_schema::Diagnostic;

/// A host with a project, a symlink leaving it, globs' worth of files and `/tmp/claude`.
fn host() -> FakeFs {
    FakeFs::new()
        .dir(format!("{CWD}/src"))
        .dir(format!("{CWD}/out-1"))
        .dir(format!("{CWD}/logs"))
        .file(format!("{CWD}/app.log"))
        .link(format!("{CWD}/data"), "/srv/data")
        .dir("/srv/data")
        .dir("/srv/app")
        .file(format!("{HOME}/secrets/a.pem"))
        .dir(format!("{HOME}/keys"))
        .dir("/tmp/claude")
        .dir("/usr/bin")
        .file("/var/run/docker.sock")
}

/// A directory srt may not list (permissions), as `RealFs` reports it.
struct Unlistable {
    inner: FakeFs,
    dir: PathBuf,
}

impl FsView for Unlistable {
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
        (d != self.dir).then(|| self.inner.list(d)).flatten()
    }
}

/// The notes of the plan for `json` on `fs`, resolution notes included.
fn notes(json: &str, fs: &dyn FsView) -> Vec<Diagnostic> {
    let loaded = srt_schema::load_str(".srt.json", None, json);
    assert!(!loaded.has_errors(), "{json}: {:#?}", loaded.diagnostics);
    let opts = ResolveOptions {
        cwd: CWD.into(),
        home: HOME.into(),
        settings_path: Some(format!("{CWD}/.srt.json").into()),
    };
    let (ir, mut notes) = resolve(&loaded.settings, Some(loaded.source.clone()), &opts, fs);
    let facts = HostFacts::gather(&ir, fs);
    notes.extend(plan(&ir, &facts, &options()).notes);
    notes
}

struct Case {
    code: &'static str,
    bad: &'static str,
    good: &'static str,
    /// The note points at the entry it is about.
    labelled: bool,
}

const CASES: &[Case] = &[
    Case {
        code: "kernel-fs-path",
        bad: r#"{"filesystem":{"allowWrite":["/dev/shm"]}}"#,
        good: r#"{"filesystem":{"allowWrite":[]}}"#,
        labelled: true,
    },
    Case {
        code: "symlink-allow-skipped",
        bad: r#"{"filesystem":{"allowWrite":["./data"]}}"#,
        good: r#"{"filesystem":{"allowWrite":["/srv/data"]}}"#,
        labelled: true,
    },
    Case {
        code: "symlink-deny-target",
        bad: r#"{"filesystem":{"denyRead":["./data"]}}"#,
        good: r#"{"filesystem":{"denyRead":["/srv/data"]}}"#,
        labelled: true,
    },
    Case {
        code: "write-path-missing",
        bad: r#"{"filesystem":{"allowWrite":["./build"]}}"#,
        good: r#"{"filesystem":{"allowWrite":["./logs"]}}"#,
        labelled: true,
    },
    Case {
        code: "glob-no-base",
        bad: r#"{"filesystem":{"denyRead":["/**/*.key"]}}"#,
        good: r#"{"filesystem":{"denyRead":["~/keys/**/*.key"]}}"#,
        labelled: true,
    },
    Case {
        code: "glob-matches-nothing",
        bad: r#"{"filesystem":{"denyRead":["~/keys/*.pem"]}}"#,
        good: r#"{"filesystem":{"denyRead":["~/keys"]}}"#,
        labelled: true,
    },
    Case {
        code: "deny-glob-existing-only",
        bad: r#"{"filesystem":{"denyRead":["~/secrets/*.pem"]}}"#,
        good: r#"{"filesystem":{"denyRead":["~/secrets"]}}"#,
        labelled: true,
    },
    Case {
        code: "allow-glob-existing-only",
        bad: r#"{"filesystem":{"allowWrite":["./*.log"]}}"#,
        good: r#"{"filesystem":{"allowWrite":["./logs"]}}"#,
        labelled: true,
    },
    Case {
        code: "allow-glob-directory",
        bad: r#"{"filesystem":{"allowWrite":["./out-*"]}}"#,
        good: r#"{"filesystem":{"allowWrite":["./out-1"]}}"#,
        labelled: true,
    },
    Case {
        code: "mandatory-deny-not-stubbed",
        bad: r#"{"filesystem":{"allowWrite":["/srv/app"]}}"#,
        good: r#"{"filesystem":{"allowWrite":["."]}}"#,
        labelled: false,
    },
    Case {
        code: "mandatory-deny-depth",
        bad: r#"{"filesystem":{"allowWrite":["."]}}"#,
        good: r#"{"filesystem":{"allowWrite":[]}}"#,
        labelled: false,
    },
    Case {
        code: "deny-read-root",
        bad: r#"{"filesystem":{"denyRead":["/"],"allowRead":["/usr","/etc","."]}}"#,
        good: r#"{"filesystem":{"denyRead":["~"],"allowRead":["~/project"]}}"#,
        labelled: true,
    },
    Case {
        code: "cwd-hidden",
        bad: r#"{"filesystem":{"denyRead":["~"]}}"#,
        good: r#"{"filesystem":{"denyRead":["~"],"allowRead":["."]}}"#,
        labelled: false,
    },
    Case {
        code: "unix-socket-paths-linux",
        bad: r#"{"network":{"allowUnixSockets":["/var/run/docker.sock"]}}"#,
        good: r#"{"network":{"allowAllUnixSockets":true}}"#,
        labelled: true,
    },
    Case {
        code: "deny-read-file-replaceable",
        bad: r#"{"filesystem":{"denyRead":["./app.log"],"allowWrite":["."]}}"#,
        good: r#"{"filesystem":{"denyRead":["./app.log"],"allowWrite":["./logs"]}}"#,
        labelled: true,
    },
    Case {
        code: "tmpdir-not-writable",
        bad: r#"{"filesystem":{"denyWrite":["/tmp"]}}"#,
        good: r#"{"filesystem":{"denyWrite":["/tmp/cache"]}}"#,
        labelled: false,
    },
];

#[test]
fn every_note_fires_where_its_page_says_and_its_remedy_silences_it() {
    let fs = host();
    let mut fired = BTreeSet::new();
    for case in CASES {
        let bad = notes(case.bad, &fs);
        let note = bad
            .iter()
            .find(|n| n.code == case.code)
            .unwrap_or_else(|| panic!("{}: {} gave {bad:#?}", case.code, case.bad));
        assert_eq!(
            note.primary_span().is_some(),
            case.labelled,
            "{}: {note:?}",
            case.code
        );
        let good = notes(case.good, &fs);
        assert!(
            !good.iter().any(|n| n.code == case.code),
            "{}: {} still gives it",
            case.code,
            case.good
        );
        fired.insert(case.code);
    }

    // Host states rather than settings.
    let json = r#"{"filesystem":{"allowWrite":["."]}}"#;
    let no_tmpdir = FakeFs::new().dir(format!("{CWD}/src"));
    assert!(notes(json, &no_tmpdir)
        .iter()
        .any(|n| n.code == "tmpdir-missing"));
    assert!(!notes(json, &fs).iter().any(|n| n.code == "tmpdir-missing"));
    fired.insert("tmpdir-missing");

    // A denied file with other names: a read deny, and a write deny inside a write root.
    for (json, file) in [
        (
            r#"{"filesystem":{"denyRead":["~/secrets/a.pem"]}}"#,
            format!("{HOME}/secrets/a.pem"),
        ),
        (
            r#"{"filesystem":{"allowWrite":["."],"denyWrite":["app.log"]}}"#,
            format!("{CWD}/app.log"),
        ),
    ] {
        let linked = host().link_count(&file, 3);
        let found = notes(json, &linked);
        let n = found
            .iter()
            .find(|n| n.code == "deny-hard-linked")
            .unwrap_or_else(|| panic!("{json}: {found:#?}"));
        assert!(
            n.message.contains(&file) && n.message.contains("3 hard links"),
            "{n:?}"
        );
        assert!(n.primary_span().is_some(), "{n:?}");
        assert!(!notes(json, &fs)
            .iter()
            .any(|n| n.code == "deny-hard-linked"));
    }
    // Outside the write roots everything is read-only by default: no rule, no note (the
    // allowRead entry only makes srt look at the file).
    let json_ro = r#"{"filesystem":{"allowWrite":["."],"allowRead":["/srv/app/bin"]}}"#;
    let linked = host().file("/srv/app/bin").link_count("/srv/app/bin", 2);
    assert!(!notes(json_ro, &linked)
        .iter()
        .any(|n| n.code == "deny-hard-linked"));
    fired.insert("deny-hard-linked");

    let vault = PathBuf::from(format!("{CWD}/vault"));
    let locked = Unlistable {
        inner: host().dir(&vault),
        dir: vault,
    };
    let walk = notes(json, &locked);
    let n = walk.iter().find(|n| n.code == "walk-incomplete").unwrap();
    assert!(n.message.contains("/home/dev/project/vault"), "{n:?}");
    assert!(!notes(json, &locked.inner)
        .iter()
        .any(|n| n.code == "walk-incomplete"));
    fired.insert("walk-incomplete");

    // A dangling link where a protected name goes, in a directory the command may write, to a
    // target the command could create.
    let dangling = host().link(format!("{CWD}/.zshrc"), format!("{CWD}/zshrc-target"));
    let refused = notes(json, &dangling);
    let n = refused
        .iter()
        .find(|n| n.code == "dangling-symlink")
        .unwrap();
    assert_eq!(n.severity, srt_schema::Severity::Error);
    assert!(n.message.contains("/home/dev/project/.zshrc"), "{n:?}");
    assert!(n
        .help
        .as_deref()
        .unwrap_or("")
        .contains("rm /home/dev/project/.zshrc"));
    let read_only = r#"{"filesystem":{"allowWrite":[]}}"#;
    assert!(!notes(read_only, &dangling)
        .iter()
        .any(|n| n.code == "dangling-symlink"));

    // A working directory under the private /dev or /proc: refused, with a way out.
    let loaded = srt_schema::load_str(".srt.json", None, json);
    for (cwd, refused) in [
        ("/dev/shm/project", true),
        ("/proc/self/cwd", true),
        ("/dev", false),
        ("/home/dev/devices", false),
    ] {
        let opts = ResolveOptions {
            cwd: cwd.into(),
            home: HOME.into(),
            settings_path: None,
        };
        let (ir, _) = resolve(&loaded.settings, None, &opts, &fs);
        let plan = plan(&ir, &HostFacts::gather(&ir, &fs), &options());
        let n = plan.refusals().find(|n| n.code == "cwd-in-kernel-fs");
        assert_eq!(n.is_some(), refused, "{cwd}: {:#?}", plan.notes);
        if let Some(n) = n {
            assert!(n.message.contains(cwd), "{n:?}");
            assert!(n.help.as_deref().unwrap_or("").contains("outside"), "{n:?}");
        }
    }

    assert_eq!(
        srt_compiler::backend::linux::REFUSAL_CODES,
        ["dangling-symlink", "cwd-in-kernel-fs"]
    );

    let all: BTreeSet<&str> = NOTE_CODES.iter().copied().collect();
    assert_eq!(fired, all, "a code has no case here");
}
