//! Patroni as a runbook action: `patroni-switchover` (planned: the current leader hands over to
//! a candidate) and `patroni-failover` (unplanned: the candidate only), through the REST API.
//!
//! Before calling, the cluster is read and the call is refused with the reason where Patroni
//! would answer 412 (the candidate tagged nofailover, the leader not the expected one), and
//! where it would not but an operator should not go ahead: the cluster paused (someone is
//! working on it), the candidate not running or lagging over the limit (Patroni ignores lag
//! for a switchover to a named candidate). After calling:
//! 200 → read `/cluster` until the candidate leads; 412 → failed with Patroni's message; 503
//! ("switchover status unknown") or no answer → unknown, read back, never re-POSTed blindly.

use std::time::Duration;

use serde_json::json;
use tokio::time::Instant;

use super::{Outcome, OutputSink, ReadBack};
use crate::config::patroni::PatroniCluster;
use crate::patroni::{CallError, Client, ClusterView, DEFAULT_MAX_LAG_ON_FAILOVER, Lag, short};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwitchKind {
    Switchover,
    Failover,
}

impl SwitchKind {
    pub fn path(self) -> &'static str {
        match self {
            SwitchKind::Switchover => "/switchover",
            SwitchKind::Failover => "/failover",
        }
    }

    fn word(self) -> &'static str {
        match self {
            SwitchKind::Switchover => "switchover",
            SwitchKind::Failover => "failover",
        }
    }
}

/// `action = "patroni-switchover"` / `"patroni-failover"`.
#[derive(Debug, Clone, PartialEq)]
pub struct Switch {
    pub kind: SwitchKind,
    pub cluster: PatroniCluster,
    pub candidate: String,
    /// Switchover: the leader the call names: from the config, else the leader at arming
    /// (filled in by the run just before the call).
    pub leader: Option<String>,
    /// The candidate is at the first site of `[sites]`: the plan calls it a failback.
    pub failback: bool,
    pub timeout: Duration,
}

impl Switch {
    fn client(&self) -> Client {
        Client::new(&self.cluster, self.cluster.timeout)
    }

    fn body(&self) -> serde_json::Value {
        match (self.kind, &self.leader) {
            (SwitchKind::Switchover, Some(leader)) => {
                json!({"leader": leader, "candidate": self.candidate})
            }
            _ => json!({"candidate": self.candidate}),
        }
    }
}

pub fn describe(s: &Switch) -> Vec<String> {
    let leader = s.leader.as_deref().unwrap_or("the leader at arming");
    let head = match (s.kind, s.failback) {
        (SwitchKind::Switchover, true) => format!(
            "failback: a switchover of {} back to {}, from {leader}",
            s.cluster.name, s.candidate
        ),
        (SwitchKind::Switchover, false) => format!(
            "switchover of {}: {leader} hands over to {}",
            s.cluster.name, s.candidate
        ),
        (SwitchKind::Failover, _) => format!(
            "failover of {} to {} (unplanned: Patroni promotes {} whatever the leader)",
            s.cluster.name, s.candidate, s.candidate
        ),
    };
    let endpoints: Vec<&str> = s.cluster.endpoints.iter().map(|e| short(e)).collect();
    let body = match s.kind {
        SwitchKind::Switchover => format!(
            "{{\"leader\": \"{leader}\", \"candidate\": \"{}\"}}",
            s.candidate
        ),
        SwitchKind::Failover => format!("{{\"candidate\": \"{}\"}}", s.candidate),
    };
    vec![
        head,
        format!(
            "POST {} {body} to the first member that answers of {}",
            s.kind.path(),
            endpoints.join(", ")
        ),
        format!(
            "refused before the call if the cluster is paused, {} is tagged nofailover, not running or lagging over maximum_lag_on_failover{}",
            s.candidate,
            if s.kind == SwitchKind::Switchover {
                ", or the leader changed since arming"
            } else {
                ""
            }
        ),
        format!(
            "then read /cluster until {} leads (timeout {}); 412 = failed with Patroni's reason; 503 = unknown: read back, never re-posted",
            s.candidate,
            crate::ui::format::setting(s.timeout)
        ),
    ]
}

/// What would make Patroni refuse, read from the cluster now.
pub fn refusals(s: &Switch, view: &ClusterView, max_lag: u64) -> Vec<String> {
    let mut out = Vec::new();
    let name = &s.cluster.name;
    if view.paused {
        out.push(format!(
            "cluster {name} is paused (maintenance mode): resume it first"
        ));
    }
    let leader = view.leader().map(|m| m.name.as_str());
    match view.member(&s.candidate) {
        None => out.push(format!(
            "{} is not a member of {name} (members: {})",
            s.candidate,
            view.members
                .iter()
                .map(|m| m.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
        Some(c) if c.is_leader() => out.push(format!("{} is already the leader", s.candidate)),
        Some(c) => {
            if c.nofailover {
                out.push(format!(
                    "{} is tagged nofailover: Patroni never makes it leader",
                    s.candidate
                ));
            }
            if !matches!(c.state.as_str(), "running" | "streaming") {
                out.push(format!("{} is {}, not running", s.candidate, c.state));
            }
            match c.worst_lag() {
                Some(Lag::Bytes(b)) if b > max_lag => out.push(format!(
                    "{} lags {} B (the worst of lag, receive_lag, replay_lag), over the limit of {max_lag} B",
                    s.candidate, b
                )),
                Some(Lag::Bytes(_)) => {}
                Some(Lag::Unknown) | None => out.push(format!("{}'s lag is unknown", s.candidate)),
            }
        }
    }
    if s.kind == SwitchKind::Switchover {
        match (leader, s.leader.as_deref()) {
            (None, _) => out.push(format!(
                "{name} has no leader: a switchover needs one (use patroni-failover)"
            )),
            (Some(now), Some(expected)) if now != expected => {
                out.push(format!("the leader is {now}, not {expected} as expected"))
            }
            _ => {}
        }
    }
    out
}

/// Reads `/cluster` (and `/config`) from the first member that answers: the endpoint, the
/// view and `maximum_lag_on_failover`.
async fn read(client: &Client, s: &Switch) -> Result<(String, ClusterView, u64), String> {
    let mut errors = Vec::new();
    for base in &s.cluster.endpoints {
        match client
            .get_json(base, "/cluster")
            .await
            .and_then(|v| crate::patroni::cluster_view(&v))
        {
            Ok(view) => {
                let from_config = client
                    .get_json(base, "/config")
                    .await
                    .ok()
                    .and_then(|c| c.get("maximum_lag_on_failover").and_then(|v| v.as_u64()))
                    .unwrap_or(DEFAULT_MAX_LAG_ON_FAILOVER);
                let max_lag = s.cluster.max_lag_bytes.unwrap_or(from_config);
                return Ok((base.clone(), view, max_lag));
            }
            Err(e) => errors.push(e),
        }
    }
    Err(format!("no member answers /cluster: {}", errors.join("; ")))
}

pub async fn preflight(s: &Switch) -> Vec<String> {
    match read(&s.client(), s).await {
        Ok((_, view, max_lag)) => refusals(s, &view, max_lag),
        Err(e) => vec![e],
    }
}

pub async fn execute(s: &Switch, output: &OutputSink) -> Outcome {
    let client = s.client();
    let started = Instant::now();
    let (base, view, max_lag) = match read(&client, s).await {
        Ok(r) => r,
        Err(e) => return Outcome::Failed(format!("not called: {e}")),
    };
    let refused = refusals(s, &view, max_lag);
    if !refused.is_empty() {
        return Outcome::Failed(format!("not called: {}", refused.join("; ")));
    }
    let body = s.body();
    let _ = output
        .send(format!("POST {}{} {body}", short(&base), s.kind.path()))
        .await;
    let left = s.timeout.saturating_sub(started.elapsed());
    let reply = match client.post(&base, s.kind.path(), &body, left).await {
        Ok(r) => r,
        Err(CallError::NotSent(e)) => return Outcome::Failed(format!("not sent: {e}")),
        Err(CallError::NoAnswer(e)) => {
            return Outcome::Unknown(format!(
                "sent, no answer ({e}): the {} may be under way",
                s.kind.word()
            ));
        }
    };
    let said = crate::patroni::body_hint(&reply.body);
    let _ = output
        .send(format!("Patroni answered {}{said}", reply.status))
        .await;
    match reply.status {
        200 => {}
        412 => return Outcome::Failed(format!("Patroni refused (412){said}")),
        503 => {
            return Outcome::Unknown(format!(
                "Patroni answered 503{said}: the {} status is unknown",
                s.kind.word()
            ));
        }
        other => return Outcome::Failed(format!("Patroni answered {other}{said}")),
    }
    let deadline = started + s.timeout;
    loop {
        if let Ok((_, view, _)) = read(&client, s).await
            && let Some(leader) = view.leader()
            && leader.name == s.candidate
            && leader.state == "running"
        {
            // No timeline here: /cluster reports the new leader's before its promotion ends.
            return Outcome::Ok(format!(
                "{} leads ({:.1} s after the call began)",
                s.candidate,
                started.elapsed().as_secs_f64()
            ));
        }
        if Instant::now() >= deadline {
            return Outcome::Unknown(format!(
                "Patroni accepted the {} but {} does not lead after {}",
                s.kind.word(),
                s.candidate,
                crate::ui::format::setting(s.timeout)
            ));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// How long a read-back waits for the candidate to lead: a switchover Patroni answered 503 to
/// (or that timed out) may still be under way.
const READ_BACK_WAIT: Duration = Duration::from_secs(30);

/// Reads `/cluster` until the candidate leads, for up to the step's timeout (at most 30 s):
/// only then is a different leader "not applied".
pub async fn read_back(s: &Switch) -> ReadBack {
    let client = s.client();
    let deadline = Instant::now() + s.timeout.min(READ_BACK_WAIT);
    loop {
        let last = match read(&client, s).await {
            Err(e) => ReadBack::Unreadable(e),
            Ok((base, view, _)) => match view.leader() {
                Some(l) if l.name == s.candidate && l.state == "running" => {
                    return ReadBack::Applied(format!(
                        "{} is the leader ({} via {})",
                        s.candidate,
                        l.state,
                        short(&base)
                    ));
                }
                Some(l) => ReadBack::NotApplied(format!("{} is the leader ({})", l.name, l.state)),
                None => ReadBack::Unreadable(format!("{} has no leader now", s.cluster.name)),
            },
        };
        if Instant::now() >= deadline {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
