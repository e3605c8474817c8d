//! What an HTTP error means, in the words an operator reads: for health checks and webhooks.

use std::error::Error as _;
use std::time::Duration;

/// The operator wants "connection refused", not a chain of wrappers.
pub fn describe(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("timeout after {}", failover_core::text::latency(timeout));
    }
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return failover_core::text::io_error(io);
        }
        let text = s.to_string();
        if text.contains("certificate") || text.contains("tls") || text.contains("TLS") {
            return format!("TLS: {text}");
        }
        source = s.source();
    }
    if e.is_connect() {
        return "connect failed".into();
    }
    if e.is_request() || e.is_body() {
        return "connection closed without a response".into();
    }
    e.to_string()
}
