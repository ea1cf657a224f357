//! A terminated tunnel's upstream connections. They are driven by the tunnel's own task, not
//! spawned: a response's bytes then go from the upstream socket to the client's without waking
//! another thread (a fifth of the proxy's CPU on a bulk transfer went to those wake-ups).

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use tokio::sync::{mpsc, Mutex};

use super::super::http::Body;

/// An upstream connection's I/O, run until it closes.
pub(super) type UpstreamConn = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Polls every connection in `conns`, dropping the finished ones; ready when none is left.
pub(super) fn drive(conns: &mut Vec<UpstreamConn>) -> impl Future<Output = ()> + '_ {
    std::future::poll_fn(move |cx| {
        conns.retain_mut(|c| c.as_mut().poll(cx).is_pending());
        if conns.is_empty() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
}

/// One upstream connection of a tunnel, reused for its next requests.
pub(super) struct Leg {
    pub sender: hyper::client::conn::http1::SendRequest<Body>,
}

/// A tunnel's upstream connection and where new ones go to be driven (the tunnel's task).
pub(super) struct Legs {
    pub current: Mutex<Option<Leg>>,
    pub driver: mpsc::UnboundedSender<UpstreamConn>,
}
