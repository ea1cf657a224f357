//! The run `srt learn` learns from: this same `srt` binary, `srt run` with the user's
//! settings, levels and options, so the sandbox is exactly the one `srt run` would build
//! (never a wider one), plus `--violations` pointing into a private directory the sandbox
//! cannot write (srt's state directory, which every run write-protects).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};

use anyhow::Context;

/// What the child is told, besides the command.
pub struct RunFlags<'a> {
    pub settings: &'a Path,
    pub cwd: Option<&'a Path>,
    pub home: Option<&'a Path>,
    pub levels: &'a crate::flags::LevelArgs,
    pub resolve: &'a [String],
    pub debug: bool,
    pub violations: &'a Path,
}

/// `srt run …` as argv (after the binary).
pub fn run_argv(
    flags: &RunFlags<'_>,
    command_string: Option<&str>,
    argv: &[OsString],
) -> Vec<OsString> {
    let mut a: Vec<OsString> = vec!["run".into(), "-s".into(), flags.settings.into()];
    if let Some(d) = flags.cwd {
        a.extend(["--cwd".into(), d.into()]);
    }
    if let Some(h) = flags.home {
        a.extend(["--home".into(), h.into()]);
    }
    for (flag, codes) in [
        ("-A", &flags.levels.allow),
        ("-W", &flags.levels.warn),
        ("-D", &flags.levels.deny),
    ] {
        for c in codes {
            a.extend([flag.into(), c.into()]);
        }
    }
    for r in flags.resolve {
        a.extend(["--resolve".into(), r.into()]);
    }
    if flags.debug {
        a.push("-d".into());
    }
    // Learning wants the reads of hidden paths too, whatever they cost this one run.
    a.extend(["--fs-violations".into(), "all".into()]);
    a.extend(["--violations".into(), flags.violations.into()]);
    match command_string {
        Some(c) => a.extend(["-c".into(), c.into()]),
        None => {
            a.push("--".into());
            a.extend(argv.iter().cloned());
        }
    }
    a
}

/// A private directory for one learning run under srt's state directory (0700).
pub fn private_dir(state_dir: &Path) -> anyhow::Result<tempfile::TempDir> {
    let parent = state_dir.join("learn");
    std::fs::create_dir_all(&parent).with_context(|| format!("creating {}", parent.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&parent, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("securing {}", parent.display()))?;
    }
    tempfile::Builder::new()
        .prefix("run-")
        .tempdir_in(&parent)
        .with_context(|| format!("creating a directory in {}", parent.display()))
}

/// Runs `srt ARGV` and waits. While it runs, srt learn itself survives Ctrl-C (the terminal
/// sends it to the child too, which stops the command; srt learn then reports what it saw)
/// and passes SIGTERM and SIGHUP on to it.
pub fn run(argv: &[OsString]) -> anyhow::Result<ExitStatus> {
    let exe: PathBuf = std::env::current_exe().context("finding the srt binary")?;
    let mut child = Command::new(exe)
        .args(argv)
        .spawn()
        .context("starting srt run")?;
    let _guard = signals::Forward::install(child.id());
    child.wait().context("waiting for srt run")
}

/// How the command ended, in words.
pub fn describe(status: ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return format!("was killed by signal {sig}");
        }
    }
    match status.code() {
        Some(0) => "exited successfully".into(),
        Some(c) => format!("exited with status {c}"),
        None => "ended".into(),
    }
}

#[cfg(unix)]
mod signals {
    use std::sync::atomic::{AtomicI32, Ordering};

    static CHILD: AtomicI32 = AtomicI32::new(0);

    extern "C" fn forward(sig: libc::c_int) {
        let pid = CHILD.load(Ordering::SeqCst);
        if pid > 0 && sig != libc::SIGINT {
            // SAFETY: kill(2) is async-signal-safe; the pid is our own child's.
            unsafe {
                libc::kill(pid, sig);
            }
        }
    }

    /// The handlers while the child runs; the defaults again when dropped. A handler (not
    /// SIG_IGN) is installed, so the child, whose exec resets handled signals to their
    /// default, starts with the terminal signals as a shell would start it.
    pub struct Forward {
        old: Vec<(libc::c_int, libc::sigaction)>,
    }

    impl Forward {
        pub fn install(child: u32) -> Forward {
            CHILD.store(i32::try_from(child).unwrap_or(0), Ordering::SeqCst);
            let mut old = Vec::new();
            for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
                // SAFETY: a zeroed sigaction is valid; we fill the handler and an empty mask
                // and keep the previous action to restore it.
                unsafe {
                    let mut act: libc::sigaction = std::mem::zeroed();
                    act.sa_sigaction = forward as extern "C" fn(libc::c_int) as usize;
                    act.sa_flags = libc::SA_RESTART;
                    libc::sigemptyset(&mut act.sa_mask);
                    let mut prev: libc::sigaction = std::mem::zeroed();
                    if libc::sigaction(sig, &act, &mut prev) == 0 {
                        old.push((sig, prev));
                    }
                }
            }
            Forward { old }
        }
    }

    impl Drop for Forward {
        fn drop(&mut self) {
            CHILD.store(0, Ordering::SeqCst);
            for (sig, prev) in &self.old {
                // SAFETY: restoring the action saved in install.
                unsafe {
                    libc::sigaction(*sig, prev, std::ptr::null_mut());
                }
            }
        }
    }
}

#[cfg(not(unix))]
mod signals {
    pub struct Forward;
    impl Forward {
        pub fn install(_child: u32) -> Forward {
            Forward
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_child_gets_the_users_flags_and_a_private_violations_file() {
        let levels = crate::flags::LevelArgs {
            allow: vec!["exfiltration-surface".into()],
            warn: vec![],
            deny: vec!["warnings".into()],
        };
        let flags = RunFlags {
            settings: Path::new("/p/.srt.json"),
            cwd: Some(Path::new("/p")),
            home: None,
            levels: &levels,
            resolve: &["a.test=127.0.0.1".into()],
            debug: true,
            violations: Path::new("/s/learn/run-1/v.jsonl"),
        };
        let shown = |a: Vec<OsString>| {
            a.iter()
                .map(|s| s.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(
            shown(run_argv(&flags, Some("make -j4"), &[])),
            "run -s /p/.srt.json --cwd /p -A exfiltration-surface -D warnings --resolve a.test=127.0.0.1 -d --fs-violations all --violations /s/learn/run-1/v.jsonl -c make -j4"
        );
        assert!(shown(run_argv(&flags, None, &["ls".into(), "-la".into()])).ends_with("-- ls -la"));
    }
}
