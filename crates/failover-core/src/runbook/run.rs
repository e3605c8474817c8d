//! A run as the journal tells it. A run's state is never kept anywhere but in the journal: every
//! arm, step start, outcome, skip, override and abort is a `RunEvent` in a journal entry, and
//! `apply` rebuilds the run from them. The driving console, a watcher tailing the same journal,
//! and a console resuming after a crash all see the same run through the same code.

use time::OffsetDateTime;

use super::spec::Runbook;
use crate::timeline::{
    Entry, Event, ExpectedPrimary, Milestone, Phase, PromoteLag, RunClass, StepResult,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepStatus {
    Pending,
    Running,
    Ok,
    Failed,
    Skipped,
    /// It may or may not have happened: read back before anything else.
    Unknown,
}

impl StepStatus {
    pub fn label(self) -> &'static str {
        match self {
            StepStatus::Pending => "pending",
            StepStatus::Running => "running",
            StepStatus::Ok => "ok",
            StepStatus::Failed => "FAILED",
            StepStatus::Skipped => "skipped",
            StepStatus::Unknown => "UNKNOWN",
        }
    }

    fn settled(self) -> bool {
        matches!(self, StepStatus::Ok | StepStatus::Skipped)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct StepView {
    pub title: String,
    pub status: StepStatus,
    pub phase: Phase,
    pub detail: String,
    pub started: Option<OffsetDateTime>,
    pub finished: Option<OffsetDateTime>,
    pub overridden: bool,
    /// The rollback's outcome, once one ran.
    pub rollback: Option<(StepStatus, String)>,
    /// Which console started its last do or rollback phase, under which driver token: only
    /// that console's outcome is taken for it once another console drives.
    pub started_by: Option<Starter>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Starter {
    pub console: String,
    pub token: Option<u64>,
    pub phase: Phase,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunState {
    Active,
    Finished,
    Aborted(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct RunView {
    pub id: String,
    pub runbook: String,
    /// Index into `config.runbooks`, if the runbook still exists.
    pub runbook_index: Option<usize>,
    pub operator: Option<String>,
    pub reason: String,
    pub target: String,
    pub dry_run: bool,
    pub armed_at: OffsetDateTime,
    pub expected_primaries: Vec<ExpectedPrimary>,
    pub steps: Vec<StepView>,
    pub state: RunState,
    /// The runbook's steps in config differ from those the run was armed with.
    pub config_changed: bool,
    /// Output of the running command, newest last (not journaled line by line).
    pub output: Vec<String>,
    /// None: armed by a console from before run classes (or a dry run).
    pub class: Option<RunClass>,
    /// Where the RTO counts from, as journaled at arming (None: from arming).
    pub incident_start: Option<OffsetDateTime>,
    /// The promoted member's lag before the promote step, once journaled.
    pub lag_at_promote: Option<PromoteLag>,
    /// The recovery's points, as journaled (each once).
    pub milestones: Milestones,
    /// When the run finished or was aborted.
    pub ended_at: Option<OffsetDateTime>,
    /// The evacuation plan's run id, for a runbook armed by a plan.
    pub plan: Option<String>,
}

/// When each point of the recovery was first seen to hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Milestones {
    pub promoted: Option<OffsetDateTime>,
    pub dns_accepted: Option<OffsetDateTime>,
    pub all_resolvers: Option<OffsetDateTime>,
    pub target_serving: Option<OffsetDateTime>,
}

impl Milestones {
    pub fn get(&self, m: Milestone) -> Option<OffsetDateTime> {
        match m {
            Milestone::Promoted => self.promoted,
            Milestone::DnsAccepted => self.dns_accepted,
            Milestone::AllResolvers => self.all_resolvers,
            Milestone::TargetServing => self.target_serving,
        }
    }

    fn slot(&mut self, m: Milestone) -> &mut Option<OffsetDateTime> {
        match m {
            Milestone::Promoted => &mut self.promoted,
            Milestone::DnsAccepted => &mut self.dns_accepted,
            Milestone::AllResolvers => &mut self.all_resolvers,
            Milestone::TargetServing => &mut self.target_serving,
        }
    }
}

impl RunView {
    /// The step the operator acts on next: the first not done or skipped.
    pub fn cursor(&self) -> Option<usize> {
        self.steps.iter().position(|s| !s.status.settled())
    }

    pub fn is_active(&self) -> bool {
        self.state == RunState::Active
    }

    pub fn running(&self) -> Option<usize> {
        self.steps
            .iter()
            .position(|s| s.status == StepStatus::Running)
    }

    /// The last step that completed and has a rollback that has not run yet.
    pub fn rollback_candidate(&self, runbooks: &[Runbook]) -> Option<usize> {
        let runbook = runbooks.get(self.runbook_index?)?;
        (0..self.steps.len())
            .rev()
            .find(|i| {
                self.steps[*i].status == StepStatus::Ok
                    && runbook.steps.get(*i).is_some_and(|s| s.rollback.is_some())
            })
            .filter(|i| self.steps[*i].rollback.is_none())
    }

    /// Marks steps left running by a console that is gone: their outcome is unknown.
    pub fn interrupted(&mut self) -> Vec<usize> {
        let mut found = Vec::new();
        for (i, step) in self.steps.iter_mut().enumerate() {
            if step.status == StepStatus::Running {
                step.status = StepStatus::Unknown;
                step.detail = "interrupted: the console stopped while this ran; read back before anything else".into();
                found.push(i);
            }
        }
        found
    }
}

/// Applies a journaled run event. Events for another run than the current one are ignored,
/// except an arm or dry-run, which starts a new current run.
pub fn apply(current: &mut Option<RunView>, entry: &Entry, runbooks: &[Runbook]) {
    let Some(ev) = &entry.run else { return };
    let at = entry.at;
    let new_run = |target: &String,
                   reason: String,
                   steps: &Vec<String>,
                   dry_run: bool,
                   expected: Vec<ExpectedPrimary>,
                   class: Option<RunClass>,
                   incident_start: Option<OffsetDateTime>| {
        let runbook_index = runbooks.iter().position(|r| r.name == ev.runbook);
        let config_changed = runbook_index
            .is_none_or(|i| runbooks[i].steps.iter().map(|s| &s.title).ne(steps.iter()));
        RunView {
            id: ev.id.clone(),
            runbook: ev.runbook.clone(),
            runbook_index,
            operator: entry.operator.clone(),
            reason,
            target: target.clone(),
            dry_run,
            armed_at: at,
            expected_primaries: expected,
            steps: steps
                .iter()
                .map(|t| StepView {
                    title: t.clone(),
                    status: StepStatus::Pending,
                    phase: Phase::Do,
                    detail: String::new(),
                    started: None,
                    finished: None,
                    overridden: false,
                    rollback: None,
                    started_by: None,
                })
                .collect(),
            state: RunState::Active,
            config_changed,
            output: Vec::new(),
            class,
            incident_start,
            lag_at_promote: None,
            milestones: Milestones::default(),
            ended_at: None,
            plan: None,
        }
    };
    match &ev.event {
        Event::Armed {
            target,
            reason,
            steps,
            expected_primaries,
            class,
            incident_start,
            plan,
        } => {
            let mut run = new_run(
                target,
                reason.clone(),
                steps,
                false,
                expected_primaries.clone(),
                *class,
                *incident_start,
            );
            run.plan = plan.clone();
            *current = Some(run);
            return;
        }
        Event::DryRun { target, steps } => {
            *current = Some(new_run(
                target,
                "dry run".into(),
                steps,
                true,
                Vec::new(),
                None,
                None,
            ));
            return;
        }
        _ => {}
    }
    let Some(run) = current.as_mut().filter(|r| r.id == ev.id) else {
        return;
    };
    match &ev.event {
        Event::Armed { .. } | Event::DryRun { .. } => {}
        // The plan's own events: see `runbook::evac`.
        Event::PlanArmed { .. }
        | Event::PlanSkipped { .. }
        | Event::PlanFinished
        | Event::PlanAborted { .. } => {}
        Event::DryRunStep {
            step,
            would,
            blocked,
        } => {
            if let Some(s) = run.steps.get_mut(*step) {
                s.status = if blocked.is_some() {
                    StepStatus::Failed
                } else {
                    StepStatus::Ok
                };
                s.detail = match blocked {
                    Some(b) => format!("would block: {b}"),
                    None => format!("would: {would}"),
                };
                s.finished = Some(at);
            }
        }
        Event::StepStarted { step, phase } => {
            if let Some(s) = run.steps.get_mut(*step) {
                if *phase != Phase::ReadBack {
                    s.started_by = entry.console.clone().map(|console| Starter {
                        console,
                        token: entry.token,
                        phase: *phase,
                    });
                }
                match phase {
                    Phase::Rollback => {
                        s.rollback = Some((StepStatus::Running, "rolling back".into()))
                    }
                    _ => {
                        s.status = StepStatus::Running;
                        s.phase = *phase;
                        s.started = Some(at);
                        s.finished = None;
                        s.detail = if *phase == Phase::ReadBack {
                            "reading the state back".into()
                        } else {
                            String::new()
                        };
                        if *phase == Phase::Do {
                            run.output.clear();
                        }
                    }
                }
            }
        }
        Event::StepFinished {
            step,
            phase,
            result,
            detail,
            ..
        } => {
            if let Some(s) = run.steps.get_mut(*step) {
                let status = match result {
                    StepResult::Ok | StepResult::Applied => StepStatus::Ok,
                    StepResult::Failed | StepResult::NotApplied => StepStatus::Failed,
                    StepResult::Unknown | StepResult::Unreadable => StepStatus::Unknown,
                };
                // A read-back that ends after the step's own outcome came in (a previous
                // driver's, late) read the world before that outcome: the outcome stands.
                let stale_read_back = *phase == Phase::ReadBack
                    && !(s.status == StepStatus::Running && s.phase == Phase::ReadBack);
                match phase {
                    Phase::Rollback => s.rollback = Some((status, detail.clone())),
                    Phase::ReadBack if stale_read_back => {}
                    Phase::Do | Phase::ReadBack => {
                        s.status = status;
                        s.phase = *phase;
                        s.finished = Some(at);
                        s.detail = match (phase, result) {
                            (Phase::ReadBack, StepResult::Applied) => {
                                format!("verified by read-back: {detail}")
                            }
                            (Phase::ReadBack, StepResult::NotApplied) => {
                                format!("read back: not applied ({detail}); Enter retries")
                            }
                            (Phase::ReadBack, _) => {
                                format!("read back failed: {detail}; v reads again")
                            }
                            _ => detail.clone(),
                        };
                    }
                }
            }
        }
        Event::StepRefused { step, reason } => {
            if let Some(s) = run.steps.get_mut(*step) {
                s.detail = format!("refused: {reason}");
                // A start that reached the record late, then refused: it never ran.
                if s.status == StepStatus::Running && s.phase == Phase::Do {
                    s.status = StepStatus::Pending;
                    s.started = None;
                    s.started_by = None;
                }
            }
        }
        Event::GatePassed { step, evidence } => {
            if let Some(s) = run.steps.get_mut(*step) {
                s.status = StepStatus::Ok;
                s.detail = evidence.clone();
                s.finished = Some(at);
            }
        }
        Event::GateOverridden { step, reason, .. } => {
            if let Some(s) = run.steps.get_mut(*step) {
                s.status = StepStatus::Ok;
                s.overridden = true;
                s.detail = format!(
                    "OVERRIDDEN by {}: {reason}",
                    entry.operator.as_deref().unwrap_or("?")
                );
                s.finished = Some(at);
            }
        }
        Event::Skipped { step, reason } => {
            if let Some(s) = run.steps.get_mut(*step) {
                s.status = StepStatus::Skipped;
                s.detail = format!(
                    "skipped by {}: {reason}",
                    entry.operator.as_deref().unwrap_or("?")
                );
                s.finished = Some(at);
            }
        }
        Event::ManualDone { step } => {
            if let Some(s) = run.steps.get_mut(*step) {
                s.status = StepStatus::Ok;
                s.detail = format!(
                    "done, confirmed by {}",
                    entry.operator.as_deref().unwrap_or("?")
                );
                s.finished = Some(at);
            }
        }
        Event::SplitBrainAccepted { .. } => {}
        Event::Aborted { reason } => {
            run.state = RunState::Aborted(reason.clone());
            run.ended_at = Some(at);
        }
        Event::Finished => {
            run.state = RunState::Finished;
            run.ended_at = Some(at);
        }
        Event::LagAtPromote { lag, .. } => run.lag_at_promote = Some(lag.clone()),
        Event::Milestone { milestone, at } => {
            let slot = run.milestones.slot(*milestone);
            if slot.is_none() {
                *slot = Some(*at);
            }
        }
        Event::Resumed { interrupted } => {
            for i in interrupted {
                if let Some(s) = run.steps.get_mut(*i)
                    && s.status == StepStatus::Running
                {
                    s.status = StepStatus::Unknown;
                    s.detail = "interrupted: the console stopped while this ran; read back before anything else".into();
                }
            }
        }
    }
}

/// A run id that sorts by time and says what it was.
pub fn new_id(runbook: &str, at: OffsetDateTime) -> String {
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z-{}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        runbook
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect::<String>()
    )
}
