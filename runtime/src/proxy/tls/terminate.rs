//! A terminated tunnel: after `200 Connection Established` the client's first bytes are read;
//! a TLS ClientHello is answered on the tunnel's own socket with a leaf for its server name
//! (the CONNECT target's under `requireHostMatch`, or when it names none), the decrypted
//! HTTP/1.1 is served by hyper, and each request is forwarded over a separate TLS connection to
//! the CONNECT target, verified against the system roots and `extraCaCertPaths` (kept alive
//! for the tunnel's next requests). Masked credentials are substituted on the way out
//! ([`super::super::inject`]). Nothing listens: no other process can reach the plaintext.
//!
//! Bytes that are not TLS are tunnelled opaquely, or refused under `refuseOpaqueTunnels`.

use std::convert::Infallible;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_LENGTH, HOST};
use hyper::{Request, Response, StatusCode, Version};
use hyper_util::rt::{TokioIo, TokioTimer};
use rustls::pki_types::ServerName;
use srt_schema::domain::{canonical_host, Host};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::sync::{mpsc, Mutex, OwnedSemaphorePermit};

use super::super::dial::{DialError, Refusal};
use super::super::http::{
    error_response, refuse_response, strip_hop_by_hop, upstream_failure, Body,
};
use super::super::inject;
use super::super::sigv4;
use super::super::target::printable;
use super::super::tunnel::{Activity, Watched};
use super::super::upstream::UpstreamStream;
use super::super::violation::{Protocol, ViolationKind};
use super::super::Shared;
use super::legs::{drive, Leg, Legs, UpstreamConn};
use super::readahead::ReadAhead;
use super::TlsContext;

/// Bytes already read from the client, then the client.
pub(crate) struct Rewind<S> {
    prefix: Bytes,
    inner: S,
}

impl<S: AsyncRead + Unpin> AsyncRead for Rewind<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.prefix.has_remaining() {
            let n = self.prefix.len().min(buf.remaining());
            buf.put_slice(&self.prefix[..n]);
            self.prefix.advance(n);
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Rewind<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, data)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Where the tunnel leads (as decided at CONNECT).
#[derive(Clone)]
pub(crate) struct Target {
    pub host: Host,
    pub port: u16,
}

impl Target {
    fn host_text(&self) -> String {
        match &self.host {
            Host::Name(n) => n.clone(),
            Host::Ip(ip) => ip.to_string(),
        }
    }

    /// `host[:port]` as it goes in `Host` (the port only when not 443).
    fn authority(&self) -> String {
        if self.port == 443 {
            self.host.to_string()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// A TLS ClientHello starts with a handshake record: 0x16 0x03 0x00–0x03.
fn looks_like_tls(b: &[u8]) -> bool {
    b.len() >= 3 && b[0] == 0x16 && b[1] == 0x03 && b[2] <= 0x03
}

/// Serves a CONNECT tunnel that TLS termination applies to. `early` is what the client sent
/// after its CONNECT head; `slot` is the tunnel's `maxTunnels` slot, held until it closes or
/// turns out not to carry TLS.
pub(crate) async fn serve<S>(
    mut client: S,
    early: Bytes,
    target: Target,
    shared: Arc<Shared>,
    tls: Arc<TlsContext>,
    slot: OwnedSemaphorePermit,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let deadline = tokio::time::Instant::now() + tls.handshake_timeout;
    // The first three bytes say whether this is TLS.
    let mut head = early.to_vec();
    while head.len() < 3 {
        let mut buf = [0u8; 512];
        match tokio::time::timeout_at(deadline, client.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => head.extend_from_slice(&buf[..n]),
            _ => return,
        }
    }
    let stream = Rewind {
        prefix: Bytes::from(head),
        inner: ReadAhead::new(client),
    };
    if !looks_like_tls(&stream.prefix) {
        drop(slot);
        opaque(stream, target, shared).await;
        return;
    }
    let acceptor =
        tokio_rustls::LazyConfigAcceptor::new(rustls::server::Acceptor::default(), stream);
    let Ok(Ok(start)) = tokio::time::timeout_at(deadline, acceptor).await else {
        return;
    };
    let require_match = shared.dialer.ir.secrets.require_host_match;
    let sni = start
        .client_hello()
        .server_name()
        .map(str::to_ascii_lowercase);
    // Under requireHostMatch the certificate is always the target's (a mismatched name gets
    // 421 anyway), so the names a client can have minted are the targets'.
    let leaf_name = match &sni {
        Some(n) if !require_match => n.clone(),
        _ => target.host_text(),
    };
    // A server name that cannot be a certificate's (an underscore, say) gets the target's.
    let minting = tokio::time::Instant::now();
    let Ok(config) = tls
        .ca
        .server_config(&leaf_name)
        .or_else(|_| tls.ca.server_config(&target.host_text()))
    else {
        return;
    };
    // The deadline is the client's: srt's own time minting the certificate (long on a busy
    // machine) does not count against it, or a client that did nothing wrong would be cut off
    // after its side of the handshake had finished.
    let deadline = deadline + minting.elapsed();
    let Ok(Ok(tls_stream)) = tokio::time::timeout_at(deadline, start.into_stream(config)).await
    else {
        return;
    };
    let activity = Activity::new();
    let io = TokioIo::new(Watched::new(tls_stream, activity.clone()));
    // The upstream connections are driven by this task ([`super::legs`]).
    let (driver, mut upstream_conns) = mpsc::unbounded_channel::<UpstreamConn>();
    let leg = Arc::new(Legs {
        current: Mutex::new(None),
        driver,
    });
    let svc = {
        let shared = shared.clone();
        let target = target.clone();
        let tls = tls.clone();
        hyper::service::service_fn(move |req| {
            let (shared, target, tls, leg, sni) = (
                shared.clone(),
                target.clone(),
                tls.clone(),
                leg.clone(),
                sni.clone(),
            );
            async move { Ok::<_, Infallible>(forward(req, &shared, &tls, &target, sni, &leg).await) }
        })
    };
    let limits = &shared.limits;
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .half_close(false)
        .keep_alive(true)
        .header_read_timeout(limits.tunnel_request_timeout)
        .max_header_size(limits.max_header_bytes)
        .max_headers(limits.max_headers)
        .max_buf_size(limits.tunnel_buffer_bytes)
        .serve_connection(io, svc);
    tokio::pin!(conn);
    let idle = activity.idle_for(limits.idle_timeout);
    tokio::pin!(idle);
    let mut driven: Vec<UpstreamConn> = Vec::new();
    loop {
        tokio::select! {
            _ = &mut conn => break,
            _ = &mut idle => break,
            Some(c) = upstream_conns.recv() => driven.push(c),
            () = drive(&mut driven), if !driven.is_empty() => {}
        }
    }
    drop(slot);
}

/// Not TLS: tunnelled as any CONNECT, or refused under `refuseOpaqueTunnels`.
async fn opaque<S>(client: Rewind<ReadAhead<S>>, target: Target, shared: Arc<Shared>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    if shared.dialer.ir.secrets.refuse_opaque_tunnels {
        shared.record(
            Protocol::Connect,
            &Refusal {
                kind: ViolationKind::OpaqueTunnel,
                host: target.host_text(),
                port: Some(target.port),
                reason: "tunnel carries no TLS and cannot be inspected".into(),
                rule: Some("network.refuseOpaqueTunnels".into()),
                explanation: "the tunnel carries no TLS and cannot be inspected (network.refuseOpaqueTunnels)".into(),
            },
        );
        return;
    }
    let Ok(dialled) = shared.dialer.dial(&target.host_text(), target.port).await else {
        return;
    };
    super::super::tunnel::relay_stream(client, dialled.stream, shared.limits.idle_timeout).await;
}

async fn connect_upstream(
    shared: &Shared,
    tls: &TlsContext,
    target: &Target,
    driver: &mpsc::UnboundedSender<UpstreamConn>,
) -> Result<Leg, Response<Body>> {
    let dialled = match shared.dialer.dial(&target.host_text(), target.port).await {
        Ok(d) => d,
        Err(DialError::Refused(r)) => {
            return Err(refuse_response(shared, Protocol::Connect, r, false))
        }
        Err(DialError::Upstream(u)) => return Err(upstream_failure(&u)),
    };
    let name = match &target.host {
        Host::Name(n) => ServerName::try_from(n.clone()),
        Host::Ip(ip) => Ok(ServerName::IpAddress((*ip).into())),
    };
    let Ok(name) = name else {
        return Err(error_response(
            StatusCode::BAD_GATEWAY,
            "upstream: unusable server name",
        ));
    };
    let connector = tokio_rustls::TlsConnector::from(tls.upstream.clone());
    let connect = connector.connect(name, ReadAhead::new(dialled.stream));
    let stream: tokio_rustls::client::TlsStream<ReadAhead<UpstreamStream>> =
        match tokio::time::timeout(shared.limits.connect_timeout, connect).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                return Err(error_response(
                    StatusCode::BAD_GATEWAY,
                    &format!(
                        "upstream TLS to {} failed verification or handshake: {}",
                        target.authority(),
                        printable(&e.to_string())
                    ),
                ))
            }
            Err(_) => return Err(upstream_failure(&super::super::dial::Upstream::Timeout)),
        };
    let (sender, conn) = hyper::client::conn::http1::Builder::new()
        .max_buf_size(shared.limits.tunnel_buffer_bytes)
        .handshake(TokioIo::new(stream))
        .await
        .map_err(|e| error_response(StatusCode::BAD_GATEWAY, &format!("upstream: {e}")))?;
    let idle = shared.limits.idle_timeout;
    let run: UpstreamConn = Box::pin(async move {
        let _ = tokio::time::timeout(idle * 4, conn).await;
    });
    if driver.send(run).is_err() {
        return Err(error_response(
            StatusCode::BAD_GATEWAY,
            "upstream: the tunnel is closing",
        ));
    }
    Ok(Leg { sender })
}

/// `403` for a request with a masked AWS credential that is not re-signed (`credentials.sigv4`).
fn unsignable(shared: &Shared, target: &Target, why: String) -> Response<Body> {
    let r = Refusal {
        kind: ViolationKind::UnsignableCredential,
        host: target.host_text(),
        port: Some(target.port),
        reason: "request with a masked AWS credential cannot be re-signed".into(),
        rule: Some("credentials.sigv4".into()),
        explanation: why,
    };
    refuse_response(shared, Protocol::Connect, r, false)
}

/// The whole (substituted) body, for a signature over its hash; refused past the limits.
async fn buffer_for_signing(
    mut body: Body,
    registry: &crate::secrets::Registry,
) -> Result<Bytes, String> {
    let mut budget = sigv4::Buffered::new(registry);
    let mut out = bytes::BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| format!("reading the request body failed: {e}"))?;
        if let Ok(data) = frame.into_data() {
            if !budget.take(data.len()) {
                return Err(format!(
                    "AWS SigV4 request uses a masked credential and signs a literal body hash, so the proxy must buffer the body to re-sign it, but it exceeds the {} MiB limit per request (or {} MiB for all requests at once); sign the payload as UNSIGNED-PAYLOAD to stream it",
                    sigv4::MAX_BODY >> 20,
                    sigv4::MAX_BUFFERED >> 20
                ));
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(out.freeze())
}

/// `421`: Host or server name names another destination than the CONNECT target.
fn host_mismatch(shared: &Shared, target: &Target, why: String) -> Response<Body> {
    let r = Refusal {
        kind: ViolationKind::HostMismatch,
        host: target.host_text(),
        port: Some(target.port),
        reason: "Host header or TLS server name does not match the CONNECT target".into(),
        rule: Some("network.requireHostMatch".into()),
        explanation: why,
    };
    refuse_response(shared, Protocol::Connect, r, false)
}

fn names_target(text: &str, target: &Target, default_port: u16) -> bool {
    super::super::target::parse_authority(text, Some(default_port)).is_ok_and(|a| {
        a.port == target.port && canonical_host(&a.host).is_ok_and(|h| h == target.host)
    })
}

async fn forward(
    req: Request<Incoming>,
    shared: &Arc<Shared>,
    tls: &TlsContext,
    target: &Target,
    sni: Option<String>,
    leg: &Legs,
) -> Response<Body> {
    if shared.dialer.ir.secrets.require_host_match {
        let hosts: Vec<_> = req.headers().get_all(HOST).iter().collect();
        let host_ok = match hosts.as_slice() {
            [] => true,
            [one] => names_target(&String::from_utf8_lossy(one.as_bytes()), target, 443),
            _ => false,
        };
        let sni_ok = sni
            .as_deref()
            .is_some_and(|s| canonical_host(s).is_ok_and(|h| h == target.host));
        let uri_ok = req
            .uri()
            .authority()
            .is_none_or(|a| names_target(a.as_str(), target, 443));
        if !(host_ok && sni_ok && uri_ok) {
            let why = format!(
                "Host {:?} / server name {:?} does not name the CONNECT target",
                hosts
                    .first()
                    .map(|h| printable(&String::from_utf8_lossy(h.as_bytes()))),
                sni.as_deref().map(printable)
            );
            return host_mismatch(shared, target, why);
        }
    }
    let (parts, body) = req.into_parts();
    let path = match parts.uri.path_and_query().map(|p| p.as_str()) {
        Some(p) if p.starts_with('/') => p.to_string(),
        Some("*") => "*".to_string(),
        _ => "/".to_string(),
    };
    let mut headers = parts.headers;
    strip_hop_by_hop(&mut headers);
    if let Ok(v) = HeaderValue::from_str(&target.authority()) {
        headers.insert(HOST, v);
    }
    let registry = shared.registry.clone();
    let subs_host = target.host.clone();
    // SigV4: planned on the headers as the client signed them (the trigger is the masked key
    // id, which substitution replaces), applied after substitution (the new signature covers
    // what goes upstream).
    let sigv4_plan = registry.as_deref().and_then(|r| {
        sigv4::plan(
            r,
            shared.dialer.ir.secrets.sigv4,
            &path,
            &headers,
            &target.host,
        )
    });
    if let Some(sigv4::Plan::Deny(why)) = &sigv4_plan {
        return unsignable(shared, target, why.clone());
    }
    let body: Body = match registry.as_ref().and_then(|r| r.for_host(&subs_host)) {
        Some(subs) => {
            inject::headers(&subs, &mut headers);
            if inject::body_scannable(&headers) {
                inject::reframe(&subs, &mut headers);
                let registry = registry.clone().unwrap_or_default();
                inject::SubstitutingBody::new(body, registry, subs_host).boxed()
            } else {
                body.boxed()
            }
        }
        None => body.boxed(),
    };
    let body = match (&sigv4_plan, registry.as_deref()) {
        (Some(sigv4::Plan::Resign(resign)), Some(r)) => {
            let (buffered, body) = if resign.unsigned_payload {
                (None, body)
            } else {
                match buffer_for_signing(body, r).await {
                    Ok(b) => (
                        Some(b.clone()),
                        Full::new(b).map_err(|never| match never {}).boxed(),
                    ),
                    Err(why) => return unsignable(shared, target, why),
                }
            };
            if let Some(b) = &buffered {
                headers.insert(CONTENT_LENGTH, HeaderValue::from(b.len()));
            }
            let signed = resign.apply(
                parts.method.as_str(),
                &target.authority(),
                &path,
                &mut headers,
                buffered.as_deref(),
            );
            if let Err(why) = signed {
                return unsignable(
                    shared,
                    target,
                    format!("AWS SigV4 re-signing failed: {why}"),
                );
            }
            body
        }
        _ => body,
    };
    let mut upstream_req = Request::new(body);
    *upstream_req.method_mut() = parts.method;
    *upstream_req.version_mut() = Version::HTTP_11;
    *upstream_req.headers_mut() = headers;
    match path.parse() {
        Ok(u) => *upstream_req.uri_mut() = u,
        Err(_) => return error_response(StatusCode::BAD_REQUEST, "unusable request target"),
    }
    let mut guard = leg.current.lock().await;
    let reusable = guard.as_mut().is_some_and(|l| !l.sender.is_closed());
    if !reusable {
        match connect_upstream(shared, tls, target, &leg.driver).await {
            Ok(l) => *guard = Some(l),
            Err(resp) => return resp,
        }
    }
    let Some(l) = guard.as_mut() else {
        return error_response(StatusCode::BAD_GATEWAY, "upstream: no connection");
    };
    if l.sender.ready().await.is_err() {
        *guard = None;
        return error_response(StatusCode::BAD_GATEWAY, "upstream closed the connection");
    }
    let sent = l.sender.send_request(upstream_req);
    drop(guard);
    match sent.await {
        Ok(resp) => {
            let (mut parts, body) = resp.into_parts();
            strip_hop_by_hop(&mut parts.headers);
            Response::from_parts(parts, body.boxed())
        }
        Err(e) => error_response(StatusCode::BAD_GATEWAY, &format!("upstream: {e}")),
    }
}
