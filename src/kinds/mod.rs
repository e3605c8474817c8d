//! The binary's side of every kind: its source (what polls it), its actions and its client, one
//! folder each, named like the core's. `sources!` at the bottom is this side's one list of
//! kinds; `impl Action for ActionSpec` names every kind's actions, and the compiler holds it to
//! the core's closed `ActionSpec`.

pub mod alarm;
pub mod cloudwatch;
pub mod dns;
pub mod health;
pub mod patroni;
pub mod postgres;
pub mod rds;
pub mod route53;

use std::time::Duration;

use failover_core::actions::{ActionSpec, Outcome, ReadBack};
use failover_core::config::Config;
use failover_core::kinds::{
    Alarm, CloudWatch, Dns, Health, Kind, Observation, Patroni, Postgres, Rds, Route53,
};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::{Instant, MissedTickBehavior};

use crate::actions::{Action, OutputSink, exec, webhook};
pub use crate::pollers::Pollers;

pub type Sender = mpsc::Sender<Observation>;

/// What a kind's source does: poll every configured source of the kind, and read each once.
pub trait Source: Kind {
    /// Starts the kind's pollers; they run until they are aborted or the receiver is gone.
    fn spawn(specs: &[Self::Spec], tx: &Sender, pollers: &mut Pollers);
    /// Reads every source of the kind once (for `status`), each reading sent on `tx`.
    fn read_once(specs: &[Self::Spec], tx: &Sender, tasks: &mut JoinSet<()>);
}

macro_rules! sources {
    ($($field:ident: $kind:ty),+ $(,)?) => {
        /// Starts every poller. They run until the returned set is dropped or aborted.
        pub fn spawn_all(config: &Config, tx: Sender) -> Pollers {
            let mut pollers = Pollers::default();
            $(<$kind as Source>::spawn(&config.kinds.$field, &tx, &mut pollers);)+
            pollers
        }

        /// Reads every source once, concurrently, bounded by the longest timeout plus a margin.
        pub async fn poll_once(config: &Config) -> Vec<Observation> {
            let (tx, mut rx) = mpsc::channel(1024);
            let mut tasks = JoinSet::new();
            $(<$kind as Source>::read_once(&config.kinds.$field, &tx, &mut tasks);)+
            drop(tx);
            let deadline = config.longest_timeout() * 2 + Duration::from_secs(1);
            let mut out = Vec::new();
            let _ = tokio::time::timeout(deadline, async {
                while let Some(o) = rx.recv().await {
                    out.push(o);
                }
            })
            .await;
            tasks.abort_all();
            out
        }
    };
}

sources! {
    health: Health,
    postgres: Postgres,
    dns: Dns,
    route53: Route53,
    cloudwatch: CloudWatch,
    alarm: Alarm,
    patroni: Patroni,
    rds: Rds,
}

/// Every action, by the kind it belongs to.
impl Action for ActionSpec {
    async fn plan(&self) -> Vec<String> {
        match self {
            ActionSpec::Route53(r) => route53::plan(r).await,
            ActionSpec::Http { .. } => webhook::plan(self),
            _ => self.describe(),
        }
    }

    async fn preflight(&self) -> Vec<String> {
        match self {
            ActionSpec::Promote { .. } => postgres::preflight(self).await,
            ActionSpec::DnsReplace { .. } => dns::preflight(self).await,
            ActionSpec::Exec { .. } => exec::preflight(self),
            ActionSpec::Http { .. } => webhook::preflight(self),
            ActionSpec::Route53(r) => route53::preflight(r).await,
            ActionSpec::RdsPromote(p) => rds::preflight_promote(p).await,
            ActionSpec::RdsFailover(f) => rds::preflight_failover(f).await,
            ActionSpec::Patroni(p) => patroni::preflight(p).await,
            ActionSpec::WriteCheck(c) => postgres::writable::preflight(c).await,
        }
    }

    async fn execute(&self, output: &OutputSink) -> Outcome {
        match self {
            ActionSpec::Promote { .. } => postgres::execute(self).await,
            ActionSpec::DnsReplace { .. } => dns::execute(self).await,
            ActionSpec::Exec { .. } => exec::execute(self, output).await,
            ActionSpec::Http { .. } => webhook::execute(self).await,
            ActionSpec::Route53(r) => route53::execute(r, output).await,
            ActionSpec::RdsPromote(p) => rds::execute_promote(p, output).await,
            ActionSpec::RdsFailover(f) => rds::execute_failover(f, output).await,
            ActionSpec::Patroni(p) => patroni::execute(p, output).await,
            ActionSpec::WriteCheck(c) => postgres::writable::execute(c).await,
        }
    }

    async fn read_back(&self) -> ReadBack {
        match self {
            ActionSpec::Promote { .. } => postgres::read_back(self).await,
            ActionSpec::DnsReplace { .. } => dns::read_back(self).await,
            ActionSpec::Exec { .. } => ReadBack::Unreadable(
                "a command cannot be read back: check its effect by hand".into(),
            ),
            ActionSpec::Http { .. } => ReadBack::Unreadable(
                "a webhook cannot be read back: check its effect by hand".into(),
            ),
            ActionSpec::Route53(r) => route53::read_back(r).await,
            ActionSpec::RdsPromote(p) => rds::read_back_promote(p).await,
            ActionSpec::RdsFailover(f) => rds::read_back_failover(f).await,
            ActionSpec::Patroni(p) => patroni::read_back(p).await,
            ActionSpec::WriteCheck(_) => ReadBack::Unreadable(
                "a write check has nothing to read back: it runs again by Enter".into(),
            ),
        }
    }
}

/// The next whole second of the wall clock, 2 ms past it (so that a clock read then shows the
/// new second), plus `offset`, as a tokio instant.
pub fn next_second(offset: Duration) -> Instant {
    let into_second = Duration::from_nanos(time::OffsetDateTime::now_utc().nanosecond() as u64);
    Instant::now()
        + Duration::from_secs(1).saturating_sub(into_second)
        + Duration::from_millis(2)
        + offset
}
/// How many pollers of one kind start together (see `staggered`).
const BURST: usize = 50;

/// When the `k`-th of `n` pollers of one kind first polls: in groups of `BURST`, the groups
/// spread over the first interval. A thousand DNS records all asked in the same millisecond
/// overflowed the resolver's UDP receive buffer (the kernel's `UdpRcvbufErrors`), and the lost
/// datagrams came back as timeouts and missed ticks; a handful still start, and wake the
/// runtime, together.
pub fn staggered(interval: Duration, k: usize, n: usize) -> Duration {
    let groups = n.div_ceil(BURST).max(1);
    failover_core::kinds::first_poll_spread(interval).mul_f64((k / BURST) as f64 / groups as f64)
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

    /// Waits for the next round.
    pub async fn next(&mut self) {
        match self.lead_in.next() {
            Some(at) => tokio::time::sleep_until(at).await,
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

/// Runs `probe` in `Rounds` of `interval` from `start`, until it returns false (the receiver is
/// gone).
pub async fn every<F, Fut>(interval: Duration, start: Duration, mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let mut rounds = Rounds::new(interval, start);
    loop {
        rounds.next().await;
        if !probe().await {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn a_handful_of_pollers_start_together_and_a_thousand_in_groups_over_the_interval() {
        let second = Duration::from_secs(1);
        assert!((0..50).all(|k| staggered(second, k, 50).is_zero()));
        let starts: Vec<Duration> = (0..1000).map(|k| staggered(second, k, 1000)).collect();
        let mut distinct = starts.clone();
        distinct.dedup();
        assert_eq!(distinct.len(), 20, "groups of 50");
        assert_eq!(starts[999], Duration::from_millis(950));
        assert!(starts.windows(2).all(|w| w[0] <= w[1]));
        // Within the spread the staleness limit allows for a first poll.
        let minute = Duration::from_secs(60);
        assert!(staggered(minute, 999, 1000) < failover_core::kinds::first_poll_spread(minute));
    }
}
