//! The war room's keys under the prefix, and what is stored at them:
//! - `record/<console>/<seq>`: one entry, JSON as in the journal; put only if absent, so an
//!   entry sent again after a lost answer is still there once. Ordered by create revision.
//! - `driver`: the driver's `LockInfo`, created only if absent, bound to its lease. Its create
//!   revision is the fencing token.
//! - `recorder`: the same for the console that records edges while nobody drives.

use std::time::Duration;

use etcd_client::{Client, ConnectOptions, KeyValue};

use crate::lock::LockInfo;
use failover_core::config::WarRoom;
use failover_core::timeline::Entry;

/// Every call but the watch: past this, etcd is taken as not answering. (A request caught in a
/// leader's death waits 7 s for etcd's own timeout; a new leader is there in about 1.5 s.)
pub const CALL_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    pub fn new(prefix: &str) -> Keys {
        Keys {
            prefix: prefix.trim_end_matches('/').to_string(),
        }
    }

    /// Everything the consoles of this prefix write: watched as one range.
    pub fn all(&self) -> String {
        format!("{}/", self.prefix)
    }

    pub fn records(&self) -> String {
        format!("{}/record/", self.prefix)
    }

    pub fn entry(&self, console: &str, seq: u64) -> String {
        format!("{}/record/{console}/{seq:020}", self.prefix)
    }

    pub fn driver(&self) -> String {
        format!("{}/driver", self.prefix)
    }

    pub fn recorder(&self) -> String {
        format!("{}/recorder", self.prefix)
    }
}

/// An entry as stored, with the revision that orders it.
pub fn entry(kv: &KeyValue) -> Result<Entry, String> {
    let mut entry: Entry = serde_json::from_slice(kv.value()).map_err(|e| {
        format!(
            "unreadable entry at {} (revision {}): {e}",
            String::from_utf8_lossy(kv.key()),
            kv.create_revision()
        )
    })?;
    entry.rev = Some(kv.create_revision());
    Ok(entry)
}

/// The holder at the driver or recorder key; its token is the key's create revision.
pub fn holder(kv: &KeyValue) -> LockInfo {
    let mut info: LockInfo = serde_json::from_slice(kv.value()).unwrap_or_else(|_| LockInfo {
        operator: "unknown".into(),
        host: "?".into(),
        pid: 0,
        since: time::OffsetDateTime::UNIX_EPOCH,
        console: String::from_utf8_lossy(kv.value())
            .chars()
            .take(40)
            .collect(),
        token: 0,
        ssh: None,
    });
    info.token = kv.create_revision().max(0) as u64;
    info
}

pub fn json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

/// HTTP/2 pings on an idle connection: twice etcd's default minimum.
const KEEP_ALIVE: Duration = Duration::from_secs(10);

/// A client for one member of the cluster that answers and knows a leader, trying them in
/// turn from `first`; with the member's index. One member at a time, not a balanced channel
/// over all of them: a balanced channel keeps sending some calls to a member that died, and
/// every call that fails there counts as etcd not answering.
pub async fn connect(config: &WarRoom, first: usize) -> Result<(Client, usize), String> {
    let options = options(config)?;
    let n = config.etcd.len().max(1);
    let mut why = Vec::new();
    for i in 0..n {
        let at = (first + i) % n;
        let Some(endpoint) = config.etcd.get(at) else {
            break;
        };
        let connected = tokio::time::timeout(
            CALL_TIMEOUT,
            Client::connect([endpoint.as_str()], Some(options.clone())),
        )
        .await;
        let mut client = match connected {
            Ok(Ok(client)) => client,
            Ok(Err(e)) => {
                why.push(format!("{endpoint}: {e}"));
                continue;
            }
            Err(_) => {
                why.push(format!("{endpoint}: no answer"));
                continue;
            }
        };
        match call("status", client.status()).await {
            Ok(status) if status.leader() != 0 => return Ok((client, at)),
            Ok(_) => why.push(format!("{endpoint}: no leader")),
            Err(e) => why.push(format!("{endpoint}: {e}")),
        }
    }
    Err(format!("no etcd member answers ({})", why.join("; ")))
}

fn options(config: &WarRoom) -> Result<ConnectOptions, String> {
    let mut options = ConnectOptions::new()
        .with_connect_timeout(CALL_TIMEOUT)
        // HTTP/2 pings: a member that vanished without a word is found within seconds. Not
        // more often: etcd closes the connection of a client that pings more often than its
        // --grpc-keepalive-min-time (5 s by default), calling it abuse. A silent member is
        // found sooner anyway, by the lease's keep-alive (every third of its TTL, 2 s bound).
        .with_keep_alive(KEEP_ALIVE, CALL_TIMEOUT)
        .with_keep_alive_while_idle(true)
        // A member cut off from the others ends the watch instead of keeping it open, silent.
        .with_require_leader(true);
    if let Some(user) = &config.user {
        let var = config.password_env.as_deref().unwrap_or_default();
        let password = std::env::var(var)
            .map_err(|_| format!("war-room: ${var} (password-env) is not set"))?;
        options = options.with_user(user.clone(), password);
    }
    if config.etcd.iter().any(|e| e.starts_with("https://")) {
        let mut tls = etcd_client::TlsOptions::new();
        tls = match &config.ca_file {
            Some(path) => {
                let pem = std::fs::read(path)
                    .map_err(|e| format!("war-room: ca-file {}: {e}", path.display()))?;
                tls.ca_certificate(etcd_client::Certificate::from_pem(pem))
            }
            None => tls.with_native_roots(),
        };
        options = options.with_tls(tls);
    }
    Ok(options)
}

/// A call, bounded by `CALL_TIMEOUT`.
pub async fn call<T>(
    what: &str,
    f: impl Future<Output = Result<T, etcd_client::Error>>,
) -> Result<T, String> {
    match tokio::time::timeout(CALL_TIMEOUT, f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(format!("{what}: {e}")),
        Err(_) => Err(format!("{what}: no answer in {}s", CALL_TIMEOUT.as_secs())),
    }
}
