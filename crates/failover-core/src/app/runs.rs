//! Runbook keys and run progress, as pure logic: keys become journaled run events and executor
//! requests; the run itself changes only when those events come back from the journal.

use time::OffsetDateTime;
use tui_input::Input;

use super::driver::DriverToken;
use super::model::{Driver, Model, Orphan, Overlay, Pane, Prompt, Purpose};
use super::update::{Effect, Fx};
use crate::actions::ActionSpec;
use crate::kinds::patroni::{self, Switch, SwitchKind};
use crate::kinds::postgres::{Role, member_label};
use crate::runbook::{
    self, Event, ExpectedPrimary, Phase, RunClass, RunEvent, RunState, StepStatus, evidence,
};
use crate::runbook::{ActionStep, Rollback, RunView, StepKind, Wait};
use crate::timeline::{Entry, Kind, Severity};

/// A request for the executor: the only way anything is done to the world.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecRequest {
    pub run_id: String,
    pub runbook: String,
    pub step: usize,
    pub title: String,
    pub phase: Phase,
    pub spec: ActionSpec,
}

/// What the run keys ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunKey {
    Runbooks,
    Act,
    DryRun,
    Override,
    Skip,
    Abort,
    Rollback,
    ReadBack,
    BreakLock,
    Close,
    /// A watch console's r: show the current run, never the runbooks to arm.
    ShowRun,
    /// In an evacuation plan: skip the current service (reason) and go on with the next.
    SkipService,
}

pub(super) fn run_entry(
    model: &Model,
    runbook: &str,
    id: &str,
    event: Event,
    severity: Severity,
    message: String,
) -> Entry {
    let mut e = Entry::new(
        model.now,
        severity,
        Kind::Run,
        format!("run/{runbook}"),
        message,
    )
    .by(&model.operator);
    e.run = Some(RunEvent {
        id: id.to_string(),
        runbook: runbook.to_string(),
        event,
    });
    e.token = model.driver.token().map(DriverToken::value);
    e
}

/// Whether another console's run event counts: only the driver's (its console and token are
/// the holder's as of this entry), and the late outcome of a step a previous driver started.
pub fn accept_foreign(model: &Model, entry: &Entry) -> Result<(), String> {
    let console = entry.console.as_deref().unwrap_or("an unknown console");
    let from_driver = model
        .holder
        .as_ref()
        .is_some_and(|h| h.console == console && entry.token == Some(h.token));
    if from_driver || late_outcome(model, entry) {
        return Ok(());
    }
    Err(format!(
        "run event from {console} ignored: not the driver ({})",
        entry.message
    ))
}

/// The outcome of a step, written by the console that started it under its token, after that
/// console stopped driving (its lease broken or expired while the step ran).
fn late_outcome(model: &Model, entry: &Entry) -> bool {
    let Some(RunEvent {
        id,
        event: Event::StepFinished { step, phase, .. },
        ..
    }) = &entry.run
    else {
        return false;
    };
    let Some(console) = entry.console.clone() else {
        return false;
    };
    let starter = runbook::Starter {
        console,
        token: entry.token,
        phase: *phase,
    };
    let Some(view) = model
        .runs
        .current
        .as_ref()
        .filter(|r| &r.id == id)
        .and_then(|r| r.steps.get(*step))
    else {
        return false;
    };
    let waited_for = view.status == StepStatus::Running
        || model
            .runs
            .orphans
            .iter()
            .any(|o| o.step == *step && o.starter == starter);
    *phase != Phase::ReadBack && view.started_by.as_ref() == Some(&starter) && waited_for
}

/// Extra time past an orphaned step's own timeout before it may be retried: the executor's
/// TERM grace, KILL and drain, and journaling the outcome.
const ORPHAN_GRACE: time::Duration = time::Duration::seconds(10);

/// The steps a takeover found in flight: their outcome may still come from the console that
/// started them, until their time is up.
fn orphans(model: &Model, interrupted: &[usize]) -> Vec<Orphan> {
    let Some(run) = &model.runs.current else {
        return Vec::new();
    };
    interrupted
        .iter()
        .filter_map(|i| {
            let step = run.steps.get(*i)?;
            let starter = step.started_by.clone().filter(|s| s.phase == Phase::Do)?;
            // Running, or already marked unknown by this console's own takeover.
            let in_flight = matches!(step.status, StepStatus::Running | StepStatus::Unknown)
                && step.finished.is_none();
            in_flight.then(|| Orphan {
                step: *i,
                starter,
                retry_at: orphan_retry_at(model, *i, step.started.unwrap_or(model.now)),
            })
        })
        .collect()
}

/// When a step another console started (at `started`) can no longer be running.
fn orphan_retry_at(model: &Model, step: usize, started: OffsetDateTime) -> OffsetDateTime {
    let timeout = match step_kind(model, step) {
        Some(StepKind::Action(a)) => a.spec.timeout(),
        Some(StepKind::Wait(w)) => w.timeout(),
        _ => std::time::Duration::ZERO,
    };
    crate::text::clock_after(started, timeout)
        .and_then(|t| t.checked_add(ORPHAN_GRACE))
        .unwrap_or(time::PrimitiveDateTime::MAX.assume_utc())
}

/// Why a step may not run again yet: another driver started it and its outcome is not in.
fn orphan_blocks(model: &Model, step: usize) -> Option<String> {
    let orphan = model.runs.orphans.iter().find(|o| o.step == step)?;
    (model.now < orphan.retry_at).then(|| {
        format!(
            "no retry before {} UTC (its timeout): step {}'s outcome may still come from {}",
            crate::text::clock(orphan.retry_at),
            step + 1,
            orphan.starter.console,
        )
    })
}

/// Records an event of the current run.
fn record(model: &Model, fx: &mut Fx, event: Event, severity: Severity, message: String) {
    if let Some(run) = &model.runs.current {
        let entry = run_entry(model, &run.runbook, &run.id, event, severity, message);
        fx.effects.push(Effect::Record(entry));
    }
}

/// What a run key does in the console's state now, decided before anything is done: `on_key`
/// carries it out, and the footer lists a key only when pressing it is not refused. One
/// decision for both, so the footer cannot offer a key that would only be refused.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// A typed question first (a confirmation word or a reason).
    Ask(Purpose),
    /// The current run in the run pane, focused.
    ShowRun,
    /// The list of runbooks, to open a plan.
    ChooseRunbook,
    /// Close the plan or the ended run; during a run, focus goes back to the panes.
    Close,
    /// The next step is a gate that passes now: record it passed.
    PassGate { step: usize, evidence: String },
    /// The next step is done by hand: record it done.
    ConfirmManual { step: usize, text: String },
    /// The next step is a wait: start it.
    StartWait { step: usize },
    /// The next step is an action: its guard is checked when it starts, then it runs (or its
    /// refusal is journaled).
    StartAction { step: usize, action: ActionStep },
    /// Read the next step's action back.
    ReadBack { step: usize, spec: ActionSpec },
    /// Dry-run the open plan.
    DryRun { runbook: usize },
}

/// Why a run key does nothing now.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// Nothing to say (Esc with nothing to close, r on the run already shown).
    Quiet,
    /// Said in the footer.
    Say(String),
}

fn say(why: impl Into<String>) -> Refusal {
    Refusal::Say(why.into())
}

pub fn on_key(model: &mut Model, key: RunKey, fx: &mut Fx) {
    match decide(model, key) {
        Ok(decision) => carry_out(model, decision, fx),
        Err(Refusal::Say(why)) => model.flash(why),
        Err(Refusal::Quiet) => {}
    }
}

/// What `key` does now, or why it does nothing.
pub fn decide(model: &Model, key: RunKey) -> Result<Decision, Refusal> {
    match key {
        RunKey::Close => return close_decision(model),
        RunKey::ShowRun => return show_run(model),
        RunKey::BreakLock => {
            return match &model.driver {
                Driver::LockHeld(_) | Driver::LockLost(_) => {
                    Ok(Decision::Ask(Purpose::BreakLockWord))
                }
                Driver::Driving(_) => Err(say("this console already drives")),
                other => Err(say(other.why_not().unwrap_or_default())),
            };
        }
        _ => {}
    }
    // Without the token nothing below can arm or act: r still shows the run another console
    // drives, and anything else says why.
    if model.driver.token().is_none() {
        return match show_run(model) {
            Ok(show) if key == RunKey::Runbooks => Ok(show),
            _ => Err(say(model.driver.why_not().unwrap_or_default())),
        };
    }
    decide_driving(model, key)
}

/// r on a console that shows the current run rather than arming one.
fn show_run(model: &Model) -> Result<Decision, Refusal> {
    match &model.runs.current {
        None => Err(say("no run to show")),
        Some(_) if model.runs.shown && model.ui.focus == Pane::Run => Err(Refusal::Quiet),
        Some(_) => Ok(Decision::ShowRun),
    }
}

fn close_decision(model: &Model) -> Result<Decision, Refusal> {
    let active = model.runs.current.as_ref().is_some_and(|r| r.is_active());
    let closes = if active {
        model.ui.focus == Pane::Run
    } else {
        model.run_pane_open() || model.ui.focus == Pane::Run
    };
    if closes {
        Ok(Decision::Close)
    } else {
        Err(Refusal::Quiet)
    }
}

fn decide_driving(model: &Model, key: RunKey) -> Result<Decision, Refusal> {
    let active = model.runs.current.as_ref().filter(|r| r.is_active());
    let starts_something = matches!(
        key,
        RunKey::Act | RunKey::DryRun | RunKey::Override | RunKey::Skip | RunKey::Rollback
    );
    if starts_something && let Some(why) = unreachable(model) {
        return Err(say(why));
    }
    if active.is_some_and(|r| r.dry_run) && key != RunKey::Runbooks {
        return Err(say("a dry run is in progress: wait for its end"));
    }
    if let Some(decision) = super::plans::decide(model, key) {
        return decision;
    }
    match (key, active) {
        (RunKey::Runbooks, Some(_)) => show_run(model),
        (RunKey::Runbooks, None) if model.config.runbooks.is_empty() => {
            Err(say("no [[runbook]] in the config"))
        }
        (RunKey::Runbooks, None) => Ok(Decision::ChooseRunbook),
        (RunKey::Act, Some(run)) => enter_on_step(model, run),
        (RunKey::Act, None) => match model.runs.plan {
            Some(runbook) => Ok(Decision::Ask(Purpose::ArmSite { runbook })),
            None => Err(say("r lists runbooks")),
        },
        (RunKey::DryRun, Some(_)) => Err(say("a run is in progress: abort it before a dry run")),
        (RunKey::DryRun, None) => match model.runs.plan {
            Some(runbook) => Ok(Decision::DryRun { runbook }),
            None => Err(say("open a runbook's plan first (r)")),
        },
        (
            RunKey::Override | RunKey::Skip | RunKey::Abort | RunKey::Rollback | RunKey::ReadBack,
            None,
        ) => Err(say("no run in progress")),
        (RunKey::Override, Some(run)) => {
            let step = next_step(run)?;
            match step_kind(model, step) {
                Some(StepKind::Gate(gate)) if !evidence::gate(&model.run_world(), &gate).pass => {
                    Ok(Decision::Ask(Purpose::OverrideWord { step }))
                }
                Some(StepKind::Gate(_)) => Err(say("the gate passes: Enter takes it")),
                _ => Err(say("only a failing gate can be overridden")),
            }
        }
        (RunKey::Skip, Some(run)) => {
            let step = next_step(run)?;
            if model.runs.in_flight.is_some() || run.running().is_some() {
                Err(say("a step is running: wait for its outcome"))
            } else {
                Ok(Decision::Ask(Purpose::SkipReason { step }))
            }
        }
        (RunKey::Abort, Some(_)) => Ok(Decision::Ask(Purpose::AbortWord)),
        (RunKey::Rollback, Some(run)) => match run.rollback_candidate(&model.config.runbooks) {
            Some(step) => Ok(Decision::Ask(Purpose::RollbackWord { step })),
            None => Err(say("no completed step with a rollback")),
        },
        (RunKey::ReadBack, Some(run)) => {
            let step = next_step(run)?;
            match (run.steps[step].status, step_kind(model, step)) {
                (StepStatus::Unknown | StepStatus::Failed, Some(StepKind::Action(a))) => {
                    Ok(Decision::ReadBack { step, spec: a.spec })
                }
                _ => Err(say(
                    "read back applies to an action whose outcome is unknown or failed",
                )),
            }
        }
        // Decided before a driver was needed.
        (RunKey::Close | RunKey::ShowRun | RunKey::BreakLock | RunKey::SkipService, _) => {
            Err(Refusal::Quiet)
        }
    }
}

/// The step the run is at; none once every step is settled (the run is then finishing).
fn next_step(run: &RunView) -> Result<usize, Refusal> {
    run.cursor().ok_or(Refusal::Quiet)
}

/// Enter during a run: the next step, if it can be started now.
fn enter_on_step(model: &Model, run: &RunView) -> Result<Decision, Refusal> {
    if run.config_changed {
        return Err(say(
            "the runbook changed in the config since this run was armed: abort it and arm again",
        ));
    }
    let step = next_step(run)?;
    let status = run.steps[step].status;
    if let Some(why) = orphan_blocks(model, step) {
        return Err(say(why));
    }
    if model.runs.in_flight.is_some() || status == StepStatus::Running {
        return Err(say(format!(
            "step {} is running: wait for its outcome",
            step + 1
        )));
    }
    // A wait changes nothing (a write check leaves nothing behind): one interrupted may
    // simply run again.
    if status == StepStatus::Unknown
        && let Some(StepKind::Wait(_)) = step_kind(model, step)
    {
        return Ok(Decision::StartWait { step });
    }
    if status == StepStatus::Unknown {
        let unreadable =
            run.steps[step].phase == Phase::ReadBack && run.steps[step].finished.is_some();
        return if unreadable {
            // Read back and still unknown: only a typed retry runs it again.
            Ok(Decision::Ask(Purpose::RetryWord { step }))
        } else {
            Err(say(
                "outcome unknown: reading it back first (v reads again); nothing is retried blindly",
            ))
        };
    }
    match step_kind(model, step) {
        None => Err(Refusal::Quiet),
        Some(StepKind::Gate(gate)) => {
            let ev = evidence::gate(&model.run_world(), &gate);
            if ev.pass {
                Ok(Decision::PassGate {
                    step,
                    evidence: ev.summary(),
                })
            } else {
                Err(say(format!("gate blocks: {} (o overrides)", ev.summary())))
            }
        }
        Some(StepKind::Manual(text)) => Ok(Decision::ConfirmManual { step, text }),
        Some(StepKind::Wait(_)) => Ok(Decision::StartWait { step }),
        Some(StepKind::Action(action)) => Ok(Decision::StartAction { step, action }),
    }
}

fn carry_out(model: &mut Model, decision: Decision, fx: &mut Fx) {
    match decision {
        Decision::Ask(purpose) => {
            model.ui.overlay = Overlay::Prompt(Prompt {
                purpose,
                input: Input::default(),
            })
        }
        Decision::ShowRun => {
            model.runs.shown = true;
            model.ui.focus = Pane::Run;
        }
        Decision::ChooseRunbook => {
            model.ui.overlay = Overlay::Runbooks {
                selected: model
                    .runs
                    .plan
                    .or(model
                        .runs
                        .evac
                        .open
                        .map(|p| model.config.runbooks.len() + p))
                    .unwrap_or(0),
            }
        }
        Decision::Close => close(model),
        Decision::PassGate { step, evidence } => {
            let message = format!(
                "step {} {:?} gate passed: {evidence}",
                step + 1,
                step_title(model, step)
            );
            record(
                model,
                fx,
                Event::GatePassed { step, evidence },
                Severity::Ok,
                message,
            );
        }
        Decision::ConfirmManual { step, text } => {
            let message = format!(
                "step {} {:?} done by hand: {text}",
                step + 1,
                step_title(model, step)
            );
            record(
                model,
                fx,
                Event::ManualDone { step },
                Severity::Info,
                message,
            );
        }
        Decision::StartWait { step } => {
            // A write check is carried out by the executor, which journals its start and end.
            if let Some(StepKind::Wait(Wait::Writable { check, .. })) = step_kind(model, step) {
                with_token(model, |model, token| {
                    request(
                        model,
                        token,
                        step,
                        Phase::Do,
                        ActionSpec::WriteCheck(check),
                        fx,
                    )
                });
                return;
            }
            let message = format!("step {} {:?} waiting", step + 1, step_title(model, step));
            let event = Event::StepStarted {
                step,
                phase: Phase::Do,
            };
            record(model, fx, event, Severity::Info, message);
        }
        Decision::StartAction { step, action } => {
            with_token(model, |model, token| {
                start_action(model, token, step, action, fx)
            });
        }
        Decision::ReadBack { step, spec } => {
            with_token(model, |model, token| {
                request(model, token, step, Phase::ReadBack, spec, fx)
            });
        }
        Decision::DryRun { runbook } => {
            with_token(model, |model, token| dry_run(model, token, runbook, fx));
        }
    }
}

/// Runs `f` with the driver token, which only a driving console has. The model keeps its
/// own: every run event `f` records carries the token's value.
fn with_token<R>(model: &mut Model, f: impl FnOnce(&mut Model, &DriverToken) -> R) -> Option<R> {
    let token = DriverToken::held(model.driver.token()?.value());
    Some(f(model, &token))
}

fn close(model: &mut Model) {
    let active = model.runs.current.as_ref().is_some_and(|r| r.is_active());
    if active {
        // An armed run stays on screen; focus goes back to the panes.
        model.ui.focus = model.home_pane();
        return;
    }
    model.runs.plan = None;
    model.runs.evac.open = None;
    model.runs.evac.shown = false;
    model.runs.shown = false;
    if model.ui.focus == Pane::Run {
        model.ui.focus = model.home_pane();
    }
}

fn step_title(model: &Model, step: usize) -> String {
    model
        .runs
        .current
        .as_ref()
        .and_then(|r| r.steps.get(step))
        .map(|s| s.title.clone())
        .unwrap_or_default()
}

fn step_kind(model: &Model, step: usize) -> Option<StepKind> {
    let run = model.runs.current.as_ref()?;
    let runbook = model.config.runbooks.get(run.runbook_index?)?;
    runbook.steps.get(step).map(|s| s.kind.clone())
}

/// An action step started by Enter: the guards first, then the executor.
fn start_action(
    model: &mut Model,
    token: &DriverToken,
    step: usize,
    action: ActionStep,
    fx: &mut Fx,
) {
    let guard = match (action.promotes, &action.spec) {
        (Some((db, member)), _) => promote_guard(model, db, member),
        (None, ActionSpec::Patroni(switch)) => patroni_guard(model, switch),
        _ => Guard::Go,
    };
    match guard {
        Guard::Go => request(model, token, step, Phase::Do, action.spec, fx),
        Guard::Refuse(reason) => {
            let title = step_title(model, step);
            record(
                model,
                fx,
                Event::StepRefused {
                    step,
                    reason: reason.clone(),
                },
                Severity::Warn,
                format!("step {} {title:?} refused: {reason}", step + 1),
            );
            model.flash(format!("refused: {reason}"));
        }
        Guard::SplitBrain => {
            model.ui.overlay = Overlay::Prompt(Prompt {
                purpose: Purpose::SplitBrainWord { step },
                input: Input::default(),
            });
        }
    }
}

/// The expected-leader guard for a Patroni switchover or failover, and what Patroni would
/// refuse with 412, from the cluster as the pane shows it: the leader at arming must still
/// lead.
fn patroni_guard(model: &Model, switch: &Switch) -> Guard {
    let Some(i) = patroni_index(model, switch) else {
        return Guard::Go;
    };
    let (spec, st) = (&model.config.kinds.patroni[i], &model.kinds.patroni[i]);
    if st.stale || st.error.is_some() {
        return Guard::Refuse(format!("cluster {} is not readable now", spec.name));
    }
    let Some(view) = st.view() else {
        return Guard::Refuse(format!("cluster {} not read yet", spec.name));
    };
    let now = st.leader().map(str::to_string);
    let expected = model.runs.current.as_ref().and_then(|r| {
        r.expected_primaries
            .iter()
            .find(|e| e.database == spec.name)
            .map(|e| e.member.clone())
    });
    if let Some(expected) = expected
        && expected.is_some()
        && expected != now
    {
        return Guard::Refuse(format!(
            "the leader changed since arming: was {}, now {}",
            expected.as_deref().unwrap_or("none"),
            now.as_deref().unwrap_or("none")
        ));
    }
    let mut switch = switch.clone();
    if switch.kind == SwitchKind::Switchover && switch.leader.is_none() {
        switch.leader = now;
    }
    let refusals = patroni::refusals(&switch, view, st.limit(spec));
    if refusals.is_empty() {
        Guard::Go
    } else {
        Guard::Refuse(refusals.join("; "))
    }
}

fn patroni_index(model: &Model, switch: &Switch) -> Option<usize> {
    model
        .config
        .kinds
        .patroni
        .iter()
        .position(|p| p.name == switch.cluster.name)
}

enum Guard {
    Go,
    Refuse(String),
    /// The old primary still answers as writable.
    SplitBrain,
}

/// The expected-primary guard: the primary at arming must still be the primary (or be gone),
/// and the target must still be a replica.
fn promote_guard(model: &Model, db: usize, member: usize) -> Guard {
    let spec = &model.config.kinds.postgres[db];
    let state = &model.kinds.postgres[db];
    let target = &state.members[member];
    if target.role != Role::Replica || target.stale {
        let now = if target.stale {
            "stale".to_string()
        } else {
            target.role.label().to_string()
        };
        return Guard::Refuse(format!(
            "{} is not a replica now ({now})",
            member_label(&model.config.sites, spec, member)
        ));
    }
    let expected = model.runs.current.as_ref().and_then(|r| {
        r.expected_primaries
            .iter()
            .find(|e| e.database == spec.name)
            .cloned()
    });
    let primaries: Vec<usize> = state.primaries();
    let name = |i: usize| spec.members[i].name.clone();
    let label = |i: usize| member_label(&model.config.sites, spec, i);
    match expected.and_then(|e| e.member) {
        Some(expected_name) => {
            if let Some(other) = primaries.iter().find(|p| name(**p) != expected_name) {
                let was = (0..spec.members.len())
                    .find(|i| name(*i) == expected_name)
                    .map_or(expected_name.as_str(), label);
                return Guard::Refuse(format!(
                    "the primary changed since arming: was {was}, now {}",
                    label(*other)
                ));
            }
            if primaries.iter().any(|p| name(*p) == expected_name) {
                return Guard::SplitBrain;
            }
            Guard::Go
        }
        None if !primaries.is_empty() => Guard::Refuse(format!(
            "there was no primary at arming; now {} is",
            label(primaries[0])
        )),
        None => Guard::Go,
    }
}

/// While the shared record cannot be written, nothing starts: a start that cannot be fenced
/// there could race a driver elected meanwhile.
fn unreachable(model: &Model) -> Option<String> {
    match model.shared {
        super::model::Shared::Unreachable { since } => Some(format!(
            "shared record unreachable since {} UTC: no step can start",
            crate::text::clock(since)
        )),
        _ => None,
    }
}

fn request(
    model: &mut Model,
    _token: &DriverToken,
    step: usize,
    phase: Phase,
    spec: ActionSpec,
    fx: &mut Fx,
) {
    let refused = match phase {
        Phase::ReadBack => None,
        Phase::Do | Phase::Rollback => orphan_blocks(model, step).or_else(|| unreachable(model)),
    };
    if let Some(why) = refused {
        model.flash(why);
        return;
    }
    let Some(run) = &model.runs.current else {
        return;
    };
    let mut spec = spec;
    // A switchover names the leader it expects: the configured one, else the one leading now
    // (the leader at arming for the step itself, which the guard checked; the step's
    // candidate for its rollback).
    if let ActionSpec::Patroni(switch) = &mut spec
        && switch.kind == SwitchKind::Switchover
        && switch.leader.is_none()
    {
        switch.leader = patroni_index(model, switch)
            .and_then(|i| model.kinds.patroni[i].leader())
            .map(str::to_string);
    }
    if phase == Phase::Do
        && super::numbers::promotes(&spec)
        && run.lag_at_promote.is_none()
        && let Some(lag) = super::numbers::lag_at_promote(model, step)
    {
        let text = runbook::numbers::rpo_text(&runbook::numbers::figures(
            &RunView {
                lag_at_promote: Some(lag.clone()),
                ..run.clone()
            },
            &Default::default(),
        ));
        record(
            model,
            fx,
            Event::LagAtPromote { step, lag },
            Severity::Info,
            format!("step {} lag before promotion: {text}", step + 1),
        );
    }
    let Some(run) = &model.runs.current else {
        return;
    };
    model.runs.in_flight = Some(step);
    fx.effects.push(Effect::Execute(ExecRequest {
        run_id: run.id.clone(),
        runbook: run.runbook.clone(),
        step,
        title: run.steps[step].title.clone(),
        phase,
        spec,
    }));
}

fn dry_run(model: &mut Model, _token: &DriverToken, runbook_index: usize, fx: &mut Fx) {
    let runbook = model.config.runbooks[runbook_index].clone();
    let id = format!("{}-dry", runbook::new_id(&runbook.name, model.now));
    let steps: Vec<String> = runbook.steps.iter().map(|s| s.title.clone()).collect();
    let target = model.config.sites[runbook.to].key.clone();
    let start = run_entry(
        model,
        &runbook.name,
        &id,
        Event::DryRun { target, steps },
        Severity::Info,
        format!("DRY RUN of {} (nothing is executed)", runbook.name),
    );
    fx.effects.push(Effect::Record(start));
    let mut actions = Vec::new();
    for (i, step) in runbook.steps.iter().enumerate() {
        let described = runbook::plan::describe_kind(
            &model.config.sites,
            &model.config.kinds,
            model.service_name(runbook_index),
            &step.kind,
        )
        .join(" ; ");
        let blocked = match &step.kind {
            StepKind::Gate(g) => Some(evidence::gate(&model.world_for(Some(runbook_index)), g))
                .filter(|e| !e.pass)
                .map(|e| e.summary()),
            // The executor checks it (connects, and reads whether a write could commit).
            StepKind::Wait(Wait::Writable { check, .. }) => {
                let spec = ActionSpec::WriteCheck(check.clone());
                actions.push((i, step.title.clone(), spec));
                continue;
            }
            StepKind::Wait(w) => Some(evidence::wait(&model.world_for(Some(runbook_index)), w))
                .filter(|e| !e.pass)
                .map(|e| format!("not yet: {}", e.summary())),
            StepKind::Manual(_) => None,
            StepKind::Action(a) => {
                actions.push((i, step.title.clone(), a.spec.clone()));
                continue;
            }
        };
        let message = match &blocked {
            Some(b) => format!("dry run step {} {:?}: would block: {b}", i + 1, step.title),
            None => format!(
                "dry run step {} {:?}: would pass: {described}",
                i + 1,
                step.title
            ),
        };
        let severity = if blocked.is_some() {
            Severity::Warn
        } else {
            Severity::Info
        };
        fx.effects.push(Effect::Record(run_entry(
            model,
            &runbook.name,
            &id,
            Event::DryRunStep {
                step: i,
                would: described,
                blocked,
            },
            severity,
            message,
        )));
    }
    // The executor checks each action without running it, then records the end of the dry run.
    fx.effects.push(Effect::DryRun {
        run_id: id,
        runbook: runbook.name.clone(),
        actions,
    });
    model.runs.shown = true;
    model.runs.plan = Some(runbook_index);
}

/// A prompt was answered (Enter). Wrong words do nothing but say so.
pub fn on_prompt(model: &mut Model, purpose: Purpose, text: String, fx: &mut Fx) {
    model.ui.flash = None;
    let text = text.trim().to_string();
    match purpose {
        Purpose::QuitWord => {
            if text == "quit" {
                fx.effects.push(Effect::Quit);
            }
        }
        Purpose::BreakLockWord if text == "break" => {
            model.ui.overlay = Overlay::Prompt(Prompt {
                purpose: Purpose::BreakLockReason,
                input: Input::default(),
            })
        }
        Purpose::BreakLockWord => model.flash("not confirmed: the lock is not broken"),
        Purpose::BreakLockReason if !text.is_empty() => {
            fx.effects.push(Effect::BreakLock { reason: text })
        }
        Purpose::BreakLockReason => model.flash("a reason is required: nothing done"),
        other => {
            if model.driver.token().is_none() {
                let why = model.driver.why_not().unwrap_or_default();
                model.flash(why);
                return;
            }
            with_token(model, |model, token| {
                answered(model, token, other, text, fx)
            });
        }
    }
}

fn answered(model: &mut Model, token: &DriverToken, purpose: Purpose, text: String, fx: &mut Fx) {
    let next = |purpose| {
        Overlay::Prompt(Prompt {
            purpose,
            input: Input::default(),
        })
    };
    {
        {
            match purpose {
                Purpose::ArmSite { runbook } => {
                    let expected = model.config.sites[model.config.runbooks[runbook].to]
                        .key
                        .clone();
                    if text == expected {
                        let class = super::numbers::preselected(model, runbook);
                        model.ui.overlay = next(Purpose::ArmReason { runbook, class });
                    } else {
                        model.flash(format!("{text:?} is not {expected:?}: nothing armed"));
                    }
                }
                Purpose::ArmReason { runbook, class } if !text.is_empty() => {
                    arm(model, token, runbook, text, class, None, fx)
                }
                ref plan_purpose if super::plans::answered(model, plan_purpose, &text, fx) => {}
                Purpose::OverrideWord { step } if text == "override" => {
                    model.ui.overlay = next(Purpose::OverrideReason { step })
                }
                Purpose::OverrideReason { step } if !text.is_empty() => {
                    let evidence = step_kind(model, step)
                        .and_then(|k| {
                            if let StepKind::Gate(g) = k {
                                Some(evidence::gate(&model.run_world(), &g).summary())
                            } else {
                                None
                            }
                        })
                        .unwrap_or_default();
                    let message = format!(
                        "step {} gate OVERRIDDEN: {text} (evidence: {evidence})",
                        step + 1
                    );
                    record(
                        model,
                        fx,
                        Event::GateOverridden {
                            step,
                            reason: text,
                            evidence,
                        },
                        Severity::Warn,
                        message,
                    );
                }
                Purpose::SkipReason { step } if !text.is_empty() => {
                    record(
                        model,
                        fx,
                        Event::Skipped {
                            step,
                            reason: text.clone(),
                        },
                        Severity::Warn,
                        format!("step {} skipped: {text}", step + 1),
                    );
                }
                Purpose::AbortWord if text == "abort" => {
                    model.ui.overlay = next(Purpose::AbortReason)
                }
                Purpose::AbortReason if !text.is_empty() => {
                    super::plans::on_abort(model, &text, fx);
                    if !model.runs.current.as_ref().is_some_and(|r| r.is_active()) {
                        return;
                    }
                    record(
                        model,
                        fx,
                        Event::Aborted {
                            reason: text.clone(),
                        },
                        Severity::Warn,
                        format!("run ABORTED: {text}"),
                    );
                }
                Purpose::RollbackWord { step } if text == "rollback" => {
                    let rollback = model
                        .runs
                        .current
                        .as_ref()
                        .and_then(|r| r.runbook_index)
                        .and_then(|i| model.config.runbooks[i].steps.get(step))
                        .and_then(|s| s.rollback.clone());
                    match rollback {
                        Some(Rollback::Action(a)) => {
                            request(model, token, step, Phase::Rollback, a.spec, fx)
                        }
                        Some(Rollback::Manual(how)) => {
                            let event = Event::StepFinished {
                                step,
                                phase: Phase::Rollback,
                                result: runbook::StepResult::Ok,
                                detail: format!("rolled back by hand: {how}"),
                                elapsed_ms: 0,
                            };
                            record(
                                model,
                                fx,
                                event,
                                Severity::Warn,
                                format!("step {} rolled back by hand: {how}", step + 1),
                            );
                        }
                        None => model.flash("that step has no rollback"),
                    }
                }
                Purpose::RetryWord { step } if text == "retry" => {
                    if let Some(StepKind::Action(action)) = step_kind(model, step) {
                        request(model, token, step, Phase::Do, action.spec, fx);
                    }
                }
                Purpose::SplitBrainWord { step } if text == "promote" => {
                    let Some(StepKind::Action(action)) = step_kind(model, step) else {
                        return;
                    };
                    let evidence = action
                        .promotes
                        .map(|(db, _)| {
                            let state = &model.kinds.postgres[db];
                            let spec = &model.config.kinds.postgres[db];
                            state
                                .primaries()
                                .iter()
                                .map(|p| {
                                    let sites = &model.config.sites;
                                    format!("{} is primary", member_label(sites, spec, *p))
                                })
                                .collect::<Vec<_>>()
                                .join(", ")
                        })
                        .unwrap_or_default();
                    let message = format!(
                        "step {} split brain accepted: promoting while {evidence}",
                        step + 1
                    );
                    record(
                        model,
                        fx,
                        Event::SplitBrainAccepted { step, evidence },
                        Severity::Crit,
                        message,
                    );
                    request(model, token, step, Phase::Do, action.spec, fx);
                }
                _ => model.flash("not confirmed: nothing done"),
            }
        }
    }
}

/// Arms the next runbook of an evacuation plan (the plan's arming was the confirmation).
pub(super) fn arm_in_plan(
    model: &mut Model,
    runbook_index: usize,
    reason: String,
    class: RunClass,
    plan: String,
    fx: &mut Fx,
) {
    with_token(model, |model, token| {
        arm(model, token, runbook_index, reason, class, Some(plan), fx)
    });
}

fn arm(
    model: &mut Model,
    _token: &DriverToken,
    runbook_index: usize,
    reason: String,
    class: RunClass,
    plan: Option<String>,
    fx: &mut Fx,
) {
    let runbook = model.config.runbooks[runbook_index].clone();
    let id = runbook::new_id(&runbook.name, model.now);
    let patroni_leaders = model
        .config
        .kinds
        .patroni
        .iter()
        .zip(&model.kinds.patroni)
        .map(|(spec, st)| ExpectedPrimary {
            database: spec.name.clone(),
            member: st.leader().map(str::to_string),
        });
    let expected_primaries = model
        .config
        .kinds
        .postgres
        .iter()
        .zip(&model.kinds.postgres)
        .map(|(spec, state)| ExpectedPrimary {
            database: spec.name.clone(),
            member: match state.primaries().as_slice() {
                [one] => Some(spec.members[*one].name.clone()),
                _ => None,
            },
        })
        .chain(patroni_leaders)
        .collect::<Vec<_>>();
    // As people read them: a database member by its label, a Patroni member by its name.
    let sites = &model.config.sites;
    let primaries_text = model
        .config
        .kinds
        .postgres
        .iter()
        .zip(&model.kinds.postgres)
        .map(|(spec, state)| match state.primaries().as_slice() {
            [one] => format!("{}: {}", spec.name, member_label(sites, spec, *one)),
            _ => format!("{}: none", spec.name),
        })
        .chain(
            expected_primaries
                .iter()
                .skip(model.kinds.postgres.len())
                .map(|e| format!("{}: {}", e.database, e.member.as_deref().unwrap_or("none"))),
        )
        .collect::<Vec<_>>()
        .join(", ");
    let target = model.config.sites[runbook.to].key.clone();
    let steps = runbook.steps.iter().map(|s| s.title.clone()).collect();
    let at_arming = if primaries_text.is_empty() {
        String::new()
    } else {
        format!(" (primary at arming: {primaries_text})")
    };
    let incident_start = super::numbers::incident_start(model, runbook_index, class);
    let message = format!(
        "ARMED {} → {} ({}) by {}: {reason}{at_arming}",
        runbook.name,
        model.config.site_label(runbook.to),
        class.label(),
        model.operator
    );
    let event = Event::Armed {
        target,
        reason,
        steps,
        expected_primaries,
        class: Some(class),
        incident_start,
        plan,
    };
    fx.effects.push(Effect::Record(run_entry(
        model,
        &runbook.name,
        &id,
        event,
        Severity::Warn,
        message,
    )));
    model.runs.plan = Some(runbook_index);
    model.runs.shown = true;
    model.ui.focus = Pane::Run;
}

/// After any message: a driving console finishes waits and runs when their condition holds.
pub fn progress(model: &mut Model, now: OffsetDateTime, fx: &mut Fx) {
    if model.driver.token().is_none() {
        return;
    }
    super::plans::progress(model, fx);
    record_milestones(model, fx);
    let Some(run) = &model.runs.current else {
        return;
    };
    if !run.is_active() || run.dry_run {
        return;
    }
    if let Some(step) = run.running()
        && let Some(StepKind::Wait(wait)) = step_kind(model, step)
    {
        if model.runs.wait_ended == Some(step) {
            return;
        }
        let ev = evidence::wait(&model.run_world(), &wait);
        let started = run.steps[step].started.unwrap_or(now);
        let elapsed = std::time::Duration::try_from(now - started).unwrap_or_default();
        let timeout = match wait {
            Wait::Dns { timeout, .. } => timeout,
            // The executor reports its outcome.
            Wait::Writable { .. } => return,
        };
        let title = run.steps[step].title.clone();
        if ev.pass {
            let event = Event::StepFinished {
                step,
                phase: Phase::Do,
                result: runbook::StepResult::Ok,
                detail: ev.summary(),
                elapsed_ms: elapsed.as_millis() as u64,
            };
            record(
                model,
                fx,
                event,
                Severity::Ok,
                format!(
                    "step {} {title:?} ok after {}: {}",
                    step + 1,
                    crate::text::latency(elapsed),
                    ev.summary()
                ),
            );
            model.runs.in_flight = Some(step);
            model.runs.wait_ended = Some(step);
        } else if elapsed > timeout {
            let detail = format!(
                "timed out after {}: {}",
                crate::text::age(timeout),
                ev.summary()
            );
            let event = Event::StepFinished {
                step,
                phase: Phase::Do,
                result: runbook::StepResult::Failed,
                detail: detail.clone(),
                elapsed_ms: elapsed.as_millis() as u64,
            };
            record(
                model,
                fx,
                event,
                Severity::Crit,
                format!("step {} {title:?} FAILED: {detail}", step + 1),
            );
            model.runs.in_flight = Some(step);
            model.runs.wait_ended = Some(step);
        }
        return;
    }
    if run.cursor().is_none() && model.runs.in_flight.is_none() {
        model.runs.in_flight = Some(usize::MAX);
        record(
            model,
            fx,
            Event::Finished,
            Severity::Ok,
            format!("run {} finished", run.runbook),
        );
    }
}

/// Each point of the recovery, once, when it first holds.
fn record_milestones(model: &mut Model, fx: &mut Fx) {
    let target = model
        .runs
        .current
        .as_ref()
        .and_then(|r| model.config.site_by_key(&r.target))
        .map(|s| model.config.site_label(s).to_string())
        .unwrap_or_default();
    for (milestone, at) in super::numbers::due(model) {
        let what = match milestone {
            runbook::Milestone::Promoted => "promoted".to_string(),
            runbook::Milestone::DnsAccepted => "DNS change accepted".to_string(),
            runbook::Milestone::AllResolvers => format!("every resolver answers {target}"),
            runbook::Milestone::TargetServing => {
                format!("{target} serving (database, resolvers, health checks)")
            }
        };
        let severity = if milestone == runbook::Milestone::TargetServing {
            Severity::Ok
        } else {
            Severity::Info
        };
        record(
            model,
            fx,
            Event::Milestone { milestone, at },
            severity,
            format!("{what} at {} UTC", crate::text::clock(at)),
        );
        model.runs.milestones_sent.push(milestone);
    }
}

/// A journaled run entry (ours or another console's) changes the run.
pub fn on_journaled(model: &mut Model, entry: &Entry) {
    let Some(ev) = &entry.run else { return };
    if let Event::Resumed { interrupted } = &ev.event {
        let orphans = orphans(model, interrupted);
        model.runs.orphans.extend(orphans);
    }
    runbook::apply(&mut model.runs.current, entry, &model.config.runbooks);
    super::plans::on_journaled(model, entry);
    let clears = matches!(
        ev.event,
        Event::StepFinished { .. }
            | Event::GatePassed { .. }
            | Event::Skipped { .. }
            | Event::ManualDone { .. }
            | Event::StepRefused { .. }
            | Event::Finished
            | Event::Aborted { .. }
    );
    // An unknown outcome is followed at once by the executor's read-back: until that is
    // journaled the step is still busy, and a skip or retry now would race it.
    let read_back_follows = matches!(
        ev.event,
        Event::StepFinished {
            phase: Phase::Do,
            result: runbook::StepResult::Unknown,
            ..
        }
    );
    if clears && !read_back_follows {
        model.runs.in_flight = None;
        model.runs.wait_ended = None;
    }
    if let Event::StepFinished {
        step,
        phase: Phase::Do | Phase::Rollback,
        ..
    } = ev.event
    {
        model.runs.orphans.retain(|o| o.step != step);
    }
    if matches!(ev.event, Event::Armed { .. } | Event::DryRun { .. }) {
        model.runs.milestones_sent.clear();
        model.runs.orphans.clear();
        model.runs.shown = true;
        model.runs.in_flight = None;
        if let Some(run) = &model.runs.current {
            model.runs.plan = run.runbook_index;
        }
    }
    if let Some(run) = &model.runs.current
        && run.state != RunState::Active
        && model.runs.in_flight == Some(usize::MAX)
    {
        model.runs.in_flight = None;
    }
    // A real run that ended leaves its result on screen, not a plan ready to arm again; after a
    // dry run the plan stays open, since arming it is the natural next step.
    if matches!(ev.event, Event::Finished | Event::Aborted { .. })
        && model.runs.current.as_ref().is_some_and(|r| !r.dry_run)
    {
        model.runs.plan = None;
    }
}

/// A run event that lets the run go on could not be written: the run stays as it was (not
/// armed, the step not started or settled), and the operator is told why.
pub fn not_recorded(model: &mut Model, entry: &Entry, error: &str) {
    let Some(ev) = &entry.run else { return };
    if let Event::StepStarted { step, .. } = ev.event
        && model.runs.in_flight == Some(step)
    {
        model.runs.in_flight = None;
    }
    super::plans::not_recorded(model, entry);
    let what = match ev.event {
        Event::Armed { .. } | Event::PlanArmed { .. } => "not armed",
        Event::DryRun { .. } => "dry run not started",
        Event::StepStarted { .. } => "step not started",
        _ => "not done",
    };
    model.flash(format!("{what}: the journal write failed ({error})"));
}

/// Rebuilds the latest run from the record at start-up (its run events and the driver marks
/// among them, oldest first): a run event counts only if the driver of its time wrote it, as
/// it did when it came live. Ends knowing who drove last.
pub fn replay(model: &mut Model, entries: &[Entry]) {
    // A journal from before driver marks and tokens: its run events are taken as they are.
    let mut legacy = true;
    for entry in entries {
        legacy &= entry.driver.is_none() && entry.token.is_none();
        match &entry.driver {
            Some(crate::timeline::DriverMark::Took(info)) => model.holder = Some(info.clone()),
            Some(crate::timeline::DriverMark::Released { console, token })
                if model
                    .holder
                    .as_ref()
                    .is_some_and(|h| &h.console == console && h.token == *token) =>
            {
                model.holder = None;
            }
            Some(crate::timeline::DriverMark::Released { .. }) => {}
            None => {}
        }
        if entry.run.is_some() && (legacy || accept_foreign(model, entry).is_ok()) {
            on_journaled(model, entry);
        }
    }
    model.runs.shown = model.runs.current.as_ref().is_some_and(|r| r.is_active());
}

/// After a takeover: read back an action step whose outcome is unknown.
pub fn read_back_after_resume(model: &mut Model, step: usize, fx: &mut Fx) {
    if let Some(StepKind::Action(a)) = step_kind(model, step) {
        with_token(model, |model, token| {
            request(model, token, step, Phase::ReadBack, a.spec, fx)
        });
    }
}
