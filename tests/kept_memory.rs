//! Memory held per kept health-check connection (performance issue 18): 2,000 probes against the
//! lab's nginx, each left with its kept connection, and the process's resident memory before
//! and after. A measurement, not a check: run it by hand, with the lab up and its bench
//! endpoint answering (`scripts/lab http bench up`):
//! `cargo test --features lab --test kept_memory -- --ignored --nocapture`.
#![cfg(feature = "lab")]

mod common;

use std::time::Duration;

use common::*;
use failover_console::kinds::health::http_kept::KeptProbe;

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run by hand with --ignored --nocapture"]
async fn memory_per_kept_connection() {
    const N: usize = 2000;
    const SLOT: usize = 200;
    let port = env_port("LAB_HTTP_PORT", 18080);
    let url = format!("http://127.0.0.1:{port}/ep/bench/healthz");
    let timeout = Duration::from_secs(5);
    // One probe first, so that what every probe shares (the runtime's, the allocator's) is
    // counted before.
    let mut warm = KeptProbe::new(&url, 200, timeout).expect("plain http");
    let o = warm.probe().await;
    assert!(
        o.ok,
        "the bench endpoint answers (scripts/lab http bench up): {o:?}"
    );
    let mut probes: Vec<KeptProbe> = (0..N)
        .map(|_| KeptProbe::new(&url, 200, timeout).expect("plain http"))
        .collect();
    let before = rss_kib();
    // Probed a slot at a time, as the console does.
    for slot in probes.chunks_mut(SLOT) {
        let outcomes = futures::future::join_all(slot.iter_mut().map(|p| p.probe())).await;
        assert!(outcomes.iter().all(|o| o.ok), "{outcomes:?}");
    }
    let after = rss_kib();
    println!(
        "{N} kept connections: VmRSS {before} KiB before, {after} KiB after, {} bytes each",
        (after.saturating_sub(before)) * 1024 / N as u64
    );
    drop(probes);
}
