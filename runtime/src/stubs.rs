//! Host-side stubs: the empty files and directories bubblewrap needs as mount points for names
//! that do not exist yet (a mandatory deny such as `.bashrc`, a `denyWrite` of a missing file).
//! They appear in the user's tree, so they must never outlive the run, not even when srt is
//! killed with SIGKILL.
//!
//! Every run writes a record in the state directory *before* it creates a stub, and updates it
//! with each stub's identity (device and inode) once created. Cleanup removes a stub only if
//! it is still the very file or directory srt made, and still empty. Each `srt run` first
//! cleans up after runs whose process is gone.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// What a stub is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StubKind {
    File,
    Dir,
}

/// A stub to create, and once created, its identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stub {
    pub path: PathBuf,
    pub kind: StubKind,
    /// `(dev, ino)` once srt has created it.
    pub id: Option<(u64, u64)>,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum StubError {
    #[error("cannot use the state directory {dir}: {source}")]
    #[diagnostic(help("srt records host-side stubs there so they are removed even after a crash; set XDG_STATE_HOME to a writable directory"))]
    StateDir { dir: PathBuf, source: io::Error },
    #[error("cannot create the mount-point stub {path}: {source}")]
    Create { path: PathBuf, source: io::Error },
}

/// The per-user state directory: `$XDG_STATE_HOME/srt`, else `~/.local/state/srt`.
pub fn default_state_dir() -> PathBuf {
    match std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        Some(d) => PathBuf::from(d).join("srt"),
        None => std::env::home_dir()
            .unwrap_or_else(std::env::temp_dir)
            .join(".local/state/srt"),
    }
}

/// This process's start time in clock ticks since boot (field 22 of `/proc/PID/stat`), which
/// tells a live run from a recycled pid.
fn start_time(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces and parentheses; fields resume after ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split(' ').nth(19)?.parse().ok()
}

/// The stub record of one run.
pub struct RunRecord {
    file: PathBuf,
    pid: u32,
    start: u64,
    stubs: Vec<Stub>,
}

impl RunRecord {
    /// Starts a record for this process in `state_dir` (created 0700).
    pub fn begin(state_dir: &Path) -> Result<Self, StubError> {
        let runs = state_dir.join("runs");
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&runs)
            .map_err(|source| StubError::StateDir {
                dir: runs.clone(),
                source,
            })?;
        let pid = std::process::id();
        let start = start_time(pid).unwrap_or(0);
        Ok(RunRecord {
            file: runs.join(format!("{pid}-{start}.stubs")),
            pid,
            start,
            stubs: Vec::new(),
        })
    }

    /// Records then creates each stub that does not exist yet. A name that already exists is
    /// left alone and not recorded (it is the user's).
    ///
    /// The record is written twice: once listing every stub before any is created, and once
    /// with their identities after. A run killed in between leaves stubs without identities;
    /// cleanup removes those only while they are still empty.
    pub fn create(&mut self, stubs: &[(PathBuf, StubKind)]) -> Result<(), StubError> {
        let start = self.stubs.len();
        for (path, kind) in stubs {
            if fs::symlink_metadata(path).is_err() {
                self.stubs.push(Stub {
                    path: path.clone(),
                    kind: *kind,
                    id: None,
                });
            }
        }
        if self.stubs.len() == start {
            return Ok(());
        }
        self.save()?;
        let mut failure = None;
        let mut i = start;
        while i < self.stubs.len() {
            let (path, kind) = (self.stubs[i].path.clone(), self.stubs[i].kind);
            let made = match kind {
                StubKind::File => fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o444)
                    .open(&path)
                    .map(|_| ()),
                // 0755: the mount over it decides what the sandbox may do; the directory itself
                // must let srt (not root) create nested stubs in it.
                StubKind::Dir => fs::DirBuilder::new().mode(0o755).create(&path),
            };
            match made {
                Ok(()) => {
                    self.stubs[i].id = fs::symlink_metadata(&path).ok().map(|m| (m.dev(), m.ino()));
                    i += 1;
                }
                // Someone created it in between: it is theirs.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    self.stubs.remove(i);
                }
                Err(source) => {
                    failure = Some(StubError::Create { path, source });
                    self.stubs.truncate(i);
                    break;
                }
            }
        }
        self.save()?;
        failure.map_or(Ok(()), Err)
    }

    fn save(&self) -> Result<(), StubError> {
        let mut text = format!("{} {}\n", self.pid, self.start);
        for s in &self.stubs {
            let kind = match s.kind {
                StubKind::File => "file",
                StubKind::Dir => "dir",
            };
            let (dev, ino) = s.id.unwrap_or((0, 0));
            // The path last: it may contain spaces (not newlines: those are refused at plan time).
            text.push_str(&format!("{kind} {dev} {ino} {}\n", s.path.display()));
        }
        let tmp = self.file.with_extension("tmp");
        let write = || -> io::Result<()> {
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)?;
            // No fsync: the record guards against srt being killed, which the page cache
            // survives; a power loss takes the stubs' own creation with it too.
            f.write_all(text.as_bytes())?;
            fs::rename(&tmp, &self.file)
        };
        write().map_err(|source| StubError::StateDir {
            dir: self.file.clone(),
            source,
        })
    }

    /// Removes this run's stubs and its record.
    pub fn finish(self) {
        remove_stubs(&self.stubs);
        let _ = fs::remove_file(&self.file);
    }

    pub fn stubs(&self) -> &[Stub] {
        &self.stubs
    }
}

/// Removes stubs that are still what srt created (same device and inode, still empty), in
/// reverse order of creation.
fn remove_stubs(stubs: &[Stub]) {
    for s in stubs.iter().rev() {
        let Ok(meta) = fs::symlink_metadata(&s.path) else {
            continue;
        };
        if s.id != Some((meta.dev(), meta.ino())) {
            continue;
        }
        let _ = match s.kind {
            StubKind::File if meta.is_file() && meta.len() == 0 => fs::remove_file(&s.path),
            StubKind::Dir if meta.is_dir() => fs::remove_dir(&s.path), // fails unless empty
            _ => Ok(()),
        };
    }
}

fn parse_record(text: &str) -> Option<(u32, u64, Vec<Stub>)> {
    let mut lines = text.lines();
    let mut head = lines.next()?.split(' ');
    let pid = head.next()?.parse().ok()?;
    let start = head.next()?.parse().ok()?;
    let stubs = lines
        .filter_map(|l| {
            let mut parts = l.splitn(4, ' ');
            let kind = match parts.next()? {
                "file" => StubKind::File,
                "dir" => StubKind::Dir,
                _ => return None,
            };
            let dev: u64 = parts.next()?.parse().ok()?;
            let ino: u64 = parts.next()?.parse().ok()?;
            Some(Stub {
                kind,
                id: (dev, ino).ne(&(0, 0)).then_some((dev, ino)),
                path: PathBuf::from(parts.next()?),
            })
        })
        .collect();
    Some((pid, start, stubs))
}

/// Cleans up after runs whose process is gone (killed, crashed). Returns how many stubs were
/// looked at. Records of live runs are left alone.
pub fn cleanup_stale(state_dir: &Path) -> usize {
    let Ok(entries) = fs::read_dir(state_dir.join("runs")) else {
        return 0;
    };
    let mut seen = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "tmp") {
            let _ = fs::remove_file(&path);
            continue;
        }
        let Ok(text) = fs::read_to_string(&path) else {
            continue;
        };
        let Some((pid, start, stubs)) = parse_record(&text) else {
            let _ = fs::remove_file(&path);
            continue;
        };
        let alive = start_time(pid).is_some_and(|s| s == start);
        if alive {
            continue;
        }
        seen += stubs.len();
        remove_stubs(&stubs);
        let _ = fs::remove_file(&path);
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stubs_are_created_recorded_and_removed() {
        let state = tempfile::tempdir().unwrap();
        let tree = tempfile::tempdir().unwrap();
        let existing = tree.path().join(".profile");
        fs::write(&existing, "mine").unwrap();
        let mut run = RunRecord::begin(state.path()).unwrap();
        run.create(&[
            (tree.path().join(".bashrc"), StubKind::File),
            (tree.path().join(".vscode"), StubKind::Dir),
            (existing.clone(), StubKind::File),
        ])
        .unwrap();
        assert_eq!(run.stubs().len(), 2, "the existing file is not a stub");
        assert!(tree.path().join(".bashrc").is_file() && tree.path().join(".vscode").is_dir());
        run.finish();
        assert!(!tree.path().join(".bashrc").exists() && !tree.path().join(".vscode").exists());
        assert_eq!(fs::read_to_string(&existing).unwrap(), "mine");
        assert_eq!(fs::read_dir(state.path().join("runs")).unwrap().count(), 0);
    }

    #[test]
    fn a_dead_runs_stubs_are_cleaned_up_and_replaced_files_are_kept() {
        let state = tempfile::tempdir().unwrap();
        let tree = tempfile::tempdir().unwrap();
        let (a, b) = (tree.path().join(".bashrc"), tree.path().join(".zshrc"));
        let mut run = RunRecord::begin(state.path()).unwrap();
        run.create(&[(a.clone(), StubKind::File), (b.clone(), StubKind::File)])
            .unwrap();
        // The user replaces one stub with a real file (new inode) before the cleanup.
        fs::remove_file(&b).unwrap();
        fs::write(&b, "export X=1").unwrap();
        // Pretend the run died: rewrite its record under a pid that does not exist.
        let record = fs::read_dir(state.path().join("runs"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let text = fs::read_to_string(&record).unwrap();
        let body: String = text.lines().skip(1).map(|l| format!("{l}\n")).collect();
        fs::write(
            state.path().join("runs/999999999-1.stubs"),
            format!("999999999 1\n{body}"),
        )
        .unwrap();
        fs::remove_file(&record).unwrap();
        std::mem::forget(run);
        assert_eq!(cleanup_stale(state.path()), 2);
        assert!(!a.exists(), "the stub is removed");
        assert_eq!(
            fs::read_to_string(&b).unwrap(),
            "export X=1",
            "the user's file is kept"
        );
        assert_eq!(fs::read_dir(state.path().join("runs")).unwrap().count(), 0);
    }

    #[test]
    fn a_live_runs_record_is_left_alone() {
        let state = tempfile::tempdir().unwrap();
        let tree = tempfile::tempdir().unwrap();
        let mut run = RunRecord::begin(state.path()).unwrap();
        run.create(&[(tree.path().join(".mcp.json"), StubKind::File)])
            .unwrap();
        assert_eq!(cleanup_stale(state.path()), 0);
        assert!(tree.path().join(".mcp.json").exists());
        run.finish();
    }
}
