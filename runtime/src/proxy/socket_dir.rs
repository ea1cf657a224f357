//! The private directory the proxy sockets live in: mode 0700, owned by this user, named
//! `srt-<pid>-<random>` under `$XDG_RUNTIME_DIR` (or the temp dir), removed on shutdown.
//! Directories left by runs that were killed are swept on the next start.

use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::ProxyError;

pub(crate) const HTTP_SOCKET: &str = "http.sock";
pub(crate) const SOCKS_SOCKET: &str = "socks.sock";

/// The longest path a Unix socket address holds (`sun_path` is 108 bytes with the NUL).
const SUN_PATH_MAX: usize = 107;

/// Where the directory goes when the caller does not say.
pub(crate) fn default_parent() -> PathBuf {
    std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute() && p.is_dir())
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

/// Creates a fresh private directory under `parent`.
pub(crate) fn create(parent: &Path) -> Result<PathBuf, ProxyError> {
    sweep_stale(parent);
    let pid = std::process::id();
    let mut last = None;
    for _ in 0..8 {
        let dir = parent.join(format!("srt-{pid}-{}", random_suffix()));
        if dir.join(HTTP_SOCKET).as_os_str().len() > SUN_PATH_MAX {
            return Err(ProxyError::PathTooLong { path: dir });
        }
        match fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => {
                // The mode is set explicitly too: a umask cannot widen it, but be certain.
                fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).map_err(|source| {
                    ProxyError::SocketDir {
                        path: dir.clone(),
                        source,
                    }
                })?;
                return Ok(dir);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(source) => return Err(ProxyError::SocketDir { path: dir, source }),
        }
    }
    Err(ProxyError::SocketDir {
        path: parent.to_path_buf(),
        source: last.unwrap_or_else(|| io::Error::other("no free directory name")),
    })
}

/// Removes the sockets and the directory (only what srt put there).
pub(crate) fn remove(dir: &Path) {
    for name in [HTTP_SOCKET, SOCKS_SOCKET] {
        let _ = fs::remove_file(dir.join(name));
    }
    let _ = fs::remove_dir(dir);
}

/// Removes `srt-<pid>-<hex>` directories of this user whose process is gone.
fn sweep_stale(parent: &Path) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    let uid = nix::unistd::getuid().as_raw();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(pid) = stale_pid(name) else { continue };
        if Path::new("/proc").join(pid.to_string()).exists() {
            continue;
        }
        let path = entry.path();
        match fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() && m.uid() == uid => remove(&path),
            _ => {}
        }
    }
}

/// The pid in a directory name of ours, `srt-<pid>-<16 hex digits>`.
fn stale_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix("srt-")?;
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
        let meta = fs::metadata(&dir).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o700);
        assert!(dir
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with(&format!("srt-{}-", std::process::id())));

        // A directory of a dead process is swept; ours and foreign names are kept.
        let stale = parent.path().join("srt-999999999-0123456789abcdef");
        fs::create_dir(&stale).unwrap();
        fs::write(stale.join(HTTP_SOCKET), b"").unwrap();
        let foreign = parent.path().join("srt-1-notours");
        fs::create_dir(&foreign).unwrap();
        let second = create(parent.path()).unwrap();
        assert!(!stale.exists());
        assert!(foreign.exists());
        assert!(dir.exists() && second.exists());
        remove(&dir);
        assert!(!dir.exists());
    }

    #[test]
    fn too_long_a_path_is_refused() {
        let parent = tempfile::tempdir().unwrap();
        let deep = parent.path().join("x".repeat(100));
        fs::create_dir(&deep).unwrap();
        assert!(matches!(create(&deep), Err(ProxyError::PathTooLong { .. })));
    }
}
