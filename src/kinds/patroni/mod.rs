//! `[[database]] kind = "patroni"`: the REST API client, the cluster's poller, and the
//! patroni-switchover / patroni-failover actions.

mod actions;
pub mod client;
mod source;

use failover_core::kinds::Patroni;
use failover_core::kinds::patroni::PatroniCluster;
use tokio::task::JoinSet;

pub use actions::{execute, preflight, read_back};

use super::{Pollers, Sender, Source};

impl Source for Patroni {
    fn spawn(specs: &[PatroniCluster], tx: &Sender, pollers: &mut Pollers) {
        for (i, spec) in specs.iter().enumerate() {
            let poller = source::Poller::new(i, spec.clone());
            let tx = tx.clone();
            let name = failover_core::kinds::patroni::source(spec);
            pollers.spawn(vec![name], async move { poller.run(tx).await });
        }
    }

    fn read_once(specs: &[PatroniCluster], tx: &Sender, tasks: &mut JoinSet<()>) {
        for (i, spec) in specs.iter().enumerate() {
            let poller = source::Poller::new(i, spec.clone());
            let tx = tx.clone();
            tasks.spawn(async move {
                let _ = tx.send(poller.once().await).await;
            });
        }
    }
}
