//! Run events: every arm, step start, outcome, skip, override and abort of a runbook run, as
//! carried in journal entries. A run's state is rebuilt from these alone.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

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
        /// None in journals from before run classes: "unclassified".
        #[serde(default, skip_serializing_if = "Option::is_none")]
        class: Option<RunClass>,
        /// Where the RTO counts from: for an unplanned failover the start of the source site's
        /// failing episode (None: not found, the RTO counts from arming); else the arming.
        #[serde(
            default,
            with = "time::serde::rfc3339::option",
            skip_serializing_if = "Option::is_none"
        )]
        incident_start: Option<OffsetDateTime>,
        /// The evacuation plan's run id, for a runbook armed by a plan.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        plan: Option<String>,
    },
    /// An evacuation plan armed (its `RunEvent` carries the plan's id and name): its
    /// runbooks are then armed one after another, each with the plan's id.
    PlanArmed {
        target: String,
        reason: String,
        class: RunClass,
        /// Its entries, `service/runbook`, in order.
        runbooks: Vec<String>,
    },
    /// One entry of the plan (its service) skipped by the operator; the plan goes on.
    PlanSkipped {
        entry: usize,
        reason: String,
    },
    /// Every entry of the plan moved or skipped.
    PlanFinished,
    /// The whole plan aborted.
    PlanAborted {
        reason: String,
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
    /// The promoted member's lag at its last reading before the promote step started.
    LagAtPromote {
        step: usize,
        lag: PromoteLag,
    },
    /// A point of the recovery, journaled once by the driver when it first held.
    Milestone {
        milestone: Milestone,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
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
            | Event::PlanArmed { .. }
            | Event::PlanSkipped { .. }
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
            | Event::LagAtPromote { .. }
            | Event::Milestone { .. }
            | Event::Resumed { .. }
            | Event::PlanFinished
            | Event::PlanAborted { .. } => false,
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

/// What kind of run the operator armed: it decides where the RTO counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunClass {
    Unplanned,
    Planned,
    Drill,
}

impl RunClass {
    pub fn label(self) -> &'static str {
        match self {
            RunClass::Unplanned => "unplanned failover",
            RunClass::Planned => "planned switchover",
            RunClass::Drill => "drill",
        }
    }

    /// The next class, for Tab in the reason prompt.
    pub fn next(self) -> RunClass {
        match self {
            RunClass::Unplanned => RunClass::Planned,
            RunClass::Planned => RunClass::Drill,
            RunClass::Drill => RunClass::Unplanned,
        }
    }
}

/// The points of a run's recovery that the RTO breakdown is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Milestone {
    /// The promote step finished ok (its end).
    Promoted,
    /// The last DNS-changing step finished ok (its end).
    DnsAccepted,
    /// Every resolver of every [[dns]] record answers the target site.
    AllResolvers,
    /// The database primary, every resolver and every health check of the target site agree.
    TargetServing,
}

/// The lag of the member being promoted, as last read before the promote step. Bytes and
/// seconds are each known or not; unknown is never written as 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromoteLag {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
    /// Where the figure came from: "pg_stat_replication", "Patroni", "CloudWatch ReplicaLag"...
    pub source: String,
    /// How long before the promote step the figure was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_ms: Option<u64>,
    /// The old primary (or the figure's source) could not be read at promotion: the real lag
    /// may be larger than this last known figure.
    #[serde(default)]
    pub lower_bound: bool,
}
