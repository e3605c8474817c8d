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

/// The most of a health check's body that is read: the check is judged by its status, and the
/// body is read only so a kept connection can carry the next probe.
pub const HEALTH_BODY_LIMIT: usize = 64 * 1024;
/// The most of a Patroni REST answer that is read (a cluster's /cluster is a few KiB).
pub const PATRONI_BODY_LIMIT: usize = 1024 * 1024;

/// "body over 64 KiB": what a probe or a call says of a body bigger than its bound.
pub fn body_over(limit: usize) -> String {
    const KIB: usize = 1024;
    const MIB: usize = 1024 * 1024;
    if limit >= MIB && limit.is_multiple_of(MIB) {
        format!("body over {} MiB", limit / MIB)
    } else if limit >= KIB && limit.is_multiple_of(KIB) {
        format!("body over {} KiB", limit / KIB)
    } else {
        format!("body over {limit} B")
    }
}

/// Why a body was not read whole.
#[derive(Debug)]
pub enum BodyError {
    /// More than the bound: said by `Content-Length` or found while reading.
    TooBig(usize),
    Read(reqwest::Error),
}

/// Reads a reqwest response's body up to `limit` bytes; a bigger one is refused as soon as its
/// `Content-Length` says so, else when the bytes read pass the bound (never read whole).
pub async fn read_bounded(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, BodyError> {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooBig(limit));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Read)? {
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooBig(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
