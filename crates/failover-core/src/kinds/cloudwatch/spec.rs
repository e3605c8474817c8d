//! `[[cloudwatch]]`: one metric's latest datapoint against warn / crit thresholds.

use std::collections::HashSet;
use std::time::Duration;

use indexmap::IndexMap;
use serde::Deserialize;
use toml::Spanned;

use crate::kinds::aws::{AwsSettings, own_settings, polling};
use crate::schema::{Checker, ConfigDuration, ConfigError, SiteId, duration_or, unique};

/// A site by key, with the error pointing at it when it is not one.
pub type SiteOf<'a> = dyn Fn(&Spanned<String>) -> Result<SiteId, ConfigError> + 'a;

/// `[[cloudwatch]]`: one metric with warn / crit thresholds.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct CloudWatchFile {
    pub name: Spanned<String>,
    pub site: Option<Spanned<String>>,
    pub namespace: Spanned<String>,
    pub metric: Spanned<String>,
    #[serde(default)]
    pub dimensions: IndexMap<String, Spanned<String>>,
    pub statistic: Option<Spanned<String>>,
    pub period: Option<Spanned<ConfigDuration>>,
    pub warn: Spanned<f64>,
    pub crit: Spanned<f64>,
    pub max_age: Option<Spanned<ConfigDuration>>,
    pub region: Option<Spanned<String>>,
    pub profile: Option<Spanned<String>>,
    pub endpoint_url: Option<Spanned<String>>,
    pub interval: Option<Spanned<ConfigDuration>>,
    pub timeout: Option<Spanned<ConfigDuration>>,
}
/// A `[[cloudwatch]]` check: one metric's latest datapoint against warn / crit thresholds.
#[derive(Debug, Clone)]
pub struct CloudWatchCheck {
    pub name: String,
    /// The site whose health this check counts toward, if any.
    pub site: Option<SiteId>,
    pub namespace: String,
    pub metric: String,
    pub dimensions: Vec<(String, String)>,
    /// "Average", "Minimum", "Maximum", "Sum", "SampleCount" or a percentile ("p99").
    pub statistic: String,
    pub period: Duration,
    pub warn: f64,
    /// Below `warn` when lower is worse, above it when higher is worse.
    pub crit: f64,
    /// No datapoint this recent is NO DATA.
    pub max_age: Duration,
    pub aws: AwsSettings,
    pub interval: Duration,
    pub timeout: Duration,
}

pub fn parse(
    c: &Checker<'_>,
    files: &[CloudWatchFile],
    aws: &AwsSettings,
    site_of: &SiteOf<'_>,
) -> Result<Vec<CloudWatchCheck>, ConfigError> {
    let mut names = HashSet::new();
    let mut out = Vec::new();
    for f in files {
        unique(c, &mut names, &f.name, "cloudwatch check")?;
        let site = f.site.as_ref().map(site_of).transpose()?;
        for (what, text) in [("namespace", &f.namespace), ("metric", &f.metric)] {
            if text.get_ref().trim().is_empty() {
                return Err(c.at(text, format!("empty {what}")));
            }
        }
        if f.dimensions.len() > 30 {
            return Err(c.at(&f.name, "more than 30 dimensions: CloudWatch allows 30"));
        }
        let mut dimensions = Vec::new();
        for (key, value) in &f.dimensions {
            if key.trim().is_empty() || value.get_ref().trim().is_empty() {
                return Err(c.at(
                    value,
                    format!("dimensions.{key}: a dimension needs a name and a value"),
                ));
            }
            dimensions.push((key.clone(), value.get_ref().clone()));
        }
        let statistic = match &f.statistic {
            Some(s) => statistic(c, s)?,
            None => "Average".to_string(),
        };
        let period_len = match &f.period {
            Some(p) => period(c, p)?,
            None => Duration::from_secs(60),
        };
        let (warn, crit) = (*f.warn.get_ref(), *f.crit.get_ref());
        for (what, v) in [("warn", &f.warn), ("crit", &f.crit)] {
            if !v.get_ref().is_finite() {
                return Err(c.at(v, format!("{what} is not a finite number")));
            }
        }
        if warn == crit {
            return Err(c.at(
                &f.crit,
                "crit equals warn: crit < warn means lower is worse, crit > warn higher is worse",
            ));
        }
        let default_age = period_len.saturating_mul(3).max(Duration::from_secs(300));
        let max_age = duration_or(&f.max_age, default_age);
        if let Some(span) = &f.max_age
            && max_age < period_len
        {
            return Err(c.at(
                span,
                "max-age is shorter than period: no datapoint could ever be fresh",
            ));
        }
        let (interval, timeout) = polling(c, &f.interval, &f.timeout, Duration::from_secs(60))?;
        out.push(CloudWatchCheck {
            name: f.name.get_ref().clone(),
            site,
            namespace: f.namespace.get_ref().clone(),
            metric: f.metric.get_ref().clone(),
            dimensions,
            statistic,
            period: period_len,
            warn,
            crit,
            max_age,
            aws: own_settings(c, &f.region, &f.profile, &f.endpoint_url, aws)?,
            interval,
            timeout,
        });
    }
    Ok(out)
}
/// CloudWatch periods: 1, 5, 10 or 30 s (high resolution), or a multiple of 60 s.
pub fn period(c: &Checker<'_>, p: &Spanned<ConfigDuration>) -> Result<Duration, ConfigError> {
    let d = p.get_ref().0;
    let secs = d.as_secs();
    let whole = d.subsec_nanos() == 0;
    if whole && (matches!(secs, 1 | 5 | 10 | 30) || (secs > 0 && secs.is_multiple_of(60))) {
        Ok(d)
    } else {
        Err(c.at(
            p,
            format!(
                "invalid CloudWatch period {:?}: expected 1s, 5s, 10s, 30s or a multiple of 60s",
                humantime::format_duration(d).to_string()
            ),
        ))
    }
}
fn statistic(c: &Checker<'_>, s: &Spanned<String>) -> Result<String, ConfigError> {
    let text = s.get_ref().trim();
    let named = ["Average", "Minimum", "Maximum", "Sum", "SampleCount"];
    if named.contains(&text) {
        return Ok(text.to_string());
    }
    let percentile = text
        .strip_prefix('p')
        .and_then(|n| n.parse::<f64>().ok())
        .is_some_and(|n| n > 0.0 && n < 100.0);
    if percentile {
        return Ok(text.to_string());
    }
    Err(c.at(
        s,
        format!(
            "unsupported statistic {text:?}: expected Average, Minimum, Maximum, Sum, SampleCount or a percentile like p99"
        ),
    ))
}
