//! macOS: run a command under a Seatbelt profile with `sandbox-exec`.
//!
//! Only this step is OS-specific. The profile (`srt_compiler::backend::macos::emit`), the
//! environment (`srt_compiler::env::proxy_env`) and the argv
//! (`srt_compiler::backend::macos::command::sandbox_exec_argv`) are pure and tested on every
//! OS; `srt compile --target macos --format command` prints the same run as a script.
//!
//! Built on every OS; the tests run it on Linux against a stand-in for `sandbox-exec`. It has
//! not been run against the real one in srt's CI. [`crate::macos_run`] is the whole run.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use srt_compiler::backend::macos::command::{sandbox_exec_argv, SANDBOX_EXEC};

/// Why the sandboxed command could not be started. Nothing runs unsandboxed instead.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum MacosError {
    #[error("{} is missing or not a file; srt needs it to sandbox the command and runs nothing without it", .0.display())]
    #[diagnostic(
        code(srt::run::macos::no_sandbox_exec),
        help("sandbox-exec is part of macOS; check that /usr/bin is intact")
    )]
    Missing(PathBuf),
    #[error("could not start {}: {source}", program.display())]
    #[diagnostic(code(srt::run::macos::spawn))]
    Spawn {
        program: PathBuf,
        source: std::io::Error,
    },
}

/// Where `sandbox-exec` is on every Mac.
pub fn default_sandbox_exec() -> &'static Path {
    Path::new(SANDBOX_EXEC)
}

/// `sandbox-exec -p PROFILE /bin/sh -c COMMAND`, with `env` set on top of the inherited
/// environment. `sandbox_exec` is [`default_sandbox_exec`] except in tests.
pub fn sandboxed_command(
    sandbox_exec: &Path,
    profile: &str,
    env: &[(String, String)],
    command: &str,
) -> Command {
    let argv = sandbox_exec_argv(profile, command);
    let mut cmd = Command::new(sandbox_exec);
    cmd.args(&argv[1..]);
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    cmd
}

/// Starts the command under the profile. Fails closed: without `sandbox-exec` nothing starts.
pub fn spawn(
    sandbox_exec: &Path,
    profile: &str,
    env: &[(String, String)],
    command: &str,
) -> Result<Child, MacosError> {
    if !sandbox_exec.is_file() {
        return Err(MacosError::Missing(sandbox_exec.to_path_buf()));
    }
    sandboxed_command(sandbox_exec, profile, env, command)
        .spawn()
        .map_err(|source| MacosError::Spawn {
            program: sandbox_exec.to_path_buf(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// A stand-in for sandbox-exec: checks `-p`, saves the profile, runs the rest.
    fn stand_in(dir: &Path) -> PathBuf {
        let path = dir.join("sandbox-exec");
        std::fs::write(
            &path,
            "#!/bin/sh\n[ \"$1\" = -p ] || exit 90\nprintf '%s' \"$2\" > \"$SRT_TEST_PROFILE_OUT\"\nshift 2\nexec \"$@\"\n",
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    #[test]
    fn runs_the_command_with_profile_and_environment() {
        let dir = tempfile::tempdir().unwrap();
        let exe = stand_in(dir.path());
        let saved = dir.path().join("profile.sb");
        let profile = "(version 1)\n(deny default)\n; it's \"quoted\"\n";
        let env = vec![
            ("SANDBOX_RUNTIME".to_string(), "1".to_string()),
            (
                "SRT_TEST_PROFILE_OUT".to_string(),
                saved.display().to_string(),
            ),
        ];
        let said = dir.path().join("said");
        let command = format!(
            "echo \"$SANDBOX_RUNTIME\" $0 > '{}'; exit 7",
            said.display()
        );
        let status = spawn(&exe, profile, &env, &command)
            .unwrap()
            .wait()
            .unwrap();
        assert_eq!(status.code(), Some(7));
        assert_eq!(std::fs::read_to_string(&said).unwrap(), "1 /bin/sh\n");
        assert_eq!(std::fs::read_to_string(&saved).unwrap(), profile);
    }

    #[test]
    fn no_sandbox_exec_means_nothing_runs() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("ran");
        let err = spawn(
            &dir.path().join("missing"),
            "(version 1)",
            &[],
            &format!("touch {}", marker.display()),
        )
        .unwrap_err();
        assert!(matches!(err, MacosError::Missing(_)));
        assert!(!marker.exists());
    }
}
