//! What a runbook step does to the world, as data: the binary's executor carries it out. Each
//! action describes itself for the plan and the dry run (never with secrets) here; preflight,
//! execute and read back live in the binary, behind the driver lock.

pub mod exec;
pub mod webhook;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::kinds::aws::AwsSettings;
use crate::kinds::dns::{self, RecordType, Tsig};
use crate::kinds::patroni::{self, Switch};
use crate::kinds::postgres;
use crate::kinds::rds::{self, Failover, Promote};
use crate::kinds::route53::{self, Route53Change};

#[derive(Debug, Clone, PartialEq)]
pub enum ActionSpec {
    /// `SELECT pg_promote(true, timeout)` on the target member, after checking it is a replica.
    Promote {
        member: String,
        dsn: String,
        /// Where the DSN points, never with a secret ("host ... port ... user ... db ...").
        target: String,
        password_env: Option<String>,
        timeout: Duration,
    },
    /// RFC 2136: replace the record set `name`/`record_type` with `values` in one update.
    DnsReplace {
        server: SocketAddr,
        /// The zone to update; None: found from the server's SOA for `name`.
        zone: Option<String>,
        name: String,
        record_type: RecordType,
        ttl: u32,
        values: Vec<String>,
        tsig: Option<Tsig>,
        timeout: Duration,
    },
    /// A command line (no shell), output streamed, exit code recorded.
    Exec {
        argv: Vec<String>,
        cwd: Option<PathBuf>,
        timeout: Duration,
    },
    /// A webhook call.
    Http {
        method: String,
        url: String,
        headers: Vec<(String, String)>,
        body: Option<String>,
        expect_status: u16,
        timeout: Duration,
    },
    /// Route 53: UPSERT a failover pair's roles in one ChangeBatch, or disable / enable a
    /// health check.
    Route53(Box<Route53Change>),
    /// RDS PromoteReadReplica, read back until the instance is no longer a replica.
    RdsPromote(Box<Promote>),
    /// RDS FailoverDBCluster to a target instance, read back until it is the writer.
    RdsFailover(Box<Failover>),
    /// Patroni POST /switchover or /failover, read back until the candidate leads.
    Patroni(Box<Switch>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Ok(String),
    Failed(String),
    /// The request may or may not have taken effect (a timeout on a remote write): read back.
    Unknown(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ReadBack {
    /// The world shows the action's effect.
    Applied(String),
    NotApplied(String),
    /// The state could not be read (or this action has no read-back): the operator must check.
    Unreadable(String),
}

impl ActionSpec {
    /// The longest the action may take before the executor gives up on it: its own timeout.
    /// (An exec step is also given its TERM grace; the executor adds that.)
    pub fn timeout(&self) -> Duration {
        match self {
            ActionSpec::Promote { timeout, .. }
            | ActionSpec::DnsReplace { timeout, .. }
            | ActionSpec::Exec { timeout, .. }
            | ActionSpec::Http { timeout, .. } => *timeout,
            ActionSpec::Route53(c) => c.timeout,
            ActionSpec::RdsPromote(p) => p.timeout,
            ActionSpec::RdsFailover(f) => f.timeout,
            ActionSpec::Patroni(s) => s.timeout,
        }
    }

    /// What it will call, as the plan and dry-run show it: the SQL, the DNS update, the command
    /// line, the HTTP request. Never a secret.
    pub fn describe(&self) -> Vec<String> {
        match self {
            ActionSpec::Promote {
                member,
                target,
                timeout,
                ..
            } => postgres::describe_promote(member, target, *timeout),
            ActionSpec::DnsReplace { .. } => match self.dns_update() {
                Some(u) => dns::describe(&u),
                None => Vec::new(),
            },
            ActionSpec::Exec { argv, cwd, timeout } => {
                exec::describe(argv, cwd.as_deref(), *timeout)
            }
            ActionSpec::Http {
                method,
                url,
                headers,
                body,
                expect_status,
                ..
            } => webhook::describe(method, url, headers, body.as_deref(), *expect_status),
            ActionSpec::Route53(r) => route53::describe(r),
            ActionSpec::RdsPromote(p) => rds::describe_promote(p),
            ActionSpec::RdsFailover(f) => rds::describe_failover(f),
            ActionSpec::Patroni(p) => patroni::describe(p),
        }
    }

    /// A DNS update's fields, borrowed.
    pub fn dns_update(&self) -> Option<dns::Update<'_>> {
        match self {
            ActionSpec::DnsReplace {
                server,
                zone,
                name,
                record_type,
                ttl,
                values,
                tsig,
                timeout,
            } => Some(dns::Update {
                server: *server,
                zone: zone.as_deref(),
                name,
                record_type: *record_type,
                ttl: *ttl,
                values,
                tsig: tsig.as_ref(),
                timeout: *timeout,
            }),
            _ => None,
        }
    }

    /// The AWS settings the action calls with, for `--profile` / `--region`.
    pub fn aws_mut(&mut self) -> Option<&mut AwsSettings> {
        match self {
            ActionSpec::Route53(r) => Some(&mut r.aws),
            ActionSpec::RdsPromote(p) => Some(&mut p.aws),
            ActionSpec::RdsFailover(f) => Some(&mut f.aws),
            _ => None,
        }
    }
}

/// Plan lines as one line, for the dry run's journal entry: lines joined with " ; ", except that
/// lines indented by two spaces (a JSON document laid out for the screen) continue the line
/// before, trimmed, so the document stays valid JSON on one line.
pub fn one_line(lines: &[String]) -> String {
    let mut out = String::new();
    let mut in_block = false;
    for line in lines {
        if line.starts_with("  ") && !out.is_empty() {
            if !in_block {
                out.push(' ');
            }
            out.push_str(line.trim());
            in_block = true;
        } else {
            if !out.is_empty() {
                out.push_str(" ; ");
            }
            out.push_str(line);
            in_block = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_keeps_an_indented_json_block_whole() {
        let lines: Vec<String> = [
            "call X",
            "JSON:",
            "  {",
            "    \"A\": [1, 2],",
            "    \"B\": \"x\"",
            "  }",
            "then wait",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let line = one_line(&lines);
        assert_eq!(
            line,
            "call X ; JSON: {\"A\": [1, 2],\"B\": \"x\"} ; then wait"
        );
        let json = line
            .split(" ; ")
            .nth(1)
            .unwrap()
            .trim_start_matches("JSON: ");
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(v["B"], "x");
    }
}
