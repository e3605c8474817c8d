//! `[[service]]`: which records, database, checks and runbooks make up one service. Each name
//! must refer to a configured source, and each source and runbook belongs to one service at
//! most. Without any `[[service]]`, one implicit service holds everything.

use std::collections::{HashMap, HashSet};

use serde::Deserialize;
use toml::Spanned;

use crate::kinds::dns::fqdn;
use crate::kinds::{Scope, Specs};
use crate::runbook::Runbook;
use crate::schema::{Checker, ConfigError, unique};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ServiceFile {
    pub name: Spanned<String>,
    /// Names of `[[dns]]` and `[[route53]]` records (every record type of that name).
    #[serde(default)]
    pub dns: Vec<Spanned<String>>,
    /// Name of a `[[database]]` (postgres or Patroni) or an `[[rds]]` source.
    pub database: Option<Spanned<String>>,
    /// Names of `[[health]]`, `[[cloudwatch]]` and `[[alarm]]` sources.
    #[serde(default)]
    pub health: Vec<Spanned<String>>,
    #[serde(default)]
    pub runbooks: Vec<Spanned<String>>,
}

/// One service: indices into `Config::kinds`' lists and `Config::runbooks`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Service {
    pub name: String,
    /// Not written in the file: "all" (no `[[service]]` at all) or "unassigned" (what no
    /// `[[service]]` lists).
    pub implicit: bool,
    /// Its sources, judged and drawn apart from the other services'.
    pub sources: Scope,
    pub runbooks: Vec<usize>,
}

/// The name of the implicit service (the config's title names the whole console).
pub const IMPLICIT: &str = "all";
/// The name of the service that holds what no `[[service]]` lists.
pub const UNASSIGNED: &str = "unassigned";

/// Which service has claimed each source so far, keyed by kind and index.
type Claims = HashMap<(&'static str, usize), String>;

pub fn parse(
    c: &Checker<'_>,
    files: &[ServiceFile],
    kinds: &Specs,
    runbooks: &[Runbook],
) -> Result<Vec<Service>, ConfigError> {
    if files.is_empty() {
        return Ok(vec![implicit(kinds, runbooks)]);
    }
    let mut names = HashSet::new();
    let mut claims = Claims::new();
    let mut services = Vec::new();
    for f in files {
        unique(c, &mut names, &f.name, "service")?;
        if [IMPLICIT, UNASSIGNED].contains(&f.name.get_ref().as_str()) {
            return Err(c.at(
                &f.name,
                format!(
                    "service name {:?} is reserved: the console gives it to what no [[service]] lists",
                    f.name.get_ref()
                ),
            ));
        }
        let mut claim = Claimer {
            c,
            service: f.name.get_ref(),
            claims: &mut claims,
        };
        let mut s = Service {
            name: f.name.get_ref().clone(),
            ..Service::default()
        };
        for name in &f.dns {
            let wanted = fqdn(&name.get_ref().to_ascii_lowercase());
            let dns = matching(&kinds.dns, |d| d.name == wanted);
            let route53 = matching(&kinds.route53, |r| r.name == wanted);
            if dns.is_empty() && route53.is_empty() {
                return Err(c.at(
                    name,
                    format!(
                        "unknown dns record {wanted}: no [[dns]] or [[route53]] record of that name"
                    ),
                ));
            }
            claim.all(name, "dns record", &dns, &mut s.sources.dns)?;
            claim.all(name, "route53 record", &route53, &mut s.sources.route53)?;
        }
        if let Some(name) = &f.database {
            let n = name.get_ref();
            let postgres = matching(&kinds.postgres, |d| &d.name == n);
            let patroni = matching(&kinds.patroni, |d| &d.name == n);
            let rds = matching(&kinds.rds, |d| &d.name == n);
            if postgres.is_empty() && patroni.is_empty() && rds.is_empty() {
                return Err(c.at(
                    name,
                    format!("unknown database {n:?}: no [[database]] or [[rds]] of that name"),
                ));
            }
            claim.all(name, "database", &postgres, &mut s.sources.postgres)?;
            claim.all(name, "patroni cluster", &patroni, &mut s.sources.patroni)?;
            claim.all(name, "rds", &rds, &mut s.sources.rds)?;
        }
        for name in &f.health {
            let n = name.get_ref();
            let health = matching(&kinds.health, |h| &h.name == n);
            let cloudwatch = matching(&kinds.cloudwatch, |h| &h.name == n);
            let alarm = matching(&kinds.alarm, |h| &h.name == n);
            if health.is_empty() && cloudwatch.is_empty() && alarm.is_empty() {
                return Err(c.at(
                    name,
                    format!(
                        "unknown health check {n:?}: no [[health]], [[cloudwatch]] or [[alarm]] of that name"
                    ),
                ));
            }
            claim.all(name, "health check", &health, &mut s.sources.health)?;
            claim.all(
                name,
                "cloudwatch check",
                &cloudwatch,
                &mut s.sources.cloudwatch,
            )?;
            claim.all(name, "alarm", &alarm, &mut s.sources.alarm)?;
        }
        let service = f.name.get_ref();
        for name in &f.runbooks {
            let n = name.get_ref();
            // Its own `service = ...` runbook of that name first, then one of that full name.
            let own = format!("{service}/{n}");
            let mut runbook = matching(runbooks, |r| r.name == own);
            if runbook.is_empty() {
                runbook = matching(runbooks, |r| &r.name == n);
            }
            if runbook.is_empty() {
                return Err(c.at(
                    name,
                    format!("unknown runbook {n:?}: no [[runbook]] of that name"),
                ));
            }
            if let Some(other) = runbook
                .iter()
                .find_map(|i| runbooks[*i].service.as_ref())
                .filter(|other| *other != service)
            {
                return Err(c.at(
                    name,
                    format!(
                        "runbook {n:?} already belongs to service {other:?}: each source and runbook in one service"
                    ),
                ));
            }
            claim.all(name, "runbook", &runbook, &mut s.runbooks)?;
        }
        // A runbook that names this service belongs to it, listed here or not.
        for i in matching(runbooks, |r| r.service.as_deref() == Some(service)) {
            if !s.runbooks.contains(&i) {
                claims.insert(("runbook", i), service.clone());
                s.runbooks.push(i);
            }
        }
        s.sources = s.sources.sorted();
        services.push(s);
    }
    services.extend(unassigned(kinds, runbooks, &services));
    Ok(services)
}

fn implicit(kinds: &Specs, runbooks: &[Runbook]) -> Service {
    Service {
        name: IMPLICIT.to_string(),
        implicit: true,
        sources: Scope::all(kinds),
        runbooks: (0..runbooks.len()).collect(),
    }
}

/// The sources and runbooks no `[[service]]` lists, as one more service, if there are any: they
/// are still polled, shown and judged, apart from every named service.
fn unassigned(kinds: &Specs, runbooks: &[Runbook], services: &[Service]) -> Option<Service> {
    let sources = Scope::rest(kinds, services.iter().map(|s| &s.sources));
    let runbooks: Vec<usize> = (0..runbooks.len())
        .filter(|r| !services.iter().any(|s| s.runbooks.contains(r)))
        .collect();
    (!sources.is_empty() || !runbooks.is_empty()).then(|| Service {
        name: UNASSIGNED.to_string(),
        implicit: true,
        sources,
        runbooks,
    })
}

fn matching<T>(items: &[T], is: impl Fn(&T) -> bool) -> Vec<usize> {
    items
        .iter()
        .enumerate()
        .filter(|(_, t)| is(t))
        .map(|(i, _)| i)
        .collect()
}

struct Claimer<'a, 'c> {
    c: &'a Checker<'c>,
    service: &'a str,
    claims: &'a mut Claims,
}

impl Claimer<'_, '_> {
    /// Claims `found` (indices of one kind) for this service, into `into`; refused at `name` if
    /// another service, or this one already, holds any of them.
    fn all(
        &mut self,
        name: &Spanned<String>,
        what: &'static str,
        found: &[usize],
        into: &mut Vec<usize>,
    ) -> Result<(), ConfigError> {
        for &i in found {
            if let Some(owner) = self.claims.get(&(what, i)) {
                let message = if owner == self.service {
                    format!(
                        "{what} {:?} is listed twice in service {owner:?}",
                        name.get_ref()
                    )
                } else {
                    format!(
                        "{what} {:?} already belongs to service {owner:?}: each source and runbook in one service",
                        name.get_ref()
                    )
                };
                return Err(self.c.at(name, message));
            }
            self.claims.insert((what, i), self.service.to_string());
            into.push(i);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::tests::{from_str, parse};

    /// Two sites, two PostgreSQL databases, a DNS record (A and AAAA) for each, two checks each,
    /// one runbook each; `services` is appended.
    fn estate(services: &str) -> String {
        let mut text = String::from("[sites.west]\n[sites.east]\n");
        for (db, record, port) in [
            ("billing", "billing.failover.test.", 1),
            ("ledger", "ledger.failover.test.", 2),
        ] {
            text += &format!(
                r#"
[[database]]
name = "{db}"
kind = "postgres"
[[database.member]]
site = "west"
dsn = "host=127.0.0.1 port=5{port}001"
[[database.member]]
site = "east"
dsn = "host=127.0.0.1 port=5{port}002"

[[dns]]
name = "{record}"
resolvers = ["127.0.0.1:5353"]
[dns.answers]
west = ["10.0.{port}.1"]
east = ["10.0.{port}.2"]

[[dns]]
name = "{record}"
type = "AAAA"
resolvers = ["127.0.0.1:5353"]
[dns.answers]
west = ["fd00::{port}:1"]
east = ["fd00::{port}:2"]

[[health]]
name = "{db}-west"
site = "west"
tcp = "127.0.0.1:1{port}001"
[[health]]
name = "{db}-east"
site = "east"
tcp = "127.0.0.1:1{port}002"

[[runbook]]
name = "{db}-failover"
from = "west"
to = "east"
[[runbook.step]]
title = "Move {db}"
manual = "Move {db} to east"
"#
            );
        }
        text + services
    }

    #[test]
    fn without_services_one_implicit_service_holds_everything() {
        let config = parse(&estate(""));
        assert_eq!(config.services.len(), 1);
        let s = &config.services[0];
        assert!(s.implicit);
        assert_eq!(s.name, IMPLICIT);
        assert_eq!(s.sources.postgres, vec![0, 1]);
        assert_eq!(s.sources.dns, vec![0, 1, 2, 3]);
        assert_eq!(s.sources.health, vec![0, 1, 2, 3]);
        assert_eq!(s.runbooks, vec![0, 1]);
        assert!(
            s.sources.route53.is_empty()
                && s.sources.patroni.is_empty()
                && s.sources.rds.is_empty()
        );
    }

    /// A service's sources are held in the file's order, whatever order it lists them in:
    /// a source is looked up in them by a search, and its panes show rows in the file's order.
    #[test]
    fn a_service_listing_its_sources_backwards_holds_them_in_the_files_order() {
        let config = parse(&estate(
            r#"
[[service]]
name = "all-of-it"
dns = ["ledger.failover.test.", "billing.failover.test."]
database = "ledger"
health = ["ledger-east", "billing-east", "billing-west"]
"#,
        ));
        let s = &config.services[0];
        assert_eq!(s.sources.health, vec![0, 1, 3]);
        assert_eq!(s.sources.dns, vec![0, 1, 2, 3]);
        let states = crate::kinds::States::new(&config.kinds);
        let world = crate::kinds::World {
            sites: &config.sites,
            specs: &config.kinds,
            states: &states,
            now: time::OffsetDateTime::UNIX_EPOCH,
            scope: None,
        };
        let shown: Vec<usize> = world.scoped(&s.sources).health().map(|(i, ..)| i).collect();
        assert_eq!(shown, vec![0, 1, 3]);
    }

    #[test]
    fn two_services_hold_their_own_sources_and_runbooks() {
        let config = parse(&estate(
            r#"
[[service]]
name = "billing"
dns = ["billing.failover.test."]
database = "billing"
health = ["billing-west", "billing-east"]
runbooks = ["billing-failover"]

[[service]]
name = "ledger"
dns = ["LEDGER.failover.test"]
database = "ledger"
health = ["ledger-east"]
runbooks = ["ledger-failover"]
"#,
        ));
        let names: Vec<&str> = config.services.iter().map(|s| s.name.as_str()).collect();
        // ledger-west is in no service: it is held, judged and shown as "unassigned".
        assert_eq!(names, ["billing", "ledger", UNASSIGNED]);
        let [billing, ledger, rest] = &config.services[..] else {
            unreachable!()
        };
        assert!(rest.implicit);
        assert_eq!(rest.sources.health, vec![2]);
        assert_eq!(rest.sources.count(), 1);
        assert!(rest.runbooks.is_empty());
        assert!(!billing.implicit && !ledger.implicit);
        // A record name takes every type of it; a name is matched as the DNS pane shows it.
        assert_eq!(billing.sources.dns, vec![0, 1]);
        assert_eq!(ledger.sources.dns, vec![2, 3]);
        assert_eq!(
            config.kinds.postgres[billing.sources.postgres[0]].name,
            "billing"
        );
        assert_eq!(
            config.kinds.postgres[ledger.sources.postgres[0]].name,
            "ledger"
        );
        assert_eq!(billing.sources.health, vec![0, 1]);
        assert_eq!(ledger.sources.health, vec![3]);
        assert_eq!(
            config.runbooks[billing.runbooks[0]].name,
            "billing-failover"
        );
        assert_eq!(config.runbooks[ledger.runbooks[0]].name, "ledger-failover");
    }

    #[test]
    fn the_reserved_names_are_refused() {
        for name in [IMPLICIT, UNASSIGNED] {
            let e = from_str(
                &estate(&format!("[[service]]\nname = \"{name}\"\n")),
                Path::new("t.toml"),
            )
            .unwrap_err();
            assert!(e.message.contains("is reserved"), "{e}");
        }
    }

    #[test]
    fn a_source_listed_twice_in_one_service_is_refused_as_such() {
        let e = from_str(
            &estate(
                "[[service]]\nname = \"billing\"\nhealth = [\"billing-west\", \"billing-west\"]\n",
            ),
            Path::new("t.toml"),
        )
        .unwrap_err();
        assert!(
            e.message
                .contains("health check \"billing-west\" is listed twice in service \"billing\""),
            "{e}"
        );
        // At the second mention: the service's third line, its second string.
        let health = "health = [\"billing-west\", \"billing-west\"]";
        let col = health.rfind('"').unwrap() - "billing-west".len();
        assert_eq!(e.position, Some((estate("").lines().count() + 3, col)));
        assert_eq!(e.line_text.as_deref(), Some(health));
    }
}
