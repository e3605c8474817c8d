//! Runbooks in config: ordered steps, each a gate, an action, a wait or a manual instruction,
//! resolved against the rest of the config (members, DNS records, sites) so that nothing is
//! looked up by name while a run is in progress.

use std::time::Duration;

use toml::Spanned;

use super::file::{CommandFile, RunbookFile, StepFile};
use super::validate::Checker;
use super::{Config, ConfigError, RecordType, SiteId};
use crate::actions::{ActionSpec, Tsig};

#[derive(Debug, Clone, PartialEq)]
pub struct Runbook {
    pub name: String,
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

const DEFAULT_TIMEOUTS: [(&str, u64); 9] = [
    ("promote", 60),
    ("dns", 10),
    ("exec", 60),
    ("http", 10),
    ("route53", 60),
    ("rds-promote", 300),
    ("rds-failover", 300),
    ("patroni-switchover", 60),
    ("patroni-failover", 90),
];

pub(super) fn build(
    c: &Checker<'_>,
    file: &RunbookFile,
    config: &Config,
) -> Result<Runbook, ConfigError> {
    let site_of = |name: &Spanned<String>| c.site(config, name);
    let from = site_of(&file.from)?;
    let to = site_of(&file.to)?;
    if from == to {
        return Err(c.at(&file.to, "from and to are the same site"));
    }
    if file.step.is_empty() {
        return Err(c.at(
            &file.name,
            format!("runbook {:?} has no [[runbook.step]]", file.name.get_ref()),
        ));
    }
    let mut steps = Vec::new();
    for step in &file.step {
        let title = step
            .get_ref()
            .title
            .clone()
            .ok_or_else(|| c.at(step, "a step needs a title"))?;
        let kind = kind(c, step, config, to)?;
        let rollback = match &step.get_ref().rollback {
            None => None,
            Some(r) => Some(match kind_of_rollback(c, r, config, from)? {
                StepKind::Action(a) => Rollback::Action(a),
                StepKind::Manual(text) => Rollback::Manual(text),
                _ => {
                    return Err(c.at(
                        r,
                        "a rollback is an action or a manual instruction, not a gate or a wait",
                    ));
                }
            }),
        };
        steps.push(Step {
            title,
            kind,
            rollback,
        });
    }
    Ok(Runbook {
        name: file.name.get_ref().clone(),
        description: file.description.clone().unwrap_or_default(),
        from,
        to,
        steps,
    })
}

fn kind_of_rollback(
    c: &Checker<'_>,
    step: &Spanned<StepFile>,
    config: &Config,
    toward: SiteId,
) -> Result<StepKind, ConfigError> {
    if step.get_ref().rollback.is_some() {
        return Err(c.at(step, "a rollback cannot have its own rollback"));
    }
    kind(c, step, config, toward)
}

/// `toward` is the site the step moves things to: the runbook's `to`, or `from` for a rollback.
fn kind(
    c: &Checker<'_>,
    spanned: &Spanned<StepFile>,
    config: &Config,
    toward: SiteId,
) -> Result<StepKind, ConfigError> {
    let s = spanned.get_ref();
    let chosen = [
        s.gate.is_some(),
        s.action.is_some(),
        s.wait.is_some(),
        s.manual.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if chosen != 1 {
        return Err(c.at(
            spanned,
            "a step has exactly one of gate, action, wait or manual",
        ));
    }
    let timeout = |default: u64| {
        s.timeout
            .as_ref()
            .map(|t| t.get_ref().0)
            .unwrap_or(Duration::from_secs(default))
    };
    if let Some(gate) = &s.gate {
        return match gate.get_ref().as_str() {
            "lag" => match (&s.rds, super::patroni::named(config, s.database.as_ref())) {
                (Some(rds), _) => rds_lag_gate(c, config, s, rds, toward),
                (None, Some(cluster)) => {
                    let member = super::patroni::candidate(c, config, cluster, s, gate, toward)?;
                    Ok(StepKind::Gate(Gate::PatroniLag { cluster, member }))
                }
                (None, None) => {
                    let (db, member) = member_at(c, config, s.database.as_ref(), gate, toward)?;
                    Ok(StepKind::Gate(Gate::Lag { db, member }))
                }
            },
            "cloudwatch" => cloudwatch_gate(c, config, s, gate),
            "healthy" => {
                let site = match &s.site {
                    Some(name) => c.site(config, name)?,
                    None => toward,
                };
                Ok(StepKind::Gate(Gate::Healthy { site }))
            }
            "route53-health" => {
                let record = route53_record(c, config, s.record.as_ref(), gate)?;
                let site = match &s.site {
                    Some(name) => c.site(config, name)?,
                    None => toward,
                };
                Ok(StepKind::Gate(Gate::Route53Health { record, site }))
            }
            other => Err(c.at(
                gate,
                format!(
                    "unknown gate {other:?}: expected \"lag\", \"healthy\", \"route53-health\" or \"cloudwatch\""
                ),
            )),
        };
    }
    if let Some(wait) = &s.wait {
        return match wait.get_ref().as_str() {
            "dns" => {
                let record = dns_record(c, config, s.record.as_ref(), wait)?;
                let site = match &s.site {
                    Some(name) => c.site(config, name)?,
                    None => toward,
                };
                Ok(StepKind::Wait(Wait::Dns {
                    record,
                    site,
                    timeout: timeout(90),
                }))
            }
            other => Err(c.at(wait, format!("unknown wait {other:?}: expected \"dns\""))),
        };
    }
    if let Some(text) = &s.manual {
        return Ok(StepKind::Manual(text.clone()));
    }
    let Some(action) = &s.action else {
        return Err(c.at(
            spanned,
            "a step has exactly one of gate, action, wait or manual",
        ));
    };
    let default_timeout = DEFAULT_TIMEOUTS
        .iter()
        .find(|(n, _)| *n == action.get_ref())
        .map(|(_, t)| *t)
        .unwrap_or(10);
    let step = match action.get_ref().as_str() {
        "promote" => {
            let (db, member) = member_at(c, config, s.database.as_ref(), action, toward)?;
            let m = &config.databases[db].members[member];
            let spec = ActionSpec::Promote {
                member: format!(
                    "{}/{}",
                    config.databases[db].name,
                    config.site_label(m.site)
                ),
                dsn: m.dsn.clone(),
                password_env: m.password_env.clone(),
                timeout: timeout(default_timeout),
            };
            ActionStep {
                spec,
                promotes: Some((db, member)),
            }
        }
        "dns" => {
            let record_name = s
                .record
                .as_ref()
                .ok_or_else(|| c.at(action, "a dns action needs record = \"name.\""))?;
            let name = fqdn(record_name.get_ref());
            let known = config.dns.iter().position(|d| d.name == name);
            let record_type = match (&s.record_type, known) {
                (Some(t), _) => super::validate::record_type(c, t)?,
                (None, Some(i)) => config.dns[i].record_type,
                (None, None) => RecordType::A,
            };
            let values =
                match (&s.values, known) {
                    (Some(v), _) => v
                        .iter()
                        .map(|x| super::normalise_answer(record_type, x))
                        .collect(),
                    (None, Some(i)) => config.dns[i]
                        .answers
                        .iter()
                        .find(|(site, _)| *site == toward)
                        .map(|(_, v)| v.clone())
                        .ok_or_else(|| {
                            c.at(
                                record_name,
                                format!(
                                    "[[dns]] {name} has no answers.{}: give values = [...]",
                                    config.sites[toward].key
                                ),
                            )
                        })?,
                    (None, None) => return Err(c.at(
                        record_name,
                        format!(
                            "no [[dns]] record {name} to take answers.{} from: give values = [...]",
                            config.sites[toward].key
                        ),
                    )),
                };
            if values.is_empty() {
                return Err(c.at(record_name, "a dns action needs at least one value"));
            }
            let server = s
                .server
                .as_ref()
                .ok_or_else(|| c.at(action, "a dns action needs server = \"ip:port\""))?;
            let server_addr = super::validate::resolver_addr(c, server, "server")?;
            let tsig = match (&s.tsig_key_name, &s.tsig_secret_env) {
                (Some(key), Some(env)) => Some(Tsig {
                    key_name: key.clone(),
                    secret_env: env.clone(),
                    algorithm: match &s.tsig_algorithm {
                        None => "hmac-sha256".into(),
                        Some(a) if ["hmac-sha256", "hmac-sha384", "hmac-sha512"].contains(&a.get_ref().as_str()) => a.get_ref().clone(),
                        Some(a) => return Err(c.at(a, format!("unsupported TSIG algorithm {:?}: expected hmac-sha256, hmac-sha384 or hmac-sha512", a.get_ref()))),
                    },
                }),
                (None, None) => None,
                _ => return Err(c.at(action, "tsig-key-name and tsig-secret-env go together")),
            };
            let spec = ActionSpec::DnsReplace {
                server: server_addr,
                zone: s.zone.clone(),
                name,
                record_type,
                ttl: s.ttl.unwrap_or(60),
                values,
                tsig,
                timeout: timeout(default_timeout),
            };
            ActionStep {
                spec,
                promotes: None,
            }
        }
        "exec" => {
            let command = s.command.as_ref().ok_or_else(|| {
                c.at(
                    action,
                    "an exec action needs command = \"...\" or [\"prog\", \"arg\"]",
                )
            })?;
            let argv = match command.get_ref() {
                CommandFile::Argv(v) => v.clone(),
                CommandFile::Line(line) => shell_words::split(line)
                    .map_err(|e| c.at(command, format!("cannot split the command line: {e}")))?,
            };
            if argv.is_empty() || argv[0].is_empty() {
                return Err(c.at(command, "empty command"));
            }
            let cwd = s.cwd.as_ref().map(|d| c.relative(d));
            ActionStep {
                spec: ActionSpec::Exec {
                    argv,
                    cwd,
                    timeout: timeout(default_timeout),
                },
                promotes: None,
            }
        }
        "http" => {
            let url = s
                .url
                .as_ref()
                .ok_or_else(|| c.at(action, "an http action needs url = \"...\""))?;
            let parsed = reqwest::Url::parse(url.get_ref())
                .map_err(|e| c.at(url, format!("invalid URL {:?}: {e}", url.get_ref())))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(c.at(url, "expected an http or https URL"));
            }
            let method = s
                .method
                .as_ref()
                .map(|m| m.get_ref().to_ascii_uppercase())
                .unwrap_or_else(|| "POST".into());
            if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&method.as_str()) {
                let span = s.method.as_ref().map(|m| m.span());
                return Err(c.error(
                    span,
                    format!(
                        "unsupported method {method:?}: expected GET, POST, PUT, PATCH or DELETE"
                    ),
                ));
            }
            let spec = ActionSpec::Http {
                method,
                url: url.get_ref().clone(),
                headers: s
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                body: s.body.clone(),
                expect_status: s.expect_status.unwrap_or(200),
                timeout: timeout(default_timeout),
            };
            ActionStep {
                spec,
                promotes: None,
            }
        }
        "route53" | "rds-promote" | "rds-failover" => {
            let t = timeout(default_timeout);
            let spec = match action.get_ref().as_str() {
                "route53" => super::aws_steps::route53(c, s, action, config, toward, t)?,
                "rds-promote" => super::aws_steps::rds_promote(c, s, action, config, t)?,
                _ => super::aws_steps::rds_failover(c, s, action, config, t)?,
            };
            ActionStep {
                spec,
                promotes: None,
            }
        }
        "patroni-switchover" | "patroni-failover" => ActionStep {
            spec: super::patroni::switch_step(
                c,
                config,
                s,
                action,
                toward,
                timeout(default_timeout),
            )?,
            promotes: None,
        },
        other => {
            return Err(c.at(
                action,
                format!(
                    "unknown action {other:?}: expected \"promote\", \"dns\", \"exec\", \"http\", \"route53\", \"rds-promote\", \"rds-failover\", \"patroni-switchover\" or \"patroni-failover\""
                ),
            ));
        }
    };
    Ok(StepKind::Action(step))
}

pub(super) fn fqdn(name: &str) -> String {
    let lower = name.trim().to_ascii_lowercase();
    if lower.ends_with('.') {
        lower
    } else {
        format!("{lower}.")
    }
}

/// The member of `database` that sits at `site`.
fn member_at(
    c: &Checker<'_>,
    config: &Config,
    database: Option<&Spanned<String>>,
    at: &Spanned<String>,
    site: SiteId,
) -> Result<(usize, usize), ConfigError> {
    let name = database.ok_or_else(|| c.at(at, "this step needs database = \"name\""))?;
    let db = config
        .databases
        .iter()
        .position(|d| &d.name == name.get_ref())
        .ok_or_else(|| c.at(name, format!("unknown database {:?}", name.get_ref())))?;
    let members: Vec<usize> = (0..config.databases[db].members.len())
        .filter(|m| config.databases[db].members[*m].site == site)
        .collect();
    match members.as_slice() {
        [one] => Ok((db, *one)),
        [] => Err(c.at(
            name,
            format!(
                "database {:?} has no member at site {:?}",
                name.get_ref(),
                config.sites[site].key
            ),
        )),
        _ => Err(c.at(
            name,
            format!(
                "database {:?} has several members at site {:?}",
                name.get_ref(),
                config.sites[site].key
            ),
        )),
    }
}

/// A `[[route53]]` record by name (its first type if several are configured).
fn route53_record(
    c: &Checker<'_>,
    config: &Config,
    record: Option<&Spanned<String>>,
    at: &Spanned<String>,
) -> Result<usize, ConfigError> {
    let name = record.ok_or_else(|| c.at(at, "this step needs record = \"name.\""))?;
    let wanted = fqdn(name.get_ref());
    config
        .route53
        .iter()
        .position(|r| r.name == wanted)
        .ok_or_else(|| c.at(name, format!("no [[route53]] record {wanted}")))
}

fn dns_record(
    c: &Checker<'_>,
    config: &Config,
    record: Option<&Spanned<String>>,
    at: &Spanned<String>,
) -> Result<usize, ConfigError> {
    let name = record.ok_or_else(|| c.at(at, "this step needs record = \"name.\""))?;
    let wanted = fqdn(name.get_ref());
    config
        .dns
        .iter()
        .position(|d| d.name == wanted)
        .ok_or_else(|| {
            c.at(
                name,
                format!(
                    "no [[dns]] record {wanted}: a dns wait watches a record the DNS pane watches"
                ),
            )
        })
}

/// `gate = "lag"` with `rds = "name"`: the source's instance at `site`.
fn rds_lag_gate(
    c: &Checker<'_>,
    config: &Config,
    s: &StepFile,
    name: &Spanned<String>,
    site: SiteId,
) -> Result<StepKind, ConfigError> {
    if let Some(db) = &s.database {
        return Err(c.at(db, "a lag gate reads database or rds, not both"));
    }
    let rds = config
        .rds
        .iter()
        .position(|r| &r.name == name.get_ref())
        .ok_or_else(|| {
            c.at(
                name,
                format!("unknown rds {:?}: no [[rds]] of that name", name.get_ref()),
            )
        })?;
    let instance = config.rds[rds].instance_at(site).ok_or_else(|| {
        c.at(
            name,
            format!(
                "rds {:?} has no instance at site {:?}",
                name.get_ref(),
                config.sites[site].key
            ),
        )
    })?;
    Ok(StepKind::Gate(Gate::RdsLag { rds, instance }))
}

/// `gate = "cloudwatch"` with `check = "name"`.
fn cloudwatch_gate(
    c: &Checker<'_>,
    config: &Config,
    s: &StepFile,
    gate: &Spanned<String>,
) -> Result<StepKind, ConfigError> {
    let name = s.check.as_ref().ok_or_else(|| {
        c.at(
            gate,
            "a cloudwatch gate needs check = \"name of a [[cloudwatch]]\"",
        )
    })?;
    let check = config
        .cloudwatch
        .iter()
        .position(|w| &w.name == name.get_ref())
        .ok_or_else(|| {
            c.at(
                name,
                format!(
                    "unknown cloudwatch check {:?}: no [[cloudwatch]] of that name",
                    name.get_ref()
                ),
            )
        })?;
    Ok(StepKind::Gate(Gate::CloudWatch { check }))
}
