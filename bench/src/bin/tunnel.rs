//! The proxy benchmark: bytes through the `CONNECT` tunnel against a direct loopback TCP
//! transfer measured in the same run (download and upload), the proxy process's RSS, and 500
//! concurrent tunnels with the proxy's descriptor count before, during and after.
//!
//! The proxy runs in a child process (this binary with `--serve-proxy PORT`), as in `srt run`;
//! the client and the origin run here. `--bytes N` sets the transfer size (default 1 GiB),
//! `--rounds N` the repetitions (median reported, default 3).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use srt_bench::{cpu_time, mb_per_s, median, rss_kib};
use srt_compiler::{resolve, RealFs, ResolveOptions};
use srt_runtime::proxy::{ProxyOptions, ProxyServer};

const CHUNK: usize = 1 << 20;
const BAR: f64 = 0.70;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = if args.first().map(String::as_str) == Some("--serve-proxy") {
        serve_proxy(
            args.get(1).map_or("", String::as_str),
            !args.iter().any(|a| a == "--copy"),
        )
    } else {
        run(&args)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tunnel bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The child: proxies allowing only the origin's literal address; prints the socket path and
/// serves until stdin closes.
fn serve_proxy(port: &str, zero_copy: bool) -> Result<()> {
    let json = format!(
        r#"{{"network": {{"allowedDomains": ["127.0.0.1:{port}"], "deniedDomains": []}},
            "filesystem": {{"denyRead": [], "allowWrite": [], "denyWrite": []}}}}"#
    );
    let loaded = srt_schema::load_str("bench.json", None, &json);
    if loaded.has_errors() {
        return Err(format!("bad bench policy: {:?}", loaded.diagnostics).into());
    }
    let (ir, _) = resolve(
        &loaded.settings,
        Some(loaded.source.clone()),
        &ResolveOptions::from_env(),
        &RealFs,
    );
    let opts = ProxyOptions {
        zero_copy,
        ..ProxyOptions::default()
    };
    let server = ProxyServer::start(Arc::new(ir), opts)?;
    let socket = server.http_socket().ok_or("the proxy has no Unix socket")?;
    println!("{}", socket.display());
    io::stdout().flush()?;
    let mut rest = Vec::new();
    let _ = io::stdin().read_to_end(&mut rest);
    server.shutdown();
    Ok(())
}

fn flag(args: &[String], name: &str, default: u64) -> Result<u64> {
    match args.iter().position(|a| a == name) {
        Some(i) => Ok(args
            .get(i + 1)
            .ok_or(format!("{name} needs a value"))?
            .parse()?),
        None => Ok(default),
    }
}

/// The origin: the first byte of each connection says what to do. `D`: send `bytes` and
/// close; `U`: read to EOF, answer the count; `H`: hold until EOF.
fn origin(bytes: u64) -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut s) = conn else { continue };
            std::thread::spawn(move || {
                let mut mode = [0u8; 1];
                if s.read_exact(&mut mode).is_err() {
                    return;
                }
                let _ = match mode[0] {
                    b'D' => send(&mut s, bytes),
                    b'U' => drain(&mut s).and_then(|n| s.write_all(&n.to_le_bytes())),
                    _ => drain(&mut s).map(|_| ()),
                };
            });
        }
    });
    Ok(port)
}

fn send(s: &mut (impl Write + ?Sized), bytes: u64) -> io::Result<()> {
    let buf = vec![0x5a_u8; CHUNK];
    let mut left = bytes;
    while left > 0 {
        let n = left.min(CHUNK as u64) as usize;
        s.write_all(&buf[..n])?;
        left -= n as u64;
    }
    Ok(())
}

fn drain(s: &mut (impl Read + ?Sized)) -> io::Result<u64> {
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        match s.read(&mut buf)? {
            0 => return Ok(total),
            n => total += n as u64,
        }
    }
}

trait Conn: Read + Write {
    fn shut_write(&self) -> io::Result<()>;
}
impl Conn for TcpStream {
    fn shut_write(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
}
impl Conn for UnixStream {
    fn shut_write(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
}

/// One transfer of `bytes` (download or upload) over `s`; the time from the request to the
/// last byte (download) or to the origin's count (upload).
fn transfer(s: &mut dyn Conn, upload: bool, bytes: u64) -> Result<Duration> {
    let start = Instant::now();
    if upload {
        s.write_all(b"U")?;
        send(s, bytes)?;
        s.shut_write()?;
        let mut count = [0u8; 8];
        s.read_exact(&mut count)?;
        if u64::from_le_bytes(count) != bytes {
            return Err("the origin counted a different number of bytes".into());
        }
    } else {
        s.write_all(b"D")?;
        let got = drain(s)?;
        if got != bytes {
            return Err(format!("downloaded {got} of {bytes} bytes").into());
        }
    }
    Ok(start.elapsed())
}

/// A tunnel as the in-sandbox bridge opens one: a Unix socket with a send buffer sized for
/// bulk uploads (Unix sockets do not autotune as TCP does).
fn tunnel(socket: &Path, port: u16) -> Result<UnixStream> {
    let mut s = UnixStream::connect(socket)?;
    nix::sys::socket::setsockopt(&s, nix::sys::socket::sockopt::SndBuf, &(2usize << 20))?;
    write!(
        s,
        "CONNECT 127.0.0.1:{port} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
    )?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut byte)?;
        head.push(byte[0]);
    }
    if !head.starts_with(b"HTTP/1.1 200 ") {
        return Err(format!("CONNECT refused: {}", String::from_utf8_lossy(&head)).into());
    }
    Ok(s)
}

fn fd_count(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

struct ProxyChild(Child);

impl Drop for ProxyChild {
    fn drop(&mut self) {
        drop(self.0.stdin.take());
        let _ = self.0.wait();
    }
}

fn start_proxy(port: u16, zero_copy: bool) -> Result<(ProxyChild, PathBuf)> {
    let mut child = ProxyChild(
        Command::new(std::env::current_exe()?)
            .args(["--serve-proxy", &port.to_string()])
            .args((!zero_copy).then_some("--copy"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?,
    );
    let stdout = child.0.stdout.take().ok_or("no stdout from the proxy")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let socket = PathBuf::from(line.trim());
    if !socket.exists() {
        return Err(format!("the proxy did not start ({line:?})").into());
    }
    Ok((child, socket))
}

fn run(args: &[String]) -> Result<()> {
    let bytes = flag(args, "--bytes", 1 << 30)?;
    let rounds = flag(args, "--rounds", 3)?.max(1);
    let port = origin(bytes)?;
    let (child, socket) = start_proxy(port, true)?;
    let (copy_child, copy_socket) = start_proxy(port, false)?;
    let pid = child.0.id();
    let (idle_rss, _) = rss_kib(pid).ok_or("cannot read the proxy's RSS")?;

    println!(
        "srt tunnel bench: {} MiB per transfer, median of {rounds} rounds; ratio = tunnel / direct",
        bytes >> 20
    );
    let mut ratios = Vec::new();
    for (name, upload) in [("download", false), ("upload", true)] {
        let (mut direct, mut spliced, mut copied) = (Vec::new(), Vec::new(), Vec::new());
        let (mut splice_cpu, mut copy_cpu) = (Duration::ZERO, Duration::ZERO);
        for _ in 0..rounds {
            let mut conn = TcpStream::connect(("127.0.0.1", port))?;
            direct.push(transfer(&mut conn, upload, bytes)?);
            for (sock, proc_id, times, cpu) in [
                (&socket, pid, &mut spliced, &mut splice_cpu),
                (&copy_socket, copy_child.0.id(), &mut copied, &mut copy_cpu),
            ] {
                let before = cpu_time(proc_id).unwrap_or_default();
                times.push(transfer(&mut tunnel(sock, port)?, upload, bytes)?);
                *cpu += cpu_time(proc_id).unwrap_or_default().saturating_sub(before);
            }
        }
        let gib = bytes as f64 / f64::from(1u32 << 30);
        let per_gib = |cpu: Duration| cpu.as_secs_f64() * 1000.0 / rounds as f64 / gib;
        let d = mb_per_s(bytes, median(direct));
        let s = mb_per_s(bytes, median(spliced));
        let c = mb_per_s(bytes, median(copied));
        println!("  {name}: direct loopback {d:.0} MB/s");
        println!(
            "    CONNECT tunnel (splice, default)  {s:6.0} MB/s  ratio {:.2}  proxy CPU {:.0} ms/GiB",
            s / d,
            per_gib(splice_cpu)
        );
        println!(
            "    CONNECT tunnel (user-space copy)  {c:6.0} MB/s  ratio {:.2}  proxy CPU {:.0} ms/GiB",
            c / d,
            per_gib(copy_cpu)
        );
        ratios.push(s / d);
    }
    drop(copy_child);
    let (rss, hwm) = rss_kib(pid).ok_or("cannot read the proxy's RSS")?;

    const TUNNELS: usize = 500;
    let fds_before = fd_count(pid);
    let mut open = Vec::new();
    for _ in 0..TUNNELS {
        let mut s = tunnel(&socket, port)?;
        s.write_all(b"H")?;
        open.push(s);
    }
    let fds_during = fd_count(pid);
    let (rss_500, _) = rss_kib(pid).ok_or("cannot read the proxy's RSS")?;
    drop(open);
    let deadline = Instant::now() + Duration::from_secs(10);
    while fd_count(pid) > fds_before && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let fds_after = fd_count(pid);

    println!(
        "  proxy RSS  idle {:.1} MiB, after the transfers {:.1} MiB (peak {:.1} MiB), with {TUNNELS} open tunnels {:.1} MiB",
        idle_rss as f64 / 1024.0,
        rss as f64 / 1024.0,
        hwm as f64 / 1024.0,
        rss_500 as f64 / 1024.0
    );
    println!(
        "  proxy fds  before {fds_before}, with {TUNNELS} tunnels {fds_during}, after {fds_after}"
    );
    let worst = ratios.iter().copied().fold(f64::INFINITY, f64::min);
    println!(
        "  bar: tunnel ≥ {BAR:.2} × direct: {} (worst ratio {worst:.2}); no fd growth: {}",
        if worst >= BAR { "met" } else { "NOT met" },
        if fds_after <= fds_before {
            "met"
        } else {
            "NOT met"
        }
    );
    Ok(())
}
