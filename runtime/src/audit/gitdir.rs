//! A git directory, met by the walk: is it new, what its configs set that runs programs,
//! where `commondir` points, and its hooks.

use std::ffi::{CStr, CString};
use std::os::fd::BorrowedFd;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use srt_compiler::audit::GitExecKey;

use super::finding::What;
use super::fsio::{self, Kind};
use super::gitconfig;
use super::walk::{errno_text, push_name, Cand, ConfigSeen, Ctx, Walker, GIT_STORAGE};

impl Walker<'_> {
    /// What a `.git` file, `commondir` or symlink points at, for the report.
    pub(super) fn pointer_target(&self, fd: BorrowedFd<'_>, name: &CStr, kind: Kind) -> String {
        match kind {
            Kind::Symlink => fsio::read_link_at(fd, name).map_or_else(
                || "a symlink".to_string(),
                |t| format!("{} (a symlink)", t.to_string_lossy()),
            ),
            Kind::File => match fsio::read_at(fd, name, 4096) {
                Ok(c) => String::from_utf8_lossy(&c.bytes).trim().to_string(),
                Err(e) => format!("(unreadable: {})", errno_text(e)),
            },
            _ => "something that is not a file".to_string(),
        }
    }

    /// A git directory: is it new, what its configs set, where `commondir` points, and its
    /// hooks. The other directories among `special` go to `rest`, to be walked (git's storage
    /// not, when `skip_storage`). Returns whether something was reported.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn git_dir(
        &mut self,
        fd: BorrowedFd<'_>,
        path: &mut PathBuf,
        depth: u32,
        ctx: Ctx,
        own_is_dot_git: bool,
        skip_storage: bool,
        special: &[(CString, Option<Kind>)],
        rest: &mut Vec<CString>,
    ) -> bool {
        let mut reported = false;
        let has = |n: &[u8]| special.iter().any(|(s, _)| s.to_bytes() == n);
        if ctx != Ctx::InGitDir && self.git_dir_is_new(fd, has(b"HEAD"), has(b"config")) {
            let what = if own_is_dot_git {
                What::NewRepository
            } else {
                What::BareRepository
            };
            self.findings.push(path, what);
            reported = true;
        }
        let hooks_base = if own_is_dot_git {
            path.parent()
                .map_or_else(|| path.clone(), Path::to_path_buf)
        } else {
            path.clone()
        };
        for (name, kind) in special {
            let b = name.to_bytes();
            match b {
                b"config" | b"config.worktree" => {
                    let protected = (own_is_dot_git && b == b"config")
                        .then(|| self.match_name(b))
                        .flatten();
                    reported |= self.git_config(fd, path, name, &hooks_base, protected);
                }
                b"commondir" => {
                    if let Ok(meta) = fsio::stat_at(fd, name) {
                        let inert = meta.kind == Kind::File && meta.size == 0;
                        if self.changed(&meta) && !inert {
                            let target = self.pointer_target(fd, name, meta.kind);
                            push_name(path, name);
                            self.findings.push(path, What::GitPointer { target });
                            path.pop();
                            reported = true;
                        }
                    }
                }
                b"hooks" => {
                    let name_text = if own_is_dot_git {
                        ".git/hooks"
                    } else {
                        "hooks"
                    };
                    let protected = self.match_name(b).unwrap_or(name_text);
                    reported |= self.candidate(
                        fd,
                        path,
                        depth,
                        Ctx::Plain,
                        name,
                        Cand::Name(protected),
                        None,
                    );
                }
                _ if skip_storage && GIT_STORAGE.contains(&b) => {}
                _ if *kind == Some(Kind::Dir) || kind.is_none() => rest.push(name.clone()),
                _ => {}
            }
        }
        reported
    }

    /// Whether the git directory open at `fd` was made during the run: its birth time where
    /// the filesystem records one; else its entry, `HEAD` and `config` all changed (every git
    /// command changes the directory, few rewrite `HEAD` and `config` together).
    fn git_dir_is_new(&self, fd: BorrowedFd<'_>, head: bool, config: bool) -> bool {
        let Ok(own) = fsio::stat_at(fd, c".") else {
            return false;
        };
        if let Some(born) = own.btime.filter(|b| *b > 0) {
            return born >= self.shared.since;
        }
        let changed = |name: &CStr| {
            fsio::stat_at(fd, name)
                .map(|m| self.changed(&m))
                .unwrap_or(false)
        };
        self.changed(&own) && head && config && changed(c"HEAD") && changed(c"config")
    }

    /// Reads a git directory's config file; reports what it sets that runs a program when it
    /// changed during the run, and keeps its `core.hooksPath` and includes for the second pass.
    fn git_config(
        &mut self,
        fd: BorrowedFd<'_>,
        path: &mut PathBuf,
        name: &CStr,
        hooks_base: &Path,
        protected: Option<&'static str>,
    ) -> bool {
        push_name(path, name);
        let reported = match fsio::read_at(fd, name, self.shared.plan.limits.max_file_bytes) {
            Ok(c) if c.meta.kind == Kind::File => {
                let parsed = gitconfig::parse(&c.bytes);
                let changed = self.changed(&c.meta);
                let reported = self.config_entries(path, &parsed, changed, c.truncated);
                if changed && !reported && c.meta.size > 0 {
                    if let Some(n) = protected {
                        self.report_name(path, n);
                    }
                }
                let mut seen = ConfigSeen {
                    file: path.clone(),
                    hooks_base: hooks_base.to_path_buf(),
                    hooks_paths: Vec::new(),
                    includes: Vec::new(),
                };
                collect_paths(&parsed, &mut seen);
                self.configs.push(seen);
                reported || (changed && protected.is_some() && c.meta.size > 0)
            }
            Ok(c) => {
                if self.changed(&c.meta) {
                    self.findings.push(
                        path,
                        What::Unreadable {
                            error: "not a regular file".into(),
                        },
                    );
                }
                false
            }
            // A symlink (O_NOFOLLOW), which git would follow.
            Err(Errno::ELOOP) => match fsio::stat_at(fd, name) {
                Ok(meta) if self.changed(&meta) => {
                    let target = self.pointer_target(fd, name, meta.kind);
                    self.findings.push(path, What::GitPointer { target });
                    true
                }
                _ => false,
            },
            Err(Errno::ENOENT) => false,
            Err(e) => {
                self.findings.push(
                    path,
                    What::Unreadable {
                        error: errno_text(e),
                    },
                );
                true
            }
        };
        path.pop();
        reported
    }

    /// Reports the settings of a parsed config that run programs, when the file changed.
    pub fn config_entries(
        &mut self,
        path: &Path,
        parsed: &gitconfig::Parsed,
        changed: bool,
        truncated: bool,
    ) -> bool {
        if !changed {
            return false;
        }
        let mut reported = false;
        for e in &parsed.entries {
            if let Some(k) = GitExecKey::find(
                &e.section,
                e.subsection.as_deref(),
                &e.name,
                e.value.as_deref(),
            ) {
                self.findings.push(
                    path,
                    What::GitSetting {
                        key: e.key(),
                        value: e.value.clone(),
                        why: k.why,
                    },
                );
                reported = true;
            }
        }
        if truncated || parsed.capped {
            self.findings.push(
                path,
                What::Incomplete {
                    reason: format!(
                        "only the first {} bytes of this git config were read",
                        self.shared.plan.limits.max_file_bytes
                    ),
                },
            );
            reported = true;
        }
        reported
    }
}

/// `core.hooksPath` and include paths of a parsed config.
pub(crate) fn collect_paths(parsed: &gitconfig::Parsed, seen: &mut ConfigSeen) {
    for e in &parsed.entries {
        let Some(v) = &e.value else { continue };
        match (e.section.as_str(), e.subsection.is_some(), e.name.as_str()) {
            ("core", false, "hookspath") => seen.hooks_paths.push(v.clone()),
            ("include", false, "path") | ("includeif", true, "path") => {
                seen.includes.push(v.clone())
            }
            _ => {}
        }
    }
}
