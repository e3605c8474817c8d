//! `[[plan]]`: an evacuation plan, the runbooks of several services run one after another
//! towards one site. Each entry is `service/runbook`, the runbook one of that service's.

use std::collections::HashSet;

use serde::Deserialize;
use toml::Spanned;

use super::Service;
use crate::runbook::Runbook;
use crate::schema::{Checker, ConfigError, SiteId, Sites, unique};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct PlanFile {
    pub name: Spanned<String>,
    pub to: Spanned<String>,
    pub runbooks: Spanned<Vec<Spanned<String>>>,
    pub parallel: Option<Spanned<bool>>,
}

/// One evacuation plan, its entries in the order they run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub name: String,
    pub to: SiteId,
    pub entries: Vec<PlanEntry>,
}

/// One runbook of the plan: indices into `Config::services` and `Config::runbooks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanEntry {
    pub service: usize,
    pub runbook: usize,
}

pub fn parse(
    c: &Checker<'_>,
    files: &[PlanFile],
    sites: &Sites,
    services: &[Service],
    runbooks: &[Runbook],
) -> Result<Vec<Plan>, ConfigError> {
    let mut names = HashSet::new();
    let mut plans = Vec::new();
    for f in files {
        unique(c, &mut names, &f.name, "plan")?;
        let to = c.site(sites, &f.to)?;
        if let Some(p) = f.parallel.as_ref().filter(|p| *p.get_ref()) {
            return Err(c.at(
                p,
                "parallel = true is not supported: a plan runs its runbooks one at a time, in order",
            ));
        }
        if f.runbooks.get_ref().is_empty() {
            return Err(c.at(
                &f.runbooks,
                format!("plan {:?} lists no runbooks", f.name.get_ref()),
            ));
        }
        let mut entries: Vec<PlanEntry> = Vec::new();
        for item in f.runbooks.get_ref() {
            let entry = entry(c, item, services, runbooks)?;
            if entries.iter().any(|e| e.runbook == entry.runbook) {
                return Err(c.at(
                    item,
                    format!("{:?} is listed twice in this plan", item.get_ref()),
                ));
            }
            let runbook = &runbooks[entry.runbook];
            if runbook.to != to {
                return Err(c.at(
                    item,
                    format!(
                        "runbook {:?} goes to {:?}, not to the plan's {:?}",
                        runbook.name,
                        sites.0[runbook.to].key,
                        f.to.get_ref()
                    ),
                ));
            }
            entries.push(entry);
        }
        plans.push(Plan {
            name: f.name.get_ref().clone(),
            to,
            entries,
        });
    }
    Ok(plans)
}

/// `service/runbook`, resolved: the runbook must be one of that service's.
fn entry(
    c: &Checker<'_>,
    item: &Spanned<String>,
    services: &[Service],
    runbooks: &[Runbook],
) -> Result<PlanEntry, ConfigError> {
    let text = item.get_ref();
    let Some((service_name, runbook_name)) = text.split_once('/') else {
        return Err(c.at(
            item,
            format!("{text:?}: expected service/runbook (a [[service]] name, a slash, one of its runbooks)"),
        ));
    };
    let service = services
        .iter()
        .position(|s| s.name == service_name && !s.implicit)
        .ok_or_else(|| {
            c.at(
                item,
                format!("unknown service {service_name:?}: no [[service]] of that name"),
            )
        })?;
    // A runbook that names its service is called `service/name`; any other by its name.
    let runbook = runbooks
        .iter()
        .position(|r| r.name == *text)
        .or_else(|| runbooks.iter().position(|r| r.name == runbook_name))
        .ok_or_else(|| {
            c.at(
                item,
                format!("unknown runbook {runbook_name:?}: no [[runbook]] of that name"),
            )
        })?;
    if !services[service].runbooks.contains(&runbook) {
        let owner = services
            .iter()
            .find(|s| s.runbooks.contains(&runbook) && !s.implicit);
        let message = match owner {
            Some(o) => format!(
                "runbook {runbook_name:?} belongs to service {:?}, not to {service_name:?}",
                o.name
            ),
            None => format!(
                "runbook {runbook_name:?} belongs to no service: list it in service {service_name:?}'s runbooks"
            ),
        };
        return Err(c.at(item, message));
    }
    Ok(PlanEntry { service, runbook })
}
