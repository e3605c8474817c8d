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
use tokio::time::Instant;

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
    let mut rounds = crate::grid::Rounds::new(interval, start);
    let mut answered = vec![false; probers.len()];
    loop {
        rounds.next().await;
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
