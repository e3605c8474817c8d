//! One judgement of the whole picture, shared by the header and `status`: which site serves, and
//! how bad things are, with the reasons. Each kind judges its own sources; what is judged here
//! is how they agree.

use super::model::Model;
use crate::kinds::dns::RecordSite;
pub use crate::kinds::{Finding, Level, Serving};
use crate::schema::SiteId;

pub fn serving(model: &Model) -> Serving {
    model.world().serving()
}

pub fn assess(model: &Model) -> Vec<Finding> {
    let world = model.world();
    let config = &model.config;
    let serving = world.serving();
    let agreed = serving.agreed();
    let mut findings = world.findings(agreed);
    let mut push = |level, text: String| findings.push(Finding { level, text });
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
    findings
}

pub fn overall(findings: &[Finding]) -> Level {
    findings.iter().map(|f| f.level).max().unwrap_or(Level::Ok)
}
