//! The reducer on `[[rds]]` and `[[cloudwatch]]` observations: each kind of failure is one
//! edge, throttling that goes on is not news, recovery and staleness are edges once.

#[path = "common/fixture.rs"]
mod fixture;

use failover_core::app::{Mode, Model, Msg};
use failover_core::kinds::cloudwatch::{Level, Shown};
use failover_core::kinds::{
    Observation,
    aws::{AwsError, AwsErrorKind},
    cloudwatch::Datapoint,
    rds::{LagMetric, LagReading, RdsInstance, RdsReading, RdsRole},
};
use failover_core::timeline::{Entry, Severity};
use time::OffsetDateTime;
use time::macros::datetime;

const CONFIG: &str = r#"
[sites.primary]
[sites.secondary]
[[rds]]
name = "orders"
instances = { primary = "orders-a", secondary = "orders-b" }
max-lag = "30s"
interval = "10s"
timeout = "5s"
[[cloudwatch]]
name = "canary"
site = "secondary"
namespace = "Lab/Canary"
metric = "SuccessPercent"
warn = 95
crit = 90
interval = "10s"
timeout = "5s"
"#;

const T0: OffsetDateTime = datetime!(2026-03-01 14:30:00 UTC);

fn at(secs: i64) -> OffsetDateTime {
    fixture::after(T0, secs as f64)
}

fn model() -> Model {
    fixture::model(CONFIG, Mode::Live, "t", fixture::mono(), T0)
}

/// The edges one message records.
fn edges(m: &mut Model, msg: Msg) -> Vec<Entry> {
    fixture::step(m, msg)
}

fn error(kind: AwsErrorKind) -> AwsError {
    AwsError {
        kind,
        message: "x".into(),
    }
}

fn rds(m: &mut Model, secs: i64, result: Result<RdsReading, AwsError>) -> Vec<Entry> {
    edges(
        m,
        Msg::Observed(Observation::Rds {
            source: 0,
            at: at(secs),
            result,
        }),
    )
}

fn canary(m: &mut Model, secs: i64, result: Result<Option<f64>, AwsError>) -> Vec<Entry> {
    let result = result.map(|v| {
        v.map(|value| Datapoint {
            value,
            at: at(secs - 30),
        })
    });
    edges(
        m,
        Msg::Observed(Observation::CloudWatch {
            check: 0,
            at: at(secs),
            result,
        }),
    )
}

fn reading(lag: Option<f64>) -> RdsReading {
    let inst = |id: &str, role, lag| {
        Ok(RdsInstance {
            id: id.into(),
            status: "available".into(),
            engine: "postgres".into(),
            availability_zone: Some("us-east-1a".into()),
            multi_az: true,
            role,
            lag,
        })
    };
    RdsReading {
        instances: vec![
            inst("orders-a", RdsRole::Primary { replicas: vec![] }, None),
            inst(
                "orders-b",
                RdsRole::ReadReplica {
                    source: "orders-a".into(),
                },
                Some(LagReading {
                    metric: LagMetric::ReplicaLag,
                    latest: Ok(lag.map(|value| Datapoint { value, at: at(0) })),
                }),
            ),
        ],
        clusters: vec![],
    }
}

fn texts(entries: &[Entry]) -> Vec<String> {
    entries
        .iter()
        .map(|e| format!("{} {} {}", e.severity.label(), e.source, e.message))
        .collect()
}

#[test]
fn each_kind_of_failure_is_one_edge_and_recovery_another() {
    let mut m = model();
    let no_credentials = || Err(error(AwsErrorKind::NoCredentials));
    assert_eq!(
        texts(&rds(&mut m, 1, no_credentials())),
        ["WARN rds/orders no credentials from the default credential chain"]
    );
    assert!(rds(&mut m, 2, no_credentials()).is_empty());
    let throttled = |s| Err(error(AwsErrorKind::Throttled { retry_in_secs: s }));
    assert_eq!(
        texts(&rds(&mut m, 3, throttled(20))),
        ["WARN rds/orders throttled by AWS: next try in 20s"]
    );
    // Still throttled, a longer wait: not news.
    assert!(rds(&mut m, 23, throttled(40)).is_empty());
    let back = texts(&rds(&mut m, 63, Ok(reading(Some(2.0)))));
    assert_eq!(back[0], "OK rds/orders RDS answering again");
    assert!(
        back[2].starts_with("INFO rds/orders/secondary orders-b read replica of orders-a"),
        "{back:?}"
    );
    assert!(rds(&mut m, 73, Ok(reading(Some(3.0)))).is_empty());
    assert_eq!(
        texts(&rds(&mut m, 83, Ok(reading(None)))),
        ["WARN rds/orders/secondary orders-b no lag data (ReplicaLag, none in 5m)"]
    );
    assert_eq!(
        texts(&rds(&mut m, 93, Ok(reading(Some(45.0))))),
        ["WARN rds/orders/secondary orders-b lag 45 s (ReplicaLag at 14:30:00): over max-lag 30s"]
    );

    assert_eq!(
        texts(&canary(&mut m, 1, Err(error(AwsErrorKind::Unreachable)))),
        ["WARN cloudwatch/canary endpoint unreachable: x"]
    );
    assert_eq!(m.kinds.cloudwatch[0].shown(), Shown::Error);
    assert_eq!(
        texts(&canary(&mut m, 2, Ok(Some(100.0)))),
        ["OK cloudwatch/canary waiting → OK: 100 at or above warn 95 (SuccessPercent Average 1m)"]
    );
    assert!(canary(&mut m, 12, Ok(Some(99.0))).is_empty());
    assert_eq!(
        texts(&canary(&mut m, 22, Ok(None))),
        [
            "WARN cloudwatch/canary OK → NO DATA: no datapoint in the last 5m (SuccessPercent Average 1m)"
        ]
    );
    assert_eq!(m.kinds.cloudwatch[0].shown(), Shown::Level(Level::NoData));
    let crit = canary(&mut m, 32, Ok(Some(80.0)));
    assert_eq!(crit[0].severity, Severity::Crit);
}

#[test]
fn a_silent_source_is_stale_once_and_fresh_again() {
    let mut m = model();
    rds(&mut m, 1, Ok(reading(Some(2.0))));
    canary(&mut m, 1, Ok(Some(100.0)));
    // interval 10s + timeout 5s: silent for 16s is stale.
    let stale = texts(&edges(&mut m, Msg::Tick(at(17))));
    assert_eq!(stale.len(), 2, "{stale:?}");
    assert!(
        stale
            .iter()
            .any(|e| e.starts_with("WARN rds/orders stale: no answer for 16.0s"))
    );
    assert!(
        stale
            .iter()
            .any(|e| e.starts_with("WARN cloudwatch/canary stale"))
    );
    assert!(edges(&mut m, Msg::Tick(at(30))).is_empty());
    assert_eq!(m.kinds.cloudwatch[0].shown(), Shown::Stale);
    assert_eq!(
        texts(&canary(&mut m, 31, Ok(Some(100.0)))),
        ["OK cloudwatch/canary answering again (no longer stale)"]
    );
    // A throttled source waits as long as it said, not its interval.
    rds(
        &mut m,
        32,
        Err(error(AwsErrorKind::Throttled { retry_in_secs: 120 })),
    );
    assert!(
        !texts(&edges(&mut m, Msg::Tick(at(100))))
            .iter()
            .any(|e| e.contains("rds/orders stale"))
    );
    assert!(
        texts(&edges(&mut m, Msg::Tick(at(160))))
            .iter()
            .any(|e| e.contains("rds/orders stale"))
    );
}

/// The RDS instances say where writes go, like a database's members: one primary serves its
/// site; a promoted replica beside a still-writable old primary is split brain.
#[test]
fn rds_primaries_count_in_the_verdict() {
    use failover_core::app::verdict;
    let mut m = model();
    rds(&mut m, 1, Ok(reading(Some(1.0))));
    let serving = verdict::serving(&m);
    assert_eq!(serving.db, vec![vec![0]]);
    assert_eq!(serving.tags(0), vec!["db"]);
    assert!(
        !verdict::assess(&m)
            .iter()
            .any(|f| f.text.contains("split brain")),
        "{:?}",
        verdict::assess(&m)
    );

    let mut promoted = reading(None);
    if let Ok(b) = &mut promoted.instances[1] {
        b.role = RdsRole::Primary { replicas: vec![] };
        b.lag = None;
    }
    rds(&mut m, 2, Ok(promoted));
    let serving = verdict::serving(&m);
    assert_eq!(serving.db, vec![vec![0, 1]]);
    assert_eq!(serving.troubles(), vec!["split brain"]);
    let findings = verdict::assess(&m);
    assert!(
        findings.iter().any(|f| f.level == verdict::Level::Critical
            && f.text == "rds orders: split brain, 2 writable instances (orders-a, orders-b)"),
        "{findings:?}"
    );
}
