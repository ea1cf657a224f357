//! A project on disk for the audit and start-of-run scan tests: `home/`, a project `p/` (the
//! cwd, writable by the policy) and srt's state directory `state/`, in a temporary directory.

use std::fs;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use srt_compiler::audit::AuditPlan;
use srt_compiler::{resolve, Ir, RealFs, ResolveOptions};
use srt_runtime::audit::{AuditReport, IndexOptions, Since};

pub struct Tree {
    pub root: tempfile::TempDir,
}

impl Tree {
    pub fn new() -> Self {
        let root = tempfile::tempdir().unwrap();
        for d in ["home", "p", "state"] {
            fs::create_dir_all(root.path().join(d)).unwrap();
        }
        Tree { root }
    }

    /// A path in the project.
    pub fn p(&self, rel: &str) -> PathBuf {
        self.root.path().join("p").join(rel)
    }

    pub fn home(&self) -> PathBuf {
        self.root.path().join("home")
    }

    /// Writes a file in the project, making its directories.
    pub fn write(&self, rel: &str, text: &str) {
        let path = self.p(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    /// The IR of `allowWrite: ["."]` with these `denyRead` entries (JSON list items).
    pub fn ir(&self, deny_read: &str) -> Ir {
        let text = format!(
            r#"{{"filesystem":{{"denyRead":[{deny_read}],"allowWrite":["."],"denyWrite":[]}},
                "network":{{"allowedDomains":[],"deniedDomains":[]}}}}"#
        );
        let loaded = srt_schema::load_str(".srt.json", None, &text);
        let opts = ResolveOptions {
            cwd: self.p(""),
            home: self.home(),
            settings_path: None,
        };
        resolve(&loaded.settings, None, &opts, &RealFs).0
    }

    /// What the audit of a run under [`Tree::ir`] looks at.
    pub fn plan(&self) -> AuditPlan {
        AuditPlan::from_write_rules(&self.ir(""))
    }

    /// The index options of srt's state directory, trusting what settled `settle_secs` ago.
    pub fn index(&self, settle_secs: i64) -> IndexOptions {
        let mut o = IndexOptions::in_state_dir(&self.root.path().join("state")).unwrap();
        o.settle_secs = settle_secs;
        o
    }
}

/// Waits into the next second and returns it (what was made before is older than the "run").
pub fn next_second() -> Since {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap();
    std::thread::sleep(Duration::from_nanos(
        1_000_000_000 - u64::from(now.subsec_nanos()) + 20_000_000,
    ));
    Since::now()
}

/// An audit's findings as (path, code).
pub fn found(r: &AuditReport) -> Vec<(PathBuf, &'static str)> {
    r.findings
        .iter()
        .map(|f| (f.path.clone(), f.what.code()))
        .collect()
}
