//! The validated config the console runs on: sites, every kind's sources, runbooks. A bad file
//! is refused before the terminal is touched, with file, line, column and what was expected.

pub mod envs;
pub mod file;
pub mod plan;
pub mod service;
#[cfg(test)]
pub(crate) mod tests;
pub mod war_room;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;

use crate::kinds::aws::{self, AwsSettings};
use crate::kinds::{Specs, alarm, cloudwatch, dns, health, patroni, postgres, rds, route53};
use crate::runbook::{self, Rollback, Runbook, StepKeys, StepKind};
use crate::schema::{Checker, unique};
pub use crate::schema::{ConfigError, Drivers, Dsn, Site, SiteId, Sites};
use crate::secrets::Masker;
use file::FileConfig;
pub use plan::{Plan, PlanEntry};
pub use service::Service;
pub use war_room::WarRoom;

#[derive(Debug, Clone)]
pub struct Config {
    pub path: PathBuf,
    pub title: String,
    pub journal: PathBuf,
    pub log: Option<PathBuf>,
    pub theme: String,
    /// `[console] sparklines`: a 5-minute sparkline ends each row at 120 columns and wider.
    pub sparklines: bool,
    pub sites: Sites,
    /// Every kind's sources.
    pub kinds: Specs,
    pub runbooks: Vec<Runbook>,
    /// `[[service]]`, or one implicit service holding every source and runbook.
    pub services: Vec<Service>,
    /// `[[plan]]`: evacuation plans, each runbook of several services in order.
    pub plans: Vec<Plan>,
    /// `[aws]`, after `--profile` / `--region` (see `Config::apply_aws_flags`).
    pub aws: AwsSettings,
    /// `[war-room]`: the shared record and driver lease on etcd; `None`: the journal file.
    pub war_room: Option<WarRoom>,
    /// `[objectives]`: RTO and RPO every run is marked against.
    pub objectives: runbook::numbers::Objectives,
    /// Every variable the file names for a secret (each `*-env`): their values are masked in
    /// whatever is shown or journaled.
    pub secret_envs: Vec<String>,
    /// Their values, as the binary read them when it loaded the file (empty until then): the
    /// plan drawn on screen is masked with it, as the executor masks what actions write.
    pub masker: Masker,
}

impl Config {
    pub fn site_label(&self, site: SiteId) -> &str {
        self.sites.label(site)
    }

    pub fn site_by_key(&self, key: &str) -> Option<SiteId> {
        self.sites.by_key(key)
    }

    /// `--profile` and `--region` win over the config, for `[aws]`, every source and every AWS
    /// runbook action.
    pub fn apply_aws_flags(&mut self, profile: Option<&str>, region: Option<&str>) {
        let actions = self.runbooks.iter_mut().flat_map(|r| {
            r.steps.iter_mut().flat_map(|s| {
                let kind = match &mut s.kind {
                    StepKind::Action(a) => Some(&mut a.spec),
                    _ => None,
                };
                let rollback = match &mut s.rollback {
                    Some(Rollback::Action(a)) => Some(&mut a.spec),
                    _ => None,
                };
                kind.into_iter().chain(rollback)
            })
        });
        let targets = std::iter::once(&mut self.aws)
            .chain(self.kinds.aws_mut())
            .chain(actions.filter_map(|spec| spec.aws_mut()));
        for aws in targets {
            if let Some(p) = profile {
                aws.profile = Some(p.to_string());
            }
            if let Some(r) = region {
                aws.region = Some(r.to_string());
            }
        }
    }

    /// The longest time one round of reads can take: bounds `status`.
    pub fn longest_timeout(&self) -> Duration {
        self.kinds.longest_read().unwrap_or(Duration::from_secs(1))
    }
}

/// Parses and checks a config file's text. `drivers` answers what only the binary's drivers
/// know (whether a PostgreSQL DSN parses).
pub fn parse(text: &str, path: &Path, drivers: &dyn Drivers) -> Result<Config, ConfigError> {
    let checker = Checker { text, path };
    let file: FileConfig = toml::from_str(text).map_err(|e| {
        let message = e.message().trim().to_string();
        checker.error(e.span(), message)
    })?;
    build(&checker, file, drivers)
}

fn build(c: &Checker<'_>, file: FileConfig, drivers: &dyn Drivers) -> Result<Config, ConfigError> {
    if file.sites.is_empty() {
        return Err(c.error(
            None,
            "no [sites.<name>] tables: at least one site is needed",
        ));
    }
    let sites = Sites(
        file.sites
            .iter()
            .map(|(key, site)| Site {
                key: key.clone(),
                label: site.get_ref().label.clone().unwrap_or_else(|| key.clone()),
            })
            .collect(),
    );
    let site_keys: Vec<&str> = sites.iter().map(|s| s.key.as_str()).collect();
    let site_of = |name: &Spanned<String>| -> Result<SiteId, ConfigError> {
        site_keys
            .iter()
            .position(|k| *k == name.get_ref())
            .ok_or_else(|| {
                c.at(
                    name,
                    format!(
                        "unknown site {:?}: expected one of {}",
                        name.get_ref(),
                        site_keys.join(", ")
                    ),
                )
            })
    };

    let mut kinds = Specs::default();
    let mut names = HashSet::new();
    for h in &file.health {
        unique(c, &mut names, &h.name, "health check")?;
        kinds.health.push(health::parse(c, h, site_of(&h.site)?)?);
    }
    let mut db_names = HashSet::new();
    for d in &file.database {
        unique(c, &mut db_names, &d.name, "database")?;
        if d.kind.get_ref() == "patroni" {
            kinds.patroni.push(patroni::parse(c, d, &site_of)?);
        } else {
            kinds
                .postgres
                .push(postgres::parse(c, d, &site_of, drivers)?);
        }
    }
    let mut dns_names = HashSet::new();
    for d in &file.dns {
        kinds.dns.push(dns::parse(c, d, &site_of, &mut dns_names)?);
    }
    let aws = match &file.aws {
        Some(a) => aws::parse_settings(c, a)?,
        None => AwsSettings::default(),
    };
    let mut r53_seen = HashSet::new();
    for r in &file.route53 {
        kinds
            .route53
            .push(route53::parse(c, r, &aws, &mut r53_seen)?);
    }
    kinds.rds = rds::parse(c, &file.rds, &aws, &site_of)?;
    kinds.cloudwatch = cloudwatch::parse(c, &file.cloudwatch, &aws, &site_of)?;
    kinds.alarm = alarm::parse(c, &file.alarm, &aws, &site_of)?;

    let keys = StepKeys::new(c.text);
    let mut runbooks = Vec::new();
    let mut runbook_names = HashSet::new();
    for (i, r) in file.runbook.iter().enumerate() {
        let full = Spanned::new(r.name.span(), r.full_name());
        unique(c, &mut runbook_names, &full, "runbook")?;
        if let Some(service) = &r.service
            && !file
                .service
                .iter()
                .any(|s| s.name.get_ref() == service.get_ref())
        {
            return Err(c.at(
                service,
                format!(
                    "unknown service {:?}: no [[service]] of that name",
                    service.get_ref()
                ),
            ));
        }
        runbooks.push(runbook::parse(c, r, &keys, i, &sites, &kinds, &aws)?);
    }
    let services = service::parse(c, &file.service, &kinds, &runbooks)?;
    let plans = plan::parse(c, &file.plan, &sites, &services, &runbooks)?;
    let war_room = match &file.war_room {
        Some(w) => Some(war_room::parse(c, w)?),
        None => None,
    };
    let objectives = match &file.objectives {
        Some(o) => objectives(c, o)?,
        None => runbook::numbers::Objectives::default(),
    };
    let dir = c.path.parent().map(Path::to_path_buf).unwrap_or_default();
    let relative = |p: &str| -> PathBuf {
        let p = PathBuf::from(p);
        if p.is_absolute() { p } else { dir.join(p) }
    };
    Ok(Config {
        path: c.path.to_path_buf(),
        title: file
            .console
            .title
            .clone()
            .unwrap_or_else(|| "failover-console".to_string()),
        journal: relative(file.console.journal.as_deref().unwrap_or("journal.jsonl")),
        log: file.console.log.as_deref().map(relative),
        theme: match &file.console.theme {
            Some(t) => t.get_ref().clone(),
            None => "dark".to_string(),
        },
        sparklines: file.console.sparklines.unwrap_or(true),
        sites,
        kinds,
        runbooks,
        services,
        plans,
        aws,
        war_room,
        objectives,
        secret_envs: c
            .text
            .parse::<toml::Table>()
            .map(|t| crate::secrets::env_names(&t))
            .unwrap_or_default(),
        masker: Masker::default(),
    })
}

/// `[objectives]`: each figure more than zero (durations at most a day, like every other).
fn objectives(
    c: &Checker<'_>,
    o: &file::ObjectivesFile,
) -> Result<runbook::numbers::Objectives, ConfigError> {
    let positive = |d: &Option<Spanned<crate::schema::ConfigDuration>>, key: &str| match d {
        Some(d) if d.get_ref().0.is_zero() => {
            Err(c.at(d, format!("{key} is 0: expected more than 0")))
        }
        Some(d) => Ok(Some(d.get_ref().0)),
        None => Ok(None),
    };
    let rpo_bytes = match &o.rpo_bytes {
        Some(b) if *b.get_ref() == 0 => {
            return Err(c.at(b, "rpo-bytes is 0: expected more than 0"));
        }
        Some(b) => Some(*b.get_ref()),
        None => None,
    };
    Ok(runbook::numbers::Objectives {
        rto: positive(&o.rto, "rto")?,
        rpo: positive(&o.rpo, "rpo")?,
        rpo_bytes,
    })
}
