//! The compiler's only window on the filesystem. Resolution needs real paths (symlinks); tests
//! supply a fake.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    File,
    Dir,
    Other,
}

/// What the compiler may ask about the host's filesystem.
pub trait FsView {
    /// The canonical path (symlinks resolved), or `None` if it does not exist.
    fn realpath(&self, path: &Path) -> Option<PathBuf>;
    /// The kind of what is at `path` (following symlinks), or `None` if nothing is.
    fn kind(&self, path: &Path) -> Option<FileKind>;
}

/// The real filesystem.
#[derive(Clone, Copy, Debug, Default)]
pub struct RealFs;

impl FsView for RealFs {
    fn realpath(&self, path: &Path) -> Option<PathBuf> {
        std::fs::canonicalize(path).ok()
    }

    fn kind(&self, path: &Path) -> Option<FileKind> {
        let m = std::fs::metadata(path).ok()?;
        Some(if m.is_dir() {
            FileKind::Dir
        } else if m.is_file() {
            FileKind::File
        } else {
            FileKind::Other
        })
    }
}

/// An in-memory filesystem for tests: entries and symlinks (absolute link targets).
#[derive(Clone, Debug, Default)]
pub struct FakeFs {
    entries: BTreeMap<PathBuf, FileKind>,
    links: BTreeMap<PathBuf, PathBuf>,
}

impl FakeFs {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a directory and its ancestors.
    pub fn dir(mut self, p: impl AsRef<Path>) -> Self {
        for a in p.as_ref().ancestors() {
            self.entries.entry(a.to_path_buf()).or_insert(FileKind::Dir);
        }
        self
    }

    /// Adds a file (and its parent directories).
    pub fn file(mut self, p: impl AsRef<Path>) -> Self {
        let p = p.as_ref();
        if let Some(parent) = p.parent() {
            self = self.dir(parent);
        }
        self.entries.insert(p.to_path_buf(), FileKind::File);
        self
    }

    /// Adds a symlink `from` → `to` (absolute).
    pub fn link(mut self, from: impl AsRef<Path>, to: impl AsRef<Path>) -> Self {
        if let Some(parent) = from.as_ref().parent() {
            self = self.dir(parent);
        }
        self.links
            .insert(from.as_ref().to_path_buf(), to.as_ref().to_path_buf());
        self
    }

    fn resolve(&self, path: &Path, depth: usize) -> Option<PathBuf> {
        if depth > 40 {
            return None;
        }
        let mut out = PathBuf::from("/");
        let comps: Vec<_> = path.components().skip(1).collect();
        for (i, c) in comps.iter().enumerate() {
            out.push(c);
            if let Some(target) = self.links.get(&out) {
                let mut next = target.clone();
                for rest in &comps[i + 1..] {
                    next.push(rest);
                }
                return self.resolve(&next, depth + 1);
            }
        }
        self.entries.contains_key(&out).then_some(out)
    }
}

impl FsView for FakeFs {
    fn realpath(&self, path: &Path) -> Option<PathBuf> {
        self.resolve(path, 0)
    }

    fn kind(&self, path: &Path) -> Option<FileKind> {
        let real = self.resolve(path, 0)?;
        self.entries.get(&real).copied()
    }
}
