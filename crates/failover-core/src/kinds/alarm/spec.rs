//! `[[alarm]]`: CloudWatch alarms named one by one or by a prefix, counted toward one site's
//! health.

use std::collections::HashSet;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::kinds::aws::{AwsSettings, own_settings, polling};
use crate::kinds::cloudwatch::SiteOf;
use crate::schema::{Checker, ConfigDuration, ConfigError, SiteId, unique};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AlarmFile {
    pub name: Spanned<String>,
    pub site: Option<Spanned<String>>,
    pub alarm_names: Option<Spanned<Vec<Spanned<String>>>>,
    pub alarm_prefix: Option<Spanned<String>>,
    pub region: Option<Spanned<String>>,
    pub profile: Option<Spanned<String>>,
    pub endpoint_url: Option<Spanned<String>>,
    pub interval: Option<Spanned<ConfigDuration>>,
    pub timeout: Option<Spanned<ConfigDuration>>,
}

/// Which alarms a source reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Alarms {
    /// These, in this order; one that CloudWatch does not return is shown as not found.
    Named(Vec<String>),
    /// Every alarm whose name starts with it (DescribeAlarms' AlarmNamePrefix).
    Prefix(String),
}

/// An `[[alarm]]` source.
#[derive(Debug, Clone)]
pub struct AlarmSource {
    pub name: String,
    /// The site whose health its alarms count toward, if any.
    pub site: Option<SiteId>,
    pub alarms: Alarms,
    pub aws: AwsSettings,
    pub interval: Duration,
    pub timeout: Duration,
}

/// CloudWatch's limit on alarm names (and so on a prefix).
const MAX_NAME: usize = 255;
/// DescribeAlarms takes at most 100 names in one call.
const MAX_NAMES: usize = 100;

pub fn parse(
    c: &Checker<'_>,
    files: &[AlarmFile],
    aws: &AwsSettings,
    site_of: &SiteOf<'_>,
) -> Result<Vec<AlarmSource>, ConfigError> {
    let mut names = HashSet::new();
    let mut out = Vec::new();
    for f in files {
        unique(c, &mut names, &f.name, "alarm")?;
        let site = f.site.as_ref().map(site_of).transpose()?;
        let alarms = match (&f.alarm_names, &f.alarm_prefix) {
            (Some(list), None) => Alarms::Named(alarm_names(c, list)?),
            (None, Some(prefix)) => {
                let text = prefix.get_ref();
                if text.trim().is_empty() || text.chars().count() > MAX_NAME {
                    return Err(c.at(
                        prefix,
                        format!(
                            "invalid alarm-prefix {text:?}: expected 1 to {MAX_NAME} characters"
                        ),
                    ));
                }
                Alarms::Prefix(text.clone())
            }
            (Some(_), Some(prefix)) => {
                return Err(c.at(
                    prefix,
                    "an [[alarm]] has alarm-names = [...] or alarm-prefix = \"...\", not both",
                ));
            }
            (None, None) => {
                return Err(c.at(
                    &f.name,
                    format!(
                        "alarm {:?} names no alarm: expected alarm-names = [\"...\"] or alarm-prefix = \"...\"",
                        f.name.get_ref()
                    ),
                ));
            }
        };
        let (interval, timeout) = polling(c, &f.interval, &f.timeout, Duration::from_secs(60))?;
        out.push(AlarmSource {
            name: f.name.get_ref().clone(),
            site,
            alarms,
            aws: own_settings(c, &f.region, &f.profile, &f.endpoint_url, aws)?,
            interval,
            timeout,
        });
    }
    Ok(out)
}

fn alarm_names(
    c: &Checker<'_>,
    list: &Spanned<Vec<Spanned<String>>>,
) -> Result<Vec<String>, ConfigError> {
    if list.get_ref().is_empty() {
        return Err(c.at(
            list,
            "alarm-names is empty: expected at least one alarm name",
        ));
    }
    if list.get_ref().len() > MAX_NAMES {
        return Err(c.at(
            list,
            format!("more than {MAX_NAMES} alarm names: DescribeAlarms takes {MAX_NAMES}"),
        ));
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for name in list.get_ref() {
        let text = name.get_ref();
        if text.trim().is_empty() || text.chars().count() > MAX_NAME {
            return Err(c.at(
                name,
                format!("invalid alarm name {text:?}: expected 1 to {MAX_NAME} characters"),
            ));
        }
        if !seen.insert(text.clone()) {
            return Err(c.at(name, format!("alarm {text:?} is listed twice")));
        }
        out.push(text.clone());
    }
    Ok(out)
}
