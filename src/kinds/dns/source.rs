//! Asks one chosen server (address and port) for a record, with no cache, so the answer and TTL
//! are what that server says now.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{RData, RecordType as HickoryType};
use hickory_resolver::{Resolver, TokioResolver};

use failover_core::kinds::dns::{DnsAnswer, RecordType, normalise_answer};

pub struct Probe {
    resolver: TokioResolver,
}

impl Probe {
    pub fn new(server: SocketAddr, timeout: Duration) -> Result<Probe, String> {
        // UDP first; TCP only when an answer comes back truncated (TC bit: a record set bigger
        // than a datagram), which hickory then asks again over TCP for the whole of it.
        let mut udp = ConnectionConfig::udp();
        udp.port = server.port();
        let mut tcp = ConnectionConfig::tcp();
        tcp.port = server.port();
        let mut ns = NameServerConfig::udp_and_tcp(server.ip());
        ns.connections = vec![udp, tcp];
        ns.trust_negative_responses = true;
        let config = ResolverConfig::from_name_servers(vec![ns]);
        let mut opts = ResolverOpts::default();
        opts.cache_size = 0;
        opts.timeout = timeout;
        // hickory's `attempts` counts retries after the first try: 0 = one query, so a dead
        // server costs `timeout`, not twice it (which made it flap stale / answering again).
        opts.attempts = 0;
        opts.ndots = 0;
        opts.recursion_desired = true;
        let resolver = Resolver::builder_with_config(config, TokioRuntimeProvider::default())
            .with_options(opts)
            .build()
            .map_err(|e| format!("resolver setup: {e}"))?;
        Ok(Probe { resolver })
    }

    pub async fn ask(&self, name: &str, record_type: RecordType) -> DnsAnswer {
        let wanted = match record_type {
            RecordType::A => HickoryType::A,
            RecordType::Aaaa => HickoryType::AAAA,
            RecordType::Cname => HickoryType::CNAME,
            RecordType::Txt => HickoryType::TXT,
        };
        match self.resolver.lookup(name, wanted).await {
            Ok(lookup) => {
                let mut values = Vec::new();
                let mut ttl = u32::MAX;
                for record in lookup.answers() {
                    if record.record_type() != wanted {
                        continue;
                    }
                    ttl = ttl.min(record.ttl);
                    let text = match &record.data {
                        RData::A(a) => a.0.to_string(),
                        RData::AAAA(a) => a.0.to_string(),
                        RData::CNAME(c) => c.0.to_string(),
                        RData::TXT(t) => t.to_string(),
                        other => other.to_string(),
                    };
                    values.push(normalise_answer(record_type, &text));
                }
                values.sort();
                values.dedup();
                if values.is_empty() {
                    DnsAnswer::NoData
                } else {
                    DnsAnswer::Records { values, ttl }
                }
            }
            Err(e) => classify(&e),
        }
    }
}

fn classify(e: &hickory_resolver::net::NetError) -> DnsAnswer {
    use hickory_resolver::net::{DnsError, NetError};
    match e {
        NetError::Dns(DnsError::NoRecordsFound(no)) => match no.response_code {
            ResponseCode::NXDomain => DnsAnswer::NxDomain,
            ResponseCode::ServFail => DnsAnswer::ServFail,
            ResponseCode::Refused => DnsAnswer::Refused,
            _ => DnsAnswer::NoData,
        },
        NetError::Dns(DnsError::ResponseCode(ResponseCode::ServFail)) => DnsAnswer::ServFail,
        NetError::Dns(DnsError::ResponseCode(ResponseCode::Refused)) => DnsAnswer::Refused,
        NetError::Dns(DnsError::ResponseCode(code)) => DnsAnswer::Error(format!("rcode {code}")),
        NetError::Timeout => DnsAnswer::Timeout,
        NetError::Io(io) => DnsAnswer::Error(failover_core::text::io_error(io)),
        other => {
            let text = other.to_string();
            if text.contains("timed out") {
                DnsAnswer::Timeout
            } else {
                DnsAnswer::Error(text)
            }
        }
    }
}
