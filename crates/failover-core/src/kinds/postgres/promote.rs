//! The promote action's pure half: how the plan shows it. The binary connects and promotes.

use std::time::Duration;

/// The plan's lines: where, the check, the call. Host/port/user/db only, never a password.
pub fn describe_promote(member: &str, target: &str, timeout: Duration) -> Vec<String> {
    vec![
        format!("on {member} ({target}): SELECT pg_is_in_recovery()  -- must be true"),
        format!("SELECT pg_promote(true, {})", wait_seconds(timeout)),
    ]
}

/// pg_promote's wait_seconds: the action's timeout, whole seconds rounded up, at least 1.
pub fn wait_seconds(timeout: Duration) -> u64 {
    let secs = timeout
        .as_secs()
        .saturating_add(u64::from(timeout.subsec_nanos() > 0));
    secs.clamp(1, i32::MAX as u64)
}

/// The server waits up to the requested seconds; the client allows a little more (half the
/// timeout, 1 to 5 s) before it stops waiting for the answer (then the outcome is unknown).
pub fn answer_margin(timeout: Duration) -> Duration {
    (timeout / 2).clamp(Duration::from_secs(1), Duration::from_secs(5))
}
