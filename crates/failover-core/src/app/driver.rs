//! Who drives: the driver lock as the model sees it, and the token only a driving console holds.

pub use crate::timeline::LockInfo;

/// Proof that this console holds the driver lock or lease: arming a run and constructing an
/// executor take one. Only the binary's record module makes one, when it has just taken the
/// lock; nothing in this crate does. Its value is the fencing token every run event carries.
#[derive(Debug, PartialEq, Eq)]
pub struct DriverToken {
    value: u64,
}

impl DriverToken {
    /// For the lock just taken, with its fencing token.
    pub fn held(value: u64) -> DriverToken {
        DriverToken { value }
    }

    pub fn value(&self) -> u64 {
        self.value
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
