//! Carries out runbook actions. Constructing one takes a `DriverToken`, which only the console
//! holding the driver lock or lease has: a watch console has no executor at all.
//!
//! Every action is journaled (and fsync'd) before it starts and after it ends; if the start
//! cannot be recorded under this console's driver token (fenced: in war-room mode, in one etcd
//! transaction with the check that the lease is still this console's), the action does not
//! run. Every run event it writes carries the token.

use std::time::Instant;

use time::OffsetDateTime;
use tokio::sync::mpsc;

use failover_core::actions::{ActionSpec, Outcome, ReadBack, one_line};

use crate::actions::Action;
use crate::record::RecordHandle;
use failover_core::app::Msg;
use failover_core::app::driver::DriverToken;
use failover_core::app::runs::ExecRequest;
use failover_core::runbook::{Event, Phase, RunEvent, StepResult};
use failover_core::timeline::{Entry, Kind, Severity};

pub struct Executor {
    journal: RecordHandle,
    msgs: mpsc::Sender<Msg>,
    operator: String,
    token: u64,
}

impl Executor {
    pub fn new(
        proof: &DriverToken,
        journal: RecordHandle,
        msgs: mpsc::Sender<Msg>,
        operator: String,
    ) -> Executor {
        Executor {
            journal,
            msgs,
            operator,
            token: proof.value(),
        }
    }

    pub fn execute(&self, request: ExecRequest) {
        let (journal, msgs) = (self.journal.clone(), self.msgs.clone());
        let by = By {
            operator: self.operator.clone(),
            token: self.token,
        };
        tokio::spawn(async move {
            let outcome = run_phase(&journal, &msgs, &by, &request, request.phase).await;
            if request.phase == Phase::Do && outcome == Some(StepResult::Unknown) {
                // Never retried blindly: find out what happened first.
                run_phase(&journal, &msgs, &by, &request, Phase::ReadBack).await;
            }
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
        };
        tokio::spawn(async move {
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
        });
    }
}

/// Who writes: the operator, and the driver token the executor was made with.
struct By {
    operator: String,
    token: u64,
}

fn entry(
    by: &By,
    run_id: &str,
    runbook: &str,
    event: Event,
    severity: Severity,
    message: String,
) -> Entry {
    let mut e = Entry::new(
        OffsetDateTime::now_utc(),
        severity,
        Kind::Run,
        format!("run/{runbook}"),
        message,
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
    let started = Instant::now();
    let (result, detail) = match phase {
        Phase::Do | Phase::Rollback => {
            let (tx, mut rx) = mpsc::channel::<String>(256);
            let forward = {
                let (msgs, run_id) = (msgs.clone(), r.run_id.clone());
                tokio::spawn(async move {
                    while let Some(line) = rx.recv().await {
                        let _ = msgs
                            .send(Msg::Output {
                                run_id: run_id.clone(),
                                line,
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
