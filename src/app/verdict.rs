//! One judgement of the whole picture, shared by the header and `status`: which site serves, and
//! how bad things are, with the reasons.

use super::dns::RecordSite;
use super::health::CheckStatus;
use super::model::Model;
use super::replication::Role;
use crate::config::SiteId;

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

/// Where traffic and writes go, as observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Serving {
    /// The primary's site per database (None: no single primary).
    pub db: Vec<Option<SiteId>>,
    /// The site each DNS record points at.
    pub dns: Vec<RecordSite>,
}

impl Serving {
    /// The one site everything agrees on, if it does.
    pub fn agreed(&self) -> Option<SiteId> {
        let mut sites = self.db.iter().copied().chain(self.dns.iter().map(|r| match r {
            RecordSite::Site(s) => Some(*s),
            _ => None,
        }));
        let first = sites.next()??;
        sites.all(|s| s == Some(first)).then_some(first)
    }
}

pub fn serving(model: &Model) -> Serving {
    let db = model
        .dbs
        .iter()
        .enumerate()
        .map(|(i, d)| match d.primaries().as_slice() {
            [only] => Some(model.config.databases[i].members[*only].site),
            _ => None,
        })
        .collect();
    Serving { db, dns: model.dns.iter().map(|r| r.site).collect() }
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
            push(Level::Warning, format!("health {} ({site}): stale", spec.name));
        }
        match state.status {
            CheckStatus::Unhealthy => {
                let detail = state.last.as_ref().map(|o| o.detail.as_str()).unwrap_or("?");
                let level = if agreed.is_some_and(|s| s != spec.site) { Level::Warning } else { Level::Critical };
                push(level, format!("health {} ({site}) unhealthy: {detail}", spec.name));
            }
            CheckStatus::Pending if state.last.is_none() => push(Level::Unknown, format!("health {} ({site}): no result", spec.name)),
            _ => {}
        }
    }

    for (db_index, (spec, state)) in config.databases.iter().zip(&model.dbs).enumerate() {
        let primaries = state.primaries();
        match primaries.len() {
            // Until every member has answered (or failed), "no primary" is not known yet.
            0 if !state.all_seen() => {}
            0 => push(Level::Critical, format!("database {}: no writable primary", spec.name)),
            1 => {}
            n => push(Level::Critical, format!("database {}: split brain, {n} writable primaries", spec.name)),
        }
        for (i, m) in state.members.iter().enumerate() {
            let who = super::replication::member_source(config, spec, i);
            if m.stale {
                push(Level::Warning, format!("{who}: stale"));
            }
            match m.role {
                Role::Unreachable => push(Level::Warning, format!("{who} unreachable: {}", m.error.as_deref().unwrap_or("?"))),
                Role::Unknown => push(Level::Unknown, format!("{who}: no result")),
                Role::Replica => {
                    if m.lag.as_ref().is_some_and(|l| l.over_limit) {
                        let lag = m.lag.as_ref().map(super::replication::lag_text).unwrap_or_default();
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
            RecordSite::Unknown => push(Level::Critical, format!("dns {name}: answer matches no site")),
            RecordSite::NoAnswer => push(Level::Critical, format!("dns {name}: no answer")),
            RecordSite::Pending => push(Level::Unknown, format!("dns {name}: no result")),
        }
    }

    let db_sites: Vec<SiteId> = serving.db.iter().flatten().copied().collect();
    let dns_sites: Vec<SiteId> = serving.dns.iter().filter_map(|r| if let RecordSite::Site(s) = r { Some(*s) } else { None }).collect();
    if let (Some(db), Some(dns)) = (db_sites.first(), dns_sites.first())
        && (db_sites.iter().any(|s| s != db) || dns_sites.iter().any(|s| s != db) || db != dns)
    {
        push(
            Level::Critical,
            format!("traffic and primary disagree: DNS points at {}, primary at {}", config.site_label(*dns), config.site_label(*db)),
        );
    }
    findings
}

pub fn overall(findings: &[Finding]) -> Level {
    findings.iter().map(|f| f.level).max().unwrap_or(Level::Ok)
}
