//! Who drives: the driver lock as the model sees it, and the token only a driving console holds.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Proof that this console holds the driver lock: arming a run and constructing an executor
/// take one. Only the binary's lock module makes one, when it has just taken the lock; nothing
/// in this crate does.
#[derive(Debug, PartialEq, Eq)]
pub struct DriverToken {
    _private: (),
}

impl DriverToken {
    /// For the lock just taken (the binary's `lock::acquire` and `lock::break_lock`).
    pub fn held() -> DriverToken {
        DriverToken { _private: () }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    pub operator: String,
    pub host: String,
    pub pid: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub since: OffsetDateTime,
}

impl LockInfo {
    pub fn describe(&self) -> String {
        let since = crate::text::clock(self.since);
        format!(
            "{} on {} (pid {}) since {since} UTC",
            self.operator, self.host, self.pid
        )
    }
}

/// Whether this console drives runbooks now. Only `Driving` carries the token that arming a run
/// and constructing an executor require.
#[derive(Debug)]
pub enum Driver {
    Driving(DriverToken),
    /// `--watch`: never drives.
    Watching,
    /// A LIVE console that has not asked for the lock yet (or has no journal to lock).
    NotYet,
    /// Another console drives; this one follows its run from the journal until the lock frees.
    LockHeld(LockInfo),
    /// Someone broke this console's lock.
    LockLost(String),
}

impl Driver {
    pub fn token(&self) -> Option<&DriverToken> {
        match self {
            Driver::Driving(token) => Some(token),
            _ => None,
        }
    }

    /// Why runbook keys do nothing here, in a line.
    pub fn why_not(&self) -> Option<String> {
        match self {
            Driver::Driving(_) => None,
            Driver::Watching => Some("watching: this console is read-only (--watch)".into()),
            Driver::NotYet => Some("not driving yet: waiting for the driver lock".into()),
            Driver::LockHeld(info) => Some(format!(
                "watching: {} drives (B breaks the lock)",
                info.describe()
            )),
            Driver::LockLost(why) => Some(format!("watching: {why}")),
        }
    }
}
