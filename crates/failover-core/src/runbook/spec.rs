//! Runbooks as configured: ordered steps, each a gate, an action, a wait or a manual
//! instruction, resolved against the rest of the config (members, DNS records, sites) so that
//! nothing is looked up by name while a run is in progress.

use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::actions::ActionSpec;
use crate::kinds::postgres::WriteCheck;
use crate::schema::{SiteId, StepFile};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RunbookFile {
    pub name: Spanned<String>,
    /// The `[[service]]` it belongs to: its name need only be unique within that service, and
    /// the console calls it `service/name`.
    pub service: Option<Spanned<String>>,
    pub description: Option<String>,
    pub from: Spanned<String>,
    pub to: Spanned<String>,
    #[serde(default)]
    pub step: Vec<Spanned<StepFile>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Runbook {
    /// `service/name` for a runbook that names its service: the name journal entries carry.
    pub name: String,
    /// The service it names (`service = "..."`), if it does.
    pub service: Option<String>,
    pub description: String,
    pub from: SiteId,
    pub to: SiteId,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub title: String,
    pub kind: StepKind,
    pub rollback: Option<Rollback>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Rollback {
    Action(ActionStep),
    Manual(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum StepKind {
    Gate(Gate),
    Action(ActionStep),
    Wait(Wait),
    Manual(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Gate {
    /// The target member of `db` is a streaming replica with lag within the database's limits.
    Lag { db: usize, member: usize },
    /// Every health check of the site is healthy (and not stale).
    Healthy { site: SiteId },
    /// The health check attached to the site's failover record set of a `[[route53]]` record
    /// is healthy in Route 53 (more than 18 % of its checkers), read fresh.
    Route53Health { record: usize, site: SiteId },
    /// The `[[rds]]` instance at the target site is a read replica or Aurora reader whose lag
    /// is known, fresh and within the source's `max-lag`.
    RdsLag { rds: usize, instance: usize },
    /// The `[[cloudwatch]]` check is fresh and not CRIT.
    CloudWatch { check: usize },
    /// The member of a Patroni cluster is a running replica, not tagged nofailover, whose lag
    /// in bytes is known and within the limit (the console's or `maximum_lag_on_failover`).
    PatroniLag { cluster: usize, member: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct ActionStep {
    pub spec: ActionSpec,
    /// For a promote: the database and the member being promoted, for the expected-primary guard.
    pub promotes: Option<(usize, usize)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Wait {
    /// Every resolver of the [[dns]] record answers `site`'s answers.
    Dns {
        record: usize,
        site: SiteId,
        timeout: Duration,
    },
    /// A write transaction commits on the member of `[[database]]` `db` at `site`, tried by the
    /// executor until the check's timeout.
    Writable {
        db: usize,
        member: usize,
        site: SiteId,
        check: Box<WriteCheck>,
    },
}

impl Wait {
    /// How long the wait may run before it fails.
    pub fn timeout(&self) -> Duration {
        match self {
            Wait::Dns { timeout, .. } => *timeout,
            Wait::Writable { check, .. } => check.timeout,
        }
    }
}

impl StepKind {
    pub fn label(&self) -> &'static str {
        match self {
            StepKind::Gate(_) => "gate",
            StepKind::Action(_) => "action",
            StepKind::Wait(_) => "wait",
            StepKind::Manual(_) => "manual",
        }
    }
}

impl RunbookFile {
    /// The name the console knows it by: `service/name` when it names its service.
    pub fn full_name(&self) -> String {
        match &self.service {
            Some(service) => format!("{}/{}", service.get_ref(), self.name.get_ref()),
            None => self.name.get_ref().clone(),
        }
    }
}
