//! Polls a Patroni cluster (`[[database]] kind = "patroni"`): every member's own view and the
//! cluster as the first member that answers sees it (see `crate::patroni`).

use std::time::Duration;

use crate::config::patroni::PatroniCluster;
use crate::observe::Observation;
use crate::patroni::{Client, Reading};

pub struct Poller {
    index: usize,
    spec: PatroniCluster,
    client: Client,
}

impl Poller {
    pub fn new(index: usize, spec: PatroniCluster) -> Poller {
        let client = Client::new(&spec, spec.timeout);
        Poller {
            index,
            spec,
            client,
        }
    }

    pub async fn once(&self) -> Observation {
        // Two rounds of requests, each bounded by the client's timeout; this bounds the sum.
        let bound = self.spec.timeout * 2 + Duration::from_millis(500);
        let reading =
            match tokio::time::timeout(bound, self.client.read(&self.spec.endpoints)).await {
                Ok(r) => r,
                Err(_) => Reading {
                    nodes: self
                        .spec
                        .endpoints
                        .iter()
                        .map(|_| Err("no answer in time".to_string()))
                        .collect(),
                    cluster: Err(format!(
                        "no answer within {}",
                        crate::ui::format::latency(bound)
                    )),
                    history: None,
                    max_lag_on_failover: None,
                },
            };
        Observation::Patroni {
            cluster: self.index,
            at: time::OffsetDateTime::now_utc(),
            reading,
        }
    }

    pub async fn run(self, tx: super::Sender) {
        let interval = self.spec.interval;
        super::every(interval, Duration::ZERO, || async {
            tx.send(self.once().await).await.is_ok()
        })
        .await
    }
}
