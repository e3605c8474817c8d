//! Configuration: the file schema (`file`), durations, and the validated form the console uses.
//! A bad file is refused before the terminal is touched, with file, line, column and what was
//! expected.

mod aws_sources;
mod aws_steps;
pub mod duration;
pub mod file;
pub mod patroni;
pub mod runbook;
mod validate;

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use validate::{from_str, normalise_answer};

/// Index into `Config::sites`.
pub type SiteId = usize;

#[derive(Debug, Clone)]
pub struct Config {
    pub path: PathBuf,
    pub title: String,
    pub journal: PathBuf,
    pub log: Option<PathBuf>,
    pub theme: String,
    pub sites: Vec<Site>,
    pub health: Vec<HealthCheck>,
    pub databases: Vec<Database>,
    /// `[[database]]` tables with `kind = "patroni"`.
    pub patroni: Vec<patroni::PatroniCluster>,
    pub dns: Vec<DnsRecord>,
    pub runbooks: Vec<runbook::Runbook>,
    /// `[aws]`, after `--profile` / `--region` (see `Config::apply_aws_flags`).
    pub aws: AwsSettings,
    pub route53: Vec<Route53Record>,
    pub rds: Vec<RdsSource>,
    pub cloudwatch: Vec<CloudWatchCheck>,
}

#[derive(Debug, Clone)]
pub struct Site {
    pub key: String,
    pub label: String,
}

impl Config {
    pub fn site_label(&self, site: SiteId) -> &str {
        self.sites
            .get(site)
            .map(|s| s.label.as_str())
            .unwrap_or("?")
    }

    /// `--profile` and `--region` win over the config, for `[aws]`, every source and every AWS
    /// runbook action.
    pub fn apply_aws_flags(&mut self, profile: Option<&str>, region: Option<&str>) {
        let actions = self.runbooks.iter_mut().flat_map(|r| {
            r.steps.iter_mut().flat_map(|s| {
                let kind = match &mut s.kind {
                    runbook::StepKind::Action(a) => Some(&mut a.spec),
                    _ => None,
                };
                let rollback = match &mut s.rollback {
                    Some(runbook::Rollback::Action(a)) => Some(&mut a.spec),
                    _ => None,
                };
                kind.into_iter().chain(rollback)
            })
        });
        let targets = std::iter::once(&mut self.aws)
            .chain(self.route53.iter_mut().map(|r| &mut r.aws))
            .chain(self.rds.iter_mut().map(|r| &mut r.aws))
            .chain(self.cloudwatch.iter_mut().map(|c| &mut c.aws))
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

    pub fn site_by_key(&self, key: &str) -> Option<SiteId> {
        self.sites.iter().position(|s| s.key == key)
    }

    /// The longest time one round of probes can take: bounds `status`.
    pub fn longest_timeout(&self) -> Duration {
        let health = self.health.iter().map(|h| h.timeout);
        let db = self.databases.iter().map(|d| d.timeout);
        // A Patroni read is two rounds: every member's /patroni, then /cluster and the rest.
        let patroni = self.patroni.iter().map(|p| p.timeout * 2);
        let dns = self.dns.iter().map(|d| d.timeout);
        let route53 = self.route53.iter().map(|r| r.timeout);
        let rds = self.rds.iter().map(|r| r.timeout);
        let cloudwatch = self.cloudwatch.iter().map(|c| c.timeout);
        health
            .chain(db)
            .chain(patroni)
            .chain(dns)
            .chain(route53)
            .chain(rds)
            .chain(cloudwatch)
            .max()
            .unwrap_or(Duration::from_secs(1))
    }
}

/// A config problem, pointing at the place in the file when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    pub position: Option<(usize, usize)>,
    pub message: String,
    /// The offending line, for context.
    pub line_text: Option<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some((line, col)) => {
                write!(f, "{}:{line}:{col}: {}", self.file.display(), self.message)?
            }
            None => write!(f, "{}: {}", self.file.display(), self.message)?,
        }
        if let (Some(text), Some((line, col))) = (&self.line_text, self.position) {
            let gutter = line.to_string().len();
            write!(
                f,
                "\n{:gutter$} |\n{line} | {text}\n{:gutter$} | {:>col$}",
                "", "", "^"
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Where to look when `--config` is not given: ./config.toml, then the XDG config dir.
pub fn default_path() -> PathBuf {
    let local = PathBuf::from("config.toml");
    if local.exists() {
        return local;
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")));
    match base {
        Some(dir) => {
            let xdg = dir.join("failover-console").join("config.toml");
            if xdg.exists() { xdg } else { local }
        }
        None => local,
    }
}

pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: path.to_path_buf(),
        position: None,
        message: format!("cannot read the config file: {e}"),
        line_text: None,
    })?;
    from_str(&text, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route53_settings_inherit_aws_and_flags_win() {
        let text = r#"
[sites.primary]
[aws]
region = "us-east-1"
profile = "ops"
endpoint-url = "http://127.0.0.1:15055/"
[[route53]]
name = "API.failover.test"
zone-id = "/hostedzone/Z123"
region = "eu-west-1"
"#;
        let mut config = from_str(text, Path::new("t.toml")).unwrap();
        let r = &config.route53[0];
        assert_eq!(r.name, "api.failover.test.");
        assert_eq!(r.zone_id, "Z123");
        assert_eq!(r.record_type, RecordType::A);
        assert_eq!(r.interval, Duration::from_secs(30));
        assert_eq!(r.aws.region.as_deref(), Some("eu-west-1"));
        assert_eq!(r.aws.profile.as_deref(), Some("ops"));
        assert_eq!(
            r.aws.endpoint_url.as_deref(),
            Some("http://127.0.0.1:15055")
        );
        config.apply_aws_flags(Some("other"), None);
        assert_eq!(config.route53[0].aws.profile.as_deref(), Some("other"));
        assert_eq!(config.route53[0].aws.region.as_deref(), Some("eu-west-1"));
        assert_eq!(config.aws.profile.as_deref(), Some("other"));
    }

    #[test]
    fn aws_actions_resolve_records_sites_and_settings_and_flags_win() {
        use crate::actions::ActionSpec;
        use crate::actions::route53::{Mode, SiteAnswers};
        let text = r#"
[sites.primary]
label = "site A"
[sites.secondary]
label = "site B"
[aws]
region = "eu-west-1"
profile = "ops"
[[dns]]
name = "api.failover.test."
resolvers = ["127.0.0.1:5353"]
[dns.answers]
primary = ["10.0.1.100"]
secondary = ["10.0.2.100"]
[[route53]]
name = "api.failover.test."
zone-id = "Z123"
profile = "r53-read"
[[runbook]]
name = "failover"
from = "primary"
to = "secondary"
[[runbook.step]]
title = "promote"
action = "rds-promote"
instance = "Orders-B"
endpoint-url = "http://127.0.0.1:15055/"
[[runbook.step]]
title = "writer"
action = "rds-failover"
cluster = "ledger"
target = "ledger-b"
timeout = "10m"
[[runbook.step]]
title = "route 53"
action = "route53"
record = "api.failover.test"
profile = "r53-write"
rollback = { action = "route53", record = "api.failover.test." }
[[runbook.step]]
title = "pin"
action = "route53"
record = "api.failover.test."
mode = "disable-health-check"
health-check-id = "abc"
"#;
        let mut config = from_str(text, Path::new("t.toml")).unwrap();
        let steps = &config.runbooks[0].steps;
        let spec = |i: usize| match &steps[i].kind {
            runbook::StepKind::Action(a) => a.spec.clone(),
            other => panic!("{other:?}"),
        };
        let ActionSpec::RdsPromote(p) = spec(0) else {
            panic!()
        };
        assert_eq!(p.instance, "orders-b");
        assert_eq!(p.timeout, Duration::from_secs(300));
        assert_eq!(p.aws.region.as_deref(), Some("eu-west-1"));
        assert_eq!(
            p.aws.endpoint_url.as_deref(),
            Some("http://127.0.0.1:15055")
        );
        let ActionSpec::RdsFailover(f) = spec(1) else {
            panic!()
        };
        assert_eq!(
            (f.cluster.as_str(), f.target.as_str()),
            ("ledger", "ledger-b")
        );
        assert_eq!(f.timeout, Duration::from_secs(600));
        let ActionSpec::Route53(r) = spec(2) else {
            panic!()
        };
        assert_eq!(r.zone_id, "Z123");
        assert_eq!(r.timeout, Duration::from_secs(60));
        assert_eq!(r.aws.profile.as_deref(), Some("r53-write"));
        let site = |label: &str, ip: &str| SiteAnswers {
            label: label.into(),
            values: vec![ip.into()],
        };
        assert_eq!(
            r.mode,
            Mode::Upsert {
                toward: site("site B", "10.0.2.100"),
                others: vec![site("site A", "10.0.1.100")],
            }
        );
        // The rollback moves things back toward `from`, with the record's own profile.
        let Some(runbook::Rollback::Action(back)) = &steps[2].rollback else {
            panic!()
        };
        let ActionSpec::Route53(back) = &back.spec else {
            panic!()
        };
        assert_eq!(
            back.mode,
            Mode::Upsert {
                toward: site("site A", "10.0.1.100"),
                others: vec![site("site B", "10.0.2.100")],
            }
        );
        assert_eq!(back.aws.profile.as_deref(), Some("r53-read"));
        let ActionSpec::Route53(pin) = spec(3) else {
            panic!()
        };
        assert_eq!(
            pin.mode,
            Mode::HealthCheck {
                disabled: true,
                id: Some("abc".into())
            }
        );
        for line in spec(2).describe().iter().chain(&spec(3).describe()) {
            eprintln!("{line}");
        }

        config.apply_aws_flags(Some("flag"), Some("us-west-2"));
        let steps = &config.runbooks[0].steps;
        let runbook::StepKind::Action(a) = &steps[2].kind else {
            panic!()
        };
        let mut spec = a.spec.clone();
        let aws = spec.aws_mut().unwrap();
        assert_eq!(aws.profile.as_deref(), Some("flag"));
        assert_eq!(aws.region.as_deref(), Some("us-west-2"));
        let Some(runbook::Rollback::Action(back)) = &steps[2].rollback else {
            panic!()
        };
        let mut back = back.spec.clone();
        assert_eq!(back.aws_mut().unwrap().profile.as_deref(), Some("flag"));
    }
}
