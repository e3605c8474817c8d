//! History on screen: the sparklines that end each row at 120 columns and wider (gaps where
//! nothing was known), for health checks, PostgreSQL and Patroni members and RDS instances, the
//! detail view that Enter opens, and an idle console that redraws nothing while they are shown.

#[path = "common/fixture.rs"]
mod fixture;
#[path = "common/screen.rs"]
mod screen;

use fixture::apply;
use screen::render;

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use failover_core::app::model::{Overlay, Pane};
use failover_core::app::{Mode, Model, Msg, update};
use failover_core::history::Key;
use failover_core::kinds::cloudwatch::Datapoint;
use failover_core::kinds::patroni::{
    ClusterView, Lag as PatroniLag, Member as PatroniMember, Reading as PatroniReading,
};
use failover_core::kinds::rds::{LagMetric, LagReading, RdsInstance, RdsReading, RdsRole};
use failover_core::kinds::{
    Observation,
    health::ProbeOutcome,
    postgres::{Lsn, PgSnapshot, PrimaryReading, ReplicaReading, StandbyRow},
};
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

[[health]]
name = "api-b"
site = "secondary"
http = "http://127.0.0.1:18082/healthz"
interval = "1s"
timeout = "500ms"

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
dsn = "host=127.0.0.1 port=54321 user=postgres dbname=postgres"
[[database.member]]
site = "secondary"
dsn = "host=127.0.0.1 port=54322 user=postgres dbname=postgres"

[[dns]]
name = "api.failover.test."
type = "A"
resolvers = ["127.0.0.1:5353", "127.0.0.1:5354"]
interval = "2s"
[dns.answers]
primary = ["10.0.1.100"]
secondary = ["10.0.2.100"]
"#;

const T0: OffsetDateTime = datetime!(2026-03-01 14:30:00 UTC);

fn at(secs: f64) -> OffsetDateTime {
    fixture::after(T0, secs)
}

fn model_with(text: &str, ascii: bool) -> Model {
    fixture::model(text, Mode::Live, "alice@ops", fixture::dark(ascii), T0)
}

fn probe(m: &mut Model, check: usize, secs: f64, ok: bool, detail: &str, ms: u64) {
    let outcome = ProbeOutcome {
        ok,
        latency: Duration::from_millis(ms),
        detail: detail.into(),
    };
    apply(
        m,
        Msg::Observed(Observation::Probe {
            check,
            at: at(secs),
            outcome,
        }),
    );
}

fn pg(m: &mut Model, member: usize, secs: f64, result: Result<PgSnapshot, String>) {
    apply(
        m,
        Msg::Observed(Observation::Postgres {
            db: 0,
            member,
            at: at(secs),
            result,
        }),
    );
}

fn key(m: &mut Model, code: KeyCode) {
    apply(m, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn primary(timeline: u32, lag: u64, replay_lag: Duration) -> PgSnapshot {
    PgSnapshot {
        in_recovery: false,
        timeline: Some(timeline),
        server_version: "17.2".into(),
        cluster_name: "site_a".into(),
        primary: Some(PrimaryReading {
            current_lsn: Lsn(0x16_B374_D848),
            standbys: vec![StandbyRow {
                application_name: "site_b".into(),
                state: "streaming".into(),
                lag_bytes: Some(lag),
                replay_lag: Some(replay_lag),
            }],
        }),
        replica: None,
    }
}

fn replica(paused: bool, since_last_replay: Duration) -> PgSnapshot {
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
            receiver_status: Some("streaming".into()),
            since_last_replay: Some(since_last_replay),
        }),
    }
}

/// Ten minutes, one reading every 5 s: api-a slows down from 20 to 200 ms, then refuses
/// connections for its last minute; api-b answers in 4 ms but was not heard from between
/// minutes 3 and 5 (a gap); db-b-port is never heard from; the replica's lag grows from 0 to
/// 8 MiB, and for a minute in the middle the replica is unreachable (lag unknown).
fn ten_minutes(ascii: bool) -> Model {
    let mut m = model_with(CONFIG, ascii);
    let mut s = 0.0;
    while s < 600.0 {
        let t = s / 600.0;
        if s < 540.0 {
            probe(&mut m, 0, s, true, "200", 20 + (180.0 * t) as u64);
        } else {
            probe(&mut m, 0, s, false, "connection refused", 1);
        }
        if !(360.0..480.0).contains(&s) {
            probe(&mut m, 1, s + 0.1, true, "200", 4);
        }
        let lag = (8.0 * 1024.0 * 1024.0 * t) as u64;
        pg(
            &mut m,
            0,
            s + 0.3,
            Ok(primary(1, lag, Duration::from_secs_f64(t * 20.0))),
        );
        if (300.0..360.0).contains(&s) {
            pg(&mut m, 1, s + 0.4, Err("connection refused".into()));
        } else {
            pg(
                &mut m,
                1,
                s + 0.4,
                Ok(replica(false, Duration::from_secs(2))),
            );
        }
        s += 5.0;
    }
    m.now = at(600.0);
    m
}

const SIZES: [(u16, u16); 3] = [(80, 24), (120, 40), (160, 48)];

#[test]
fn sparklines_end_each_row_at_120_columns_and_up_with_gaps() {
    let m = ten_minutes(false);
    for (w, h) in SIZES {
        insta::assert_snapshot!(format!("sparklines_{w}x{h}"), render(&m, w, h));
    }
    let narrow = render(&m, 80, 24);
    assert!(
        !narrow.contains('█'),
        "no sparkline under 120 columns:\n{narrow}"
    );
    let wide = render(&m, 160, 48);
    // The last 10 columns inside the Health pane's row.
    let spark = |name: &str| -> String {
        let row = wide
            .lines()
            .find(|l| l.starts_with('┃') && l.contains(name))
            .unwrap_or_else(|| panic!("{name} row missing:\n{wide}"));
        let inside: Vec<char> = row.split('┃').nth(1).unwrap_or_default().chars().collect();
        inside[inside.len() - 10..].iter().collect()
    };
    // Whole 30 s slots up to the newest sample's (14:39:30): api-a refused connections from
    // 14:39:00, so its last cell is a gap, after bars that grew.
    assert_eq!(spark("api-a"), "▅▆▆▆▇▇▇██ ");
    // api-b was not heard from between minutes 6 and 8: gaps in the middle.
    assert_eq!(
        spark("api-b"),
        "███    ███",
        "4 ms throughout, nothing from minute 6 to 8"
    );
    // db-b-port never answered: no bar at all, not a row of zeros.
    assert_eq!(spark("db-b-port"), " ".repeat(10));
}

#[test]
fn the_ascii_view_draws_sparklines_in_ascii() {
    let m = ten_minutes(true);
    let screen = render(&m, 160, 48);
    insta::assert_snapshot!("sparklines_ascii_160x48", screen);
    assert!(screen.is_ascii(), "{screen}");
}

#[test]
fn sparklines_can_be_turned_off() {
    let text = CONFIG.replace("[console]\n", "[console]\nsparklines = false\n");
    let mut m = model_with(&text, false);
    let on = ten_minutes(false);
    // The same readings, into a console with sparklines off.
    let mut s = 0.0;
    while s < 600.0 {
        probe(&mut m, 0, s, true, "200", 20);
        s += 5.0;
    }
    m.now = at(600.0);
    let screen = render(&m, 160, 48);
    assert!(!screen.contains('█') && !screen.contains('▁'), "{screen}");
    assert!(render(&on, 160, 48).contains('█'));
}

#[test]
fn enter_opens_the_detail_of_the_top_row_and_esc_closes_it() {
    let mut m = ten_minutes(false);
    key(&mut m, KeyCode::Enter);
    assert!(matches!(m.ui.overlay, Overlay::Detail(Key::Health(0))));
    for (w, h) in [(80, 24), (160, 48)] {
        insta::assert_snapshot!(format!("detail_health_{w}x{h}"), render(&m, w, h));
    }
    let screen = render(&m, 160, 48);
    for want in [
        "-15m",
        "-10m",
        "-5m",
        "now",
        "ms",
        "FAIL connection refused",
        "http://127.0.0.1:18081/healthz",
        "unhealthy after 3 failed",
    ] {
        assert!(screen.contains(want), "{want:?} missing:\n{screen}");
    }
    key(&mut m, KeyCode::Esc);
    assert!(matches!(m.ui.overlay, Overlay::None));

    // The replica: two rows down in the Replication pane (its heading, the primary).
    key(&mut m, KeyCode::Tab);
    assert_eq!(m.ui.focus, Pane::Replication);
    key(&mut m, KeyCode::Char('j'));
    key(&mut m, KeyCode::Char('j'));
    key(&mut m, KeyCode::Enter);
    assert!(matches!(
        m.ui.overlay,
        Overlay::Detail(Key::Postgres { db: 0, member: 1 })
    ));
    insta::assert_snapshot!("detail_replica_160x48", render(&m, 160, 48));
    insta::assert_snapshot!("detail_replica_80x24", render(&m, 80, 24));
    let screen = render(&m, 160, 48);
    for want in ["MiB", "127.0.0.1:54322/postgres", "lag 1.0 MiB / 30 s"] {
        assert!(screen.contains(want), "{want:?} missing:\n{screen}");
    }
    assert!(!screen.contains("user"), "no DSN in the detail:\n{screen}");
    key(&mut m, KeyCode::Esc);

    // On the database's heading there is no history: a flash says so, nothing opens.
    key(&mut m, KeyCode::Char('g'));
    key(&mut m, KeyCode::Enter);
    assert!(matches!(m.ui.overlay, Overlay::None));
    assert!(m.ui.flash.is_some());
}

#[test]
fn the_ascii_detail_view_is_ascii() {
    let mut m = ten_minutes(true);
    key(&mut m, KeyCode::Enter);
    let screen = render(&m, 80, 24);
    insta::assert_snapshot!("detail_health_ascii_80x24", screen);
    assert!(screen.is_ascii(), "{screen}");
}

#[test]
fn an_idle_tick_redraws_nothing_while_sparklines_are_shown() {
    let mut m = ten_minutes(false);
    assert!(render(&m, 160, 48).contains('█'));
    // The first tick marks every source stale (no reading for 5 s): its edges are drawn.
    apply(&mut m, Msg::Tick(at(600.0)));
    m.ui.dirty = false;
    m.ui.clock_dirty = false;
    // Ticks for two minutes with no reading: the sparklines' slots end at their last
    // sample, so nothing moves but the clock.
    for tenth in 1..1200 {
        update(&mut m, Msg::Tick(at(600.0 + tenth as f64 / 10.0)));
        assert!(!m.ui.dirty, "tick {tenth} marked the panes dirty");
    }
    assert!(m.ui.clock_dirty);
}

#[test]
fn a_probe_inside_the_current_slot_redraws_nothing_a_new_slot_does() {
    let mut m = ten_minutes(false);
    let probe_at = |m: &mut Model, secs: f64, ms: u64| {
        m.ui.dirty = false;
        update(
            m,
            Msg::Observed(Observation::Probe {
                check: 1,
                at: at(secs),
                outcome: ProbeOutcome {
                    ok: true,
                    latency: Duration::from_millis(ms),
                    detail: "200".into(),
                },
            }),
        );
        m.ui.dirty
    };
    // Settle api-b's row (its state moves with its first probes after the gap).
    for s in [600.1, 601.1, 602.1] {
        probe_at(&mut m, s, 4);
    }
    let before = render(&m, 160, 48);
    // 4 ms like the ones before, then a slow one: both inside the slot being filled, which
    // the sparklines do not show yet.
    assert!(!probe_at(&mut m, 603.1, 4));
    assert!(!probe_at(&mut m, 604.1, 400));
    assert_eq!(render(&m, 160, 48), before);
    // A sample in the next slot: every sparkline moves one cell, once.
    assert!(probe_at(&mut m, 630.1, 4));
    assert_ne!(render(&m, 160, 48), before);
    assert!(!probe_at(&mut m, 631.1, 4));
}

const REPLICAS: &str = r#"
[console]
title = "lab: site A / site B"

[sites.primary]
label = "site A"
[sites.secondary]
label = "site B"

[aws]
region = "us-east-1"
profile = "ops"

[[health]]
name = "api-a"
site = "primary"
http = "http://127.0.0.1:18081/healthz"

[[database]]
name = "lab"
kind = "patroni"
members = ["http://127.0.0.1:18008", "http://127.0.0.1:18009"]
sites = { p1 = "primary", p2 = "secondary" }
user = "patroni"
password-env = "PATRONI_PASSWORD"
interval = "10s"

[[rds]]
name = "orders"
instances = { primary = "orders-a", secondary = "orders-b" }
max-lag = "30s"
interval = "10s"
"#;

fn patroni_member(name: &str, lag: Option<PatroniLag>) -> PatroniMember {
    let port = if name == "p1" { 18008 } else { 18009 };
    PatroniMember {
        name: name.into(),
        role: if lag.is_none() { "leader" } else { "replica" }.into(),
        state: if lag.is_none() {
            "running"
        } else {
            "streaming"
        }
        .into(),
        api_url: Some(format!("http://127.0.0.1:{port}/patroni")),
        host: Some("127.0.0.1".into()),
        port: Some(port - 18008 + 54331),
        timeline: Some(3),
        lag,
        receive_lag: lag,
        replay_lag: lag,
        nofailover: false,
        noloadbalance: false,
        pending_restart: false,
    }
}

fn patroni(m: &mut Model, secs: f64, cluster: Result<PatroniLag, String>) {
    let members = vec![
        patroni_member("p1", None),
        patroni_member("p2", Some(cluster.clone().unwrap_or(PatroniLag::Unknown))),
    ];
    let view = ClusterView {
        members,
        paused: false,
        scheduled_switchover: None,
    };
    apply(
        m,
        Msg::Observed(Observation::Patroni {
            cluster: 0,
            at: at(secs),
            reading: PatroniReading {
                nodes: Vec::new(),
                cluster: cluster.map(|_| (0, view)),
                history: None,
                max_lag_on_failover: Some(1_048_576),
            },
        }),
    );
}

fn rds(m: &mut Model, secs: f64, lag: Result<Option<f64>, String>) {
    let instance = |id: &str, role, lag| RdsInstance {
        id: id.into(),
        status: "available".into(),
        engine: "postgres".into(),
        availability_zone: Some("us-east-1a".into()),
        multi_az: false,
        role,
        lag,
    };
    let latest = lag.map(|v| {
        v.map(|value| Datapoint {
            value,
            at: at(secs - 40.0),
        })
    });
    apply(
        m,
        Msg::Observed(Observation::Rds {
            source: 0,
            at: at(secs),
            result: Ok(RdsReading {
                instances: vec![
                    Ok(instance(
                        "orders-a",
                        RdsRole::Primary {
                            replicas: vec!["orders-b".into()],
                        },
                        None,
                    )),
                    Ok(instance(
                        "orders-b",
                        RdsRole::ReadReplica {
                            source: "orders-a".into(),
                        },
                        Some(LagReading {
                            metric: LagMetric::ReplicaLag,
                            latest,
                        }),
                    )),
                ],
                clusters: Vec::new(),
            }),
        }),
    );
}

/// Ten minutes, a reading of each every 10 s: p2's lag grows from 0 to 4 MiB, Patroni calls
/// it unknown between minutes 4 and 5 and no member answers between minutes 6 and 7; orders-b's
/// ReplicaLag grows from 0 to 45 s, CloudWatch has no datapoint between minutes 4 and 5 and the
/// metric cannot be read between minutes 6 and 7.
fn ten_minutes_of_replicas() -> Model {
    let mut m = model_with(REPLICAS, false);
    let mut s = 0.0;
    while s < 600.0 {
        let t = s / 600.0;
        let (unknown, down) = ((240.0..300.0).contains(&s), (360.0..420.0).contains(&s));
        probe(&mut m, 0, s, true, "200", 20);
        let bytes = (4.0 * 1024.0 * 1024.0 * t) as u64;
        let cluster = match (unknown, down) {
            (_, true) => Err("connection refused".to_string()),
            (true, _) => Ok(PatroniLag::Unknown),
            _ => Ok(PatroniLag::Bytes(bytes)),
        };
        patroni(&mut m, s + 0.2, cluster);
        let lag = match (unknown, down) {
            (_, true) => Err("throttled: rate exceeded".to_string()),
            (true, _) => Ok(None),
            _ => Ok(Some((45.0 * t).round())),
        };
        rds(&mut m, s + 0.4, lag);
        s += 10.0;
    }
    m.now = at(600.0);
    m
}

#[test]
fn patroni_members_and_rds_instances_have_sparklines_with_gaps() {
    let m = ten_minutes_of_replicas();
    let screen = render(&m, 160, 48);
    insta::assert_snapshot!("replica_sparklines_160x48", screen);
    let spark = |name: &str| -> String {
        let row = screen
            .lines()
            .find(|l| l.starts_with('│') && l.contains(name))
            .unwrap_or_else(|| panic!("{name} row missing:\n{screen}"));
        let inside: Vec<char> = row.split('│').nth(1).unwrap_or_default().chars().collect();
        inside[inside.len() - 10..].iter().collect()
    };
    // Whole 30 s slots from 14:34:30 up to the newest sample's (14:39:30): unknown until
    // 14:35:00, unreadable from 14:36:00 to 14:37:00: gaps, between bars that grow.
    assert_eq!(spark("p2   replica"), " ▅▅  ▆▇▇██");
    assert_eq!(spark("orders-b  LAG"), " ▅▅  ▇▇▇██");
    // The leader and the primary have no lag: no bar at all, not a row of zeros.
    assert_eq!(spark("p1   leader"), " ".repeat(10));
    assert_eq!(spark("orders-a  replicas"), " ".repeat(10));
}

#[test]
fn enter_opens_the_detail_of_a_patroni_member_and_of_an_rds_instance() {
    let mut m = ten_minutes_of_replicas();
    key(&mut m, KeyCode::Tab);
    assert_eq!(m.ui.focus, Pane::Replication);
    // The cluster's heading, p1, then p2.
    key(&mut m, KeyCode::Char('j'));
    key(&mut m, KeyCode::Char('j'));
    key(&mut m, KeyCode::Enter);
    assert!(matches!(
        m.ui.overlay,
        Overlay::Detail(Key::Patroni {
            cluster: 0,
            member: 1
        })
    ));
    let screen = render(&m, 80, 24);
    insta::assert_snapshot!("detail_patroni_80x24", screen);
    for want in [
        "patroni lab p2",
        "MiB",
        "http://127.0.0.1:18009",
        "lag 1.0 MiB (maximum_lag_on_failover)",
    ] {
        assert!(screen.contains(want), "{want:?} missing:\n{screen}");
    }
    // The oldest of the last 20 results: no member answered.
    let wide = render(&m, 160, 48);
    assert!(
        wide.contains("14:36:50  FAIL /cluster unreadable: connection refused"),
        "{wide}"
    );
    assert!(!wide.contains("PATRONI_PASSWORD"), "{wide}");
    key(&mut m, KeyCode::Esc);

    // The source's heading, orders-a, then orders-b.
    for _ in 0..3 {
        key(&mut m, KeyCode::Char('j'));
    }
    key(&mut m, KeyCode::Enter);
    assert!(matches!(
        m.ui.overlay,
        Overlay::Detail(Key::Rds {
            source: 0,
            instance: 1
        })
    ));
    let screen = render(&m, 80, 24);
    insta::assert_snapshot!("detail_rds_80x24", screen);
    for want in ["rds orders orders-b", "lag (seconds)", "us-east-1"] {
        assert!(screen.contains(want), "{want:?} missing:\n{screen}");
    }
    let wide = render(&m, 160, 48);
    assert!(wide.contains("14:36:50  FAIL "), "{wide}");
    assert!(
        !wide.contains("profile"),
        "no AWS profile in the detail:\n{wide}"
    );
    key(&mut m, KeyCode::Esc);

    // On the source's heading there is no history: a flash says so.
    key(&mut m, KeyCode::Char('k'));
    key(&mut m, KeyCode::Char('k'));
    key(&mut m, KeyCode::Enter);
    assert!(matches!(m.ui.overlay, Overlay::None));
    assert!(m.ui.flash.is_some());
}
