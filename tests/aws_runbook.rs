//! The AWS failover runbook of `examples/aws.toml`, as written there, run end to end by keys
//! against the lab: moto for Route 53, RDS and CloudWatch, BIND for the resolvers, nginx for the
//! health checks. Only the zone id, the endpoint, the profile, the ports, the intervals and the
//! promote timeout are replaced (moto never shows a promoted replica, so that step ends UNKNOWN
//! and the operator skips it with a reason, as the README says).
// Needs the lab (`scripts/lab up`): run by `scripts/test`, which turns the feature on.
#![cfg(feature = "lab")]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::aws::{PROFILE, aws_env, moto_url, seeded};
use common::keys::*;
use common::*;
use crossterm::event::KeyCode;
use failover_console::config::{self, Config};
use failover_console::engine::{Engine, Live};
use failover_core::kinds::cloudwatch::Level as CwLevel;
use failover_core::runbook::{RunState, StepStatus};
use failover_core::theme::{Theme, View};
use serde_json::Value;

const EXAMPLE_ZONE: &str = "Z0123456789ABCDEFGHIJ";

/// examples/aws.toml pointed at the lab.
fn example_config(lab: &Lab) -> Arc<Config> {
    let mut text = std::fs::read_to_string(repo().join("examples/aws.toml")).expect("read example");
    let replace = |text: &mut String, from: &str, to: &str| {
        assert!(
            text.contains(from),
            "examples/aws.toml no longer has {from:?}"
        );
        *text = text.replace(from, to);
    };
    replace(&mut text, EXAMPLE_ZONE, &seeded("LAB_R53_ZONE_ID"));
    replace(
        &mut text,
        "# profile = \"ops\"",
        &format!("profile = \"{PROFILE}\""),
    );
    replace(
        &mut text,
        "# endpoint-url = \"https://...\"",
        &format!("endpoint-url = \"{}\"", moto_url()),
    );
    let journal = lab.dir.path().join("aws-journal.jsonl");
    replace(
        &mut text,
        "journal = \"journal.jsonl\"",
        &format!("journal = \"{}\"", journal.display()),
    );
    for interval in ["\"5s\"", "\"30s\"", "\"60s\"\n"] {
        let to = if interval.ends_with('\n') {
            "\"1s\"\n"
        } else {
            "\"1s\""
        };
        replace(
            &mut text,
            &format!("interval = {interval}"),
            &format!("interval = {to}"),
        );
    }
    replace(&mut text, "timeout = \"15m\"", "timeout = \"3s\"");
    let text = remap_ports(&text, &port_map());
    let path = lab.dir.path().join("aws.toml");
    std::fs::write(&path, &text).expect("write the config");
    Arc::new(config::load(&path).unwrap_or_else(|e| panic!("examples/aws.toml: {e}")))
}

/// What boto3 (not this project's code) sees in moto.
fn boto3(code: &str) -> Value {
    let out = std::process::Command::new("python3")
        .args(["-c", &format!(
            "import boto3, json, sys\n\
             kw = dict(endpoint_url={:?}, region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')\n\
             {code}"
        , moto_url())])
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("boto3 printed JSON")
}

fn failover_roles() -> Value {
    boto3(&format!(
        "sets = boto3.client('route53', **kw).list_resource_record_sets(HostedZoneId={:?})['ResourceRecordSets']\n\
         print(json.dumps({{s['SetIdentifier']: s['Failover'] for s in sets if s.get('SetIdentifier')}}))",
        seeded("LAB_R53_ZONE_ID")
    ))
}

fn settled(m: &failover_core::app::Model, step: usize) -> bool {
    matches!(
        step_status(m, step),
        Some(StepStatus::Ok | StepStatus::Failed | StepStatus::Unknown)
    ) && m.runs.in_flight.is_none()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_aws_failover_runs_end_to_end_and_changes_moto() {
    let lab = Lab::begin().await;
    aws_env();
    let config = example_config(&lab);
    let view = View {
        theme: Theme::mono(),
        ascii: true,
    };
    let mut engine = Engine::<Live>::start(config.clone(), "aws-e2e".into(), view)
        .await
        .expect("engine starts");
    wait(
        &mut engine,
        "every AWS source read and the driver lock",
        |m| {
            m.driver.token().is_some()
                && m.kinds.route53[0].intended.as_ref().and_then(|i| i.site) == Some(PRIMARY)
                && m.kinds.cloudwatch[0].level == CwLevel::Ok
                && m.kinds.rds[0].reading.is_some()
        },
    )
    .await;
    assert_eq!(
        failover_roles(),
        serde_json::json!({"site-a": "PRIMARY", "site-b": "SECONDARY"})
    );

    arm(&mut engine, 0, "secondary", "e2e: site A's AZ is failing").await;
    wait(&mut engine, "the run armed", |m| {
        m.runs
            .current
            .as_ref()
            .is_some_and(|r| r.is_active() && !r.dry_run)
    })
    .await;
    do_step(&mut engine, 0).await; // lag gate on ReplicaLag
    do_step(&mut engine, 1).await; // Route 53 health of site B's set
    do_step(&mut engine, 2).await; // the canary is not critical

    // rds-promote: PromoteReadReplica is sent; moto keeps showing the replica link, so the step
    // ends UNKNOWN at its timeout, the console reads it back (not applied: still a replica), and
    // the operator, having checked, skips it with a reason.
    key(&mut engine, KeyCode::Enter).await;
    let ok = engine
        .run_until(Duration::from_secs(30), |m| settled(m, 3))
        .await;
    assert!(ok, "promote did not settle{}", run_dump(&engine.model));
    assert_eq!(
        step_status(&engine.model, 3),
        Some(StepStatus::Failed),
        "{}",
        run_dump(&engine.model)
    );
    let detail = engine
        .model
        .runs
        .current
        .as_ref()
        .map(|r| r.steps[3].detail.clone());
    assert!(
        detail
            .as_deref()
            .is_some_and(|d| d.contains("orders-b is still a read replica of orders-a")),
        "{detail:?}"
    );
    key(&mut engine, KeyCode::Char('s')).await;
    type_line(
        &mut engine,
        "checked in the RDS console: orders-b is writable",
    )
    .await;
    wait(&mut engine, "the promote step skipped", |m| {
        step_status(m, 3) == Some(StepStatus::Skipped)
    })
    .await;

    do_step(&mut engine, 4).await; // Route 53: site B becomes the PRIMARY
    assert_eq!(
        failover_roles(),
        serde_json::json!({"site-a": "SECONDARY", "site-b": "PRIMARY"}),
        "moto's records after the route53 step"
    );
    wait(&mut engine, "the Route 53 pane says site B", |m| {
        m.kinds.route53[0].intended.as_ref().and_then(|i| i.site) == Some(SECONDARY)
    })
    .await;

    // moto serves no DNS: the lab's BIND servers play Route 53's name servers here.
    lab.run(&["dns-set", IP_SECONDARY]).await;
    lab.run(&["dns-set2", IP_SECONDARY]).await;
    key(&mut engine, KeyCode::Enter).await;
    let ok = engine
        .run_until(Duration::from_secs(20), |m| {
            step_status(m, 5) == Some(StepStatus::Ok)
        })
        .await;
    assert!(
        ok,
        "the resolvers wait did not pass{}",
        run_dump(&engine.model)
    );
    do_step(&mut engine, 6).await; // manual
    let ok = engine
        .run_until(Duration::from_secs(5), |m| {
            m.runs
                .current
                .as_ref()
                .is_some_and(|r| r.state == RunState::Finished)
        })
        .await;
    assert!(ok, "the run did not finish{}", run_dump(&engine.model));
    engine.shutdown("aws e2e done").await;

    // The journal tells the story: each AWS call before it ran and its outcome after.
    let (entries, _) =
        failover_console::journal::read_all(&config.journal).expect("read the journal");
    let text = journal_text(&entries);
    for want in [
        "PromoteReadReplica",
        "outcome UNKNOWN in 3.0s: PromoteReadReplica accepted; orders-b still a replica of orders-a after 3s",
        "read back: NOT APPLIED",
        "checked in the RDS console: orders-b is writable",
        "INSYNC after",
        "site B's set site-b PRIMARY, site-a SECONDARY",
    ] {
        assert!(
            text.contains(want),
            "{want:?} missing from the journal:\n{text}"
        );
    }
    // Every step's end is journaled once.
    let waits = text.matches("\"Resolvers answer site B\" ok after").count();
    assert_eq!(waits, 1, "the wait's end journaled {waits} times:\n{text}");
    assert!(!text.contains("primary at arming: )"), "{text}");
}

fn ledger_writer() -> Value {
    boto3(
        "c = boto3.client('rds', **kw).describe_db_clusters(DBClusterIdentifier='ledger')['DBClusters'][0]\n\
         print(json.dumps([m['DBInstanceIdentifier'] for m in c['DBClusterMembers'] if m['IsClusterWriter']]))",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_aurora_failover_moves_the_writer_in_moto() {
    let lab = Lab::begin().await;
    aws_env();
    let config = example_config(&lab);
    let view = View {
        theme: Theme::mono(),
        ascii: true,
    };
    let mut engine = Engine::<Live>::start(config.clone(), "aws-e2e".into(), view)
        .await
        .expect("engine starts");
    let ledger = config
        .kinds
        .rds
        .iter()
        .position(|r| r.name == "ledger")
        .expect("the ledger source");
    wait(
        &mut engine,
        "the ledger cluster read and the driver lock",
        |m| m.driver.token().is_some() && m.kinds.rds[ledger].reading.is_some(),
    )
    .await;
    assert_eq!(ledger_writer(), serde_json::json!(["ledger-a"]));

    arm(&mut engine, 1, "secondary", "e2e: move the Aurora writer").await;
    wait(&mut engine, "the run armed", |m| {
        m.runs
            .current
            .as_ref()
            .is_some_and(|r| r.is_active() && !r.dry_run)
    })
    .await;
    do_step(&mut engine, 0).await; // AuroraReplicaLag within 1 s
    do_step(&mut engine, 1).await; // FailoverDBCluster, read back until ledger-b writes
    assert_eq!(
        ledger_writer(),
        serde_json::json!(["ledger-b"]),
        "moto's writer after the run"
    );
    // The console's own RDS pane follows the new writer.
    wait(&mut engine, "the RDS source sees ledger-b writing", |m| {
        verdict_db(m, ledger) == vec![SECONDARY]
    })
    .await;
    let ok = engine
        .run_until(Duration::from_secs(5), |m| {
            m.runs
                .current
                .as_ref()
                .is_some_and(|r| r.state == RunState::Finished)
        })
        .await;
    assert!(ok, "the run did not finish{}", run_dump(&engine.model));
    engine.shutdown("aws e2e done").await;
    let (entries, _) =
        failover_console::journal::read_all(&config.journal).expect("read the journal");
    let text = journal_text(&entries);
    for want in [
        "AuroraReplicaLag",
        "FailoverDBCluster",
        "ledger-b is the writer",
    ] {
        assert!(
            text.contains(want),
            "{want:?} missing from the journal:\n{text}"
        );
    }
}

/// The sites where the `index`-th [[rds]] source takes writes, as the verdict sees them.
fn verdict_db(m: &failover_core::app::Model, index: usize) -> Vec<usize> {
    let serving = failover_core::app::verdict::serving(m);
    serving.db[m.kinds.postgres.len() + index].clone()
}
