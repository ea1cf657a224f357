//! The `srt-lint` pre-commit hook, run by the real `pre-commit` (from PyPI) in a temporary git
//! repository: a bad policy fails the commit, a good one passes.
//!
//! pre-commit clones a hook repository at a commit, so the hook repository here is a one-commit
//! repository holding this working tree's `.pre-commit-hooks.yaml`: the test checks the file as
//! it is now, committed or not. The hook is `language: system`, so it runs the `srt` built for
//! this test (first on PATH).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A `pre-commit` executable: installed once into a virtualenv under the target directory.
fn pre_commit() -> PathBuf {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pre-commit-venv");
    let exe = venv.join("bin/pre-commit");
    if exe.exists()
        && Command::new(&exe)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    {
        return exe;
    }
    let status = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .expect("python3 is needed (scripts/test installs it)");
    assert!(
        status.success(),
        "python3 -m venv failed (Debian: apt-get install python3-venv)"
    );
    let status = Command::new(venv.join("bin/pip"))
        .args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "pre-commit",
        ])
        .status()
        .unwrap();
    assert!(status.success(), "pip install pre-commit failed");
    exe
}

struct Repo {
    root: tempfile::TempDir,
    pre_commit: PathBuf,
}

impl Repo {
    fn work(&self) -> PathBuf {
        self.root.path().join("work")
    }

    fn cmd(&self, program: impl AsRef<std::ffi::OsStr>, dir: &Path) -> Command {
        let srt_dir = Path::new(env!("CARGO_BIN_EXE_srt"))
            .parent()
            .unwrap()
            .to_path_buf();
        let venv_bin = self.pre_commit.parent().unwrap().to_path_buf();
        let path = std::env::join_paths([srt_dir, venv_bin].into_iter().chain(
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
        ))
        .unwrap();
        let mut c = Command::new(program);
        c.current_dir(dir)
            .env("PATH", path)
            .env("HOME", self.root.path().join("home"))
            .env("PRE_COMMIT_HOME", self.root.path().join("pre-commit-cache"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", self.root.path().join("gitconfig"))
            .env("NO_COLOR", "1")
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("GIT_INDEX_FILE");
        c
    }

    fn git(&self, dir: &Path, args: &[&str]) -> Output {
        self.cmd("git", dir).args(args).output().unwrap()
    }

    fn commits(&self) -> usize {
        let out = self.git(&self.work(), &["rev-list", "--count", "HEAD"]);
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or(0)
    }

    fn commit(&self, file: &str, text: &str) -> Output {
        std::fs::write(self.work().join(file), text).unwrap();
        let add = self.git(&self.work(), &["add", file]);
        assert!(add.status.success());
        self.git(
            &self.work(),
            &["commit", "-q", "-m", &format!("add {file}")],
        )
    }
}

fn setup() -> Repo {
    let root = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let repo = Repo {
        root,
        pre_commit: pre_commit(),
    };
    std::fs::create_dir_all(repo.root.path().join("home")).unwrap();
    std::fs::write(
        repo.root.path().join("gitconfig"),
        "[user]\n\tname = srt test\n\temail = srt@example.invalid\n[init]\n\tdefaultBranch = main\n",
    )
    .unwrap();
    // The hook repository: this working tree's hook definitions, committed.
    let hooks = repo.root.path().join("hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"),
        hooks.join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    for args in [
        &["init", "-q"][..],
        &["add", "."],
        &["commit", "-q", "-m", "hooks"],
    ] {
        assert!(repo.git(&hooks, args).status.success());
    }
    let rev = String::from_utf8(repo.git(&hooks, &["rev-parse", "HEAD"]).stdout).unwrap();
    // The project that uses it.
    let work = repo.work();
    std::fs::create_dir_all(&work).unwrap();
    assert!(repo.git(&work, &["init", "-q"]).status.success());
    let config = format!(
        "repos:\n  - repo: {}\n    rev: {}\n    hooks:\n      - id: srt-lint\n        args: [--target, linux]\n",
        hooks.display(),
        rev.trim()
    );
    std::fs::write(work.join(".pre-commit-config.yaml"), config).unwrap();
    let out = repo
        .cmd(&repo.pre_commit, &work)
        .arg("install")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = repo.commit(
        ".pre-commit-config.yaml",
        &std::fs::read_to_string(work.join(".pre-commit-config.yaml")).unwrap(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    repo
}

const BAD: &str = r#"{
  "network": {"allowedDomains": [], "deniedDomains": [], "allowUnixSockets": ["/var/run/docker.sock"]},
  "filesystem": {"denyRead": [], "allowWrite": ["~"], "denyWrite": []}
}
"#;

const GOOD: &str = r#"{
  "network": {"allowedDomains": [], "deniedDomains": []},
  "filesystem": {"denyRead": [], "allowWrite": ["."], "denyWrite": []}
}
"#;

#[test]
fn a_bad_policy_fails_the_commit_and_a_good_one_passes() {
    let repo = setup();
    assert_eq!(repo.commits(), 1);

    let out = repo.commit(".srt.json", BAD);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "a bad policy was committed:\n{all}");
    assert!(all.contains("srt lint") && all.contains("Failed"), "{all}");
    assert!(
        all.contains("dangerous-unix-socket") && all.contains("write-allows-host-code-execution"),
        "{all}"
    );
    assert_eq!(repo.commits(), 1);

    let out = repo.commit(".srt.json", GOOD);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "a good policy was refused:\n{all}");
    assert!(all.contains("Passed"), "{all}");
    assert_eq!(repo.commits(), 2);

    // `*.srt-settings.json` files are linted too, in subdirectories as well.
    std::fs::create_dir_all(repo.work().join("ci")).unwrap();
    let out = repo.commit("ci/runner.srt-settings.json", BAD);
    assert!(!out.status.success());
    assert_eq!(repo.commits(), 2);
    assert!(repo
        .git(
            &repo.work(),
            &["rm", "-q", "--cached", "ci/runner.srt-settings.json"]
        )
        .status
        .success());

    // `NAME.srt.json` is a policy too (the form `srt init -o` and the book use).
    std::fs::create_dir_all(repo.work().join("mcp")).unwrap();
    let out = repo.commit("mcp/context7.srt.json", BAD);
    assert!(!out.status.success(), "NAME.srt.json was not linted");
    assert_eq!(repo.commits(), 2);
    assert!(repo
        .git(
            &repo.work(),
            &["rm", "-q", "--cached", "mcp/context7.srt.json"]
        )
        .status
        .success());

    // Other JSON files are not policies: the hook skips them.
    let out = repo.commit("package.json", BAD);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{all}");
    assert!(
        all.contains("Skipped") || all.contains("no files to check"),
        "{all}"
    );
    assert_eq!(repo.commits(), 3);
}
