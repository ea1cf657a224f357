//! Programs srt executes on the host: which bubblewrap, and refusing one the sandbox could
//! replace.
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

/// Where srt looks for bubblewrap when the settings name none, in this order, before `PATH`:
/// places only root writes on a usual system, so that neither `PATH`'s order (npm puts the
/// project's `node_modules/.bin` first) nor the project chooses the program srt executes.
pub const SYSTEM_BWRAP: [&str; 3] = ["/usr/bin/bwrap", "/usr/local/bin/bwrap", "/bin/bwrap"];

/// Where the bwrap srt uses came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BwrapSource {
    /// `bwrapPath` in the settings.
    Configured,
    /// One of [`SYSTEM_BWRAP`].
    System,
    /// Found on `PATH`, none of the system locations having one.
    Path,
}

/// The bwrap srt executes, and why that one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bwrap {
    pub path: PathBuf,
    pub source: BwrapSource,
}

impl Bwrap {
    /// Why this bwrap, in words (`srt doctor`).
    pub fn why(&self) -> &'static str {
        match self.source {
            BwrapSource::Configured => "bwrapPath in the settings",
            BwrapSource::System => {
                "the first system location that has one (/usr/bin, /usr/local/bin, /bin)"
            }
            BwrapSource::Path => "found on PATH, as none of /usr/bin, /usr/local/bin, /bin has one",
        }
    }
}

/// Finds `bwrap`: the settings' `bwrapPath` if given, else the first of [`SYSTEM_BWRAP`], else
/// the first on `PATH` (absolute directories only).
pub fn find_bwrap(configured: Option<&Path>) -> Option<Bwrap> {
    let system: Vec<&Path> = SYSTEM_BWRAP.iter().map(Path::new).collect();
    find_bwrap_in(configured, &system, std::env::var_os("PATH").as_deref())
}

fn find_bwrap_in(
    configured: Option<&Path>,
    system: &[&Path],
    path_var: Option<&std::ffi::OsStr>,
) -> Option<Bwrap> {
    let found = |path: &Path, source| Bwrap {
        path: path.to_path_buf(),
        source,
    };
    if let Some(p) = configured {
        return is_executable(p).then(|| found(p, BwrapSource::Configured));
    }
    if let Some(p) = system.iter().find(|p| is_executable(p)) {
        return Some(found(p, BwrapSource::System));
    }
    std::env::split_paths(path_var?)
        // A relative entry (`.`, an empty one) would let the working directory choose.
        .filter(|d| d.is_absolute())
        .map(|d| d.join("bwrap"))
        .find(|p| is_executable(p))
        .map(|p| found(&p, BwrapSource::Path))
}

/// Why srt will not use a bwrap, and what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub cause: String,
    pub fix: String,
}

pub(crate) fn not_installed(configured: Option<&Path>) -> Refusal {
    let where_ = configured.map_or_else(
        || "in /usr/bin, /usr/local/bin, /bin or on PATH".to_string(),
        |p| format!("at {} (bwrapPath)", p.display()),
    );
    Refusal {
        cause: format!("bubblewrap is not installed: no executable bwrap {where_}"),
        fix: "install it: `apt-get install bubblewrap` (Debian/Ubuntu), `dnf install bubblewrap` (Fedora), `pacman -S bubblewrap` (Arch)".into(),
    }
}

/// Refuses a bwrap the sandbox `ir` describes could replace ([`sandbox_could_replace`]).
pub fn check_out_of_reach(bwrap: &Bwrap, ir: &Ir) -> Result<(), Refusal> {
    let why = match sandbox_could_replace(&bwrap.path, ir) {
        None => return Ok(()),
        Some(why) => why,
    };
    // SAFETY: geteuid cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    let fix = if bwrap.source == BwrapSource::System && root {
        "srt runs as root, so the sandbox may write every directory a write root (or filesystem.disabled) covers, system directories included: run srt as an unprivileged user, or narrow the write roots"
    } else {
        "use a bwrap outside every write root: install bubblewrap with the system's package manager (/usr/bin/bwrap) and drop bwrapPath, or point bwrapPath at one no write root covers"
    };
    Err(Refusal {
        cause: format!(
            "the sandbox could replace {} ({}): {why}; srt would then run the command's program on the host",
            bwrap.path.display(),
            bwrap.why()
        ),
        fix: fix.into(),
    })
}

/// The bwrap `srt run` executes: [`find_bwrap`]'s, unless the sandbox could replace it.
pub fn choose_bwrap(configured: Option<&Path>, ir: &Ir) -> Result<Bwrap, Refusal> {
    let bwrap = find_bwrap(configured).ok_or_else(|| not_installed(configured))?;
    check_out_of_reach(&bwrap, ir)?;
    Ok(bwrap)
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

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
                "{} has {} hard links and you may write it: one of them may lie where the sandbox writes (`find / -xdev -samefile {}` lists them; perf's ~/.debug build-id cache makes such links)",
                target.display(),
                meta.nlink(),
                target.display()
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

    fn executable(path: &Path) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// bwrapPath, then the system locations in order, then PATH's absolute entries.
    #[test]
    fn bwrap_is_looked_for_in_a_fixed_order() {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        let (configured, sys1, sys2) = (t.join("c/bwrap"), t.join("s1/bwrap"), t.join("s2/bwrap"));
        let on_path = t.join("p/bwrap");
        for p in [&configured, &sys2, &on_path] {
            executable(p);
        }
        let system = [sys1.as_path(), sys2.as_path()];
        // A relative entry that leads to the system's bwrap from any working directory.
        let relative = format!("{}usr/bin", "../".repeat(64));
        assert!(Path::new(&relative).join("bwrap").is_file());
        let path_var = std::ffi::OsString::from(format!("{relative}:{}", t.join("p").display()));
        let found = |c: Option<&Path>, system: &[&Path]| {
            find_bwrap_in(c, system, Some(&path_var)).map(|b| (b.path, b.source))
        };
        assert_eq!(
            found(Some(&configured), &system),
            Some((configured.clone(), BwrapSource::Configured))
        );
        assert_eq!(
            found(Some(&sys1), &system),
            None,
            "a missing bwrapPath is not replaced"
        );
        assert_eq!(
            found(None, &system),
            Some((sys2.clone(), BwrapSource::System))
        );
        assert_eq!(found(None, &[]), Some((on_path.clone(), BwrapSource::Path)));
        // A relative PATH entry is never searched, even when it has a bwrap.
        std::fs::remove_file(&on_path).unwrap();
        assert_eq!(found(None, &[]), None);
    }

    /// A bwrap found on PATH under a write root is refused, as a configured one is.
    #[test]
    fn a_bwrap_under_a_write_root_is_refused_wherever_it_came_from() {
        let tmp = tempfile::tempdir().unwrap();
        let project = tmp.path().canonicalize().unwrap().join("project");
        let planted = project.join("node_modules/.bin/bwrap");
        executable(&planted);
        let json = r#"{"network":{"allowedDomains":[],"deniedDomains":[]},
            "filesystem":{"denyRead":[],"allowWrite":["."],"denyWrite":[]}}"#;
        let loaded = srt_schema::load_str(".srt.json", None, json);
        let opts = srt_compiler::ResolveOptions {
            cwd: project.clone(),
            home: tmp.path().join("home"),
            settings_path: None,
        };
        let (ir, _) = srt_compiler::resolve(&loaded.settings, None, &opts, &srt_compiler::RealFs);
        let path_var = project.join("node_modules/.bin").into_os_string();
        let found = find_bwrap_in(None, &[], Some(&path_var)).unwrap();
        assert_eq!(found.source, BwrapSource::Path);
        let refusal = check_out_of_reach(&found, &ir).unwrap_err();
        assert!(
            refusal.cause.contains("found on PATH") && refusal.cause.contains("allowWrite[0]"),
            "{refusal:?}"
        );
        // The system's bwrap is out of this policy's reach.
        let system = Bwrap {
            path: PathBuf::from("/usr/bin/bwrap"),
            source: BwrapSource::System,
        };
        assert_eq!(check_out_of_reach(&system, &ir), Ok(()));
    }

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
