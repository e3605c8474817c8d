//! `[[cloudwatch]]`: one metric's latest datapoint against warn / crit thresholds, in the Health
//! pane. A check with a site counts toward that site's health; the cloudwatch gate is its step.

mod reading;
mod rows;
mod spec;
mod state;

use std::fmt::Write;
use std::time::Duration;

use serde_json::{Value, json};

pub use reading::Datapoint;
pub use spec::{CloudWatchCheck, CloudWatchFile, SiteOf, parse, period};
pub use state::{
    CwState, Level, Shown, describe, level, lower_is_worse, metric_text, number, on_reading,
    reason, source, thresholds,
};

use super::aws::{self, AwsSettings};
use super::{Clock, Evidence, Finding, Kind, Level as Verdict, RowCtx, Rows, Section, World};
use crate::schema::{SiteId, Sites};
use crate::text::setting;
use crate::timeline::Edges;

pub struct CloudWatch;

impl Kind for CloudWatch {
    type Spec = CloudWatchCheck;
    type State = CwState;
    const SECTION: Section = Section::Health;

    fn state(_spec: &CloudWatchCheck) -> CwState {
        CwState::default()
    }

    fn longest_read(spec: &CloudWatchCheck) -> Duration {
        spec.timeout
    }

    fn aws_mut(spec: &mut CloudWatchCheck) -> Option<&mut AwsSettings> {
        Some(&mut spec.aws)
    }

    fn mark_stale(
        specs: &[CloudWatchCheck],
        states: &mut [CwState],
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

    /// A check with a site counts like an HTTP check of that site: CRIT is critical (a warning
    /// when traffic is agreed to be elsewhere), NO DATA or no result unknown. A check without a
    /// site never makes the verdict worse than a warning.
    fn findings(world: &World<'_>, agreed: Option<SiteId>, out: &mut Vec<Finding>) {
        for (spec, st) in world.cloudwatch().map(|(_, spec, state)| (spec, state)) {
            let who = who(world, spec);
            let value = || st.latest.map(|p| reason(spec, p.value)).unwrap_or_default();
            let (level, text) = match st.shown() {
                Shown::Stale => (Verdict::Warning, format!("{who}: stale")),
                Shown::Error => (
                    Verdict::Warning,
                    format!(
                        "{who}: {}",
                        st.error
                            .as_ref()
                            .map(|e| e.describe(spec.aws.profile.as_deref()))
                            .unwrap_or_default()
                    ),
                ),
                Shown::Level(Level::Ok) => continue,
                Shown::Level(Level::Warn) => (Verdict::Warning, format!("{who} WARN: {}", value())),
                Shown::Level(Level::Crit) => {
                    let elsewhere = agreed.is_some_and(|a| Some(a) != spec.site);
                    let level = if elsewhere {
                        Verdict::Warning
                    } else {
                        Verdict::Critical
                    };
                    (level, format!("{who} CRIT: {}", value()))
                }
                Shown::Level(Level::NoData) => (
                    Verdict::Unknown,
                    format!("{who}: no data in the last {}", setting(spec.max_age)),
                ),
                Shown::Level(Level::Waiting) => (Verdict::Unknown, format!("{who}: no result")),
            };
            let level = if spec.site.is_none() {
                level.min(Verdict::Warning)
            } else {
                level
            };
            out.push(Finding { level, text });
        }
    }

    fn site_health(world: &World<'_>, site: SiteId, out: &mut Vec<(bool, String)>) {
        for (check, _, _) in world
            .cloudwatch()
            .filter(|(_, spec, _)| spec.site == Some(site))
        {
            out.push(gate_line(world, check));
        }
    }

    fn names(specs: &[CloudWatchCheck]) -> Vec<&str> {
        specs.iter().map(|c| c.name.as_str()).collect()
    }

    fn rows(world: &World<'_>, ctx: &RowCtx<'_>) -> Rows {
        rows::rows(world, ctx)
    }

    fn row_count(world: &World<'_>) -> usize {
        world.cloudwatch().count()
    }

    fn census(specs: &[CloudWatchCheck]) -> Option<String> {
        (!specs.is_empty()).then(|| format!("{} cloudwatch checks", specs.len()))
    }

    fn status_json(world: &World<'_>) -> (&'static str, Value) {
        let checks: Vec<Value> = world.cloudwatch().map(|(_, spec, state)| (spec, state))
            .map(|(spec, st)| {
                json!({
                    "name": spec.name,
                    "site": spec.site.map(|s| world.sites[s].key.clone()),
                    "namespace": spec.namespace,
                    "metric": spec.metric,
                    "dimensions": spec.dimensions.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect::<serde_json::Map<_, _>>(),
                    "statistic": spec.statistic,
                    "period_seconds": spec.period.as_secs(),
                    "warn": spec.warn,
                    "crit": spec.crit,
                    "state": st.shown().label(),
                    "value": st.latest.map(|p| p.value),
                    "timestamp": st.latest.and_then(|p| crate::text::rfc3339(p.at)),
                    "age_seconds": st.latest.map(|p| world.age_seconds(p.at)),
                    "detail": describe(spec, st, world.now),
                    "error": st.error.as_ref().map(|e| e.describe(spec.aws.profile.as_deref())),
                })
            })
            .collect();
        ("cloudwatch", Value::Array(checks))
    }

    fn status_text(world: &World<'_>, out: &mut String) {
        if world.cloudwatch().next().is_some() {
            let _ = writeln!(out, "cloudwatch:");
        }
        for (spec, st) in world.cloudwatch().map(|(_, spec, state)| (spec, state)) {
            let site = spec
                .site
                .map(|s| format!(" ({})", world.sites.label(s)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {}{site}: {}",
                spec.name,
                describe(spec, st, world.now)
            );
        }
    }
}

/// "cloudwatch canary (site A)".
fn who(world: &World<'_>, spec: &CloudWatchCheck) -> String {
    match spec.site {
        Some(s) => format!("cloudwatch {} ({})", spec.name, world.sites.label(s)),
        None => format!("cloudwatch {}", spec.name),
    }
}

/// `gate = "cloudwatch"`: the check is fresh and not CRIT. WARN passes, and says so.
pub fn gate_evidence(world: &World<'_>, check: usize) -> Evidence {
    let (pass, line) = gate_line(world, check);
    Evidence {
        pass,
        lines: vec![line],
    }
}

/// One check's evidence line and whether it passes (OK or WARN, fresh, answering).
pub fn gate_line(world: &World<'_>, check: usize) -> (bool, String) {
    let spec = &world.specs.cloudwatch[check];
    let st = &world.states.cloudwatch[check];
    let shown = st.shown();
    let pass = matches!(shown, Shown::Level(Level::Ok | Level::Warn));
    let mut line = format!("{} {}", who(world, spec), describe(spec, st, world.now));
    if shown == Shown::Level(Level::Warn) {
        line.push_str(" — WARN passes");
    }
    (pass, line)
}
