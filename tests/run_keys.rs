//! The run keys no other test drives, by keys through the engine on the real lab: `a` aborts a
//! run, `R` rolls a DNS step back (the real server answers site A again), `B` breaks the file
//! lock of a live driver and a console whose lock was taken takes it back once it frees, and
//! the expected-primary guard refuses a promote when another member became primary after
//! arming. Each checks the model, the screen and the journal.
// Needs the lab (`scripts/lab up`): run by `scripts/test`, which turns the feature on.
#![cfg(feature = "lab")]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::keys::*;
use common::screen::render;
use common::*;
use crossterm::event::KeyCode;
use failover_console::config;
use failover_console::engine::{Engine, Live};
use failover_core::app::model::{Driver, Overlay};
use failover_core::kinds::postgres::Role;
use failover_core::runbook::{Event, Phase, RunState, StepResult, StepStatus};
use failover_core::theme::{Theme, View};
use failover_core::timeline::{DriverMark, Entry};

const FAILOVER: usize = 0;
/// The runbook this file appends after config.toml's two.
const EXTRA: usize = 2;

fn view() -> View {
    View {
        theme: Theme::mono(),
        ascii: true,
    }
}

fn run_events(entries: &[Entry]) -> Vec<Event> {
    entries
        .iter()
        .filter_map(|e| e.run.as_ref().map(|r| r.event.clone()))
        .collect()
}

fn flash(engine: &Engine) -> String {
    engine
        .model
        .ui
        .flash
        .clone()
        .map(|f| f.0)
        .unwrap_or_default()
}

/// The screen with runs of spaces squeezed to one.
fn screen(engine: &Engine) -> String {
    render(&engine.model, 160, 48)
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

async fn start(lab: &Lab, operator: &str) -> Engine {
    Engine::<Live>::start(lab.config.clone(), operator.into(), view())
        .await
        .expect("engine starts")
}

/// The lab's test config with `extra` appended (its ports mapped to the lab's), reloaded.
fn with_extra(lab: &mut Lab, extra: &str) {
    let mut text = std::fs::read_to_string(&lab.config_path).expect("read the test config");
    text.push_str(&remap_ports(extra, &port_map()));
    std::fs::write(&lab.config_path, text).expect("write the test config");
    lab.config =
        Arc::new(config::load(&lab.config_path).unwrap_or_else(|e| panic!("test config: {e}")));
}

async fn dig(port: u16) -> String {
    let out = tokio::process::Command::new("dig")
        .args([
            "+short",
            "@127.0.0.1",
            "-p",
            &port.to_string(),
            "api.failover.test.",
            "A",
        ])
        .output()
        .await
        .expect("run dig");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

async fn wait_armed(engine: &mut Engine) {
    wait(engine, "the run armed", |m| {
        m.runs
            .current
            .as_ref()
            .is_some_and(|r| r.is_active() && !r.dry_run)
    })
    .await;
}

// -------------------------------------------------------------------------------------------------
// a: abort
// -------------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abort_by_keys_ends_the_run_with_its_reason_and_nothing_starts_after() {
    let lab = Lab::begin().await;
    let mut engine = lab.engine().await;
    wait(&mut engine, "the driver lock and a normal lab", |m| {
        m.driver.token().is_some() && normal(m)
    })
    .await;
    arm(&mut engine, FAILOVER, "secondary", "abort test").await;
    wait_armed(&mut engine).await;
    do_step(&mut engine, 0).await;

    // A wrong word aborts nothing.
    key(&mut engine, KeyCode::Char('a')).await;
    type_line(&mut engine, "abrot").await;
    assert!(
        engine
            .model
            .runs
            .current
            .as_ref()
            .is_some_and(|r| r.is_active()),
        "a wrong word must not abort{}",
        run_dump(&engine.model)
    );
    assert!(
        flash(&engine).contains("not confirmed"),
        "{}",
        flash(&engine)
    );
    // The word, then the reason.
    key(&mut engine, KeyCode::Char('a')).await;
    type_line(&mut engine, "abort").await;
    type_line(&mut engine, "site A recovered by itself").await;
    wait(&mut engine, "the run aborted", |m| {
        m.runs
            .current
            .as_ref()
            .is_some_and(|r| r.state == RunState::Aborted("site A recovered by itself".into()))
    })
    .await;
    let text = screen(&engine);
    assert!(
        text.contains("ABORTED: site A recovered by itself"),
        "the run pane says so:\n{text}"
    );
    // Enter on the aborted run starts nothing.
    key(&mut engine, KeyCode::Enter).await;
    engine
        .run_until(Duration::from_millis(800), |_| false)
        .await;
    assert_eq!(step_status(&engine.model, 1), Some(StepStatus::Pending));
    assert!(engine.model.runs.in_flight.is_none());
    engine.shutdown("test done").await;

    let entries = lab.journal();
    let events = run_events(&entries);
    assert_eq!(
        events
            .iter()
            .filter(
                |e| matches!(e, Event::Aborted { reason } if reason == "site A recovered by itself")
            )
            .count(),
        1,
        "{events:#?}"
    );
    assert!(
        matches!(events.last(), Some(Event::Aborted { .. })),
        "nothing after the abort: {events:#?}"
    );
    assert!(
        entries
            .iter()
            .any(|e| e.message == "run ABORTED: site A recovered by itself"
                && e.operator.as_deref() == Some("lab-test")),
        "{}",
        journal_text(&entries)
    );
}

// -------------------------------------------------------------------------------------------------
// R: roll back a DNS update on the real server
// -------------------------------------------------------------------------------------------------

/// A DNS update with its rollback on the main server, then a manual step.
const DNS_RUNBOOK: &str = r#"
[[runbook]]
name = "dns-only"
description = "Point api at site B, with a rollback"
from = "primary"
to = "secondary"

[[runbook.step]]
title = "Point api at site B"
action = "dns"
record = "api.failover.test."
server = "127.0.0.1:5353"
ttl = 60
tsig-key-name = "failover-key"
tsig-secret-env = "FAILOVER_TSIG_SECRET"
rollback = { action = "dns", record = "api.failover.test.", server = "127.0.0.1:5353", ttl = 60, tsig-key-name = "failover-key", tsig-secret-env = "FAILOVER_TSIG_SECRET" }

[[runbook.step]]
title = "Tell the teams"
manual = "Post in #incident"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_by_keys_points_the_record_back_at_site_a() {
    assert!(
        std::env::var("FAILOVER_TSIG_SECRET").is_ok(),
        "FAILOVER_TSIG_SECRET is not set: run with scripts/test (it exports `scripts/lab env`)"
    );
    let mut lab = Lab::begin().await;
    with_extra(&mut lab, DNS_RUNBOOK);
    let dns = env_port("LAB_DNS_PORT", 5353);
    let mut engine = lab.engine().await;
    wait(&mut engine, "the driver lock and a normal lab", |m| {
        m.driver.token().is_some() && normal(m)
    })
    .await;
    arm(&mut engine, EXTRA, "secondary", "rollback test").await;
    wait_armed(&mut engine).await;
    do_step(&mut engine, 0).await;
    assert_eq!(
        dig(dns).await,
        IP_SECONDARY,
        "the update reached the server"
    );

    // R, a wrong word: nothing; R, the word: the rollback runs.
    key(&mut engine, KeyCode::Char('R')).await;
    type_line(&mut engine, "undo").await;
    assert!(engine.model.runs.in_flight.is_none(), "nothing started");
    key(&mut engine, KeyCode::Char('R')).await;
    assert!(
        matches!(&engine.model.ui.overlay, Overlay::Prompt(p) if format!("{:?}", p.purpose).contains("RollbackWord")),
        "R asks for the word{}",
        run_dump(&engine.model)
    );
    type_line(&mut engine, "rollback").await;
    wait(&mut engine, "the rollback done", |m| {
        m.runs
            .current
            .as_ref()
            .is_some_and(|r| matches!(&r.steps[0].rollback, Some((StepStatus::Ok, _))))
            && m.runs.in_flight.is_none()
    })
    .await;
    assert_eq!(
        dig(dns).await,
        IP_PRIMARY,
        "the server answers site A again"
    );
    // Nothing left to roll back: R says so and starts nothing.
    key(&mut engine, KeyCode::Char('R')).await;
    assert!(
        matches!(engine.model.ui.overlay, Overlay::None),
        "a second rollback is not offered{}",
        run_dump(&engine.model)
    );
    engine.shutdown("test done").await;

    let entries = lab.journal();
    let events = run_events(&entries);
    let at = |want: fn(&Event) -> bool| events.iter().position(want);
    let started = at(|e| {
        matches!(
            e,
            Event::StepStarted {
                step: 0,
                phase: Phase::Rollback
            }
        )
    })
    .unwrap_or_else(|| panic!("no rollback start: {events:#?}"));
    let finished = at(|e| {
        matches!(
            e,
            Event::StepFinished {
                step: 0,
                phase: Phase::Rollback,
                result: StepResult::Ok,
                ..
            }
        )
    })
    .unwrap_or_else(|| panic!("no rollback outcome: {events:#?}"));
    assert!(started < finished, "journaled before it ran: {events:#?}");
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(
                e,
                Event::StepStarted {
                    phase: Phase::Rollback,
                    ..
                }
            ))
            .count(),
        1,
        "one rollback: {events:#?}"
    );
    let rollback_start = entries
        .iter()
        .find(|e| {
            matches!(
                e.run.as_ref().map(|r| &r.event),
                Some(Event::StepStarted {
                    step: 0,
                    phase: Phase::Rollback
                })
            )
        })
        .expect("the rollback's start");
    assert_eq!(
        rollback_start.message,
        format!(
            "step 1 \"Point api at site B\" rollback started: rollback: server 127.0.0.1 {dns}"
        )
    );
    assert_eq!(rollback_start.operator.as_deref(), Some("lab-test"));
}

// -------------------------------------------------------------------------------------------------
// B: break the file lock; the freed lock taken over
// -------------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn break_lock_by_keys_and_the_broken_console_takes_the_lock_once_it_frees() {
    let lab = Lab::begin().await;
    let mut alice = start(&lab, "alice").await;
    wait(&mut alice, "alice drives, and a normal lab", |m| {
        m.driver.token().is_some() && normal(m)
    })
    .await;
    let alice_token = alice.model.driver.token().map(|t| t.value()).unwrap();
    let mut bob = start(&lab, "bob").await;
    wait(
        &mut bob,
        "bob sees alice drive",
        |m| matches!(&m.driver, Driver::LockHeld(info) if info.operator == "alice"),
    )
    .await;
    assert!(
        screen(&bob).contains("WATCH: alice drives"),
        "{}",
        screen(&bob)
    );
    arm(&mut alice, FAILOVER, "secondary", "lock test").await;
    wait_armed(&mut alice).await;
    do_step(&mut alice, 0).await;

    // B on the driver itself does nothing.
    key(&mut alice, KeyCode::Char('B')).await;
    assert!(
        flash(&alice).contains("already drives"),
        "{}",
        flash(&alice)
    );
    // Bob: B, a wrong word, nothing; B, the word, a reason: bob drives, alice does not.
    key(&mut bob, KeyCode::Char('B')).await;
    type_line(&mut bob, "brake").await;
    assert!(
        bob.model.driver.token().is_none(),
        "a wrong word breaks nothing"
    );
    key(&mut bob, KeyCode::Char('B')).await;
    type_line(&mut bob, "break").await;
    type_line(&mut bob, "alice's terminal froze").await;
    wait(&mut bob, "bob drives", |m| m.driver.token().is_some()).await;
    let bob_token = bob.model.driver.token().map(|t| t.value()).unwrap();
    assert!(bob_token > alice_token, "the next generation");
    wait(&mut alice, "alice knows she lost the lock", |m| {
        m.driver.token().is_none()
    })
    .await;
    // Alice's keys now say who drives; bob follows her run and goes on with it.
    wait(
        &mut alice,
        "alice sees bob drive",
        |m| matches!(&m.driver, Driver::LockHeld(info) if info.operator == "bob"),
    )
    .await;
    key(&mut alice, KeyCode::Enter).await;
    assert!(flash(&alice).contains("bob"), "{}", flash(&alice));
    wait(&mut bob, "bob has alice's run", |m| {
        step_status(m, 0) == Some(StepStatus::Ok)
    })
    .await;
    wait(&mut bob, "bob's own checks healthy", normal).await;
    key(&mut bob, KeyCode::Enter).await;
    let said = flash(&bob);
    wait(
        &mut bob,
        &format!("bob passes the second gate (Enter said: {said:?})"),
        |m| step_status(m, 1) == Some(StepStatus::Ok),
    )
    .await;

    // Bob stops: his stop releases the lock, and alice, watching, takes it.
    bob.shutdown("test done").await;
    wait(&mut alice, "alice takes the freed lock", |m| {
        m.driver.token().is_some()
    })
    .await;
    let taken = alice.model.driver.token().map(|t| t.value()).unwrap();
    assert!(taken > bob_token, "a generation after bob's");
    wait(&mut alice, "alice has bob's step", |m| {
        step_status(m, 1) == Some(StepStatus::Ok)
    })
    .await;
    assert!(
        screen(&alice).contains("LIVE"),
        "alice drives again:\n{}",
        screen(&alice)
    );
    alice.shutdown("test done").await;

    let entries = lab.journal();
    let text = journal_text(&entries);
    let position = |what: &str, f: &dyn Fn(&Entry) -> bool| {
        entries
            .iter()
            .position(f)
            .unwrap_or_else(|| panic!("no {what} in the journal:\n{text}"))
    };
    let broken = position("break", &|e| {
        e.message.starts_with("driver lock BROKEN by bob (held by ")
            && e.message.ends_with(": alice's terminal froze")
            && matches!(&e.driver, Some(DriverMark::Took(info)) if info.token == bob_token)
    });
    let bob_gate = position("bob's gate", &|e| {
        matches!(
            e.run.as_ref().map(|r| &r.event),
            Some(Event::GatePassed { step: 1, .. })
        ) && e.operator.as_deref() == Some("bob")
            && e.token == Some(bob_token)
    });
    let bob_stop = position("bob's stop", &|e| {
        e.operator.as_deref() == Some("bob")
            && e.message == "stopped: test done"
            && matches!(&e.driver, Some(DriverMark::Released { token, .. }) if *token == bob_token)
    });
    let taken_at = position("alice's take-over", &|e| {
        e.message.starts_with("driver lock taken by alice")
            && matches!(&e.driver, Some(DriverMark::Took(info)) if info.token == taken)
    });
    assert!(
        broken < bob_gate && bob_gate < bob_stop && bob_stop < taken_at,
        "break, bob's step, bob's stop, alice's take-over, in that order:\n{text}"
    );
    assert_eq!(
        run_events(&entries)
            .iter()
            .filter(|e| matches!(e, Event::Armed { .. }))
            .count(),
        1,
        "one run, carried across the three drivers:\n{text}"
    );
}

// -------------------------------------------------------------------------------------------------
// The expected-primary guard: another member became primary after arming
// -------------------------------------------------------------------------------------------------

/// A runbook that only promotes site B (the test adds a third member to "orders": the
/// Patroni pair's p2, a replica of p1 while the lab is normal, at a third site).
const PROMOTE_ONLY: &str = r#"
[[runbook]]
name = "promote-only"
description = "Promote site B"
from = "primary"
to = "secondary"

[[runbook.step]]
title = "Promote site B"
action = "promote"
database = "orders"
"#;

async fn patroni_switchover_behind_the_consoles_back(leader: &str, candidate: &str) {
    let port = env_port("LAB_PATRONI_API1_PORT", 18008);
    let url = format!("http://127.0.0.1:{port}/switchover");
    let reply = reqwest::Client::new()
        .post(&url)
        .json(&serde_json::json!({ "leader": leader, "candidate": candidate }))
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    let status = reply.status();
    let body = reply.text().await.unwrap_or_default();
    assert_eq!(status.as_u16(), 200, "POST {url}: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promote_is_refused_when_another_member_became_primary_after_arming() {
    let mut lab = Lab::begin().await;
    // The third member, at a third site, added to the config's [[database]] as a table.
    let text = std::fs::read_to_string(&lab.config_path).expect("config");
    let mut table: toml::Table = text.parse().expect("config parses");
    let mut site = toml::Table::new();
    site.insert("label".into(), "site C".into());
    table
        .get_mut("sites")
        .and_then(|s| s.as_table_mut())
        .expect("[sites]")
        .insert("third".into(), toml::Value::Table(site));
    let db = table
        .get_mut("database")
        .and_then(|d| d.as_array_mut())
        .and_then(|d| d.first_mut())
        .and_then(|d| d.as_table_mut())
        .expect("[[database]]");
    let mut third = toml::Table::new();
    third.insert("name".into(), "patroni-p2".into());
    third.insert("site".into(), "third".into());
    third.insert(
        "dsn".into(),
        format!(
            "host=127.0.0.1 port={} user=postgres dbname=postgres",
            env_port("LAB_PATRONI_PG2_PORT", 54332)
        )
        .into(),
    );
    db.get_mut("member")
        .and_then(|m| m.as_array_mut())
        .expect("[[database.member]]")
        .push(toml::Value::Table(third));
    std::fs::write(&lab.config_path, toml::to_string(&table).unwrap()).unwrap();
    with_extra(&mut lab, PROMOTE_ONLY);
    const THIRD: usize = 2;

    let mut engine = lab.engine().await;
    wait(
        &mut engine,
        "the lock, a normal lab and the third member a replica",
        |m| {
            m.driver.token().is_some()
                && normal(m)
                && m.kinds.postgres[0].members[THIRD].role == Role::Replica
        },
    )
    .await;
    arm(&mut engine, EXTRA, "secondary", "guard test").await;
    wait_armed(&mut engine).await;
    let armed = lab.journal();
    assert!(
        armed
            .iter()
            .any(|e| e.message.contains("(primary at arming: orders: site A)")),
        "{}",
        journal_text(&armed)
    );

    // Behind the console's back, p2 (the third member) becomes a primary.
    patroni_switchover_behind_the_consoles_back("p1", "p2").await;
    wait(&mut engine, "the third member seen as primary", |m| {
        m.kinds.postgres[0].members[THIRD].role == Role::Primary
    })
    .await;
    assert_eq!(
        engine.model.kinds.postgres[0].members[NODE_B].role,
        Role::Replica,
        "site B is still a replica: only the primary guard can refuse"
    );
    key(&mut engine, KeyCode::Enter).await;
    let want = "the primary changed since arming: was site A, now patroni-p2";
    wait(&mut engine, "the promote refused", |m| {
        m.runs
            .current
            .as_ref()
            .is_some_and(|r| r.steps[0].detail.starts_with("refused"))
    })
    .await;
    let detail = engine.model.runs.current.as_ref().unwrap().steps[0]
        .detail
        .clone();
    assert!(detail.contains(want), "{detail}{}", run_dump(&engine.model));
    assert_eq!(step_status(&engine.model, 0), Some(StepStatus::Pending));
    assert!(engine.model.runs.in_flight.is_none());
    assert!(flash(&engine).contains(want), "{}", flash(&engine));
    assert!(screen(&engine).contains(want), "{}", screen(&engine));
    engine.shutdown("test done").await;

    let entries = lab.journal();
    let events = run_events(&entries);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::StepRefused { step: 0, reason } if reason == want)),
        "{events:#?}"
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::StepStarted { .. })),
        "nothing started: {events:#?}"
    );
    assert!(
        journal_text(&entries).contains(&format!("step 1 \"Promote site B\" refused: {want}")),
        "{}",
        journal_text(&entries)
    );
}
