//! `[[rds]]` and `[[cloudwatch]]`: checked against the sites, AWS's own rules for identifiers,
//! periods and statistics, and each other.

use std::collections::HashSet;
use std::time::Duration;

use toml::Spanned;

use super::duration::ConfigDuration;
use super::file::{CloudWatchFile, RdsFile};
use super::validate::{Checker, duration_or, endpoint_url, non_empty, unique};
use super::{AwsSettings, CloudWatchCheck, ConfigError, RdsInstanceSpec, RdsSource, SiteId};

type SiteOf<'a> = dyn Fn(&Spanned<String>) -> Result<SiteId, ConfigError> + 'a;

pub(super) fn rds_sources(
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

pub(super) fn cloudwatch_checks(
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
        let default_age = (period_len * 3).max(Duration::from_secs(300));
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

/// This source's own region / profile / endpoint over `[aws]`.
fn own_settings(
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
fn polling(
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
    Ok((i, t))
}

/// CloudWatch periods: 1, 5, 10 or 30 s (high resolution), or a multiple of 60 s.
fn period(c: &Checker<'_>, p: &Spanned<ConfigDuration>) -> Result<Duration, ConfigError> {
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::from_str;

    const SITES: &str = "[sites.a]\nlabel = \"site A\"\n[sites.b]\n[aws]\nregion = \"eu-west-1\"\n";

    #[test]
    fn rds_defaults_and_sites() {
        let text = format!(
            "{SITES}[[rds]]\nname = \"orders\"\ninstances = {{ a = \"orders-a\", b = \"orders-b\" }}\nmax-lag = \"10s\"\n"
        );
        let config = from_str(&text, Path::new("t.toml")).unwrap();
        let r = &config.rds[0];
        assert_eq!(r.instances.len(), 2);
        assert_eq!(
            (r.instances[1].site, r.instances[1].id.as_str()),
            (1, "orders-b")
        );
        assert_eq!(r.instance_at(0), Some(0));
        assert_eq!(r.max_lag, Duration::from_secs(10));
        assert_eq!(r.lag_period, Duration::from_secs(60));
        assert_eq!(r.lag_max_age, Duration::from_secs(300));
        assert_eq!(r.interval, Duration::from_secs(30));
        assert_eq!(r.aws.region.as_deref(), Some("eu-west-1"));
    }

    #[test]
    fn cloudwatch_defaults() {
        let text = format!(
            "{SITES}[[cloudwatch]]\nname = \"canary\"\nnamespace = \"Lab/Canary\"\nmetric = \"SuccessPercent\"\ndimensions = {{ CanaryName = \"checkout\" }}\nwarn = 95\ncrit = 90.5\nperiod = \"5m\"\n"
        );
        let config = from_str(&text, Path::new("t.toml")).unwrap();
        let cw = &config.cloudwatch[0];
        assert_eq!(cw.site, None);
        assert_eq!(cw.statistic, "Average");
        assert_eq!((cw.warn, cw.crit), (95.0, 90.5));
        assert_eq!(cw.max_age, Duration::from_secs(900));
        assert_eq!(
            cw.dimensions,
            vec![("CanaryName".to_string(), "checkout".to_string())]
        );
    }

    #[test]
    fn periods_and_statistics() {
        let check = |extra: &str| {
            let text = format!(
                "{SITES}[[cloudwatch]]\nname = \"x\"\nnamespace = \"N\"\nmetric = \"M\"\nwarn = 1\ncrit = 2\n{extra}\n"
            );
            from_str(&text, Path::new("t.toml"))
                .map(|_| ())
                .map_err(|e| e.message)
        };
        assert!(check("period = \"1s\"").is_ok());
        assert!(check("period = \"2m\"").is_ok());
        assert!(
            check("period = \"90s\"")
                .unwrap_err()
                .contains("invalid CloudWatch period")
        );
        assert!(check("statistic = \"p99.9\"").is_ok());
        assert!(
            check("statistic = \"avg\"")
                .unwrap_err()
                .contains("unsupported statistic")
        );
        assert!(check("statistic = \"p100\"").is_err());
    }
}
