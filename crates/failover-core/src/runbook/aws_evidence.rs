//! Evidence for the gates on AWS sources, in the same style as the others: what was looked at,
//! what it showed, and after a dash what blocks.

use super::evidence::Evidence;
use crate::app::Model;
use crate::app::cloudwatch::{self, Level, Shown};
use crate::app::rds::{self, Lag};
use crate::observe::RdsRole;
use crate::ui::format::{setting, since};

/// `gate = "lag"` on an `[[rds]]` source: the instance is a read replica or an Aurora reader,
/// its lag is known, its newest datapoint within `lag-max-age`, and the lag within `max-lag`.
pub fn rds_lag(model: &Model, source: usize, instance: usize) -> Evidence {
    let config = &model.config;
    let spec = &config.rds[source];
    let st = &model.rds[source];
    let who = format!(
        "{} ({})",
        rds::source(config, spec, instance),
        spec.instances[instance].id
    );
    let mut problems = Vec::new();
    if st.stale {
        problems.push("stale: no fresh reading".to_string());
    }
    if let Some(e) = &st.error {
        problems.push(format!("RDS: {}", e.describe(spec.aws.profile.as_deref())));
    }
    let mut line = who.clone();
    match st.instance(instance) {
        None => problems.push("no reading yet".into()),
        Some(Err(e)) => problems.push(e.clone()),
        Some(Ok(inst)) => {
            line = format!("{who}: {}", rds::role_text(&inst.role));
            match &inst.role {
                RdsRole::ReadReplica { .. } | RdsRole::AuroraReader { .. } => {}
                RdsRole::Primary { .. } => problems.push("is a primary, not a replica".into()),
                RdsRole::AuroraWriter { .. } => {
                    problems.push("is the Aurora writer, not a reader".into())
                }
                RdsRole::AuroraUnknown { .. } => {
                    problems.push("its cluster does not say whether it is a reader".into())
                }
            }
            let figures = rds::lag_text(spec, inst);
            if !figures.is_empty() {
                line.push_str(&format!(", {figures}"));
            }
            match rds::lag(inst) {
                Lag::Known { lag, at, .. } => {
                    let data_age =
                        std::time::Duration::try_from(model.now - at).unwrap_or_default();
                    if data_age > spec.lag_max_age {
                        problems.push(format!(
                            "lag datapoint {} old, over lag-max-age {}",
                            since(model.now, at),
                            setting(spec.lag_max_age)
                        ));
                    }
                    if lag > spec.max_lag {
                        problems.push(format!("lag over max-lag {}", setting(spec.max_lag)));
                    }
                }
                Lag::NoData(_) => problems.push("lag unknown: no datapoint".into()),
                Lag::Unreadable(_) => problems.push("lag unknown".into()),
                Lag::NotApplicable => {}
            }
        }
    }
    if !problems.is_empty() {
        line.push_str(&format!(" — {}", problems.join(", ")));
    }
    Evidence {
        pass: problems.is_empty(),
        lines: vec![line],
    }
}

/// `gate = "cloudwatch"`: the check is fresh and not CRIT. WARN passes, and says so.
pub fn cloudwatch_check(model: &Model, check: usize) -> Evidence {
    let (pass, line) = cloudwatch_line(model, check);
    Evidence {
        pass,
        lines: vec![line],
    }
}

/// One check's evidence line and whether it passes (OK or WARN, fresh, answering).
pub fn cloudwatch_line(model: &Model, check: usize) -> (bool, String) {
    let config = &model.config;
    let spec = &config.cloudwatch[check];
    let st = &model.cloudwatch[check];
    let who = match spec.site {
        Some(s) => format!("cloudwatch {} ({})", spec.name, config.site_label(s)),
        None => format!("cloudwatch {}", spec.name),
    };
    let shown = st.shown();
    let pass = matches!(shown, Shown::Level(Level::Ok | Level::Warn));
    let mut line = format!("{who} {}", cloudwatch::describe(spec, st, model.now));
    if shown == Shown::Level(Level::Warn) {
        line.push_str(" — WARN passes");
    }
    (pass, line)
}

/// `gate = "lag"` on a Patroni cluster: the member is a running replica, not tagged
/// nofailover, its lag in bytes known and within the limit; the cluster readable, not stale.
pub fn patroni_lag(model: &Model, cluster: usize, member: &str) -> Evidence {
    use crate::app::patroni::{LagClass, lag_class};
    let spec = &model.config.patroni[cluster];
    let st = &model.patroni[cluster];
    let limit = st.limit(spec);
    let mut line = format!("patroni/{}/{member}", spec.name);
    let mut problems = Vec::new();
    if st.stale {
        problems.push("stale: no fresh reading".to_string());
    }
    if let Some(e) = &st.error {
        problems.push(format!("no member answers: {e}"));
    }
    match st.view().map(|v| v.member(member)) {
        None => problems.push("no reading yet".into()),
        Some(None) => problems.push("not in /cluster".into()),
        Some(Some(m)) => {
            let lag = m
                .worst_lag()
                .map(crate::patroni::Lag::text)
                .unwrap_or_else(|| "unknown".into());
            line.push_str(&format!(
                ": {} {}, lag {lag} (limit {limit} B)",
                m.role, m.state
            ));
            if m.is_leader() {
                problems.push("is the leader, not a replica".into());
            }
            if !matches!(m.state.as_str(), "running" | "streaming") {
                problems.push(format!("is {}", m.state));
            }
            if m.nofailover {
                problems.push("tagged nofailover".into());
            }
            match lag_class(m, limit) {
                LagClass::Over => problems.push(format!("lag over {limit} B")),
                LagClass::Unknown => problems.push("lag unknown".into()),
                _ => {}
            }
        }
    }
    if st.view().is_some_and(|v| v.paused) {
        problems.push("cluster paused".into());
    }
    if !problems.is_empty() {
        line.push_str(&format!(" — {}", problems.join(", ")));
    }
    Evidence {
        pass: problems.is_empty(),
        lines: vec![line],
    }
}
