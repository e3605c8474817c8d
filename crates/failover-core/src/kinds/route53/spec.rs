//! `[[route53]]`: a record whose failover record sets (and their health checks) are read from
//! Route 53.

use std::collections::HashSet;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::kinds::aws::AwsSettings;
use crate::kinds::dns::{RecordType, record_type};
use crate::schema::{Checker, ConfigDuration, ConfigError, duration_or, endpoint_url, non_empty};

/// `[[route53]]`: one failover record set pair to read from Route 53.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Route53File {
    pub name: Spanned<String>,
    pub zone_id: Spanned<String>,
    #[serde(rename = "type")]
    pub record_type: Option<Spanned<String>>,
    pub region: Option<Spanned<String>>,
    pub profile: Option<Spanned<String>>,
    pub endpoint_url: Option<Spanned<String>>,
    pub interval: Option<Spanned<ConfigDuration>>,
    pub timeout: Option<Spanned<ConfigDuration>>,
}

#[derive(Debug, Clone)]
pub struct Route53Record {
    /// Fully qualified, lower case, with the trailing dot (as Route 53 returns it).
    pub name: String,
    /// The bare id ("Z123..."), without "/hostedzone/".
    pub zone_id: String,
    pub record_type: RecordType,
    /// This record's own settings over `[aws]` (and the flags over both for region/profile).
    pub aws: AwsSettings,
    pub interval: Duration,
    pub timeout: Duration,
}

pub fn parse(
    c: &Checker<'_>,
    r: &Route53File,
    aws: &AwsSettings,
    seen: &mut HashSet<String>,
) -> Result<Route53Record, ConfigError> {
    let raw = r.name.get_ref().trim();
    if raw.is_empty() || raw.contains(char::is_whitespace) {
        return Err(c.at(&r.name, format!("invalid DNS name {raw:?}")));
    }
    let name = if raw.ends_with('.') {
        raw.to_ascii_lowercase()
    } else {
        format!("{}.", raw.to_ascii_lowercase())
    };
    let zone = r.zone_id.get_ref().trim();
    let zone_id = zone.strip_prefix("/hostedzone/").unwrap_or(zone);
    if zone_id.is_empty() || !zone_id.chars().all(|ch| ch.is_ascii_alphanumeric()) {
        return Err(c.at(
            &r.zone_id,
            format!("invalid zone-id {zone:?}: expected a hosted zone id like \"Z0123456789ABC\""),
        ));
    }
    let record_type = match &r.record_type {
        None => RecordType::A,
        Some(t) => record_type(c, t)?,
    };
    if !seen.insert(format!("{zone_id} {name} {record_type}")) {
        return Err(c.at(
            &r.name,
            format!("duplicate route53 record {name} {record_type} in zone {zone_id}"),
        ));
    }
    let interval = duration_or(&r.interval, Duration::from_secs(30));
    if let Some(span) = &r.interval
        && interval < Duration::from_secs(1)
    {
        return Err(c.at(
            span,
            "interval too short: expected at least 1s (AWS asks that GetHealthCheckStatus not be polled at high rates; default 30s)",
        ));
    }
    let timeout = duration_or(&r.timeout, Duration::from_secs(5));
    if let Some(span) = &r.timeout
        && timeout < Duration::from_millis(100)
    {
        return Err(c.at(span, "timeout too short: expected at least 100ms"));
    }
    crate::schema::timeout_at_most_an_hour(c, &r.timeout)?;
    let own = AwsSettings {
        region: non_empty(c, &r.region, "region")?,
        profile: non_empty(c, &r.profile, "profile")?,
        endpoint_url: endpoint_url(c, &r.endpoint_url)?,
    };
    Ok(Route53Record {
        name,
        zone_id: zone_id.to_string(),
        record_type,
        aws: own.over(aws),
        interval,
        timeout,
    })
}
