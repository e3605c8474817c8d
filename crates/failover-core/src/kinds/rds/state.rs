//! `[[rds]]` sources: each site's DB instance, its role and status, its replica lag in the
//! metric's own unit, and the edges between readings.

use std::time::Duration;

use time::OffsetDateTime;

use super::{LagMetric, RdsInstance, RdsReading, RdsRole, RdsSource};
use crate::kinds::aws::{self, AwsError};
use crate::kinds::cloudwatch;
use crate::schema::Sites;
use crate::text;
use crate::timeline::{Edges, Severity};

#[derive(Debug, Clone, Default)]
pub struct RdsState {
    /// The last successful read.
    pub reading: Option<RdsReading>,
    pub error: Option<AwsError>,
    pub last_at: Option<OffsetDateTime>,
    pub stale: bool,
    /// Per configured instance, as last put on the timeline.
    reported: Vec<Option<Facts>>,
}

impl RdsState {
    /// Everything the screen shows of the source (its rows, the verdict's findings, the
    /// overview's lag, the lag gate's evidence); equal before and after a read: nothing to
    /// redraw. RDS and CloudWatch figures are shown as read (status, roles, the lag datapoint's
    /// value and time), so the reading is compared whole.
    pub fn shown(&self) -> impl PartialEq + use<> {
        (
            self.reading.clone(),
            self.error.clone(),
            self.last_at.is_some(),
            self.stale,
        )
    }

    /// The configured instance `i` as last read (Err: why it could not be).
    pub fn instance(&self, i: usize) -> Option<&Result<RdsInstance, String>> {
        self.reading.as_ref()?.instances.get(i)
    }
}

/// The replica lag of one instance, as far as it is known.
#[derive(Debug, Clone, PartialEq)]
pub enum Lag {
    /// A primary or a writer: lag does not apply.
    NotApplicable,
    Known {
        metric: LagMetric,
        /// In the metric's unit (seconds or milliseconds).
        value: f64,
        lag: Duration,
        at: OffsetDateTime,
    },
    /// No datapoint within `lag-max-age`: unknown, not zero.
    NoData(LagMetric),
    Unreadable(String),
}

pub fn lag(inst: &RdsInstance) -> Lag {
    let Some(reading) = &inst.lag else {
        return Lag::NotApplicable;
    };
    match &reading.latest {
        Ok(Some(point)) => match reading.metric.duration(point.value) {
            Some(lag) => Lag::Known {
                metric: reading.metric,
                value: point.value,
                lag,
                at: point.at,
            },
            None => Lag::Unreadable(format!(
                "{} is {}: not replicating?",
                reading.metric.name(),
                cloudwatch::number(point.value)
            )),
        },
        Ok(None) => Lag::NoData(reading.metric),
        Err(e) => Lag::Unreadable(e.clone()),
    }
}

/// Some(true) when the lag is known and over `max-lag`.
pub fn over(spec: &RdsSource, inst: &RdsInstance) -> Option<bool> {
    match lag(inst) {
        Lag::Known { lag, .. } => Some(lag > spec.max_lag),
        _ => None,
    }
}

pub fn source(sites: &Sites, spec: &RdsSource, i: usize) -> String {
    let site = spec
        .instances
        .get(i)
        .map(|inst| sites.label(inst.site))
        .unwrap_or("?");
    format!("rds/{}/{site}", spec.name)
}

pub fn source_all(spec: &RdsSource) -> String {
    format!("rds/{}", spec.name)
}

/// "primary", "read replica of orders-a", "Aurora writer of ledger"...
pub fn role_text(role: &RdsRole) -> String {
    match role {
        RdsRole::Primary { .. } => "primary".to_string(),
        RdsRole::ReadReplica { source } => format!("read replica of {source}"),
        RdsRole::AuroraWriter { cluster } => format!("Aurora writer of {cluster}"),
        RdsRole::AuroraReader { cluster } => format!("Aurora reader of {cluster}"),
        RdsRole::AuroraUnknown { cluster } => format!("Aurora, not listed by cluster {cluster}"),
    }
}

/// One word for the role column.
pub fn role_word(role: &RdsRole) -> &'static str {
    match role {
        RdsRole::Primary { .. } => "primary",
        RdsRole::ReadReplica { .. } => "replica",
        RdsRole::AuroraWriter { .. } => "writer",
        RdsRole::AuroraReader { .. } => "reader",
        RdsRole::AuroraUnknown { .. } => "aurora ?",
    }
}

/// "2 s" (ReplicaLag), "20 ms" (AuroraReplicaLag): the value in the unit CloudWatch gave.
pub fn value_text(metric: LagMetric, value: f64) -> String {
    format!("{} {}", cloudwatch::number(value), metric.unit())
}

/// "lag 2 s (ReplicaLag at 14:29:20)", "no lag data (ReplicaLag, none in 5m)", "" for a primary.
pub fn lag_text(spec: &RdsSource, inst: &RdsInstance) -> String {
    match lag(inst) {
        Lag::NotApplicable => String::new(),
        Lag::Known {
            metric, value, at, ..
        } => format!(
            "lag {} ({} at {})",
            value_text(metric, value),
            metric.name(),
            text::clock(at)
        ),
        Lag::NoData(metric) => format!(
            "no lag data ({}, none in {})",
            metric.name(),
            text::setting(spec.lag_max_age)
        ),
        Lag::Unreadable(e) => e,
    }
}

/// "available, us-east-1a, Multi-AZ, postgres".
pub fn placement(inst: &RdsInstance) -> String {
    let mut parts = vec![inst.status.clone()];
    parts.extend(inst.availability_zone.clone());
    if inst.multi_az {
        parts.push("Multi-AZ".into());
    }
    if !inst.engine.is_empty() {
        parts.push(inst.engine.clone());
    }
    parts.join(", ")
}

#[derive(Debug, Clone, PartialEq)]
enum LagClass {
    NotApplicable,
    Within,
    Over,
    NoData,
    Unreadable(String),
}

#[derive(Debug, Clone, PartialEq)]
struct Facts {
    found: Result<(String, String), String>,
    lag: LagClass,
}

fn facts(spec: &RdsSource, found: &Result<RdsInstance, String>) -> Facts {
    match found {
        Err(e) => Facts {
            found: Err(e.clone()),
            lag: LagClass::NotApplicable,
        },
        Ok(inst) => Facts {
            found: Ok((role_text(&inst.role), inst.status.clone())),
            lag: match lag(inst) {
                Lag::NotApplicable => LagClass::NotApplicable,
                Lag::Known { lag, .. } if lag > spec.max_lag => LagClass::Over,
                Lag::Known { .. } => LagClass::Within,
                Lag::NoData(_) => LagClass::NoData,
                Lag::Unreadable(e) => LagClass::Unreadable(e),
            },
        },
    }
}

pub fn on_reading(
    sites: &Sites,
    spec: &RdsSource,
    state: &mut RdsState,
    at: OffsetDateTime,
    result: Result<RdsReading, AwsError>,
    edges: &mut Edges,
) {
    edges.fresh_again(&mut state.stale, at, || source_all(spec));
    state.last_at = Some(at);
    let reading = match result {
        Err(e) => {
            let profile = spec.aws.profile.as_deref();
            aws::on_error(&mut state.error, e, at, source_all(spec), profile, edges);
            return;
        }
        Ok(r) => r,
    };
    if state.error.take().is_some() {
        edges.edge(at, Severity::Ok, source_all(spec), "RDS answering again");
    }
    state.reported.resize(spec.instances.len(), None);
    for (i, found) in reading
        .instances
        .iter()
        .enumerate()
        .take(spec.instances.len())
    {
        let new = facts(spec, found);
        let old = state.reported[i].replace(new.clone());
        edge(sites, spec, i, found, old.as_ref(), &new, at, edges);
    }
    state.reading = Some(reading);
}

#[allow(clippy::too_many_arguments)]
fn edge(
    sites: &Sites,
    spec: &RdsSource,
    i: usize,
    found: &Result<RdsInstance, String>,
    old: Option<&Facts>,
    new: &Facts,
    at: OffsetDateTime,
    edges: &mut Edges,
) {
    if old == Some(new) {
        return;
    }
    let source = source(sites, spec, i);
    let id = &spec.instances[i].id;
    let inst = match (found, old.map(|o| &o.found)) {
        (Err(e), Some(Err(was))) if e == was => return,
        (Err(e), _) => {
            edges.edge(at, Severity::Warn, source, e.clone());
            return;
        }
        (Ok(inst), None | Some(Err(_))) => {
            let again = if old.is_some() { "found again: " } else { "" };
            let lag = lag_text(spec, inst);
            let lag = if lag.is_empty() {
                String::new()
            } else {
                format!(", {lag}")
            };
            edges.edge(
                at,
                if old.is_some() {
                    Severity::Ok
                } else {
                    Severity::Info
                },
                source.clone(),
                format!(
                    "{again}{id} {}, {}{lag}",
                    role_text(&inst.role),
                    placement(inst)
                ),
            );
            // A lag problem at first sight still gets its own edge below.
            if matches!(new.lag, LagClass::Within | LagClass::NotApplicable) {
                return;
            }
            inst
        }
        (Ok(inst), Some(Ok((old_role, old_status)))) => {
            let role = role_text(&inst.role);
            if *old_role != role {
                edges.edge(
                    at,
                    Severity::Warn,
                    source.clone(),
                    format!("{id} {old_role} → {role}"),
                );
            }
            if *old_status != inst.status {
                edges.edge(
                    at,
                    if inst.status == "available" {
                        Severity::Ok
                    } else {
                        Severity::Warn
                    },
                    source.clone(),
                    format!("{id} status {old_status} → {}", inst.status),
                );
            }
            inst
        }
    };
    let old_lag = old.map(|o| &o.lag);
    if old_lag == Some(&new.lag) {
        return;
    }
    let figures = lag_text(spec, inst);
    let max = text::setting(spec.max_lag);
    match &new.lag {
        LagClass::Over => edges.edge(
            at,
            Severity::Warn,
            source,
            format!("{id} {figures}: over max-lag {max}"),
        ),
        LagClass::Within if old_lag == Some(&LagClass::Over) => edges.edge(
            at,
            Severity::Ok,
            source,
            format!("{id} {figures}: back within max-lag {max}"),
        ),
        LagClass::Within if matches!(old_lag, Some(LagClass::NoData | LagClass::Unreadable(_))) => {
            edges.edge(
                at,
                Severity::Ok,
                source,
                format!("{id} {figures}: lag data again"),
            )
        }
        LagClass::NoData | LagClass::Unreadable(_) => {
            edges.edge(at, Severity::Warn, source, format!("{id} {figures}"))
        }
        _ => {}
    }
}
