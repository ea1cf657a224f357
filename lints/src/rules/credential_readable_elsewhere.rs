//! `credential-readable-elsewhere`: a credential file whose contents the command can still read
//! under another name (a hard link, another mount of its filesystem, a backup copy beside it).

use std::path::{Path, PathBuf};

use srt_compiler::secrets::{CredentialMode, CredentialSource};
use srt_compiler::{Access, FileKind, PathPattern};

use crate::{Emitter, LintContext};

crate::declare_lint! {
    /// ### What it does
    /// Warns about a `credentials.files` entry (`mask` or `deny`) whose contents are readable
    /// on this machine under another name the policy allows reading:
    ///
    /// - the file has **more than one hard link**: srt masks or denies a *name* (Linux binds
    ///   the masked copy or `/dev/null` over it, macOS's profile denies the path), and every
    ///   other name of the file leads to the real contents. srt cannot say where the other
    ///   names are without searching every filesystem; `find / -xdev -samefile FILE` can.
    /// - the file's filesystem is **mounted again** elsewhere (a bind mount of a parent
    ///   directory, on Linux, read from `/proc/self/mountinfo`) where the policy lets the command
    ///   read: the sandbox sees the host's mounts, so the same file is there under that path.
    /// - a **backup or editor copy** lies beside it and the policy lets the command read it:
    ///   `FILE~`, `FILE.bak`, `FILE.old`, `FILE.orig`, `FILE.save`, `FILE.backup`, `FILE.swp`,
    ///   vim's `.FILE.swp` and Emacs's `#FILE#`.
    ///
    /// Not flagged, because srt already covers them: a symlink to the file, or a path through
    /// a symlinked directory (rules apply to the resolved path, on both systems), and the
    /// file's own spelling through `..` or `~`. Not detectable: a copy under an unrelated name,
    /// a copy on another filesystem, and mounts made after the lint (or, on macOS, any mount:
    /// only Linux is asked).
    ///
    /// It is in the local-disk group: what exists differs between machines, so `srt lint`
    /// reports it only locally (not with `--portable`, nor in CI or under pre-commit).
    ///
    /// ### Why is this bad
    /// The mask or deny is weaker than it reads: the command reads the real secret through
    /// the other name and sends it anywhere the network policy allows, or (masked) to an
    /// inject host as itself, where the proxy no longer recognises it.
    ///
    /// ### Example
    /// Bad, when `~/.api-key.bak` exists next to the file:
    /// ```json
    /// {"network": {"allowedDomains": ["api.example.com"], "deniedDomains": [], "tlsTerminate": {}},
    ///  "filesystem": {"denyRead": [], "allowWrite": [], "denyWrite": []},
    ///  "credentials": {"files": [{"path": "~/.api-key", "mode": "mask"}]}}
    /// ```
    /// Use instead: remove the copy, or deny it too:
    /// ```json
    /// {"network": {"allowedDomains": ["api.example.com"], "deniedDomains": [], "tlsTerminate": {}},
    ///  "filesystem": {"denyRead": ["~/.api-key.bak"], "allowWrite": [], "denyWrite": []},
    ///  "credentials": {"files": [{"path": "~/.api-key", "mode": "mask"}]}}
    /// ```
    pub CREDENTIAL_READABLE_ELSEWHERE {
        code: "credential-readable-elsewhere",
        level: Warn,
        summary: "a credential file is readable under another name: a hard link, another mount of its filesystem, or a backup copy beside it (local-disk group)",
        check: check,
    }
}

/// Names editors and tools give a file's copies in its own directory.
fn copies_of(path: &Path) -> Vec<PathBuf> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = ["~", ".bak", ".old", ".orig", ".save", ".backup", ".swp"]
        .iter()
        .map(|suffix| dir.join(format!("{name}{suffix}")))
        .collect();
    out.push(dir.join(format!(".{name}.swp")));
    out.push(dir.join(format!("#{name}#")));
    out
}

fn check(ctx: &LintContext<'_>, out: &mut Emitter) {
    for c in &ctx.ir.secrets.credentials {
        let CredentialSource::File(PathPattern::Literal(path)) = &c.source else {
            continue;
        };
        let Some(span) = c.origin.span() else {
            continue;
        };
        if ctx.fs.kind(path) != Some(FileKind::File) {
            continue;
        }
        let done = match c.mode {
            CredentialMode::Mask => "masks",
            CredentialMode::Deny => "denies",
        };
        if let Some(n) = ctx.fs.link_count(path).filter(|n| *n > 1) {
            let d = out
                .diag(format!(
                    "{} has {n} hard links on this machine: srt {done} this name only, and the other names lead to the real contents",
                    path.display()
                ))
                .with_label(span, "this credential file")
                .with_help(format!(
                    "find the other names (`find / -xdev -samefile {}`) and remove them, or deny them too",
                    path.display()
                ));
            out.emit(d);
        }
        for other in ctx
            .fs
            .mounts()
            .map(|m| srt_compiler::mounts::other_names(&m, path))
            .unwrap_or_default()
        {
            if !ctx.ir.decide_path(&other, Access::Read).allowed {
                continue;
            }
            let d = out
                .diag(format!(
                    "{} is also {} on this machine (another mount of the same filesystem), which the policy lets the command read",
                    path.display(),
                    other.display()
                ))
                .with_label(span, "this credential file")
                .with_help(format!(
                    "add {} to filesystem.denyRead, or unmount the second copy",
                    other.display()
                ));
            out.emit(d);
        }
        for copy in copies_of(path) {
            if ctx.fs.kind(&copy) != Some(FileKind::File)
                || !ctx.ir.decide_path(&copy, Access::Read).allowed
            {
                continue;
            }
            let d = out
                .diag(format!(
                    "{} lies beside the credential file {} on this machine and the policy lets the command read it: a backup copy holds the real secret",
                    copy.display(),
                    path.display()
                ))
                .with_label(span, "this credential file")
                .with_help(format!(
                    "remove the copy, or add {} to filesystem.denyRead",
                    copy.display()
                ));
            out.emit(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use srt_compiler::FakeFs;
    use srt_schema::render::{render_human, Style};

    use crate::testing::{fake_fs, options};
    use crate::{check, LevelConfig, Target};

    const CODE: &str = "credential-readable-elsewhere";

    fn findings(json: &str, fs: &FakeFs) -> Vec<srt_schema::Diagnostic> {
        let loaded = srt_schema::load_str(".srt.json", None, json);
        assert!(!loaded.has_errors(), "{:#?}", loaded.diagnostics);
        check(
            &loaded,
            &options(),
            fs,
            Target::Linux,
            &LevelConfig::default(),
        )
        .into_iter()
        .filter(|d| d.code == CODE)
        .collect()
    }

    const MASKED: &str = r#"{"network": {"allowedDomains": ["api.example.com"], "deniedDomains": [], "tlsTerminate": {}},
 "credentials": {"files": [{"path": "~/.api-key", "mode": "mask"}]}}"#;

    #[test]
    fn passes() {
        // One name, no copy; a copy the policy hides; a symlink to the file (rules follow it).
        let fs = fake_fs().file("/home/dev/.api-key");
        assert!(findings(MASKED, &fs).is_empty());
        let hidden = r#"{"network": {"allowedDomains": ["api.example.com"], "deniedDomains": [], "tlsTerminate": {}},
 "filesystem": {"denyRead": ["~/.api-key.bak"]},
 "credentials": {"files": [{"path": "~/.api-key", "mode": "mask"}]}}"#;
        let fs = fake_fs()
            .file("/home/dev/.api-key")
            .file("/home/dev/.api-key.bak")
            .link("/home/dev/project/key", "/home/dev/.api-key");
        assert!(findings(hidden, &fs).is_empty());
        // A second mount the policy hides, or of another filesystem.
        let denied = r#"{"network": {"allowedDomains": ["api.example.com"], "deniedDomains": [], "tlsTerminate": {}},
 "filesystem": {"denyRead": ["/srv/homes"]},
 "credentials": {"files": [{"path": "~/.api-key", "mode": "mask"}]}}"#;
        let fs = fake_fs().file("/home/dev/.api-key").mountinfo(
            "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n30 22 8:1 /home /srv/homes rw - ext4 /dev/sda1 rw\n31 22 8:2 / /data rw - ext4 /dev/sda2 rw\n",
        );
        assert!(findings(denied, &fs).is_empty());
        // A file that does not exist here has no other name to report.
        assert!(findings(MASKED, &fake_fs()).is_empty());
    }

    #[test]
    fn fails() {
        let cases = [
            (
                "a masked file with a second hard link",
                MASKED,
                fake_fs()
                    .file("/home/dev/.api-key")
                    .link_count("/home/dev/.api-key", 2),
            ),
            (
                "a masked file whose home directory is bind-mounted again",
                MASKED,
                fake_fs().file("/home/dev/.api-key").mountinfo(
                    "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n30 22 8:1 /home /srv/homes rw - ext4 /dev/sda1 rw\n",
                ),
            ),
            (
                "a denied file with an editor backup and a vim swap file beside it",
                r#"{"network": {"allowedDomains": [], "deniedDomains": []},
 "credentials": {"files": [{"path": "~/.aws/credentials", "mode": "deny"}]}}"#,
                fake_fs()
                    .file("/home/dev/.aws/credentials")
                    .file("/home/dev/.aws/credentials~")
                    .file("/home/dev/.aws/.credentials.swp"),
            ),
        ];
        let mut out = String::new();
        for (name, json, fs) in &cases {
            let loaded = srt_schema::load_str(".srt.json", None, json);
            let found = findings(json, fs);
            assert!(!found.is_empty(), "{CODE} should fire on case `{name}`");
            out.push_str(&format!("=== {name} (linux) ===\n"));
            for d in &found {
                out.push_str(&render_human(d, &loaded.source, Style::plain(100)));
                out.push('\n');
            }
        }
        insta::assert_snapshot!(out);
    }
}
