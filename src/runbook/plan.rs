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
