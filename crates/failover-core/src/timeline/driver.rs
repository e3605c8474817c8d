//! Who drives, as the record says: the holder of the driver lock (a flock beside the journal) or
//! lease (a key in etcd), and the entries that mark a change of driver.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The driver lock's or lease's holder, shown to every console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    pub operator: String,
    pub host: String,
    pub pid: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub since: OffsetDateTime,
    /// The console ("host:pid") that holds it: its run events are the ones accepted.
    #[serde(default)]
    pub console: String,
    /// The fencing token: the etcd revision that created the driver key, or the lock file's
    /// generation. Every run event the driver writes carries it.
    #[serde(default)]
    pub token: u64,
    /// The SSH client's address (from `SSH_CONNECTION`), when the console runs over SSH.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh: Option<String>,
}

impl LockInfo {
    pub fn describe(&self) -> String {
        let since = crate::text::clock(self.since);
        let ssh = self
            .ssh
            .as_deref()
            .map(|a| format!(", ssh from {a}"))
            .unwrap_or_default();
        format!(
            "{} on {} (pid {}{ssh}) since {since} UTC",
            self.operator, self.host, self.pid
        )
    }
}

/// Carried by the entry that records a change of driver, so that reading the record back
/// tells whose run events were the driver's at each point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DriverMark {
    /// This holder drives from here on (took a free lock, or broke a held one).
    Took(LockInfo),
    /// The holder with this console and token let go (a clean stop, or a lost lease).
    Released { console: String, token: u64 },
}
