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

/// Checks that share an interval are probed together, a slot of at most `SLOT` of them at a
/// time, the slots spread over the interval: one timer wakes a whole slot, and its probes run
/// side by side. An idle console then wakes once a second for fifty checks, not fifty times,
/// and five thousand checks go out as slots of `SLOT` every few milliseconds, never all at once.
const SLOT: usize = 200;

fn spawn_health(
    config: &Arc<Config>,
    clients: &http::Clients,
    tx: &Sender,
    tasks: &mut JoinSet<()>,
) {
    let mut by_interval: std::collections::BTreeMap<Duration, Vec<usize>> = Default::default();
    for (i, check) in config.health.iter().enumerate() {
        by_interval.entry(check.interval).or_default().push(i);
    }
    for (interval, checks) in by_interval {
        let slots = checks.len().div_ceil(SLOT);
        for (k, slot) in checks.chunks(SLOT).enumerate() {
            let start = interval
                .min(Duration::from_secs(1))
                .mul_f64(k as f64 / slots as f64);
            let mut probers: Vec<(usize, Prober)> = slot
                .iter()
                .map(|i| (*i, Prober::new(&config.health[*i])))
                .collect();
            let (tx, clients) = (tx.clone(), clients.clone());
            tasks.spawn(async move {
                let mut ticker = tokio::time::interval_at(Instant::now() + start, interval);
                ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
                loop {
                    ticker.tick().await;
                    let mut round: futures::stream::FuturesUnordered<_> = probers
                        .iter_mut()
                        .map(|(i, p)| {
                            let clients = &clients;
                            async move { (*i, p.probe(clients).await) }
                        })
                        .collect();
                    // Results go out together, at most `GATHER` after the first of them
                    // came in: the console wakes once for them, not once per check.
                    let mut gathered = Vec::new();
                    let mut flush_at = None;
                    loop {
                        let flush = async {
                            match flush_at {
                                Some(at) => tokio::time::sleep_until(at).await,
                                None => std::future::pending().await,
                            }
                        };
                        tokio::select! {
                            next = futures::StreamExt::next(&mut round) => match next {
                                Some((check, outcome)) => {
                                    gathered.push(Observation::Probe {
                                        check,
                                        at: time::OffsetDateTime::now_utc(),
                                        outcome,
                                    });
                                    flush_at.get_or_insert(Instant::now() + GATHER);
                                }
                                None => break,
                            },
                            _ = flush => {
                                flush_at = None;
                                if !send_all(&tx, &mut gathered).await {
                                    return;
                                }
                            }
                        }
                    }
                    if !send_all(&tx, &mut gathered).await {
                        return;
                    }
                }
            });
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
    fn new(check: &HealthCheck) -> Prober {
        match &check.target {
            Target::Http {
                url, expect_status, ..
            } => match http_kept::KeptProbe::new(url, *expect_status, check.timeout) {
                Some(kept) => Prober::Kept(kept),
                None => Prober::Fresh(check.clone()),
            },
            Target::Tcp { .. } => Prober::Fresh(check.clone()),
        }
    }

    async fn probe(&mut self, clients: &http::Clients) -> crate::observe::ProbeOutcome {
        match self {
            Prober::Kept(kept) => kept.probe().await,
            Prober::Fresh(check) => probe_check(clients, check).await,
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
