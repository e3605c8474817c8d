//! `wait = "writable"`'s pure half: what the check is, how the plan shows it, and how the run
//! pane judges it from the member's role meanwhile. The binary connects and commits.

use std::time::Duration;

use super::{Evidence, Role, World, member_source};
use crate::text;

/// Attempts start this often (a slow one delays the next, never overlaps it).
pub const ATTEMPT_EVERY: Duration = Duration::from_millis(500);

/// A write transaction that must commit on one member: `BEGIN`, `SELECT pg_current_xact_id()`
/// (fails during recovery) with `transaction_read_only` off, a transactional WAL message (so the
/// commit flushes and waits for synchronous standbys like any write), `COMMIT`. Nothing is
/// created in any table, so nothing is left behind.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteCheck {
    /// The member's site label, as messages name it ("site B").
    pub site: String,
    /// "orders/site B".
    pub member: String,
    pub dsn: String,
    /// Where the DSN points, never with a secret ("host ... port ... user ... db ...").
    pub target: String,
    pub password_env: Option<String>,
    /// How long to keep trying.
    pub timeout: Duration,
    /// Each attempt's own bound (connect, the transaction, its commit): the database's
    /// `timeout`, at most the step's. A hung server or a commit waiting for a synchronous
    /// standby ends the attempt, not the wait.
    pub attempt_timeout: Duration,
}

impl WriteCheck {
    /// The longest the wait can take: attempts start until `timeout`, the last one at it, and
    /// a COMMIT that does not return within its attempt is cancelled within as long again.
    pub fn max_duration(&self) -> Duration {
        self.timeout
            .saturating_add(self.attempt_timeout.saturating_mul(2))
    }
}

/// Each attempt's bound: the database's timeout, at most the step's own.
pub fn attempt_timeout(database_timeout: Duration, step_timeout: Duration) -> Duration {
    database_timeout.min(step_timeout)
}

/// The plan's lines: where, and the transaction. Host/port/user/db only, never a password.
pub fn describe_writable(c: &WriteCheck) -> Vec<String> {
    vec![
        format!(
            "wait: a write transaction commits on {} ({}), up to {}",
            c.member,
            c.target,
            text::age(c.timeout)
        ),
        format!(
            "every {}, each attempt up to {}: BEGIN; SELECT pg_current_xact_id(), current_setting('transaction_read_only')  -- must be off; SELECT pg_logical_emit_message(true, 'failover-console', 'write check'); COMMIT; SELECT pg_xact_status(xid)  -- must be committed",
            text::setting(ATTEMPT_EVERY),
            text::setting(c.attempt_timeout)
        ),
    ]
}

/// While the wait has not run (or runs), the run pane's hint from the member's live role: only
/// a primary can take a write. The wait itself is judged by its commit, never by this.
pub fn writable_evidence(world: &World<'_>, db: usize, member: usize) -> Evidence {
    let spec = &world.specs.postgres[db];
    let m = &world.states.postgres[db].members[member];
    let who = member_source(world.sites, spec, member);
    let (pass, now) = match m.role {
        _ if m.stale => (false, "stale: no fresh reading".to_string()),
        Role::Primary => (true, "primary (pg_is_in_recovery() = false)".to_string()),
        Role::Replica => (false, "a replica: in recovery, read-only".to_string()),
        Role::Unreachable => (
            false,
            format!("unreachable: {}", m.error.as_deref().unwrap_or("?")),
        ),
        Role::Unknown => (false, "no reading yet".to_string()),
    };
    Evidence {
        pass,
        lines: vec![format!("{who} {now}")],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_wait_is_the_timeout_the_last_attempt_and_its_cancel() {
        let check = WriteCheck {
            site: "site B".into(),
            member: "orders/site B".into(),
            dsn: "host=h".into(),
            target: "host h".into(),
            password_env: None,
            timeout: Duration::from_secs(60),
            attempt_timeout: attempt_timeout(Duration::from_secs(2), Duration::from_secs(60)),
        };
        assert_eq!(check.max_duration(), Duration::from_secs(64));
        let long = WriteCheck {
            timeout: Duration::MAX,
            ..check
        };
        assert_eq!(long.max_duration(), Duration::MAX);
        assert_eq!(
            attempt_timeout(Duration::from_secs(2), Duration::from_millis(300)),
            Duration::from_millis(300)
        );
    }
}
