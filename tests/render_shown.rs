//! A reading asks for a frame only when it changes what the screen shows (issue 18: an idle
//! console draws little but its clock), and never hides a change. `kinds::apply` compares what
//! each kind shows of its source before and after a reading; these tests hold it to the screen:
//!
//! - each kind's reading like the last one leaves the frame clean, and each change the screen
//!   shows makes `apply` say so (lag past what the row prints, a member down, an error's text,
//!   a role, an answer, a TTL, a record set or health check, a status, a value);
//! - a property: over any sequence of readings of every kind (and ticks), whenever a reading
//!   leaves the frame clean the whole screen, drawn by the console's own `ui::render` at 80x24
//!   and 160x48, is the same cell for cell as before it (the clock unchanged); whenever a tick
//!   asks for the clock alone, everything but the clock's line is;
//! - what the clock moves outside the header (Route 53's "TTL 47 s left", the run pane's
//!   evidence) is redrawn by the tick each second.

#[path = "common/fixture.rs"]
mod fixture;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use failover_core::app::{Effect, Mode, Model, Msg, update};
use failover_core::kinds::{
    self, Observation,
    alarm::{AlarmInfo, AlarmReading, AlarmValue},
    aws::{AwsError, AwsErrorKind},
    cloudwatch::Datapoint,
    dns::DnsAnswer,
    health::ProbeOutcome,
    patroni::{ClusterView, Lag, Member, NodeView, Reading},
    postgres::{Lsn, PgSnapshot, PrimaryReading, ReplicaReading, StandbyRow},
    rds::{LagMetric, LagReading, RdsInstance, RdsReading, RdsRole},
    route53::{CheckerShare, HealthCheckReading, R53Reading, R53Set},
};
use failover_core::theme::{Theme, View};
use failover_core::timeline::Edges;
use proptest::prelude::*;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use time::OffsetDateTime;
use time::macros::datetime;

/// Every kind, a Route 53 record beside its `[[dns]]` record and one on its own, and a runbook
/// with a gate or wait on each, whose plan shows their live evidence.
const SOURCES: &str = r#"
[sites.primary]
label = "site A"
[sites.secondary]
label = "site B"

[[health]]
name = "api-a"
site = "primary"
http = "http://127.0.0.1:18081/healthz"
failure-threshold = 3
[[health]]
name = "api-b"
site = "secondary"
http = "http://127.0.0.1:18082/healthz"

[[database]]
name = "orders"
kind = "postgres"
max-lag-bytes = 1048576
max-lag = "30s"
[[database.member]]
site = "primary"
dsn = "host=127.0.0.1 port=54321 user=postgres dbname=postgres"
[[database.member]]
site = "secondary"
dsn = "host=127.0.0.1 port=54322 user=postgres dbname=postgres"

[[database]]
name = "lab"
kind = "patroni"
members = ["http://127.0.0.1:18008", "http://127.0.0.1:18009"]
sites = { p1 = "primary", p2 = "secondary" }

[[dns]]
name = "api.failover.test."
resolvers = ["127.0.0.1:5353", "127.0.0.1:5354"]
[dns.answers]
primary = ["10.0.1.100"]
secondary = ["10.0.2.100"]

[aws]
region = "us-east-1"
profile = "ops"

[[route53]]
name = "api.failover.test."
zone-id = "Z1"

[[route53]]
name = "www.failover.test."
zone-id = "Z1"

[[rds]]
name = "ledger"
instances = { primary = "ledger-a", secondary = "ledger-b" }
max-lag = "30s"

[[cloudwatch]]
name = "canary"
site = "secondary"
namespace = "Lab/Canary"
metric = "SuccessPercent"
warn = 95
crit = 90

[[alarm]]
name = "alarms-a"
site = "primary"
alarm-names = ["orders-5xx"]

[[runbook]]
name = "failover"
from = "primary"
to = "secondary"

[[runbook.step]]
title = "Replica caught up"
gate = "lag"
database = "orders"

[[runbook.step]]
title = "Patroni replica caught up"
gate = "lag"
database = "lab"

[[runbook.step]]
title = "RDS replica caught up"
gate = "lag"
rds = "ledger"

[[runbook.step]]
title = "Canary fine"
gate = "cloudwatch"
check = "canary"

[[runbook.step]]
title = "Route 53 health"
gate = "route53-health"
record = "api.failover.test."

[[runbook.step]]
title = "Site B healthy"
gate = "healthy"

[[runbook.step]]
title = "Writes on site B"
wait = "writable"
database = "orders"

[[runbook.step]]
title = "Resolvers answer site B"
wait = "dns"
record = "api.failover.test."
"#;

/// Named services: the estate overview takes the panes' place.
const SERVICES: &str = r#"
[[service]]
name = "orders"
database = "orders"
dns = ["api.failover.test."]
health = ["api-a", "api-b", "canary", "alarms-a"]
runbooks = ["failover"]

[[service]]
name = "ledger"
database = "ledger"
dns = ["www.failover.test."]

[[service]]
name = "lab"
database = "lab"
"#;

const T0: OffsetDateTime = datetime!(2026-03-01 14:30:00 UTC);

fn at(secs: f64) -> OffsetDateTime {
    fixture::after(T0, secs)
}

/// How the screen is laid out while the readings come.
#[derive(Debug, Clone, Copy)]
struct Layout {
    services: bool,
    sparklines: bool,
    /// The runbook's plan open: every gate's live evidence in the run pane.
    plan: bool,
}

fn model(layout: Layout) -> Model {
    let text = format!(
        "[console]\ntitle = \"orders\"\nsparklines = {}\n{SOURCES}{}",
        layout.sparklines,
        if layout.services { SERVICES } else { "" }
    );
    let config = failover_console::config::from_str(&text, Path::new("test.toml"))
        .expect("test config is valid");
    let view = View {
        theme: Theme::load("dark").expect("the dark theme"),
        ascii: false,
    };
    let mut m = Model::new(Arc::new(config), Mode::Live, "alice@ops".into(), view, T0);
    m.recorder = true;
    if layout.plan {
        m.runs.plan = Some(0);
    }
    m
}

// ---- readings, a few of each kind: alike, alike on screen, and different ----------------------

fn probe(variant: usize) -> ProbeOutcome {
    let (ok, ms, detail) = match variant % 5 {
        0 => (true, 3, "200"),
        1 => (true, 4, "200"),
        2 => (false, 3, "status 503 (expected 200)"),
        3 => (false, 500, "timeout after 500ms"),
        _ => (true, 90, "200"),
    };
    ProbeOutcome {
        ok,
        latency: Duration::from_millis(ms),
        detail: detail.into(),
    }
}

fn primary(lsn: u64, lag_bytes: Option<u64>, replay_lag: Option<Duration>) -> PgSnapshot {
    PgSnapshot {
        in_recovery: false,
        timeline: Some(1),
        server_version: "17.2".into(),
        cluster_name: "site_a".into(),
        primary: Some(PrimaryReading {
            current_lsn: Lsn(lsn),
            standbys: vec![StandbyRow {
                application_name: "site_b".into(),
                state: "streaming".into(),
                lag_bytes,
                replay_lag,
            }],
        }),
        replica: None,
    }
}

fn replica(status: Option<&str>, paused: bool, since_last_replay: u64) -> PgSnapshot {
    PgSnapshot {
        in_recovery: true,
        timeline: Some(1),
        server_version: "17.2".into(),
        cluster_name: "site_b".into(),
        primary: None,
        replica: Some(ReplicaReading {
            receive_lsn: Some(Lsn(0x16_B374_D848)),
            replay_lsn: Some(Lsn(0x16_B374_D848)),
            replay_paused: paused,
            receiver_status: status.map(String::from),
            since_last_replay: Some(Duration::from_secs(since_last_replay)),
        }),
    }
}

const LSN: u64 = 0x16_B374_D848;

/// The primary's readings (member 0): its LSN and what it says of the replica's lag, each
/// moved alone.
fn pg_primary(variant: usize) -> Result<PgSnapshot, String> {
    let ms = Duration::from_millis;
    Ok(match variant % 13 {
        0 | 1 => primary(LSN, Some(0), Some(ms(0))),
        2 => primary(LSN, Some(1), Some(ms(1))),
        3 => primary(LSN, Some(2), Some(ms(1))),
        4 => primary(LSN, Some(20_000_000), Some(ms(1230))),
        // Alike on screen: "19.1 MiB, 1.2 s".
        5 => primary(LSN, Some(20_000_100), Some(ms(1240))),
        6 => primary(LSN, Some(21_000_000), Some(ms(1240))),
        7 => primary(LSN, Some(21_000_000), Some(ms(1340))),
        8 => primary(LSN + 64, Some(21_000_000), Some(ms(1340))),
        9 => primary(LSN, Some(2_000_000), Some(Duration::from_secs(40))),
        10 => return Err("connection refused".into()),
        11 => return Err("timeout after 2s".into()),
        _ => replica(Some("streaming"), false, 1),
    })
}

/// The replica's readings (member 1).
fn pg_replica(variant: usize) -> Result<PgSnapshot, String> {
    Ok(match variant % 8 {
        0 => replica(Some("streaming"), false, 2),
        // `since last replayed commit` counts only while replay is stuck.
        1 => replica(Some("streaming"), false, 3),
        2 => replica(Some("streaming"), true, 3),
        3 => replica(Some("stopping"), false, 3),
        4 => replica(Some("stopping"), false, 4),
        5 => replica(None, false, 4),
        6 => return Err("connection refused".into()),
        _ => primary(LSN, None, None),
    })
}

fn patroni_member(name: &str, role: &str, lag: Option<Lag>) -> Member {
    Member {
        name: name.into(),
        role: role.into(),
        state: if role == "leader" {
            "running"
        } else {
            "streaming"
        }
        .into(),
        api_url: Some(format!(
            "http://127.0.0.1:{}/patroni",
            if name == "p1" { 18008 } else { 18009 }
        )),
        host: Some("127.0.0.1".into()),
        port: Some(5432),
        timeline: Some(3),
        lag,
        receive_lag: lag,
        replay_lag: lag,
        nofailover: false,
        noloadbalance: false,
        pending_restart: false,
    }
}

fn patroni_node(name: &str, role: &str) -> Result<NodeView, String> {
    Ok(NodeView {
        name: Some(name.into()),
        role: role.into(),
        state: "running".into(),
        timeline: Some(3),
        replication_state: (role == "replica").then(|| "streaming".into()),
    })
}

fn patroni(variant: usize) -> Reading {
    let (mut leader, mut replica) = ("p1", "p2");
    let mut lag = Some(Lag::Bytes(0));
    let mut paused = false;
    let mut nodes = vec![patroni_node("p1", "primary"), patroni_node("p2", "replica")];
    let mut cluster_error = None;
    match variant % 10 {
        0 | 1 => {}
        2 => lag = Some(Lag::Bytes(5000)),
        // Shown exactly: "5001 B (4.9 KiB)".
        3 => lag = Some(Lag::Bytes(5001)),
        4 => lag = Some(Lag::Unknown),
        5 => paused = true,
        6 => nodes[1] = Err("timeout after 2s".into()),
        7 => nodes[1] = Err("connection refused".into()),
        8 => {
            nodes = vec![Err("connection refused".into()), Err("timeout".into())];
            cluster_error = Some("no member answered /cluster".to_string());
        }
        _ => {
            (leader, replica) = ("p2", "p1");
            nodes = vec![patroni_node("p1", "replica"), patroni_node("p2", "primary")];
        }
    }
    let mut members = vec![
        patroni_member(leader, "leader", None),
        patroni_member(replica, "replica", lag),
    ];
    members.sort_by(|a, b| a.name.cmp(&b.name));
    Reading {
        nodes,
        cluster: match cluster_error {
            Some(e) => Err(e),
            None => Ok((
                0,
                ClusterView {
                    members,
                    paused,
                    scheduled_switchover: None,
                },
            )),
        },
        history: Some(Vec::new()),
        max_lag_on_failover: Some(1_048_576),
    }
}

fn records(ip: &str, ttl: u32) -> DnsAnswer {
    DnsAnswer::Records {
        values: vec![ip.into()],
        ttl,
    }
}

fn dns(variant: usize) -> DnsAnswer {
    match variant % 7 {
        0 => records("10.0.1.100", 60),
        1 => records("10.0.1.100", 59),
        2 => records("10.0.2.100", 60),
        3 => DnsAnswer::Timeout,
        4 => DnsAnswer::Error("connection refused".into()),
        5 => DnsAnswer::Error("network unreachable".into()),
        _ => DnsAnswer::NxDomain,
    }
}

fn aws_error(kind: AwsErrorKind, message: &str) -> AwsError {
    AwsError {
        kind,
        message: message.into(),
    }
}

fn r53_set(role: &str, ip: &str, healthy: Result<u32, String>, ttl: i64) -> R53Set {
    R53Set {
        set_identifier: Some(role.to_lowercase()),
        failover: Some(role.into()),
        values: vec![ip.into()],
        alias: None,
        ttl: Some(ttl),
        health_check: Some(HealthCheckReading {
            id: format!("hc-{}", role.to_lowercase()),
            status: healthy.map(|healthy| CheckerShare { healthy, total: 16 }),
            calculated: None,
        }),
    }
}

fn route53(variant: usize) -> Result<R53Reading, AwsError> {
    let pair = |primary: Result<u32, String>, secondary: u32, ttl| R53Reading {
        sets: vec![
            r53_set("PRIMARY", "10.0.1.100", primary, ttl),
            r53_set("SECONDARY", "10.0.2.100", Ok(secondary), ttl),
        ],
    };
    Ok(match variant % 9 {
        0 | 1 => pair(Ok(16), 16, 60),
        // "healthy 93% of checkers".
        2 => pair(Ok(15), 16, 60),
        // Unhealthy: Route 53 answers the SECONDARY.
        3 => pair(Ok(0), 16, 60),
        4 => pair(Err("throttled".into()), 16, 60),
        5 => pair(Ok(16), 16, 300),
        // The SECONDARY's check, which only the route53-health gate of site B shows.
        6 => pair(Ok(16), 15, 60),
        7 => return Err(aws_error(AwsErrorKind::Timeout, "no answer in 3s")),
        _ => return Err(aws_error(AwsErrorKind::Timeout, "no answer in 5s")),
    })
}

fn rds_instance(id: &str, role: RdsRole, status: &str, lag: Option<LagReading>) -> RdsInstance {
    RdsInstance {
        id: id.into(),
        status: status.into(),
        engine: "postgres".into(),
        availability_zone: Some("us-east-1a".into()),
        multi_az: true,
        role,
        lag,
    }
}

fn rds(variant: usize) -> Result<RdsReading, AwsError> {
    let point = |value: f64, secs: f64| {
        Ok(Some(Datapoint {
            value,
            at: at(secs),
        }))
    };
    let (status, latest) = match variant % 8 {
        0 | 1 => ("available", point(2.0, -40.0)),
        // A newer datapoint of the same value: its time is on screen.
        2 => ("available", point(2.0, 20.0)),
        3 => ("available", point(50.0, 20.0)),
        4 => ("available", Ok(None)),
        5 => ("modifying", point(2.0, -40.0)),
        6 => return Err(aws_error(AwsErrorKind::CredentialsExpired, "ExpiredToken")),
        _ => {
            return Ok(RdsReading {
                instances: vec![
                    Err("ledger-a: DBInstanceNotFound".into()),
                    Err("ledger-b: DBInstanceNotFound".into()),
                ],
                clusters: vec![],
            });
        }
    };
    Ok(RdsReading {
        instances: vec![
            Ok(rds_instance(
                "ledger-a",
                RdsRole::Primary {
                    replicas: vec!["ledger-b".into()],
                },
                "available",
                None,
            )),
            Ok(rds_instance(
                "ledger-b",
                RdsRole::ReadReplica {
                    source: "ledger-a".into(),
                },
                status,
                Some(LagReading {
                    metric: LagMetric::ReplicaLag,
                    latest,
                }),
            )),
        ],
        clusters: vec![],
    })
}

fn cloudwatch(variant: usize) -> Result<Option<Datapoint>, AwsError> {
    let point = |value: f64, secs: f64| {
        Ok(Some(Datapoint {
            value,
            at: at(secs),
        }))
    };
    match variant % 8 {
        0 | 1 => point(100.0, -30.0),
        2 => point(99.5, -30.0),
        3 => point(85.0, -30.0),
        4 => Ok(None),
        5 => Err(aws_error(AwsErrorKind::Timeout, "no answer in 3s")),
        6 => Err(aws_error(AwsErrorKind::Timeout, "no answer in 5s")),
        _ => point(100.0, 30.0),
    }
}

fn alarm(variant: usize) -> Result<AlarmReading, AwsError> {
    let reading = |state, reason: &str| {
        Ok(AlarmReading {
            alarms: vec![AlarmInfo {
                name: "orders-5xx".into(),
                state,
                reason: reason.into(),
                since: Some(at(-100.0)),
            }],
        })
    };
    match variant % 5 {
        0 | 1 => reading(AlarmValue::Ok, "Threshold Crossed: 0 datapoints"),
        2 => reading(AlarmValue::Alarm, "Threshold Crossed: 1 datapoint [7.0]"),
        3 => Err(aws_error(AwsErrorKind::Timeout, "no answer in 3s")),
        _ => Err(aws_error(AwsErrorKind::Timeout, "no answer in 5s")),
    }
}

/// One reading, or a tick; `source` picks the check, member or resolver where a kind has two.
#[derive(Debug, Clone, Copy)]
enum Op {
    Probe(usize, usize),
    Postgres(usize, usize),
    Patroni(usize),
    Dns(usize, usize),
    Route53(usize, usize),
    Rds(usize),
    CloudWatch(usize),
    Alarm(usize),
    Tick,
}

fn observation(op: Op, when: OffsetDateTime) -> Option<Observation> {
    Some(match op {
        Op::Probe(check, v) => Observation::Probe {
            check: check % 2,
            at: when,
            outcome: probe(v),
        },
        Op::Postgres(member, v) => Observation::Postgres {
            db: 0,
            member: member % 2,
            at: when,
            result: if member % 2 == 0 {
                pg_primary(v)
            } else {
                pg_replica(v)
            },
        },
        Op::Patroni(v) => Observation::Patroni {
            cluster: 0,
            at: when,
            reading: patroni(v),
        },
        Op::Dns(resolver, v) => Observation::Dns {
            record: 0,
            resolver: resolver % 2,
            at: when,
            answer: dns(v),
        },
        Op::Route53(record, v) => Observation::Route53 {
            record: record % 2,
            at: when,
            result: route53(v),
        },
        Op::Rds(v) => Observation::Rds {
            source: 0,
            at: when,
            result: rds(v),
        },
        Op::CloudWatch(v) => Observation::CloudWatch {
            check: 0,
            at: when,
            result: cloudwatch(v),
        },
        Op::Alarm(v) => Observation::Alarm {
            source: 0,
            at: when,
            result: alarm(v),
        },
        Op::Tick => return None,
    })
}

/// Every source read once, at rest.
fn settled(layout: Layout) -> Model {
    let mut m = model(layout);
    let ops = [
        Op::Probe(0, 0),
        Op::Probe(1, 0),
        Op::Probe(0, 0),
        Op::Probe(1, 0),
        Op::Postgres(0, 0),
        Op::Postgres(1, 0),
        Op::Patroni(0),
        Op::Dns(0, 0),
        Op::Dns(1, 0),
        Op::Route53(0, 0),
        Op::Route53(1, 0),
        Op::Rds(0),
        Op::CloudWatch(0),
        Op::Alarm(0),
    ];
    for (i, op) in ops.into_iter().enumerate() {
        let o = observation(op, at(i as f64 * 0.1)).expect("a reading");
        settle(&mut m, Msg::Observed(o));
    }
    m
}

// ---- the engine's side: a message, then what it records fed back as journaled ---------------

fn settle(m: &mut Model, msg: Msg) {
    let mut pending: Vec<Effect> = update(m, msg);
    while !pending.is_empty() {
        if let Effect::Record(entry) = pending.remove(0) {
            pending.extend(update(m, Msg::Journaled { entry, error: None }));
        }
    }
}

/// Whether the reducer asks for a whole frame for `msg`, from a clean screen; then settled.
fn redraws(m: &mut Model, msg: Msg) -> bool {
    m.ui.dirty = false;
    m.ui.clock_dirty = false;
    let mut pending = update(m, msg);
    let dirty = m.ui.dirty;
    while !pending.is_empty() {
        if let Effect::Record(entry) = pending.remove(0) {
            pending.extend(update(m, Msg::Journaled { entry, error: None }));
        }
    }
    dirty
}

/// What `kinds::apply` says of one reading: whether the screen may have changed (edges aside,
/// which redraw anyway).
fn shows(m: &mut Model, o: Observation) -> bool {
    let config = m.config.clone();
    kinds::apply(
        &config.kinds,
        &mut m.kinds,
        &config.sites,
        o,
        &mut Edges::default(),
    )
}

// ---- the screen ---------------------------------------------------------------------------

/// The smallest normal terminal, the wide layout, and one wide enough for the run pane's
/// evidence lines whole.
const SIZES: [(u16, u16); 3] = [(80, 24), (160, 48), (300, 60)];

fn frames(m: &Model) -> Vec<Buffer> {
    SIZES
        .iter()
        .map(|&(w, h)| {
            let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
            terminal
                .draw(|frame| failover_core::ui::render(frame, m))
                .expect("draw");
            terminal.backend().buffer().clone()
        })
        .collect()
}

fn text(buffer: &Buffer, from_row: u16) -> String {
    let mut out = String::new();
    for y in from_row..buffer.area.height {
        for x in 0..buffer.area.width {
            out.push_str(buffer[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

/// The frames alike from `from_row` down, styles included.
fn same_below(before: &[Buffer], after: &[Buffer], from_row: u16) -> Result<(), String> {
    for (b, a) in before.iter().zip(after) {
        let rows_differ =
            (from_row..b.area.height).any(|y| (0..b.area.width).any(|x| b[(x, y)] != a[(x, y)]));
        if rows_differ {
            return Err(format!(
                "{}x{} changed\nbefore:\n{}after:\n{}",
                b.area.width,
                b.area.height,
                text(b, from_row),
                text(a, from_row)
            ));
        }
    }
    Ok(())
}

/// Applies `ops` in turn, each half a second after the last; fails at the first reading that
/// left the frame clean but changed the screen, or tick that asked for the clock alone but
/// changed more than the clock's line.
fn no_change_hidden(layout: Layout, ops: &[Op]) -> Result<(), String> {
    let mut m = settled(layout);
    let mut secs = 2.0;
    let mut before = frames(&m);
    for (i, op) in ops.iter().enumerate() {
        secs += 0.5;
        let (msg, from_row) = match observation(*op, at(secs)) {
            Some(o) => (Msg::Observed(o), 0),
            // The clock's line is drawn alone (`ui::render_header`): the rest must not move.
            None => (Msg::Tick(at(secs)), 1),
        };
        let clean = !redraws(&mut m, msg);
        let after = frames(&m);
        if clean {
            same_below(&before, &after, from_row)
                .map_err(|e| format!("op {i} {op:?} left the frame clean: {e}"))?;
        }
        before = after;
    }
    Ok(())
}

fn op() -> impl Strategy<Value = Op> {
    let v = 0..13usize;
    prop_oneof![
        1 => (0..2usize, v.clone()).prop_map(|(s, v)| Op::Probe(s, v)),
        3 => (0..2usize, v.clone()).prop_map(|(s, v)| Op::Postgres(s, v)),
        2 => v.clone().prop_map(Op::Patroni),
        2 => (0..2usize, v.clone()).prop_map(|(s, v)| Op::Dns(s, v)),
        2 => (0..2usize, v.clone()).prop_map(|(s, v)| Op::Route53(s, v)),
        2 => v.clone().prop_map(Op::Rds),
        2 => v.clone().prop_map(Op::CloudWatch),
        1 => v.prop_map(Op::Alarm),
        1 => Just(Op::Tick),
    ]
}

fn layout() -> impl Strategy<Value = Layout> {
    (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(services, sparklines, plan)| Layout {
        services,
        sparklines,
        plan,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn a_clean_frame_never_hides_a_change(layout in layout(), ops in prop::collection::vec(op(), 1..30)) {
        if let Err(e) = no_change_hidden(layout, &ops) {
            return Err(TestCaseError::fail(e));
        }
    }
}

/// The vertices of a walk over every ordered pair of `0..n` (itself included) once: an Eulerian
/// circuit of the complete directed graph with loops (Hierholzer's).
fn every_pair(n: usize) -> Vec<usize> {
    let mut next = vec![0; n];
    let (mut stack, mut walk) = (vec![0], Vec::new());
    while let Some(&v) = stack.last() {
        if next[v] < n {
            next[v] += 1;
            stack.push(next[v] - 1);
        } else {
            walk.extend(stack.pop());
        }
    }
    walk.reverse();
    walk
}

/// A kind's readings: how many variants, and the reading of each.
type Variants = (usize, fn(usize) -> Op);

/// Each kind's readings, every one after every other (and after itself), the panes and the
/// plan's evidence on screen.
fn every_transition(kinds: &[Variants]) {
    let layout = Layout {
        services: false,
        sparklines: false,
        plan: true,
    };
    for &(n, make) in kinds {
        let ops: Vec<Op> = every_pair(n).into_iter().map(make).collect();
        if let Err(e) = no_change_hidden(layout, &ops) {
            panic!("{e}");
        }
    }
}

#[test]
fn every_pair_walks_each_ordered_pair_once() {
    let walk = every_pair(4);
    assert_eq!(walk.len(), 17);
    let pairs: std::collections::BTreeSet<_> = walk.windows(2).map(|w| (w[0], w[1])).collect();
    assert_eq!(pairs.len(), 16);
}

#[test]
fn every_transition_of_the_databases_is_shown_or_alike() {
    every_transition(&[
        (13, |v| Op::Postgres(0, v)),
        (8, |v| Op::Postgres(1, v)),
        (10, Op::Patroni),
        (8, Op::Rds),
    ]);
}

#[test]
fn every_transition_of_the_checks_and_dns_is_shown_or_alike() {
    every_transition(&[
        (5, |v| Op::Probe(0, v)),
        (8, Op::CloudWatch),
        (5, Op::Alarm),
        (7, |v| Op::Dns(0, v)),
        (7, |v| Op::Dns(1, v)),
        (9, |v| Op::Route53(0, v)),
        (9, |v| Op::Route53(1, v)),
    ]);
}

// ---- each kind: at rest nothing, each change something -----------------------------------------

const PLAIN: Layout = Layout {
    services: false,
    sparklines: false,
    plan: false,
};

fn reading(op: Op, secs: f64) -> Observation {
    observation(op, at(secs)).expect("a reading")
}

#[test]
fn postgres_at_rest_draws_nothing_and_each_change_on_screen_is_shown() {
    let mut m = settled(PLAIN);
    for s in 0..5 {
        let secs = 3.0 + f64::from(s);
        assert!(!redraws(
            &mut m,
            Msg::Observed(reading(Op::Postgres(0, 0), secs))
        ));
        assert!(!redraws(
            &mut m,
            Msg::Observed(reading(Op::Postgres(1, 0), secs))
        ));
    }
    let pg = |member, result| Observation::Postgres {
        db: 0,
        member,
        at: at(10.0),
        result,
    };
    // The replica's idle time since its last replayed commit, not on screen while it streams.
    assert!(!shows(&mut m, pg(1, pg_replica(1))));
    // Its lag: 0 B, then 1 B; then 2 B.
    assert!(shows(&mut m, pg(0, pg_primary(2))), "lag 0 B -> 1 B");
    assert!(shows(&mut m, pg(0, pg_primary(3))), "lag 1 B -> 2 B");
    assert!(shows(&mut m, pg(0, pg_primary(4))), "lag 19.1 MiB, 1.2 s");
    assert!(
        !shows(&mut m, pg(0, pg_primary(5))),
        "20,000,100 B is 19.1 MiB too, 1.24 s is 1.2 s"
    );
    assert!(shows(&mut m, pg(0, pg_primary(6))), "19.1 MiB -> 20.0 MiB");
    assert!(shows(&mut m, pg(0, pg_primary(7))), "1.2 s -> 1.3 s");
    assert!(shows(&mut m, pg(0, pg_primary(8))), "the primary's LSN");
    assert!(shows(&mut m, pg(0, pg_primary(9))), "over the limits");
    assert!(shows(&mut m, pg(1, pg_replica(2))), "replay paused");
    assert!(shows(&mut m, pg(1, pg_replica(3))), "not streaming");
    assert!(
        shows(&mut m, pg(1, pg_replica(4))),
        "stuck: its time since the last replayed commit is its lag"
    );
    assert!(!shows(&mut m, pg(1, pg_replica(4))));
    assert!(shows(&mut m, pg(1, pg_replica(5))), "no walreceiver");
    assert!(shows(&mut m, pg(0, pg_primary(10))), "down");
    assert!(!shows(&mut m, pg(0, pg_primary(10))), "down alike");
    assert!(shows(&mut m, pg(0, pg_primary(11))), "another error");
    assert!(shows(&mut m, pg(0, pg_primary(0))), "back");
    assert!(shows(&mut m, pg(1, pg_replica(7))), "promoted: split brain");
}

#[test]
fn patroni_at_rest_draws_nothing_and_each_change_on_screen_is_shown() {
    let mut m = settled(PLAIN);
    for s in 0..5 {
        let secs = 3.0 + f64::from(s);
        assert!(!redraws(
            &mut m,
            Msg::Observed(reading(Op::Patroni(1), secs))
        ));
    }
    let next = |m: &mut Model, v| shows(m, reading(Op::Patroni(v), 10.0));
    assert!(next(&mut m, 2), "lag 0 B -> 5000 B");
    assert!(next(&mut m, 3), "5000 B -> 5001 B: exact");
    assert!(!next(&mut m, 3));
    assert!(next(&mut m, 4), "lag unknown");
    assert!(next(&mut m, 5), "paused");
    assert!(next(&mut m, 6), "a member's REST API down");
    assert!(next(&mut m, 7), "its error's text");
    assert!(!next(&mut m, 7));
    assert!(next(&mut m, 8), "no member answers");
    assert!(!next(&mut m, 8), "still none: the last answer's time stays");
    assert!(next(&mut m, 0), "answering again");
    assert!(next(&mut m, 9), "a new leader");
}

#[test]
fn dns_at_rest_draws_nothing_and_each_change_on_screen_is_shown() {
    let mut m = settled(PLAIN);
    for s in 0..5 {
        let secs = 3.0 + f64::from(s);
        assert!(!redraws(
            &mut m,
            Msg::Observed(reading(Op::Dns(0, 0), secs))
        ));
        assert!(!redraws(
            &mut m,
            Msg::Observed(reading(Op::Dns(1, 0), secs))
        ));
    }
    let next = |m: &mut Model, v| shows(m, reading(Op::Dns(0, v), 10.0));
    assert!(next(&mut m, 1), "ttl 60 -> 59");
    assert!(next(&mut m, 2), "another answer");
    assert!(next(&mut m, 3), "timeout");
    assert!(next(&mut m, 4), "an error");
    assert!(next(&mut m, 5), "its text");
    assert!(!next(&mut m, 5));
    assert!(next(&mut m, 6), "NXDOMAIN");
}

/// While Route 53 intends another site than the resolvers give, an answer like the last one
/// moves "TTL 47 s left": it counts from the resolver's last answer.
#[test]
fn dns_like_the_last_answer_is_shown_while_route53_disagrees() {
    let mut m = settled(PLAIN);
    let unhealthy = reading(Op::Route53(0, 3), 5.0);
    assert!(shows(&mut m, unhealthy), "Route 53 says site B");
    let before = frames(&m);
    assert!(redraws(&mut m, Msg::Observed(reading(Op::Dns(0, 0), 20.0))));
    assert!(
        same_below(&before, &frames(&m), 0).is_err(),
        "the TTL left moved"
    );
    // Agreeing again: nothing counts down.
    assert!(shows(&mut m, reading(Op::Route53(0, 0), 21.0)));
    assert!(!redraws(
        &mut m,
        Msg::Observed(reading(Op::Dns(0, 0), 22.0))
    ));
}

#[test]
fn route53_at_rest_draws_nothing_and_each_change_on_screen_is_shown() {
    let mut m = settled(PLAIN);
    for s in 0..5 {
        let secs = 3.0 + f64::from(s);
        assert!(!redraws(
            &mut m,
            Msg::Observed(reading(Op::Route53(0, 0), secs))
        ));
        assert!(!redraws(
            &mut m,
            Msg::Observed(reading(Op::Route53(1, 1), secs))
        ));
    }
    let next = |m: &mut Model, v| shows(m, reading(Op::Route53(0, v), 10.0));
    assert!(next(&mut m, 2), "15 of 16 checkers: 93%");
    assert!(next(&mut m, 3), "the PRIMARY's check unhealthy");
    assert!(next(&mut m, 4), "its check unreadable");
    assert!(next(&mut m, 5), "healthy again, another TTL");
    assert!(next(&mut m, 0), "the TTL back");
    assert!(next(&mut m, 6), "the SECONDARY's check: 93%");
    assert!(next(&mut m, 7), "Route 53 times out");
    assert!(next(&mut m, 8), "the error's text");
    assert!(!next(&mut m, 8));
    let moved = Observation::Route53 {
        record: 0,
        at: at(11.0),
        result: Ok(R53Reading {
            sets: vec![
                r53_set("PRIMARY", "10.0.1.101", Ok(16), 60),
                r53_set("SECONDARY", "10.0.2.100", Ok(16), 60),
            ],
        }),
    };
    assert!(shows(&mut m, moved), "a record set's values");
}

#[test]
fn rds_at_rest_draws_nothing_and_each_change_on_screen_is_shown() {
    let mut m = settled(PLAIN);
    for s in 0..5 {
        let secs = 3.0 + f64::from(s);
        assert!(!redraws(&mut m, Msg::Observed(reading(Op::Rds(1), secs))));
    }
    let next = |m: &mut Model, v| shows(m, reading(Op::Rds(v), 10.0));
    assert!(next(&mut m, 2), "a newer datapoint, its time on screen");
    assert!(next(&mut m, 3), "lag 50 s, over max-lag");
    assert!(next(&mut m, 4), "no lag data");
    assert!(next(&mut m, 5), "status modifying");
    assert!(next(&mut m, 6), "credentials expired");
    assert!(!next(&mut m, 6));
    assert!(next(&mut m, 7), "instances not found");
    let lag = |value| {
        Ok(RdsReading {
            instances: vec![Ok(rds_instance(
                "ledger-a",
                RdsRole::ReadReplica {
                    source: "ledger-b".into(),
                },
                "available",
                Some(LagReading {
                    metric: LagMetric::ReplicaLag,
                    latest: Ok(Some(Datapoint { value, at: at(0.0) })),
                }),
            ))],
            clusters: vec![],
        })
    };
    let rds_at = |secs, value| Observation::Rds {
        source: 0,
        at: at(secs),
        result: lag(value),
    };
    assert!(shows(&mut m, rds_at(11.0, 1.0)));
    assert!(shows(&mut m, rds_at(12.0, 1.5)), "lag 1 s -> 1.5 s");
}

#[test]
fn cloudwatch_at_rest_draws_nothing_and_each_change_on_screen_is_shown() {
    let mut m = settled(PLAIN);
    for s in 0..5 {
        let secs = 3.0 + f64::from(s);
        assert!(!redraws(
            &mut m,
            Msg::Observed(reading(Op::CloudWatch(1), secs))
        ));
    }
    let next = |m: &mut Model, v| shows(m, reading(Op::CloudWatch(v), 10.0));
    assert!(next(&mut m, 2), "100 -> 99.5, OK both");
    assert!(next(&mut m, 3), "85: CRIT");
    assert!(next(&mut m, 4), "no data");
    assert!(next(&mut m, 5), "a timeout");
    assert!(next(&mut m, 6), "its text");
    assert!(!next(&mut m, 6));
    assert!(next(&mut m, 0), "answering again");
    assert!(next(&mut m, 7), "a newer datapoint of the same value");
}

#[test]
fn alarm_and_health_changes_on_screen_are_shown() {
    let mut m = settled(PLAIN);
    assert!(!shows(&mut m, reading(Op::Alarm(1), 3.0)));
    assert!(shows(&mut m, reading(Op::Alarm(3), 4.0)));
    assert!(
        shows(&mut m, reading(Op::Alarm(4), 5.0)),
        "the error's text"
    );
    // A pending check's row counts its failures: "fail 1/3", "fail 2/3".
    let mut m = model(PLAIN);
    let fail = |secs| reading(Op::Probe(0, 2), secs);
    assert!(shows(&mut m, fail(1.0)));
    assert!(shows(&mut m, fail(2.0)), "fail 1/3 -> fail 2/3");
}

// ---- what the clock moves ---------------------------------------------------------------------

/// "TTL 5 s left" counts down each second to "past their TTL", then only the clock ticks.
#[test]
fn route53_ttl_left_is_redrawn_each_second_until_it_runs_out() {
    let mut m = settled(PLAIN);
    // Every source stale first (one edge each), so that the ticks below change nothing else.
    settle(&mut m, Msg::Tick(at(200.0)));
    let short = |resolver| Observation::Dns {
        record: 0,
        resolver,
        at: at(200.0),
        answer: records("10.0.1.100", 5),
    };
    settle(&mut m, Msg::Observed(short(0)));
    settle(&mut m, Msg::Observed(short(1)));
    settle(&mut m, Msg::Observed(reading(Op::Route53(0, 3), 200.0)));
    let screen = text(&frames(&m)[1], 0);
    assert!(screen.contains("TTL 5 s left"), "{screen}");
    for s in 201..=205 {
        assert!(redraws(&mut m, Msg::Tick(at(f64::from(s)))), "tick at {s}s");
    }
    let screen = text(&frames(&m)[1], 0);
    assert!(screen.contains("past their TTL"), "{screen}");
    m.ui.dirty = false;
    m.ui.clock_dirty = false;
    update(&mut m, Msg::Tick(at(206.0)));
    assert!(!m.ui.dirty && m.ui.clock_dirty, "then the clock alone");
}

/// The plan's evidence may read the clock ("40s old"): with the run pane open, each second is
/// a whole frame; closed, the clock alone.
#[test]
fn the_run_pane_is_redrawn_each_second() {
    let mut m = settled(PLAIN);
    // Every source stale first (one edge each), so that the ticks below change nothing else.
    settle(&mut m, Msg::Tick(at(200.0)));
    m.ui.dirty = false;
    m.ui.clock_dirty = false;
    update(&mut m, Msg::Tick(at(201.0)));
    assert!(!m.ui.dirty && m.ui.clock_dirty);
    m.runs.plan = Some(0);
    assert!(redraws(&mut m, Msg::Tick(at(202.0))));
    assert!(!redraws(&mut m, Msg::Tick(at(202.5))), "within the second");
}

// ---- the shipped config at rest ---------------------------------------------------------------

/// The shipped config.toml at rest for a minute: its checks probed, its members read each
/// second, its resolvers every two, the clock ticking. Only the sparklines moving to their next
/// slot (every 30 s) need a whole frame; the rest of the time, the clock's line alone.
#[test]
fn an_idle_console_on_the_shipped_config_draws_little_but_its_clock() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml");
    let text = std::fs::read_to_string(&path).expect("config.toml");
    let config = failover_console::config::from_str(&text, &path).expect("config.toml is valid");
    assert!(config.sparklines);
    let view = View {
        theme: Theme::load("dark").expect("the dark theme"),
        ascii: false,
    };
    let mut m = Model::new(Arc::new(config), Mode::Live, "alice@ops".into(), view, T0);
    m.recorder = true;
    let (mut frames, mut readings, mut clock_only) = (0, 0, 0);
    // Twenty seconds to settle (db-b-port, probed every 10 s, is healthy at its second probe),
    // then a minute.
    for tenth in 0..800 {
        let secs = f64::from(tenth) / 10.0;
        let mut due = Vec::new();
        if tenth % 10 == 0 {
            due.extend([Op::Probe(0, 0), Op::Probe(1, 0)]);
            due.extend([Op::Postgres(0, 0), Op::Postgres(1, 0)]);
        }
        if tenth % 20 == 5 {
            due.extend([Op::Dns(0, 0), Op::Dns(1, 0)]);
        }
        if tenth % 100 == 3 {
            due.push(Op::Probe(2, 0));
        }
        for op in due {
            let mut o = reading(op, secs);
            if let Observation::Probe { check, .. } = &mut o {
                // db-b-port is the third check (`Op::Probe` picks one of two).
                *check = if matches!(op, Op::Probe(2, _)) {
                    2
                } else {
                    *check
                };
            }
            let drew = redraws(&mut m, Msg::Observed(o));
            if tenth >= 200 {
                readings += 1;
                frames += usize::from(drew);
            }
        }
        if tenth % 5 == 0 {
            m.ui.dirty = false;
            m.ui.clock_dirty = false;
            settle(&mut m, Msg::Tick(at(secs)));
            if tenth >= 200 {
                assert!(!m.ui.dirty, "a tick at {secs}s asked for a whole frame");
                clock_only += usize::from(m.ui.clock_dirty);
            }
        }
    }
    assert_eq!(readings, 60 * 4 + 30 * 2 + 6);
    assert_eq!(clock_only, 60);
    // 30 s and 60 s: the sparklines' next slot (a reading in it draws them once).
    assert!(
        frames <= 2,
        "{frames} of {readings} readings drew a whole frame"
    );
}
