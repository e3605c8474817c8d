//! Reads a `[[cloudwatch]]` check: the latest datapoint of one metric and statistic, through
//! GetMetricData (aws-sdk-cloudwatch 1.99.0, the last release on the Query protocol).

use std::time::Duration;

use super::aws::{Backoff, MetricQuery, bounded, latest, sdk_config};
use crate::config::CloudWatchCheck;
use crate::observe::{AwsError, AwsErrorKind, Datapoint, Observation};

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

    pub async fn once(&self) -> Observation {
        let result = bounded(self.spec.timeout, self.read()).await;
        self.observation(result)
    }

    /// Reads every `interval`; while throttled, waits twice as long each time (up to 10 min).
    pub async fn run(self, tx: super::Sender) {
        let mut backoff = Backoff::new(self.spec.interval);
        let mut wait = Duration::ZERO;
        loop {
            tokio::time::sleep(wait).await;
            let started = tokio::time::Instant::now();
            let mut result = bounded(self.spec.timeout, self.read()).await;
            wait = backoff.after(&mut result, started.elapsed());
            if tx.send(self.observation(result)).await.is_err() {
                return;
            }
        }
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
