//! `[[dns]]`: a resolver asked directly (no cache) for each record, and the dns action (an
//! RFC 2136 update).

pub mod source;
mod update;

use failover_core::kinds::dns::{DnsAnswer, DnsRecord};
use failover_core::kinds::{Dns, Observation};
use tokio::task::JoinSet;

pub use update::{execute, preflight, read_back};

use super::{Pollers, Sender, Source, every};

impl Source for Dns {
    fn spawn(specs: &[DnsRecord], tx: &Sender, pollers: &mut Pollers) {
        let n = specs.iter().map(|r| r.resolvers.len()).sum();
        let mut k = 0;
        for (r, record) in specs.iter().enumerate() {
            for (s, server) in record.resolvers.iter().enumerate() {
                let start = super::staggered(record.interval, k, n);
                k += 1;
                let name = format!("{} @{server}", failover_core::kinds::dns::source(record));
                let (tx, record, server) = (tx.clone(), record.clone(), *server);
                pollers.spawn(vec![name], async move {
                    let Ok(resolver) = source::Probe::new(server, record.timeout) else {
                        return;
                    };
                    every(record.interval, start, || async {
                        let answer = resolver.ask(&record.name, record.record_type).await;
                        tx.send(Observation::Dns {
                            record: r,
                            resolver: s,
                            at: time::OffsetDateTime::now_utc(),
                            answer,
                        })
                        .await
                        .is_ok()
                    })
                    .await
                });
            }
        }
    }

    fn read_once(specs: &[DnsRecord], tx: &Sender, tasks: &mut JoinSet<()>) {
        for (r, record) in specs.iter().enumerate() {
            for (s, server) in record.resolvers.iter().enumerate() {
                let (tx, record, server) = (tx.clone(), record.clone(), *server);
                tasks.spawn(async move {
                    let answer = match source::Probe::new(server, record.timeout) {
                        Ok(p) => p.ask(&record.name, record.record_type).await,
                        Err(e) => DnsAnswer::Error(e),
                    };
                    let _ = tx
                        .send(Observation::Dns {
                            record: r,
                            resolver: s,
                            at: time::OffsetDateTime::now_utc(),
                            answer,
                        })
                        .await;
                });
            }
        }
    }
}
