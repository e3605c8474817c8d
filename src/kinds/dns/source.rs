//! Asks one chosen server (address and port) for a record, with no cache, so the answer and TTL
//! are what that server says now.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::op::{Message, Query, ResponseCode};
use hickory_resolver::proto::rr::{Name, RData, Record, RecordType as HickoryType};
use hickory_resolver::{Resolver, TokioResolver};
use tokio::net::UdpSocket;
use tokio::sync::OnceCell;
use tokio::time::Instant;

use failover_core::kinds::dns::{DnsAnswer, RecordType, normalise_answer};

pub struct Probe {
    server: SocketAddr,
    timeout: Duration,
    /// One UDP socket kept per probe (a record at one server): a query is then a datagram out
    /// and one in, with none of a resolver's per-query setup (a new socket, its lookup state).
    socket: OnceCell<Option<UdpSocket>>,
    /// What the plain exchange does not read by itself: an answer cut to fit a datagram (asked
    /// again over TCP), a CNAME whose target the server did not add, an unusual response code.
    resolver: TokioResolver,
}

/// The plain exchange's verdict: an answer, or a case left to the resolver.
enum Plain {
    Answer(DnsAnswer),
    AskResolver,
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
        Ok(Probe {
            server,
            timeout,
            socket: OnceCell::new(),
            resolver,
        })
    }

    pub async fn ask(&self, name: &str, record_type: RecordType) -> DnsAnswer {
        let wanted = hickory_type(record_type);
        let deadline = Instant::now() + self.timeout;
        if let Plain::Answer(answer) = self.ask_plain(name, record_type, wanted, deadline).await {
            return answer;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return DnsAnswer::Timeout;
        }
        match tokio::time::timeout(left, self.resolver.lookup(name, wanted)).await {
            Ok(Ok(lookup)) => answer(lookup.answers(), wanted, record_type),
            Ok(Err(e)) => classify(&e),
            Err(_) => DnsAnswer::Timeout,
        }
    }

    /// One query on the kept socket, answered by the server within the deadline.
    async fn ask_plain(
        &self,
        name: &str,
        record_type: RecordType,
        wanted: HickoryType,
        deadline: Instant,
    ) -> Plain {
        let Ok(mut qname) = Name::from_ascii(name) else {
            return Plain::AskResolver;
        };
        // As the resolver asks it (ndots 0, no search list): the name as given, from the root.
        qname.set_fqdn(true);
        let Some(socket) = self.socket.get_or_init(|| bind(self.server)).await else {
            return Plain::AskResolver;
        };
        let mut query = Message::query();
        query.metadata.recursion_desired = true;
        query.add_query(Query::query(qname.clone(), wanted));
        let Ok(request) = query.to_vec() else {
            return Plain::AskResolver;
        };
        if let Err(e) = socket.send_to(&request, self.server).await {
            return Plain::Answer(DnsAnswer::Error(failover_core::text::io_error(&e)));
        }
        let mut buf = [0u8; 4096];
        loop {
            let received = tokio::time::timeout_at(deadline, socket.recv_from(&mut buf)).await;
            let n = match received {
                Err(_) => return Plain::Answer(DnsAnswer::Timeout),
                // An unconnected socket: an error here is not about this query's server.
                Ok(Err(_)) => continue,
                Ok(Ok((n, from))) if from == self.server => n,
                Ok(Ok(_)) => continue,
            };
            // An answer to an earlier query that timed out, or not an answer: not this one's.
            let Ok(reply) = Message::from_vec(&buf[..n]) else {
                continue;
            };
            if reply.metadata.id != query.metadata.id
                || reply
                    .queries
                    .first()
                    .is_none_or(|q| q.query_type() != wanted || q.name() != &qname)
            {
                continue;
            }
            return read_reply(&reply, wanted, record_type);
        }
    }
}

/// A socket bound to any port of the server's family; None when one cannot be opened (the
/// resolver asks instead).
async fn bind(server: SocketAddr) -> Option<UdpSocket> {
    let local: SocketAddr = if server.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    UdpSocket::bind(local).await.ok()
}

fn read_reply(reply: &Message, wanted: HickoryType, record_type: RecordType) -> Plain {
    if reply.metadata.truncation {
        return Plain::AskResolver;
    }
    match reply.metadata.response_code {
        ResponseCode::NXDomain => Plain::Answer(DnsAnswer::NxDomain),
        ResponseCode::ServFail => Plain::Answer(DnsAnswer::ServFail),
        ResponseCode::Refused => Plain::Answer(DnsAnswer::Refused),
        ResponseCode::NoError => {
            let cname_only = !reply.answers.iter().any(|r| r.record_type() == wanted)
                && reply
                    .answers
                    .iter()
                    .any(|r| r.record_type() == HickoryType::CNAME);
            if cname_only && wanted != HickoryType::CNAME {
                Plain::AskResolver
            } else {
                Plain::Answer(answer(&reply.answers, wanted, record_type))
            }
        }
        _ => Plain::AskResolver,
    }
}

fn hickory_type(record_type: RecordType) -> HickoryType {
    match record_type {
        RecordType::A => HickoryType::A,
        RecordType::Aaaa => HickoryType::AAAA,
        RecordType::Cname => HickoryType::CNAME,
        RecordType::Txt => HickoryType::TXT,
    }
}

/// The records of the wanted type, as the pane shows them: sorted, once each, the lowest TTL.
fn answer(records: &[Record], wanted: HickoryType, record_type: RecordType) -> DnsAnswer {
    let mut values = Vec::new();
    let mut ttl = u32::MAX;
    for record in records {
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

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use hickory_resolver::proto::rr::rdata::A;

    use super::*;

    /// A server on 127.0.0.1 that answers each query by `reply(query, n)` (n counts queries).
    async fn server(
        reply: impl Fn(&Message, usize) -> Vec<Message> + Send + 'static,
    ) -> SocketAddr {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let addr = socket.local_addr().unwrap();
        tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            for n in 0.. {
                let Ok((len, from)) = socket.recv_from(&mut buf).await else {
                    return;
                };
                let query = Message::from_vec(&buf[..len]).unwrap();
                for answer in reply(&query, n) {
                    let _ = socket.send_to(&answer.to_vec().unwrap(), from).await;
                }
            }
        });
        addr
    }

    fn answer(query: &Message, id: u16, ip: [u8; 4]) -> Message {
        let mut m = Message::response(id, query.metadata.op_code);
        m.add_queries(query.queries.clone());
        let name = query.queries[0].name().clone();
        m.add_answer(Record::from_rdata(
            name,
            60,
            RData::A(A::from(Ipv4Addr::from(ip))),
        ));
        m
    }

    #[tokio::test]
    async fn answers_on_the_kept_socket_skip_what_is_not_this_query_answer() {
        // Each query first gets an answer with another id (a late answer to an earlier query),
        // then its own; the second query's own answer differs.
        let addr = server(|q, n| {
            let ip = if n == 0 { [10, 1, 0, 1] } else { [10, 2, 0, 1] };
            vec![
                answer(q, q.metadata.id.wrapping_add(1), [192, 0, 2, 9]),
                answer(q, q.metadata.id, ip),
            ]
        })
        .await;
        let probe = Probe::new(addr, Duration::from_millis(500)).unwrap();
        for ip in ["10.1.0.1", "10.2.0.1"] {
            assert_eq!(
                probe.ask("api.example.test.", RecordType::A).await,
                DnsAnswer::Records {
                    values: vec![ip.into()],
                    ttl: 60
                }
            );
        }
    }

    #[tokio::test]
    async fn response_codes_and_silence_read_as_before() {
        let addr = server(|q, n| {
            let code = [
                ResponseCode::NXDomain,
                ResponseCode::ServFail,
                ResponseCode::Refused,
            ][n % 3];
            let mut m = Message::error_msg(q.metadata.id, q.metadata.op_code, code);
            m.add_queries(q.queries.clone());
            vec![m]
        })
        .await;
        let probe = Probe::new(addr, Duration::from_millis(500)).unwrap();
        for want in [DnsAnswer::NxDomain, DnsAnswer::ServFail, DnsAnswer::Refused] {
            assert_eq!(probe.ask("gone.example.test.", RecordType::A).await, want);
        }
        let silent = server(|_, _| Vec::new()).await;
        let probe = Probe::new(silent, Duration::from_millis(200)).unwrap();
        let started = Instant::now();
        assert_eq!(
            probe.ask("api.example.test.", RecordType::A).await,
            DnsAnswer::Timeout
        );
        assert!(
            started.elapsed() < Duration::from_millis(450),
            "one timeout, not two"
        );
    }
}
