//! Runbook actions against REAL servers: the lab's PostgreSQL replica is promoted, its BIND
//! takes (or refuses) TSIG-signed updates, its nginx answers webhooks; commands really run and
//! are really killed.
//!
//! Tests that touch the lab are serialised by `common::LAB` and start with `scripts/lab reset` (and reset
//! again when they end, pass or fail). The lab's ports come from the LAB_* variables (`scripts/lab
//! env`), with the default lab's ports otherwise. Run with `scripts/test`, or after `scripts/lab
//! up`: `cargo test --test actions`.
// Needs the lab (`scripts/lab up`): run by `scripts/test`, which turns the feature on.
#![cfg(feature = "lab")]

mod common;

use failover_console::actions::Action;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Once;
use std::time::{Duration, Instant};

use common::{Lab, describe_output, env_port, lab_sync};
use failover_core::actions::webhook::Field;
use failover_core::actions::{ActionSpec, Outcome, ReadBack};
use failover_core::kinds::dns::RecordType;
use failover_core::kinds::dns::Tsig;
use tokio::sync::mpsc;

const API: &str = "api.failover.test.";
const IP_INITIAL: &str = "10.0.1.100";
const IP_NEW: &str = "10.0.2.100";

/// Environment variables the tests set (once, see `secrets`).
const SECRET_ENV: &str = "ACTIONS_TEST_TSIG_SECRET";
const WRONG_SECRET_ENV: &str = "ACTIONS_TEST_WRONG_TSIG_SECRET";
const PG_PASSWORD_ENV: &str = "ACTIONS_TEST_PG_PASSWORD";
const UNSET_ENV: &str = "ACTIONS_TEST_NEVER_SET_SECRET";
const PG_PASSWORD: &str = "pg-password-never-shown";
const WRONG_SECRET: &str = "d3JvbmctYnV0LXZhbGlkLWJhc2U2NC1zZWNyZXQtMzJieXRlcyE=";

fn pg_replica_port() -> u16 {
    env_port("LAB_PG_REPLICA_PORT", 54322)
}
fn dns_addr() -> SocketAddr {
    ([127, 0, 0, 1], env_port("LAB_DNS_PORT", 5353)).into()
}
fn dns2_addr() -> SocketAddr {
    ([127, 0, 0, 1], env_port("LAB_DNS2_PORT", 5354)).into()
}
fn http_port() -> u16 {
    env_port("LAB_HTTP_PORT", 18080)
}

/// The lab's TSIG secret (`scripts/lab env`), the wrong one and a PostgreSQL password, put in
/// the environment once. (Set before any action reads them, under the LAB lock; std serialises
/// its own environment accesses.)
fn secrets() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let out = lab_sync(&["env"]);
        assert!(out.status.success(), "{}", describe_output(&["env"], &out));
        let text = String::from_utf8_lossy(&out.stdout);
        let secret = text
            .lines()
            .find_map(|l| l.strip_prefix("export FAILOVER_TSIG_SECRET="))
            .map(|s| s.trim().trim_matches('\'').replace('\\', ""))
            .unwrap_or_else(|| panic!("no FAILOVER_TSIG_SECRET in `scripts/lab env`:\n{text}"));
        assert!(!secret.is_empty());
        // SAFETY: done once, before any test reads these variables; Rust's std serialises its
        // environment accesses and nothing in this test binary reads the environment through libc
        // while it runs.
        unsafe {
            std::env::set_var(SECRET_ENV, &secret);
            std::env::set_var(WRONG_SECRET_ENV, WRONG_SECRET);
            std::env::set_var(PG_PASSWORD_ENV, PG_PASSWORD);
        }
    });
}

fn lab_secret() -> String {
    secrets();
    std::env::var(SECRET_ENV).expect("secret set")
}

/// The lab (`common::Lab`: the lock, a reset before and after) with the test's secrets set.
async fn begin() -> Lab {
    let lab = Lab::begin().await;
    secrets();
    lab
}

/// What `dig` says the server answers (sorted, space-separated): the world, not our code.
fn dig(server: SocketAddr, name: &str) -> String {
    let out = std::process::Command::new("dig")
        .args([
            format!("@{}", server.ip()),
            "-p".into(),
            server.port().to_string(),
            name.into(),
            "A".into(),
            "+short".into(),
            "+time=1".into(),
            "+tries=1".into(),
        ])
        .output()
        .expect("run dig");
    let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    lines.sort();
    lines.join(" ")
}

fn sink() -> (mpsc::Sender<String>, mpsc::Receiver<String>) {
    mpsc::channel(1024)
}

async fn run(spec: &ActionSpec) -> (Outcome, Vec<String>, Duration) {
    let (tx, mut rx) = sink();
    let started = Instant::now();
    let outcome = spec.execute(&tx).await;
    let took = started.elapsed();
    drop(tx);
    let mut lines = Vec::new();
    while let Ok(l) = rx.try_recv() {
        lines.push(l);
    }
    eprintln!(
        "{:?} -> {outcome:?} in {took:?}, output {lines:?}",
        spec.describe().first()
    );
    (outcome, lines, took)
}

#[track_caller]
fn assert_ok(o: &Outcome, needle: &str) {
    assert!(
        matches!(o, Outcome::Ok(m) if m.contains(needle)),
        "expected Ok containing {needle:?}, got {o:?}"
    );
}
#[track_caller]
fn assert_failed(o: &Outcome, needle: &str) {
    assert!(
        matches!(o, Outcome::Failed(m) if m.contains(needle)),
        "expected Failed containing {needle:?}, got {o:?}"
    );
}
#[track_caller]
fn assert_unknown(o: &Outcome, needle: &str) {
    assert!(
        matches!(o, Outcome::Unknown(m) if m.contains(needle)),
        "expected Unknown containing {needle:?}, got {o:?}"
    );
}

// -------------------------------------------------------------------------------------------------
// promote
// -------------------------------------------------------------------------------------------------

/// A promote step as the config makes it: the plan's target read from the DSN by the driver.
fn promote(
    member: &str,
    dsn: String,
    password_env: Option<String>,
    timeout: Duration,
) -> ActionSpec {
    ActionSpec::Promote {
        member: member.to_string(),
        target: failover_console::kinds::postgres::target(&dsn),
        dsn,
        password_env,
        timeout,
    }
}

fn promote_b(password_env: Option<&str>) -> ActionSpec {
    promote(
        "site-B member",
        format!(
            "host=127.0.0.1 port={} user=postgres dbname=postgres",
            pg_replica_port()
        ),
        password_env.map(str::to_string),
        Duration::from_secs(10),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promote_the_replica_then_again_is_refused() {
    let _lab = begin().await;
    let spec = promote_b(Some(PG_PASSWORD_ENV));
    let lines = spec.describe();
    assert_eq!(
        lines[0],
        format!(
            "on site-B member (host 127.0.0.1 port {} user postgres db postgres): SELECT pg_is_in_recovery()  -- must be true",
            pg_replica_port()
        )
    );
    assert_eq!(lines[1], "SELECT pg_promote(true, 10)");

    assert_eq!(spec.preflight().await, Vec::<String>::new());
    match spec.read_back().await {
        ReadBack::NotApplied(m) => assert!(m.contains("still a replica"), "{m}"),
        other => panic!("before promotion: {other:?}"),
    }

    let (outcome, _, took) = run(&spec).await;
    assert_ok(&outcome, "pg_is_in_recovery() = false");
    assert!(
        matches!(&outcome, Outcome::Ok(m) if m.starts_with("promoted in ")),
        "{outcome:?}"
    );
    eprintln!("promote: {outcome:?} in {took:?}");
    let timeline = match spec.read_back().await {
        ReadBack::Applied(m) => {
            assert!(m.starts_with("primary, timeline "), "{m}");
            m
        }
        other => panic!("after promotion: {other:?}"),
    };

    // Again: it is a primary now. Refused before anything is sent; the timeline does not move.
    let problems = spec.preflight().await;
    assert!(
        problems.iter().any(|p| p.contains("not a replica")),
        "{problems:?}"
    );
    let (again, _, _) = run(&spec).await;
    assert_failed(&again, "not a replica: already primary?");
    assert!(
        matches!(&again, Outcome::Failed(m) if m.contains("nothing done")),
        "{again:?}"
    );
    assert_eq!(spec.read_back().await, ReadBack::Applied(timeline));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promote_a_stopped_node_fails_and_reads_back_unreadable() {
    let lab = begin().await;
    lab.run(&["pg-stop", "b"]).await;
    let spec = promote_b(None);
    let started = Instant::now();
    let (outcome, _, _) = run(&spec).await;
    assert_failed(&outcome, "connection refused");
    assert!(
        matches!(&outcome, Outcome::Failed(m) if m.contains("nothing done")),
        "{outcome:?}"
    );
    match spec.read_back().await {
        ReadBack::Unreadable(m) => assert!(m.contains("connection refused"), "{m}"),
        other => panic!("{other:?}"),
    }
    let problems = spec.preflight().await;
    assert!(
        problems.iter().any(|p| p.contains("cannot connect")),
        "{problems:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promote_without_its_password_variable_does_nothing() {
    let _lab = begin().await;
    let spec = promote_b(Some(UNSET_ENV));
    let problems = spec.preflight().await;
    assert!(
        problems
            .iter()
            .any(|p| p.contains(&format!("password-env {UNSET_ENV} is not set"))),
        "{problems:?}"
    );
    let (outcome, _, _) = run(&spec).await;
    assert_failed(&outcome, "is not set");
    // still a replica
    assert!(matches!(
        promote_b(None).read_back().await,
        ReadBack::NotApplied(_)
    ));
}

/// What the proxy does once the client has sent a packet containing the trigger.
#[derive(Clone, Copy)]
enum Cut {
    /// Forward it, then close both connections: the client loses the connection mid-call.
    Close,
    /// Forward it, then drop every answer from the server: the client waits in vain.
    Swallow,
}

/// A TCP proxy to `target` on a free port of 127.0.0.1 (it lives as long as the test's runtime).
async fn cutting_proxy(target: SocketAddr, trigger: &'static [u8], cut: Cut) -> SocketAddr {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind proxy");
    let addr = listener.local_addr().expect("proxy addr");
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = tokio::net::TcpStream::connect(target).await else {
                continue;
            };
            let (mut client_r, mut client_w) = client.into_split();
            let (mut server_r, mut server_w) = server.into_split();
            let triggered = Arc::new(AtomicBool::new(false));
            let seen = triggered.clone();
            let up = tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                while let Ok(n @ 1..) = client_r.read(&mut buf).await {
                    if server_w.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                    if buf[..n].windows(trigger.len()).any(|w| w == trigger) {
                        seen.store(true, Ordering::SeqCst);
                        if let Cut::Close = cut {
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            return; // drops the client's read half and the server's write half
                        }
                    }
                }
            });
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                loop {
                    if triggered.load(Ordering::SeqCst) && matches!(cut, Cut::Close) {
                        return; // drops the client's write half: the client sees the connection end
                    }
                    let n = tokio::select! {
                        r = server_r.read(&mut buf) => match r { Ok(n @ 1..) => n, _ => return },
                        _ = tokio::time::sleep(Duration::from_millis(50)) => continue,
                    };
                    if triggered.load(Ordering::SeqCst) {
                        if let Cut::Close = cut {
                            return;
                        }
                        continue; // Swallow
                    }
                    if client_w.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            });
            drop(up);
        }
    });
    addr
}

/// Through the cutting proxy, in the clear: it must see `pg_promote` go by (the lab's nodes
/// speak TLS, which the default `sslmode=prefer` would use).
fn promote_via(addr: SocketAddr, timeout: Duration) -> ActionSpec {
    promote(
        "site-B member",
        format!(
            "host={} port={} user=postgres dbname=postgres sslmode=disable",
            addr.ip(),
            addr.port()
        ),
        None,
        timeout,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promote_connection_lost_after_pg_promote_is_unknown_and_read_back_resolves_it() {
    let _lab = begin().await;
    let replica: SocketAddr = ([127, 0, 0, 1], pg_replica_port()).into();
    let proxy = cutting_proxy(replica, b"pg_promote", Cut::Close).await;
    let (outcome, _, _) = run(&promote_via(proxy, Duration::from_secs(10))).await;
    assert_unknown(
        &outcome,
        "connection to site-B member lost after pg_promote was sent",
    );
    // The server got the call: reading back (directly) says it took effect.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut read = promote_b(None).read_back().await;
    while !matches!(read, ReadBack::Applied(_)) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        read = promote_b(None).read_back().await;
    }
    assert!(
        matches!(&read, ReadBack::Applied(m) if m.starts_with("primary, timeline ")),
        "{read:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promote_without_an_answer_is_unknown_within_its_timeout() {
    let _lab = begin().await;
    let replica: SocketAddr = ([127, 0, 0, 1], pg_replica_port()).into();
    let proxy = cutting_proxy(replica, b"pg_promote", Cut::Swallow).await;
    let timeout = Duration::from_secs(1);
    let (outcome, _, took) = run(&promote_via(proxy, timeout)).await;
    assert_unknown(&outcome, "after pg_promote was sent: it may have promoted");
    // pg_promote(true, 1) plus the client's margin (1 s for a 1 s timeout).
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert!(matches!(
        promote_b(None).read_back().await,
        ReadBack::Applied(_)
    ));
}

// -------------------------------------------------------------------------------------------------
// DNS update
// -------------------------------------------------------------------------------------------------

fn dns_replace(
    server: SocketAddr,
    zone: Option<&str>,
    secret_env: Option<&str>,
    timeout: Duration,
) -> ActionSpec {
    ActionSpec::DnsReplace {
        server,
        zone: zone.map(str::to_string),
        name: API.into(),
        record_type: RecordType::A,
        ttl: 60,
        values: vec![IP_NEW.into()],
        tsig: secret_env.map(|env| Tsig {
            key_name: "failover-key".into(),
            secret_env: env.into(),
            algorithm: "hmac-sha256".into(),
        }),
        timeout,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_replace_with_the_right_key_is_applied() {
    let _lab = begin().await;
    // zone: None -> found from the server's SOA.
    let spec = dns_replace(dns_addr(), None, Some(SECRET_ENV), Duration::from_secs(2));
    let lines = spec.describe();
    assert!(
        lines.contains(&format!("update delete {API} A")),
        "{lines:?}"
    );
    assert!(
        lines.contains(&format!("update add {API} 60 A {IP_NEW}")),
        "{lines:?}"
    );
    assert!(
        lines.contains(&format!(
            "key failover-key (hmac-sha256, secret from ${SECRET_ENV})"
        )),
        "{lines:?}"
    );

    assert_eq!(spec.preflight().await, Vec::<String>::new());
    assert_eq!(
        spec.read_back().await,
        ReadBack::NotApplied(format!("server answers {IP_INITIAL}"))
    );

    let (outcome, _, took) = run(&spec).await;
    assert_eq!(
        outcome,
        Outcome::Ok(format!("server accepted: {API} A {IP_NEW} ttl 60"))
    );
    eprintln!("dns update accepted in {took:?}");
    assert_eq!(
        spec.read_back().await,
        ReadBack::Applied(format!("server answers {IP_NEW} (ttl 60)"))
    );
    assert_eq!(dig(dns_addr(), API), IP_NEW, "dig on the updated server");
    assert_eq!(
        dig(dns2_addr(), API),
        IP_INITIAL,
        "the other server was not touched"
    );

    // The same update again is accepted (a replace is idempotent); two values at once.
    let two = ActionSpec::DnsReplace {
        server: dns_addr(),
        zone: Some("failover.test".into()),
        name: API.into(),
        record_type: RecordType::A,
        ttl: 30,
        values: vec!["10.0.2.101".into(), "10.0.2.100".into()],
        tsig: Some(Tsig {
            key_name: "failover-key".into(),
            secret_env: SECRET_ENV.into(),
            algorithm: "hmac-sha256".into(),
        }),
        timeout: Duration::from_secs(2),
    };
    let (outcome, _, _) = run(&two).await;
    assert_ok(&outcome, "server accepted");
    assert_eq!(
        two.read_back().await,
        ReadBack::Applied("server answers 10.0.2.100, 10.0.2.101 (ttl 30)".into())
    );
    assert_eq!(dig(dns_addr(), API), "10.0.2.100 10.0.2.101");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_zone_is_found_from_the_server_for_new_names_and_other_types() {
    let _lab = begin().await;
    let tsig = Some(Tsig {
        key_name: "failover-key".into(),
        secret_env: SECRET_ENV.into(),
        algorithm: "hmac-sha256".into(),
    });
    // A name that does not exist yet (NXDOMAIN carries the zone's SOA), a TXT value with spaces
    // and quotes, longer than one 255-byte character-string.
    let text = format!("site=B \"moved\" at 03:12 {}", "x".repeat(300));
    let spec = ActionSpec::DnsReplace {
        server: dns_addr(),
        zone: None,
        name: "status.deep.failover.test".into(),
        record_type: RecordType::Txt,
        ttl: 120,
        values: vec![text.clone()],
        tsig: tsig.clone(),
        timeout: Duration::from_secs(2),
    };
    assert_eq!(spec.preflight().await, Vec::<String>::new());
    assert_eq!(
        spec.read_back().await,
        ReadBack::NotApplied("server answers NXDOMAIN".into())
    );
    let (outcome, _, _) = run(&spec).await;
    assert_ok(&outcome, "server accepted: status.deep.failover.test. TXT");
    match spec.read_back().await {
        ReadBack::Applied(m) => assert!(
            m.starts_with(&format!("server answers {}...", &text[..120]))
                && m.ends_with("(ttl 120)"),
            "{m}"
        ),
        other => panic!("{other:?}"),
    }

    // Outside every zone of the server: it refuses each SOA query up to the root.
    let outside = ActionSpec::DnsReplace {
        server: dns_addr(),
        zone: None,
        name: "api.elsewhere.example.".into(),
        record_type: RecordType::A,
        ttl: 60,
        values: vec![IP_NEW.into()],
        tsig: tsig.clone(),
        timeout: Duration::from_secs(2),
    };
    let (outcome, _, _) = run(&outside).await;
    assert_failed(
        &outcome,
        "not authoritative for any zone holding api.elsewhere.example.",
    );
    // A configured zone that does not hold the name.
    let mismatch = dns_replace(
        dns_addr(),
        Some("other.test"),
        Some(SECRET_ENV),
        Duration::from_secs(2),
    );
    let (outcome, _, _) = run(&mismatch).await;
    assert_failed(&outcome, "is not in zone other.test.");
    assert_eq!(dig(dns_addr(), API), IP_INITIAL);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_replace_with_a_wrong_key_is_refused_and_changes_nothing() {
    let _lab = begin().await;
    let spec = dns_replace(
        dns_addr(),
        Some("failover.test."),
        Some(WRONG_SECRET_ENV),
        Duration::from_secs(2),
    );
    let problems = spec.preflight().await;
    assert!(
        problems.iter().any(|p| p.contains("BADSIG")),
        "preflight: {problems:?}"
    );
    let (outcome, _, took) = run(&spec).await;
    assert_failed(&outcome, "NOTAUTH");
    assert_failed(&outcome, "BADSIG");
    assert!(
        took < Duration::from_secs(1),
        "a refusal is an answer, not a timeout: {took:?}"
    );
    assert_eq!(dig(dns_addr(), API), IP_INITIAL);
    assert_eq!(
        spec.read_back().await,
        ReadBack::NotApplied(format!("server answers {IP_INITIAL}"))
    );

    // An unknown key name: BADKEY.
    let mut unknown_key = dns_replace(
        dns_addr(),
        Some("failover.test."),
        Some(SECRET_ENV),
        Duration::from_secs(2),
    );
    if let ActionSpec::DnsReplace { tsig: Some(t), .. } = &mut unknown_key {
        t.key_name = "no-such-key".into();
    }
    let (outcome, _, _) = run(&unknown_key).await;
    assert_failed(&outcome, "BADKEY");

    // Unsigned: the zone only allows the key.
    let (outcome, _, _) = run(&dns_replace(
        dns_addr(),
        Some("failover.test."),
        None,
        Duration::from_secs(2),
    ))
    .await;
    assert_failed(&outcome, "REFUSED");
    assert_eq!(dig(dns_addr(), API), IP_INITIAL);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_replace_without_its_secret_sends_nothing() {
    let _lab = begin().await;
    // A server of our own that records anything sent to it.
    let listener = tokio::net::UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("bind udp");
    let server = listener.local_addr().expect("addr");
    for zone in [Some("failover.test."), None] {
        let spec = dns_replace(server, zone, Some(UNSET_ENV), Duration::from_secs(1));
        let (outcome, _, took) = run(&spec).await;
        assert_eq!(
            outcome,
            Outcome::Failed(format!(
                "environment variable {UNSET_ENV} is not set; nothing sent"
            ))
        );
        assert!(took < Duration::from_millis(200), "{took:?}");
    }
    let mut buf = [0u8; 512];
    let got = tokio::time::timeout(Duration::from_millis(300), listener.recv_from(&mut buf)).await;
    assert!(
        got.is_err(),
        "something was sent without the secret: {got:?}"
    );
    let spec = dns_replace(
        dns_addr(),
        Some("failover.test."),
        Some(UNSET_ENV),
        Duration::from_secs(1),
    );
    let problems = spec.preflight().await;
    assert!(
        problems
            .iter()
            .any(|p| p == &format!("environment variable {UNSET_ENV} is not set")),
        "{problems:?}"
    );
    // Invalid base64 is caught the same way.
    let spec = dns_replace(
        dns_addr(),
        Some("failover.test."),
        Some(PG_PASSWORD_ENV),
        Duration::from_secs(1),
    );
    let (outcome, _, _) = run(&spec).await;
    assert_failed(&outcome, "is not valid base64");
    assert_eq!(dig(dns_addr(), API), IP_INITIAL);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_replace_to_a_stopped_server_is_unknown_after_the_timeout() {
    let lab = begin().await;
    lab.run(&["dns-stop"]).await;
    let timeout = Duration::from_secs(1);
    let spec = dns_replace(
        dns_addr(),
        Some("failover.test."),
        Some(SECRET_ENV),
        timeout,
    );
    let (outcome, _, took) = run(&spec).await;
    assert_unknown(&outcome, "no answer from");
    assert!(
        took >= timeout && took < timeout * 2,
        "the timeout is honoured: {took:?}"
    );
    let started = Instant::now();
    match spec.read_back().await {
        ReadBack::Unreadable(m) => assert!(m.contains("timeout"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(
        started.elapsed() < timeout * 2,
        "read back {:?}",
        started.elapsed()
    );
    let problems = spec.preflight().await;
    assert!(
        problems.iter().any(|p| p.contains("no answer")),
        "{problems:?}"
    );

    // Without a zone, finding it fails first: nothing was sent, so Failed, within the timeout too.
    let spec = dns_replace(dns_addr(), None, Some(SECRET_ENV), timeout);
    let (outcome, _, took) = run(&spec).await;
    assert_failed(&outcome, "update not sent");
    assert!(took < timeout * 2, "{took:?}");
}

// -------------------------------------------------------------------------------------------------
// exec (no lab)
// -------------------------------------------------------------------------------------------------

fn exec(argv: &[&str], timeout: Duration) -> ActionSpec {
    ActionSpec::Exec {
        argv: argv.iter().map(|s| s.to_string()).collect(),
        cwd: None,
        env: Vec::new(),
        timeout,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_streams_output_as_it_comes() {
    let spec = exec(
        &["sh", "-c", "echo one; echo two >&2; sleep 1; echo three"],
        Duration::from_secs(10),
    );
    assert_eq!(spec.preflight().await, Vec::<String>::new());
    let (tx, mut rx) = sink();
    let started = Instant::now();
    let task = tokio::spawn(async move { spec.execute(&tx).await });
    let first = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("a line before the end")
        .expect("line");
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "the first line came only after {:?}",
        started.elapsed()
    );
    assert!(
        !task.is_finished(),
        "the command was still running when its first line arrived"
    );
    let outcome = task.await.expect("join");
    let mut lines = vec![first];
    while let Some(l) = rx.recv().await {
        lines.push(l);
    }
    assert_ok(&outcome, "exit 0 in ");
    lines.sort();
    assert_eq!(lines, vec!["! two", "one", "three"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_nonzero_exit_fails_and_missing_programs_are_named() {
    let (outcome, _, _) = run(&exec(
        &["sh", "-c", "echo failing >&2; exit 3"],
        Duration::from_secs(10),
    ))
    .await;
    assert_eq!(outcome, Outcome::Failed("exit 3".into()));

    let missing = exec(
        &["no-such-command-for-failover", "x"],
        Duration::from_secs(10),
    );
    assert_eq!(
        missing.preflight().await,
        vec!["no-such-command-for-failover not found on PATH".to_string()]
    );
    let (outcome, _, _) = run(&missing).await;
    assert_eq!(
        outcome,
        Outcome::Failed("cannot run no-such-command-for-failover: not found".into())
    );

    let abs = exec(&["/nonexistent/bin/tool"], Duration::from_secs(10));
    assert_eq!(
        abs.preflight().await,
        vec!["/nonexistent/bin/tool not found".to_string()]
    );

    // stdin is /dev/null: a command reading it ends at once.
    let (outcome, lines, _) = run(&exec(
        &["sh", "-c", "cat; echo done"],
        Duration::from_secs(5),
    ))
    .await;
    assert_ok(&outcome, "exit 0");
    assert_eq!(lines, vec!["done"]);

    // cwd is honoured, relative programs resolve in it.
    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("hello.sh");
    std::fs::write(&script, "#!/bin/sh\npwd\n").expect("write script");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let spec = ActionSpec::Exec {
        argv: vec!["./hello.sh".into()],
        cwd: Some(dir.path().to_path_buf()),
        env: Vec::new(),
        timeout: Duration::from_secs(5),
    };
    assert_eq!(spec.preflight().await, Vec::<String>::new());
    let (outcome, lines, _) = run(&spec).await;
    assert_ok(&outcome, "exit 0");
    assert_eq!(
        lines,
        vec![
            dir.path()
                .canonicalize()
                .expect("canon")
                .display()
                .to_string()
        ]
    );
}

fn alive(pid: u32) -> bool {
    // a zombie is dead for our purposes
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z'),
        Err(_) => false,
    }
}

fn read_pid(path: &PathBuf) -> u32 {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("no pid in {}", path.display()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_timeout_kills_the_whole_process_group() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (shell_pid, child_pid) = (dir.path().join("shell.pid"), dir.path().join("child.pid"));
    // A shell that starts a grandchild (which ignores TERM) and waits for it.
    let script = format!(
        "echo $$ > {}; (trap '' TERM; exec sleep 60) & echo $! > {}; echo started; wait",
        shell_pid.display(),
        child_pid.display()
    );
    let timeout = Duration::from_millis(700);
    let (outcome, lines, took) = run(&exec(&["sh", "-c", &script], timeout)).await;
    assert_unknown(&outcome, "killed after timeout");
    assert!(
        matches!(&outcome, Outcome::Unknown(m) if m.contains("effect unknown")),
        "{outcome:?}"
    );
    assert_eq!(lines, vec!["started"]);
    // TERM, then KILL for what ignores it: bounded by the timeout plus the grace.
    assert!(
        took >= timeout && took < timeout + Duration::from_secs(4),
        "{took:?}"
    );
    let (shell, child) = (read_pid(&shell_pid), read_pid(&child_pid));
    let deadline = Instant::now() + Duration::from_secs(2);
    while (alive(shell) || alive(child)) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!alive(shell), "the shell {shell} survived");
    assert!(
        !alive(child),
        "the grandchild {child} (ignoring TERM) survived"
    );
}

// -------------------------------------------------------------------------------------------------
// webhook (the lab's nginx)
// -------------------------------------------------------------------------------------------------

fn hook(url: String, timeout: Duration) -> ActionSpec {
    ActionSpec::Http {
        method: "GET".into(),
        url: Field::Literal(url),
        headers: vec![(
            "Authorization".into(),
            Field::Literal("Bearer hook-token-never-shown".into()),
        )],
        body: None,
        expect_status: 200,
        timeout,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_200_503_timeout_and_refused() {
    let lab = begin().await;
    let url = format!("http://127.0.0.1:{}/ep/actions-hook/healthz", http_port());
    lab.run(&["http", "actions-hook", "up"]).await;
    let spec = hook(url.clone(), Duration::from_secs(2));
    assert_eq!(spec.preflight().await, Vec::<String>::new());
    assert_eq!(
        spec.describe(),
        vec![
            format!("GET http://127.0.0.1:{}/… (expect 200)", http_port()),
            "header Authorization: ***".to_string()
        ]
    );
    let (outcome, _, _) = run(&spec).await;
    assert_ok(&outcome, "HTTP 200 in ");

    lab.run(&["http", "actions-hook", "down"]).await;
    let (outcome, _, _) = run(&spec).await;
    assert_failed(&outcome, "HTTP 503: ");
    assert!(
        matches!(&outcome, Outcome::Failed(m) if m.chars().count() <= "HTTP 503: ".len() + 200),
        "{outcome:?}"
    );

    // nginx answers only after 3 s: our 1 s timeout, once connected, is Unknown.
    lab.run(&["http", "actions-hook", "slow"]).await;
    let timeout = Duration::from_secs(1);
    let (outcome, _, took) = run(&hook(url.clone(), timeout)).await;
    assert_unknown(&outcome, "may have been received");
    assert!(took >= timeout && took < timeout * 2, "{took:?}");

    // Nothing listens: refused, nothing sent.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let (outcome, _, _) = run(&hook(format!("http://127.0.0.1:{port}/hook"), timeout)).await;
    assert_failed(&outcome, "connection refused");

    let bad = hook("not a url".into(), timeout);
    let problems = bad.preflight().await;
    assert!(
        problems.iter().any(|p| p.contains("invalid URL")),
        "{problems:?}"
    );
}

// -------------------------------------------------------------------------------------------------
// describe never shows a secret
// -------------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_never_shows_a_secret() {
    let secret = lab_secret();
    let specs = [
        dns_replace(dns_addr(), None, Some(SECRET_ENV), Duration::from_secs(2)),
        promote_b(Some(PG_PASSWORD_ENV)),
        promote(
            "b",
            format!(
                "postgresql://postgres:{PG_PASSWORD}@127.0.0.1:{}/postgres",
                pg_replica_port()
            ),
            None,
            Duration::from_secs(5),
        ),
        promote(
            "b",
            format!("host=127.0.0.1 password={PG_PASSWORD} user=postgres"),
            None,
            Duration::from_secs(5),
        ),
        ActionSpec::Http {
            method: "post".into(),
            url: Field::Literal(format!(
                "https://ops:{PG_PASSWORD}@hooks.example/x?token={secret}"
            )),
            headers: vec![("X-Api-Key".into(), Field::Literal(secret.clone()))],
            body: Some(format!(r#"{{"text":"failover","secret":"{secret}"}}"#)),
            expect_status: 204,
            timeout: Duration::from_secs(5),
        },
    ];
    for spec in &specs {
        let text = spec.describe().join("\n");
        assert!(!text.contains(&secret), "TSIG secret shown:\n{text}");
        assert!(!text.contains(PG_PASSWORD), "password shown:\n{text}");
    }
}
