//! Helpers shared by the Linux plan tests: build a plan from JSON and a fake filesystem, and
//! simulate what the mounts let a command do.

// Most tests that use these run on Linux only.
#![cfg_attr(not(target_os = "linux"), allow(dead_code))]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use std::path::{Path, PathBuf};

use srt_compiler::backend::linux::seccomp::Arch;
use srt_compiler::backend::linux::{plan, HostFacts, LinuxOptions, LinuxPlan};
use srt_compiler::{resolve, Access, FakeFs, Ir, ResolveOptions};

pub const CWD: &str = "/home/dev/project";
pub const HOME: &str = "/home/dev";

pub fn ir_with(json: &str, fs: &FakeFs) -> Ir {
    let loaded = srt_schema::load_str(".srt.json", None, json);
    assert!(!loaded.has_errors(), "{:#?}", loaded.diagnostics);
    let opts = ResolveOptions {
        cwd: CWD.into(),
        home: HOME.into(),
        settings_path: Some(format!("{CWD}/.srt.json").into()),
    };
    resolve(&loaded.settings, Some(loaded.source.clone()), &opts, fs).0
}

pub fn options() -> LinuxOptions {
    let mut o = LinuxOptions::new("/usr/bin/srt".into(), "/run/srt-sock".into());
    o.arch = Arch::X86_64;
    o
}

pub fn plan_with(json: &str, fs: &FakeFs) -> (Ir, LinuxPlan) {
    let ir = ir_with(json, fs);
    let facts = HostFacts::gather(&ir, fs);
    let p = plan(&ir, &facts, &options());
    (ir, p)
}

/// What a mount leaves a path as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Hidden,
    ReadOnly,
    Writable,
    /// bwrap's own /dev or /proc.
    Kernel,
}

/// The mount table after bwrap has applied the plan's arguments in order: a mount hides
/// every earlier mount at or beneath its path.
pub fn simulate(plan: &LinuxPlan) -> Vec<(PathBuf, State)> {
    let mut table: Vec<(PathBuf, State)> = Vec::new();
    for a in &plan.args {
        let w: Vec<String> = a
            .words
            .iter()
            .map(|x| x.to_string_lossy().into_owned())
            .collect();
        let (dst, state) = match w[0].as_str() {
            "--ro-bind" if w[1] == "/dev/null" => (&w[2], State::Hidden),
            "--ro-bind" => {
                assert_eq!(w[1], w[2], "binds are at their own path");
                (&w[2], State::ReadOnly)
            }
            "--bind" => {
                assert_eq!(w[1], w[2]);
                (&w[2], State::Writable)
            }
            // A rebuilt directory (around a denied file) is readable, with its entries bound
            // back one by one; a new name in it cannot be created: read-only.
            "--perms" if a.effect.starts_with("rebuilt") => (&w[3], State::ReadOnly),
            "--perms" => {
                assert_eq!(w[2], "--tmpfs");
                (&w[3], State::Hidden)
            }
            "--dev" | "--proc" => (&w[1], State::Kernel),
            // A symlink recreated in a rebuilt directory: it reads as its target, read-only
            // at its own name.
            "--symlink" => (&w[2], State::ReadOnly),
            "--remount-ro" => {
                // Non-recursive: only an empty directory of our own is sealed.
                assert!(table
                    .iter()
                    .any(|(p, s)| p == Path::new(&w[1]) && *s != State::Writable));
                continue;
            }
            _ => continue,
        };
        let dst = PathBuf::from(dst);
        table.retain(|(p, _)| !p.starts_with(&dst));
        table.push((dst, state));
    }
    table
}

pub fn state_at(table: &[(PathBuf, State)], p: &Path) -> State {
    table
        .iter()
        .filter(|(m, _)| p.starts_with(m))
        .max_by_key(|(m, _)| m.components().count())
        .map_or(State::ReadOnly, |(_, s)| *s)
}

/// What `decide_path` says, as a [`State`].
pub fn decided(ir: &Ir, p: &Path) -> State {
    if !ir.decide_path(p, Access::Read).allowed {
        State::Hidden
    } else if ir.decide_path(p, Access::Write).allowed {
        State::Writable
    } else {
        State::ReadOnly
    }
}
