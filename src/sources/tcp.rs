//! TCP connect checks.

use std::time::{Duration, Instant};

use tokio::net::TcpStream;

use crate::observe::ProbeOutcome;

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
            detail: io_error_text(&e),
        },
        Err(_) => ProbeOutcome {
            ok: false,
            latency,
            detail: format!("timeout after {}", crate::ui::format::latency(timeout)),
        },
    }
}

pub fn io_error_text(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        ConnectionRefused => "connection refused".into(),
        ConnectionReset => "connection reset".into(),
        HostUnreachable => "host unreachable".into(),
        NetworkUnreachable => "network unreachable".into(),
        TimedOut => "timed out".into(),
        _ => e.to_string(),
    }
}
