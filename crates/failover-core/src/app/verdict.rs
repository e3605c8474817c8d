//! One judgement of the whole picture, shared by the header and `status`: which site serves, and
//! how bad things are, with the reasons.

use super::dns::RecordSite;
use super::health::CheckStatus;
use super::model::Model;
use super::replication::Role;
use crate::config::SiteId;
use crate::observe::RdsRole;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Ok,
    Warning,
    Unknown,
    Critical,
}

impl Level {
    /// Monitoring-plugin exit codes.
    pub fn exit_code(self) -> i32 {
        match self {
            Level::Ok => 0,
            Level::Warning => 1,
            Level::Critical => 2,
            Level::Unknown => 3,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Level::Ok => "OK",
            Level::Warning => "WARNING",
            Level::Critical => "CRITICAL",
            Level::Unknown => "UNKNOWN",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub level: Level,
    pub text: String,
}

/// Where traffic and writes go, as observed. Sources not heard from yet are left out, not
/// counted as disagreeing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Serving {
    /// The sites of each database's writable primaries (two or more: split brain).
    pub db: Vec<Vec<SiteId>>,
    /// Databases whose every member answered and none is a writable primary.
    pub no_primary: Vec<bool>,
    /// The site each DNS record points at.
    pub dns: Vec<RecordSite>,
}

impl Serving {
    /// Every site that a primary or a DNS answer points at.
    pub fn pointed_at(&self) -> std::collections::BTreeSet<SiteId> {
        let dns = self.dns.iter().filter_map(|r| {
            if let RecordSite::Site(s) = r {
                Some(*s)
            } else {
                None
            }
        });
        self.db.iter().flatten().copied().chain(dns).collect()
    }

    /// What points at `site`: "db", "dns".
    pub fn tags(&self, site: SiteId) -> Vec<&'static str> {
        let mut tags = Vec::new();
        if self.db.iter().any(|d| d.contains(&site)) {
            tags.push("db");
        }
        if self.dns.contains(&RecordSite::Site(site)) {
            tags.push("dns");
        }
        tags
    }

    /// Problems that mean no single site serves, whatever else agrees.
    pub fn troubles(&self) -> Vec<&'static str> {
        let dns = self.dns.iter().filter_map(|r| match r {
            RecordSite::Mixed => Some("dns mixed"),
            RecordSite::Unknown => Some("dns matches no site"),
            RecordSite::NoAnswer => Some("dns no answer"),
            _ => None,
        });
        let db = self.no_primary.iter().filter(|n| **n).map(|_| "no primary");
        let brain = self
            .db
            .iter()
            .filter(|d| d.len() > 1)
            .map(|_| "split brain");
        dns.chain(db).chain(brain).collect()
    }

    /// The one site everything heard from so far agrees on, if it does.
    pub fn agreed(&self) -> Option<SiteId> {
        let sites = self.pointed_at();
        match (sites.len(), self.troubles().is_empty()) {
            (1, true) => sites.first().copied(),
            _ => None,
        }
    }
}

pub fn serving(model: &Model) -> Serving {
    let primaries_of = |i: usize| -> Vec<SiteId> {
        let spec = &model.config.databases[i];
        model.dbs[i]
            .primaries()
            .iter()
            .map(|m| spec.members[*m].site)
            .collect()
    };
    let mut db: Vec<Vec<SiteId>> = (0..model.dbs.len()).map(primaries_of).collect();
    let mut no_primary: Vec<bool> = model
        .dbs
        .iter()
        .map(|d| d.all_seen() && d.primaries().is_empty())
        .collect();
    // An [[rds]] source counts like a database: its writable instances (stand-alone primaries
    // and Aurora writers) are where writes go. Not read yet: left out.
    for (spec, st) in model.config.rds.iter().zip(&model.rds) {
        let Some(reading) = &st.reading else { continue };
        let roles: Vec<(SiteId, Option<bool>)> = spec
            .instances
            .iter()
            .zip(&reading.instances)
            .map(|(i, r)| {
                let writable = r.as_ref().ok().map(|inst| {
                    matches!(
                        inst.role,
                        RdsRole::Primary { .. } | RdsRole::AuroraWriter { .. }
                    )
                });
                (i.site, writable)
            })
            .collect();
        db.push(
            roles
                .iter()
                .filter(|(_, w)| *w == Some(true))
                .map(|(site, _)| *site)
                .collect(),
        );
        no_primary.push(roles.iter().all(|(_, w)| *w == Some(false)));
    }
    for (sites, none) in super::patroni::leader_sites(model) {
        db.push(sites);
        no_primary.push(none);
    }
    Serving {
        db,
        no_primary,
        dns: model.dns.iter().map(|r| r.site).collect(),
    }
}

pub fn assess(model: &Model) -> Vec<Finding> {
    let config = &model.config;
    let serving = serving(model);
    let agreed = serving.agreed();
    let mut findings = Vec::new();
    let mut push = |level, text: String| findings.push(Finding { level, text });

    for (spec, state) in config.health.iter().zip(&model.health) {
        let site = config.site_label(spec.site);
        if state.stale {
            push(
                Level::Warning,
                format!("health {} ({site}): stale", spec.name),
            );
        }
        match state.status {
            CheckStatus::Unhealthy => {
                let detail = state
                    .last
                    .as_ref()
                    .map(|o| o.detail.as_str())
                    .unwrap_or("?");
                let level = if agreed.is_some_and(|s| s != spec.site) {
                    Level::Warning
                } else {
                    Level::Critical
                };
                push(
                    level,
                    format!("health {} ({site}) unhealthy: {detail}", spec.name),
                );
            }
            CheckStatus::Pending if state.last.is_none() => push(
                Level::Unknown,
                format!("health {} ({site}): no result", spec.name),
            ),
            _ => {}
        }
    }

    for (db_index, (spec, state)) in config.databases.iter().zip(&model.dbs).enumerate() {
        let primaries = state.primaries();
        match primaries.len() {
            // Until every member has answered (or failed), "no primary" is not known yet.
            0 if !state.all_seen() => {}
            0 => push(
                Level::Critical,
                format!("database {}: no writable primary", spec.name),
            ),
            1 => {}
            n => push(
                Level::Critical,
                format!(
                    "database {}: split brain, {n} writable primaries",
                    spec.name
                ),
            ),
        }
        for (i, m) in state.members.iter().enumerate() {
            let who = super::replication::member_source(config, spec, i);
            if m.stale {
                push(Level::Warning, format!("{who}: stale"));
            }
            match m.role {
                Role::Unreachable => push(
                    Level::Warning,
                    format!("{who} unreachable: {}", m.error.as_deref().unwrap_or("?")),
                ),
                Role::Unknown => push(Level::Unknown, format!("{who}: no result")),
                Role::Replica => {
                    if m.lag.as_ref().is_some_and(|l| l.over_limit) {
                        let lag = m
                            .lag
                            .as_ref()
                            .map(super::replication::lag_text)
                            .unwrap_or_default();
                        push(Level::Warning, format!("{who}: lag over limit ({lag})"));
                    }
                    if m.streaming() == Some(false) {
                        push(Level::Warning, format!("{who}: not streaming"));
                    }
                    if m.replay_paused() == Some(true) {
                        push(Level::Warning, format!("{who}: WAL replay paused"));
                    }
                }
                Role::Primary => {}
            }
        }
        let _ = db_index;
    }

    for (spec, state) in config.dns.iter().zip(&model.dns) {
        let name = &spec.name;
        for (r, server) in state.resolvers.iter().zip(&spec.resolvers) {
            if r.stale {
                push(Level::Warning, format!("dns {name} @{server}: stale"));
            }
        }
        match state.site {
            RecordSite::Site(_) => {}
            RecordSite::Mixed => push(Level::Warning, format!("dns {name}: resolvers disagree")),
            RecordSite::Unknown => push(
                Level::Critical,
                format!("dns {name}: answer matches no site"),
            ),
            RecordSite::NoAnswer => push(Level::Critical, format!("dns {name}: no answer")),
            RecordSite::Pending => push(Level::Unknown, format!("dns {name}: no result")),
        }
    }

    for (index, (spec, st)) in config.route53.iter().zip(&model.route53).enumerate() {
        let what = format!("route53 {} {}", spec.name, spec.record_type);
        if st.stale {
            push(Level::Warning, format!("{what}: stale"));
        }
        if let Some(e) = &st.error {
            push(
                Level::Warning,
                format!("{what}: {}", e.describe(spec.aws.profile.as_deref())),
            );
            continue;
        }
        let Some(intended) = &st.intended else {
            match st.reading {
                Some(_) => push(Level::Warning, format!("{what}: no record set")),
                None => push(Level::Unknown, format!("{what}: no result")),
            }
            continue;
        };
        let says = super::route53::intended_text(config, intended);
        let intended_site = intended
            .site
            .map(|s| config.site_label(s).to_string())
            .unwrap_or_default();
        let disagreement = super::route53::compare(model, index).filter(|c| !c.agree);
        if let Some(c) = disagreement {
            let left = match c.ttl_left {
                Some(0) => ", past their TTL".to_string(),
                Some(t) => format!(" (TTL {t} s left)"),
                None => String::new(),
            };
            let resolvers = match c.resolvers {
                RecordSite::Site(s) => config.site_label(s).to_string(),
                RecordSite::Mixed => "different sites".to_string(),
                _ => "no site".to_string(),
            };
            push(
                Level::Warning,
                format!(
                    "{what}: Route 53 says {intended_site}, resolvers still say {resolvers}{left}"
                ),
            );
        } else if intended.site.is_none() {
            push(Level::Warning, format!("{what}: Route 53 says {says}"));
        } else if intended.role == "SECONDARY" {
            push(
                Level::Warning,
                format!("{what}: Route 53 answers the SECONDARY, {says}"),
            );
        }
    }

    let db_sites: Vec<SiteId> = serving
        .db
        .iter()
        .filter(|d| d.len() == 1)
        .flatten()
        .copied()
        .collect();
    let dns_sites: Vec<SiteId> = serving
        .dns
        .iter()
        .filter_map(|r| {
            if let RecordSite::Site(s) = r {
                Some(*s)
            } else {
                None
            }
        })
        .collect();
    if let (Some(db), Some(dns)) = (db_sites.first(), dns_sites.first())
        && (db_sites.iter().any(|s| s != db) || dns_sites.iter().any(|s| s != db) || db != dns)
    {
        push(
            Level::Critical,
            format!(
                "traffic and primary disagree: DNS points at {}, primary at {}",
                config.site_label(*dns),
                config.site_label(*db)
            ),
        );
    }
    findings.extend(super::aws_findings::cloudwatch(model, agreed));
    findings.extend(super::aws_findings::rds(model));
    findings.extend(super::patroni::findings(model));
    findings
}

pub fn overall(findings: &[Finding]) -> Level {
    findings.iter().map(|f| f.level).max().unwrap_or(Level::Ok)
}
