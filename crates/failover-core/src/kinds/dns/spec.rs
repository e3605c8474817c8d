//! `[[dns]]`: a name and type, the resolvers asked for it, and the answers that mean each site.

use std::collections::HashSet;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use indexmap::IndexMap;
use serde::Deserialize;
use toml::Spanned;

use crate::schema::{
    Checker, ConfigDuration, ConfigError, SiteId, interval_and_timeout, resolver_addr,
};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct DnsFile {
    pub name: Spanned<String>,
    #[serde(rename = "type")]
    pub record_type: Option<Spanned<String>>,
    pub resolvers: Spanned<Vec<Spanned<String>>>,
    pub interval: Option<Spanned<ConfigDuration>>,
    pub timeout: Option<Spanned<ConfigDuration>>,
    #[serde(default)]
    pub answers: IndexMap<String, Spanned<Vec<Spanned<String>>>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordType {
    A,
    Aaaa,
    Cname,
    Txt,
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RecordType::A => "A",
            RecordType::Aaaa => "AAAA",
            RecordType::Cname => "CNAME",
            RecordType::Txt => "TXT",
        })
    }
}

#[derive(Debug, Clone)]
pub struct DnsRecord {
    /// Fully qualified, with the trailing dot.
    pub name: String,
    pub record_type: RecordType,
    pub resolvers: Vec<SocketAddr>,
    pub interval: Duration,
    pub timeout: Duration,
    /// The answers that mean "this site serves", per site, normalised for comparison.
    pub answers: Vec<(SiteId, Vec<String>)>,
}

pub fn parse(
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
pub fn record_type(c: &Checker<'_>, t: &Spanned<String>) -> Result<RecordType, ConfigError> {
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
