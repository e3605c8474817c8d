//! The patroni-switchover and patroni-failover actions' pure half: their fields, how the plan
//! shows them, what would make Patroni (or the console) refuse them, and how a step names them.
//! The binary posts them.

use std::time::Duration;

use serde_json::json;
use toml::Spanned;

use super::{ClusterView, Lag, PatroniCluster};
use crate::schema::{Checker, ConfigError, SiteId, Sites, StepFile};
use crate::text;

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

    pub fn word(self) -> &'static str {
        match self {
            SwitchKind::Switchover => "switchover",
            SwitchKind::Failover => "failover",
        }
    }
}

/// How long a read-back waits for the candidate to lead: a switchover Patroni answered 503 to
/// (or that timed out) may still be under way.
pub const READ_BACK_WAIT: Duration = Duration::from_secs(30);

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
    /// The POST's body.
    pub fn body(&self) -> serde_json::Value {
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
    let endpoints: Vec<&str> = s
        .cluster
        .endpoints
        .iter()
        .map(|e| text::without_scheme(e))
        .collect();
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
            text::setting(s.timeout)
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

/// The cluster a step names with `database = "..."`, if it is a Patroni one.
pub fn named(clusters: &[PatroniCluster], database: Option<&Spanned<String>>) -> Option<usize> {
    let name = database?;
    clusters.iter().position(|p| &p.name == name.get_ref())
}

/// The member a step acts on: `candidate = "..."`, else the member `sites` puts at `toward`.
pub fn candidate(
    c: &Checker<'_>,
    sites: &Sites,
    clusters: &[PatroniCluster],
    cluster: usize,
    s: &StepFile,
    at: &Spanned<String>,
    toward: SiteId,
) -> Result<String, ConfigError> {
    let spec = &clusters[cluster];
    if let Some(name) = &s.candidate {
        return Ok(name.get_ref().clone());
    }
    spec.member_at(toward).map(str::to_string).ok_or_else(|| {
        c.at(
            at,
            format!(
                "name the member: candidate = \"...\" (or map one member to site {:?} in the database's sites = {{...}})",
                sites[toward].key
            ),
        )
    })
}

/// `action = "patroni-switchover"` / `"patroni-failover"`.
pub fn switch_step(
    c: &Checker<'_>,
    sites: &Sites,
    clusters: &[PatroniCluster],
    s: &StepFile,
    action: &Spanned<String>,
    toward: SiteId,
    timeout: Duration,
) -> Result<Switch, ConfigError> {
    let database = s.database.as_ref().ok_or_else(|| {
        c.at(
            action,
            "this step needs database = \"name\" of a kind = \"patroni\" database",
        )
    })?;
    let cluster = named(clusters, Some(database)).ok_or_else(|| {
        c.at(
            database,
            format!("no kind = \"patroni\" database {:?}", database.get_ref()),
        )
    })?;
    let kind = if action.get_ref() == "patroni-failover" {
        SwitchKind::Failover
    } else {
        SwitchKind::Switchover
    };
    if let (SwitchKind::Failover, Some(l)) = (kind, &s.leader) {
        return Err(c.at(
            l,
            "a failover names only its candidate; leader = \"...\" is for patroni-switchover",
        ));
    }
    let candidate = candidate(c, sites, clusters, cluster, s, action, toward)?;
    Ok(Switch {
        kind,
        cluster: clusters[cluster].clone(),
        failback: clusters[cluster].site_of(&candidate) == Some(0),
        candidate,
        leader: s.leader.as_ref().map(|l| l.get_ref().clone()),
        timeout,
    })
}
