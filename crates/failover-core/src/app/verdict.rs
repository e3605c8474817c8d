//! One judgement of the whole picture, shared by the header, the overview and `status`: which
//! site serves each service, and how bad things are, with the reasons. Each kind judges its own
//! sources; what is judged here is how they agree, within one service: a service's DNS is
//! compared with its own database only.

use std::collections::BTreeSet;

use super::model::Model;
use crate::config::{Config, Service};
use crate::kinds::World;
use crate::kinds::dns::RecordSite;
pub use crate::kinds::{Finding, Level, Serving};
use crate::schema::SiteId;

/// One service's verdict.
#[derive(Debug, Clone)]
pub struct ServiceVerdict<'m> {
    pub service: &'m Service,
    pub serving: Serving,
    /// Its findings; with named services each text starts with the service's name.
    pub findings: Vec<Finding>,
    pub level: Level,
}

impl ServiceVerdict<'_> {
    /// The one site its primary and its DNS agree on.
    pub fn site(&self) -> Option<SiteId> {
        self.serving.agreed()
    }
}

/// Every service's verdict, in the config's order.
pub fn services(model: &Model) -> Vec<ServiceVerdict<'_>> {
    let config = &model.config;
    config
        .services
        .iter()
        .map(|service| {
            let world = model.world().scoped(&service.sources);
            let serving = world.serving();
            let mut findings = judge(&world, config, &serving);
            if named(config) {
                for f in &mut findings {
                    f.text = format!("{}: {}", service.name, f.text);
                }
            }
            let level = overall(&findings);
            ServiceVerdict {
                service,
                serving,
                findings,
                level,
            }
        })
        .collect()
}

/// Whether the config names its services (else one implicit service holds everything, and
/// messages read as they always have).
pub fn named(config: &Config) -> bool {
    config.services.iter().any(|s| !s.implicit)
}

/// Where writes and traffic go, over every source: one service's picture when there is one.
pub fn serving(model: &Model) -> Serving {
    model.world().serving()
}

/// Every service's findings, service by service.
pub fn assess(model: &Model) -> Vec<Finding> {
    services(model)
        .into_iter()
        .flat_map(|v| v.findings)
        .collect()
}

/// Findings of the sources in `world`, and whether its primaries and DNS agree.
fn judge(world: &World<'_>, config: &Config, serving: &Serving) -> Vec<Finding> {
    let mut findings = world.findings(serving.agreed());
    let db: BTreeSet<SiteId> = serving
        .db
        .iter()
        .filter(|d| d.len() == 1)
        .flatten()
        .copied()
        .collect();
    let dns: BTreeSet<SiteId> = serving
        .dns
        .iter()
        .filter_map(|r| match r {
            RecordSite::Site(s) => Some(*s),
            _ => None,
        })
        .collect();
    if !db.is_empty() && !dns.is_empty() && (db.len() > 1 || dns.len() > 1 || db != dns) {
        let labels = |sites: &BTreeSet<SiteId>| {
            sites
                .iter()
                .map(|s| config.site_label(*s))
                .collect::<Vec<_>>()
                .join(" and ")
        };
        // Databases whose primaries sit on different sites may well be different services.
        let hint = if !named(config) && serving.db.len() > 1 && db.len() > 1 {
            " (separate services? name them with [[service]])"
        } else {
            ""
        };
        findings.push(Finding {
            level: Level::Critical,
            text: format!(
                "traffic and primary disagree: DNS points at {}, primary at {}{hint}",
                labels(&dns),
                labels(&db)
            ),
        });
    }
    findings
}

pub fn overall(findings: &[Finding]) -> Level {
    findings.iter().map(|f| f.level).max().unwrap_or(Level::Ok)
}

/// The estate at a glance: how many services each site serves, and how many no one site does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Census {
    /// Per site, in the config's order.
    pub on_site: Vec<usize>,
    /// Primary and DNS point at more than one site, or resolvers disagree.
    pub split: usize,
    /// Heard from, but no single site serves (no primary, DNS matching no site...).
    pub not_serving: usize,
    /// Nothing heard yet, or nothing that says where it serves (health checks only).
    pub waiting: usize,
}

pub fn census(config: &Config, verdicts: &[ServiceVerdict<'_>]) -> Census {
    let mut c = Census {
        on_site: vec![0; config.sites.len()],
        ..Census::default()
    };
    for v in verdicts {
        let troubles = v.serving.troubles();
        match v.site() {
            Some(site) => c.on_site[site] += 1,
            None if v.serving.pointed_at().is_empty() && troubles.is_empty() => c.waiting += 1,
            None if v.serving.pointed_at().len() > 1
                || troubles.contains(&"dns mixed")
                || troubles.contains(&"split brain") =>
            {
                c.split += 1
            }
            None => c.not_serving += 1,
        }
    }
    c
}
