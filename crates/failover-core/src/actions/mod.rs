//! What a runbook step does to the world, as data: the binary's executor carries it out. Each
//! action describes itself for the plan and the dry run (never with secrets) here; preflight,
//! execute and read back live in the binary, behind the driver lock.

pub mod exec;
pub mod webhook;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::kinds::aws::{AwsSettings, call_timeout};
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
    /// A command line (no shell), output streamed, exit code recorded. Its environment: PATH,
    /// HOME, LANG and TERM, and the variables named in `env`; nothing else of the console's.
    Exec {
        argv: Vec<String>,
        cwd: Option<PathBuf>,
        env: Vec<String>,
        timeout: Duration,
    },
    /// A webhook call.
    Http {
        method: String,
        url: webhook::Field,
        headers: Vec<(String, webhook::Field)>,
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
    /// `wait = "writable"`: a write transaction that leaves nothing behind, tried until it
    /// commits on the member or the check's timeout ends. Never an unknown outcome.
    WriteCheck(Box<postgres::WriteCheck>),
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
            ActionSpec::WriteCheck(c) => c.timeout,
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
            ActionSpec::Exec {
                argv,
                cwd,
                env,
                timeout,
            } => exec::describe(argv, cwd.as_deref(), env, *timeout),
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
            ActionSpec::WriteCheck(c) => postgres::describe_writable(c),
        }
    }

    /// The longest `execute` can take, from the action's own timeouts: every wait it makes is
    /// bounded by them, and this is their sum. A stopping console waits this long for a step in
    /// flight; the action's own limits (exec: SIGTERM, then SIGKILL) end it first.
    pub fn max_duration(&self) -> Duration {
        match self {
            ActionSpec::Exec { timeout, .. } => exec::max_duration(*timeout),
            // Connect, check, pg_promote's own wait and the answer's margin, check again.
            ActionSpec::Promote { timeout, .. } => timeout
                .saturating_mul(3)
                .saturating_add(Duration::from_secs(postgres::wait_seconds(*timeout)))
                .saturating_add(postgres::answer_margin(*timeout)),
            // The zone's lookup and the update share one deadline.
            ActionSpec::DnsReplace { timeout, .. } => *timeout,
            // One request, bounded whole (connect to the end of the body).
            ActionSpec::Http { timeout, .. } => *timeout,
            // Reads and the change before the wait, then polls up to the step's timeout.
            ActionSpec::Route53(r) => r.timeout.saturating_add(call_timeout(r.timeout) * 4),
            ActionSpec::RdsPromote(p) => p.timeout.saturating_add(call_timeout(p.timeout) * 3),
            ActionSpec::RdsFailover(f) => f.timeout.saturating_add(call_timeout(f.timeout) * 3),
            // A read of the cluster, the POST (within the step's timeout), reads until then
            // and the last one, which may start just before it.
            ActionSpec::Patroni(s) => s.timeout.saturating_add(patroni_read(s).saturating_mul(2)),
            ActionSpec::WriteCheck(c) => c.max_duration(),
        }
    }

    /// The longest `read_back` can take, from the action's own timeouts, as `max_duration`.
    pub fn max_read_back(&self) -> Duration {
        match self {
            // Nothing to read: answered at once.
            ActionSpec::Exec { .. } | ActionSpec::Http { .. } | ActionSpec::WriteCheck(_) => {
                Duration::ZERO
            }
            // Connect, check, timeline.
            ActionSpec::Promote { timeout, .. } => timeout.saturating_mul(3),
            // The zone, the record set, a plain query.
            ActionSpec::DnsReplace { timeout, .. } => timeout.saturating_mul(3),
            ActionSpec::Route53(r) => call_timeout(r.timeout) * 4,
            ActionSpec::RdsPromote(p) => call_timeout(p.timeout) * 2,
            ActionSpec::RdsFailover(f) => call_timeout(f.timeout) * 2,
            ActionSpec::Patroni(s) => s.timeout.min(patroni::READ_BACK_WAIT) + patroni_read(s) * 2,
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

/// One read of a Patroni cluster: `/cluster` from each member in turn, `/config` from the one
/// that answers, each bounded by the cluster's timeout; and the pause between reads.
fn patroni_read(s: &Switch) -> Duration {
    let calls = u32::try_from(s.cluster.endpoints.len().max(1) * 2).unwrap_or(u32::MAX);
    s.cluster
        .timeout
        .saturating_mul(calls)
        .saturating_add(Duration::from_millis(250))
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
    fn limits_from_the_longest_timeouts_saturate() {
        let promote = ActionSpec::Promote {
            member: "b".into(),
            dsn: "host=h".into(),
            target: "host h".into(),
            password_env: None,
            timeout: Duration::MAX,
        };
        assert_eq!(promote.max_duration(), Duration::MAX);
        assert_eq!(promote.max_read_back(), Duration::MAX);
        assert_eq!(
            crate::kinds::postgres::wait_seconds(Duration::MAX),
            i32::MAX as u64
        );
    }

    #[test]
    fn a_command_is_waited_for_up_to_its_timeout_the_kill_and_the_drain() {
        let spec = ActionSpec::Exec {
            argv: vec!["sleep".into(), "6".into()],
            cwd: None,
            env: Vec::new(),
            timeout: Duration::from_secs(6),
        };
        // 6 s, 2 s after SIGTERM, 2 s after SIGKILL, 1 s for the output.
        assert_eq!(spec.max_duration(), Duration::from_secs(11));
        assert_eq!(spec.max_read_back(), Duration::ZERO);
        let http = ActionSpec::Http {
            method: "POST".into(),
            url: webhook::Field::Literal("http://127.0.0.1:1/".into()),
            headers: Vec::new(),
            body: None,
            expect_status: 200,
            timeout: Duration::from_secs(3),
        };
        assert_eq!(http.max_duration(), Duration::from_secs(3));
    }

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
