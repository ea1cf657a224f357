//! 500 concurrent tunnels, and the process's descriptor count checked afterwards. In a process
//! of its own (`common::in_own_process`): descriptors are counted per process, so no other
//! test may run beside it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use crate::common;

use std::time::Duration;

use common::*;
use srt_runtime::proxy::{Limits, StaticResolver};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn resolver() -> StaticResolver {
    StaticResolver::new().with("allowed.test", &[loopback()])
}

/// 500 tunnels at once, each carrying a request and its answer; afterwards every connection
/// is closed and the descriptor count is back where it started.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_concurrent_tunnels_leave_no_descriptors_behind() {
    if !common::in_own_process(
        module_path!(),
        "five_hundred_concurrent_tunnels_leave_no_descriptors_behind",
    ) {
        return;
    }
    const N: usize = 500;
    let origin = http_origin().await;
    let port = origin.port();
    let ir = policy(&["allowed.test".into(), format!("127.0.0.1:{port}")], &[]);
    let limits = Limits {
        max_connections: 600,
        ..Limits::default()
    };
    let p = Proxies::start(ir, resolver(), limits);
    let before = open_fds();

    // All tunnels are established before any carries data, so they are open together.
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(N));
    let mut tasks = Vec::new();
    for i in 0..N {
        let socket = p.server.http_socket().unwrap();
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            let mut s = tokio::net::UnixStream::connect(&socket).await.unwrap();
            let head = connect(&mut s, &format!("allowed.test:{port}")).await;
            assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
            barrier.wait().await;
            s.write_all(format!("GET /{i} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
                .await
                .unwrap();
            let mut out = Vec::new();
            s.read_to_end(&mut out).await.unwrap();
            assert!(String::from_utf8_lossy(&out).contains(&format!("GET /{i} HTTP/1.1")));
        }));
    }
    let peak = tokio::time::timeout(Duration::from_secs(60), async {
        let mut peak = 0;
        while tasks.iter().any(|t| !t.is_finished()) {
            peak = peak.max(p.server.active_connections());
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        peak
    })
    .await
    .unwrap();
    for t in tasks {
        t.await.unwrap();
    }
    assert!(peak >= N * 9 / 10, "only {peak} tunnels were open at once");

    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while (p.server.active_connections() > 0 || open_fds() > before)
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(p.server.active_connections(), 0);
    assert_eq!(open_fds(), before, "descriptors leaked");
}
