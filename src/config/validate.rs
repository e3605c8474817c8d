//! Turns the file as written into a `Config`, checking what serde cannot: references between
//! tables, duplicates, ranges and forms of addresses.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;

use super::duration::ConfigDuration;
use super::file::{AwsFile, DatabaseFile, DnsFile, FileConfig, HealthFile, Route53File};
use super::*;

pub(super) struct Checker<'a> {
    text: &'a str,
    path: &'a Path,
}

impl Checker<'_> {
    pub(super) fn error(
        &self,
        span: Option<Range<usize>>,
        message: impl Into<String>,
    ) -> ConfigError {
        let position = span.map(|s| line_col(self.text, s.start));
        let line_text = position
            .and_then(|(line, _)| self.text.lines().nth(line - 1))
            .map(str::to_string);
        ConfigError {
            file: self.path.to_path_buf(),
            position,
            message: message.into(),
            line_text,
        }
    }

    pub(super) fn at<T>(&self, value: &Spanned<T>, message: impl Into<String>) -> ConfigError {
        self.error(Some(value.span()), message)
    }

    pub(super) fn site(
        &self,
        config: &Config,
        name: &Spanned<String>,
    ) -> Result<SiteId, ConfigError> {
        config.site_by_key(name.get_ref()).ok_or_else(|| {
            let keys: Vec<&str> = config.sites.iter().map(|s| s.key.as_str()).collect();
            self.at(
                name,
                format!(
                    "unknown site {:?}: expected one of {}",
                    name.get_ref(),
                    keys.join(", ")
                ),
            )
        })
    }

    /// A path relative to the config file's directory.
    pub(super) fn relative(&self, p: &str) -> PathBuf {
        let p = PathBuf::from(p);
        if p.is_absolute() {
            p
        } else {
            self.path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default()
                .join(p)
        }
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

pub fn from_str(text: &str, path: &Path) -> Result<Config, ConfigError> {
    let checker = Checker { text, path };
    let file: FileConfig = toml::from_str(text).map_err(|e| {
        let message = e.message().trim().to_string();
        checker.error(e.span(), message)
    })?;
    build(&checker, file)
}

fn build(c: &Checker<'_>, file: FileConfig) -> Result<Config, ConfigError> {
    let dir = c.path.parent().map(Path::to_path_buf).unwrap_or_default();
    let relative = |p: &str| -> PathBuf {
        let p = PathBuf::from(p);
        if p.is_absolute() { p } else { dir.join(p) }
    };

    if file.sites.is_empty() {
        return Err(c.error(
            None,
            "no [sites.<name>] tables: at least one site is needed",
        ));
    }
    let sites: Vec<Site> = file
        .sites
        .iter()
        .map(|(key, site)| Site {
            key: key.clone(),
            label: site.get_ref().label.clone().unwrap_or_else(|| key.clone()),
        })
        .collect();
    let site_keys: Vec<&str> = sites.iter().map(|s| s.key.as_str()).collect();
    let site_of = |name: &Spanned<String>| -> Result<SiteId, ConfigError> {
        site_keys
            .iter()
            .position(|k| *k == name.get_ref())
            .ok_or_else(|| {
                c.at(
                    name,
                    format!(
                        "unknown site {:?}: expected one of {}",
                        name.get_ref(),
                        site_keys.join(", ")
                    ),
                )
            })
    };

    let theme = match &file.console.theme {
        Some(t) => t.get_ref().clone(),
        None => "dark".to_string(),
    };

    let mut names = HashSet::new();
    let mut health = Vec::new();
    for h in &file.health {
        unique(c, &mut names, &h.name, "health check")?;
        health.push(health_check(c, h, site_of(&h.site)?)?);
    }

    let mut db_names = HashSet::new();
    let mut databases = Vec::new();
    let mut patroni = Vec::new();
    for d in &file.database {
        unique(c, &mut db_names, &d.name, "database")?;
        if d.kind.get_ref() == "patroni" {
            patroni.push(super::patroni::cluster(c, d, &site_of)?);
        } else {
            databases.push(database(c, d, &site_of)?);
        }
    }

    let mut dns_names = HashSet::new();
    let mut dns = Vec::new();
    for d in &file.dns {
        dns.push(dns_record(c, d, &site_of, &mut dns_names)?);
    }

    let aws = match &file.aws {
        Some(a) => aws_settings(c, a)?,
        None => AwsSettings::default(),
    };
    let mut r53_seen = HashSet::new();
    let mut route53 = Vec::new();
    for r in &file.route53 {
        route53.push(route53_record(c, r, &aws, &mut r53_seen)?);
    }
    let rds = super::aws_sources::rds_sources(c, &file.rds, &aws, &site_of)?;
    let cloudwatch = super::aws_sources::cloudwatch_checks(c, &file.cloudwatch, &aws, &site_of)?;

    let mut config = Config {
        path: c.path.to_path_buf(),
        title: file
            .console
            .title
            .clone()
            .unwrap_or_else(|| "failover-console".to_string()),
        journal: relative(file.console.journal.as_deref().unwrap_or("journal.jsonl")),
        log: file.console.log.as_deref().map(relative),
        theme,
        sites,
        health,
        databases,
        patroni,
        dns,
        runbooks: Vec::new(),
        aws,
        route53,
        rds,
        cloudwatch,
    };
    let mut runbook_names = HashSet::new();
    for r in &file.runbook {
        unique(c, &mut runbook_names, &r.name, "runbook")?;
        let runbook = super::runbook::build(c, r, &config)?;
        config.runbooks.push(runbook);
    }
    Ok(config)
}

pub(super) fn unique(
    c: &Checker<'_>,
    seen: &mut HashSet<String>,
    name: &Spanned<String>,
    what: &str,
) -> Result<(), ConfigError> {
    if name.get_ref().trim().is_empty() {
        return Err(c.at(name, format!("empty {what} name")));
    }
    if !seen.insert(name.get_ref().clone()) {
        return Err(c.at(
            name,
            format!(
                "duplicate {what} name {:?}: names must be unique",
                name.get_ref()
            ),
        ));
    }
    Ok(())
}

pub(super) fn duration_or(value: &Option<Spanned<ConfigDuration>>, default: Duration) -> Duration {
    value.as_ref().map(|d| d.get_ref().0).unwrap_or(default)
}

pub(super) fn interval_and_timeout(
    c: &Checker<'_>,
    interval: &Option<Spanned<ConfigDuration>>,
    timeout: &Option<Spanned<ConfigDuration>>,
    defaults: (Duration, Duration),
) -> Result<(Duration, Duration), ConfigError> {
    let i = duration_or(interval, defaults.0);
    let t = duration_or(timeout, defaults.1);
    if let Some(span) = interval
        && i < Duration::from_millis(100)
    {
        return Err(c.at(span, "interval too short: expected at least 100ms"));
    }
    if let Some(span) = timeout
        && t < Duration::from_millis(10)
    {
        return Err(c.at(span, "timeout too short: expected at least 10ms"));
    }
    Ok((i, t))
}

fn threshold(
    c: &Checker<'_>,
    value: &Option<Spanned<u32>>,
    default: u32,
) -> Result<u32, ConfigError> {
    match value {
        None => Ok(default),
        Some(v) if (1..=10).contains(v.get_ref()) => Ok(*v.get_ref()),
        Some(v) => Err(c.at(
            v,
            format!("threshold {} out of range: expected 1 to 10", v.get_ref()),
        )),
    }
}

fn health_check(c: &Checker<'_>, h: &HealthFile, site: SiteId) -> Result<HealthCheck, ConfigError> {
    let target = match (&h.http, &h.tcp) {
        (Some(url), None) => {
            let parsed = reqwest::Url::parse(url.get_ref())
                .map_err(|e| c.at(url, format!("invalid URL {:?}: {e}", url.get_ref())))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(c.at(
                    url,
                    format!(
                        "unsupported URL scheme {:?}: expected http or https",
                        parsed.scheme()
                    ),
                ));
            }
            let expect_status = match &h.expect_status {
                Some(s) if (100..=599).contains(s.get_ref()) => *s.get_ref(),
                Some(s) => {
                    return Err(c.at(
                        s,
                        format!(
                            "expect-status {} is not an HTTP status: expected 100 to 599",
                            s.get_ref()
                        ),
                    ));
                }
                None => 200,
            };
            Target::Http {
                url: url.get_ref().clone(),
                expect_status,
                insecure: h.insecure_skip_tls_verify.unwrap_or(false),
            }
        }
        (None, Some(addr)) => {
            let text = addr.get_ref();
            let port_ok = text
                .rsplit_once(':')
                .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
            if !port_ok {
                return Err(c.at(
                    addr,
                    format!(
                        "invalid tcp target {text:?}: expected host:port, e.g. \"127.0.0.1:5432\""
                    ),
                ));
            }
            if h.expect_status.is_some() {
                return Err(c.at(&h.name, "expect-status applies only to http checks"));
            }
            Target::Tcp { addr: text.clone() }
        }
        (Some(_), Some(tcp)) => {
            return Err(c.at(tcp, "a health check has either http or tcp, not both"));
        }
        (None, None) => {
            return Err(c.at(&h.name, format!("health check {:?} has no target: expected http = \"URL\" or tcp = \"host:port\"", h.name.get_ref())));
        }
    };
    let (interval, timeout) = interval_and_timeout(
        c,
        &h.interval,
        &h.timeout,
        (Duration::from_secs(10), Duration::from_secs(2)),
    )?;
    Ok(HealthCheck {
        name: h.name.get_ref().clone(),
        site,
        target,
        interval,
        timeout,
        failure_threshold: threshold(c, &h.failure_threshold, 3)?,
        success_threshold: threshold(c, &h.success_threshold, 2)?,
    })
}

fn database(
    c: &Checker<'_>,
    d: &DatabaseFile,
    site_of: &dyn Fn(&Spanned<String>) -> Result<SiteId, ConfigError>,
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
        if dsn_has_password(m.dsn.get_ref()) {
            return Err(c.at(&m.dsn, "the dsn holds a password: passwords never sit in the file; use password-env = \"NAME\" or ~/.pgpass"));
        }
        m.dsn
            .get_ref()
            .parse::<tokio_postgres::Config>()
            .map_err(|e| c.at(&m.dsn, format!("invalid dsn: {e}")))?;
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

fn dns_record(
    c: &Checker<'_>,
    d: &DnsFile,
    site_of: &dyn Fn(&Spanned<String>) -> Result<SiteId, ConfigError>,
    seen: &mut HashSet<String>,
) -> Result<DnsRecord, ConfigError> {
    let raw = d.name.get_ref().trim();
    if raw.is_empty() || raw.contains(' ') {
        return Err(c.at(&d.name, format!("invalid DNS name {raw:?}")));
    }
    let name = if raw.ends_with('.') {
        raw.to_ascii_lowercase()
    } else {
        format!("{}.", raw.to_ascii_lowercase())
    };
    let record_type = match &d.record_type {
        None => RecordType::A,
        Some(t) => record_type(c, t)?,
    };
    if !seen.insert(format!("{name} {record_type}")) {
        return Err(c.at(
            &d.name,
            format!("duplicate dns record {name} {record_type}"),
        ));
    }
    if d.resolvers.get_ref().is_empty() {
        return Err(c.at(
            &d.resolvers,
            "resolvers is empty: expected at least one \"ip:port\"",
        ));
    }
    let mut resolvers = Vec::new();
    for r in d.resolvers.get_ref() {
        resolvers.push(resolver_addr(c, r, "resolver")?);
    }
    let mut answers = Vec::new();
    for (site_key, values) in &d.answers {
        let key = Spanned::new(values.span(), site_key.clone());
        let site = site_of(&key)?;
        let normalised: Vec<String> = values
            .get_ref()
            .iter()
            .map(|v| normalise_answer(record_type, v.get_ref()))
            .collect();
        if record_type == RecordType::A || record_type == RecordType::Aaaa {
            for v in values.get_ref() {
                let ok = match record_type {
                    RecordType::A => v.get_ref().parse::<std::net::Ipv4Addr>().is_ok(),
                    _ => v.get_ref().parse::<std::net::Ipv6Addr>().is_ok(),
                };
                if !ok {
                    return Err(c.at(
                        v,
                        format!(
                            "answers.{site_key}: {:?} is not an {record_type} value",
                            v.get_ref()
                        ),
                    ));
                }
            }
        }
        answers.push((site, normalised));
    }
    let (interval, timeout) = interval_and_timeout(
        c,
        &d.interval,
        &d.timeout,
        (Duration::from_secs(5), Duration::from_secs(2)),
    )?;
    Ok(DnsRecord {
        name,
        record_type,
        resolvers,
        interval,
        timeout,
        answers,
    })
}

pub(super) fn non_empty(
    c: &Checker<'_>,
    v: &Option<Spanned<String>>,
    what: &str,
) -> Result<Option<String>, ConfigError> {
    match v {
        None => Ok(None),
        Some(s) if s.get_ref().trim().is_empty() || s.get_ref().contains(char::is_whitespace) => {
            Err(c.at(s, format!("invalid {what} {:?}", s.get_ref())))
        }
        Some(s) => Ok(Some(s.get_ref().clone())),
    }
}

pub(super) fn endpoint_url(
    c: &Checker<'_>,
    v: &Option<Spanned<String>>,
) -> Result<Option<String>, ConfigError> {
    let Some(u) = v else { return Ok(None) };
    let parsed = reqwest::Url::parse(u.get_ref())
        .map_err(|e| c.at(u, format!("invalid endpoint-url {:?}: {e}", u.get_ref())))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(c.at(
            u,
            format!(
                "invalid endpoint-url {:?}: expected http(s)://host[:port]",
                u.get_ref()
            ),
        ));
    }
    Ok(Some(u.get_ref().trim_end_matches('/').to_string()))
}

fn aws_settings(c: &Checker<'_>, a: &AwsFile) -> Result<AwsSettings, ConfigError> {
    Ok(AwsSettings {
        region: non_empty(c, &a.region, "region")?,
        profile: non_empty(c, &a.profile, "profile")?,
        endpoint_url: endpoint_url(c, &a.endpoint_url)?,
    })
}

fn route53_record(
    c: &Checker<'_>,
    r: &Route53File,
    aws: &AwsSettings,
    seen: &mut HashSet<String>,
) -> Result<Route53Record, ConfigError> {
    let raw = r.name.get_ref().trim();
    if raw.is_empty() || raw.contains(char::is_whitespace) {
        return Err(c.at(&r.name, format!("invalid DNS name {raw:?}")));
    }
    let name = if raw.ends_with('.') {
        raw.to_ascii_lowercase()
    } else {
        format!("{}.", raw.to_ascii_lowercase())
    };
    let zone = r.zone_id.get_ref().trim();
    let zone_id = zone.strip_prefix("/hostedzone/").unwrap_or(zone);
    if zone_id.is_empty() || !zone_id.chars().all(|ch| ch.is_ascii_alphanumeric()) {
        return Err(c.at(
            &r.zone_id,
            format!("invalid zone-id {zone:?}: expected a hosted zone id like \"Z0123456789ABC\""),
        ));
    }
    let record_type = match &r.record_type {
        None => RecordType::A,
        Some(t) => record_type(c, t)?,
    };
    if !seen.insert(format!("{zone_id} {name} {record_type}")) {
        return Err(c.at(
            &r.name,
            format!("duplicate route53 record {name} {record_type} in zone {zone_id}"),
        ));
    }
    let interval = duration_or(&r.interval, Duration::from_secs(30));
    if let Some(span) = &r.interval
        && interval < Duration::from_secs(1)
    {
        return Err(c.at(
            span,
            "interval too short: expected at least 1s (AWS asks that GetHealthCheckStatus not be polled at high rates; default 30s)",
        ));
    }
    let timeout = duration_or(&r.timeout, Duration::from_secs(5));
    if let Some(span) = &r.timeout
        && timeout < Duration::from_millis(100)
    {
        return Err(c.at(span, "timeout too short: expected at least 100ms"));
    }
    let own = AwsSettings {
        region: non_empty(c, &r.region, "region")?,
        profile: non_empty(c, &r.profile, "profile")?,
        endpoint_url: endpoint_url(c, &r.endpoint_url)?,
    };
    Ok(Route53Record {
        name,
        zone_id: zone_id.to_string(),
        record_type,
        aws: AwsSettings {
            region: own.region.or_else(|| aws.region.clone()),
            profile: own.profile.or_else(|| aws.profile.clone()),
            endpoint_url: own.endpoint_url.or_else(|| aws.endpoint_url.clone()),
        },
        interval,
        timeout,
    })
}

pub(super) fn record_type(c: &Checker<'_>, t: &Spanned<String>) -> Result<RecordType, ConfigError> {
    match t.get_ref().to_ascii_uppercase().as_str() {
        "A" => Ok(RecordType::A),
        "AAAA" => Ok(RecordType::Aaaa),
        "CNAME" => Ok(RecordType::Cname),
        "TXT" => Ok(RecordType::Txt),
        other => Err(c.at(
            t,
            format!("unsupported record type {other:?}: expected A, AAAA, CNAME or TXT"),
        )),
    }
}

/// "ip:port", or "ip" for port 53.
pub(super) fn resolver_addr(
    c: &Checker<'_>,
    r: &Spanned<String>,
    what: &str,
) -> Result<SocketAddr, ConfigError> {
    let text = r.get_ref();
    text.parse::<SocketAddr>()
        .or_else(|_| text.parse::<IpAddr>().map(|ip| SocketAddr::new(ip, 53)))
        .map_err(|_| c.at(r, format!("invalid {what} {text:?}: expected an IP address with an optional port, e.g. \"127.0.0.1:5353\"")))
}

/// Answers are compared as text: names lower-cased with a trailing dot, addresses canonical.
pub fn normalise_answer(record_type: RecordType, value: &str) -> String {
    let v = value.trim();
    match record_type {
        RecordType::A | RecordType::Aaaa => v
            .parse::<IpAddr>()
            .map(|ip| ip.to_string())
            .unwrap_or_else(|_| v.to_string()),
        RecordType::Cname => {
            let lower = v.to_ascii_lowercase();
            if lower.ends_with('.') {
                lower
            } else {
                format!("{lower}.")
            }
        }
        RecordType::Txt => v.to_string(),
    }
}
