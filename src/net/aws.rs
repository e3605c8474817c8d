//! What every AWS source and action shares, written once: the SDK configuration from
//! aws-config's default chain, what an SDK error means (for a read, and for a write: refused or
//! unknown), the poll schedule with backoff while throttled, and "the latest datapoint" from
//! CloudWatch.
//!
//! Credentials are never read, printed or logged here: the SDK resolves them itself, and errors
//! are classified (`classify`) from codes and messages that carry no secrets.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{
    Dimension, Metric, MetricDataQuery, MetricStat, ScanBy, StatusCode,
};
use time::OffsetDateTime;

use aws_sdk_route53::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use failover_core::kinds::Observation;
use failover_core::kinds::aws::{AwsError, AwsErrorKind, AwsSettings, human};
use failover_core::kinds::cloudwatch::Datapoint;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

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
    tx: mpsc::Sender<Observation>,
    mut read: impl FnMut() -> F,
    observe: impl Fn(Result<T, AwsError>) -> Observation,
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
                message: format!("no answer within {}", failover_core::text::latency(timeout)),
            })
        })
}

/// An AWS source of one kind, read on a schedule: how long it waits and may take, how it
/// reads once, and the observation a read makes. The poll loop and its backoff are `run`'s.
pub trait AwsSource: Sync {
    type Reading: Send;
    /// The interval between reads and the bound on one read.
    fn timing(&self) -> (Duration, Duration);
    fn read(&self) -> impl std::future::Future<Output = Result<Self::Reading, AwsError>> + Send;
    fn observation(&self, result: Result<Self::Reading, AwsError>) -> Observation;

    /// One bounded read (for `status`).
    fn once(&self) -> impl std::future::Future<Output = Observation> + Send {
        async {
            let (_, timeout) = self.timing();
            self.observation(bounded(timeout, self.read()).await)
        }
    }
}

/// Reads every interval until the console stops listening.
pub async fn run<S: AwsSource>(source: S, tx: mpsc::Sender<Observation>) {
    let (interval, timeout) = source.timing();
    poll(
        interval,
        timeout,
        tx,
        || source.read(),
        |r| source.observation(r),
    )
    .await
}

/// Starts one poller per source; `make` builds a source's poller (its SDK clients) from its
/// index and spec.
pub fn spawn_each<T, S, F>(
    specs: &[T],
    tx: &mpsc::Sender<Observation>,
    pollers: &mut crate::pollers::Pollers,
    name: fn(&T) -> String,
    make: fn(usize, T) -> F,
) where
    T: Clone + Send + 'static,
    S: AwsSource + Send + 'static,
    F: std::future::Future<Output = S> + Send + 'static,
{
    for (i, spec) in specs.iter().enumerate() {
        let (tx, spec, name) = (tx.clone(), spec.clone(), name(spec));
        pollers.spawn(
            vec![name],
            async move { run(make(i, spec).await, tx).await },
        );
    }
}

/// Reads every source once (for `status`), each reading sent on `tx`.
pub fn read_each<T, S, F>(
    specs: &[T],
    tx: &mpsc::Sender<Observation>,
    tasks: &mut JoinSet<()>,
    make: fn(usize, T) -> F,
) where
    T: Clone + Send + 'static,
    S: AwsSource + Send + 'static,
    F: std::future::Future<Output = S> + Send + 'static,
{
    for (i, spec) in specs.iter().enumerate() {
        let (tx, spec) = (tx.clone(), spec.clone());
        tasks.spawn(async move {
            let _ = tx.send(make(i, spec).await.once().await).await;
        });
    }
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
    const DAY_SECS: u64 = 86_400;
    if queries.is_empty() {
        return Ok(Vec::new());
    }
    let period = queries
        .iter()
        .map(|q| q.period.as_secs().clamp(1, DAY_SECS))
        .max()
        .unwrap_or(60) as i64;
    // The config holds periods and windows to a day; the clamps keep this arithmetic in range
    // whatever they are.
    let window = window.as_secs().min(DAY_SECS) as i64;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    // Period-aligned like CloudWatch's own buckets: every bucket starts within the window, and
    // the end is past the current one, so the period in progress is included.
    let end = (now / period + 1) * period;
    let start = (now - window + period - 1).div_euclid(period) * period;
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
    let out = request.send().await.map_err(classify)?;
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

pub async fn rds_client(aws: &AwsSettings, timeout: Duration) -> aws_sdk_rds::Client {
    aws_sdk_rds::Client::new(&sdk_config(aws, timeout, None).await)
}

/// A failed read, as one line: "endpoint unreachable: connection refused", "no credentials from
/// profile ops", "DBInstanceNotFound: DBInstance orders-x not found."...
pub fn read_error<E, R>(error: SdkError<E, R>, aws: &AwsSettings, timeout: Duration) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    read_text(&classify(error), aws, timeout)
}

/// The classified error as one line; a timeout says how long was waited (the SDK's own text
/// for it is internal: "Operation, duration").
pub fn read_text(error: &AwsError, aws: &AwsSettings, timeout: Duration) -> String {
    match error.kind {
        AwsErrorKind::Timeout => format!("timeout: no answer within {}", human(timeout)),
        // An action is not retried on a schedule: no "next try in" here.
        AwsErrorKind::Throttled { .. } => format!("throttled by AWS: {}", error.message),
        _ => error.describe(aws.profile.as_deref()),
    }
}

/// What a failed write means.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteError {
    /// AWS answered with an error, or the request never left: nothing changed.
    NotSent(String),
    /// Sent, and no usable answer: it may have been applied.
    Unknown(String),
}

pub fn write_error<E, R>(error: SdkError<E, R>, aws: &AwsSettings, timeout: Duration) -> WriteError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let not_sent = match &error {
        SdkError::ServiceError(_) | SdkError::ConstructionFailure(_) => true,
        SdkError::DispatchFailure(_) => {
            // Only a connection that was never made proves nothing was sent.
            let text = DisplayErrorContext(&error).to_string().to_ascii_lowercase();
            [
                "tcp connect",
                "connection refused",
                "dns error",
                "credential",
            ]
            .iter()
            .any(|needle| text.contains(needle))
        }
        _ => false,
    };
    let classified: AwsError = classify(error);
    let text = read_text(&classified, aws, timeout);
    let not_sent = not_sent
        || matches!(
            classified.kind,
            AwsErrorKind::NoCredentials | AwsErrorKind::CredentialsExpired
        );
    if not_sent {
        WriteError::NotSent(text)
    } else {
        WriteError::Unknown(text)
    }
}

/// Sorts an SDK error into what the operator needs to know.
pub fn classify<E, R>(error: SdkError<E, R>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let code = error.code().unwrap_or_default().to_string();
    let service_message = error.message().map(str::to_string);
    let text = DisplayErrorContext(&error).to_string();
    let lower = text.to_ascii_lowercase();
    let kind = match &error {
        SdkError::ServiceError(_) => match code.as_str() {
            "Throttling"
            | "ThrottlingException"
            | "PriorRequestNotComplete"
            | "RequestLimitExceeded"
            | "TooManyRequestsException" => AwsErrorKind::Throttled { retry_in_secs: 0 },
            "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" => {
                AwsErrorKind::CredentialsExpired
            }
            "AccessDenied"
            | "AccessDeniedException"
            | "InvalidClientTokenId"
            | "SignatureDoesNotMatch"
            | "UnrecognizedClientException" => AwsErrorKind::AccessDenied,
            "NoSuchHostedZone"
            | "NoSuchHealthCheck"
            | "DBInstanceNotFound"
            | "DBInstanceNotFoundFault"
            | "DBClusterNotFoundFault" => AwsErrorKind::NotFound,
            _ => AwsErrorKind::Other,
        },
        SdkError::TimeoutError(_) => AwsErrorKind::Timeout,
        SdkError::DispatchFailure(d) if d.is_timeout() => AwsErrorKind::Timeout,
        _ if lower.contains("missingsigningregion") || lower.contains("no region") => {
            AwsErrorKind::NoRegion
        }
        _ if lower.contains("expired") && lower.contains("token") => {
            AwsErrorKind::CredentialsExpired
        }
        _ if lower.contains("credential") || lower.contains("profile") => {
            AwsErrorKind::NoCredentials
        }
        SdkError::DispatchFailure(d) if d.is_io() => AwsErrorKind::Unreachable,
        _ if lower.contains("connection refused") || lower.contains("dns error") => {
            AwsErrorKind::Unreachable
        }
        _ => AwsErrorKind::Other,
    };
    let message = match (kind, service_message) {
        (AwsErrorKind::Unreachable, _) if lower.contains("connection refused") => {
            "connection refused".to_string()
        }
        (_, Some(m)) if !code.is_empty() => format!("{code}: {m}"),
        (_, Some(m)) => m,
        _ if !code.is_empty() => code,
        _ => last_cause(&text),
    };
    AwsError { kind, message }
}
/// DisplayErrorContext chains causes with ": ", some of them Debug text: the last cause that
/// reads as a sentence says what actually happened.
fn last_cause(text: &str) -> String {
    let clean = |part: &str| -> String {
        let part = part.trim_start_matches(['"', '\\', ' ']);
        let cut = part
            .find(['"', '\\', '}', '{', '(', ')'])
            .unwrap_or(part.len());
        part[..cut].trim().to_string()
    };
    text.rsplit(": ")
        .map(clean)
        .find(|p| p.len() >= 12)
        .unwrap_or_else(|| clean(text))
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

    #[test]
    fn last_cause_reads_as_a_sentence() {
        let text = "dispatch failure: other: the credential provider was not enabled: \
                    ProfileFile(Missing { message: \"could not find source profile nosuch\" }), connection: Unknown } }))";
        assert_eq!(last_cause(text), "could not find source profile nosuch");
        assert_eq!(
            last_cause(
                "io error: client error (Connect): tcp connect error: Connection refused (os error 111)"
            ),
            "Connection refused"
        );
    }

    /// What AWS answers when a session has run out (moto never checks credentials, so this is
    /// the SDK's own error types, as the service would fill them).
    #[test]
    fn expired_and_denied_answers_are_classified() {
        use aws_sdk_route53::error::ErrorMetadata;
        use aws_sdk_route53::operation::list_resource_record_sets::ListResourceRecordSetsError;
        use aws_smithy_runtime_api::http::{Response, StatusCode};
        use aws_smithy_types::body::SdkBody;
        let answer = |code: &str, message: &str| {
            let error = ListResourceRecordSetsError::generic(
                ErrorMetadata::builder().code(code).message(message).build(),
            );
            let raw = Response::new(StatusCode::try_from(403).unwrap(), SdkBody::empty());
            classify(SdkError::service_error(error, raw))
        };
        let expired = answer(
            "ExpiredToken",
            "The security token included in the request is expired",
        );
        assert_eq!(expired.kind, AwsErrorKind::CredentialsExpired);
        assert_eq!(
            expired.describe(Some("ops")),
            "credentials expired for profile ops"
        );
        let denied = answer(
            "AccessDenied",
            "User is not authorized to perform route53:ListResourceRecordSets",
        );
        assert_eq!(denied.kind, AwsErrorKind::AccessDenied);
        let throttled = answer("Throttling", "Rate exceeded");
        assert!(matches!(throttled.kind, AwsErrorKind::Throttled { .. }));
    }
}
