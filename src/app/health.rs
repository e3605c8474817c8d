//! HTTP/TCP checks with Route 53's consecutive-result thresholds.

use time::OffsetDateTime;

use super::update::Fx;
use crate::config::HealthCheck;
use crate::observe::ProbeOutcome;
use crate::timeline::Severity;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CheckStatus {
    /// Not enough results yet for either threshold.
    #[default]
    Pending,
    Healthy,
    Unhealthy,
}

impl CheckStatus {
    pub fn label(self) -> &'static str {
        match self {
            CheckStatus::Pending => "pending",
            CheckStatus::Healthy => "healthy",
            CheckStatus::Unhealthy => "unhealthy",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct CheckState {
    pub status: CheckStatus,
    /// When `status` was entered.
    pub since: Option<OffsetDateTime>,
    pub ok_run: u32,
    pub fail_run: u32,
    pub last: Option<ProbeOutcome>,
    pub last_at: Option<OffsetDateTime>,
    pub stale: bool,
}

pub fn source(spec: &HealthCheck) -> String {
    format!("health/{}", spec.name)
}

pub fn on_probe(
    spec: &HealthCheck,
    state: &mut CheckState,
    at: OffsetDateTime,
    outcome: ProbeOutcome,
    fx: &mut Fx,
) {
    if state.stale {
        state.stale = false;
        fx.edge(
            at,
            Severity::Ok,
            source(spec),
            "answering again (no longer stale)",
        );
    }
    if outcome.ok {
        state.ok_run = state.ok_run.saturating_add(1);
        state.fail_run = 0;
    } else {
        state.fail_run = state.fail_run.saturating_add(1);
        state.ok_run = 0;
    }
    let next = match state.status {
        CheckStatus::Pending | CheckStatus::Unhealthy if state.ok_run >= spec.success_threshold => {
            CheckStatus::Healthy
        }
        CheckStatus::Pending | CheckStatus::Healthy if state.fail_run >= spec.failure_threshold => {
            CheckStatus::Unhealthy
        }
        same => same,
    };
    if next != state.status {
        let (severity, message) = match next {
            CheckStatus::Healthy => (
                Severity::Ok,
                format!(
                    "{} → healthy after {} ok ({})",
                    state.status.label(),
                    state.ok_run,
                    outcome.detail
                ),
            ),
            _ => (
                Severity::Crit,
                format!(
                    "{} → unhealthy after {} failed: {}",
                    state.status.label(),
                    state.fail_run,
                    outcome.detail
                ),
            ),
        };
        fx.edge(at, severity, source(spec), message);
        state.status = next;
        state.since = Some(at);
    }
    state.last = Some(outcome);
    state.last_at = Some(at);
}
