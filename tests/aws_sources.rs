//! The RDS and CloudWatch sources, their gates, and Route 53's calculated checks, against the
//! lab's real moto server through the real SDK code paths (aws-config's default chain reading a
//! profile, the Query protocol for RDS and CloudWatch, the XML one for Route 53).
// Needs the lab (`scripts/lab up`): run by `scripts/test`, which turns the feature on.
#![cfg(feature = "lab")]

mod common;

use failover_console::net::aws::AwsSource;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::aws::{PROFILE, aws_env, closed_port, moto_url, next_second, sdk_config, seeded};
use common::screen::render;
use common::{API_A, Lab, PRIMARY, SECONDARY, assert_once, wait};
use failover_console::config::{self, Config};
use failover_console::engine::{Engine, Live};
use failover_console::kinds::{cloudwatch, rds as rds_source, route53};
use failover_core::app::Model;
use failover_core::app::verdict;
use failover_core::kinds::cloudwatch::{Level, Shown};
use failover_core::kinds::health::CheckStatus;
use failover_core::kinds::rds::{self, Lag};
use failover_core::kinds::{
    Observation,
    aws::AwsErrorKind,
    rds::{LagMetric, RdsRole},
};
use failover_core::runbook::StepKind;
use failover_core::runbook::evidence::{self, Evidence};
use failover_core::theme::{Theme, View};

const ORDERS: usize = 0;
const LEDGER: usize = 1;
const CANARY: usize = 0;
/// Site B's instance, in the order of `instances`.
const B: usize = 1;

/// `[aws]` for the lab's moto and the sources under test, with short intervals.
fn aws_sources(extra_rds: &str, extra_canary: &str) -> String {
    format!(
        r#"
[aws]
region = "us-east-1"
profile = "{PROFILE}"
endpoint-url = "{}"

[[rds]]
name = "orders"
instances = {{ primary = "orders-a", secondary = "orders-b" }}
max-lag = "30s"
lag-period = "1s"
interval = "1s"
timeout = "3s"
{extra_rds}

[[rds]]
name = "ledger"
cluster = "ledger"
instances = {{ primary = "ledger-a", secondary = "ledger-b" }}
max-lag = "1s"
lag-period = "1s"
lag-max-age = "3s"
interval = "1s"
timeout = "3s"
{extra_rds}

[[cloudwatch]]
name = "checkout canary"
site = "secondary"
namespace = "Lab/Canary"
metric = "SuccessPercent"
dimensions = {{ CanaryName = "checkout" }}
statistic = "Average"
period = "1s"
warn = 95
crit = 90
interval = "1s"
timeout = "3s"
{extra_canary}
"#,
        moto_url()
    )
}

/// Runbooks whose gates read the sources above.
const RUNBOOKS: &str = r#"
[[runbook]]
name = "aws-failover"
from = "primary"
to = "secondary"
[[runbook.step]]
title = "orders replica caught up"
gate = "lag"
rds = "orders"
[[runbook.step]]
title = "canary not failing"
gate = "cloudwatch"
check = "checkout canary"
[[runbook.step]]
title = "ledger reader caught up"
gate = "lag"
rds = "ledger"
[[runbook.step]]
title = "site B healthy"
gate = "healthy"

[[runbook]]
name = "aws-failback"
from = "secondary"
to = "primary"
[[runbook.step]]
title = "orders replica caught up"
gate = "lag"
rds = "orders"
"#;

/// The lab's config (health, database, DNS on the lab's ports) with the AWS sources.
fn lab_config_with(lab: &Lab, sources: &str) -> (PathBuf, Arc<Config>) {
    let mut text = std::fs::read_to_string(&lab.config_path).expect("read the lab config");
    text.push_str(sources);
    text.push_str(RUNBOOKS);
    let path = lab.dir.path().join("aws-sources.toml");
    std::fs::write(&path, &text).expect("write the config");
    let config = config::load(&path).unwrap_or_else(|e| panic!("config does not load: {e}"));
    (path, Arc::new(config))
}

/// The sources alone (one site pair), for the pollers' one-shot reads.
fn sources_only(extra: &str) -> Arc<Config> {
    let text = format!(
        "[sites.primary]\n[sites.secondary]\n{}",
        aws_sources(extra, extra)
    );
    Arc::new(config::from_str(&text, std::path::Path::new("aws-sources.toml")).expect("config"))
}

async fn engine(config: Arc<Config>) -> Engine {
    aws_env();
    let view = View {
        theme: Theme::mono(),
        ascii: true,
    };
    Engine::<Live>::start(config, "aws-test".into(), view)
        .await
        .expect("engine starts")
}

fn gate(m: &Model, runbook: &str, step: usize) -> Evidence {
    let rb = m
        .config
        .runbooks
        .iter()
        .find(|r| r.name == runbook)
        .expect("runbook");
    let StepKind::Gate(g) = &rb.steps[step].kind else {
        panic!("step {step} of {runbook} is not a gate")
    };
    evidence::gate(&m.world(), g)
}

fn lag_of(m: &Model, source: usize, instance: usize) -> Option<Lag> {
    match m.kinds.rds[source].instance(instance)? {
        Ok(inst) => Some(rds::lag(inst)),
        Err(_) => None,
    }
}

fn known_lag(m: &Model, source: usize, instance: usize) -> Option<f64> {
    match lag_of(m, source, instance)? {
        Lag::Known { value, .. } => Some(value),
        _ => None,
    }
}

fn canary(m: &Model) -> Shown {
    m.kinds.cloudwatch[CANARY].shown()
}

// -------------------------------------------------------------------------------------------------
// one read of each source
// -------------------------------------------------------------------------------------------------

#[tokio::test]
async fn rds_reads_the_instance_its_replica_and_the_aurora_cluster() {
    let lab = Lab::begin().await;
    aws_env();
    let config = sources_only("");
    let mut took = Vec::new();
    let read = |source: usize| {
        let spec = config.kinds.rds[source].clone();
        async move {
            let started = Instant::now();
            let poller = rds_source::Poller::new(source, spec).await;
            let observation = poller.once().await;
            let Observation::Rds { result, .. } = observation else {
                panic!("not an RDS observation: {observation:?}")
            };
            (result.expect("RDS answers"), started.elapsed())
        }
    };
    let (orders, t) = read(ORDERS).await;
    took.push(t);
    let a = orders.instances[0].as_ref().expect("orders-a");
    assert_eq!(a.id, "orders-a");
    assert_eq!(
        a.role,
        RdsRole::Primary {
            replicas: vec!["orders-b".into()]
        }
    );
    assert_eq!(a.status, "available");
    assert_eq!(a.engine, "postgres");
    assert_eq!(a.availability_zone.as_deref(), Some("us-east-1a"));
    assert!(a.multi_az);
    assert_eq!(a.lag, None, "no lag for a primary");
    let b = orders.instances[B].as_ref().expect("orders-b");
    assert_eq!(
        b.role,
        RdsRole::ReadReplica {
            source: "orders-a".into()
        }
    );
    let lag = b.lag.as_ref().expect("a replica's lag");
    assert_eq!(lag.metric, LagMetric::ReplicaLag);
    let point = lag
        .latest
        .clone()
        .expect("read")
        .expect("the seeded datapoint");
    assert_eq!(point.value, 2.0);

    // The ledger's lag may be 3 s old at most (lag-max-age): seeded again now, not at the
    // reset, which a busy machine put more than 3 s before this read.
    lab.run(&[
        "aws-metric",
        "AWS/RDS",
        "AuroraReplicaLag",
        "DBInstanceIdentifier=ledger-b",
        "20",
        "Milliseconds",
    ])
    .await;
    let (ledger, t) = read(LEDGER).await;
    took.push(t);
    let cluster = ledger.clusters[0].as_ref().expect("cluster ledger");
    assert_eq!(cluster.id, "ledger");
    assert!(
        cluster.members.contains(&("ledger-a".into(), true)),
        "{cluster:?}"
    );
    let writer = ledger.instances[0].as_ref().expect("ledger-a");
    assert_eq!(
        writer.role,
        RdsRole::AuroraWriter {
            cluster: "ledger".into()
        }
    );
    let reader = ledger.instances[B].as_ref().expect("ledger-b");
    assert_eq!(
        reader.role,
        RdsRole::AuroraReader {
            cluster: "ledger".into()
        }
    );
    assert_eq!(reader.availability_zone.as_deref(), Some("us-east-1b"));
    let lag = reader.lag.as_ref().expect("a reader's lag");
    assert_eq!(lag.metric, LagMetric::AuroraReplicaLag);
    assert_eq!(
        rds::value_text(
            lag.metric,
            lag.latest.clone().expect("read").expect("seeded").value
        ),
        "20 ms"
    );
    eprintln!("figures: one [[rds]] read (client setup included) took {took:?}");
}

#[tokio::test]
async fn a_missing_instance_is_shown_on_its_row_and_the_rest_is_read() {
    let _lab = Lab::begin().await;
    aws_env();
    let mut spec = sources_only("").kinds.rds[ORDERS].clone();
    spec.instances[0].id = "orders-gone".into();
    let observation = rds_source::Poller::new(0, spec).await.once().await;
    let Observation::Rds { result, .. } = observation else {
        panic!("{observation:?}")
    };
    let reading = result.expect("RDS answers");
    assert_eq!(
        reading.instances[0],
        Err("DB instance orders-gone not found".to_string())
    );
    assert!(reading.instances[B].is_ok(), "{reading:?}");
}

#[tokio::test]
async fn cloudwatch_reads_the_latest_datapoint_and_no_data_is_not_zero() {
    let _lab = Lab::begin().await;
    aws_env();
    let config = sources_only("");
    let read = |spec| async move {
        let observation = cloudwatch::Poller::new(0, spec).await.once().await;
        let Observation::CloudWatch { result, .. } = observation else {
            panic!("{observation:?}")
        };
        result
    };
    let point = read(config.kinds.cloudwatch[CANARY].clone())
        .await
        .expect("CloudWatch answers")
        .expect("the seeded datapoint");
    assert_eq!(point.value, 100.0);
    let age = time::OffsetDateTime::now_utc() - point.at;
    assert!(age < time::Duration::seconds(60), "{age}");

    let mut nothing = config.kinds.cloudwatch[CANARY].clone();
    nothing.metric = "NeverPut".into();
    assert_eq!(read(nothing).await.expect("CloudWatch answers"), None);
}

#[tokio::test]
async fn a_calculated_route53_check_is_read_from_cloudwatch() {
    let lab = Lab::begin().await;
    let sdk = sdk_config().await;
    let r53 = aws_sdk_route53::Client::new(&sdk);
    let zone = seeded("LAB_R53_ZONE_ID");
    let child = seeded("LAB_R53_HC_A");
    // A calculated check over site A's HTTP check, attached to the PRIMARY record.
    let calculated = r53
        .create_health_check()
        .caller_reference(format!("calc-{}", std::process::id()))
        .health_check_config(
            aws_sdk_route53::types::HealthCheckConfig::builder()
                .r#type(aws_sdk_route53::types::HealthCheckType::Calculated)
                .child_health_checks(child)
                .health_threshold(1)
                .build()
                .expect("health check config"),
        )
        .send()
        .await
        .expect("create the calculated check");
    let id = calculated
        .health_check()
        .map(|h| h.id().to_string())
        .expect("an id");
    use aws_sdk_route53::types::{
        Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet,
        ResourceRecordSetFailover, RrType,
    };
    let primary = ResourceRecordSet::builder()
        .name("api.failover.test.")
        .r#type(RrType::A)
        .set_identifier("site-a")
        .failover(ResourceRecordSetFailover::Primary)
        .ttl(60)
        .resource_records(
            ResourceRecord::builder()
                .value("10.0.1.100")
                .build()
                .expect("rr"),
        )
        .health_check_id(&id)
        .build()
        .expect("record set");
    r53.change_resource_record_sets()
        .hosted_zone_id(&zone)
        .change_batch(
            ChangeBatch::builder()
                .changes(
                    Change::builder()
                        .action(ChangeAction::Upsert)
                        .resource_record_set(primary)
                        .build()
                        .expect("change"),
                )
                .build()
                .expect("batch"),
        )
        .send()
        .await
        .expect("attach the calculated check");

    let text = format!(
        r#"
[sites.primary]
[sites.secondary]
[aws]
profile = "{PROFILE}"
endpoint-url = "{}"
[[dns]]
name = "api.failover.test."
resolvers = ["127.0.0.1:53"]
[dns.answers]
primary = ["10.0.1.100"]
secondary = ["10.0.2.100"]
[[route53]]
name = "api.failover.test."
zone-id = "{zone}"
"#,
        moto_url()
    );
    let config = config::from_str(&text, std::path::Path::new("calc.toml")).expect("config");
    let poller = route53::Poller::new(0, config.kinds.route53[0].clone()).await;
    let intended = |observation: Observation| {
        let Observation::Route53 { result, .. } = observation else {
            panic!("{observation:?}")
        };
        let reading = result.expect("Route 53 answers");
        failover_core::kinds::route53::intended(
            &config.kinds.dns,
            &config.kinds.route53[0],
            &reading,
        )
        .expect("an intended answer")
    };
    // No datapoint yet: unknown, not healthy.
    let unknown = intended(poller.once().await);
    assert_eq!(unknown.site, None, "{unknown:?}");
    assert!(
        unknown.reason.contains("no CloudWatch HealthCheckStatus"),
        "{unknown:?}"
    );

    let metric = |value: &str| {
        [
            "aws-metric",
            "AWS/Route53",
            "HealthCheckStatus",
            &format!("HealthCheckId={id}"),
            value,
        ]
        .map(String::from)
    };
    let args = metric("1");
    lab.run(&args.each_ref().map(String::as_str)).await;
    let healthy = intended(poller.once().await);
    assert_eq!(
        (healthy.role.as_str(), healthy.site),
        ("PRIMARY", Some(PRIMARY))
    );
    assert_eq!(
        healthy.reason,
        "PRIMARY healthy (calculated: CloudWatch HealthCheckStatus 1)"
    );
    // HealthCheckStatus is read as its Minimum over a minute: one 0 makes it unhealthy.
    let args = metric("0");
    lab.run(&args.each_ref().map(String::as_str)).await;
    let down = intended(poller.once().await);
    assert_eq!(
        (down.role.as_str(), down.site),
        ("SECONDARY", Some(SECONDARY))
    );
    assert_eq!(
        down.reason,
        "PRIMARY unhealthy (calculated: CloudWatch HealthCheckStatus 0)"
    );
}

#[tokio::test]
async fn an_unreachable_endpoint_and_a_missing_profile_are_plain_errors() {
    aws_env();
    let port = closed_port();
    let unreachable = sources_only(&format!("endpoint-url = \"http://127.0.0.1:{port}\""));
    let nosuch = sources_only("profile = \"nosuch\"");
    for (config, kind, shown) in [
        (
            &unreachable,
            AwsErrorKind::Unreachable,
            "endpoint unreachable: connection refused",
        ),
        (
            &nosuch,
            AwsErrorKind::NoCredentials,
            "no credentials from profile nosuch",
        ),
    ] {
        let profile = config.kinds.rds[0].aws.profile.clone();
        let started = Instant::now();
        let Observation::Rds { result, .. } =
            rds_source::Poller::new(0, config.kinds.rds[0].clone())
                .await
                .once()
                .await
        else {
            panic!("not RDS")
        };
        let rds_error = result.expect_err("RDS fails");
        let Observation::CloudWatch { result, .. } =
            cloudwatch::Poller::new(0, config.kinds.cloudwatch[0].clone())
                .await
                .once()
                .await
        else {
            panic!("not CloudWatch")
        };
        let cw_error = result.expect_err("CloudWatch fails");
        let took = started.elapsed();
        for error in [&rds_error, &cw_error] {
            let text = error.describe(profile.as_deref());
            eprintln!("shown: {text} ({error:?})");
            assert_eq!(error.kind, kind, "{error:?}");
            assert!(text.contains(shown), "{text}");
            assert!(!text.contains("testing"), "{text}");
        }
        assert!(took < Duration::from_secs(6), "took {took:?}");
    }
}

// -------------------------------------------------------------------------------------------------
// the engine: the world changes in moto, the model, the gates and the journal follow
// -------------------------------------------------------------------------------------------------

#[tokio::test]
async fn rds_lag_and_the_canary_move_the_model_the_gates_and_the_timeline() {
    let lab = Lab::begin().await;
    let (path, config) = lab_config_with(&lab, &aws_sources("", ""));
    let mut engine = engine(config).await;
    wait(&mut engine, "orders-b lag 2 s and the canary OK", |m| {
        known_lag(m, ORDERS, B) == Some(2.0) && canary(m) == Shown::Level(Level::Ok)
    })
    .await;
    let m = &engine.model;
    let lag_gate = gate(m, "aws-failover", 0);
    assert!(lag_gate.pass, "{lag_gate:?}");
    assert!(
        lag_gate.lines[0].starts_with(
            "rds/orders/site B (orders-b): read replica of orders-a, lag 2 s (ReplicaLag at "
        ),
        "{lag_gate:?}"
    );
    let canary_gate = gate(m, "aws-failover", 1);
    assert!(canary_gate.pass, "{canary_gate:?}");
    assert!(
        canary_gate.lines[0].contains("OK: 100 at or above warn 95"),
        "{canary_gate:?}"
    );
    let failback = gate(m, "aws-failback", 0);
    assert!(!failback.pass);
    assert!(
        failback.lines[0].contains("primary — is a primary, not a replica"),
        "{failback:?}"
    );

    // Lag over max-lag and back.
    lab.run(&["rds-lag", "50"]).await;
    wait(&mut engine, "orders-b lag 50 s", |m| {
        known_lag(m, ORDERS, B) == Some(50.0)
    })
    .await;
    let over = gate(&engine.model, "aws-failover", 0);
    assert!(!over.pass);
    assert!(over.lines[0].contains("lag over max-lag 30s"), "{over:?}");
    next_second().await;
    lab.run(&["rds-lag", "1"]).await;
    wait(&mut engine, "orders-b lag 1 s", |m| {
        known_lag(m, ORDERS, B) == Some(1.0)
    })
    .await;
    assert!(gate(&engine.model, "aws-failover", 0).pass);

    // The canary through WARN (passes, says so), CRIT (blocks) and back to OK.
    let canary_metric = |value: &'static str| {
        [
            "aws-metric",
            "Lab/Canary",
            "SuccessPercent",
            "CanaryName=checkout",
            value,
            "Percent",
        ]
    };
    next_second().await;
    lab.run(&canary_metric("93")).await;
    wait(&mut engine, "canary WARN", |m| {
        canary(m) == Shown::Level(Level::Warn)
    })
    .await;
    let warn = gate(&engine.model, "aws-failover", 1);
    assert!(warn.pass, "{warn:?}");
    assert!(
        warn.lines[0].contains("WARN: 93 below warn 95")
            && warn.lines[0].ends_with("— WARN passes"),
        "{warn:?}"
    );
    next_second().await;
    lab.run(&canary_metric("85")).await;
    wait(&mut engine, "canary CRIT", |m| {
        canary(m) == Shown::Level(Level::Crit)
    })
    .await;
    let crit = gate(&engine.model, "aws-failover", 1);
    assert!(!crit.pass);
    assert!(crit.lines[0].contains("CRIT: 85 below crit 90"), "{crit:?}");
    // It counts in site B's health: the healthy gate blocks, the verdict says why.
    let healthy = gate(&engine.model, "aws-failover", 3);
    assert!(!healthy.pass, "{healthy:?}");
    let findings = verdict::assess(&engine.model);
    assert!(
        findings
            .iter()
            .any(|f| f.text == "cloudwatch checkout canary (site B) CRIT: 85 below crit 90"),
        "{findings:?}"
    );
    for (w, h) in [(160, 48), (80, 24)] {
        let screen = render(&engine.model, w, h);
        assert!(screen.contains("checkout ca"), "{screen}");
        assert!(screen.contains("CRIT"), "{screen}");
    }
    let wide = render(&engine.model, 160, 48);
    assert!(wide.contains("orders-b  lag 1 s (ReplicaLag at "), "{wide}");
    next_second().await;
    lab.run(&canary_metric("99")).await;
    wait(&mut engine, "canary OK again", |m| {
        canary(m) == Shown::Level(Level::Ok)
    })
    .await;
    lab.run(&["http", "api-a", "down"]).await;
    wait(&mut engine, "the other panes keep updating", |m| {
        m.kinds.health[API_A].status == CheckStatus::Unhealthy
    })
    .await;
    engine.shutdown("aws test done").await;

    let entries = lab.journal();
    assert_once(&entries, "rds/orders/site B", "lag 50 s (ReplicaLag");
    assert_once(&entries, "rds/orders/site B", "over max-lag 30s");
    assert_once(&entries, "rds/orders/site B", "back within max-lag 30s");
    assert_once(
        &entries,
        "cloudwatch/checkout canary",
        "OK → WARN: 93 below warn 95",
    );
    assert_once(
        &entries,
        "cloudwatch/checkout canary",
        "WARN → CRIT: 85 below crit 90",
    );
    assert_once(
        &entries,
        "cloudwatch/checkout canary",
        "CRIT → OK: 99 at or above warn 95",
    );

    // status --json has the rds and cloudwatch arrays, through the binary and the same profile.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_failover-console"))
        .args([
            "--config",
            path.to_str().expect("utf-8"),
            "status",
            "--json",
        ])
        .env("NO_COLOR", "1")
        .output()
        .await
        .expect("run status");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "status --json is not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let b = &json["rds"][0]["instances"][1];
    assert_eq!(b["id"], "orders-b", "{json:#}");
    assert_eq!(b["site"], "secondary", "{json:#}");
    assert_eq!(b["role"], "replica", "{json:#}");
    assert_eq!(b["source"], "orders-a", "{json:#}");
    assert_eq!(b["lag"]["metric"], "ReplicaLag", "{json:#}");
    assert_eq!(b["lag"]["unit"], "s", "{json:#}");
    assert_eq!(b["lag"]["value"], 1.0, "{json:#}");
    assert_eq!(
        json["rds"][1]["clusters"][0]["writer"], "ledger-a",
        "{json:#}"
    );
    let canary = &json["cloudwatch"][0];
    assert_eq!(canary["state"], "OK", "{json:#}");
    assert_eq!(canary["value"], 99.0, "{json:#}");
    assert_eq!(canary["site"], "secondary", "{json:#}");
}

#[tokio::test]
async fn aurora_lag_in_milliseconds_ages_out_and_the_writer_moves() {
    let lab = Lab::begin().await;
    let (_, config) = lab_config_with(&lab, &aws_sources("", ""));
    let mut engine = engine(config).await;
    // lag-max-age 3s: the datapoint seeded at reset ages out; no data is unknown, not zero.
    wait(&mut engine, "ledger-b: no lag data", |m| {
        matches!(
            lag_of(m, LEDGER, B),
            Some(Lag::NoData(LagMetric::AuroraReplicaLag))
        )
    })
    .await;
    let unknown = gate(&engine.model, "aws-failover", 2);
    assert!(!unknown.pass);
    assert!(
        unknown.lines[0].contains("no lag data (AuroraReplicaLag, none in 3s)")
            && unknown.lines[0].contains("lag unknown: no datapoint"),
        "{unknown:?}"
    );
    let aurora_lag = |ms: &'static str| {
        [
            "aws-metric",
            "AWS/RDS",
            "AuroraReplicaLag",
            "DBInstanceIdentifier=ledger-b",
            ms,
            "Milliseconds",
        ]
    };
    lab.run(&aurora_lag("20")).await;
    wait(&mut engine, "ledger-b lag 20 ms, gate passes", |m| {
        known_lag(m, LEDGER, B) == Some(20.0) && gate(m, "aws-failover", 2).pass
    })
    .await;
    next_second().await;
    lab.run(&aurora_lag("1500")).await;
    wait(&mut engine, "ledger-b lag 1500 ms", |m| {
        known_lag(m, LEDGER, B) == Some(1500.0)
    })
    .await;
    let over = gate(&engine.model, "aws-failover", 2);
    assert!(!over.pass);
    assert!(
        over.lines[0].contains("lag 1500 ms (AuroraReplicaLag at ")
            && over.lines[0].contains("lag over max-lag 1s"),
        "{over:?}"
    );

    // FailoverDBCluster moves the writer in moto: roles follow, the gate now refuses.
    let sdk = sdk_config().await;
    aws_sdk_rds::Client::new(&sdk)
        .failover_db_cluster()
        .db_cluster_identifier("ledger")
        .target_db_instance_identifier("ledger-b")
        .send()
        .await
        .expect("failover-db-cluster");
    wait(&mut engine, "ledger-b writer, ledger-a reader", |m| {
        let role = |i| match m.kinds.rds[LEDGER].instance(i) {
            Some(Ok(inst)) => Some(rds::role_word(&inst.role)),
            _ => None,
        };
        role(0) == Some("reader") && role(B) == Some("writer")
    })
    .await;
    let writer = gate(&engine.model, "aws-failover", 2);
    assert!(!writer.pass);
    assert!(
        writer.lines[0].contains("is the Aurora writer, not a reader"),
        "{writer:?}"
    );
    engine.shutdown("aws test done").await;
    let entries = lab.journal();
    assert_once(
        &entries,
        "rds/ledger/site B",
        "ledger-b Aurora reader of ledger → Aurora writer of ledger",
    );
    assert_once(
        &entries,
        "rds/ledger/site A",
        "ledger-a Aurora writer of ledger → Aurora reader of ledger",
    );
    assert_once(&entries, "rds/ledger/site B", "over max-lag 1s");
}

#[tokio::test]
async fn missing_credentials_show_plainly_and_other_panes_keep_updating() {
    let lab = Lab::begin().await;
    let (_, config) = lab_config_with(
        &lab,
        &aws_sources("profile = \"nosuch\"", "profile = \"nosuch\""),
    );
    let mut engine = engine(config).await;
    wait(&mut engine, "RDS and CloudWatch say no credentials", |m| {
        let no_credentials = |e: Option<&failover_core::kinds::aws::AwsError>| {
            e.is_some_and(|e| e.kind == AwsErrorKind::NoCredentials)
        };
        no_credentials(m.kinds.rds[ORDERS].error.as_ref())
            && no_credentials(m.kinds.cloudwatch[CANARY].error.as_ref())
    })
    .await;
    lab.run(&["http", "api-a", "down"]).await;
    wait(&mut engine, "api-a unhealthy while AWS fails", |m| {
        m.kinds.health[API_A].status == CheckStatus::Unhealthy
    })
    .await;
    let m = &engine.model;
    assert_eq!(canary(m), Shown::Error);
    let blocked = gate(m, "aws-failover", 1);
    assert!(!blocked.pass);
    assert!(
        blocked.lines[0].contains("error: no credentials from profile nosuch"),
        "{blocked:?}"
    );
    let screen = render(m, 160, 48);
    assert!(
        screen.contains("rds orders  max-lag 30s  no credentials from profile nosuch"),
        "{screen}"
    );
    engine.shutdown("aws test done").await;
    let entries = lab.journal();
    assert_once(&entries, "rds/orders", "no credentials from profile nosuch");
    assert_once(
        &entries,
        "cloudwatch/checkout canary",
        "no credentials from profile nosuch",
    );
    let text = common::journal_text(&entries);
    assert!(
        !text.contains("testing"),
        "a credential in the journal:\n{text}"
    );
}
