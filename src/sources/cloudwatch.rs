//! Reads a `[[cloudwatch]]` check: the latest datapoint of one metric and statistic, through
//! GetMetricData (aws-sdk-cloudwatch 1.99.0, the last release on the Query protocol).

use super::aws::{MetricQuery, bounded, latest, sdk_config};
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

    pub async fn run(self, tx: super::Sender) {
        let (interval, timeout) = (self.spec.interval, self.spec.timeout);
        super::aws::poll(
            interval,
            timeout,
            tx,
            || self.read(),
            |r| self.observation(r),
        )
        .await
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
