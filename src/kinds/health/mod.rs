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
        // Probes on kept connections are written here, all of them, and their answers read
        // as they come, in this task: no task, timer or buffer of their own. The others
        // (https, TCP, a kept connection to renew, an answer in pieces) run as futures.
        let finish =
            |k, check, kept, rest| slow_probe(k, check, Job::Finish(kept, rest), &clients, started);
        let mut sent = Vec::with_capacity(probers.len());
        let mut slow = futures::stream::FuturesUnordered::new();
        for (k, (check, prober)) in probers.iter_mut().enumerate() {
            match prober {
                Prober::Kept(kept) => match kept.start(started) {
                    http_kept::Started::Sent => sent.push((k, *check, kept)),
                    http_kept::Started::Slow(rest) => slow.push(finish(k, *check, kept, rest)),
                },
                Prober::Fresh(spec) => {
                    slow.push(slow_probe(k, *check, Job::Fresh(spec), &clients, started))
                }
            }
        }
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
            let answers = std::future::poll_fn(|cx| {
                poll_round(
                    cx,
                    &mut sent,
                    &mut slow,
                    &finish,
                    started,
                    |k, check, outcome| {
                        answered[k] = true;
                        gathered.push(Observation::Probe {
                            check,
                            at: time::OffsetDateTime::now_utc(),
                            outcome,
                        });
                    },
                )
            });
            tokio::select! {
                more = answers => {
                    if !more {
                        break;
                    }
                    if !flush_armed {
                        flush.as_mut().reset(Instant::now() + GATHER);
                        flush_armed = true;
                    }
                }
                _ = &mut flush, if flush_armed => {
                    flush_armed = false;
                    if !send_all(&tx, &mut gathered).await {
                        return;
                    }
                }
                _ = &mut expired => break,
            }
        }
        drop((sent, slow));
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

/// A probe that is not a kept connection's plain write and read.
enum Job<'a> {
    /// An https or TCP check.
    Fresh(&'a HealthCheck),
    /// The rest of a kept connection's probe.
    Finish(&'a mut http_kept::KeptProbe, http_kept::Rest),
}

/// A probe with no timer of its own: the slot's deadline bounds it.
async fn slow_probe(
    k: usize,
    check: usize,
    job: Job<'_>,
    clients: &http::Clients,
    started: std::time::Instant,
) -> (usize, usize, ProbeOutcome) {
    let outcome = match job {
        Job::Fresh(spec) => probe_check(clients, spec).await,
        Job::Finish(kept, rest) => {
            let result = kept.finish(rest).await;
            kept.outcome(result, started.elapsed())
        }
    };
    (k, check, outcome)
}

/// One look at a round's probes: the answers come on kept connections (`sent`) and the other
/// probes' ends (`slow`), each given to `done`. Ready(true) when some came, Ready(false) when
/// no probe is left.
fn poll_round<'a, F>(
    cx: &mut std::task::Context<'_>,
    sent: &mut Vec<(usize, usize, &'a mut http_kept::KeptProbe)>,
    slow: &mut futures::stream::FuturesUnordered<F>,
    finish: &impl Fn(usize, usize, &'a mut http_kept::KeptProbe, http_kept::Rest) -> F,
    started: std::time::Instant,
    mut done: impl FnMut(usize, usize, ProbeOutcome),
) -> std::task::Poll<bool>
where
    F: std::future::Future<Output = (usize, usize, ProbeOutcome)>,
{
    use std::task::Poll;
    let mut any = false;
    let mut i = 0;
    while i < sent.len() {
        let Poll::Ready(answer) = sent[i].2.poll_answer(cx) else {
            i += 1;
            continue;
        };
        let (k, check, kept) = sent.swap_remove(i);
        match answer {
            http_kept::Answer::Status(status) => {
                done(k, check, kept.outcome(Ok(status), started.elapsed()));
                any = true;
            }
            http_kept::Answer::Slow(rest) => slow.push(finish(k, check, kept, rest)),
        }
    }
    while let Poll::Ready(Some((k, check, outcome))) = futures::StreamExt::poll_next_unpin(slow, cx)
    {
        done(k, check, outcome);
        any = true;
    }
    if any {
        Poll::Ready(true)
    } else if sent.is_empty() && slow.is_empty() {
        Poll::Ready(false)
    } else {
        Poll::Pending
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
