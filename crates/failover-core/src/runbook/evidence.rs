//! Live evidence for gates and waits: each kind judges its own, with the same figures its pane
//! shows.

use super::spec::{Gate, Wait};
pub use crate::kinds::Evidence;
use crate::kinds::{World, cloudwatch, dns, patroni, postgres, rds, route53};

pub fn gate(world: &World<'_>, gate: &Gate) -> Evidence {
    match gate {
        Gate::Lag { db, member } => postgres::lag_evidence(world, *db, *member),
        Gate::Healthy { site } => healthy(world, *site),
        Gate::Route53Health { record, site } => route53::health_evidence(world, *record, *site),
        Gate::RdsLag { rds, instance } => rds::lag_evidence(world, *rds, *instance),
        Gate::CloudWatch { check } => cloudwatch::gate_evidence(world, *check),
        Gate::PatroniLag { cluster, member } => patroni::lag_evidence(world, *cluster, member),
    }
}

/// `gate = "healthy"`: every source that counts toward the site's health is fine (and fresh).
fn healthy(world: &World<'_>, site: crate::schema::SiteId) -> Evidence {
    let parts = world.site_health(site);
    if parts.is_empty() {
        return Evidence {
            pass: false,
            lines: vec![format!(
                "no health check is configured for {}",
                world.sites.label(site)
            )],
        };
    }
    Evidence {
        pass: parts.iter().all(|(ok, _)| *ok),
        lines: parts.into_iter().map(|(_, line)| line).collect(),
    }
}

pub fn wait(world: &World<'_>, wait: &Wait) -> Evidence {
    match wait {
        Wait::Dns { record, site, .. } => dns::wait_evidence(world, *record, *site),
        Wait::Writable { db, member, .. } => postgres::writable_evidence(world, *db, *member),
    }
}
