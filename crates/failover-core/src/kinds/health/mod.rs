//! `[[health]]`: HTTP and TCP checks of a site, with Route 53's consecutive thresholds.

mod rows;
mod spec;
mod state;

use std::fmt::Write;
use std::time::Duration;

use serde_json::{Value, json};

pub use spec::{HealthCheck, HealthFile, Target, parse};
pub use state::{CheckState, CheckStatus, RECENT, Recent, on_probe, source};

use super::{Clock, Finding, Kind, Level, RowCtx, Rows, Section, World};
use crate::schema::{SiteId, Sites};
use crate::text;
use crate::timeline::Edges;

/// One HTTP or TCP probe.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeOutcome {
    pub ok: bool,
    pub latency: Duration,
    /// "200", "status 503 (expected 200)", "connection refused", "timeout after 500ms"...
    pub detail: String,
}

pub struct Health;

impl Kind for Health {
    type Spec = HealthCheck;
    type State = CheckState;
    const SECTION: Section = Section::Health;

    fn state(_spec: &HealthCheck) -> CheckState {
        CheckState::default()
    }

    fn longest_read(spec: &HealthCheck) -> Duration {
        spec.timeout
    }

    fn mark_stale(
        specs: &[HealthCheck],
        states: &mut [CheckState],
        _sites: &Sites,
        clock: &Clock,
        edges: &mut Edges,
    ) {
        for (spec, state) in specs.iter().zip(states) {
            let limit = spec.interval.saturating_add(spec.timeout);
            clock.mark(
                &mut state.stale,
                state.last_at,
                (spec.interval, limit),
                || source(spec),
                "",
                edges,
            );
        }
    }

    fn findings(world: &World<'_>, agreed: Option<SiteId>, out: &mut Vec<Finding>) {
        let mut push = |level, text: String| out.push(Finding { level, text });
        for (spec, state) in world.health().map(|(_, spec, state)| (spec, state)) {
            let site = world.sites.label(spec.site);
            if state.stale {
                push(
                    Level::Warning,
                    format!("health {} ({site}): stale", spec.name),
                );
            }
            match state.status {
                CheckStatus::Unhealthy => {
                    let detail = state
                        .last
                        .as_ref()
                        .map(|o| o.detail.as_str())
                        .unwrap_or("?");
                    let level = if agreed.is_some_and(|s| s != spec.site) {
                        Level::Warning
                    } else {
                        Level::Critical
                    };
                    push(
                        level,
                        format!("health {} ({site}) unhealthy: {detail}", spec.name),
                    );
                }
                CheckStatus::Pending if state.last.is_none() => push(
                    Level::Unknown,
                    format!("health {} ({site}): no result", spec.name),
                ),
                _ => {}
            }
        }
    }

    fn site_health(world: &World<'_>, site: SiteId, out: &mut Vec<(bool, String)>) {
        for (spec, st) in world
            .health()
            .map(|(_, spec, state)| (spec, state))
            .filter(|(spec, _)| spec.site == site)
        {
            let ok = st.status == CheckStatus::Healthy && !st.stale;
            let detail = st
                .last
                .as_ref()
                .map(|o| o.detail.as_str())
                .unwrap_or("no result");
            let state = if st.stale { "stale" } else { st.status.label() };
            out.push((ok, format!("{} {state} ({detail})", spec.name)));
        }
    }

    fn site_ok(world: &World<'_>, site: SiteId) -> (usize, bool) {
        world
            .health()
            .filter(|(_, spec, _)| spec.site == site)
            .fold((0, true), |(n, all), (_, _, st)| {
                (n + 1, all && st.status == CheckStatus::Healthy && !st.stale)
            })
    }

    fn names(specs: &[HealthCheck]) -> Vec<&str> {
        specs.iter().map(|h| h.name.as_str()).collect()
    }

    fn rows(world: &World<'_>, ctx: &RowCtx<'_>) -> Rows {
        rows::rows(world, ctx)
    }

    fn row_count(world: &World<'_>) -> usize {
        world.health().count()
    }

    fn census(specs: &[HealthCheck]) -> Option<String> {
        Some(format!("{} health checks", specs.len()))
    }

    fn status_json(world: &World<'_>) -> (&'static str, Value) {
        let checks: Vec<Value> = world.health().map(|(_, spec, state)| (spec, state))
            .map(|(spec, st)| {
                json!({
                    "name": spec.name,
                    "site": world.sites[spec.site].key,
                    "target": spec.target.describe(),
                    "healthy": match st.status { CheckStatus::Healthy => Value::Bool(true), CheckStatus::Unhealthy => Value::Bool(false), CheckStatus::Pending => Value::Null },
                    "latency_ms": st.last.as_ref().map(|o| (o.latency.as_secs_f64() * 1000.0 * 10.0).round() / 10.0),
                    "detail": st.last.as_ref().map(|o| o.detail.clone()),
                })
            })
            .collect();
        ("health", Value::Array(checks))
    }

    fn status_text(world: &World<'_>, out: &mut String) {
        let _ = writeln!(out, "health:");
        for (spec, st) in world.health().map(|(_, spec, state)| (spec, state)) {
            let state = match st.status {
                CheckStatus::Healthy => "ok",
                CheckStatus::Unhealthy => "FAIL",
                CheckStatus::Pending => "?",
            };
            let detail = st
                .last
                .as_ref()
                .map(|o| format!("{} in {}", o.detail, text::latency(o.latency)))
                .unwrap_or_else(|| "no result".into());
            let _ = writeln!(
                out,
                "  {state:<4} {} ({}): {detail}",
                spec.name,
                world.sites.label(spec.site)
            );
        }
    }
}
