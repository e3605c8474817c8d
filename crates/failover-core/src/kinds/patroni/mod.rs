//! `[[database]] kind = "patroni"`: a Patroni cluster read through every member's REST API:
//! leader, roles, states, timelines, lag in exact bytes, paused, and what is wrong with the
//! cluster as a whole. The patroni-switchover and patroni-failover actions and the lag gate on
//! a Patroni cluster are its steps.

mod rows;
mod spec;
mod state;
mod switch;
mod wire;

use std::fmt::Write;
use std::time::Duration;

use serde_json::{Value, json};

pub use spec::{PatroniAuth, PatroniCluster, parse};
pub use state::{
    LagClass, PatroniState, Trouble, history_text, lag_class, member_label, on_reading, source,
};
pub use switch::{
    READ_BACK_WAIT, Switch, SwitchKind, candidate, describe, named, refusals, switch_step,
};
pub use wire::{
    ClusterView, DEFAULT_MAX_LAG_ON_FAILOVER, HistoryEntry, Lag, Member, NodeView, Reading,
    body_hint, cluster_view, history_entries, node,
};

use super::{
    Clock, Evidence, Finding, Kind, Level, ReplicaLag, RowCtx, Rows, Section, Serving, World,
};
use crate::schema::{SiteId, Sites};
use crate::timeline::Edges;

pub struct Patroni;

impl Kind for Patroni {
    type Spec = PatroniCluster;
    type State = PatroniState;
    const SECTION: Section = Section::Replication;

    fn state(_spec: &PatroniCluster) -> PatroniState {
        PatroniState::default()
    }

    /// A read is two rounds: every member's /patroni, then /cluster and the rest.
    fn longest_read(spec: &PatroniCluster) -> Duration {
        spec.timeout.saturating_mul(2)
    }

    fn mark_stale(
        specs: &[PatroniCluster],
        states: &mut [PatroniState],
        _sites: &Sites,
        clock: &Clock,
        edges: &mut Edges,
    ) {
        for (spec, st) in specs.iter().zip(states) {
            // A read is two rounds of requests, each within the timeout.
            let limit = spec.interval.saturating_add(spec.timeout.saturating_mul(2));
            clock.mark(
                &mut st.stale,
                st.last_at,
                (spec.interval, limit),
                || source(spec),
                "",
                edges,
            );
        }
    }

    fn findings(world: &World<'_>, _agreed: Option<SiteId>, out: &mut Vec<Finding>) {
        let mut push = |level, text: String| out.push(Finding { level, text });
        for (spec, st) in world.patroni().map(|(_, spec, state)| (spec, state)) {
            let who = source(spec);
            if st.last_at.is_none() {
                push(Level::Unknown, format!("{who}: no result"));
                continue;
            }
            if st.stale {
                push(Level::Warning, format!("{who}: stale"));
            }
            match st.trouble(spec) {
                Some(Trouble::NoAnswer(e)) => {
                    push(Level::Unknown, format!("{who}: no member answers: {e}"));
                    continue;
                }
                Some(t) => push(Level::Critical, format!("{who}: {}", t.text())),
                None => {}
            }
            let Some(view) = st.view() else { continue };
            for (label, why) in st.missing(spec) {
                push(Level::Warning, format!("{who}/{label}: {why}"));
            }
            if view.paused {
                push(Level::Warning, format!("{who}: PAUSED (maintenance mode)"));
            }
            let limit = st.limit(spec);
            for m in &view.members {
                let name = &m.name;
                if let Some(e) = st.unreachable(spec, m) {
                    push(
                        Level::Warning,
                        format!("{who}/{name}: REST API unreachable: {e}"),
                    );
                }
                if !matches!(m.state.as_str(), "running" | "streaming") {
                    push(Level::Warning, format!("{who}/{name}: {}", m.state));
                }
                match lag_class(m, limit) {
                    LagClass::Over => push(
                        Level::Warning,
                        format!(
                            "{who}/{name}: lag {} over the limit of {limit} B",
                            m.worst_lag().map(Lag::text).unwrap_or_default()
                        ),
                    ),
                    LagClass::Unknown => push(Level::Warning, format!("{who}/{name}: lag unknown")),
                    _ => {}
                }
            }
        }
    }

    /// Each member but the leader: its worst byte lag; unknown when Patroni says so, when the
    /// cluster is not read, or for a configured member `/cluster` does not list.
    fn replica_lags(world: &World<'_>, out: &mut Vec<ReplicaLag>) {
        for (_, spec, state) in world.patroni() {
            let Some(view) = state.view().filter(|_| state.error.is_none()) else {
                out.push(ReplicaLag::Unknown);
                continue;
            };
            for m in view.members.iter().filter(|m| !m.is_leader()) {
                out.push(match m.worst_lag() {
                    Some(Lag::Bytes(b)) => ReplicaLag::Known {
                        bytes: Some(b),
                        time: None,
                    },
                    _ => ReplicaLag::Unknown,
                });
            }
            out.extend(state.missing(spec).iter().map(|_| ReplicaLag::Unknown));
        }
    }

    /// The sites of each cluster's leader (left out until read; empty when there is none).
    fn serving(world: &World<'_>, serving: &mut Serving) {
        let leaders = world
            .patroni()
            .map(|(_, spec, state)| (spec, state))
            .filter(|(_, st)| st.error.is_none())
            .filter_map(|(spec, st)| {
                let view = st.view()?;
                let sites: Vec<_> = view
                    .members
                    .iter()
                    .filter(|m| m.is_leader())
                    .filter_map(|m| spec.site_of(&m.name))
                    .collect();
                let none = view.leader().is_none();
                Some((sites, none))
            });
        for (sites, none) in leaders {
            serving.db.push(sites);
            serving.no_primary.push(none);
        }
    }

    fn rows(world: &World<'_>, ctx: &RowCtx<'_>) -> Rows {
        rows::rows(world, ctx)
    }

    fn row_count(world: &World<'_>) -> usize {
        world
            .patroni()
            .map(|(_, spec, state)| (spec, state))
            .map(|(spec, p)| p.view().map_or(0, |v| v.members.len()) + p.missing(spec).len() + 1)
            .sum()
    }

    /// `status --json`: each cluster, its leader and members with lag in bytes (null when
    /// unknown), the answering endpoint, the trouble if any.
    fn census(specs: &[PatroniCluster]) -> Option<String> {
        (!specs.is_empty()).then(|| format!("{} patroni clusters", specs.len()))
    }

    fn status_json(world: &World<'_>) -> (&'static str, Value) {
        let lag = |l: Option<Lag>| match l {
            Some(Lag::Bytes(b)) => json!(b),
            Some(Lag::Unknown) => json!("unknown"),
            None => Value::Null,
        };
        let clusters = world.patroni().map(|(_, spec, state)| (spec, state))
            .map(|(spec, st)| {
                let members: Vec<Value> = st
                    .view()
                    .map(|v| {
                        v.members
                            .iter()
                            .map(|m| {
                                json!({
                                    "name": m.name, "role": m.role, "state": m.state,
                                    "timeline": m.timeline, "lag_bytes": lag(m.lag),
                                    "receive_lag_bytes": lag(m.receive_lag),
                                    "replay_lag_bytes": lag(m.replay_lag),
                                    "nofailover": m.nofailover, "noloadbalance": m.noloadbalance,
                                    "pending_restart": m.pending_restart,
                                    "rest_api_error": st.unreachable(spec, m),
                                    "site": spec.site_of(&m.name).map(|s| world.sites[s].key.clone()),
                                })
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                json!({
                    "name": spec.name,
                    "leader": st.leader(),
                    "paused": st.view().map(|v| v.paused),
                    "trouble": st.trouble(spec).map(|t| t.text()),
                    "answered_by": st.cluster.as_ref().and_then(|(i, _, _)| spec.endpoints.get(*i)),
                    "max_lag_bytes": st.limit(spec),
                    "members": members,
                })
            })
            .collect();
        ("patroni", Value::Array(clusters))
    }

    /// `status` text: a line per cluster and per member.
    fn status_text(world: &World<'_>, out: &mut String) {
        for (spec, st) in world.patroni().map(|(_, spec, state)| (spec, state)) {
            let head = match (st.trouble(spec), st.leader()) {
                (Some(t), _) => t.text(),
                (None, Some(l)) => format!("leader {}", member_label(world.sites, spec, l)),
                (None, None) => "no result".into(),
            };
            let paused = if st.view().is_some_and(|v| v.paused) {
                ", PAUSED"
            } else {
                ""
            };
            let _ = writeln!(out, "patroni {}: {head}{paused}", spec.name);
            for m in st.view().map(|v| v.members.as_slice()).unwrap_or_default() {
                let lag = if m.is_leader() {
                    String::new()
                } else {
                    format!(
                        ", lag {}",
                        m.worst_lag()
                            .map(Lag::text)
                            .unwrap_or_else(|| "unknown".into())
                    )
                };
                let _ = writeln!(out, "  {}: {} {}{lag}", m.name, m.role, m.state);
            }
        }
    }
}

/// `gate = "lag"` on a Patroni cluster: the member is a running replica, not tagged
/// nofailover, its lag in bytes known and within the limit; the cluster readable, not stale.
pub fn lag_evidence(world: &World<'_>, cluster: usize, member: &str) -> Evidence {
    let spec = &world.specs.patroni[cluster];
    let st = &world.states.patroni[cluster];
    let limit = st.limit(spec);
    let mut line = format!("patroni/{}/{member}", spec.name);
    let mut problems = Vec::new();
    if st.stale {
        problems.push("stale: no fresh reading".to_string());
    }
    if let Some(e) = &st.error {
        problems.push(format!("no member answers: {e}"));
    }
    match st.view().map(|v| v.member(member)) {
        None => problems.push("no reading yet".into()),
        Some(None) => problems.push("not in /cluster".into()),
        Some(Some(m)) => {
            let lag = m
                .worst_lag()
                .map(Lag::text)
                .unwrap_or_else(|| "unknown".into());
            line.push_str(&format!(
                ": {} {}, lag {lag} (limit {limit} B)",
                m.role, m.state
            ));
            if m.is_leader() {
                problems.push("is the leader, not a replica".into());
            }
            if !matches!(m.state.as_str(), "running" | "streaming") {
                problems.push(format!("is {}", m.state));
            }
            if m.nofailover {
                problems.push("tagged nofailover".into());
            }
            match lag_class(m, limit) {
                LagClass::Over => problems.push(format!("lag over {limit} B")),
                LagClass::Unknown => problems.push("lag unknown".into()),
                _ => {}
            }
        }
    }
    if st.view().is_some_and(|v| v.paused) {
        problems.push("cluster paused".into());
    }
    if !problems.is_empty() {
        line.push_str(&format!(" — {}", problems.join(", ")));
    }
    Evidence {
        pass: problems.is_empty(),
        lines: vec![line],
    }
}
