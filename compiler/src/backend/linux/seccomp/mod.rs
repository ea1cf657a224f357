//! The seccomp program srt installs on the sandboxed command (never on the in-sandbox init,
//! whose port bridge needs `AF_UNIX`).
//!
//! Built here, in pure Rust, as classic BPF (`struct sock_filter`) for x86_64 and aarch64, so
//! `srt compile --target linux` works on any host. Installing it is the runtime's job:
//! `prctl(PR_SET_NO_NEW_PRIVS, 1)` then `seccomp(SECCOMP_SET_MODE_FILTER, 0, &sock_fprog)` with
//! [`SeccompProgram::to_bytes`] read back by `srt_runtime::init::filter_from_bytes` and installed
//! by `srt_runtime::init::supervise::spawn` on the command only.
//!
//! The program, in order:
//! 1. a foreign architecture (`seccomp_data.arch` is not the program's) is killed
//!    (`SECCOMP_RET_KILL_PROCESS`), so no rule can be bypassed through another system call
//!    table (on x86_64 that is the i386 `int 0x80` entry, where `socketcall` lives);
//! 2. on x86_64, a system call number with bit 30 set (the x32 ABI) is killed likewise;
//! 3. the [`rules`], first match wins; anything else is allowed.

mod bpf;
mod tables;

use serde::Serialize;

pub use bpf::{SeccompData, SockFilter};
use tables::*;
pub use tables::{Arch, Syscall, AUDIT_ARCH_AARCH64, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT};

/// What happens to a matching system call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Action {
    /// `SECCOMP_RET_ERRNO`: the call fails with this errno and does nothing.
    Errno(u16),
}

impl Action {
    pub fn describe(self) -> String {
        match self {
            Action::Errno(EPERM) => "EPERM".into(),
            Action::Errno(ENOSYS) => "ENOSYS".into(),
            Action::Errno(n) => format!("errno {n}"),
        }
    }
}

/// When a rule applies, looking at the low 32 bits of one argument (every argument the rules
/// inspect is a 32-bit `int`/`unsigned int`, or flags the kernel truncates to 32 bits).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Condition {
    Always,
    /// `args[arg] & 0xffffffff` is one of `values`.
    ArgIn {
        arg: u8,
        values: Vec<u32>,
    },
    /// `args[arg] & mask != 0`.
    ArgHasAnyBit {
        arg: u8,
        mask: u32,
    },
}

/// One line of the filter's policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SeccompRule {
    pub syscall: Syscall,
    pub condition: Condition,
    pub action: Action,
    /// Why the rule exists, for `srt compile` output.
    pub why: &'static str,
}

impl Serialize for Syscall {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl SeccompRule {
    /// `socket(domain=AF_UNIX) -> EPERM`.
    pub fn describe(&self) -> String {
        let cond = match &self.condition {
            Condition::Always => String::new(),
            Condition::ArgIn { arg, values } => format!(
                "(arg{arg} in {})",
                values
                    .iter()
                    .map(|v| value_name(self.syscall, *v))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Condition::ArgHasAnyBit { arg, mask } => {
                format!("(arg{arg} & {})", value_name(self.syscall, *mask))
            }
        };
        format!(
            "{}{cond} -> {}",
            self.syscall.name(),
            self.action.describe()
        )
    }
}

fn value_name(syscall: Syscall, v: u32) -> String {
    match (syscall, v) {
        (Syscall::Socket, AF_UNIX) => "AF_UNIX".into(),
        (Syscall::Ioctl, TIOCSTI) => "TIOCSTI".into(),
        (Syscall::Ioctl, TIOCLINUX) => "TIOCLINUX".into(),
        (_, m) if m == CLONE_NEWUSER | CLONE_NEWNS => "(CLONE_NEWUSER|CLONE_NEWNS)".into(),
        (_, v) => format!("{v:#x}"),
    }
}

/// The settings that change the program.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SeccompOptions {
    /// `network.allowAllUnixSockets`: `socket(AF_UNIX)` is not blocked.
    pub allow_all_unix_sockets: bool,
    /// `allowNestedUserNamespaces`: user/mount namespaces and the mount API are not blocked
    /// (a nested sandbox such as bwrap needs them).
    pub allow_nested_user_namespaces: bool,
}

/// The policy, as rules (the same for every architecture).
pub fn rules(opts: SeccompOptions) -> Vec<SeccompRule> {
    let eperm = Action::Errno(EPERM);
    let always = |syscall, why| SeccompRule {
        syscall,
        condition: Condition::Always,
        action: eperm,
        why,
    };
    let mut out = Vec::new();
    if !opts.allow_all_unix_sockets {
        out.push(SeccompRule {
            syscall: Syscall::Socket,
            condition: Condition::ArgIn {
                arg: 0,
                values: vec![AF_UNIX],
            },
            action: eperm,
            why: "Unix sockets reach host services past the proxy (allowAllUnixSockets lifts it)",
        });
    }
    for s in [
        Syscall::IoUringSetup,
        Syscall::IoUringEnter,
        Syscall::IoUringRegister,
    ] {
        out.push(always(
            s,
            "io_uring performs I/O this filter cannot inspect",
        ));
    }
    out.push(SeccompRule {
        syscall: Syscall::Ioctl,
        condition: Condition::ArgIn {
            arg: 1,
            values: vec![TIOCSTI, TIOCLINUX],
        },
        action: eperm,
        why: "pushing input into the terminal would run commands outside the sandbox",
    });
    if !opts.allow_nested_user_namespaces {
        for s in [Syscall::Unshare, Syscall::Clone] {
            out.push(SeccompRule {
                syscall: s,
                condition: Condition::ArgHasAnyBit {
                    arg: 0,
                    mask: CLONE_NEWUSER | CLONE_NEWNS,
                },
                action: eperm,
                why: "a new user or mount namespace could remount what the sandbox hides",
            });
        }
        out.push(SeccompRule {
            syscall: Syscall::Clone3,
            condition: Condition::Always,
            action: Action::Errno(ENOSYS),
            why: "clone3's flags are in memory the filter cannot read; ENOSYS makes libc fall back to clone",
        });
        for s in [
            Syscall::Setns,
            Syscall::Mount,
            Syscall::Umount2,
            Syscall::PivotRoot,
            Syscall::OpenTree,
            Syscall::OpenTreeAttr,
            Syscall::MoveMount,
            Syscall::Fsopen,
            Syscall::Fsconfig,
            Syscall::Fsmount,
            Syscall::Fspick,
            Syscall::MountSetattr,
        ] {
            out.push(always(s, "the mount table is the filesystem policy"));
        }
    }
    out
}

/// A compiled program for one architecture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeccompProgram {
    pub arch: Arch,
    pub rules: Vec<SeccompRule>,
    /// The BPF program, ready for `struct sock_fprog`.
    pub instructions: Vec<SockFilter>,
    /// One comment per instruction, for the disassembly.
    comments: Vec<String>,
}

impl SeccompProgram {
    /// Builds the program for `arch`.
    pub fn build(arch: Arch, opts: SeccompOptions) -> Self {
        let rules = rules(opts);
        let (instructions, comments) = bpf::assemble(arch, &rules);
        SeccompProgram {
            arch,
            rules,
            instructions,
            comments,
        }
    }

    /// The program as the kernel reads it: 8 bytes per instruction, native byte order
    /// (`u16 code, u8 jt, u8 jf, u32 k`). What the runtime hands the init through a file or fd.
    pub fn to_bytes(&self) -> Vec<u8> {
        bpf::to_bytes(&self.instructions)
    }

    /// Reads back what [`SeccompProgram::to_bytes`] wrote (the init's side).
    pub fn instructions_from_bytes(bytes: &[u8]) -> Option<Vec<SockFilter>> {
        bpf::from_bytes(bytes)
    }

    /// Runs the program on one system call, as the kernel would: the `SECCOMP_RET_*` value.
    pub fn evaluate(&self, data: &SeccompData) -> u32 {
        bpf::run(&self.instructions, data)
    }

    /// A readable listing, one instruction per line.
    pub fn disassemble(&self) -> String {
        bpf::disassemble(&self.instructions, &self.comments)
    }
}

#[cfg(test)]
mod tests;
