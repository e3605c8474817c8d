//! A Patroni cluster on screen and on the timeline, from readings fed through `update`: the
//! healthy pair, a replica over the limit, a paused cluster with a member's REST API down, the
//! members disagreeing about the leader, and no member answering. Text snapshots at 80x24 and
//! 160x48.

#[path = "common/fixture.rs"]
mod fixture;
#[path = "common/screen.rs"]
mod screen;

use fixture::{apply, snapshot_both};
use screen::render;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use failover_core::app::{Mode, Model, Msg};
use failover_core::kinds::patroni::{ClusterView, HistoryEntry, Lag, Member, NodeView, Reading};
use failover_core::kinds::{Observation, health::ProbeOutcome};
use failover_core::theme::{Theme, View};
use failover_core::timeline::Entry;
use time::OffsetDateTime;
use time::macros::datetime;

const CONFIG: &str = r#"
[console]
title = "lab (Patroni): site A / site B"

[sites.primary]
label = "site A"
[sites.secondary]
label = "site B"

[[health]]
name = "pg-p1"
site = "primary"
tcp = "127.0.0.1:54331"
[[health]]
name = "pg-p2"
site = "secondary"
tcp = "127.0.0.1:54332"

[[database]]
name = "lab"
kind = "patroni"
members = ["http://127.0.0.1:18008", "http://127.0.0.1:18009"]
sites = { p1 = "primary", p2 = "secondary" }
"#;

const T0: OffsetDateTime = datetime!(2026-12-01 03:10:00 UTC);

fn at(secs: f64) -> OffsetDateTime {
    fixture::after(T0, secs)
}

fn member(name: &str, role: &str, state: &str, lag: Option<Lag>) -> Member {
    Member {
        name: name.into(),
        role: role.into(),
        state: state.into(),
        api_url: Some(format!(
            "http://127.0.0.1:{}/patroni",
            if name == "p1" { 18008 } else { 18009 }
        )),
        host: Some("127.0.0.1".into()),
        port: Some(if name == "p1" { 54331 } else { 54332 }),
        timeline: Some(3),
        lag,
        receive_lag: lag,
        replay_lag: lag,
        nofailover: false,
        noloadbalance: false,
        pending_restart: false,
    }
}

fn node(name: &str, role: &str) -> Result<NodeView, String> {
    Ok(NodeView {
        name: Some(name.into()),
        role: role.into(),
        state: "running".into(),
        timeline: Some(3),
        replication_state: (role == "replica").then(|| "streaming".into()),
    })
}

fn history() -> Vec<HistoryEntry> {
    vec![HistoryEntry {
        timeline: 2,
        lsn: 0x3000_00A0,
        reason: "no recovery target specified".into(),
        at: Some("2026-11-30T22:14:03+00:00".into()),
        new_leader: Some("p1".into()),
    }]
}

fn reading(members: Vec<Member>, paused: bool) -> Reading {
    Reading {
        nodes: vec![node("p1", "primary"), node("p2", "replica")],
        cluster: Ok((
            0,
            ClusterView {
                members,
                paused,
                scheduled_switchover: None,
            },
        )),
        history: Some(history()),
        max_lag_on_failover: Some(1_048_576),
    }
}

fn observe(m: &mut Model, secs: f64, reading: Reading) -> Vec<Entry> {
    apply(
        m,
        Msg::Observed(Observation::Patroni {
            cluster: 0,
            at: at(secs),
            reading,
        }),
    )
}

fn pair(replica_lag: Lag) -> Vec<Member> {
    vec![
        member("p1", "leader", "running", None),
        member("p2", "replica", "streaming", Some(replica_lag)),
    ]
}

fn healthy() -> Model {
    let config = failover_console::config::from_str(CONFIG, Path::new("test.toml")).unwrap();
    let view = View {
        theme: Theme::load("dark").unwrap(),
        ascii: false,
    };
    let mut m = Model::new(Arc::new(config), Mode::Live, "alice@ops".into(), view, T0);
    m.recorder = true;
    for s in [0.5, 1.0] {
        for check in [0, 1] {
            apply(
                &mut m,
                Msg::Observed(Observation::Probe {
                    check,
                    at: at(s),
                    outcome: ProbeOutcome {
                        ok: true,
                        latency: Duration::from_micros(400),
                        detail: "connected".into(),
                    },
                }),
            );
        }
    }
    observe(&mut m, 1.0, reading(pair(Lag::Bytes(0)), false));
    apply(&mut m, Msg::Tick(at(2.0)));
    m
}

fn messages(entries: &[Entry]) -> Vec<String> {
    entries
        .iter()
        .map(|e| format!("{} {}", e.source, e.message))
        .collect()
}

#[test]
fn healthy_pair() {
    let m = healthy();
    let screen = render(&m, 80, 24);
    assert!(
        screen.contains("patroni lab leader: p1 (site A)"),
        "{screen}"
    );
    assert!(screen.contains("lag 0 B"), "{screen}");
    snapshot_both!("patroni_healthy", &m);
}

#[test]
fn lag_is_exact_bytes_and_unknown_is_not_zero() {
    let mut m = healthy();
    let over = observe(&mut m, 3.0, reading(pair(Lag::Bytes(3_540_216)), false));
    assert_eq!(
        messages(&over),
        ["patroni/lab/p2 lag 3540216 B (3.4 MiB) over the limit of 1048576 B"]
    );
    let screen = render(&m, 160, 48);
    assert!(screen.contains("lag 3540216 B (3.4 MiB) OVER"), "{screen}");
    snapshot_both!("patroni_lagging", &m);

    let unknown = observe(&mut m, 4.0, reading(pair(Lag::Unknown), false));
    assert!(
        unknown.is_empty(),
        "over → unknown is no new edge: {unknown:?}"
    );
    let screen = render(&m, 160, 48);
    assert!(screen.contains("lag unknown"), "{screen}");
    assert!(!screen.contains("lag 0 B"), "{screen}");
    let back = observe(&mut m, 5.0, reading(pair(Lag::Bytes(10)), false));
    assert!(
        back.is_empty(),
        "unknown → within says nothing new: {back:?}"
    );
}

#[test]
fn paused_and_a_member_down() {
    let mut m = healthy();
    let mut r = reading(pair(Lag::Bytes(0)), true);
    r.nodes[1] = Err("127.0.0.1:18009: connection refused".into());
    r.cluster.as_mut().unwrap().1.members[1].state = "stopped".into();
    let edges = messages(&observe(&mut m, 3.0, r));
    assert!(
        edges.contains(&"patroni/lab PAUSED: maintenance mode, Patroni will not fail over".into()),
        "{edges:?}"
    );
    assert!(
        edges.contains(
            &"patroni/lab/p2 REST API unreachable: 127.0.0.1:18009: connection refused".into()
        ),
        "{edges:?}"
    );
    assert!(
        edges.contains(&"patroni/lab/p2 replica streaming → replica stopped".into()),
        "{edges:?}"
    );
    let screen = render(&m, 80, 24);
    assert!(screen.contains("PAUSED"), "{screen}");
    snapshot_both!("patroni_paused_member_down", &m);
}

#[test]
fn members_disagree_about_the_leader() {
    let mut m = healthy();
    let mut r = reading(pair(Lag::Bytes(0)), false);
    // p2 says it is the primary; /cluster (from p1) still says p1 leads.
    r.nodes[1] = node("p2", "primary");
    let edges = messages(&observe(&mut m, 3.0, r));
    assert_eq!(
        edges,
        [
            "patroni/lab MEMBERS DISAGREE ABOUT THE LEADER (DCS problem?): /cluster says leader p1, p2 says it leads"
        ]
    );
    let findings = failover_core::app::verdict::assess(&m);
    assert_eq!(
        failover_core::app::verdict::overall(&findings).label(),
        "CRITICAL"
    );
    snapshot_both!("patroni_disagree", &m);
}

#[test]
fn no_member_answers_keeps_the_last_picture_marked() {
    let mut m = healthy();
    let r = Reading {
        nodes: vec![
            Err("127.0.0.1:18008: connection refused".into()),
            Err("127.0.0.1:18009: connection refused".into()),
        ],
        cluster: Err("no member answers /cluster: 127.0.0.1:18008: connection refused; 127.0.0.1:18009: connection refused".into()),
        history: None,
        max_lag_on_failover: None,
    };
    let edges = messages(&observe(&mut m, 3.0, r));
    assert_eq!(
        edges.len(),
        1,
        "one edge for the cluster, none per member: {edges:?}"
    );
    assert!(
        edges[0].starts_with("patroni/lab NO MEMBER ANSWERS"),
        "{edges:?}"
    );
    let screen = render(&m, 160, 48);
    assert!(
        screen.contains("NO MEMBER ANSWERS (last answer 03:10:01)"),
        "{screen}"
    );
    snapshot_both!("patroni_no_answer", &m);
    let back = messages(&observe(&mut m, 4.0, reading(pair(Lag::Bytes(0)), false)));
    assert_eq!(back, ["patroni/lab cluster readable, leader p1"]);
}

#[test]
fn a_switchover_is_a_leader_edge_and_a_history_line() {
    let mut m = healthy();
    let mut r = reading(
        vec![
            member("p1", "replica", "streaming", Some(Lag::Bytes(0))),
            member("p2", "leader", "running", None),
        ],
        false,
    );
    r.nodes = vec![node("p1", "replica"), node("p2", "primary")];
    let mut h = history();
    h.push(HistoryEntry {
        timeline: 3,
        lsn: 0x3000_0230,
        reason: "no recovery target specified".into(),
        at: Some("2026-12-01T03:10:02+00:00".into()),
        new_leader: Some("p2".into()),
    });
    r.history = Some(h);
    let edges = messages(&observe(&mut m, 3.0, r));
    assert!(
        edges.contains(&"patroni/lab leader p1 (site A) → p2 (site B)".into()),
        "{edges:?}"
    );
    assert!(
        edges.contains(&"patroni/lab history: timeline 3 ended at LSN 0/30000230, new leader p2 (no recovery target specified)".into()),
        "{edges:?}"
    );
    let screen = render(&m, 80, 24);
    assert!(screen.contains("serving site B"), "{screen}");
}

#[test]
fn stale_once() {
    let mut m = healthy();
    let first = apply(&mut m, Msg::Tick(at(30.0)));
    assert_eq!(first.len(), 3, "{:?}", messages(&first));
    assert!(
        messages(&first)
            .iter()
            .any(|e| e.starts_with("patroni/lab stale"))
    );
    let again = apply(&mut m, Msg::Tick(at(31.0)));
    assert!(again.is_empty(), "{:?}", messages(&again));
}

#[test]
fn a_member_gone_from_the_cluster_stays_on_screen() {
    let mut m = healthy();
    // p2's Patroni stopped long enough ago that its key expired: /cluster lists p1 alone.
    let mut r = reading(vec![member("p1", "leader", "running", None)], false);
    r.nodes[1] = Err("127.0.0.1:18009: connection refused".into());
    let edges = messages(&observe(&mut m, 3.0, r));
    assert_eq!(
        edges,
        ["patroni/lab/p2 gone from /cluster (Patroni stopped or its key expired)"]
    );
    let screen = render(&m, 80, 24);
    let row = |words: &[&str]| screen.lines().any(|l| words.iter().all(|w| l.contains(w)));
    assert!(row(&["p2 ", "missing", "not in /cluster"]), "{screen}");
    assert!(
        row(&["127.0.0.1:18009 missing", "REST API unreachable"]),
        "{screen}"
    );
    let findings = failover_core::app::verdict::assess(&m);
    let texts: Vec<&str> = findings.iter().map(|f| f.text.as_str()).collect();
    assert!(
        texts.contains(&"patroni/lab/p2: not in /cluster"),
        "{texts:?}"
    );
    assert!(
        texts.contains(&"patroni/lab/127.0.0.1:18009: REST API unreachable: 127.0.0.1:18009: connection refused"),
        "{texts:?}"
    );
    snapshot_both!("patroni_member_gone", &m);
}

#[test]
fn an_unreachable_api_is_one_edge_whatever_its_error_says_next() {
    let mut m = healthy();
    let down = |e: &str| {
        let mut r = reading(pair(Lag::Bytes(0)), false);
        r.nodes[1] = Err(e.into());
        r
    };
    let first = messages(&observe(
        &mut m,
        3.0,
        down("127.0.0.1:18009: timeout after 1.0s"),
    ));
    assert_eq!(
        first,
        ["patroni/lab/p2 REST API unreachable: 127.0.0.1:18009: timeout after 1.0s"]
    );
    let next = messages(&observe(
        &mut m,
        4.0,
        down("127.0.0.1:18009: connection refused"),
    ));
    assert!(next.is_empty(), "{next:?}");
    let screen = render(&m, 160, 48);
    assert!(
        screen.contains("REST API unreachable: 127.0.0.1:18009: connection refused"),
        "{screen}"
    );
    let back = messages(&observe(&mut m, 5.0, reading(pair(Lag::Bytes(0)), false)));
    assert_eq!(back, ["patroni/lab/p2 REST API answering again"]);
}
