//! The engine stopped during a step, without a terminal or the lab: the step is waited for (its
//! command runs its full time), its outcome journaled, then `stopped: <why>`.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::keys::{arm, key, run_dump};
use crossterm::event::KeyCode;
use failover_console::engine::{Engine, Live};
use failover_console::journal;
use failover_core::runbook::{Event, Phase, StepResult};
use failover_core::theme::{Theme, View};
use failover_core::timeline::Kind;

/// A console with one source (a port nothing listens on) and a runbook whose step runs `secs`.
fn config(dir: &std::path::Path, secs: u64) -> std::path::PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!(
            r#"
[console]
title = "stop test"
journal = "journal.jsonl"

[sites.primary]
label = "site A"
[sites.secondary]
label = "site B"

[[health]]
name = "nothing"
site = "primary"
tcp = "127.0.0.1:9"
interval = "1s"
timeout = "200ms"

[[runbook]]
name = "slow"
description = "One slow command"
from = "primary"
to = "secondary"

[[runbook.step]]
title = "Slow command"
action = "exec"
command = ["sleep", "{secs}"]
timeout = "30s"
"#
        ),
    )
    .expect("write the config");
    path
}

#[tokio::test]
async fn a_stop_waits_for_the_step_in_flight_then_journals_its_outcome_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = config(dir.path(), 2);
    let config = Arc::new(failover_console::config::load(&path).expect("config loads"));
    let view = View {
        theme: Theme::mono(),
        ascii: true,
    };
    let mut engine = Engine::<Live>::start(config.clone(), "stop-test".into(), view)
        .await
        .expect("engine starts");
    let driving = engine
        .run_until(Duration::from_secs(5), |m| m.driver.token().is_some())
        .await;
    assert!(driving, "the console drives{}", run_dump(&engine.model));
    arm(&mut engine, 0, "secondary", "stop test").await;
    // Armed once the journal has it.
    let armed = engine
        .run_until(Duration::from_secs(5), |m| {
            m.runs.current.as_ref().is_some_and(|r| r.is_active())
        })
        .await;
    assert!(armed, "the run is armed{}", run_dump(&engine.model));
    key(&mut engine, KeyCode::Enter).await;
    let running = engine
        .run_until(Duration::from_secs(5), |m| m.runs.in_flight.is_some())
        .await;
    assert!(running, "the step runs{}", run_dump(&engine.model));
    assert_eq!(engine.in_flight().current().len(), 1);

    let stopping = Instant::now();
    engine.shutdown("SIGTERM").await;
    let waited = stopping.elapsed();

    let (entries, _) = journal::read_all(&config.journal).expect("journal");
    let text: String = entries.iter().map(|e| format!("{}\n", e.message)).collect();
    let outcome = entries
        .iter()
        .position(|e| {
            matches!(
                e.run.as_ref().map(|r| &r.event),
                Some(Event::StepFinished {
                    step: 0,
                    phase: Phase::Do,
                    result: StepResult::Ok,
                    ..
                })
            )
        })
        .unwrap_or_else(|| panic!("the step's outcome is journaled:\n{text}"));
    let last = entries.last().expect("entries");
    assert_eq!(
        (last.kind, last.message.as_str()),
        (Kind::Console, "stopped: SIGTERM"),
        "{text}"
    );
    assert!(outcome < entries.len() - 1, "{text}");
    assert!(
        waited >= Duration::from_millis(1500) && waited < Duration::from_secs(10),
        "the stop waited for the command ({waited:?})"
    );
    // The lock is free for the next console.
    assert!(matches!(
        failover_console::lock::acquire(
            &config.journal,
            &failover_console::lock::Claimant {
                operator: "next".into(),
                console: "next:1".into(),
            }
        )
        .expect("lock"),
        failover_console::lock::Acquired::Driving(..)
    ));
}

/// A driver that stops after its step: a second live console on the same journal reads the
/// step's outcome and the stop before it takes the lock, so the outcome counts and nothing is
/// resumed or read back. (It used to take the lock first, then call the outcome a stranger's.)
#[tokio::test]
async fn the_next_driver_reads_the_last_outcome_before_taking_the_lock() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = config(dir.path(), 2);
    let config = Arc::new(failover_console::config::load(&path).expect("config loads"));
    let view = || View {
        theme: Theme::mono(),
        ascii: true,
    };
    let mut alice = Engine::<Live>::start(config.clone(), "alice".into(), view())
        .await
        .expect("alice starts");
    assert!(
        alice
            .run_until(Duration::from_secs(5), |m| m.driver.token().is_some())
            .await
    );
    let mut bob = Engine::<Live>::start(config.clone(), "bob".into(), view())
        .await
        .expect("bob starts");
    arm(&mut alice, 0, "secondary", "handover").await;
    assert!(
        alice
            .run_until(Duration::from_secs(5), |m| {
                m.runs.current.as_ref().is_some_and(|r| r.is_active())
            })
            .await
    );
    key(&mut alice, KeyCode::Enter).await;
    assert!(
        alice
            .run_until(Duration::from_secs(5), |m| m.runs.in_flight.is_some())
            .await
    );
    // Alice stops: the step is waited for, its outcome and the stop written within a moment.
    alice.shutdown("operator quit").await;
    let took = bob
        .run_until(Duration::from_secs(10), |m| m.driver.token().is_some())
        .await;
    assert!(took, "bob takes the lock{}", run_dump(&bob.model));
    let _ = bob.run_until(Duration::from_secs(2), |_| false).await;
    let (entries, _) = journal::read_all(&config.journal).expect("journal");
    let text: String = entries.iter().map(|e| format!("{}\n", e.message)).collect();
    assert!(
        !text.contains("ignored: not the driver") && !text.contains("resumed"),
        "{text}"
    );
    assert_eq!(
        bob.model.runs.current.as_ref().map(|r| r.steps[0].status),
        Some(failover_core::runbook::StepStatus::Ok),
        "{text}"
    );
    bob.shutdown("test").await;
}
