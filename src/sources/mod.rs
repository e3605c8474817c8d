//! Pollers: one module per kind of source. Each sends `Observation`s on a bounded channel and
//! never touches the model.

pub mod aws;
pub mod cloudwatch;
pub mod dns;
pub mod http;
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
    // First probes spread over at most a second, so a large config does not start in one burst.
    let spread = |i: usize, n: usize, interval: Duration| {
        interval
            .min(Duration::from_secs(1))
            .mul_f64(i as f64 / n.max(1) as f64)
    };
    let n = config.health.len();
    for (i, check) in config.health.iter().enumerate() {
        let tx = tx.clone();
        let check = check.clone();
        let start = spread(i, n, check.interval);
        let clients = http_client.clone();
        tasks.spawn(async move {
            every(check.interval, start, || async {
                let outcome = probe_check(&clients, &check).await;
                tx.send(Observation::Probe {
                    check: i,
                    at: time::OffsetDateTime::now_utc(),
                    outcome,
                })
                .await
                .is_ok()
            })
            .await
        });
    }
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
