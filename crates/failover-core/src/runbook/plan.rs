//! The plan: every step and what it will call, for the plan view and the dry run.

use crate::config::Config;
use crate::config::runbook::{Gate, Rollback, Step, StepKind, Wait};

/// What the step does, in lines: the SQL, the DNS update, the command line, the request.
pub fn describe(config: &Config, step: &Step) -> Vec<String> {
    let mut lines = describe_kind(config, &step.kind);
    match &step.rollback {
        Some(Rollback::Action(a)) => {
            lines.push("rollback:".into());
            lines.extend(a.spec.describe().into_iter().map(|l| format!("  {l}")));
        }
        Some(Rollback::Manual(text)) => lines.push(format!("rollback (by hand): {text}")),
        None => {}
    }
    lines
}

pub fn describe_kind(config: &Config, kind: &StepKind) -> Vec<String> {
    match kind {
        StepKind::Gate(Gate::Lag { db, member }) => {
            let d = &config.databases[*db];
            let site = config.site_label(d.members[*member].site);
            vec![format!(
                "gate: {}/{site} is a streaming replica, lag within {} and {}",
                d.name,
                crate::app::replication::bytes(d.max_lag_bytes),
                crate::app::replication::secs(d.max_lag)
            )]
        }
        StepKind::Gate(Gate::Healthy { site }) => vec![format!(
            "gate: every health check of {} is healthy",
            config.site_label(*site)
        )],
        StepKind::Gate(Gate::Route53Health { record, site }) => vec![format!(
            "gate: Route 53 health check of {}'s failover set of {} {} is healthy (over 18 % of checkers)",
            config.site_label(*site),
            config.route53[*record].name,
            config.route53[*record].record_type
        )],
        StepKind::Gate(Gate::RdsLag { rds, instance }) => {
            let r = &config.rds[*rds];
            vec![format!(
                "gate: rds {}/{} ({}) is a read replica or Aurora reader, lag (ReplicaLag s / AuroraReplicaLag ms) at most {} old and within {}",
                r.name,
                config.site_label(r.instances[*instance].site),
                r.instances[*instance].id,
                crate::ui::format::setting(r.lag_max_age),
                crate::ui::format::setting(r.max_lag)
            )]
        }
        StepKind::Gate(Gate::PatroniLag { cluster, member }) => {
            let p = &config.patroni[*cluster];
            let limit = p
                .max_lag_bytes
                .map(|b| format!("{b} B"))
                .unwrap_or_else(|| "maximum_lag_on_failover".into());
            vec![format!(
                "gate: patroni {}/{member} is a running replica, not nofailover, cluster not paused, lag within {limit}",
                p.name
            )]
        }
        StepKind::Gate(Gate::CloudWatch { check }) => {
            let w = &config.cloudwatch[*check];
            vec![format!(
                "gate: cloudwatch {} ({} {}) is fresh and not CRIT ({})",
                w.name,
                w.namespace,
                crate::app::cloudwatch::metric_text(w),
                crate::app::cloudwatch::thresholds(w)
            )]
        }
        StepKind::Action(a) => a.spec.describe(),
        StepKind::Wait(Wait::Dns {
            record,
            site,
            timeout,
        }) => vec![format!(
            "wait: every resolver of {} answers {} ({}), up to {}",
            config.dns[*record].name,
            config.site_label(*site),
            config.dns[*record]
                .answers
                .iter()
                .find(|(s, _)| s == site)
                .map(|(_, v)| v.join(", "))
                .unwrap_or_default(),
            crate::ui::format::age(*timeout)
        )],
        StepKind::Manual(text) => vec![format!("by hand: {text}")],
    }
}
