//! Programs srt executes on the host must be out of the sandbox's reach.
//!
//! srt executes exactly one program outside the sandbox: bubblewrap (and `bwrap --version`
//! and a probe sandbox for `srt doctor`). If a sandboxed command could replace that file, the
//! next run would execute the command's program on the host, unsandboxed. The sandbox can
//! replace a file when the policy lets it write the file, or any directory on the way to it
//! (it renames the directory away and makes a new one), including the directories holding a
//! symlink on the way and the symlink's target, *and* the user srt runs as may write there
//! (the sandbox runs as that user, without capabilities).

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use srt_compiler::{Access, Ir};

/// Symlinks followed before giving up (the kernel's own limit).
const MAX_LINKS: usize = 40;

/// Why the sandbox could replace `program`, if it could: a writable place on the way to it
/// ([`within_reach`]), or a hard link the sandbox might write it through.
pub fn sandbox_could_replace(program: &Path, ir: &Ir) -> Option<String> {
    within_reach(program, ir).or_else(|| {
        let target = places_on_the_way(program).1;
        let meta = std::fs::metadata(&target).ok()?;
        (meta.nlink() > 1 && user_may_write(&target)).then(|| {
            format!(
                "{} has {} hard links and you may write it: one of them may lie where the sandbox writes",
                target.display(),
                meta.nlink()
            )
        })
    })
}

/// Why the sandbox may write `program` or a directory on the way to it, if it may: the first
/// such place, with the rule that lets it.
pub fn within_reach(program: &Path, ir: &Ir) -> Option<String> {
    let (places, target) = places_on_the_way(program);
    for dir in &places {
        let decision = ir.decide_path(dir, Access::Write);
        if decision.allowed && user_may_write(dir) {
            let rule = decision
                .rule
                .map_or_else(|| decision.default.to_string(), |r| ir.describe(&r.origin));
            let what = if dir == &target {
                ""
            } else {
                ", a directory on the way to it,"
            };
            return Some(format!(
                "the sandbox may write {}{what} under {rule}",
                dir.display()
            ));
        }
    }
    None
}

/// Every directory opening `path` traverses (each ancestor of each path the resolution visits,
/// symlinks followed one at a time), then the file it ends at; and that file.
fn places_on_the_way(path: &Path) -> (Vec<PathBuf>, PathBuf) {
    let mut places: Vec<PathBuf> = Vec::new();
    let mut resolved = PathBuf::from("/");
    let mut pending: Vec<PathBuf> = vec![path.to_path_buf()];
    let mut links = 0;
    // `pending` is a stack of paths still to walk, the innermost symlink target on top.
    while let Some(next) = pending.pop() {
        let mut components = next.components();
        let Some(first) = components.next() else {
            continue;
        };
        let rest: PathBuf = components.collect();
        if !rest.as_os_str().is_empty() {
            pending.push(rest);
        }
        match first {
            Component::RootDir => resolved = PathBuf::from("/"),
            Component::CurDir => {}
            Component::ParentDir => {
                resolved.pop();
            }
            Component::Prefix(_) => {}
            Component::Normal(name) => {
                if !places.contains(&resolved) {
                    places.push(resolved.clone());
                }
                let candidate = resolved.join(name);
                match std::fs::read_link(&candidate) {
                    Ok(target) if links < MAX_LINKS => {
                        links += 1;
                        pending.push(target);
                    }
                    _ => resolved = candidate,
                }
            }
        }
    }
    places.push(resolved.clone());
    (places, resolved)
}

/// Whether the user srt runs as may write `path` (its effective ids, as the sandbox has them).
fn user_may_write(path: &Path) -> bool {
    let Ok(c) = CString::new(path.as_os_str().as_bytes()) else {
        return true;
    };
    // SAFETY: a valid NUL-terminated path; faccessat only reads it.
    unsafe { libc::faccessat(libc::AT_FDCWD, c.as_ptr(), libc::W_OK, libc::AT_EACCESS) == 0 }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn every_directory_on_the_way_is_listed_symlinks_included() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("real/bin")).unwrap();
        std::fs::write(root.join("real/bin/tool"), "").unwrap();
        std::fs::create_dir_all(root.join("links")).unwrap();
        // links/bin -> ../real/bin (relative), opt -> links (absolute)
        std::os::unix::fs::symlink("../real/bin", root.join("links/bin")).unwrap();
        std::os::unix::fs::symlink(root.join("links"), root.join("opt")).unwrap();
        let (places, target) = places_on_the_way(&root.join("opt/bin/tool"));
        assert_eq!(target, root.join("real/bin/tool"));
        for dir in [
            PathBuf::from("/"),
            root.clone(),
            root.join("links"),
            root.join("real"),
            root.join("real/bin"),
        ] {
            assert!(places.contains(&dir), "{dir:?} missing from {places:?}");
        }
        assert_eq!(places.last(), Some(&target));
    }

    #[test]
    fn a_symlink_loop_ends() {
        let tmp = tempfile::tempdir().unwrap();
        let a = tmp.path().join("a");
        std::os::unix::fs::symlink(&a, &a).unwrap();
        let (places, _) = places_on_the_way(&a.join("x"));
        assert!(!places.is_empty());
    }
}
