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
//!
//! A rule's [`Condition`] is a conjunction of tests on the low 32 bits of arguments, each
//! optionally masked (`args[1] & 0xf` is a socket's type without its flags).

mod bpf;
pub mod observer;
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
    /// `SECCOMP_RET_USER_NOTIF`: the call waits for srt's init, which looks at it and lets it
    /// continue as if this filter were not there (the [observer](observer)).
    Notify,
}

impl Action {
    pub fn describe(self) -> String {
        match self {
            Action::Errno(n) => errno_name(n).map_or_else(|| format!("errno {n}"), str::to_string),
            Action::Notify => "NOTIFY".into(),
        }
    }
}

/// The whole low half of an argument: no bits masked off.
pub const ALL_BITS: u32 = 0xffff_ffff;

/// One test on the low 32 bits of one argument, after `& mask`. Every argument the rules
/// inspect is a 32-bit `int`/`unsigned int`, or flags the kernel truncates to 32 bits, so the
/// high half (which the caller may fill with anything) is never looked at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ArgTest {
    /// `args[arg] & mask` is one of `values`.
    In {
        arg: u8,
        mask: u32,
        values: Vec<u32>,
    },
    /// `args[arg] & mask` is none of `values`.
    NotIn {
        arg: u8,
        mask: u32,
        values: Vec<u32>,
    },
    /// `args[arg] & mask != 0`.
    AnyBit { arg: u8, mask: u32 },
    /// `args[arg] != 0`, all 64 bits (a pointer that is not NULL).
    NonNull { arg: u8 },
}

impl ArgTest {
    /// `args[arg]` is one of `values`.
    pub fn is(arg: u8, values: &[u32]) -> Self {
        ArgTest::In {
            arg,
            mask: ALL_BITS,
            values: values.to_vec(),
        }
    }

    /// `args[arg]` is none of `values`.
    pub fn is_not(arg: u8, values: &[u32]) -> Self {
        ArgTest::NotIn {
            arg,
            mask: ALL_BITS,
            values: values.to_vec(),
        }
    }

    pub fn arg(&self) -> u8 {
        match self {
            ArgTest::In { arg, .. }
            | ArgTest::NotIn { arg, .. }
            | ArgTest::AnyBit { arg, .. }
            | ArgTest::NonNull { arg } => *arg,
        }
    }

    /// `arg1 & 0xf not in SOCK_STREAM, SOCK_SEQPACKET`.
    fn describe(&self, syscall: Syscall) -> String {
        let operand = |arg: u8, mask: u32| match mask {
            ALL_BITS => format!("arg{arg}"),
            m => format!("arg{arg} & {m:#x}"),
        };
        let names = |arg: u8, values: &[u32]| {
            values
                .iter()
                .map(|v| value_name(syscall, arg, *v))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            ArgTest::In { arg, mask, values } => {
                format!("{} in {}", operand(*arg, *mask), names(*arg, values))
            }
            ArgTest::NotIn { arg, mask, values } => {
                format!("{} not in {}", operand(*arg, *mask), names(*arg, values))
            }
            ArgTest::AnyBit { arg, mask } => {
                format!("arg{arg} & {}", value_name(syscall, *arg, *mask))
            }
            ArgTest::NonNull { arg } => format!("arg{arg} != NULL"),
        }
    }
}

/// When a rule applies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    Always,
    /// Every test holds (in order; each may look at another argument).
    All(Vec<ArgTest>),
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
    /// `socket(arg0 in AF_UNIX) -> EPERM`.
    pub fn describe(&self) -> String {
        let cond = match &self.condition {
            Condition::Always => String::new(),
            Condition::All(tests) => format!(
                "({})",
                tests
                    .iter()
                    .map(|t| t.describe(self.syscall))
                    .collect::<Vec<_>>()
                    .join(" && ")
            ),
        };
        format!(
            "{}{cond} -> {}",
            self.syscall.name(),
            self.action.describe()
        )
    }
}

fn value_name(syscall: Syscall, arg: u8, v: u32) -> String {
    use Syscall::*;
    let name = match (syscall, arg, v) {
        (Socket | Socketpair, 0, AF_UNIX) => "AF_UNIX",
        (Socket | Socketpair, 0, AF_INET) => "AF_INET",
        (Socket | Socketpair, 0, AF_INET6) => "AF_INET6",
        (Socket | Socketpair, 0, AF_NETLINK) => "AF_NETLINK",
        (Socket | Socketpair, 1, SOCK_STREAM) => "SOCK_STREAM",
        (Socket | Socketpair, 1, SOCK_SEQPACKET) => "SOCK_SEQPACKET",
        (Socket, 2, NETLINK_ROUTE) => "NETLINK_ROUTE",
        (Ioctl, 1, TIOCSTI) => "TIOCSTI",
        (Ioctl, 1, TIOCLINUX) => "TIOCLINUX",
        (Unshare | Clone, 0, m) if m == CLONE_NEWUSER | CLONE_NEWNS => {
            "(CLONE_NEWUSER|CLONE_NEWNS)"
        }
        _ => return format!("{v:#x}"),
    };
    name.into()
}

/// The settings that change the program.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SeccompOptions {
    /// `network.allowAllUnixSockets`: `socket(AF_UNIX)` and datagram `socketpair(AF_UNIX)` are
    /// not blocked.
    pub allow_all_unix_sockets: bool,
    /// `allowNestedUserNamespaces`: user/mount namespaces and the mount API are not blocked
    /// (a nested sandbox such as bwrap needs them).
    pub allow_nested_user_namespaces: bool,
}

/// The socket families the command may use: IPv4 and IPv6 (inside the sandbox's own network
/// namespace, where only the proxies' ports lead out), netlink (the sandbox's own interfaces:
/// glibc's `getaddrinfo` and `getifaddrs` ask `NETLINK_ROUTE`), and Unix (decided by its own
/// rules). Every other family is refused: several are not network-namespaced and lead out of
/// the sandbox (`AF_VSOCK` reaches the host and the hypervisor under WSL2, Firecracker, Kata
/// and cloud microVMs), and the rest reach hardware or kernel services a command has no use
/// for (`AF_PACKET`, `AF_BLUETOOTH`, `AF_ALG`, `AF_XDP`, …).
pub const SOCKET_FAMILIES: [u32; 4] = [AF_UNIX, AF_INET, AF_INET6, AF_NETLINK];

/// The policy, as rules (the same for every architecture). Rules for one system call are
/// contiguous; within them, the first match wins.
pub fn rules(opts: SeccompOptions) -> Vec<SeccompRule> {
    let eperm = Action::Errno(EPERM);
    let always = |syscall, why| SeccompRule {
        syscall,
        condition: Condition::Always,
        action: eperm,
        why,
    };
    let when = |syscall, tests: Vec<ArgTest>, action, why| SeccompRule {
        syscall,
        condition: Condition::All(tests),
        action,
        why,
    };
    // EAFNOSUPPORT and EPROTONOSUPPORT are what a kernel built without the family or protocol
    // answers: programs that probe for one (a vsock or Bluetooth transport, libudev's uevent
    // monitor, libaudit) take it as "not here" and carry on, where EPERM reads as a failure.
    let no_family = Action::Errno(EAFNOSUPPORT);
    let families_why = "only IPv4, IPv6, netlink and Unix sockets: other families (vsock, packet, Bluetooth, …) are not network-namespaced or reach devices";
    let mut out = Vec::new();
    if !opts.allow_all_unix_sockets {
        out.push(when(
            Syscall::Socket,
            vec![ArgTest::is(0, &[AF_UNIX])],
            eperm,
            "Unix sockets reach host services past the proxy (allowAllUnixSockets lifts it)",
        ));
    }
    // NETLINK_ROUTE reads (and, with capabilities the command lacks, changes) the sandbox's
    // own interfaces, addresses and routes. The other protocols (sock_diag, uevents, audit,
    // generic netlink families, netfilter, crypto, …) are kernel interfaces nothing in a
    // sandboxed build needs, and each is attack surface.
    out.push(when(
        Syscall::Socket,
        vec![
            ArgTest::is(0, &[AF_NETLINK]),
            ArgTest::is_not(2, &[NETLINK_ROUTE]),
        ],
        Action::Errno(EPROTONOSUPPORT),
        "of netlink, only NETLINK_ROUTE: the sandbox's own interfaces and addresses, which getaddrinfo reads",
    ));
    out.push(when(
        Syscall::Socket,
        vec![ArgTest::is_not(0, &SOCKET_FAMILIES)],
        no_family,
        families_why,
    ));
    if !opts.allow_all_unix_sockets {
        // A connected stream or seqpacket pair ignores addresses; one end of a datagram pair
        // can `connect` or `sendto` any datagram socket on the host by path (SOCK_RAW is
        // SOCK_DGRAM for AF_UNIX). The type is masked: SOCK_NONBLOCK and SOCK_CLOEXEC ride in
        // the same argument.
        out.push(when(
            Syscall::Socketpair,
            vec![
                ArgTest::is(0, &[AF_UNIX]),
                ArgTest::NotIn {
                    arg: 1,
                    mask: SOCK_TYPE_MASK,
                    values: vec![SOCK_STREAM, SOCK_SEQPACKET],
                },
            ],
            eperm,
            "a datagram pair's end can sendto() any host datagram socket by path (allowAllUnixSockets lifts it)",
        ));
    }
    out.push(when(
        Syscall::Socketpair,
        vec![ArgTest::is_not(0, &SOCKET_FAMILIES)],
        no_family,
        families_why,
    ));
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
    out.push(when(
        Syscall::Ioctl,
        vec![ArgTest::is(1, &[TIOCSTI, TIOCLINUX])],
        eperm,
        "pushing input into the terminal would run commands outside the sandbox",
    ));
    // bwrap keeps the caller's session keyring; Docker's default profile refuses these too.
    for s in [Syscall::Keyctl, Syscall::AddKey, Syscall::RequestKey] {
        out.push(always(
            s,
            "the session keyring is the caller's: its keys (Kerberos caches, credential helpers) are not the command's to read or replace",
        ));
    }
    if !opts.allow_nested_user_namespaces {
        for s in [Syscall::Unshare, Syscall::Clone] {
            out.push(when(
                s,
                vec![ArgTest::AnyBit {
                    arg: 0,
                    mask: CLONE_NEWUSER | CLONE_NEWNS,
                }],
                eperm,
                "a new user or mount namespace could remount what the sandbox hides",
            ));
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
        let asm: Vec<bpf::AsmRule> = rules
            .iter()
            .map(|r| bpf::AsmRule {
                number: r.syscall.number(arch),
                name: r.syscall.name(),
                condition: &r.condition,
                action: r.action,
                describe: r.describe(),
            })
            .collect();
        let (instructions, comments) = bpf::assemble(arch, &asm);
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
