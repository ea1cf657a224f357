//! The seccomp program on the real kernel: the compiler's program, serialised with `to_bytes`
//! and read back with the init's `filter_from_bytes`, is installed by the init's own
//! `supervise::spawn` on a child (this test binary, run again with `SRT_SECCOMP_PROBE` set),
//! which makes the system calls and writes what each returned; the parent asserts every errno,
//! and that ordinary work still succeeds. Each blocked call also runs unfiltered, where it must
//! fail differently (or succeed), so an assertion cannot pass because the call fails anyway.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::Command;
use std::sync::Mutex;

use srt_compiler::backend::linux::seccomp::{Arch, SeccompOptions, SeccompProgram};
use srt_runtime::init::{filter_from_bytes, supervise};

const PROBE_ENV: &str = "SRT_SECCOMP_PROBE";
const OUT_ENV: &str = "SRT_PROBE_OUT";

/// What the child reports, written to `SRT_PROBE_OUT` (its stdout is not the parent's).
static REPORT: Mutex<String> = Mutex::new(String::new());

fn say(line: String) {
    let mut r = REPORT.lock().unwrap();
    let _ = writeln!(r, "{line}");
    std::fs::write(std::env::var(OUT_ENV).unwrap(), r.as_bytes()).unwrap();
}

/// The child's side. Does nothing in a normal test run.
#[test]
fn probe_child() {
    let Ok(probe) = std::env::var(PROBE_ENV) else {
        return;
    };
    match probe.as_str() {
        "syscalls" => probe_syscalls(),
        "ordinary" => probe_ordinary(),
        // SAFETY: a raw system call without pointer arguments (getpid through the x32 table).
        "x32" => unsafe {
            // getpid through the x32 table
            libc::syscall(0x4000_0000 | libc::SYS_getpid);
        },
        "i386" => i386_getpid(),
        other => panic!("unknown probe {other}"),
    }
    say("END=1".into());
    std::process::exit(0);
}

#[cfg(target_arch = "x86_64")]
fn i386_getpid() {
    let mut eax: u32 = 20; // getpid in the i386 table
                           // SAFETY: int 0x80 enters the 32-bit table; getpid takes no arguments.
    unsafe { std::arch::asm!("int 0x80", inout("eax") eax) };
    say(format!("i386_getpid={eax}"));
}

#[cfg(not(target_arch = "x86_64"))]
fn i386_getpid() {
    say("i386_getpid=unsupported".into());
}

/// `name=0` on success, `name=ERRNO` on failure.
fn report(name: &str, ret: libc::c_long) {
    let v = if ret < 0 {
        std::io::Error::last_os_error().raw_os_error().unwrap_or(-1)
    } else {
        0
    };
    say(format!("{name}={v}"));
}

fn probe_syscalls() {
    use libc::*;
    let dev_null = std::fs::File::open("/dev/null").unwrap();
    let fd = std::os::fd::AsRawFd::as_raw_fd(&dev_null) as c_long;
    let empty = c"".as_ptr();
    let nonexistent = c"/nonexistent-srt-probe".as_ptr();
    let mut c: u8 = b'x';
    let mut sv = [0 as c_int; 2];
    let mut params = [0u8; 120]; // struct io_uring_params
                                 // SAFETY: raw system calls whose pointer arguments point at the live locals above; each
                                 // is probed for whether the filter lets it through, its result only reported.
    unsafe {
        report("socket_unix", syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0));
        report(
            "socket_unix_dgram",
            syscall(SYS_socket, AF_UNIX, SOCK_DGRAM, 0),
        );
        report("socket_inet", syscall(SYS_socket, AF_INET, SOCK_STREAM, 0));
        report("socket_inet6", syscall(SYS_socket, AF_INET6, SOCK_DGRAM, 0));
        report(
            "socketpair_unix",
            syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sv.as_mut_ptr()),
        );
        report(
            "socketpair_unix_seqpacket",
            syscall(
                SYS_socketpair,
                AF_UNIX,
                SOCK_SEQPACKET | SOCK_CLOEXEC,
                0,
                sv.as_mut_ptr(),
            ),
        );
        report(
            "socketpair_unix_dgram",
            syscall(
                SYS_socketpair,
                AF_UNIX,
                SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                0,
                sv.as_mut_ptr(),
            ),
        );
        report(
            "socketpair_unix_raw",
            syscall(SYS_socketpair, AF_UNIX, SOCK_RAW, 0, sv.as_mut_ptr()),
        );
        report(
            "socket_packet",
            syscall(SYS_socket, AF_PACKET, SOCK_DGRAM, 0),
        );
        report(
            "socket_vsock",
            syscall(SYS_socket, AF_VSOCK, SOCK_STREAM, 0),
        );
        report(
            "socket_netlink_route",
            syscall(SYS_socket, AF_NETLINK, SOCK_RAW, NETLINK_ROUTE),
        );
        report(
            "socket_netlink_sock_diag",
            syscall(SYS_socket, AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG),
        );
        // the session keyring's id; a key that does not exist; a key with no description
        report(
            "keyctl",
            syscall(SYS_keyctl, 0 as c_long, -3 as c_long, 0 as c_long),
        );
        report(
            "request_key",
            syscall(
                SYS_request_key,
                c"user".as_ptr(),
                c"srt-no-such-key".as_ptr(),
                0 as c_long,
                0 as c_long,
            ),
        );
        report(
            "add_key",
            syscall(
                SYS_add_key,
                c"user".as_ptr(),
                0 as c_long,
                0 as c_long,
                0 as c_long,
                -2 as c_long,
            ),
        );
        report(
            "io_uring_setup",
            syscall(SYS_io_uring_setup, 1, params.as_mut_ptr()),
        );
        report(
            "io_uring_enter",
            syscall(SYS_io_uring_enter, -1, 0, 0, 0, 0, 0),
        );
        report(
            "io_uring_register",
            syscall(SYS_io_uring_register, -1, 0, 0, 0),
        );
        report("ioctl_tiocsti", syscall(SYS_ioctl, fd, TIOCSTI, &mut c));
        report("ioctl_tioclinux", syscall(SYS_ioctl, fd, 0x541c, &mut c));
        report("ioctl_tcgets", syscall(SYS_ioctl, fd, TCGETS, &mut params));
        report("setns", syscall(SYS_setns, -1, 0));
        report("umount2", syscall(SYS_umount2, nonexistent, 0));
        report(
            "mount",
            syscall(SYS_mount, nonexistent, nonexistent, empty, 0, 0),
        );
        report(
            "pivot_root",
            syscall(SYS_pivot_root, nonexistent, nonexistent),
        );
        report("open_tree", syscall(SYS_open_tree, -1, nonexistent, 0));
        report("open_tree_attr", syscall(467, -1, nonexistent, 0, 0, 0));
        report(
            "move_mount",
            syscall(SYS_move_mount, -1, empty, -1, empty, 0),
        );
        report("fsopen", syscall(SYS_fsopen, c"srt-no-such-fs".as_ptr(), 0));
        report("fsconfig", syscall(SYS_fsconfig, -1, 0, 0, 0, 0));
        report("fsmount", syscall(SYS_fsmount, -1, 0, 0));
        report("fspick", syscall(SYS_fspick, -1, nonexistent, 0));
        report(
            "mount_setattr",
            syscall(SYS_mount_setattr, -1, empty, 0, 0, 0),
        );
        report("clone3", syscall(SYS_clone3, 0, 0));
        // These would create a namespace if allowed; they run only filtered (see below).
        // Allowed, clone would fork this probe: only where the filter refuses it.
        if std::env::var("SRT_FILTERED").is_ok() && std::env::var("SRT_ALLOW_NESTED").is_err() {
            report("unshare_newuser", syscall(SYS_unshare, CLONE_NEWUSER));
            report("unshare_newns", syscall(SYS_unshare, CLONE_NEWNS));
            report(
                "unshare_newuser_high_bits",
                syscall(
                    SYS_unshare,
                    0xffff_0000_0000_0000u64 as c_long | CLONE_NEWUSER as c_long,
                ),
            );
            report(
                "clone_newuser",
                syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0),
            );
        }
    }
}

fn probe_ordinary() {
    // files
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("x");
    std::fs::write(&f, b"hello").unwrap();
    assert_eq!(std::fs::read(&f).unwrap(), b"hello");
    say("files=ok".into());
    // an IPv4 socket, bound on loopback
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let _c = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
    say("inet=ok".into());
    // threads (glibc tries clone3, gets ENOSYS, falls back to clone)
    let t = std::thread::spawn(|| 41 + 1).join().unwrap();
    say(format!("thread={t}"));
    // fork + exec, pipes and a shell's own forks
    let out = Command::new("/bin/sh")
        .args(["-c", "echo a | tr a b; (exit 3); echo $?"])
        .output()
        .unwrap();
    say(format!(
        "exec={}",
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .replace('\n', ",")
    ));
    // a direct fork
    // SAFETY: the child only calls _exit; the parent reaps it.
    unsafe {
        let pid = libc::fork();
        if pid == 0 {
            libc::_exit(7);
        }
        let mut status = 0;
        libc::waitpid(pid, &mut status, 0);
        say(format!("fork={}", libc::WEXITSTATUS(status)));
    }
}

struct Outcome {
    values: BTreeMap<String, String>,
    signal: Option<i32>,
    code: Option<i32>,
}

/// Runs `probe` in a child started by the init's `supervise::spawn`, under the program built
/// with `opts` (`None`: unfiltered), and collects what it wrote and how it ended.
fn run_probe(probe: &str, opts: Option<SeccompOptions>) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    let exe = std::env::current_exe().unwrap();
    let mut env = vec![
        format!("{PROBE_ENV}={probe}"),
        format!("{OUT_ENV}={}", out.display()),
    ];
    if let Some(o) = opts {
        env.push("SRT_FILTERED=1".into());
        if o.allow_nested_user_namespaces {
            env.push("SRT_ALLOW_NESTED=1".into());
        }
    }
    // sh only sets the environment and silences libtest before exec'ing the probe.
    let script = format!(
        "exec env {} \"$0\" seccomp::probe_child --exact --nocapture --test-threads=1 >/dev/null 2>&1",
        env.join(" ")
    );
    let argv: Vec<std::ffi::OsString> =
        vec!["/bin/sh".into(), "-c".into(), script.into(), exe.into()];
    let filter = opts.map(|o| {
        let prog = SeccompProgram::build(Arch::host().unwrap(), o);
        filter_from_bytes(&prog.to_bytes()).unwrap()
    });
    let pid = supervise::spawn(&argv, filter.as_ref(), None).unwrap();
    let mut status = 0;
    // SAFETY: waits for the child just spawned.
    unsafe { libc::waitpid(pid as libc::pid_t, &mut status, 0) };
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    let values = text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Outcome {
        values,
        signal: libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status)),
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
    }
}

fn errno(o: &Outcome, name: &str) -> i32 {
    o.values
        .get(name)
        .unwrap_or_else(|| panic!("no {name} in {:?}", o.values))
        .parse()
        .unwrap()
}

#[test]
fn blocked_calls_fail_with_their_errno_and_unblocked_ones_do_not() {
    let f = run_probe("syscalls", Some(SeccompOptions::default()));
    let u = run_probe("syscalls", None);
    assert_eq!(f.code, Some(0), "{:?}", f.values);
    assert_eq!(u.code, Some(0), "{:?}", u.values);
    let eperm = [
        "socket_unix",
        "socket_unix_dgram",
        "socketpair_unix_dgram",
        "socketpair_unix_raw",
        "keyctl",
        "request_key",
        "add_key",
        "io_uring_setup",
        "io_uring_enter",
        "io_uring_register",
        "ioctl_tiocsti",
        "ioctl_tioclinux",
        "setns",
        "umount2",
        "mount",
        "pivot_root",
        "open_tree",
        "open_tree_attr",
        "move_mount",
        "fsopen",
        "fsconfig",
        "fsmount",
        "fspick",
        "mount_setattr",
        "unshare_newuser",
        "unshare_newns",
        "unshare_newuser_high_bits",
        "clone_newuser",
    ];
    for name in eperm {
        assert_eq!(errno(&f, name), libc::EPERM, "{name} filtered");
    }
    for name in &eperm[..24] {
        assert_ne!(
            errno(&u, name),
            libc::EPERM,
            "{name} must not fail with EPERM unfiltered"
        );
    }
    assert_eq!(errno(&f, "clone3"), libc::ENOSYS);
    assert_ne!(errno(&u, "clone3"), libc::ENOSYS);
    // Families past the network namespace look absent; so do netlink protocols but ROUTE.
    // (Unfiltered, a packet socket opens as root and is EPERM without CAP_NET_RAW.)
    for name in ["socket_packet", "socket_vsock"] {
        assert_eq!(errno(&f, name), libc::EAFNOSUPPORT, "{name} filtered");
    }
    assert_ne!(errno(&u, "socket_packet"), libc::EAFNOSUPPORT);
    assert_eq!(errno(&f, "socket_netlink_sock_diag"), libc::EPROTONOSUPPORT);
    assert_eq!(errno(&u, "socket_netlink_sock_diag"), 0);
    for name in [
        "socket_inet",
        "socket_inet6",
        "socket_netlink_route",
        "socketpair_unix",
        "socketpair_unix_seqpacket",
    ] {
        assert_eq!(errno(&f, name), 0, "{name} must still work");
    }
    // ioctls other than the two terminal injections go through to the driver
    assert_eq!(errno(&f, "ioctl_tcgets"), libc::ENOTTY);
}

#[test]
fn options_lift_the_unix_socket_and_namespace_rules() {
    let o = run_probe(
        "syscalls",
        Some(SeccompOptions {
            allow_all_unix_sockets: true,
            allow_nested_user_namespaces: true,
        }),
    );
    assert_eq!(o.code, Some(0), "{:?}", o.values);
    assert_eq!(errno(&o, "socket_unix"), 0);
    assert_eq!(errno(&o, "socketpair_unix_dgram"), 0);
    assert_eq!(errno(&o, "socket_vsock"), libc::EAFNOSUPPORT);
    assert_eq!(errno(&o, "keyctl"), libc::EPERM);
    assert_ne!(errno(&o, "setns"), libc::EPERM);
    assert_ne!(errno(&o, "clone3"), libc::ENOSYS);
    assert_eq!(errno(&o, "io_uring_setup"), libc::EPERM);
    assert_eq!(errno(&o, "ioctl_tiocsti"), libc::EPERM);
}

#[test]
fn ordinary_work_still_succeeds() {
    let o = run_probe("ordinary", Some(SeccompOptions::default()));
    assert_eq!(o.code, Some(0), "{:?}", o.values);
    assert_eq!(o.values["files"], "ok");
    assert_eq!(o.values["inet"], "ok");
    assert_eq!(o.values["thread"], "42");
    assert_eq!(o.values["exec"], "b,3");
    assert_eq!(o.values["fork"], "7");
}

#[test]
fn the_x32_table_is_killed() {
    let o = run_probe("x32", Some(SeccompOptions::default()));
    if Arch::host() == Some(Arch::X86_64) {
        assert_eq!(o.signal, Some(libc::SIGSYS), "{:?}", o.values);
    }
    // unfiltered, the same call just fails (ENOSYS, or is x32's getpid): the process lives
    let u = run_probe("x32", None);
    assert_eq!(u.code, Some(0));
}

#[cfg(target_arch = "x86_64")]
#[test]
fn a_foreign_architecture_is_killed() {
    let u = run_probe("i386", None);
    let f = run_probe("i386", Some(SeccompOptions::default()));
    match u.signal {
        // this kernel has the i386 entry: unfiltered it answers, filtered it is killed
        None => {
            assert!(u.values["i386_getpid"].parse::<u32>().unwrap() > 0);
            assert_eq!(f.signal, Some(libc::SIGSYS), "{:?}", f.values);
        }
        // built without IA32 emulation there is no other table to bypass through
        Some(sig) => assert_eq!(f.signal, Some(sig)),
    }
}
