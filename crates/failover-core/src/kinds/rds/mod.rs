//! `[[rds]]`: RDS instances, one per site, their roles and status, and a replica's lag from
//! CloudWatch in the metric's own unit. Counts like a database for where writes go. The
//! rds-promote and rds-failover actions and the lag gate on an `[[rds]]` are its steps.

mod actions;
mod reading;
mod rows;
mod spec;
mod state;

use std::fmt::Write;
use std::time::Duration;

use serde_json::{Value, json};

pub use actions::{Failover, Promote, describe_failover, describe_promote};
pub use reading::{LagMetric, LagReading, RdsCluster, RdsInstance, RdsReading, RdsRole};
pub use spec::{RdsFile, RdsInstanceSpec, RdsSource, parse};
pub use state::{
    Lag, RdsState, lag, lag_text, on_reading, over, placement, role_text, role_word, source,
    source_all, value_text,
};

use super::aws::{self, AwsSettings};
use super::{
    Clock, Evidence, Finding, Kind, Level as Verdict, ReplicaLag, RowCtx, Rows, Section, Serving,
    World,
};
use crate::schema::{SiteId, Sites};
use crate::text::{setting, since};
use crate::timeline::Edges;

pub struct Rds;

impl Kind for Rds {
    type Spec = RdsSource;
    type State = RdsState;
    const SECTION: Section = Section::Replication;

    fn state(_spec: &RdsSource) -> RdsState {
        RdsState::default()
    }

    fn longest_read(spec: &RdsSource) -> Duration {
        spec.timeout
    }

    fn aws_mut(spec: &mut RdsSource) -> Option<&mut AwsSettings> {
        Some(&mut spec.aws)
    }

    fn mark_stale(
        specs: &[RdsSource],
        states: &mut [RdsState],
        _sites: &Sites,
        clock: &Clock,
        edges: &mut Edges,
    ) {
        for (spec, st) in specs.iter().zip(states) {
            let limit = aws::stale_limit(st.error.as_ref(), spec.interval, spec.timeout);
            clock.mark(
                &mut st.stale,
                st.last_at,
                (spec.interval, limit),
                || source_all(spec),
                "",
                edges,
            );
        }
    }

    /// RDS problems are warnings, except where writes go: no writable instance, or two (after a
    /// PromoteReadReplica the old primary stays writable), is critical, as for a database.
    fn findings(world: &World<'_>, _agreed: Option<SiteId>, out: &mut Vec<Finding>) {
        let mut push = |level, text: String| out.push(Finding { level, text });
        for (spec, st) in world.rds().map(|(_, spec, state)| (spec, state)) {
            if let Some(e) = &st.error {
                push(
                    Verdict::Warning,
                    format!(
                        "rds {}: {}",
                        spec.name,
                        e.describe(spec.aws.profile.as_deref())
                    ),
                );
            }
            if st.stale {
                push(Verdict::Warning, format!("rds {}: stale", spec.name));
            }
            if st.reading.is_none() {
                if st.error.is_none() {
                    push(Verdict::Unknown, format!("rds {}: no result", spec.name));
                }
                continue;
            }
            let writable: Vec<&str> = spec
                .instances
                .iter()
                .enumerate()
                .filter(|(i, _)| {
                    matches!(
                        st.instance(*i),
                        Some(Ok(inst)) if matches!(
                            inst.role,
                            RdsRole::Primary { .. } | RdsRole::AuroraWriter { .. }
                        )
                    )
                })
                .map(|(_, i)| i.id.as_str())
                .collect();
            let all_read = (0..spec.instances.len()).all(|i| matches!(st.instance(i), Some(Ok(_))));
            match writable.len() {
                0 if all_read => push(
                    Verdict::Critical,
                    format!("rds {}: no writable instance", spec.name),
                ),
                0 | 1 => {}
                n => push(
                    Verdict::Critical,
                    format!(
                        "rds {}: split brain, {n} writable instances ({})",
                        spec.name,
                        writable.join(", ")
                    ),
                ),
            }
            for i in 0..spec.instances.len() {
                let who = state::source(world.sites, spec, i);
                match st.instance(i) {
                    Some(Err(e)) => push(Verdict::Warning, format!("{who}: {e}")),
                    Some(Ok(inst)) => {
                        if inst.status != "available" {
                            push(Verdict::Warning, format!("{who}: status {}", inst.status));
                        }
                        let lag = lag_text(spec, inst);
                        match state::lag(inst) {
                            Lag::Known { .. } if over(spec, inst) == Some(true) => push(
                                Verdict::Warning,
                                format!("{who}: {lag} over max-lag {}", setting(spec.max_lag)),
                            ),
                            Lag::NoData(_) | Lag::Unreadable(_) => {
                                push(Verdict::Warning, format!("{who}: {lag}"))
                            }
                            _ => {}
                        }
                    }
                    None => {}
                }
            }
        }
    }

    /// Each replica or reader instance: its lag in time; unknown without a recent datapoint,
    /// for an instance not read, or for a source not read yet.
    fn replica_lags(world: &World<'_>, out: &mut Vec<ReplicaLag>) {
        for (_, _, st) in world.rds() {
            let Some(reading) = &st.reading else {
                out.push(ReplicaLag::Unknown);
                continue;
            };
            for inst in &reading.instances {
                out.extend(match inst.as_ref().map(lag) {
                    Ok(Lag::NotApplicable) => None,
                    Ok(Lag::Known { lag, .. }) => Some(ReplicaLag::Known {
                        bytes: None,
                        time: Some(lag),
                    }),
                    _ => Some(ReplicaLag::Unknown),
                });
            }
        }
    }

    /// An `[[rds]]` source counts like a database: its writable instances (stand-alone
    /// primaries and Aurora writers) are where writes go. Not read yet: left out.
    fn serving(world: &World<'_>, serving: &mut Serving) {
        for (spec, st) in world.rds().map(|(_, spec, state)| (spec, state)) {
            let Some(reading) = &st.reading else { continue };
            let roles: Vec<(SiteId, Option<bool>)> = spec
                .instances
                .iter()
                .zip(&reading.instances)
                .map(|(i, r)| {
                    let writable = r.as_ref().ok().map(|inst| {
                        matches!(
                            inst.role,
                            RdsRole::Primary { .. } | RdsRole::AuroraWriter { .. }
                        )
                    });
                    (i.site, writable)
                })
                .collect();
            serving.db.push(
                roles
                    .iter()
                    .filter(|(_, w)| *w == Some(true))
                    .map(|(site, _)| *site)
                    .collect(),
            );
            serving
                .no_primary
                .push(roles.iter().all(|(_, w)| *w == Some(false)));
        }
    }

    fn rows(world: &World<'_>, ctx: &RowCtx<'_>) -> Rows {
        rows::rows(world, ctx)
    }

    fn row_count(world: &World<'_>) -> usize {
        world.rds().map(|(_, r, _)| r.instances.len() + 1).sum()
    }

    /// Every figure with its unit or its name, errors as plain text.
    fn census(specs: &[RdsSource]) -> Option<String> {
        (!specs.is_empty()).then(|| format!("{} rds sources", specs.len()))
    }

    fn status_json(world: &World<'_>) -> (&'static str, Value) {
        let sources: Vec<Value> = world.rds().map(|(_, spec, state)| (spec, state))
            .map(|(spec, st)| {
                let instances: Vec<Value> = spec
                    .instances
                    .iter()
                    .enumerate()
                    .map(|(i, inst_spec)| {
                        let base = json!({"site": world.sites[inst_spec.site].key, "id": inst_spec.id});
                        let extra = match st.instance(i) {
                            None => json!({"found": Value::Null}),
                            Some(Err(e)) => json!({"found": false, "error": e}),
                            Some(Ok(inst)) => {
                                let (source, cluster) = match &inst.role {
                                    RdsRole::ReadReplica { source } => (Some(source.clone()), None),
                                    RdsRole::AuroraWriter { cluster }
                                    | RdsRole::AuroraReader { cluster }
                                    | RdsRole::AuroraUnknown { cluster } => (None, Some(cluster.clone())),
                                    RdsRole::Primary { .. } => (None, None),
                                };
                                let lag = match state::lag(inst) {
                                    Lag::NotApplicable => Value::Null,
                                    Lag::Known { metric, value, lag, at } => json!({
                                        "metric": metric.name(), "value": value, "unit": metric.unit(),
                                        "seconds": lag.as_secs_f64(), "timestamp": crate::text::rfc3339(at),
                                        "age_seconds": world.age_seconds(at),
                                        "over_max": lag > spec.max_lag,
                                    }),
                                    Lag::NoData(metric) => json!({"metric": metric.name(), "unit": metric.unit(), "value": Value::Null, "error": "no datapoint"}),
                                    Lag::Unreadable(e) => json!({"value": Value::Null, "error": e}),
                                };
                                json!({
                                    "found": true,
                                    "status": inst.status,
                                    "role": role_word(&inst.role),
                                    "role_text": role_text(&inst.role),
                                    "source": source,
                                    "cluster": cluster,
                                    "engine": inst.engine,
                                    "availability_zone": inst.availability_zone,
                                    "multi_az": inst.multi_az,
                                    "lag": lag,
                                })
                            }
                        };
                        let mut merged = base;
                        if let (Some(m), Value::Object(e)) = (merged.as_object_mut(), extra) {
                            m.extend(e);
                        }
                        merged
                    })
                    .collect();
                let clusters: Vec<Value> = st
                    .reading
                    .iter()
                    .flat_map(|r| &r.clusters)
                    .map(|c| match c {
                        Ok(c) => json!({"id": c.id, "status": c.status, "engine": c.engine, "multi_az": c.multi_az,
                            "writer": c.members.iter().find(|(_, w)| *w).map(|(id, _)| id.clone()),
                            "readers": c.members.iter().filter(|(_, w)| !*w).map(|(id, _)| id.clone()).collect::<Vec<_>>()}),
                        Err(e) => json!({"error": e}),
                    })
                    .collect();
                json!({
                    "name": spec.name,
                    "max_lag_seconds": spec.max_lag.as_secs_f64(),
                    "instances": instances,
                    "clusters": clusters,
                    "stale": st.stale,
                    "error": st.error.as_ref().map(|e| e.describe(spec.aws.profile.as_deref())),
                })
            })
            .collect();
        ("rds", Value::Array(sources))
    }

    fn status_text(world: &World<'_>, out: &mut String) {
        for (spec, st) in world.rds().map(|(_, spec, state)| (spec, state)) {
            let _ = writeln!(out, "rds {}:", spec.name);
            if let Some(e) = &st.error {
                let _ = writeln!(out, "  error: {}", e.describe(spec.aws.profile.as_deref()));
            }
            for (i, inst_spec) in spec.instances.iter().enumerate() {
                let site = world.sites.label(inst_spec.site);
                let line = match st.instance(i) {
                    None => format!("{}: no result", inst_spec.id),
                    Some(Err(e)) => e.clone(),
                    Some(Ok(inst)) => {
                        let lag = lag_text(spec, inst);
                        let lag = if lag.is_empty() {
                            lag
                        } else {
                            format!(", {lag}")
                        };
                        format!(
                            "{} {}{lag}, {}",
                            inst.id,
                            role_text(&inst.role),
                            placement(inst)
                        )
                    }
                };
                let _ = writeln!(out, "  {site}: {line}");
            }
        }
    }
}

/// `gate = "lag"` on an `[[rds]]` source: the instance is a read replica or an Aurora reader,
/// its lag is known, its newest datapoint within `lag-max-age`, and the lag within `max-lag`.
pub fn lag_evidence(world: &World<'_>, source: usize, instance: usize) -> Evidence {
    let spec = &world.specs.rds[source];
    let st = &world.states.rds[source];
    let who = format!(
        "{} ({})",
        state::source(world.sites, spec, instance),
        spec.instances[instance].id
    );
    let mut problems = Vec::new();
    if st.stale {
        problems.push("stale: no fresh reading".to_string());
    }
    if let Some(e) = &st.error {
        problems.push(format!("RDS: {}", e.describe(spec.aws.profile.as_deref())));
    }
    let mut line = who.clone();
    match st.instance(instance) {
        None => problems.push("no reading yet".into()),
        Some(Err(e)) => problems.push(e.clone()),
        Some(Ok(inst)) => {
            line = format!("{who}: {}", role_text(&inst.role));
            match &inst.role {
                RdsRole::ReadReplica { .. } | RdsRole::AuroraReader { .. } => {}
                RdsRole::Primary { .. } => problems.push("is a primary, not a replica".into()),
                RdsRole::AuroraWriter { .. } => {
                    problems.push("is the Aurora writer, not a reader".into())
                }
                RdsRole::AuroraUnknown { .. } => {
                    problems.push("its cluster does not say whether it is a reader".into())
                }
            }
            let figures = lag_text(spec, inst);
            if !figures.is_empty() {
                line.push_str(&format!(", {figures}"));
            }
            match state::lag(inst) {
                Lag::Known { lag, at, .. } => {
                    let data_age =
                        std::time::Duration::try_from(world.now - at).unwrap_or_default();
                    if data_age > spec.lag_max_age {
                        problems.push(format!(
                            "lag datapoint {} old, over lag-max-age {}",
                            since(world.now, at),
                            setting(spec.lag_max_age)
                        ));
                    }
                    if lag > spec.max_lag {
                        problems.push(format!("lag over max-lag {}", setting(spec.max_lag)));
                    }
                }
                Lag::NoData(_) => problems.push("lag unknown: no datapoint".into()),
                Lag::Unreadable(_) => problems.push("lag unknown".into()),
                Lag::NotApplicable => {}
            }
        }
    }
    if !problems.is_empty() {
        line.push_str(&format!(" — {}", problems.join(", ")));
    }
    Evidence {
        pass: problems.is_empty(),
        lines: vec![line],
    }
}
