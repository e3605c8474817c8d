//! `[[database]] kind = "postgres"`: PostgreSQL members, one per site, read directly. The
//! `[[database]]` table is shared with Patroni (`kind = "patroni"`).

use std::collections::HashSet;
use std::time::Duration;

use indexmap::IndexMap;
use serde::Deserialize;
use toml::Spanned;

use crate::schema::{
    Checker, ConfigDuration, ConfigError, Drivers, Dsn, SiteId, duration_or, interval_and_timeout,
    unique,
};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct DatabaseFile {
    pub name: Spanned<String>,
    pub kind: Spanned<String>,
    pub max_lag_bytes: Option<u64>,
    pub max_lag: Option<Spanned<ConfigDuration>>,
    pub interval: Option<Spanned<ConfigDuration>>,
    pub timeout: Option<Spanned<ConfigDuration>>,
    #[serde(default)]
    pub member: Vec<MemberFile>,
    /// kind = "patroni": the REST API of every member, asked in this order.
    pub members: Option<Spanned<Vec<Spanned<String>>>>,
    /// kind = "patroni": Patroni member name -> site key.
    #[serde(default)]
    pub sites: IndexMap<String, Spanned<String>>,
    /// kind = "patroni": basic auth for the REST API; the password only from `password-env`.
    pub user: Option<Spanned<String>>,
    pub password_env: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct MemberFile {
    pub site: Spanned<String>,
    pub dsn: Spanned<String>,
    pub name: Option<Spanned<String>>,
    pub password_env: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    Postgres,
}

#[derive(Debug, Clone)]
pub struct Database {
    pub name: String,
    pub kind: DatabaseKind,
    pub max_lag_bytes: u64,
    pub max_lag: Duration,
    pub interval: Duration,
    pub timeout: Duration,
    pub members: Vec<Member>,
}

#[derive(Debug, Clone)]
pub struct Member {
    pub name: String,
    pub site: SiteId,
    /// libpq key=value or URL form, never with a password in it.
    pub dsn: String,
    /// Where the DSN points, as the driver read it.
    pub points_at: Dsn,
    pub password_env: Option<String>,
}

pub fn parse(
    c: &Checker<'_>,
    d: &DatabaseFile,
    site_of: &dyn Fn(&Spanned<String>) -> Result<SiteId, ConfigError>,
    drivers: &dyn Drivers,
) -> Result<Database, ConfigError> {
    let kind = match d.kind.get_ref().as_str() {
        "postgres" => DatabaseKind::Postgres,
        other => {
            return Err(c.at(
                &d.kind,
                format!("unknown database kind {other:?}: expected \"postgres\" or \"patroni\""),
            ));
        }
    };
    if let Some(m) = &d.members {
        return Err(c.at(
            m,
            "members = [...] is for kind = \"patroni\"; a postgres database has [[database.member]] tables",
        ));
    }
    if let Some(u) = &d.user {
        return Err(c.at(
            u,
            "user is for kind = \"patroni\"; a postgres member's user goes in its dsn",
        ));
    }
    if let Some(e) = &d.password_env {
        return Err(c.at(
            e,
            "password-env of a postgres database goes on each [[database.member]]",
        ));
    }
    if let Some((_, site)) = d.sites.first() {
        return Err(c.at(
            site,
            "sites = {...} is for kind = \"patroni\"; a postgres member has its own site",
        ));
    }
    if d.member.is_empty() {
        return Err(c.at(
            &d.name,
            format!("database {:?} has no [[database.member]]", d.name.get_ref()),
        ));
    }
    let (interval, timeout) = interval_and_timeout(
        c,
        &d.interval,
        &d.timeout,
        (Duration::from_secs(2), Duration::from_secs(2)),
    )?;
    let mut members = Vec::new();
    let mut member_names = HashSet::new();
    for m in &d.member {
        let site = site_of(&m.site)?;
        let holds_password = || {
            c.secret_at(&m.dsn, "the dsn holds a password: passwords never sit in the file; use password-env = \"NAME\" or ~/.pgpass")
        };
        if dsn_has_password(m.dsn.get_ref()) {
            return Err(holds_password());
        }
        // The DSN may hold a password the driver could not read: its line is not shown.
        let points_at = drivers
            .postgres_dsn(m.dsn.get_ref())
            .map_err(|e| c.secret_at(&m.dsn, format!("invalid dsn: {e}")))?;
        if points_at.has_password {
            return Err(holds_password());
        }
        let name = match &m.name {
            Some(n) => n.clone(),
            None => Spanned::new(m.site.span(), m.site.get_ref().clone()),
        };
        if m.name.is_none() && member_names.contains(name.get_ref()) {
            return Err(c.at(
                &m.site,
                format!(
                    "two members on site {:?}: give each one a name = \"...\"",
                    m.site.get_ref()
                ),
            ));
        }
        unique(c, &mut member_names, &name, "member")?;
        members.push(Member {
            name: name.into_inner(),
            site,
            dsn: m.dsn.get_ref().clone(),
            points_at,
            password_env: m.password_env.clone(),
        });
    }
    Ok(Database {
        name: d.name.get_ref().clone(),
        kind,
        max_lag_bytes: d.max_lag_bytes.unwrap_or(1024 * 1024),
        max_lag: duration_or(&d.max_lag, Duration::from_secs(30)),
        interval,
        timeout,
        members,
    })
}
/// Checked by the libpq rule: any `password=` key, or a URL with user:password@.
fn dsn_has_password(dsn: &str) -> bool {
    let lower = dsn.to_ascii_lowercase();
    if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
        let rest = &dsn[dsn.find("://").map(|i| i + 3).unwrap_or(0)..];
        let authority = rest.split(['/', '?']).next().unwrap_or("");
        let userinfo_has_password = authority
            .rsplit_once('@')
            .is_some_and(|(user, _)| user.contains(':'));
        return userinfo_has_password || lower.contains("password=");
    }
    lower
        .split_whitespace()
        .any(|pair| pair.trim_start().starts_with("password"))
}
