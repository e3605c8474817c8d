//! An evacuation plan as the journal tells it: its arming, each runbook run armed inside it
//! (their `armed` entries carry the plan's id), skipped services and its end. Rebuilt by
//! `apply` from journal entries alone, like a run: the driver, a watcher and a console
//! resuming mid-plan see the same plan.

use time::OffsetDateTime;

use super::numbers;
use super::run::{RunState, RunView};
use crate::timeline::{Entry, Event, RunClass};

#[derive(Debug, Clone, PartialEq)]
pub struct PlanView {
    pub id: String,
    pub name: String,
    pub target: String,
    pub reason: String,
    pub class: RunClass,
    pub operator: Option<String>,
    pub armed_at: OffsetDateTime,
    pub items: Vec<PlanItem>,
    pub state: RunState,
    pub ended_at: Option<OffsetDateTime>,
}

/// One service's runbook in the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanItem {
    pub service: String,
    pub runbook: String,
    pub state: ItemState,
    /// Its run, as last journaled (kept once the next runbook's run is current).
    pub run: Option<RunView>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemState {
    Pending,
    /// Its runbook is armed and not ended.
    Running,
    /// Its run finished.
    Moved,
    Skipped(String),
    /// Its run was aborted with the plan.
    Aborted,
}

impl PlanView {
    pub fn is_active(&self) -> bool {
        self.state == RunState::Active
    }

    /// The entry whose runbook runs now.
    pub fn running(&self) -> Option<usize> {
        self.items
            .iter()
            .position(|i| i.state == ItemState::Running)
    }

    /// The next entry to arm.
    pub fn next_pending(&self) -> Option<usize> {
        self.items
            .iter()
            .position(|i| i.state == ItemState::Pending)
    }

    /// Whether `run` was armed by this plan.
    pub fn holds(&self, run: &RunView) -> bool {
        run.plan.as_deref() == Some(self.id.as_str())
    }
}

/// Applies a journaled entry, after `runbook::apply` has applied it to the current run
/// (`current`). A plan's arming starts a new current plan; anything else counts only for it.
pub fn apply(plan: &mut Option<PlanView>, entry: &Entry, current: Option<&RunView>) {
    let Some(ev) = &entry.run else { return };
    if let Event::PlanArmed {
        target,
        reason,
        class,
        runbooks,
    } = &ev.event
    {
        let items = runbooks
            .iter()
            .map(|r| {
                let (service, runbook) = r.split_once('/').unwrap_or(("", r));
                PlanItem {
                    service: service.to_string(),
                    runbook: runbook.to_string(),
                    state: ItemState::Pending,
                    run: None,
                }
            })
            .collect();
        *plan = Some(PlanView {
            id: ev.id.clone(),
            name: ev.runbook.clone(),
            target: target.clone(),
            reason: reason.clone(),
            class: *class,
            operator: entry.operator.clone(),
            armed_at: entry.at,
            items,
            state: RunState::Active,
            ended_at: None,
        });
        return;
    }
    let Some(p) = plan.as_mut() else { return };
    match &ev.event {
        Event::Armed { plan: Some(id), .. } if *id == p.id && p.is_active() => {
            if let Some(item) = p
                .items
                .iter_mut()
                .find(|i| i.state == ItemState::Pending && i.runbook == ev.runbook)
            {
                item.state = ItemState::Running;
                item.run = current.filter(|r| r.id == ev.id).cloned();
            }
        }
        Event::PlanSkipped { entry: i, reason } if ev.id == p.id => {
            if let Some(item) = p.items.get_mut(*i) {
                item.state = ItemState::Skipped(reason.clone());
            }
        }
        Event::PlanFinished if ev.id == p.id => {
            p.state = RunState::Finished;
            p.ended_at = Some(entry.at);
        }
        Event::PlanAborted { reason } if ev.id == p.id => {
            p.state = RunState::Aborted(reason.clone());
            p.ended_at = Some(entry.at);
            for item in p.items.iter_mut() {
                if item.state == ItemState::Running {
                    item.state = ItemState::Aborted;
                }
            }
        }
        _ => {
            // An event of a run inside the plan: its item follows it.
            let Some(item) = p
                .items
                .iter_mut()
                .find(|i| i.run.as_ref().is_some_and(|r| r.id == ev.id))
            else {
                return;
            };
            if let Some(run) = current.filter(|r| r.id == ev.id) {
                item.run = Some(run.clone());
            }
            match (&ev.event, &item.state) {
                (Event::Finished, ItemState::Running) => item.state = ItemState::Moved,
                (Event::Aborted { .. }, ItemState::Running) => item.state = ItemState::Aborted,
                _ => {}
            }
        }
    }
}

/// Every plan the entries tell, oldest first, each rebuilt by `apply` as the console does.
pub fn plans(entries: &[Entry]) -> Vec<PlanView> {
    let mut out = Vec::new();
    let mut run: Option<RunView> = None;
    let mut plan: Option<PlanView> = None;
    for e in entries {
        let Some(ev) = &e.run else { continue };
        if matches!(ev.event, Event::PlanArmed { .. })
            && let Some(done) = plan.take()
        {
            out.push(done);
        }
        super::apply(&mut run, e, &[]);
        apply(&mut plan, e, run.as_ref());
    }
    out.extend(plan);
    out
}

const SUMMARY: &str = "\n## Summary of runs\n";

/// The export's summary (`numbers::export_summary`), each plan first: its services in order
/// with their state and their runbook run's RTO and RPO.
pub fn export_summary(
    entries: &[Entry],
    objectives: &numbers::Objectives,
    sites: &crate::schema::Sites,
) -> String {
    let runs = numbers::export_summary(entries, objectives, sites);
    let plans = plans(entries);
    if plans.is_empty() {
        return runs;
    }
    let mut out = String::from(SUMMARY);
    for plan in &plans {
        plan_markdown(&mut out, plan, objectives, sites);
    }
    out.push_str(runs.strip_prefix(SUMMARY).unwrap_or(&runs));
    out
}

fn md(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

fn plan_markdown(
    out: &mut String,
    plan: &PlanView,
    objectives: &numbers::Objectives,
    sites: &crate::schema::Sites,
) {
    use std::fmt::Write;
    let stamp = |t: OffsetDateTime| {
        t.format(time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second]"
        ))
        .unwrap_or_default()
    };
    let state = match &plan.state {
        RunState::Active => "open".to_string(),
        RunState::Finished => "finished".to_string(),
        RunState::Aborted(why) => format!("aborted: {}", md(why)),
    };
    let _ = writeln!(
        out,
        "\n### Plan {} `{}` — {}\n",
        md(&plan.name),
        plan.id,
        plan.class.label()
    );
    let _ = writeln!(
        out,
        "- Armed {} UTC by {} toward {} ({state})",
        stamp(plan.armed_at),
        md(plan.operator.as_deref().unwrap_or("?")),
        md(&numbers::target_label(sites, &plan.target))
    );
    let _ = writeln!(out, "- Reason: {}", md(&plan.reason));
    let _ = writeln!(out, "\n| Service | Runbook | State | RTO | RPO |");
    let _ = writeln!(out, "|---|---|---|---|---|");
    for item in &plan.items {
        let state = match &item.state {
            ItemState::Pending => "not run".to_string(),
            ItemState::Running => "open".to_string(),
            ItemState::Moved => "moved".to_string(),
            ItemState::Skipped(why) => format!("skipped: {why}"),
            ItemState::Aborted => "aborted".to_string(),
        };
        // A service that did not move has no recovery to measure.
        let (rto, rpo) = match item.run.as_ref().filter(|_| item.state == ItemState::Moved) {
            Some(run) => {
                let f = numbers::figures(run, objectives);
                let rto = f.rto.map(numbers::dur).unwrap_or_else(|| "-".into());
                (rto, numbers::rpo_figure(&f))
            }
            None => ("-".into(), "-".into()),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            md(&item.service),
            md(&item.runbook),
            md(&state),
            md(&rto),
            md(&rpo)
        );
    }
}
