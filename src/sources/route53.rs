//! Reads a `[[route53]]` record from Route 53 with the official SDK: its record sets (failover
//! PRIMARY / SECONDARY, values, TTL, health check) and each attached health check's status.
//!
//! Credentials come only from aws-config's default chain (environment, profiles, SSO, IMDS) and
//! are never printed or logged: errors are classified from their codes and the SDK's messages,
//! which carry no secrets.

use std::time::Duration;

use std::collections::HashMap;
use std::sync::Mutex;

use aws_sdk_route53::Client;
use aws_sdk_route53::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_route53::types::{HealthCheckType, ResourceRecordSet, RrType};

use crate::config::{AwsSettings, RecordType, Route53Record, normalise_answer};
use crate::observe::{
    AwsError, AwsErrorKind, CheckerShare, Datapoint, HealthCheckReading, Observation, R53Reading,
    R53Set,
};

pub struct Poller {
    index: usize,
    record: Route53Record,
    client: Client,
    /// For calculated health checks: Route 53's metrics live in us-east-1.
    cloudwatch: aws_sdk_cloudwatch::Client,
    /// Health check id → calculated (a check's type never changes: asked once).
    calculated: Mutex<HashMap<String, bool>>,
}

/// An SDK client for these settings. Loading never fails: missing credentials show up on the
/// first call, as a classified error.
pub async fn client(aws: &AwsSettings, timeout: Duration) -> Client {
    // Route 53 is global; its API lives in us-east-1 unless told otherwise.
    Client::new(&super::aws::sdk_config(aws, timeout, Some("us-east-1")).await)
}

impl Poller {
    pub async fn new(index: usize, record: Route53Record) -> Poller {
        let config = super::aws::sdk_config(&record.aws, record.timeout, Some("us-east-1")).await;
        Poller {
            index,
            client: Client::new(&config),
            cloudwatch: aws_sdk_cloudwatch::Client::new(&config),
            record,
            calculated: Mutex::new(HashMap::new()),
        }
    }

    pub async fn once(&self) -> Observation {
        let result = super::aws::bounded(self.record.timeout, self.read()).await;
        Observation::Route53 {
            record: self.index,
            at: time::OffsetDateTime::now_utc(),
            result,
        }
    }

    /// Reads every `interval`, each read (record sets and health checks) bounded by `timeout`.
    pub async fn run(self, tx: super::Sender) {
        let (interval, timeout, index) = (self.record.interval, self.record.timeout, self.index);
        let observe = |result| Observation::Route53 {
            record: index,
            at: time::OffsetDateTime::now_utc(),
            result,
        };
        super::aws::poll(interval, timeout, tx, || self.read(), observe).await
    }

    async fn read(&self) -> Result<R53Reading, AwsError> {
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
    let query = |metric: &str, statistic: &str| super::aws::MetricQuery {
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
    let results = super::aws::latest(cloudwatch, &queries, Duration::from_secs(600)).await?;
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

async fn read_sets(client: &Client, record: &Route53Record) -> Result<R53Reading, AwsError> {
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
