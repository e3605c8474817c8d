//! Plain-HTTP checks on a kept connection. A console watching fifty endpoints every second
//! would otherwise spend most of its CPU on TCP handshakes: a probe on a kept connection is a
//! write and a read.
//!
//! What a fresh connection each time buys (a server that stops accepting is seen at once) is
//! kept: a probe whose kept connection fails (closed, reset) tries once more on a new one, so a
//! stopped or refusing server fails the probe it stops in; and a connection is not used for
//! longer than `FRESH_AFTER`, so a server (or a firewall) that stops accepting new connections
//! while it still answers old ones is seen within that time. (Every 10th probe, as this was
//! first, cost an idle console with fifty checks a quarter of its CPU in handshakes.)

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::{SendRequest, handshake};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use failover_core::kinds::health::ProbeOutcome;

use crate::net::http::{HEALTH_BODY_LIMIT, body_over};

/// The longest a connection is used before a probe opens a new one.
pub const FRESH_AFTER: Duration = Duration::from_secs(30);

/// One `http://` check's target and its kept connection.
pub struct KeptProbe {
    /// host:port to connect to.
    addr: String,
    /// The Host header.
    host: String,
    /// Path and query.
    path: String,
    expect_status: u16,
    timeout: Duration,
    /// The kept connection and when it is to be replaced.
    conn: Option<(SendRequest<Empty<Bytes>>, Instant)>,
    fresh_after: Duration,
    /// How much sooner than `fresh_after` the first connection is replaced (see `stagger`).
    first_sooner: Duration,
}

impl KeptProbe {
    /// None for anything but a plain `http://` URL (https goes through reqwest and rustls).
    pub fn new(url: &str, expect_status: u16, timeout: Duration) -> Option<KeptProbe> {
        let parsed = reqwest::Url::parse(url).ok()?;
        if parsed.scheme() != "http" || !parsed.username().is_empty() {
            return None;
        }
        let host = parsed.host_str()?.to_string();
        let port = parsed.port_or_known_default()?;
        let mut path = parsed.path().to_string();
        if let Some(q) = parsed.query() {
            path.push('?');
            path.push_str(q);
        }
        let addr = if host.contains(':') {
            format!("[{}]:{port}", host.trim_matches(['[', ']']))
        } else {
            format!("{host}:{port}")
        };
        let host_header = match parsed.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.clone(),
        };
        Some(KeptProbe {
            addr,
            host: host_header,
            path,
            expect_status,
            timeout,
            conn: None,
            fresh_after: FRESH_AFTER,
            first_sooner: Duration::ZERO,
        })
    }

    /// One probe, bounded by the check's timeout.
    pub async fn probe(&mut self) -> ProbeOutcome {
        let started = Instant::now();
        match tokio::time::timeout(self.timeout, self.probe_untimed(started)).await {
            Ok(outcome) => outcome,
            Err(_) => self.timed_out(),
        }
    }

    /// One probe with no timer of its own: the caller bounds it (a slot of checks shares one
    /// deadline; a timer each costs a wake-up of the runtime each) and calls `timed_out` for
    /// a probe it gave up on.
    pub async fn probe_untimed(&mut self, started: Instant) -> ProbeOutcome {
        let result = self.attempt().await;
        let latency = started.elapsed();
        match result {
            Ok(status) if status == self.expect_status => ProbeOutcome {
                ok: true,
                latency,
                detail: status.to_string(),
            },
            Ok(status) => ProbeOutcome {
                ok: false,
                latency,
                detail: format!("status {status} (expected {})", self.expect_status),
            },
            Err(detail) => ProbeOutcome {
                ok: false,
                latency,
                detail,
            },
        }
    }

    /// The outcome of a probe abandoned at its timeout; its connection is not used again.
    pub fn timed_out(&mut self) -> ProbeOutcome {
        self.conn = None;
        ProbeOutcome {
            ok: false,
            latency: self.timeout,
            detail: format!(
                "timeout after {}",
                failover_core::text::latency(self.timeout)
            ),
        }
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Replaces the first connection sooner, by a share of `fresh_after` that `index` picks,
    /// so that checks started together do not all open their new connections in the same
    /// second.
    pub fn stagger(&mut self, index: usize) {
        const SPREAD: usize = 30;
        self.first_sooner = self
            .fresh_after
            .mul_f64((index % SPREAD) as f64 / SPREAD as f64);
    }

    /// A connection's longest use other than `FRESH_AFTER` (for tests).
    pub fn with_fresh_after(mut self, fresh_after: Duration) -> KeptProbe {
        self.fresh_after = fresh_after;
        self
    }

    /// The status, on the kept connection if there is a usable one, else (or if it fails)
    /// on a new one.
    async fn attempt(&mut self) -> Result<u16, String> {
        if let Some((mut sender, replace_at)) = self.conn.take()
            && Instant::now() < replace_at
            && !sender.is_closed()
            && sender.ready().await.is_ok()
            && let Ok(status) = self.get(&mut sender).await
        {
            self.conn = Some((sender, replace_at));
            return Ok(status);
        }
        let mut sender = self.connect().await?;
        let status = self.get(&mut sender).await?;
        let sooner = std::mem::take(&mut self.first_sooner);
        self.conn = Some((sender, Instant::now() + self.fresh_after - sooner));
        Ok(status)
    }

    async fn connect(&self) -> Result<SendRequest<Empty<Bytes>>, String> {
        let stream = TcpStream::connect(&self.addr)
            .await
            .map_err(|e| failover_core::text::io_error(&e))?;
        let _ = stream.set_nodelay(true);
        let (sender, conn) = handshake(TokioIo::new(stream))
            .await
            .map_err(|e| describe(&e))?;
        // The connection's own task: it ends when the connection closes or is dropped.
        tokio::spawn(conn);
        Ok(sender)
    }

    async fn get(&self, sender: &mut SendRequest<Empty<Bytes>>) -> Result<u16, String> {
        let request = hyper::Request::get(self.path.as_str())
            .header(hyper::header::HOST, self.host.as_str())
            .header(
                hyper::header::USER_AGENT,
                concat!("failover-console/", env!("CARGO_PKG_VERSION")),
            )
            .body(Empty::new())
            .map_err(|e| e.to_string())?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| describe(&e))?;
        let status = response.status().as_u16();
        // Read the body to its end, so the connection can carry the next probe; up to its
        // bound: a bigger one fails the probe (and its connection is not used again).
        read_bounded(response.into_body(), HEALTH_BODY_LIMIT)
            .await
            .map_err(|e| format!("status {status}, {e}"))?;
        Ok(status)
    }
}

/// Reads a body to its end without keeping it, up to `limit` bytes: `Content-Length` over the
/// bound is refused before reading, a longer stream as soon as it passes the bound.
async fn read_bounded(mut body: hyper::body::Incoming, limit: usize) -> Result<(), String> {
    use hyper::body::Body as _;
    if body.size_hint().lower() > limit as u64 {
        return Err(body_over(limit));
    }
    let mut read = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| describe(&e))?;
        if let Some(data) = frame.data_ref() {
            read = read.saturating_add(data.len());
            if read > limit {
                return Err(body_over(limit));
            }
        }
    }
    Ok(())
}

fn describe(e: &hyper::Error) -> String {
    use std::error::Error as _;
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return failover_core::text::io_error(io);
        }
        source = s.source();
    }
    if e.is_incomplete_message() || e.is_closed() || e.is_canceled() {
        return "connection closed without a response".into();
    }
    if e.is_parse() {
        return format!("not an HTTP answer: {e}");
    }
    e.to_string()
}
