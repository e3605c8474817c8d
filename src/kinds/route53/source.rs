//! Reads a `[[route53]]` record from Route 53 with the official SDK: its record sets (failover
//! PRIMARY / SECONDARY, values, TTL, health check) and each attached health check's status.
//!
//! Credentials come only from aws-config's default chain (environment, profiles, SSO, IMDS) and
//! are never printed or logged: errors are classified from their codes and the SDK's messages,
//! which carry no secrets.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use aws_sdk_route53::Client;
use aws_sdk_route53::types::{HealthCheckType, ResourceRecordSet};
use failover_core::kinds::Observation;
use failover_core::kinds::aws::{AwsError, AwsErrorKind};
use failover_core::kinds::cloudwatch::Datapoint;
use failover_core::kinds::dns::{RecordType, normalise_answer};
use failover_core::kinds::route53::{
    CheckerShare, HealthCheckReading, R53Reading, R53Set, Route53Record,
};

use super::sets::list_sets;
use crate::net::aws::{AwsSource, MetricQuery, classify, latest, sdk_config};

pub struct Poller {
    index: usize,
    record: Route53Record,
    client: Client,
    /// For calculated health checks: Route 53's metrics live in us-east-1.
    cloudwatch: aws_sdk_cloudwatch::Client,
    /// Health check id → calculated (a check's type never changes: asked once).
    calculated: Mutex<HashMap<String, bool>>,
}

impl AwsSource for Poller {
    type Reading = R53Reading;

    fn timing(&self) -> (Duration, Duration) {
        (self.record.interval, self.record.timeout)
    }

    /// The record sets, then each attached health check's status.
    async fn read(&self) -> Result<R53Reading, AwsError> {
        self.read_all().await
    }

    fn observation(&self, result: Result<R53Reading, AwsError>) -> Observation {
        Observation::Route53 {
            record: self.index,
            at: time::OffsetDateTime::now_utc(),
            result,
        }
    }
}

impl Poller {
    pub async fn new(index: usize, record: Route53Record) -> Poller {
        let config = sdk_config(&record.aws, record.timeout, Some(super::ROUTE53_REGION)).await;
        Poller {
            index,
            client: Client::new(&config),
            cloudwatch: aws_sdk_cloudwatch::Client::new(&config),
            record,
            calculated: Mutex::new(HashMap::new()),
        }
    }

    async fn read_all(&self) -> Result<R53Reading, AwsError> {
        let mut reading = read_sets(&self.client, &self.record).await?;
        for set in &mut reading.sets {
            if let Some(check) = &mut set.health_check {
                self.read_health_check(check).await?;
            }
        }
        Ok(reading)
    }

    /// GetHealthCheckStatus, or for a calculated check (where it does not apply) CloudWatch.
    async fn read_health_check(&self, check: &mut HealthCheckReading) -> Result<(), AwsError> {
        if !self.is_calculated(&check.id).await? {
            check.status = health_check_status(&self.client, &check.id).await?;
            let refused = check
                .status
                .as_ref()
                .is_err_and(|e| e.to_ascii_lowercase().contains("calculated"));
            if !refused {
                return Ok(());
            }
        }
        let (status, calculated) = calculated_status(&self.cloudwatch, &check.id).await?;
        check.status = status;
        check.calculated = calculated;
        Ok(())
    }

    async fn is_calculated(&self, id: &str) -> Result<bool, AwsError> {
        let known = self.calculated.lock().ok().and_then(|m| m.get(id).copied());
        if let Some(known) = known {
            return Ok(known);
        }
        let calculated = match self
            .client
            .get_health_check()
            .health_check_id(id)
            .send()
            .await
        {
            Ok(out) => out
                .health_check()
                .and_then(|h| h.health_check_config())
                .is_some_and(|c| *c.r#type() == HealthCheckType::Calculated),
            Err(e) => {
                let e = classify(e);
                match e.kind {
                    // GetHealthCheckStatus says what is wrong with this check, on its line.
                    AwsErrorKind::NotFound | AwsErrorKind::Other => return Ok(false),
                    _ => return Err(e),
                }
            }
        };
        if let Ok(mut m) = self.calculated.lock() {
            m.insert(id.to_string(), calculated);
        }
        Ok(calculated)
    }
}

/// A calculated check's status from `AWS/Route53` in CloudWatch: `HealthCheckStatus` (1
/// healthy, 0 not; its Minimum over a minute), else `HealthCheckPercentageHealthy` (healthy
/// above 18 %, like the checkers' share).
async fn calculated_status(
    cloudwatch: &aws_sdk_cloudwatch::Client,
    id: &str,
) -> Result<(Result<CheckerShare, String>, Option<(String, Datapoint)>), AwsError> {
    let query = |metric: &str, statistic: &str| MetricQuery {
        namespace: "AWS/Route53".into(),
        metric: metric.into(),
        dimensions: vec![("HealthCheckId".into(), id.to_string())],
        statistic: statistic.into(),
        period: Duration::from_secs(60),
    };
    let queries = [
        query("HealthCheckStatus", "Minimum"),
        query("HealthCheckPercentageHealthy", "Average"),
    ];
    let results = latest(cloudwatch, &queries, Duration::from_secs(600)).await?;
    let point = |i: usize| {
        results
            .get(i)
            .and_then(|r| r.as_ref().ok().copied().flatten())
    };
    Ok(match (point(0), point(1)) {
        (Some(status), _) => (
            Ok(CheckerShare {
                healthy: u32::from(status.value >= 1.0),
                total: 1,
            }),
            Some(("HealthCheckStatus".to_string(), status)),
        ),
        (None, Some(percent)) => (
            Ok(CheckerShare {
                healthy: percent.value.clamp(0.0, 100.0).round() as u32,
                total: 100,
            }),
            Some(("HealthCheckPercentageHealthy".to_string(), percent)),
        ),
        (None, None) => (
            Err(
                "calculated check: no CloudWatch HealthCheckStatus datapoint in the last 10m"
                    .into(),
            ),
            None,
        ),
    })
}

async fn read_sets(client: &Client, record: &Route53Record) -> Result<R53Reading, AwsError> {
    let sets = list_sets(client, &record.zone_id, &record.name, record.record_type).await?;
    Ok(R53Reading {
        sets: sets
            .iter()
            .map(|set| convert(set, record.record_type))
            .collect(),
    })
}

fn convert(set: &ResourceRecordSet, record_type: RecordType) -> R53Set {
    let mut values: Vec<String> = set
        .resource_records()
        .iter()
        .map(|r| normalise_answer(record_type, r.value()))
        .collect();
    values.sort();
    values.dedup();
    R53Set {
        set_identifier: set.set_identifier().map(str::to_string),
        failover: set.failover().map(|f| f.as_str().to_string()),
        values,
        alias: set
            .alias_target()
            .map(|a| format!("alias to {}", a.dns_name())),
        ttl: set.ttl(),
        health_check: set.health_check_id().map(|id| HealthCheckReading {
            id: id.to_string(),
            status: Err("not read yet".to_string()),
            calculated: None,
        }),
    }
}

/// The share of checkers reporting healthy. A throttled or denied call fails the whole read (so
/// the poller backs off); a check that is gone is reported on its own line.
async fn health_check_status(
    client: &Client,
    id: &str,
) -> Result<Result<CheckerShare, String>, AwsError> {
    match client
        .get_health_check_status()
        .health_check_id(id)
        .send()
        .await
    {
        Ok(out) => {
            let observations = out.health_check_observations();
            let healthy = observations
                .iter()
                .filter(|o| {
                    o.status_report()
                        .and_then(|r| r.status())
                        .is_some_and(|s| s.trim_start().starts_with("Success"))
                })
                .count();
            Ok(Ok(CheckerShare {
                healthy: u32::try_from(healthy).unwrap_or(u32::MAX),
                total: u32::try_from(observations.len()).unwrap_or(u32::MAX),
            }))
        }
        Err(e) => {
            let e = classify(e);
            match e.kind {
                AwsErrorKind::NotFound | AwsErrorKind::Other => Ok(Err(e.message)),
                _ => Err(e),
            }
        }
    }
}
