//! Evacuation plans, as pure logic: arming one (one typed confirmation), arming its runbooks
//! one after another as each ends, skipping a service, aborting the whole plan. Like a run,
//! the plan changes only when its events come back from the journal (`runbook::evac`).

use super::model::{Model, Purpose};
use super::runs::{Decision, Refusal, RunKey};
use super::update::{Effect, Fx};
use crate::runbook::evac::{self, PlanView};
use crate::runbook::{self, Event, RunClass};
use crate::timeline::{Entry, Severity};

/// The plan side of the model.
#[derive(Debug, Default)]
pub struct Plans {
    /// The `[[plan]]` whose runbooks and gates are shown before arming.
    pub open: Option<usize>,
    /// The current plan, rebuilt from journaled events only.
    pub current: Option<PlanView>,
    /// The current plan is on the run pane (until Esc closes it once it has ended).
    pub shown: bool,
    /// This console recorded the plan's next arming or its end and has not seen it
    /// journaled yet: recorded once.
    pub sent: bool,
}

/// The plan in progress, if any.
pub fn active(model: &Model) -> Option<&PlanView> {
    model.runs.evac.current.as_ref().filter(|p| p.is_active())
}

/// The current run belongs to the plan in progress and is not ended.
fn run_in_plan(model: &Model) -> bool {
    match (active(model), &model.runs.current) {
        (Some(plan), Some(run)) => run.is_active() && plan.holds(run),
        _ => false,
    }
}

/// What a run key does because of a plan (in progress, or open before arming); None: the
/// run keys decide as without plans.
pub fn decide(model: &Model, key: RunKey) -> Option<Result<Decision, Refusal>> {
    let say = |why: String| Some(Err(Refusal::Say(why)));
    let Some(plan) = active(model) else {
        return match key {
            RunKey::SkipService => say("no plan in progress".into()),
            _ if model.runs.current.as_ref().is_some_and(|r| r.is_active()) => None,
            _ if model.runs.plan.is_some() => None,
            RunKey::Act => model
                .runs
                .evac
                .open
                .map(|plan| Ok(Decision::Ask(Purpose::ArmPlanSite { plan }))),
            RunKey::DryRun if model.runs.evac.open.is_some() => {
                say("a plan has no dry run: dry-run its runbooks one by one (r)".into())
            }
            _ => None,
        };
    };
    let in_run = run_in_plan(model);
    match key {
        RunKey::SkipService => {
            let running = model.runs.current.as_ref().and_then(|r| r.running());
            match plan.running() {
                _ if model.runs.in_flight.is_some() || running.is_some() => {
                    say("a step is running: wait for its outcome".into())
                }
                Some(entry) if in_run => {
                    Some(Ok(Decision::Ask(Purpose::SkipServiceReason { entry })))
                }
                _ => Some(Err(Refusal::Quiet)),
            }
        }
        RunKey::Abort if !in_run => Some(Ok(Decision::Ask(Purpose::AbortWord))),
        RunKey::Runbooks => Some(Ok(Decision::ShowRun)),
        RunKey::Act | RunKey::DryRun if !in_run => say(format!(
            "plan {} in progress: its next runbook is armed by itself",
            plan.name
        )),
        _ => None,
    }
}

/// A journaled entry (ours or the driver's), after the run has taken it.
pub fn on_journaled(model: &mut Model, entry: &Entry) {
    let Some(ev) = &entry.run else { return };
    evac::apply(
        &mut model.runs.evac.current,
        entry,
        model.runs.current.as_ref(),
    );
    match &ev.event {
        Event::PlanArmed { .. } => {
            model.runs.evac.sent = false;
            model.runs.evac.open = None;
            model.runs.evac.shown = true;
            model.runs.shown = true;
        }
        Event::Armed { plan: Some(_), .. } => model.runs.evac.sent = false,
        // An ended plan stays on screen, not ready to arm again.
        Event::PlanFinished | Event::PlanAborted { .. } => {
            model.runs.evac.sent = false;
            model.runs.evac.open = None;
        }
        _ => {}
    }
}

/// A plan event this console wrote could not be recorded: it may be tried again.
pub fn not_recorded(model: &mut Model, entry: &Entry) {
    if let Some(Event::Armed { plan: Some(_), .. } | Event::PlanArmed { .. }) =
        entry.run.as_ref().map(|r| &r.event)
    {
        model.runs.evac.sent = false;
    }
}

/// After any message, on the driving console: once the plan's current runbook has ended, the
/// next one is armed (journaled, no second confirmation); once none is left, the plan ends.
pub fn progress(model: &mut Model, fx: &mut Fx) {
    if model.runs.evac.sent || model.runs.in_flight.is_some() {
        return;
    }
    let Some(plan) = active(model) else { return };
    if run_in_plan(model) || plan.running().is_some() {
        return;
    }
    let (id, name) = (plan.id.clone(), plan.name.clone());
    match plan.next_pending() {
        Some(i) => {
            let item = &plan.items[i];
            let Some(runbook) = model
                .config
                .runbooks
                .iter()
                .position(|r| r.name == item.runbook)
            else {
                return;
            };
            let (reason, class) = (plan.reason.clone(), plan.class);
            let reason = format!("plan {name}: {reason}");
            model.runs.evac.sent = true;
            super::runs::arm_in_plan(model, runbook, reason, class, id, fx);
        }
        None => {
            let moved = plan
                .items
                .iter()
                .filter(|i| i.state == evac::ItemState::Moved)
                .count();
            let message = format!(
                "plan {name} finished: {moved} of {} services moved",
                plan.items.len()
            );
            model.runs.evac.sent = true;
            record(
                model,
                &id,
                &name,
                Event::PlanFinished,
                Severity::Ok,
                message,
                fx,
            );
        }
    }
}

fn record(
    model: &Model,
    id: &str,
    name: &str,
    event: Event,
    severity: Severity,
    message: String,
    fx: &mut Fx,
) {
    let mut entry = super::runs::run_entry(model, name, id, event, severity, message);
    entry.source = format!("plan/{name}");
    fx.effects.push(Effect::Record(entry));
}

/// A plan prompt answered; false: not a plan prompt.
pub fn answered(model: &mut Model, purpose: &Purpose, text: &str, fx: &mut Fx) -> bool {
    match purpose {
        Purpose::ArmPlanSite { plan } => {
            let expected = model.config.sites[model.config.plans[*plan].to].key.clone();
            if text == expected {
                let first = model.config.plans[*plan].entries[0].runbook;
                let class = super::numbers::preselected(model, first);
                model.ui.overlay = super::model::Overlay::Prompt(super::model::Prompt {
                    purpose: Purpose::ArmPlanReason { plan: *plan, class },
                    input: Default::default(),
                });
            } else {
                model.flash(format!("{text:?} is not {expected:?}: nothing armed"));
            }
        }
        Purpose::ArmPlanReason { plan, class } if !text.is_empty() => {
            arm(model, *plan, text.to_string(), *class, fx)
        }
        Purpose::SkipServiceReason { entry } if !text.is_empty() => skip(model, *entry, text, fx),
        Purpose::ArmPlanReason { .. } | Purpose::SkipServiceReason { .. } => {
            model.flash("a reason is required: nothing done")
        }
        _ => return false,
    }
    true
}

fn arm(model: &mut Model, index: usize, reason: String, class: RunClass, fx: &mut Fx) {
    let plan = model.config.plans[index].clone();
    let id = runbook::new_id(&format!("plan-{}", plan.name), model.now);
    let runbooks: Vec<String> = plan
        .entries
        .iter()
        .map(|e| {
            format!(
                "{}/{}",
                model.config.services[e.service].name, model.config.runbooks[e.runbook].name
            )
        })
        .collect();
    let message = format!(
        "PLAN ARMED {} → {} ({}) by {}: {reason}; runbooks in order: {}",
        plan.name,
        model.config.site_label(plan.to),
        class.label(),
        model.operator,
        runbooks.join(", ")
    );
    let event = Event::PlanArmed {
        target: model.config.sites[plan.to].key.clone(),
        reason,
        class,
        runbooks,
    };
    model.runs.plan = None;
    model.runs.shown = true;
    model.ui.focus = super::model::Pane::Run;
    record(model, &id, &plan.name, event, Severity::Warn, message, fx);
}

/// The service's run ends (aborted, as skipped) and the plan goes on with the next.
fn skip(model: &mut Model, entry: usize, reason: &str, fx: &mut Fx) {
    let Some(plan) = active(model) else { return };
    let (id, name) = (plan.id.clone(), plan.name.clone());
    let service = plan
        .items
        .get(entry)
        .map(|i| i.service.clone())
        .unwrap_or_default();
    // The skip first: the run's abort that follows must not read as the plan's.
    record(
        model,
        &id,
        &name,
        Event::PlanSkipped {
            entry,
            reason: reason.to_string(),
        },
        Severity::Warn,
        format!(
            "plan {name}: service {service} SKIPPED by {}: {reason}",
            model.operator
        ),
        fx,
    );
    if let Some(run) = model.runs.current.as_ref().filter(|r| r.is_active()) {
        let entry = super::runs::run_entry(
            model,
            &run.runbook,
            &run.id,
            Event::Aborted {
                reason: format!("service {service} skipped in plan {name}: {reason}"),
            },
            Severity::Warn,
            format!("run ABORTED: service {service} skipped in plan {name}: {reason}"),
        );
        fx.effects.push(Effect::Record(entry));
    }
}

/// Before a run's abort is recorded: in a plan, the whole plan ends first (so nothing is
/// armed after the run's end).
pub fn on_abort(model: &Model, reason: &str, fx: &mut Fx) {
    let Some(plan) = active(model) else { return };
    let (id, name) = (plan.id.clone(), plan.name.clone());
    record(
        model,
        &id,
        &name,
        Event::PlanAborted {
            reason: reason.to_string(),
        },
        Severity::Warn,
        format!("plan {name} ABORTED: {reason}"),
        fx,
    );
}
