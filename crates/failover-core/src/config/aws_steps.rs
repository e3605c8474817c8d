//! The AWS runbook actions in config: `route53` (on a `[[route53]]` record, its sets matched to
//! sites through the `[[dns]]` record of the same name), `rds-promote` and `rds-failover`.
//! Each takes `region`, `profile` and `endpoint-url` over `[aws]` (a route53 action: over its
//! record's own settings).

use std::time::Duration;

use toml::Spanned;

use super::file::StepFile;
use super::runbook::fqdn;
use super::validate::{Checker, endpoint_url, non_empty, record_type};
use super::{AwsSettings, Config, ConfigError, SiteId};
use crate::actions::ActionSpec;
use crate::actions::rds::{Failover, Promote};
use crate::actions::route53::{Mode, Route53Change, SiteAnswers};

const MODES: &str = "expected \"upsert\", \"disable-health-check\" or \"enable-health-check\"";

/// The step's own region / profile / endpoint-url over `base`.
fn settings(c: &Checker<'_>, s: &StepFile, base: &AwsSettings) -> Result<AwsSettings, ConfigError> {
    Ok(AwsSettings {
        region: non_empty(c, &s.region, "region")?.or_else(|| base.region.clone()),
        profile: non_empty(c, &s.profile, "profile")?.or_else(|| base.profile.clone()),
        endpoint_url: endpoint_url(c, &s.endpoint_url)?.or_else(|| base.endpoint_url.clone()),
    })
}

/// Keys of another AWS action are refused: a misplaced key must not be silently ignored.
fn refuse(
    c: &Checker<'_>,
    action: &Spanned<String>,
    keys: &[(&str, &Option<Spanned<String>>)],
) -> Result<(), ConfigError> {
    for (key, value) in keys {
        if let Some(v) = value {
            return Err(c.at(
                v,
                format!("{key} does not apply to action = {:?}", action.get_ref()),
            ));
        }
    }
    Ok(())
}

/// An RDS identifier: a letter, then letters, digits and single hyphens; RDS keeps them in
/// lower case.
fn identifier(c: &Checker<'_>, v: &Spanned<String>, what: &str) -> Result<String, ConfigError> {
    let text = v.get_ref().trim().to_ascii_lowercase();
    let valid = (1..=63).contains(&text.len())
        && text.starts_with(|ch: char| ch.is_ascii_alphabetic())
        && text
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-')
        && !text.ends_with('-')
        && !text.contains("--");
    if valid {
        Ok(text)
    } else {
        Err(c.at(
            v,
            format!(
                "invalid {what} {:?}: expected an RDS identifier (a letter, then letters, digits and single hyphens, at most 63)",
                v.get_ref()
            ),
        ))
    }
}

pub(super) fn route53(
    c: &Checker<'_>,
    s: &StepFile,
    action: &Spanned<String>,
    config: &Config,
    toward: SiteId,
    timeout: Duration,
) -> Result<ActionSpec, ConfigError> {
    refuse(
        c,
        action,
        &[
            ("instance", &s.instance),
            ("cluster", &s.cluster),
            ("target", &s.target),
        ],
    )?;
    let at = s.record.as_ref().ok_or_else(|| {
        c.at(
            action,
            "a route53 action needs record = \"name.\" of a [[route53]] record",
        )
    })?;
    let name = fqdn(at.get_ref());
    let wanted = match &s.record_type {
        Some(t) => Some(record_type(c, t)?),
        None => None,
    };
    let matching: Vec<_> = config
        .route53
        .iter()
        .filter(|r| r.name == name && wanted.is_none_or(|t| r.record_type == t))
        .collect();
    let record = match matching.as_slice() {
        [one] => *one,
        [] => {
            let shown = match wanted {
                Some(t) => format!("{name} {t}"),
                None => name.clone(),
            };
            return Err(c.at(
                at,
                format!(
                    "no [[route53]] record {shown}: a route53 action changes a record the console reads"
                ),
            ));
        }
        _ => {
            return Err(c.at(
                at,
                format!("several [[route53]] records {name}: say which with type = \"A\""),
            ));
        }
    };
    let check_id = || non_empty(c, &s.health_check_id, "health-check-id");
    let mode = match s.mode.as_ref() {
        None => upsert(c, s, at, config, record, toward)?,
        Some(m) => match m.get_ref().as_str() {
            "upsert" => upsert(c, s, at, config, record, toward)?,
            "disable-health-check" => Mode::HealthCheck {
                disabled: true,
                id: check_id()?,
            },
            "enable-health-check" => Mode::HealthCheck {
                disabled: false,
                id: check_id()?,
            },
            other => return Err(c.at(m, format!("unknown mode {other:?}: {MODES}"))),
        },
    };
    Ok(ActionSpec::Route53(Box::new(Route53Change {
        name: record.name.clone(),
        zone_id: record.zone_id.clone(),
        record_type: record.record_type,
        aws: settings(c, s, &record.aws)?,
        mode,
        timeout,
    })))
}

/// The sites' answers from the `[[dns]]` record of the same name and type.
fn upsert(
    c: &Checker<'_>,
    s: &StepFile,
    at: &Spanned<String>,
    config: &Config,
    record: &super::Route53Record,
    toward: SiteId,
) -> Result<Mode, ConfigError> {
    if let Some(id) = &s.health_check_id {
        return Err(c.at(
            id,
            "health-check-id goes with mode = \"disable-health-check\" or \"enable-health-check\"",
        ));
    }
    let dns = config
        .dns
        .iter()
        .find(|d| d.name == record.name && d.record_type == record.record_type)
        .ok_or_else(|| {
            c.at(
                at,
                format!(
                    "a route53 UPSERT needs a [[dns]] record {} {}: its answers say which set is which site's",
                    record.name, record.record_type
                ),
            )
        })?;
    let answers = |site: SiteId| SiteAnswers {
        label: config.site_label(site).to_string(),
        values: dns
            .answers
            .iter()
            .find(|(s, _)| *s == site)
            .map(|(_, v)| v.clone())
            .unwrap_or_default(),
    };
    let target = answers(toward);
    if target.values.is_empty() {
        return Err(c.at(
            at,
            format!(
                "[[dns]] {} has no answers.{}: the route53 action finds {}'s set by them",
                record.name, config.sites[toward].key, target.label
            ),
        ));
    }
    Ok(Mode::Upsert {
        toward: target,
        others: dns
            .answers
            .iter()
            .filter(|(site, _)| *site != toward)
            .map(|(site, _)| answers(*site))
            .collect(),
    })
}

pub(super) fn rds_promote(
    c: &Checker<'_>,
    s: &StepFile,
    action: &Spanned<String>,
    config: &Config,
    timeout: Duration,
) -> Result<ActionSpec, ConfigError> {
    refuse(
        c,
        action,
        &[
            ("record", &s.record),
            ("mode", &s.mode),
            ("health-check-id", &s.health_check_id),
            ("cluster", &s.cluster),
            ("target", &s.target),
        ],
    )?;
    let instance = s.instance.as_ref().ok_or_else(|| {
        c.at(
            action,
            "an rds-promote action needs instance = \"name\" of the read replica to promote",
        )
    })?;
    Ok(ActionSpec::RdsPromote(Box::new(Promote {
        instance: identifier(c, instance, "instance")?,
        aws: settings(c, s, &config.aws)?,
        timeout,
    })))
}

pub(super) fn rds_failover(
    c: &Checker<'_>,
    s: &StepFile,
    action: &Spanned<String>,
    config: &Config,
    timeout: Duration,
) -> Result<ActionSpec, ConfigError> {
    refuse(
        c,
        action,
        &[
            ("record", &s.record),
            ("mode", &s.mode),
            ("health-check-id", &s.health_check_id),
            ("instance", &s.instance),
        ],
    )?;
    let cluster = s.cluster.as_ref().ok_or_else(|| {
        c.at(
            action,
            "an rds-failover action needs cluster = \"name\" of the DB cluster",
        )
    })?;
    let target = s.target.as_ref().ok_or_else(|| {
        c.at(
            action,
            "an rds-failover action needs target = \"name\" of the instance to make the writer",
        )
    })?;
    Ok(ActionSpec::RdsFailover(Box::new(Failover {
        cluster: identifier(c, cluster, "cluster")?,
        target: identifier(c, target, "target")?,
        aws: settings(c, s, &config.aws)?,
        timeout,
    })))
}
