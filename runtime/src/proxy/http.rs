//! The HTTP proxy: `CONNECT host:port` tunnels and absolute-URI requests (`GET http://…`).
//!
//! hyper reads and frames requests: it enforces the header-size limit (431), the header read
//! timeout (slow clients are closed), rejects malformed request lines with 400, and frames
//! bodies both ways, so the proxy never guesses where one request ends. What hyper accepts is
//! then checked strictly here: the target is split by [`parse_authority`] (no userinfo, one
//! port), decided by the decision procedure, and dialled through the guard.
//!
//! On private Unix sockets `Proxy-Authorization` is accepted and ignored (a token would add
//! nothing there). On loopback every request must carry the run's credentials
//! (`Proxy-Authorization: Basic …`), else it gets `407` before its target is even read. The
//! header is never forwarded.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{
    HeaderMap, HeaderName, HeaderValue, CONNECTION, CONTENT_TYPE, HOST, PROXY_AUTHENTICATE,
    PROXY_AUTHORIZATION,
};
use hyper::{Method, Request, Response, StatusCode, Version};
use hyper_util::rt::{TokioIo, TokioTimer};
use srt_schema::domain::{canonical_host, Host};
use tokio::sync::OwnedSemaphorePermit;

use super::dial::{DialError, Refusal, Upstream};
use super::listen::ClientStream;
use super::target::{parse_authority, printable};
use super::tunnel::{relay, relay_stream, Activity, Watched};
use super::violation::{Protocol, ViolationKind};
use super::Shared;

pub(crate) type Body = BoxBody<Bytes, hyper::Error>;
type ClientIo = TokioIo<Watched<ClientStream>>;

const X_PROXY_ERROR: HeaderName = HeaderName::from_static("x-proxy-error");

/// Serves one client connection until it closes, goes idle, or is upgraded to a tunnel (the
/// tunnel then owns the connection's slot).
pub(crate) async fn serve(stream: ClientStream, shared: Arc<Shared>, permit: OwnedSemaphorePermit) {
    let permit = Arc::new(permit);
    let activity = Activity::new();
    let io: ClientIo = TokioIo::new(Watched::new(stream, activity.clone()));
    let limits = shared.limits.clone();
    let svc = {
        let permit = permit.clone();
        hyper::service::service_fn(move |req| {
            let shared = shared.clone();
            let permit = permit.clone();
            async move { Ok::<_, Infallible>(handle(req, shared, permit).await) }
        })
    };
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        // A client may finish sending (EOF) and still wait for the answer.
        .half_close(true)
        .header_read_timeout(limits.header_timeout)
        .max_header_size(limits.max_header_bytes)
        .max_headers(limits.max_headers)
        .serve_connection(io, svc)
        .with_upgrades();
    tokio::select! {
        _ = conn => {}
        _ = activity.idle_for(limits.idle_timeout) => {}
    }
}

async fn handle(
    req: Request<Incoming>,
    shared: Arc<Shared>,
    permit: Arc<OwnedSemaphorePermit>,
) -> Response<Body> {
    if let Some(auth) = &shared.auth {
        // Exactly one header, and it must carry the password.
        let mut values = req.headers().get_all(PROXY_AUTHORIZATION).iter();
        let authorized = match (values.next(), values.next()) {
            (Some(v), None) => auth.basic_matches(v.as_bytes()),
            _ => false,
        };
        if !authorized {
            return authentication_required();
        }
    }
    if req.method() == Method::CONNECT {
        connect(req, &shared, permit).await
    } else {
        forward(req, &shared).await
    }
}

async fn connect(
    mut req: Request<Incoming>,
    shared: &Arc<Shared>,
    permit: Arc<OwnedSemaphorePermit>,
) -> Response<Body> {
    let uri = req.uri();
    let authority = match (uri.scheme(), uri.authority(), uri.path_and_query()) {
        (None, Some(a), None) => a.as_str().to_string(),
        _ => {
            let r = Refusal::bad_request(&uri.to_string(), None, "CONNECT needs host:port");
            return refuse(shared, Protocol::Connect, r, true);
        }
    };
    let target = match parse_authority(&authority, None) {
        Ok(t) => t,
        Err(e) => {
            return refuse(
                shared,
                Protocol::Connect,
                Refusal::bad_request(&authority, None, e),
                true,
            )
        }
    };
    if let Some(tls) = &shared.tls {
        let host = match shared.dialer.decide(&target.host, target.port) {
            Ok(h) => h,
            Err(r) => return refuse(shared, Protocol::Connect, r, true),
        };
        if shared.dialer.ir.secrets.terminates(&host) {
            return terminated(req, shared, permit, tls.clone(), host, target.port);
        }
    }
    if shared.dialer.ir.secrets.refuse_opaque_tunnels {
        let r = Refusal {
            kind: ViolationKind::OpaqueTunnel,
            host: printable(&target.host),
            port: Some(target.port),
            reason: "this proxy does not tunnel CONNECTs it cannot inspect".into(),
            rule: Some("network.refuseOpaqueTunnels".into()),
            explanation: "the tunnel would not be TLS-terminated, so it cannot be inspected (network.refuseOpaqueTunnels)".into(),
        };
        return refuse(shared, Protocol::Connect, r, true);
    }
    let dialled = match shared.dialer.dial(&target.host, target.port).await {
        Ok(d) => d,
        Err(DialError::Refused(r)) => return refuse(shared, Protocol::Connect, r, true),
        Err(DialError::Upstream(u)) => return upstream_failure(&u),
    };
    let on_upgrade = hyper::upgrade::on(&mut req);
    let idle = shared.limits.idle_timeout;
    let zero_copy = shared.zero_copy;
    tokio::spawn(async move {
        let _slot = permit;
        let Ok(upgraded) = on_upgrade.await else {
            return;
        };
        match upgraded.downcast::<ClientIo>() {
            // The raw socket and whatever the client pipelined after the request.
            Ok(parts) => {
                relay(
                    parts.io.into_inner().inner,
                    dialled.stream,
                    &parts.read_buf,
                    idle,
                    zero_copy,
                )
                .await
            }
            Err(upgraded) => relay_stream(TokioIo::new(upgraded), dialled.stream, idle).await,
        }
    });
    let mut resp = Response::new(empty());
    if let Ok(phrase) = hyper::ext::ReasonPhrase::try_from(&b"Connection Established"[..]) {
        resp.extensions_mut().insert(phrase);
    }
    resp
}

/// A CONNECT that TLS termination applies to: answered `200` at once (the upstream is dialled
/// per request inside the tunnel), or `503` past `maxTunnels`.
fn terminated(
    mut req: Request<Incoming>,
    shared: &Arc<Shared>,
    permit: Arc<OwnedSemaphorePermit>,
    tls: Arc<super::tls::TlsContext>,
    host: Host,
    port: u16,
) -> Response<Body> {
    let Ok(slot) = tls.tunnels.clone().try_acquire_owned() else {
        let r = Refusal {
            kind: ViolationKind::TooManyTunnels,
            host: unbracketed(&host),
            port: Some(port),
            reason: "too many TLS-terminated tunnels".into(),
            rule: Some("network.tlsTerminate.maxTunnels".into()),
            explanation: format!(
                "the limit of {} TLS-terminated tunnels at once is reached (network.tlsTerminate.maxTunnels)",
                tls.max_tunnels
            ),
        };
        let mut resp = refuse(shared, Protocol::Connect, r, true);
        *resp.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        resp.headers_mut()
            .insert(X_PROXY_ERROR, HeaderValue::from_static("too-many-tunnels"));
        return resp;
    };
    let on_upgrade = hyper::upgrade::on(&mut req);
    let shared = shared.clone();
    let target = super::tls::terminate::Target { host, port };
    tokio::spawn(async move {
        let _connection = permit;
        let Ok(upgraded) = on_upgrade.await else {
            return;
        };
        match upgraded.downcast::<ClientIo>() {
            Ok(parts) => {
                let client = parts.io.into_inner().inner;
                super::tls::terminate::serve(client, parts.read_buf, target, shared, tls, slot)
                    .await
            }
            Err(upgraded) => {
                let client = TokioIo::new(upgraded);
                super::tls::terminate::serve(client, Bytes::new(), target, shared, tls, slot).await
            }
        }
    });
    let mut resp = Response::new(empty());
    if let Ok(phrase) = hyper::ext::ReasonPhrase::try_from(&b"Connection Established"[..]) {
        resp.extensions_mut().insert(phrase);
    }
    resp
}

fn unbracketed(host: &Host) -> String {
    match host {
        Host::Name(n) => n.clone(),
        Host::Ip(ip) => ip.to_string(),
    }
}

async fn forward(req: Request<Incoming>, shared: &Arc<Shared>) -> Response<Body> {
    let proto = Protocol::Http(printable(req.method().as_str()));
    let uri = req.uri().clone();
    match uri.scheme_str() {
        Some(s) if s.eq_ignore_ascii_case("http") => {}
        Some(_) => {
            let r = Refusal::bad_request(
                uri.authority().map_or("", |a| a.as_str()),
                None,
                "only http:// URLs are forwarded; use CONNECT for https",
            );
            return refuse(shared, proto, r, false);
        }
        None => {
            let r = Refusal::bad_request(
                "",
                None,
                "not a proxy request (the target is not an absolute http:// URL)",
            );
            return refuse(shared, proto, r, false);
        }
    }
    let authority = uri.authority().map_or("", |a| a.as_str());
    let target = match parse_authority(authority, Some(80)) {
        Ok(t) => t,
        Err(e) => {
            return refuse(
                shared,
                proto,
                Refusal::bad_request(authority, None, e),
                false,
            )
        }
    };
    if let Err(r) = check_host_header(req.headers(), &target.host, target.port) {
        return refuse(shared, proto, r, false);
    }
    let dialled = match shared.dialer.dial_http(&target.host, target.port).await {
        Ok(d) => d,
        Err(DialError::Refused(r)) => return refuse(shared, proto, r, false),
        Err(DialError::Upstream(u)) => return upstream_failure(&u),
    };

    let (parts, body) = req.into_parts();
    let path = match uri.path_and_query().map(|p| p.as_str()) {
        Some(p) if p.starts_with('/') => p.to_string(),
        Some(p) => format!("/{p}"),
        None => "/".to_string(),
    };
    let mut headers = parts.headers;
    strip_hop_by_hop(&mut headers);
    let authority = host_header(&dialled.host, target.port);
    if let Ok(v) = HeaderValue::from_str(&authority) {
        headers.insert(HOST, v);
    }
    headers.insert(CONNECTION, HeaderValue::from_static("close"));
    // To a parent or inspecting proxy the request goes in absolute form, rebuilt from the
    // canonical host the decision saw, with that proxy's own credentials.
    let path = match &dialled.via_proxy {
        Some(auth) => {
            if let Some(v) = auth.as_deref().and_then(|a| HeaderValue::from_str(a).ok()) {
                let mut v = v;
                v.set_sensitive(true);
                headers.insert(PROXY_AUTHORIZATION, v);
            }
            format!("http://{authority}{path}")
        }
        None => path,
    };
    // Masked credentials go out over plain HTTP only with allowPlaintextInject.
    let plaintext_inject = shared.dialer.ir.secrets.allow_plaintext_inject;
    let body: Body = match shared
        .registry
        .as_ref()
        .filter(|_| plaintext_inject)
        .and_then(|r| r.for_host(&dialled.host).map(|s| (r, s)))
    {
        Some((registry, subs)) => {
            super::inject::headers(&subs, &mut headers);
            if super::inject::body_scannable(&headers) {
                super::inject::reframe(&subs, &mut headers);
                super::inject::SubstitutingBody::new(body, registry.clone(), dialled.host.clone())
                    .boxed()
            } else {
                body.boxed()
            }
        }
        None => body.boxed(),
    };
    let mut upstream_req = Request::new(body);
    *upstream_req.method_mut() = parts.method;
    *upstream_req.version_mut() = Version::HTTP_11;
    *upstream_req.headers_mut() = headers;
    match path.parse() {
        Ok(u) => *upstream_req.uri_mut() = u,
        Err(_) => {
            let r = Refusal::bad_request(&path, None, "unusable request path");
            return refuse(
                shared,
                Protocol::Http(printable(upstream_req.method().as_str())),
                r,
                false,
            );
        }
    }

    let idle = shared.limits.idle_timeout;
    let activity = Activity::new();
    let io = TokioIo::new(Watched::new(dialled.stream, activity.clone()));
    let (mut sender, conn) = match hyper::client::conn::http1::handshake::<_, Body>(io).await {
        Ok(pair) => pair,
        Err(e) => return error_response(StatusCode::BAD_GATEWAY, &format!("upstream: {e}")),
    };
    tokio::spawn(async move {
        tokio::select! {
            _ = conn => {}
            _ = activity.idle_for(idle) => {}
        }
    });
    let resp = match tokio::time::timeout(idle, sender.send_request(upstream_req)).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return error_response(StatusCode::BAD_GATEWAY, &format!("upstream: {e}")),
        Err(_) => return upstream_failure(&Upstream::Timeout),
    };
    let (mut parts, body) = resp.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    Response::from_parts(parts, body.boxed())
}

/// A `Host` header must name the request target (any spelling of it). A request carrying two,
/// or one for another host, is refused: it asks one destination to serve another's request.
fn check_host_header(headers: &HeaderMap, host: &str, port: u16) -> Result<(), Refusal> {
    let mut values = headers.get_all(HOST).iter();
    let Some(value) = values.next() else {
        return Ok(());
    };
    let mismatch = |why: String| Refusal {
        kind: ViolationKind::HostMismatch,
        host: printable(host),
        port: Some(port),
        reason: "Host header does not match the request target".into(),
        rule: None,
        explanation: why,
    };
    if values.next().is_some() {
        return Err(mismatch("more than one Host header".into()));
    }
    let text = String::from_utf8_lossy(value.as_bytes());
    let same = parse_authority(&text, Some(80)).is_ok_and(|h| {
        h.port == port
            && matches!((canonical_host(&h.host), canonical_host(host)), (Ok(a), Ok(b)) if a == b)
    });
    if same {
        Ok(())
    } else {
        Err(mismatch(format!(
            "the Host header names {:?}, not the request target",
            printable(&text)
        )))
    }
}

fn host_header(host: &Host, port: u16) -> String {
    if port == 80 {
        host.to_string()
    } else {
        format!("{host}:{port}")
    }
}

/// Removes the headers that describe one hop (RFC 9110 7.6.1), the ones `Connection` names,
/// and the proxy's own credentials.
pub(crate) fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|t| HeaderName::from_bytes(t.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in [
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authorization",
        "proxy-authenticate",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    ] {
        headers.remove(name);
    }
}

fn empty() -> Body {
    Full::new(Bytes::new())
        .map_err(|never| match never {})
        .boxed()
}

/// Header values and status phrases carry visible ASCII only.
fn header_safe(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c == ' ' || c.is_ascii_graphic() {
                c
            } else {
                '?'
            }
        })
        .collect()
}

fn text(body: String) -> Body {
    Full::new(Bytes::from(body))
        .map_err(|never| match never {})
        .boxed()
}

/// An answer that is not a policy refusal (upstream failures).
pub(crate) fn error_response(status: StatusCode, error: &str) -> Response<Body> {
    let mut resp = Response::new(text(format!("srt: {error}\n")));
    *resp.status_mut() = status;
    set_refusal_headers(resp.headers_mut(), error);
    resp
}

fn set_refusal_headers(h: &mut HeaderMap, error: &str) {
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(CONNECTION, HeaderValue::from_static("close"));
    if let Ok(v) = HeaderValue::from_str(&header_safe(error)) {
        h.insert(X_PROXY_ERROR, v);
    }
}

/// Records the violation and answers: 400 for a bad request, 421 for a Host mismatch, else
/// 403 (on CONNECT with the reason as the status phrase). The body is the violation line.
pub(crate) fn refuse_response(
    shared: &Shared,
    protocol: Protocol,
    r: Refusal,
    connect: bool,
) -> Response<Body> {
    refuse(shared, protocol, r, connect)
}

fn refuse(shared: &Shared, protocol: Protocol, r: Refusal, connect: bool) -> Response<Body> {
    let violation = shared.record(protocol, &r);
    let status = match r.kind {
        ViolationKind::BadRequest => StatusCode::BAD_REQUEST,
        ViolationKind::HostMismatch => StatusCode::MISDIRECTED_REQUEST,
        ViolationKind::TooManyTunnels => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::FORBIDDEN,
    };
    let error = if r.kind == ViolationKind::BadRequest {
        r.explanation.clone()
    } else {
        r.reason.clone()
    };
    let mut resp = Response::new(text(format!("{}\n", violation.line())));
    *resp.status_mut() = status;
    set_refusal_headers(resp.headers_mut(), &error);
    if connect && status == StatusCode::FORBIDDEN {
        if let Ok(p) = hyper::ext::ReasonPhrase::try_from(header_safe(&r.reason)) {
            resp.extensions_mut().insert(p);
        }
    }
    resp
}

/// `407`: the client did not present the run's credentials (loopback only). Not a
/// violation: nothing was asked of the policy.
fn authentication_required() -> Response<Body> {
    let mut resp = error_response(
        StatusCode::PROXY_AUTHENTICATION_REQUIRED,
        "proxy authentication required",
    );
    resp.headers_mut().insert(
        PROXY_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"srt\""),
    );
    resp
}

pub(crate) fn upstream_failure(u: &Upstream) -> Response<Body> {
    let status = match u {
        Upstream::Timeout => StatusCode::GATEWAY_TIMEOUT,
        _ => StatusCode::BAD_GATEWAY,
    };
    error_response(status, &format!("upstream: {}", printable(&u.describe())))
}
