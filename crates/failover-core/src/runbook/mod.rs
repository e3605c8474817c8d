//! Runbooks: how they are configured (steps, their kinds and keys), what each step will call
//! (the plan), what a gate or wait sees now (evidence), and a run as the journal tells it.

pub mod evac;
pub mod evidence;
mod keys;
pub mod numbers;
pub mod plan;
mod run;
mod spec;
mod steps;

pub use crate::kinds::Evidence;
pub use crate::timeline::{
    Event, ExpectedPrimary, Milestone, Phase, PromoteLag, RunClass, RunEvent, StepResult,
};
pub use keys::StepKeys;
pub use run::{Milestones, RunState, RunView, Starter, StepStatus, StepView, apply, new_id};
pub use spec::{ActionStep, Gate, Rollback, Runbook, RunbookFile, Step, StepKind, Wait};
pub use steps::runbook as parse;
