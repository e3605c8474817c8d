//! `[[rds]]`: RDS instances, one per site (and their Aurora cluster); lag from CloudWatch.

use std::collections::HashSet;
use std::time::Duration;

use indexmap::IndexMap;
use serde::Deserialize;
use toml::Spanned;

use crate::kinds::aws::{AwsSettings, own_settings, polling};
use crate::kinds::cloudwatch::{SiteOf, period};
use crate::schema::{Checker, ConfigDuration, ConfigError, SiteId, duration_or, unique};

/// `[[rds]]`: RDS instances (and optionally their Aurora cluster), one per site.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RdsFile {
    pub name: Spanned<String>,
    /// Site key -> DB instance identifier.
    pub instances: Spanned<IndexMap<String, Spanned<String>>>,
    pub cluster: Option<Spanned<String>>,
    pub max_lag: Option<Spanned<ConfigDuration>>,
    pub lag_period: Option<Spanned<ConfigDuration>>,
    pub lag_max_age: Option<Spanned<ConfigDuration>>,
    pub region: Option<Spanned<String>>,
    pub profile: Option<Spanned<String>>,
    pub endpoint_url: Option<Spanned<String>>,
    pub interval: Option<Spanned<ConfigDuration>>,
    pub timeout: Option<Spanned<ConfigDuration>>,
}

/// An `[[rds]]` source: one DB instance per site, read with DescribeDBInstances (and
/// DescribeDBClusters for Aurora); replica lag from CloudWatch.
#[derive(Debug, Clone)]
pub struct RdsSource {
    pub name: String,
    /// In the file's order; at most one per site.
    pub instances: Vec<RdsInstanceSpec>,
    /// The Aurora cluster whose writer / readers these instances are, when given.
    pub cluster: Option<String>,
    pub max_lag: Duration,
    /// The CloudWatch period the lag is read at.
    pub lag_period: Duration,
    /// A lag datapoint older than this is no lag data.
    pub lag_max_age: Duration,
    pub aws: AwsSettings,
    pub interval: Duration,
    pub timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct RdsInstanceSpec {
    pub site: SiteId,
    /// The DB instance identifier.
    pub id: String,
}

impl RdsSource {
    pub fn instance_at(&self, site: SiteId) -> Option<usize> {
        self.instances.iter().position(|i| i.site == site)
    }
}

pub fn parse(
    c: &Checker<'_>,
    files: &[RdsFile],
    aws: &AwsSettings,
    site_of: &SiteOf<'_>,
) -> Result<Vec<RdsSource>, ConfigError> {
    let mut names = HashSet::new();
    let mut seen_ids = HashSet::new();
    let mut out = Vec::new();
    for r in files {
        unique(c, &mut names, &r.name, "rds")?;
        if r.instances.get_ref().is_empty() {
            return Err(c.at(
                &r.instances,
                "instances is empty: expected { site = \"db-instance-id\", ... }",
            ));
        }
        let mut instances = Vec::new();
        for (site_key, id) in r.instances.get_ref() {
            let site = site_of(&Spanned::new(id.span(), site_key.clone()))?;
            rds_identifier(c, id, "DB instance identifier")?;
            if !seen_ids.insert(id.get_ref().to_ascii_lowercase()) {
                return Err(c.at(
                    id,
                    format!(
                        "DB instance {:?} is already read by an [[rds]] source: each instance once",
                        id.get_ref()
                    ),
                ));
            }
            instances.push(RdsInstanceSpec {
                site,
                id: id.get_ref().clone(),
            });
        }
        if let Some(cluster) = &r.cluster {
            rds_identifier(c, cluster, "DB cluster identifier")?;
        }
        let lag_period = match &r.lag_period {
            Some(p) => period(c, p)?,
            None => Duration::from_secs(60),
        };
        let lag_max_age = duration_or(&r.lag_max_age, Duration::from_secs(300).max(lag_period));
        if let Some(span) = &r.lag_max_age
            && lag_max_age < lag_period
        {
            return Err(c.at(
                span,
                "lag-max-age is shorter than lag-period: no datapoint could ever be fresh",
            ));
        }
        let (interval, timeout) = polling(c, &r.interval, &r.timeout, Duration::from_secs(30))?;
        out.push(RdsSource {
            name: r.name.get_ref().clone(),
            instances,
            cluster: r.cluster.as_ref().map(|s| s.get_ref().clone()),
            max_lag: duration_or(&r.max_lag, Duration::from_secs(30)),
            lag_period,
            lag_max_age,
            aws: own_settings(c, &r.region, &r.profile, &r.endpoint_url, aws)?,
            interval,
            timeout,
        });
    }
    Ok(out)
}
/// RDS identifiers: letters, digits and hyphens, starting with a letter, at most 63.
fn rds_identifier(c: &Checker<'_>, id: &Spanned<String>, what: &str) -> Result<(), ConfigError> {
    let text = id.get_ref();
    let ok = text.len() <= 63
        && text.starts_with(|ch: char| ch.is_ascii_alphabetic())
        && text
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-')
        && !text.ends_with('-')
        && !text.contains("--");
    if ok {
        Ok(())
    } else {
        Err(c.at(
            id,
            format!(
                "invalid {what} {text:?}: expected letters, digits and single hyphens, starting with a letter"
            ),
        ))
    }
}
