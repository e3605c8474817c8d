//! `[[database]] kind = "postgres"`: PostgreSQL members read directly: live role from
//! `pg_is_in_recovery()`, lag in bytes and time, streaming, replay paused, timeline. The promote
//! action and the lag gate on a `[[database]]` are its steps.

mod promote;
mod reading;
mod rows;
mod spec;
mod state;
mod writable;

use std::fmt::Write;
use std::time::Duration;

use serde_json::{Value, json};

pub use promote::{answer_margin, describe_promote, wait_seconds};
pub use reading::{Lsn, PgSnapshot, PrimaryReading, ReplicaReading, StandbyRow};
pub use spec::{Database, DatabaseFile, DatabaseKind, Member, MemberFile, parse};
pub use state::{
    BytesSource, DbState, Lag, MemberState, Role, TimeSource, lag_text, member_label,
    member_source, on_reading,
};
pub use writable::{
    ATTEMPT_EVERY, WriteCheck, attempt_timeout, describe_writable, writable_evidence,
};

use super::{
    Clock, Evidence, Finding, Kind, Level, ReplicaLag, RowCtx, Rows, Section, Serving, World,
};
use crate::schema::{SiteId, Sites};
use crate::text::{bytes, secs};
use crate::timeline::Edges;

pub struct Postgres;

impl Kind for Postgres {
    type Spec = Database;
    type State = DbState;
    const SECTION: Section = Section::Replication;

    fn state(spec: &Database) -> DbState {
        DbState::new(spec)
    }

    fn longest_read(spec: &Database) -> Duration {
        spec.timeout
    }

    fn mark_stale(
        specs: &[Database],
        states: &mut [DbState],
        sites: &Sites,
        clock: &Clock,
        edges: &mut Edges,
    ) {
        for (spec, state) in specs.iter().zip(states) {
            let limit = spec.interval.saturating_add(spec.timeout);
            for (i, m) in state.members.iter_mut().enumerate() {
                let source = || member_source(sites, spec, i);
                clock.mark(
                    &mut m.stale,
                    m.last_at,
                    (spec.interval, limit),
                    source,
                    "",
                    edges,
                );
            }
        }
    }

    fn findings(world: &World<'_>, _agreed: Option<SiteId>, out: &mut Vec<Finding>) {
        let mut push = |level, text: String| out.push(Finding { level, text });
        for (spec, state) in world.postgres().map(|(_, spec, state)| (spec, state)) {
            let primaries = state.primaries();
            match primaries.len() {
                // Until every member has answered (or failed), "no primary" is not known yet.
                0 if !state.all_seen() => {}
                0 => push(
                    Level::Critical,
                    format!("database {}: no writable primary", spec.name),
                ),
                1 => {}
                n => push(
                    Level::Critical,
                    format!(
                        "database {}: split brain, {n} writable primaries",
                        spec.name
                    ),
                ),
            }
            for (i, m) in state.members.iter().enumerate() {
                let who = member_source(world.sites, spec, i);
                if m.stale {
                    push(Level::Warning, format!("{who}: stale"));
                }
                match m.role {
                    Role::Unreachable => push(
                        Level::Warning,
                        format!("{who} unreachable: {}", m.error.as_deref().unwrap_or("?")),
                    ),
                    Role::Unknown => push(Level::Unknown, format!("{who}: no result")),
                    Role::Replica => {
                        if m.lag.as_ref().is_some_and(|l| l.over_limit) {
                            let lag = m.lag.as_ref().map(lag_text).unwrap_or_default();
                            push(Level::Warning, format!("{who}: lag over limit ({lag})"));
                        }
                        if m.streaming() == Some(false) {
                            push(Level::Warning, format!("{who}: not streaming"));
                        }
                        if m.replay_paused() == Some(true) {
                            push(Level::Warning, format!("{who}: WAL replay paused"));
                        }
                    }
                    Role::Primary => {}
                }
            }
        }
    }

    fn serving(world: &World<'_>, serving: &mut Serving) {
        for (spec, state) in world.postgres().map(|(_, spec, state)| (spec, state)) {
            let sites = state
                .primaries()
                .iter()
                .map(|m| spec.members[*m].site)
                .collect();
            serving.db.push(sites);
            serving
                .no_primary
                .push(state.all_seen() && state.primaries().is_empty());
        }
    }

    /// Every member but a primary: a replica's lag as the pane shows it; a member not read as
    /// a replica (unreachable, not heard yet) has an unknown lag.
    fn replica_lags(world: &World<'_>, out: &mut Vec<ReplicaLag>) {
        for (_, _, state) in world.postgres() {
            for m in state.members.iter().filter(|m| m.role != Role::Primary) {
                out.push(match (&m.lag, m.role) {
                    (Some(lag), Role::Replica) if lag.bytes.is_some() || lag.time.is_some() => {
                        ReplicaLag::Known {
                            bytes: lag.bytes.map(|(b, _)| b),
                            time: lag.time.map(|(t, _)| t),
                        }
                    }
                    _ => ReplicaLag::Unknown,
                });
            }
        }
    }

    fn rows(world: &World<'_>, ctx: &RowCtx<'_>) -> Rows {
        rows::rows(world, ctx)
    }

    fn row_count(world: &World<'_>) -> usize {
        world.postgres().map(|(_, _, d)| d.members.len() + 1).sum()
    }

    fn census(specs: &[Database]) -> Option<String> {
        let members: usize = specs.iter().map(|d| d.members.len()).sum();
        Some(format!("{} databases with {members} members", specs.len()))
    }

    fn status_json(world: &World<'_>) -> (&'static str, Value) {
        let databases: Vec<Value> = world.postgres().map(|(_, spec, state)| (spec, state))
            .map(|(spec, db)| {
                let members: Vec<Value> = spec
                    .members
                    .iter()
                    .zip(&db.members)
                    .map(|(m, st)| {
                        let lag = st.lag.as_ref();
                        json!({
                            "name": m.name,
                            "site": world.sites[m.site].key,
                            "role": st.role.label(),
                            "error": st.error,
                            "timeline": st.snapshot.as_ref().and_then(|s| s.timeline),
                            "lag_bytes": lag.and_then(|l| l.bytes).map(|b| b.0),
                            "lag_bytes_source": lag.and_then(|l| l.bytes).map(|b| b.1.label()),
                            "lag_seconds": lag.and_then(|l| l.time).map(|t| t.0.as_secs_f64()),
                            "lag_seconds_source": lag.and_then(|l| l.time).map(|t| t.1.label()),
                            "lag_over_limit": lag.map(|l| l.over_limit),
                            "streaming": if st.role == Role::Replica { st.streaming() } else { None },
                            "replay_paused": if st.role == Role::Replica { st.replay_paused() } else { None },
                        })
                    })
                    .collect();
                let primaries = db.primaries();
                json!({
                    "name": spec.name,
                    "primary_site": if primaries.len() == 1 { Value::String(world.sites[spec.members[primaries[0]].site].key.clone()) } else { Value::Null },
                    "primary_sites": primaries.iter().map(|m| world.sites[spec.members[*m].site].key.clone()).collect::<Vec<_>>(),
                    "writable_primaries": primaries.len(),
                    "max_lag_bytes": spec.max_lag_bytes,
                    "max_lag_seconds": spec.max_lag.as_secs_f64(),
                    "members": members,
                })
            })
            .collect();
        ("databases", Value::Array(databases))
    }

    fn status_text(world: &World<'_>, out: &mut String) {
        for (spec, db) in world.postgres().map(|(_, spec, state)| (spec, state)) {
            let _ = writeln!(out, "database {}:", spec.name);
            for (i, st) in db.members.iter().enumerate() {
                let m = &spec.members[i];
                let mut line = format!("  {:<11} {}", st.role.label(), world.sites.label(m.site));
                if let Some(lag) = &st.lag {
                    let _ = write!(line, ": lag {}", lag_text(lag));
                }
                if let Some(e) = &st.error {
                    let _ = write!(line, ": {e}");
                }
                let _ = writeln!(out, "{line}");
            }
        }
    }
}

/// `gate = "lag"` on a `[[database]]`: the member is a streaming replica, its lag known and
/// within the database's limits.
pub fn lag_evidence(world: &World<'_>, db: usize, member: usize) -> Evidence {
    let spec = &world.specs.postgres[db];
    let m = &world.states.postgres[db].members[member];
    let who = member_source(world.sites, spec, member);
    let mut problems = Vec::new();
    if m.stale {
        problems.push("stale: no fresh reading".to_string());
    }
    match m.role {
        Role::Replica => {}
        Role::Primary => problems.push("is a primary, not a replica".into()),
        Role::Unreachable => problems.push(format!(
            "unreachable: {}",
            m.error.as_deref().unwrap_or("?")
        )),
        Role::Unknown => problems.push("no reading yet".into()),
    }
    let mut figures = String::new();
    if m.role == Role::Replica {
        match &m.lag {
            Some(lag) => {
                let bytes = match lag.bytes {
                    Some((b, src)) => {
                        if b > spec.max_lag_bytes {
                            problems.push(format!(
                                "lag {} over {}",
                                bytes(b),
                                bytes(spec.max_lag_bytes)
                            ));
                        }
                        format!("{} ({})", bytes(b), src.label())
                    }
                    None => {
                        problems.push("lag in bytes unknown".into());
                        "? B".into()
                    }
                };
                let time = match lag.time {
                    Some((t, src)) => {
                        if t > spec.max_lag {
                            problems.push(format!("lag {} over {}", secs(t), secs(spec.max_lag)));
                        }
                        format!("{} ({})", secs(t), src.label())
                    }
                    None => "? s".into(),
                };
                figures = format!("lag {bytes}, {time}");
            }
            None => problems.push("lag unknown".into()),
        }
        if m.streaming() != Some(true) {
            problems.push("not streaming".into());
        }
        if m.replay_paused() == Some(true) {
            problems.push("WAL replay paused".into());
        }
    }
    let mut line = format!("{who}: {}", m.role.label());
    if !figures.is_empty() {
        line.push_str(&format!(", {figures}"));
    }
    if !problems.is_empty() {
        line.push_str(&format!(" — {}", problems.join(", ")));
    }
    Evidence {
        pass: problems.is_empty(),
        lines: vec![line],
    }
}
