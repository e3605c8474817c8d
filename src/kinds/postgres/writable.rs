//! `wait = "writable"`: a write transaction on the member, tried every 500 ms until it commits
//! or the step's timeout ends. Each attempt opens a new connection (through the source's
//! `connect_dsn`: DSN, TLS, password-env, .pgpass) and is bounded as a whole by its own timeout.
//!
//! The transaction: `BEGIN; SELECT pg_current_xact_id(), ...; SELECT
//! pg_logical_emit_message(true, ...); COMMIT`. Taking an xid fails on a standby ("cannot
//! execute pg_current_xact_id() during recovery"); the transactional WAL message makes the commit
//! flush and wait for synchronous standbys as an application's does (an xid alone commits
//! asynchronously: measured on the lab, its COMMIT neither flushed nor waited). Nothing is
//! created in any table. A transaction
//! that is read-only (`default_transaction_read_only`, a pooler's setting) does not count: the
//! applications would not write either. A COMMIT that does not return (synchronous replication
//! with no synchronous standby) ends the attempt and is cancelled, so no session is left waiting.

use failover_core::actions::Outcome;
use failover_core::kinds::postgres::{ATTEMPT_EVERY, WriteCheck};
use failover_core::text::{secs, setting};
use tokio::time::Instant;
use tokio_postgres::{Client, SimpleQueryMessage};

use super::source::{config_for, connect_dsn, describe as pg_error};
use super::tls;

/// The first statements: the xid, and what says whether the transaction could write.
const TAKE_XID: &str = "BEGIN; SELECT pg_current_xact_id()::text, current_setting('transaction_read_only'), current_setting('synchronous_standby_names')";

/// The transaction's own WAL: a logical decoding message (ignored by anything but a logical
/// decoding consumer, which sees it under this prefix).
const WAL_MESSAGE: &str =
    "SELECT pg_logical_emit_message(true, 'failover-console', 'write check')::text";

/// Where an attempt is, for what a timeout says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Connect,
    Xid,
    Wal,
    Commit,
    Verify,
}

/// Why an attempt took no write.
#[derive(Debug, Clone, PartialEq)]
enum NoWrite {
    /// The server is read-only: in recovery, or the transaction is read-only.
    ReadOnly(String),
    Other(String),
}

/// What the attempt learnt before it ended: for a COMMIT that never returned, what to say and
/// which session to cancel.
#[derive(Default)]
struct Seen {
    sync_standbys: String,
    cancel: Option<tokio_postgres::CancelToken>,
}

/// What the dry run says would stop the wait now, read without writing: unreachable, in
/// recovery, read-only.
pub async fn preflight(c: &WriteCheck) -> Vec<String> {
    let client = match connect_dsn(&c.dsn, c.password_env.as_deref(), c.attempt_timeout).await {
        Ok(client) => client,
        Err(e) => return vec![format!("not yet: cannot connect to {}: {e}", c.member)],
    };
    let sql = "SELECT pg_is_in_recovery(), current_setting('transaction_read_only')";
    match tokio::time::timeout(c.attempt_timeout, client.query_one(sql, &[])).await {
        Ok(Ok(row)) => {
            let (in_recovery, read_only): (bool, String) = (row.get(0), row.get(1));
            if in_recovery {
                vec![format!(
                    "not yet: {} is in recovery (a replica): no write can commit there",
                    c.member
                )]
            } else if read_only == "on" {
                vec![format!(
                    "not yet: {} is a primary but its transactions are read-only (transaction_read_only = on)",
                    c.member
                )]
            } else {
                Vec::new()
            }
        }
        Ok(Err(e)) => vec![format!("cannot read {}: {}", c.member, pg_error(&e))],
        Err(_) => vec![format!(
            "no answer from {} within {}",
            c.member,
            setting(c.attempt_timeout)
        )],
    }
}

/// Attempts until one commits or the timeout ends. Never Unknown: the check changes nothing
/// that would need reading back.
pub async fn execute(c: &WriteCheck) -> Outcome {
    let started = Instant::now();
    let deadline = started + c.timeout;
    let mut attempts = 0u32;
    let last = loop {
        attempts += 1;
        let attempt_started = Instant::now();
        let mut stage = Stage::Connect;
        let mut seen = Seen::default();
        let result =
            tokio::time::timeout(c.attempt_timeout, attempt(c, &mut stage, &mut seen)).await;
        let why = match result {
            Ok(Ok(xid)) => {
                return Outcome::Ok(format!(
                    "{} took a write after {} ({attempts} attempt{}): xid {xid} committed on {}",
                    c.site,
                    secs(started.elapsed()),
                    plural(attempts),
                    c.member
                ));
            }
            Ok(Err(why)) => why,
            Err(_) => timed_out(c, stage, seen).await,
        };
        // The last attempt starts at the timeout at the latest.
        if Instant::now() >= deadline {
            break why;
        }
        tokio::time::sleep_until((attempt_started + ATTEMPT_EVERY).min(deadline)).await;
    };
    let took = secs(started.elapsed());
    let tries = format!("{attempts} attempt{}", plural(attempts));
    Outcome::Failed(match last {
        NoWrite::ReadOnly(why) => {
            format!("{} still read-only after {took} ({tries}): {why}", c.site)
        }
        NoWrite::Other(why) => format!("{} took no write in {took} ({tries}): {why}", c.site),
    })
}

fn plural(n: u32) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// One attempt: connect, take an xid, commit, and see the xid committed. Its xid, or why not.
async fn attempt(c: &WriteCheck, stage: &mut Stage, seen: &mut Seen) -> Result<String, NoWrite> {
    let client = connect_dsn(&c.dsn, c.password_env.as_deref(), c.attempt_timeout)
        .await
        .map_err(|e| NoWrite::Other(format!("cannot connect to {}: {e}", c.member)))?;
    *stage = Stage::Xid;
    let row = first_row(&client, TAKE_XID).await.map_err(|e| {
        let text = pg_error(&e);
        let in_recovery = e
            .as_db_error()
            .is_some_and(|d| d.message().contains("during recovery") || d.code().code() == "25006");
        if in_recovery {
            NoWrite::ReadOnly(text)
        } else {
            NoWrite::Other(format!("on {}: {text}", c.member))
        }
    })?;
    let [xid, read_only, sync] = [0, 1, 2].map(|i| row.get(i).cloned().unwrap_or_default());
    seen.sync_standbys = sync;
    if xid.is_empty() {
        return Err(NoWrite::Other(format!("{} returned no xid", c.member)));
    }
    if read_only == "on" {
        return Err(NoWrite::ReadOnly(
            "transaction_read_only = on: this user's transactions are read-only (default_transaction_read_only?)".into(),
        ));
    }
    *stage = Stage::Wal;
    // An xid alone commits asynchronously (no WAL of its own before the commit record: no
    // flush, no wait for synchronous standbys). A transactional WAL message makes it a commit
    // like any application's, and leaves nothing in a table.
    first_row(&client, WAL_MESSAGE)
        .await
        .map_err(|e| NoWrite::Other(format!("on {}: {}", c.member, pg_error(&e))))?;
    seen.cancel = Some(client.cancel_token());
    *stage = Stage::Commit;
    client
        .simple_query("COMMIT")
        .await
        .map_err(|e| NoWrite::Other(format!("COMMIT failed on {}: {}", c.member, pg_error(&e))))?;
    *stage = Stage::Verify;
    let status = first_row(&client, &format!("SELECT pg_xact_status('{xid}'::xid8)"))
        .await
        .map_err(|e| NoWrite::Other(format!("on {}: {}", c.member, pg_error(&e))))?
        .concat();
    if status == "committed" {
        Ok(xid)
    } else {
        Err(NoWrite::Other(format!(
            "xid {xid} is {status:?} after COMMIT on {}",
            c.member
        )))
    }
}

/// The text columns of the first row `sql` returns (empty text for NULL; none without a row).
async fn first_row(client: &Client, sql: &str) -> Result<Vec<String>, tokio_postgres::Error> {
    let messages = client.simple_query(sql).await?;
    let row = messages.iter().find_map(|m| match m {
        SimpleQueryMessage::Row(row) => Some(row),
        _ => None,
    });
    Ok(row
        .map(|r| {
            (0..r.len())
                .map(|i| r.get(i).unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default())
}

/// An attempt that did not end within its bound, by where it was; a COMMIT left waiting is
/// cancelled (bounded by the same timeout), so the server keeps no session waiting for it.
async fn timed_out(c: &WriteCheck, stage: Stage, seen: Seen) -> NoWrite {
    let within = setting(c.attempt_timeout);
    match stage {
        Stage::Connect => NoWrite::Other(format!("no connection to {} within {within}", c.member)),
        Stage::Xid | Stage::Wal | Stage::Verify => {
            NoWrite::Other(format!("no answer from {} within {within}", c.member))
        }
        Stage::Commit => {
            let cancelled = match seen.cancel {
                Some(token) => cancel(c, token).await,
                None => "not cancelled".into(),
            };
            let waiting_for = if seen.sync_standbys.is_empty() {
                String::new()
            } else {
                format!(
                    " (synchronous_standby_names = '{}': no synchronous standby confirms it?)",
                    seen.sync_standbys
                )
            };
            NoWrite::Other(format!(
                "COMMIT did not return within {within} on {}{waiting_for}; {cancelled}",
                c.member
            ))
        }
    }
}

/// Cancels the waiting COMMIT through the server's cancel request, as libpq's PQcancel does.
async fn cancel(c: &WriteCheck, token: tokio_postgres::CancelToken) -> String {
    let connector = match config_for(&c.dsn, c.password_env.as_deref(), c.attempt_timeout)
        .and_then(|(_, settings)| tls::connector(&settings))
    {
        Ok(connector) => connector,
        Err(e) => return format!("could not cancel it: {e}"),
    };
    match tokio::time::timeout(c.attempt_timeout, token.cancel_query(connector)).await {
        Ok(Ok(())) => "cancelled".into(),
        Ok(Err(e)) => format!("could not cancel it: {}", pg_error(&e)),
        Err(_) => format!("could not cancel it within {}", setting(c.attempt_timeout)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plural_counts() {
        assert_eq!(format!("1 attempt{}", plural(1)), "1 attempt");
        assert_eq!(format!("4 attempt{}", plural(4)), "4 attempts");
    }
}
