//! `[war-room]`: the shared record and the driver lease on one etcd v3 cluster, for consoles on
//! several bastions. Without it the journal file is the record and a flock beside it the lease.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::schema::{Checker, ConfigDuration, ConfigError, duration_or};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct WarRoomFile {
    pub etcd: Spanned<Vec<Spanned<String>>>,
    pub prefix: Spanned<String>,
    pub lease: Option<Spanned<ConfigDuration>>,
    pub user: Option<Spanned<String>>,
    pub password_env: Option<Spanned<String>>,
    pub ca_file: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarRoom {
    /// Endpoints of one etcd v3 cluster, `http://` or `https://` (then TLS, verified).
    pub etcd: Vec<String>,
    /// Every console of one service uses the same prefix; no trailing slash.
    pub prefix: String,
    /// TTL of the driver and recorder leases.
    pub lease: Duration,
    pub user: Option<String>,
    /// The environment variable holding the password (never the password itself).
    pub password_env: Option<String>,
    /// CA certificate for `https://` endpoints; without it, the system's roots.
    pub ca_file: Option<PathBuf>,
}

pub const DEFAULT_LEASE: Duration = Duration::from_secs(10);

pub fn parse(c: &Checker<'_>, w: &WarRoomFile) -> Result<WarRoom, ConfigError> {
    if w.etcd.get_ref().is_empty() {
        return Err(c.at(
            &w.etcd,
            "etcd: at least one endpoint, e.g. [\"http://127.0.0.1:2379\"]",
        ));
    }
    let mut etcd = Vec::new();
    for e in w.etcd.get_ref() {
        let text = e.get_ref().trim().trim_end_matches('/');
        let ok = url::Url::parse(text).is_ok_and(|u| {
            matches!(u.scheme(), "http" | "https")
                && u.host_str().is_some()
                && matches!(u.path(), "" | "/")
        });
        if !ok {
            return Err(c.at(
                e,
                format!(
                    "invalid etcd endpoint {:?}: expected http(s)://host:port",
                    e.get_ref()
                ),
            ));
        }
        etcd.push(text.to_string());
    }
    let schemes: std::collections::HashSet<bool> =
        etcd.iter().map(|e| e.starts_with("https://")).collect();
    if schemes.len() > 1 {
        return Err(c.at(
            &w.etcd,
            "etcd: mixes http:// and https:// endpoints; use one",
        ));
    }
    let prefix = w.prefix.get_ref().trim_end_matches('/').to_string();
    if !prefix.starts_with('/') || prefix.len() < 2 || prefix.contains(char::is_whitespace) {
        return Err(c.at(
            &w.prefix,
            format!(
                "invalid prefix {:?}: expected a key path such as \"/failover-console/orders\"",
                w.prefix.get_ref()
            ),
        ));
    }
    let lease = duration_or(&w.lease, DEFAULT_LEASE);
    if let Some(span) = &w.lease
        && !(Duration::from_secs(2)..=Duration::from_secs(300)).contains(&lease)
    {
        return Err(c.at(span, "lease: expected between 2s and 5m"));
    }
    let user = crate::schema::non_empty(c, &w.user, "user")?;
    let password_env = crate::schema::non_empty(c, &w.password_env, "password-env")?;
    if let (Some(_), None) = (&user, &password_env)
        && let Some(u) = &w.user
    {
        return Err(c.at(
            u,
            "user needs password-env: the variable that holds the password",
        ));
    }
    if let (None, Some(p)) = (&user, &w.password_env) {
        return Err(c.at(p, "password-env without user"));
    }
    if user.is_some()
        && let Some(e) = w.etcd.get_ref().iter().find(|e| {
            url::Url::parse(e.get_ref().trim())
                .is_ok_and(|u| crate::schema::secrets::clear_to_network(&u))
        })
    {
        return Err(c.at(
            e,
            "user and password over plain http to a host that is not this machine: the password would cross the network in clear; use https:// (plain http takes credentials only to loopback)",
        ));
    }
    Ok(WarRoom {
        etcd,
        prefix,
        lease,
        user,
        password_env,
        ca_file: w.ca_file.as_deref().map(|p| c.relative(p)),
    })
}
