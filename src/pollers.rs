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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_poller_that_panics_is_named_by_its_sources() {
        let mut pollers = Pollers::default();
        pollers.spawn(vec!["health/quiet".into()], async {});
        pollers.spawn(vec!["dns/api A @127.0.0.1:53".into()], async {
            panic!("resolver gone mad")
        });
        let (sources, panic) =
            tokio::time::timeout(std::time::Duration::from_secs(1), pollers.panicked())
                .await
                .expect("the panic is seen");
        assert_eq!(sources, vec!["dns/api A @127.0.0.1:53".to_string()]);
        assert!(panic.starts_with("resolver gone mad"), "{panic}");
        // None left to panic: pending, not a busy loop.
        let next =
            tokio::time::timeout(std::time::Duration::from_millis(20), pollers.panicked()).await;
        assert!(next.is_err());
    }
}
