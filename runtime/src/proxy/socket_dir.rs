//! The private directory the proxy sockets live in: mode 0700, owned by this user, named
//! `srt-<pid>-<random>`, removed on shutdown. Directories left by runs that were killed are
//! swept on the next start.
//!
//! The sandbox sees this directory (read-only) and the init connects to the sockets in it, so
//! where it lies matters: [`parent_for`] puts it where the policy lets the command write neither
//! it nor any directory above it, so that no command can rename a directory above it and plant
//! another socket under its name. srt keeps a descriptor of the directory it made, takes the
//! sockets' identities through it, and removes only what is still its own.

use std::ffi::OsStr;
use std::fs;
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::fcntl::{openat, AtFlags, OFlag};
use nix::sys::stat::{fstat, fstatat, Mode, SFlag};
use nix::unistd::{unlinkat, UnlinkatFlags};
use srt_compiler::backend::linux::FileId;
use srt_compiler::{Access, Ir};

use super::ProxyError;

pub(crate) const HTTP_SOCKET: &str = "http.sock";
pub(crate) const SOCKS_SOCKET: &str = "socks.sock";

/// The longest path a Unix socket address holds (`sun_path` is 108 bytes with the NUL).
const SUN_PATH_MAX: usize = 107;

/// Where the directory goes when the caller does not say.
pub(crate) fn default_parent() -> PathBuf {
    candidates()
        .into_iter()
        .next()
        .unwrap_or_else(std::env::temp_dir)
}

/// `$XDG_RUNTIME_DIR`, the temp dir (`$TMPDIR`, else `/tmp`): those that are directories,
/// canonical.
fn candidates() -> Vec<PathBuf> {
    let runtime = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    let mut out: Vec<PathBuf> = Vec::new();
    for c in runtime.into_iter().chain([std::env::temp_dir()]) {
        if let Ok(real) = fs::canonicalize(&c) {
            if real.is_dir() && !out.contains(&real) {
                out.push(real);
            }
        }
    }
    out
}

/// The parent for a run of `ir`'s socket directory: the first candidate that the command may
/// write neither itself nor through any directory above it. When every candidate is writable
/// (`allowWrite: ["/"]`), the first one: the init's socket checks still hold there, but the
/// directory can be renamed away under the command's hands (the bridge then keeps working
/// through the sockets it opened; only cleanup has to look for the directory).
pub fn parent_for(ir: &Ir) -> PathBuf {
    let all = candidates();
    all.iter()
        .find(|c| {
            c.ancestors()
                .all(|a| !ir.decide_path(a, Access::Write).allowed)
        })
        .or(all.first())
        .cloned()
        .unwrap_or_else(std::env::temp_dir)
}

fn random_suffix() -> String {
    let mut bytes = [0u8; 8];
    let filled = fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if filled.is_err() {
        // Uniqueness, not secrecy, is what the name needs; create_dir refuses a clash.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        bytes = (t.as_nanos() as u64).to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The directory srt made, held open: its path when made, and what it is.
#[derive(Debug)]
pub(crate) struct SocketDir {
    pub path: PathBuf,
    fd: OwnedFd,
    id: FileId,
}

/// Opens `path` as a directory without following a final symlink (`O_PATH` on Linux: nothing
/// is read through it; the module is built on macOS too, where the proxies use loopback).
fn open_dir(path: &Path) -> io::Result<OwnedFd> {
    #[cfg(target_os = "linux")]
    let access = OFlag::O_PATH;
    #[cfg(not(target_os = "linux"))]
    let access = OFlag::O_RDONLY;
    openat(
        nix::fcntl::AT_FDCWD,
        path,
        access | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(io::Error::from)
}

/// Is `st` a directory of this user that nobody else may enter (0700)?
fn private_dir(st: &nix::sys::stat::FileStat) -> bool {
    SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR
        && st.st_uid == nix::unistd::geteuid().as_raw()
        && st.st_mode & 0o7777 == 0o700
}

#[allow(clippy::unnecessary_cast, clippy::useless_conversion)] // dev_t is i32 on macOS
fn file_id(st: &nix::sys::stat::FileStat) -> FileId {
    FileId {
        dev: st.st_dev as u64,
        ino: st.st_ino as u64,
    }
}

impl SocketDir {
    /// The identity of the socket `name` in this directory, taken through the descriptor: it
    /// must be a socket of this user.
    pub fn socket_id(&self, name: &str) -> io::Result<FileId> {
        let st = fstatat(&self.fd, name, AtFlags::AT_SYMLINK_NOFOLLOW)?;
        let is_socket = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFSOCK;
        if !is_socket || st.st_uid != nix::unistd::geteuid().as_raw() {
            return Err(io::Error::other(format!(
                "{} is not a socket of this user",
                self.path.join(name).display()
            )));
        }
        Ok(file_id(&st))
    }

    /// Removes the sockets (through the descriptor, so wherever the directory has been moved)
    /// and the directory, if it is still where the descriptor says and still srt's.
    pub fn remove(&self) {
        remove_sockets(&self.fd);
        let here = fs::read_link(format!("/proc/self/fd/{}", self.fd.as_raw_fd()))
            .unwrap_or_else(|_| self.path.clone());
        for path in [here, self.path.clone()] {
            if is_dir_with_id(&path, self.id) {
                let _ = fs::remove_dir(&path);
                return;
            }
        }
    }
}

/// Unlinks `http.sock` and `socks.sock` in `dir` when they are sockets.
fn remove_sockets(dir: &OwnedFd) {
    for name in [HTTP_SOCKET, SOCKS_SOCKET] {
        let Ok(st) = fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW) else {
            continue;
        };
        if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFSOCK {
            let _ = unlinkat(dir, name, UnlinkatFlags::NoRemoveDir);
        }
    }
}

fn is_dir_with_id(path: &Path, id: FileId) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.is_dir() && m.dev() == id.dev && m.ino() == id.ino)
}

/// Creates a fresh private directory under `parent`.
pub(crate) fn create(parent: &Path) -> Result<SocketDir, ProxyError> {
    sweep_stale(parent);
    let pid = std::process::id();
    let mut last = None;
    for _ in 0..8 {
        let dir = parent.join(format!("srt-{pid}-{}", random_suffix()));
        if dir.join(HTTP_SOCKET).as_os_str().len() > SUN_PATH_MAX {
            return Err(ProxyError::PathTooLong { path: dir });
        }
        match fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => return hold(dir),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(source) => return Err(ProxyError::SocketDir { path: dir, source }),
        }
    }
    Err(ProxyError::SocketDir {
        path: parent.to_path_buf(),
        source: last.unwrap_or_else(|| io::Error::other("no free directory name")),
    })
}

/// Opens the directory just made and checks it is still a private directory of this user.
fn hold(path: PathBuf) -> Result<SocketDir, ProxyError> {
    let fail = |source| ProxyError::SocketDir {
        path: path.clone(),
        source,
    };
    // The mode is set explicitly too: a umask cannot widen it, but be certain.
    fs::set_permissions(&path, fs::Permissions::from_mode(0o700)).map_err(fail)?;
    let fd = open_dir(&path).map_err(fail)?;
    let st = fstat(fd.as_fd()).map_err(|e| fail(e.into()))?;
    if !private_dir(&st) {
        return Err(fail(io::Error::other(
            "it was replaced by something that is not a private directory of this user",
        )));
    }
    Ok(SocketDir {
        id: file_id(&st),
        path,
        fd,
    })
}

/// Removes `srt-<pid>-<hex>` directories of this user whose process is gone: only private
/// (0700) directories of this user, only the sockets in them, through a descriptor (a directory
/// swapped for a symlink meanwhile is not followed).
fn sweep_stale(parent: &Path) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = stale_pid(&name) else {
            continue;
        };
        if Path::new("/proc").join(pid.to_string()).exists() {
            continue;
        }
        let path = entry.path();
        let Ok(fd) = open_dir(&path) else { continue };
        let Ok(st) = fstat(fd.as_fd()) else { continue };
        if !private_dir(&st) {
            continue;
        }
        remove_sockets(&fd);
        if is_dir_with_id(&path, file_id(&st)) {
            let _ = fs::remove_dir(&path);
        }
    }
}

/// The pid in a directory name of ours, `srt-<pid>-<16 hex digits>`.
fn stale_pid(name: &OsStr) -> Option<u32> {
    let rest = name.to_str()?.strip_prefix("srt-")?;
    let (pid, suffix) = rest.split_once('-')?;
    if suffix.len() != 16 || !suffix.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    pid.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_directory_and_sweep() {
        let parent = tempfile::tempdir().unwrap();
        let dir = create(parent.path()).unwrap();
        let meta = fs::metadata(&dir.path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o700);
        assert!(dir
            .path
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with(&format!("srt-{}-", std::process::id())));

        // A private directory of a dead process is swept; ours and foreign names are kept.
        let stale = parent.path().join("srt-999999999-0123456789abcdef");
        fs::DirBuilder::new().mode(0o700).create(&stale).unwrap();
        let _listener = std::os::unix::net::UnixListener::bind(stale.join(HTTP_SOCKET)).unwrap();
        let foreign = parent.path().join("srt-1-notours");
        fs::create_dir(&foreign).unwrap();
        let second = create(parent.path()).unwrap();
        assert!(!stale.exists());
        assert!(foreign.exists());
        assert!(dir.path.exists() && second.path.exists());
        dir.remove();
        assert!(!dir.path.exists());
    }

    #[test]
    fn the_sweep_removes_only_sockets_in_private_directories() {
        let parent = tempfile::tempdir().unwrap();
        // Not private (0755): someone else's, or planted; left alone.
        let open = parent.path().join("srt-999999998-0123456789abcdef");
        fs::DirBuilder::new().mode(0o755).create(&open).unwrap();
        fs::set_permissions(&open, fs::Permissions::from_mode(0o755)).unwrap();
        fs::write(open.join(HTTP_SOCKET), "").unwrap();
        // A symlink under srt's name to a directory holding `http.sock`: not followed.
        let victim = parent.path().join("victim");
        fs::DirBuilder::new().mode(0o700).create(&victim).unwrap();
        fs::write(victim.join(HTTP_SOCKET), "keep").unwrap();
        let link = parent.path().join("srt-999999997-0123456789abcdef");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        // Private, but `http.sock` is a regular file: the file stays, so the directory does.
        let private = parent.path().join("srt-999999996-0123456789abcdef");
        fs::DirBuilder::new().mode(0o700).create(&private).unwrap();
        fs::write(private.join(HTTP_SOCKET), "").unwrap();
        sweep_stale(parent.path());
        assert!(open.join(HTTP_SOCKET).exists());
        assert_eq!(
            fs::read_to_string(victim.join(HTTP_SOCKET)).unwrap(),
            "keep"
        );
        assert!(private.join(HTTP_SOCKET).exists());
    }

    #[test]
    fn a_moved_directory_is_removed_where_it_is_now() {
        let parent = tempfile::tempdir().unwrap();
        let dir = create(parent.path()).unwrap();
        let _listener = std::os::unix::net::UnixListener::bind(dir.path.join(HTTP_SOCKET)).unwrap();
        let id = dir.socket_id(HTTP_SOCKET).unwrap();
        assert_eq!(
            id.ino,
            fs::symlink_metadata(dir.path.join(HTTP_SOCKET))
                .unwrap()
                .ino()
        );
        assert!(dir.socket_id(SOCKS_SOCKET).is_err());
        let moved = parent.path().join("moved");
        fs::rename(&dir.path, &moved).unwrap();
        // A planted directory under the old name is not srt's.
        fs::DirBuilder::new().mode(0o700).create(&dir.path).unwrap();
        dir.remove();
        assert!(!moved.exists(), "srt's directory stays where it was moved");
        assert!(dir.path.exists(), "the planted directory was removed");
    }

    #[test]
    fn too_long_a_path_is_refused() {
        let parent = tempfile::tempdir().unwrap();
        let deep = parent.path().join("x".repeat(100));
        fs::create_dir(&deep).unwrap();
        assert!(matches!(create(&deep), Err(ProxyError::PathTooLong { .. })));
    }
}
