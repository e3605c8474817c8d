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

