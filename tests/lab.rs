//! Integration tests against the REAL lab (`scripts/lab`): PostgreSQL primary + replica, two BIND
//! servers and nginx health endpoints on 127.0.0.1. Each test changes the world with
//! `scripts/lab ...` and waits, with a deadline, for the console's state (the engine's model, the
//! journal, `status --json`) to follow.
//!
//! The lab is shared, so the tests are serialised by `LAB`; each one starts with
//! `scripts/lab reset` and resets again when it ends (pass or fail). Run with
//! `cargo test --test lab -- --test-threads=1` after `scripts/lab up` (or `scripts/test`).
// Needs the lab (`scripts/lab up`): run by `scripts/test`, which turns the feature on.
#![cfg(feature = "lab")]

mod common;

use std::collections::HashMap;
use std::time::Instant;

use common::*;
use failover_core::app::Model;
use failover_core::kinds::dns::DnsAnswer;
use failover_core::kinds::dns::{Match, RecordSite};
use failover_core::kinds::health::CheckStatus;
use failover_core::kinds::postgres::Role;
use failover_core::timeline::Entry;
use failover_core::timeline::Kind;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoint_503_turns_unhealthy_after_threshold_and_recovers() {
    let lab = Lab::begin().await;
    let mut engine = lab.engine().await;
    wait_normal(&mut engine).await;
    let failure_threshold = lab.config.kinds.health[API_A].failure_threshold;
    assert_eq!(
        failure_threshold, 3,
        "config.toml's api-a failure-threshold"
    );

    lab.run(&["http", "api-a", "down"]).await;
    // Every failed probe before the threshold leaves the check healthy. The wait sees the model
    // after each message (one probe's outcome is one message, and moves fail_run by one), so
    // each count from 1 to the threshold is seen, with the status it came with.
    let mut seen: Vec<(u32, CheckStatus)> = Vec::new();
    wait(&mut engine, "api-a unhealthy", |m| {
        let st = &m.kinds.health[API_A];
        if st.fail_run >= 1 && seen.last().is_none_or(|(n, _)| *n != st.fail_run) {
            seen.push((st.fail_run, st.status));
        }
        st.status == CheckStatus::Unhealthy
    })
    .await;
    let expected: Vec<(u32, CheckStatus)> = (1..failure_threshold)
        .map(|n| (n, CheckStatus::Healthy))
        .chain([(failure_threshold, CheckStatus::Unhealthy)])
        .collect();
    assert_eq!(
        seen,
        expected,
        "api-a's failed probes and its status after each (healthy until the threshold){}",
        dump(&engine.model)
    );
    let st = &engine.model.kinds.health[API_A];
    assert_eq!(
        st.fail_run,
        failure_threshold,
        "api-a went unhealthy after {} failures, not {failure_threshold}{}",
        st.fail_run,
        dump(&engine.model)
    );
    assert_eq!(
        st.last.as_ref().map(|o| o.detail.as_str()),
        Some("status 503 (expected 200)")
    );
    assert_eq!(
        engine.model.kinds.health[API_B].status,
        CheckStatus::Healthy,
        "api-b must not be affected{}",
        dump(&engine.model)
    );

    // Stays unhealthy (no flapping, no second edge) while still down: a few more probes.
    let probes_so_far = engine.model.kinds.health[API_A].fail_run;
    wait(&mut engine, "three more failed probes of api-a", |m| {
        m.kinds.health[API_A].fail_run >= probes_so_far + 3
    })
    .await;
    assert_eq!(
        engine.model.kinds.health[API_A].status,
        CheckStatus::Unhealthy
    );

    lab.run(&["http", "api-a", "up"]).await;
    wait(&mut engine, "api-a healthy again", |m| {
        m.kinds.health[API_A].status == CheckStatus::Healthy
    })
    .await;
    assert_eq!(
        engine.model.kinds.health[API_A].ok_run,
        lab.config.kinds.health[API_A].success_threshold
    );
    engine.shutdown("lab test done").await;

    let entries = lab.journal();
    assert_once(
        &entries,
        "health/api-a",
        "healthy → unhealthy after 3 failed: status 503 (expected 200)",
    );
    assert_once(&entries, "health/api-a", "unhealthy → healthy after 2 ok");
    assert_once(&entries, "health/api-a", "pending → healthy");
    assert_eq!(
        edges(&entries, "health/api-a", "").len(),
        3,
        "api-a edges\n{}",
        journal_text(&entries)
    );
    assert!(
        edges(&entries, "health/api-b", "unhealthy").is_empty(),
        "api-b never failed\n{}",
        journal_text(&entries)
    );
    let console: Vec<_> = entries.iter().filter(|e| e.kind == Kind::Console).collect();
    assert!(
        console
            .first()
            .is_some_and(|e| e.message.starts_with("started (LIVE")
                && e.operator.as_deref() == Some("lab-test")),
        "{}",
        journal_text(&entries)
    );
    assert!(
        console
            .last()
            .is_some_and(|e| e.message == "stopped: lab test done"),
        "{}",
        journal_text(&entries)
    );

    // The post-mortem export of this journal holds the edges.
    let (code, md, stderr) = lab
        .console(&["journal", "export", "--format", "markdown"])
        .await;
    assert_eq!(code, 0, "journal export failed: {stderr}");
    assert!(
        md.starts_with("# Incident timeline: orders: site A / site B"),
        "{md}"
    );
    assert!(
        md.contains(&format!("- Entries: {}", entries.len())),
        "{md}"
    );
    assert!(md.contains("- Operators: lab-test"), "{md}");
    for needle in [
        "| CRIT | health/api-a | healthy → unhealthy after 3 failed: status 503 (expected 200) |",
        "| OK | health/api-a | unhealthy → healthy after 2 ok (200) |",
    ] {
        assert_eq!(
            md.matches(needle).count(),
            1,
            "markdown export should hold {needle:?} once:\n{md}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_replay_and_writes_put_lag_over_limit() {
    let lab = Lab::begin().await;
    let limit = lab.config.kinds.postgres[0].max_lag_bytes;
    let mut engine = lab.engine().await;
    wait_normal(&mut engine).await;
    wait(&mut engine, "replica b within lag limits", |m| {
        m.kinds.postgres[0].members[NODE_B]
            .lag
            .as_ref()
            .is_some_and(|l| !l.over_limit)
    })
    .await;

    lab.run(&["pause-replay"]).await;
    wait(&mut engine, "b reports WAL replay paused", |m| {
        m.kinds.postgres[0].members[NODE_B].replay_paused() == Some(true)
    })
    .await;
    // ~5 MB of WAL that b receives but does not replay.
    lab.run(&["write", "5000"]).await;
    wait(&mut engine, "b's lag over the limit", |m| {
        m.kinds.postgres[0].members[NODE_B]
            .lag
            .as_ref()
            .is_some_and(|l| l.over_limit)
    })
    .await;
    let lag = engine.model.kinds.postgres[0].members[NODE_B]
        .lag
        .clone()
        .expect("lag");
    let (bytes, _) = lag.bytes.expect("lag bytes");
    assert!(
        bytes > limit,
        "lag {bytes} B should exceed the {limit} B limit{}",
        dump(&engine.model)
    );
    assert_eq!(
        engine.model.kinds.postgres[0].members[NODE_B].streaming(),
        Some(true),
        "paused replay still streams{}",
        dump(&engine.model)
    );
    assert_eq!(
        engine.model.kinds.postgres[0].members[NODE_A].role,
        Role::Primary
    );

    // Still over while paused: a few more readings must not produce another edge.
    let seen = engine.model.kinds.postgres[0].members[NODE_B].last_at;
    wait(&mut engine, "more readings of b", |m| {
        m.kinds.postgres[0].members[NODE_B]
            .last_at
            .zip(seen)
            .is_some_and(|(now, then)| now - then >= time::Duration::seconds(2))
    })
    .await;
    assert!(
        engine.model.kinds.postgres[0].members[NODE_B]
            .lag
            .as_ref()
            .is_some_and(|l| l.over_limit),
        "{}",
        dump(&engine.model)
    );

    lab.run(&["resume-replay"]).await;
    wait(
        &mut engine,
        "b caught up (lag within limits, replay running)",
        |m| {
            let b = &m.kinds.postgres[0].members[NODE_B];
            b.replay_paused() == Some(false) && b.lag.as_ref().is_some_and(|l| !l.over_limit)
        },
    )
    .await;
    engine.shutdown("lab test done").await;

    let entries = lab.journal();
    let b = "db/orders/site B";
    assert_once(&entries, b, "lag over limit");
    assert_once(&entries, b, "lag back within limits");
    assert_once(&entries, b, "WAL replay paused");
    assert_once(&entries, b, "WAL replay resumed");
    assert!(
        edges(&entries, "db/orders/site A", "lag").is_empty(),
        "the primary has no lag\n{}",
        journal_text(&entries)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promoting_the_replica_then_rejoining_swaps_roles() {
    let lab = Lab::begin().await;
    let mut engine = lab.engine().await;
    wait_normal(&mut engine).await;
    let timeline_before = engine.model.kinds.postgres[0].members[NODE_A]
        .snapshot
        .as_ref()
        .and_then(|s| s.timeline)
        .expect("a's timeline");

    lab.run(&["promote", "b"]).await;
    wait(
        &mut engine,
        "b primary while a still primary (split brain)",
        |m| m.kinds.postgres[0].primaries() == vec![NODE_A, NODE_B],
    )
    .await;
    let tl_b = engine.model.kinds.postgres[0].members[NODE_B]
        .snapshot
        .as_ref()
        .and_then(|s| s.timeline)
        .expect("b's timeline");
    assert!(
        tl_b > timeline_before,
        "promotion must start a new timeline: b {tl_b}, a was {timeline_before}{}",
        dump(&engine.model)
    );
    assert!(
        engine.model.kinds.postgres[0].members[NODE_B].lag.is_none(),
        "a primary has no lag{}",
        dump(&engine.model)
    );

    lab.run(&["rejoin", "a"]).await;
    wait(
        &mut engine,
        "roles swapped: b the only primary, a a streaming replica of b",
        |m| {
            let db = &m.kinds.postgres[0];
            db.primaries() == vec![NODE_B]
                && db.members[NODE_A].role == Role::Replica
                && db.members[NODE_A].streaming() == Some(true)
        },
    )
    .await;
    wait(&mut engine, "a's lag measured and within limits", |m| {
        m.kinds.postgres[0].members[NODE_A]
            .lag
            .as_ref()
            .is_some_and(|l| !l.over_limit && l.bytes.is_some())
    })
    .await;
    let tl_a = engine.model.kinds.postgres[0].members[NODE_A]
        .snapshot
        .as_ref()
        .and_then(|s| s.timeline);
    assert_eq!(
        tl_a,
        Some(tl_b),
        "a follows b's timeline{}",
        dump(&engine.model)
    );
    engine.shutdown("lab test done").await;

    let entries = lab.journal();
    assert_once(&entries, "db/orders/site B", "replica → primary (promoted");
    assert_once(
        &entries,
        "db/orders",
        "split brain: 2 writable primaries (site A, site B)",
    );
    assert_once(&entries, "db/orders", "one primary: site B");
    assert_once(&entries, "db/orders/site A", "reachable again: replica");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_record_change_moves_answer_and_site() {
    let lab = Lab::begin().await;
    let mut engine = lab.engine().await;
    wait_normal(&mut engine).await;
    let answers = |m: &Model, r: usize| match &m.kinds.dns[0].resolvers[r].answer {
        Some(DnsAnswer::Records { values, .. }) => values.clone(),
        _ => vec![],
    };
    assert_eq!(answers(&engine.model, 0), vec![IP_PRIMARY.to_string()]);

    // Only the second server changes: the resolvers disagree.
    lab.run(&["dns-set2", IP_SECONDARY]).await;
    wait(&mut engine, "the resolvers disagree (Mixed)", |m| {
        m.kinds.dns[0].site == RecordSite::Mixed
    })
    .await;
    assert_eq!(
        answers(&engine.model, 1),
        vec![IP_SECONDARY.to_string()],
        "{}",
        dump(&engine.model)
    );
    assert_eq!(
        engine.model.kinds.dns[0].resolvers[1].matched,
        Some(Match::Site(SECONDARY))
    );
    assert_eq!(
        engine.model.kinds.dns[0].resolvers[0].matched,
        Some(Match::Site(PRIMARY))
    );

    // Then the main one: both agree on site B.
    lab.run(&["dns-set", IP_SECONDARY]).await;
    wait(&mut engine, "both resolvers answer site B", |m| {
        m.kinds.dns[0].site == RecordSite::Site(SECONDARY)
    })
    .await;
    assert_eq!(
        answers(&engine.model, 0),
        vec![IP_SECONDARY.to_string()],
        "{}",
        dump(&engine.model)
    );

    // An answer matching no site.
    lab.run(&["dns-set", "192.0.2.7"]).await;
    wait(&mut engine, "main server's answer matches no site", |m| {
        m.kinds.dns[0].resolvers[0].matched == Some(Match::Unknown)
    })
    .await;
    assert_eq!(
        engine.model.kinds.dns[0].site,
        RecordSite::Mixed,
        "{}",
        dump(&engine.model)
    );
    engine.shutdown("lab test done").await;

    let entries = lab.journal();
    let src = "dns/api.failover.test. A";
    let main = format!("127.0.0.1:{}", port_map()[&5353]);
    let second = format!("127.0.0.1:{}", port_map()[&5354]);
    assert_once(
        &entries,
        src,
        &format!("@{second}: {IP_PRIMARY} → {IP_SECONDARY} (site B)"),
    );
    assert_once(
        &entries,
        src,
        &format!("@{main}: {IP_PRIMARY} → {IP_SECONDARY} (site B)"),
    );
    assert_once(
        &entries,
        src,
        &format!("@{main}: {IP_SECONDARY} → 192.0.2.7 (no site)"),
    );
    assert_once(&entries, src, "all resolvers agree: site A");
    assert_once(&entries, src, "all resolvers agree: site B");
    assert_eq!(
        edges(&entries, src, "resolvers disagree (mixed)").len(),
        2,
        "mixed twice (set2, then the unknown answer)\n{}",
        journal_text(&entries)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopped_postgres_nodes_show_unreachable() {
    let lab = Lab::begin().await;
    let mut engine = lab.engine().await;
    wait_normal(&mut engine).await;

    lab.run(&["pg-stop", "b"]).await;
    wait(&mut engine, "b unreachable (connection refused)", |m| {
        let b = &m.kinds.postgres[0].members[NODE_B];
        b.role == Role::Unreachable && b.error.as_deref() == Some("connection refused")
    })
    .await;
    wait(&mut engine, "tcp check db-b-port unhealthy", |m| {
        m.kinds.health[DB_B_PORT].status == CheckStatus::Unhealthy
    })
    .await;
    assert_eq!(
        engine.model.kinds.health[DB_B_PORT]
            .last
            .as_ref()
            .map(|o| o.detail.as_str()),
        Some("connection refused")
    );
    assert_eq!(
        engine.model.kinds.postgres[0].members[NODE_A].role,
        Role::Primary
    );
    assert!(
        engine.model.kinds.postgres[0].members[NODE_B]
            .snapshot
            .is_some(),
        "the last reading is kept while unreachable"
    );
    // `status` says the same: a WARNING (the replica is gone, the primary serves).
    let (code, json) = lab.status_json().await;
    let member = &json["databases"][0]["members"][NODE_B];
    assert_eq!(
        (member["role"].as_str(), member["error"].as_str()),
        (Some("unreachable"), Some("connection refused")),
        "{json:#}"
    );
    assert_eq!(json["databases"][0]["primary_site"], "primary", "{json:#}");
    assert_eq!(
        code,
        1,
        "a stopped replica is a WARNING; reasons {:?}",
        reasons(&json)
    );
    assert!(
        reasons(&json)
            .iter()
            .any(|r| r == "WARNING db/orders/site B unreachable: connection refused"),
        "{:?}",
        reasons(&json)
    );

    lab.run(&["pg-start", "b"]).await;
    wait(&mut engine, "b a streaming replica again", |m| {
        m.kinds.postgres[0].members[NODE_B].role == Role::Replica
            && m.kinds.postgres[0].members[NODE_B].streaming() == Some(true)
    })
    .await;

    // The primary goes away: no writable primary, the replica stops streaming.
    lab.run(&["pg-stop", "a"]).await;
    wait(&mut engine, "a unreachable, b not streaming", |m| {
        let db = &m.kinds.postgres[0];
        db.members[NODE_A].role == Role::Unreachable
            && db.primaries().is_empty()
            && db.members[NODE_B].streaming() == Some(false)
    })
    .await;
    lab.run(&["pg-start", "a"]).await;
    wait(&mut engine, "a primary again and b streaming", |m| {
        m.kinds.postgres[0].primaries() == vec![NODE_A]
            && m.kinds.postgres[0].members[NODE_B].streaming() == Some(true)
    })
    .await;
    engine.shutdown("lab test done").await;

    let entries = lab.journal();
    assert_once(&entries, "db/orders/site B", "replica → unreachable");
    assert_once(&entries, "db/orders/site B", "reachable again: replica");
    assert_once(&entries, "db/orders/site A", "primary → unreachable");
    assert_once(&entries, "db/orders/site A", "reachable again: primary");
    assert_once(&entries, "db/orders", "no writable primary");
    // At start, and again when a comes back.
    assert_eq!(
        edges(&entries, "db/orders", "one primary: site A").len(),
        2,
        "{}",
        journal_text(&entries)
    );
    assert_once(&entries, "db/orders/site B", "not streaming");
    assert_once(&entries, "db/orders/site B", "streaming again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopped_or_deleted_dns_answers_show_no_answer() {
    let lab = Lab::begin().await;
    let mut engine = lab.engine().await;
    wait_normal(&mut engine).await;
    let src = "dns/api.failover.test. A";
    let main = format!("127.0.0.1:{}", port_map()[&5353]);
    let timeout = lab.config.kinds.dns[0].timeout;

    lab.run(&["dns-stop"]).await;
    wait(
        &mut engine,
        "stopped main server: timeout or error, no answer",
        |m| {
            let r = &m.kinds.dns[0].resolvers[0];
            matches!(r.answer, Some(DnsAnswer::Timeout | DnsAnswer::Error(_)))
                && r.matched == Some(Match::NoAnswer)
        },
    )
    .await;
    assert_eq!(
        engine.model.kinds.dns[0].resolvers[1].matched,
        Some(Match::Site(PRIMARY)),
        "the second server still answers{}",
        dump(&engine.model)
    );
    assert_eq!(
        engine.model.kinds.dns[0].site,
        RecordSite::Mixed,
        "{}",
        dump(&engine.model)
    );
    let described = engine.model.kinds.dns[0].resolvers[0]
        .answer
        .as_ref()
        .map(|a| a.describe())
        .unwrap_or_default();
    // `status` says the same, within one timeout.
    let asked = Instant::now();
    let (code, json) = lab.status_json().await;
    let took = asked.elapsed();
    let resolvers = &json["dns"][0]["resolvers"];
    assert_eq!(
        resolvers[0]["error"].as_str(),
        Some(described.as_str()),
        "{json:#}"
    );
    assert!(resolvers[0]["site"].is_null(), "{json:#}");
    assert_eq!(resolvers[1]["site"], "primary", "{json:#}");
    assert_eq!(json["dns"][0]["site"], "mixed", "{json:#}");
    assert_eq!(
        code,
        1,
        "one resolver down: the resolvers disagree, a WARNING; reasons {:?}",
        reasons(&json)
    );
    assert!(
        took < timeout * 2,
        "status took {took:?} with a dead resolver whose timeout is {timeout:?}"
    );

    // A dead server keeps producing results (timeouts), so it never goes stale: watch a few
    // probe rounds.
    let first_timeout = engine.model.kinds.dns[0].resolvers[0]
        .last_at
        .expect("answered");
    let rounds = time::Duration::try_from(timeout * 4).expect("duration");
    wait(
        &mut engine,
        "four more probe rounds against the stopped server",
        |m| {
            m.kinds.dns[0].resolvers[0]
                .last_at
                .is_some_and(|t| t - first_timeout >= rounds)
        },
    )
    .await;
    let entries: Vec<Entry> = engine
        .model
        .timeline
        .newest_first()
        .map(|s| s.entry.clone())
        .collect();
    let stale: Vec<_> = edges(&entries, src, "stale")
        .into_iter()
        .filter(|e| e.message.contains(&main))
        .collect();
    assert!(
        stale.is_empty(),
        "a server that times out answers every round and must not flap stale / answering again:\n{}",
        journal_text(&entries)
    );

    lab.run(&["dns-start"]).await;
    wait(&mut engine, "main server answers site A again", |m| {
        m.kinds.dns[0].site == RecordSite::Site(PRIMARY)
    })
    .await;

    lab.run(&["dns-delete"]).await;
    wait(&mut engine, "main server answers NXDOMAIN", |m| {
        m.kinds.dns[0].resolvers[0].answer == Some(DnsAnswer::NxDomain)
    })
    .await;
    assert_eq!(
        engine.model.kinds.dns[0].resolvers[0].matched,
        Some(Match::NoAnswer)
    );
    assert_eq!(
        engine.model.kinds.dns[0].site,
        RecordSite::Mixed,
        "{}",
        dump(&engine.model)
    );
    engine.shutdown("lab test done").await;

    let entries = lab.journal();
    assert_once(
        &entries,
        src,
        &format!("@{main}: {IP_PRIMARY} → {described} (no answer)"),
    );
    assert_once(
        &entries,
        src,
        &format!("@{main}: {described} → {IP_PRIMARY} (site A)"),
    );
    assert_once(
        &entries,
        src,
        &format!("@{main}: {IP_PRIMARY} → NXDOMAIN (no answer)"),
    );
    assert_eq!(
        edges(&entries, src, "resolvers disagree (mixed)").len(),
        2,
        "mixed twice (stopped, then NXDOMAIN)\n{}",
        journal_text(&entries)
    );
    assert_eq!(
        edges(&entries, src, "all resolvers agree: site A").len(),
        2,
        "site A at start and after the restart\n{}",
        journal_text(&entries)
    );
}

// -------------------------------------------------------------------------------------------------
// `status --json`: one round of probes against the lab, exit code and reasons
// -------------------------------------------------------------------------------------------------

fn reasons(json: &Value) -> Vec<String> {
    json["reasons"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| {
                    format!(
                        "{} {}",
                        r["level"].as_str().unwrap_or("?"),
                        r["text"].as_str().unwrap_or("?")
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_json_on_the_healthy_lab_is_ok() {
    let lab = Lab::begin().await;
    let (code, json) = lab.status_json().await;
    let pretty = serde_json::to_string_pretty(&json).unwrap_or_default();
    assert_eq!(
        code,
        0,
        "healthy lab should exit 0 (OK); reasons {:?}\n{pretty}",
        reasons(&json)
    );
    assert_eq!(json["verdict"], "OK", "{pretty}");
    assert_eq!(json["exit_code"], 0);
    assert_eq!(json["serving"], "primary", "{pretty}");
    assert_eq!(json["serving_label"], "site A", "{pretty}");
    assert_eq!(
        json["reasons"].as_array().map(Vec::len),
        Some(0),
        "{pretty}"
    );

    let health = json["health"].as_array().expect("health array");
    let names: Vec<&str> = health.iter().filter_map(|h| h["name"].as_str()).collect();
    assert_eq!(names, ["api-a", "api-b", "db-b-port"], "{pretty}");
    for h in health {
        assert_eq!(h["healthy"], true, "{pretty}");
    }
    assert_eq!(health[0]["site"], "primary");
    assert_eq!(health[1]["site"], "secondary");
    assert_eq!(health[0]["detail"], "200");
    assert_eq!(health[2]["detail"], "connected");

    let db = &json["databases"][0];
    assert_eq!(db["name"], "orders");
    assert_eq!(db["writable_primaries"], 1, "{pretty}");
    assert_eq!(db["primary_site"], "primary", "{pretty}");
    let members = db["members"].as_array().expect("members");
    assert_eq!(members.len(), 2, "{pretty}");
    assert_eq!(
        (members[0]["site"].as_str(), members[0]["role"].as_str()),
        (Some("primary"), Some("primary")),
        "{pretty}"
    );
    assert_eq!(
        (members[1]["site"].as_str(), members[1]["role"].as_str()),
        (Some("secondary"), Some("replica")),
        "{pretty}"
    );
    assert_eq!(members[1]["streaming"], true, "{pretty}");
    assert_eq!(members[1]["replay_paused"], false, "{pretty}");
    assert_eq!(members[1]["lag_over_limit"], false, "{pretty}");
    assert!(members[1]["lag_bytes"].is_u64(), "{pretty}");
    assert_eq!(members[0]["timeline"], members[1]["timeline"], "{pretty}");

    let dns = &json["dns"][0];
    assert_eq!(dns["name"], "api.failover.test.");
    assert_eq!(dns["site"], "primary", "{pretty}");
    let resolvers = dns["resolvers"].as_array().expect("resolvers");
    assert_eq!(resolvers.len(), 2, "{pretty}");
    for r in resolvers {
        assert_eq!(r["answers"], serde_json::json!([IP_PRIMARY]), "{pretty}");
        assert_eq!(r["site"], "primary", "{pretty}");
        assert!(r["error"].is_null(), "{pretty}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_json_with_a_check_down_is_critical() {
    let lab = Lab::begin().await;
    lab.run(&["http", "api-a", "down"]).await;
    let (code, json) = lab.status_json().await;
    let pretty = serde_json::to_string_pretty(&json).unwrap_or_default();
    assert_eq!(
        code,
        2,
        "api-a down: CRITICAL; reasons {:?}\n{pretty}",
        reasons(&json)
    );
    assert_eq!(json["verdict"], "CRITICAL");
    assert!(
        reasons(&json).contains(
            &"CRITICAL health api-a (site A) unhealthy: status 503 (expected 200)".to_string()
        ),
        "reasons should say why: {:?}",
        reasons(&json)
    );
    assert_eq!(json["health"][0]["healthy"], false, "{pretty}");
    assert_eq!(json["health"][1]["healthy"], true, "{pretty}");

    // The text form says the same.
    let (code, text, _) = lab.console(&["status"]).await;
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("CRITICAL health api-a (site A) unhealthy: status 503 (expected 200)"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_json_with_two_primaries_is_critical() {
    let lab = Lab::begin().await;
    lab.run(&["promote", "b"]).await;
    let (code, json) = lab.status_json().await;
    let pretty = serde_json::to_string_pretty(&json).unwrap_or_default();
    assert_eq!(
        code,
        2,
        "split brain: CRITICAL; reasons {:?}\n{pretty}",
        reasons(&json)
    );
    assert_eq!(json["verdict"], "CRITICAL");
    let db = &json["databases"][0];
    assert_eq!(db["writable_primaries"], 2, "{pretty}");
    assert!(db["primary_site"].is_null(), "{pretty}");
    let roles: Vec<&str> = db["members"]
        .as_array()
        .expect("members")
        .iter()
        .filter_map(|m| m["role"].as_str())
        .collect();
    assert_eq!(roles, ["primary", "primary"], "{pretty}");
    assert!(
        reasons(&json)
            .contains(&"CRITICAL database orders: split brain, 2 writable primaries".to_string()),
        "{:?}",
        reasons(&json)
    );
    assert!(
        json["serving"].is_null(),
        "no agreed site with two primaries: {pretty}"
    );
}

#[test]
fn remap_ports_is_one_pass() {
    let map = HashMap::from([(5353, 54321), (54321, 7)]);
    assert_eq!(remap_ports("127.0.0.1:5353", &map), "127.0.0.1:54321");
    assert_eq!(
        remap_ports("host=127.0.0.1 port=54321 user=postgres", &map),
        "host=127.0.0.1 port=7 user=postgres"
    );
    assert_eq!(
        remap_ports("http://127.0.0.1:18081/healthz", &map),
        "http://127.0.0.1:18081/healthz"
    );
}
