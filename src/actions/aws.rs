//! What the AWS actions (route53, rds) share: where they call, how long one call may take, how
//! often they poll, and what an SDK error means for a write (refused before anything changed,
//! or sent with no answer: unknown).
//!
//! Credentials come only from aws-config's default chain and are never part of any text here:
//! errors go through `sources::route53::classify`, which keeps codes and AWS's own messages.

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_route53::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::config::AwsSettings;
use crate::observe::{AwsError, AwsErrorKind};
use crate::sources::route53::classify;

/// The longest one API call may take; the step's own timeout bounds the whole step.
const MAX_CALL: Duration = Duration::from_secs(10);

pub fn call_timeout(step: Duration) -> Duration {
    step.clamp(Duration::from_millis(100), MAX_CALL)
}

/// How often a step polls the state it waits for: a twentieth of its timeout, 250 ms to 5 s.
pub fn poll_every(step: Duration) -> Duration {
    (step / 20).clamp(Duration::from_millis(250), Duration::from_secs(5))
}

pub fn human(d: Duration) -> String {
    let rounded = if d >= Duration::from_secs(10) {
        Duration::from_secs(d.as_secs())
    } else {
        Duration::from_millis(d.as_millis() as u64 / 100 * 100)
    };
    if rounded.is_zero() {
        return "0s".into();
    }
    humantime::format_duration(rounded).to_string()
}

/// "region us-east-1, profile ops, endpoint-url https://..." for the plan: names, never secrets.
pub fn where_text(aws: &AwsSettings, default_region: Option<&str>) -> String {
    let region = match (&aws.region, default_region) {
        (Some(r), _) => format!("region {r}"),
        (None, Some(d)) => format!("region {d} (default)"),
        (None, None) => "region from the default chain".into(),
    };
    let profile = match &aws.profile {
        Some(p) => format!("profile {p}"),
        None => "credentials from the default chain".into(),
    };
    let mut text = format!("AWS: {region}, {profile}");
    if let Some(url) = &aws.endpoint_url {
        text.push_str(&format!(", endpoint-url {url}"));
    }
    text
}

/// An SDK client config for these settings, like `sources::route53::client`: the SDK's retries
/// off (a write is never retried blindly; polls retry on their own schedule), every call bounded.
pub async fn sdk_config(
    aws: &AwsSettings,
    timeout: Duration,
    default_region: Option<&str>,
) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
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
    shown(&classify(error), aws, timeout)
}

/// The classified error as one line; a timeout says how long was waited (the SDK's own text
/// for it is internal: "Operation, duration").
fn shown(error: &AwsError, aws: &AwsSettings, timeout: Duration) -> String {
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
    let text = shown(&classified, aws, timeout);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_and_polls_scale_with_the_step() {
        assert_eq!(call_timeout(Duration::from_secs(300)), MAX_CALL);
        assert_eq!(call_timeout(Duration::from_secs(3)), Duration::from_secs(3));
        assert_eq!(poll_every(Duration::from_secs(300)), Duration::from_secs(5));
        assert_eq!(poll_every(Duration::from_secs(60)), Duration::from_secs(3));
        assert_eq!(
            poll_every(Duration::from_secs(2)),
            Duration::from_millis(250)
        );
    }

    #[test]
    fn where_names_settings_never_credentials() {
        let aws = AwsSettings {
            region: None,
            profile: Some("ops".into()),
            endpoint_url: Some("http://127.0.0.1:15055".into()),
        };
        assert_eq!(
            where_text(&aws, Some("us-east-1")),
            "AWS: region us-east-1 (default), profile ops, endpoint-url http://127.0.0.1:15055"
        );
        assert_eq!(
            where_text(&AwsSettings::default(), None),
            "AWS: region from the default chain, credentials from the default chain"
        );
        assert_eq!(human(Duration::from_millis(1234)), "1s 200ms");
        assert_eq!(human(Duration::from_millis(61_500)), "1m 1s");
    }
}
