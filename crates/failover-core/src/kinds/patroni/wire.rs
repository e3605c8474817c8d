//! Patroni's REST API answers as typed values (the binary's client fetches them). Used by the
//! `[[database]] kind = "patroni"` source and by the switchover / failover actions.
//!
//! Answers are read field by field from JSON, so an unexpected answer is a clear error (or an
//! unknown field), never a panic; lag that Patroni reports as "unknown" stays unknown.

use serde_json::Value;

use crate::text;

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
            Lag::Bytes(b) => format!("{b} B ({})", text::bytes(b)),
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
        assert_eq!(text::lsn(h[0].lsn), "0/30000A0");
    }
}
