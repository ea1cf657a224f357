//! The host's mounts (Linux's `/proc/self/mountinfo`), for questions a path rule cannot answer
//! alone: a file reachable under another mount point of the same filesystem (a bind mount of
//! a parent directory) is one file under two names.

use std::path::{Path, PathBuf};

/// One mounted subtree: `root` (a directory of the filesystem on `device`) seen at
/// `mount_point`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    /// `MAJOR:MINOR` of the filesystem.
    pub device: String,
    pub root: PathBuf,
    pub mount_point: PathBuf,
}

/// The mounts of a `mountinfo` text, in its order (later mounts cover earlier ones at the same
/// point). Lines that do not parse are skipped.
pub fn parse_mountinfo(text: &str) -> Vec<Mount> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split(' ');
            let (_id, _parent) = (fields.next()?, fields.next()?);
            let device = fields.next()?.to_string();
            let root = unescape(fields.next()?);
            let mount_point = unescape(fields.next()?);
            Some(Mount {
                device,
                root,
                mount_point,
            })
        })
        .collect()
}

/// `mountinfo` writes space, tab, newline and backslash as `\ooo`.
fn unescape(field: &str) -> PathBuf {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let octal = b
            .get(i + 1..i + 4)
            .filter(|d| b[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match octal {
            Some(d) => {
                let v = d.iter().fold(0u32, |acc, c| acc * 8 + u32::from(c - b'0'));
                out.push(u8::try_from(v).unwrap_or(b'?'));
                i += 4;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        PathBuf::from(std::ffi::OsString::from_vec(out))
    }
    #[cfg(not(unix))]
    {
        PathBuf::from(String::from_utf8_lossy(&out).into_owned())
    }
}

/// The mount `path` is seen through: the deepest mount point above it, the later of equals.
fn holder<'m>(mounts: &'m [Mount], path: &Path) -> Option<(usize, &'m Mount)> {
    mounts
        .iter()
        .enumerate()
        .filter(|(_, m)| path.starts_with(&m.mount_point))
        .max_by_key(|(i, m)| (m.mount_point.components().count(), *i))
}

/// The other paths under which the file at `path` (an absolute, resolved path) is reachable:
/// through every other mount of its filesystem whose root holds it, where no deeper mount
/// covers that path.
pub fn other_names(mounts: &[Mount], path: &Path) -> Vec<PathBuf> {
    let Some((index, own)) = holder(mounts, path) else {
        return Vec::new();
    };
    let Ok(below) = path.strip_prefix(&own.mount_point) else {
        return Vec::new();
    };
    let in_fs = own.root.join(below);
    let mut out = Vec::new();
    for (i, m) in mounts.iter().enumerate() {
        if i == index || m.device != own.device {
            continue;
        }
        let Ok(rest) = in_fs.strip_prefix(&m.root) else {
            continue;
        };
        let other = m.mount_point.join(rest);
        if other != path && holder(mounts, &other).is_some_and(|(j, _)| j == i) {
            out.push(other);
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const INFO: &str = "\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
30 22 8:1 /home /mnt/home\\040copy rw,relatime shared:1 - ext4 /dev/sda1 rw
31 22 0:5 / /proc rw - proc proc rw
32 22 8:1 /home/dev/private /mnt/home\\040copy/dev/private rw - ext4 /dev/sda1 rw
33 22 8:2 / /data rw - ext4 /dev/sda2 rw
";

    #[test]
    fn parses_and_unescapes() {
        let m = parse_mountinfo(INFO);
        assert_eq!(m.len(), 5);
        assert_eq!(m[1].mount_point, Path::new("/mnt/home copy"));
        assert_eq!(m[1].root, Path::new("/home"));
        assert_eq!(m[1].device, "8:1");
    }

    #[test]
    fn a_bind_of_a_parent_is_another_name() {
        let m = parse_mountinfo(INFO);
        assert_eq!(
            other_names(&m, Path::new("/home/dev/.api-key")),
            [PathBuf::from("/mnt/home copy/dev/.api-key")]
        );
        // Through the bind: the original is the other name.
        assert_eq!(
            other_names(&m, Path::new("/mnt/home copy/dev/.api-key")),
            [PathBuf::from("/home/dev/.api-key")]
        );
        // Another filesystem, or a path no other mount holds: none.
        assert!(other_names(&m, Path::new("/data/key")).is_empty());
        assert!(other_names(&m, Path::new("/etc/key")).is_empty());
        // Where a deeper mount (32) covers part of another (30), the name is 32's.
        assert_eq!(
            other_names(&m, Path::new("/home/dev/private/k")),
            [PathBuf::from("/mnt/home copy/dev/private/k")]
        );
    }
}
