//! Reads an `[[rds]]` source with the official SDK: DescribeDBInstances for each configured
//! instance, DescribeDBClusters for their Aurora cluster (which instance writes), and the
//! replicas' lag from CloudWatch (`ReplicaLag` in seconds, `AuroraReplicaLag` in milliseconds).

use aws_sdk_rds::types::{DbCluster, DbInstance};
use futures::future::join_all;

use std::time::Duration;

use failover_core::kinds::Observation;
use failover_core::kinds::aws::{AwsError, AwsErrorKind};
use failover_core::kinds::rds::{
    LagMetric, LagReading, RdsCluster, RdsInstance, RdsReading, RdsRole, RdsSource,
};

use crate::net::aws::{AwsSource, MetricQuery, classify, latest, sdk_config};

pub struct Poller {
    index: usize,
    spec: RdsSource,
    rds: aws_sdk_rds::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
}

impl Poller {
    pub async fn new(index: usize, spec: RdsSource) -> Poller {
        let config = sdk_config(&spec.aws, spec.timeout, None).await;
        Poller {
            index,
            rds: aws_sdk_rds::Client::new(&config),
            cloudwatch: aws_sdk_cloudwatch::Client::new(&config),
            spec,
        }
    }
}

impl AwsSource for Poller {
    type Reading = RdsReading;

    fn timing(&self) -> (Duration, Duration) {
        (self.spec.interval, self.spec.timeout)
    }

    fn observation(&self, result: Result<RdsReading, AwsError>) -> Observation {
        Observation::Rds {
            source: self.index,
            at: time::OffsetDateTime::now_utc(),
            result,
        }
    }

    /// Every configured instance, their clusters, and the replicas' lag.
    async fn read(&self) -> Result<RdsReading, AwsError> {
        let described = join_all(
            self.spec
                .instances
                .iter()
                .map(|i| describe_instance(&self.rds, &i.id)),
        )
        .await;
        let described = described.into_iter().collect::<Result<Vec<_>, _>>()?;
        // The configured cluster, then any other an instance says it belongs to.
        let mut cluster_ids: Vec<String> = self.spec.cluster.iter().cloned().collect();
        for id in described
            .iter()
            .flat_map(|d| d.as_ref().ok())
            .filter_map(|d| d.db_cluster_identifier())
        {
            if !cluster_ids.iter().any(|c| c == id) {
                cluster_ids.push(id.to_string());
            }
        }
        let clusters = join_all(cluster_ids.iter().map(|c| describe_cluster(&self.rds, c))).await;
        let clusters = clusters.into_iter().collect::<Result<Vec<_>, _>>()?;
        let mut instances: Vec<Result<RdsInstance, String>> = described
            .iter()
            .map(|d| {
                d.as_ref()
                    .map(|d| instance(d, &clusters))
                    .map_err(Clone::clone)
            })
            .collect();
        self.read_lag(&mut instances).await?;
        Ok(RdsReading {
            instances,
            clusters,
        })
    }
}

impl Poller {
    /// The replicas' lag, in one GetMetricData call. Throttling fails the read (so the poller
    /// backs off); any other failure is shown on each replica's lag, with the rest of the read.
    async fn read_lag(
        &self,
        instances: &mut [Result<RdsInstance, String>],
    ) -> Result<(), AwsError> {
        let mut wanted = Vec::new();
        for (i, inst) in instances.iter_mut().enumerate() {
            let Ok(inst) = inst else { continue };
            let metric = match inst.role {
                RdsRole::ReadReplica { .. } => LagMetric::ReplicaLag,
                RdsRole::AuroraReader { .. } => LagMetric::AuroraReplicaLag,
                _ => continue,
            };
            wanted.push((
                i,
                metric,
                MetricQuery {
                    namespace: "AWS/RDS".into(),
                    metric: metric.name().into(),
                    dimensions: vec![("DBInstanceIdentifier".into(), inst.id.clone())],
                    statistic: "Maximum".into(),
                    period: self.spec.lag_period,
                },
            ));
        }
        let queries: Vec<MetricQuery> = wanted.iter().map(|(_, _, q)| q.clone()).collect();
        let results = match latest(&self.cloudwatch, &queries, self.spec.lag_max_age).await {
            Ok(r) => r,
            Err(e) if matches!(e.kind, AwsErrorKind::Throttled { .. }) => return Err(e),
            Err(e) => {
                let text = format!(
                    "lag unreadable: {}",
                    e.describe(self.spec.aws.profile.as_deref())
                );
                vec![Err(text); queries.len()]
            }
        };
        for ((i, metric, _), latest) in wanted.into_iter().zip(results) {
            if let Some(Ok(inst)) = instances.get_mut(i) {
                inst.lag = Some(LagReading { metric, latest });
            }
        }
        Ok(())
    }
}

/// The instance, or why it is not there. Errors that are not about this instance (credentials,
/// throttling, the endpoint) fail the whole read.
async fn describe_instance(
    client: &aws_sdk_rds::Client,
    id: &str,
) -> Result<Result<DbInstance, String>, AwsError> {
    match client
        .describe_db_instances()
        .db_instance_identifier(id)
        .send()
        .await
    {
        Ok(out) => Ok(out
            .db_instances()
            .iter()
            .find(|d| d.db_instance_identifier() == Some(id))
            .cloned()
            .ok_or_else(|| format!("DB instance {id} not found"))),
        Err(e) => {
            let e = classify(e);
            match e.kind {
                AwsErrorKind::NotFound => Ok(Err(format!("DB instance {id} not found"))),
                AwsErrorKind::Other => Ok(Err(e.message)),
                _ => Err(e),
            }
        }
    }
}

async fn describe_cluster(
    client: &aws_sdk_rds::Client,
    id: &str,
) -> Result<Result<RdsCluster, String>, AwsError> {
    match client
        .describe_db_clusters()
        .db_cluster_identifier(id)
        .send()
        .await
    {
        Ok(out) => Ok(out
            .db_clusters()
            .iter()
            .find(|c| c.db_cluster_identifier() == Some(id))
            .map(cluster)
            .ok_or_else(|| format!("DB cluster {id} not found"))),
        Err(e) => {
            let e = classify(e);
            match e.kind {
                AwsErrorKind::NotFound => Ok(Err(format!("DB cluster {id} not found"))),
                AwsErrorKind::Other => Ok(Err(e.message)),
                _ => Err(e),
            }
        }
    }
}

fn cluster(c: &DbCluster) -> RdsCluster {
    RdsCluster {
        id: c.db_cluster_identifier().unwrap_or_default().to_string(),
        status: c.status().unwrap_or("?").to_string(),
        engine: c.engine().unwrap_or_default().to_string(),
        multi_az: c.multi_az().unwrap_or(false),
        members: c
            .db_cluster_members()
            .iter()
            .filter_map(|m| {
                Some((
                    m.db_instance_identifier()?.to_string(),
                    m.is_cluster_writer().unwrap_or(false),
                ))
            })
            .collect(),
    }
}

/// The instance's role: an Aurora member's from its cluster's member list, else a read
/// replica's from its source, else a primary.
fn instance(d: &DbInstance, clusters: &[Result<RdsCluster, String>]) -> RdsInstance {
    let id = d.db_instance_identifier().unwrap_or_default().to_string();
    let role = match d.db_cluster_identifier() {
        Some(cluster_id) => {
            let writer = clusters
                .iter()
                .flatten()
                .find(|c| c.id == cluster_id)
                .and_then(|c| c.members.iter().find(|(m, _)| *m == id))
                .map(|(_, writer)| *writer);
            let cluster = cluster_id.to_string();
            match writer {
                Some(true) => RdsRole::AuroraWriter { cluster },
                Some(false) => RdsRole::AuroraReader { cluster },
                None => RdsRole::AuroraUnknown { cluster },
            }
        }
        None => match d.read_replica_source_db_instance_identifier() {
            Some(source) => RdsRole::ReadReplica {
                source: source.to_string(),
            },
            None => RdsRole::Primary {
                replicas: d.read_replica_db_instance_identifiers().to_vec(),
            },
        },
    };
    RdsInstance {
        id,
        status: d.db_instance_status().unwrap_or("?").to_string(),
        engine: d.engine().unwrap_or_default().to_string(),
        availability_zone: d.availability_zone().map(str::to_string),
        multi_az: d.multi_az().unwrap_or(false),
        role,
        lag: None,
    }
}
