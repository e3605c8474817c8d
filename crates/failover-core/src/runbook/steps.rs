//! Every kind of runbook step: its name (`gate = "lag"`, `action = "dns"`...), the keys it
//! takes, its default timeout and its parser. A key that belongs to another kind of step is
//! refused where it stands, never ignored.

use std::time::Duration;

use toml::Spanned;

use super::keys::StepKeys;
use super::spec::{ActionStep, Gate, Rollback, Runbook, RunbookFile, Step, StepKind, Wait};
use crate::actions::ActionSpec;
use crate::actions::webhook::Field;
use crate::kinds::Specs;
use crate::kinds::aws::{AwsSettings, own_settings};
use crate::kinds::dns::{RecordType, Tsig, fqdn, normalise_answer, record_type};
use crate::kinds::patroni;
use crate::kinds::postgres::{WriteCheck, attempt_timeout};
use crate::kinds::rds::{Failover, Promote};
use crate::kinds::route53::{Mode, Route53Change, Route53Record, SiteAnswers};
use crate::schema::{
    Checker, CommandFile, ConfigError, SiteId, Sites, StepFile, non_empty, resolver_addr,
};

/// What a step's parser reads: the step, the rest of the config, and where it goes.
pub struct StepCtx<'a> {
    pub c: &'a Checker<'a>,
    pub sites: &'a Sites,
    pub specs: &'a Specs,
    /// `[aws]`.
    pub aws: &'a AwsSettings,
    pub step: &'a StepFile,
    /// The value of `gate`, `action` or `wait`: what errors about the step as a whole point at.
    pub at: &'a Spanned<String>,
    /// The site the step moves things to: the runbook's `to`, or `from` for a rollback.
    pub toward: SiteId,
    pub timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Gate,
    Action,
    Wait,
}

impl Family {
    fn key(self) -> &'static str {
        match self {
            Family::Gate => "gate",
            Family::Action => "action",
            Family::Wait => "wait",
        }
    }
}

/// One kind of step.
struct StepType {
    family: Family,
    name: &'static str,
    /// Its keys besides `title`, its family's key and `rollback`.
    keys: &'static [&'static str],
    /// Seconds; actions and waits only.
    default_timeout: u64,
    parse: fn(&StepCtx<'_>) -> Result<StepKind, ConfigError>,
}

impl StepType {
    /// "a lag gate", "an rds-promote step", "a dns wait".
    fn what(&self) -> String {
        let article = |word: &str| {
            if word.starts_with(['a', 'e', 'i', 'o', 'u']) || word.starts_with("rds") {
                "an"
            } else {
                "a"
            }
        };
        match self.family {
            Family::Action => format!("{} {} step", article(self.name), self.name),
            family => format!("{} {} {}", article(self.name), self.name, family.key()),
        }
    }

    fn allowed(&self) -> Vec<&'static str> {
        let mut keys = vec!["title", self.family.key()];
        keys.extend(self.keys);
        keys.push("rollback");
        keys
    }
}

const AWS_KEYS: [&str; 3] = ["region", "profile", "endpoint-url"];

const STEP_TYPES: &[StepType] = &[
    StepType {
        family: Family::Gate,
        name: "lag",
        keys: &["database", "rds", "candidate"],
        default_timeout: 0,
        parse: lag_gate,
    },
    StepType {
        family: Family::Gate,
        name: "healthy",
        keys: &["site"],
        default_timeout: 0,
        parse: healthy_gate,
    },
    StepType {
        family: Family::Gate,
        name: "route53-health",
        keys: &["record", "site"],
        default_timeout: 0,
        parse: route53_health_gate,
    },
    StepType {
        family: Family::Gate,
        name: "cloudwatch",
        keys: &["check"],
        default_timeout: 0,
        parse: cloudwatch_gate,
    },
    StepType {
        family: Family::Wait,
        name: "dns",
        keys: &["record", "site", "timeout"],
        default_timeout: 90,
        parse: dns_wait,
    },
    StepType {
        family: Family::Wait,
        name: "writable",
        keys: &["database", "site", "timeout"],
        default_timeout: 60,
        parse: writable_wait,
    },
    StepType {
        family: Family::Action,
        name: "promote",
        keys: &["database", "timeout"],
        default_timeout: 60,
        parse: promote,
    },
    StepType {
        family: Family::Action,
        name: "dns",
        keys: &[
            "record",
            "type",
            "server",
            "zone",
            "ttl",
            "values",
            "tsig-key-name",
            "tsig-secret-env",
            "tsig-algorithm",
            "timeout",
        ],
        default_timeout: 10,
        parse: dns_update,
    },
    StepType {
        family: Family::Action,
        name: "exec",
        keys: &["command", "cwd", "env", "timeout"],
        default_timeout: 60,
        parse: exec,
    },
    StepType {
        family: Family::Action,
        name: "http",
        keys: &[
            "url",
            "url-env",
            "method",
            "headers",
            "header-env",
            "body",
            "expect-status",
            "timeout",
        ],
        default_timeout: 10,
        parse: http,
    },
    StepType {
        family: Family::Action,
        name: "route53",
        keys: &[
            "record",
            "type",
            "mode",
            "health-check-id",
            AWS_KEYS[0],
            AWS_KEYS[1],
            AWS_KEYS[2],
            "timeout",
        ],
        default_timeout: 60,
        parse: route53,
    },
    StepType {
        family: Family::Action,
        name: "rds-promote",
        keys: &["instance", AWS_KEYS[0], AWS_KEYS[1], AWS_KEYS[2], "timeout"],
        default_timeout: 300,
        parse: rds_promote,
    },
    StepType {
        family: Family::Action,
        name: "rds-failover",
        keys: &[
            "cluster",
            "target",
            AWS_KEYS[0],
            AWS_KEYS[1],
            AWS_KEYS[2],
            "timeout",
        ],
        default_timeout: 300,
        parse: rds_failover,
    },
    StepType {
        family: Family::Action,
        name: "patroni-switchover",
        keys: &["database", "candidate", "leader", "timeout"],
        default_timeout: 60,
        parse: patroni_switch,
    },
    StepType {
        family: Family::Action,
        name: "patroni-failover",
        // `leader` is refused by the parser, with why.
        keys: &["database", "candidate", "leader", "timeout"],
        default_timeout: 90,
        parse: patroni_switch,
    },
];

/// A runbook: its sites, then every step and its rollback.
pub fn runbook(
    c: &Checker<'_>,
    file: &RunbookFile,
    keys: &StepKeys<'_>,
    index: usize,
    sites: &Sites,
    specs: &Specs,
    aws: &AwsSettings,
) -> Result<Runbook, ConfigError> {
    let from = c.site(sites, &file.from)?;
    let to = c.site(sites, &file.to)?;
    if from == to {
        return Err(c.at(&file.to, "from and to are the same site"));
    }
    if file.step.is_empty() {
        return Err(c.at(
            &file.name,
            format!("runbook {:?} has no [[runbook.step]]", file.name.get_ref()),
        ));
    }
    let parse = |step: &Spanned<StepFile>, key_path: &[usize], toward: SiteId| {
        kind(c, step, keys, key_path, sites, specs, aws, toward)
    };
    let mut steps = Vec::new();
    for (i, step) in file.step.iter().enumerate() {
        let title = step
            .get_ref()
            .title
            .clone()
            .ok_or_else(|| c.at(step, "a step needs a title"))?;
        let kind = parse(step, &[index, i], to)?;
        let rollback = match &step.get_ref().rollback {
            None => None,
            Some(r) => {
                if r.get_ref().rollback.is_some() {
                    return Err(c.at(r.as_ref(), "a rollback cannot have its own rollback"));
                }
                Some(match parse(r, &[index, i, 0], from)? {
                    StepKind::Action(a) => Rollback::Action(a),
                    StepKind::Manual(text) => Rollback::Manual(text),
                    _ => {
                        return Err(c.at(
                            r.as_ref(),
                            "a rollback is an action or a manual instruction, not a gate or a wait",
                        ));
                    }
                })
            }
        };
        steps.push(Step {
            title,
            kind,
            rollback,
        });
    }
    Ok(Runbook {
        name: file.full_name(),
        service: file.service.as_ref().map(|s| s.get_ref().clone()),
        description: file.description.clone().unwrap_or_default(),
        from,
        to,
        steps,
    })
}

/// `key_path`: the runbook's index, the step's, and a third number for the step's rollback.
#[allow(clippy::too_many_arguments)]
fn kind(
    c: &Checker<'_>,
    spanned: &Spanned<StepFile>,
    keys: &StepKeys<'_>,
    key_path: &[usize],
    sites: &Sites,
    specs: &Specs,
    aws: &AwsSettings,
    toward: SiteId,
) -> Result<StepKind, ConfigError> {
    let s = spanned.get_ref();
    let families = [
        (Family::Gate, &s.gate),
        (Family::Action, &s.action),
        (Family::Wait, &s.wait),
    ];
    let chosen =
        families.iter().filter(|(_, v)| v.is_some()).count() + usize::from(s.manual.is_some());
    if chosen != 1 {
        return Err(c.at(
            spanned,
            "a step has exactly one of gate, action, wait or manual",
        ));
    }
    if let Some(text) = &s.manual {
        keys.refuse_others(
            c,
            key_path,
            &["title", "manual", "rollback"],
            "a manual step",
            "",
        )?;
        return Ok(StepKind::Manual(text.clone()));
    }
    let Some((family, Some(at))) = families.into_iter().find(|(_, v)| v.is_some()) else {
        return Err(c.at(
            spanned,
            "a step has exactly one of gate, action, wait or manual",
        ));
    };
    let Some(step_type) = STEP_TYPES
        .iter()
        .find(|t| t.family == family && t.name == at.get_ref())
    else {
        let names: Vec<String> = STEP_TYPES
            .iter()
            .filter(|t| t.family == family)
            .map(|t| format!("{:?}", t.name))
            .collect();
        let expected = match names.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        };
        return Err(c.at(
            at,
            format!(
                "unknown {} {:?}: expected {expected}",
                family.key(),
                at.get_ref()
            ),
        ));
    };
    let how = format!("{} = {:?}", family.key(), step_type.name);
    keys.refuse_others(c, key_path, &step_type.allowed(), &step_type.what(), &how)?;
    let timeout = s
        .timeout
        .as_ref()
        .map(|t| t.get_ref().0)
        .unwrap_or(Duration::from_secs(step_type.default_timeout));
    (step_type.parse)(&StepCtx {
        c,
        sites,
        specs,
        aws,
        step: s,
        at,
        toward,
        timeout,
    })
}

// ------------------------------------------------------------------------------------------------
// gates and waits
// ------------------------------------------------------------------------------------------------

fn lag_gate(x: &StepCtx<'_>) -> Result<StepKind, ConfigError> {
    let s = x.step;
    match (
        &s.rds,
        patroni::named(&x.specs.patroni, s.database.as_ref()),
    ) {
        (Some(rds), _) => rds_lag_gate(x, rds),
        (None, Some(cluster)) => {
            let member =
                patroni::candidate(x.c, x.sites, &x.specs.patroni, cluster, s, x.at, x.toward)?;
            Ok(StepKind::Gate(Gate::PatroniLag { cluster, member }))
        }
        (None, None) => {
            let (db, member) = member_at(x, s.database.as_ref())?;
            Ok(StepKind::Gate(Gate::Lag { db, member }))
        }
    }
}

/// `site = "..."`, else the site the step moves toward.
fn site(x: &StepCtx<'_>) -> Result<SiteId, ConfigError> {
    match &x.step.site {
        Some(name) => x.c.site(x.sites, name),
        None => Ok(x.toward),
    }
}

fn healthy_gate(x: &StepCtx<'_>) -> Result<StepKind, ConfigError> {
    Ok(StepKind::Gate(Gate::Healthy { site: site(x)? }))
}

fn route53_health_gate(x: &StepCtx<'_>) -> Result<StepKind, ConfigError> {
    let record = route53_record(x)?;
    Ok(StepKind::Gate(Gate::Route53Health {
        record,
        site: site(x)?,
    }))
}

/// `gate = "cloudwatch"` with `check = "name"`.
fn cloudwatch_gate(x: &StepCtx<'_>) -> Result<StepKind, ConfigError> {
    let c = x.c;
    let name = x.step.check.as_ref().ok_or_else(|| {
        c.at(
            x.at,
            "a cloudwatch gate needs check = \"name of a [[cloudwatch]]\"",
        )
    })?;
    let check = x
        .specs
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

/// `gate = "lag"` with `rds = "name"`: the source's instance at the site moved toward.
fn rds_lag_gate(x: &StepCtx<'_>, name: &Spanned<String>) -> Result<StepKind, ConfigError> {
    let c = x.c;
    if let Some(db) = &x.step.database {
        return Err(c.at(db, "a lag gate reads database or rds, not both"));
    }
    let rds = x
        .specs
        .rds
        .iter()
        .position(|r| &r.name == name.get_ref())
        .ok_or_else(|| {
            c.at(
                name,
                format!("unknown rds {:?}: no [[rds]] of that name", name.get_ref()),
            )
        })?;
    let instance = x.specs.rds[rds].instance_at(x.toward).ok_or_else(|| {
        c.at(
            name,
            format!(
                "rds {:?} has no instance at site {:?}",
                name.get_ref(),
                x.sites[x.toward].key
            ),
        )
    })?;
    Ok(StepKind::Gate(Gate::RdsLag { rds, instance }))
}

fn dns_wait(x: &StepCtx<'_>) -> Result<StepKind, ConfigError> {
    let c = x.c;
    let name = x
        .step
        .record
        .as_ref()
        .ok_or_else(|| c.at(x.at, "this step needs record = \"name.\""))?;
    let wanted = fqdn(name.get_ref());
    let record = x
        .specs
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
        })?;
    Ok(StepKind::Wait(Wait::Dns {
        record,
        site: site(x)?,
        timeout: x.timeout,
    }))
}

/// `wait = "writable"` with `database = "name"` of a `[[database]] kind = "postgres"`, and
/// `site` (default: the site moved toward): the check connects with that member's dsn.
fn writable_wait(x: &StepCtx<'_>) -> Result<StepKind, ConfigError> {
    let c = x.c;
    let name = x.step.database.as_ref().ok_or_else(|| {
        c.at(
            x.at,
            "a writable wait needs database = \"name\" of a [[database]] kind = \"postgres\"",
        )
    })?;
    let site = site(x)?;
    let Some(db) = x
        .specs
        .postgres
        .iter()
        .position(|d| &d.name == name.get_ref())
    else {
        let why = if patroni::named(&x.specs.patroni, Some(name)).is_some() {
            format!(
                "database {:?} is kind = \"patroni\": the console reaches it only through Patroni's REST API, and a writable wait connects with a member's dsn; it takes a [[database]] kind = \"postgres\" (the same servers may be configured as one)",
                name.get_ref()
            )
        } else if x.specs.rds.iter().any(|r| &r.name == name.get_ref()) {
            format!(
                "{:?} is an [[rds]] source: the console reads it through the AWS APIs and has no dsn for its instances; a writable wait takes a [[database]] kind = \"postgres\" (an RDS endpoint may be configured as one)",
                name.get_ref()
            )
        } else {
            format!(
                "unknown database {:?}: no [[database]] kind = \"postgres\" of that name",
                name.get_ref()
            )
        };
        return Err(c.at(name, why));
    };
    let (db, member) = member_of(x, db, name, site, x.step.site.as_ref().unwrap_or(name))?;
    let database = &x.specs.postgres[db];
    let m = &database.members[member];
    let check = WriteCheck {
        site: x.sites.label(site).to_string(),
        member: format!("{}/{}", database.name, x.sites.label(m.site)),
        dsn: m.dsn.clone(),
        target: m.points_at.target.clone(),
        password_env: m.password_env.clone(),
        timeout: x.timeout,
        attempt_timeout: attempt_timeout(database.timeout, x.timeout),
    };
    Ok(StepKind::Wait(Wait::Writable {
        db,
        member,
        site,
        check: Box::new(check),
    }))
}

/// The member of `database` at the site moved toward.
fn member_at(
    x: &StepCtx<'_>,
    database: Option<&Spanned<String>>,
) -> Result<(usize, usize), ConfigError> {
    let c = x.c;
    let name = database.ok_or_else(|| c.at(x.at, "this step needs database = \"name\""))?;
    let databases = &x.specs.postgres;
    let db = databases
        .iter()
        .position(|d| &d.name == name.get_ref())
        .ok_or_else(|| c.at(name, format!("unknown database {:?}", name.get_ref())))?;
    member_of(x, db, name, x.toward, name)
}

/// The one member of `[[database]]` `db` (named by `name`) at `site`; errors point at `at`.
fn member_of(
    x: &StepCtx<'_>,
    db: usize,
    name: &Spanned<String>,
    site: SiteId,
    at: &Spanned<String>,
) -> Result<(usize, usize), ConfigError> {
    let c = x.c;
    let databases = &x.specs.postgres;
    let members: Vec<usize> = (0..databases[db].members.len())
        .filter(|m| databases[db].members[*m].site == site)
        .collect();
    match members.as_slice() {
        [one] => Ok((db, *one)),
        [] => Err(c.at(
            at,
            format!(
                "database {:?} has no member at site {:?}",
                name.get_ref(),
                x.sites[site].key
            ),
        )),
        _ => Err(c.at(
            at,
            format!(
                "database {:?} has several members at site {:?}",
                name.get_ref(),
                x.sites[site].key
            ),
        )),
    }
}

/// A `[[route53]]` record by name (its first type if several are configured).
fn route53_record(x: &StepCtx<'_>) -> Result<usize, ConfigError> {
    let c = x.c;
    let name = x
        .step
        .record
        .as_ref()
        .ok_or_else(|| c.at(x.at, "this step needs record = \"name.\""))?;
    let wanted = fqdn(name.get_ref());
    x.specs
        .route53
        .iter()
        .position(|r| r.name == wanted)
        .ok_or_else(|| c.at(name, format!("no [[route53]] record {wanted}")))
}

// ------------------------------------------------------------------------------------------------
// actions
// ------------------------------------------------------------------------------------------------

fn action(spec: ActionSpec) -> Result<StepKind, ConfigError> {
    Ok(StepKind::Action(ActionStep {
        spec,
        promotes: None,
    }))
}

fn promote(x: &StepCtx<'_>) -> Result<StepKind, ConfigError> {
    let (db, member) = member_at(x, x.step.database.as_ref())?;
    let database = &x.specs.postgres[db];
    let m = &database.members[member];
    let spec = ActionSpec::Promote {
        member: format!("{}/{}", database.name, x.sites.label(m.site)),
        dsn: m.dsn.clone(),
        target: m.points_at.target.clone(),
        password_env: m.password_env.clone(),
        timeout: x.timeout,
    };
    Ok(StepKind::Action(ActionStep {
        spec,
        promotes: Some((db, member)),
    }))
}

fn dns_update(x: &StepCtx<'_>) -> Result<StepKind, ConfigError> {
    let (c, s) = (x.c, x.step);
    let record_name = s
        .record
        .as_ref()
        .ok_or_else(|| c.at(x.at, "a dns action needs record = \"name.\""))?;
    let name = fqdn(record_name.get_ref());
    let known = x.specs.dns.iter().position(|d| d.name == name);
    let record_type = match (&s.record_type, known) {
        (Some(t), _) => record_type(c, t)?,
        (None, Some(i)) => x.specs.dns[i].record_type,
        (None, None) => RecordType::A,
    };
    let values = match (&s.values, known) {
        (Some(v), _) => v
            .iter()
            .map(|value| normalise_answer(record_type, value))
            .collect(),
        (None, Some(i)) => x.specs.dns[i]
            .answers
            .iter()
            .find(|(site, _)| *site == x.toward)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| {
                c.at(
                    record_name,
                    format!(
                        "[[dns]] {name} has no answers.{}: give values = [...]",
                        x.sites[x.toward].key
                    ),
                )
            })?,
        (None, None) => {
            return Err(c.at(
                record_name,
                format!(
                    "no [[dns]] record {name} to take answers.{} from: give values = [...]",
                    x.sites[x.toward].key
                ),
            ));
        }
    };
    if values.is_empty() {
        return Err(c.at(record_name, "a dns action needs at least one value"));
    }
    let server = s
        .server
        .as_ref()
        .ok_or_else(|| c.at(x.at, "a dns action needs server = \"ip:port\""))?;
    let server_addr = resolver_addr(c, server, "server")?;
    let tsig = match (&s.tsig_key_name, &s.tsig_secret_env) {
        (Some(key), Some(env)) => Some(Tsig {
            key_name: key.clone(),
            secret_env: env.clone(),
            algorithm: match &s.tsig_algorithm {
                None => "hmac-sha256".into(),
                Some(a)
                    if ["hmac-sha256", "hmac-sha384", "hmac-sha512"]
                        .contains(&a.get_ref().as_str()) =>
                {
                    a.get_ref().clone()
                }
                Some(a) => {
                    return Err(c.at(
                        a,
                        format!(
                            "unsupported TSIG algorithm {:?}: expected hmac-sha256, hmac-sha384 or hmac-sha512",
                            a.get_ref()
                        ),
                    ));
                }
            },
        }),
        (None, None) => None,
        _ => {
            return Err(c.at(x.at, "tsig-key-name and tsig-secret-env go together"));
        }
    };
    action(ActionSpec::DnsReplace {
        server: server_addr,
        zone: s.zone.clone(),
        name,
        record_type,
        ttl: s.ttl.unwrap_or(60),
        values,
        tsig,
        timeout: x.timeout,
    })
}

fn exec(x: &StepCtx<'_>) -> Result<StepKind, ConfigError> {
    let (c, s) = (x.c, x.step);
    let command = s.command.as_ref().ok_or_else(|| {
        c.at(
            x.at,
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
    let mut env: Vec<String> = Vec::new();
    for name in s.env.iter().flatten() {
        env_name(c, name, "env")?;
        if env.contains(name.get_ref()) {
            return Err(c.at(name, format!("env: {:?} is listed twice", name.get_ref())));
        }
        env.push(name.get_ref().clone());
    }
    action(ActionSpec::Exec {
        argv,
        cwd,
        env,
        timeout: x.timeout,
    })
}

/// A variable name given in `key`, checked where it stands.
fn env_name(c: &Checker<'_>, name: &Spanned<String>, key: &str) -> Result<(), ConfigError> {
    crate::secrets::check_env_name(name.get_ref())
        .map_err(|why| c.at(name, format!("{key}: {why}")))
}

fn http(x: &StepCtx<'_>) -> Result<StepKind, ConfigError> {
    let (c, s) = (x.c, x.step);
    let url = match (&s.url, &s.url_env) {
        (Some(url), None) => {
            // Never echoed: a URL may hold a token (in its path, its query or its user part).
            let parsed = url::Url::parse(url.get_ref())
                .map_err(|e| c.at(url, format!("invalid URL ({e})")))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(c.at(url, "expected an http or https URL"));
            }
            Field::Literal(url.get_ref().clone())
        }
        (None, Some(var)) => {
            env_name(c, var, "url-env")?;
            Field::Env(var.get_ref().clone())
        }
        (Some(_), Some(var)) => {
            return Err(c.at(var, "url and url-env: give one of them, not both"));
        }
        (None, None) => {
            return Err(c.at(
                x.at,
                "an http action needs url = \"...\" or url-env = \"VARIABLE\"",
            ));
        }
    };
    let mut headers: Vec<(String, Field)> = s
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), Field::Literal(v.clone())))
        .collect();
    for (name, var) in &s.header_env {
        env_name(c, var, "header-env")?;
        if headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
            return Err(c.at(
                var,
                format!("header {name} is given in both headers and header-env"),
            ));
        }
        headers.push((name.clone(), Field::Env(var.get_ref().clone())));
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
            format!("unsupported method {method:?}: expected GET, POST, PUT, PATCH or DELETE"),
        ));
    }
    action(ActionSpec::Http {
        method,
        url,
        headers,
        body: s.body.clone(),
        expect_status: s.expect_status.unwrap_or(200),
        timeout: x.timeout,
    })
}

const MODES: &str = "expected \"upsert\", \"disable-health-check\" or \"enable-health-check\"";

fn route53(x: &StepCtx<'_>) -> Result<StepKind, ConfigError> {
    let (c, s) = (x.c, x.step);
    let at = s.record.as_ref().ok_or_else(|| {
        c.at(
            x.at,
            "a route53 action needs record = \"name.\" of a [[route53]] record",
        )
    })?;
    let name = fqdn(at.get_ref());
    let wanted = match &s.record_type {
        Some(t) => Some(record_type(c, t)?),
        None => None,
    };
    let matching: Vec<_> = x
        .specs
        .route53
        .iter()
        .filter(|r| r.name == name && wanted.is_none_or(|t| r.record_type == t))
        .collect();
    let record = match matching.as_slice() {
        [one] => *one,
        [] => {
            let shown = match wanted {
                Some(t) => format!("{name} {t}"),
                None => name.clone(),
            };
            return Err(c.at(
                at,
                format!(
                    "no [[route53]] record {shown}: a route53 action changes a record the console reads"
                ),
            ));
        }
        _ => {
            return Err(c.at(
                at,
                format!("several [[route53]] records {name}: say which with type = \"A\""),
            ));
        }
    };
    let check_id = || non_empty(c, &s.health_check_id, "health-check-id");
    let mode = match s.mode.as_ref() {
        None => upsert(x, at, record)?,
        Some(m) => match m.get_ref().as_str() {
            "upsert" => upsert(x, at, record)?,
            "disable-health-check" => Mode::HealthCheck {
                disabled: true,
                id: check_id()?,
            },
            "enable-health-check" => Mode::HealthCheck {
                disabled: false,
                id: check_id()?,
            },
            other => return Err(c.at(m, format!("unknown mode {other:?}: {MODES}"))),
        },
    };
    action(ActionSpec::Route53(Box::new(Route53Change {
        name: record.name.clone(),
        zone_id: record.zone_id.clone(),
        record_type: record.record_type,
        aws: own_settings(c, &s.region, &s.profile, &s.endpoint_url, &record.aws)?,
        mode,
        timeout: x.timeout,
    })))
}

/// The sites' answers from the `[[dns]]` record of the same name and type.
fn upsert(
    x: &StepCtx<'_>,
    at: &Spanned<String>,
    record: &Route53Record,
) -> Result<Mode, ConfigError> {
    let c = x.c;
    if let Some(id) = &x.step.health_check_id {
        return Err(c.at(
            id,
            "health-check-id goes with mode = \"disable-health-check\" or \"enable-health-check\"",
        ));
    }
    let dns = x
        .specs
        .dns
        .iter()
        .find(|d| d.name == record.name && d.record_type == record.record_type)
        .ok_or_else(|| {
            c.at(
                at,
                format!(
                    "a route53 UPSERT needs a [[dns]] record {} {}: its answers say which set is which site's",
                    record.name, record.record_type
                ),
            )
        })?;
    let answers = |site: SiteId| SiteAnswers {
        label: x.sites.label(site).to_string(),
        values: dns
            .answers
            .iter()
            .find(|(s, _)| *s == site)
            .map(|(_, v)| v.clone())
            .unwrap_or_default(),
    };
    let target = answers(x.toward);
    if target.values.is_empty() {
        return Err(c.at(
            at,
            format!(
                "[[dns]] {} has no answers.{}: the route53 action finds {}'s set by them",
                record.name, x.sites[x.toward].key, target.label
            ),
        ));
    }
    Ok(Mode::Upsert {
        toward: target,
        others: dns
            .answers
            .iter()
            .filter(|(site, _)| *site != x.toward)
            .map(|(site, _)| answers(*site))
            .collect(),
    })
}

/// An RDS identifier: a letter, then letters, digits and single hyphens; RDS keeps them in
/// lower case.
fn identifier(c: &Checker<'_>, v: &Spanned<String>, what: &str) -> Result<String, ConfigError> {
    let text = v.get_ref().trim().to_ascii_lowercase();
    let valid = (1..=63).contains(&text.len())
        && text.starts_with(|ch: char| ch.is_ascii_alphabetic())
        && text
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-')
        && !text.ends_with('-')
        && !text.contains("--");
    if valid {
        Ok(text)
    } else {
        Err(c.at(
            v,
            format!(
                "invalid {what} {:?}: expected an RDS identifier (a letter, then letters, digits and single hyphens, at most 63)",
                v.get_ref()
            ),
        ))
    }
}

fn rds_promote(x: &StepCtx<'_>) -> Result<StepKind, ConfigError> {
    let (c, s) = (x.c, x.step);
    let instance = s.instance.as_ref().ok_or_else(|| {
        c.at(
            x.at,
            "an rds-promote action needs instance = \"name\" of the read replica to promote",
        )
    })?;
    action(ActionSpec::RdsPromote(Box::new(Promote {
        instance: identifier(c, instance, "instance")?,
        aws: own_settings(c, &s.region, &s.profile, &s.endpoint_url, x.aws)?,
        timeout: x.timeout,
    })))
}

fn rds_failover(x: &StepCtx<'_>) -> Result<StepKind, ConfigError> {
    let (c, s) = (x.c, x.step);
    let cluster = s.cluster.as_ref().ok_or_else(|| {
        c.at(
            x.at,
            "an rds-failover action needs cluster = \"name\" of the DB cluster",
        )
    })?;
    let target = s.target.as_ref().ok_or_else(|| {
        c.at(
            x.at,
            "an rds-failover action needs target = \"name\" of the instance to make the writer",
        )
    })?;
    action(ActionSpec::RdsFailover(Box::new(Failover {
        cluster: identifier(c, cluster, "cluster")?,
        target: identifier(c, target, "target")?,
        aws: own_settings(c, &s.region, &s.profile, &s.endpoint_url, x.aws)?,
        timeout: x.timeout,
    })))
}

fn patroni_switch(x: &StepCtx<'_>) -> Result<StepKind, ConfigError> {
    let switch = patroni::switch_step(
        x.c,
        x.sites,
        &x.specs.patroni,
        x.step,
        x.at,
        x.toward,
        x.timeout,
    )?;
    action(ActionSpec::Patroni(Box::new(switch)))
}
