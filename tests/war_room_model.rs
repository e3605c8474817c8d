//! The war room's rules in the pure model: who records edges, whose run events count, what a
//! takeover may retry, and what an unreachable shared record stops. No I/O, fixed clocks.

#[path = "common/fixture.rs"]
mod fixture;
#[path = "common/screen.rs"]
mod screen;

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use failover_core::app::driver::DriverToken;
use failover_core::app::model::{Driver, Shared};
use failover_core::app::{Effect, Mode, Model, Msg, update};
use failover_core::kinds::Observation;
use failover_core::kinds::health::ProbeOutcome;
use failover_core::runbook::{Event, Phase, StepResult, StepStatus};
use failover_core::timeline::{DriverMark, Entry, Kind};
use fixture::{BOB_CONSOLE, BOB_TOKEN, bob_drives, records, run_entry};
use time::OffsetDateTime;
use time::macros::datetime;

const CONFIG: &str = r#"
[console]
title = "orders: site A / site B"
[sites.primary]
label = "site A"
[sites.secondary]
label = "site B"
[[health]]
name = "api-a"
site = "primary"
http = "http://127.0.0.1:18081/healthz"
interval = "1s"
failure-threshold = 1
success-threshold = 1
[[health]]
name = "api-b"
site = "secondary"
http = "http://127.0.0.1:18082/healthz"
[[database]]
name = "orders"
kind = "postgres"
[[database.member]]
site = "primary"
dsn = "host=127.0.0.1 port=54321 user=postgres dbname=postgres"
[[database.member]]
site = "secondary"
dsn = "host=127.0.0.1 port=54322 user=postgres dbname=postgres"
[[dns]]
name = "api.failover.test."
resolvers = ["127.0.0.1:5353"]
[dns.answers]
primary = ["10.0.1.100"]
secondary = ["10.0.2.100"]
"#;

const T0: OffsetDateTime = datetime!(2026-03-01 12:00 UTC);
const RUN: &str = "20260301T115900Z-failover";

fn at(secs: f64) -> OffsetDateTime {
    fixture::after(T0, secs)
}

fn model(mode: Mode) -> Model {
    let text = format!("{CONFIG}{}", fixture::RUNBOOK);
    let mut m = fixture::model(&text, mode, "alice@ops", fixture::mono(), T0);
    m.recorder = false;
    m
}

fn probe(check: usize, secs: f64, ok: bool) -> Msg {
    Msg::Observed(Observation::Probe {
        check,
        at: at(secs),
        outcome: ProbeOutcome {
            ok,
            latency: Duration::from_millis(2),
            detail: if ok { "200" } else { "status 503" }.into(),
        },
    })
}

fn key(m: &mut Model, code: KeyCode) -> Vec<Effect> {
    settle(m, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn type_line(m: &mut Model, text: &str) -> Vec<Effect> {
    for c in text.chars() {
        key(m, KeyCode::Char(c));
    }
    key(m, KeyCode::Enter)
}

/// `update`, with every recorded entry coming back journaled, as the engine does.
fn settle(m: &mut Model, msg: Msg) -> Vec<Effect> {
    let effects = update(m, msg);
    for e in &effects {
        if let Effect::Record(entry) = e {
            update(
                m,
                Msg::Journaled {
                    entry: entry.clone(),
                    error: None,
                },
            );
        }
    }
    effects
}

fn edges(effects: &[Effect]) -> Vec<Entry> {
    records(effects)
        .into_iter()
        .filter(|e| e.kind == Kind::Edge)
        .collect()
}

fn armed() -> Event {
    Event::Armed {
        target: "secondary".into(),
        reason: "bob's drill".into(),
        steps: fixture::RUNBOOK_STEPS.map(String::from).to_vec(),
        expected_primaries: vec![],
        class: None,
        incident_start: None,
        plan: None,
    }
}

fn status(m: &Model, step: usize) -> Option<StepStatus> {
    m.runs.current.as_ref().map(|r| r.steps[step].status)
}

fn flash(m: &Model) -> String {
    m.ui.flash.clone().map(|f| f.0).unwrap_or_default()
}

/// Bob's run, followed from the record up to his start of the fence step (step 3).
fn bob_running_step_3(m: &mut Model) {
    m.holder = Some(bob_drives());
    for (secs, event) in [
        (0.1, armed()),
        (
            0.2,
            Event::GatePassed {
                step: 0,
                evidence: "lag 0 B".into(),
            },
        ),
        (
            0.3,
            Event::GatePassed {
                step: 1,
                evidence: "healthy".into(),
            },
        ),
        (
            0.4,
            Event::StepStarted {
                step: 2,
                phase: Phase::Do,
            },
        ),
    ] {
        settle(m, Msg::Foreign(run_entry(at(secs), RUN, "bob@ops", event)));
    }
    assert_eq!(status(m, 2), Some(StepStatus::Running));
}

// -------------------------------------------------------------------------------------------------

#[test]
fn edges_are_recorded_by_the_driver_or_the_recorder_never_by_a_watcher() {
    // Alone and holding the recorder lock: it records.
    let mut m = model(Mode::Live);
    m.recorder = true;
    assert_eq!(edges(&settle(&mut m, probe(0, 1.0, false))).len(), 1);

    // Another console drives: it records, not this one, even with the recorder lock.
    let mut m = model(Mode::Live);
    m.recorder = true;
    m.holder = Some(bob_drives());
    assert!(edges(&settle(&mut m, probe(0, 1.0, false))).is_empty());
    // ...but its pane still follows its own poller.
    assert_eq!(
        m.kinds.health[0].status,
        failover_core::kinds::health::CheckStatus::Unhealthy
    );

    // Nobody drives and another console has the recorder lock: nothing.
    let mut m = model(Mode::Live);
    assert!(edges(&settle(&mut m, probe(0, 1.0, false))).is_empty());

    // A watch console never records an edge, whatever it holds.
    let mut m = model(Mode::Watch);
    m.recorder = true;
    assert!(edges(&settle(&mut m, probe(0, 1.0, false))).is_empty());

    // The driver always does.
    let mut m = model(Mode::Live);
    settle(&mut m, Msg::Driver(Driver::Driving(DriverToken::held(9))));
    assert_eq!(edges(&settle(&mut m, probe(0, 1.0, false))).len(), 1);
}

#[test]
fn the_recorders_edges_are_shown_on_every_other_console() {
    let mut w = model(Mode::Watch);
    let mut edge = Entry::new(
        at(1.0),
        failover_core::timeline::Severity::Crit,
        Kind::Edge,
        "health/api-a",
        "healthy → unhealthy after 1 failed: status 503",
    );
    edge.console = Some(BOB_CONSOLE.into());
    settle(&mut w, Msg::Foreign(edge));
    assert_eq!(
        w.timeline
            .newest_first()
            .next()
            .map(|s| s.entry.message.as_str()),
        Some("healthy → unhealthy after 1 failed: status 503")
    );
}

#[test]
fn a_watch_console_records_only_its_notes() {
    let mut w = model(Mode::Watch);
    key(&mut w, KeyCode::Char('n'));
    let effects = type_line(&mut w, "looking at api-a");
    let recorded = records(&effects);
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].kind, Kind::Note);
    // A journal read error is shown to the watcher, not recorded.
    let effects = settle(
        &mut w,
        Msg::Older {
            page: Err("disk on fire".into()),
            dropped: 0,
        },
    );
    assert!(records(&effects).is_empty(), "{effects:?}");
    assert!(
        w.timeline
            .newest_first()
            .any(|s| s.entry.message.contains("disk on fire"))
    );
}

#[test]
fn only_the_drivers_run_events_count_and_anything_else_is_a_warning() {
    let mut m = model(Mode::Live);
    m.recorder = true;
    bob_running_step_3(&mut m);
    let forged = |console: &str, token: Option<u64>| {
        let mut e = run_entry(
            at(1.0),
            RUN,
            "mallory",
            Event::Skipped {
                step: 2,
                reason: "forged".into(),
            },
        );
        e.console = Some(console.into());
        e.token = token;
        e
    };
    for (console, token) in [
        ("evil:1", Some(BOB_TOKEN)),        // another console, bob's token
        (BOB_CONSOLE, Some(BOB_TOKEN + 1)), // bob's console, a token that is not the driver's
        (BOB_CONSOLE, None),                // no token at all
    ] {
        let effects = settle(&mut m, Msg::Foreign(forged(console, token)));
        assert_eq!(
            status(&m, 2),
            Some(StepStatus::Running),
            "{console} {token:?}"
        );
        // Not driving, but nobody else records while bob... bob drives: bob records it.
        assert!(
            records(&effects).is_empty(),
            "bob, the driver, records the warning"
        );
    }
    // The driver records the warning, once per forged entry, and changes nothing.
    let mut bob = model(Mode::Live);
    bob.console_id = BOB_CONSOLE.into();
    settle(
        &mut bob,
        Msg::Driver(Driver::Driving(DriverToken::held(BOB_TOKEN))),
    );
    bob.holder = Some(bob_drives());
    settle(
        &mut bob,
        Msg::Journaled {
            entry: run_entry(at(0.1), RUN, "bob@ops", armed()),
            error: None,
        },
    );
    let effects = settle(&mut bob, Msg::Foreign(forged("evil:1", Some(BOB_TOKEN))));
    let warnings = records(&effects);
    assert_eq!(warnings.len(), 1, "{effects:?}");
    assert!(
        warnings[0]
            .message
            .starts_with("run event from evil:1 ignored: not the driver ("),
        "{}",
        warnings[0].message
    );
    assert_eq!(status(&bob, 0), Some(StepStatus::Pending));
}

#[test]
fn a_takeover_reads_back_and_offers_no_retry_before_the_old_drivers_outcome() {
    let mut m = model(Mode::Live);
    bob_running_step_3(&mut m);
    // Alice breaks bob's lock: she drives with a newer token, and the record says so.
    m.holder = Some(failover_core::timeline::LockInfo {
        console: m.console_id.clone(),
        token: BOB_TOKEN + 5,
        ..bob_drives()
    });
    let effects = settle(
        &mut m,
        Msg::Driver(Driver::Driving(DriverToken::held(BOB_TOKEN + 5))),
    );
    // Resumed (step 3 unknown) and its read-back asked for.
    assert!(
        records(&effects)
            .iter()
            .any(|e| matches!(&e.run, Some(r) if matches!(&r.event, Event::Resumed { interrupted } if interrupted == &vec![2]))),
        "{effects:?}"
    );
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Execute(r) if r.phase == Phase::ReadBack))
    );
    assert_eq!(m.runs.orphans.len(), 1);
    // The read-back comes back: not applied. Enter would run it again: refused until bob's
    // outcome is in or the step's timeout (exec's default) and the grace have passed.
    read_back(&mut m, 1.5, StepResult::NotApplied);
    let effects = key(&mut m, KeyCode::Enter);
    assert!(
        !effects.iter().any(|e| matches!(e, Effect::Execute(_))),
        "{effects:?}"
    );
    assert!(flash(&m).contains("no retry before"), "{}", flash(&m));
    // Bob's outcome, written under his old token after he lost the lock, counts: step done.
    let mut late = run_entry(
        at(2.0),
        RUN,
        "bob@ops",
        Event::StepFinished {
            step: 2,
            phase: Phase::Do,
            result: StepResult::Ok,
            detail: "exit 0".into(),
            elapsed_ms: 1600,
        },
    );
    late.console = Some(BOB_CONSOLE.into());
    late.token = Some(BOB_TOKEN);
    let effects = settle(&mut m, Msg::Foreign(late.clone()));
    assert!(
        records(&effects).is_empty(),
        "accepted, no warning: {effects:?}"
    );
    assert_eq!(status(&m, 2), Some(StepStatus::Ok));
    assert!(m.runs.orphans.is_empty());
    // The same outcome again (or any later run event of bob's) no longer counts.
    m.recorder = true;
    let effects = settle(&mut m, Msg::Foreign(late));
    assert_eq!(records(&effects).len(), 1, "a warning: {effects:?}");
}

#[test]
fn after_the_steps_timeout_a_retry_is_offered_again() {
    let mut m = model(Mode::Live);
    bob_running_step_3(&mut m);
    m.holder = None;
    settle(
        &mut m,
        Msg::Driver(Driver::Driving(DriverToken::held(BOB_TOKEN + 1))),
    );
    read_back(&mut m, 1.5, StepResult::NotApplied);
    let retry_at = m.runs.orphans[0].retry_at;
    settle(&mut m, Msg::Tick(retry_at + time::Duration::seconds(1)));
    let effects = key(&mut m, KeyCode::Enter);
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Execute(r) if r.phase == Phase::Do && r.step == 2)),
        "{effects:?} {}",
        flash(&m)
    );
}

/// This console's read-back of step 3, as its executor records it: the start, then `result`.
fn read_back(m: &mut Model, secs: f64, result: StepResult) {
    let own = |event| {
        let mut e = run_entry(at(secs), RUN, "alice@ops", event);
        e.console = None;
        e.token = None;
        e
    };
    for event in [
        Event::StepStarted {
            step: 2,
            phase: Phase::ReadBack,
        },
        Event::StepFinished {
            step: 2,
            phase: Phase::ReadBack,
            result,
            detail: "read back".into(),
            elapsed_ms: 5,
        },
    ] {
        settle(
            m,
            Msg::Journaled {
                entry: own(event),
                error: None,
            },
        );
    }
}

#[test]
fn an_unreachable_shared_record_starts_nothing_and_says_so() {
    let mut m = model(Mode::Live);
    m.shared = Shared::Reachable;
    settle(&mut m, Msg::Driver(Driver::Driving(DriverToken::held(3))));
    m.holder = Some(failover_core::timeline::LockInfo {
        console: m.console_id.clone(),
        token: 3,
        ..bob_drives()
    });
    settle(
        &mut m,
        Msg::Journaled {
            entry: run_entry(at(0.1), RUN, "alice@ops", armed()),
            error: None,
        },
    );
    settle(&mut m, Msg::Shared(Shared::Unreachable { since: at(0.5) }));
    for code in [KeyCode::Enter, KeyCode::Char('o'), KeyCode::Char('s')] {
        let effects = key(&mut m, code);
        assert!(
            records(&effects).is_empty()
                && !effects.iter().any(|e| matches!(e, Effect::Execute(_)))
        );
        assert!(
            flash(&m).contains("shared record unreachable since 12:00:00"),
            "{}",
            flash(&m)
        );
    }
    for (w, h) in fixture::SIZES {
        let screen = screen::render(&m, w, h);
        assert!(
            screen
                .lines()
                .next()
                .is_some_and(|l| l.starts_with("SHARED RECORD UNREACHABLE since 12:00:00")),
            "{screen}"
        );
    }
    settle(&mut m, Msg::Shared(Shared::Reachable));
    key(&mut m, KeyCode::Enter);
    assert!(!flash(&m).contains("unreachable"));
}

#[test]
fn replay_counts_only_the_drivers_run_events() {
    let mut m = model(Mode::Live);
    let mut took = Entry::new(
        at(0.0),
        failover_core::timeline::Severity::Info,
        Kind::Console,
        "lock",
        "driver lock taken by bob",
    );
    took.driver = Some(DriverMark::Took(bob_drives()));
    let mut forged = run_entry(
        at(0.3),
        RUN,
        "mallory",
        Event::Skipped {
            step: 0,
            reason: "forged".into(),
        },
    );
    forged.console = Some("evil:1".into());
    let entries = vec![took, run_entry(at(0.1), RUN, "bob@ops", armed()), forged];
    failover_core::app::runs::replay(&mut m, &entries);
    assert_eq!(
        status(&m, 0),
        Some(StepStatus::Pending),
        "the forged skip is ignored"
    );
    assert!(m.runs.current.as_ref().is_some_and(|r| r.is_active()));

    // A journal from before driver marks and tokens is read as it is.
    let mut m = model(Mode::Live);
    let mut legacy = vec![
        run_entry(at(0.1), RUN, "bob@ops", armed()),
        run_entry(
            at(0.2),
            RUN,
            "bob@ops",
            Event::GatePassed {
                step: 0,
                evidence: "lag 0 B".into(),
            },
        ),
    ];
    for e in &mut legacy {
        e.console = None;
        e.token = None;
    }
    failover_core::app::runs::replay(&mut m, &legacy);
    assert_eq!(status(&m, 0), Some(StepStatus::Ok));
}

#[test]
fn the_break_key_asks_for_the_word_then_a_reason() {
    let mut m = model(Mode::Live);
    settle(&mut m, Msg::Driver(Driver::LockHeld(bob_drives())));
    key(&mut m, KeyCode::Char('B'));
    let effects = type_line(&mut m, "brake");
    assert!(
        effects.is_empty()
            || !effects
                .iter()
                .any(|e| matches!(e, Effect::BreakLock { .. }))
    );
    assert!(flash(&m).contains("not broken"), "{}", flash(&m));
    key(&mut m, KeyCode::Char('B'));
    type_line(&mut m, "break");
    let effects = type_line(&mut m, "bob's bastion froze");
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::BreakLock { reason } if reason == "bob's bastion froze")),
        "{effects:?}"
    );
}

#[test]
fn every_run_event_a_driver_records_carries_its_token() {
    let mut m = model(Mode::Live);
    settle(&mut m, Msg::Driver(Driver::Driving(DriverToken::held(7))));
    let mut recorded = Vec::new();
    recorded.extend(key(&mut m, KeyCode::Char('r')));
    recorded.extend(key(&mut m, KeyCode::Enter));
    recorded.extend(key(&mut m, KeyCode::Enter));
    recorded.extend(type_line(&mut m, "secondary"));
    recorded.extend(type_line(&mut m, "drill"));
    assert!(
        m.runs.current.as_ref().is_some_and(|r| r.is_active()),
        "armed: {}",
        flash(&m)
    );
    // The first gate, evaluated by the model itself.
    recorded.extend(key(&mut m, KeyCode::Enter));
    let runs: Vec<Entry> = records(&recorded)
        .into_iter()
        .filter(|e| e.run.is_some())
        .collect();
    assert!(
        runs.iter()
            .any(|e| matches!(e.run.as_ref().map(|r| &r.event), Some(Event::Armed { .. }))),
        "{runs:#?}"
    );
    assert!(runs.iter().all(|e| e.token == Some(7)), "{runs:#?}");
}

#[test]
fn a_start_that_reached_the_record_late_then_refused_leaves_the_step_pending() {
    let mut m = model(Mode::Watch);
    bob_running_step_3(&mut m);
    let reason = "its start reached the shared record after this console had stopped waiting";
    settle(
        &mut m,
        Msg::Foreign(run_entry(
            at(2.5),
            RUN,
            "bob@ops",
            Event::StepRefused {
                step: 2,
                reason: reason.into(),
            },
        )),
    );
    assert_eq!(status(&m, 2), Some(StepStatus::Pending));
    let run = m.runs.current.as_ref().unwrap();
    assert!(
        run.steps[2].detail.contains("refused"),
        "{}",
        run.steps[2].detail
    );
    assert!(run.steps[2].started_by.is_none());
}

#[test]
fn edges_seen_before_the_record_answers_are_written_by_the_console_that_turns_out_to_record() {
    let mut m = model(Mode::Live);
    let first = settle(&mut m, probe(0, 0.5, true));
    assert!(edges(&first).is_empty(), "nobody known to record yet");
    assert_eq!(m.early_edges.len(), 1);
    let recorded = settle(&mut m, Msg::Recorder(true));
    let early = edges(&recorded);
    assert_eq!(early.len(), 1, "{recorded:?}");
    assert!(early[0].message.contains("healthy"), "{}", early[0].message);
    assert_eq!(early[0].at, at(0.5), "with the time it was seen");
    assert!(m.early_edges.is_empty());

    // Another console drives: what this one saw first is that console's to record.
    let mut bob = model(Mode::Live);
    settle(&mut bob, probe(0, 0.5, true));
    settle(&mut bob, Msg::Holder(Some(bob_drives())));
    assert!(bob.early_edges.is_empty());
    let later = settle(&mut bob, Msg::Recorder(true));
    assert!(edges(&later).is_empty(), "{later:?}");
}

#[test]
fn early_edges_survive_this_consoles_own_lock_told_before_its_token() {
    let mut m = model(Mode::Live);
    settle(&mut m, probe(0, 0.5, true));
    assert_eq!(m.early_edges.len(), 1);
    let mut own = bob_drives();
    own.console = m.console_id.clone();
    settle(&mut m, Msg::Holder(Some(own)));
    assert_eq!(m.early_edges.len(), 1, "still this console's to write");
    let recorded = settle(&mut m, Msg::Driver(Driver::Driving(DriverToken::held(9))));
    assert_eq!(edges(&recorded).len(), 1, "{recorded:?}");
}
