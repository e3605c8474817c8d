//! The pure reducer: sequences of `Msg` through `update`, asserting on the model and on the
//! timeline edges it asks to record. No I/O, fixed clocks.

#[path = "common/fixture.rs"]
mod fixture;
#[path = "common/screen.rs"]
mod screen;

use fixture::{records, run_entry, step};
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use failover_core::app::driver::DriverToken;
use failover_core::app::keys::{Command, KeyMap, available};
use failover_core::app::model::{Driver, Overlay, Pane};
use failover_core::app::runs::RunKey;
use failover_core::app::verdict::{self, Level};
use failover_core::app::{Effect, Mode, Model, Msg, update};
use failover_core::kinds::dns::{Match, RecordSite};
use failover_core::kinds::health::CheckStatus;
use failover_core::kinds::postgres::{BytesSource, Role, TimeSource};
use failover_core::kinds::{
    Observation,
    dns::DnsAnswer,
    health::ProbeOutcome,
    postgres::{Lsn, PgSnapshot, PrimaryReading, ReplicaReading, StandbyRow},
};
use failover_core::runbook::{Event, Phase, StepResult, StepStatus};
use failover_core::timeline::{Entry, Kind, Severity};
use time::OffsetDateTime;
use time::macros::datetime;

const CONFIG: &str = r#"
[console]
title = "orders: site A / site B"

[sites.primary]
label = "site A"
[sites.secondary]
label = "site B"

[[health]]
name = "api-a"
site = "primary"
http = "http://127.0.0.1:18081/healthz"
interval = "1s"
timeout = "500ms"
failure-threshold = 3
success-threshold = 2

[[health]]
name = "db-b-port"
site = "secondary"
tcp = "127.0.0.1:54322"

[[database]]
name = "orders"
kind = "postgres"
max-lag-bytes = 1048576
max-lag = "30s"
interval = "1s"
[[database.member]]
site = "primary"
dsn = "host=127.0.0.1 port=54321 user=postgres"
[[database.member]]
site = "secondary"
dsn = "host=127.0.0.1 port=54322 user=postgres"

[[dns]]
name = "api.failover.test."
type = "A"
resolvers = ["127.0.0.1:5353", "127.0.0.1:5354"]
interval = "2s"
[dns.answers]
primary = ["10.0.1.100"]
secondary = ["10.0.2.100"]
"#;

const API: usize = 0;
const DB_PORT: usize = 1;
const A: usize = 0; // member / site index of site A
const B: usize = 1;

const T0: OffsetDateTime = datetime!(2026-03-01 12:00:00 UTC);

fn at(secs: f64) -> OffsetDateTime {
    fixture::after(T0, secs)
}

fn model_from(text: &str, mode: Mode) -> Model {
    fixture::model(text, mode, "alice@ops", fixture::dark(false), T0)
}

fn model() -> Model {
    model_from(CONFIG, Mode::Live)
}

fn describe(entries: &[Entry]) -> String {
    entries
        .iter()
        .map(|e| {
            format!(
                "  {:?} {} {}: {}\n",
                e.kind,
                e.severity.label(),
                e.source,
                e.message
            )
        })
        .collect()
}

// ---- observations -------------------------------------------------------------------------

fn probe(m: &mut Model, check: usize, secs: f64, ok: bool) -> Vec<Entry> {
    let detail = if ok {
        "200".to_string()
    } else {
        "status 503 (expected 200)".to_string()
    };
    step(
        m,
        Msg::Observed(Observation::Probe {
            check,
            at: at(secs),
            outcome: ProbeOutcome {
                ok,
                latency: Duration::from_millis(12),
                detail,
            },
        }),
    )
}

fn pg(m: &mut Model, member: usize, secs: f64, result: Result<PgSnapshot, String>) -> Vec<Entry> {
    step(
        m,
        Msg::Observed(Observation::Postgres {
            db: 0,
            member,
            at: at(secs),
            result,
        }),
    )
}

fn dns(m: &mut Model, resolver: usize, secs: f64, answer: DnsAnswer) -> Vec<Entry> {
    step(
        m,
        Msg::Observed(Observation::Dns {
            record: 0,
            resolver,
            at: at(secs),
            answer,
        }),
    )
}

fn a_record(ip: &str, ttl: u32) -> DnsAnswer {
    DnsAnswer::Records {
        values: vec![ip.to_string()],
        ttl,
    }
}

/// A primary whose `pg_stat_replication` has one standby, `site_b`, `lag` bytes behind.
fn primary(timeline: u32, lag: Option<u64>) -> PgSnapshot {
    PgSnapshot {
        in_recovery: false,
        timeline: Some(timeline),
        server_version: "17.2".into(),
        cluster_name: "site_a".into(),
        primary: Some(PrimaryReading {
            current_lsn: Lsn(0x3_0000_0000),
            standbys: vec![StandbyRow {
                application_name: "site_b".into(),
                state: "streaming".into(),
                lag_bytes: lag,
                replay_lag: Some(Duration::from_millis(40)),
            }],
        }),
        replica: None,
    }
}

fn replica(paused: bool) -> PgSnapshot {
    PgSnapshot {
        in_recovery: true,
        timeline: Some(1),
        server_version: "17.2".into(),
        cluster_name: "site_b".into(),
        primary: None,
        replica: Some(ReplicaReading {
            receive_lsn: Some(Lsn(0x3_0000_0000)),
            replay_lsn: Some(Lsn(0x3_0000_0000)),
            replay_paused: paused,
            receiver_status: Some("streaming".into()),
            since_last_replay: Some(Duration::from_secs(2)),
        }),
    }
}

/// Site B after `pg_promote()`: out of recovery, on a new timeline, no standbys.
fn promoted() -> PgSnapshot {
    PgSnapshot {
        in_recovery: false,
        timeline: Some(2),
        server_version: "17.2".into(),
        cluster_name: "site_b".into(),
        primary: Some(PrimaryReading {
            current_lsn: Lsn(0x3_0000_1000),
            standbys: vec![],
        }),
        replica: None,
    }
}

/// Everything answering and agreeing on site A.
fn all_healthy(m: &mut Model) {
    for check in [API, DB_PORT] {
        probe(m, check, 0.1, true);
        probe(m, check, 0.2, true);
    }
    pg(m, A, 0.1, Ok(primary(1, Some(0))));
    pg(m, B, 0.1, Ok(replica(false)));
    dns(m, 0, 0.1, a_record("10.0.1.100", 60));
    dns(m, 1, 0.1, a_record("10.0.1.100", 60));
}

// ---- health thresholds (Route 53 semantics) -----------------------------------------------

#[test]
fn healthy_check_flips_only_on_the_third_consecutive_failure() {
    let mut m = model();
    assert_eq!(probe(&mut m, API, 1.0, true), []);
    assert_eq!(
        m.kinds.health[API].status,
        CheckStatus::Pending,
        "one ok is below success-threshold 2"
    );
    let e = probe(&mut m, API, 2.0, true);
    assert_eq!(m.kinds.health[API].status, CheckStatus::Healthy);
    assert_eq!(e.len(), 1, "{}", describe(&e));
    assert_eq!(
        (e[0].severity, e[0].kind, e[0].source.as_str()),
        (Severity::Ok, Kind::Edge, "health/api-a")
    );
    assert!(
        e[0].message.contains("pending → healthy after 2 ok"),
        "{}",
        e[0].message
    );

    assert_eq!(probe(&mut m, API, 3.0, false), []);
    assert_eq!(probe(&mut m, API, 4.0, false), []);
    assert_eq!(
        m.kinds.health[API].status,
        CheckStatus::Healthy,
        "two failures do not flip a healthy check"
    );
    assert_eq!(m.kinds.health[API].fail_run, 2);

    let e = probe(&mut m, API, 5.0, false);
    assert_eq!(m.kinds.health[API].status, CheckStatus::Unhealthy);
    assert_eq!(m.kinds.health[API].since, Some(at(5.0)));
    assert_eq!(e.len(), 1, "exactly one edge: {}", describe(&e));
    assert_eq!(e[0].severity, Severity::Crit);
    assert_eq!(e[0].at, at(5.0));
    assert!(
        e[0].message
            .contains("healthy → unhealthy after 3 failed: status 503 (expected 200)"),
        "{}",
        e[0].message
    );

    // Staying down says nothing more.
    assert_eq!(probe(&mut m, API, 6.0, false), []);
    assert_eq!(probe(&mut m, API, 7.0, false), []);
}

#[test]
fn recovery_needs_success_threshold_consecutive_oks() {
    let mut m = model();
    for s in 1..=3 {
        probe(&mut m, API, s as f64, false);
    }
    assert_eq!(m.kinds.health[API].status, CheckStatus::Unhealthy);

    assert_eq!(probe(&mut m, API, 4.0, true), [], "one ok is not recovery");
    assert_eq!(m.kinds.health[API].status, CheckStatus::Unhealthy);
    assert_eq!(probe(&mut m, API, 5.0, false), []);
    assert_eq!(
        probe(&mut m, API, 6.0, true),
        [],
        "the ok run restarted after the failure"
    );
    let e = probe(&mut m, API, 7.0, true);
    assert_eq!(m.kinds.health[API].status, CheckStatus::Healthy);
    assert_eq!(e.len(), 1, "{}", describe(&e));
    assert_eq!(e[0].severity, Severity::Ok);
    assert!(
        e[0].message.contains("unhealthy → healthy after 2 ok"),
        "{}",
        e[0].message
    );
}

#[test]
fn intermittent_ok_fail_ok_never_flips() {
    let mut m = model();
    probe(&mut m, API, 0.0, true);
    probe(&mut m, API, 0.5, true);
    assert_eq!(m.kinds.health[API].status, CheckStatus::Healthy);
    let mut edges = Vec::new();
    for i in 0..30 {
        let ok = i % 3 != 1; // ok, fail, ok, ok, fail, ok ...
        edges.extend(probe(&mut m, API, 1.0 + i as f64, ok));
        assert_eq!(m.kinds.health[API].status, CheckStatus::Healthy);
    }
    // Even two in a row (fail, fail, ok) stays healthy.
    edges.extend(probe(&mut m, API, 40.0, false));
    edges.extend(probe(&mut m, API, 41.0, false));
    edges.extend(probe(&mut m, API, 42.0, true));
    assert_eq!(m.kinds.health[API].status, CheckStatus::Healthy);
    assert!(
        edges.is_empty(),
        "flapping produced edges: {}",
        describe(&edges)
    );

    // And while unhealthy, ok/fail/ok does not recover it.
    for s in 50..53 {
        probe(&mut m, API, s as f64, false);
    }
    for (i, ok) in [true, false, true, false, true, false]
        .into_iter()
        .enumerate()
    {
        assert_eq!(probe(&mut m, API, 60.0 + i as f64, ok), []);
    }
    assert_eq!(m.kinds.health[API].status, CheckStatus::Unhealthy);
}

#[test]
fn pending_check_goes_straight_to_unhealthy() {
    let mut m = model();
    probe(&mut m, API, 1.0, false);
    probe(&mut m, API, 2.0, false);
    assert_eq!(m.kinds.health[API].status, CheckStatus::Pending);
    let e = probe(&mut m, API, 3.0, false);
    assert_eq!(m.kinds.health[API].status, CheckStatus::Unhealthy);
    assert_eq!(e.len(), 1);
    assert!(
        e[0].message
            .starts_with("pending → unhealthy after 3 failed"),
        "{}",
        e[0].message
    );
}

#[test]
fn observations_for_unknown_indexes_are_ignored() {
    let mut m = model();
    assert_eq!(probe(&mut m, 7, 1.0, false), []);
    assert_eq!(
        step(
            &mut m,
            Msg::Observed(Observation::Postgres {
                db: 3,
                member: 0,
                at: at(1.0),
                result: Ok(replica(false))
            })
        ),
        []
    );
    assert_eq!(pg(&mut m, 5, 1.0, Ok(replica(false))), []);
    assert_eq!(dns(&mut m, 9, 1.0, a_record("10.0.1.100", 60)), []);
    assert_eq!(
        step(
            &mut m,
            Msg::Observed(Observation::Dns {
                record: 4,
                resolver: 0,
                at: at(1.0),
                answer: DnsAnswer::Timeout
            })
        ),
        []
    );
}

// ---- staleness ----------------------------------------------------------------------------

#[test]
fn stale_after_interval_plus_timeout_with_one_edge_then_recovers() {
    let mut m = model();
    probe(&mut m, API, 0.1, true);
    probe(&mut m, API, 0.2, true);
    assert_eq!(m.kinds.health[API].status, CheckStatus::Healthy);
    // api-a: 1s interval + 500ms timeout. 1.5s after its last answer it is not yet stale.
    assert_eq!(step(&mut m, Msg::Tick(at(1.7))), []);
    assert_eq!(m.now, at(1.7));
    assert!(!m.kinds.health[API].stale);

    let e = step(&mut m, Msg::Tick(at(2.0)));
    assert!(m.kinds.health[API].stale);
    assert_eq!(e.len(), 1, "only api-a is overdue at 2s: {}", describe(&e));
    assert_eq!(
        (e[0].severity, e[0].source.as_str()),
        (Severity::Warn, "health/api-a")
    );
    assert!(
        e[0].message.starts_with("stale: no answer for "),
        "{}",
        e[0].message
    );
    assert!(
        e[0].message.ends_with("(limit 1.5s)"),
        "the limit is interval + timeout, unrounded: {}",
        e[0].message
    );
    assert_eq!(e[0].at, at(2.0));

    // Still stale: no repeat.
    let e = step(&mut m, Msg::Tick(at(2.5)));
    assert!(
        e.iter().all(|x| x.source != "health/api-a"),
        "{}",
        describe(&e)
    );

    let e = probe(&mut m, API, 2.6, true);
    assert!(!m.kinds.health[API].stale);
    assert_eq!(e.len(), 1, "{}", describe(&e));
    assert_eq!(e[0].severity, Severity::Ok);
    assert_eq!(e[0].message, "answering again (no longer stale)");
}

/// CONFIG with api-a probed every 500 ms with a 400 ms timeout (limit 900 ms).
fn fast_check_model() -> Model {
    let text = CONFIG.replacen(
        "interval = \"1s\"\ntimeout = \"500ms\"",
        "interval = \"500ms\"\ntimeout = \"400ms\"",
        1,
    );
    assert_ne!(text, CONFIG);
    model_from(&text, Mode::Live)
}

fn api_edges(entries: &[Entry]) -> Vec<String> {
    entries
        .iter()
        .filter(|e| e.source == "health/api-a")
        .map(|e| e.message.clone())
        .collect()
}

#[test]
fn a_500ms_check_answering_880ms_into_its_first_poll_is_never_stale() {
    let mut m = fast_check_model();
    // The record took 1.2 s to open: the pollers started then, and staleness counts from there,
    // not from the console's start. The check's slot starts 500 ms later (the latest a first
    // poll starts) and its first answer takes 880 ms (the client's setup).
    m.polling_since = at(1.2);
    let first = 1.2 + 0.5 + 0.88;
    let mut seen = Vec::new();
    for ms in (100..2580).step_by(10) {
        seen.extend(api_edges(&step(&mut m, Msg::Tick(at(ms as f64 / 1000.0)))));
    }
    seen.extend(api_edges(&probe(&mut m, API, first, true)));
    // Then a round every 500 ms, each answered up to 400 ms into it, ticks every 10 ms.
    for round in 0..8 {
        let start = first + 0.5 * round as f64;
        let answer = start + if round % 2 == 0 { 0.39 } else { 0.01 };
        for ms in (0..500).step_by(10) {
            let t = start + ms as f64 / 1000.0;
            if t < answer {
                seen.extend(api_edges(&step(&mut m, Msg::Tick(at(t)))));
            }
        }
        seen.extend(api_edges(&probe(&mut m, API, answer, true)));
    }
    assert!(
        seen.iter()
            .all(|e| !e.contains("stale") && !e.contains("answering again")),
        "{seen:?}"
    );
    assert!(!m.kinds.health[API].stale);
}

#[test]
fn a_500ms_check_never_answering_is_stale_once_after_its_first_polls_spread_and_limit() {
    let mut m = fast_check_model();
    // The latest its first poll starts is 500 ms in (min(interval, 1 s)); then 900 ms.
    let e = step(&mut m, Msg::Tick(at(1.4)));
    assert_eq!(api_edges(&e), Vec::<String>::new());
    assert!(!m.kinds.health[API].stale);
    let e = step(&mut m, Msg::Tick(at(1.401)));
    assert_eq!(api_edges(&e), ["stale: no answer for 1.4s (limit 1.4s)"]);
    let mut later = Vec::new();
    for ms in (1410..=3000).step_by(10) {
        later.extend(api_edges(&step(&mut m, Msg::Tick(at(ms as f64 / 1000.0)))));
    }
    assert_eq!(later, Vec::<String>::new(), "one edge, not one per tick");
    assert!(m.kinds.health[API].stale);
}

#[test]
fn never_answered_sources_go_stale_counting_from_start() {
    let mut m = model();
    // Never heard from: the limit from the latest the first poll starts, min(interval, 1 s) after
    // the pollers start. api-a: 1s + 1.5s; db members: 1s + 1s + 2s default timeout = 4s; dns:
    // 1s + 2s + 2s = 5s; tcp check: 1s + 10s + 2s.
    let e = step(&mut m, Msg::Tick(at(2.4)));
    assert!(e.is_empty(), "not before the grace: {}", describe(&e));
    let e = step(&mut m, Msg::Tick(at(3.5)));
    let sources: Vec<&str> = e.iter().map(|x| x.source.as_str()).collect();
    assert_eq!(sources, ["health/api-a"], "{}", describe(&e));
    let e = step(&mut m, Msg::Tick(at(4.5)));
    let mut sources: Vec<&str> = e.iter().map(|x| x.source.as_str()).collect();
    sources.sort();
    assert_eq!(
        sources,
        ["db/orders/site A", "db/orders/site B"],
        "{}",
        describe(&e)
    );
    assert!(m.kinds.postgres[0].members.iter().all(|x| x.stale));

    let e = step(&mut m, Msg::Tick(at(5.5)));
    assert_eq!(e.len(), 2, "both resolvers: {}", describe(&e));
    assert!(
        e.iter()
            .all(|x| x.source == "dns/api.failover.test. A" && x.severity == Severity::Warn)
    );
    assert!(
        e[0].message.starts_with("@127.0.0.1:5353 stale"),
        "{}",
        e[0].message
    );
    assert!(
        e[1].message.starts_with("@127.0.0.1:5354 stale"),
        "{}",
        e[1].message
    );

    let e = step(&mut m, Msg::Tick(at(13.5)));
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].source, "health/db-b-port");

    // Answers bring each back with its own OK edge.
    let e = pg(&mut m, B, 14.0, Ok(replica(false)));
    assert!(e.iter().any(|x| x.severity == Severity::Ok && x.message == "answering again (no longer stale)"), "{}", describe(&e));
    assert!(!m.kinds.postgres[0].members[B].stale);
    let e = dns(&mut m, 1, 14.0, a_record("10.0.1.100", 60));
    assert!(
        e.iter()
            .any(|x| x.severity == Severity::Ok
                && x.message.contains("@127.0.0.1:5354 answering again")),
        "{}",
        describe(&e)
    );
    assert!(!m.kinds.dns[0].resolvers[1].stale);
    assert!(
        m.kinds.dns[0].resolvers[0].stale,
        "the other resolver is still stale"
    );
}

// ---- postgres -----------------------------------------------------------------------------

#[test]
fn first_readings_give_roles() {
    let mut m = model();
    assert_eq!(m.kinds.postgres[0].members[A].role, Role::Unknown);
    let e = pg(&mut m, A, 1.0, Ok(primary(1, Some(0))));
    assert_eq!(m.kinds.postgres[0].members[A].role, Role::Primary);
    assert_eq!(e.len(), 1, "{}", describe(&e));
    assert_eq!(
        (e[0].severity, e[0].source.as_str(), e[0].message.as_str()),
        (Severity::Info, "db/orders/site A", "primary, timeline 1")
    );

    let e = pg(&mut m, B, 1.0, Ok(replica(false)));
    assert_eq!(m.kinds.postgres[0].members[B].role, Role::Replica);
    // Once every member has answered, the database's primary goes on the timeline, whichever
    // member answered first.
    assert_eq!(e.len(), 2, "{}", describe(&e));
    assert_eq!(
        (e[0].source.as_str(), e[0].message.as_str()),
        ("db/orders/site B", "replica, timeline 1")
    );
    assert_eq!(
        (e[1].source.as_str(), e[1].message.as_str()),
        ("db/orders", "one primary: site A")
    );
    assert_eq!(m.kinds.postgres[0].primaries(), [A]);

    let lag = m.kinds.postgres[0].members[B]
        .lag
        .clone()
        .expect("a reachable replica has a lag figure");
    assert_eq!(lag.bytes, Some((0, BytesSource::StatReplication)));
    assert_eq!(lag.time, Some((Duration::ZERO, TimeSource::CaughtUp)));
    assert!(!lag.over_limit);
    assert_eq!(
        m.kinds.postgres[0].members[A].lag, None,
        "a primary has no lag"
    );

    // Same readings again: nothing to say.
    assert_eq!(pg(&mut m, A, 2.0, Ok(primary(1, Some(0)))), []);
    assert_eq!(pg(&mut m, B, 2.0, Ok(replica(false))), []);
}

#[test]
fn lag_over_limit_raises_one_edge_and_back_within_gives_ok() {
    let mut m = model();
    pg(&mut m, A, 1.0, Ok(primary(1, Some(0))));
    pg(&mut m, B, 1.0, Ok(replica(false)));

    let e = pg(&mut m, A, 2.0, Ok(primary(1, Some(5 * 1024 * 1024))));
    assert_eq!(e.len(), 1, "{}", describe(&e));
    assert_eq!(
        (e[0].severity, e[0].source.as_str()),
        (Severity::Warn, "db/orders/site B"),
        "the edge is about the replica"
    );
    assert!(
        e[0].message.starts_with("lag over limit: 5.0 MiB"),
        "{}",
        e[0].message
    );
    assert!(
        e[0].message.contains("limit 1.0 MiB, 30 s"),
        "{}",
        e[0].message
    );
    let lag = m.kinds.postgres[0].members[B].lag.clone().unwrap();
    assert_eq!(
        lag.bytes,
        Some((5 * 1024 * 1024, BytesSource::StatReplication))
    );
    assert_eq!(
        lag.time,
        Some((Duration::from_millis(40), TimeSource::ReplayLag))
    );
    assert!(lag.over_limit);

    // Still over, different figure: no new edge.
    assert_eq!(
        pg(&mut m, A, 3.0, Ok(primary(1, Some(6 * 1024 * 1024)))),
        []
    );
    assert_eq!(pg(&mut m, B, 3.0, Ok(replica(false))), []);

    let e = pg(&mut m, A, 4.0, Ok(primary(1, Some(512))));
    assert_eq!(e.len(), 1, "{}", describe(&e));
    assert_eq!(e[0].severity, Severity::Ok);
    assert!(
        e[0].message.starts_with("lag back within limits: 512 B"),
        "{}",
        e[0].message
    );
    assert!(
        !m.kinds.postgres[0].members[B]
            .lag
            .as_ref()
            .unwrap()
            .over_limit
    );
}

#[test]
fn paused_replay_is_an_edge_and_lag_time_comes_from_last_replay() {
    let mut m = model();
    pg(&mut m, A, 1.0, Ok(primary(1, Some(4096))));
    pg(&mut m, B, 1.0, Ok(replica(false)));
    let mut paused = replica(true);
    paused.replica.as_mut().unwrap().since_last_replay = Some(Duration::from_secs(45));
    let e = pg(&mut m, B, 2.0, Ok(paused));
    let messages: Vec<&str> = e.iter().map(|x| x.message.as_str()).collect();
    assert!(messages.contains(&"WAL replay paused"), "{}", describe(&e));
    // With replay paused, replay_lag is not trusted: time comes from the last replayed commit.
    let lag = m.kinds.postgres[0].members[B].lag.clone().unwrap();
    assert_eq!(
        lag.time,
        Some((Duration::from_secs(45), TimeSource::SinceLastReplay))
    );
    assert!(lag.over_limit, "45 s is over max-lag 30 s");
    assert!(
        messages.iter().any(|x| x.starts_with("lag over limit")),
        "{}",
        describe(&e)
    );
    assert_eq!(e.len(), 2, "{}", describe(&e));

    let e = pg(&mut m, B, 3.0, Ok(replica(false)));
    let messages: Vec<&str> = e.iter().map(|x| x.message.as_str()).collect();
    assert!(messages.contains(&"WAL replay resumed"), "{}", describe(&e));
}

#[test]
fn replica_that_stops_streaming_is_an_edge() {
    let mut m = model();
    pg(&mut m, A, 1.0, Ok(primary(1, Some(0))));
    pg(&mut m, B, 1.0, Ok(replica(false)));
    let mut stopped = replica(false);
    stopped.replica.as_mut().unwrap().receiver_status = None;
    let e = pg(&mut m, B, 2.0, Ok(stopped));
    assert_eq!(e.len(), 1, "{}", describe(&e));
    assert_eq!(e[0].severity, Severity::Warn);
    assert_eq!(e[0].message, "not streaming (walreceiver: none)");
    let e = pg(&mut m, B, 3.0, Ok(replica(false)));
    assert_eq!(e.len(), 1, "{}", describe(&e));
    assert_eq!(
        (e[0].severity, e[0].message.as_str()),
        (Severity::Ok, "streaming again")
    );
}

#[test]
fn promotion_swaps_roles_and_flags_split_brain_while_both_say_primary() {
    let mut m = model();
    pg(&mut m, A, 1.0, Ok(primary(1, Some(0))));
    pg(&mut m, B, 1.0, Ok(replica(false)));

    let e = pg(&mut m, B, 2.0, Ok(promoted()));
    assert_eq!(m.kinds.postgres[0].members[B].role, Role::Primary);
    assert_eq!(m.kinds.postgres[0].primaries(), [A, B]);
    let promotions: Vec<&Entry> = e
        .iter()
        .filter(|x| x.source == "db/orders/site B")
        .collect();
    assert_eq!(promotions.len(), 1, "{}", describe(&e));
    assert_eq!(promotions[0].severity, Severity::Warn);
    assert_eq!(
        promotions[0].message,
        "replica → primary (promoted, timeline 2)"
    );
    let split: Vec<&Entry> = e.iter().filter(|x| x.source == "db/orders").collect();
    assert_eq!(split.len(), 1, "{}", describe(&e));
    assert_eq!(split[0].severity, Severity::Crit);
    assert_eq!(
        split[0].message,
        "split brain: 2 writable primaries (site A, site B)"
    );
    assert_eq!(e.len(), 2, "{}", describe(&e));
    assert_eq!(
        m.kinds.postgres[0].members[B].lag, None,
        "no lag for a primary"
    );

    // The old primary still says primary: no repeat of the split-brain edge.
    assert_eq!(pg(&mut m, A, 3.0, Ok(primary(1, Some(0)))), []);

    // The old primary is fenced (goes down): one primary again, on site B.
    let e = pg(&mut m, A, 4.0, Err("connection refused".into()));
    assert_eq!(m.kinds.postgres[0].members[A].role, Role::Unreachable);
    assert_eq!(m.kinds.postgres[0].primaries(), [B]);
    let down = e
        .iter()
        .find(|x| x.source == "db/orders/site A")
        .unwrap_or_else(|| panic!("{}", describe(&e)));
    assert_eq!(
        down.severity,
        Severity::Crit,
        "losing a primary is critical"
    );
    assert_eq!(down.message, "primary → unreachable: connection refused");
    let one = e
        .iter()
        .find(|x| x.source == "db/orders")
        .unwrap_or_else(|| panic!("{}", describe(&e)));
    assert_eq!(
        (one.severity, one.message.as_str()),
        (Severity::Ok, "one primary: site B")
    );
    assert_eq!(e.len(), 2, "{}", describe(&e));

    // It comes back as a replica of B (rewound): a plain role change.
    let mut rewound = replica(false);
    rewound.cluster_name = "site_a".into();
    rewound.timeline = Some(2);
    let e = pg(&mut m, A, 5.0, Ok(rewound));
    assert_eq!(m.kinds.postgres[0].members[A].role, Role::Replica);
    assert_eq!(e.len(), 1, "{}", describe(&e));
    assert_eq!(
        (e[0].severity, e[0].message.as_str()),
        (Severity::Ok, "reachable again: replica, timeline 2")
    );
}

#[test]
fn unreachable_member() {
    let mut m = model();
    pg(&mut m, A, 1.0, Ok(primary(1, Some(0))));
    pg(&mut m, B, 1.0, Ok(replica(false)));

    let e = pg(&mut m, B, 2.0, Err("timeout after 2s".into()));
    let st = &m.kinds.postgres[0].members[B];
    assert_eq!(st.role, Role::Unreachable);
    assert_eq!(st.error.as_deref(), Some("timeout after 2s"));
    assert!(
        st.snapshot.as_ref().is_some_and(|s| s.in_recovery),
        "the last good reading is kept"
    );
    assert_eq!(st.lag, None, "no lag figure for an unreachable member");
    assert_eq!(e.len(), 1, "{}", describe(&e));
    assert_eq!(
        (e[0].severity, e[0].message.as_str()),
        (Severity::Warn, "replica → unreachable: timeout after 2s")
    );
    assert_eq!(
        pg(&mut m, B, 3.0, Err("timeout after 2s".into())),
        [],
        "still unreachable: no repeat"
    );

    // The primary goes too: no writable primary.
    let e = pg(&mut m, A, 4.0, Err("connection refused".into()));
    assert!(
        e.iter().any(|x| x.source == "db/orders"
            && x.severity == Severity::Crit
            && x.message == "no writable primary"),
        "{}",
        describe(&e)
    );
}

#[test]
fn unknown_lag_is_never_zero() {
    let mut m = model();
    assert_eq!(
        m.kinds.postgres[0].members[B].lag, None,
        "no snapshot yet: no lag, not 0"
    );

    // A replica seen before anything is known of the primary, not yet receiving WAL.
    let mut blind = replica(false);
    let r = blind.replica.as_mut().unwrap();
    r.receive_lsn = None;
    r.replay_lsn = None;
    r.since_last_replay = None;
    r.receiver_status = Some("starting".into());
    pg(&mut m, B, 1.0, Ok(blind));
    let lag = m.kinds.postgres[0].members[B]
        .lag
        .clone()
        .expect("lag entry for a replica");
    assert_eq!(lag.bytes, None, "unknown bytes must stay unknown");
    assert_eq!(lag.time, None, "unknown time must stay unknown");
    assert!(!lag.over_limit);
    assert_eq!(failover_core::kinds::postgres::lag_text(&lag), "? B, ? s");

    // A snapshot without a replica reading at all.
    let mut bare = replica(false);
    bare.replica = None;
    pg(&mut m, B, 2.0, Ok(bare));
    assert_eq!(m.kinds.postgres[0].members[B].lag, None);

    // Primary unreadable: bytes come from received - replayed, and say so.
    pg(&mut m, A, 3.0, Err("connection refused".into()));
    let mut behind = replica(false);
    behind.replica.as_mut().unwrap().receive_lsn = Some(Lsn(0x3_0000_2000));
    pg(&mut m, B, 3.0, Ok(behind));
    let lag = m.kinds.postgres[0].members[B].lag.clone().unwrap();
    assert_eq!(lag.bytes, Some((0x2000, BytesSource::ReceivedNotReplayed)));
    // Still streaming and not paused: the time since the last replayed commit would also count
    // the primary's idle time, so the time stays unknown rather than alarming.
    assert_eq!(lag.time, None);

    // Paused: now the time since the last replayed commit is the measure, and says so.
    let mut paused = replica(false);
    paused.replica.as_mut().unwrap().receive_lsn = Some(Lsn(0x3_0000_2000));
    paused.replica.as_mut().unwrap().replay_paused = true;
    pg(&mut m, B, 4.0, Ok(paused));
    let lag = m.kinds.postgres[0].members[B].lag.clone().unwrap();
    assert_eq!(
        lag.time,
        Some((Duration::from_secs(2), TimeSource::SinceLastReplay))
    );
}

#[test]
fn lag_from_primary_lsn_when_no_stat_replication_row() {
    let mut m = model();
    let mut p = primary(1, None);
    p.primary.as_mut().unwrap().standbys.clear();
    pg(&mut m, A, 1.0, Ok(p));
    let mut r = replica(false);
    r.replica.as_mut().unwrap().replay_lsn = Some(Lsn(0x3_0000_0000 - 4096));
    pg(&mut m, B, 1.0, Ok(r));
    let lag = m.kinds.postgres[0].members[B].lag.clone().unwrap();
    assert_eq!(lag.bytes, Some((4096, BytesSource::PrimaryMinusReplay)));
}

// ---- DNS ----------------------------------------------------------------------------------

#[test]
fn dns_first_answers_then_agreement() {
    let mut m = model();
    let e = dns(&mut m, 0, 1.0, a_record("10.0.1.100", 60));
    assert_eq!(e.len(), 1, "{}", describe(&e));
    assert_eq!(
        (e[0].severity, e[0].source.as_str()),
        (Severity::Info, "dns/api.failover.test. A")
    );
    assert_eq!(e[0].message, "@127.0.0.1:5353: 10.0.1.100 (site A)");
    assert_eq!(
        m.kinds.dns[0].site,
        RecordSite::Pending,
        "one resolver has not answered"
    );

    let e = dns(&mut m, 1, 1.0, a_record("10.0.1.100", 60));
    assert_eq!(e.len(), 2, "{}", describe(&e));
    assert_eq!(e[1].message, "all resolvers agree: site A");
    assert_eq!(m.kinds.dns[0].site, RecordSite::Site(A));
    assert_eq!(m.kinds.dns[0].resolvers[1].matched, Some(Match::Site(A)));
}

#[test]
fn dns_answer_change_moves_the_site() {
    let mut m = model();
    dns(&mut m, 0, 1.0, a_record("10.0.1.100", 60));
    dns(&mut m, 1, 1.0, a_record("10.0.1.100", 60));

    let e = dns(&mut m, 0, 2.0, a_record("10.0.2.100", 60));
    assert_eq!(m.kinds.dns[0].site, RecordSite::Mixed);
    assert_eq!(e.len(), 2, "{}", describe(&e));
    assert_eq!(
        (e[0].severity, e[0].message.as_str()),
        (
            Severity::Info,
            "@127.0.0.1:5353: 10.0.1.100 → 10.0.2.100 (site B)"
        )
    );
    assert_eq!(
        (e[1].severity, e[1].message.as_str()),
        (Severity::Warn, "resolvers disagree (mixed)")
    );

    let e = dns(&mut m, 1, 2.0, a_record("10.0.2.100", 60));
    assert_eq!(m.kinds.dns[0].site, RecordSite::Site(B));
    assert_eq!(e.len(), 2, "{}", describe(&e));
    assert_eq!(
        e[0].message,
        "@127.0.0.1:5354: 10.0.1.100 → 10.0.2.100 (site B)"
    );
    assert_eq!(
        (e[1].severity, e[1].message.as_str()),
        (Severity::Info, "all resolvers agree: site B")
    );
}

#[test]
fn ttl_only_change_is_not_an_edge() {
    let mut m = model();
    dns(&mut m, 0, 1.0, a_record("10.0.1.100", 60));
    dns(&mut m, 1, 1.0, a_record("10.0.1.100", 60));
    for (i, ttl) in [59, 30, 1, 300].into_iter().enumerate() {
        let e = dns(&mut m, 0, 2.0 + i as f64, a_record("10.0.1.100", ttl));
        assert_eq!(e, [], "ttl {ttl}: {}", describe(&e));
    }
    assert_eq!(
        m.kinds.dns[0].resolvers[0].answer,
        Some(a_record("10.0.1.100", 300)),
        "the latest TTL is kept for display"
    );
    assert_eq!(m.kinds.dns[0].site, RecordSite::Site(A));
}

#[test]
fn nxdomain_and_timeout_are_no_answer() {
    let mut m = model();
    dns(&mut m, 0, 1.0, a_record("10.0.1.100", 60));
    dns(&mut m, 1, 1.0, a_record("10.0.1.100", 60));

    let e = dns(&mut m, 0, 2.0, DnsAnswer::NxDomain);
    assert_eq!(m.kinds.dns[0].resolvers[0].matched, Some(Match::NoAnswer));
    assert_eq!(m.kinds.dns[0].site, RecordSite::Mixed);
    assert_eq!(
        (e[0].severity, e[0].message.as_str()),
        (
            Severity::Warn,
            "@127.0.0.1:5353: 10.0.1.100 → NXDOMAIN (no answer)"
        )
    );

    let e = dns(&mut m, 1, 2.0, DnsAnswer::Timeout);
    assert_eq!(m.kinds.dns[0].resolvers[1].matched, Some(Match::NoAnswer));
    assert_eq!(
        m.kinds.dns[0].site,
        RecordSite::NoAnswer,
        "NXDOMAIN and timeout both mean no answer"
    );
    assert_eq!(e.len(), 2, "{}", describe(&e));
    assert_eq!(
        (e[0].severity, e[0].message.as_str()),
        (
            Severity::Warn,
            "@127.0.0.1:5354: 10.0.1.100 → timeout (no answer)"
        )
    );
    assert_eq!(
        (e[1].severity, e[1].message.as_str()),
        (Severity::Warn, "no resolver gives an answer")
    );

    // Repeated timeouts: no new edges.
    assert_eq!(dns(&mut m, 1, 3.0, DnsAnswer::Timeout), []);
    assert_eq!(dns(&mut m, 0, 3.0, DnsAnswer::NxDomain), []);
}

#[test]
fn answer_for_no_site_is_unknown() {
    let mut m = model();
    let e = dns(&mut m, 0, 1.0, a_record("192.0.2.7", 60));
    assert_eq!(m.kinds.dns[0].resolvers[0].matched, Some(Match::Unknown));
    assert_eq!(
        (e[0].severity, e[0].message.as_str()),
        (Severity::Warn, "@127.0.0.1:5353: 192.0.2.7 (no site)")
    );
    let e = dns(&mut m, 1, 1.0, a_record("192.0.2.7", 60));
    assert_eq!(m.kinds.dns[0].site, RecordSite::Unknown);
    assert_eq!(e.last().unwrap().message, "answers match no site");
}

#[test]
fn single_resolver_record_has_no_agreement_edges() {
    let text = CONFIG.replace(
        r#"resolvers = ["127.0.0.1:5353", "127.0.0.1:5354"]"#,
        r#"resolvers = ["127.0.0.1:5353"]"#,
    );
    let mut m = model_from(&text, Mode::Live);
    let e = dns(&mut m, 0, 1.0, a_record("10.0.1.100", 60));
    assert_eq!(e.len(), 1, "{}", describe(&e));
    assert_eq!(m.kinds.dns[0].site, RecordSite::Site(A));
    let e = dns(&mut m, 0, 2.0, a_record("10.0.2.100", 60));
    assert_eq!(
        e.len(),
        1,
        "the answer edge already says the site: {}",
        describe(&e)
    );
    assert_eq!(m.kinds.dns[0].site, RecordSite::Site(B));
}

// ---- keys ---------------------------------------------------------------------------------

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn press(m: &mut Model, code: KeyCode) -> Vec<Effect> {
    update(m, Msg::Key(key(code)))
}

fn type_text(m: &mut Model, text: &str) {
    for c in text.chars() {
        let effects = press(m, KeyCode::Char(c));
        assert!(effects.is_empty(), "typing {c:?} had effects: {effects:?}");
    }
}

#[test]
fn tab_and_backtab_cycle_focus() {
    let mut m = model();
    assert_eq!(m.ui.focus, Pane::Health);
    let mut seen = Vec::new();
    for _ in 0..4 {
        press(&mut m, KeyCode::Tab);
        seen.push(m.ui.focus);
    }
    assert_eq!(
        seen,
        [Pane::Replication, Pane::Dns, Pane::Timeline, Pane::Health]
    );
    let mut seen = Vec::new();
    for _ in 0..4 {
        update(
            &mut m,
            Msg::Key(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT)),
        );
        seen.push(m.ui.focus);
    }
    assert_eq!(
        seen,
        [Pane::Timeline, Pane::Dns, Pane::Replication, Pane::Health]
    );
}

#[test]
fn j_k_scroll_is_clamped() {
    let mut m = model();
    // Health: 2 rows, so the first row shown is 0 or 1.
    for _ in 0..5 {
        press(&mut m, KeyCode::Char('j'));
    }
    assert_eq!(m.ui.scroll[Pane::Health.index()], 1);
    press(&mut m, KeyCode::Char('k'));
    press(&mut m, KeyCode::Char('k'));
    press(&mut m, KeyCode::Up);
    assert_eq!(m.ui.scroll[Pane::Health.index()], 0);

    // Replication: 1 database line + 2 members.
    press(&mut m, KeyCode::Tab);
    for _ in 0..5 {
        press(&mut m, KeyCode::Down);
    }
    assert_eq!(m.ui.scroll[Pane::Replication.index()], 2);
    assert_eq!(m.ui.scroll[Pane::Health.index()], 0, "scroll is per pane");
    press(&mut m, KeyCode::Char('g'));
    assert_eq!(m.ui.scroll[Pane::Replication.index()], 0);
    press(&mut m, KeyCode::Char('G'));
    assert_eq!(m.ui.scroll[Pane::Replication.index()], 2);
    press(&mut m, KeyCode::PageUp);
    assert_eq!(m.ui.scroll[Pane::Replication.index()], 0);

    // Empty timeline: nothing to scroll.
    press(&mut m, KeyCode::Tab);
    press(&mut m, KeyCode::Tab);
    assert_eq!(m.ui.focus, Pane::Timeline);
    press(&mut m, KeyCode::Char('j'));
    press(&mut m, KeyCode::PageDown);
    assert_eq!(m.ui.scroll[Pane::Timeline.index()], 0);
}

fn journal(m: &mut Model, secs: f64, severity: Severity, source: &str, message: &str) {
    let entry = Entry::new(at(secs), severity, Kind::Edge, source, message);
    assert_eq!(update(m, Msg::Journaled { entry, error: None }), []);
}

fn some_history(m: &mut Model) {
    journal(
        m,
        1.0,
        Severity::Info,
        "db/orders/site A",
        "primary, timeline 1",
    );
    journal(
        m,
        2.0,
        Severity::Info,
        "dns/api.failover.test. A",
        "@127.0.0.1:5353: 10.0.1.100 (site A)",
    );
    journal(
        m,
        3.0,
        Severity::Crit,
        "health/api-a",
        "healthy → unhealthy after 3 failed: connection refused",
    );
    journal(
        m,
        4.0,
        Severity::Info,
        "dns/api.failover.test. A",
        "@127.0.0.1:5353: 10.0.1.100 → 10.0.2.100 (site B)",
    );
    journal(
        m,
        5.0,
        Severity::Warn,
        "db/orders/site B",
        "replica → primary (promoted, timeline 2)",
    );
}

#[test]
fn slash_filters_the_timeline_as_you_type_and_esc_clears() {
    let mut m = model();
    some_history(&mut m);
    assert_eq!(m.timeline.len(), 5);
    assert_eq!(m.rows_in(Pane::Timeline), 5);

    press(&mut m, KeyCode::Char('/'));
    assert!(matches!(m.ui.overlay, Overlay::Filter(_)));
    assert_eq!(m.ui.focus, Pane::Timeline, "filtering focuses the timeline");
    type_text(&mut m, "dns");
    assert_eq!(m.ui.filter, "dns");
    assert_eq!(m.timeline.count_shown(), 2);
    assert_eq!(m.rows_in(Pane::Timeline), 2);
    assert!(
        matches!(&m.ui.overlay, Overlay::Filter(i) if i.value() == "dns"),
        "still typing"
    );

    press(&mut m, KeyCode::Backspace);
    press(&mut m, KeyCode::Backspace);
    press(&mut m, KeyCode::Backspace);
    type_text(&mut m, "crit");
    assert_eq!(m.ui.filter, "crit");
    assert_eq!(m.timeline.count_shown(), 1, "severity label matches");

    press(&mut m, KeyCode::Esc);
    assert!(matches!(m.ui.overlay, Overlay::None));
    assert_eq!(m.ui.filter, "", "Esc clears the filter");
    assert_eq!(m.rows_in(Pane::Timeline), 5);
}

#[test]
fn enter_keeps_the_filter_and_slash_edits_it() {
    let mut m = model();
    some_history(&mut m);
    press(&mut m, KeyCode::Char('/'));
    type_text(&mut m, "  site b ");
    press(&mut m, KeyCode::Enter);
    assert!(matches!(m.ui.overlay, Overlay::None));
    assert_eq!(m.ui.filter, "site b", "trimmed");
    assert_eq!(
        m.timeline.count_shown(),
        2,
        "case-insensitive, source or message"
    );
    // Keys work normally again (q would quit, so use j).
    assert!(press(&mut m, KeyCode::Char('j')).is_empty());
    // `/` again starts from the current filter.
    press(&mut m, KeyCode::Char('/'));
    assert!(matches!(&m.ui.overlay, Overlay::Filter(i) if i.value() == "site b"));
}

#[test]
fn new_entries_keep_a_scrolled_timeline_in_place() {
    let mut m = model();
    some_history(&mut m);
    m.ui.focus = Pane::Timeline;
    press(&mut m, KeyCode::Char('j'));
    press(&mut m, KeyCode::Char('j'));
    assert_eq!(m.ui.scroll[Pane::Timeline.index()], 2);
    journal(
        &mut m,
        6.0,
        Severity::Info,
        "health/api-a",
        "unhealthy → healthy after 2 ok (200)",
    );
    assert_eq!(
        m.ui.scroll[Pane::Timeline.index()],
        3,
        "the rows being read stay put"
    );
}

#[test]
fn note_produces_one_note_entry_by_the_operator() {
    let mut m = model();
    m.now = at(30.0);
    assert!(press(&mut m, KeyCode::Char('n')).is_empty());
    assert!(matches!(m.ui.overlay, Overlay::Note(_)));
    // q, ? and / are text while typing a note.
    type_text(&mut m, "quick: failing over to B? /yes");
    let effects = press(&mut m, KeyCode::Enter);
    assert!(matches!(m.ui.overlay, Overlay::None));
    assert_eq!(effects.len(), 1, "{effects:?}");
    let Effect::Record(entry) = &effects[0] else {
        panic!("{effects:?}")
    };
    assert_eq!(entry.kind, Kind::Note);
    assert_eq!(entry.severity, Severity::Info);
    assert_eq!(entry.source, "operator");
    assert_eq!(entry.message, "quick: failing over to B? /yes");
    assert_eq!(entry.operator.as_deref(), Some("alice@ops"));
    assert_eq!(entry.at, at(30.0));
    assert!(m.timeline.is_empty(), "shown only once journaled");

    // An empty note and a cancelled note record nothing.
    press(&mut m, KeyCode::Char('n'));
    type_text(&mut m, "   ");
    assert!(press(&mut m, KeyCode::Enter).is_empty());
    press(&mut m, KeyCode::Char('n'));
    type_text(&mut m, "never mind");
    assert!(press(&mut m, KeyCode::Esc).is_empty());
    assert!(matches!(m.ui.overlay, Overlay::None));
}

#[test]
fn watch_mode_can_still_write_notes() {
    let mut m = model_from(CONFIG, Mode::Watch);
    press(&mut m, KeyCode::Char('n'));
    type_text(&mut m, "watching from the bridge");
    let e = records(&press(&mut m, KeyCode::Enter));
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].kind, Kind::Note);
}

#[test]
fn help_opens_and_any_key_closes_it() {
    let mut m = model();
    press(&mut m, KeyCode::Char('?'));
    assert!(matches!(m.ui.overlay, Overlay::Help));
    let effects = press(&mut m, KeyCode::Char('j'));
    assert!(effects.is_empty());
    assert!(matches!(m.ui.overlay, Overlay::None));
    assert_eq!(
        m.ui.scroll[Pane::Health.index()],
        0,
        "the closing key does nothing else"
    );

    press(&mut m, KeyCode::Char('?'));
    press(&mut m, KeyCode::Esc);
    assert!(matches!(m.ui.overlay, Overlay::None));

    press(&mut m, KeyCode::Char('?'));
    press(&mut m, KeyCode::Tab);
    assert!(matches!(m.ui.overlay, Overlay::None));
    assert_eq!(m.ui.focus, Pane::Health, "Tab only closed help");

    // q in help still quits.
    press(&mut m, KeyCode::Char('?'));
    assert_eq!(press(&mut m, KeyCode::Char('q')), [Effect::Quit]);
}

#[test]
fn q_and_ctrl_c_quit() {
    let mut m = model();
    assert_eq!(press(&mut m, KeyCode::Char('q')), [Effect::Quit]);
    assert_eq!(
        update(
            &mut m,
            Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL))
        ),
        [Effect::Quit]
    );
    // Ctrl-C quits even while typing a note.
    press(&mut m, KeyCode::Char('n'));
    assert_eq!(
        update(
            &mut m,
            Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL))
        ),
        [Effect::Quit]
    );
}

#[test]
fn key_releases_are_ignored() {
    let mut m = model();
    let mut release = key(KeyCode::Char('q'));
    release.kind = KeyEventKind::Release;
    assert!(update(&mut m, Msg::Key(release)).is_empty());
    let mut release = key(KeyCode::Tab);
    release.kind = KeyEventKind::Release;
    update(&mut m, Msg::Key(release));
    assert_eq!(m.ui.focus, Pane::Health);
}

#[test]
fn unbound_keys_do_nothing() {
    let mut m = model();
    for c in ['x', 'Q', ' ', 'J'] {
        assert!(press(&mut m, KeyCode::Char(c)).is_empty());
    }
    assert!(matches!(m.ui.overlay, Overlay::None));
    assert_eq!(m.ui.focus, Pane::Health);
}

// ---- journal ------------------------------------------------------------------------------

#[test]
fn journal_failure_is_shown_and_the_entry_marked() {
    let mut m = model();
    let entry = Entry::new(
        at(1.0),
        Severity::Crit,
        Kind::Edge,
        "health/api-a",
        "healthy → unhealthy after 3 failed: timeout",
    );
    update(
        &mut m,
        Msg::Journaled {
            entry: entry.clone(),
            error: Some("No space left on device (os error 28)".into()),
        },
    );
    assert_eq!(
        m.journal_problem.as_deref(),
        Some("No space left on device (os error 28)")
    );
    assert_eq!(
        m.timeline.len(),
        1,
        "shown even though it could not be written"
    );
    let shown = m.timeline.newest_first().next().unwrap();
    assert!(!shown.journaled);
    assert_eq!(shown.entry, entry);

    // The next successful write clears the problem; the old entry stays marked.
    journal(&mut m, 2.0, Severity::Info, "operator", "disk cleaned");
    assert_eq!(m.journal_problem, None);
    let marks: Vec<bool> = m.timeline.newest_first().map(|s| s.journaled).collect();
    assert_eq!(marks, [true, false]);
}

/// `update`, then every entry it records back as failed to write, as the engine does while the
/// disk is full.
fn settle_failing(m: &mut Model, msg: Msg) -> Vec<Effect> {
    let effects = update(m, msg);
    for entry in records(&effects) {
        let error = Some("No space left on device (os error 28)".to_string());
        update(m, Msg::Journaled { entry, error });
    }
    effects
}

fn flash_text(m: &Model) -> &str {
    m.ui.flash.as_ref().map(|f| f.0.as_str()).unwrap_or("")
}

#[test]
fn a_run_is_armed_only_once_its_arm_is_on_disk() {
    let mut m = with_runbook(Mode::Live);
    all_healthy(&mut m);
    drive(&mut m);
    open_plan(&mut m);
    hit(&mut m, KeyCode::Enter);
    type_line(&mut m, "secondary");
    type_text(&mut m, "drill");
    let effects = settle_failing(&mut m, Msg::Key(key(KeyCode::Enter)));
    let asked = records(&effects);
    assert!(
        asked
            .iter()
            .any(|e| matches!(e.run.as_ref().map(|r| &r.event), Some(Event::Armed { .. }))),
        "the arm was asked for: {asked:?}"
    );
    assert_eq!(m.runs.current, None, "not ARMED with nothing on disk");
    assert!(
        flash_text(&m).starts_with("not armed: the journal write failed"),
        "{}",
        flash_text(&m)
    );
    assert!(m.journal_problem.is_some());

    // The journal writes again: the same keys arm it.
    hit(&mut m, KeyCode::Enter);
    type_line(&mut m, "secondary");
    type_line(&mut m, "drill");
    assert!(m.runs.current.as_ref().is_some_and(|r| r.is_active()));
}

#[test]
fn a_step_whose_start_cannot_be_journaled_is_not_started_and_not_left_running() {
    // The writer's failure and the executor's refusal come back in either order.
    for refusal_first in [false, true] {
        let mut m = with_runbook(Mode::Live);
        all_healthy(&mut m);
        drive(&mut m);
        arm(&mut m);
        // A gate passed while writes fail has not passed.
        settle_failing(&mut m, Msg::Key(key(KeyCode::Enter)));
        let run = m.runs.current.as_ref().unwrap();
        assert_eq!(
            (run.cursor(), run.steps[0].status),
            (Some(0), StepStatus::Pending)
        );
        hit(&mut m, KeyCode::Enter);
        hit(&mut m, KeyCode::Enter);
        assert_eq!(m.runs.current.as_ref().unwrap().cursor(), Some(FENCE));

        let effects = hit(&mut m, KeyCode::Enter);
        assert!(effects.iter().any(|e| matches!(e, Effect::Execute(_))));
        assert_eq!(m.runs.in_flight, Some(FENCE));
        let id = m.runs.current.as_ref().unwrap().id.clone();
        let error = "No space left on device (os error 28)".to_string();
        let start = run_entry(
            at(1.0),
            &id,
            "alice@ops",
            Event::StepStarted {
                step: FENCE,
                phase: Phase::Do,
            },
        );
        let refused = run_entry(
            at(1.0),
            &id,
            "alice@ops",
            Event::StepRefused {
                step: FENCE,
                reason: format!("the start could not be recorded ({error})"),
            },
        );
        let mut order = [start, refused];
        if refusal_first {
            order.reverse();
        }
        for entry in order {
            let error = Some(error.clone());
            settle(&mut m, Msg::Journaled { entry, error });
        }
        let run = m.runs.current.as_ref().unwrap();
        let step = &run.steps[FENCE];
        assert_eq!(
            step.status,
            StepStatus::Pending,
            "refusal first: {refusal_first}"
        );
        assert!(
            step.detail
                .starts_with("refused: the start could not be recorded")
        );
        assert_eq!((run.running(), m.runs.in_flight), (None, None));
        // Enter tries it again.
        let effects = hit(&mut m, KeyCode::Enter);
        assert!(effects.iter().any(|e| matches!(e, Effect::Execute(_))));
    }
}

// ---- verdict ------------------------------------------------------------------------------

#[test]
fn verdict_all_good_is_ok() {
    let mut m = model();
    all_healthy(&mut m);
    let findings = verdict::assess(&m);
    assert!(findings.is_empty(), "{findings:?}");
    assert_eq!(verdict::overall(&findings), Level::Ok);
    assert_eq!(verdict::serving(&m).agreed(), Some(A));
}

#[test]
fn verdict_nothing_heard_is_unknown() {
    let m = model();
    let findings = verdict::assess(&m);
    assert_eq!(verdict::overall(&findings), Level::Unknown);
    assert!(
        findings
            .iter()
            .any(|f| f.text == "health api-a (site A): no result"),
        "{findings:?}"
    );
    assert!(
        findings.iter().all(|f| f.level == Level::Unknown),
        "nothing is known to be wrong yet: {findings:?}"
    );
}

#[test]
fn verdict_no_primary_only_once_every_member_is_seen() {
    let mut m = model();
    pg(&mut m, B, 1.0, Ok(replica(false)));
    let findings = verdict::assess(&m);
    assert!(
        !findings
            .iter()
            .any(|f| f.text.contains("no writable primary")),
        "site A has not answered yet: {findings:?}"
    );
    assert!(
        findings
            .iter()
            .any(|f| f.level == Level::Unknown && f.text == "db/orders/site A: no result"),
        "{findings:?}"
    );
    pg(&mut m, A, 2.0, Err("connection refused".into()));
    let findings = verdict::assess(&m);
    assert!(findings.iter().any(|f| f.level == Level::Critical && f.text == "database orders: no writable primary"), "{findings:?}");
}

#[test]
fn verdict_two_primaries_is_critical() {
    let mut m = model();
    all_healthy(&mut m);
    pg(&mut m, B, 1.0, Ok(promoted()));
    let findings = verdict::assess(&m);
    assert_eq!(verdict::overall(&findings), Level::Critical);
    assert!(
        findings.iter().any(|f| f.level == Level::Critical
            && f.text == "database orders: split brain, 2 writable primaries"),
        "{findings:?}"
    );
}

#[test]
fn verdict_lag_over_is_warning() {
    let mut m = model();
    all_healthy(&mut m);
    pg(&mut m, A, 1.0, Ok(primary(1, Some(50 * 1024 * 1024))));
    let findings = verdict::assess(&m);
    assert_eq!(verdict::overall(&findings), Level::Warning, "{findings:?}");
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert!(
        findings[0]
            .text
            .starts_with("db/orders/site B: lag over limit (50.0 MiB"),
        "{findings:?}"
    );
}

#[test]
fn verdict_dns_and_primary_on_different_sites_is_critical() {
    let mut m = model();
    all_healthy(&mut m);
    dns(&mut m, 0, 1.0, a_record("10.0.2.100", 60));
    dns(&mut m, 1, 1.0, a_record("10.0.2.100", 60));
    let findings = verdict::assess(&m);
    assert_eq!(verdict::overall(&findings), Level::Critical);
    assert!(
        findings
            .iter()
            .any(|f| f.text
                == "traffic and primary disagree: DNS points at site B, primary at site A"),
        "{findings:?}"
    );
}

#[test]
fn verdict_unhealthy_check_on_the_standby_is_only_a_warning() {
    let mut m = model();
    all_healthy(&mut m);
    for s in 1..=3 {
        probe(&mut m, DB_PORT, s as f64, false);
    }
    let findings = verdict::assess(&m);
    assert_eq!(verdict::overall(&findings), Level::Warning, "{findings:?}");
    // The same on the serving site is critical.
    for s in 1..=3 {
        probe(&mut m, API, s as f64, false);
    }
    assert_eq!(verdict::overall(&verdict::assess(&m)), Level::Critical);
}

#[test]
fn verdict_mixed_dns_is_warning() {
    let mut m = model();
    all_healthy(&mut m);
    dns(&mut m, 1, 1.0, a_record("10.0.2.100", 60));
    let findings = verdict::assess(&m);
    assert!(
        findings
            .iter()
            .any(|f| f.level == Level::Warning
                && f.text == "dns api.failover.test.: resolvers disagree"),
        "{findings:?}"
    );
    assert_eq!(verdict::overall(&findings), Level::Warning);
}

// ---- what needs a new frame --------------------------------------------------------------

/// Runs `msg` with a clean screen and says whether the reducer asked for a frame.
fn redraws(m: &mut Model, msg: Msg) -> bool {
    m.ui.dirty = false;
    m.ui.clock_dirty = false;
    update(m, msg);
    m.ui.dirty
}

/// Runs `msg` with a clean screen and says whether it asked for the clock alone.
fn clock_only(m: &mut Model, msg: Msg) -> bool {
    m.ui.dirty = false;
    m.ui.clock_dirty = false;
    update(m, msg);
    m.ui.clock_dirty && !m.ui.dirty
}

fn ok_probe(secs: f64, latency_ms: u64) -> Msg {
    Msg::Observed(Observation::Probe {
        check: 0,
        at: at(secs),
        outcome: ProbeOutcome {
            ok: true,
            latency: Duration::from_millis(latency_ms),
            detail: "200".into(),
        },
    })
}

#[test]
fn a_steady_check_asks_for_no_frame_and_the_clock_one_a_second() {
    let mut m = model();
    assert!(redraws(&mut m, ok_probe(1.0, 12)), "first result: ok 1/2");
    assert!(redraws(&mut m, ok_probe(2.0, 12)), "healthy now");
    for s in 3..10 {
        // Same status, same detail, latency within the hysteresis: nothing to draw.
        assert!(
            !redraws(&mut m, ok_probe(s as f64, 12 + s % 3)),
            "probe at {s}s"
        );
    }
    // The shown latency is the median of the last five probes: one slow answer moves nothing,
    // the third in a row does.
    assert!(!redraws(&mut m, ok_probe(10.0, 80)), "one slow probe");
    assert!(!redraws(&mut m, ok_probe(10.3, 80)), "two slow probes");
    assert!(
        redraws(&mut m, ok_probe(10.6, 80)),
        "latency moved from 12 to 80 ms"
    );
    // The first tick finds the other sources stale: a frame for that.
    assert!(redraws(&mut m, Msg::Tick(at(10.2))), "stale sources");
    assert!(!redraws(&mut m, Msg::Tick(at(10.5))), "same second");
    assert!(!clock_only(&mut m, Msg::Tick(at(10.9))), "same second");
    assert!(
        clock_only(&mut m, Msg::Tick(at(11.0))),
        "next second: the clock alone"
    );
    let failing = Msg::Observed(Observation::Probe {
        check: 0,
        at: at(11.1),
        outcome: ProbeOutcome {
            ok: false,
            latency: Duration::from_millis(80),
            detail: "status 503 (expected 200)".into(),
        },
    });
    assert!(
        redraws(&mut m, failing),
        "a failure shows at once, before the threshold"
    );
    assert!(redraws(
        &mut m,
        Msg::Key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE))
    ));
}

// ---- run keys: what a console binds, what its footer offers -----------------------------------

const FENCE: usize = 2;
const WAIT: usize = 3;

fn with_runbook(mode: Mode) -> Model {
    model_from(&format!("{CONFIG}{}", fixture::RUNBOOK), mode)
}

/// `update`, then every entry it records back as journaled (and what that records, and so on),
/// as the engine does with a journal that always writes: the effects of the first update.
fn settle(m: &mut Model, msg: Msg) -> Vec<Effect> {
    let effects = update(m, msg);
    let mut pending = records(&effects);
    while !pending.is_empty() {
        let entry = pending.remove(0);
        pending.extend(records(&update(m, Msg::Journaled { entry, error: None })));
    }
    effects
}

fn hit(m: &mut Model, code: KeyCode) -> Vec<Effect> {
    settle(m, Msg::Key(key(code)))
}

fn type_line(m: &mut Model, text: &str) -> Vec<Effect> {
    type_text(m, text);
    hit(m, KeyCode::Enter)
}

fn drive(m: &mut Model) {
    settle(m, Msg::Driver(Driver::Driving(DriverToken::held(1))));
}

/// r, Enter on the only runbook: its plan is open.
fn open_plan(m: &mut Model) {
    hit(m, KeyCode::Char('r'));
    hit(m, KeyCode::Enter);
    assert_eq!(m.runs.plan, Some(0), "{:?}", m.ui.flash);
}

fn arm(m: &mut Model) {
    open_plan(m);
    hit(m, KeyCode::Enter);
    type_line(m, "secondary");
    type_line(m, "drill");
    assert!(
        m.runs.current.as_ref().is_some_and(|r| r.is_active()),
        "armed: {:?}",
        m.ui.flash
    );
}

/// The executor's side of the current run: `event` journaled.
fn executor(m: &mut Model, event: Event) {
    let id = m.runs.current.as_ref().expect("a run").id.clone();
    let entry = run_entry(at(1.0), &id, "alice@ops", event);
    settle(m, Msg::Journaled { entry, error: None });
}

fn finished(step: usize, phase: Phase, result: StepResult) -> Event {
    Event::StepFinished {
        step,
        phase,
        result,
        detail: format!("{result:?}"),
        elapsed_ms: 10,
    }
}

fn armed_by_bob() -> Event {
    Event::Armed {
        target: "secondary".into(),
        reason: "bob's drill".into(),
        steps: fixture::RUNBOOK_STEPS.map(String::from).to_vec(),
        expected_primaries: vec![],
        class: None,
        incident_start: None,
        plan: None,
    }
}

/// Another console's run, as this one reads it from the journal: armed, both gates passed, the
/// action done; the wait is next.
fn bobs_run(m: &mut Model) {
    m.holder = Some(fixture::bob_drives());
    let id = "20260301T115900Z-failover";
    let events = [
        armed_by_bob(),
        Event::GatePassed {
            step: 0,
            evidence: "lag 0 B".into(),
        },
        Event::GatePassed {
            step: 1,
            evidence: "healthy".into(),
        },
        Event::StepStarted {
            step: FENCE,
            phase: Phase::Do,
        },
        finished(FENCE, Phase::Do, StepResult::Ok),
    ];
    for event in events {
        settle(m, Msg::Foreign(run_entry(at(0.5), id, "bob@ops", event)));
    }
}

fn lock_held() -> Driver {
    Driver::LockHeld(fixture::bob_drives())
}

/// What a key must not touch when it does nothing.
#[derive(Debug, PartialEq)]
struct RunSide {
    current: Option<failover_core::runbook::RunView>,
    plan: Option<usize>,
    in_flight: Option<usize>,
    shown: bool,
    focus: Pane,
    overlay: bool,
}

fn run_side(m: &Model) -> RunSide {
    RunSide {
        current: m.runs.current.clone(),
        plan: m.runs.plan,
        in_flight: m.runs.in_flight,
        shown: m.runs.shown,
        focus: m.ui.focus,
        // The detail view (Enter on a Health row) is read-only: not the run's side.
        overlay: !matches!(m.ui.overlay, Overlay::None | Overlay::Detail(_)),
    }
}

/// Every key that acts on a run in a live console.
const ACTING: [KeyCode; 8] = [
    KeyCode::Enter,
    KeyCode::Char('D'),
    KeyCode::Char('o'),
    KeyCode::Char('s'),
    KeyCode::Char('a'),
    KeyCode::Char('R'),
    KeyCode::Char('v'),
    KeyCode::Char('B'),
];

#[test]
fn a_watch_console_binds_no_key_that_acts_and_they_change_nothing() {
    let watch = KeyMap::for_mode(Mode::Watch);
    let live = KeyMap::for_mode(Mode::Live);
    for code in ACTING {
        // Enter is bound in watch only to the detail view, which reads the model only.
        assert!(
            matches!(watch.lookup(&key(code)), None | Some(Command::Detail)),
            "{code:?} is bound in watch"
        );
        assert!(live.lookup(&key(code)).is_some(), "{code:?} unbound live");
    }
    assert_eq!(
        watch.lookup(&key(KeyCode::Char('r'))),
        Some(Command::Run(RunKey::ShowRun)),
        "a watch console's r only shows the run"
    );
    assert!(
        watch.help().all(
            |b| !matches!(b.command, Command::Run(k) if k != RunKey::ShowRun && k != RunKey::Close)
        ),
        "{:?}",
        watch.help().collect::<Vec<_>>()
    );

    let mut m = with_runbook(Mode::Watch);
    all_healthy(&mut m);
    bobs_run(&mut m);
    let run = m.runs.current.clone().expect("bob's run, from the journal");
    assert!(run.is_active() && run.cursor() == Some(WAIT));
    for focus_the_run in [false, true] {
        if focus_the_run {
            // r shows the run (never the runbooks to arm): nothing recorded, no overlay.
            let effects = hit(&mut m, KeyCode::Char('r'));
            assert!(effects.is_empty(), "{effects:?}");
            assert!(matches!(m.ui.overlay, Overlay::None));
            assert_eq!(m.ui.focus, Pane::Run);
            assert!(m.runs.shown);
            assert_eq!(m.ui.flash, None);
        }
        for code in ACTING {
            let before = run_side(&m);
            let effects = hit(&mut m, code);
            assert!(effects.is_empty(), "{code:?}: {effects:?}");
            assert_eq!(run_side(&m), before, "{code:?} changed the run side");
            assert_eq!(m.ui.flash, None, "{code:?} is no key here, not a refusal");
        }
    }
    assert_eq!(m.runs.current, Some(run));
    // What the footer offers: no key that acts.
    let offered: Vec<String> = available(&m).into_iter().map(|h| h.key).collect();
    for acting in ["Enter", "D", "o", "s", "a", "R", "v", "B"] {
        assert!(!offered.iter().any(|k| k == acting), "{offered:?}");
    }

    // Bob's run ends. A live console's r would now list the runbooks, Enter open a plan and
    // Enter again ask for the site to arm: here none of it happens.
    let id = m.runs.current.as_ref().map(|r| r.id.clone()).unwrap();
    settle(
        &mut m,
        Msg::Foreign(run_entry(at(0.9), &id, "bob@ops", Event::Finished)),
    );
    let before = run_side(&m);
    for code in [
        KeyCode::Char('r'),
        KeyCode::Enter,
        KeyCode::Enter,
        KeyCode::Char('D'),
    ] {
        let effects = hit(&mut m, code);
        assert!(effects.is_empty(), "{code:?}: {effects:?}");
        assert!(matches!(m.ui.overlay, Overlay::None), "{code:?}");
    }
    assert_eq!(
        (run_side(&m).current, m.runs.plan),
        (before.current, before.plan),
        "nothing armed, no plan opened"
    );
}

/// Builds one model state, afresh for every key pressed in it.
type Build = Box<dyn Fn() -> Model>;

/// Model states the footer is checked in.
fn states() -> Vec<(&'static str, Build)> {
    fn live() -> Model {
        with_runbook(Mode::Live)
    }
    fn driving() -> Model {
        let mut m = live();
        all_healthy(&mut m);
        drive(&mut m);
        m
    }
    fn running() -> Model {
        let mut m = driving();
        arm(&mut m);
        m
    }
    fn at_fence() -> Model {
        let mut m = running();
        hit(&mut m, KeyCode::Enter);
        hit(&mut m, KeyCode::Enter);
        assert_eq!(m.runs.current.as_ref().unwrap().cursor(), Some(FENCE));
        m
    }
    fn fence_started() -> Model {
        let mut m = at_fence();
        hit(&mut m, KeyCode::Enter);
        assert_eq!(m.runs.in_flight, Some(FENCE));
        executor(
            &mut m,
            Event::StepStarted {
                step: FENCE,
                phase: Phase::Do,
            },
        );
        m
    }
    fn fence_unknown() -> Model {
        let mut m = fence_started();
        executor(&mut m, finished(FENCE, Phase::Do, StepResult::Unknown));
        m
    }
    fn fence_unreadable() -> Model {
        let mut m = fence_unknown();
        executor(
            &mut m,
            Event::StepStarted {
                step: FENCE,
                phase: Phase::ReadBack,
            },
        );
        executor(
            &mut m,
            finished(FENCE, Phase::ReadBack, StepResult::Unreadable),
        );
        m
    }
    fn fence_ok() -> Model {
        let mut m = fence_started();
        executor(&mut m, finished(FENCE, Phase::Do, StepResult::Ok));
        m
    }
    fn waiting() -> Model {
        let mut m = fence_ok();
        hit(&mut m, KeyCode::Enter);
        m
    }
    fn at_manual() -> Model {
        let mut m = waiting();
        executor(&mut m, finished(WAIT, Phase::Do, StepResult::Ok));
        m
    }
    fn following(driver: Driver) -> Model {
        let mut m = live();
        all_healthy(&mut m);
        settle(&mut m, Msg::Driver(driver));
        bobs_run(&mut m);
        m
    }
    let states: Vec<(&'static str, Build)> = vec![
        ("live, not driving yet", Box::new(live)),
        (
            "live, not driving yet, bob's run",
            Box::new(|| {
                let mut m = live();
                bobs_run(&mut m);
                m
            }),
        ),
        ("driving, no plan", Box::new(driving)),
        (
            "driving, the runbooks listed",
            Box::new(|| {
                let mut m = driving();
                hit(&mut m, KeyCode::Char('r'));
                m
            }),
        ),
        (
            "driving, plan open",
            Box::new(|| {
                let mut m = driving();
                open_plan(&mut m);
                m
            }),
        ),
        (
            "driving, plan open, focus elsewhere",
            Box::new(|| {
                let mut m = driving();
                open_plan(&mut m);
                hit(&mut m, KeyCode::Tab);
                m
            }),
        ),
        (
            "driving, plan open, nothing read yet",
            Box::new(|| {
                let mut m = live();
                drive(&mut m);
                open_plan(&mut m);
                m
            }),
        ),
        (
            "dry run in progress",
            Box::new(|| {
                let mut m = driving();
                open_plan(&mut m);
                hit(&mut m, KeyCode::Char('D'));
                m
            }),
        ),
        (
            "dry run ended",
            Box::new(|| {
                let mut m = driving();
                open_plan(&mut m);
                hit(&mut m, KeyCode::Char('D'));
                executor(&mut m, Event::Finished);
                m
            }),
        ),
        (
            "run, lag gate blocks",
            Box::new(|| {
                let mut m = live();
                drive(&mut m);
                arm(&mut m);
                m
            }),
        ),
        ("run, lag gate passes", Box::new(running)),
        (
            "run, focus elsewhere",
            Box::new(|| {
                let mut m = running();
                hit(&mut m, KeyCode::Esc);
                m
            }),
        ),
        (
            "run, healthy gate blocks",
            Box::new(|| {
                let mut m = running();
                hit(&mut m, KeyCode::Enter);
                for i in 0..3 {
                    probe(&mut m, DB_PORT, 0.5 + f64::from(i) * 0.1, false);
                }
                m
            }),
        ),
        ("run, action next", Box::new(at_fence)),
        (
            "run, action asked for, not journaled yet",
            Box::new(|| {
                let mut m = at_fence();
                hit(&mut m, KeyCode::Enter);
                m
            }),
        ),
        ("run, action running", Box::new(fence_started)),
        (
            "run, action unknown, read back coming",
            Box::new(fence_unknown),
        ),
        (
            "run, action unknown after reading back",
            Box::new(fence_unreadable),
        ),
        (
            "run, action failed",
            Box::new(|| {
                let mut m = fence_started();
                executor(&mut m, finished(FENCE, Phase::Do, StepResult::Failed));
                m
            }),
        ),
        ("run, action done, wait next", Box::new(fence_ok)),
        ("run, waiting", Box::new(waiting)),
        ("run, manual step next", Box::new(at_manual)),
        (
            "run, action rolled back",
            Box::new(|| {
                let mut m = fence_ok();
                executor(&mut m, finished(FENCE, Phase::Rollback, StepResult::Ok));
                m
            }),
        ),
        (
            "run finished",
            Box::new(|| {
                let mut m = at_manual();
                hit(&mut m, KeyCode::Enter);
                assert!(!m.runs.current.as_ref().unwrap().is_active());
                m
            }),
        ),
        (
            "run aborted",
            Box::new(|| {
                let mut m = running();
                hit(&mut m, KeyCode::Char('a'));
                type_line(&mut m, "abort");
                type_line(&mut m, "wrong site");
                assert!(!m.runs.current.as_ref().unwrap().is_active());
                m
            }),
        ),
        (
            "run armed with other steps than the config's",
            Box::new(|| {
                let mut m = driving();
                let mut armed = armed_by_bob();
                if let Event::Armed { steps, .. } = &mut armed {
                    steps[0] = "Replica caught up (old title)".into();
                }
                settle(
                    &mut m,
                    Msg::Journaled {
                        entry: run_entry(at(0.5), "20260301T115900Z-failover", "alice@ops", armed),
                        error: None,
                    },
                );
                assert!(m.runs.current.as_ref().unwrap().config_changed);
                m
            }),
        ),
        (
            "lock held, no run",
            Box::new(|| following_nothing(lock_held())),
        ),
        ("lock held, bob's run", Box::new(|| following(lock_held()))),
        (
            "lock held, bob's run focused",
            Box::new(|| {
                let mut m = following(lock_held());
                hit(&mut m, KeyCode::Char('r'));
                m
            }),
        ),
        (
            "lock lost during a run",
            Box::new(|| {
                let mut m = fence_ok();
                settle(
                    &mut m,
                    Msg::Driver(Driver::LockLost("bob@ops broke the lock".into())),
                );
                m
            }),
        ),
        ("watch, nothing", Box::new(|| with_runbook(Mode::Watch))),
        (
            "watch, bob's run",
            Box::new(|| {
                let mut m = with_runbook(Mode::Watch);
                bobs_run(&mut m);
                m
            }),
        ),
        (
            "watch, bob's run focused",
            Box::new(|| {
                let mut m = with_runbook(Mode::Watch);
                bobs_run(&mut m);
                hit(&mut m, KeyCode::Char('r'));
                m
            }),
        ),
        (
            "watch, bob's run ended",
            Box::new(|| {
                let mut m = with_runbook(Mode::Watch);
                bobs_run(&mut m);
                let id = m.runs.current.as_ref().unwrap().id.clone();
                settle(
                    &mut m,
                    Msg::Foreign(run_entry(at(0.9), &id, "bob@ops", Event::Finished)),
                );
                m
            }),
        ),
    ];
    fn following_nothing(driver: Driver) -> Model {
        let mut m = live();
        settle(&mut m, Msg::Driver(driver));
        m
    }
    states
}

/// The state to press a key in: built, with no flash left from building it.
fn fresh(build: &dyn Fn() -> Model) -> Model {
    let mut m = build();
    m.ui.flash = None;
    m
}

#[test]
fn the_footer_offers_exactly_the_keys_that_do_something() {
    let run_keys = [
        KeyCode::Enter,
        KeyCode::Char('D'),
        KeyCode::Char('o'),
        KeyCode::Char('s'),
        KeyCode::Char('a'),
        KeyCode::Char('R'),
        KeyCode::Char('v'),
        KeyCode::Char('B'),
        KeyCode::Char('r'),
        KeyCode::Esc,
    ];
    let mut checked = 0;
    for (name, build) in states() {
        let m = fresh(&*build);
        if !matches!(m.ui.overlay, Overlay::None) {
            // A list or a prompt has its own footer: its keys are the list's.
            continue;
        }
        let offered = available(&m);
        // The footer shows exactly these, in this order.
        let line = screen::render(&m, 160, 48)
            .lines()
            .last()
            .unwrap_or_default()
            .to_string();
        let text = offered
            .iter()
            .map(|h| format!("{} {}", h.key, h.what))
            .collect::<Vec<_>>()
            .join("  ");
        assert_eq!(line, text, "{name}: the footer is not the list");

        for hint in &offered {
            let mut m = fresh(&*build);
            let before = run_side(&m);
            let scroll = m.ui.scroll;
            let effects = press(&mut m, hint.code);
            assert_eq!(
                m.ui.flash, None,
                "{name}: {} {} is offered, but refused",
                hint.key, hint.what
            );
            let did = !effects.is_empty() || run_side(&m) != before || m.ui.scroll != scroll;
            let scrolls = hint.command == Command::Down;
            assert!(
                did || scrolls,
                "{name}: {} {} is offered, and does nothing",
                hint.key,
                hint.what
            );
            checked += 1;
        }
        for code in run_keys {
            if offered.iter().any(|h| h.code == code) {
                continue;
            }
            let mut m = fresh(&*build);
            let before = run_side(&m);
            let effects = press(&mut m, code);
            assert!(
                effects.is_empty(),
                "{name}: {code:?} is not offered, and did {effects:?}"
            );
            assert_eq!(
                run_side(&m),
                before,
                "{name}: {code:?} is not offered, and changed the run side"
            );
            checked += 1;
        }
    }
    assert!(checked > 200, "{checked}");
}

#[test]
fn a_console_that_watches_another_drive_offers_b_to_break_the_lock() {
    let mut m = model();
    settle(&mut m, Msg::Driver(lock_held()));
    m.ui.flash = None;
    let offered = available(&m);
    assert!(
        offered
            .iter()
            .any(|h| h.key == "B" && h.what == "break the lock"),
        "{:?}",
        offered
            .iter()
            .map(|h| (&h.key, &h.what))
            .collect::<Vec<_>>()
    );
}

// ---- labels, not keys, in messages --------------------------------------------------------------

const PROMOTE_ONLY: &str = r#"
[[runbook]]
name = "promote"
from = "primary"
to = "secondary"

[[runbook.step]]
title = "Promote site B"
action = "promote"
database = "orders"
"#;

/// Unnamed members are named by their site's key ("primary"); messages name them by the site's
/// label ("site A"). The arm prompt still asks for the key: that is what a person types.
#[test]
fn arming_and_split_brain_messages_name_sites_by_label() {
    let mut m = model_from(&format!("{CONFIG}{PROMOTE_ONLY}"), Mode::Live);
    drive(&mut m);
    pg(&mut m, A, 0.5, Ok(primary(1, Some(0))));
    pg(&mut m, B, 0.5, Ok(replica(false)));
    open_plan(&mut m);
    hit(&mut m, KeyCode::Enter);
    assert!(
        matches!(&m.ui.overlay, Overlay::Prompt(p) if p.purpose.question(&m) == "type secondary to arm: "),
        "{:?}",
        m.ui.overlay
    );
    type_line(&mut m, "secondary");
    let armed = records(&type_line(&mut m, "drill"));
    let armed = armed
        .iter()
        .find(|e| e.message.starts_with("ARMED"))
        .expect("the ARMED entry");
    assert_eq!(
        armed.message,
        "ARMED promote → site B (unplanned failover) by alice@ops: drill (primary at arming: orders: site A)"
    );

    // Site A still answers as a writable primary: the guard asks for the split-brain word.
    hit(&mut m, KeyCode::Enter);
    assert!(
        matches!(&m.ui.overlay, Overlay::Prompt(p) if format!("{:?}", p.purpose).contains("SplitBrain")),
        "{:?} {:?}",
        m.ui.overlay,
        m.ui.flash
    );
    let accepted = records(&type_line(&mut m, "promote"));
    let accepted = accepted
        .iter()
        .find(|e| e.message.contains("split brain accepted"))
        .expect("the split brain entry");
    assert_eq!(
        accepted.message,
        "step 1 split brain accepted: promoting while site A is primary"
    );
    assert!(
        run_events_of(accepted).iter().any(|e| matches!(
            e,
            Event::SplitBrainAccepted { evidence, .. } if evidence == "site A is primary"
        )),
        "{accepted:?}"
    );
}

fn run_events_of(entry: &Entry) -> Vec<Event> {
    entry.run.iter().map(|r| r.event.clone()).collect()
}
