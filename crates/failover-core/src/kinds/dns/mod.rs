//! `[[dns]]`: the live answers resolvers give for a name (no cache), their TTLs, and which site
//! they send traffic to. The `dns` action (an RFC 2136 update) and the `dns` wait are its steps.

mod reading;
mod rows;
mod spec;
mod state;
mod update;

use std::fmt::Write;
use std::time::Duration;

use serde_json::{Value, json};

pub use reading::DnsAnswer;
pub use spec::{DnsFile, DnsRecord, RecordType, normalise_answer, parse, record_type};
pub use state::{
    Match, RecordSite, RecordState, ResolverState, match_answer, on_answer, site_text, source,
};
pub use update::{Tsig, Update, algorithm_text, describe, fqdn, human, short, shown_value};

use super::{Clock, Evidence, Finding, Kind, Level, RowCtx, Rows, Section, Serving, World};
use crate::schema::{SiteId, Sites};
use crate::timeline::Edges;

pub struct Dns;

impl Kind for Dns {
    type Spec = DnsRecord;
    type State = RecordState;
    const SECTION: Section = Section::Dns;

    fn state(spec: &DnsRecord) -> RecordState {
        RecordState::new(spec)
    }

    fn longest_read(spec: &DnsRecord) -> Duration {
        spec.timeout
    }

    fn mark_stale(
        specs: &[DnsRecord],
        states: &mut [RecordState],
        _sites: &Sites,
        clock: &Clock,
        edges: &mut Edges,
    ) {
        for (spec, state) in specs.iter().zip(states) {
            let limit = spec.interval.saturating_add(spec.timeout);
            for (r, server) in state.resolvers.iter_mut().zip(&spec.resolvers) {
                let prefix = format!("@{server} ");
                clock.mark(
                    &mut r.stale,
                    r.last_at,
                    (spec.interval, limit),
                    || source(spec),
                    &prefix,
                    edges,
                );
            }
        }
    }

    fn findings(world: &World<'_>, _agreed: Option<SiteId>, out: &mut Vec<Finding>) {
        let mut push = |level, text: String| out.push(Finding { level, text });
        for (spec, state) in world.dns().map(|(_, spec, state)| (spec, state)) {
            let name = &spec.name;
            for (r, server) in state.resolvers.iter().zip(&spec.resolvers) {
                if r.stale {
                    push(Level::Warning, format!("dns {name} @{server}: stale"));
                }
            }
            match state.site {
                RecordSite::Site(_) => {}
                RecordSite::Mixed => {
                    push(Level::Warning, format!("dns {name}: resolvers disagree"))
                }
                RecordSite::Unknown => push(
                    Level::Critical,
                    format!("dns {name}: answer matches no site"),
                ),
                RecordSite::NoAnswer => push(Level::Critical, format!("dns {name}: no answer")),
                RecordSite::Pending => push(Level::Unknown, format!("dns {name}: no result")),
            }
        }
    }

    fn serving(world: &World<'_>, serving: &mut Serving) {
        serving.dns.extend(world.dns().map(|(_, _, r)| r.site));
    }

    fn rows(world: &World<'_>, ctx: &RowCtx<'_>) -> Rows {
        rows::rows(world, ctx)
    }

    fn row_count(world: &World<'_>) -> usize {
        world.dns().map(|(_, _, r)| r.resolvers.len() + 1).sum()
    }

    fn census(specs: &[DnsRecord]) -> Option<String> {
        Some(format!("{} dns records", specs.len()))
    }

    fn status_json(world: &World<'_>) -> (&'static str, Value) {
        let site_name = |site: SiteId| Value::String(world.sites[site].key.clone());
        let records: Vec<Value> = world.dns().map(|(_, spec, state)| (spec, state))
            .map(|(spec, st)| {
                let resolvers: Vec<Value> = spec
                    .resolvers
                    .iter()
                    .zip(&st.resolvers)
                    .map(|(server, r)| {
                        let (values, ttl, error) = match &r.answer {
                            Some(DnsAnswer::Records { values, ttl }) => (json!(values), json!(ttl), Value::Null),
                            Some(other) => (json!([]), Value::Null, json!(other.describe())),
                            None => (json!([]), Value::Null, json!("no answer within the deadline")),
                        };
                        let site = match r.matched {
                            Some(Match::Site(s)) => site_name(s),
                            _ => Value::Null,
                        };
                        json!({ "resolver": server.to_string(), "answers": values, "ttl": ttl, "error": error, "site": site })
                    })
                    .collect();
                let site = match st.site {
                    RecordSite::Site(s) => site_name(s),
                    RecordSite::Mixed => json!("mixed"),
                    RecordSite::Unknown => json!("unknown"),
                    RecordSite::NoAnswer => json!("no-answer"),
                    RecordSite::Pending => Value::Null,
                };
                json!({ "name": spec.name, "type": spec.record_type.to_string(), "site": site, "resolvers": resolvers })
            })
            .collect();
        ("dns", Value::Array(records))
    }

    fn status_text(world: &World<'_>, out: &mut String) {
        for (spec, st) in world.dns().map(|(_, spec, state)| (spec, state)) {
            let _ = writeln!(out, "dns {} {}:", spec.name, spec.record_type);
            for (server, r) in spec.resolvers.iter().zip(&st.resolvers) {
                let answer = r
                    .answer
                    .as_ref()
                    .map(|a| a.describe())
                    .unwrap_or_else(|| "no answer".into());
                let ttl = match &r.answer {
                    Some(DnsAnswer::Records { ttl, .. }) => format!(" ttl {ttl}"),
                    _ => String::new(),
                };
                let site = r
                    .matched
                    .map(|m| site_text(world.sites, m))
                    .unwrap_or_default();
                let _ = writeln!(out, "  @{server}: {answer}{ttl} -> {site}");
            }
        }
    }
}

/// `wait = "dns"`: every resolver of the record answers `site`'s answers, freshly.
pub fn wait_evidence(world: &World<'_>, record: usize, site: SiteId) -> Evidence {
    let spec = &world.specs.dns[record];
    let state = &world.states.dns[record];
    let mut pass = true;
    let mut lines = Vec::new();
    for (server, r) in spec.resolvers.iter().zip(&state.resolvers) {
        let ok = r.matched == Some(Match::Site(site)) && !r.stale;
        pass &= ok;
        let answer = r
            .answer
            .as_ref()
            .map(|a| a.describe())
            .unwrap_or_else(|| "no answer yet".into());
        let ttl = match &r.answer {
            Some(DnsAnswer::Records { ttl, .. }) => format!(" ttl {ttl}"),
            _ => String::new(),
        };
        let matched = r
            .matched
            .map(|m| site_text(world.sites, m))
            .unwrap_or_default();
        lines.push(format!("@{server} {answer}{ttl} ({matched})"));
    }
    Evidence { pass, lines }
}
