//! `wait = "writable"` in the pure model: the config resolves it to the member's write check,
//! Enter hands it to the executor (which journals its start and outcome; the reducer never
//! judges it), it runs again after a failure or an interruption, and the dry run asks the
//! executor to check it without writing.

#[path = "common/fixture.rs"]
mod fixture;
#[path = "common/screen.rs"]
mod screen;

use std::path::Path;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use failover_core::actions::ActionSpec;
use failover_core::app::driver::DriverToken;
use failover_core::app::model::Driver;
use failover_core::app::runs::ExecRequest;
use failover_core::app::{Effect, Mode, Model, Msg, update};
use failover_core::kinds::postgres::WriteCheck;
use failover_core::runbook::{Event, Phase, StepKind, StepResult, StepStatus, Wait, plan};
use fixture::{records, run_entry};
use time::OffsetDateTime;
use time::macros::datetime;

const CONFIG: &str = r#"
[sites.primary]
label = "site A"
[sites.secondary]
label = "site B"

[[database]]
name = "orders"
kind = "postgres"
timeout = "1500ms"
[[database.member]]
site = "primary"
dsn = "host=127.0.0.1 port=54321 user=postgres"
[[database.member]]
site = "secondary"
dsn = "host=127.0.0.1 port=54322 user=postgres"

[[runbook]]
name = "failover"
from = "primary"
to = "secondary"

[[runbook.step]]
title = "Site B takes writes"
wait = "writable"
database = "orders"
timeout = "5s"

[[runbook.step]]
title = "Site A still takes writes"
wait = "writable"
database = "orders"
site = "primary"
"#;

const T0: OffsetDateTime = datetime!(2026-03-01 12:00:00 UTC);

fn model() -> Model {
    fixture::model(CONFIG, Mode::Live, "alice@ops", fixture::dark(false), T0)
}

fn settle(m: &mut Model, msg: Msg) -> Vec<Effect> {
    let effects = update(m, msg);
    let mut pending = records(&effects);
    while !pending.is_empty() {
        let entry = pending.remove(0);
        pending.extend(records(&update(m, Msg::Journaled { entry, error: None })));
    }
    effects
}

fn hit(m: &mut Model, code: KeyCode) -> Vec<Effect> {
    settle(m, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn type_line(m: &mut Model, text: &str) {
    for c in text.chars() {
        hit(m, KeyCode::Char(c));
    }
    hit(m, KeyCode::Enter);
}

/// Driving, the runbook's plan open.
fn plan_open() -> Model {
    let mut m = model();
    settle(&mut m, Msg::Driver(Driver::Driving(DriverToken::held(1))));
    hit(&mut m, KeyCode::Char('r'));
    hit(&mut m, KeyCode::Enter);
    assert_eq!(m.runs.plan, Some(0), "{:?}", m.ui.flash);
    m
}

fn armed() -> Model {
    let mut m = plan_open();
    hit(&mut m, KeyCode::Enter);
    type_line(&mut m, "secondary");
    type_line(&mut m, "drill");
    assert!(m.runs.current.as_ref().is_some_and(|r| r.is_active()));
    m
}

/// The executor's side: `event` journaled.
fn executor(m: &mut Model, secs: i64, event: Event) {
    let id = m.runs.current.as_ref().expect("a run").id.clone();
    let entry = run_entry(T0 + time::Duration::seconds(secs), &id, "alice@ops", event);
    settle(m, Msg::Journaled { entry, error: None });
}

fn requests(effects: &[Effect]) -> Vec<ExecRequest> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Execute(r) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

fn status(m: &Model, step: usize) -> StepStatus {
    m.runs.current.as_ref().unwrap().steps[step].status
}

fn check(m: &Model, step: usize) -> WriteCheck {
    match &m.config.runbooks[0].steps[step].kind {
        StepKind::Wait(Wait::Writable { check, .. }) => (**check).clone(),
        other => panic!("not a writable wait: {other:?}"),
    }
}

#[test]
fn the_config_resolves_the_member_at_the_site_with_its_timeouts() {
    let m = model();
    let (to_b, to_a) = (check(&m, 0), check(&m, 1));
    assert_eq!(
        (to_b.site.as_str(), to_b.member.as_str()),
        ("site B", "orders/site B")
    );
    assert_eq!(to_b.dsn, "host=127.0.0.1 port=54322 user=postgres");
    assert_eq!(
        (to_b.timeout, to_b.attempt_timeout),
        (Duration::from_secs(5), Duration::from_millis(1500)),
        "each attempt bounded by the database's timeout"
    );
    // `site` over the runbook's `to`; the default timeout is 60 s.
    assert_eq!(to_a.member, "orders/site A");
    assert_eq!(to_a.timeout, Duration::from_secs(60));
    assert!(matches!(
        m.config.runbooks[0].steps[1].kind,
        StepKind::Wait(Wait::Writable {
            db: 0,
            member: 0,
            site: 0,
            ..
        })
    ));
    let lines = plan::describe_kind(
        &m.config.sites,
        &m.config.kinds,
        None,
        &m.config.runbooks[0].steps[0].kind,
    );
    assert_eq!(
        lines,
        [
            "wait: a write transaction commits on orders/site B (host 127.0.0.1 port 54322 user postgres), up to 5s",
            "every 500ms, each attempt up to 1s 500ms: BEGIN; SELECT pg_current_xact_id(), current_setting('transaction_read_only')  -- must be off; SELECT pg_logical_emit_message(true, 'failover-console', 'write check'); COMMIT; SELECT pg_xact_status(xid)  -- must be committed",
        ]
    );
    // The same config with a short step timeout: attempts no longer than the step.
    let short = CONFIG.replace("timeout = \"5s\"", "timeout = \"1s\"");
    let config = failover_console::config::from_str(&short, Path::new("t.toml")).unwrap();
    let StepKind::Wait(Wait::Writable { check, .. }) = &config.runbooks[0].steps[0].kind else {
        panic!("not a writable wait");
    };
    assert_eq!(check.attempt_timeout, Duration::from_secs(1));
}

#[test]
fn enter_hands_the_write_check_to_the_executor_which_alone_ends_it() {
    let mut m = armed();
    let effects = hit(&mut m, KeyCode::Enter);
    let asked = requests(&effects);
    assert_eq!(asked.len(), 1, "{effects:?}");
    assert_eq!(
        (asked[0].step, asked[0].phase, &asked[0].spec),
        (
            0,
            Phase::Do,
            &ActionSpec::WriteCheck(Box::new(check(&m, 0)))
        )
    );
    assert!(
        records(&effects).is_empty(),
        "the executor journals the start, not the reducer: {effects:?}"
    );
    assert_eq!(m.runs.in_flight, Some(0));
    executor(
        &mut m,
        1,
        Event::StepStarted {
            step: 0,
            phase: Phase::Do,
        },
    );
    assert_eq!(status(&m, 0), StepStatus::Running);
    // Past its timeout, still the executor's to end: the reducer records nothing.
    let late = records(&settle(&mut m, Msg::Tick(T0 + time::Duration::seconds(30))));
    assert!(late.iter().all(|e| e.run.is_none()), "{late:?}");
    assert_eq!(status(&m, 0), StepStatus::Running);
    // Enter while it runs does nothing.
    assert!(requests(&hit(&mut m, KeyCode::Enter)).is_empty());

    let read_only = "site B still read-only after 5.0 s (10 attempts): ERROR: cannot execute pg_current_xact_id() during recovery";
    executor(
        &mut m,
        6,
        Event::StepFinished {
            step: 0,
            phase: Phase::Do,
            result: StepResult::Failed,
            detail: read_only.into(),
            elapsed_ms: 5000,
        },
    );
    let step = &m.runs.current.as_ref().unwrap().steps[0];
    assert_eq!(
        (step.status, step.detail.as_str()),
        (StepStatus::Failed, read_only)
    );
    assert_eq!(m.runs.in_flight, None);

    // Failed: Enter runs it again.
    let again = requests(&hit(&mut m, KeyCode::Enter));
    assert_eq!(again.len(), 1);
    executor(
        &mut m,
        40,
        Event::StepStarted {
            step: 0,
            phase: Phase::Do,
        },
    );
    executor(
        &mut m,
        41,
        Event::StepFinished {
            step: 0,
            phase: Phase::Do,
            result: StepResult::Ok,
            detail:
                "site B took a write after 0.0 s (1 attempt): xid 750 committed on orders/site B"
                    .into(),
            elapsed_ms: 20,
        },
    );
    assert_eq!(status(&m, 0), StepStatus::Ok);
    assert_eq!(m.runs.current.as_ref().unwrap().cursor(), Some(1));
}

#[test]
fn an_interrupted_write_check_simply_runs_again() {
    let mut m = armed();
    hit(&mut m, KeyCode::Enter);
    executor(
        &mut m,
        1,
        Event::StepStarted {
            step: 0,
            phase: Phase::Do,
        },
    );
    // The console stopped while it ran; a new one resumes the run.
    executor(
        &mut m,
        9,
        Event::Resumed {
            interrupted: vec![0],
        },
    );
    settle(&mut m, Msg::Tick(T0 + time::Duration::seconds(90)));
    assert_eq!(status(&m, 0), StepStatus::Unknown);
    m.runs.in_flight = None;
    let effects = hit(&mut m, KeyCode::Enter);
    assert_eq!(
        requests(&effects).len(),
        1,
        "no read-back first: the check changes nothing ({:?})",
        m.ui.flash
    );
}

#[test]
fn the_dry_run_asks_the_executor_to_check_without_writing() {
    let mut m = plan_open();
    let effects = hit(&mut m, KeyCode::Char('D'));
    let actions = effects
        .iter()
        .find_map(|e| match e {
            Effect::DryRun { actions, .. } => Some(actions.clone()),
            _ => None,
        })
        .expect("a dry run for the executor");
    assert_eq!(
        actions,
        [
            (
                0,
                "Site B takes writes".to_string(),
                ActionSpec::WriteCheck(Box::new(check(&m, 0)))
            ),
            (
                1,
                "Site A still takes writes".to_string(),
                ActionSpec::WriteCheck(Box::new(check(&m, 1)))
            ),
        ]
    );
    assert!(requests(&effects).is_empty(), "nothing executed");
}

#[test]
fn the_example_runbook_ends_with_the_write_check() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/write-check.toml");
    let config = failover_console::config::load(&path).expect("examples/write-check.toml loads");
    let steps = &config.runbooks[0].steps;
    assert!(
        matches!(
            &steps.last().expect("steps").kind,
            StepKind::Wait(Wait::Writable { check, .. }) if check.member == "orders/site B"
                && check.timeout == Duration::from_secs(60)
                && check.attempt_timeout == Duration::from_secs(2)
        ),
        "{steps:#?}"
    );
}

#[test]
fn the_run_pane_shows_the_plan_the_live_hint_and_the_outcome() {
    let mut m = armed();
    fixture::snapshot_both!("writable_next", &m);
    hit(&mut m, KeyCode::Enter);
    executor(
        &mut m,
        1,
        Event::StepStarted {
            step: 0,
            phase: Phase::Do,
        },
    );
    executor(
        &mut m,
        6,
        Event::StepFinished {
            step: 0,
            phase: Phase::Do,
            result: StepResult::Failed,
            detail: "site B still read-only after 5.0 s (11 attempts): ERROR: cannot execute pg_current_xact_id() during recovery".into(),
            elapsed_ms: 5000,
        },
    );
    fixture::snapshot_both!("writable_failed", &m);
}
