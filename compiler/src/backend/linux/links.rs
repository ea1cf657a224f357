//! The symlinks on the way to a path. bwrap's mounts follow symlinks, so a deny spelled
//! through a link (or a protected name that is one) is mounted on the target; the link itself
//! stays an ordinary entry of its directory. Where that directory is writable, the command
//! could replace the link with a directory of its own and fill it: the plan pins each such
//! link (srt's init mounts the link on itself, so it cannot be removed or renamed: `EBUSY`).

use std::collections::{BTreeMap, VecDeque};
use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

use srt_schema::Diagnostic;

use super::candidates::ThroughLinks;
use super::notes::{self as code, refusal};
use crate::decide::Access;
use crate::fsview::FsView;
use crate::ir::Ir;
use crate::origin::Origin;

/// How a path resolves, link by link.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinkChain {
    /// The symlinks followed, in order, each at its real location (its directory resolved).
    pub links: Vec<PathBuf>,
    /// A link on the way whose target does not exist: `(link, target as stored)`.
    pub dangling: Option<(PathBuf, PathBuf)>,
    /// For a dangling link: where its target would be created, as the kernel would resolve
    /// it (the real path of the target's nearest existing ancestor); `None` when that cannot
    /// be told (the target climbs with `..`, or nothing resolves).
    pub dangling_target_dir: Option<PathBuf>,
    /// More than 40 links, or a link that cannot be read: where the resolution stopped.
    pub unresolved: Option<PathBuf>,
}

impl LinkChain {
    pub fn is_empty(&self) -> bool {
        self.links.is_empty() && self.dangling.is_none() && self.unresolved.is_none()
    }
}

/// The links followed when resolving `path` (absolute) component by component, as the kernel
/// does. Stops at the first component that does not exist.
pub fn chain(fs: &dyn FsView, path: &Path) -> LinkChain {
    const MAX_LINKS: usize = 40;
    let mut out = LinkChain::default();
    let mut todo: VecDeque<OsString> = components(path);
    let mut at = PathBuf::from("/");
    while let Some(c) = todo.pop_front() {
        if c == ".." {
            at.pop();
            continue;
        }
        let next = at.join(&c);
        if fs.is_symlink(&next) {
            if out.links.len() >= MAX_LINKS {
                out.unresolved = Some(next);
                return out;
            }
            let Some(target) = fs.read_link(&next) else {
                out.unresolved = Some(next);
                return out;
            };
            out.links.push(next.clone());
            if fs.kind(&next).is_none() {
                out.dangling_target_dir = creation_dir(fs, &at, &target);
                out.dangling = Some((next, target));
                return out;
            }
            if target.is_absolute() {
                at = PathBuf::from("/");
            }
            for t in components(&target).into_iter().rev() {
                todo.push_front(t);
            }
            continue;
        }
        if fs.kind(&next).is_none() {
            return out;
        }
        at = next;
    }
    out
}

/// Where a dangling link's `target` (as stored in a link in `dir`) would be created: the real
/// path of its nearest existing ancestor. `None` when the target climbs with `..` (the kernel
/// resolves `..` after links, which a lexical walk cannot follow).
fn creation_dir(fs: &dyn FsView, dir: &Path, target: &Path) -> Option<PathBuf> {
    if target.components().any(|c| c == Component::ParentDir) {
        return None;
    }
    let abs = dir.join(target);
    abs.ancestors()
        .skip(1)
        .find(|a| fs.kind(a).is_some())
        .and_then(|a| fs.realpath(a))
}

/// Which links the plan pins: every link on the way to a protected path whose directory the
/// command may write. A link that leads nowhere, or that cannot be followed, where the
/// command could act on it, refuses the plan (an error note): bwrap cannot mount there.
pub(super) fn pins(
    ir: &Ir,
    through: &[ThroughLinks],
    notes: &mut Vec<Diagnostic>,
) -> BTreeMap<PathBuf, Origin> {
    let writable = |p: &Path| {
        ir.decide_path(p, Access::Write).allowed && ir.decide_path(p, Access::Read).allowed
    };
    let in_writable_dir = |p: &Path| p.parent().is_some_and(writable);
    let mut pins = BTreeMap::new();
    let mut refused: Vec<PathBuf> = Vec::new();
    for t in through {
        let protected = t.force.is_some() || !writable(&t.at);
        if !protected {
            continue;
        }
        let who = ir.describe(&t.origin);
        if let Some((link, target)) = &t.chain.dangling {
            let dir = link.parent().unwrap_or(Path::new("/"));
            let target_abs = crate::path::lexical_normalize(&dir.join(target));
            // A target the command could create would make the protected name its file: refuse.
            // One it cannot create (its directory is read-only in the sandbox, both as spelled
            // and as the kernel resolves it) leaves the name leading nowhere for the whole run;
            // pinning the link (below) keeps it so, and the run goes on. That matters on a
            // shared machine: anyone can leave a dangling `.bashrc` under a world-writable
            // write root such as /tmp, and that must not stop every run.
            let creatable = in_writable_dir(&target_abs)
                || t.chain.dangling_target_dir.as_deref().is_none_or(writable);
            if !creatable {
                for l in t.chain.links.iter().filter(|l| in_writable_dir(l)) {
                    pins.entry(l.clone()).or_insert_with(|| t.origin.clone());
                }
                continue;
            }
            if (in_writable_dir(link) || in_writable_dir(&target_abs)) && !refused.contains(link) {
                refused.push(link.clone());
                notes.push(refusal(&t.origin, code::DANGLING_SYMLINK, format!(
                    "{who}: {} is a symlink to {}, which does not exist; srt protects {} there and cannot mount on a link that leads nowhere",
                    link.display(), target.display(), t.at.display()),
                    format!("remove the link (`rm {}`), or create what it points to, then run again", link.display())));
            }
            continue;
        }
        if let Some(link) = &t.chain.unresolved {
            if in_writable_dir(link) && !refused.contains(link) {
                refused.push(link.clone());
                notes.push(refusal(&t.origin, code::DANGLING_SYMLINK, format!(
                    "{who}: {} is a symlink srt cannot follow (a loop, or more than 40 links); srt protects {} there and cannot mount on it",
                    link.display(), t.at.display()),
                    format!("remove the link (`rm {}`), then run again", link.display())));
            }
            continue;
        }
        for l in &t.chain.links {
            if in_writable_dir(l) {
                pins.entry(l.clone()).or_insert_with(|| t.origin.clone());
            }
        }
    }
    pins
}

/// The normal and `..` components of `path` (`.` and the root dropped).
fn components(path: &Path) -> VecDeque<OsString> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::fsview::FakeFs;

    #[test]
    fn links_are_listed_in_order_at_their_real_location() {
        let fs = FakeFs::new()
            .dir("/srv/realgit/hooks")
            .link("/p/a", "/srv/realgit")
            .link("/p/.git", "/p/a")
            .link("/home/u", "/data/u")
            .dir("/data/u/x");
        let c = chain(&fs, Path::new("/p/.git/hooks"));
        assert_eq!(c.links, [PathBuf::from("/p/.git"), PathBuf::from("/p/a")]);
        assert!(c.dangling.is_none() && c.unresolved.is_none());
        let c = chain(&fs, Path::new("/home/u/x/missing/deeper"));
        assert_eq!(c.links, [PathBuf::from("/home/u")]);
        assert!(chain(&fs, Path::new("/srv/realgit/hooks")).is_empty());
    }

    #[test]
    fn a_dangling_link_and_a_loop_are_reported() {
        let fs = FakeFs::new()
            .dir("/p")
            .link("/p/.bashrc", "/nowhere/rc")
            .link("/p/loop", "/p/loop");
        let c = chain(&fs, Path::new("/p/.bashrc"));
        assert_eq!(
            c.dangling,
            Some((PathBuf::from("/p/.bashrc"), PathBuf::from("/nowhere/rc")))
        );
        let c = chain(&fs, Path::new("/p/loop/x"));
        assert!(c.unresolved.is_some() || c.dangling.is_some());
    }

    #[test]
    fn relative_targets_resolve_against_the_links_directory() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir_all(root.join("realgit/hooks")).unwrap();
        std::fs::create_dir(root.join("p")).unwrap();
        std::os::unix::fs::symlink("../realgit", root.join("p/.git")).unwrap();
        std::os::unix::fs::symlink("gone", root.join("p/.zshrc")).unwrap();
        let fs = crate::fsview::RealFs;
        let c = chain(&fs, &root.join("p/.git/hooks"));
        assert_eq!(c.links, [root.join("p/.git")]);
        let c = chain(&fs, &root.join("p/.zshrc"));
        assert_eq!(
            c.dangling,
            Some((root.join("p/.zshrc"), PathBuf::from("gone")))
        );
    }
}
