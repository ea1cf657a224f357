//! Per-architecture constants: the audit architecture each filter checks first, and the numbers
//! of the system calls the filter names. Written out here (not taken from the host's libc) so
//! that a program for either architecture can be built on any host, macOS included; a test
//! checks every number against the `syscalls` crate's tables.

use serde::Serialize;

/// The architectures srt builds seccomp programs for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    X86_64,
    Aarch64,
}

/// `AUDIT_ARCH_X86_64` (`EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE`).
pub const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
/// `AUDIT_ARCH_AARCH64` (`EM_AARCH64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE`).
pub const AUDIT_ARCH_AARCH64: u32 = 0xc000_00b7;
/// `__X32_SYSCALL_BIT`: x86_64 system call numbers with this bit set enter the x32 table.
pub const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// The system calls the filter names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Syscall {
    Socket,
    Socketpair,
    Ioctl,
    Clone,
    Clone3,
    Unshare,
    Setns,
    Mount,
    Umount2,
    PivotRoot,
    OpenTree,
    OpenTreeAttr,
    MoveMount,
    Fsopen,
    Fsconfig,
    Fsmount,
    Fspick,
    MountSetattr,
    IoUringSetup,
    IoUringEnter,
    IoUringRegister,
    Keyctl,
    AddKey,
    RequestKey,
}

impl Syscall {
    pub const ALL: [Syscall; 24] = [
        Syscall::Socket,
        Syscall::Socketpair,
        Syscall::Ioctl,
        Syscall::Clone,
        Syscall::Clone3,
        Syscall::Unshare,
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
        Syscall::IoUringSetup,
        Syscall::IoUringEnter,
        Syscall::IoUringRegister,
        Syscall::Keyctl,
        Syscall::AddKey,
        Syscall::RequestKey,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Syscall::Socket => "socket",
            Syscall::Socketpair => "socketpair",
            Syscall::Ioctl => "ioctl",
            Syscall::Clone => "clone",
            Syscall::Clone3 => "clone3",
            Syscall::Unshare => "unshare",
            Syscall::Setns => "setns",
            Syscall::Mount => "mount",
            Syscall::Umount2 => "umount2",
            Syscall::PivotRoot => "pivot_root",
            Syscall::OpenTree => "open_tree",
            Syscall::OpenTreeAttr => "open_tree_attr",
            Syscall::MoveMount => "move_mount",
            Syscall::Fsopen => "fsopen",
            Syscall::Fsconfig => "fsconfig",
            Syscall::Fsmount => "fsmount",
            Syscall::Fspick => "fspick",
            Syscall::MountSetattr => "mount_setattr",
            Syscall::IoUringSetup => "io_uring_setup",
            Syscall::IoUringEnter => "io_uring_enter",
            Syscall::IoUringRegister => "io_uring_register",
            Syscall::Keyctl => "keyctl",
            Syscall::AddKey => "add_key",
            Syscall::RequestKey => "request_key",
        }
    }

    /// The system call's number on `arch`. Numbers from 403 up are shared by every
    /// architecture (the unified table); the older ones differ.
    pub fn number(self, arch: Arch) -> u32 {
        match (self, arch) {
            (Syscall::Socket, Arch::X86_64) => 41,
            (Syscall::Socket, Arch::Aarch64) => 198,
            (Syscall::Socketpair, Arch::X86_64) => 53,
            (Syscall::Socketpair, Arch::Aarch64) => 199,
            (Syscall::Ioctl, Arch::X86_64) => 16,
            (Syscall::Ioctl, Arch::Aarch64) => 29,
            (Syscall::Clone, Arch::X86_64) => 56,
            (Syscall::Clone, Arch::Aarch64) => 220,
            (Syscall::Unshare, Arch::X86_64) => 272,
            (Syscall::Unshare, Arch::Aarch64) => 97,
            (Syscall::Setns, Arch::X86_64) => 308,
            (Syscall::Setns, Arch::Aarch64) => 268,
            (Syscall::Mount, Arch::X86_64) => 165,
            (Syscall::Mount, Arch::Aarch64) => 40,
            (Syscall::Umount2, Arch::X86_64) => 166,
            (Syscall::Umount2, Arch::Aarch64) => 39,
            (Syscall::PivotRoot, Arch::X86_64) => 155,
            (Syscall::PivotRoot, Arch::Aarch64) => 41,
            (Syscall::AddKey, Arch::X86_64) => 248,
            (Syscall::AddKey, Arch::Aarch64) => 217,
            (Syscall::RequestKey, Arch::X86_64) => 249,
            (Syscall::RequestKey, Arch::Aarch64) => 218,
            (Syscall::Keyctl, Arch::X86_64) => 250,
            (Syscall::Keyctl, Arch::Aarch64) => 219,
            (Syscall::IoUringSetup, _) => 425,
            (Syscall::IoUringEnter, _) => 426,
            (Syscall::IoUringRegister, _) => 427,
            (Syscall::OpenTree, _) => 428,
            (Syscall::MoveMount, _) => 429,
            (Syscall::Fsopen, _) => 430,
            (Syscall::Fsconfig, _) => 431,
            (Syscall::Fsmount, _) => 432,
            (Syscall::Fspick, _) => 433,
            (Syscall::Clone3, _) => 435,
            (Syscall::MountSetattr, _) => 442,
            (Syscall::OpenTreeAttr, _) => 467,
        }
    }
}

impl Arch {
    pub fn audit_arch(self) -> u32 {
        match self {
            Arch::X86_64 => AUDIT_ARCH_X86_64,
            Arch::Aarch64 => AUDIT_ARCH_AARCH64,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
        }
    }

    /// The architecture srt itself was built for, if it is one of the two.
    pub fn host() -> Option<Arch> {
        if cfg!(target_arch = "x86_64") {
            Some(Arch::X86_64)
        } else if cfg!(target_arch = "aarch64") {
            Some(Arch::Aarch64)
        } else {
            None
        }
    }
}

// The values below are the same on x86_64 and aarch64 (the generic Linux ABI).
pub const AF_UNIX: u32 = 1;
pub const AF_INET: u32 = 2;
pub const AF_INET6: u32 = 10;
pub const AF_NETLINK: u32 = 16;
pub const NETLINK_ROUTE: u32 = 0;
pub const SOCK_STREAM: u32 = 1;
pub const SOCK_SEQPACKET: u32 = 5;
/// `SOCK_TYPE_MASK`: the type in `socket`/`socketpair`'s second argument, without
/// `SOCK_NONBLOCK` and `SOCK_CLOEXEC`.
pub const SOCK_TYPE_MASK: u32 = 0xf;
pub const CLONE_NEWNS: u32 = 0x0002_0000;
pub const CLONE_NEWUSER: u32 = 0x1000_0000;
pub const TIOCSTI: u32 = 0x5412;
pub const TIOCLINUX: u32 = 0x541c;
pub const EPERM: u16 = 1;
pub const ENOSYS: u16 = 38;
pub const EPROTONOSUPPORT: u16 = 93;
pub const EAFNOSUPPORT: u16 = 97;

/// The name of an errno the filter returns, for listings.
pub fn errno_name(e: u16) -> Option<&'static str> {
    Some(match e {
        EPERM => "EPERM",
        ENOSYS => "ENOSYS",
        EPROTONOSUPPORT => "EPROTONOSUPPORT",
        EAFNOSUPPORT => "EAFNOSUPPORT",
        _ => return None,
    })
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn numbers_agree_with_the_syscalls_crate() {
        use syscalls::{aarch64, x86_64};
        for s in Syscall::ALL {
            let x: x86_64::Sysno = s
                .name()
                .parse()
                .unwrap_or_else(|_| panic!("x86_64 has no {}", s.name()));
            assert_eq!(x.id() as u32, s.number(Arch::X86_64), "x86_64 {}", s.name());
            let a: aarch64::Sysno = s
                .name()
                .parse()
                .unwrap_or_else(|_| panic!("aarch64 has no {}", s.name()));
            assert_eq!(
                a.id() as u32,
                s.number(Arch::Aarch64),
                "aarch64 {}",
                s.name()
            );
        }
    }
}
