use super::bpf::{RET_ALLOW, RET_ERRNO, RET_KILL_PROCESS};
use super::*;

const ARCHES: [Arch; 2] = [Arch::X86_64, Arch::Aarch64];

fn call(p: &SeccompProgram, s: Syscall, args: [u64; 6]) -> u32 {
    p.evaluate(&SeccompData::new(
        p.arch.audit_arch(),
        s.number(p.arch),
        args,
    ))
}

const EPERM_RET: u32 = RET_ERRNO | 1;
const ENOSYS_RET: u32 = RET_ERRNO | 38;
const EAFNOSUPPORT_RET: u32 = RET_ERRNO | 97;
const EPROTONOSUPPORT_RET: u32 = RET_ERRNO | 93;

const SOCK_DGRAM: u64 = 2;
const SOCK_RAW: u64 = 3;
const SOCK_NONBLOCK: u64 = 0o4000;
const SOCK_CLOEXEC: u64 = 0o2000000;

#[test]
fn default_program_blocks_what_the_policy_says() {
    for arch in ARCHES {
        let p = SeccompProgram::build(arch, SeccompOptions::default());
        assert_eq!(call(&p, Syscall::Socket, [1, 1, 0, 0, 0, 0]), EPERM_RET);
        // high bits of the int argument are ignored by the kernel and by the filter
        assert_eq!(
            call(&p, Syscall::Socket, [0xffff_ffff_0000_0001, 1, 0, 0, 0, 0]),
            EPERM_RET
        );
        assert_eq!(call(&p, Syscall::Socket, [2, 1, 0, 0, 0, 0]), RET_ALLOW);
        assert_eq!(call(&p, Syscall::Socket, [10, 1, 0, 0, 0, 0]), RET_ALLOW);
        for s in [
            Syscall::IoUringSetup,
            Syscall::IoUringEnter,
            Syscall::IoUringRegister,
            Syscall::Keyctl,
            Syscall::AddKey,
            Syscall::RequestKey,
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
            assert_eq!(call(&p, s, [0; 6]), EPERM_RET, "{arch:?} {}", s.name());
        }
        assert_eq!(call(&p, Syscall::Clone3, [0; 6]), ENOSYS_RET);
        for s in [Syscall::Unshare, Syscall::Clone] {
            assert_eq!(call(&p, s, [0x1000_0000, 0, 0, 0, 0, 0]), EPERM_RET);
            assert_eq!(call(&p, s, [0x0002_0000, 0, 0, 0, 0, 0]), EPERM_RET);
            // CLONE_NEWNET alone, and the flags of a thread or a fork, pass
            assert_eq!(call(&p, s, [0x4000_0000, 0, 0, 0, 0, 0]), RET_ALLOW);
            assert_eq!(call(&p, s, [0x003d_0f00, 0, 0, 0, 0, 0]), RET_ALLOW);
            assert_eq!(call(&p, s, [17, 0, 0, 0, 0, 0]), RET_ALLOW);
        }
        assert_eq!(call(&p, Syscall::Ioctl, [0, 0x5412, 0, 0, 0, 0]), EPERM_RET);
        assert_eq!(call(&p, Syscall::Ioctl, [0, 0x541c, 0, 0, 0, 0]), EPERM_RET);
        assert_eq!(
            call(&p, Syscall::Ioctl, [0, 0xdead_0000_0000_5412, 0, 0, 0, 0]),
            EPERM_RET
        );
        assert_eq!(call(&p, Syscall::Ioctl, [0, 0x5401, 0, 0, 0, 0]), RET_ALLOW);
        // an unrelated system call (read is 0 on x86_64, 63 on aarch64)
        let read = if arch == Arch::X86_64 { 0 } else { 63 };
        let data = SeccompData::new(arch.audit_arch(), read, [0; 6]);
        assert_eq!(p.evaluate(&data), RET_ALLOW);
    }
}

#[test]
fn datagram_unix_socket_pairs_are_refused_stream_and_seqpacket_pairs_are_not() {
    for arch in ARCHES {
        let p = SeccompProgram::build(arch, SeccompOptions::default());
        let pair = |kind: u64| call(&p, Syscall::Socketpair, [1, kind, 0, 0, 0, 0]);
        for kind in [SOCK_DGRAM, SOCK_RAW, 0, 4, 6, 10, 15] {
            assert_eq!(pair(kind), EPERM_RET, "{arch:?} type {kind}");
            // the flags ride in the same argument and are masked off
            assert_eq!(pair(kind | SOCK_NONBLOCK | SOCK_CLOEXEC), EPERM_RET);
            // the high half of the register is not the kernel's int
            assert_eq!(pair(kind | 0xffff_ffff_0000_0000), EPERM_RET);
        }
        for kind in [1, 5] {
            assert_eq!(pair(kind), RET_ALLOW, "{arch:?} type {kind}");
            assert_eq!(pair(kind | SOCK_NONBLOCK | SOCK_CLOEXEC), RET_ALLOW);
            // high bits of the type (above the mask) do not hide a dgram pair behind a stream one
            assert_eq!(pair(kind | 0xffff_ffff_0000_0000), RET_ALLOW);
        }
        // AF_UNIX with high bits set is AF_UNIX to the kernel
        assert_eq!(
            call(
                &p,
                Syscall::Socketpair,
                [0x7_0000_0001, SOCK_DGRAM, 0, 0, 0, 0]
            ),
            EPERM_RET
        );
        // other families' pairs: the kernel refuses inet and netlink pairs itself
        assert_eq!(
            call(&p, Syscall::Socketpair, [2, SOCK_DGRAM, 0, 0, 0, 0]),
            RET_ALLOW
        );
        assert_eq!(
            call(&p, Syscall::Socketpair, [40, 1, 0, 0, 0, 0]),
            EAFNOSUPPORT_RET
        );
    }
}

#[test]
fn only_the_needed_socket_families_and_netlink_route_are_allowed() {
    for arch in ARCHES {
        for unix in [false, true] {
            let p = SeccompProgram::build(
                arch,
                SeccompOptions {
                    allow_all_unix_sockets: unix,
                    ..SeccompOptions::default()
                },
            );
            let sock =
                |family: u64, proto: u64| call(&p, Syscall::Socket, [family, 1, proto, 0, 0, 0]);
            assert_eq!(sock(2, 0), RET_ALLOW);
            assert_eq!(sock(10, 17), RET_ALLOW);
            assert_eq!(sock(16, 0), RET_ALLOW, "NETLINK_ROUTE");
            assert_eq!(sock(1, 0), if unix { RET_ALLOW } else { EPERM_RET });
            // netlink protocols other than NETLINK_ROUTE (sock_diag, uevents, generic, audit),
            // with the protocol's high bits ignored as the kernel does
            for proto in [4, 15, 16, 9, 12, 21, 0xffff_ffff, 0x1_0000_0004] {
                assert_eq!(sock(16, proto), EPROTONOSUPPORT_RET, "netlink {proto:#x}");
            }
            assert_eq!(sock(0x5_0000_0010, 0x9_0000_0000), RET_ALLOW);
            // vsock, packet, ALG, Bluetooth, TIPC, XDP, AF_UNSPEC, out-of-range families
            for family in [40, 17, 38, 31, 30, 44, 0, 3, 46, 255, 0xffff_ffff] {
                assert_eq!(sock(family, 0), EAFNOSUPPORT_RET, "family {family}");
                assert_eq!(
                    call(&p, Syscall::Socketpair, [family, 1, 0, 0, 0, 0]),
                    EAFNOSUPPORT_RET
                );
            }
            // the high half of the register does not make vsock look like inet
            assert_eq!(sock(0x2_0000_0028, 0), EAFNOSUPPORT_RET);
            assert_eq!(sock(0x1_0000_0002, 0), RET_ALLOW);
        }
    }
}

#[test]
fn foreign_architectures_and_x32_are_killed() {
    let x = SeccompProgram::build(Arch::X86_64, SeccompOptions::default());
    let a = SeccompProgram::build(Arch::Aarch64, SeccompOptions::default());
    const AUDIT_ARCH_I386: u32 = 0x4000_0003;
    for arch in [AUDIT_ARCH_I386, AUDIT_ARCH_AARCH64] {
        assert_eq!(
            x.evaluate(&SeccompData::new(arch, 39, [0; 6])),
            RET_KILL_PROCESS
        );
    }
    assert_eq!(
        a.evaluate(&SeccompData::new(AUDIT_ARCH_X86_64, 39, [0; 6])),
        RET_KILL_PROCESS
    );
    // x32: getpid (39) with bit 30 set, and x32's own socket number (41 | bit 30)
    for nr in [0x4000_0000 | 39, 0x4000_0000 | 41, 0xffff_ffff] {
        assert_eq!(
            x.evaluate(&SeccompData::new(AUDIT_ARCH_X86_64, nr, [1, 0, 0, 0, 0, 0])),
            RET_KILL_PROCESS
        );
    }
    // aarch64 has no x32: bit 30 is just a number nothing implements
    assert_eq!(
        a.evaluate(&SeccompData::new(
            AUDIT_ARCH_AARCH64,
            0x4000_0000 | 39,
            [0; 6]
        )),
        RET_ALLOW
    );
}

#[test]
fn options_lift_their_rules() {
    for arch in ARCHES {
        let p = SeccompProgram::build(
            arch,
            SeccompOptions {
                allow_all_unix_sockets: true,
                allow_nested_user_namespaces: true,
            },
        );
        assert_eq!(call(&p, Syscall::Socket, [1, 1, 0, 0, 0, 0]), RET_ALLOW);
        assert_eq!(
            call(&p, Syscall::Socketpair, [1, SOCK_DGRAM, 0, 0, 0, 0]),
            RET_ALLOW
        );
        assert_eq!(
            call(&p, Syscall::Unshare, [0x1002_0000, 0, 0, 0, 0, 0]),
            RET_ALLOW
        );
        assert_eq!(call(&p, Syscall::Mount, [0; 6]), RET_ALLOW);
        assert_eq!(call(&p, Syscall::Clone3, [0; 6]), RET_ALLOW);
        // these stay whatever the options
        assert_eq!(call(&p, Syscall::IoUringSetup, [0; 6]), EPERM_RET);
        assert_eq!(call(&p, Syscall::Ioctl, [0, 0x5412, 0, 0, 0, 0]), EPERM_RET);
        assert_eq!(call(&p, Syscall::Keyctl, [0; 6]), EPERM_RET);
        assert_eq!(
            call(&p, Syscall::Socket, [40, 1, 0, 0, 0, 0]),
            EAFNOSUPPORT_RET
        );
    }
}

#[test]
fn bytes_round_trip_and_rules_describe_themselves() {
    let p = SeccompProgram::build(Arch::X86_64, SeccompOptions::default());
    let bytes = p.to_bytes();
    assert_eq!(bytes.len(), p.instructions.len() * 8);
    assert_eq!(
        SeccompProgram::instructions_from_bytes(&bytes).unwrap(),
        p.instructions
    );
    assert!(SeccompProgram::instructions_from_bytes(&bytes[1..]).is_none());
    let described: Vec<String> = p.rules.iter().map(SeccompRule::describe).collect();
    assert_eq!(described[0], "socket(arg0 in AF_UNIX) -> EPERM");
    assert_eq!(
        described[1],
        "socket(arg0 in AF_NETLINK && arg2 not in NETLINK_ROUTE) -> EPROTONOSUPPORT"
    );
    assert_eq!(
        described[2],
        "socket(arg0 not in AF_UNIX, AF_INET, AF_INET6, AF_NETLINK) -> EAFNOSUPPORT"
    );
    assert_eq!(
        described[3],
        "socketpair(arg0 in AF_UNIX && arg1 & 0xf not in SOCK_STREAM, SOCK_SEQPACKET) -> EPERM"
    );
    assert!(described.contains(&"keyctl -> EPERM".to_string()));
    assert!(described.contains(&"ioctl(arg1 in TIOCSTI, TIOCLINUX) -> EPERM".to_string()));
    assert!(described.contains(&"clone3 -> ENOSYS".to_string()));
    let listing = p.disassemble();
    assert_eq!(listing.lines().count(), p.instructions.len());
    assert!(listing.starts_with("0000: ld   [4]"));
    assert!(listing.contains("and  #0xf"), "{listing}");
    assert!(listing.contains("ret  ERRNO(EAFNOSUPPORT)"), "{listing}");
}
