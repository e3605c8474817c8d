//! RDS as a runbook action, with the official SDK:
//! - `rds-promote`: PromoteReadReplica on an instance that is a read replica, then
//!   DescribeDBInstances until it shows no replica source (and is available).
//! - `rds-failover`: FailoverDBCluster to a target member, then DescribeDBClusters until the
//!   target is the writer (and the cluster available).
//!
//! Both re-check the state just before the call (as the plan's preflight did), and a step that
//! does not see the new role within its timeout ends unknown, never failed: AWS accepted the
//! request, and it may still complete.

use std::future::Future;
use std::time::Duration;

use aws_sdk_rds::Client;
use tokio::time::Instant;

use failover_core::actions::{Outcome, ReadBack};
use failover_core::kinds::aws::{AwsSettings, call_timeout, human, poll_every};
use failover_core::kinds::rds::{Failover, Promote};

use crate::actions::OutputSink;
use crate::net::aws::{WriteError, rds_client, read_error, write_error};

const AVAILABLE: &str = "available";

// ------------------------------------------------------------------------------------------------
// reading
// ------------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
struct Instance {
    status: String,
    /// ReadReplicaSourceDBInstanceIdentifier: set while it is a read replica.
    source: Option<String>,
    cluster: Option<String>,
}

impl Instance {
    fn promoted(&self) -> bool {
        self.source.is_none() && self.status == AVAILABLE
    }
}

/// An RDS client with the settings and the per-call timeout its errors are told with.
struct Rds {
    client: Client,
    aws: AwsSettings,
    call: Duration,
}

impl Rds {
    async fn new(aws: &AwsSettings, step: Duration) -> Rds {
        let call = call_timeout(step);
        Rds {
            client: rds_client(aws, call).await,
            aws: aws.clone(),
            call,
        }
    }

    fn write_error<E, R>(&self, error: aws_sdk_rds::error::SdkError<E, R>) -> WriteError
    where
        E: aws_sdk_rds::error::ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        write_error(error, &self.aws, self.call)
    }
}

async fn instance(rds: &Rds, id: &str) -> Result<Instance, String> {
    let out = rds
        .client
        .describe_db_instances()
        .db_instance_identifier(id)
        .send()
        .await
        .map_err(|e| {
            let e = read_error(e, &rds.aws, rds.call);
            format!("cannot describe DB instance {id}: {e}")
        })?;
    let found = out
        .db_instances()
        .iter()
        .find(|i| i.db_instance_identifier() == Some(id))
        .ok_or_else(|| format!("DB instance {id} not found"))?;
    Ok(Instance {
        status: found.db_instance_status().unwrap_or("unknown").to_string(),
        source: found
            .read_replica_source_db_instance_identifier()
            .map(str::to_string),
        cluster: found.db_cluster_identifier().map(str::to_string),
    })
}

#[derive(Debug, Clone, PartialEq)]
struct Cluster {
    status: String,
    members: Vec<String>,
    writer: Option<String>,
}

impl Cluster {
    fn written_by(&self, target: &str) -> bool {
        self.writer.as_deref() == Some(target) && self.status == AVAILABLE
    }

    fn writer_text(&self) -> String {
        self.writer.clone().unwrap_or_else(|| "none".into())
    }
}

async fn cluster(rds: &Rds, id: &str) -> Result<Cluster, String> {
    let out = rds
        .client
        .describe_db_clusters()
        .db_cluster_identifier(id)
        .send()
        .await
        .map_err(|e| {
            let e = read_error(e, &rds.aws, rds.call);
            format!("cannot describe DB cluster {id}: {e}")
        })?;
    let found = out
        .db_clusters()
        .iter()
        .find(|c| c.db_cluster_identifier() == Some(id))
        .ok_or_else(|| format!("DB cluster {id} not found"))?;
    let members = found.db_cluster_members();
    Ok(Cluster {
        status: found.status().unwrap_or("unknown").to_string(),
        members: members
            .iter()
            .filter_map(|m| m.db_instance_identifier().map(str::to_string))
            .collect(),
        writer: members
            .iter()
            .find(|m| m.is_cluster_writer() == Some(true))
            .and_then(|m| m.db_instance_identifier().map(str::to_string)),
    })
}

/// What would stop a promotion: not found, not a replica (a primary is never "promoted"), an
/// Aurora member, not available.
fn promote_problems(p: &Promote, i: &Instance) -> Vec<String> {
    let mut problems = Vec::new();
    if let Some(c) = &i.cluster {
        problems.push(format!(
            "{} is a member of the Aurora cluster {c}: use action = \"rds-failover\"",
            p.instance
        ));
    } else if i.source.is_none() {
        problems.push(format!(
            "{} is not a read replica (no ReadReplicaSourceDBInstanceIdentifier): already a primary?",
            p.instance
        ));
    }
    if i.status != AVAILABLE {
        problems.push(format!(
            "{} is {}, not available: PromoteReadReplica would be refused",
            p.instance, i.status
        ));
    }
    problems
}

fn failover_problems(f: &Failover, c: &Cluster) -> Vec<String> {
    let mut problems = Vec::new();
    if !c.members.contains(&f.target) {
        problems.push(format!(
            "{} is not a member of the DB cluster {} (members: {})",
            f.target,
            f.cluster,
            c.members.join(", ")
        ));
    } else if c.writer.as_deref() == Some(f.target.as_str()) {
        problems.push(format!(
            "{} is already the writer of {}: nothing to fail over",
            f.target, f.cluster
        ));
    }
    if c.status != AVAILABLE {
        problems.push(format!(
            "cluster {} is {}, not available: FailoverDBCluster would be refused",
            f.cluster, c.status
        ));
    }
    problems
}

// ------------------------------------------------------------------------------------------------
// describe / preflight
// ------------------------------------------------------------------------------------------------

pub async fn preflight_promote(p: &Promote) -> Vec<String> {
    let rds = Rds::new(&p.aws, p.timeout).await;
    match instance(&rds, &p.instance).await {
        Ok(i) => promote_problems(p, &i),
        Err(e) => vec![e],
    }
}

pub async fn preflight_failover(f: &Failover) -> Vec<String> {
    let rds = Rds::new(&f.aws, f.timeout).await;
    match cluster(&rds, &f.cluster).await {
        Ok(c) => failover_problems(f, &c),
        Err(e) => vec![e],
    }
}

// ------------------------------------------------------------------------------------------------
// execute / read back
// ------------------------------------------------------------------------------------------------

/// Polls `read` until `done` says so (Ok) or the deadline passes (Err: the last state read, and
/// the last state or error as text). Each new state is one line of output.
async fn wait_for<T, F, Fut>(
    deadline: Instant,
    every: Duration,
    output: &OutputSink,
    mut read: F,
    done: impl Fn(&T) -> bool,
    show: impl Fn(&T) -> String,
) -> Result<T, (Option<T>, String)>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let mut last = String::from("not read yet");
    let mut last_state = None;
    let mut shown = String::new();
    loop {
        match tokio::time::timeout_at(deadline, read()).await {
            Ok(Ok(state)) => {
                if done(&state) {
                    return Ok(state);
                }
                last = show(&state);
                last_state = Some(state);
            }
            Ok(Err(e)) => last = e,
            Err(_) => {}
        }
        if last != shown {
            let _ = output.send(last.clone()).await;
            shown = last.clone();
        }
        let now = Instant::now();
        if now >= deadline {
            return Err((last_state, last));
        }
        tokio::time::sleep_until((now + every).min(deadline)).await;
    }
}

pub async fn execute_promote(p: &Promote, output: &OutputSink) -> Outcome {
    let started = Instant::now();
    let deadline = started + failover_core::text::wait(p.timeout);
    let rds = Rds::new(&p.aws, p.timeout).await;
    let before = match instance(&rds, &p.instance).await {
        Ok(i) => i,
        Err(e) => return Outcome::Failed(format!("{e}; nothing sent")),
    };
    let problems = promote_problems(p, &before);
    if !problems.is_empty() {
        return Outcome::Failed(format!("{}; nothing sent", problems.join("; ")));
    }
    if let Err(e) = rds
        .client
        .promote_read_replica()
        .db_instance_identifier(&p.instance)
        .send()
        .await
    {
        return match rds.write_error(e) {
            WriteError::NotSent(m) => Outcome::Failed(format!("PromoteReadReplica refused: {m}")),
            WriteError::Unknown(m) => Outcome::Unknown(format!(
                "no answer to PromoteReadReplica ({m}): it may have been accepted; read back"
            )),
        };
    }
    let _ = output
        .send(format!("PromoteReadReplica {} accepted", p.instance))
        .await;
    let id = p.instance.clone();
    let result = wait_for(
        deadline,
        poll_every(p.timeout),
        output,
        || instance(&rds, &id),
        Instance::promoted,
        |i| match &i.source {
            Some(s) => format!("{id}: {}, still a replica of {s}", i.status),
            None => format!("{id}: {}, no longer a replica", i.status),
        },
    )
    .await;
    let took = human(started.elapsed());
    match result {
        Ok(_) => Outcome::Ok(format!(
            "{} promoted in {took}: no ReadReplicaSourceDBInstanceIdentifier, available",
            p.instance
        )),
        Err((
            Some(Instance {
                source: Some(s), ..
            }),
            _,
        )) => Outcome::Unknown(format!(
            "PromoteReadReplica accepted; {} still a replica of {s} after {took}",
            p.instance
        )),
        Err((_, last)) => Outcome::Unknown(format!(
            "PromoteReadReplica accepted; not seen promoted after {took} ({last})"
        )),
    }
}

pub async fn execute_failover(f: &Failover, output: &OutputSink) -> Outcome {
    let started = Instant::now();
    let deadline = started + failover_core::text::wait(f.timeout);
    let rds = Rds::new(&f.aws, f.timeout).await;
    let before = match cluster(&rds, &f.cluster).await {
        Ok(c) => c,
        Err(e) => return Outcome::Failed(format!("{e}; nothing sent")),
    };
    let problems = failover_problems(f, &before);
    if !problems.is_empty() {
        return Outcome::Failed(format!("{}; nothing sent", problems.join("; ")));
    }
    if let Err(e) = rds
        .client
        .failover_db_cluster()
        .db_cluster_identifier(&f.cluster)
        .target_db_instance_identifier(&f.target)
        .send()
        .await
    {
        return match rds.write_error(e) {
            WriteError::NotSent(m) => Outcome::Failed(format!("FailoverDBCluster refused: {m}")),
            WriteError::Unknown(m) => Outcome::Unknown(format!(
                "no answer to FailoverDBCluster ({m}): it may have been accepted; read back"
            )),
        };
    }
    let _ = output
        .send(format!(
            "FailoverDBCluster {} to {} accepted (writer was {})",
            f.cluster,
            f.target,
            before.writer_text()
        ))
        .await;
    let result = wait_for(
        deadline,
        poll_every(f.timeout),
        output,
        || cluster(&rds, &f.cluster),
        |c| c.written_by(&f.target),
        |c| format!("{}: {}, writer {}", f.cluster, c.status, c.writer_text()),
    )
    .await;
    let took = human(started.elapsed());
    match result {
        Ok(_) => Outcome::Ok(format!(
            "{} is the writer of {} after {took} (was {}), cluster available",
            f.target,
            f.cluster,
            before.writer_text()
        )),
        Err((_, last)) => Outcome::Unknown(format!(
            "FailoverDBCluster accepted; {} not seen as the writer of {} after {took} ({last})",
            f.target, f.cluster
        )),
    }
}

pub async fn read_back_promote(p: &Promote) -> ReadBack {
    let rds = Rds::new(&p.aws, p.timeout).await;
    match instance(&rds, &p.instance).await {
        Ok(i) => match &i.source {
            None => ReadBack::Applied(format!(
                "{} is not a replica any more (status {})",
                p.instance, i.status
            )),
            Some(s) => ReadBack::NotApplied(format!(
                "{} is still a read replica of {s} (status {})",
                p.instance, i.status
            )),
        },
        Err(e) => ReadBack::Unreadable(e),
    }
}

pub async fn read_back_failover(f: &Failover) -> ReadBack {
    let rds = Rds::new(&f.aws, f.timeout).await;
    match cluster(&rds, &f.cluster).await {
        Ok(c) if c.writer.as_deref() == Some(f.target.as_str()) => ReadBack::Applied(format!(
            "{} is the writer of {} (cluster {})",
            f.target, f.cluster, c.status
        )),
        Ok(c) => ReadBack::NotApplied(format!(
            "the writer of {} is {}, not {} (cluster {})",
            f.cluster,
            c.writer_text(),
            f.target,
            c.status
        )),
        Err(e) => ReadBack::Unreadable(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn promote() -> Promote {
        Promote {
            instance: "orders-b".into(),
            aws: AwsSettings::default(),
            timeout: Duration::from_secs(300),
        }
    }

    #[test]
    fn a_primary_or_an_aurora_member_is_never_promoted() {
        let replica = Instance {
            status: "available".into(),
            source: Some("orders-a".into()),
            cluster: None,
        };
        assert!(promote_problems(&promote(), &replica).is_empty());
        let primary = Instance {
            source: None,
            ..replica.clone()
        };
        assert_eq!(
            promote_problems(&promote(), &primary),
            vec![
                "orders-b is not a read replica (no ReadReplicaSourceDBInstanceIdentifier): already a primary?"
            ]
        );
        let member = Instance {
            source: None,
            cluster: Some("ledger".into()),
            status: "modifying".into(),
        };
        let problems = promote_problems(&promote(), &member);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("Aurora cluster ledger"));
        assert!(problems[1].contains("is modifying, not available"));
    }

    #[test]
    fn failover_needs_a_member_that_is_not_the_writer() {
        let f = Failover {
            cluster: "ledger".into(),
            target: "ledger-b".into(),
            aws: AwsSettings::default(),
            timeout: Duration::from_secs(300),
        };
        let mut c = Cluster {
            status: "available".into(),
            members: vec!["ledger-a".into(), "ledger-b".into()],
            writer: Some("ledger-a".into()),
        };
        assert!(failover_problems(&f, &c).is_empty());
        c.writer = Some("ledger-b".into());
        assert_eq!(
            failover_problems(&f, &c),
            vec!["ledger-b is already the writer of ledger: nothing to fail over"]
        );
        c.members.pop();
        c.writer = Some("ledger-a".into());
        assert_eq!(
            failover_problems(&f, &c),
            vec!["ledger-b is not a member of the DB cluster ledger (members: ledger-a)"]
        );
    }
}
