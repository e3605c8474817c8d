//! Patroni's REST API: a client for a cluster's members, and its answers as typed values.
//! Used by the `[[database]] kind = "patroni"` source and by the switchover / failover actions.
//!
//! Answers are read field by field from JSON, so an unexpected answer is a clear error (or an
//! unknown field), never a panic; lag that Patroni reports as "unknown" stays unknown.

use std::time::Duration;

use serde_json::Value;

use crate::config::patroni::{PatroniAuth, PatroniCluster};

/// Replication lag in bytes, as Patroni reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lag {
    Bytes(u64),
    /// Patroni said "unknown" (or gave something that is not a byte count).
    Unknown,
}

impl Lag {
    pub fn text(self) -> String {
        match self {
            // Exact: patroni#3230 was a switchover refused while `patronictl list` showed 0 MB.
            Lag::Bytes(b) if b < 1024 => format!("{b} B"),
            Lag::Bytes(b) => format!("{b} B ({})", crate::app::replication::bytes(b)),
            Lag::Unknown => "unknown".into(),
        }
    }
}

/// One member as `/cluster` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub name: String,
    /// leader, standby_leader, sync_standby, quorum_standby, replica (as Patroni says it).
    pub role: String,
    /// running, streaming, in archive recovery, stopped, starting...
    pub state: String,
    pub api_url: Option<String>,
    pub host: Option<String>,
    pub port: Option<u64>,
    pub timeline: Option<u64>,
    /// None when the field is absent (a leader has none); Some(Unknown) when Patroni says so.
    pub lag: Option<Lag>,
    pub receive_lag: Option<Lag>,
    pub replay_lag: Option<Lag>,
    pub nofailover: bool,
    pub noloadbalance: bool,
    pub pending_restart: bool,
}

impl Member {
    pub fn is_leader(&self) -> bool {
        matches!(
            self.role.as_str(),
            "leader" | "standby_leader" | "master" | "primary"
        )
    }

    /// The worst of `lag`, `receive_lag` and `replay_lag`: unknown if any is. Patroni's own
    /// `lag` follows the newer of the received and replayed positions, so WAL received but not
    /// replayed (a paused or delayed replay) shows only in `replay_lag`, and a candidate with
    /// megabytes left to replay would pass a check on `lag` alone.
    pub fn worst_lag(&self) -> Option<Lag> {
        let known = [self.lag, self.receive_lag, self.replay_lag];
        let mut worst = None;
        for l in known.into_iter().flatten() {
            worst = Some(match (worst, l) {
                (_, Lag::Unknown) | (Some(Lag::Unknown), _) => Lag::Unknown,
                (Some(Lag::Bytes(a)), Lag::Bytes(b)) => Lag::Bytes(a.max(b)),
                (None, b) => b,
            });
        }
        worst
    }
}

/// `GET /cluster`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterView {
    pub members: Vec<Member>,
    /// Maintenance mode.
    pub paused: bool,
    /// "at 12:00 from p1 to p2", when one is scheduled.
    pub scheduled_switchover: Option<String>,
}

impl ClusterView {
    pub fn leader(&self) -> Option<&Member> {
        self.members.iter().find(|m| m.is_leader())
    }

    pub fn member(&self, name: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.name == name)
    }
}

/// One line of `GET /history`: a timeline switch.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    /// The timeline that ended.
    pub timeline: u64,
    pub lsn: u64,
    pub reason: String,
    pub at: Option<String>,
    pub new_leader: Option<String>,
}

/// `GET /patroni` of one member: its own view.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeView {
    pub name: Option<String>,
    /// primary (master before Patroni 3), replica, standby_leader...
    pub role: String,
    pub state: String,
    pub timeline: Option<u64>,
    pub replication_state: Option<String>,
}

impl NodeView {
    pub fn claims_leader(&self) -> bool {
        matches!(self.role.as_str(), "primary" | "master" | "standby_leader")
            && self.state == "running"
    }
}

/// One poll of a cluster: every endpoint's own view, and the cluster as the first endpoint
/// that answered sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// Per configured endpoint, in config order.
    pub nodes: Vec<Result<NodeView, String>>,
    /// The endpoint (index) that answered `/cluster`, and what it said; Err: none answered.
    pub cluster: Result<(usize, ClusterView), String>,
    /// From the same endpoint; None when it could not be read.
    pub history: Option<Vec<HistoryEntry>>,
    pub max_lag_on_failover: Option<u64>,
}

pub const DEFAULT_MAX_LAG_ON_FAILOVER: u64 = 1_048_576;

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
        let text = reply
            .text()
            .await
            .map_err(|e| format!("{}: {}", short(base), error_text(&e, self.timeout)))?;
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
        let body = reply.text().await.unwrap_or_default();
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

/// "127.0.0.1:8008" for "http://127.0.0.1:8008".
pub fn short(base: &str) -> &str {
    base.split_once("://").map(|(_, rest)| rest).unwrap_or(base)
}

fn error_text(e: &reqwest::Error, timeout: Duration) -> String {
    use std::error::Error as _;
    if e.is_timeout() {
        return format!("timeout after {}", crate::ui::format::latency(timeout));
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
            return crate::sources::tcp::io_error_text(io);
        }
        innermost = Some(s.to_string());
        source = s.source();
    }
    innermost.unwrap_or_else(|| e.to_string())
}

/// ": <first line of the body>", short, for an error message.
pub fn body_hint(body: &str) -> String {
    let line = body.lines().next().unwrap_or("").trim();
    if line.is_empty() {
        return String::new();
    }
    let cut: String = line.chars().take(160).collect();
    format!(": {cut}")
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(|x| match x {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    })
}

fn lag(v: &Value, key: &str) -> Option<Lag> {
    let x = v.get(key)?;
    Some(match x.as_u64() {
        Some(b) => Lag::Bytes(b),
        None => match x.as_i64() {
            // A replica ahead of what the leader reported (clock of the two reads): nothing to
            // replay.
            Some(b) if b < 0 => Lag::Bytes(0),
            _ => Lag::Unknown,
        },
    })
}

fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => matches!(s.to_ascii_lowercase().as_str(), "true" | "on" | "yes"),
        _ => false,
    }
}

pub fn cluster_view(v: &Value) -> Result<ClusterView, String> {
    let members = v
        .get("members")
        .and_then(Value::as_array)
        .ok_or("/cluster has no members list")?;
    let members = members
        .iter()
        .map(|m| {
            let name = text(m, "name").ok_or("a /cluster member has no name")?;
            let tags = m.get("tags");
            Ok(Member {
                name,
                role: text(m, "role").unwrap_or_else(|| "unknown".into()),
                state: text(m, "state").unwrap_or_else(|| "unknown".into()),
                api_url: text(m, "api_url"),
                host: text(m, "host"),
                port: m.get("port").and_then(Value::as_u64),
                timeline: m.get("timeline").and_then(Value::as_u64),
                lag: lag(m, "lag"),
                receive_lag: lag(m, "receive_lag"),
                replay_lag: lag(m, "replay_lag"),
                nofailover: truthy(tags.and_then(|t| t.get("nofailover"))),
                noloadbalance: truthy(tags.and_then(|t| t.get("noloadbalance"))),
                pending_restart: truthy(m.get("pending_restart")),
            })
        })
        .collect::<Result<Vec<_>, &str>>()?;
    let scheduled_switchover = v.get("scheduled_switchover").map(|s| {
        let at = text(s, "at").unwrap_or_default();
        let from = text(s, "from").unwrap_or_default();
        match text(s, "to") {
            Some(to) => format!("at {at} from {from} to {to}"),
            None => format!("at {at} from {from}"),
        }
    });
    Ok(ClusterView {
        members,
        paused: truthy(v.get("pause")),
        scheduled_switchover,
    })
}

pub fn node(v: &Value) -> Result<NodeView, String> {
    if !v.is_object() {
        return Err("/patroni: not an object".into());
    }
    Ok(NodeView {
        name: v.get("patroni").and_then(|p| text(p, "name")),
        role: text(v, "role").unwrap_or_else(|| "unknown".into()),
        state: text(v, "state").unwrap_or_else(|| "unknown".into()),
        timeline: v.get("timeline").and_then(Value::as_u64),
        replication_state: text(v, "replication_state"),
    })
}

/// `[[timeline, lsn, reason, timestamp, new_leader], ...]`; lines of another shape are skipped.
pub fn history_entries(v: &Value) -> Vec<HistoryEntry> {
    let Some(lines) = v.as_array() else {
        return Vec::new();
    };
    lines
        .iter()
        .filter_map(|line| {
            let a = line.as_array()?;
            Some(HistoryEntry {
                timeline: a.first()?.as_u64()?,
                lsn: a.get(1)?.as_u64()?,
                reason: a.get(2).and_then(Value::as_str).unwrap_or("").to_string(),
                at: a.get(3).and_then(Value::as_str).map(str::to_string),
                new_leader: a.get(4).and_then(Value::as_str).map(str::to_string),
            })
        })
        .collect()
}

/// "0/3000060" for an LSN given as a number.
pub fn lsn_text(lsn: u64) -> String {
    format!("{:X}/{:X}", lsn >> 32, lsn & 0xFFFF_FFFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_lag_stays_unknown_and_a_leader_has_none() {
        let v: Value = serde_json::json!({
            "members": [
                {"name": "p1", "role": "leader", "state": "running", "timeline": 3},
                {"name": "p2", "role": "replica", "state": "streaming", "timeline": 3,
                 "lag": "unknown", "receive_lag": 0, "replay_lag": 2048,
                 "tags": {"nofailover": true}}
            ],
            "pause": true
        });
        let c = cluster_view(&v).unwrap();
        assert!(c.paused);
        assert_eq!(c.leader().unwrap().name, "p1");
        assert_eq!(c.members[0].lag, None);
        let p2 = c.member("p2").unwrap();
        assert_eq!(p2.lag, Some(Lag::Unknown));
        assert_eq!(p2.replay_lag, Some(Lag::Bytes(2048)));
        assert!(p2.nofailover);
        assert_eq!(p2.worst_lag(), Some(Lag::Unknown));
        let delayed: Value = serde_json::json!({"members": [{"name": "p2", "role": "replica",
            "state": "streaming", "lag": 0, "receive_lag": 0, "replay_lag": 3540216}]});
        let c = cluster_view(&delayed).unwrap();
        assert_eq!(c.members[0].worst_lag(), Some(Lag::Bytes(3540216)));
    }

    #[test]
    fn bad_answers_are_errors_not_panics() {
        assert!(cluster_view(&serde_json::json!({"members": "x"})).is_err());
        assert!(cluster_view(&serde_json::json!([1, 2])).is_err());
        assert!(cluster_view(&serde_json::json!({"members": [{"role": "leader"}]})).is_err());
        assert!(node(&serde_json::json!("x")).is_err());
        let h = history_entries(&serde_json::json!([
            [
                1,
                50331808,
                "no recovery target specified",
                "2026-12-01T12:00:00+00:00",
                "p2"
            ],
            ["bad"],
            7
        ]));
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].new_leader.as_deref(), Some("p2"));
        assert_eq!(lsn_text(h[0].lsn), "0/30000A0");
    }
}
