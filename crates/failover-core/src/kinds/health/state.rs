//! HTTP/TCP checks with Route 53's consecutive-result thresholds.

use time::OffsetDateTime;

use super::{HealthCheck, ProbeOutcome};
use crate::text::LATENCY_FLOOR;
use crate::timeline::{Edges, Severity};

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
    /// The latency on screen: the median of the last `RECENT` probes, moved only when that
    /// differs from what is shown by more than half (and 1 ms), so that a steady check does not
    /// repaint its row every second.
    pub shown_latency: Option<std::time::Duration>,
    /// The last `RECENT` probes' latencies, oldest overwritten first.
    pub recent: Recent,
}

/// Probes in the latency median. One probe slowed by the console's own scheduling (fifty
/// answers read one after another on one thread) does not move it; a server that really slowed
/// down moves it by the third probe.
pub const RECENT: usize = 5;

#[derive(Debug, Clone, Copy, Default)]
pub struct Recent {
    latencies: [std::time::Duration; RECENT],
    len: usize,
    next: usize,
}

impl Recent {
    pub fn push(&mut self, latency: std::time::Duration) {
        self.latencies[self.next] = latency;
        self.next = (self.next + 1) % RECENT;
        self.len = (self.len + 1).min(RECENT);
    }

    /// The median (of an even count, the higher middle).
    pub fn median(&self) -> Option<std::time::Duration> {
        if self.len == 0 {
            return None;
        }
        let mut sorted = self.latencies;
        let sorted = &mut sorted[..self.len];
        sorted.sort_unstable();
        Some(sorted[self.len / 2])
    }
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
            // Healthy: "(1 failed)"; pending: "fail 1/3" (or "ok 1/2"); unhealthy: "(1 ok)".
            (self.status != CheckStatus::Unhealthy).then_some(self.fail_run),
            (self.status != CheckStatus::Healthy).then_some(self.ok_run),
        )
    }
}

/// The new latency to show, or the one shown while the change is small: both under the floor,
/// or less than double (and 1 ms) apart.
fn latency_to_show(
    shown: Option<std::time::Duration>,
    new: std::time::Duration,
) -> std::time::Duration {
    match shown {
        Some(old) => {
            let (lo, hi) = (old.min(new), old.max(new));
            if hi < LATENCY_FLOOR {
                old
            } else if hi - lo >= std::time::Duration::from_millis(1) && hi > lo * 2 {
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
    edges: &mut Edges,
) {
    edges.fresh_again(&mut state.stale, at, || source(spec));
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
        edges.edge(at, severity, source(spec), message);
        state.status = next;
        state.since = Some(at);
    }
    state.recent.push(outcome.latency);
    let median = state.recent.median().unwrap_or(outcome.latency);
    state.shown_latency = Some(latency_to_show(state.shown_latency, median));
    state.last = Some(outcome);
    state.last_at = Some(at);
}

#[cfg(test)]
mod tests {
    use super::{Recent, latency_to_show};
    use std::time::Duration;

    #[test]
    fn the_median_of_the_last_five_ignores_one_slow_probe_and_follows_three() {
        let ms = |m: u64| Duration::from_millis(m);
        let mut recent = Recent::default();
        assert_eq!(recent.median(), None);
        recent.push(ms(2));
        assert_eq!(recent.median(), Some(ms(2)));
        for m in [3, 2, 2, 2] {
            recent.push(ms(m));
        }
        recent.push(ms(400));
        assert_eq!(recent.median(), Some(ms(2)), "one slow probe");
        recent.push(ms(300));
        assert_eq!(recent.median(), Some(ms(2)), "two");
        recent.push(ms(350));
        assert_eq!(recent.median(), Some(ms(300)), "three of the last five");
        for _ in 0..3 {
            recent.push(ms(1));
        }
        assert_eq!(recent.median(), Some(ms(1)), "the slow ones age out");
    }

    #[test]
    fn latency_moves_on_screen_only_when_it_really_moves() {
        let ms = |m: f64| Duration::from_secs_f64(m / 1000.0);
        assert_eq!(latency_to_show(None, ms(0.4)), ms(0.4));
        assert_eq!(
            latency_to_show(Some(ms(0.4)), ms(4.9)),
            ms(0.4),
            "both under the floor: shown alike"
        );
        assert_eq!(latency_to_show(Some(ms(0.4)), ms(5.0)), ms(5.0));
        assert_eq!(
            latency_to_show(Some(ms(5.5)), ms(6.3)),
            ms(5.5),
            "< 1 ms apart"
        );
        assert_eq!(
            latency_to_show(Some(ms(40.0)), ms(70.0)),
            ms(40.0),
            "not double"
        );
        assert_eq!(latency_to_show(Some(ms(40.0)), ms(500.0)), ms(500.0));
        assert_eq!(latency_to_show(Some(ms(500.0)), ms(2.0)), ms(2.0));
    }
}
