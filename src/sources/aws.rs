//! What every AWS source shares: the SDK configuration from aws-config's default chain, the
//! poll schedule with backoff while throttled, and "the latest datapoint" from CloudWatch.
//!
//! Credentials are never read, printed or logged here: the SDK resolves them itself, and errors
//! are classified (`route53::classify`) from codes and messages that carry no secrets.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{
    Dimension, Metric, MetricDataQuery, MetricStat, ScanBy, StatusCode,
};
use time::OffsetDateTime;

use crate::config::AwsSettings;
use crate::observe::{AwsError, AwsErrorKind, Datapoint};

/// The longest wait between tries while AWS throttles us.
const MAX_BACKOFF: Duration = Duration::from_secs(600);

/// The SDK settings for one source. Loading never fails: missing credentials show up on the
/// first call, as a classified error. Without a region in the config, `default_region` (Route
/// 53's us-east-1), else the default chain's (AWS_REGION, the profile's `region`).
pub async fn sdk_config(
    aws: &AwsSettings,
    timeout: Duration,
    default_region: Option<&str>,
) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        // We poll again on our own schedule (with backoff); the SDK's retries would only hide
        // throttling and stretch a dead endpoint's timeout.
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(timeout)
                .operation_attempt_timeout(timeout)
                .operation_timeout(timeout)
                .build(),
        );
    if let Some(profile) = &aws.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = aws.region.as_deref().or(default_region) {
        loader = loader.region(aws_config::Region::new(region.to_string()));
    }
    if let Some(url) = &aws.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

/// When to read next: the interval, or while throttled twice the last wait (up to 10 min).
#[derive(Debug)]
pub struct Backoff {
    interval: Duration,
    current: Duration,
}

impl Backoff {
    pub fn new(interval: Duration) -> Backoff {
        Backoff {
            interval,
            current: interval,
        }
    }

    /// After a read that took `took`: how long to wait. A throttled error is told the wait, so
    /// the screen can say when the next try is.
    pub fn after<T>(&mut self, result: &mut Result<T, AwsError>, took: Duration) -> Duration {
        match result {
            Err(AwsError {
                kind: AwsErrorKind::Throttled { retry_in_secs },
                ..
            }) => {
                self.current = (self.current * 2).min(MAX_BACKOFF);
                *retry_in_secs = self.current.as_secs();
                self.current
            }
            _ => {
                self.current = self.interval;
                self.interval.saturating_sub(took)
            }
        }
    }
}

/// The poll loop of every AWS source: `read` every `interval`, each read bounded by `timeout`;
/// while throttled, twice as long a wait each time (up to 10 min), said in the error. Ends when
/// the console stops listening.
pub async fn poll<T, F>(
    interval: Duration,
    timeout: Duration,
    tx: super::Sender,
    mut read: impl FnMut() -> F,
    observe: impl Fn(Result<T, AwsError>) -> crate::observe::Observation,
) where
    F: std::future::Future<Output = Result<T, AwsError>>,
{
    let mut backoff = Backoff::new(interval);
    let mut wait = Duration::ZERO;
    loop {
        tokio::time::sleep(wait).await;
        let started = tokio::time::Instant::now();
        let mut result = bounded(timeout, read()).await;
        wait = backoff.after(&mut result, started.elapsed());
        if tx.send(observe(result)).await.is_err() {
            return;
        }
    }
}

/// A whole read bounded by `timeout`: several calls each within the SDK's timeout could still
/// add up past it.
pub async fn bounded<T>(
    timeout: Duration,
    read: impl std::future::Future<Output = Result<T, AwsError>>,
) -> Result<T, AwsError> {
    tokio::time::timeout(timeout, read)
        .await
        .unwrap_or_else(|_| {
            Err(AwsError {
                kind: AwsErrorKind::Timeout,
                message: format!("no answer within {}", crate::ui::format::latency(timeout)),
            })
        })
}

/// One metric and statistic to read.
#[derive(Debug, Clone)]
pub struct MetricQuery {
    pub namespace: String,
    pub metric: String,
    pub dimensions: Vec<(String, String)>,
    pub statistic: String,
    pub period: Duration,
}

/// The latest datapoint of each query within the last `window`, in one GetMetricData call:
/// per query, the datapoint (None when there is none: no data is not zero), or why CloudWatch
/// could not compute it. A failed call (throttled, no credentials...) fails as a whole.
pub async fn latest(
    client: &aws_sdk_cloudwatch::Client,
    queries: &[MetricQuery],
    window: Duration,
) -> Result<Vec<Result<Option<Datapoint>, String>>, AwsError> {
    if queries.is_empty() {
        return Ok(Vec::new());
    }
    let period = queries
        .iter()
        .map(|q| q.period.as_secs().max(1))
        .max()
        .unwrap_or(60) as i64;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    // Period-aligned like CloudWatch's own buckets: every bucket starts within the window, and
    // the end is past the current one, so the period in progress is included.
    let end = (now / period + 1) * period;
    let start = (now - window.as_secs() as i64 + period - 1).div_euclid(period) * period;
    let mut request = client
        .get_metric_data()
        .start_time(DateTime::from_secs(start))
        .end_time(DateTime::from_secs(end))
        .scan_by(ScanBy::TimestampDescending);
    for (i, q) in queries.iter().enumerate() {
        let metric = Metric::builder()
            .namespace(&q.namespace)
            .metric_name(&q.metric)
            .set_dimensions(Some(
                q.dimensions
                    .iter()
                    .map(|(name, value)| Dimension::builder().name(name).value(value).build())
                    .collect(),
            ))
            .build();
        let stat = MetricStat::builder()
            .metric(metric)
            .period(i32::try_from(q.period.as_secs()).unwrap_or(60))
            .stat(&q.statistic)
            .build();
        request = request.metric_data_queries(
            MetricDataQuery::builder()
                .id(format!("q{i}"))
                .metric_stat(stat)
                .return_data(true)
                .build(),
        );
    }
    let out = request.send().await.map_err(super::route53::classify)?;
    Ok((0..queries.len())
        .map(|i| {
            let id = format!("q{i}");
            let Some(result) = out
                .metric_data_results()
                .iter()
                .find(|r| r.id() == Some(&id))
            else {
                return Ok(None);
            };
            if let Some(code @ (StatusCode::InternalError | StatusCode::Forbidden)) =
                result.status_code()
            {
                let detail = result
                    .messages()
                    .iter()
                    .filter_map(|m| m.value())
                    .collect::<Vec<_>>()
                    .join("; ");
                return Err(format!("CloudWatch: {} {detail}", code.as_str())
                    .trim()
                    .to_string());
            }
            Ok(result
                .timestamps()
                .iter()
                .zip(result.values())
                .filter_map(|(t, v)| {
                    let at = OffsetDateTime::from_unix_timestamp(t.secs()).ok()?;
                    v.is_finite().then_some(Datapoint { value: *v, at })
                })
                .max_by_key(|d| d.at))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_while_throttled_and_says_so() {
        let mut b = Backoff::new(Duration::from_secs(30));
        let mut throttled: Result<(), AwsError> = Err(AwsError {
            kind: AwsErrorKind::Throttled { retry_in_secs: 0 },
            message: "Throttling".into(),
        });
        assert_eq!(
            b.after(&mut throttled, Duration::ZERO),
            Duration::from_secs(60)
        );
        assert_eq!(
            throttled.as_ref().unwrap_err().kind,
            AwsErrorKind::Throttled { retry_in_secs: 60 }
        );
        let mut again = throttled.clone();
        assert_eq!(
            b.after(&mut again, Duration::ZERO),
            Duration::from_secs(120)
        );
        let mut ok: Result<(), AwsError> = Ok(());
        assert_eq!(
            b.after(&mut ok, Duration::from_secs(1)),
            Duration::from_secs(29)
        );
        for _ in 0..10 {
            b.after(&mut throttled, Duration::ZERO);
        }
        assert_eq!(b.after(&mut throttled, Duration::ZERO), MAX_BACKOFF);
    }
}
