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

/// What a directory entry is, symlinks not followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
    Other,
}

/// One entry of a directory listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    pub name: std::ffi::OsString,
    pub kind: EntryKind,
}

/// What the compiler may ask about the host's filesystem.
pub trait FsView {
    /// The canonical path (symlinks resolved), or `None` if it does not exist.
    fn realpath(&self, path: &Path) -> Option<PathBuf>;
    /// The kind of what is at `path` (following symlinks), or `None` if nothing is.
    fn kind(&self, path: &Path) -> Option<FileKind>;
    /// Whether `path` itself is a symlink.
    fn is_symlink(&self, _path: &Path) -> bool {
        false
    }
    /// The target of the symlink at `path`, as stored (absolute or relative to its directory),
    /// or `None` if `path` is not a symlink.
    fn read_link(&self, _path: &Path) -> Option<PathBuf> {
        None
    }
    /// The start of a file's text (at most `limit` bytes, lossily decoded), or `None` if it
    /// cannot be read. Used to find what git reads (`gitdir:`, `commondir`, `core.hooksPath`).
    fn read_head(&self, _path: &Path, _limit: usize) -> Option<String> {
        None
    }
    /// The entries of a directory (any order), or `None` if it cannot be listed. Used by the
    /// Linux backend's one walk (`HostFacts`); a view that cannot list reports nothing.
    fn list(&self, _dir: &Path) -> Option<Vec<DirEntry>> {
        None
    }
    /// How many names (hard links) the file at `path` has (following symlinks), or `None`
    /// if that cannot be known.
    fn link_count(&self, _path: &Path) -> Option<u64> {
        None
    }
    /// The host's mounts, or `None` if they cannot be known (not Linux, or a fake).
    fn mounts(&self) -> Option<Vec<crate::mounts::Mount>> {
        None
    }
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

    fn is_symlink(&self, path: &Path) -> bool {
        std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
    }

    #[cfg(unix)]
    fn link_count(&self, path: &Path) -> Option<u64> {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path).ok().map(|m| m.nlink())
    }

    fn read_link(&self, path: &Path) -> Option<PathBuf> {
        std::fs::read_link(path).ok()
    }

    #[cfg(target_os = "linux")]
    fn mounts(&self) -> Option<Vec<crate::mounts::Mount>> {
        let text = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
        Some(crate::mounts::parse_mountinfo(&text))
    }

    fn read_head(&self, path: &Path, limit: usize) -> Option<String> {
        use std::io::Read;
        let file = std::fs::File::open(path).ok()?;
        if !file.metadata().ok()?.is_file() {
            return None;
        }
        let mut bytes = Vec::new();
        file.take(limit as u64).read_to_end(&mut bytes).ok()?;
        Some(String::from_utf8_lossy(&bytes).into_owned())
    }

    fn list(&self, dir: &Path) -> Option<Vec<DirEntry>> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).ok()? {
            let Ok(e) = e else { continue };
            let kind = match e.file_type() {
                Ok(t) if t.is_symlink() => EntryKind::Symlink,
                Ok(t) if t.is_dir() => EntryKind::Dir,
                Ok(t) if t.is_file() => EntryKind::File,
                _ => EntryKind::Other,
            };
            out.push(DirEntry {
                name: e.file_name(),
                kind,
            });
        }
        Some(out)
    }
}

/// An in-memory filesystem for tests: entries and symlinks (absolute link targets).
#[derive(Clone, Debug, Default)]
pub struct FakeFs {
    entries: BTreeMap<PathBuf, FileKind>,
    links: BTreeMap<PathBuf, PathBuf>,
    link_counts: BTreeMap<PathBuf, u64>,
    mounts: Option<Vec<crate::mounts::Mount>>,
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

    /// The mounts, as `/proc/self/mountinfo` text.
    pub fn mountinfo(mut self, text: &str) -> Self {
        self.mounts = Some(crate::mounts::parse_mountinfo(text));
        self
    }

    /// Gives the file at `p` (added with [`FakeFs::file`]) `n` hard links; files have one.
    pub fn link_count(mut self, p: impl AsRef<Path>, n: u64) -> Self {
        self.link_counts.insert(p.as_ref().to_path_buf(), n);
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

    fn is_symlink(&self, path: &Path) -> bool {
        self.links.contains_key(path)
    }

    fn mounts(&self) -> Option<Vec<crate::mounts::Mount>> {
        self.mounts.clone()
    }

    fn link_count(&self, path: &Path) -> Option<u64> {
        let real = self.resolve(path, 0)?;
        self.entries
            .contains_key(&real)
            .then(|| self.link_counts.get(&real).copied().unwrap_or(1))
    }

    fn read_link(&self, path: &Path) -> Option<PathBuf> {
        self.links.get(path).cloned()
    }

    fn list(&self, dir: &Path) -> Option<Vec<DirEntry>> {
        let real = self.resolve(dir, 0)?;
        if self.entries.get(&real) != Some(&FileKind::Dir) {
            return None;
        }
        let child_of = |p: &Path| p.parent() == Some(real.as_path()) && p != real;
        let mut out: Vec<DirEntry> = self
            .entries
            .range(real.clone()..)
            .take_while(|(p, _)| p.starts_with(&real))
            .filter(|(p, _)| child_of(p))
            .map(|(p, k)| DirEntry {
                name: p.file_name().unwrap_or_default().to_os_string(),
                kind: match k {
                    FileKind::File => EntryKind::File,
                    FileKind::Dir => EntryKind::Dir,
                    FileKind::Other => EntryKind::Other,
                },
            })
            .collect();
        for p in self.links.keys().filter(|p| child_of(p)) {
            out.retain(|e| Some(e.name.as_os_str()) != p.file_name());
            out.push(DirEntry {
                name: p.file_name().unwrap_or_default().to_os_string(),
                kind: EntryKind::Symlink,
            });
        }
        Some(out)
    }
}
