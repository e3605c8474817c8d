//! `[[health]]`: an HTTP or TCP check of one site, with Route 53's consecutive thresholds.

use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::schema::secrets::secret_in_url;
use crate::schema::{Checker, ConfigDuration, ConfigError, SiteId, interval_and_timeout};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct HealthFile {
    pub name: Spanned<String>,
    pub site: Spanned<String>,
    pub http: Option<Spanned<String>>,
    pub tcp: Option<Spanned<String>>,
    pub expect_status: Option<Spanned<u16>>,
    pub interval: Option<Spanned<ConfigDuration>>,
    pub timeout: Option<Spanned<ConfigDuration>>,
    pub failure_threshold: Option<Spanned<u32>>,
    pub success_threshold: Option<Spanned<u32>>,
    /// Turns TLS certificate verification off for this check. Shown loudly on screen.
    pub insecure_skip_tls_verify: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct HealthCheck {
    pub name: String,
    pub site: SiteId,
    pub target: Target,
    pub interval: Duration,
    pub timeout: Duration,
    pub failure_threshold: u32,
    pub success_threshold: u32,
}

#[derive(Debug, Clone)]
pub enum Target {
    Http {
        url: String,
        expect_status: u16,
        insecure: bool,
    },
    Tcp {
        addr: String,
    },
}

impl Target {
    pub fn describe(&self) -> String {
        match self {
            Target::Http { url, .. } => url.clone(),
            Target::Tcp { addr } => format!("tcp {addr}"),
        }
    }
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

pub fn parse(c: &Checker<'_>, h: &HealthFile, site: SiteId) -> Result<HealthCheck, ConfigError> {
    let target = match (&h.http, &h.tcp) {
        (Some(url), None) => {
            let parsed = url::Url::parse(url.get_ref())
                .map_err(|e| crate::schema::invalid_url(c, url, e))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(c.at(
                    url,
                    format!(
                        "unsupported URL scheme {:?}: expected http or https",
                        parsed.scheme()
                    ),
                ));
            }
            if let Some(what) = secret_in_url(&parsed) {
                return Err(c.secret_at(
                    url,
                    format!("the URL holds {what}: `status --json` and the journal show a check's URL, so secrets never sit in it; point the check at a URL that needs none (secrets go in *-env keys, which name an environment variable)"),
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
