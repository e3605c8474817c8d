//! The pollers' tasks, named: which sources each one reads, so that a poller that panics shows
//! as an edge naming them instead of leaving its sources silently stale.

use std::collections::HashMap;
use std::future::Future;

use tokio::task::JoinSet;

/// The pollers' tasks, each with the sources it reads (as the timeline names them), so that a
/// poller that panics is named, not silently missing.
#[derive(Default)]
pub struct Pollers {
    tasks: JoinSet<()>,
    sources: HashMap<tokio::task::Id, Vec<String>>,
}

impl Pollers {
    pub fn spawn<F>(&mut self, sources: Vec<String>, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let handle = self.tasks.spawn(crate::test_hooks::poller(&sources, task));
        self.sources.insert(handle.id(), sources);
    }

    /// The next poller that panics: the sources it read and the panic. Pending while none does.
    pub async fn panicked(&mut self) -> (Vec<String>, String) {
        loop {
            match self.tasks.join_next_with_id().await {
                None => std::future::pending::<()>().await,
                Some(Ok((id, ()))) => {
                    self.sources.remove(&id);
                }
                Some(Err(e)) => {
                    let sources = self.sources.remove(&e.id()).unwrap_or_default();
                    if e.is_panic() {
                        return (sources, crate::crash::describe(&*e.into_panic()));
                    }
                }
            }
        }
    }

    pub fn abort_all(&mut self) {
        self.tasks.abort_all();
    }
}
