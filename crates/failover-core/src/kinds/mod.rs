//! Every kind of source, one folder each: its validated spec, its typed readings, its state and
//! how a reading changes it, its rows, its findings and gates, its `status` fields.
//!
//! `registry!` at the bottom is the one list of kinds: it makes `Specs` (every kind's sources, in
//! the config), `States` (their live state, in the model) and the loops that ask every kind the
//! questions of `Kind`. `Observation` is closed on purpose: a new kind adds a variant, and the
//! compiler lists every `match` that must learn it.

pub mod alarm;
pub mod aws;
pub mod cloudwatch;
pub mod dns;
mod findings;
pub mod health;
pub mod json_text;
mod name_column;
pub mod patroni;
pub mod postgres;
pub mod rds;
pub mod route53;

use std::time::Duration;

use ratatui::text::Line;
use serde_json::{Map, Value};
use time::OffsetDateTime;

pub use alarm::Alarm;
pub use cloudwatch::CloudWatch;
pub use dns::Dns;
pub use findings::{Evidence, Finding, Level, Serving};
pub use health::Health;
pub use name_column::{NameColumn, NameColumns};
pub use patroni::Patroni;
pub use postgres::Postgres;
pub use rds::Rds;
pub use route53::Route53;

use crate::schema::{SiteId, Sites};
use crate::text;
use crate::theme::View;
use crate::timeline::{Edges, Severity};

/// What the pollers report: one reading of one source, produced by the binary's sources.
#[derive(Debug, Clone, PartialEq)]
pub enum Observation {
    Probe {
        check: usize,
        at: OffsetDateTime,
        outcome: health::ProbeOutcome,
    },
    Postgres {
        db: usize,
        member: usize,
        at: OffsetDateTime,
        result: Result<postgres::PgSnapshot, String>,
    },
    Dns {
        record: usize,
        resolver: usize,
        at: OffsetDateTime,
        answer: dns::DnsAnswer,
    },
    /// One read of a `[[route53]]` record: its record sets and their health checks.
    Route53 {
        record: usize,
        at: OffsetDateTime,
        result: Result<route53::R53Reading, aws::AwsError>,
    },
    /// One read of an `[[rds]]` source: its instances, their cluster, their replica lag.
    Rds {
        source: usize,
        at: OffsetDateTime,
        result: Result<rds::RdsReading, aws::AwsError>,
    },
    /// One read of a Patroni cluster (`[[database]] kind = "patroni"`).
    Patroni {
        cluster: usize,
        at: OffsetDateTime,
        reading: patroni::Reading,
    },
    /// One read of a `[[cloudwatch]]` check: the latest datapoint, if any.
    CloudWatch {
        check: usize,
        at: OffsetDateTime,
        result: Result<Option<cloudwatch::Datapoint>, aws::AwsError>,
    },
    /// One read of an `[[alarm]]` source: the alarms it names, in CloudWatch's order.
    Alarm {
        source: usize,
        at: OffsetDateTime,
        result: Result<alarm::AlarmReading, aws::AwsError>,
    },
}

/// Applies one reading to its source's state. Returns whether what the screen shows may have
/// changed: each kind compares everything the screen shows of its source (`shown`) before and
/// after, so a reading like the last one changes nothing on screen. What the clock moves is the
/// tick's to redraw (`route53::ttls_left`, the run pane's evidence).
pub fn apply(
    specs: &Specs,
    states: &mut States,
    sites: &Sites,
    observation: Observation,
    edges: &mut Edges,
) -> bool {
    match observation {
        Observation::Probe { check, at, outcome } => {
            if let (Some(spec), Some(state)) =
                (specs.health.get(check), states.health.get_mut(check))
            {
                let before = state.shown();
                health::on_probe(spec, state, at, outcome, edges);
                return state.shown() != before;
            }
        }
        Observation::Postgres {
            db,
            member,
            at,
            result,
        } => {
            if let (Some(spec), Some(state)) = (specs.postgres.get(db), states.postgres.get_mut(db))
                && member < state.members.len()
            {
                let before = state.shown(spec);
                postgres::on_reading(sites, spec, state, member, at, result, edges);
                return state.shown(spec) != before;
            }
        }
        Observation::Patroni {
            cluster,
            at,
            reading,
        } => {
            if let (Some(spec), Some(state)) =
                (specs.patroni.get(cluster), states.patroni.get_mut(cluster))
            {
                let before = state.shown();
                patroni::on_reading(sites, spec, state, at, reading, edges);
                return state.shown() != before;
            }
        }
        Observation::Dns {
            record,
            resolver,
            at,
            answer,
        } => {
            if let (Some(spec), Some(state)) = (specs.dns.get(record), states.dns.get_mut(record))
                && resolver < state.resolvers.len()
            {
                let before = state.shown();
                dns::on_answer(sites, spec, state, resolver, at, answer, edges);
                let changed = state.shown() != before;
                return changed || route53::compared_apart(specs, states, record, resolver);
            }
        }
        Observation::Route53 { record, at, result } => {
            if let (Some(spec), Some(state)) =
                (specs.route53.get(record), states.route53.get_mut(record))
            {
                let before = state.shown();
                route53::on_reading(sites, &specs.dns, spec, state, at, result, edges);
                return state.shown() != before;
            }
        }
        Observation::Rds { source, at, result } => {
            if let (Some(spec), Some(state)) = (specs.rds.get(source), states.rds.get_mut(source)) {
                let before = state.shown();
                rds::on_reading(sites, spec, state, at, result, edges);
                return state.shown() != before;
            }
        }
        Observation::CloudWatch { check, at, result } => {
            if let (Some(spec), Some(state)) = (
                specs.cloudwatch.get(check),
                states.cloudwatch.get_mut(check),
            ) {
                let before = state.on_screen();
                cloudwatch::on_reading(spec, state, at, result, edges);
                return state.on_screen() != before;
            }
        }
        Observation::Alarm { source, at, result } => {
            if let (Some(spec), Some(state)) =
                (specs.alarm.get(source), states.alarm.get_mut(source))
            {
                let before = state.shown();
                alarm::on_reading(spec, state, at, result, edges);
                return state.shown() != before;
            }
        }
    }
    true
}

/// Everything a kind may consult to judge or draw itself: the sites, every kind's sources and
/// states, and the clock.
#[derive(Clone, Copy)]
pub struct World<'a> {
    pub sites: &'a Sites,
    pub specs: &'a Specs,
    pub states: &'a States,
    pub now: OffsetDateTime,
    /// The one service being judged or drawn; None: every source.
    pub scope: Option<&'a Scope>,
}

impl<'a> World<'a> {
    /// The same world seen through one service's sources.
    pub fn scoped(self, scope: &'a Scope) -> World<'a> {
        World {
            scope: Some(scope),
            ..self
        }
    }

    /// Whole seconds since `at` (0 for a time in the future), for `status --json`.
    pub fn age_seconds(&self, at: OffsetDateTime) -> f64 {
        (self.now - at).as_seconds_f64().max(0.0).round()
    }
}

/// The latest a source's first poll starts after polling begins: health checks of one interval
/// are probed in slots spread over this much of it; every other source polls at once.
pub fn first_poll_spread(interval: Duration) -> Duration {
    interval.min(Duration::from_secs(1))
}

/// The console's clock for staleness: now, and when its pollers started (a source never heard
/// from is counted from there).
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub now: OffsetDateTime,
    pub started: OffsetDateTime,
}

impl Clock {
    /// How long since `last`, if that is over `limit`; and the limit that applied. A source
    /// never heard from gets its whole `limit` from the latest its first poll can start
    /// (`started` + `first_poll_spread`), counted from `started`.
    pub fn overdue(
        &self,
        last: Option<OffsetDateTime>,
        (interval, limit): (Duration, Duration),
    ) -> Option<(Duration, Duration)> {
        let (since, limit) = match last {
            Some(at) => (at, limit),
            None => (
                self.started,
                limit.saturating_add(first_poll_spread(interval)),
            ),
        };
        let age = Duration::try_from(self.now - since).unwrap_or_default();
        (age > limit).then_some((age, limit))
    }

    /// Marks one source stale once it is overdue: one edge, not one per tick.
    pub fn mark(
        &self,
        stale: &mut bool,
        last: Option<OffsetDateTime>,
        interval_and_limit: (Duration, Duration),
        source: impl FnOnce() -> String,
        prefix: &str,
        edges: &mut Edges,
    ) {
        if !*stale && let Some((age, limit)) = self.overdue(last, interval_and_limit) {
            *stale = true;
            edges.edge(
                self.now,
                Severity::Warn,
                source(),
                format!(
                    "{prefix}stale: no answer for {} (limit {})",
                    text::latency(age),
                    text::latency(limit)
                ),
            );
        }
    }
}

/// The three panes that show sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Health,
    Replication,
    Dns,
}

/// How a kind's rows are laid out: the pane's inner width, the look, and the Health pane's
/// shared name and site columns.
#[derive(Clone)]
pub struct RowCtx<'a> {
    pub width: usize,
    pub view: &'a View,
    pub name_w: usize,
    pub site_w: usize,
    /// The Health pane's names as its name column shows them (`name_w` wide).
    pub names: &'a NameColumn,
    /// The rows the pane shows (indices in the section): a kind may leave any other row empty.
    /// Ten thousand checks are counted each frame, not drawn.
    pub shown: std::ops::Range<usize>,
}

impl RowCtx<'_> {
    /// Whether row `i` of this kind's rows is shown.
    pub fn shows(&self, i: usize) -> bool {
        self.shown.contains(&i)
    }
}

/// The most a name column may take of `width`: what leaves `rest` columns for the row's other
/// columns, and never under 12.
pub fn name_cap(width: usize, rest: usize) -> usize {
    width.saturating_sub(rest).max(12)
}

/// A kind's rows in its pane, and how many of them need attention.
#[derive(Default)]
pub struct Rows {
    pub lines: Vec<Line<'static>>,
    pub problems: usize,
}

/// One replica's lag as its kind reads it: unknown is never zero.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ReplicaLag {
    Known {
        bytes: Option<u64>,
        time: Option<Duration>,
    },
    Unknown,
}

/// What every kind answers, whatever it reads. One impl per kind, in its folder's `mod.rs`.
pub trait Kind {
    type Spec: std::fmt::Debug + Clone;
    type State: std::fmt::Debug;
    /// The pane its rows are in.
    const SECTION: Section;

    /// A source's state before anything is heard from it.
    fn state(spec: &Self::Spec) -> Self::State;
    /// The longest one read of a source may take: `status` waits that long.
    fn longest_read(spec: &Self::Spec) -> Duration;
    /// The AWS settings it reads with, for `--profile` / `--region`.
    fn aws_mut(_spec: &mut Self::Spec) -> Option<&mut aws::AwsSettings> {
        None
    }
    /// Marks each source that has not answered within its limit stale, with one edge.
    fn mark_stale(
        specs: &[Self::Spec],
        states: &mut [Self::State],
        sites: &Sites,
        clock: &Clock,
        edges: &mut Edges,
    );
    /// What the verdict says of this kind; `agreed`: the site everything agrees serves.
    fn findings(world: &World<'_>, agreed: Option<SiteId>, out: &mut Vec<Finding>);
    /// Where it says writes and traffic go.
    fn serving(_world: &World<'_>, _serving: &mut Serving) {}
    /// The lag of each of its replicas (the estate overview shows a service's worst).
    fn replica_lags(_world: &World<'_>, _out: &mut Vec<ReplicaLag>) {}
    /// Its sources' part in a site's health (the healthy gate): whether each is fine, and a line.
    fn site_health(_world: &World<'_>, _site: SiteId, _out: &mut Vec<(bool, String)>) {}
    /// What `site_health` says without its words: how many parts, and whether all are ok. A
    /// kind with many sources says it without making a string for each.
    fn site_ok(world: &World<'_>, site: SiteId) -> (usize, bool) {
        let mut out = Vec::new();
        Self::site_health(world, site, &mut out);
        (out.len(), out.iter().all(|(ok, _)| *ok))
    }
    /// Names shown in the Health pane's name column (it is as wide as the longest).
    fn names(_specs: &[Self::Spec]) -> Vec<&str> {
        Vec::new()
    }
    /// Its rows, and how many rows it has (for scrolling, without drawing them).
    fn rows(world: &World<'_>, ctx: &RowCtx<'_>) -> Rows;
    fn row_count(world: &World<'_>) -> usize;
    /// How many of it are configured, for `check-config` ("2 health checks"); None for none of
    /// a kind that need not be there.
    fn census(specs: &[Self::Spec]) -> Option<String>;
    /// Its part of `status --json`: a key and its value.
    fn status_json(world: &World<'_>) -> (&'static str, Value);
    /// Its part of `status`.
    fn status_text(world: &World<'_>, out: &mut String);
}

macro_rules! registry {
    ($($field:ident: $kind:ident),+ $(,)?) => {
        /// Every kind's configured sources, in the file's order.
        #[derive(Debug, Clone, Default)]
        pub struct Specs {
            $(pub $field: Vec<<$field::$kind as Kind>::Spec>,)+
        }

        /// Every source's live state, one per spec.
        #[derive(Debug)]
        pub struct States {
            $(pub $field: Vec<<$field::$kind as Kind>::State>,)+
        }

        impl States {
            pub fn new(specs: &Specs) -> States {
                States {
                    $($field: specs.$field.iter().map(<$field::$kind as Kind>::state).collect(),)+
                }
            }

            /// Marks every source that has not answered in time stale.
            pub fn mark_stale(&mut self, specs: &Specs, sites: &Sites, clock: &Clock, edges: &mut Edges) {
                $(<$field::$kind as Kind>::mark_stale(&specs.$field, &mut self.$field, sites, clock, edges);)+
            }
        }

        impl Specs {
            /// How many sources of any kind are configured.
            pub fn count(&self) -> usize {
                0 $(+ self.$field.len())+
            }

            /// How many sources show rows in `section`.
            pub fn in_section(&self, section: Section) -> usize {
                let mut n = 0;
                $(if <$field::$kind as Kind>::SECTION == section { n += self.$field.len(); })+
                n
            }

            /// The longest one read of any source may take.
            pub fn longest_read(&self) -> Option<Duration> {
                let mut longest: Option<Duration> = None;
                $(for spec in &self.$field {
                    let d = <$field::$kind as Kind>::longest_read(spec);
                    longest = Some(longest.map_or(d, |l| l.max(d)));
                })+
                longest
            }

            /// The AWS settings of every AWS source.
            pub fn aws_mut(&mut self) -> Vec<&mut aws::AwsSettings> {
                let mut out = Vec::new();
                $(out.extend(self.$field.iter_mut().filter_map(<$field::$kind as Kind>::aws_mut));)+
                out
            }

            /// What is configured, kind by kind: "2 health checks", "1 databases with 2 members"...
            pub fn census(&self) -> Vec<String> {
                let mut out = Vec::new();
                $(out.extend(<$field::$kind as Kind>::census(&self.$field));)+
                out
            }

            /// The names in the Health pane's name column.
            pub fn names(&self, section: Section) -> Vec<&str> {
                let mut out = Vec::new();
                $(if <$field::$kind as Kind>::SECTION == section {
                    out.extend(<$field::$kind as Kind>::names(&self.$field));
                })+
                out
            }
        }

        /// Which sources of each kind one service holds: indices into `Specs`' lists.
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct Scope {
            $(pub $field: Vec<usize>,)+
        }

        impl Scope {
            /// Every configured source.
            pub fn all(specs: &Specs) -> Scope {
                Scope {
                    $($field: (0..specs.$field.len()).collect(),)+
                }
            }

            /// The sources of `specs` that none of `scopes` holds.
            pub fn rest<'s>(specs: &Specs, scopes: impl Iterator<Item = &'s Scope> + Clone) -> Scope {
                Scope {
                    $($field: (0..specs.$field.len())
                        .filter(|i| !scopes.clone().any(|s| Scope::holds(&s.$field, *i)))
                        .collect(),)+
                }
            }

            pub fn is_empty(&self) -> bool {
                true $(&& self.$field.is_empty())+
            }

            /// In ascending order, each index once: what `holds` needs.
            pub fn sorted(mut self) -> Scope {
                $(self.$field.sort_unstable(); self.$field.dedup();)+
                self
            }

            /// Whether `list` (one of its lists, ascending) holds `i`: a search, not a scan,
            /// since every source's every look goes through it (a scan made ten thousand
            /// checks cost 10^8 comparisons a frame).
            fn holds(list: &[usize], i: usize) -> bool {
                list.binary_search(&i).is_ok()
            }

            /// How many sources it holds.
            pub fn count(&self) -> usize {
                0 $(+ self.$field.len())+
            }
        }

        impl<'a> World<'a> {
            $(
                /// This kind's sources in scope, with their index in `Specs`.
                pub fn $field(self) -> impl Iterator<Item = (usize, &'a <$field::$kind as Kind>::Spec, &'a <$field::$kind as Kind>::State)> + 'a {
                    let scope = self.scope;
                    self.specs.$field.iter().zip(&self.states.$field).enumerate()
                        .filter(move |(i, _)| scope.is_none_or(|s| Scope::holds(&s.$field, *i)))
                        .map(|(i, (spec, state))| (i, spec, state))
                }
            )+
        }

        impl World<'_> {
            /// Every kind's findings, in the registry's order.
            pub fn findings(&self, agreed: Option<SiteId>) -> Vec<Finding> {
                let mut out = Vec::new();
                $(<$field::$kind as Kind>::findings(self, agreed, &mut out);)+
                out
            }

            /// Where writes and traffic go, as every kind observes it.
            pub fn serving(&self) -> Serving {
                let mut serving = Serving::default();
                $(<$field::$kind as Kind>::serving(self, &mut serving);)+
                serving
            }

            /// The lag of every replica in scope.
            pub fn replica_lags(&self) -> Vec<ReplicaLag> {
                let mut out = Vec::new();
                $(<$field::$kind as Kind>::replica_lags(self, &mut out);)+
                out
            }

            /// Every source's part in `site`'s health.
            pub fn site_health(&self, site: SiteId) -> Vec<(bool, String)> {
                let mut out = Vec::new();
                $(<$field::$kind as Kind>::site_health(self, site, &mut out);)+
                out
            }

            /// Whether every part of `site`'s health is ok; None when it has none.
            pub fn site_all_ok(&self, site: SiteId) -> Option<bool> {
                let (mut parts, mut all) = (0, true);
                $({
                    let (n, ok) = <$field::$kind as Kind>::site_ok(self, site);
                    parts += n;
                    all &= ok;
                })+
                (parts > 0).then_some(all)
            }

            /// The rows of every kind in `section`, in the registry's order.
            pub fn rows(&self, section: Section, ctx: &RowCtx<'_>) -> Rows {
                let mut rows = Rows::default();
                $(if <$field::$kind as Kind>::SECTION == section {
                    // This kind's rows start where the ones before it ended.
                    let at = rows.lines.len();
                    let shown = ctx.shown.start.saturating_sub(at)..ctx.shown.end.saturating_sub(at);
                    let more = <$field::$kind as Kind>::rows(self, &RowCtx { shown, ..ctx.clone() });
                    rows.lines.extend(more.lines);
                    rows.problems += more.problems;
                })+
                rows
            }

            pub fn row_count(&self, section: Section) -> usize {
                let mut n = 0;
                $(if <$field::$kind as Kind>::SECTION == section {
                    n += <$field::$kind as Kind>::row_count(self);
                })+
                n
            }

            /// Every kind's `status --json` fields.
            pub fn status_json(&self) -> Map<String, Value> {
                let mut map = Map::new();
                $({
                    let (key, value) = <$field::$kind as Kind>::status_json(self);
                    map.insert(key.to_string(), value);
                })+
                map
            }

            /// Every kind's part of `status`, in the registry's order.
            pub fn status_text(&self, out: &mut String) {
                $(<$field::$kind as Kind>::status_text(self, out);)+
            }
        }
    };
}

// The one list of kinds. Its order is the order of rows within a pane, of the verdict's
// findings and of `status`.
registry! {
    health: Health,
    postgres: Postgres,
    dns: Dns,
    route53: Route53,
    cloudwatch: CloudWatch,
    alarm: Alarm,
    patroni: Patroni,
    rds: Rds,
}
