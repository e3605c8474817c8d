//! TCP connect checks.

use std::time::{Duration, Instant};

use tokio::net::TcpStream;

use failover_core::kinds::health::ProbeOutcome;

pub async fn probe(addr: &str, timeout: Duration) -> ProbeOutcome {
    let started = Instant::now();
    let result = tokio::time::timeout(timeout, TcpStream::connect(addr)).await;
    let latency = started.elapsed();
    match result {
        Ok(Ok(_stream)) => ProbeOutcome {
            ok: true,
            latency,
            detail: "connected".into(),
        },
        Ok(Err(e)) => ProbeOutcome {
            ok: false,
            latency,
            detail: failover_core::text::io_error(&e),
        },
        Err(_) => ProbeOutcome {
            ok: false,
            latency,
            detail: format!("timeout after {}", failover_core::text::latency(timeout)),
        },
    }
}
