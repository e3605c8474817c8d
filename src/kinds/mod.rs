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

use crate::actions::{Action, OutputSink, exec, webhook};
use crate::grid::Rounds;
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
