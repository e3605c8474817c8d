//! Run events: every arm, step start, outcome, skip, override and abort of a runbook run, as
//! carried in journal entries. A run's state is rebuilt from these alone.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunEvent {
    pub id: String,
    pub runbook: String,
    #[serde(flatten)]
    pub event: Event,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// A real run, armed by typing the target site and a reason.
    Armed {
        target: String,
        reason: String,
        steps: Vec<String>,
        expected_primaries: Vec<ExpectedPrimary>,
    },
    /// A dry run: every step evaluated, nothing executed.
    DryRun {
        target: String,
        steps: Vec<String>,
    },
    DryRunStep {
        step: usize,
        would: String,
        blocked: Option<String>,
    },
    StepStarted {
        step: usize,
        phase: Phase,
    },
    StepFinished {
        step: usize,
        phase: Phase,
        result: StepResult,
        detail: String,
        elapsed_ms: u64,
    },
    /// The console would not start the step (a guard failed); nothing was done.
    StepRefused {
        step: usize,
        reason: String,
    },
    GatePassed {
        step: usize,
        evidence: String,
    },
    GateOverridden {
        step: usize,
        reason: String,
        evidence: String,
    },
    Skipped {
        step: usize,
        reason: String,
    },
    ManualDone {
        step: usize,
    },
    /// The operator promoted although the old primary still answered as writable.
    SplitBrainAccepted {
        step: usize,
        evidence: String,
    },
    Aborted {
        reason: String,
    },
    Finished,
    /// A console took over an interrupted run (after a crash or a broken lock).
    Resumed {
        interrupted: Vec<usize>,
    },
}

impl Event {
    /// An event that lets the run go on (arms it, starts a step, settles one by the operator's
    /// word): it counts only once it is on disk, so a run never moves on what the journal does
    /// not hold. The others record what already happened or stop something (an outcome, a
    /// refusal, an abort), and are shown even when their write fails.
    pub fn needs_record(&self) -> bool {
        match self {
            Event::Armed { .. }
            | Event::DryRun { .. }
            | Event::StepStarted { .. }
            | Event::GatePassed { .. }
            | Event::GateOverridden { .. }
            | Event::Skipped { .. }
            | Event::ManualDone { .. }
            | Event::SplitBrainAccepted { .. } => true,
            Event::DryRunStep { .. }
            | Event::StepFinished { .. }
            | Event::StepRefused { .. }
            | Event::Aborted { .. }
            | Event::Finished
            | Event::Resumed { .. } => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    Do,
    ReadBack,
    Rollback,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepResult {
    Ok,
    Failed,
    Unknown,
    Applied,
    NotApplied,
    Unreadable,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectedPrimary {
    pub database: String,
    /// The member that was primary when the run was armed (None: there was none).
    pub member: Option<String>,
}
