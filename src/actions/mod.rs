//! What a runbook step does to the world. The only code that writes to infrastructure; it is
//! reached only through an `Executor`, which only a driving console constructs.
//!
//! Each action can: describe itself for the plan and dry-run (never with secrets), check what
//! would block it before it runs (`preflight`), run (`execute`), and read the world back to say
//! whether it took effect (`read_back`), which is how an unknown outcome is resolved before any
//! retry.

pub mod aws;
pub mod dns_update;
pub mod exec;
pub mod json_text;
pub mod patroni;
pub mod promote;
pub mod rds;
pub mod route53;
pub mod webhook;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::config::RecordType;

#[derive(Debug, Clone, PartialEq)]
pub enum ActionSpec {
    /// `SELECT pg_promote(true, timeout)` on the target member, after checking it is a replica.
    Promote {
        member: String,
        dsn: String,
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
    Route53(Box<route53::Route53Change>),
    /// RDS PromoteReadReplica, read back until the instance is no longer a replica.
    RdsPromote(Box<rds::Promote>),
    /// RDS FailoverDBCluster to a target instance, read back until it is the writer.
    RdsFailover(Box<rds::Failover>),
    /// Patroni POST /switchover or /failover, read back until the candidate leads.
    Patroni(Box<patroni::Switch>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tsig {
    pub key_name: String,
    /// The environment variable holding the base64 secret: never the secret itself.
    pub secret_env: String,
    /// "hmac-sha256" (default), "hmac-sha384", "hmac-sha512".
    pub algorithm: String,
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

/// Lines of output while an action runs (exec's stdout/stderr), for the run pane.
pub type OutputSink = mpsc::Sender<String>;

impl ActionSpec {
    /// What it will call, as the plan and dry-run show it: the SQL, the DNS update, the command
    /// line, the HTTP request. Never a secret.
    pub fn describe(&self) -> Vec<String> {
        match self {
            ActionSpec::Promote {
                member,
                dsn,
                timeout,
                ..
            } => promote::describe(member, dsn, *timeout),
            ActionSpec::DnsReplace { .. } => dns_update::describe(self),
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

    /// The plan as the dry run records it: `describe()`, except where the action can say more by
    /// reading (never writing) the world now: Route 53's exact ChangeBatch.
    pub async fn plan(&self) -> Vec<String> {
        match self {
            ActionSpec::Route53(r) => route53::plan(r).await,
            _ => self.describe(),
        }
    }

    /// The AWS settings the action calls with, for `--profile` / `--region`.
    pub fn aws_mut(&mut self) -> Option<&mut crate::config::AwsSettings> {
        match self {
            ActionSpec::Route53(r) => Some(&mut r.aws),
            ActionSpec::RdsPromote(p) => Some(&mut p.aws),
            ActionSpec::RdsFailover(f) => Some(&mut f.aws),
            _ => None,
        }
    }

    /// Problems that would stop it, found without changing anything.
    pub async fn preflight(&self) -> Vec<String> {
        match self {
            ActionSpec::Promote { .. } => promote::preflight(self).await,
            ActionSpec::DnsReplace { .. } => dns_update::preflight(self).await,
            ActionSpec::Exec { .. } => exec::preflight(self),
            ActionSpec::Http { .. } => webhook::preflight(self),
            ActionSpec::Route53(r) => route53::preflight(r).await,
            ActionSpec::RdsPromote(p) => rds::preflight_promote(p).await,
            ActionSpec::RdsFailover(f) => rds::preflight_failover(f).await,
            ActionSpec::Patroni(p) => patroni::preflight(p).await,
        }
    }

    pub async fn execute(&self, output: &OutputSink) -> Outcome {
        match self {
            ActionSpec::Promote { .. } => promote::execute(self).await,
            ActionSpec::DnsReplace { .. } => dns_update::execute(self).await,
            ActionSpec::Exec { .. } => exec::execute(self, output).await,
            ActionSpec::Http { .. } => webhook::execute(self).await,
            ActionSpec::Route53(r) => route53::execute(r, output).await,
            ActionSpec::RdsPromote(p) => rds::execute_promote(p, output).await,
            ActionSpec::RdsFailover(f) => rds::execute_failover(f, output).await,
            ActionSpec::Patroni(p) => patroni::execute(p, output).await,
        }
    }

    pub async fn read_back(&self) -> ReadBack {
        match self {
            ActionSpec::Promote { .. } => promote::read_back(self).await,
            ActionSpec::DnsReplace { .. } => dns_update::read_back(self).await,
            ActionSpec::Exec { .. } => ReadBack::Unreadable(
                "a command cannot be read back: check its effect by hand".into(),
            ),
            ActionSpec::Http { .. } => ReadBack::Unreadable(
                "a webhook cannot be read back: check its effect by hand".into(),
            ),
            ActionSpec::Route53(r) => route53::read_back(r).await,
            ActionSpec::RdsPromote(p) => rds::read_back_promote(p).await,
            ActionSpec::RdsFailover(f) => rds::read_back_failover(f).await,
            ActionSpec::Patroni(p) => patroni::read_back(p).await,
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
