//! `[[alarm]]`: CloudWatch alarms (DescribeAlarms), named one by one or by a prefix: each
//! alarm's state (OK, ALARM, INSUFFICIENT_DATA), why and since when, in the Health pane. An
//! alarm in ALARM counts like a failing health check of its source's site, in the verdict and in
//! the healthy gate.

mod reading;
mod rows;
mod spec;
mod state;

use std::fmt::Write;
use std::time::Duration;

use serde_json::{Value, json};

pub use reading::{AlarmInfo, AlarmReading, AlarmValue};
pub use spec::{AlarmFile, AlarmSource, Alarms, parse};
pub use state::{AlarmState, Row, describe, on_reading, source};

use super::aws::{self, AwsSettings};
use super::{Clock, Finding, Kind, Level, RowCtx, Rows, Section, World};
use crate::schema::{SiteId, Sites};
use crate::timeline::Edges;

pub struct Alarm;

impl Kind for Alarm {
    type Spec = AlarmSource;
    type State = AlarmState;
    const SECTION: Section = Section::Health;

    fn state(_spec: &AlarmSource) -> AlarmState {
        AlarmState::default()
    }

    fn longest_read(spec: &AlarmSource) -> Duration {
        spec.timeout
    }

    fn aws_mut(spec: &mut AlarmSource) -> Option<&mut AwsSettings> {
        Some(&mut spec.aws)
    }

    fn mark_stale(
        specs: &[AlarmSource],
        states: &mut [AlarmState],
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
                || source(spec),
                "",
                edges,
            );
        }
    }

    /// An alarm in ALARM is critical, like a failing check of its site (a warning when traffic
    /// is agreed to be elsewhere); INSUFFICIENT_DATA or no result is unknown. A source without
    /// a site never makes the verdict worse than a warning.
    fn findings(world: &World<'_>, agreed: Option<SiteId>, out: &mut Vec<Finding>) {
        for (spec, st) in world.alarm().map(|(_, spec, state)| (spec, state)) {
            let who = who(world, spec);
            let cap = |level: Level| {
                if spec.site.is_none() {
                    level.min(Level::Warning)
                } else {
                    level
                }
            };
            let mut push = |level, text| {
                out.push(Finding {
                    level: cap(level),
                    text,
                })
            };
            if st.stale {
                push(Level::Warning, format!("{who}: stale"));
            }
            if let Some(e) = &st.error {
                push(
                    Level::Warning,
                    format!("{who}: {}", e.describe(spec.aws.profile.as_deref())),
                );
            }
            let Some(rows) = st.rows(spec) else {
                if st.error.is_none() {
                    push(Level::Unknown, format!("{who}: no result"));
                }
                continue;
            };
            if let (Alarms::Prefix(p), true) = (&spec.alarms, rows.is_empty()) {
                push(Level::Warning, format!("{who}: no alarm starts with {p:?}"));
            }
            for row in rows {
                match row {
                    Row::NotFound(name) => push(
                        Level::Warning,
                        format!("{who}: {name} not found in CloudWatch"),
                    ),
                    Row::Found(a) => match a.state {
                        AlarmValue::Ok => {}
                        AlarmValue::Alarm => {
                            let elsewhere = agreed.is_some_and(|s| Some(s) != spec.site);
                            let level = if elsewhere {
                                Level::Warning
                            } else {
                                Level::Critical
                            };
                            push(level, finding(world, spec, a));
                        }
                        _ => push(Level::Unknown, finding(world, spec, a)),
                    },
                }
            }
        }
    }

    fn site_health(world: &World<'_>, site: SiteId, out: &mut Vec<(bool, String)>) {
        for (spec, st) in world
            .alarm()
            .map(|(_, spec, state)| (spec, state))
            .filter(|(spec, _)| spec.site == Some(site))
        {
            let who = who(world, spec);
            let problem = if let Some(e) = &st.error {
                Some(e.describe(spec.aws.profile.as_deref()))
            } else if st.stale {
                Some("stale: no fresh reading".to_string())
            } else {
                None
            };
            let Some(rows) = st.rows(spec).filter(|_| problem.is_none()) else {
                let why = problem.unwrap_or_else(|| "no reading yet".into());
                out.push((false, format!("{who}: {why}")));
                continue;
            };
            if rows.is_empty() {
                out.push((false, format!("{who}: no alarm matches")));
            }
            for row in rows {
                out.push(match row {
                    Row::Found(a) => (
                        a.state == AlarmValue::Ok,
                        format!("alarm {} {}", a.name, describe(a)),
                    ),
                    Row::NotFound(name) => (false, format!("alarm {name} not found")),
                });
            }
        }
    }

    fn names(specs: &[AlarmSource]) -> Vec<&str> {
        specs
            .iter()
            .flat_map(|s| match &s.alarms {
                Alarms::Named(names) => names.iter().map(String::as_str).collect(),
                Alarms::Prefix(_) => vec![s.name.as_str()],
            })
            .collect()
    }

    fn rows(world: &World<'_>, ctx: &RowCtx<'_>) -> Rows {
        rows::rows(world, ctx)
    }

    fn row_count(world: &World<'_>) -> usize {
        world
            .alarm()
            .map(|(_, spec, state)| (spec, state))
            .map(|(spec, st)| {
                let rows = st.rows(spec).map_or(0, |r| r.len());
                let whole = st.error.is_some() || st.stale || rows == 0;
                rows + usize::from(whole)
            })
            .sum()
    }

    fn census(specs: &[AlarmSource]) -> Option<String> {
        (!specs.is_empty()).then(|| format!("{} alarm sources", specs.len()))
    }

    fn status_json(world: &World<'_>) -> (&'static str, Value) {
        let sources: Vec<Value> = world
            .alarm()
            .map(|(_, spec, state)| (spec, state))
            .map(|(spec, st)| {
                let alarms: Vec<Value> = st
                    .rows(spec)
                    .unwrap_or_default()
                    .iter()
                    .map(|row| match row {
                        Row::Found(a) => json!({
                            "name": a.name,
                            "state": a.state.label(),
                            "reason": a.reason,
                            "since": a.since.and_then(crate::text::rfc3339),
                        }),
                        Row::NotFound(name) => {
                            json!({"name": name, "state": Value::Null, "error": "not found"})
                        }
                    })
                    .collect();
                let (names, prefix) = match &spec.alarms {
                    Alarms::Named(n) => (Some(n.clone()), None),
                    Alarms::Prefix(p) => (None, Some(p.clone())),
                };
                json!({
                    "name": spec.name,
                    "site": spec.site.map(|s| world.sites[s].key.clone()),
                    "alarm_names": names,
                    "alarm_prefix": prefix,
                    "alarms": alarms,
                    "stale": st.stale,
                    "error": st.error.as_ref().map(|e| e.describe(spec.aws.profile.as_deref())),
                })
            })
            .collect();
        ("alarm", Value::Array(sources))
    }

    fn status_text(world: &World<'_>, out: &mut String) {
        for (spec, st) in world.alarm().map(|(_, spec, state)| (spec, state)) {
            let _ = writeln!(out, "{}:", who(world, spec));
            if let Some(e) = &st.error {
                let _ = writeln!(out, "  error: {}", e.describe(spec.aws.profile.as_deref()));
            }
            match st.rows(spec) {
                None => {
                    let _ = writeln!(out, "  no result");
                }
                Some(rows) => {
                    for row in rows {
                        let _ = match row {
                            Row::Found(a) => writeln!(out, "  {}: {}", a.name, describe(a)),
                            Row::NotFound(n) => writeln!(out, "  {n}: not found"),
                        };
                    }
                }
            }
        }
    }
}

/// "alarm orders ALARM (site A): orders-5xx since 12:00:01: Threshold Crossed...": the state
/// before the alarm's name, which may be long, so that a cut header still says it.
fn finding(world: &World<'_>, spec: &AlarmSource, a: &AlarmInfo) -> String {
    let site = spec
        .site
        .map(|s| format!(" ({})", world.sites.label(s)))
        .unwrap_or_default();
    let since = a
        .since
        .map(|t| format!(" since {}", crate::text::clock(t)))
        .unwrap_or_default();
    let reason = if a.reason.is_empty() {
        String::new()
    } else {
        format!(": {}", a.reason)
    };
    format!(
        "alarm {} {}{site}: {}{since}{reason}",
        spec.name,
        a.state.label(),
        a.name
    )
}

/// "alarm orders (site A)".
fn who(world: &World<'_>, spec: &AlarmSource) -> String {
    match spec.site {
        Some(s) => format!("alarm {} ({})", spec.name, world.sites.label(s)),
        None => format!("alarm {}", spec.name),
    }
}
