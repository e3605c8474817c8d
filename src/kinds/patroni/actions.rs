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

use tokio::time::Instant;

use failover_core::actions::{Outcome, ReadBack};
use failover_core::kinds::patroni::{
    ClusterView, DEFAULT_MAX_LAG_ON_FAILOVER, Switch, cluster_view, refusals,
};

use super::client::{CallError, Client};
use crate::actions::OutputSink;

fn client(s: &Switch) -> Client {
    Client::new(&s.cluster, s.cluster.timeout)
}

/// Reads `/cluster` (and `/config`) from the first member that answers: the endpoint, the
/// view and `maximum_lag_on_failover`.
async fn read(client: &Client, s: &Switch) -> Result<(String, ClusterView, u64), String> {
    let mut errors = Vec::new();
    for base in &s.cluster.endpoints {
        match client
            .get_json(base, "/cluster")
            .await
            .and_then(|v| cluster_view(&v))
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
    match read(&client(s), s).await {
        Ok((_, view, max_lag)) => refusals(s, &view, max_lag),
        Err(e) => vec![e],
    }
}

pub async fn execute(s: &Switch, output: &OutputSink) -> Outcome {
    let client = client(s);
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
        .send(format!(
            "POST {}{} {body}",
            failover_core::text::without_scheme(&base),
            s.kind.path()
        ))
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
    let said = failover_core::kinds::patroni::body_hint(&reply.body);
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
    let deadline = started + failover_core::text::wait(s.timeout);
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
                failover_core::text::setting(s.timeout)
            ));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

use failover_core::kinds::patroni::READ_BACK_WAIT;

/// Reads `/cluster` until the candidate leads, for up to the step's timeout (at most 30 s):
/// only then is a different leader "not applied".
pub async fn read_back(s: &Switch) -> ReadBack {
    let client = client(s);
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
                        failover_core::text::without_scheme(&base)
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
