//! `[[route53]]`: what Route 53 intends to answer for a record (its failover sets and their
//! health checks), beside what resolvers really answer. The route53 action and the
//! route53-health gate are its steps.

mod change;
mod reading;
mod rows;
mod spec;
mod state;

use std::fmt::Write;
use std::time::Duration;

use serde_json::{Value, json};

pub use change::*;
pub use reading::{CheckerShare, HealthCheckReading, R53Reading, R53Set};
pub use rows::record_lines;
pub use spec::{Route53File, Route53Record, parse};
pub use state::{
    Comparison, Intended, R53State, check_health, compare, compared_apart, intended, intended_text,
    on_reading, site_of, source, ttls_left,
};

use super::aws::{self, AwsSettings};
use super::dns::RecordSite;
use super::{Clock, Evidence, Finding, Kind, Level, RowCtx, Rows, Section, World};
use crate::schema::{SiteId, Sites};
use crate::timeline::Edges;

pub struct Route53;

impl Kind for Route53 {
    type Spec = Route53Record;
    type State = R53State;
    const SECTION: Section = Section::Dns;

    fn state(_spec: &Route53Record) -> R53State {
        R53State::default()
    }

    fn longest_read(spec: &Route53Record) -> Duration {
        spec.timeout
    }

    fn aws_mut(spec: &mut Route53Record) -> Option<&mut AwsSettings> {
        Some(&mut spec.aws)
    }

    fn mark_stale(
        specs: &[Route53Record],
        states: &mut [R53State],
        _sites: &Sites,
        clock: &Clock,
        edges: &mut Edges,
    ) {
        for (spec, st) in specs.iter().zip(states) {
            let limit = aws::stale_limit(st.error.as_ref(), spec.interval, spec.timeout);
            clock.mark(
                &mut st.stale,
                st.last_at,
                (spec.interval, limit),
                || source(spec),
                "",
                edges,
            );
        }
    }

    fn findings(world: &World<'_>, _agreed: Option<SiteId>, out: &mut Vec<Finding>) {
        let mut push = |level, text: String| out.push(Finding { level, text });
        for (index, spec, st) in world.route53() {
            let what = format!("route53 {} {}", spec.name, spec.record_type);
            if st.stale {
                push(Level::Warning, format!("{what}: stale"));
            }
            if let Some(e) = &st.error {
                push(
                    Level::Warning,
                    format!("{what}: {}", e.describe(spec.aws.profile.as_deref())),
                );
                continue;
            }
            let Some(intended) = &st.intended else {
                match st.reading {
                    Some(_) => push(Level::Warning, format!("{what}: no record set")),
                    None => push(Level::Unknown, format!("{what}: no result")),
                }
                continue;
            };
            let says = intended_text(world.sites, intended);
            let intended_site = intended
                .site
                .map(|s| world.sites.label(s).to_string())
                .unwrap_or_default();
            let disagreement = compare(world, index).filter(|c| !c.agree);
            if let Some(c) = disagreement {
                let left = match c.ttl_left {
                    Some(0) => ", past their TTL".to_string(),
                    Some(t) => format!(" (TTL {t} s left)"),
                    None => String::new(),
                };
                let resolvers = match c.resolvers {
                    RecordSite::Site(s) => world.sites.label(s).to_string(),
                    RecordSite::Mixed => "different sites".to_string(),
                    _ => "no site".to_string(),
                };
                push(
                    Level::Warning,
                    format!(
                        "{what}: Route 53 says {intended_site}, resolvers still say {resolvers}{left}"
                    ),
                );
            } else if intended.site.is_none() {
                push(Level::Warning, format!("{what}: Route 53 says {says}"));
            } else if intended.role == "SECONDARY" {
                push(
                    Level::Warning,
                    format!("{what}: Route 53 answers the SECONDARY, {says}"),
                );
            }
        }
    }

    fn rows(world: &World<'_>, ctx: &RowCtx<'_>) -> Rows {
        rows::rows(world, ctx)
    }

    fn row_count(world: &World<'_>) -> usize {
        // Two rows each: under its [[dns]] record, Route 53's answer and how the resolvers
        // compare; on its own, a heading and the answer.
        2 * world.route53().count()
    }

    fn census(specs: &[Route53Record]) -> Option<String> {
        (!specs.is_empty()).then(|| format!("{} route53 records", specs.len()))
    }

    fn status_json(world: &World<'_>) -> (&'static str, Value) {
        let site_name = |site: Option<SiteId>| {
            site.map(|s| Value::String(world.sites[s].key.clone()))
                .unwrap_or(Value::Null)
        };
        let records: Vec<Value> = world.route53().map(|(_, spec, state)| (spec, state))
            .map(|(spec, st)| {
                let sets: Vec<Value> = st
                    .reading
                    .iter()
                    .flat_map(|r| &r.sets)
                    .map(|s| {
                        let check = s.health_check.as_ref().map(|c| {
                            let calculated = c.calculated.as_ref().map(|(metric, p)| json!({"metric": metric, "value": p.value, "timestamp": crate::text::rfc3339(p.at)}));
                            match &c.status {
                                Ok(share) if calculated.is_some() => json!({"id": c.id, "healthy": share.healthy(), "calculated": calculated}),
                                Ok(share) => json!({"id": c.id, "healthy": share.healthy(), "healthy_checkers": share.healthy, "checkers": share.total}),
                                Err(e) => json!({"id": c.id, "healthy": Value::Null, "error": e}),
                            }
                        });
                        json!({"set_identifier": s.set_identifier, "failover": s.failover, "values": s.values, "alias": s.alias, "ttl": s.ttl, "health_check": check})
                    })
                    .collect();
                let intended = st.intended.as_ref().map(|i| {
                    json!({"role": i.role, "values": i.values, "site": site_name(i.site), "reason": i.reason})
                });
                let error = st.error.as_ref().map(|e| e.describe(spec.aws.profile.as_deref()));
                json!({"name": spec.name, "type": spec.record_type.to_string(), "zone_id": spec.zone_id, "intended": intended, "record_sets": sets, "error": error})
            })
            .collect();
        ("route53", Value::Array(records))
    }

    fn status_text(world: &World<'_>, out: &mut String) {
        for (spec, st) in world.route53().map(|(_, spec, state)| (spec, state)) {
            let _ = writeln!(out, "route53 {} {}:", spec.name, spec.record_type);
            if let Some(e) = &st.error {
                let _ = writeln!(out, "  {}", e.describe(spec.aws.profile.as_deref()));
            }
            for set in st.reading.iter().flat_map(|r| &r.sets) {
                let check = match &set.health_check {
                    None => "no health check".to_string(),
                    Some(c) => match &c.status {
                        Ok(share) => format!(
                            "health check {} {} ({}/{} checkers)",
                            c.id,
                            if share.healthy() {
                                "healthy"
                            } else {
                                "UNHEALTHY"
                            },
                            share.healthy,
                            share.total
                        ),
                        Err(e) => format!("health check {} unreadable: {e}", c.id),
                    },
                };
                let _ = writeln!(
                    out,
                    "  {:<9} {}: {} ttl {}, {check}",
                    set.failover.as_deref().unwrap_or("simple"),
                    set.set_identifier.as_deref().unwrap_or("-"),
                    set.values.join(", "),
                    set.ttl.map(|t| t.to_string()).unwrap_or_else(|| "-".into()),
                );
            }
            if let Some(i) = &st.intended {
                let _ = writeln!(out, "  intends {}", intended_text(world.sites, i));
            }
        }
    }
}

/// `gate = "route53-health"`: the health check of the site's failover set is healthy in
/// Route 53 (more than 18 % of its checkers), read fresh.
pub fn health_evidence(world: &World<'_>, record: usize, site: SiteId) -> Evidence {
    let spec = &world.specs.route53[record];
    let st = &world.states.route53[record];
    let who = format!(
        "Route 53 {} {} ({})",
        spec.name,
        spec.record_type,
        world.sites.label(site)
    );
    let fail = |why: String| Evidence {
        pass: false,
        lines: vec![format!("{who}: {why}")],
    };
    if let Some(e) = &st.error {
        return fail(e.describe(spec.aws.profile.as_deref()));
    }
    if st.stale {
        return fail("stale: no fresh reading".into());
    }
    let Some(reading) = &st.reading else {
        return fail("no reading yet".into());
    };
    let sets: Vec<_> = reading
        .sets
        .iter()
        .filter(|s| site_of(&world.specs.dns, spec, &s.values) == Some(site))
        .collect();
    let set = match sets.as_slice() {
        [one] => *one,
        [] => return fail("no record set answers this site's values".into()),
        _ => {
            return fail(format!(
                "{} record sets answer this site's values",
                sets.len()
            ));
        }
    };
    let name = format!(
        "{} set {}",
        set.failover.as_deref().unwrap_or("simple"),
        set.set_identifier.as_deref().unwrap_or("-")
    );
    let id = set
        .health_check
        .as_ref()
        .map(|c| format!(" {}", c.id))
        .unwrap_or_default();
    match check_health(set) {
        (Some(true), _) if set.health_check.is_none() => Evidence {
            pass: true,
            lines: vec![format!(
                "{who}: {name} has no health check (Route 53 treats it as healthy)"
            )],
        },
        (Some(true), how) => Evidence {
            pass: true,
            lines: vec![format!("{who}: {name} health check{id} {how}")],
        },
        (Some(false), how) => fail(format!(
            "{name} health check{id} {} (healthy needs over 18% of checkers)",
            how.to_uppercase()
                .split_once(' ')
                .map(|(word, rest)| format!("{word} {}", rest.to_lowercase()))
                .unwrap_or(how)
        )),
        (None, how) => fail(format!("{name}: {how}")),
    }
}
