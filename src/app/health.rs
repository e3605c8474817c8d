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
    /// The latency on screen: it follows the last probe only when that differs by more than
    /// half (and 1 ms), so that a steady check does not repaint its row every second.
    pub shown_latency: Option<std::time::Duration>,
}

impl CheckState {
    /// Everything the row shows; equal before and after a probe: nothing to redraw.
    pub fn shown(&self) -> impl PartialEq + use<> {
        (
            self.status,
            self.since,
            self.stale,
            self.shown_latency,
            self.last.as_ref().map(|o| (o.ok, o.detail.clone())),
            (self.status == CheckStatus::Healthy).then_some(self.fail_run),
            (self.status != CheckStatus::Healthy).then_some(self.ok_run),
        )
    }
}

/// The new latency to show, or the one shown while the change is small.
fn latency_to_show(
    shown: Option<std::time::Duration>,
    new: std::time::Duration,
) -> std::time::Duration {
    match shown {
        Some(old) => {
            let (lo, hi) = (old.min(new), old.max(new));
            if hi - lo >= std::time::Duration::from_millis(1) && hi > lo * 2 {
                new
            } else {
                old
            }
        }
        None => new,
    }
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
    state.shown_latency = Some(latency_to_show(state.shown_latency, outcome.latency));
    state.last = Some(outcome);
    state.last_at = Some(at);
}

#[cfg(test)]
mod tests {
    use super::latency_to_show;
    use std::time::Duration;

    #[test]
    fn latency_moves_on_screen_only_when_it_really_moves() {
        let ms = |m: f64| Duration::from_secs_f64(m / 1000.0);
        assert_eq!(latency_to_show(None, ms(0.4)), ms(0.4));
        assert_eq!(
            latency_to_show(Some(ms(0.4)), ms(1.3)),
            ms(0.4),
            "< 1 ms apart"
        );
        assert_eq!(latency_to_show(Some(ms(0.4)), ms(1.5)), ms(1.5));
        assert_eq!(
            latency_to_show(Some(ms(40.0)), ms(70.0)),
            ms(40.0),
            "not double"
        );
        assert_eq!(latency_to_show(Some(ms(40.0)), ms(500.0)), ms(500.0));
        assert_eq!(latency_to_show(Some(ms(500.0)), ms(2.0)), ms(2.0));
    }
}
