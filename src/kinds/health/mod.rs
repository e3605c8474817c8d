//! `[[health]]` checks: probed in slots of checks that share an interval and a timeout, plain
//! HTTP on a kept connection, https and TCP afresh each time.

pub mod http;
pub mod http_kept;
pub mod tcp;

use std::time::Duration;

use failover_core::kinds::health::{HealthCheck, ProbeOutcome, Target, source};
use failover_core::kinds::{Health, Observation};
use failover_core::text;
use tokio::task::JoinSet;
use tokio::time::{Instant, MissedTickBehavior};

use super::{Pollers, Sender, Source};

impl Source for Health {
    fn spawn(specs: &[HealthCheck], tx: &Sender, pollers: &mut Pollers) {
        spawn_slots(specs, tx, pollers);
    }

    fn read_once(specs: &[HealthCheck], tx: &Sender, tasks: &mut JoinSet<()>) {
        let clients = http::Clients::new();
        for (i, check) in specs.iter().enumerate() {
            let (tx, check, clients) = (tx.clone(), check.clone(), clients.clone());
            tasks.spawn(async move {
                let outcome = probe_check(&clients, &check).await;
                let _ = tx
                    .send(Observation::Probe {
                        check: i,
                        at: time::OffsetDateTime::now_utc(),
                        outcome,
                    })
                    .await;
            });
        }
    }
}

/// Checks that share an interval (and a timeout) are probed together, a slot of at most `SLOT`
/// of them at a time, the slots spread over the interval: one timer wakes a whole slot, its
/// probes run side by side, and one deadline bounds them all. An idle console then wakes once a
/// second for fifty checks, not fifty times, and five thousand checks go out as slots of
/// `SLOT` every few milliseconds, never all at once.
const SLOT: usize = 200;

fn spawn_slots(specs: &[HealthCheck], tx: &Sender, pollers: &mut Pollers) {
    let clients = http::Clients::new();
    let mut groups: std::collections::BTreeMap<(Duration, Duration), Vec<usize>> =
        Default::default();
    for (i, check) in specs.iter().enumerate() {
        groups
            .entry((check.interval, check.timeout))
            .or_default()
            .push(i);
    }
    for ((interval, timeout), checks) in groups {
        let slots = checks.len().div_ceil(SLOT);
        for (k, slot) in checks.chunks(SLOT).enumerate() {
            let start =
                failover_core::kinds::first_poll_spread(interval).mul_f64(k as f64 / slots as f64);
            let probers: Vec<(usize, Prober)> = slot
                .iter()
                .map(|i| (*i, Prober::new(&specs[*i], *i)))
                .collect();
            let (tx, clients) = (tx.clone(), clients.clone());
            let sources = slot.iter().map(|i| source(&specs[*i])).collect();
            pollers.spawn(
                sources,
                run_slot(probers, clients, interval, timeout, start, tx),
            );
        }
    }
}

async fn run_slot(
    mut probers: Vec<(usize, Prober)>,
    clients: http::Clients,
    interval: Duration,
    timeout: Duration,
    start: Duration,
    tx: Sender,
) {
    // The first round at once (slot 0) or at the slot's offset; then on the clock's second
    // plus the offset: the console's clock ticks then too, and timers due in the same
    // millisecond wake the runtime once.
    let first = Instant::now() + start;
    let grid = crate::kinds::next_second(start);
    let (bridge, aligned) = rounds_to_the_grid(grid.saturating_duration_since(first), interval);
    let mut lead_in = vec![first];
    lead_in.extend(bridge.map(|b| first + b));
    let mut lead_in = lead_in.into_iter();
    let mut ticker = tokio::time::interval_at(first + aligned, interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut answered = vec![false; probers.len()];
    loop {
        match lead_in.next() {
            Some(at) => tokio::time::sleep_until(at).await,
            None => {
                ticker.tick().await;
            }
        }
        let started = std::time::Instant::now();
        let deadline = Instant::now() + failover_core::text::wait(timeout);
        answered.fill(false);
        let mut round: futures::stream::FuturesUnordered<_> = probers
            .iter_mut()
            .enumerate()
            .map(|(k, (i, p))| {
                let clients = &clients;
                async move { (k, *i, p.probe(clients, started).await) }
            })
            .collect();
        // Results go out together, at most `GATHER` after the first of them came in: the
        // console wakes once for them, not once per check.
        let mut gathered = Vec::new();
        // Timers made once per round, not per result: each new one wakes the runtime's driver.
        let flush = tokio::time::sleep_until(deadline);
        tokio::pin!(flush);
        let mut flush_armed = false;
        let expired = tokio::time::sleep_until(deadline);
        tokio::pin!(expired);
        loop {
            tokio::select! {
                next = futures::StreamExt::next(&mut round) => match next {
                    Some((k, check, outcome)) => {
                        answered[k] = true;
                        gathered.push(Observation::Probe {
                            check,
                            at: time::OffsetDateTime::now_utc(),
                            outcome,
                        });
                        if !flush_armed {
                            flush.as_mut().reset(Instant::now() + GATHER);
                            flush_armed = true;
                        }
                    }
                    None => break,
                },
                _ = &mut flush, if flush_armed => {
                    flush_armed = false;
                    if !send_all(&tx, &mut gathered).await {
                        return;
                    }
                }
                _ = &mut expired => break,
            }
        }
        drop(round);
        let at = time::OffsetDateTime::now_utc();
        for ((check, prober), _) in probers
            .iter_mut()
            .zip(&answered)
            .filter(|(_, answered)| !**answered)
        {
            gathered.push(Observation::Probe {
                check: *check,
                at,
                outcome: prober.timed_out(timeout),
            });
        }
        if !send_all(&tx, &mut gathered).await {
            return;
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

/// How long a slot's first result waits for the others before they all go out.
const GATHER: Duration = Duration::from_millis(15);

/// Sends and empties `batch`; false when the console stopped listening.
async fn send_all(tx: &Sender, batch: &mut Vec<Observation>) -> bool {
    for observation in batch.drain(..) {
        if tx.send(observation).await.is_err() {
            return false;
        }
    }
    true
}

/// A check's prober: plain HTTP on a kept connection, anything else as `probe_check` does.
enum Prober {
    Kept(http_kept::KeptProbe),
    Fresh(HealthCheck),
}

impl Prober {
    /// `index` staggers the kept connections' renewals.
    fn new(check: &HealthCheck, index: usize) -> Prober {
        match &check.target {
            Target::Http {
                url, expect_status, ..
            } => match http_kept::KeptProbe::new(url, *expect_status, check.timeout) {
                Some(mut kept) => {
                    kept.stagger(index);
                    Prober::Kept(kept)
                }
                None => Prober::Fresh(check.clone()),
            },
            Target::Tcp { .. } => Prober::Fresh(check.clone()),
        }
    }

    /// A probe with no timer of its own: the slot's deadline bounds it.
    async fn probe(
        &mut self,
        clients: &http::Clients,
        started: std::time::Instant,
    ) -> ProbeOutcome {
        match self {
            Prober::Kept(kept) => kept.probe_untimed(started).await,
            Prober::Fresh(check) => probe_check(clients, check).await,
        }
    }

    fn timed_out(&mut self, timeout: Duration) -> ProbeOutcome {
        match self {
            Prober::Kept(kept) => kept.timed_out(),
            Prober::Fresh(_) => ProbeOutcome {
                ok: false,
                latency: timeout,
                detail: format!("timeout after {}", text::latency(timeout)),
            },
        }
    }
}

async fn probe_check(clients: &http::Clients, check: &HealthCheck) -> ProbeOutcome {
    match &check.target {
        Target::Http {
            url,
            expect_status,
            insecure,
        } => {
            clients
                .probe(url, *expect_status, *insecure, check.timeout)
                .await
        }
        Target::Tcp { addr } => tcp::probe(addr, check.timeout).await,
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
}
