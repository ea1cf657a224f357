//! The in-sandbox init: `srt __init`, run by bubblewrap as PID 1 of the sandbox.
//!
//! It bridges `127.0.0.1:3128`/`:1080` (and `[::1]`) inside the empty network namespace to the
//! host proxies' Unix sockets, then starts the command with the seccomp filter installed on
//! the command only (the bridge itself needs `AF_UNIX`), forwards signals to it, reaps every
//! process, and exits with the command's status.

pub mod bridge;
pub mod pins;
pub mod supervise;

use std::ffi::OsString;

/// `__proxy-connect` lives at the crate root now (macOS uses it too); the old path stays.
pub use crate::proxy_connect;
pub use bridge::Bridge;
pub use supervise::Filter;

/// What the init does, as the host tells it on the command line.
pub struct InitConfig {
    /// Symlinks to mount on themselves before anything else (see [`pins`]).
    pub link_pins: Vec<std::path::PathBuf>,
    pub bridges: Vec<Bridge>,
    pub filter: Option<Filter>,
    /// The filesystem observer, installed on the command after the filter.
    pub observer: Option<crate::fsviolations::supervisor::Pending>,
    pub argv: Vec<OsString>,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum InitError {
    #[error(transparent)]
    Bridge(#[from] bridge::BridgeError),
    #[error(transparent)]
    Supervise(#[from] supervise::SuperviseError),
    #[error("cannot make the init non-dumpable: {0}")]
    Dumpable(std::io::Error),
    #[error("cannot keep the init's descriptors from the command: {0}")]
    Descriptors(std::io::Error),
    #[error("{0}; the command was not started")]
    Pins(#[from] pins::PinError),
}

/// Runs the init; returns the exit status to exit with.
pub fn run(cfg: InitConfig) -> Result<i32, InitError> {
    // First, while this is the only thread: the link pins, then every capability dropped
    // (bounding and ambient sets too), so neither the bridges nor the command hold any.
    pins::pin_links(&cfg.link_pins)?;
    pins::drop_all_capabilities()?;
    // The init keeps AF_UNIX (its bridge needs it) while the command is filtered: a command
    // that could ptrace the init, read its memory or take its descriptors would get AF_UNIX
    // back. Non-dumpable processes refuse all of that to same-uid peers.
    // SAFETY: prctl with integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) } != 0 {
        return Err(InitError::Dumpable(std::io::Error::last_os_error()));
    }
    // The host passes only what the init needs (the seccomp memfd, read by now); whatever
    // else bwrap handed on stays with the init.
    crate::fds::close_inherited_on_exec().map_err(InitError::Descriptors)?;
    supervise::block_signals()?;
    for b in &cfg.bridges {
        bridge::start(b)?;
    }
    let observer_side = cfg.observer.as_ref().map(|o| o.child_side());
    let child = match supervise::spawn(&cfg.argv, cfg.filter.as_ref(), observer_side) {
        Ok(child) => child,
        // As a shell reports it (the npm srt runs every command through bash): 127 for a
        // command that does not exist, 126 for one that cannot be executed.
        Err(supervise::SuperviseError::Spawn { program, source }) => {
            let status = crate::run::status::exec_failure(&source);
            if status == crate::run::status::COMMAND_NOT_FOUND {
                eprintln!("srt: {program}: command not found");
            } else {
                eprintln!("srt: {program}: {source}");
            }
            return Ok(status);
        }
        Err(e) => return Err(e.into()),
    };
    let flush = cfg
        .observer
        .map(crate::fsviolations::supervisor::Pending::start);
    // The same test srt made on the host: the init has srt's standard streams and session.
    let on_terminal = crate::terminal::Terminal::of_standard_streams().is_some();
    let status = supervise::wait_loop(child, on_terminal);
    if let Some(f) = flush.flatten() {
        f.flush();
    }
    Ok(status)
}

/// Reads a seccomp program (raw `struct sock_filter` array, host byte order) from bytes.
pub fn filter_from_bytes(bytes: &[u8]) -> Option<Filter> {
    const SIZE: usize = std::mem::size_of::<libc::sock_filter>();
    if bytes.is_empty()
        || !bytes.len().is_multiple_of(SIZE)
        || bytes.len() / SIZE > u16::MAX as usize
    {
        return None;
    }
    let insns = bytes
        .chunks_exact(SIZE)
        .map(|c| libc::sock_filter {
            code: u16::from_ne_bytes([c[0], c[1]]),
            jt: c[2],
            jf: c[3],
            k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect();
    Some(Filter(insns))
}
