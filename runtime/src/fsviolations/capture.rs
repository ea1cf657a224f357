//! What one notified call touches: its paths, read from the caller and made absolute in the
//! sandbox's view (the caller's cwd, or the directory its `dirfd` names, from `/proc/PID/…`),
//! with `.` and `..` folded, and whether it reads or writes. Done while the caller waits, so
//! that what is read is what the kernel is about to use (bar a racing thread: the report is a
//! diagnostic, never a decision).

use srt_compiler::backend::linux::seccomp::observer::{Observed, OpenFlags, PathArg, WRITE_FLAGS};
use srt_compiler::backend::linux::seccomp::Arch;

use super::target::{Reader, Unreadable, PATH_MAX};
use super::wire::AccessKind;

/// `AT_FDCWD`, as the low 32 bits of the argument (the kernel reads an `int`).
const AT_FDCWD: i32 = -100;

/// One path a call touches, absolute and folded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Touched {
    pub access: AccessKind,
    pub path: Vec<u8>,
    pub effect: Effect,
}

/// When the kernel's answer depends on whether the path exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Only creates it: where it exists the answer is `EEXIST` (or, for `O_CREAT` without a
    /// write flag, the file is opened to read), whatever the mount.
    CreatesOnly,
    /// Acts on it: where it does not exist the answer is `ENOENT`.
    NeedsExisting,
    /// Refused on a read-only mount either way (`unlink`, `rename`, `O_CREAT|O_WRONLY`).
    Either,
}

const O_CREAT: u64 = 0o100;
const O_EXCL: u64 = 0o200;
/// `O_WRONLY | O_RDWR | O_TRUNC`: the flags that write to an existing file.
const WRITES_EXISTING: u64 = 0o1 | 0o2 | 0o1000;

/// What was read from one notification.
#[derive(Debug, Default)]
pub struct Capture {
    pub touched: Vec<Touched>,
    /// A `/proc/PID/…` link was read: the caller must be checked to still be the one that
    /// made the call (`SECCOMP_IOCTL_NOTIF_ID_VALID`) before the answer is believed.
    pub used_proc: bool,
    /// The first argument that could not be read, and why.
    pub unreadable: Option<Unreadable>,
}

/// Reads what call `nr` with `args`, made by `pid`, touches. With `reads` false, an open that
/// cannot write is not captured (only `openat2`, whose flags BPF cannot see, gets here so).
pub fn capture(
    reader: &mut Reader,
    arch: Arch,
    reads: bool,
    pid: u32,
    nr: u32,
    args: [u64; 6],
) -> Capture {
    let mut out = Capture::default();
    let Some(call) = Observed::from_number(arch, nr) else {
        return out;
    };
    let flags = match call.open_flags() {
        None => None,
        Some(OpenFlags::Arg(i)) => Some(args[usize::from(i)] & 0xffff_ffff),
        Some(OpenFlags::HowStruct(i)) => match reader.u64_at(pid, args[usize::from(i)]) {
            Ok(flags) => Some(flags),
            Err(e) => {
                out.unreadable = Some(e);
                return out;
            }
        },
    };
    let access = flags.map_or(AccessKind::Write, open_access);
    if access == AccessKind::Read && !reads {
        return out;
    }
    let effect = effect(call, flags);
    for arg in call.paths() {
        match path_of(reader, pid, *arg, &args, &mut out.used_proc) {
            Ok(Some(path)) => out.touched.push(Touched {
                access,
                path,
                effect,
            }),
            Ok(None) => {}
            Err(e) => {
                out.unreadable.get_or_insert(e);
            }
        }
    }
    out
}

fn effect(call: Observed, open_flags: Option<u64>) -> Effect {
    use Observed::*;
    match (call, open_flags) {
        (_, Some(f)) if f & O_CREAT == 0 => Effect::NeedsExisting,
        (_, Some(f)) if f & O_EXCL != 0 || f & WRITES_EXISTING == 0 => Effect::CreatesOnly,
        (_, Some(_)) => Effect::Either,
        (Mkdir | Mkdirat | Mknod | Mknodat | Symlink | Symlinkat | Link | Linkat, None) => {
            Effect::CreatesOnly
        }
        (Creat | Unlink | Unlinkat | Rmdir | Rename | Renameat | Renameat2, None) => Effect::Either,
        _ => Effect::NeedsExisting,
    }
}

fn open_access(flags: u64) -> AccessKind {
    if (flags as u32) & WRITE_FLAGS != 0 {
        AccessKind::Write
    } else {
        AccessKind::Read
    }
}

/// The absolute path an argument names; `None` when it names nothing reportable (the
/// sandbox's own `/proc` and `/dev`, a descriptor that is not a path).
fn path_of(
    reader: &mut Reader,
    pid: u32,
    arg: PathArg,
    args: &[u64; 6],
    used_proc: &mut bool,
) -> Result<Option<Vec<u8>>, Unreadable> {
    let raw = reader.c_string(pid, args[usize::from(arg.path)])?;
    let joined = if raw.first() == Some(&b'/') {
        raw
    } else {
        let dirfd = arg
            .dirfd
            .map_or(AT_FDCWD, |d| args[usize::from(d)] as u32 as i32);
        let link = match dirfd {
            AT_FDCWD => "cwd".to_string(),
            fd if fd >= 0 => format!("fd/{fd}"),
            _ => return Ok(None),
        };
        *used_proc = true;
        let Some(base) = reader.link(pid, &link).filter(|b| b.first() == Some(&b'/')) else {
            return Ok(None);
        };
        join(&base, &raw)
    };
    let path = fold(&joined);
    Ok(through_proc(reader, pid, path, used_proc))
}

fn join(base: &[u8], rel: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(base.len() + rel.len() + 1);
    out.extend_from_slice(base);
    if !rel.is_empty() {
        out.push(b'/');
        out.extend_from_slice(rel);
    }
    out
}

/// `/a/./b//c/../d` → `/a/b/d`, on bytes; `..` at the root stays at the root.
pub fn fold(path: &[u8]) -> Vec<u8> {
    let mut parts: Vec<&[u8]> = Vec::new();
    for part in path.split(|&b| b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    let mut out = Vec::with_capacity(path.len().min(2 * PATH_MAX) + 1);
    for p in parts {
        out.push(b'/');
        out.extend_from_slice(p);
    }
    if out.is_empty() {
        out.push(b'/');
    }
    out
}

/// Paths through `/proc/self`, `/proc/PID/cwd`, `/proc/PID/fd/N` and `/proc/PID/root` lead
/// to the file they name (one level, as the link reads); any other path in the sandbox's own
/// `/proc` or `/dev` is not the policy's and is dropped.
fn through_proc(
    reader: &mut Reader,
    pid: u32,
    path: Vec<u8>,
    used_proc: &mut bool,
) -> Option<Vec<u8>> {
    let Some(rest) = path.strip_prefix(b"/proc/") else {
        return (!is_under(&path, b"/dev")).then_some(path);
    };
    let mut parts = rest.splitn(2, |&b| b == b'/');
    let who = parts.next()?;
    let tail = parts.next()?;
    let who: String = match who {
        b"self" | b"thread-self" => pid.to_string(),
        w if !w.is_empty() && w.iter().all(u8::is_ascii_digit) => {
            String::from_utf8_lossy(w).into_owned()
        }
        _ => return None,
    };
    let (link, after): (String, &[u8]) = if let Some(r) = tail.strip_prefix(b"fd/") {
        let end = r.iter().position(|&b| b == b'/').unwrap_or(r.len());
        let n = std::str::from_utf8(&r[..end]).ok()?;
        n.parse::<u32>().ok()?;
        (format!("fd/{n}"), &r[end..])
    } else {
        ["cwd", "root"]
            .iter()
            .find_map(|l| after_component(tail, l.as_bytes()).map(|r| (l.to_string(), r)))?
    };
    *used_proc = true;
    let pid: u32 = who.parse().ok()?;
    let base = reader
        .link(pid, &link)
        .filter(|b| b.first() == Some(&b'/'))?;
    let mut joined = base;
    joined.extend_from_slice(after);
    let path = fold(&joined);
    (!is_under(&path, b"/proc") && !is_under(&path, b"/dev")).then_some(path)
}

/// `tail` is `name` or `name/…`: the rest (empty or starting with `/`).
fn after_component<'a>(tail: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    let rest = tail.strip_prefix(name)?;
    (rest.is_empty() || rest.first() == Some(&b'/')).then_some(rest)
}

fn is_under(path: &[u8], dir: &[u8]) -> bool {
    path.strip_prefix(dir)
        .is_some_and(|r| r.is_empty() || r.first() == Some(&b'/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_is_lexical_and_stays_under_the_root() {
        assert_eq!(fold(b"/a/./b//c/../d"), b"/a/b/d");
        assert_eq!(fold(b"/../../x"), b"/x");
        assert_eq!(fold(b"/"), b"/");
        assert_eq!(fold(b"/a/b/.."), b"/a");
        assert_eq!(fold(b"/a/\xff/../b"), b"/a/b");
        assert!(is_under(b"/dev/shm/x", b"/dev") && !is_under(b"/devices", b"/dev"));
    }
}
