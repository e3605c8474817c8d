//! What a runbook step does to the world: the only code that writes to infrastructure. It is
//! reached only through an `Executor`, which only a driving console constructs. The kind-less
//! actions live here (a command, a webhook); each kind's own live in its folder, and
//! `kinds::Action for ActionSpec` names them all.

pub mod exec;
pub mod webhook;

use std::future::Future;

use failover_core::actions::{Outcome, ReadBack};
use tokio::sync::mpsc;

/// Lines of output while an action runs (exec's stdout/stderr), for the run pane.
pub type OutputSink = mpsc::Sender<String>;

/// What every action does, besides describing itself (the core's `describe`, never with
/// secrets): check what would block it without changing anything, run, and read the world back
/// to say whether it took effect, which is how an unknown outcome is resolved before any retry.
pub trait Action {
    /// The plan as the dry run records it: `describe()`, except where the action can say more
    /// by reading (never writing) the world now.
    fn plan(&self) -> impl Future<Output = Vec<String>> + Send;
    /// Problems that would stop it, found without changing anything.
    fn preflight(&self) -> impl Future<Output = Vec<String>> + Send;
    fn execute(&self, output: &OutputSink) -> impl Future<Output = Outcome> + Send;
    fn read_back(&self) -> impl Future<Output = ReadBack> + Send;
}
