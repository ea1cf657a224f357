//! The Linux backend: the [`Ir`] realised as one inspectable [`LinuxPlan`]: the bubblewrap
//! arguments (as data, each with the [`Origin`] of the rule that produced it), the command's
//! environment, the host-side stubs, the proxy plan and the [seccomp] program.
//!
//! [`plan`] is pure: `(&Ir, &HostFacts, &LinuxOptions) → LinuxPlan`. The one impure step,
//! [`HostFacts::gather`], runs before it.
//!
//! # The mount-order contract
//!
//! [`Ir::decide_path`] is the decision; the plan realises it with mounts. Every path whose
//! decision differs from its parent's gets one mount (a *boundary*): hidden (unreadable),
//! read-only, or writable host content. bwrap applies the arguments in order, and a later mount
//! hides everything earlier at or beneath its path, so the order is:
//!
//! 1. [`Step::Base`]: `--ro-bind / /` (`--bind / /` when `filesystem.disabled`), `--dev /dev`,
//!    `--proc /proc` (`--bind /proc /proc` under `enableWeakerNestedSandbox`);
//! 2. [`Step::Pin`]: `--ro-bind D D` for every existing directory between a write root and a
//!    protected path beneath it. The write bind that follows covers these mounts, so the
//!    directories stay writable, but they remain mount points to the kernel, so the command
//!    cannot rename one away and recreate the protected path unprotected (`EBUSY`);
//! 3. [`Step::WriteBind`]: `--bind P P` for the write roots;
//! 4. [`Step::ReadDeny`]: a denied file gets `--ro-bind /dev/null F`; a denied directory an
//!    empty directory, `--perms 0555 --tmpfs D`, made read-only in step 10 (not a writable
//!    tmpfs);
//! 5. [`Step::ReadReopen`]: `allowRead` (and write roots) re-bound inside denied regions, with
//!    the mode the decision gives them;
//! 6. [`Step::WriteDeny`]: `--ro-bind P P` for `denyWrite` and the mandatory denies inside
//!    write roots (a missing name first gets a host stub, see [`Stub`]);
//! 7. [`Step::SettingsFile`]: the settings file in use, when it lies inside a write root;
//! 8. [`Step::Process`]: `--unshare-net`, `--unshare-pid`, `--unshare-user`, `--unshare-ipc`,
//!    `--unshare-uts`, `--die-with-parent`, `--as-pid-1` (srt's init is PID 1),
//!    `--cap-drop ALL`, `--chdir CWD`;
//! 9. [`Step::Init`]: the `srt` binary itself (the in-sandbox init, PID 1 of every sandbox) and,
//!    when the policy allows some host ([`LinuxPlan::bridges`]), the proxy socket directory,
//!    bound read-only at their host paths;
//! 10. [`Step::Seal`]: `--remount-ro D` for every empty directory of step 4, after every mount
//!     inside it has been made.
//!
//! Within that order a mount always follows the mounts of its ancestors: one nested inside a
//! later step's mount (a deny inside a re-opened directory, say) moves down to follow it.
//!
//! # For the runtime
//!
//! Run `bwrap <plan.launch_args(fds, command)>` (that is `--info-fd FD <plan.argv()> --
//! <plan.init_path> __init [--bridge …] --seccomp-fd FD -- <command>`) with `plan.env` set on
//! the bwrap process and `plan.env_unset` removed from it (bwrap passes its environment on;
//! the values stay out of `argv`, where other users could read them), in a new process group (`kill(0, …)` in the sandbox must reach none of
//! the caller's processes), with no descriptor but 0-2 and the ones the arguments name. On a
//! terminal ([`LinuxPlan::terminal`]), start bwrap with SIGINT, SIGQUIT and SIGHUP blocked (the
//! init unblocks them for the command), make its group the terminal's foreground group while
//! srt holds it, mirror the sandbox's stops on srt's own job, and give the terminal back at
//! the end. Before spawning, create every [`Stub`] in `plan.stubs` (in
//! order, exclusively: `mkdir` / `O_CREAT|O_EXCL`; one that exists by then is not yours, leave
//! it, unless a live run made it: then rely on it too) and journal each one; after the sandbox
//! exits, and on the next start if srt was killed, remove those no live run relies on, in
//! reverse order, each only if it is still an empty file or an empty directory. The init installs [`LinuxPlan::seccomp`] (`instructions`, or `to_bytes()` passed
//! through an inherited fd or file) on the command only. The init itself stays unfiltered (its
//! bridge needs `AF_UNIX`), so it must make itself non-dumpable (`prctl(PR_SET_DUMPABLE, 0)`)
//! before the command starts: otherwise, where Yama's `ptrace_scope` is 0, the command could
//! `ptrace` it, write its memory through `/proc/PID/mem` or take its descriptors with
//! `pidfd_getfd`, and so make Unix-socket connections the filter refuses the command.
//!
//! The init is PID 1 even when there is nothing to bridge. bwrap's own PID 1 (what runs
//! without `--as-pid-1`) is dumpable: the command could attach to it and exit, leaving it
//! stopped so that the run never ends, or write its memory and take its descriptors (bwrap
//! filters it with the same program, so that gains no system call, but it is still the
//! sandbox's reaper and the one that reports the command's status to bwrap outside). A
//! non-dumpable PID 1 is closed to all of that by the kernel, whichever way the command asks.

mod candidates;
mod cwd;
mod facts;
mod hard_links;
mod invocation;
pub mod links;
mod mounts;
pub mod notes;
mod observe;
pub mod options;
mod rebuilt;
mod render;
pub use render::{BWRAP_PLACEHOLDER, SOCKET_DIR_PLACEHOLDER};
mod scan;
pub mod seccomp;
mod secrets;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde::Serialize;
use srt_schema::Diagnostic;

use crate::audit::AuditPlan;
use crate::env::{sandbox_env, ProxyEnv, SandboxEnv};
use crate::ir::Ir;
use crate::origin::Origin;
pub use facts::{HostFacts, Listed, PathFact, ScanIndex};
pub use invocation::{
    ObserverFds, RunFds, COMMAND_PLACEHOLDER, FILE_ID_PLACEHOLDER, INFO_FD_PLACEHOLDER,
    SECCOMP_FD_PLACEHOLDER,
};
use notes::{self as code, note, note_at};
pub use notes::{NoteCode, NOTE_CODES, REFUSAL_CODES};
pub use observe::FsObserver;
pub use options::LinuxOptions;
use seccomp::{SeccompOptions, SeccompProgram};
pub use secrets::{
    apply_secrets_env, java_trust_options, secrets_env, MaskedCredentials, SecretsEnv,
    SecretsOptions, CA_BUNDLE_PLACEHOLDER, CA_TRUST_VARS, JAVA_TRUST_STORE_PLACEHOLDER,
    MASKED_COPY_PLACEHOLDER, SENTINEL_PLACEHOLDER,
};

/// The Linux plan's built-in origins (arguments no rule asked for).
pub mod builtin {
    use crate::origin::BuiltIn;

    pub const ROOT: BuiltIn = BuiltIn::ReadOnlyRoot;
    pub const DEV: BuiltIn = BuiltIn::PrivateDev;
    pub const PROC: BuiltIn = BuiltIn::PrivateProc;
    pub const ISOLATION: BuiltIn = BuiltIn::Isolation;
    pub const NETWORK: BuiltIn = BuiltIn::NetworkRestricted;
    pub const CWD: BuiltIn = BuiltIn::Cwd;
    pub const PROXY_SOCKETS: BuiltIn = BuiltIn::ProxySockets;
    pub const INIT: BuiltIn = BuiltIn::Init;
    pub const LINK_PINS: BuiltIn = BuiltIn::LinkPins;
    pub const FS_VIOLATIONS: BuiltIn = BuiltIn::FsViolations;
    pub const CONTROL_FD: BuiltIn = BuiltIn::ControlFd;
}

/// Where in the mount-order contract an argument sits (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    Base,
    Pin,
    WriteBind,
    ReadDeny,
    ReadReopen,
    WriteDeny,
    SettingsFile,
    Credential,
    Process,
    Init,
    Seal,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Base => "base",
            Step::Pin => "pin",
            Step::WriteBind => "write-bind",
            Step::ReadDeny => "read-deny",
            Step::ReadReopen => "read-reopen",
            Step::WriteDeny => "write-deny",
            Step::SettingsFile => "settings-file",
            Step::Credential => "credential",
            Step::Process => "process",
            Step::Init => "init",
            Step::Seal => "seal",
        }
    }
}

/// One bwrap option with its operands, and why it is there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BwrapArg {
    pub words: Vec<OsString>,
    pub step: Step,
    pub origin: Origin,
    /// What the mount does, in words (`hidden`, `read-only`, `writable`, …).
    pub effect: &'static str,
}

/// A host path the runtime creates before bwrap runs and removes afterwards: a mount point
/// for a protected name that does not exist yet, inside a directory the command may write
/// (bwrap cannot mount on nothing, and without the mount the command could create the name).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Stub {
    pub path: PathBuf,
    pub kind: StubKind,
    #[serde(skip)]
    pub origin: Origin,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StubKind {
    /// An empty file (mode 0444).
    File,
    /// An empty directory (mode 0755).
    Dir,
}

/// A file's identity on the host: its device and inode numbers, as `stat` reports them (a bind
/// mount shows the same numbers inside the sandbox).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct FileId {
    pub dev: u64,
    pub ino: u64,
}

/// A symlink on the way to a protected path, in a directory the command may write. bwrap's
/// mounts follow links, so the protection sits on the target; srt's init mounts the link on
/// itself before the command starts (`open_tree` + `move_mount`, which do not follow it), so
/// the command cannot remove, rename or replace it (`EBUSY`) and the name keeps leading to
/// the protected target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkPin {
    pub path: PathBuf,
    pub origin: Origin,
}

/// How the command reaches the network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProxyPlan {
    /// The host directory holding the sockets (bound read-only at the same path).
    pub socket_dir: PathBuf,
    /// The HTTP proxy's socket; the init bridges `127.0.0.1:http_port` to it.
    pub http_socket: PathBuf,
    /// The SOCKS5 proxy's socket; the init bridges `127.0.0.1:socks_port` to it.
    pub socks_socket: PathBuf,
    /// What the init checks each socket is before the command starts ([`LinuxOptions::proxy_socket_ids`]).
    pub http_socket_id: Option<FileId>,
    pub socks_socket_id: Option<FileId>,
    pub http_port: u16,
    pub socks_port: u16,
    /// `network.httpProxyPort`/`socksProxyPort`: an external proxy on the host the sockets
    /// should lead to, instead of srt's own.
    pub external_http_port: Option<u16>,
    pub external_socks_port: Option<u16>,
}

/// Everything the runtime needs to enforce the IR on Linux.
#[derive(Clone, Debug)]
pub struct LinuxPlan {
    pub args: Vec<BwrapArg>,
    /// The command's environment additions, in order.
    pub env: Vec<(String, String)>,
    /// Variables removed from the command's environment (denied credentials), with why.
    pub env_unset: Vec<(String, Origin)>,
    pub stubs: Vec<Stub>,
    pub proxy: ProxyPlan,
    /// The filter for the command (not the init).
    pub seccomp: SeccompProgram,
    /// Where the `srt` binary is inside the sandbox (its host path).
    pub init_path: PathBuf,
    /// Whether the init bridges the proxies: only when the policy allows a host
    /// ([`needs_proxies`]). Without it there is no proxy environment: nothing listens on the
    /// ports and nothing points at them. (The init is PID 1 either way; see the module docs.)
    pub bridges: bool,
    /// The run shares a terminal with the command ([`LinuxOptions::terminal`]).
    pub terminal: bool,
    /// Links the init pins before the command starts (see [`LinkPin`]).
    pub link_pins: Vec<LinkPin>,
    /// What bwrap cannot express exactly, as coded notes.
    pub notes: Vec<Diagnostic>,
    /// What the runtime audits after the command ends: the writable binds' trees.
    pub audit: AuditPlan,
    /// The filesystem observer the init installs after the filter (`None`: off).
    pub observer: Option<FsObserver>,
}

fn words<I, S>(items: I) -> Vec<OsString>
where
    I: IntoIterator<Item = S>,
    S: Into<OsString>,
{
    items.into_iter().map(Into::into).collect()
}

fn path_word(p: &Path) -> OsString {
    p.as_os_str().to_os_string()
}

/// Whether a run of `ir` needs the proxies (and so srt's init to bridge them): it allows some
/// host, or it names a proxy of the user's own (`httpProxyPort`/`socksProxyPort`, which then
/// decides).
pub fn needs_proxies(ir: &Ir) -> bool {
    !ir.net.allowed.is_empty()
        || ir.net.http_proxy_port.is_some()
        || ir.net.socks_proxy_port.is_some()
}

/// Builds the plan. Pure: everything about the host comes from `facts`.
pub fn plan(ir: &Ir, facts: &HostFacts, opts: &LinuxOptions) -> LinuxPlan {
    let bridges = needs_proxies(ir) || opts.live_network || opts.report_network;
    let mut notes = Vec::new();
    let fs = mounts::plan_filesystem(ir, facts, &mut notes);
    hard_links::notes(ir, facts, &mut notes);
    let mut args = fs.args;
    let restricted = |name| Origin::BuiltIn(name);
    let process = [
        (vec!["--unshare-net"], builtin::NETWORK),
        (vec!["--unshare-pid"], builtin::ISOLATION),
        (vec!["--unshare-user"], builtin::ISOLATION),
        // The host's System V IPC and POSIX message queues (X11 MIT-SHM, databases' shared
        // memory) are a channel past the proxy and the mounts; the hostname is the host's to
        // set. The cgroup namespace stays shared: a new one would point `/proc/self/cgroup`
        // at the root of the host's hierarchy (still mounted at /sys/fs/cgroup), and runtimes
        // that size themselves from their cgroup's limits (JVMs, Go, Node) would read the
        // root's, none, instead of their own; it would hide only the cgroup's name.
        (vec!["--unshare-ipc"], builtin::ISOLATION),
        (vec!["--unshare-uts"], builtin::ISOLATION),
        (vec!["--die-with-parent"], builtin::ISOLATION),
        // srt's non-dumpable init is PID 1 of the sandbox: it reaps and forwards signals
        // itself, and the command can neither trace it nor stop it (see the module docs).
        (vec!["--as-pid-1"], builtin::INIT),
        (vec!["--cap-drop", "ALL"], builtin::ISOLATION),
        // The init mounts the link pins (`CAP_SYS_ADMIN` in the sandbox's user namespace),
        // then drops every capability, the bounding set too (`CAP_SETPCAP`), before the
        // command starts.
        (
            vec!["--cap-add", "CAP_SYS_ADMIN", "--cap-add", "CAP_SETPCAP"],
            builtin::LINK_PINS,
        ),
    ];
    let seal_at = args
        .iter()
        .position(|a| a.step == Step::Seal)
        .unwrap_or(args.len());
    let mut tail: Vec<BwrapArg> = args.split_off(seal_at);
    for (w, name) in process {
        if name == builtin::LINK_PINS && fs.link_pins.is_empty() {
            continue;
        }
        let effect = if name == builtin::LINK_PINS {
            "for the init's link pins"
        } else {
            "isolation"
        };
        args.push(BwrapArg {
            words: words(w),
            step: Step::Process,
            origin: restricted(name),
            effect,
        });
    }
    args.extend(cwd::args(ir, &mut notes));
    for rule in &ir.net.allow_unix_sockets {
        notes.push(note_at(
            &rule.origin,
            code::UNIX_SOCKET_PATHS_LINUX,
            format!(
                "{}: on Linux a socket path cannot be allowed on its own; the seccomp filter refuses every new Unix socket unless network.allowAllUnixSockets is true",
                ir.describe(&rule.origin)
            ),
        ));
    }
    let secrets = secrets::plan(ir, &opts.secrets, bridges);
    args.extend(secrets.args);
    let init_binds = [
        (&opts.proxy_socket_dir, builtin::PROXY_SOCKETS, bridges),
        (&opts.srt_binary, builtin::INIT, true),
    ];
    for (p, name, _) in init_binds.into_iter().filter(|b| b.2) {
        args.push(BwrapArg {
            words: vec!["--ro-bind".into(), path_word(p), path_word(p)],
            step: Step::Init,
            origin: restricted(name),
            effect: "read-only",
        });
    }
    args.append(&mut tail);

    let tmpdir = (!ir.fs.disabled).then(|| opts.tmpdir.display().to_string());
    if let Some(t) = &tmpdir {
        let at = Path::new(t);
        if !facts.exists(at) {
            notes.push(note(
                code::TMPDIR_MISSING,
                format!("TMPDIR is {t}, which does not exist: programs that write temporary files will fail; create it, or allow writing another directory and set CLAUDE_CODE_TMPDIR to it"),
            ));
        } else if !ir.decide_path(at, crate::Access::Write).allowed {
            notes.push(note(
                code::TMPDIR_NOT_WRITABLE,
                format!("TMPDIR is {t}, which the policy does not let the command write"),
            ));
        }
    }
    let mut env = sandbox_env(&SandboxEnv {
        proxy: ProxyEnv {
            host: "localhost".into(),
            http_port: opts.http_port,
            socks_port: opts.socks_port,
            auth: opts.proxy_auth.clone(),
            ssh_proxy_command: opts.ssh_proxy_command.clone(),
            tmpdir,
        },
        inherited_java_tool_options: opts.inherited_java_tool_options.clone(),
        proxied: bridges,
    });
    secrets::apply_secrets_env(&mut env, secrets.env);
    let proxy = ProxyPlan {
        socket_dir: opts.proxy_socket_dir.clone(),
        http_socket: opts.proxy_socket_dir.join("http.sock"),
        socks_socket: opts.proxy_socket_dir.join("socks.sock"),
        http_socket_id: opts.proxy_socket_ids.map(|[http, _]| http),
        socks_socket_id: opts.proxy_socket_ids.map(|[_, socks]| socks),
        http_port: opts.http_port,
        socks_port: opts.socks_port,
        external_http_port: ir.net.http_proxy_port,
        external_socks_port: ir.net.socks_proxy_port,
    };
    let seccomp = SeccompProgram::build(
        opts.arch,
        SeccompOptions {
            allow_all_unix_sockets: ir.net.allow_all_unix_sockets,
            allow_nested_user_namespaces: ir.process.allow_nested_user_namespaces,
        },
    );
    let audit = AuditPlan::from_bwrap_binds(
        ir,
        args.iter()
            .filter(|a| a.effect == "writable" && a.words.first().is_some_and(|w| w == "--bind"))
            .filter_map(|a| {
                a.words
                    .get(1)
                    .map(|src| (Path::new(src.as_os_str()), &a.origin))
            }),
    );
    let observer = observe::plan(ir, &args, opts);
    LinuxPlan {
        args,
        env,
        env_unset: secrets.env_unset,
        stubs: fs.stubs,
        proxy,
        seccomp,
        init_path: opts.srt_binary.clone(),
        bridges,
        terminal: opts.terminal,
        link_pins: fs.link_pins,
        notes,
        audit,
        observer,
    }
}
