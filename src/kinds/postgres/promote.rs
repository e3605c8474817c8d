//! Promote a PostgreSQL standby: `SELECT pg_promote(true, N)` on the target member, only after
//! checking (on the same connection, just before) that it is still in recovery.
//!
//! Connecting goes through the source's `connect_dsn` (DSN, password-env, .pgpass), so the
//! console reaches a member the same way for watching and for acting.

use std::time::{Duration, Instant};

use failover_core::actions::{ActionSpec, Outcome, ReadBack};
use failover_core::kinds::postgres::{answer_margin, wait_seconds};
use tokio_postgres::Client;

use super::source::{connect_dsn, describe as pg_error};

/// The timeline of a primary, from its current WAL file (pg_control_checkpoint() lags behind a
/// promotion until the next checkpoint).
const TIMELINE_SQL: &str =
    "SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int";

fn fields(spec: &ActionSpec) -> Option<(&str, &str, Option<&str>, Duration)> {
    match spec {
        ActionSpec::Promote {
            member,
            dsn,
            password_env,
            timeout,
            ..
        } => Some((member, dsn, password_env.as_deref(), *timeout)),
        _ => None,
    }
}

fn ms(d: Duration) -> u128 {
    d.as_millis()
}

fn human(d: Duration) -> String {
    humantime::format_duration(Duration::from_millis(d.as_millis() as u64)).to_string()
}

/// One query with a deadline: the text of the error, or of the timeout.
async fn ask_bool(client: &Client, sql: &str, timeout: Duration) -> Result<bool, String> {
    match tokio::time::timeout(timeout, client.query_one(sql, &[])).await {
        Ok(Ok(row)) => row.try_get::<_, bool>(0).map_err(|e| pg_error(&e)),
        Ok(Err(e)) => Err(pg_error(&e)),
        Err(_) => Err(format!("no answer within {}", human(timeout))),
    }
}

async fn timeline(client: &Client, timeout: Duration) -> Option<i32> {
    match tokio::time::timeout(timeout, client.query_one(TIMELINE_SQL, &[])).await {
        Ok(Ok(row)) => row.try_get::<_, i32>(0).ok(),
        _ => None,
    }
}

/// What would stop the promotion: unreachable, not a replica, no right to call pg_promote.
pub async fn preflight(spec: &ActionSpec) -> Vec<String> {
    let Some((member, dsn, password_env, timeout)) = fields(spec) else {
        return vec!["internal error: not a promote action".into()];
    };
    let client = match connect_dsn(dsn, password_env, timeout).await {
        Ok(c) => c,
        Err(e) => return vec![format!("cannot connect to {member}: {e}")],
    };
    let mut problems = Vec::new();
    match ask_bool(&client, "SELECT pg_is_in_recovery()", timeout).await {
        Ok(true) => {}
        Ok(false) => problems.push(format!(
            "target {member} is not a replica: already primary? (pg_is_in_recovery() = false)"
        )),
        Err(e) => problems.push(format!("cannot read pg_is_in_recovery() on {member}: {e}")),
    }
    match ask_bool(
        &client,
        "SELECT has_function_privilege('pg_catalog.pg_promote(boolean, integer)', 'EXECUTE')",
        timeout,
    )
    .await
    {
        Ok(true) => {}
        Ok(false) => problems.push(format!(
            "the user on {member} may not call pg_promote (needs superuser or GRANT EXECUTE)"
        )),
        Err(e) => problems.push(format!(
            "cannot check the right to call pg_promote on {member}: {e}"
        )),
    }
    problems
}

/// Re-checks that the member is a replica, then promotes it. Once pg_promote has been sent, a
/// lost connection or a missing answer is Unknown: it may have promoted.
pub async fn execute(spec: &ActionSpec) -> Outcome {
    let Some((member, dsn, password_env, timeout)) = fields(spec) else {
        return Outcome::Failed("internal error: not a promote action".into());
    };
    let client = match connect_dsn(dsn, password_env, timeout).await {
        Ok(c) => c,
        Err(e) => return Outcome::Failed(format!("cannot connect to {member}: {e}; nothing done")),
    };
    match ask_bool(&client, "SELECT pg_is_in_recovery()", timeout).await {
        Ok(true) => {}
        Ok(false) => {
            return Outcome::Failed(format!(
                "target {member} is not a replica: already primary? (pg_is_in_recovery() = false); nothing done"
            ));
        }
        Err(e) => {
            return Outcome::Failed(format!(
                "cannot check pg_is_in_recovery() on {member}: {e}; pg_promote not sent"
            ));
        }
    }

    let secs = wait_seconds(timeout);
    let sql = format!("SELECT pg_promote(true, {secs})");
    let wait = Duration::from_secs(secs).saturating_add(answer_margin(timeout));
    let started = Instant::now();
    // The simple protocol: one message that parses and runs the call, so "sent" means "asked to
    // promote" (the extended protocol would first send it alone to be prepared).
    let answer = tokio::time::timeout(wait, client.simple_query(&sql)).await;
    let took = started.elapsed();
    let messages = match answer {
        Ok(Ok(messages)) => messages,
        // The server refused the call (permission, "recovery is not in progress"...): nothing done.
        Ok(Err(e)) if e.as_db_error().is_some() => {
            return Outcome::Failed(format!("pg_promote failed on {member}: {}", pg_error(&e)));
        }
        Ok(Err(e)) => {
            return Outcome::Unknown(format!(
                "connection to {member} lost after pg_promote was sent ({}): it may have promoted; read back",
                pg_error(&e)
            ));
        }
        Err(_) => {
            return Outcome::Unknown(format!(
                "no answer from {member} within {} after pg_promote was sent: it may have promoted; read back",
                human(wait)
            ));
        }
    };
    let returned = messages.iter().find_map(|m| match m {
        tokio_postgres::SimpleQueryMessage::Row(row) => Some(row.get(0).map(str::to_string)),
        _ => None,
    });
    match returned.flatten().as_deref() {
        Some("t") => match ask_bool(&client, "SELECT pg_is_in_recovery()", timeout).await {
            Ok(false) => Outcome::Ok(format!(
                "promoted in {} ms; pg_is_in_recovery() = false",
                ms(took)
            )),
            Ok(true) => Outcome::Unknown(format!(
                "pg_promote returned true in {} ms but pg_is_in_recovery() is still true: read back",
                ms(took)
            )),
            // pg_promote(true, ..) returning true is the server's word that promotion completed.
            Err(_) => Outcome::Ok(format!(
                "promoted in {} ms (pg_promote returned true)",
                ms(took)
            )),
        },
        // The promotion was requested and may still complete after the wait: not a failure the
        // operator may act on as "nothing happened".
        Some("f") => match ask_bool(&client, "SELECT pg_is_in_recovery()", timeout).await {
            Ok(false) => Outcome::Ok(format!(
                "promoted in {} ms (just after pg_promote's wait); pg_is_in_recovery() = false",
                ms(took)
            )),
            _ => Outcome::Unknown(format!(
                "pg_promote returned false: not promoted within {secs} s; the promotion was requested and may still complete: read back"
            )),
        },
        other => Outcome::Unknown(format!(
            "unexpected answer to pg_promote ({other:?}): read back"
        )),
    }
}

/// Primary (with its timeline) = applied; still in recovery = not applied.
pub async fn read_back(spec: &ActionSpec) -> ReadBack {
    let Some((member, dsn, password_env, timeout)) = fields(spec) else {
        return ReadBack::Unreadable("internal error: not a promote action".into());
    };
    let client = match connect_dsn(dsn, password_env, timeout).await {
        Ok(c) => c,
        Err(e) => return ReadBack::Unreadable(format!("cannot connect to {member}: {e}")),
    };
    match ask_bool(&client, "SELECT pg_is_in_recovery()", timeout).await {
        Ok(false) => match timeline(&client, timeout).await {
            Some(tli) => ReadBack::Applied(format!("primary, timeline {tli}")),
            None => ReadBack::Applied("primary (pg_is_in_recovery() = false)".into()),
        },
        Ok(true) => ReadBack::NotApplied(format!(
            "{member} is still a replica (pg_is_in_recovery() = true)"
        )),
        Err(e) => ReadBack::Unreadable(format!("cannot read pg_is_in_recovery() on {member}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::postgres::target;

    /// The plan's lines for a promote of `member` by `dsn`, as the config would make them.
    fn describe(member: &str, dsn: &str, timeout: Duration) -> Vec<String> {
        failover_core::kinds::postgres::describe_promote(member, &target(dsn), timeout)
    }

    #[test]
    fn describe_shows_where_and_what_never_a_password() {
        let lines = describe(
            "site-B member",
            "host=127.0.0.1 port=54322 user=postgres password=hunter2 dbname=postgres",
            Duration::from_secs(60),
        );
        assert_eq!(
            lines,
            vec![
                "on site-B member (host 127.0.0.1 port 54322 user postgres db postgres): SELECT pg_is_in_recovery()  -- must be true",
                "SELECT pg_promote(true, 60)"
            ]
        );
        let url = describe(
            "b",
            "postgresql://postgres:hunter2@10.0.0.5:6432/orders",
            Duration::from_millis(1500),
        );
        assert!(
            url[0].contains("host 10.0.0.5 port 6432 user postgres db orders"),
            "{url:?}"
        );
        assert_eq!(url[1], "SELECT pg_promote(true, 2)");
        assert!(!url.concat().contains("hunter2"));
        let bad = describe(
            "b",
            "host='unterminated password=hunter2",
            Duration::from_secs(1),
        );
        assert!(
            bad[0].contains("invalid dsn") && !bad.concat().contains("hunter2"),
            "{bad:?}"
        );
    }
}
