//! Plain-HTTP checks on a kept connection, against the lab's nginx: what each probe says as the
//! endpoint answers, fails, closes without answering and hangs, and that a connection the
//! server closed is replaced in the same probe.

mod common;

use std::time::Duration;

use common::*;
use failover_console::sources::http_kept::{FRESH_EVERY, KeptProbe};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_connection_reports_every_state_of_the_endpoint() {
    let lab = Lab::begin().await;
    lab.run(&["http", "kept", "up"]).await;
    let port = env_port("LAB_HTTP_PORT", 18080);
    let url = format!("http://127.0.0.1:{port}/ep/kept/healthz");
    let mut probe = KeptProbe::new(&url, 200, Duration::from_millis(800)).expect("plain http");

    // More probes than one connection carries: the replacement is invisible to the result.
    for n in 0..FRESH_EVERY + 3 {
        let o = probe.probe().await;
        assert!(o.ok && o.detail == "200", "probe {n}: {o:?}");
    }
    lab.run(&["http", "kept", "down"]).await;
    let o = probe.probe().await;
    assert_eq!(
        (o.ok, o.detail.as_str()),
        (false, "status 503 (expected 200)")
    );

    // nginx drops the connection without an answer (444, sent as a reset): a failure, and
    // the next probe needs a new connection, which it opens by itself.
    lab.run(&["http", "kept", "close"]).await;
    let o = probe.probe().await;
    assert_eq!((o.ok, o.detail.as_str()), (false, "connection reset"));
    lab.run(&["http", "kept", "up"]).await;
    let o = probe.probe().await;
    assert!(o.ok, "after a close, a new connection: {o:?}");

    lab.run(&["http", "kept", "slow"]).await;
    let o = probe.probe().await;
    assert_eq!((o.ok, o.detail.as_str()), (false, "timeout after 800ms"));
    assert!(o.latency < Duration::from_millis(1500), "{o:?}");
    lab.run(&["http", "kept", "up"]).await;
    let o = probe.probe().await;
    assert!(o.ok, "after a timeout, a new connection: {o:?}");

    // Nothing listens on the port: refused at once, not after the timeout.
    let mut gone = KeptProbe::new("http://127.0.0.1:9/x", 200, Duration::from_millis(800))
        .expect("plain http");
    let o = gone.probe().await;
    assert_eq!((o.ok, o.detail.as_str()), (false, "connection refused"));

    assert!(KeptProbe::new("https://127.0.0.1/", 200, Duration::from_secs(1)).is_none());
}
