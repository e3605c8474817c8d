//! Polls a Patroni cluster (`[[database]] kind = "patroni"`): every member's own view and the
//! cluster as the first member that answers sees it (see `client`).

use std::time::Duration;

use failover_core::kinds::Observation;
use failover_core::kinds::patroni::{PatroniCluster, Reading};

use super::client::Client;

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
        let bound = self
            .spec
            .timeout
            .saturating_mul(2)
            .saturating_add(Duration::from_millis(500));
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
                        failover_core::text::latency(bound)
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

    pub async fn run(self, tx: crate::kinds::Sender) {
        let interval = self.spec.interval;
        crate::kinds::every(interval, Duration::ZERO, || async {
            tx.send(self.once().await).await.is_ok()
        })
        .await
    }
}
