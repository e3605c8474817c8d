//! The clock's grid: each second, 2 ms past it. The console's clock ticks on it, and so does
//! everything that runs every so often (pollers, the record's look at the journal and the
//! lock, the journal writer's check), each at its interval and offset: things due at the same
//! time wake the runtime once between them instead of once each.

use std::time::Duration;

use tokio::time::{Instant, MissedTickBehavior};

/// The next whole second of the wall clock, 2 ms past it (so that a clock read then shows the
/// new second), plus `offset`, as a tokio instant.
pub fn next_second(offset: Duration) -> Instant {
    let into_second = Duration::from_nanos(time::OffsetDateTime::now_utc().nanosecond() as u64);
    Instant::now()
        + Duration::from_secs(1).saturating_sub(into_second)
        + Duration::from_millis(2)
        + offset
}
/// When a poller polls: first `start` from now, then on the clock's grid (each second, 2 ms
/// past it, plus `start`) every `interval`, with at most one round in between to get there. The
/// console's clock ticks on that grid too, so every poller of an interval, and the clock, wake
/// the runtime once between them instead of once each.
pub struct Rounds {
    lead_in: std::vec::IntoIter<Instant>,
    ticker: tokio::time::Interval,
}

impl Rounds {
    pub fn new(interval: Duration, start: Duration) -> Rounds {
        let first = Instant::now() + start;
        let grid = next_second(start);
        let (bridge, aligned) = rounds_to_the_grid(grid.saturating_duration_since(first), interval);
        let mut lead_in = vec![first];
        lead_in.extend(bridge.map(|b| first + b));
        // A slow round delays the next one instead of piling up.
        let mut ticker = tokio::time::interval_at(first + aligned, interval);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Rounds {
            lead_in: lead_in.into_iter(),
            ticker,
        }
    }

    /// Waits for the next round. Cancel-safe: a wait dropped in a `select!` keeps its round.
    pub async fn next(&mut self) {
        match self.lead_in.as_slice().first() {
            Some(at) => {
                tokio::time::sleep_until(*at).await;
                self.lead_in.next();
            }
            None => {
                self.ticker.tick().await;
            }
        }
    }
}

/// After a first round at once, the rounds that bring a slot onto the clock's grid (`grid` after
/// the first round is a grid point; so is every interval before and after it): at most one
/// round in between, and the first aligned round, both as offsets from the first round. Every
/// gap is between half an interval and one interval: never longer, or a check would go stale
/// (its limit is interval + timeout) before its second answer; never shorter, or two probes
/// close together would count twice towards a threshold.
fn rounds_to_the_grid(grid: Duration, interval: Duration) -> (Option<Duration>, Duration) {
    if interval.is_zero() {
        return (None, grid);
    }
    let into = Duration::from_nanos((grid.as_nanos() % interval.as_nanos()) as u64);
    let next = if into.is_zero() { interval } else { into };
    if next >= interval / 2 {
        (None, next)
    } else {
        (Some((next + interval) / 2), next + interval)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_wait_dropped_in_a_select_keeps_its_round() {
        let mut rounds = Rounds::new(Duration::from_millis(500), Duration::from_millis(100));
        let lead_in = rounds.lead_in.len();
        tokio::select! {
            _ = rounds.next() => panic!("the first round is 100 ms away"),
            _ = tokio::time::sleep(Duration::from_millis(10)) => {}
        }
        assert_eq!(
            rounds.lead_in.len(),
            lead_in,
            "the round waited for is still to come"
        );
        rounds.next().await;
        assert_eq!(rounds.lead_in.len(), lead_in - 1);
    }

    /// Every gap between the rounds that lead a slot onto the grid, for many phases of the
    /// grid and many intervals, is between half an interval and one interval, and the last
    /// round is on the grid.
    #[test]
    fn the_rounds_onto_the_grid_are_never_far_apart_nor_close_together() {
        for interval_ms in [100u64, 300, 500, 999, 1000, 1500, 2000, 10_000, 30_000] {
            let interval = Duration::from_millis(interval_ms);
            for grid_ms in (1..=1000).step_by(7) {
                let grid = Duration::from_millis(grid_ms);
                let (bridge, aligned) = rounds_to_the_grid(grid, interval);
                let mut at = vec![Duration::ZERO];
                at.extend(bridge);
                at.push(aligned);
                for pair in at.windows(2) {
                    let gap = pair[1] - pair[0];
                    assert!(
                        gap >= interval / 2 && gap <= interval,
                        "interval {interval:?}, grid at {grid:?}: rounds at {at:?}"
                    );
                }
                let off_grid = (aligned.as_nanos() as i128 - grid.as_nanos() as i128)
                    .rem_euclid(interval.as_nanos() as i128);
                assert_eq!(
                    off_grid, 0,
                    "interval {interval:?}, grid at {grid:?}: {at:?}"
                );
            }
        }
    }

    /// The failure this replaced: a console started 190 ms into a second with 300 ms checks
    /// probed at once, then not until the next second, 810 ms later, over the 800 ms limit.
    #[test]
    fn a_start_early_in_the_second_does_not_wait_for_the_next_second() {
        let (bridge, aligned) =
            rounds_to_the_grid(Duration::from_millis(810), Duration::from_millis(300));
        assert_eq!(bridge, None);
        assert_eq!(aligned, Duration::from_millis(210));
    }
}
