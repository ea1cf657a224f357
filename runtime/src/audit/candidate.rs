//! The walk's closer look at one candidate entry: a protected name (and what lies under it),
//! a `.git`, an entry of unknown type.

use std::ffi::CStr;
use std::os::fd::BorrowedFd;
use std::path::{Path, PathBuf};

use nix::errno::Errno;

use super::finding::What;
use super::fsio::{self, Kind};
use super::walk::{push_name, Cand, Ctx, Walker};

impl Walker<'_> {
    /// Examines one candidate entry; returns whether something was reported.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn candidate(
        &mut self,
        fd: BorrowedFd<'_>,
        path: &mut PathBuf,
        depth: u32,
        ctx: Ctx,
        name: &CStr,
        cand: Cand,
        prior: Option<u32>,
    ) -> bool {
        let meta = match fsio::stat_at(fd, name) {
            Ok(m) => m,
            Err(Errno::ENOENT) => return false,
            Err(e) => {
                push_name(path, name);
                self.unreadable(path, e);
                path.pop();
                return true;
            }
        };
        let changed = self.changed(&meta);
        let protected = match (cand, ctx) {
            (Cand::Name(n), _) => Some((n, n.ends_with("hooks"))),
            (Cand::InProtected, Ctx::Protected { name, hooks }) => Some((name, hooks)),
            _ => None,
        };
        if let Some((protected_name, hooks)) = protected {
            if meta.kind == Kind::Dir {
                let sub = Ctx::Protected {
                    name: protected_name,
                    hooks,
                };
                let live_before = self.live;
                let r = self.descend(Some(fd), None, path, depth, name, sub);
                return match r {
                    Some(r) if r.reported => true,
                    // A protected directory whose own entry changed but none of whose contents
                    // did was moved or renamed into place.
                    Some(_) if self.live > live_before && changed => {
                        push_name(path, name);
                        self.report_name(path, protected_name);
                        path.pop();
                        true
                    }
                    _ => false,
                };
            }
            let sample = hooks && meta.kind == Kind::File && name.to_bytes().ends_with(b".sample");
            // An empty file runs nothing (and is what srt's own stubs are).
            let inert = meta.kind == Kind::File && meta.size == 0;
            if !sample && !inert {
                self.live += 1;
            }
            if changed && !sample && !inert {
                push_name(path, name);
                self.report_name(path, protected_name);
                path.pop();
                return true;
            }
            return false;
        }
        match (cand, meta.kind) {
            (Cand::DotGit, Kind::Dir) => self
                .descend(Some(fd), prior, path, depth, name, Ctx::Plain)
                .is_some_and(|r| r.reported),
            (Cand::DotGit, _) if changed && !(meta.kind == Kind::File && meta.size == 0) => {
                let target = self.pointer_target(fd, name, meta.kind);
                push_name(path, name);
                self.findings.push(path, What::GitPointer { target });
                path.pop();
                true
            }
            (Cand::Unknown, Kind::Dir) => self
                .descend(Some(fd), prior, path, depth, name, ctx)
                .is_some_and(|r| r.reported),
            _ => false,
        }
    }

    pub(super) fn report_name(&mut self, path: &Path, name: &'static str) {
        self.findings.push(path, What::ProtectedName { name });
    }
}
