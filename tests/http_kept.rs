//! Plain-HTTP checks on a kept connection, against the lab's nginx: what each probe says as the
//! endpoint answers, fails, closes without answering and hangs, and that a connection the
//! server closed is replaced in the same probe; and, from nginx's own log of which connection
//! served each probe, that a connection carries probe after probe until it is old enough to be
//! replaced.
// Needs the lab (`scripts/lab up`): run by `scripts/test`, which turns the feature on.
#![cfg(feature = "lab")]

mod common;

use std::time::Duration;

use common::*;
use failover_console::kinds::health::http_kept::KeptProbe;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_connection_reports_every_state_of_the_endpoint() {
    let lab = Lab::begin().await;
    lab.run(&["http", "kept", "up"]).await;
    let port = env_port("LAB_HTTP_PORT", 18080);
    let url = format!("http://127.0.0.1:{port}/ep/kept/healthz");
    let mut probe = KeptProbe::new(&url, 200, Duration::from_millis(800)).expect("plain http");

    for n in 0..5 {
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

/// Probes every 50 ms for 1.5 s, connections replaced after 600 ms: nginx's timing log (its
/// `$connection` serial on each line) must show every probe, served by 3 or 4 connections, not
/// one each and not one for all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_connection_serves_probe_after_probe_until_it_is_replaced() {
    let lab = Lab::begin().await;
    lab.run(&["http", "kept", "up"]).await;
    let port = env_port("LAB_HTTP_PORT", 18080);
    let tag = format!(
        "{}-{}",
        std::process::id(),
        time::OffsetDateTime::now_utc().unix_timestamp_nanos()
    );
    let url = format!("http://127.0.0.1:{port}/ep/kept/healthz?renew={tag}");
    let mut probe = KeptProbe::new(&url, 200, Duration::from_millis(800))
        .expect("plain http")
        .with_fresh_after(Duration::from_millis(600));
    let started = std::time::Instant::now();
    let mut probes = 0;
    while started.elapsed() < Duration::from_millis(1500) {
        let o = probe.probe().await;
        assert!(o.ok, "probe {probes}: {o:?}");
        probes += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(probes >= 15, "only {probes} probes in 1.5 s");

    // nginx writes its log out once a second: wait (10 s at most) for every probe's line.
    let log = std::env::var("LAB_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| repo().join("target/lab"))
        .join("log/nginx-timing.log");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let connections = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let connections: Vec<String> = text
            .lines()
            .filter(|l| l.contains(&tag))
            .filter_map(|l| l.split_whitespace().nth(3).map(str::to_string))
            .collect();
        if connections.len() >= probes || std::time::Instant::now() > deadline {
            break connections;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        connections.len(),
        probes,
        "every probe is in {}",
        log.display()
    );
    let mut distinct = connections.clone();
    distinct.dedup();
    let mut unique = distinct.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        distinct.len(),
        unique.len(),
        "a connection, once replaced, is not used again: {connections:?}"
    );
    assert!(
        (3..=4).contains(&unique.len()),
        "{probes} probes over 1.5 s with a new connection every 600 ms: {connections:?}"
    );
}
