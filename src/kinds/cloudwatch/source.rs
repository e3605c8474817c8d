//! Reads a `[[cloudwatch]]` check: the latest datapoint of one metric and statistic, through
//! GetMetricData (aws-sdk-cloudwatch 1.99.0, the last release on the Query protocol).

use std::time::Duration;

use failover_core::kinds::Observation;
use failover_core::kinds::aws::{AwsError, AwsErrorKind};
use failover_core::kinds::cloudwatch::{CloudWatchCheck, Datapoint};

use crate::net::aws::{AwsSource, MetricQuery, latest, sdk_config};

pub struct Poller {
    index: usize,
    spec: CloudWatchCheck,
    client: aws_sdk_cloudwatch::Client,
}

impl Poller {
    pub async fn new(index: usize, spec: CloudWatchCheck) -> Poller {
        let config = sdk_config(&spec.aws, spec.timeout, None).await;
        Poller {
            index,
            client: aws_sdk_cloudwatch::Client::new(&config),
            spec,
        }
    }
}

impl AwsSource for Poller {
    type Reading = Option<Datapoint>;

    fn timing(&self) -> (Duration, Duration) {
        (self.spec.interval, self.spec.timeout)
    }

    fn observation(&self, result: Result<Option<Datapoint>, AwsError>) -> Observation {
        Observation::CloudWatch {
            check: self.index,
            at: time::OffsetDateTime::now_utc(),
            result,
        }
    }

    async fn read(&self) -> Result<Option<Datapoint>, AwsError> {
        let query = MetricQuery {
            namespace: self.spec.namespace.clone(),
            metric: self.spec.metric.clone(),
            dimensions: self.spec.dimensions.clone(),
            statistic: self.spec.statistic.clone(),
            period: self.spec.period,
        };
        let mut results = latest(&self.client, &[query], self.spec.max_age).await?;
        match results.pop() {
            Some(Ok(point)) => Ok(point),
            Some(Err(message)) => Err(AwsError {
                kind: AwsErrorKind::Other,
                message,
            }),
            None => Ok(None),
        }
    }
}
