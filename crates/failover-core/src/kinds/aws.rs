//! What the AWS kinds (route53, rds, cloudwatch, alarm) share: where they call, how errors read,
//! how long a call may take, and when a throttled source is stale.

use std::time::Duration;

use serde::Deserialize;
use time::OffsetDateTime;
use toml::Spanned;

use crate::schema::{Checker, ConfigDuration, ConfigError, duration_or, endpoint_url, non_empty};
use crate::timeline::{Edges, Severity};

/// Where and as whom to call AWS. Never holds credentials.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsSettings {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
}

/// `[aws]`: defaults for every AWS source. Credentials never sit here: they come from the
/// SDK's default chain (environment, profiles, SSO, IMDS).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AwsFile {
    pub region: Option<Spanned<String>>,
    pub profile: Option<Spanned<String>>,
    pub endpoint_url: Option<Spanned<String>>,
}

pub fn parse_settings(c: &Checker<'_>, a: &AwsFile) -> Result<AwsSettings, ConfigError> {
    Ok(AwsSettings {
        region: non_empty(c, &a.region, "region")?,
        profile: non_empty(c, &a.profile, "profile")?,
        endpoint_url: endpoint_url(c, &a.endpoint_url)?,
    })
}
/// A source's own region / profile / endpoint over `[aws]`.
pub fn own_settings(
    c: &Checker<'_>,
    region: &Option<Spanned<String>>,
    profile: &Option<Spanned<String>>,
    endpoint: &Option<Spanned<String>>,
    aws: &AwsSettings,
) -> Result<AwsSettings, ConfigError> {
    Ok(AwsSettings {
        region: non_empty(c, region, "region")?.or_else(|| aws.region.clone()),
        profile: non_empty(c, profile, "profile")?.or_else(|| aws.profile.clone()),
        endpoint_url: endpoint_url(c, endpoint)?.or_else(|| aws.endpoint_url.clone()),
    })
}
/// AWS APIs are not for high request rates: at least 1 s between reads.
pub fn polling(
    c: &Checker<'_>,
    interval: &Option<Spanned<ConfigDuration>>,
    timeout: &Option<Spanned<ConfigDuration>>,
    default_interval: Duration,
) -> Result<(Duration, Duration), ConfigError> {
    let i = duration_or(interval, default_interval);
    if let Some(span) = interval
        && i < Duration::from_secs(1)
    {
        return Err(c.at(
            span,
            format!(
                "interval too short: expected at least 1s (default {})",
                humantime::format_duration(default_interval)
            ),
        ));
    }
    let t = duration_or(timeout, Duration::from_secs(5));
    if let Some(span) = timeout
        && t < Duration::from_millis(100)
    {
        return Err(c.at(span, "timeout too short: expected at least 100ms"));
    }
    crate::schema::timeout_at_most_an_hour(c, timeout)?;
    Ok((i, t))
}
/// Why an AWS call failed, classified for the operator. Never holds credentials.
#[derive(Debug, Clone, PartialEq)]
pub struct AwsError {
    pub kind: AwsErrorKind,
    /// What the SDK said, for the detail line.
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsErrorKind {
    NoCredentials,
    /// No region in the config, the environment or the profile (RDS and CloudWatch need one).
    NoRegion,
    CredentialsExpired,
    AccessDenied,
    /// Throttled: the poller backs off (the next try is in `retry_in`).
    Throttled {
        retry_in_secs: u64,
    },
    Unreachable,
    Timeout,
    NotFound,
    Other,
}

impl AwsError {
    /// One line for the pane: "credentials expired for profile ops", "throttled: next try in 60s"...
    pub fn describe(&self, profile: Option<&str>) -> String {
        let whose = match profile {
            Some(p) => format!("profile {p}"),
            None => "the default credential chain".to_string(),
        };
        match self.kind {
            AwsErrorKind::NoCredentials => format!("no credentials from {whose}"),
            AwsErrorKind::NoRegion => match profile {
                Some(p) => {
                    format!("no region: set region in the config, AWS_REGION or profile {p}")
                }
                None => "no region: set region in the config or AWS_REGION".to_string(),
            },
            AwsErrorKind::CredentialsExpired => format!("credentials expired for {whose}"),
            AwsErrorKind::AccessDenied => format!("access denied for {whose}: {}", self.message),
            AwsErrorKind::Throttled { retry_in_secs } => {
                format!("throttled by AWS: next try in {retry_in_secs}s")
            }
            AwsErrorKind::Unreachable => format!("endpoint unreachable: {}", self.message),
            AwsErrorKind::Timeout => format!("timeout: {}", self.message),
            AwsErrorKind::NotFound if self.message.to_ascii_lowercase().contains("not found") => {
                self.message.clone()
            }
            AwsErrorKind::NotFound => format!("not found: {}", self.message),
            AwsErrorKind::Other => self.message.clone(),
        }
    }
}

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
        Duration::from_millis(u64::try_from(d.as_millis()).unwrap_or(u64::MAX) / 100 * 100)
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

impl AwsSettings {
    /// A source's own settings over `[aws]`'s, field by field.
    pub fn over(self, base: &AwsSettings) -> AwsSettings {
        AwsSettings {
            region: self.region.or_else(|| base.region.clone()),
            profile: self.profile.or_else(|| base.profile.clone()),
            endpoint_url: self.endpoint_url.or_else(|| base.endpoint_url.clone()),
        }
    }
}

/// A failed read of an AWS source: one edge when the kind of failure changes (throttled again
/// is not a change, whatever the new wait). Returns whether it was a change.
pub fn on_error(
    error: &mut Option<AwsError>,
    new: AwsError,
    at: OffsetDateTime,
    source: String,
    profile: Option<&str>,
    edges: &mut Edges,
) -> bool {
    let old = error.as_ref().map(|o| o.kind);
    let throttle_only = matches!(
        (old, new.kind),
        (
            Some(AwsErrorKind::Throttled { .. }),
            AwsErrorKind::Throttled { .. }
        )
    );
    let changed = old != Some(new.kind) && !throttle_only;
    if changed {
        edges.edge(at, Severity::Warn, source, new.describe(profile));
    }
    *error = Some(new);
    changed
}

/// How long an AWS source may be silent: its interval and timeout, or while throttled the
/// backoff it announced (a throttled source waits longer on purpose: not stale for that).
pub fn stale_limit(error: Option<&AwsError>, interval: Duration, timeout: Duration) -> Duration {
    match error.map(|e| e.kind) {
        Some(AwsErrorKind::Throttled { retry_in_secs }) => {
            Duration::from_secs(retry_in_secs).saturating_add(timeout)
        }
        _ => interval.saturating_add(timeout),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_limits_and_rounding_saturate() {
        assert_eq!(
            stale_limit(None, Duration::MAX, Duration::MAX),
            Duration::MAX
        );
        let throttled = AwsError {
            kind: AwsErrorKind::Throttled {
                retry_in_secs: u64::MAX,
            },
            message: "throttled".into(),
        };
        assert_eq!(
            stale_limit(Some(&throttled), Duration::ZERO, Duration::MAX),
            Duration::MAX
        );
        let _ = human(Duration::MAX);
    }

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
