//! Machine-independent linting: the same file gets the same findings on every machine.
//!
//! `srt lint` resolves a file on a made-up machine that depends on nothing of the one it runs
//! on: a fixed home (`/home/user` for Linux, `/Users/user` for macOS) and project
//! (`~/project`), and a disk that holds nothing ([`NoDisk`]: no file exists, nothing is a
//! symlink). Paths under `/home/NAME`, `/Users/NAME` and `/root` are read as under `~`, and
//! `/home` and `/Users` as the directory that holds the homes, so a policy written on a Mac
//! for `/Users/alice` means the same on a Linux CI runner whose `$HOME` is `/root`.
//!
//! Lints about the local disk ([`crate::Lint::local_disk`]: `missing-path`, and the
//! compiler's `symlink-not-followed`) form their own group: they run against this machine's
//! disk, `$HOME` and working directory, only when asked ([`Local`]), and `srt lint` asks
//! unless it runs in CI (`CI` set) or under pre-commit (`PRE_COMMIT` set), or `--portable`
//! says not to. Their messages say "on this machine".
//!
//! When no `--target` is given, the OS a file is written for is read from the file itself
//! ([`file_target`]) where it says: macOS-only keys or paths such as `/Users` and `~/Library`,
//! or Linux-only keys or paths such as `/home` and `/proc`.

use std::path::{Path, PathBuf};

use srt_compiler::{resolve, FsView, Ir, ResolveOptions};
use srt_schema::{Diagnostic, Loaded, Settings, Severity, Span};

use crate::{apply_levels, Finding, Level, LevelConfig, LintContext, Target};

/// A disk with nothing on it: every path is missing, nothing is a symlink.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoDisk;

impl FsView for NoDisk {
    fn realpath(&self, _path: &Path) -> Option<PathBuf> {
        None
    }

    fn kind(&self, _path: &Path) -> Option<srt_compiler::FileKind> {
        None
    }
}

/// The directory that holds the homes on `target`.
pub fn homes_dir(target: Target) -> &'static str {
    match target {
        Target::Linux => "/home",
        Target::Macos => "/Users",
    }
}

/// The made-up machine a file is linted on: `~` is `HOMES/user`, the project `~/project`, and
/// the file sits in the project. `--home` and `--cwd`, when given, replace them.
pub fn place(
    target: Target,
    file_name: &str,
    home: Option<&Path>,
    cwd: Option<&Path>,
) -> ResolveOptions {
    let home = home.map_or_else(
        || PathBuf::from(homes_dir(target)).join("user"),
        Path::to_path_buf,
    );
    let cwd = cwd.map_or_else(|| home.join("project"), Path::to_path_buf);
    let name = Path::new(file_name)
        .file_name()
        .map_or_else(|| ".srt.json".into(), |n| n.to_os_string());
    ResolveOptions {
        settings_path: Some(cwd.join(name)),
        cwd,
        home,
    }
}

/// A spelling under a home (`/home/NAME/…`, `/Users/NAME/…`, `/root/…`) rewritten under `~`,
/// and `/home` or `/Users` as `homes`; `None` when it names no home.
pub fn as_home(spelling: &str, homes: &str) -> Option<String> {
    let rest = spelling.strip_prefix('/')?;
    let (first, after) = match rest.split_once('/') {
        Some((f, a)) => (f, Some(a)),
        None => (rest, None),
    };
    match first {
        "root" => Some(match after {
            Some(a) if !a.is_empty() => format!("~/{a}"),
            _ => "~".into(),
        }),
        "home" | "Users" => {
            let Some(after) = after.filter(|a| !a.is_empty()) else {
                return Some(format!("{homes}{}", if after.is_some() { "/" } else { "" }));
            };
            let (name, tail) = match after.split_once('/') {
                Some((n, t)) => (n, Some(t)),
                None => (after, None),
            };
            // Not homes: macOS's shared folder, and Homebrew's prefix on Linux.
            if (first == "Users" && name == "Shared") || (first == "home" && name == "linuxbrew") {
                return None;
            }
            if name == "**" {
                return Some(format!("{homes}/{after}"));
            }
            Some(match tail {
                Some(t) if !t.is_empty() => format!("~/{t}"),
                _ => "~".into(),
            })
        }
        _ => None,
    }
}

/// The settings with every home spelled as `~` (see [`as_home`]), and the original spelling of
/// each rewritten entry by its span.
fn with_homes(settings: &Settings, target: Target) -> (Settings, Vec<(Span, String)>) {
    let homes = homes_dir(target);
    let mut s = settings.clone();
    let mut originals = Vec::new();
    if let Some(fs) = s.filesystem.as_mut() {
        let fs = &mut fs.value;
        for list in [
            &mut fs.deny_read,
            &mut fs.allow_read,
            &mut fs.allow_write,
            &mut fs.deny_write,
        ] {
            for e in list.iter_mut().flat_map(|l| l.value.iter_mut()) {
                if let Some(new) = as_home(&e.value.path, homes) {
                    originals.push((e.span, std::mem::replace(&mut e.value.path, new)));
                }
            }
        }
    }
    if let Some(net) = s.network.as_mut() {
        let sockets = net.value.allow_unix_sockets.iter_mut();
        for e in sockets.flat_map(|l| l.value.iter_mut()) {
            if let Some(new) = as_home(&e.value, homes) {
                originals.push((e.span, std::mem::replace(&mut e.value, new)));
            }
        }
    }
    (s, originals)
}

/// Puts back the spelling each rewritten entry had in the file, for messages.
fn restore_spellings(ir: &mut Ir, originals: &[(Span, String)]) {
    if originals.is_empty() {
        return;
    }
    let fs = &mut ir.fs;
    let rules = fs
        .deny_read
        .iter_mut()
        .chain(fs.allow_read.iter_mut())
        .chain(fs.allow_write.iter_mut())
        .chain(fs.deny_write.iter_mut())
        .chain(ir.net.allow_unix_sockets.iter_mut());
    for rule in rules {
        if let Some(span) = rule.origin.span() {
            if let Some((_, original)) = originals.iter().find(|(s, _)| *s == span) {
                rule.spelled.clone_from(original);
            }
        }
    }
}

/// This machine, for the local-disk group.
pub struct Local<'a> {
    pub opts: &'a ResolveOptions,
    pub fs: &'a dyn FsView,
}

/// Is the local-disk group on by default here? Off in CI (`CI` set to anything but `0` or
/// `false`) and under pre-commit (which sets `PRE_COMMIT`).
pub fn local_by_default(var: impl Fn(&str) -> Option<String>) -> bool {
    let set = |name: &str| {
        var(name).is_some_and(|v| {
            let v = v.trim().to_ascii_lowercase();
            !v.is_empty() && v != "0" && v != "false"
        })
    };
    !(set("CI") || set("PRE_COMMIT"))
}

/// Everything `srt lint` reports for one loaded file, the same on every machine: validation
/// errors if there are any (nothing else runs then), otherwise the compiler's notes and the
/// lints' findings on the made-up machine `opts` (see [`place`]), plus, when `local` is given,
/// the local-disk group on this machine.
pub fn check(
    loaded: &Loaded,
    opts: &ResolveOptions,
    target: Target,
    levels: &LevelConfig,
    local: Option<Local<'_>>,
) -> Vec<Diagnostic> {
    let Some(json) = loaded.json.as_ref().filter(|_| !loaded.has_errors()) else {
        return loaded.diagnostics.clone();
    };
    let (settings, originals) = with_homes(&loaded.settings, target);
    let (mut ir, notes) = resolve(&settings, Some(loaded.source.clone()), opts, &NoDisk);
    restore_spellings(&mut ir, &originals);
    if notes.iter().any(|n| n.severity == Severity::Error) {
        return loaded.diagnostics.iter().cloned().chain(notes).collect();
    }
    let ctx = LintContext {
        settings: &loaded.settings,
        json,
        source: &loaded.source,
        ir: &ir,
        target,
        fs: &NoDisk,
    };
    let mut findings: Vec<Finding> = notes
        .into_iter()
        .chain(loaded.diagnostics.iter().cloned())
        .filter(|d| !crate::registry::is_local_disk(&d.code))
        .map(|d| Finding {
            level: Level::from_severity(d.severity),
            diagnostic: d,
        })
        .collect();
    findings.extend(crate::run_lints(&ctx, levels, |l| !l.local_disk()));
    if let Some(local) = local {
        let (real_ir, real_notes) = resolve(
            &loaded.settings,
            Some(loaded.source.clone()),
            local.opts,
            local.fs,
        );
        findings.extend(
            real_notes
                .into_iter()
                .filter(|d| crate::registry::is_local_disk(&d.code))
                .map(|mut d| {
                    d.message.push_str(" (on this machine)");
                    Finding {
                        level: Level::from_severity(d.severity),
                        diagnostic: d,
                    }
                }),
        );
        let real = LintContext {
            settings: &loaded.settings,
            json,
            source: &loaded.source,
            ir: &real_ir,
            target,
            fs: local.fs,
        };
        findings.extend(crate::run_lints(&real, levels, |l| l.local_disk()));
    }
    apply_levels(findings, levels)
}

/// The OS a file is written for, when it says: macOS-only keys or paths and no Linux-only ones,
/// or the other way round. `None` when it names neither or both.
pub fn file_target(settings: &Settings) -> Option<Target> {
    let on = |b: &Option<srt_schema::Spanned<bool>>| b.as_ref().is_some_and(|v| v.value);
    let net = settings.network();
    let mut mac = [
        on(&settings.allow_pty),
        on(&settings.allow_apple_events),
        on(&settings.enable_weaker_network_isolation),
        net.is_some_and(|n| on(&n.allow_local_binding)),
        net.is_some_and(|n| !srt_schema::items(&n.allow_mach_lookup).is_empty()),
        net.is_some_and(|n| !srt_schema::items(&n.allow_unix_sockets).is_empty()),
    ]
    .iter()
    .any(|b| *b);
    let mut linux = on(&settings.enable_weaker_nested_sandbox)
        || on(&settings.allow_nested_user_namespaces)
        || settings.bwrap_path.is_some()
        || settings.mandatory_deny_search_depth.is_some();
    const MAC: [&str; 8] = [
        "/Users/",
        "/Users",
        "/private/",
        "/Library/",
        "~/Library/",
        "/opt/homebrew",
        "/var/folders",
        "/Applications",
    ];
    const LINUX: [&str; 6] = ["/home/", "/home", "/proc/", "/sys/", "/run/user", "/snap/"];
    if let Some(fs) = settings.filesystem() {
        let lists = [
            &fs.deny_read,
            &fs.allow_read,
            &fs.allow_write,
            &fs.deny_write,
        ];
        for e in lists.into_iter().flat_map(srt_schema::items) {
            let p = e.value.path.as_str();
            let starts = |prefixes: &[&str]| {
                prefixes
                    .iter()
                    .any(|x| p == x.trim_end_matches('/') || p.starts_with(x))
            };
            mac |= starts(&MAC);
            linux |= starts(&LINUX);
        }
    }
    match (mac, linux) {
        (true, false) => Some(Target::Macos),
        (false, true) => Some(Target::Linux),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn homes_are_read_as_home() {
        for (spelled, want) in [
            ("/Users/alice/.ssh", Some("~/.ssh")),
            ("/home/alice", Some("~")),
            ("/home/alice/", Some("~")),
            ("/home/*/.aws", Some("~/.aws")),
            ("/root/.config", Some("~/.config")),
            ("/home", Some("/home")),
            ("/Users", Some("/home")),
            ("/Users/", Some("/home/")),
            ("/home/**/.env", Some("/home/**/.env")),
            ("/Users/Shared/cache", None),
            ("/home/linuxbrew/.linuxbrew/bin", None),
            ("/homestead", None),
            ("~/.ssh", None),
            ("./src", None),
        ] {
            assert_eq!(as_home(spelled, "/home").as_deref(), want, "{spelled}");
        }
    }

    #[test]
    fn local_group_is_off_in_ci_and_pre_commit() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert!(local_by_default(env(&[])));
        assert!(!local_by_default(env(&[("CI", "true")])));
        assert!(!local_by_default(env(&[("CI", "1")])));
        assert!(local_by_default(env(&[("CI", "false")])));
        assert!(local_by_default(env(&[("CI", "")])));
        assert!(!local_by_default(env(&[("PRE_COMMIT", "1")])));
    }
}
