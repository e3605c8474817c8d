//! What Route 53 intends to answer for a record, from its failover record sets and their health
//! checks, matched to a site through the `[[dns]]` record of the same name.

use time::OffsetDateTime;

use super::{CheckerShare, R53Reading, R53Set, Route53Record};
use crate::kinds::aws::{self, AwsError};
use crate::kinds::dns::{self, DnsAnswer, DnsRecord, Match, RecordSite};
use crate::kinds::{Specs, States, World};
use crate::schema::{SiteId, Sites};
use crate::timeline::{Edges, Severity};

/// Route 53's intended answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intended {
    /// "PRIMARY", "SECONDARY", or "simple" for a record set without failover routing.
    pub role: String,
    pub values: Vec<String>,
    /// The site these values mean (through the `[[dns]]` record's answers), if any.
    pub site: Option<SiteId>,
    /// Why: "PRIMARY healthy 100% of checkers", "PRIMARY unhealthy 0% of checkers"...
    pub reason: String,
    pub ttl: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct R53State {
    pub reading: Option<R53Reading>,
    pub error: Option<AwsError>,
    pub intended: Option<Intended>,
    pub last_at: Option<OffsetDateTime>,
    pub stale: bool,
    /// Health check id → healthy (None: unreadable), as last reported, for edges.
    pub checks: Vec<(String, Option<bool>)>,
}

impl R53State {
    /// Everything the screen shows of the record itself (Route 53's answer and why, the
    /// verdict's findings, the route53-health gate's evidence); equal before and after a read:
    /// nothing to redraw. How the resolvers compare with it is the `[[dns]]` record's part.
    pub fn shown(&self) -> impl PartialEq + use<> {
        (
            self.reading.clone(),
            self.error.clone(),
            self.intended.clone(),
            self.stale,
        )
    }
}

pub fn source(spec: &Route53Record) -> String {
    format!("route53/{} {}", spec.name, spec.record_type)
}

fn role<'a>(reading: &'a R53Reading, role: &str) -> Option<&'a R53Set> {
    reading
        .sets
        .iter()
        .find(|s| s.failover.as_deref() == Some(role))
}

/// Healthy (Some(true)), unhealthy (Some(false)) or unknown (None), and how it reads.
pub fn check_health(set: &R53Set) -> (Option<bool>, String) {
    match &set.health_check {
        None => (Some(true), "no health check".to_string()),
        Some(check) => {
            let how = |share: &CheckerShare| match &check.calculated {
                Some((metric, point)) => {
                    format!("(calculated: CloudWatch {metric} {})", point.value)
                }
                None => format!("{}% of checkers", share.percent()),
            };
            match &check.status {
                Ok(share) if share.healthy() => (Some(true), format!("healthy {}", how(share))),
                Ok(share) => (Some(false), format!("unhealthy {}", how(share))),
                Err(e) => (None, format!("health check unreadable: {e}")),
            }
        }
    }
}

pub fn site_of(dns: &[DnsRecord], spec: &Route53Record, values: &[String]) -> Option<SiteId> {
    let dns = dns
        .iter()
        .find(|d| d.name == spec.name && d.record_type == spec.record_type)?;
    match dns::match_answer(
        dns,
        &DnsAnswer::Records {
            values: values.to_vec(),
            ttl: 0,
        },
    ) {
        Match::Site(s) => Some(s),
        _ => None,
    }
}

/// Route 53's rule for a failover pair: the PRIMARY while its health check is healthy (or it
/// has none), else the SECONDARY. A plain record set is its own answer.
pub fn intended(dns: &[DnsRecord], spec: &Route53Record, reading: &R53Reading) -> Option<Intended> {
    let make = |set: &R53Set, role: &str, reason: String| Intended {
        role: role.to_string(),
        values: set.values.clone(),
        site: site_of(dns, spec, &set.values),
        reason,
        ttl: set.ttl,
    };
    match (role(reading, "PRIMARY"), role(reading, "SECONDARY")) {
        (Some(primary), secondary) => {
            let (healthy, how) = check_health(primary);
            match (healthy, secondary) {
                (Some(true), _) | (_, None) => {
                    Some(make(primary, "PRIMARY", format!("PRIMARY {how}")))
                }
                (Some(false), Some(s)) => Some(make(s, "SECONDARY", format!("PRIMARY {how}"))),
                (None, Some(_)) => Some(Intended {
                    role: "?".to_string(),
                    values: Vec::new(),
                    site: None,
                    reason: format!("PRIMARY {how}"),
                    ttl: None,
                }),
            }
        }
        (None, Some(secondary)) => Some(make(secondary, "SECONDARY", "no PRIMARY".to_string())),
        (None, None) => reading
            .sets
            .first()
            .map(|s| make(s, "simple", "no failover routing".to_string())),
    }
}

/// Route 53's intended answer beside what the `[[dns]]` resolvers of the same record say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    pub resolvers: RecordSite,
    /// The resolvers' answers are the intended site's.
    pub agree: bool,
    /// While they disagree: the longest a client may still keep the old answer, from each
    /// disagreeing resolver's last TTL minus the time since it gave it (0 once all have run out).
    pub ttl_left: Option<i64>,
    /// The smallest TTL the resolvers gave, when they agree.
    pub ttl: Option<u32>,
}

/// None while either side has nothing to compare (no `[[dns]]` record, no intended site yet).
pub fn compare(world: &World<'_>, index: usize) -> Option<Comparison> {
    let spec = world.specs.route53.get(index)?;
    let intended = world.states.route53.get(index)?.intended.as_ref()?.site?;
    let dns_index = world
        .specs
        .dns
        .iter()
        .position(|d| d.name == spec.name && d.record_type == spec.record_type)?;
    let dns = world.states.dns.get(dns_index)?;
    if dns.site == RecordSite::Pending {
        return None;
    }
    let agree = dns.site == RecordSite::Site(intended);
    let ttl = dns
        .resolvers
        .iter()
        .filter_map(|r| match &r.answer {
            Some(DnsAnswer::Records { ttl, .. }) => Some(*ttl),
            _ => None,
        })
        .min();
    let ttl_left = (!agree)
        .then(|| {
            dns.resolvers
                .iter()
                .filter(|r| r.matched != Some(Match::Site(intended)))
                .filter_map(|r| match (&r.answer, r.last_at) {
                    (Some(DnsAnswer::Records { ttl, .. }), Some(at)) => {
                        Some((i64::from(*ttl) - (world.now - at).whole_seconds()).max(0))
                    }
                    _ => None,
                })
                .max()
        })
        .flatten();
    Some(Comparison {
        resolvers: dns.site,
        agree,
        ttl_left,
        ttl,
    })
}

/// Whether resolver `resolver` of the `[[dns]]` record `dns` counts in the TTL left of a
/// comparison with Route 53 (`compare`): its answer is records of another site than Route 53
/// intends, while the resolvers do not all give that site. The TTL left counts from its last
/// answer, which every answer moves, even one like the last.
pub fn compared_apart(specs: &Specs, states: &States, dns: usize, resolver: usize) -> bool {
    let (Some(spec), Some(record)) = (specs.dns.get(dns), states.dns.get(dns)) else {
        return false;
    };
    let Some(r) = record.resolvers.get(resolver) else {
        return false;
    };
    specs
        .route53
        .iter()
        .zip(&states.route53)
        .filter(|(r53, _)| r53.name == spec.name && r53.record_type == spec.record_type)
        .filter_map(|(_, st)| st.intended.as_ref()?.site)
        .any(|site| {
            record.site != RecordSite::Pending
                && record.site != RecordSite::Site(site)
                && r.matched != Some(Match::Site(site))
                && matches!(r.answer, Some(DnsAnswer::Records { .. }))
        })
}

/// Each comparison's TTL left ("TTL 47 s left"), which counts down with the clock from each
/// resolver's last answer, not on the clock's second: the tick redraws the screen when one
/// moves, not only the clock.
pub fn ttls_left(world: &World<'_>) -> Vec<Option<i64>> {
    (0..world.specs.route53.len())
        .map(|i| compare(world, i).and_then(|c| c.ttl_left))
        .collect()
}

pub fn intended_text(sites: &Sites, i: &Intended) -> String {
    let what = match i.site {
        Some(s) => sites.label(s).to_string(),
        None if i.values.is_empty() => "unknown".to_string(),
        None => format!("{} (no site)", i.values.join(", ")),
    };
    format!("{what} ({})", i.reason)
}

pub fn on_reading(
    sites: &Sites,
    dns: &[DnsRecord],
    spec: &Route53Record,
    state: &mut R53State,
    at: OffsetDateTime,
    result: Result<R53Reading, AwsError>,
    edges: &mut Edges,
) {
    let source = source(spec);
    edges.fresh_again(&mut state.stale, at, || source.clone());
    state.last_at = Some(at);
    let reading = match result {
        Err(e) => {
            let profile = spec.aws.profile.as_deref();
            aws::on_error(&mut state.error, e, at, source, profile, edges);
            return;
        }
        Ok(r) => r,
    };
    if state.error.take().is_some() {
        edges.edge(
            at,
            Severity::Ok,
            source.clone(),
            "Route 53 answering again".to_string(),
        );
    }
    let checks: Vec<(String, Option<bool>)> = reading
        .sets
        .iter()
        .filter_map(|s| {
            let check = s.health_check.as_ref()?;
            Some((check.id.clone(), check_health(s).0))
        })
        .collect();
    for (id, healthy) in &checks {
        let old = state.checks.iter().find(|(o, _)| o == id).map(|(_, h)| *h);
        if let Some(old) = old
            && old != *healthy
        {
            let text = |h: Option<bool>| match h {
                Some(true) => "healthy",
                Some(false) => "unhealthy",
                None => "unreadable",
            };
            edges.edge(
                at,
                if *healthy == Some(true) {
                    Severity::Ok
                } else {
                    Severity::Warn
                },
                source.clone(),
                format!("health check {id}: {} → {}", text(old), text(*healthy)),
            );
        }
    }
    state.checks = checks;
    let now = intended(dns, spec, &reading);
    let changed = match (&state.intended, &now) {
        (Some(old), Some(new)) => old.values != new.values || old.site != new.site,
        (None, Some(_)) => true,
        (Some(_), None) => true,
        (None, None) => false,
    };
    if changed {
        let text = now
            .as_ref()
            .map(|i| intended_text(sites, i))
            .unwrap_or_else(|| "no record set".to_string());
        let message = match &state.intended {
            Some(old) => format!("Route 53 says {text}, was {}", intended_text(sites, old)),
            None => format!("Route 53 says {text}"),
        };
        let severity = if now.as_ref().and_then(|i| i.site).is_some() {
            Severity::Info
        } else {
            Severity::Warn
        };
        edges.edge(at, severity, source, message);
    }
    state.intended = now;
    state.reading = Some(reading);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::kinds::route53::HealthCheckReading;

    fn config() -> Config {
        let text = r#"
[sites.primary]
label = "site A"
[sites.secondary]
label = "site B"
[[dns]]
name = "api.failover.test."
resolvers = ["127.0.0.1:5353"]
[dns.answers]
primary = ["10.0.1.100"]
secondary = ["10.0.2.100"]
[[route53]]
name = "api.failover.test."
zone-id = "Z1"
"#;
        crate::config::tests::parse(text)
    }

    fn set(role: &str, ip: &str, share: Option<(u32, u32)>) -> R53Set {
        R53Set {
            set_identifier: Some(role.to_lowercase()),
            failover: Some(role.to_string()),
            values: vec![ip.to_string()],
            alias: None,
            ttl: Some(60),
            health_check: share.map(|(healthy, total)| HealthCheckReading {
                id: format!("hc-{role}"),
                status: Ok(CheckerShare { healthy, total }),
                calculated: None,
            }),
        }
    }

    #[test]
    fn primary_while_healthy_else_secondary() {
        let c = config();
        let spec = &c.kinds.route53[0];
        let reading = |share| R53Reading {
            sets: vec![
                set("PRIMARY", "10.0.1.100", share),
                set("SECONDARY", "10.0.2.100", Some((16, 16))),
            ],
        };
        let healthy = intended(&c.kinds.dns, spec, &reading(Some((16, 16)))).unwrap();
        assert_eq!((healthy.role.as_str(), healthy.site), ("PRIMARY", Some(0)));
        let no_check = intended(&c.kinds.dns, spec, &reading(None)).unwrap();
        assert_eq!(no_check.reason, "PRIMARY no health check");
        // 3 of 16 is 18.75 %: above 18 %, still healthy.
        let barely = intended(&c.kinds.dns, spec, &reading(Some((3, 16)))).unwrap();
        assert_eq!(barely.site, Some(0));
        let down = intended(&c.kinds.dns, spec, &reading(Some((2, 16)))).unwrap();
        assert_eq!((down.role.as_str(), down.site), ("SECONDARY", Some(1)));
        assert_eq!(
            intended_text(&c.sites, &down),
            "site B (PRIMARY unhealthy 12% of checkers)"
        );
    }
}
