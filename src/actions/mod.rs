//! What a runbook step does to the world. The only code that writes to infrastructure; it is
//! reached only through an `Executor`, which only a driving console constructs.
//!
//! Each action can: describe itself for the plan and dry-run (never with secrets), check what
//! would block it before it runs (`preflight`), run (`execute`), and read the world back to say
//! whether it took effect (`read_back`), which is how an unknown outcome is resolved before any
//! retry.

pub mod dns_update;
pub mod exec;
pub mod promote;
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
        }
    }

    /// Problems that would stop it, found without changing anything.
    pub async fn preflight(&self) -> Vec<String> {
        match self {
            ActionSpec::Promote { .. } => promote::preflight(self).await,
            ActionSpec::DnsReplace { .. } => dns_update::preflight(self).await,
            ActionSpec::Exec { .. } => exec::preflight(self),
            ActionSpec::Http { .. } => webhook::preflight(self),
        }
    }

    pub async fn execute(&self, output: &OutputSink) -> Outcome {
        match self {
            ActionSpec::Promote { .. } => promote::execute(self).await,
            ActionSpec::DnsReplace { .. } => dns_update::execute(self).await,
            ActionSpec::Exec { .. } => exec::execute(self, output).await,
            ActionSpec::Http { .. } => webhook::execute(self).await,
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
        }
    }
}
