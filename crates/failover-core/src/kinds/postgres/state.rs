//! PostgreSQL members: live roles, lag in bytes and time, and the edges between readings.

use std::time::Duration;

use time::OffsetDateTime;

use super::{Database, PgSnapshot};
use crate::schema::Sites;
use crate::text::{bytes, secs};
use crate::timeline::{Edges, Severity};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Role {
    #[default]
    Unknown,
    Primary,
    Replica,
    Unreachable,
}

impl Role {
    pub fn label(self) -> &'static str {
        match self {
            Role::Unknown => "unknown",
            Role::Primary => "primary",
            Role::Replica => "replica",
            Role::Unreachable => "unreachable",
        }
    }
}

/// Where a byte figure came from, shown beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BytesSource {
    /// The primary's `pg_stat_replication` row for this standby.
    StatReplication,
    /// The primary's current LSN minus this replica's replay LSN, read separately.
    PrimaryMinusReplay,
    /// Received but not yet replayed, when the primary cannot be read.
    ReceivedNotReplayed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeSource {
    /// Nothing left to replay.
    CaughtUp,
    /// `pg_stat_replication.replay_lag`.
    ReplayLag,
    /// `now() - pg_last_xact_replay_timestamp()`: also grows while the primary is idle.
    SinceLastReplay,
}

impl BytesSource {
    pub fn label(self) -> &'static str {
        match self {
            BytesSource::StatReplication => "pg_stat_replication",
            BytesSource::PrimaryMinusReplay => "primary LSN - replay LSN",
            BytesSource::ReceivedNotReplayed => "received-replayed (primary unread)",
        }
    }
}

impl TimeSource {
    pub fn label(self) -> &'static str {
        match self {
            TimeSource::CaughtUp => "caught up",
            TimeSource::ReplayLag => "replay_lag",
            TimeSource::SinceLastReplay => "since last replayed commit",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Lag {
    pub bytes: Option<(u64, BytesSource)>,
    pub time: Option<(Duration, TimeSource)>,
    pub over_limit: bool,
}

#[derive(Debug, Clone, Default)]
pub struct MemberState {
    /// The last successful reading; kept while unreachable so the screen can say what it was.
    pub snapshot: Option<PgSnapshot>,
    pub error: Option<String>,
    pub last_at: Option<OffsetDateTime>,
    pub role: Role,
    pub lag: Option<Lag>,
    pub stale: bool,
}

impl MemberState {
    pub fn streaming(&self) -> Option<bool> {
        let replica = self.snapshot.as_ref()?.replica.as_ref()?;
        Some(replica.receiver_status.as_deref() == Some("streaming"))
    }

    pub fn replay_paused(&self) -> Option<bool> {
        Some(self.snapshot.as_ref()?.replica.as_ref()?.replay_paused)
    }
}

#[derive(Debug, Clone)]
pub struct DbState {
    pub members: Vec<MemberState>,
    /// The primaries last put on the timeline, once every member had been heard from.
    pub reported_primaries: Option<Vec<usize>>,
}

impl DbState {
    pub fn new(spec: &Database) -> Self {
        DbState {
            members: spec
                .members
                .iter()
                .map(|_| MemberState::default())
                .collect(),
            reported_primaries: None,
        }
    }

    pub fn primaries(&self) -> Vec<usize> {
        (0..self.members.len())
            .filter(|i| self.members[*i].role == Role::Primary)
            .collect()
    }

    /// Every member has answered or failed at least once.
    pub fn all_seen(&self) -> bool {
        self.members.iter().all(|m| m.role != Role::Unknown)
    }

    /// Everything the screen shows of the database (its rows, the verdict's findings, the
    /// overview's lag, the gates' and waits' evidence); equal before and after a reading:
    /// nothing to redraw.
    pub fn shown(&self, db: &Database) -> impl PartialEq + use<> {
        self.members
            .iter()
            .map(|m| MemberShown::of(db, m))
            .collect::<Vec<_>>()
    }
}

/// What the screen shows of one member. Lag figures as they are printed (`text::bytes`,
/// `text::secs`: monotonic, so the overview's worst lag moves only when one of these does), not
/// the raw numbers: a lag that moves by a byte under "2.4 MiB" changes nothing on screen. The
/// snapshot's LSNs and `since_last_replay` count only through the lag made of them.
#[derive(Debug, PartialEq)]
struct MemberShown {
    role: Role,
    error: Option<String>,
    stale: bool,
    /// The last answer's time, which a stale member's row shows.
    stale_since: Option<OffsetDateTime>,
    /// "(was replica)" beside an unreachable member.
    in_recovery: Option<bool>,
    timeline: Option<u32>,
    /// A primary's "lsn 0/3000060  1 standby".
    primary: Option<(super::Lsn, usize)>,
    /// A replica's walreceiver status (streaming or not) and replay paused.
    replica: Option<(Option<String>, bool)>,
    lag: Option<LagShown>,
}

#[derive(Debug, PartialEq)]
struct LagShown {
    /// The figure, where it came from, and whether it is over its own limit (the lag gate
    /// names which limit).
    bytes: Option<(String, BytesSource, bool)>,
    time: Option<(String, TimeSource, bool)>,
    over_limit: bool,
}

impl MemberShown {
    fn of(db: &Database, m: &MemberState) -> MemberShown {
        let snapshot = m.snapshot.as_ref();
        MemberShown {
            role: m.role,
            error: m.error.clone(),
            stale: m.stale,
            stale_since: m.last_at.filter(|_| m.stale),
            in_recovery: snapshot.map(|s| s.in_recovery),
            timeline: snapshot.and_then(|s| s.timeline),
            primary: snapshot
                .and_then(|s| s.primary.as_ref())
                .map(|p| (p.current_lsn, p.standbys.len())),
            replica: snapshot
                .and_then(|s| s.replica.as_ref())
                .map(|r| (r.receiver_status.clone(), r.replay_paused)),
            lag: m.lag.as_ref().map(|l| LagShown {
                bytes: l
                    .bytes
                    .map(|(b, source)| (bytes(b), source, b > db.max_lag_bytes)),
                time: l.time.map(|(t, source)| (secs(t), source, t > db.max_lag)),
                over_limit: l.over_limit,
            }),
        }
    }
}

pub fn member_source(sites: &Sites, db: &Database, member: usize) -> String {
    format!("db/{}/{}", db.name, member_label(sites, db, member))
}

/// A member as people read it: its own name when it has one, else its site's label (an
/// unnamed member's name is its site's key).
pub fn member_label<'a>(sites: &'a Sites, db: &'a Database, member: usize) -> &'a str {
    let m = &db.members[member];
    if m.name == sites[m.site].key {
        sites.label(m.site)
    } else {
        &m.name
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Facts {
    role: Role,
    lag_over: Option<bool>,
    streaming: Option<bool>,
    paused: Option<bool>,
}

fn facts(m: &MemberState) -> Facts {
    let reachable_replica = m.role == Role::Replica;
    Facts {
        role: m.role,
        lag_over: if reachable_replica {
            m.lag.as_ref().map(|l| l.over_limit)
        } else {
            None
        },
        streaming: if reachable_replica {
            m.streaming()
        } else {
            None
        },
        paused: if reachable_replica {
            m.replay_paused()
        } else {
            None
        },
    }
}

pub fn on_reading(
    sites: &Sites,
    db: &Database,
    state: &mut DbState,
    member: usize,
    at: OffsetDateTime,
    result: Result<PgSnapshot, String>,
    edges: &mut Edges,
) {
    let before: Vec<Facts> = state.members.iter().map(facts).collect();

    {
        let m = &mut state.members[member];
        edges.fresh_again(&mut m.stale, at, || member_source(sites, db, member));
        m.last_at = Some(at);
        match result {
            Ok(snapshot) => {
                m.role = if snapshot.in_recovery {
                    Role::Replica
                } else {
                    Role::Primary
                };
                m.error = None;
                m.snapshot = Some(snapshot);
            }
            Err(error) => {
                m.role = Role::Unreachable;
                m.error = Some(error);
            }
        }
    }
    recompute_lag(db, state);
    for (i, old) in before.iter().enumerate() {
        let new = facts(&state.members[i]);
        if *old != new {
            describe_member_change(sites, db, i, &state.members[i], old, &new, at, edges);
        }
    }
    let primaries = state.primaries();
    let primaries_before = state.reported_primaries.clone().unwrap_or_default();
    if state.all_seen() && state.reported_primaries.as_ref() != Some(&primaries) {
        state.reported_primaries = Some(primaries.clone());
        let names = |ids: &[usize]| {
            ids.iter()
                .map(|i| sites.label(db.members[*i].site))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let source = format!("db/{}", db.name);
        match primaries.len() {
            0 => edges.edge(at, Severity::Crit, source, "no writable primary"),
            1 if primaries_before.len() != 1 => edges.edge(
                at,
                Severity::Ok,
                source,
                format!("one primary: {}", names(&primaries)),
            ),
            1 => {}
            n => edges.edge(
                at,
                Severity::Crit,
                source,
                format!(
                    "split brain: {n} writable primaries ({})",
                    names(&primaries)
                ),
            ),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn describe_member_change(
    sites: &Sites,
    db: &Database,
    i: usize,
    m: &MemberState,
    old: &Facts,
    new: &Facts,
    at: OffsetDateTime,
    edges: &mut Edges,
) {
    let source = member_source(sites, db, i);
    if old.role != new.role {
        let timeline = m
            .snapshot
            .as_ref()
            .and_then(|s| s.timeline)
            .map(|t| format!(", timeline {t}"))
            .unwrap_or_default();
        let (severity, message) = match (old.role, new.role) {
            (_, Role::Unreachable) => (
                if old.role == Role::Primary {
                    Severity::Crit
                } else {
                    Severity::Warn
                },
                format!(
                    "{} → unreachable: {}",
                    old.role.label(),
                    m.error.as_deref().unwrap_or("?")
                ),
            ),
            (Role::Unknown, role) => (Severity::Info, format!("{}{timeline}", role.label())),
            (Role::Unreachable, role) => (
                Severity::Ok,
                format!("reachable again: {}{timeline}", role.label()),
            ),
            (Role::Replica, Role::Primary) => (
                Severity::Warn,
                format!("replica → primary (promoted{timeline})"),
            ),
            (from, to) => (
                Severity::Warn,
                format!("{} → {}{timeline}", from.label(), to.label()),
            ),
        };
        edges.edge(at, severity, source.clone(), message);
    }
    if old.lag_over != new.lag_over {
        let figures = m.lag.as_ref().map(lag_text).unwrap_or_default();
        match new.lag_over {
            Some(true) => edges.edge(
                at,
                Severity::Warn,
                source.clone(),
                format!(
                    "lag over limit: {figures} (limit {}, {})",
                    bytes(db.max_lag_bytes),
                    secs(db.max_lag)
                ),
            ),
            Some(false) if old.lag_over == Some(true) => edges.edge(
                at,
                Severity::Ok,
                source.clone(),
                format!("lag back within limits: {figures}"),
            ),
            _ => {}
        }
    }
    if old.streaming != new.streaming {
        match new.streaming {
            Some(false) => {
                let status = m
                    .snapshot
                    .as_ref()
                    .and_then(|s| s.replica.as_ref())
                    .and_then(|r| r.receiver_status.clone());
                edges.edge(
                    at,
                    Severity::Warn,
                    source.clone(),
                    format!(
                        "not streaming (walreceiver: {})",
                        status.as_deref().unwrap_or("none")
                    ),
                );
            }
            Some(true) if old.streaming == Some(false) => {
                edges.edge(at, Severity::Ok, source.clone(), "streaming again")
            }
            _ => {}
        }
    }
    if old.paused != new.paused {
        match new.paused {
            Some(true) => edges.edge(at, Severity::Warn, source, "WAL replay paused"),
            Some(false) if old.paused == Some(true) => {
                edges.edge(at, Severity::Ok, source, "WAL replay resumed")
            }
            _ => {}
        }
    }
}

fn recompute_lag(db: &Database, state: &mut DbState) {
    let primaries = state.primaries();
    let primary = if primaries.len() == 1 {
        state.members[primaries[0]].snapshot.clone()
    } else {
        None
    };
    let replicas = state
        .members
        .iter()
        .filter(|m| m.role == Role::Replica)
        .count();
    for m in state.members.iter_mut() {
        if m.role != Role::Replica {
            m.lag = None;
            continue;
        }
        let Some(replica) = m.snapshot.as_ref().and_then(|s| s.replica.clone()) else {
            m.lag = None;
            continue;
        };
        let cluster_name = m
            .snapshot
            .as_ref()
            .map(|s| s.cluster_name.clone())
            .unwrap_or_default();
        let primary_reading = primary.as_ref().and_then(|p| p.primary.as_ref());
        let row = primary_reading.and_then(|p| {
            p.standbys
                .iter()
                .find(|r| !cluster_name.is_empty() && r.application_name == cluster_name)
                .or_else(|| {
                    if p.standbys.len() == 1 && replicas == 1 {
                        p.standbys.first()
                    } else {
                        None
                    }
                })
        });
        let bytes = match (
            row.and_then(|r| r.lag_bytes),
            primary_reading,
            replica.replay_lsn,
        ) {
            (Some(b), _, _) => Some((b, BytesSource::StatReplication)),
            (None, Some(p), Some(replay)) => Some((
                p.current_lsn.0.saturating_sub(replay.0),
                BytesSource::PrimaryMinusReplay,
            )),
            _ => match (replica.receive_lsn, replica.replay_lsn) {
                (Some(recv), Some(replay)) => Some((
                    recv.0.saturating_sub(replay.0),
                    BytesSource::ReceivedNotReplayed,
                )),
                _ => None,
            },
        };
        let time = match bytes {
            Some((0, _)) => Some((Duration::ZERO, TimeSource::CaughtUp)),
            _ => {
                // `since last replayed commit` also counts the primary's idle time, so it is used
                // only when replay is known to be stuck (paused, or not streaming).
                let replay_lag = row.and_then(|r| r.replay_lag);
                let streaming = replica.receiver_status.as_deref() == Some("streaming");
                match (replay_lag, replica.replay_paused || !streaming) {
                    (Some(t), false) => Some((t, TimeSource::ReplayLag)),
                    (_, true) => replica
                        .since_last_replay
                        .map(|t| (t, TimeSource::SinceLastReplay)),
                    (None, false) => None,
                }
            }
        };
        let over_bytes = bytes.is_some_and(|(b, _)| b > db.max_lag_bytes);
        let over_time = time.is_some_and(|(t, _)| t > db.max_lag);
        m.lag = Some(Lag {
            bytes,
            time,
            over_limit: over_bytes || over_time,
        });
    }
}

pub fn lag_text(lag: &Lag) -> String {
    let b = lag
        .bytes
        .map(|(b, _)| bytes(b))
        .unwrap_or_else(|| "? B".into());
    let t = lag
        .time
        .map(|(t, _)| secs(t))
        .unwrap_or_else(|| "? s".into());
    format!("{b}, {t}")
}
