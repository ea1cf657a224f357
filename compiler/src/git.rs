//! The files git reads config, hooks and commands from, beyond the `.git/config` and
//! `.git/hooks` of the mandatory denies: for the repository at (or around) the working
//! directory and at each write root, found when the policy is resolved and added to the IR
//! as built-in denies ([`crate::origin::builtin::GIT_FILES`]), so [`crate::Ir::decide_path`],
//! `srt explain` and both backends see them. This is the one list of protected git paths.
//!
//! Covered, for a git directory `G` (a `.git` directory, or where a `.git` file points) with
//! its working tree `W`:
//! - `G/config`, `G/config.worktree` (read with `extensions.worktreeConfig`), `G/hooks`, and
//!   `G/commondir` when it exists (it moves where config and hooks are read from; a missing one
//!   cannot be stubbed: git refuses a repository whose `commondir` is empty);
//! - the common directory `commondir` names: its `config`, `config.worktree` and `hooks`;
//! - each submodule's git directory `G/modules/NAME` (nested ones too): the same files;
//! - each linked worktree's `G/worktrees/NAME/config.worktree` and `commondir`;
//! - `core.hooksPath` from `G/config` (and the common config), as a directory (husky's
//!   `.husky/_`: its parent `.husky` too, whose scripts the hooks run);
//! - the configuration a hook manager's installed hooks read, when it exists
//!   (`.pre-commit-config.yaml`, lefthook's `lefthook.yml` and the rest).
//!
//! What a run creates (a new repository, a new `commondir`) cannot be stopped without
//! breaking work; the end-of-run audit reports it. Everything read here is hostile input:
//! every read is bounded, and nothing panics.

use std::path::{Component, Path, PathBuf};

use crate::fsview::{FileKind, FsView};

/// A protected git path, and whether a missing one is a directory (its stub kind).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GitPath {
    pub path: PathBuf,
    pub dir: bool,
}

const CONFIG_LIMIT: usize = 64 * 1024;
const HOOK_LIMIT: usize = 4096;
const MAX_MODULES: usize = 64;
const MAX_HOOK_FILES: usize = 32;

/// lefthook's configuration files and script directories, at the working tree's root.
const LEFTHOOK: [&str; 18] = [
    "lefthook.yml",
    ".lefthook.yml",
    "lefthook.yaml",
    ".lefthook.yaml",
    "lefthook.toml",
    ".lefthook.toml",
    "lefthook.json",
    ".lefthook.json",
    "lefthook-local.yml",
    ".lefthook-local.yml",
    "lefthook-local.yaml",
    ".lefthook-local.yaml",
    "lefthook-local.toml",
    ".lefthook-local.toml",
    "lefthook-local.json",
    ".lefthook-local.json",
    ".lefthook",
    ".lefthook-local",
];

struct Finder<'a> {
    fs: &'a dyn FsView,
    home: &'a Path,
    with_config: bool,
    /// Look for hook managers (reads the hooks); only at the roots' repositories.
    managers: bool,
    out: Vec<GitPath>,
    modules: usize,
    listed: usize,
}

/// The protected git paths of the repositories at or around `roots`. `with_config` is false
/// under `filesystem.allowGitConfig`: then config files are left writable, hooks are not.
pub fn protected_paths(
    fs: &dyn FsView,
    roots: &[PathBuf],
    home: &Path,
    with_config: bool,
) -> Vec<GitPath> {
    find(fs, roots, home, with_config, true).0
}

/// The same for the nested repositories the Linux scan finds, without reading their hooks;
/// also returns how many directories it listed.
pub fn protected_paths_nested(
    fs: &dyn FsView,
    trees: &[PathBuf],
    home: &Path,
    with_config: bool,
) -> (Vec<GitPath>, usize) {
    find(fs, trees, home, with_config, false)
}

fn find(
    fs: &dyn FsView,
    roots: &[PathBuf],
    home: &Path,
    with_config: bool,
    managers: bool,
) -> (Vec<GitPath>, usize) {
    let mut f = Finder {
        fs,
        home,
        with_config,
        managers,
        out: Vec::new(),
        modules: 0,
        listed: 0,
    };
    let mut trees: Vec<PathBuf> = Vec::new();
    for root in roots {
        // The repository the root is in (a package inside a monorepo), or is.
        if let Some(w) = root
            .ancestors()
            .find(|a| fs.kind(&a.join(".git")).is_some())
        {
            if !trees.iter().any(|t| t == w) {
                trees.push(w.to_path_buf());
            }
        }
    }
    for w in &trees {
        f.working_tree(w);
    }
    f.out.sort_by(|a, b| a.path.cmp(&b.path));
    f.out.dedup_by(|a, b| a.path == b.path);
    (f.out, f.listed)
}

impl Finder<'_> {
    fn add(&mut self, path: PathBuf, dir: bool) {
        self.out.push(GitPath { path, dir });
    }

    fn add_if_exists(&mut self, path: PathBuf) {
        if let Some(kind) = self.fs.kind(&path) {
            self.add(path, kind == FileKind::Dir);
        }
    }

    fn working_tree(&mut self, w: &Path) {
        let dot = w.join(".git");
        let git_dir = match self.fs.kind(&dot) {
            Some(FileKind::Dir) => dot,
            Some(FileKind::File) => {
                self.add(dot.clone(), false);
                match self.gitdir_of_file(&dot) {
                    Some(g) => g,
                    None => return,
                }
            }
            _ => return,
        };
        self.git_dir(&git_dir, Some(w), 0);
    }

    /// `gitdir: PATH` in a `.git` file, relative to the file's directory.
    fn gitdir_of_file(&self, file: &Path) -> Option<PathBuf> {
        let text = self.fs.read_head(file, 4096)?;
        let target = text.lines().next()?.strip_prefix("gitdir:")?.trim();
        let dir = file.parent()?;
        (!target.is_empty()).then(|| join_normal(dir, Path::new(target)))
    }

    fn git_dir(&mut self, g: &Path, tree: Option<&Path>, depth: usize) {
        self.config_files(g);
        self.add(g.join("hooks"), true);
        let mut configs = vec![g.join("config")];
        let commondir = g.join("commondir");
        if self.fs.kind(&commondir).is_some() {
            self.add(commondir.clone(), false);
            let common = self
                .fs
                .read_head(&commondir, 4096)
                .map(|t| t.lines().next().unwrap_or("").trim().to_string())
                .filter(|t| !t.is_empty())
                .map(|t| join_normal(g, Path::new(&t)));
            if let Some(c) = common.filter(|c| c != g) {
                self.config_files(&c);
                self.add(c.join("hooks"), true);
                configs.push(c.join("config"));
            }
        }
        let mut hook_dirs = vec![g.join("hooks")];
        if let Some(w) = tree {
            for config in &configs {
                if let Some(h) = self.hooks_path(config, w) {
                    // husky: `.husky/_/*` run `.husky/<hook>`.
                    let dir = if h.file_name().is_some_and(|n| n == "_") {
                        h.parent().map_or_else(|| h.clone(), Path::to_path_buf)
                    } else {
                        h.clone()
                    };
                    self.add(dir, true);
                    hook_dirs.push(h);
                }
            }
            if self.managers {
                self.hook_managers(&hook_dirs, w);
            }
        }
        if depth < 3 {
            self.nested(&g.join("modules"), depth, true);
        }
        if depth == 0 {
            self.nested(&g.join("worktrees"), depth, false);
        }
    }

    fn config_files(&mut self, g: &Path) {
        if self.with_config {
            self.add(g.join("config"), false);
            self.add(g.join("config.worktree"), false);
        }
    }

    /// Submodules' git directories (`modules/NAME`, where NAME may have slashes: any
    /// directory holding a `HEAD` is one), or linked worktrees' (`worktrees/NAME`).
    fn nested(&mut self, dir: &Path, depth: usize, modules: bool) {
        if self.fs.kind(dir) != Some(FileKind::Dir) {
            return;
        }
        self.listed += 1;
        let Some(entries) = self.fs.list(dir) else {
            return;
        };
        for e in entries {
            if self.modules >= MAX_MODULES {
                return;
            }
            let sub = dir.join(&e.name);
            if self.fs.kind(&sub) != Some(FileKind::Dir) {
                continue;
            }
            self.modules += 1;
            if self.fs.kind(&sub.join("HEAD")).is_none() {
                if modules {
                    self.nested(&sub, depth, modules);
                }
                continue;
            }
            if modules {
                self.git_dir(&sub, None, depth + 1);
            } else {
                if self.with_config {
                    self.add(sub.join("config.worktree"), false);
                }
                self.add_if_exists(sub.join("commondir"));
            }
        }
    }

    /// `core.hooksPath` from a config file, made absolute against the working tree.
    fn hooks_path(&self, config: &Path, w: &Path) -> Option<PathBuf> {
        let text = self.fs.read_head(config, CONFIG_LIMIT)?;
        let value = config_value(&text, "core", "hookspath")?;
        let p = if let Some(rest) = value.strip_prefix("~/") {
            self.home.join(rest)
        } else {
            join_normal(w, Path::new(&value))
        };
        Some(p)
    }

    fn hook_managers(&mut self, hook_dirs: &[PathBuf], w: &Path) {
        let mut text = String::new();
        for dir in hook_dirs {
            if self.fs.kind(dir) != Some(FileKind::Dir) {
                continue;
            }
            self.listed += 1;
            let Some(entries) = self.fs.list(dir) else {
                continue;
            };
            for e in entries.into_iter().take(MAX_HOOK_FILES) {
                if e.name.to_string_lossy().ends_with(".sample") {
                    continue;
                }
                if let Some(t) = self.fs.read_head(&dir.join(&e.name), HOOK_LIMIT) {
                    text.push_str(&t);
                }
            }
        }
        if text.contains("pre-commit.com") || text.contains("pre-commit hook-impl") {
            self.add_if_exists(w.join(".pre-commit-config.yaml"));
        }
        if text.contains("lefthook") {
            for name in LEFTHOOK {
                self.add_if_exists(w.join(name));
            }
        }
    }
}

/// `base/rel` with `.` and `..` folded (an absolute `rel` stands alone).
fn join_normal(base: &Path, rel: &Path) -> PathBuf {
    let mut out = if rel.is_absolute() {
        PathBuf::from("/")
    } else {
        base.to_path_buf()
    };
    for c in rel.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(n) => out.push(n),
            _ => {}
        }
    }
    out
}

/// The last value of `section.key` (both case-insensitive) in git config text: the common
/// `[section]` / `key = value` form; quotes are removed, comments and other forms ignored.
pub fn config_value(text: &str, section: &str, key: &str) -> Option<String> {
    let mut in_section = false;
    let mut found = None;
    for line in text.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix('[') {
            let name = rest.split([']', ' ', '"', '.']).next().unwrap_or("");
            in_section = name.eq_ignore_ascii_case(section) && !rest.contains(['"', '.']);
            continue;
        }
        if !in_section {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        if k.trim().eq_ignore_ascii_case(key) {
            let v = v.split(['#', ';']).next().unwrap_or("").trim();
            found = Some(v.trim_matches('"').to_string());
        }
    }
    found.filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn hooks_path_is_read_from_the_core_section_only() {
        let text = "[user]\n\thooksPath = no\n[core]\n\tbare = false\n\tHooksPath = \".husky/_\" # husky\n[core \"x\"]\nhookspath = no\n";
        assert_eq!(
            config_value(text, "core", "hookspath").as_deref(),
            Some(".husky/_")
        );
        assert_eq!(
            config_value("[core]\nhooksPath\n", "core", "hookspath"),
            None
        );
        assert_eq!(config_value("\u{0}[core\n=\n[", "core", "hookspath"), None);
        assert_eq!(config_value("", "core", "hookspath"), None);
    }

    #[test]
    fn relative_paths_fold() {
        assert_eq!(
            join_normal(Path::new("/p/.git/worktrees/x"), Path::new("../..")),
            PathBuf::from("/p/.git")
        );
        assert_eq!(
            join_normal(Path::new("/p/lib"), Path::new("../.git/modules/lib")),
            PathBuf::from("/p/.git/modules/lib")
        );
        assert_eq!(
            join_normal(Path::new("/p"), Path::new("/abs/x")),
            PathBuf::from("/abs/x")
        );
    }

    #[test]
    fn a_real_repository_with_a_submodule_a_worktree_and_husky() {
        let dir = tempfile::tempdir().unwrap();
        let p = std::fs::canonicalize(dir.path()).unwrap();
        for d in [
            ".git/hooks",
            ".git/modules/lib/hooks",
            ".git/worktrees/feat",
            ".husky/_",
        ] {
            std::fs::create_dir_all(p.join(d)).unwrap();
        }
        std::fs::write(p.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
        std::fs::write(p.join(".git/config"), "[core]\n\thooksPath = .husky/_\n").unwrap();
        std::fs::write(p.join(".git/modules/lib/HEAD"), "x").unwrap();
        std::fs::write(p.join(".git/worktrees/feat/HEAD"), "x").unwrap();
        std::fs::write(p.join(".git/worktrees/feat/commondir"), "../..\n").unwrap();
        std::fs::write(p.join(".git/hooks/pre-commit"), "# pre-commit.com\n").unwrap();
        std::fs::write(p.join(".pre-commit-config.yaml"), "repos: []\n").unwrap();
        let found = protected_paths(&crate::fsview::RealFs, std::slice::from_ref(&p), &p, true);
        let rel: Vec<String> = found
            .iter()
            .map(|g| g.path.strip_prefix(&p).unwrap().display().to_string())
            .collect();
        for want in [
            ".git/config",
            ".git/config.worktree",
            ".git/hooks",
            ".git/modules/lib/config",
            ".git/modules/lib/hooks",
            ".git/worktrees/feat/commondir",
            ".git/worktrees/feat/config.worktree",
            ".husky",
            ".pre-commit-config.yaml",
        ] {
            assert!(rel.iter().any(|r| r == want), "{want} missing from {rel:?}");
        }
        assert!(
            !rel.iter().any(|r| r == ".git/commondir"),
            "a missing commondir is not stubbed"
        );
        let without_config =
            protected_paths(&crate::fsview::RealFs, std::slice::from_ref(&p), &p, false);
        assert!(!without_config.iter().any(|g| g.path.ends_with("config")));
    }
}
