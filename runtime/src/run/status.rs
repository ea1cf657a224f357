//! The exit status of a run, as the npm srt gives it (its shell's conventions): the command's
//! own code, `128+N` when signal N ended it, 127 when the command was not found, 126 when it
//! could not be executed.

use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

/// The command does not exist (a shell's status for it).
pub const COMMAND_NOT_FOUND: i32 = 127;
/// The command exists but cannot be executed: not executable, a directory, not a program.
pub const NOT_EXECUTABLE: i32 = 126;
/// A command ended by signal N exits with `SIGNALLED + N`.
pub const SIGNALLED: i32 = 128;

/// A process's end as an exit code: its code, or `128+N` when signal N ended it.
pub fn exit_code(status: ExitStatus) -> i32 {
    match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(sig)) => SIGNALLED + sig,
        _ => 1,
    }
}

/// The status for a command that could not be executed, as a shell reports it: 127 when it
/// does not exist, 126 otherwise.
pub fn exec_failure(e: &io::Error) -> i32 {
    match e.kind() {
        io::ErrorKind::NotFound => COMMAND_NOT_FOUND,
        _ => NOT_EXECUTABLE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_signals() {
        assert_eq!(exit_code(ExitStatus::from_raw(7 << 8)), 7);
        assert_eq!(exit_code(ExitStatus::from_raw(libc::SIGTERM)), 143);
        assert_eq!(exit_code(ExitStatus::from_raw(libc::SIGKILL)), 137);
        let missing = io::Error::from_raw_os_error(libc::ENOENT);
        assert_eq!(exec_failure(&missing), 127);
        for e in [libc::EACCES, libc::ENOEXEC, libc::EISDIR] {
            assert_eq!(exec_failure(&io::Error::from_raw_os_error(e)), 126);
        }
    }
}
