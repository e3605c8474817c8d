//! Patroni's REST API client: a cluster's members asked over HTTP, with basic auth from the
//! environment. The answers are the core's typed values (`failover_core::kinds::patroni`).

use std::time::Duration;

use failover_core::kinds::patroni::{
    DEFAULT_MAX_LAG_ON_FAILOVER, PatroniAuth, PatroniCluster, Reading, body_hint, cluster_view,
    history_entries, node,
};
use failover_core::text::{self, without_scheme as short};
use serde_json::Value;

use crate::net::http::{BodyError, PATRONI_BODY_LIMIT, body_over, read_bounded};

/// An HTTP client for one cluster's REST endpoints, with its basic auth.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    auth: Option<(String, Option<String>)>,
    pub timeout: Duration,
}

/// A reply: status and body text.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: String,
}

/// A request that failed: before it was sent (nothing happened) or after (anything may have).
#[derive(Debug, Clone, PartialEq)]
pub enum CallError {
    NotSent(String),
    /// Sent, but no answer within the timeout or the connection broke.
    NoAnswer(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::NotSent(e) | CallError::NoAnswer(e) => f.write_str(e),
        }
    }
}

impl Client {
    pub fn new(spec: &PatroniCluster, timeout: Duration) -> Client {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("failover-console/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(timeout)
            .build()
            .unwrap_or_default();
        Client {
            http,
            auth: spec
                .auth
                .as_ref()
                .map(|PatroniAuth { user, password_env }| {
                    (user.clone(), std::env::var(password_env).ok())
                }),
            timeout,
        }
    }

    fn request(&self, method: reqwest::Method, url: String) -> reqwest::RequestBuilder {
        let r = self.http.request(method, url).timeout(self.timeout);
        match &self.auth {
            Some((user, password)) => r.basic_auth(user, password.as_deref()),
            None => r,
        }
    }

    /// GET base + path; the body as JSON, or a message that says what went wrong where.
    pub async fn get_json(&self, base: &str, path: &str) -> Result<Value, String> {
        let url = format!("{base}{path}");
        let reply = self
            .request(reqwest::Method::GET, url)
            .send()
            .await
            .map_err(|e| format!("{}: {}", short(base), error_text(&e, self.timeout)))?;
        let status = reply.status().as_u16();
        let text = bounded_text(reply).await.map_err(|e| {
            format!(
                "{}: GET {path}: {}",
                short(base),
                body_error_text(&e, self.timeout)
            )
        })?;
        // /patroni answers 503 for a member that is not running: its body is still its view.
        if status != 200 && !(path == "/patroni" && status == 503) {
            return Err(format!(
                "{}: GET {path} answered {status}{}",
                short(base),
                body_hint(&text)
            ));
        }
        serde_json::from_str(&text)
            .map_err(|e| format!("{}: GET {path}: not JSON ({e})", short(base)))
    }

    /// POST a JSON body, waiting up to `timeout` for the reply (Patroni answers a switchover
    /// only once it is done); the reply whatever its status, or whether the request was sent.
    pub async fn post(
        &self,
        base: &str,
        path: &str,
        body: &Value,
        timeout: Duration,
    ) -> Result<Reply, CallError> {
        let url = format!("{base}{path}");
        let sent = self
            .request(reqwest::Method::POST, url)
            .timeout(timeout)
            .json(body)
            .send()
            .await;
        let reply = match sent {
            Ok(r) => r,
            Err(e) if e.is_connect() || e.is_builder() => {
                return Err(CallError::NotSent(format!(
                    "{}: {}",
                    short(base),
                    error_text(&e, self.timeout)
                )));
            }
            Err(e) => {
                return Err(CallError::NoAnswer(format!(
                    "{}: {}",
                    short(base),
                    error_text(&e, timeout)
                )));
            }
        };
        let status = reply.status().as_u16();
        let body = match bounded_text(reply).await {
            Ok(body) => body,
            // The status is the answer; a body too big to read is said in its place.
            Err(e) => format!("({})", body_error_text(&e, timeout)),
        };
        Ok(Reply { status, body })
    }

    /// Reads the whole cluster: every endpoint's `/patroni` at once, then `/cluster`, `/history`
    /// and `/config` from the first endpoint that answers `/cluster`.
    pub async fn read(&self, endpoints: &[String]) -> Reading {
        let nodes = futures::future::join_all(endpoints.iter().map(|base| async move {
            self.get_json(base, "/patroni").await.and_then(|v| node(&v))
        }))
        .await;
        let mut failures = Vec::new();
        let mut cluster = None;
        // Ask the endpoints whose /patroni answered first: a dead one costs a timeout.
        let order = (0..endpoints.len())
            .filter(|i| nodes[*i].is_ok())
            .chain((0..endpoints.len()).filter(|i| nodes[*i].is_err()));
        for i in order {
            match self
                .get_json(&endpoints[i], "/cluster")
                .await
                .and_then(|v| cluster_view(&v))
            {
                Ok(view) => {
                    cluster = Some((i, view));
                    break;
                }
                Err(e) => failures.push(e),
            }
        }
        let Some((i, view)) = cluster else {
            return Reading {
                nodes,
                cluster: Err(if failures.is_empty() {
                    "no member to ask".into()
                } else {
                    format!("no member answers /cluster: {}", failures.join("; "))
                }),
                history: None,
                max_lag_on_failover: None,
            };
        };
        let base = &endpoints[i];
        let (history, config) = tokio::join!(
            self.get_json(base, "/history"),
            self.get_json(base, "/config")
        );
        Reading {
            nodes,
            cluster: Ok((i, view)),
            history: history.ok().map(|v| history_entries(&v)),
            max_lag_on_failover: config.ok().map(|v| {
                v.get("maximum_lag_on_failover")
                    .and_then(Value::as_u64)
                    .unwrap_or(DEFAULT_MAX_LAG_ON_FAILOVER)
            }),
        }
    }
}

/// A reply's body as text, read up to `PATRONI_BODY_LIMIT`.
async fn bounded_text(reply: reqwest::Response) -> Result<String, BodyError> {
    let bytes = read_bounded(reply, PATRONI_BODY_LIMIT).await?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn body_error_text(e: &BodyError, timeout: Duration) -> String {
    match e {
        BodyError::TooBig(limit) => body_over(*limit),
        BodyError::Read(e) => error_text(e, timeout),
    }
}

fn error_text(e: &reqwest::Error, timeout: Duration) -> String {
    use std::error::Error as _;
    if e.is_timeout() {
        return format!("timeout after {}", text::latency(timeout));
    }
    if e.is_connect() {
        let mut source = e.source();
        while let Some(s) = source {
            if let Some(io) = s.downcast_ref::<std::io::Error>() {
                if io.kind() == std::io::ErrorKind::ConnectionRefused {
                    return "connection refused".into();
                }
                return io.to_string();
            }
            source = s.source();
        }
        return "cannot connect".into();
    }
    // The innermost cause says what happened ("connection reset by peer", "connection closed
    // before message completed"); the layers above it only repeat the URL.
    let mut innermost = None;
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return text::io_error(io);
        }
        innermost = Some(s.to_string());
        source = s.source();
    }
    innermost.unwrap_or_else(|| e.to_string())
}
