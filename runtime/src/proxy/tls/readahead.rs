//! Large socket reads under rustls. rustls reads TLS records at most 4 KiB at a time
//! (`read_tls`), so a 16 KiB record costs four or five `recv` calls, and each TCP `recv` can
//! send an ACK: on a terminated tunnel's bulk transfer that was a third of the proxy's CPU.
//! [`ReadAhead`] reads up to [`CAPACITY`] bytes per call and serves the small reads from
//! memory; writes pass straight through.
//!
//! Memory: at most [`CAPACITY`] per socket. Reads go straight to the socket until one fills
//! the caller's room (more is queued); then the buffer is allocated and kept while reads are
//! large. It is released when it is empty, the socket has nothing more (the read returns
//! pending) and the last read was small ([`KEEP_AFTER`]), or at end of stream: an idle or
//! interactive tunnel holds none of it. Allocating it for every read and freeing it at every
//! pending one made the allocator hand pages back and fault them in again (30,000 page
//! faults a second on a bulk transfer, most of the gain lost).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Bytes read from the socket at once (one loopback TCP segment is up to 64 KiB).
pub(crate) const CAPACITY: usize = 64 * 1024;

/// A read at least this large (one full TLS record) marks a bulk transfer: the buffer is kept
/// while the socket waits for more.
const KEEP_AFTER: usize = 16 * 1024 + 5;

/// A stream whose small reads are served from one large read.
pub(crate) struct ReadAhead<S> {
    inner: S,
    buf: Vec<u8>,
    /// `buf[start..]` is not handed out yet.
    start: usize,
    /// Bytes the last read from the socket brought.
    last_fill: usize,
}

impl<S> ReadAhead<S> {
    pub fn new(inner: S) -> Self {
        ReadAhead {
            inner,
            buf: Vec::new(),
            start: 0,
            last_fill: 0,
        }
    }

    fn buffered(&self) -> &[u8] {
        self.buf.get(self.start..).unwrap_or_default()
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for ReadAhead<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.buffered().is_empty() {
            // A read as large as the buffer gains nothing from it.
            if out.remaining() >= CAPACITY {
                return Pin::new(&mut this.inner).poll_read(cx, out);
            }
            if this.buf.capacity() == 0 {
                // No buffer: read directly. A read that fills the caller's room suggests more
                // is queued, so the next one reads ahead.
                let wanted = out.remaining();
                let before = out.filled().len();
                let polled = Pin::new(&mut this.inner).poll_read(cx, out);
                let filled = out.filled().len() - before;
                if matches!(polled, Poll::Ready(Ok(()))) && wanted > 0 && filled == wanted {
                    this.buf.reserve_exact(CAPACITY);
                }
                return polled;
            }
            this.buf.clear();
            this.start = 0;
            let spare = this.buf.spare_capacity_mut();
            let room = spare.len().min(CAPACITY);
            let mut fill = ReadBuf::uninit(&mut spare[..room]);
            match Pin::new(&mut this.inner).poll_read(cx, &mut fill) {
                Poll::Ready(Ok(())) => {
                    let n = fill.filled().len();
                    // SAFETY: `ReadBuf` guarantees its first `filled().len()` bytes were
                    // initialised, and they are the first bytes of `buf`'s spare capacity.
                    unsafe { this.buf.set_len(n) };
                    this.last_fill = n;
                    if n == 0 {
                        this.buf = Vec::new();
                        return Poll::Ready(Ok(()));
                    }
                }
                other => {
                    // Nothing came: a stream that is not in a bulk transfer keeps no buffer.
                    if this.last_fill < KEEP_AFTER {
                        this.buf = Vec::new();
                    }
                    return other;
                }
            }
        }
        let ready = this.buffered();
        let n = ready.len().min(out.remaining());
        out.put_slice(&ready[..n]);
        this.start += n;
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for ReadAhead<S> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn small_reads_see_every_byte_in_order() {
        let (mut a, b) = tokio::io::duplex(1 << 20);
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let sent = data.clone();
        let writer = tokio::spawn(async move {
            a.write_all(&sent).await.unwrap();
            a.shutdown().await.unwrap();
        });
        let mut r = ReadAhead::new(b);
        let mut got = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = r.read(&mut chunk).await.unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&chunk[..n]);
        }
        writer.await.unwrap();
        assert_eq!(got, data);
    }

    #[tokio::test]
    async fn an_idle_stream_holds_no_buffer() {
        let (mut a, b) = tokio::io::duplex(1 << 16);
        let mut r = ReadAhead::new(b);
        a.write_all(b"hello").await.unwrap();
        let mut five = [0u8; 5];
        r.read_exact(&mut five).await.unwrap();
        assert_eq!(&five, b"hello");
        // Nothing more to read: the next read is pending and drops the buffer.
        let pending = tokio::time::timeout(std::time::Duration::from_millis(20), async {
            let mut one = [0u8; 1];
            r.read(&mut one).await
        })
        .await;
        assert!(pending.is_err());
        assert_eq!(r.buf.capacity(), 0);
    }

    #[tokio::test]
    async fn a_bulk_transfer_keeps_its_buffer_between_reads() {
        let (mut a, b) = tokio::io::duplex(1 << 20);
        let mut r = ReadAhead::new(b);
        a.write_all(&vec![7u8; CAPACITY]).await.unwrap();
        let mut record = vec![0u8; 4096];
        for _ in 0..CAPACITY / 4096 {
            r.read_exact(&mut record).await.unwrap();
        }
        let pending = tokio::time::timeout(std::time::Duration::from_millis(20), async {
            r.read(&mut record).await
        })
        .await;
        assert!(pending.is_err());
        assert!(r.buf.capacity() >= CAPACITY);
        // The next small read after the bulk ends releases it.
        a.write_all(b"x").await.unwrap();
        let mut one = [0u8; 1];
        r.read_exact(&mut one).await.unwrap();
        let pending = tokio::time::timeout(std::time::Duration::from_millis(20), async {
            r.read(&mut one).await
        })
        .await;
        assert!(pending.is_err());
        assert_eq!(r.buf.capacity(), 0);
    }
}
