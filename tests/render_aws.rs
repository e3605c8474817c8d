//! The AWS sources on screen, as text snapshots at 80x24 and 160x48: CloudWatch checks under
//! the health checks, RDS instances under the PostgreSQL members. Models are built by feeding
//! observations through `update`, with recorded entries fed back as journaled.

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
use failover_core::kinds::{
    Observation,
    aws::{AwsError, AwsErrorKind},
    cloudwatch::Datapoint,
    dns::DnsAnswer,
    health::ProbeOutcome,
    postgres::{Lsn, PgSnapshot, PrimaryReading, ReplicaReading, StandbyRow},
    rds::{LagMetric, LagReading, RdsCluster, RdsInstance, RdsReading, RdsRole},
};
use failover_core::theme::{Theme, View};
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
[[health]]
name = "api-b"
site = "secondary"
http = "http://127.0.0.1:18082/healthz"

[[database]]
name = "orders"
kind = "postgres"
[[database.member]]
site = "primary"
dsn = "host=127.0.0.1 port=54321 user=postgres dbname=postgres"
[[database.member]]
site = "secondary"
dsn = "host=127.0.0.1 port=54322 user=postgres dbname=postgres"

[[dns]]
name = "api.failover.test."
resolvers = ["127.0.0.1:5353"]
[dns.answers]
primary = ["10.0.1.100"]
secondary = ["10.0.2.100"]

[aws]
region = "us-east-1"
profile = "ops"

[[rds]]
name = "orders"
instances = { primary = "orders-a", secondary = "orders-b" }
max-lag = "30s"

[[rds]]
name = "ledger"
cluster = "ledger"
instances = { primary = "ledger-a", secondary = "ledger-b" }
max-lag = "1s"

[[cloudwatch]]
name = "checkout canary"
site = "secondary"
namespace = "Lab/Canary"
metric = "SuccessPercent"
dimensions = { CanaryName = "checkout" }
warn = 95
crit = 90

[[cloudwatch]]
name = "5xx"
namespace = "AWS/ApplicationELB"
metric = "HTTPCode_Target_5XX_Count"
statistic = "Sum"
warn = 5
crit = 20
"#;

const T0: OffsetDateTime = datetime!(2026-03-01 14:30:00 UTC);

fn at(secs: f64) -> OffsetDateTime {
    fixture::after(T0, secs)
}

fn observe(m: &mut Model, o: Observation) {
    apply(m, Msg::Observed(o));
}

fn pg_primary() -> PgSnapshot {
    PgSnapshot {
        in_recovery: false,
        timeline: Some(1),
        server_version: "17.2".into(),
        cluster_name: "site_a".into(),
        primary: Some(PrimaryReading {
            current_lsn: Lsn(0x16_B374_D848),
            standbys: vec![StandbyRow {
                application_name: "site_b".into(),
                state: "streaming".into(),
                lag_bytes: Some(0),
                replay_lag: Some(Duration::ZERO),
            }],
        }),
        replica: None,
    }
}

fn pg_replica() -> PgSnapshot {
    PgSnapshot {
        in_recovery: true,
        timeline: Some(1),
        server_version: "17.2".into(),
        cluster_name: "site_b".into(),
        primary: None,
        replica: Some(ReplicaReading {
            receive_lsn: Some(Lsn(0x16_B374_D848)),
            replay_lsn: Some(Lsn(0x16_B374_D848)),
            replay_paused: false,
            receiver_status: Some("streaming".into()),
            since_last_replay: Some(Duration::from_secs(2)),
        }),
    }
}

fn instance(
    id: &str,
    role: RdsRole,
    az: &str,
    lag: Option<(LagMetric, Option<f64>)>,
) -> RdsInstance {
    let aurora = matches!(
        role,
        RdsRole::AuroraWriter { .. } | RdsRole::AuroraReader { .. }
    );
    RdsInstance {
        id: id.into(),
        status: "available".into(),
        engine: if aurora {
            "aurora-postgresql"
        } else {
            "postgres"
        }
        .into(),
        availability_zone: Some(az.into()),
        multi_az: !aurora,
        role,
        lag: lag.map(|(metric, value)| LagReading {
            metric,
            // CloudWatch stamps a datapoint with its period's start.
            latest: Ok(value.map(|value| Datapoint {
                value,
                at: at(-40.0),
            })),
        }),
    }
}

fn orders(lag: Option<f64>) -> RdsReading {
    RdsReading {
        instances: vec![
            Ok(instance(
                "orders-a",
                RdsRole::Primary {
                    replicas: vec!["orders-b".into()],
                },
                "us-east-1a",
                None,
            )),
            Ok(instance(
                "orders-b",
                RdsRole::ReadReplica {
                    source: "orders-a".into(),
                },
                "us-east-1a",
                Some((LagMetric::ReplicaLag, lag)),
            )),
        ],
        clusters: vec![],
    }
}

fn ledger() -> RdsReading {
    let cluster = || "ledger".to_string();
    RdsReading {
        instances: vec![
            Ok(instance(
                "ledger-a",
                RdsRole::AuroraWriter { cluster: cluster() },
                "us-east-1a",
                None,
            )),
            Ok(instance(
                "ledger-b",
                RdsRole::AuroraReader { cluster: cluster() },
                "us-east-1b",
                Some((LagMetric::AuroraReplicaLag, Some(20.0))),
            )),
        ],
        clusters: vec![Ok(RdsCluster {
            id: cluster(),
            status: "available".into(),
            engine: "aurora-postgresql".into(),
            multi_az: true,
            members: vec![("ledger-a".into(), true), ("ledger-b".into(), false)],
        })],
    }
}

fn metric(m: &mut Model, check: usize, secs: f64, value: Option<f64>) {
    observe(
        m,
        Observation::CloudWatch {
            check,
            at: at(secs),
            result: Ok(value.map(|value| Datapoint {
                value,
                at: at(secs - 30.0),
            })),
        },
    );
}

/// Every source has answered; the AWS ones all fine.
fn healthy(ascii: bool) -> Model {
    let config = failover_console::config::from_str(CONFIG, Path::new("test.toml")).unwrap();
    let view = View {
        theme: Theme::load("dark").unwrap(),
        ascii,
    };
    let mut m = Model::new(Arc::new(config), Mode::Live, "alice@ops".into(), view, T0);
    m.recorder = true;
    for s in [1.0, 2.0] {
        for check in [0, 1] {
            observe(
                &mut m,
                Observation::Probe {
                    check,
                    at: at(s),
                    outcome: ProbeOutcome {
                        ok: true,
                        latency: Duration::from_millis(3),
                        detail: "200".into(),
                    },
                },
            );
        }
    }
    for (member, snapshot) in [(0, pg_primary()), (1, pg_replica())] {
        observe(
            &mut m,
            Observation::Postgres {
                db: 0,
                member,
                at: at(2.2),
                result: Ok(snapshot),
            },
        );
    }
    observe(
        &mut m,
        Observation::Dns {
            record: 0,
            resolver: 0,
            at: at(2.5),
            answer: DnsAnswer::Records {
                values: vec!["10.0.1.100".into()],
                ttl: 60,
            },
        },
    );
    for (source, reading) in [(0, orders(Some(2.0))), (1, ledger())] {
        observe(
            &mut m,
            Observation::Rds {
                source,
                at: at(2.6),
                result: Ok(reading),
            },
        );
    }
    metric(&mut m, 0, 2.7, Some(100.0));
    metric(&mut m, 1, 2.8, Some(0.0));
    m.now = at(3.0);
    m
}

/// The replica lagging past max-lag, the canary CRIT, no 5xx data, the ledger source without
/// credentials.
fn trouble(ascii: bool) -> Model {
    let mut m = healthy(ascii);
    observe(
        &mut m,
        Observation::Rds {
            source: 0,
            at: at(32.6),
            result: Ok(orders(Some(50.0))),
        },
    );
    observe(
        &mut m,
        Observation::Rds {
            source: 1,
            at: at(32.7),
            result: Err(AwsError {
                kind: AwsErrorKind::CredentialsExpired,
                message: "ExpiredToken: The security token included in the request is expired"
                    .into(),
            }),
        },
    );
    metric(&mut m, 0, 62.7, Some(85.0));
    metric(&mut m, 1, 62.8, None);
    m.now = at(63.0);
    m
}

#[test]
fn aws_sources_healthy() {
    snapshot_both!("aws_healthy", &healthy(false));
}

#[test]
fn aws_sources_in_trouble() {
    snapshot_both!("aws_trouble", &trouble(false));
}

#[test]
fn aws_sources_ascii() {
    let screen = render(&trouble(true), 160, 48);
    insta::assert_snapshot!("aws_trouble_ascii_160x48", screen);
}
