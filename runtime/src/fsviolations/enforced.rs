//! Did the sandbox refuse it? Asked, in the sandbox's own view, only of an access the policy
//! denies, so that a report says what happened: a write the mounts let through (a protected
//! name deeper than the plan looked, a path spelled through a symlink into a write root) or a
//! read of a glob match made after the plan are not "blocked" (the end-of-run audit reports
//! such writes). It looks at the mounts, not at the rules: `decide_path` names the rule.

use std::ffi::{CString, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::capture::Effect;
use super::wire::AccessKind;

/// `/dev/null`'s device number (1:3): what a hidden file is bound to.
const DEV_NULL: (u32, u32) = (1, 3);

fn c_path(p: &[u8]) -> Option<CString> {
    CString::new(p).ok()
}

fn stat(p: &[u8]) -> Option<libc::stat> {
    let c = c_path(p)?;
    // SAFETY: an all-zero `stat` is valid; the kernel fills it.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: NUL-terminated path and a valid out-pointer.
    (unsafe { libc::stat(c.as_ptr(), &mut st) } == 0).then_some(st)
}

fn statvfs_read_only(p: &[u8]) -> Option<bool> {
    let c = c_path(p)?;
    // SAFETY: as above.
    let mut vfs: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: NUL-terminated path and a valid out-pointer.
    if unsafe { libc::statvfs(c.as_ptr(), &mut vfs) } != 0 {
        return None;
    }
    Some(vfs.f_flag & libc::ST_RDONLY != 0)
}

/// The path itself if it exists, else its nearest existing ancestor (bounded by the path's
/// own depth).
fn nearest_existing(path: &[u8]) -> Option<&[u8]> {
    let mut p = path;
    loop {
        if stat(p).is_some() {
            return Some(p);
        }
        let cut = p.iter().rposition(|&b| b == b'/')?;
        p = if cut == 0 { b"/" } else { &p[..cut] };
        if p == b"/" {
            return stat(p).map(|_| p);
        }
    }
}

fn is_hidden_file(st: &libc::stat) -> bool {
    st.st_mode & libc::S_IFMT == libc::S_IFCHR
        && (libc::major(st.st_rdev), libc::minor(st.st_rdev)) == DEV_NULL
}

fn lexists(p: &[u8]) -> bool {
    let Some(c) = c_path(p) else {
        return false;
    };
    // SAFETY: as in `stat`.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: NUL-terminated path and a valid out-pointer.
    unsafe { libc::lstat(c.as_ptr(), &mut st) == 0 }
}

/// Whether the sandbox refused `access` to `path` (absolute, folded), for a call with this
/// `effect` (one that only creates was answered `EEXIST` where the path exists, one that acts
/// on it `ENOENT` where it does not, whatever the mount).
pub fn refused(path: &[u8], access: AccessKind, effect: Effect) -> bool {
    let exists = lexists(path);
    match effect {
        Effect::CreatesOnly if exists => return false,
        Effect::NeedsExisting if !exists && access == AccessKind::Write => return false,
        _ => {}
    }
    let Some(existing) = nearest_existing(path) else {
        return false;
    };
    match access {
        // A read-only mount answers EROFS; a hidden directory is one too (sealed).
        AccessKind::Write => statvfs_read_only(existing).unwrap_or(false),
        AccessKind::Read => {
            if existing == path {
                // A hidden file is `/dev/null`; a hidden directory an empty read-only tmpfs.
                stat(path).is_some_and(|st| {
                    (is_hidden_file(&st) && path != b"/dev/null")
                        || (st.st_mode & libc::S_IFMT == libc::S_IFDIR && empty_read_only(path))
                })
            } else {
                // Not there: hidden when what holds it is a hidden (empty, sealed) directory.
                empty_read_only(existing)
            }
        }
    }
}

fn empty_read_only(dir: &[u8]) -> bool {
    if statvfs_read_only(dir) != Some(true) {
        return false;
    }
    std::fs::read_dir(Path::new(OsStr::from_bytes(dir)))
        .map(|mut d| d.next().is_none())
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_exists_and_where_it_lives() {
        assert_eq!(
            nearest_existing(b"/proc/self/nonexistent/x"),
            Some(&b"/proc/self"[..])
        );
        assert_eq!(nearest_existing(b"/"), Some(&b"/"[..]));
        // /dev/null itself is not a hidden file.
        assert!(!refused(
            b"/dev/null",
            AccessKind::Read,
            Effect::NeedsExisting
        ));
        // Creating what exists is EEXIST, changing what does not is ENOENT: no refusals,
        // even on a read-only mount.
        assert!(!refused(b"/proc", AccessKind::Write, Effect::CreatesOnly));
        assert!(!refused(
            b"/proc/nonexistent-srt",
            AccessKind::Write,
            Effect::NeedsExisting
        ));
        assert!(stat(b"/dev/null").is_some_and(|st| is_hidden_file(&st)));
        // A writable place refuses nothing.
        let dir = std::env::temp_dir();
        assert!(!refused(
            dir.as_os_str().as_bytes(),
            AccessKind::Write,
            Effect::Either
        ));
    }
}
