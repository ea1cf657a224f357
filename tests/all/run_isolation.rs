//! Ways out of `srt run` past the mounts and the proxies: datagram Unix socket pairs, socket
//! families the network namespace does not cover, the session keyring, the host's System V
//! IPC, and the sandbox's PID 1. Each test is the exploit, run by the real `srt` under real
//! bubblewrap, with a policy that reaches no host (bwrap alone) and one that does (srt's proxies
//! and bridge), and asserts that it fails.

#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::common;

use std::collections::BTreeMap;
use std::os::unix::net::UnixDatagram;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use common::{ok, text, Sandbox};

/// Reaches a host: srt's proxies and its init.
const ONLINE: &str = r#"{"network":{"allowedDomains":["example.com"],"deniedDomains":[]},
 "filesystem":{"denyRead":[],"allowRead":[],"allowWrite":["."],"denyWrite":[]}}"#;
/// Reaches no host: no proxies.
const OFFLINE: &str = r#"{"network":{"allowedDomains":[],"deniedDomains":[]},
 "filesystem":{"denyRead":[],"allowRead":[],"allowWrite":["."],"denyWrite":[]}}"#;
const POLICIES: [(&str, &str); 2] = [("offline", OFFLINE), ("online", ONLINE)];

/// Writes `script` next to the project (readable in the sandbox) and returns its path.
fn script(sb: &Sandbox, name: &str, body: &str) -> PathBuf {
    let p = sb.root.path().join(name);
    std::fs::write(&p, body).unwrap();
    p
}

/// `python3 SCRIPT ARGS…` in the sandbox.
fn run_python(sb: &Sandbox, script: &Path, args: &str) -> Output {
    sb.run(&format!("python3 {} {args}", script.display()))
}

/// `name value` lines of the probe's output.
fn results(out: &Output) -> BTreeMap<String, String> {
    ok(out)
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

const SOCKETPAIR_PROBE: &str = r#"
import errno, socket, sys
path = sys.argv[1]
for name, kind in [("dgram", socket.SOCK_DGRAM), ("raw", socket.SOCK_RAW),
                   ("dgram_nonblock", socket.SOCK_DGRAM | socket.SOCK_NONBLOCK)]:
    try:
        a, b = socket.socketpair(socket.AF_UNIX, kind)
    except OSError as e:
        print(name, errno.errorcode[e.errno])
        continue
    try:
        a.sendto(b"ESCAPED-" + name.encode(), path)
        print(name, "sent")
    except OSError as e:
        print(name, "send-" + errno.errorcode[e.errno])
for name, kind in [("stream", socket.SOCK_STREAM), ("seqpacket", socket.SOCK_SEQPACKET)]:
    a, b = socket.socketpair(socket.AF_UNIX, kind)
    a.send(b"x")
    print(name, "ok" if b.recv(1) == b"x" else "broken")
"#;

/// Item 1: one end of a datagram pair `sendto`s a host datagram socket by path (syslog,
/// journald, any service under /tmp or /run) past the `socket(AF_UNIX)` rule.
#[test]
fn a_datagram_socketpair_cannot_send_to_a_host_socket() {
    for (label, policy) in POLICIES {
        let sb = Sandbox::new();
        sb.settings(policy);
        let sock = sb.root.path().join("host-dgram.sock");
        let host = UnixDatagram::bind(&sock).unwrap();
        host.set_nonblocking(true).unwrap();
        let probe = script(&sb, "socketpair.py", SOCKETPAIR_PROBE);
        let r = results(&run_python(&sb, &probe, &sock.display().to_string()));
        let mut buf = [0u8; 64];
        let got = host.recv(&mut buf).map(|n| text(&buf[..n]));
        assert!(got.is_err(), "{label}: the host socket received {got:?}");
        for name in ["dgram", "raw", "dgram_nonblock"] {
            assert_eq!(r[name], "EPERM", "{label}: {name}: {r:?}");
        }
        assert_eq!(r["stream"], "ok", "{label}");
        assert_eq!(r["seqpacket"], "ok", "{label}");
    }
}

const FAMILY_PROBE: &str = r#"
import ctypes, errno, platform, socket
def probe(name, family, kind, proto=0):
    try:
        socket.socket(family, kind, proto).close()
        print(name, "ok")
    except OSError as e:
        print(name, errno.errorcode.get(e.errno, str(e.errno)))
probe("vsock", 40, socket.SOCK_STREAM)
probe("vsock_dgram", 40, socket.SOCK_DGRAM)
probe("packet", 17, socket.SOCK_DGRAM)
probe("alg", 38, socket.SOCK_SEQPACKET)
probe("bluetooth", 31, socket.SOCK_STREAM, 3)
probe("xdp", 44, socket.SOCK_RAW)
probe("tipc", 30, socket.SOCK_RDM)
# the family as a 64-bit register with high bits set: the kernel reads an int, so does the filter
libc = ctypes.CDLL(None, use_errno=True)
SYS_socket = {"x86_64": 41, "aarch64": 198}[platform.machine()]
fd = libc.syscall(ctypes.c_long(SYS_socket), ctypes.c_long(40 | (1 << 40)), ctypes.c_long(1), ctypes.c_long(0))
print("high_bits_vsock", "ok" if fd >= 0 else errno.errorcode[ctypes.get_errno()])
probe("netlink_route", 16, socket.SOCK_RAW, 0)
probe("netlink_sock_diag", 16, socket.SOCK_RAW, 4)
probe("netlink_uevent", 16, socket.SOCK_DGRAM, 15)
probe("netlink_generic", 16, socket.SOCK_RAW, 16)
probe("inet", socket.AF_INET, socket.SOCK_STREAM)
probe("inet6", socket.AF_INET6, socket.SOCK_DGRAM)
try:
    socket.socketpair(40, socket.SOCK_STREAM)
    print("socketpair_vsock ok")
except OSError as e:
    print("socketpair_vsock", errno.errorcode[e.errno])
# glibc lists interfaces (and getaddrinfo's AI_ADDRCONFIG checks addresses) over NETLINK_ROUTE
print("interfaces", ",".join(n for _, n in socket.if_nameindex()))
"#;

/// Item 14: `socket(AF_VSOCK)` (and every other family but the ones the sandbox needs) reaches
/// past the network namespace: vsock is not namespaced and leads to the host and hypervisor.
#[test]
fn socket_families_past_the_namespace_are_refused() {
    for (label, policy) in POLICIES {
        let sb = Sandbox::new();
        sb.settings(policy);
        let probe = script(&sb, "families.py", FAMILY_PROBE);
        let r = results(&run_python(&sb, &probe, ""));
        for name in [
            "vsock",
            "vsock_dgram",
            "packet",
            "alg",
            "bluetooth",
            "xdp",
            "tipc",
            "socketpair_vsock",
        ] {
            assert_eq!(r[name], "EAFNOSUPPORT", "{label}: {name}: {r:?}");
        }
        assert_eq!(r["high_bits_vsock"], "EAFNOSUPPORT", "{label}: {r:?}");
        for name in ["netlink_sock_diag", "netlink_uevent", "netlink_generic"] {
            assert_eq!(r[name], "EPROTONOSUPPORT", "{label}: {name}: {r:?}");
        }
        for name in ["netlink_route", "inet", "inet6"] {
            assert_eq!(r[name], "ok", "{label}: {name}: {r:?}");
        }
        assert_eq!(r["interfaces"], "lo", "{label}: {r:?}");
    }
}

const KEYRING_PROBE: &str = r#"
import ctypes, errno, platform
keyctl, add_key, request_key = {"x86_64": (250, 248, 249), "aarch64": (219, 217, 218)}[platform.machine()]
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
L = ctypes.c_long
def call(name, *args):
    r = libc.syscall(*args)
    print(name, r if r >= 0 else errno.errorcode[ctypes.get_errno()])
    return r
KEYCTL_GET_KEYRING_ID, KEYCTL_SEARCH, KEYCTL_READ = 0, 10, 11
SESSION = L(-3)
call("session", L(keyctl), L(KEYCTL_GET_KEYRING_ID), SESSION, L(0))
key = call("search", L(keyctl), L(KEYCTL_SEARCH), SESSION, b"user", b"srt-test-secret", L(0))
if key >= 0:
    buf = ctypes.create_string_buffer(64)
    n = libc.syscall(L(keyctl), L(KEYCTL_READ), L(key), buf, L(64))
    print("read", buf.raw[:n].decode())
call("request_key", L(request_key), b"user", b"srt-test-secret", None, L(0))
call("add_key", L(add_key), b"user", b"planted", b"x", L(1), SESSION)
"#;

/// Item 15: bwrap keeps the caller's session keyring; the command searched it and read a key
/// its parent had added (Kerberos `KEYRING:` caches, credential helpers), and could add keys.
#[test]
fn the_session_keyring_is_out_of_reach() {
    for (label, policy) in POLICIES {
        let sb = Sandbox::new();
        sb.settings(policy);
        let probe = script(&sb, "keyring.py", KEYRING_PROBE);
        let mut cmd = sb.srt();
        cmd.args([
            "run",
            "-s",
            ".srt.json",
            "-c",
            &format!("python3 {}", probe.display()),
        ]);
        // SAFETY: only raw system calls between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                // A fresh session keyring for srt (and its sandbox), holding one secret.
                const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
                const KEY_SPEC_SESSION_KEYRING: libc::c_long = -3;
                let secret = b"KEYRING-SECRET";
                if libc::syscall(
                    libc::SYS_keyctl,
                    KEYCTL_JOIN_SESSION_KEYRING,
                    std::ptr::null::<libc::c_char>(),
                ) < 0
                    || libc::syscall(
                        libc::SYS_add_key,
                        c"user".as_ptr(),
                        c"srt-test-secret".as_ptr(),
                        secret.as_ptr(),
                        secret.len(),
                        KEY_SPEC_SESSION_KEYRING,
                    ) < 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let out = cmd.output().unwrap();
        let stdout = ok(&out);
        assert!(!stdout.contains("KEYRING-SECRET"), "{label}: {stdout}");
        let r = results(&out);
        for name in ["session", "search", "request_key", "add_key"] {
            assert_eq!(r[name], "EPERM", "{label}: {name}: {r:?}");
        }
    }
}

/// A System V shared-memory segment of the host's, removed when dropped.
struct HostSegment(i32);

impl HostSegment {
    fn new(content: &[u8]) -> Self {
        // SAFETY: a private segment of one page, attached, written and detached here.
        unsafe {
            let id = libc::shmget(libc::IPC_PRIVATE, 4096, libc::IPC_CREAT | 0o600);
            assert!(id >= 0, "shmget: {}", std::io::Error::last_os_error());
            let p = libc::shmat(id, std::ptr::null(), 0);
            assert_ne!(p as isize, -1);
            std::ptr::copy_nonoverlapping(content.as_ptr(), p.cast::<u8>(), content.len());
            libc::shmdt(p);
            HostSegment(id)
        }
    }

    fn read(&self, len: usize) -> Vec<u8> {
        // SAFETY: attaches the segment created above read-only and copies `len` bytes.
        unsafe {
            let p = libc::shmat(self.0, std::ptr::null(), libc::SHM_RDONLY);
            assert_ne!(p as isize, -1);
            let v = std::slice::from_raw_parts(p.cast::<u8>(), len).to_vec();
            libc::shmdt(p);
            v
        }
    }
}

impl Drop for HostSegment {
    fn drop(&mut self) {
        // SAFETY: removes the segment created above.
        unsafe {
            libc::shmctl(self.0, libc::IPC_RMID, std::ptr::null_mut());
        }
    }
}

const SHM_PROBE: &str = r#"
import ctypes, errno, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
p = libc.shmat(int(sys.argv[1]), None, 0)
if p is None or p == ctypes.c_void_p(-1).value:
    print("shmat", errno.errorcode[ctypes.get_errno()])
else:
    print("shmat", ctypes.string_at(p, 15).decode())
    ctypes.memmove(p, b"SANDBOX-WROTE!!", 15)
print("ipc", os.readlink("/proc/self/ns/ipc"))
print("uts", os.readlink("/proc/self/ns/uts"))
"#;

/// Item 11: without `--unshare-ipc` the command reads and writes the host user's System V
/// shared memory (and message queues); without `--unshare-uts` it shares the host's UTS.
#[test]
fn host_ipc_and_uts_are_not_shared() {
    for (label, policy) in POLICIES {
        let sb = Sandbox::new();
        sb.settings(policy);
        let segment = HostSegment::new(b"HOST-SHM-SECRET");
        let probe = script(&sb, "shm.py", SHM_PROBE);
        let r = results(&run_python(&sb, &probe, &segment.0.to_string()));
        assert_eq!(r["shmat"], "EINVAL", "{label}: {r:?}");
        assert_eq!(segment.read(15), b"HOST-SHM-SECRET", "{label}");
        for ns in ["ipc", "uts"] {
            let host = std::fs::read_link(format!("/proc/self/ns/{ns}")).unwrap();
            assert_ne!(r[ns], host.display().to_string(), "{label}: {ns}");
        }
    }
}

/// Runs `script` in the sandbox; a run still going after `limit` is killed and reported.
fn run_bounded(sb: &Sandbox, script: &str, limit: Duration) -> Result<Output, String> {
    let mut child = sb
        .srt()
        .args(["run", "-s", ".srt.json", "-c", script])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + limit;
    loop {
        if child.try_wait().unwrap().is_some() {
            return Ok(child.wait_with_output().unwrap());
        }
        if Instant::now() > deadline {
            // bwrap dies with srt (--die-with-parent), and the sandbox with it.
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            return Err(format!(
                "still running after {limit:?}; stdout:\n{}stderr:\n{}",
                text(&out.stdout),
                text(&out.stderr)
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

const ATTACH_AND_LEAVE: &str = r#"
import ctypes, errno
libc = ctypes.CDLL(None, use_errno=True)
L = ctypes.c_long
PTRACE_ATTACH = 16
r = libc.ptrace(L(PTRACE_ATTACH), L(1), None, None)
print("attach", "ok" if r == 0 else errno.errorcode[ctypes.get_errno()])
"#;

/// Item 16a: the command attaches to the sandbox's PID 1 and exits without detaching: PID 1
/// stays stopped, never reaps, and the run hangs forever.
#[test]
fn tracing_pid_1_cannot_hang_the_run() {
    for (label, policy) in POLICIES {
        let sb = Sandbox::new();
        sb.settings(policy);
        let probe = script(&sb, "attach.py", ATTACH_AND_LEAVE);
        let out = run_bounded(
            &sb,
            &format!("python3 {}", probe.display()),
            Duration::from_secs(20),
        )
        .unwrap_or_else(|e| panic!("{label}: the run hung: {e}"));
        assert_eq!(ok(&out), "attach EPERM\n", "{label}");
    }
}

const TAKE_OVER_PID_1: &str = r#"
import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
L = ctypes.c_long
def report(name, ok):
    print(name, "ok" if ok else errno.errorcode[ctypes.get_errno()])
def try_os(name, f):
    try:
        f()
        print(name, "ok")
    except OSError as e:
        print(name, errno.errorcode[e.errno])
# PID 1's memory, writable: code injection
try_os("mem", lambda: os.close(os.open("/proc/1/mem", os.O_RDWR)))
# its descriptors
pidfd = os.pidfd_open(1)
PIDFD_GETFD = 438
fd = libc.syscall(L(PIDFD_GETFD), L(pidfd), L(0), L(0))
report("pidfd_getfd", fd >= 0)
# its memory through process_vm_readv
class iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
buf = ctypes.create_string_buffer(8)
try:
    addr = int(open("/proc/1/maps").readline().split("-")[0], 16)
except OSError:
    addr = 0x400000
local, remote = iovec(ctypes.cast(buf, ctypes.c_void_p), 8), iovec(addr, 8)
libc.process_vm_readv.restype = ctypes.c_ssize_t
n = libc.process_vm_readv(1, ctypes.byref(local), L(1), ctypes.byref(remote), L(1), L(0))
report("process_vm_readv", n >= 0)
# ptrace without stopping it (PTRACE_SEIZE), then let go
PTRACE_SEIZE, PTRACE_DETACH = 0x4206, 17
r = libc.ptrace(L(PTRACE_SEIZE), L(1), None, None)
report("seize", r == 0)
if r == 0:
    libc.ptrace(L(PTRACE_DETACH), L(1), None, None)
"#;

/// Item 16a: bwrap's PID 1 (a run reaching no host) is dumpable and the command's to trace:
/// writing its memory, taking its descriptors, reading its memory. srt's init, PID 1 of every
/// run, is not dumpable, so each of these fails.
#[test]
fn pid_1_cannot_be_taken_over() {
    for (label, policy) in POLICIES {
        let sb = Sandbox::new();
        sb.settings(policy);
        let probe = script(&sb, "takeover.py", TAKE_OVER_PID_1);
        let out = run_bounded(
            &sb,
            &format!("python3 {}", probe.display()),
            Duration::from_secs(20),
        )
        .unwrap_or_else(|e| panic!("{label}: {e}"));
        let r = results(&out);
        // opening a process's memory answers EACCES where the others answer EPERM
        assert_eq!(r["mem"], "EACCES", "{label}: {r:?}");
        for name in ["pidfd_getfd", "process_vm_readv", "seize"] {
            assert_eq!(r[name], "EPERM", "{label}: {name}: {r:?}");
        }
    }
}

/// Item 16d: a rule denies a name; a hard link elsewhere is another name for the same file.
/// Inherent to path rules (documented), so the plan says which denied files have other names.
#[test]
fn a_hard_linked_denied_file_is_noted() {
    let sb = Sandbox::new();
    sb.settings(
        r#"{"network":{"allowedDomains":[],"deniedDomains":[]},
 "filesystem":{"denyRead":["~/secret.txt"],"allowRead":[],"allowWrite":["."],"denyWrite":["locked.txt","single.txt"]}}"#,
    );
    std::fs::write(sb.home().join("secret.txt"), "SECRET").unwrap();
    std::fs::write(sb.project().join("locked.txt"), "v1").unwrap();
    std::fs::write(sb.project().join("single.txt"), "v1").unwrap();
    std::fs::hard_link(
        sb.home().join("secret.txt"),
        sb.root.path().join("other-name"),
    )
    .unwrap();
    std::fs::hard_link(
        sb.project().join("locked.txt"),
        sb.project().join("sub-name"),
    )
    .unwrap();
    let out = sb
        .srt()
        .args([
            "compile",
            "--target",
            "linux",
            "-s",
            ".srt.json",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let plan: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    let noted: Vec<String> = plan["notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["code"] == "deny-hard-linked")
        .map(|n| n["message"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(noted.len(), 2, "{noted:#?}");
    assert!(noted[0].contains("secret.txt is read-denied"), "{noted:#?}");
    assert!(
        noted[1].contains("locked.txt is write-protected"),
        "{noted:#?}"
    );
    assert!(noted.iter().all(|n| n.contains("2 hard links")));
    // What the note warns of: the other names are not covered.
    let out = sb.run(&format!(
        "cat ~/secret.txt 2>/dev/null || echo denied; cat {}; echo; echo v2 > sub-name && cat locked.txt",
        sb.root.path().join("other-name").display()
    ));
    assert_eq!(ok(&out), "denied\nSECRET\nv2\n");
}
