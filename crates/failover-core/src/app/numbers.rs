//! What the run's figures need, recorded by the driving console as run events: the class and
//! incident start at arming, the promoted member's lag before the promote step, and each point
//! of the recovery once it first holds. The figures themselves are `runbook::numbers`.

use time::OffsetDateTime;

use super::model::Model;
use crate::actions::ActionSpec;
use crate::kinds::dns::Match;
use crate::kinds::postgres::{BytesSource, Role};
use crate::kinds::{World, cloudwatch, health, postgres, rds};
use crate::runbook::{Milestone, PromoteLag, RunClass, RunState, StepKind, StepStatus, Wait};
use crate::schema::SiteId;
use crate::timeline::{Entry, Severity};

/// A lag read with the primary's figures (not only the replica's), kept for when the primary
/// stops answering: then it is the last known lag, a lower bound.
#[derive(Debug, Clone, PartialEq)]
pub struct FullLag {
    pub bytes: Option<u64>,
    pub seconds: Option<f64>,
    pub source: &'static str,
    pub at: OffsetDateTime,
}

/// After a reading or a tick: each site's failing episode (from the first CRIT edge on one of
/// its sources until it is all healthy again), and each replica's last full lag reading.
pub fn track(model: &mut Model, edges: &[Entry]) {
    let sites = model.config.sites.len();
    // Only a CRIT edge starts an episode.
    let crit: Vec<&Entry> = edges
        .iter()
        .filter(|e| e.severity == Severity::Crit)
        .collect();
    let named = (0..model.config.services.len()).filter(|s| !model.config.services[*s].implicit);
    for service in std::iter::once(None).chain(named.map(Some)) {
        let mut since = model
            .runs
            .failing_since
            .remove(&service)
            .unwrap_or_default();
        since.resize(sites, None);
        let world = model.world_of(service);
        for (site, since) in since.iter_mut().enumerate() {
            if world.site_all_ok(site) == Some(true) {
                *since = None;
                continue;
            }
            if since.is_none() && !crit.is_empty() {
                let sources = site_sources(&world, site);
                *since = crit
                    .iter()
                    .filter(|e| sources.contains(&e.source))
                    .map(|e| e.at)
                    .min();
            }
        }
        model.runs.failing_since.insert(service, since);
    }
    for (db, state) in model.kinds.postgres.iter().enumerate() {
        for (member, m) in state.members.iter().enumerate() {
            let Some(lag) = &m.lag else { continue };
            let full = matches!(
                lag.bytes,
                Some((
                    _,
                    BytesSource::StatReplication | BytesSource::PrimaryMinusReplay
                ))
            );
            if let (true, Some(at)) = (full, m.last_at) {
                let reading = FullLag {
                    bytes: lag.bytes.map(|(b, _)| b),
                    seconds: lag.time.map(|(t, _)| t.as_secs_f64()),
                    source: lag
                        .bytes
                        .map(|(_, s)| s.label())
                        .unwrap_or("pg_stat_replication"),
                    at,
                };
                model.runs.full_lag.insert((db, member), reading);
            }
        }
    }
}

/// The sources whose CRIT edges count toward `site`'s failing: its health checks, its
/// database members, its CloudWatch checks.
fn site_sources(world: &World<'_>, site: SiteId) -> Vec<String> {
    let checks = world
        .health()
        .filter(|(_, h, _)| h.site == site)
        .map(|(_, h, _)| health::source(h));
    let members = world.postgres().flat_map(|(_, db, _)| {
        (0..db.members.len())
            .filter(|m| db.members[*m].site == site)
            .map(|m| postgres::member_source(world.sites, db, m))
    });
    let cloudwatch = world
        .cloudwatch()
        .filter(|(_, c, _)| c.site == Some(site))
        .map(|(_, c, _)| cloudwatch::source(c));
    checks.chain(members).chain(cloudwatch).collect()
}

/// The failing episode of `runbook`'s service (every source for a runbook no service lists) on
/// `site`.
fn failing_since(model: &Model, runbook: usize, site: SiteId) -> Option<OffsetDateTime> {
    let service = model.service_of(runbook);
    model
        .runs
        .failing_since
        .get(&service)
        .and_then(|sites| sites.get(site).copied().flatten())
}

/// The class the reason prompt offers first: unplanned when a check of the source site is
/// failing, else planned.
pub fn preselected(model: &Model, runbook: usize) -> RunClass {
    let from = model.config.runbooks[runbook].from;
    let failing = model
        .world_for(Some(runbook))
        .site_health(from)
        .iter()
        .any(|(ok, _)| !ok)
        || failing_since(model, runbook, from).is_some();
    if failing {
        RunClass::Unplanned
    } else {
        RunClass::Planned
    }
}

/// Where an unplanned failover's RTO counts from: the source site's failing episode.
pub fn incident_start(model: &Model, runbook: usize, class: RunClass) -> Option<OffsetDateTime> {
    if class != RunClass::Unplanned {
        return None;
    }
    let from = model.config.runbooks[runbook].from;
    // The arming is dated by the clock's last tick, which an edge seen since may be after.
    let since = failing_since(model, runbook, from)?;
    Some(since.min(model.now))
}

/// Whether a step's action promotes (or switches over) a database.
pub fn promotes(spec: &ActionSpec) -> bool {
    matches!(
        spec,
        ActionSpec::Promote { .. }
            | ActionSpec::Patroni(_)
            | ActionSpec::RdsPromote(_)
            | ActionSpec::RdsFailover(_)
    )
}

fn changes_dns(spec: &ActionSpec) -> bool {
    matches!(spec, ActionSpec::DnsReplace { .. } | ActionSpec::Route53(_))
}

fn age_ms(now: OffsetDateTime, at: Option<OffsetDateTime>) -> Option<u64> {
    let at = at?;
    Some(
        std::time::Duration::try_from(now - at)
            .unwrap_or_default()
            .as_millis() as u64,
    )
}

/// The lag of the member a promote step promotes, from the model's last reading of it.
pub fn lag_at_promote(model: &Model, step: usize) -> Option<PromoteLag> {
    let Some(StepKind::Action(action)) = step_kind(model, step) else {
        return None;
    };
    let now = model.now;
    let unknown = |source: &str, lower_bound| PromoteLag {
        bytes: None,
        seconds: None,
        source: source.to_string(),
        age_ms: None,
        lower_bound,
    };
    Some(match (&action.spec, action.promotes) {
        (ActionSpec::Promote { .. }, Some((db, member))) => {
            let state = &model.kinds.postgres[db];
            let m = &state.members[member];
            let old_primary_gone = state
                .members
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != member)
                .any(|(_, o)| o.role == Role::Unreachable || o.stale || o.error.is_some());
            let live = m.lag.as_ref().filter(|_| !m.stale);
            match (old_primary_gone, live) {
                (false, Some(lag)) => PromoteLag {
                    bytes: lag.bytes.map(|(b, _)| b),
                    seconds: lag.time.map(|(t, _)| t.as_secs_f64()),
                    source: lag
                        .bytes
                        .map(|(_, s)| s.label())
                        .unwrap_or("pg_stat_replication")
                        .to_string(),
                    age_ms: age_ms(now, m.last_at),
                    lower_bound: false,
                },
                (true, _) => match model.runs.full_lag.get(&(db, member)) {
                    Some(full) => PromoteLag {
                        bytes: full.bytes,
                        seconds: full.seconds,
                        source: full.source.to_string(),
                        age_ms: age_ms(now, Some(full.at)),
                        lower_bound: true,
                    },
                    None => unknown("pg_stat_replication (old primary unreachable)", true),
                },
                (false, None) => unknown("pg_stat_replication", false),
            }
        }
        (ActionSpec::Patroni(switch), _) => {
            let Some(i) = model
                .config
                .kinds
                .patroni
                .iter()
                .position(|p| p.name == switch.cluster.name)
            else {
                return Some(unknown("Patroni", false));
            };
            let st = &model.kinds.patroni[i];
            let lag = st
                .view()
                .and_then(|v| v.member(&switch.candidate))
                .and_then(|m| m.worst_lag());
            match lag {
                Some(crate::kinds::patroni::Lag::Bytes(b)) => PromoteLag {
                    bytes: Some(b),
                    seconds: None,
                    source: "Patroni".into(),
                    age_ms: age_ms(now, st.last_at),
                    lower_bound: st.error.is_some() || st.stale,
                },
                _ => unknown("Patroni", false),
            }
        }
        (ActionSpec::RdsPromote(p), _) => rds_lag(model, &p.instance),
        (ActionSpec::RdsFailover(f), _) => rds_lag(model, &f.target),
        _ => return None,
    })
}

fn rds_lag(model: &Model, instance: &str) -> PromoteLag {
    for st in &model.kinds.rds {
        let found = st
            .reading
            .as_ref()
            .into_iter()
            .flat_map(|r| r.instances.iter())
            .filter_map(|i| i.as_ref().ok())
            .find(|i| i.id == instance);
        if let Some(inst) = found {
            let lower_bound = st.error.is_some() || st.stale;
            return match rds::lag(inst) {
                rds::Lag::Known {
                    metric, lag, at, ..
                } => PromoteLag {
                    bytes: None,
                    seconds: Some(lag.as_secs_f64()),
                    source: format!("CloudWatch {}", metric.name()),
                    age_ms: age_ms(model.now, Some(at)),
                    lower_bound,
                },
                rds::Lag::NoData(metric) => PromoteLag {
                    bytes: None,
                    seconds: None,
                    source: format!("CloudWatch {}", metric.name()),
                    age_ms: None,
                    lower_bound: false,
                },
                _ => PromoteLag {
                    bytes: None,
                    seconds: None,
                    source: "RDS".into(),
                    age_ms: None,
                    lower_bound: false,
                },
            };
        }
    }
    PromoteLag {
        bytes: None,
        seconds: None,
        source: "RDS".into(),
        age_ms: None,
        lower_bound: false,
    }
}

fn step_kind(model: &Model, step: usize) -> Option<StepKind> {
    let run = model.runs.current.as_ref()?;
    let runbook = model.config.runbooks.get(run.runbook_index?)?;
    runbook.steps.get(step).map(|s| s.kind.clone())
}

/// The milestones that hold now and are not journaled yet, with their times: the driver
/// records each once. Checked while the run is open and after it finished, until the target
/// serves.
pub fn due(model: &Model) -> Vec<(Milestone, OffsetDateTime)> {
    let Some(run) = model.runs.current.as_ref().filter(|r| !r.dry_run) else {
        return Vec::new();
    };
    if matches!(run.state, RunState::Aborted(_)) || run.milestones.target_serving.is_some() {
        return Vec::new();
    }
    let Some(runbook) = run.runbook_index.and_then(|i| model.config.runbooks.get(i)) else {
        return Vec::new();
    };
    let Some(target) = model.config.site_by_key(&run.target) else {
        return Vec::new();
    };
    let action = |i: usize| match &runbook.steps.get(i)?.kind {
        StepKind::Action(a) => Some(a.spec.clone()),
        _ => None,
    };
    let finished_ok = |i: usize| {
        let s = run.steps.get(i)?;
        (s.status == StepStatus::Ok).then_some(s.finished).flatten()
    };
    let promote = (0..runbook.steps.len()).find(|i| action(*i).is_some_and(|s| promotes(&s)));
    let last_dns = (0..runbook.steps.len())
        .rev()
        .find(|i| action(*i).is_some_and(|s| changes_dns(&s)));
    let mut due = Vec::new();
    let mut held = |m: Milestone, at: Option<OffsetDateTime>| -> Option<OffsetDateTime> {
        let journaled = run.milestones.get(m);
        if journaled.is_some() {
            return journaled;
        }
        let at = at?;
        if !model.runs.milestones_sent.contains(&m) {
            due.push((m, at));
        }
        Some(at)
    };
    let promoted = held(Milestone::Promoted, promote.and_then(finished_ok));
    let dns = held(Milestone::DnsAccepted, last_dns.and_then(finished_ok));
    let dns_done = last_dns.is_none() || dns.is_some();
    // The clock is the last tick's; a step's end is the executor's own, a little later: a
    // milestone that follows another is never dated before it.
    let after = |earlier: &[Option<OffsetDateTime>]| {
        earlier
            .iter()
            .flatten()
            .copied()
            .fold(model.now, OffsetDateTime::max)
    };
    let world = model.world_for(run.runbook_index);
    let resolvers = resolvers_answer(&world, target);
    let all = match resolvers {
        Some(true) if dns_done => {
            let at = after(&[promoted, dns]);
            held(Milestone::AllResolvers, Some(at))
        }
        _ => None,
    };
    let promote_done = promote.is_none() || promoted.is_some();
    let serving = promote_done
        && dns_done
        && (resolvers.is_none() || all.is_some())
        && primary_on(&world, target)
        && target_healthy(&world, target);
    let writable = writable_passed(runbook, run);
    if serving && let Some(writable) = writable {
        let at = after(&[promoted, dns, all, writable]);
        held(Milestone::TargetServing, Some(at));
    }
    due
}

/// Every resolver of every [[dns]] record (of the run's service) answers the target site (None:
/// no [[dns]] record).
fn resolvers_answer(world: &World<'_>, target: SiteId) -> Option<bool> {
    let mut records = world.dns().peekable();
    records.peek()?;
    Some(records.all(|(_, _, record)| {
        record
            .resolvers
            .iter()
            .all(|r| r.matched == Some(Match::Site(target)) && !r.stale)
    }))
}

/// Every database's (of the run's service) one writable primary is on the target site, per the
/// kinds' own state.
fn primary_on(world: &World<'_>, target: SiteId) -> bool {
    let serving = world.serving();
    let databases = world.postgres().count() + world.patroni().count() + world.rds().count();
    serving.db.len() >= databases && serving.db.iter().all(|sites| sites == &[target])
}

/// Every health check of the target site (in the run's service) healthy (and fresh).
fn target_healthy(world: &World<'_>, target: SiteId) -> bool {
    world.site_health(target).iter().all(|(ok, _)| *ok)
}

/// Every `wait = "writable"` step of the runbook has passed: when the last one did (Some(None)
/// when the runbook has none; None while one has not passed).
fn writable_passed(
    runbook: &crate::runbook::Runbook,
    run: &crate::runbook::RunView,
) -> Option<Option<OffsetDateTime>> {
    let mut last = None;
    for (i, step) in runbook.steps.iter().enumerate() {
        if let StepKind::Wait(Wait::Writable { .. }) = step.kind {
            let view = run.steps.get(i)?;
            if view.status != StepStatus::Ok {
                return None;
            }
            last = last.max(view.finished);
        }
    }
    Some(last)
}
