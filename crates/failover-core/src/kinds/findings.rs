//! What the verdict is made of: findings with a level, and where writes and traffic go.

use super::dns::RecordSite;
use crate::schema::SiteId;

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
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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

/// What a gate or a wait looked at and whether it passes: the same figures the panes show.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    pub pass: bool,
    /// One line each: what was looked at and what it showed.
    pub lines: Vec<String>,
}

impl Evidence {
    pub fn summary(&self) -> String {
        self.lines.join("; ")
    }
}
