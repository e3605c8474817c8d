//! The plan: every step and what it will call, for the plan view and the dry run.

use super::spec::{Gate, Rollback, Step, StepKind, Wait};
use crate::kinds::{Specs, cloudwatch, postgres};
use crate::schema::Sites;
use crate::text;

/// What the step does, in lines: the SQL, the DNS update, the command line, the request.
/// `service`: the named service whose runbook it is (its gates look at its sources only).
pub fn describe(sites: &Sites, specs: &Specs, service: Option<&str>, step: &Step) -> Vec<String> {
    let mut lines = describe_kind(sites, specs, service, &step.kind);
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

pub fn describe_kind(
    sites: &Sites,
    specs: &Specs,
    service: Option<&str>,
    kind: &StepKind,
) -> Vec<String> {
    match kind {
        StepKind::Gate(Gate::Lag { db, member }) => {
            let d = &specs.postgres[*db];
            let site = sites.label(d.members[*member].site);
            vec![format!(
                "gate: {}/{site} is a streaming replica, lag within {} and {}",
                d.name,
                text::bytes(d.max_lag_bytes),
                text::secs(d.max_lag)
            )]
        }
        StepKind::Gate(Gate::Healthy { site }) => vec![match service {
            Some(service) => format!(
                "gate: every health check of {service} at {} is healthy",
                sites.label(*site)
            ),
            None => format!(
                "gate: every health check of {} is healthy",
                sites.label(*site)
            ),
        }],
        StepKind::Gate(Gate::Route53Health { record, site }) => vec![format!(
            "gate: Route 53 health check of {}'s failover set of {} {} is healthy (over 18 % of checkers)",
            sites.label(*site),
            specs.route53[*record].name,
            specs.route53[*record].record_type
        )],
        StepKind::Gate(Gate::RdsLag { rds, instance }) => {
            let r = &specs.rds[*rds];
            vec![format!(
                "gate: rds {}/{} ({}) is a read replica or Aurora reader, lag (ReplicaLag s / AuroraReplicaLag ms) at most {} old and within {}",
                r.name,
                sites.label(r.instances[*instance].site),
                r.instances[*instance].id,
                text::setting(r.lag_max_age),
                text::setting(r.max_lag)
            )]
        }
        StepKind::Gate(Gate::PatroniLag { cluster, member }) => {
            let p = &specs.patroni[*cluster];
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
            let w = &specs.cloudwatch[*check];
            vec![format!(
                "gate: cloudwatch {} ({} {}) is fresh and not CRIT ({})",
                w.name,
                w.namespace,
                cloudwatch::metric_text(w),
                cloudwatch::thresholds(w)
            )]
        }
        StepKind::Action(a) => a.spec.describe(),
        StepKind::Wait(Wait::Dns {
            record,
            site,
            timeout,
        }) => vec![format!(
            "wait: every resolver of {} answers {} ({}), up to {}",
            specs.dns[*record].name,
            sites.label(*site),
            specs.dns[*record]
                .answers
                .iter()
                .find(|(s, _)| s == site)
                .map(|(_, v)| v.join(", "))
                .unwrap_or_default(),
            text::age(*timeout)
        )],
        StepKind::Wait(Wait::Writable { check, .. }) => postgres::describe_writable(check),
        StepKind::Manual(text) => vec![format!("by hand: {text}")],
    }
}
