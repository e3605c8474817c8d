//! The AWS runbook actions (route53, rds-promote, rds-failover) against the lab's REAL moto
//! server through the real SDK: the config builds the actions, they run, and the world is then
//! read with boto3 (not with our code) to see what changed.
//!
//! Every test that talks to moto holds the lab (`common::Lab`: the lock, and `scripts/lab reset`
//! before and after, which re-seeds moto), so a swapped PRIMARY or a moved writer never leaks
//! into another test. moto facts these tests rely on: GetChange is INSYNC at once;
//! FailoverDBCluster really moves the writer; PromoteReadReplica answers OK but
//! DescribeDBInstances keeps showing ReadReplicaSourceDBInstanceIdentifier (moto only flips an
//! internal flag), so a promotion can only end unknown against moto.
// Needs the lab (`scripts/lab up`): run by `scripts/test`, which turns the feature on.
#![cfg(feature = "lab")]

mod common;

use failover_console::actions::Action;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::Lab;
use common::keys::key;
use crossterm::event::KeyCode;
use failover_console::config::{self, Config};
use failover_console::engine::{Engine, Live};
use failover_core::actions::{ActionSpec, Outcome, ReadBack};
use failover_core::runbook::{Event, RunState};
use failover_core::runbook::{Rollback, StepKind};
use failover_core::theme::{Theme, View};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use common::aws::{PROFILE, aws_env, moto_url, seeded};

/// The Route 53 ids of the last seed (they change on every reset).
struct Ids {
    zone: String,
    hc_a: String,
    hc_b: String,
}

fn ids() -> Ids {
    Ids {
        zone: seeded("LAB_R53_ZONE_ID"),
        hc_a: seeded("LAB_R53_HC_A"),
        hc_b: seeded("LAB_R53_HC_B"),
    }
}

/// Sites, the [[dns]] record that says which answers are which site's, the seeded [[route53]]
/// record, and a failover runbook (site A -> site B) made of `steps`.
fn config_with(zone: &str, aws_extra: &str, steps: &str) -> Arc<Config> {
    aws_env();
    let text = format!(
        r#"
[sites.primary]
label = "site A"
[sites.secondary]
label = "site B"

[aws]
profile = "{PROFILE}"
endpoint-url = "{url}"
{aws_extra}

[[dns]]
name = "api.failover.test."
resolvers = ["127.0.0.1:5353"]
[dns.answers]
primary = ["10.0.1.100"]
secondary = ["10.0.2.100"]

[[route53]]
name = "api.failover.test."
zone-id = "{zone}"

[[runbook]]
name = "aws"
from = "primary"
to = "secondary"
{steps}
"#,
        url = moto_url()
    );
    Arc::new(
        config::from_str(&text, std::path::Path::new("aws-actions-test.toml"))
            .unwrap_or_else(|e| panic!("config does not load: {e}\n{text}")),
    )
}

fn action(config: &Config, step: usize) -> ActionSpec {
    match &config.runbooks[0].steps[step].kind {
        StepKind::Action(a) => a.spec.clone(),
        other => panic!("step {step} is not an action: {other:?}"),
    }
}

fn rollback(config: &Config, step: usize) -> ActionSpec {
    match &config.runbooks[0].steps[step].rollback {
        Some(Rollback::Action(a)) => a.spec.clone(),
        other => panic!("step {step} has no rollback action: {other:?}"),
    }
}

/// One action, as the executor runs it: (outcome, output lines, time taken).
async fn run(spec: &ActionSpec) -> (Outcome, Vec<String>, Duration) {
    let (tx, mut rx) = mpsc::channel(1024);
    let started = Instant::now();
    let outcome = tokio::time::timeout(Duration::from_secs(60), spec.execute(&tx))
        .await
        .expect("the action ends within 60 s");
    let took = started.elapsed();
    drop(tx);
    let mut lines = Vec::new();
    while let Some(l) = rx.recv().await {
        lines.push(l);
    }
    eprintln!("outcome in {took:?}: {outcome:?}\noutput: {lines:#?}");
    (outcome, lines, took)
}

fn ok(outcome: &Outcome) -> &str {
    match outcome {
        Outcome::Ok(d) => d,
        other => panic!("expected Ok, got {other:?}"),
    }
}

fn failed(outcome: &Outcome) -> &str {
    match outcome {
        Outcome::Failed(d) => d,
        other => panic!("expected Failed, got {other:?}"),
    }
}

// -------------------------------------------------------------------------------------------------
// the world, read with boto3 (not with the code under test)
// -------------------------------------------------------------------------------------------------

fn boto3(code: &str) -> Value {
    let script = format!(
        "import boto3, json, os\n\
         kw = dict(endpoint_url=os.environ['MOTO_URL'], region_name='us-east-1',\n\
                   aws_access_key_id='testing', aws_secret_access_key='testing')\n\
         {code}\n"
    );
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(&script)
        .env("MOTO_URL", moto_url())
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "boto3 failed:\n{script}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "boto3 printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// The record sets of api.failover.test., sorted by SetIdentifier.
fn r53_sets(zone: &str) -> Value {
    boto3(&format!(
        "sets = boto3.client('route53', **kw).list_resource_record_sets(HostedZoneId='{zone}')['ResourceRecordSets']\n\
         print(json.dumps(sorted([s for s in sets if s['Name'] == 'api.failover.test.'], key=lambda s: s['SetIdentifier'])))"
    ))
}

fn role_of(sets: &Value, set_id: &str) -> String {
    sets.as_array()
        .and_then(|a| a.iter().find(|s| s["SetIdentifier"] == set_id))
        .and_then(|s| s["Failover"].as_str())
        .unwrap_or_else(|| panic!("no set {set_id} in {sets:#}"))
        .to_string()
}

fn hc_disabled(id: &str) -> bool {
    boto3(&format!(
        "hc = boto3.client('route53', **kw).get_health_check(HealthCheckId='{id}')['HealthCheck']\n\
         print(json.dumps(hc['HealthCheckConfig'].get('Disabled', False)))"
    ))
    .as_bool()
    .expect("Disabled is a bool")
}

fn ledger_writer() -> String {
    boto3(
        "c = boto3.client('rds', **kw).describe_db_clusters(DBClusterIdentifier='ledger')['DBClusters'][0]\n\
         print(json.dumps([m['DBInstanceIdentifier'] for m in c['DBClusterMembers'] if m['IsClusterWriter']]))",
    )
    .as_array()
    .and_then(|a| a.first())
    .and_then(Value::as_str)
    .expect("ledger has a writer")
    .to_string()
}

fn replica_source(instance: &str) -> Option<String> {
    boto3(&format!(
        "i = boto3.client('rds', **kw).describe_db_instances(DBInstanceIdentifier='{instance}')['DBInstances'][0]\n\
         print(json.dumps(i.get('ReadReplicaSourceDBInstanceIdentifier')))"
    ))
    .as_str()
    .map(str::to_string)
}

// -------------------------------------------------------------------------------------------------
// route53: UPSERT
// -------------------------------------------------------------------------------------------------

const UPSERT_STEP: &str = r#"
[[runbook.step]]
title = "Route 53 to site B"
action = "route53"
record = "api.failover.test."
rollback = { action = "route53", record = "api.failover.test." }
"#;

/// The batch that makes site B PRIMARY, each set with its own health check.
fn swap_json(ids: &Ids) -> Value {
    let set = |id: &str, role: &str, ip: &str, hc: &str| {
        json!({"Action": "UPSERT", "ResourceRecordSet": {
            "Name": "api.failover.test.", "Type": "A", "SetIdentifier": id, "Failover": role,
            "TTL": 60, "ResourceRecords": [{"Value": ip}], "HealthCheckId": hc}})
    };
    json!({
        "Comment": "failover-console: site B's set site-b PRIMARY",
        "Changes": [
            set("site-b", "PRIMARY", "10.0.2.100", &ids.hc_b),
            set("site-a", "SECONDARY", "10.0.1.100", &ids.hc_a),
        ]
    })
}

#[tokio::test]
async fn route53_plan_is_the_exact_change_batch_and_changes_nothing() {
    let _lab = Lab::begin().await;
    let ids = ids();
    let config = config_with(&ids.zone, "", UPSERT_STEP);
    let spec = action(&config, 0);
    let before = r53_sets(&ids.zone);
    assert_eq!(
        role_of(&before, "site-a"),
        "PRIMARY",
        "the seed: {before:#}"
    );

    assert_eq!(spec.preflight().await, Vec::<String>::new());
    let plan = spec.plan().await;
    let expected = format!(
        r#"Route 53 UPSERT api.failover.test. A in zone {zone}: site B's set becomes PRIMARY, the other SECONDARY, in one ChangeBatch
AWS: region us-east-1 (default), profile lab, endpoint-url {url}
ChangeBatch JSON, exactly as it would be sent now:
  {{
    "Comment": "failover-console: site B's set site-b PRIMARY",
    "Changes": [
      {{
        "Action": "UPSERT",
        "ResourceRecordSet": {{
          "Name": "api.failover.test.",
          "Type": "A",
          "SetIdentifier": "site-b",
          "Failover": "PRIMARY",
          "TTL": 60,
          "ResourceRecords": [{{"Value": "10.0.2.100"}}],
          "HealthCheckId": "{hc_b}"
        }}
      }},
      {{
        "Action": "UPSERT",
        "ResourceRecordSet": {{
          "Name": "api.failover.test.",
          "Type": "A",
          "SetIdentifier": "site-a",
          "Failover": "SECONDARY",
          "TTL": 60,
          "ResourceRecords": [{{"Value": "10.0.1.100"}}],
          "HealthCheckId": "{hc_a}"
        }}
      }}
    ]
  }}
then GetChange every 3s until INSYNC, up to 1m (not INSYNC by then: outcome unknown, read back)
read back: ListResourceRecordSets shows site B's set PRIMARY"#,
        zone = ids.zone,
        url = moto_url(),
        hc_a = ids.hc_a,
        hc_b = ids.hc_b,
    );
    assert_eq!(plan.join("\n"), expected);
    let json: Vec<&str> = plan
        .iter()
        .filter(|l| l.starts_with("  "))
        .map(String::as_str)
        .collect();
    let batch: Value = serde_json::from_str(&json.join("\n")).expect("the plan's JSON parses");
    assert_eq!(batch, swap_json(&ids));

    // The dry run's one-line form of the same plan is the same JSON.
    let line = failover_core::actions::one_line(&plan);
    let start = line.find('{').expect("JSON in the line");
    let end = line.rfind('}').expect("JSON in the line");
    let inline: Value = serde_json::from_str(&line[start..=end]).expect("one-line JSON parses");
    assert_eq!(inline, swap_json(&ids));

    // describe() (config only) and plan() changed nothing; neither did preflight.
    assert!(spec.describe()[0].contains("site B's set becomes PRIMARY"));
    assert_eq!(
        r53_sets(&ids.zone),
        before,
        "Route 53 unchanged by plan/preflight"
    );
}

#[tokio::test]
async fn route53_upsert_swaps_the_roles_in_one_change_then_reads_back_and_rolls_back() {
    let _lab = Lab::begin().await;
    let ids = ids();
    let config = config_with(&ids.zone, "", UPSERT_STEP);
    let spec = action(&config, 0);
    let before = r53_sets(&ids.zone);

    let (outcome, output, took) = run(&spec).await;
    let detail = ok(&outcome);
    assert!(detail.starts_with("change "), "{detail}");
    assert!(
        detail.contains("INSYNC after")
            && detail.ends_with("site B's set site-b PRIMARY, site-a SECONDARY"),
        "{detail}"
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert!(
        output[0].starts_with("ChangeResourceRecordSets {"),
        "{output:#?}"
    );
    let sent: Value =
        serde_json::from_str(output[0].trim_start_matches("ChangeResourceRecordSets "))
            .expect("the sent batch is JSON");
    assert_eq!(sent, swap_json(&ids), "one ChangeBatch with both sets");

    // The world: only the roles moved; each set kept its id, value, TTL and health check.
    let after = r53_sets(&ids.zone);
    let mut expected = before.clone();
    for set in expected.as_array_mut().expect("sets") {
        let role = if set["SetIdentifier"] == "site-b" {
            "PRIMARY"
        } else {
            "SECONDARY"
        };
        set["Failover"] = json!(role);
    }
    assert_eq!(after, expected);
    assert_eq!(after[1]["HealthCheckId"], ids.hc_b.as_str());

    assert_eq!(
        spec.read_back().await,
        ReadBack::Applied(
            "site B's set is PRIMARY: PRIMARY site-b [10.0.2.100], SECONDARY site-a [10.0.1.100]"
                .into()
        )
    );
    // Again: nothing to change, nothing sent.
    let (again, output, _) = run(&spec).await;
    assert_eq!(
        ok(&again),
        "site B's set is already PRIMARY (PRIMARY site-b [10.0.2.100], SECONDARY site-a [10.0.1.100]): nothing sent"
    );
    assert!(output.is_empty(), "{output:#?}");

    // The rollback points toward the runbook's `from`: site A PRIMARY again.
    let back = rollback(&config, 0);
    assert!(ok(&run(&back).await.0).ends_with("site A's set site-a PRIMARY, site-b SECONDARY"));
    assert_eq!(r53_sets(&ids.zone), before, "back to the seed");
    assert!(
        matches!(spec.read_back().await, ReadBack::NotApplied(d) if d.contains("site B's set is still SECONDARY"))
    );
}

// -------------------------------------------------------------------------------------------------
// route53: health checks
// -------------------------------------------------------------------------------------------------

#[tokio::test]
async fn disable_and_enable_health_check_flip_disabled_in_route53() {
    let _lab = Lab::begin().await;
    let ids = ids();
    let steps = format!(
        r#"
[[runbook.step]]
title = "Pin the PRIMARY"
action = "route53"
record = "api.failover.test."
mode = "disable-health-check"
rollback = {{ action = "route53", record = "api.failover.test.", mode = "enable-health-check" }}

[[runbook.step]]
title = "Pin site B's check"
action = "route53"
record = "api.failover.test."
mode = "disable-health-check"
health-check-id = "{hc_b}"
"#,
        hc_b = ids.hc_b
    );
    let config = config_with(&ids.zone, "", &steps);
    let disable = action(&config, 0);
    assert!(!hc_disabled(&ids.hc_a), "seeded enabled");
    let described = disable.describe();
    assert!(
        described
            .iter()
            .any(|l| l.contains("Route 53 treats a disabled health check as HEALTHY")),
        "{described:#?}"
    );

    assert_eq!(disable.preflight().await, Vec::<String>::new());
    let plan = disable.plan().await;
    assert!(
        plan.contains(&format!("    \"HealthCheckId\": \"{}\",", ids.hc_a)),
        "the PRIMARY's check, read now: {plan:#?}"
    );
    assert!(
        plan.contains(&"    \"Disabled\": true".to_string()),
        "{plan:#?}"
    );
    assert!(!hc_disabled(&ids.hc_a), "the plan changed nothing");

    let (outcome, _, _) = run(&disable).await;
    assert_eq!(
        ok(&outcome),
        format!(
            "health check {} (the PRIMARY set site-a's) disabled; Route 53 now treats it as healthy whatever its endpoint says",
            ids.hc_a
        )
    );
    assert!(hc_disabled(&ids.hc_a), "moto shows Disabled=true");
    assert!(!hc_disabled(&ids.hc_b), "the other check untouched");
    assert!(
        matches!(disable.read_back().await, ReadBack::Applied(d) if d.contains("is disabled (GetHealthCheck Disabled=true)"))
    );
    assert!(ok(&run(&disable).await.0).ends_with("is already disabled: nothing sent"));

    let enable = rollback(&config, 0);
    let (outcome, _, _) = run(&enable).await;
    assert_eq!(
        ok(&outcome),
        format!(
            "health check {} (the PRIMARY set site-a's) enabled",
            ids.hc_a
        )
    );
    assert!(!hc_disabled(&ids.hc_a), "moto shows Disabled=false");
    assert!(
        matches!(disable.read_back().await, ReadBack::NotApplied(d) if d.contains("is still enabled"))
    );

    // A given health-check-id, whatever the roles.
    let by_id = action(&config, 1);
    ok(&run(&by_id).await.0);
    assert!(hc_disabled(&ids.hc_b), "site B's check disabled");
    assert!(!hc_disabled(&ids.hc_a));
}

// -------------------------------------------------------------------------------------------------
// rds
// -------------------------------------------------------------------------------------------------

#[tokio::test]
async fn rds_failover_moves_the_writer_and_reads_it_back() {
    let _lab = Lab::begin().await;
    let ids = ids();
    let config = config_with(
        &ids.zone,
        "",
        r#"
[[runbook.step]]
title = "ledger to ledger-b"
action = "rds-failover"
cluster = "ledger"
target = "ledger-b"
timeout = "20s"
"#,
    );
    let spec = action(&config, 0);
    assert_eq!(ledger_writer(), "ledger-a", "the seed");
    assert_eq!(spec.preflight().await, Vec::<String>::new());
    assert_eq!(spec.plan().await, spec.describe());

    let (outcome, output, took) = run(&spec).await;
    let detail = ok(&outcome);
    assert!(
        detail.starts_with("ledger-b is the writer of ledger after ")
            && detail.ends_with("(was ledger-a), cluster available"),
        "{detail}"
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert_eq!(
        output.first().map(String::as_str),
        Some("FailoverDBCluster ledger to ledger-b accepted (writer was ledger-a)")
    );
    assert_eq!(ledger_writer(), "ledger-b", "moto moved the writer");
    assert_eq!(
        spec.read_back().await,
        ReadBack::Applied("ledger-b is the writer of ledger (cluster available)".into())
    );
    // Now ledger-b is the writer: refused before anything is sent.
    assert_eq!(
        spec.preflight().await,
        vec!["ledger-b is already the writer of ledger: nothing to fail over"]
    );
    assert_eq!(
        failed(&run(&spec).await.0),
        "ledger-b is already the writer of ledger: nothing to fail over; nothing sent"
    );
}

#[tokio::test]
async fn rds_promote_is_accepted_but_moto_keeps_the_replica_link_so_it_ends_unknown() {
    let _lab = Lab::begin().await;
    let ids = ids();
    let config = config_with(
        &ids.zone,
        "",
        r#"
[[runbook.step]]
title = "promote orders-b"
action = "rds-promote"
instance = "orders-b"
timeout = "2s"
"#,
    );
    let spec = action(&config, 0);
    assert_eq!(spec.preflight().await, Vec::<String>::new());
    let (outcome, output, took) = run(&spec).await;
    // moto answers PromoteReadReplica with OK and flips only an internal flag: DescribeDBInstances
    // still shows the replica link, so the step ends unknown at its timeout, as it would on AWS
    // while a promotion is still in progress.
    let Outcome::Unknown(detail) = &outcome else {
        panic!("expected Unknown, got {outcome:?}");
    };
    assert!(
        detail.starts_with(
            "PromoteReadReplica accepted; orders-b still a replica of orders-a after 2"
        ),
        "{detail}"
    );
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(5),
        "ended by the 2 s step timeout, took {took:?}"
    );
    assert_eq!(
        output,
        vec![
            "PromoteReadReplica orders-b accepted".to_string(),
            "orders-b: available, still a replica of orders-a".into()
        ]
    );
    assert_eq!(replica_source("orders-b").as_deref(), Some("orders-a"));
    assert_eq!(
        spec.read_back().await,
        ReadBack::NotApplied(
            "orders-b is still a read replica of orders-a (status available)".into()
        )
    );
}

#[tokio::test]
async fn rds_preflight_refuses_a_primary_the_current_writer_and_unknown_names() {
    let _lab = Lab::begin().await;
    let ids = ids();
    let config = config_with(
        &ids.zone,
        "",
        r#"
[[runbook.step]]
title = "promote a primary"
action = "rds-promote"
instance = "orders-a"
[[runbook.step]]
title = "promote an Aurora member"
action = "rds-promote"
instance = "ledger-b"
[[runbook.step]]
title = "promote nothing"
action = "rds-promote"
instance = "orders-x"
[[runbook.step]]
title = "fail over to the writer"
action = "rds-failover"
cluster = "ledger"
target = "ledger-a"
[[runbook.step]]
title = "fail over to a stranger"
action = "rds-failover"
cluster = "ledger"
target = "orders-b"
[[runbook.step]]
title = "fail over nothing"
action = "rds-failover"
cluster = "nosuch"
target = "ledger-b"
"#,
    );
    let problems = |i: usize| {
        let spec = action(&config, i);
        async move { spec.preflight().await }
    };
    assert_eq!(
        problems(0).await,
        vec![
            "orders-a is not a read replica (no ReadReplicaSourceDBInstanceIdentifier): already a primary?"
        ]
    );
    assert_eq!(
        problems(1).await,
        vec!["ledger-b is a member of the Aurora cluster ledger: use action = \"rds-failover\""]
    );
    assert_eq!(
        problems(2).await,
        vec![
            "cannot describe DB instance orders-x: DBInstanceNotFound: DBInstance orders-x not found."
        ]
    );
    assert_eq!(
        problems(3).await,
        vec!["ledger-a is already the writer of ledger: nothing to fail over"]
    );
    assert_eq!(
        problems(4).await,
        vec!["orders-b is not a member of the DB cluster ledger (members: ledger-a, ledger-b)"]
    );
    let unknown = problems(5).await;
    assert_eq!(unknown.len(), 1, "{unknown:?}");
    assert!(
        unknown[0].starts_with("cannot describe DB cluster nosuch: DBClusterNotFoundFault"),
        "{unknown:?}"
    );

    // Executing the refused ones sends nothing (moto itself would "promote" a primary).
    let detail = failed(&run(&action(&config, 0)).await.0).to_string();
    assert!(
        detail.ends_with("already a primary?; nothing sent"),
        "{detail}"
    );
    assert_eq!(
        failed(&run(&action(&config, 3)).await.0),
        "ledger-a is already the writer of ledger: nothing to fail over; nothing sent"
    );
    assert_eq!(ledger_writer(), "ledger-a");
}

// -------------------------------------------------------------------------------------------------
// unreachable, silent, no credentials
// -------------------------------------------------------------------------------------------------

const ALL_THREE: &str = r#"
[[runbook.step]]
title = "route 53"
action = "route53"
record = "api.failover.test."
timeout = "2s"
[[runbook.step]]
title = "promote"
action = "rds-promote"
instance = "orders-b"
timeout = "2s"
[[runbook.step]]
title = "failover"
action = "rds-failover"
cluster = "ledger"
target = "ledger-b"
timeout = "2s"
"#;

#[tokio::test]
async fn a_closed_port_fails_at_once_and_plainly_with_nothing_sent() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let config = config_with(
        "Z0000000000000",
        "",
        &ALL_THREE.replace(
            "timeout = \"2s\"",
            &format!("timeout = \"2s\"\nendpoint-url = \"http://127.0.0.1:{port}\""),
        ),
    );
    for i in 0..3 {
        let spec = action(&config, i);
        let problems = spec.preflight().await;
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("endpoint unreachable: connection refused"),
            "{problems:?}"
        );
        let (outcome, _, took) = run(&spec).await;
        let detail = failed(&outcome);
        assert!(
            detail.contains("endpoint unreachable: connection refused")
                && detail.ends_with("; nothing sent"),
            "{detail}"
        );
        assert!(took < Duration::from_secs(2), "took {took:?}");
        assert!(
            matches!(spec.read_back().await, ReadBack::Unreadable(d) if d.contains("connection refused"))
        );
    }
}

#[tokio::test]
async fn a_silent_endpoint_ends_at_the_step_timeout_not_a_hang() {
    // Accepts connections (the kernel does), never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().expect("addr").port();
    let config = config_with(
        "Z0000000000000",
        "",
        &ALL_THREE.replace(
            "timeout = \"2s\"",
            &format!("timeout = \"2s\"\nendpoint-url = \"http://127.0.0.1:{port}\""),
        ),
    );
    for i in 0..3 {
        let (outcome, _, took) = run(&action(&config, i)).await;
        let detail = failed(&outcome);
        assert!(
            detail.contains("timeout: no answer within 2s") && detail.ends_with("; nothing sent"),
            "the read before the write timed out: {detail}"
        );
        assert!(
            took >= Duration::from_secs(2) && took < Duration::from_secs(5),
            "took {took:?}"
        );
    }
    drop(silent);
}

#[tokio::test]
async fn a_missing_profile_is_no_credentials_and_nothing_secret_is_shown() {
    let config = config_with(
        "Z0000000000000",
        "",
        &ALL_THREE.replace("timeout = \"2s\"", "timeout = \"2s\"\nprofile = \"nosuch\""),
    );
    for i in 0..3 {
        let spec = action(&config, i);
        let (outcome, _, took) = run(&spec).await;
        let detail = failed(&outcome);
        assert!(
            detail.contains("no credentials from profile nosuch")
                && detail.ends_with("; nothing sent"),
            "{detail}"
        );
        assert!(took < Duration::from_secs(5), "took {took:?}");
        let shown = format!("{detail}{:?}{:?}", spec.describe(), spec.plan().await);
        assert!(!shown.contains("testing"), "a credential shown: {shown}");
    }
}

// -------------------------------------------------------------------------------------------------
// the dry run, through the console
// -------------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_journals_the_exact_change_batch_and_changes_nothing() {
    let lab = Lab::begin().await;
    aws_env();
    let ids = ids();
    let mut text = std::fs::read_to_string(&lab.config_path).expect("read the lab config");
    text.push_str(&format!(
        r#"
[aws]
profile = "{PROFILE}"
endpoint-url = "{url}"

[[route53]]
name = "api.failover.test."
zone-id = "{zone}"
interval = "1s"
timeout = "3s"

[[runbook]]
name = "aws"
from = "primary"
to = "secondary"
[[runbook.step]]
title = "Writer to ledger-b"
action = "rds-failover"
cluster = "ledger"
target = "ledger-b"
[[runbook.step]]
title = "Route 53 to site B"
action = "route53"
record = "api.failover.test."
"#,
        url = moto_url(),
        zone = ids.zone
    ));
    let path = lab.dir.path().join("aws-config.toml");
    std::fs::write(&path, &text).expect("write the config");
    let config = Arc::new(config::load(&path).unwrap_or_else(|e| panic!("config: {e}")));
    let aws_runbook = config.runbooks.len() - 1;
    let before = r53_sets(&ids.zone);
    let view = View {
        theme: Theme::mono(),
        ascii: true,
    };
    let mut engine = Engine::<Live>::start(config.clone(), "aws-test".into(), view)
        .await
        .expect("engine starts");
    common::wait(&mut engine, "the driver lock", |m| {
        m.driver.token().is_some()
    })
    .await;
    key(&mut engine, KeyCode::Char('r')).await;
    for _ in 0..aws_runbook {
        key(&mut engine, KeyCode::Char('j')).await;
    }
    key(&mut engine, KeyCode::Enter).await;
    assert_eq!(
        engine.model.runs.plan,
        Some(aws_runbook),
        "the plan is open"
    );
    key(&mut engine, KeyCode::Char('D')).await;
    let finished = engine
        .run_until(Duration::from_secs(20), |m| {
            m.runs
                .current
                .as_ref()
                .is_some_and(|r| r.dry_run && r.state == RunState::Finished)
        })
        .await;
    assert!(finished, "the dry run did not finish");
    engine.shutdown("test done").await;

    let (entries, _) =
        failover_console::journal::read_all(&config.journal).expect("read the journal");
    let would: Vec<(usize, String)> = entries
        .iter()
        .filter_map(|e| match &e.run.as_ref()?.event {
            Event::DryRunStep {
                step,
                would,
                blocked: None,
            } => Some((*step, would.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(would.len(), 2, "both steps would run: {entries:#?}");
    assert!(
        would[0]
            .1
            .starts_with("RDS FailoverDBCluster ledger TargetDBInstanceIdentifier ledger-b ; "),
        "{would:?}"
    );
    let line = &would[1].1;
    let start = line.find('{').expect("JSON in the journal");
    let end = line.rfind('}').expect("JSON in the journal");
    let batch: Value = serde_json::from_str(&line[start..=end]).expect("journaled JSON parses");
    assert_eq!(batch, swap_json(&ids), "the exact ChangeBatch: {line}");
    assert!(
        line.contains("ChangeBatch JSON, exactly as it would be sent now: {"),
        "{line}"
    );

    assert_eq!(r53_sets(&ids.zone), before, "Route 53 unchanged");
    assert_eq!(ledger_writer(), "ledger-a", "RDS unchanged");
    let secret = common::journal_text(&entries);
    assert!(!secret.contains("testing"), "a credential in the journal");
}
