//! The PostgreSQL member poll on its kept connection (issue 18): a reading is one prepared
//! statement, prepared once per connection. A server restart closes the connection; the next
//! poll connects again, prepares again, and reads the same figures as before.
// Needs the lab (`scripts/lab up`): run by `scripts/test`, which turns the feature on.
#![cfg(feature = "lab")]

mod common;

use std::time::Duration;

use common::*;
use failover_console::kinds::postgres::source::Poller;
use failover_core::kinds::Observation;
use failover_core::kinds::postgres::PgSnapshot;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;

const PRIMARY: usize = 0;
const REPLICA: usize = 1;

/// The figures that stay across a restart (LSNs and lags move on).
#[derive(Debug, PartialEq)]
struct Figures {
    in_recovery: bool,
    timeline: Option<u32>,
    server_version: String,
    cluster_name: String,
    standbys: Vec<(String, String)>,
    replay_paused: Option<bool>,
    receiver_status: Option<Option<String>>,
    has_lsn: bool,
}

fn figures(s: &PgSnapshot) -> Figures {
    Figures {
        in_recovery: s.in_recovery,
        timeline: s.timeline,
        server_version: s.server_version.clone(),
        cluster_name: s.cluster_name.clone(),
        standbys: s.primary.as_ref().map_or_else(Vec::new, |p| {
            p.standbys
                .iter()
                .map(|r| (r.application_name.clone(), r.state.clone()))
                .collect()
        }),
        replay_paused: s.replica.as_ref().map(|r| r.replay_paused),
        receiver_status: s.replica.as_ref().map(|r| r.receiver_status.clone()),
        has_lsn: s
            .primary
            .as_ref()
            .map(|p| p.current_lsn.0 > 0)
            .unwrap_or(false)
            || s.replica.as_ref().is_some_and(|r| r.replay_lsn.is_some()),
    }
}

/// The next reading of `member` that `want` accepts, within `secs`; panics with the last
/// reading seen otherwise.
async fn next(
    rx: &mut mpsc::Receiver<Observation>,
    member: usize,
    secs: u64,
    what: &str,
    want: impl Fn(&Result<PgSnapshot, String>) -> bool,
) -> Result<PgSnapshot, String> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut last = None;
    loop {
        let o = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .unwrap_or_else(|_| panic!("{what}: not within {secs} s; last reading {last:?}"))
            .expect("pollers gone");
        if let Observation::Postgres {
            member: m, result, ..
        } = o
        {
            if m != member {
                continue;
            }
            if want(&result) {
                return result;
            }
            last = Some(result);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kept_connection_reads_the_same_figures_after_a_server_restart() {
    let lab = Lab::begin().await;
    let db = &lab.config.kinds.postgres[0];
    let (tx, mut rx) = mpsc::channel(256);
    let mut tasks = JoinSet::new();
    for (m, member) in db.members.iter().enumerate() {
        let poller = Poller::new(0, m, member.clone(), db.timeout);
        tasks.spawn(poller.run(Duration::from_millis(100), tx.clone()));
    }
    let streaming = |r: &Result<PgSnapshot, String>| {
        r.as_ref().is_ok_and(|s| {
            s.primary
                .as_ref()
                .is_some_and(|p| p.standbys.iter().any(|r| r.state == "streaming"))
        })
    };
    let primary = next(
        &mut rx,
        PRIMARY,
        20,
        "a primary with a streaming standby",
        streaming,
    )
    .await
    .unwrap();
    let replica = next(&mut rx, REPLICA, 20, "b a streaming replica", |r| {
        r.as_ref().is_ok_and(|s| {
            s.replica
                .as_ref()
                .is_some_and(|r| r.receiver_status.as_deref() == Some("streaming"))
        })
    })
    .await
    .unwrap();
    let (before_a, before_b) = (figures(&primary), figures(&replica));
    assert!(!before_a.in_recovery && before_a.has_lsn && before_a.timeline.is_some());
    assert!(before_b.in_recovery && before_b.has_lsn && before_b.timeline.is_some());
    assert_eq!(before_b.replay_paused, Some(false));
    // Several readings on the same connection, each the same figures.
    for _ in 0..3 {
        let again = next(&mut rx, PRIMARY, 5, "a again", |r| r.is_ok()).await;
        assert_eq!(
            figures(&again.unwrap()).server_version,
            before_a.server_version
        );
    }

    lab.run(&["pg-stop", "a"]).await;
    let failed = next(&mut rx, PRIMARY, 20, "a unreachable", |r| r.is_err()).await;
    let error = failed.unwrap_err();
    assert!(
        !error.is_empty() && !error.contains("prepared statement"),
        "a stopped server's reading is a plain error: {error:?}"
    );
    lab.run(&["pg-start", "a"]).await;
    let after = next(
        &mut rx,
        PRIMARY,
        30,
        "a primary again, b streaming",
        streaming,
    )
    .await
    .unwrap();
    assert_eq!(
        figures(&after),
        before_a,
        "a's figures after its restart (a new connection, its statement prepared again)"
    );
    let replica = next(&mut rx, REPLICA, 30, "b streaming again", |r| {
        r.as_ref().is_ok_and(|s| {
            s.replica
                .as_ref()
                .is_some_and(|r| r.receiver_status.as_deref() == Some("streaming"))
        })
    })
    .await
    .unwrap();
    assert_eq!(figures(&replica), before_b, "b's figures after a's restart");
    tasks.abort_all();
}
