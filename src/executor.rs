//! Carries out runbook actions. Constructing one takes a `DriverToken`, which only the console
//! holding the driver lock or lease has: a watch console has no executor at all.
//!
//! Every action is journaled (and fsync'd) before it starts and after it ends; if the start
//! cannot be recorded under this console's driver token (fenced: in war-room mode, in one etcd
//! transaction with the check that the lease is still this console's), the action does not
//! run. Every run event it writes carries the token.
//!
//! Each step's task is counted in `InFlight` while it runs, with how long it can take (its
//! action's own bound): a stopping console waits for it, never kills it. A task that panics
//! is reported to `Crashes`, which stops the console.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::FutureExt;
use time::OffsetDateTime;
use tokio::sync::{mpsc, watch};

use failover_core::actions::{ActionSpec, Outcome, ReadBack, one_line};

use crate::actions::Action;
use crate::crash::{self, Crashes};
use crate::record::RecordHandle;
use failover_core::app::Msg;
use failover_core::app::driver::DriverToken;
use failover_core::app::runs::ExecRequest;
use failover_core::runbook::{Event, Phase, RunEvent, StepResult};
use failover_core::secrets::Masker;
use failover_core::timeline::{Entry, Kind, Severity};

/// Beyond the action's own bound: the two fsync'd journal writes around it.
const JOURNAL_MARGIN: Duration = Duration::from_secs(2);

/// The steps being carried out, each with the latest it can end: what a stopping console waits
/// for. Shared by the engine and every executor it makes (a step outlives an executor dropped
/// when the lock is lost).
#[derive(Clone, Default)]
pub struct InFlight(Arc<Flights>);

#[derive(Default)]
struct Flights {
    now: watch::Sender<Vec<Flight>>,
    /// Stopping: nothing new starts.
    closed: AtomicBool,
    next: AtomicU64,
}

#[derive(Debug, Clone)]
pub struct Flight {
    id: u64,
    /// 0-based.
    pub step: usize,
    pub title: String,
    /// By its action's own timeouts (plus the read-back an unknown outcome gets, and the
    /// journal's writes), it has ended by then.
    pub until: tokio::time::Instant,
}

impl InFlight {
    /// Counts a step in until the returned guard is dropped; None once stopping.
    fn start(&self, step: usize, title: &str, bound: Duration) -> Option<Landing> {
        if self.0.closed.load(Ordering::SeqCst) {
            return None;
        }
        let id = self.0.next.fetch_add(1, Ordering::SeqCst);
        let flight = Flight {
            id,
            step,
            title: title.to_string(),
            until: tokio::time::Instant::now() + failover_core::text::wait(bound),
        };
        self.0.now.send_modify(|all| all.push(flight));
        Some(Landing {
            flights: self.0.clone(),
            id,
        })
    }

    /// From now on nothing new is executed: the console is stopping.
    pub fn close(&self) {
        self.0.closed.store(true, Ordering::SeqCst);
    }

    pub fn current(&self) -> Vec<Flight> {
        self.0.now.borrow().clone()
    }

    /// Returns once no step is in flight.
    pub async fn idle(&self) {
        let _ = self.0.now.subscribe().wait_for(Vec::is_empty).await;
    }
}

/// A step's place in `InFlight`, given up when its task ends, however it ends.
struct Landing {
    flights: Arc<Flights>,
    id: u64,
}

impl Drop for Landing {
    fn drop(&mut self) {
        let id = self.id;
        self.flights
            .now
            .send_modify(|all| all.retain(|f| f.id != id));
    }
}

pub struct Executor {
    journal: RecordHandle,
    msgs: mpsc::Sender<Msg>,
    operator: String,
    token: u64,
    in_flight: InFlight,
    crashes: Crashes,
    masker: Arc<Masker>,
}

impl Executor {
    pub fn new(
        proof: &DriverToken,
        journal: RecordHandle,
        msgs: mpsc::Sender<Msg>,
        operator: String,
        in_flight: InFlight,
        crashes: Crashes,
        masker: Arc<Masker>,
    ) -> Executor {
        Executor {
            journal,
            msgs,
            operator,
            token: proof.value(),
            in_flight,
            crashes,
            masker,
        }
    }

    pub fn execute(&self, request: ExecRequest) {
        let n = request.step + 1;
        let Some(landing) = self
            .in_flight
            .start(request.step, &request.title, bound(&request))
        else {
            tracing::warn!("step {n} not started: the console is stopping");
            return;
        };
        let (journal, msgs, crashes) = (
            self.journal.clone(),
            self.msgs.clone(),
            self.crashes.clone(),
        );
        let by = By {
            operator: self.operator.clone(),
            token: self.token,
            masker: self.masker.clone(),
        };
        tokio::spawn(async move {
            let work = async {
                let outcome = run_phase(&journal, &msgs, &by, &request, request.phase).await;
                if request.phase == Phase::Do && outcome == Some(StepResult::Unknown) {
                    // Never retried blindly: find out what happened first.
                    run_phase(&journal, &msgs, &by, &request, Phase::ReadBack).await;
                }
            };
            if let Err(panic) = AssertUnwindSafe(work).catch_unwind().await {
                crashes.report(format!("step {n}'s task: {}", crash::describe(&*panic)));
            }
            drop(landing);
        });
    }

    /// Checks each action without running it, then records the end of the dry run.
    pub fn dry_run(
        &self,
        run_id: String,
        runbook: String,
        actions: Vec<(usize, String, ActionSpec)>,
    ) {
        let journal = self.journal.clone();
        let by = By {
            operator: self.operator.clone(),
            token: self.token,
            masker: self.masker.clone(),
        };
        let crashes = self.crashes.clone();
        let work = async move {
            for (step, title, spec) in actions {
                let problems = spec.preflight().await;
                let would = one_line(&spec.plan().await);
                let blocked = if problems.is_empty() {
                    None
                } else {
                    Some(problems.join("; "))
                };
                let (severity, message) = match &blocked {
                    Some(b) => (
                        Severity::Warn,
                        format!("dry run step {} {title:?}: would block: {b}", step + 1),
                    ),
                    None => (
                        Severity::Info,
                        format!("dry run step {} {title:?}: would run: {would}", step + 1),
                    ),
                };
                let event = Event::DryRunStep {
                    step,
                    would,
                    blocked,
                };
                let _ = journal
                    .append_synced(entry(&by, &run_id, &runbook, event, severity, message))
                    .await;
            }
            let done = entry(
                &by,
                &run_id,
                &runbook,
                Event::Finished,
                Severity::Info,
                format!("dry run of {runbook} finished: nothing was executed"),
            );
            let _ = journal.append_synced(done).await;
        };
        tokio::spawn(async move {
            if let Err(panic) = AssertUnwindSafe(work).catch_unwind().await {
                crashes.report(format!("the dry run's task: {}", crash::describe(&*panic)));
            }
        });
    }
}

/// Who writes: the operator, and the driver token the executor was made with; and the secrets
/// masked in what it writes.
struct By {
    operator: String,
    token: u64,
    masker: Arc<Masker>,
}

/// The longest a step's task can take: its phase, the read-back an unknown outcome gets, and
/// the journal's writes.
fn bound(r: &ExecRequest) -> Duration {
    let action = match r.phase {
        Phase::Do => r.spec.max_duration() + r.spec.max_read_back(),
        Phase::Rollback => r.spec.max_duration(),
        Phase::ReadBack => r.spec.max_read_back(),
    };
    action + JOURNAL_MARGIN
}

/// A run entry, every text in it (the message, an outcome's detail, a plan, a reason) with the
/// known secrets masked: this is where an action's words become journal and screen text.
fn entry(
    by: &By,
    run_id: &str,
    runbook: &str,
    event: Event,
    severity: Severity,
    message: String,
) -> Entry {
    let event = masked(&by.masker, event);
    let mut e = Entry::new(
        OffsetDateTime::now_utc(),
        severity,
        Kind::Run,
        format!("run/{runbook}"),
        by.masker.mask(&message),
    )
    .by(&by.operator);
    e.run = Some(RunEvent {
        id: run_id.to_string(),
        runbook: runbook.to_string(),
        event,
    });
    e.token = Some(by.token);
    e
}

fn masked(masker: &Masker, event: Event) -> Event {
    match event {
        Event::DryRunStep {
            step,
            would,
            blocked,
        } => Event::DryRunStep {
            step,
            would: masker.mask(&would),
            blocked: blocked.map(|b| masker.mask(&b)),
        },
        Event::StepFinished {
            step,
            phase,
            result,
            detail,
            elapsed_ms,
        } => Event::StepFinished {
            step,
            phase,
            result,
            detail: masker.mask(&detail),
            elapsed_ms,
        },
        Event::StepRefused { step, reason } => Event::StepRefused {
            step,
            reason: masker.mask(&reason),
        },
        other => other,
    }
}

async fn run_phase(
    journal: &RecordHandle,
    msgs: &mpsc::Sender<Msg>,
    by: &By,
    r: &ExecRequest,
    phase: Phase,
) -> Option<StepResult> {
    let n = r.step + 1;
    let what = match phase {
        Phase::Do => r.spec.describe().first().cloned().unwrap_or_default(),
        Phase::ReadBack => "reading the state back".into(),
        Phase::Rollback => format!(
            "rollback: {}",
            r.spec.describe().first().cloned().unwrap_or_default()
        ),
    };
    let verb = match phase {
        Phase::Do => "started",
        Phase::ReadBack => "read back started",
        Phase::Rollback => "rollback started",
    };
    let start = entry(
        by,
        &r.run_id,
        &r.runbook,
        Event::StepStarted {
            step: r.step,
            phase,
        },
        Severity::Info,
        format!("step {n} {:?} {verb}: {what}", r.title),
    );
    // A read-back changes nothing: it needs no fence.
    let recorded = match phase {
        Phase::ReadBack => journal.append_synced(start).await,
        Phase::Do | Phase::Rollback => journal.append_fenced(start, by.token).await,
    };
    if let Err(e) = recorded {
        // Not recorded, not done: the operator sees why, and the step can be tried again.
        let reason = format!("the start could not be recorded ({e})");
        let refused = entry(
            by,
            &r.run_id,
            &r.runbook,
            Event::StepRefused {
                step: r.step,
                reason: reason.clone(),
            },
            Severity::Crit,
            format!("step {n} refused: {reason}"),
        );
        let _ = msgs
            .send(Msg::Journaled {
                entry: refused,
                error: Some(e),
            })
            .await;
        return None;
    }
    crate::test_hooks::step();
    let started = Instant::now();
    let (result, detail) = match phase {
        Phase::Do | Phase::Rollback => {
            let (tx, mut rx) = mpsc::channel::<String>(256);
            let forward = {
                let (msgs, run_id) = (msgs.clone(), r.run_id.clone());
                let masker = by.masker.clone();
                tokio::spawn(async move {
                    while let Some(line) = rx.recv().await {
                        let _ = msgs
                            .send(Msg::Output {
                                run_id: run_id.clone(),
                                line: masker.mask(&line),
                            })
                            .await;
                    }
                })
            };
            let outcome = r.spec.execute(&tx).await;
            drop(tx);
            let _ = forward.await;
            match outcome {
                Outcome::Ok(d) => (StepResult::Ok, d),
                Outcome::Failed(d) => (StepResult::Failed, d),
                Outcome::Unknown(d) => (StepResult::Unknown, d),
            }
        }
        Phase::ReadBack => match r.spec.read_back().await {
            ReadBack::Applied(d) => (StepResult::Applied, d),
            ReadBack::NotApplied(d) => (StepResult::NotApplied, d),
            ReadBack::Unreadable(d) => (StepResult::Unreadable, d),
        },
    };
    let elapsed = started.elapsed();
    let (severity, word) = match result {
        StepResult::Ok => (Severity::Ok, "ok"),
        StepResult::Applied => (Severity::Ok, "verified"),
        StepResult::Failed => (Severity::Crit, "FAILED"),
        StepResult::NotApplied => (Severity::Crit, "NOT APPLIED"),
        StepResult::Unknown => (Severity::Warn, "outcome UNKNOWN"),
        StepResult::Unreadable => (Severity::Warn, "could not be read back"),
    };
    let label = match phase {
        Phase::Do => "",
        Phase::ReadBack => "read back: ",
        Phase::Rollback => "rollback ",
    };
    let ms = elapsed.as_millis() as u64;
    let message = format!(
        "step {n} {:?} {label}{word} in {}: {detail}",
        r.title,
        failover_core::text::latency(elapsed)
    );
    let event = Event::StepFinished {
        step: r.step,
        phase,
        result,
        detail,
        elapsed_ms: ms,
    };
    let _ = journal
        .append_synced(entry(by, &r.run_id, &r.runbook, event, severity, message))
        .await;
    Some(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_step_is_in_flight_until_its_task_lets_go_and_none_starts_once_stopping() {
        let in_flight = InFlight::default();
        let landing = in_flight
            .start(0, "Slow command", Duration::from_secs(11))
            .expect("not stopping yet");
        let flights = in_flight.current();
        assert_eq!(flights.len(), 1);
        assert_eq!(
            (flights[0].step, flights[0].title.as_str()),
            (0, "Slow command")
        );
        let idle = tokio::time::timeout(Duration::from_millis(20), in_flight.idle()).await;
        assert!(idle.is_err(), "a step in flight: not idle");
        in_flight.close();
        assert!(in_flight.start(1, "Next", Duration::from_secs(1)).is_none());
        drop(landing);
        tokio::time::timeout(Duration::from_secs(1), in_flight.idle())
            .await
            .expect("idle once the step's task ends");
        assert!(in_flight.current().is_empty());
    }
}
