//! Pollers: one module per kind of source. Each sends `Observation`s on a bounded channel and
//! never touches the model.

pub mod aws;
pub mod cloudwatch;
pub mod dns;
pub mod http;
pub mod http_kept;
pub mod patroni;
pub mod postgres;
pub mod rds;
pub mod route53;
pub mod tcp;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::{Instant, MissedTickBehavior};

use crate::config::{Config, HealthCheck, Target};
use crate::observe::Observation;

pub type Sender = mpsc::Sender<Observation>;

/// Starts every poller. They run until the returned set is dropped or aborted.
pub fn spawn_all(config: &Arc<Config>, tx: Sender) -> JoinSet<()> {
    let mut tasks = JoinSet::new();
    let http_client = http::Clients::new();
    spawn_health(config, &http_client, &tx, &mut tasks);
    for (d, db) in config.databases.iter().enumerate() {
        for (m, member) in db.members.iter().enumerate() {
            let poller = postgres::Poller::new(d, m, member.clone(), db.timeout);
            let tx = tx.clone();
            let interval = db.interval;
            tasks.spawn(async move { poller.run(interval, tx).await });
        }
    }
    for (i, spec) in config.patroni.iter().enumerate() {
        let poller = patroni::Poller::new(i, spec.clone());
        let tx = tx.clone();
        tasks.spawn(async move { poller.run(tx).await });
    }
    for (r, record) in config.dns.iter().enumerate() {
        for (s, server) in record.resolvers.iter().enumerate() {
            let tx = tx.clone();
            let record = record.clone();
            let server = *server;
            tasks.spawn(async move {
                let Ok(resolver) = dns::Probe::new(server, record.timeout) else {
                    return;
                };
                every(record.interval, Duration::ZERO, || async {
                    let answer = resolver.ask(&record.name, record.record_type).await;
                    tx.send(Observation::Dns {
                        record: r,
                        resolver: s,
                        at: time::OffsetDateTime::now_utc(),
                        answer,
                    })
                    .await
                    .is_ok()
                })
                .await
            });
        }
    }
    for (r, record) in config.route53.iter().enumerate() {
        let (tx, record) = (tx.clone(), record.clone());
        tasks.spawn(async move { route53::Poller::new(r, record).await.run(tx).await });
    }
    for (i, spec) in config.rds.iter().enumerate() {
        let (tx, spec) = (tx.clone(), spec.clone());
        tasks.spawn(async move { rds::Poller::new(i, spec).await.run(tx).await });
    }
    for (i, spec) in config.cloudwatch.iter().enumerate() {
        let (tx, spec) = (tx.clone(), spec.clone());
        tasks.spawn(async move { cloudwatch::Poller::new(i, spec).await.run(tx).await });
    }
    tasks
}

/// Checks that share an interval (and a timeout) are probed together, a slot of at most `SLOT`
/// of them at a time, the slots spread over the interval: one timer wakes a whole slot, its
/// probes run side by side, and one deadline bounds them all. An idle console then wakes once a
/// second for fifty checks, not fifty times, and five thousand checks go out as slots of
/// `SLOT` every few milliseconds, never all at once.
const SLOT: usize = 200;

fn spawn_health(
    config: &Arc<Config>,
    clients: &http::Clients,
    tx: &Sender,
    tasks: &mut JoinSet<()>,
) {
    let mut groups: std::collections::BTreeMap<(Duration, Duration), Vec<usize>> =
        Default::default();
    for (i, check) in config.health.iter().enumerate() {
        groups
            .entry((check.interval, check.timeout))
            .or_default()
            .push(i);
    }
    for ((interval, timeout), checks) in groups {
        let slots = checks.len().div_ceil(SLOT);
        for (k, slot) in checks.chunks(SLOT).enumerate() {
            let start = interval
                .min(Duration::from_secs(1))
                .mul_f64(k as f64 / slots as f64);
            let probers: Vec<(usize, Prober)> = slot
                .iter()
                .map(|i| (*i, Prober::new(&config.health[*i], *i)))
                .collect();
            let (tx, clients) = (tx.clone(), clients.clone());
            tasks.spawn(run_slot(probers, clients, interval, timeout, start, tx));
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
    // millisecond wake the runtime once. The second round comes at least half an interval
    // after the first.
    let mut first = Some(tokio::time::sleep(start));
    let mut aligned = next_second(start);
    while aligned < Instant::now() + start + interval / 2 {
        aligned += interval;
    }
    let mut ticker = tokio::time::interval_at(aligned, interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut answered = vec![false; probers.len()];
    loop {
        match first.take() {
            Some(sleep) => sleep.await,
            None => {
                ticker.tick().await;
            }
        }
        let started = std::time::Instant::now();
        let deadline = Instant::now() + timeout;
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

/// The next whole second of the wall clock, 2 ms past it (so that a clock read then shows the
/// new second), plus `offset`, as a tokio instant.
pub fn next_second(offset: Duration) -> Instant {
    let into_second = Duration::from_nanos(time::OffsetDateTime::now_utc().nanosecond() as u64);
    Instant::now()
        + Duration::from_secs(1).saturating_sub(into_second)
        + Duration::from_millis(2)
        + offset
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
    ) -> crate::observe::ProbeOutcome {
        match self {
            Prober::Kept(kept) => kept.probe_untimed(started).await,
            Prober::Fresh(check) => probe_check(clients, check).await,
        }
    }

    fn timed_out(&mut self, timeout: Duration) -> crate::observe::ProbeOutcome {
        match self {
            Prober::Kept(kept) => kept.timed_out(),
            Prober::Fresh(_) => crate::observe::ProbeOutcome {
                ok: false,
                latency: timeout,
                detail: format!("timeout after {}", crate::ui::format::latency(timeout)),
            },
        }
    }
}

async fn probe_check(clients: &http::Clients, check: &HealthCheck) -> crate::observe::ProbeOutcome {
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

/// Runs `probe` every `interval` after `start`, until it returns false (the receiver is gone).
/// A slow probe delays the next one instead of piling up.
pub async fn every<F, Fut>(interval: Duration, start: Duration, mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let mut ticker = tokio::time::interval_at(Instant::now() + start, interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        if !probe().await {
            return;
        }
    }
}

/// Polls every source once, concurrently, bounded by the longest timeout plus a margin.
pub async fn poll_once(config: &Arc<Config>) -> Vec<Observation> {
    let (tx, mut rx) = mpsc::channel(1024);
    let mut tasks = JoinSet::new();
    let clients = http::Clients::new();
    for (i, check) in config.health.iter().enumerate() {
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
    for (d, db) in config.databases.iter().enumerate() {
        for (m, member) in db.members.iter().enumerate() {
            let poller = postgres::Poller::new(d, m, member.clone(), db.timeout);
            let tx = tx.clone();
            tasks.spawn(async move {
                let _ = tx.send(poller.once().await).await;
            });
        }
    }
    for (i, spec) in config.patroni.iter().enumerate() {
        let poller = patroni::Poller::new(i, spec.clone());
        let tx = tx.clone();
        tasks.spawn(async move {
            let _ = tx.send(poller.once().await).await;
        });
    }
    for (r, record) in config.dns.iter().enumerate() {
        for (s, server) in record.resolvers.iter().enumerate() {
            let (tx, record, server) = (tx.clone(), record.clone(), *server);
            tasks.spawn(async move {
                let answer = match dns::Probe::new(server, record.timeout) {
                    Ok(p) => p.ask(&record.name, record.record_type).await,
                    Err(e) => crate::observe::DnsAnswer::Error(e),
                };
                let _ = tx
                    .send(Observation::Dns {
                        record: r,
                        resolver: s,
                        at: time::OffsetDateTime::now_utc(),
                        answer,
                    })
                    .await;
            });
        }
    }
    for (r, record) in config.route53.iter().enumerate() {
        let (tx, record) = (tx.clone(), record.clone());
        tasks.spawn(async move {
            let _ = tx
                .send(route53::Poller::new(r, record).await.once().await)
                .await;
        });
    }
    for (i, spec) in config.rds.iter().enumerate() {
        let (tx, spec) = (tx.clone(), spec.clone());
        tasks.spawn(async move {
            let _ = tx.send(rds::Poller::new(i, spec).await.once().await).await;
        });
    }
    for (i, spec) in config.cloudwatch.iter().enumerate() {
        let (tx, spec) = (tx.clone(), spec.clone());
        tasks.spawn(async move {
            let _ = tx
                .send(cloudwatch::Poller::new(i, spec).await.once().await)
                .await;
        });
    }
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
