//! Plain-HTTP checks on a kept connection. A console watching fifty endpoints every second
//! would otherwise spend most of its CPU on TCP handshakes: a probe on a kept connection is a
//! write and a read.
//!
//! What a fresh connection each time buys (a server that stops accepting is seen at once) is
//! kept: a probe whose kept connection fails (closed, reset) tries once more on a new one, so a
//! stopped or refusing server fails the probe it stops in; and a connection is never used for
//! more than `FRESH_EVERY` probes, so a server that stops accepting new connections while it
//! still answers old ones is seen within that many.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::{SendRequest, handshake};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::observe::ProbeOutcome;

/// Probes on one connection before a new one is opened.
pub const FRESH_EVERY: u32 = 10;

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
    conn: Option<(SendRequest<Empty<Bytes>>, u32)>,
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
        })
    }

    pub async fn probe(&mut self) -> ProbeOutcome {
        let started = Instant::now();
        let result = match tokio::time::timeout(self.timeout, self.attempt()).await {
            Ok(r) => r,
            Err(_) => {
                self.conn = None;
                Err(format!(
                    "timeout after {}",
                    crate::ui::format::latency(self.timeout)
                ))
            }
        };
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

    /// The status, on the kept connection if there is a usable one, else (or if it fails)
    /// on a new one.
    async fn attempt(&mut self) -> Result<u16, String> {
        if let Some((mut sender, uses)) = self.conn.take()
            && uses < FRESH_EVERY
            && !sender.is_closed()
            && sender.ready().await.is_ok()
            && let Ok(status) = self.get(&mut sender).await
        {
            self.conn = Some((sender, uses + 1));
            return Ok(status);
        }
        let mut sender = self.connect().await?;
        let status = self.get(&mut sender).await?;
        self.conn = Some((sender, 1));
        Ok(status)
    }

    async fn connect(&self) -> Result<SendRequest<Empty<Bytes>>, String> {
        let stream = TcpStream::connect(&self.addr)
            .await
            .map_err(|e| super::tcp::io_error_text(&e))?;
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
        // Read the body to its end, so the connection can carry the next probe.
        response
            .into_body()
            .collect()
            .await
            .map_err(|e| describe(&e))?;
        Ok(status)
    }
}

fn describe(e: &hyper::Error) -> String {
    use std::error::Error as _;
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return super::tcp::io_error_text(io);
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
