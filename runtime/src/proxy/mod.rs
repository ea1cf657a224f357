//! The network proxies `srt run` points the sandboxed command at: an HTTP proxy (`CONNECT` and
//! absolute-URI requests) and a SOCKS5 proxy, each on a Unix socket in a private 0700
//! directory made for this run ([`Listen::UnixDir`], Linux), or each on a loopback TCP port
//! with per-run credentials ([`Listen::Loopback`], macOS).
//!
//! Every destination is decided by [`srt_compiler::Ir::decide_host`]; an allowed hostname is
//! then resolved once, its addresses checked by the [resolved-address guard](guard), and one
//! of the checked addresses dialled. Refusals are answered (403 / SOCKS reply 2) and reported
//! as [violations](violation).
//!
//! The proxies run on their own multi-thread tokio runtime (worker threads named
//! `srt-proxy`), so a synchronous caller starts them with [`ProxyServer::start`], runs the
//! command, and calls [`ProxyServer::shutdown`] (dropping the server does the same).
//!
//! The process must keep `SIGPIPE` ignored (Rust binaries do by default): a tunnel splicing
//! into a socket whose peer went away gets `EPIPE`, not a signal.

pub mod auth;
pub mod guard;
mod listen;
pub mod live;
pub mod resolver;
pub mod target;
pub mod violation;

mod dial;
mod error;
mod external;
mod http;
mod inject;
#[cfg(target_os = "linux")]
mod pump;
mod sigv4;
mod socket_dir;
mod socks;
pub mod tls;
mod tunnel;
mod upstream;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use srt_compiler::backend::linux::FileId;
use srt_compiler::Ir;
use tokio::sync::{watch, Semaphore};

pub use auth::Credentials;
pub use error::ProxyError;
pub use listen::Listen;
pub use live::LivePolicy;
pub use resolver::{PinnedResolver, Resolver, StaticResolver, SystemResolver};
pub use socket_dir::parent_for as socket_parent_for;
pub use violation::{ignore_patterns, Protocol, Violation, ViolationKind, ViolationOptions};

use dial::{Dialer, Refusal};
use listen::{ClientStream, Listener};
use violation::ViolationLog;

/// Bounds on what one client may cost the proxies.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Request line plus headers, in bytes (HTTP); larger heads get 431.
    pub max_header_bytes: usize,
    /// Header fields per request (HTTP); more get 431.
    pub max_headers: usize,
    /// Time to send a complete request head (HTTP, also between keep-alive requests) or to
    /// finish the SOCKS negotiation.
    pub header_timeout: Duration,
    /// A tunnel or connection with no bytes moving either way for this long is closed.
    pub idle_timeout: Duration,
    /// Resolving and connecting to a destination.
    pub connect_timeout: Duration,
    /// Client connections open at once, both proxies together (a tunnel counts as one).
    pub max_connections: usize,
    /// Inside a TLS-terminated tunnel: time to send a request head, also while the tunnel
    /// waits between requests (an idle tunnel is closed after it and frees its slot).
    pub tunnel_request_timeout: Duration,
    /// Inside a TLS-terminated tunnel: the most hyper buffers per direction.
    pub tunnel_buffer_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_header_bytes: 64 * 1024,
            max_headers: 100,
            header_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(600),
            connect_timeout: Duration::from_secs(30),
            max_connections: 1024,
            tunnel_request_timeout: Duration::from_secs(10),
            tunnel_buffer_bytes: 256 * 1024,
        }
    }
}

/// How to run the proxies.
#[derive(Clone)]
pub struct ProxyOptions {
    pub limits: Limits,
    pub violations: ViolationOptions,
    /// Name resolution; the system resolver unless a test maps names.
    pub resolver: Arc<dyn Resolver>,
    /// Unix sockets in a private directory, or loopback ports with credentials.
    pub listen: Listen,
    /// Where the private socket directory is made (default `$XDG_RUNTIME_DIR`, else the temp
    /// dir); unused on loopback.
    pub socket_parent: Option<PathBuf>,
    /// Worker threads of the proxies' runtime.
    pub worker_threads: usize,
    /// Let bulk tunnel traffic move by `splice(2)` instead of through user space (on by
    /// default; off is for comparison and for kernels or sandboxes without socket splice).
    pub zero_copy: bool,
    /// `network.tlsTerminate`: the CA and upstream trust; `None` tunnels every CONNECT opaquely.
    pub tls: Option<Arc<tls::TlsContext>>,
    /// Masked credentials to substitute on egress.
    pub registry: Option<Arc<crate::secrets::Registry>>,
    /// The network policy, when the caller replaces it while the proxies run
    /// (`--control-fd`); otherwise the one `start` is given stays.
    pub policy: Option<Arc<LivePolicy>>,
}

impl Default for ProxyOptions {
    fn default() -> Self {
        ProxyOptions {
            limits: Limits::default(),
            violations: ViolationOptions {
                stderr: true,
                ..ViolationOptions::default()
            },
            resolver: Arc::new(SystemResolver),
            listen: Listen::UnixDir,
            socket_parent: None,
            worker_threads: 2,
            zero_copy: true,
            tls: None,
            registry: None,
            policy: None,
        }
    }
}

impl std::fmt::Debug for ProxyOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyOptions")
            .field("limits", &self.limits)
            .field("violations", &self.violations)
            .field("listen", &self.listen)
            .field("socket_parent", &self.socket_parent)
            .field("worker_threads", &self.worker_threads)
            .field("zero_copy", &self.zero_copy)
            .finish_non_exhaustive()
    }
}

/// What every connection handler shares.
pub(crate) struct Shared {
    pub dialer: Dialer,
    pub limits: Limits,
    pub zero_copy: bool,
    /// Credentials every client must present (loopback mode); `None` on private sockets.
    pub auth: Option<Credentials>,
    pub tls: Option<Arc<tls::TlsContext>>,
    pub registry: Option<Arc<crate::secrets::Registry>>,
    violations: ViolationLog,
}

impl Shared {
    /// Reports a refusal as a violation and returns it (its line is the refusal's body).
    pub fn record(&self, protocol: Protocol, r: &Refusal) -> Violation {
        let v = Violation {
            time: SystemTime::now(),
            protocol,
            host: r.host.clone(),
            port: r.port,
            kind: r.kind,
            reason: r.reason.clone(),
            rule: r.rule.clone(),
            explanation: r.explanation.clone(),
        };
        self.violations.record(&v);
        v
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Http,
    Socks,
    /// Relayed as they are to the user's proxy on this `localhost` port
    /// (`httpProxyPort`/`socksProxyPort`).
    External(u16),
}

/// The running proxies. Dropping it shuts them down and removes the socket directory.
pub struct ProxyServer {
    runtime: Option<tokio::runtime::Runtime>,
    /// The private socket directory ([`Listen::UnixDir`]).
    dir: Option<socket_dir::SocketDir>,
    /// The identities of `http.sock` and `socks.sock` in it.
    socket_ids: Option<[FileId; 2]>,
    /// The ports ([`Listen::Loopback`]).
    http_addr: Option<SocketAddr>,
    socks_addr: Option<SocketAddr>,
    stop: watch::Sender<bool>,
    /// The accept loops; each owns its listener, closed when the loop returns.
    accept_loops: Vec<tokio::task::JoinHandle<()>>,
    shared: Arc<Shared>,
    slots: Arc<Semaphore>,
}

impl std::fmt::Debug for ProxyServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyServer")
            .field("dir", &self.dir.as_ref().map(|d| &d.path))
            .field("http_addr", &self.http_addr)
            .field("socks_addr", &self.socks_addr)
            .finish_non_exhaustive()
    }
}

/// What [`ProxyServer::start`] bound before serving.
struct Bound {
    dir: Option<socket_dir::SocketDir>,
    auth: Option<Credentials>,
    http: Listener,
    socks: Listener,
}

impl ProxyServer {
    /// Binds the two listeners as `opts.listen` says — `http.sock` and `socks.sock` in a fresh
    /// private directory, or two loopback ports with fresh credentials — and starts serving
    /// on a runtime of its own. Raises this process's soft open-file limit towards what
    /// `max_connections` needs (never above the hard limit).
    pub fn start(ir: Arc<Ir>, opts: ProxyOptions) -> Result<ProxyServer, ProxyError> {
        // The user's own proxies must be up: their traffic has no other way out.
        if let Some(port) = ir.net.http_proxy_port {
            external::check_listening("httpProxyPort", port)?;
        }
        if let Some(port) = ir.net.socks_proxy_port {
            external::check_listening("socksProxyPort", port)?;
        }
        if let Some(m) = &ir.chain.mitm {
            // Its domains must never leave another way: without it they would have none.
            std::os::unix::net::UnixStream::connect(&m.socket_path).map_err(|cause| {
                ProxyError::MitmProxy {
                    path: m.socket_path.clone(),
                    cause,
                }
            })?;
        }
        let violations = ViolationLog::open(opts.violations.clone())?;
        raise_open_file_limit(opts.limits.max_connections);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(opts.worker_threads.max(1))
            .thread_name("srt-proxy")
            .enable_all()
            .build()
            .map_err(ProxyError::Runtime)?;
        let bound = {
            // Tokio listeners register with the runtime they are made in.
            let _guard = runtime.enter();
            match opts.listen {
                Listen::UnixDir => Self::bind_unix_dir(&opts)?,
                Listen::Loopback => Bound {
                    dir: None,
                    auth: Some(Credentials::random().map_err(ProxyError::Credentials)?),
                    http: Listener::loopback()?,
                    socks: Listener::loopback()?,
                },
            }
        };
        Ok(Self::serve(ir, runtime, bound, opts, violations))
    }

    fn bind_unix_dir(opts: &ProxyOptions) -> Result<Bound, ProxyError> {
        let parent = opts
            .socket_parent
            .clone()
            .unwrap_or_else(socket_dir::default_parent);
        let dir = socket_dir::create(&parent)?;
        let listeners = Listener::unix(&dir.path.join(socket_dir::HTTP_SOCKET)).and_then(|http| {
            Ok((
                http,
                Listener::unix(&dir.path.join(socket_dir::SOCKS_SOCKET))?,
            ))
        });
        match listeners {
            Ok((http, socks)) => Ok(Bound {
                dir: Some(dir),
                auth: None,
                http,
                socks,
            }),
            Err(e) => {
                dir.remove();
                Err(e)
            }
        }
    }

    fn serve(
        ir: Arc<Ir>,
        runtime: tokio::runtime::Runtime,
        bound: Bound,
        opts: ProxyOptions,
        violations: ViolationLog,
    ) -> ProxyServer {
        let ProxyOptions {
            limits,
            resolver,
            zero_copy,
            tls,
            registry,
            policy,
            ..
        } = opts;
        let policy = policy.unwrap_or_else(|| Arc::new(LivePolicy::new(ir.clone())));
        let Bound {
            dir,
            auth,
            http,
            socks,
        } = bound;
        let (http_addr, socks_addr) = (http.tcp_addr(), socks.tcp_addr());
        // Taken once the listeners are bound, through the directory's descriptor.
        let socket_ids = dir.as_ref().and_then(|d| {
            Some([
                d.socket_id(socket_dir::HTTP_SOCKET).ok()?,
                d.socket_id(socket_dir::SOCKS_SOCKET).ok()?,
            ])
        });
        let slots = Arc::new(Semaphore::new(limits.max_connections));
        let ir_ports = (ir.net.http_proxy_port, ir.net.socks_proxy_port);
        // An `https://` parent is verified against the system roots (and the run's extra CAs
        // when TLS termination has them).
        let https_parent = ir
            .chain
            .parent
            .as_ref()
            .is_some_and(|p| p.http.iter().chain(&p.https).any(|u| u.tls));
        let parent_tls = if !https_parent {
            None
        } else {
            match &tls {
                Some(t) => Some(t.upstream.clone()),
                None => tls::system_roots_client(),
            }
        };
        let shared = Arc::new(Shared {
            dialer: Dialer {
                routes: upstream::Routes {
                    parent: ir.chain.parent.clone(),
                    mitm: ir.chain.mitm.clone(),
                    parent_tls,
                },
                ir,
                policy,
                resolver,
                connect_timeout: limits.connect_timeout,
            },
            limits,
            zero_copy,
            auth,
            tls,
            registry,
            violations,
        });
        let (stop, stopped) = watch::channel(false);
        let http_kind = ir_ports.0.map_or(Kind::Http, Kind::External);
        let socks_kind = ir_ports.1.map_or(Kind::Socks, Kind::External);
        let accept_loops = [(http, http_kind), (socks, socks_kind)]
            .into_iter()
            .map(|(listener, kind)| {
                runtime.spawn(accept_loop(
                    listener,
                    kind,
                    shared.clone(),
                    slots.clone(),
                    stopped.clone(),
                ))
            })
            .collect();
        ProxyServer {
            runtime: Some(runtime),
            dir,
            socket_ids,
            http_addr,
            socks_addr,
            stop,
            accept_loops,
            shared,
            slots,
        }
    }

    /// The private directory holding the sockets (bind this into the sandbox); `None` on
    /// loopback.
    pub fn socket_dir(&self) -> Option<&Path> {
        self.dir.as_ref().map(|d| d.path.as_path())
    }

    /// The identities (device, inode) of the HTTP and SOCKS5 sockets srt bound, for the init
    /// to check ([`srt_compiler::backend::linux::LinuxOptions::proxy_socket_ids`]); `None` on
    /// loopback, or when they could not be read (the run must then refuse).
    pub fn socket_ids(&self) -> Option<[FileId; 2]> {
        self.socket_ids
    }

    /// The HTTP proxy's Unix socket; `None` on loopback.
    pub fn http_socket(&self) -> Option<PathBuf> {
        self.dir
            .as_ref()
            .map(|d| d.path.join(socket_dir::HTTP_SOCKET))
    }

    /// The SOCKS5 proxy's Unix socket; `None` on loopback.
    pub fn socks_socket(&self) -> Option<PathBuf> {
        self.dir
            .as_ref()
            .map(|d| d.path.join(socket_dir::SOCKS_SOCKET))
    }

    /// The HTTP proxy's loopback address; `None` on Unix sockets.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http_addr
    }

    /// The SOCKS5 proxy's loopback address; `None` on Unix sockets.
    pub fn socks_addr(&self) -> Option<SocketAddr> {
        self.socks_addr
    }

    /// The credentials clients must present (loopback); `None` on Unix sockets.
    pub fn credentials(&self) -> Option<&Credentials> {
        self.shared.auth.as_ref()
    }

    /// Client connections currently open (tunnels included).
    pub fn active_connections(&self) -> usize {
        self.shared.limits.max_connections - self.slots.available_permits()
    }

    /// Stops accepting, closes every connection and removes the socket directory. Waits up to
    /// two seconds for the workers when called outside an async context.
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        let _ = self.stop.send(true);
        if let Some(dir) = self.dir.take() {
            dir.remove();
        }
        if let Some(rt) = self.runtime.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                rt.shutdown_background();
            } else {
                // The listeners are closed when this returns: the accept loops own them and
                // return on the stop signal (a busy machine can take longer than the runtime's
                // own shutdown to drop them).
                let loops = std::mem::take(&mut self.accept_loops);
                rt.block_on(async {
                    for l in loops {
                        let _ = tokio::time::timeout(Duration::from_secs(2), l).await;
                    }
                });
                rt.shutdown_timeout(Duration::from_secs(2));
            }
        }
    }
}

impl Drop for ProxyServer {
    fn drop(&mut self) {
        self.stop_now();
    }
}

async fn accept_loop(
    listener: Listener,
    kind: Kind,
    shared: Arc<Shared>,
    slots: Arc<Semaphore>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            _ = stop.changed() => return,
            r = listener.accept() => r,
        };
        match accepted {
            Ok(stream) => match slots.clone().try_acquire_owned() {
                Ok(slot) => {
                    let shared = shared.clone();
                    match kind {
                        Kind::Http => tokio::spawn(http::serve(stream, shared, slot)),
                        Kind::Socks => tokio::spawn(socks::serve(stream, shared, slot)),
                        Kind::External(port) => {
                            tokio::spawn(external::serve(stream, port, shared, slot))
                        }
                    };
                }
                Err(_) => refuse_busy(stream, kind),
            },
            // Out of file descriptors or memory: wait for connections to finish.
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

/// Over the connection limit: HTTP clients get a 503 and the connection is closed; SOCKS
/// clients are closed.
fn refuse_busy(stream: ClientStream, kind: Kind) {
    if let Kind::Http = kind {
        const BODY: &str = "srt: too many connections\n";
        let head = format!(
            "HTTP/1.1 503 Service Unavailable\r\nX-Proxy-Error: too many connections\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{BODY}",
            BODY.len()
        );
        let _ = stream.try_write(head.as_bytes());
    }
    // Closing a socket with the client's request unread would make its read fail with
    // ECONNRESET before it sees the answer; shut our side and let it drain briefly. Under a
    // flood, past a few dozen at once, the connection is just closed.
    static DRAINING: AtomicUsize = AtomicUsize::new(0);
    if DRAINING.fetch_add(1, Ordering::Relaxed) >= 64 {
        DRAINING.fetch_sub(1, Ordering::Relaxed);
        return;
    }
    tokio::spawn(async move {
        let mut stream = stream;
        let _ = tokio::io::AsyncWriteExt::shutdown(&mut stream).await;
        let mut sink = tokio::io::sink();
        let mut limited = tokio::io::AsyncReadExt::take(&mut stream, 64 * 1024);
        let _ = tokio::time::timeout(
            Duration::from_secs(1),
            tokio::io::copy(&mut limited, &mut sink),
        )
        .await;
        DRAINING.fetch_sub(1, Ordering::Relaxed);
    });
}

/// Each tunnel holds up to six descriptors (client, destination, a pipe per direction while
/// splicing), plus listeners and spares.
fn raise_open_file_limit(max_connections: usize) {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let wanted = (max_connections as u64)
        .saturating_mul(2)
        .saturating_add(256);
    if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) {
        if soft < wanted {
            let _ = setrlimit(Resource::RLIMIT_NOFILE, wanted.min(hard), hard);
        }
    }
}
