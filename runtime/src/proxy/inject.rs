//! Putting masked credentials' real values back into a request on its way upstream, where the
//! npm srt does: in every header value, and in the body (streamed: memory is one chunk plus the
//! longest sentinel), unless the body has a `Content-Encoding` the byte scan cannot see through.
//! The request target (path and query) is not rewritten: a sentinel there goes upstream as it
//! is. A sentinel is replaced only toward its own credential's inject hosts.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use hyper::body::{Body, Frame, SizeHint};
use hyper::header::{HeaderMap, HeaderValue, CONTENT_ENCODING, CONTENT_LENGTH};

use crate::secrets::Substitutions;

/// Replaces sentinels in every header value. A value whose substitution would not be a valid
/// header value (a real value with a line break, say) keeps its sentinel.
pub(crate) fn headers(subs: &Substitutions<'_>, headers: &mut HeaderMap) {
    for value in headers.values_mut() {
        if let Some(real) = subs.apply(value.as_bytes()) {
            if let Ok(v) = HeaderValue::from_bytes(&real) {
                let mut v = v;
                v.set_sensitive(true);
                *value = v;
            }
        }
    }
}

/// Whether the body of a request with these headers can be scanned (not compressed).
pub(crate) fn body_scannable(headers: &HeaderMap) -> bool {
    !headers.contains_key(CONTENT_ENCODING)
}

/// Prepares the headers for a substituted body: when a replacement changes the length, the
/// `Content-Length` goes (the request is then sent chunked).
pub(crate) fn reframe(subs: &Substitutions<'_>, headers: &mut HeaderMap) {
    if !subs.same_length {
        headers.remove(CONTENT_LENGTH);
    }
}

/// A request body with sentinels replaced as it streams.
pub(crate) struct SubstitutingBody<B> {
    inner: B,
    /// Owned pairs for this destination (the registry outlives the proxy, but bodies are
    /// polled on other tasks, so the borrow is re-taken per poll).
    registry: std::sync::Arc<crate::secrets::Registry>,
    host: srt_schema::domain::Host,
    carry: BytesMut,
    done: bool,
}

impl<B> SubstitutingBody<B> {
    pub(crate) fn new(
        inner: B,
        registry: std::sync::Arc<crate::secrets::Registry>,
        host: srt_schema::domain::Host,
    ) -> Self {
        SubstitutingBody {
            inner,
            registry,
            host,
            carry: BytesMut::new(),
            done: false,
        }
    }

    /// Emits what of `carry` is settled (all of it when `last`).
    fn drain(&mut self, last: bool) -> Option<Bytes> {
        let subs = self.registry.for_host(&self.host)?;
        let out = match subs.apply_partial(&self.carry, last) {
            Some((out, used)) => {
                let _ = self.carry.split_to(used);
                Bytes::copy_from_slice(&out)
            }
            None => {
                let keep = if last { 0 } else { subs.hold_back };
                let settled = self.carry.len().saturating_sub(keep);
                self.carry.split_to(settled).freeze()
            }
        };
        (!out.is_empty()).then_some(out)
    }
}

impl<B> Body for SubstitutingBody<B>
where
    B: Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        loop {
            if self.done {
                let rest = self
                    .drain(true)
                    .or_else(|| (!self.carry.is_empty()).then(|| self.carry.split().freeze()));
                return Poll::Ready(rest.map(|b| Ok(Frame::data(b))));
            }
            match Pin::new(&mut self.inner).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => self.done = true,
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => {
                        self.carry.extend_from_slice(&data);
                        if let Some(out) = self.drain(false) {
                            return Poll::Ready(Some(Ok(Frame::data(out))));
                        }
                    }
                    // Trailers end the body: flush first, then they are dropped (hop-by-hop
                    // on the way upstream anyway).
                    Err(_) => self.done = true,
                },
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done && self.carry.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        let mut h = self.inner.size_hint();
        if let Some(subs) = self.registry.for_host(&self.host) {
            if !subs.same_length {
                h = SizeHint::default();
            }
        }
        h
    }
}
