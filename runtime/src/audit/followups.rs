//! After the walk: the hooks in the directories `core.hooksPath` names, the files git configs
//! include, and the user's global git configs (which may include files under a root).

use std::collections::{BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

use srt_compiler::audit::AuditPlan;
use srt_compiler::path::lexical_normalize;

use super::finding::What;
use super::fsio;
use super::gitconfig;
use super::gitdir::collect_paths;
use super::walk::{ConfigSeen, Walker};

/// A path git names in a config (`~/`, absolute, or relative to `base`), normalised.
fn git_path(value: &str, base: &Path, home: &Path) -> Option<PathBuf> {
    let p = if value == "~" {
        home.to_path_buf()
    } else if let Some(rest) = value.strip_prefix("~/") {
        home.join(rest)
    } else if value.starts_with('~') || value.is_empty() {
        // `~user/…`: another user's home, which the command cannot write.
        return None;
    } else {
        base.join(value)
    };
    Some(lexical_normalize(&p))
}

fn under_root(plan: &AuditPlan, p: &Path) -> bool {
    let inside = |p: &Path| plan.roots.iter().any(|r| p.starts_with(&r.path));
    inside(p) || std::fs::canonicalize(p).is_ok_and(|real| inside(&real))
}

/// After the walk: the hooks in `core.hooksPath` directories, the files configs include, and
/// the user's global git configs.
pub(crate) fn second_pass(w: &mut Walker<'_>, configs: Vec<ConfigSeen>, home: &Path) {
    let plan = w.plan();
    let xdg = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map_or_else(|| home.join(".config"), PathBuf::from);
    let mut includes: VecDeque<(PathBuf, u32)> = VecDeque::new();
    let mut hooks_dirs: BTreeSet<PathBuf> = BTreeSet::new();
    let mut configs = configs;
    for global in [home.join(".gitconfig"), xdg.join("git/config")] {
        if let Some(seen) = read_config(w, plan, &global, home) {
            configs.push(seen);
        }
    }
    let mut visited: BTreeSet<PathBuf> = configs.iter().map(|c| c.file.clone()).collect();
    let queue_from = |c: &ConfigSeen, depth: u32, includes: &mut VecDeque<(PathBuf, u32)>| {
        let base = c.file.parent().unwrap_or(Path::new("/"));
        for inc in &c.includes {
            if let Some(p) = git_path(inc, base, home) {
                includes.push_back((p, depth + 1));
            }
        }
    };
    for c in &configs {
        for h in &c.hooks_paths {
            if let Some(p) = git_path(h, &c.hooks_base, home) {
                hooks_dirs.insert(p);
            }
        }
        queue_from(c, 0, &mut includes);
    }
    let mut followed = 0usize;
    while let Some((file, depth)) = includes.pop_front() {
        if !visited.insert(file.clone()) {
            continue;
        }
        followed += 1;
        if followed > plan.limits.max_includes || depth > 10 {
            w.findings.push(
                &file,
                What::Incomplete {
                    reason: format!(
                        "more than {} included git config files, or includes nested more than 10 deep",
                        plan.limits.max_includes
                    ),
                },
            );
            break;
        }
        if let Some(seen) = read_config(w, plan, &file, home) {
            for h in &seen.hooks_paths {
                if let Some(p) = git_path(h, Path::new("/"), home).filter(|p| p.is_absolute()) {
                    hooks_dirs.insert(p);
                }
            }
            queue_from(&seen, depth, &mut includes);
        }
    }
    for dir in hooks_dirs {
        if under_root(plan, &dir) {
            hooks_dir(w, &dir);
        }
    }
}

/// Reads a config named by a path (a global one, or an included one): reports what it sets
/// when it lies under a root and changed during the run.
fn read_config(
    w: &mut Walker<'_>,
    plan: &AuditPlan,
    file: &Path,
    home: &Path,
) -> Option<ConfigSeen> {
    let c = fsio::read_path(file, plan.limits.max_file_bytes).ok()?;
    if c.meta.kind != fsio::Kind::File {
        return None;
    }
    let parsed = gitconfig::parse(&c.bytes);
    let changed = w.changed(&c.meta) && under_root(plan, file);
    w.config_entries(file, &parsed, changed, c.truncated);
    let mut seen = ConfigSeen {
        file: file.to_path_buf(),
        // A global relative hooksPath is relative to each repository: only absolute ones and
        // `~/` are followed from here.
        hooks_base: home.to_path_buf(),
        hooks_paths: Vec::new(),
        includes: Vec::new(),
    };
    collect_paths(&parsed, &mut seen);
    Some(seen)
}

/// Reports the hooks in a `core.hooksPath` directory created or changed during the run.
fn hooks_dir(w: &mut Walker<'_>, dir: &Path) {
    use std::os::fd::AsFd;
    use std::os::unix::ffi::OsStrExt;
    const MAX_HOOKS: usize = 10_000;
    let Ok(fd) = fsio::open_dir_path(dir) else {
        return;
    };
    let mut names = Vec::new();
    let _ = fsio::Lister::new().list(&fd, |name, _| {
        if !name.to_bytes().ends_with(b".sample") {
            names.push(name.to_owned());
        }
        names.len() < MAX_HOOKS
    });
    for name in names {
        let Ok(meta) = fsio::stat_at(fd.as_fd(), &name) else {
            continue;
        };
        let inert =
            meta.kind == fsio::Kind::Dir || (meta.kind == fsio::Kind::File && meta.size == 0);
        if w.changed(&meta) && !inert {
            let path = dir.join(std::ffi::OsStr::from_bytes(name.to_bytes()));
            w.findings.push(
                &path,
                What::Hook {
                    hooks_path: dir.to_path_buf(),
                },
            );
        }
    }
}
