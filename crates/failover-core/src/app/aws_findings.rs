//! The verdict's findings from `[[cloudwatch]]` checks and `[[rds]]` sources.

use super::cloudwatch::{self, Level as CwLevel, Shown};
use super::model::Model;
use super::rds::{self, Lag};
use super::verdict::{Finding, Level};
use crate::config::SiteId;
use crate::observe::RdsRole;

/// A check with a site counts like an HTTP check of that site: CRIT is critical (a warning
/// when traffic is agreed to be elsewhere), NO DATA or no result unknown. A check without a
/// site never makes the verdict worse than a warning.
pub fn cloudwatch(model: &Model, agreed: Option<SiteId>) -> Vec<Finding> {
    let config = &model.config;
    let mut out = Vec::new();
    for (spec, st) in config.cloudwatch.iter().zip(&model.cloudwatch) {
        let who = match spec.site {
            Some(s) => format!("cloudwatch {} ({})", spec.name, config.site_label(s)),
            None => format!("cloudwatch {}", spec.name),
        };
        let value = || {
            st.latest
                .map(|p| cloudwatch::reason(spec, p.value))
                .unwrap_or_default()
        };
        let (level, text) = match st.shown() {
            Shown::Stale => (Level::Warning, format!("{who}: stale")),
            Shown::Error => (
                Level::Warning,
                format!(
                    "{who}: {}",
                    st.error
                        .as_ref()
                        .map(|e| e.describe(spec.aws.profile.as_deref()))
                        .unwrap_or_default()
                ),
            ),
            Shown::Level(CwLevel::Ok) => continue,
            Shown::Level(CwLevel::Warn) => (Level::Warning, format!("{who} WARN: {}", value())),
            Shown::Level(CwLevel::Crit) => {
                let elsewhere = agreed.is_some_and(|a| Some(a) != spec.site);
                let level = if elsewhere {
                    Level::Warning
                } else {
                    Level::Critical
                };
                (level, format!("{who} CRIT: {}", value()))
            }
            Shown::Level(CwLevel::NoData) => (
                Level::Unknown,
                format!(
                    "{who}: no data in the last {}",
                    crate::ui::format::setting(spec.max_age)
                ),
            ),
            Shown::Level(CwLevel::Waiting) => (Level::Unknown, format!("{who}: no result")),
        };
        let level = if spec.site.is_none() {
            level.min(Level::Warning)
        } else {
            level
        };
        out.push(Finding { level, text });
    }
    out
}

/// RDS problems are warnings, except where writes go: no writable instance, or two (after a
/// PromoteReadReplica the old primary stays writable), is critical, as for a database.
pub fn rds(model: &Model) -> Vec<Finding> {
    let config = &model.config;
    let mut out = Vec::new();
    let mut push = |level, text: String| out.push(Finding { level, text });
    for (spec, st) in config.rds.iter().zip(&model.rds) {
        if let Some(e) = &st.error {
            push(
                Level::Warning,
                format!(
                    "rds {}: {}",
                    spec.name,
                    e.describe(spec.aws.profile.as_deref())
                ),
            );
        }
        if st.stale {
            push(Level::Warning, format!("rds {}: stale", spec.name));
        }
        if st.reading.is_none() {
            if st.error.is_none() {
                push(Level::Unknown, format!("rds {}: no result", spec.name));
            }
            continue;
        }
        let writable: Vec<&str> = spec
            .instances
            .iter()
            .enumerate()
            .filter(|(i, _)| {
                matches!(
                    st.instance(*i),
                    Some(Ok(inst)) if matches!(
                        inst.role,
                        RdsRole::Primary { .. } | RdsRole::AuroraWriter { .. }
                    )
                )
            })
            .map(|(_, i)| i.id.as_str())
            .collect();
        let all_read = (0..spec.instances.len()).all(|i| matches!(st.instance(i), Some(Ok(_))));
        match writable.len() {
            0 if all_read => push(
                Level::Critical,
                format!("rds {}: no writable instance", spec.name),
            ),
            0 | 1 => {}
            n => push(
                Level::Critical,
                format!(
                    "rds {}: split brain, {n} writable instances ({})",
                    spec.name,
                    writable.join(", ")
                ),
            ),
        }
        for i in 0..spec.instances.len() {
            let who = rds::source(config, spec, i);
            match st.instance(i) {
                Some(Err(e)) => push(Level::Warning, format!("{who}: {e}")),
                Some(Ok(inst)) => {
                    if inst.status != "available" {
                        push(Level::Warning, format!("{who}: status {}", inst.status));
                    }
                    let lag = rds::lag_text(spec, inst);
                    match rds::lag(inst) {
                        Lag::Known { .. } if rds::over(spec, inst) == Some(true) => push(
                            Level::Warning,
                            format!(
                                "{who}: {lag} over max-lag {}",
                                crate::ui::format::setting(spec.max_lag)
                            ),
                        ),
                        Lag::NoData(_) | Lag::Unreadable(_) => {
                            push(Level::Warning, format!("{who}: {lag}"))
                        }
                        _ => {}
                    }
                }
                None => {}
            }
        }
    }
    out
}
