//! Byte relays with an idle limit: a tunnel carries bytes both ways until both sides are done.
//!
//! Half-close is honoured: when one side finishes sending (EOF), the other side's write half
//! is shut down and the opposite direction keeps flowing until it finishes too. A tunnel with
//! no bytes moving either way for the idle limit is closed.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::listen::ClientStream;
use super::upstream::UpstreamStream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

#[cfg(target_os = "linux")]
use super::pump;

/// When bytes last moved on a connection.
#[derive(Clone, Debug)]
pub(crate) struct Activity {
    epoch: Instant,
    last_ms: Arc<AtomicU64>,
}

impl Activity {
    pub fn new() -> Self {
        Activity {
            epoch: Instant::now(),
            last_ms: Arc::new(AtomicU64::new(0)),
        }
    }

    pub fn touch(&self) {
        let ms = self.epoch.elapsed().as_millis() as u64;
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    /// Completes once nothing has moved for `limit`.
    pub async fn idle_for(&self, limit: Duration) {
        loop {
            let last = self.epoch + Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
            let deadline = last + limit;
            if Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep_until(deadline.into()).await;
        }
    }
}

/// A stream that records progress in an [`Activity`].
pub(crate) struct Watched<S> {
    pub inner: S,
    activity: Activity,
}

impl<S> Watched<S> {
    pub fn new(inner: S, activity: Activity) -> Self {
        Watched { inner, activity }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
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

/// Relays between the client's socket and the destination's until both directions are
/// finished, either side fails, or nothing moves for `idle`. `early` is what the client sent
/// before the tunnel was established (pipelined after the request); it goes upstream first.
pub(crate) async fn relay(
    client: ClientStream,
    upstream: UpstreamStream,
    early: &[u8],
    idle: Duration,
    zero_copy: bool,
) {
    match upstream {
        #[cfg(target_os = "linux")]
        UpstreamStream::Tcp(tcp) => relay_sockets(client, tcp, early, idle, zero_copy).await,
        #[cfg(target_os = "linux")]
        UpstreamStream::Unix(unix) => relay_sockets(client, unix, early, idle, zero_copy).await,
        mut other => {
            use tokio::io::AsyncWriteExt;
            let _ = zero_copy;
            if other.write_all(early).await.is_ok() {
                relay_stream(client, other, idle).await;
            }
        }
    }
}

/// Both ends are sockets: the relay drives their descriptors (and splices bulk transfers).
#[cfg(target_os = "linux")]
async fn relay_sockets<U: pump::RawSocket>(
    client: ClientStream,
    upstream: U,
    early: &[u8],
    idle: Duration,
    zero_copy: bool,
) {
    let activity = Activity::new();
    let both = async {
        pump::write_all(&upstream, early).await?;
        tokio::try_join!(
            pump::pump(&client, &upstream, &activity, zero_copy),
            pump::pump(&upstream, &client, &activity, zero_copy),
        )
    };
    tokio::select! {
        _ = both => {}
        _ = activity.idle_for(idle) => {}
    }
}

/// [`relay`] through user space, for streams that are not plain sockets (a client stream hyper
/// could not hand back, a TLS hop).
pub(crate) async fn relay_stream<C, U>(client: C, upstream: U, idle: Duration)
where
    C: AsyncRead + AsyncWrite + Unpin,
    U: AsyncRead + AsyncWrite + Unpin,
{
    let activity = Activity::new();
    let mut client = Watched::new(client, activity.clone());
    let mut upstream = Watched::new(upstream, activity.clone());
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut upstream) => {}
        _ = activity.idle_for(idle) => {}
    }
}
