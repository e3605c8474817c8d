//! Live evidence for gates and waits, read from the model: the same figures the panes show.

use crate::app::Model;
use crate::app::dns::Match;
use crate::app::health::CheckStatus;
use crate::app::replication::{self, Role};
use crate::config::runbook::{Gate, Wait};

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

pub fn gate(model: &Model, gate: &Gate) -> Evidence {
    let config = &model.config;
    match gate {
        Gate::Lag { db, member } => {
            let spec = &config.databases[*db];
            let m = &model.dbs[*db].members[*member];
            let who = replication::member_source(config, spec, *member);
            let mut problems = Vec::new();
            if m.stale {
                problems.push("stale: no fresh reading".to_string());
            }
            match m.role {
                Role::Replica => {}
                Role::Primary => problems.push("is a primary, not a replica".into()),
                Role::Unreachable => problems.push(format!(
                    "unreachable: {}",
                    m.error.as_deref().unwrap_or("?")
                )),
                Role::Unknown => problems.push("no reading yet".into()),
            }
            let mut figures = String::new();
            if m.role == Role::Replica {
                match &m.lag {
                    Some(lag) => {
                        let bytes = match lag.bytes {
                            Some((b, src)) => {
                                if b > spec.max_lag_bytes {
                                    problems.push(format!(
                                        "lag {} over {}",
                                        replication::bytes(b),
                                        replication::bytes(spec.max_lag_bytes)
                                    ));
                                }
                                format!("{} ({})", replication::bytes(b), src.label())
                            }
                            None => {
                                problems.push("lag in bytes unknown".into());
                                "? B".into()
                            }
                        };
                        let time = match lag.time {
                            Some((t, src)) => {
                                if t > spec.max_lag {
                                    problems.push(format!(
                                        "lag {} over {}",
                                        replication::secs(t),
                                        replication::secs(spec.max_lag)
                                    ));
                                }
                                format!("{} ({})", replication::secs(t), src.label())
                            }
                            None => "? s".into(),
                        };
                        figures = format!("lag {bytes}, {time}");
                    }
                    None => problems.push("lag unknown".into()),
                }
                if m.streaming() != Some(true) {
                    problems.push("not streaming".into());
                }
                if m.replay_paused() == Some(true) {
                    problems.push("WAL replay paused".into());
                }
            }
            let mut line = format!("{who}: {}", m.role.label());
            if !figures.is_empty() {
                line.push_str(&format!(", {figures}"));
            }
            if !problems.is_empty() {
                line.push_str(&format!(" — {}", problems.join(", ")));
            }
            Evidence {
                pass: problems.is_empty(),
                lines: vec![line],
            }
        }
        Gate::Healthy { site } => {
            let mut lines = Vec::new();
            let mut pass = true;
            for (spec, st) in config
                .health
                .iter()
                .zip(&model.health)
                .filter(|(spec, _)| spec.site == *site)
            {
                let ok = st.status == CheckStatus::Healthy && !st.stale;
                pass &= ok;
                let detail = st
                    .last
                    .as_ref()
                    .map(|o| o.detail.as_str())
                    .unwrap_or("no result");
                let state = if st.stale { "stale" } else { st.status.label() };
                lines.push(format!("{} {state} ({detail})", spec.name));
            }
            for (check, _) in config
                .cloudwatch
                .iter()
                .enumerate()
                .filter(|(_, spec)| spec.site == Some(*site))
            {
                let (ok, line) = super::aws_evidence::cloudwatch_line(model, check);
                pass &= ok;
                lines.push(line);
            }
            if lines.is_empty() {
                pass = false;
                lines.push(format!(
                    "no health check is configured for {}",
                    config.site_label(*site)
                ));
            }
            Evidence { pass, lines }
        }
        Gate::Route53Health { record, site } => route53_health(model, *record, *site),
        Gate::RdsLag { rds, instance } => super::aws_evidence::rds_lag(model, *rds, *instance),
        Gate::CloudWatch { check } => super::aws_evidence::cloudwatch_check(model, *check),
        Gate::PatroniLag { cluster, member } => {
            super::aws_evidence::patroni_lag(model, *cluster, member)
        }
    }
}


pub fn wait(model: &Model, wait: &Wait) -> Evidence {
    let config = &model.config;
    match wait {
        Wait::Dns { record, site, .. } => {
            let spec = &config.dns[*record];
            let state = &model.dns[*record];
            let mut pass = true;
            let mut lines = Vec::new();
            for (server, r) in spec.resolvers.iter().zip(&state.resolvers) {
                let ok = r.matched == Some(Match::Site(*site)) && !r.stale;
                pass &= ok;
                let answer = r
                    .answer
                    .as_ref()
                    .map(|a| a.describe())
                    .unwrap_or_else(|| "no answer yet".into());
                let ttl = match &r.answer {
                    Some(crate::observe::DnsAnswer::Records { ttl, .. }) => format!(" ttl {ttl}"),
                    _ => String::new(),
                };
                let matched = r
                    .matched
                    .map(|m| crate::app::dns::site_text(config, m))
                    .unwrap_or_default();
                lines.push(format!("@{server} {answer}{ttl} ({matched})"));
            }
            Evidence { pass, lines }
        }
    }
}
