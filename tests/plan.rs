//! Evacuation plans through the reducer, by keys and journal entries fed back (no lab): arming
//! shows every runbook's gates and takes one confirmation, the runbooks run in order (each
//! next one armed by itself), the plan stops at a failure, a skipped service lets it go on,
//! an abort ends it, the journal replayed gives the same plan, a watcher sees it, a second
//! console arms nothing, and a console restarted between two runbooks arms the next.

#[path = "common/fixture.rs"]
mod fixture;
#[path = "common/screen.rs"]
mod screen;

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use failover_core::app::driver::DriverToken;
use failover_core::app::model::{Driver, Overlay, Purpose};
use failover_core::app::runs::{self, Decision, RunKey};
use failover_core::app::{Effect, Mode, Model, Msg, update};
use failover_core::kinds::{Observation, health::ProbeOutcome};
use failover_core::runbook::evac::{ItemState, PlanView};
use failover_core::runbook::{Event, Phase, RunEvent, RunState, StepResult};
use failover_core::timeline::{Entry, Kind, LockInfo, Severity};
use fixture::records;
use time::OffsetDateTime;
use time::macros::datetime;

const CONFIG: &str = r#"
[console]
title = "estate: west / east"

[sites.west]
label = "site W"
[sites.east]
label = "site E"

[[health]]
name = "orders-east"
site = "east"
tcp = "127.0.0.1:18082"
failure-threshold = 1
success-threshold = 1

[[health]]
name = "billing-east"
site = "east"
tcp = "127.0.0.1:18083"
failure-threshold = 1
success-threshold = 1

[[health]]
name = "ledger-east"
site = "east"
tcp = "127.0.0.1:18084"
failure-threshold = 1
success-threshold = 1

[[runbook]]
name = "orders-failover"
from = "west"
to = "east"
[[runbook.step]]
title = "Site E healthy"
gate = "healthy"
[[runbook.step]]
title = "Move orders"
action = "exec"
command = ["true"]

[[runbook]]
name = "billing-failover"
from = "west"
to = "east"
[[runbook.step]]
title = "Site E healthy"
gate = "healthy"
[[runbook.step]]
title = "Move billing"
action = "exec"
command = ["true"]

[[runbook]]
name = "ledger-failover"
from = "west"
to = "east"
[[runbook.step]]
title = "Site E healthy"
gate = "healthy"
[[runbook.step]]
title = "Move ledger"
action = "exec"
command = ["true"]

[[service]]
name = "orders"
health = ["orders-east"]
runbooks = ["orders-failover"]
[[service]]
name = "billing"
health = ["billing-east"]
runbooks = ["billing-failover"]
[[service]]
name = "ledger"
health = ["ledger-east"]
runbooks = ["ledger-failover"]

[[plan]]
name = "evacuate-west"
to = "east"
runbooks = ["orders/orders-failover", "billing/billing-failover", "ledger/ledger-failover"]
"#;

const T0: OffsetDateTime = datetime!(2026-03-01 12:00:00 UTC);
const TOKEN: u64 = 1;

/// A driving console and every entry it journaled, in order (as the journal holds them).
struct Console {
    m: Model,
    journal: Vec<Entry>,
    secs: f64,
}

impl Console {
    fn new() -> Console {
        let m = fixture::model(CONFIG, Mode::Live, "alice@ops", fixture::mono(), T0);
        let mut c = Console {
            m,
            journal: Vec::new(),
            secs: 0.0,
        };
        c.settle(Msg::Driver(Driver::Driving(DriverToken::held(TOKEN))));
        c.probe(true);
        c
    }

    /// `update`, then every entry it records back as journaled (stamped with this console, as
    /// the journal writer does), and so on.
    fn settle(&mut self, msg: Msg) -> Vec<Effect> {
        let effects = update(&mut self.m, msg);
        let mut pending = records(&effects);
        while !pending.is_empty() {
            let mut entry = pending.remove(0);
            entry.console = Some(self.m.console_id.clone());
            self.journal.push(entry.clone());
            pending.extend(records(&update(
                &mut self.m,
                Msg::Journaled { entry, error: None },
            )));
        }
        effects
    }

    fn tick(&mut self, secs: f64) {
        self.secs += secs;
        self.settle(Msg::Tick(fixture::after(T0, self.secs)));
    }

    /// Every service's check at site E answers `ok`.
    fn probe(&mut self, ok: bool) {
        self.tick(1.0);
        let at = fixture::after(T0, self.secs);
        for check in 0..3 {
            self.settle(Msg::Observed(Observation::Probe {
                check,
                at,
                outcome: ProbeOutcome {
                    ok,
                    latency: Duration::from_millis(3),
                    detail: if ok {
                        "connected".into()
                    } else {
                        "connection refused".into()
                    },
                },
            }));
        }
    }

    fn hit(&mut self, code: KeyCode) -> Vec<Effect> {
        self.settle(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
    }

    fn type_line(&mut self, text: &str) -> Vec<Effect> {
        for c in text.chars() {
            self.hit(KeyCode::Char(c));
        }
        self.hit(KeyCode::Enter)
    }

    /// The executor's report of the current run's step, journaled under the driver's token.
    fn executor(&mut self, event: Event) {
        let run = self.m.runs.current.as_ref().expect("a run");
        let mut entry = Entry::new(
            fixture::after(T0, self.secs),
            Severity::Info,
            Kind::Run,
            format!("run/{}", run.runbook),
            "executor",
        );
        entry.run = Some(RunEvent {
            id: run.id.clone(),
            runbook: run.runbook.clone(),
            event,
        });
        entry.token = Some(TOKEN);
        entry.console = Some(self.m.console_id.clone());
        self.journal.push(entry.clone());
        self.settle(Msg::Journaled { entry, error: None });
    }

    /// Opens the plan from the runbooks overlay (after the three runbooks).
    fn open_plan(&mut self) {
        self.hit(KeyCode::Char('r'));
        for _ in 0..3 {
            self.hit(KeyCode::Char('j'));
        }
        self.hit(KeyCode::Enter);
        assert_eq!(self.m.runs.evac.open, Some(0));
    }

    fn arm_plan(&mut self) {
        self.open_plan();
        self.hit(KeyCode::Enter);
        self.type_line("east");
        self.type_line("west is flooding");
    }

    /// Enter on the gate, Enter on the action, and the executor's outcome.
    fn do_runbook(&mut self, action: StepResult) {
        self.tick(1.0);
        self.hit(KeyCode::Enter);
        self.tick(1.0);
        let effects = self.hit(KeyCode::Enter);
        assert!(
            effects.iter().any(|e| matches!(e, Effect::Execute(_))),
            "the action runs: {}",
            self.flash()
        );
        self.executor(Event::StepStarted {
            step: 1,
            phase: Phase::Do,
        });
        self.tick(1.0);
        self.executor(Event::StepFinished {
            step: 1,
            phase: Phase::Do,
            result: action,
            detail: if action == StepResult::Ok {
                "exit 0".into()
            } else {
                "exit 1".into()
            },
            elapsed_ms: 900,
        });
    }

    fn plan(&self) -> &PlanView {
        self.m.runs.evac.current.as_ref().expect("a plan")
    }

    fn states(&self) -> Vec<ItemState> {
        self.plan().items.iter().map(|i| i.state.clone()).collect()
    }

    fn runbook(&self) -> String {
        self.m
            .runs
            .current
            .as_ref()
            .map(|r| r.runbook.clone())
            .unwrap_or_default()
    }

    fn flash(&self) -> String {
        self.m.ui.flash.clone().map(|f| f.0).unwrap_or_default()
    }

    fn events(&self) -> Vec<(String, Event)> {
        self.journal
            .iter()
            .filter_map(|e| e.run.as_ref().map(|r| (r.runbook.clone(), r.event.clone())))
            .collect()
    }

    fn screen(&self, w: u16, h: u16) -> String {
        screen::render(&self.m, w, h)
    }
}

fn armed_runbooks(c: &Console) -> Vec<String> {
    c.events()
        .into_iter()
        .filter(|(_, e)| matches!(e, Event::Armed { .. }))
        .map(|(r, _)| r)
        .collect()
}

#[test]
fn arming_shows_every_runbooks_gates_and_takes_one_confirmation() {
    let mut c = Console::new();
    c.hit(KeyCode::Char('r'));
    let overlay = c.screen(80, 24);
    assert!(
        overlay.contains("PLAN evacuate-west"),
        "plans are offered after the runbooks:\n{overlay}"
    );
    c.hit(KeyCode::Esc);
    c.open_plan();
    let shown = c.screen(160, 48);
    for service in [
        "orders/orders-failover",
        "billing/billing-failover",
        "ledger/ledger-failover",
    ] {
        assert!(shown.contains(service), "{service} up front:\n{shown}");
    }
    assert_eq!(
        shown.matches("PASS").count(),
        3,
        "every gate with its evidence:\n{shown}"
    );
    // A failing gate is shown failing before the confirmation.
    c.probe(false);
    let blocked = c.screen(160, 48);
    assert_eq!(blocked.matches("BLOCKS").count(), 3, "{blocked}");
    c.probe(true);

    // One typed confirmation: the site, then the reason with its class.
    c.hit(KeyCode::Enter);
    assert!(matches!(
        &c.m.ui.overlay,
        Overlay::Prompt(p) if p.purpose == Purpose::ArmPlanSite { plan: 0 }
    ));
    c.type_line("west");
    assert!(c.m.runs.evac.current.is_none(), "a wrong site arms nothing");
    c.hit(KeyCode::Enter);
    c.type_line("east");
    c.hit(KeyCode::Tab);
    c.type_line("west is flooding");

    let plan = c.plan();
    assert!(plan.is_active());
    assert_eq!(plan.reason, "west is flooding");
    assert_eq!(plan.target, "east");
    let (name, armed) = &c.events()[0];
    assert_eq!(name, "evacuate-west");
    match armed {
        Event::PlanArmed {
            runbooks, class, ..
        } => {
            assert_eq!(
                runbooks,
                &[
                    "orders/orders-failover",
                    "billing/billing-failover",
                    "ledger/ledger-failover"
                ]
            );
            assert_eq!(*class, plan.class);
        }
        other => panic!("the plan's arming first, not {other:?}"),
    }
    // Its first runbook is armed at once, with the plan's id, and no other confirmation.
    let run = c.m.runs.current.as_ref().expect("the first runbook armed");
    assert_eq!(run.runbook, "orders-failover");
    assert_eq!(run.plan.as_deref(), Some(plan.id.as_str()));
    assert_eq!(run.class, Some(plan.class));
    assert!(matches!(c.m.ui.overlay, Overlay::None));
    assert_eq!(c.states()[0], ItemState::Running);
}

#[test]
fn the_runbooks_run_in_order_each_armed_when_the_last_finished() {
    let mut c = Console::new();
    c.arm_plan();
    for (i, name) in ["orders-failover", "billing-failover", "ledger-failover"]
        .into_iter()
        .enumerate()
    {
        assert_eq!(c.runbook(), name);
        assert_eq!(c.states()[i], ItemState::Running);
        c.do_runbook(StepResult::Ok);
        assert_eq!(c.states()[i], ItemState::Moved);
    }
    assert_eq!(c.plan().state, RunState::Finished);
    assert_eq!(
        armed_runbooks(&c),
        ["orders-failover", "billing-failover", "ledger-failover"]
    );
    // Each armed only after the previous one's end was journaled.
    let events = c.events();
    let pos = |f: &dyn Fn(&(String, Event)) -> bool| events.iter().position(f).unwrap();
    let billing_armed = pos(&|(r, e)| r == "billing-failover" && matches!(e, Event::Armed { .. }));
    let orders_done = pos(&|(r, e)| r == "orders-failover" && matches!(e, Event::Finished));
    assert!(orders_done < billing_armed);
    assert!(matches!(events.last(), Some((_, Event::PlanFinished))));
    // The ended plan stays on screen, not ready to arm again.
    assert!(
        c.screen(80, 24).contains("3/3 moved · finished"),
        "{}",
        c.screen(80, 24)
    );
    assert!(runs::decide(&c.m, RunKey::Act).is_err());
    // Esc closes it; r lists runbooks again.
    c.hit(KeyCode::Esc);
    assert!(runs::decide(&c.m, RunKey::Runbooks).is_ok());
}

#[test]
fn a_failed_step_stops_the_plan_with_retry_skip_and_abort_offered() {
    let mut c = Console::new();
    c.arm_plan();
    c.do_runbook(StepResult::Ok);
    c.do_runbook(StepResult::Failed);
    assert_eq!(
        c.states(),
        [ItemState::Moved, ItemState::Running, ItemState::Pending]
    );
    c.tick(5.0);
    assert_eq!(
        armed_runbooks(&c).len(),
        2,
        "nothing armed after the failure"
    );
    let screen = c.screen(80, 24);
    assert!(
        screen.contains("billing-failover: FAILED at step 2/2"),
        "{screen}"
    );
    assert!(matches!(
        runs::decide(&c.m, RunKey::Act),
        Ok(Decision::StartAction { step: 1, .. })
    ));
    assert!(matches!(
        runs::decide(&c.m, RunKey::SkipService),
        Ok(Decision::Ask(Purpose::SkipServiceReason { entry: 1 }))
    ));
    assert!(matches!(
        runs::decide(&c.m, RunKey::Abort),
        Ok(Decision::Ask(Purpose::AbortWord))
    ));
    // Retry, as today: the step runs again, and then the plan goes on.
    c.hit(KeyCode::Enter);
    c.executor(Event::StepFinished {
        step: 1,
        phase: Phase::Do,
        result: StepResult::Ok,
        detail: "exit 0".into(),
        elapsed_ms: 500,
    });
    assert_eq!(c.states()[1], ItemState::Moved);
    assert_eq!(c.runbook(), "ledger-failover");
}

#[test]
fn a_refused_gate_stops_the_plan_after_the_first_service() {
    let mut c = Console::new();
    c.arm_plan();
    c.do_runbook(StepResult::Ok);
    c.probe(false);
    c.hit(KeyCode::Enter);
    assert!(c.flash().contains("gate blocks"), "{}", c.flash());
    c.tick(5.0);
    assert_eq!(
        c.states(),
        [ItemState::Moved, ItemState::Running, ItemState::Pending]
    );
    assert_eq!(armed_runbooks(&c), ["orders-failover", "billing-failover"]);
    let screen = c.screen(80, 24);
    assert!(
        screen.contains("billing-failover: BLOCKED at step 1/2"),
        "{screen}"
    );
}

#[test]
fn skipping_a_service_takes_a_reason_and_the_plan_goes_on() {
    let mut c = Console::new();
    c.arm_plan();
    c.do_runbook(StepResult::Ok);
    c.do_runbook(StepResult::Failed);
    c.hit(KeyCode::Char('S'));
    c.type_line("");
    assert_eq!(c.states()[1], ItemState::Running, "no reason, no skip");
    c.hit(KeyCode::Char('S'));
    c.type_line("billing moves tomorrow");
    assert_eq!(
        c.states(),
        [
            ItemState::Moved,
            ItemState::Skipped("billing moves tomorrow".into()),
            ItemState::Running
        ]
    );
    assert_eq!(c.runbook(), "ledger-failover");
    let events = c.events();
    assert!(events.iter().any(|(_, e)| matches!(
        e,
        Event::PlanSkipped { entry: 1, reason } if reason == "billing moves tomorrow"
    )));
    assert!(
        events
            .iter()
            .any(|(r, e)| r == "billing-failover" && matches!(e, Event::Aborted { .. }))
    );
    c.do_runbook(StepResult::Ok);
    assert_eq!(c.plan().state, RunState::Finished);
    let screen = c.screen(160, 48);
    assert!(
        screen.contains("skipped: billing moves tomorrow"),
        "{screen}"
    );
    // The overview says each service's place in the plan, the skipped one's too (not its
    // aborted run).
    for (service, place) in [
        ("orders", "plan moved"),
        ("billing", "plan SKIPPED"),
        ("ledger", "plan moved"),
    ] {
        let row = screen
            .lines()
            .find(|l| l.contains(&format!(" {service} ")) && l.contains(" OK "))
            .unwrap_or_default();
        assert!(row.contains(place), "{service}: {place}:\n{screen}");
    }
}

#[test]
fn abort_ends_the_whole_plan_and_arms_nothing_more() {
    let mut c = Console::new();
    c.arm_plan();
    c.do_runbook(StepResult::Ok);
    c.hit(KeyCode::Char('a'));
    c.type_line("abort");
    c.type_line("east is not ready");
    assert_eq!(
        c.plan().state,
        RunState::Aborted("east is not ready".into())
    );
    assert_eq!(
        c.states(),
        [ItemState::Moved, ItemState::Aborted, ItemState::Pending]
    );
    c.tick(5.0);
    assert_eq!(armed_runbooks(&c).len(), 2);
    let events = c.events();
    let plan_abort = events
        .iter()
        .position(|(_, e)| matches!(e, Event::PlanAborted { .. }))
        .expect("the plan's abort");
    let run_abort = events
        .iter()
        .position(|(_, e)| matches!(e, Event::Aborted { .. }))
        .expect("the run's abort");
    assert!(
        plan_abort < run_abort,
        "the plan ends first: nothing is armed in between"
    );
    // Anything can be armed again.
    c.hit(KeyCode::Esc);
    assert!(matches!(
        runs::decide(&c.m, RunKey::Runbooks),
        Ok(Decision::ChooseRunbook)
    ));
}

fn driver_of(c: &Console) -> LockInfo {
    LockInfo {
        operator: "alice@ops".into(),
        host: "h".into(),
        pid: 1,
        since: T0,
        console: c.m.console_id.clone(),
        token: TOKEN,
        ssh: None,
    }
}

/// The plan without the live figures only one console computes (the runs' RTO clocks are in
/// the journal; outputs are not).
fn comparable(p: &PlanView) -> PlanView {
    let mut p = p.clone();
    for item in &mut p.items {
        if let Some(run) = &mut item.run {
            run.output.clear();
        }
    }
    p
}

fn mid_plan() -> Console {
    let mut c = Console::new();
    c.arm_plan();
    c.do_runbook(StepResult::Ok);
    c.do_runbook(StepResult::Failed);
    c.hit(KeyCode::Char('S'));
    c.type_line("billing moves tomorrow");
    c
}

#[test]
fn the_journal_replayed_gives_the_same_plan() {
    let c = mid_plan();
    let mut again = fixture::model(CONFIG, Mode::Live, "alice@ops", fixture::mono(), T0);
    again.holder = Some(driver_of(&c));
    runs::replay(&mut again, &c.journal);
    let replayed = again.runs.evac.current.as_ref().expect("the plan replayed");
    assert_eq!(comparable(replayed), comparable(c.plan()));
    assert_eq!(replayed.items[2].state, ItemState::Running);
}

#[test]
fn a_watcher_sees_the_plan_and_a_second_console_arms_nothing() {
    let c = mid_plan();
    let mut watcher = fixture::model(CONFIG, Mode::Watch, "carol@ops", fixture::mono(), T0);
    watcher.holder = Some(driver_of(&c));
    for entry in &c.journal {
        update(&mut watcher, Msg::Foreign(entry.clone()));
    }
    let seen = watcher
        .runs
        .evac
        .current
        .as_ref()
        .expect("the watcher sees the plan");
    assert_eq!(comparable(seen), comparable(c.plan()));
    update(
        &mut watcher,
        Msg::Key(KeyEvent::new(KeyCode::Char('r'), KeyModifiers::NONE)),
    );
    let screen = screen::render(&watcher, 80, 24);
    assert!(screen.contains("Plan evacuate-west"), "{screen}");
    assert!(
        screen.contains("skipped: billing moves tomorrow"),
        "{screen}"
    );

    // A second live console, the lock held by the first: nothing to arm, only the plan to see.
    let mut second = fixture::model(CONFIG, Mode::Live, "bob@ops", fixture::mono(), T0);
    second.holder = Some(driver_of(&c));
    update(&mut second, Msg::Driver(Driver::LockHeld(driver_of(&c))));
    for entry in &c.journal {
        update(&mut second, Msg::Foreign(entry.clone()));
    }
    for key in [
        RunKey::Act,
        RunKey::SkipService,
        RunKey::Abort,
        RunKey::DryRun,
    ] {
        assert!(
            runs::decide(&second, key).is_err(),
            "{key:?} on a console that does not drive"
        );
    }
    assert!(matches!(
        runs::decide(&second, RunKey::Runbooks),
        Ok(Decision::ShowRun)
    ));
}

#[test]
fn a_console_restarted_between_two_runbooks_arms_the_next() {
    let mut c = Console::new();
    c.arm_plan();
    c.do_runbook(StepResult::Ok);
    // The journal as it was when the first runbook finished, before the next was armed.
    let cut = c
        .journal
        .iter()
        .position(|e| matches!(e.run.as_ref().map(|r| &r.event), Some(Event::Finished)))
        .unwrap();
    let journal = c.journal[..=cut].to_vec();
    let mut again = fixture::model(CONFIG, Mode::Live, "alice@ops", fixture::mono(), T0);
    again.holder = Some(driver_of(&c));
    runs::replay(&mut again, &journal);
    let plan = again.runs.evac.current.as_ref().expect("the plan");
    assert_eq!(plan.items[0].state, ItemState::Moved);
    assert_eq!(plan.items[1].state, ItemState::Pending);
    let plan_id = plan.id.clone();
    let effects = update(
        &mut again,
        Msg::Driver(Driver::Driving(DriverToken::held(2))),
    );
    let armed: Vec<String> = records(&effects)
        .iter()
        .filter_map(|e| e.run.as_ref())
        .filter(|r| matches!(&r.event, Event::Armed { plan: Some(id), .. } if *id == plan_id))
        .map(|r| r.runbook.clone())
        .collect();
    assert_eq!(armed, ["billing-failover"]);
}

#[test]
fn the_plans_run_pane_at_both_sizes() {
    let mut c = Console::new();
    c.arm_plan();
    c.do_runbook(StepResult::Ok);
    c.tick(1.0);
    c.hit(KeyCode::Enter);
    for (w, h) in fixture::SIZES {
        insta::assert_snapshot!(format!("plan_running_{w}x{h}"), c.screen(w, h));
    }
    c.do_runbook_rest_failed();
    for (w, h) in fixture::SIZES {
        insta::assert_snapshot!(format!("plan_stopped_{w}x{h}"), c.screen(w, h));
    }
}

impl Console {
    /// The action of the current runbook, after its gate passed, failing.
    fn do_runbook_rest_failed(&mut self) {
        self.tick(1.0);
        self.hit(KeyCode::Enter);
        self.executor(Event::StepStarted {
            step: 1,
            phase: Phase::Do,
        });
        self.executor(Event::StepFinished {
            step: 1,
            phase: Phase::Do,
            result: StepResult::Failed,
            detail: "exit 1: billing API refused the move".into(),
            elapsed_ms: 1200,
        });
    }
}

#[test]
fn the_export_shows_the_plan_and_each_services_rto_and_rpo() {
    let mut c = mid_plan();
    c.do_runbook(StepResult::Ok);
    let config = &c.m.config;
    let summary =
        failover_core::runbook::evac::export_summary(&c.journal, &config.objectives, &config.sites);
    let md = failover_core::timeline::export::markdown(
        &config.title,
        "journal.jsonl",
        &c.journal,
        0,
        &summary,
        &|k| k.to_string(),
    );
    let plan_at = md.find("### Plan evacuate-west").expect(&md);
    let runs_at = md.find("### orders-failover").expect(&md);
    assert!(
        md.find("## Summary of runs").unwrap() < plan_at && plan_at < runs_at,
        "{md}"
    );
    assert!(
        md.contains("- Armed 2026-03-01 12:00:01 UTC by alice@ops toward site E (finished)"),
        "{md}"
    );
    assert!(md.contains("- Reason: west is flooding"), "{md}");
    assert!(
        md.contains("| orders | orders-failover | moved | 0.0s | not recorded |"),
        "{md}"
    );
    assert!(
        md.contains("| billing | billing-failover | skipped: billing moves tomorrow | - | - |"),
        "{md}"
    );
    assert!(md.contains("| ledger | ledger-failover | moved |"), "{md}");
    // Each runbook run inside it keeps its own section.
    assert!(md.contains("### billing-failover"), "{md}");
}

#[test]
fn a_console_restarted_mid_plan_reads_the_plan_back_from_the_journal_file() {
    let c = mid_plan();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.jsonl");
    let text: String = c
        .journal
        .iter()
        .map(|e| serde_json::to_string(e).unwrap() + "\n")
        .collect();
    std::fs::write(&path, text).unwrap();
    // What the console reads at start-up: from the plan's arming, not the last runbook's.
    let runs = failover_console::journal::read_runs(&path).unwrap();
    assert!(matches!(
        runs.first().and_then(|e| e.run.as_ref()).map(|r| &r.event),
        Some(Event::PlanArmed { .. })
    ));
    let mut again = fixture::model(CONFIG, Mode::Live, "alice@ops", fixture::mono(), T0);
    again.holder = Some(driver_of(&c));
    runs::replay(&mut again, &runs);
    let plan = again.runs.evac.current.as_ref().expect("the plan is back");
    assert_eq!(comparable(plan), comparable(c.plan()));
    assert_eq!(
        again.runs.current.as_ref().map(|r| r.runbook.as_str()),
        Some("ledger-failover")
    );
}

#[test]
fn the_plans_preview_at_both_sizes() {
    let mut c = Console::new();
    c.open_plan();
    for (w, h) in fixture::SIZES {
        insta::assert_snapshot!(format!("plan_preview_{w}x{h}"), c.screen(w, h));
    }
}

#[test]
fn the_reason_typed_for_a_plan_stays_readable_at_80_columns() {
    let mut c = Console::new();
    c.open_plan();
    c.hit(KeyCode::Enter);
    c.type_line("east");
    for ch in "west is flooding badly".chars() {
        c.hit(KeyCode::Char(ch));
    }
    let screen = c.screen(80, 24);
    let last = screen.lines().last().unwrap_or_default();
    assert!(
        last.starts_with(
            "reason for this plan (planned switchover; Tab: class): west is flooding badly"
        ),
        "the typed reason, whole, after the question (the hint yields):\n{screen}"
    );
    let wide = c.screen(160, 48);
    assert!(
        wide.lines()
            .last()
            .unwrap_or_default()
            .contains("west is flooding badly")
            && wide.contains("Enter ok, Esc cancel"),
        "{wide}"
    );
}
