//! `wait = "writable"` on the real lab: the write check fails while site B is a replica (with
//! the server's words), passes once site B is promoted, and leaves nothing behind but a commit;
//! a read-only transaction and a COMMIT that waits for a synchronous standby do not count; the
//! dry run says what it would do.
// Needs the lab (`scripts/lab up`): run by `scripts/test`, which turns the feature on.
#![cfg(feature = "lab")]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::keys::*;
use common::*;
use crossterm::event::KeyCode;
use failover_console::actions::Action;
use failover_console::config;
use failover_console::engine::Engine;
use failover_core::actions::{ActionSpec, Outcome};
use failover_core::kinds::postgres::WriteCheck;
use failover_core::runbook::{Event, Phase, RunState, StepResult, StepStatus};
use failover_core::timeline::Entry;

/// After config.toml's two runbooks.
const WRITE_CHECK: usize = 2;

const RUNBOOK: &str = r#"
[[runbook]]
name = "write-check"
from = "primary"
to = "secondary"

[[runbook.step]]
title = "Site B takes writes"
wait = "writable"
database = "orders"
timeout = "3s"
"#;

/// The lab (`Lab::begin`) with RUNBOOK added to its config.
async fn begin() -> Lab {
    let mut lab = Lab::begin().await;
    let mut text = std::fs::read_to_string(&lab.config_path).expect("read the test config");
    text.push_str(RUNBOOK);
    std::fs::write(&lab.config_path, text).expect("write the test config");
    lab.config = Arc::new(config::load(&lab.config_path).expect("the test config loads"));
    assert_eq!(lab.config.runbooks[WRITE_CHECK].name, "write-check");
    lab
}

async fn driving(lab: &Lab) -> Engine {
    let mut engine = lab.engine().await;
    wait(&mut engine, "the driver lock and a normal lab", |m| {
        m.driver.token().is_some() && normal(m)
    })
    .await;
    engine
}

/// One value from psql on node `a` or `b` (as the lab's own tools ask: the world, not our code).
async fn psql(node: char, sql: &str) -> String {
    let port = match node {
        'a' => env_port("LAB_PG_PRIMARY_PORT", 54321),
        _ => env_port("LAB_PG_REPLICA_PORT", 54322),
    };
    let out = tokio::process::Command::new("/usr/lib/postgresql/15/bin/psql")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(["-U", "postgres", "-d", "postgres", "-Atc", sql])
        .output()
        .await
        .expect("run psql");
    assert!(
        out.status.success(),
        "psql {sql:?} on node {node}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// What the check could leave behind: relations (a table, a sequence...) and rows in user
/// tables.
const LEFT_BEHIND: &str = "SELECT (SELECT count(*) FROM pg_class) || ' ' || (SELECT coalesce(sum(n_live_tup + n_dead_tup), 0) FROM pg_stat_user_tables)";

fn run_events(entries: &[Entry]) -> Vec<Event> {
    entries
        .iter()
        .filter_map(|e| e.run.as_ref().map(|r| r.event.clone()))
        .collect()
}

/// Enter on step 0, then its outcome once it settles.
async fn run_step(engine: &mut Engine) -> (StepStatus, String) {
    key(engine, KeyCode::Enter).await;
    let ok = engine
        .run_until(Duration::from_secs(20), |m| {
            matches!(
                step_status(m, 0),
                Some(StepStatus::Ok | StepStatus::Failed | StepStatus::Unknown)
            ) && m.runs.in_flight.is_none()
        })
        .await;
    assert!(ok, "the write check did not end{}", run_dump(&engine.model));
    let step = &engine.model.runs.current.as_ref().expect("a run").steps[0];
    (step.status, step.detail.clone())
}

/// The xid in "... xid 1234 committed on orders/site B".
fn xid(detail: &str) -> String {
    detail
        .split("xid ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("no xid in {detail:?}"))
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writable_wait_fails_while_b_is_a_replica_and_passes_after_promotion() {
    let lab = begin().await;
    let mut engine = driving(&lab).await;
    arm(&mut engine, WRITE_CHECK, "secondary", "write check test").await;
    wait(&mut engine, "the run armed", |m| {
        m.runs.current.as_ref().is_some_and(|r| r.is_active())
    })
    .await;

    // Site B is a replica: every attempt is refused by the server, until the 3 s timeout.
    let started = Instant::now();
    let (status, detail) = run_step(&mut engine).await;
    let took = started.elapsed();
    eprintln!("replica: {status:?} in {took:?}: {detail}");
    assert_eq!(status, StepStatus::Failed, "{}", run_dump(&engine.model));
    assert!(
        detail.starts_with("site B still read-only after 3.")
            && detail.contains("cannot execute pg_current_xact_id() during recovery"),
        "the server's reason, with the site's label: {detail}"
    );
    assert!(
        took >= Duration::from_secs(3) && took < Duration::from_secs(8),
        "tried for its 3 s timeout: {took:?}"
    );
    let attempts: u32 = detail
        .split('(')
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no attempt count in {detail:?}"));
    assert!(
        (5..=8).contains(&attempts),
        "one attempt every 500 ms for 3 s: {attempts}"
    );

    // Promoted, site B takes the write at the next Enter.
    lab.run(&["promote", "b"]).await;
    assert_eq!(psql('b', "SELECT pg_is_in_recovery()").await, "f");
    let before = psql('b', LEFT_BEHIND).await;
    let lsn_before = psql('b', "SELECT pg_current_wal_lsn()").await;
    let started = Instant::now();
    let (status, detail) = run_step(&mut engine).await;
    eprintln!("primary: {status:?} in {:?}: {detail}", started.elapsed());
    assert_eq!(status, StepStatus::Ok, "{}", run_dump(&engine.model));
    assert!(
        detail.starts_with("site B took a write after ")
            && detail.contains("(1 attempt)")
            && detail.ends_with("committed on orders/site B"),
        "{detail}"
    );
    // A real commit, on site B, and nothing else.
    let xid = xid(&detail);
    assert_eq!(
        psql('b', &format!("SELECT pg_xact_status('{xid}'::xid8)")).await,
        "committed"
    );
    assert_eq!(
        psql('b', LEFT_BEHIND).await,
        before,
        "no relation or row left behind"
    );
    assert_eq!(
        psql(
            'b',
            &format!("SELECT pg_current_wal_lsn() > '{lsn_before}'::pg_lsn")
        )
        .await,
        "t",
        "the commit went through the WAL"
    );
    wait(&mut engine, "the run finished", |m| {
        m.runs
            .current
            .as_ref()
            .is_some_and(|r| r.state == RunState::Finished)
    })
    .await;
    engine.shutdown("test done").await;

    // The journal: each attempt started before it finished, the failure then the pass.
    let events = run_events(&lab.journal());
    let step_events: Vec<&Event> = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::StepStarted { step: 0, .. } | Event::StepFinished { step: 0, .. }
            )
        })
        .collect();
    assert!(
        matches!(
            step_events.as_slice(),
            [
                Event::StepStarted { phase: Phase::Do, .. },
                Event::StepFinished { result: StepResult::Failed, detail: failed, .. },
                Event::StepStarted { phase: Phase::Do, .. },
                Event::StepFinished { result: StepResult::Ok, detail: passed, .. },
            ] if failed.contains("during recovery") && passed.contains(&xid)
        ),
        "{step_events:#?}"
    );
    assert!(
        matches!(common::last_run_step(&events), Some(Event::Finished)),
        "{events:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_says_what_the_write_check_would_do_and_writes_nothing() {
    let lab = begin().await;
    let mut engine = driving(&lab).await;
    key(&mut engine, KeyCode::Char('r')).await;
    for _ in 0..WRITE_CHECK {
        key(&mut engine, KeyCode::Char('j')).await;
    }
    key(&mut engine, KeyCode::Enter).await;
    key(&mut engine, KeyCode::Char('D')).await;
    wait(&mut engine, "the dry run finished", |m| {
        m.runs
            .current
            .as_ref()
            .is_some_and(|r| r.dry_run && r.state == RunState::Finished)
    })
    .await;
    let detail = engine.model.runs.current.as_ref().unwrap().steps[0]
        .detail
        .clone();
    engine.shutdown("test done").await;
    assert_eq!(
        detail,
        "would block: not yet: orders/site B is in recovery (a replica): no write can commit there"
    );
    let events = run_events(&lab.journal());
    let dry = events
        .iter()
        .find_map(|e| match e {
            Event::DryRunStep { step: 0, would, .. } => Some(would.clone()),
            _ => None,
        })
        .expect("the step's dry-run entry");
    assert!(
        dry.starts_with("wait: a write transaction commits on orders/site B (host 127.0.0.1 port ")
            && dry.contains("up to 3s")
            && dry
                .contains("SELECT pg_current_xact_id(), current_setting('transaction_read_only')"),
        "{dry}"
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::StepStarted { .. })),
        "nothing started: {events:#?}"
    );
    assert_eq!(psql('b', "SELECT pg_is_in_recovery()").await, "t");
}

/// A write check on the member of `orders` at `site` (0: site A, 1: site B) as the config
/// makes it, with `extra` added to its DSN.
fn check(
    lab: &Lab,
    member: usize,
    extra: &str,
    timeout: Duration,
    attempt: Duration,
) -> WriteCheck {
    let db = &lab.config.kinds.postgres[0];
    let m = &db.members[member];
    let site = lab.config.sites.label(m.site).to_string();
    WriteCheck {
        member: format!("orders/{site}"),
        site,
        dsn: format!("{} {extra}", m.dsn),
        target: m.points_at.target.clone(),
        password_env: None,
        timeout,
        attempt_timeout: attempt,
    }
}

async fn execute(c: WriteCheck) -> (Outcome, Duration) {
    let started = Instant::now();
    let (tx, _rx) = tokio::sync::mpsc::channel(16);
    let outcome = ActionSpec::WriteCheck(Box::new(c)).execute(&tx).await;
    let took = started.elapsed();
    eprintln!("{outcome:?} in {took:?}");
    (outcome, took)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_transaction_does_not_count_and_a_primary_takes_the_write_at_once() {
    let lab = begin().await;
    let (outcome, _) = execute(check(
        &lab,
        NODE_A,
        "options='-c default_transaction_read_only=on'",
        Duration::from_secs(1),
        Duration::from_secs(1),
    ))
    .await;
    assert!(
        matches!(&outcome, Outcome::Failed(d) if d.starts_with("site A still read-only after 1.")
            && d.contains("transaction_read_only = on")),
        "{outcome:?}"
    );
    let (outcome, took) = execute(check(
        &lab,
        NODE_A,
        "",
        Duration::from_secs(5),
        Duration::from_secs(2),
    ))
    .await;
    assert!(
        matches!(&outcome, Outcome::Ok(d) if d.contains("(1 attempt)")),
        "{outcome:?}"
    );
    assert!(took < Duration::from_secs(2), "one attempt: {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_waiting_for_a_synchronous_standby_ends_the_attempt_and_is_cancelled() {
    let lab = begin().await;
    lab.run(&["promote", "b"]).await;
    // Site B, now a primary with no standby, waits for one at every commit. (`scripts/lab
    // reset` rebuilds node b from node a after a promotion, this setting with it.)
    psql('b', "ALTER SYSTEM SET synchronous_standby_names = 'nobody'").await;
    psql('b', "SELECT pg_reload_conf()").await;
    // A reload is asynchronous: new sessions see it once the postmaster has read the file.
    let deadline = Instant::now() + Duration::from_secs(5);
    while psql('b', "SHOW synchronous_standby_names").await != "nobody" {
        assert!(Instant::now() < deadline, "the reload was not seen");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (outcome, took) = execute(check(
        &lab,
        NODE_B,
        "",
        Duration::from_secs(2),
        Duration::from_secs(1),
    ))
    .await;
    let waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'";
    let mut left = psql('b', waiting).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while left != "0" && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        left = psql('b', waiting).await;
    }
    psql('b', "ALTER SYSTEM RESET synchronous_standby_names").await;
    psql('b', "SELECT pg_reload_conf()").await;
    assert!(
        matches!(&outcome, Outcome::Failed(d) if d.starts_with("site B took no write in ")
            && d.contains("COMMIT did not return within 1s on orders/site B (synchronous_standby_names = 'nobody'")
            && d.ends_with("; cancelled")),
        "{outcome:?}"
    );
    assert!(took < Duration::from_secs(5), "bounded: {took:?}");
    assert_eq!(left, "0", "no session is left waiting for a standby");
}
