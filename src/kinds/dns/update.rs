//! RFC 2136 dynamic update: replace one record set (delete name/type, add the new values) in ONE
//! UPDATE message, TSIG-signed when a key is configured, sent over UDP straight to the server
//! (and again over TCP when its answer comes back truncated).
//!
//! The exchange is done here rather than through a hickory client so that every answer can be
//! told apart: a refusal (REFUSED, NOTAUTH with the TSIG error BADSIG/BADKEY/BADTIME...) is
//! Failed with its code named, while no answer at all is Unknown (the update may have landed).
//! A signed NOERROR is only believed when its TSIG verifies.
//!
//! Reading back goes through the source's `Probe` (no cache), like the DNS pane.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode, UpdateMessage};
use hickory_proto::rr::rdata::tsig::{TsigAlgorithm, TsigError};
use hickory_proto::rr::rdata::{A, AAAA, CNAME, TXT};
use hickory_proto::rr::{
    DNSClass, Name, RData, Record, RecordType as HType, TSigVerifier, TSigner,
};
use tokio::net::UdpSocket;
use tokio::time::Instant;

use failover_core::actions::{ActionSpec, Outcome, ReadBack};
use failover_core::kinds::dns::{
    DnsAnswer, RecordType, Tsig, Update, algorithm_text, fqdn, human, normalise_answer, short,
};

use super::source::Probe;

fn fields(spec: &ActionSpec) -> Option<Update<'_>> {
    spec.dns_update()
}

/// TSIG fudge: how far apart the clocks of this machine and the server may be.
const FUDGE: u16 = 300;

// ------------------------------------------------------------------------------------------------
// building the message
// ------------------------------------------------------------------------------------------------

fn parse_name(text: &str) -> Result<Name, String> {
    let mut name =
        Name::from_ascii(fqdn(text)).map_err(|e| format!("invalid name {text:?}: {e}"))?;
    name.set_fqdn(true);
    Ok(name)
}

fn hickory_type(t: RecordType) -> HType {
    match t {
        RecordType::A => HType::A,
        RecordType::Aaaa => HType::AAAA,
        RecordType::Cname => HType::CNAME,
        RecordType::Txt => HType::TXT,
    }
}

fn rdata(record_type: RecordType, value: &str) -> Result<RData, String> {
    let v = value.trim();
    match record_type {
        RecordType::A => v
            .parse::<Ipv4Addr>()
            .map(|ip| RData::A(A(ip)))
            .map_err(|_| format!("{v:?} is not an IPv4 address (A)")),
        RecordType::Aaaa => v
            .parse::<Ipv6Addr>()
            .map(|ip| RData::AAAA(AAAA(ip)))
            .map_err(|_| format!("{v:?} is not an IPv6 address (AAAA)")),
        RecordType::Cname => parse_name(v).map(|n| RData::CNAME(CNAME(n))),
        RecordType::Txt => {
            // One TXT value, in character-strings of at most 255 bytes (read back concatenated).
            let chunks: Vec<&[u8]> = if value.is_empty() {
                vec![&[][..]]
            } else {
                value.as_bytes().chunks(255).collect()
            };
            Ok(RData::TXT(TXT::from_bytes(chunks)))
        }
    }
}

fn rdatas(u: &Update<'_>) -> Result<Vec<RData>, String> {
    if u.record_type == RecordType::Cname && u.values.len() > 1 {
        return Err(format!("a CNAME holds one value, not {}", u.values.len()));
    }
    u.values.iter().map(|v| rdata(u.record_type, v)).collect()
}

fn algorithm(text: &str) -> Result<TsigAlgorithm, String> {
    match algorithm_text(text).as_str() {
        "hmac-sha256" => Ok(TsigAlgorithm::HmacSha256),
        "hmac-sha384" => Ok(TsigAlgorithm::HmacSha384),
        "hmac-sha512" => Ok(TsigAlgorithm::HmacSha512),
        other => Err(format!(
            "TSIG algorithm {other} is not supported (hmac-sha256, hmac-sha384, hmac-sha512)"
        )),
    }
}

/// The signer, with the secret read from its environment variable now. The errors name the
/// variable, never its content.
fn signer(t: &Tsig) -> Result<TSigner, String> {
    let secret = match std::env::var(&t.secret_env) {
        Ok(s) if !s.trim().is_empty() => s,
        Ok(_) => return Err(format!("environment variable {} is empty", t.secret_env)),
        Err(std::env::VarError::NotPresent) => {
            return Err(format!("environment variable {} is not set", t.secret_env));
        }
        Err(std::env::VarError::NotUnicode(_)) => {
            return Err(format!(
                "environment variable {} is not valid base64",
                t.secret_env
            ));
        }
    };
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.trim())
        .map_err(|_| format!("environment variable {} is not valid base64", t.secret_env))?;
    let algorithm = algorithm(&t.algorithm)?;
    let key_name = parse_name(&t.key_name).map_err(|e| format!("TSIG key name: {e}"))?;
    TSigner::new(key, algorithm, key_name, FUDGE)
        .map_err(|e| format!("TSIG key {}: {e}", t.key_name))
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// delete name/type, add each value: one message, applied all-or-nothing by the server.
fn update_message(zone: &Name, name: &Name, u: &Update<'_>, data: Vec<RData>) -> Message {
    let mut message = Message::query();
    message.metadata.op_code = OpCode::Update;
    message.metadata.recursion_desired = false;
    let mut zone_query = Query::query(zone.clone(), HType::SOA);
    zone_query.set_query_class(DNSClass::IN);
    message.add_zone(zone_query);
    let mut delete = Record::update0(name.clone(), 0, hickory_type(u.record_type));
    delete.dns_class = DNSClass::ANY;
    message.add_update(delete);
    for d in data {
        message.add_update(Record::from_rdata(name.clone(), u.ttl, d));
    }
    message
}

fn soa_query(name: &Name) -> Message {
    let mut message = Message::query();
    message.metadata.recursion_desired = false;
    message.add_query(Query::query(name.clone(), HType::SOA));
    message
}

// ------------------------------------------------------------------------------------------------
// the exchange
// ------------------------------------------------------------------------------------------------

enum Exchange {
    /// The answer's bytes (same id, from the server).
    Answer(Vec<u8>),
    /// Could not send at all: nothing reached the server.
    NotSent(String),
    /// Sent, no answer before the deadline.
    NoAnswer,
}

/// The TC bit: the server cut its answer to fit a datagram.
fn truncated(answer: &[u8]) -> bool {
    answer.get(2).is_some_and(|flags| flags & 0x02 != 0)
}

/// Sends `request` over UDP and, when the answer comes back truncated, again over TCP for the
/// whole of it (RFC 1035 4.2.2, RFC 7766). The server has seen the request by then, so a TCP
/// exchange that fails is no answer, never "not sent".
async fn exchange(server: SocketAddr, request: &[u8], deadline: Instant) -> Exchange {
    match exchange_udp(server, request, deadline).await {
        Exchange::Answer(raw) if truncated(&raw) => {
            match tokio::time::timeout_at(deadline, exchange_tcp(server, request)).await {
                Ok(Ok(whole)) => Exchange::Answer(whole),
                Ok(Err(_)) | Err(_) => Exchange::NoAnswer,
            }
        }
        other => other,
    }
}

/// One request and its answer on a new TCP connection: each message after its two-byte length.
async fn exchange_tcp(server: SocketAddr, request: &[u8]) -> std::io::Result<Vec<u8>> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let length = u16::try_from(request.len())
        .map_err(|_| std::io::Error::other("request over 65535 bytes"))?;
    let mut stream = tokio::net::TcpStream::connect(server).await?;
    let mut framed = length.to_be_bytes().to_vec();
    framed.extend_from_slice(request);
    stream.write_all(&framed).await?;
    let id = [request.first().copied(), request.get(1).copied()];
    loop {
        let mut length = [0u8; 2];
        stream.read_exact(&mut length).await?;
        let mut answer = vec![0u8; usize::from(u16::from_be_bytes(length))];
        stream.read_exact(&mut answer).await?;
        if answer.len() >= 12 && [answer.first().copied(), answer.get(1).copied()] == id {
            return Ok(answer);
        }
    }
}

/// Sends `request` to `server` and waits for the answer with the same id, resending the same
/// bytes every third of the time (a lost datagram is not an outcome; the update is idempotent).
/// The socket is not connected, so an ICMP "port unreachable" is not taken as an answer: only a
/// DNS answer from the server ends the wait.
async fn exchange_udp(server: SocketAddr, request: &[u8], deadline: Instant) -> Exchange {
    let local: SocketAddr = if server.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = match UdpSocket::bind(local).await {
        Ok(s) => s,
        Err(e) => {
            return Exchange::NotSent(format!(
                "cannot open a UDP socket: {}",
                failover_core::text::io_error(&e)
            ));
        }
    };
    let total = deadline.saturating_duration_since(Instant::now());
    let resend = (total / 3).clamp(Duration::from_millis(250), Duration::from_secs(2));
    let id = [
        request.first().copied().unwrap_or(0),
        request.get(1).copied().unwrap_or(0),
    ];
    let mut sent = false;
    let mut next_send = Instant::now();
    let mut buf = vec![0u8; 65535];
    loop {
        let now = Instant::now();
        if now >= deadline {
            return if sent {
                Exchange::NoAnswer
            } else {
                Exchange::NotSent("could not send before the deadline".into())
            };
        }
        if now >= next_send {
            match socket.send_to(request, server).await {
                Ok(_) => sent = true,
                Err(e) if !sent => {
                    return Exchange::NotSent(format!(
                        "cannot send to {server}: {}",
                        failover_core::text::io_error(&e)
                    ));
                }
                Err(_) => {}
            }
            next_send = now + resend;
        }
        match tokio::time::timeout_at(next_send.min(deadline), socket.recv_from(&mut buf)).await {
            Err(_) => {}
            Ok(Err(_)) => tokio::time::sleep(Duration::from_millis(20)).await,
            Ok(Ok((n, from))) => {
                let is_answer = from == server && n >= 12 && buf[..2] == id && buf[2] & 0x80 != 0;
                if is_answer {
                    return Exchange::Answer(buf[..n].to_vec());
                }
            }
        }
    }
}

fn rcode_name(code: ResponseCode) -> String {
    match u16::from(code) {
        0 => "NOERROR".into(),
        1 => "FORMERR".into(),
        2 => "SERVFAIL".into(),
        3 => "NXDOMAIN".into(),
        4 => "NOTIMP".into(),
        5 => "REFUSED".into(),
        6 => "YXDOMAIN".into(),
        7 => "YXRRSET".into(),
        8 => "NXRRSET".into(),
        9 => "NOTAUTH".into(),
        10 => "NOTZONE".into(),
        16 => "BADVERS".into(),
        other => format!("RCODE {other}"),
    }
}

fn tsig_error_text(e: &TsigError, key: &str) -> String {
    match e {
        TsigError::BadSig => {
            format!("TSIG BADSIG: the signature does not verify (wrong secret for key {key}?)")
        }
        TsigError::BadKey => {
            format!("TSIG BADKEY: the server does not know key {key} with this algorithm")
        }
        TsigError::BadTime => format!(
            "TSIG BADTIME: this machine's clock and the server's differ by more than {FUDGE} s"
        ),
        TsigError::BadTrunc => "TSIG BADTRUNC: truncated signature refused".into(),
        TsigError::Unknown(code) => format!("TSIG error {code}"),
    }
}

/// Why the server said no, in one line: the rcode by name, then what it usually means.
fn refusal(answer: &Message, zone: &Name, name: &str, key: Option<&str>) -> String {
    let code = rcode_name(answer.metadata.response_code);
    let tsig_error = answer.signature().and_then(|s| s.data.error);
    if let Some(e) = tsig_error {
        return format!("{code}, {}", tsig_error_text(&e, key.unwrap_or("?")));
    }
    let why = match answer.metadata.response_code {
        ResponseCode::Refused if key.is_none() => {
            "the server does not allow unsigned updates here (no TSIG key configured)".to_string()
        }
        ResponseCode::Refused => format!(
            "the server does not allow key {} to update zone {zone}",
            key.unwrap_or("?")
        ),
        ResponseCode::NotAuth => {
            format!("the server is not authoritative (primary) for zone {zone}")
        }
        ResponseCode::NotZone => format!("{name} is not in zone {zone}"),
        ResponseCode::ServFail => "the server failed to apply it (see its log)".to_string(),
        ResponseCode::FormErr => "the server could not parse the update".to_string(),
        ResponseCode::NotImp => "the server does not support dynamic updates".to_string(),
        _ => String::new(),
    };
    if why.is_empty() {
        code
    } else {
        format!("{code}: {why}")
    }
}

/// The zone that holds `name` on this server: the owner of the SOA in the answer (or in the
/// authority section of a negative answer) for the name's SOA, walking up one label at a time
/// while the server refuses or answers without an SOA.
async fn find_zone(server: SocketAddr, name: &Name, deadline: Instant) -> Result<Name, String> {
    let mut candidate = name.clone();
    loop {
        let query = soa_query(&candidate);
        let bytes = query
            .to_vec()
            .map_err(|e| format!("cannot encode the SOA query: {e}"))?;
        let last = match exchange(server, &bytes, deadline).await {
            Exchange::NotSent(e) => return Err(e),
            Exchange::NoAnswer => {
                return Err(format!(
                    "no answer from {server} to the SOA query for {candidate}"
                ));
            }
            Exchange::Answer(raw) => {
                let answer = Message::from_vec(&raw)
                    .map_err(|e| format!("unreadable answer from {server}: {e}"))?;
                let soa = answer
                    .answers
                    .iter()
                    .chain(answer.authorities.iter())
                    .find(|r| r.record_type() == HType::SOA);
                if let Some(soa) = soa
                    && soa.name.zone_of(name)
                {
                    return Ok(soa.name.clone());
                }
                if answer
                    .authorities
                    .iter()
                    .any(|r| r.record_type() == HType::NS)
                    && answer.metadata.response_code == ResponseCode::NoError
                {
                    return Err(format!(
                        "{server} refers {name} to other name servers: it is not the zone's primary"
                    ));
                }
                rcode_name(answer.metadata.response_code)
            }
        };
        if candidate.is_root() || candidate.num_labels() == 0 {
            return Err(format!(
                "{server} is not authoritative for any zone holding {name} (last answer {last})"
            ));
        }
        candidate = candidate.base_name();
    }
}

/// The zone: as configured (checked to hold the name), or found from the server.
async fn zone_for(u: &Update<'_>, name: &Name, deadline: Instant) -> Result<Name, String> {
    match u.zone {
        Some(z) => {
            let zone = parse_name(z)?;
            if !zone.zone_of(name) {
                return Err(format!("{} is not in zone {}", fqdn(u.name), fqdn(z)));
            }
            Ok(zone)
        }
        None => find_zone(u.server, name, deadline).await,
    }
}

// ------------------------------------------------------------------------------------------------
// the action
// ------------------------------------------------------------------------------------------------

pub async fn execute(spec: &ActionSpec) -> Outcome {
    let Some(u) = fields(spec) else {
        return Outcome::Failed("internal error: not a DNS update".into());
    };
    let deadline = Instant::now() + failover_core::text::wait(u.timeout);
    let name = match parse_name(u.name) {
        Ok(n) => n,
        Err(e) => return Outcome::Failed(format!("{e}; nothing sent")),
    };
    let data = match rdatas(&u) {
        Ok(d) => d,
        Err(e) => return Outcome::Failed(format!("{e}; nothing sent")),
    };
    let signer = match u.tsig.map(signer).transpose() {
        Ok(s) => s,
        Err(e) => return Outcome::Failed(format!("{e}; nothing sent")),
    };
    let zone = match zone_for(&u, &name, deadline).await {
        Ok(z) => z,
        Err(e) => {
            return Outcome::Failed(format!("zone for {}: {e}; update not sent", fqdn(u.name)));
        }
    };
    let mut message = update_message(&zone, &name, &u, data);
    let mut verifier: Option<TSigVerifier> = None;
    if let Some(s) = &signer {
        match message.finalize(s, unix_now()) {
            Ok(v) => verifier = v,
            Err(e) => return Outcome::Failed(format!("cannot sign the update: {e}; nothing sent")),
        }
    }
    let bytes = match message.to_vec() {
        Ok(b) => b,
        Err(e) => return Outcome::Failed(format!("cannot encode the update: {e}; nothing sent")),
    };
    let raw = match exchange(u.server, &bytes, deadline).await {
        Exchange::Answer(raw) => raw,
        Exchange::NotSent(e) => return Outcome::Failed(format!("{e}; nothing sent")),
        Exchange::NoAnswer => {
            return Outcome::Unknown(format!(
                "no answer from {} within {}: the update may or may not have been applied; read back",
                u.server,
                human(u.timeout)
            ));
        }
    };
    let answer = match Message::from_vec(&raw) {
        Ok(m) => m,
        Err(e) => {
            return Outcome::Unknown(format!(
                "unreadable answer from {} ({e}): read back",
                u.server
            ));
        }
    };
    if answer.metadata.message_type != MessageType::Response
        || answer.metadata.op_code != OpCode::Update
    {
        return Outcome::Unknown(format!(
            "unexpected answer from {} (not an UPDATE response): read back",
            u.server
        ));
    }
    let key = u.tsig.map(|t| t.key_name.as_str());
    if answer.metadata.response_code != ResponseCode::NoError {
        return Outcome::Failed(format!(
            "server refused the update: {}",
            refusal(&answer, &zone, &fqdn(u.name), key)
        ));
    }
    // NOERROR: believed only if signed by the same key when the request was.
    if let Some(mut v) = verifier {
        if answer.signature().is_none() {
            return Outcome::Unknown(format!(
                "NOERROR from {} without a TSIG signature: cannot trust it; read back",
                u.server
            ));
        }
        if let Err(e) = v.verify(&raw) {
            return Outcome::Unknown(format!(
                "NOERROR from {} whose TSIG does not verify ({e}): read back",
                u.server
            ));
        }
    }
    let values = if u.values.is_empty() {
        "(none: record set deleted)".to_string()
    } else {
        u.values
            .iter()
            .map(|v| v.trim())
            .collect::<Vec<_>>()
            .join(", ")
    };
    Outcome::Ok(format!(
        "server accepted: {} {} {} ttl {}",
        fqdn(u.name),
        u.record_type,
        short(&values, 120),
        u.ttl
    ))
}

/// Values parse, the key is usable, the server answers for the zone's SOA and accepts the key
/// (a signed SOA query: checks the secret without changing anything).
pub async fn preflight(spec: &ActionSpec) -> Vec<String> {
    let Some(u) = fields(spec) else {
        return vec!["internal error: not a DNS update".into()];
    };
    let mut problems = Vec::new();
    let name = match parse_name(u.name) {
        Ok(n) => Some(n),
        Err(e) => {
            problems.push(e);
            None
        }
    };
    if let Err(e) = rdatas(&u) {
        problems.push(e);
    }
    let signer = match u.tsig.map(signer).transpose() {
        Ok(s) => s,
        Err(e) => {
            problems.push(e);
            None
        }
    };
    let Some(name) = name else { return problems };
    let zone = match zone_for(
        &u,
        &name,
        Instant::now() + failover_core::text::wait(u.timeout),
    )
    .await
    {
        Ok(z) => z,
        Err(e) => {
            problems.push(format!("zone for {}: {e}", fqdn(u.name)));
            return problems;
        }
    };
    // The server must answer authoritatively for the zone's SOA; signed when there is a key.
    let mut query = soa_query(&zone);
    let mut verifier = None;
    if let Some(s) = &signer {
        match query.finalize(s, unix_now()) {
            Ok(v) => verifier = v,
            Err(e) => {
                problems.push(format!("cannot sign with key {}: {e}", s.signer_name()));
                return problems;
            }
        }
    }
    let bytes = match query.to_vec() {
        Ok(b) => b,
        Err(e) => {
            problems.push(format!("cannot encode the SOA query: {e}"));
            return problems;
        }
    };
    match exchange(
        u.server,
        &bytes,
        Instant::now() + failover_core::text::wait(u.timeout),
    )
    .await
    {
        Exchange::NotSent(e) => problems.push(e),
        Exchange::NoAnswer => problems.push(format!(
            "no answer from {} for the SOA of {zone} within {}",
            u.server,
            human(u.timeout)
        )),
        Exchange::Answer(raw) => match Message::from_vec(&raw) {
            Err(e) => problems.push(format!("unreadable answer from {}: {e}", u.server)),
            Ok(answer) if answer.metadata.response_code != ResponseCode::NoError => {
                let key = u.tsig.map(|t| t.key_name.as_str());
                problems.push(format!(
                    "{} answers the SOA query for {zone} with {}",
                    u.server,
                    refusal(&answer, &zone, &fqdn(u.name), key)
                ));
            }
            Ok(answer) => {
                let has_soa = answer
                    .answers
                    .iter()
                    .any(|r| r.record_type() == HType::SOA && r.name == zone);
                if !has_soa || !answer.metadata.authoritative {
                    problems.push(format!("{} is not authoritative for zone {zone}", u.server));
                }
                if let Some(mut v) = verifier
                    && let Err(e) = v.verify(&raw)
                {
                    problems.push(format!(
                        "the server's answer to a query signed with key {} does not verify: {e}",
                        u.tsig.map(|t| t.key_name.as_str()).unwrap_or("?")
                    ));
                }
            }
        },
    }
    problems
}

/// Asks the server itself (no cache) and compares its answer set to the values.
pub async fn read_back(spec: &ActionSpec) -> ReadBack {
    let Some(u) = fields(spec) else {
        return ReadBack::Unreadable("internal error: not a DNS update".into());
    };
    let probe = match Probe::new(u.server, u.timeout) {
        Ok(p) => p,
        Err(e) => return ReadBack::Unreadable(e),
    };
    let mut wanted: Vec<String> = u
        .values
        .iter()
        .map(|v| normalise_answer(u.record_type, v))
        .collect();
    wanted.sort();
    wanted.dedup();
    let answer = probe.ask(&fqdn(u.name), u.record_type).await;
    match answer {
        DnsAnswer::Records { values, ttl } => {
            if values == wanted {
                ReadBack::Applied(format!(
                    "server answers {} (ttl {ttl})",
                    short(&values.join(", "), 120)
                ))
            } else {
                ReadBack::NotApplied(format!("server answers {}", short(&values.join(", "), 120)))
            }
        }
        DnsAnswer::NoData | DnsAnswer::NxDomain if wanted.is_empty() => ReadBack::Applied(format!(
            "server answers {}: no {} record, as intended",
            answer.describe(),
            u.record_type
        )),
        DnsAnswer::NoData | DnsAnswer::NxDomain => {
            ReadBack::NotApplied(format!("server answers {}", answer.describe()))
        }
        other => ReadBack::Unreadable(format!("no answer from {}: {}", u.server, other.describe())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(tsig: Option<Tsig>) -> ActionSpec {
        ActionSpec::DnsReplace {
            server: "127.0.0.1:5353".parse().unwrap(),
            zone: Some("failover.test".into()),
            name: "api.failover.test".into(),
            record_type: RecordType::A,
            ttl: 60,
            values: vec!["10.0.2.100".into()],
            tsig,
            timeout: Duration::from_secs(2),
        }
    }

    #[test]
    fn describe_reads_like_nsupdate() {
        let tsig = Tsig {
            key_name: "failover-key".into(),
            secret_env: "FAILOVER_TSIG_SECRET".into(),
            algorithm: "hmac-sha256".into(),
        };
        let describe = |s: &ActionSpec| s.describe();
        assert_eq!(
            describe(&spec(Some(tsig))),
            vec![
                "server 127.0.0.1 5353",
                "zone failover.test.",
                "update delete api.failover.test. A",
                "update add api.failover.test. 60 A 10.0.2.100",
                "key failover-key (hmac-sha256, secret from $FAILOVER_TSIG_SECRET)",
                "send (one UPDATE; no answer within 2s = outcome unknown)",
            ]
        );
        assert!(describe(&spec(None)).contains(&"no key: unsigned update".to_string()));
    }

    #[test]
    fn the_message_deletes_then_adds_in_one_update() {
        let s = spec(None);
        let u = fields(&s).unwrap();
        let name = parse_name(u.name).unwrap();
        let zone = parse_name("failover.test").unwrap();
        let m = update_message(&zone, &name, &u, rdatas(&u).unwrap());
        let back = Message::from_vec(&m.to_vec().unwrap()).unwrap();
        assert_eq!(back.metadata.op_code, OpCode::Update);
        assert_eq!(back.queries.len(), 1);
        assert_eq!(back.queries[0].query_type(), HType::SOA);
        assert_eq!(back.authorities.len(), 2);
        assert_eq!(back.authorities[0].dns_class, DNSClass::ANY);
        assert_eq!(
            back.authorities[1].data,
            RData::A(A("10.0.2.100".parse().unwrap()))
        );
    }

    #[test]
    fn values_are_checked() {
        assert!(rdata(RecordType::A, "10.0.0.300").is_err());
        assert!(rdata(RecordType::Aaaa, "10.0.0.1").is_err());
        assert!(rdata(RecordType::Aaaa, "2001:db8::1").is_ok());
        let long = "x".repeat(600);
        match rdata(RecordType::Txt, &long).unwrap() {
            RData::TXT(t) => assert_eq!(t.to_string(), long),
            other => panic!("{other:?}"),
        }
    }
}

/// Against the lab's BIND (`scripts/lab up`, its environment: `LAB_DNS_PORT`, the TSIG secret):
/// a record set too big for a datagram, added and removed by this module's own updates.
#[cfg(all(test, feature = "lab"))]
mod lab {
    use super::*;

    const NAME: &str = "tc-big.failover.test";
    /// 100 A records (BIND holds at most 100 of a type): about 1.6 KiB of answer, over both 512
    /// bytes and BIND's 1232-byte EDNS size.
    const COUNT: u8 = 100;

    fn server() -> SocketAddr {
        let port = std::env::var("LAB_DNS_PORT").unwrap_or_else(|_| "5353".into());
        format!("127.0.0.1:{port}").parse().expect("LAB_DNS_PORT")
    }

    fn replace(values: Vec<String>) -> ActionSpec {
        ActionSpec::DnsReplace {
            server: server(),
            zone: Some("failover.test".into()),
            name: NAME.into(),
            record_type: RecordType::A,
            ttl: 60,
            values,
            tsig: Some(Tsig {
                key_name: std::env::var("LAB_TSIG_KEY_NAME")
                    .unwrap_or_else(|_| "failover-key".into()),
                secret_env: "FAILOVER_TSIG_SECRET".into(),
                algorithm: "hmac-sha256".into(),
            }),
            timeout: Duration::from_secs(5),
        }
    }

    fn big_set() -> Vec<String> {
        (1..=COUNT).map(|i| format!("10.9.0.{i}")).collect()
    }

    fn a_query() -> Vec<u8> {
        let mut query = Message::query();
        query.metadata.recursion_desired = false;
        query.add_query(Query::query(parse_name(NAME).unwrap(), HType::A));
        query.to_vec().unwrap()
    }

    fn a_records(raw: &[u8]) -> usize {
        let answer = Message::from_vec(raw).expect("an answer");
        answer
            .answers
            .iter()
            .filter(|r| r.record_type() == HType::A)
            .count()
    }

    #[tokio::test]
    async fn a_truncated_answer_is_asked_again_over_tcp() {
        let spec = replace(big_set());
        let outcome = execute(&spec).await;
        assert!(matches!(outcome, Outcome::Ok(_)), "{outcome:?}");

        // Over UDP alone, BIND cuts the answer: the TC bit, and not the whole set.
        let deadline = Instant::now() + Duration::from_secs(5);
        let Exchange::Answer(cut) = exchange_udp(server(), &a_query(), deadline).await else {
            panic!("no UDP answer from the lab's BIND");
        };
        assert!(truncated(&cut), "UDP answer not truncated");
        assert!(a_records(&cut) < usize::from(COUNT));

        // The exchange updates use: again over TCP, the whole set.
        let Exchange::Answer(whole) = exchange(server(), &a_query(), deadline).await else {
            panic!("no answer over TCP");
        };
        assert!(!truncated(&whole));
        assert_eq!(a_records(&whole), usize::from(COUNT));

        // The DNS pane's probe (and the update's read-back) sees the whole set too.
        let probe = Probe::new(server(), Duration::from_secs(5)).expect("probe");
        match probe.ask(NAME, RecordType::A).await {
            DnsAnswer::Records { values, .. } => assert_eq!(values.len(), usize::from(COUNT)),
            other => panic!("probe answered {other:?}"),
        }
        let back = read_back(&spec).await;
        assert!(matches!(back, ReadBack::Applied(_)), "{back:?}");

        let outcome = execute(&replace(Vec::new())).await;
        assert!(
            matches!(outcome, Outcome::Ok(_)),
            "removing the set: {outcome:?}"
        );
    }
}
