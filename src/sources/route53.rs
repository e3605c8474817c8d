//! Reads a `[[route53]]` record from Route 53 with the official SDK: its record sets (failover
//! PRIMARY / SECONDARY, values, TTL, health check) and each attached health check's status.
//!
//! Credentials come only from aws-config's default chain (environment, profiles, SSO, IMDS) and
//! are never printed or logged: errors are classified from their codes and the SDK's messages,
//! which carry no secrets.

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_route53::Client;
use aws_sdk_route53::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_route53::types::{ResourceRecordSet, RrType};

use crate::config::{AwsSettings, RecordType, Route53Record, normalise_answer};
use crate::observe::{
    AwsError, AwsErrorKind, CheckerShare, HealthCheckReading, Observation, R53Reading, R53Set,
};

/// The longest wait between tries while AWS throttles us.
const MAX_BACKOFF: Duration = Duration::from_secs(600);

pub struct Poller {
    index: usize,
    record: Route53Record,
    client: Client,
}

/// An SDK client for these settings. Loading never fails: missing credentials show up on the
/// first call, as a classified error.
pub async fn client(aws: &AwsSettings, timeout: Duration) -> Client {
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
    // Route 53 is global; its API lives in us-east-1 unless told otherwise.
    let region = aws
        .region
        .clone()
        .unwrap_or_else(|| "us-east-1".to_string());
    loader = loader.region(aws_config::Region::new(region));
    if let Some(url) = &aws.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    Client::new(&loader.load().await)
}

impl Poller {
    pub async fn new(index: usize, record: Route53Record) -> Poller {
        let client = client(&record.aws, record.timeout).await;
        Poller {
            index,
            record,
            client,
        }
    }

    pub async fn once(&self) -> Observation {
        let result = read(&self.client, &self.record).await;
        Observation::Route53 {
            record: self.index,
            at: time::OffsetDateTime::now_utc(),
            result,
        }
    }

    /// Polls every `interval`; while throttled, waits twice as long each time (up to 10 min).
    pub async fn run(self, tx: super::Sender) {
        let mut wait = Duration::ZERO;
        let mut backoff = self.record.interval;
        loop {
            tokio::time::sleep(wait).await;
            let started = tokio::time::Instant::now();
            let mut result = read(&self.client, &self.record).await;
            let throttled = matches!(
                &result,
                Err(AwsError {
                    kind: AwsErrorKind::Throttled { .. },
                    ..
                })
            );
            if throttled {
                backoff = (backoff * 2).min(MAX_BACKOFF);
                if let Err(e) = &mut result {
                    e.kind = AwsErrorKind::Throttled {
                        retry_in_secs: backoff.as_secs(),
                    };
                }
                wait = backoff;
            } else {
                backoff = self.record.interval;
                wait = self.record.interval.saturating_sub(started.elapsed());
            }
            let observation = Observation::Route53 {
                record: self.index,
                at: time::OffsetDateTime::now_utc(),
                result,
            };
            if tx.send(observation).await.is_err() {
                return;
            }
        }
    }
}

fn rr_type(t: RecordType) -> RrType {
    match t {
        RecordType::A => RrType::A,
        RecordType::Aaaa => RrType::Aaaa,
        RecordType::Cname => RrType::Cname,
        RecordType::Txt => RrType::Txt,
    }
}

/// Route 53 escapes some characters in names as \ooo octal; we compare lower-case with a dot.
fn same_name(returned: &str, wanted: &str) -> bool {
    let r = returned.trim().to_ascii_lowercase();
    let r = if r.ends_with('.') { r } else { format!("{r}.") };
    r.replace("\\052", "*") == wanted
}

async fn read(client: &Client, record: &Route53Record) -> Result<R53Reading, AwsError> {
    let wanted = rr_type(record.record_type);
    let mut sets = Vec::new();
    let mut next: Option<(String, RrType, Option<String>)> =
        Some((record.name.clone(), wanted.clone(), None));
    // Record sets come sorted by name then type: page until we are past ours (failover pairs
    // are two sets, so this is one page in practice). Bounded in case of odd answers.
    for _ in 0..10 {
        let Some((name, rtype, identifier)) = next.take() else {
            break;
        };
        let mut request = client
            .list_resource_record_sets()
            .hosted_zone_id(&record.zone_id)
            .start_record_name(name)
            .start_record_type(rtype)
            .max_items(100);
        if let Some(id) = identifier {
            request = request.start_record_identifier(id);
        }
        let page = request.send().await.map_err(classify)?;
        let mut past = false;
        for set in page.resource_record_sets() {
            if same_name(set.name(), &record.name) && *set.r#type() == wanted {
                sets.push(convert(set, record.record_type));
            } else if !sets.is_empty() || !same_name(set.name(), &record.name) {
                past = true;
            }
        }
        if page.is_truncated() && !past {
            next = page.next_record_name().map(|n| {
                (
                    n.to_string(),
                    page.next_record_type().cloned().unwrap_or(wanted.clone()),
                    page.next_record_identifier().map(str::to_string),
                )
            });
        }
    }
    for set in &mut sets {
        if let Some(check) = &mut set.health_check {
            check.status = health_check_status(client, &check.id).await?;
        }
    }
    Ok(R53Reading { sets })
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
            "NoSuchHostedZone" | "NoSuchHealthCheck" => AwsErrorKind::NotFound,
            _ => AwsErrorKind::Other,
        },
        SdkError::TimeoutError(_) => AwsErrorKind::Timeout,
        SdkError::DispatchFailure(d) if d.is_timeout() => AwsErrorKind::Timeout,
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
    fn names_compare_lower_case_with_the_dot() {
        assert!(same_name("API.failover.test.", "api.failover.test."));
        assert!(same_name("api.failover.test", "api.failover.test."));
        assert!(same_name("\\052.failover.test.", "*.failover.test."));
        assert!(!same_name("www.failover.test.", "api.failover.test."));
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
