//! Every environment variable the config names by a `*-env` key, with the key and the table
//! that name it, and who reads it: a source (needed before the console starts) or a runbook
//! step (read when the step runs).

use crate::actions::ActionSpec;
use crate::runbook::{Rollback, StepKind};

use super::Config;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedEnv {
    /// The variable's name.
    pub var: String,
    /// "password-env", "tsig-secret-env".
    pub key: &'static str,
    /// Where: "database \"orders\" member \"a\"", "runbook \"failover\" step 3".
    pub of: String,
    pub read_by: ReadBy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadBy {
    /// A source, or the shared record: every round, from the start.
    Source,
    /// A runbook step, when it runs.
    Step,
}

impl NamedEnv {
    /// "password-env FAILOVER_PG_PASSWORD (database \"orders\" member \"a\")".
    pub fn describe(&self) -> String {
        format!("{} {} ({})", self.key, self.var, self.of)
    }
}

impl Config {
    /// Every `*-env` the config names, in the file's order of tables.
    pub fn named_envs(&self) -> Vec<NamedEnv> {
        let mut out = Vec::new();
        let mut source = |var: &str, key, of: String| {
            out.push(NamedEnv {
                var: var.to_string(),
                key,
                of,
                read_by: ReadBy::Source,
            })
        };
        for db in &self.kinds.postgres {
            for m in &db.members {
                if let Some(var) = &m.password_env {
                    source(
                        var,
                        "password-env",
                        format!("database {:?} member {:?}", db.name, m.name),
                    );
                }
            }
        }
        for p in &self.kinds.patroni {
            if let Some(auth) = &p.auth {
                source(
                    &auth.password_env,
                    "password-env",
                    format!("database {:?}", p.name),
                );
            }
        }
        if let Some(var) = self.war_room.as_ref().and_then(|w| w.password_env.as_ref()) {
            source(var, "password-env", "[war-room]".to_string());
        }
        for r in &self.runbooks {
            for (i, step) in r.steps.iter().enumerate() {
                let action = match &step.kind {
                    StepKind::Action(a) => Some(&a.spec),
                    _ => None,
                };
                let rollback = match &step.rollback {
                    Some(Rollback::Action(a)) => Some(&a.spec),
                    _ => None,
                };
                let of = format!("runbook {:?} step {}", r.name, i + 1);
                for spec in action.into_iter().chain(rollback) {
                    for (key, var) in step_envs(spec) {
                        out.push(NamedEnv {
                            var: var.to_string(),
                            key,
                            of: of.clone(),
                            read_by: ReadBy::Step,
                        });
                    }
                }
            }
        }
        out
    }
}

fn step_envs(spec: &ActionSpec) -> Vec<(&'static str, &str)> {
    use crate::actions::webhook::Field;
    match spec {
        ActionSpec::DnsReplace { tsig: Some(t), .. } => vec![("tsig-secret-env", &t.secret_env)],
        ActionSpec::Promote {
            password_env: Some(var),
            ..
        } => vec![("password-env", var)],
        ActionSpec::Http { url, headers, .. } => {
            let url = match url {
                Field::Env(var) => Some(("url-env", var.as_str())),
                Field::Literal(_) => None,
            };
            let headers = headers.iter().filter_map(|(_, field)| match field {
                Field::Env(var) => Some(("header-env", var.as_str())),
                Field::Literal(_) => None,
            });
            url.into_iter().chain(headers).collect()
        }
        _ => Vec::new(),
    }
}
