//! `[[database]]` with `kind = "patroni"`: a Patroni cluster read through its members' REST API.

use std::collections::HashSet;
use std::time::Duration;

use toml::Spanned;

use crate::kinds::postgres::DatabaseFile;
use crate::schema::{Checker, ConfigError, SiteId, interval_and_timeout};

#[derive(Debug, Clone, PartialEq)]
pub struct PatroniCluster {
    pub name: String,
    /// Each member's REST API base URL ("http://127.0.0.1:8008"), asked in this order.
    pub endpoints: Vec<String>,
    /// Patroni member name -> site, for the serving site and runbooks' default candidate.
    pub sites: Vec<(String, SiteId)>,
    pub auth: Option<PatroniAuth>,
    /// The console's own lag limit in bytes; None: the cluster's `maximum_lag_on_failover`.
    pub max_lag_bytes: Option<u64>,
    pub interval: Duration,
    pub timeout: Duration,
}

/// Basic auth for the REST API: the user, and where the password is (never the password).
#[derive(Debug, Clone, PartialEq)]
pub struct PatroniAuth {
    pub user: String,
    pub password_env: String,
}

impl PatroniCluster {
    /// The site a member is at, when `sites` names it.
    pub fn site_of(&self, member: &str) -> Option<SiteId> {
        self.sites
            .iter()
            .find(|(m, _)| m == member)
            .map(|(_, s)| *s)
    }

    /// The member configured at `site`, if exactly one is.
    pub fn member_at(&self, site: SiteId) -> Option<&str> {
        let mut at = self.sites.iter().filter(|(_, s)| *s == site);
        match (at.next(), at.next()) {
            (Some((m, _)), None) => Some(m.as_str()),
            _ => None,
        }
    }
}

pub fn parse(
    c: &Checker<'_>,
    d: &DatabaseFile,
    site_of: &dyn Fn(&Spanned<String>) -> Result<SiteId, ConfigError>,
) -> Result<PatroniCluster, ConfigError> {
    if let Some(m) = d.member.first() {
        return Err(c.at(
            &m.site,
            "a patroni database lists its REST endpoints in members = [\"http://host:8008\", ...], not [[database.member]]",
        ));
    }
    let members = d.members.as_ref().ok_or_else(|| {
        c.at(
            &d.kind,
            "a patroni database needs members = [\"http://host:8008\", ...]: every member's REST API",
        )
    })?;
    if members.get_ref().is_empty() {
        return Err(c.at(members, "members is empty: give every member's REST API"));
    }
    let mut endpoints = Vec::new();
    let mut seen = HashSet::new();
    for m in members.get_ref() {
        let url = url::Url::parse(m.get_ref()).map_err(|e| crate::schema::invalid_url(c, m, e))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(c.at(m, "expected an http or https URL of a member's REST API"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(c.secret_at(
                m,
                "credentials never sit in the file: use user = \"...\" and password-env = \"NAME\"",
            ));
        }
        let base = m.get_ref().trim_end_matches('/').to_string();
        if !seen.insert(base.clone()) {
            return Err(c.at(m, format!("{base} is listed twice")));
        }
        endpoints.push(base);
    }
    let mut sites = Vec::new();
    for (member, site) in &d.sites {
        sites.push((member.clone(), site_of(site)?));
    }
    let auth = match (&d.user, &d.password_env) {
        (Some(user), Some(env)) => Some(PatroniAuth {
            user: user.get_ref().clone(),
            password_env: env.get_ref().clone(),
        }),
        (None, None) => None,
        (Some(user), None) => {
            return Err(c.at(
                user,
                "user needs password-env = \"NAME\" (the password is never in the file)",
            ));
        }
        (None, Some(env)) => return Err(c.at(env, "password-env needs user = \"...\"")),
    };
    if auth.is_some()
        && let Some(m) = members.get_ref().iter().find(|m| {
            url::Url::parse(m.get_ref()).is_ok_and(|u| crate::schema::secrets::clear_to_network(&u))
        })
    {
        return Err(c.at(
            m,
            "basic auth over plain http to a host that is not this machine: the password would cross the network in clear; use https:// (plain http takes credentials only to loopback)",
        ));
    }
    if d.max_lag.is_some() {
        let span = d.max_lag.as_ref().map(|m| m.span());
        return Err(c.error(
            span,
            "Patroni reports lag in bytes: use max-lag-bytes (default: the cluster's maximum_lag_on_failover)",
        ));
    }
    let (interval, timeout) = interval_and_timeout(
        c,
        &d.interval,
        &d.timeout,
        (Duration::from_secs(2), Duration::from_secs(2)),
    )?;
    Ok(PatroniCluster {
        name: d.name.get_ref().clone(),
        endpoints,
        sites,
        auth,
        max_lag_bytes: d.max_lag_bytes,
        interval,
        timeout,
    })
}
