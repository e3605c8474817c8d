//! Patroni clusters: the last reading, what is wrong with the cluster as a whole (no member
//! answers, no leader, members disagree about the leader), and the edges between readings.

use time::OffsetDateTime;

use super::{
    ClusterView, DEFAULT_MAX_LAG_ON_FAILOVER, HistoryEntry, Lag, Member, NodeView, PatroniCluster,
    Reading,
};
use crate::schema::Sites;
use crate::text;
use crate::timeline::{Edges, Severity};

#[derive(Debug, Clone, Default)]
pub struct PatroniState {
    /// The last `/cluster` read, the endpoint (index) that gave it, and when.
    pub cluster: Option<(usize, ClusterView, OffsetDateTime)>,
    /// Why the last read of `/cluster` failed; None after a good read.
    pub error: Option<String>,
    /// Each endpoint's own view (`/patroni`) at the last read.
    pub nodes: Vec<Result<NodeView, String>>,
    pub history: Vec<HistoryEntry>,
    pub max_lag_on_failover: Option<u64>,
    /// The last reading of any kind.
    pub last_at: Option<OffsetDateTime>,
    pub stale: bool,
    reported: Option<Facts>,
}

/// What is wrong with the cluster as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trouble {
    /// No member answered `/cluster`.
    NoAnswer(String),
    NoLeader,
    /// Members disagree about the leader: Patroni's DCS may have a problem.
    Disagree(String),
}

impl Trouble {
    pub fn text(&self) -> String {
        match self {
            Trouble::NoAnswer(e) => format!("NO MEMBER ANSWERS: {e}"),
            Trouble::NoLeader => "NO LEADER".into(),
            Trouble::Disagree(d) => {
                format!("MEMBERS DISAGREE ABOUT THE LEADER (DCS problem?): {d}")
            }
        }
    }
}

impl PatroniState {
    /// Everything the screen shows of the cluster (its rows, the verdict's findings, the
    /// overview's lag, the lag gate's evidence, the detail view's config); equal before and
    /// after a reading: nothing to redraw. Patroni's figures are shown exactly, so they are
    /// compared exactly; the time of the last answer only while it is shown (no member answers,
    /// or stale).
    pub fn shown(&self) -> impl PartialEq + use<> {
        let answered_at = |at: OffsetDateTime| (self.error.is_some() || self.stale).then_some(at);
        (
            self.cluster
                .as_ref()
                .map(|(endpoint, view, at)| (*endpoint, view.clone(), answered_at(*at))),
            self.error.clone(),
            self.nodes.clone(),
            self.history.clone(),
            self.max_lag_on_failover,
            self.last_at.is_some(),
            self.stale,
        )
    }

    pub fn view(&self) -> Option<&ClusterView> {
        self.cluster.as_ref().map(|(_, v, _)| v)
    }

    /// The current leader's name, when the last read succeeded and shows one.
    pub fn leader(&self) -> Option<&str> {
        if self.error.is_some() {
            return None;
        }
        self.view()?.leader().map(|m| m.name.as_str())
    }

    /// The byte limit a replica's lag is held to: the console's own, else the cluster's
    /// `maximum_lag_on_failover`.
    pub fn limit(&self, spec: &PatroniCluster) -> u64 {
        spec.max_lag_bytes
            .or(self.max_lag_on_failover)
            .unwrap_or(DEFAULT_MAX_LAG_ON_FAILOVER)
    }

    pub fn trouble(&self, spec: &PatroniCluster) -> Option<Trouble> {
        if let Some(e) = &self.error {
            return Some(Trouble::NoAnswer(e.clone()));
        }
        let view = self.view()?;
        let leaders: Vec<&str> = view
            .members
            .iter()
            .filter(|m| m.is_leader())
            .map(|m| m.name.as_str())
            .collect();
        // Members that say of themselves that they lead, but /cluster does not agree.
        let claims: Vec<String> = self
            .nodes
            .iter()
            .zip(&spec.endpoints)
            .filter_map(|(n, base)| {
                let n = n.as_ref().ok().filter(|n| n.claims_leader())?;
                let name = n
                    .name
                    .clone()
                    .unwrap_or_else(|| text::without_scheme(base).into());
                (!leaders.contains(&name.as_str())).then_some(name)
            })
            .collect();
        match (leaders.as_slice(), claims.is_empty()) {
            (_, false) => Some(Trouble::Disagree(format!(
                "/cluster says leader {}, {} says it leads",
                if leaders.is_empty() {
                    "none".to_string()
                } else {
                    leaders.join(", ")
                },
                claims.join(", ")
            ))),
            ([], true) => Some(Trouble::NoLeader),
            ([_], true) => None,
            (many, true) => Some(Trouble::Disagree(format!(
                "/cluster lists {} leaders: {}",
                many.len(),
                many.join(", ")
            ))),
        }
    }

    /// The configured endpoint whose `/patroni` names `member`, or whose api_url matches it.
    pub fn endpoint_of(&self, spec: &PatroniCluster, member: &Member) -> Option<usize> {
        let by_name = self.nodes.iter().position(|n| {
            n.as_ref()
                .ok()
                .and_then(|n| n.name.as_deref())
                .is_some_and(|n| n == member.name)
        });
        by_name.or_else(|| {
            let api = member.api_url.as_deref()?;
            spec.endpoints
                .iter()
                .position(|e| api.starts_with(e.as_str()))
        })
    }

    /// Why the member's own REST API did not answer, if it did not.
    pub fn unreachable(&self, spec: &PatroniCluster, member: &Member) -> Option<&str> {
        let i = self.endpoint_of(spec, member)?;
        self.nodes.get(i)?.as_ref().err().map(String::as_str)
    }

    /// What `/cluster` no longer lists: a member named in `sites`, or a configured endpoint that
    /// does not answer and belongs to no listed member. A stopped Patroni leaves `/cluster` once
    /// its key expires; it must not vanish from the screen with it. (label, why) each.
    pub fn missing(&self, spec: &PatroniCluster) -> Vec<(String, String)> {
        let Some(view) = self.view() else {
            return Vec::new();
        };
        let listed: Vec<usize> = view
            .members
            .iter()
            .filter_map(|m| self.endpoint_of(spec, m))
            .collect();
        let mut out: Vec<(String, String)> = spec
            .sites
            .iter()
            .filter(|(name, _)| view.member(name).is_none())
            .map(|(name, _)| (name.clone(), "not in /cluster".to_string()))
            .collect();
        for (i, node) in self.nodes.iter().enumerate() {
            if let (Err(e), false) = (node, listed.contains(&i)) {
                let base = spec
                    .endpoints
                    .get(i)
                    .map(|b| text::without_scheme(b))
                    .unwrap_or("?");
                out.push((base.to_string(), format!("REST API unreachable: {e}")));
            }
        }
        out
    }
}

/// A replica's lag against the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LagClass {
    NotApplicable,
    Within,
    Over,
    Unknown,
}

pub fn lag_class(member: &Member, limit: u64) -> LagClass {
    if member.is_leader() {
        return LagClass::NotApplicable;
    }
    match member.worst_lag() {
        Some(Lag::Bytes(b)) if b > limit => LagClass::Over,
        Some(Lag::Bytes(_)) => LagClass::Within,
        Some(Lag::Unknown) | None => LagClass::Unknown,
    }
}

pub fn source(spec: &PatroniCluster) -> String {
    format!("patroni/{}", spec.name)
}

fn member_source(spec: &PatroniCluster, member: &str) -> String {
    format!("patroni/{}/{member}", spec.name)
}

/// "p2 (site B)" when the member's site is configured.
pub fn member_label(sites: &Sites, spec: &PatroniCluster, member: &str) -> String {
    match spec.site_of(member) {
        Some(site) => format!("{member} ({})", sites.label(site)),
        None => member.to_string(),
    }
}

#[derive(Debug, Clone, PartialEq)]
struct MemberFacts {
    role: String,
    state: String,
    nofailover: bool,
    lag: LagClass,
    unreachable: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
struct Facts {
    trouble: Option<Trouble>,
    leader: Option<String>,
    /// The last leader a reading showed, kept through readings with none (a switchover's
    /// moment without a leader, a failed read), so the leader edge names the old one.
    last_leader: Option<String>,
    paused: bool,
    members: Vec<(String, MemberFacts)>,
    history_len: usize,
}

fn facts(spec: &PatroniCluster, state: &PatroniState) -> Facts {
    let limit = state.limit(spec);
    let members = state
        .view()
        .map(|v| {
            v.members
                .iter()
                .map(|m| {
                    (
                        m.name.clone(),
                        MemberFacts {
                            role: m.role.clone(),
                            state: m.state.clone(),
                            nofailover: m.nofailover,
                            lag: lag_class(m, limit),
                            unreachable: state.unreachable(spec, m).map(str::to_string),
                        },
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Facts {
        trouble: state.trouble(spec),
        leader: state.leader().map(str::to_string),
        last_leader: state.leader().map(str::to_string),
        paused: state.view().is_some_and(|v| v.paused),
        members,
        history_len: state.history.len(),
    }
}

const PAUSED: &str = "PAUSED: maintenance mode, Patroni will not fail over";

pub fn history_text(h: &HistoryEntry) -> String {
    let leader = h
        .new_leader
        .as_deref()
        .map(|l| format!(", new leader {l}"))
        .unwrap_or_default();
    let reason = if h.reason.is_empty() {
        String::new()
    } else {
        format!(" ({})", h.reason)
    };
    format!(
        "history: timeline {} ended at LSN {}{leader}{reason}",
        h.timeline,
        text::lsn(h.lsn)
    )
}

pub fn on_reading(
    sites: &Sites,
    spec: &PatroniCluster,
    state: &mut PatroniState,
    at: OffsetDateTime,
    reading: Reading,
    edges: &mut Edges,
) {
    let src = source(spec);
    if state.stale {
        state.stale = false;
        edges.edge(at, Severity::Ok, src.clone(), "answering again");
    }
    state.last_at = Some(at);
    state.nodes = reading.nodes;
    match reading.cluster {
        Ok((endpoint, view)) => {
            state.cluster = Some((endpoint, view, at));
            state.error = None;
        }
        Err(e) => state.error = Some(e),
    }
    if let Some(history) = reading.history {
        state.history = history;
    }
    if reading.max_lag_on_failover.is_some() {
        state.max_lag_on_failover = reading.max_lag_on_failover;
    }

    let mut now = facts(spec, state);
    // A failed read says nothing about the members: keep what was reported of them, so that
    // the next good read compares with what the timeline last said.
    if state.error.is_some()
        && let Some(before) = &state.reported
    {
        now.members = before.members.clone();
    }
    if now.last_leader.is_none()
        && let Some(before) = &state.reported
    {
        now.last_leader = before.last_leader.clone();
    }
    let before = state.reported.replace(now.clone());
    let Some(before) = before else {
        first_edges(sites, spec, state, &now, at, edges);
        return;
    };
    if now.trouble != before.trouble {
        match &now.trouble {
            Some(t) => edges.edge(at, Severity::Crit, src.clone(), t.text()),
            None => edges.edge(
                at,
                Severity::Ok,
                src.clone(),
                format!(
                    "cluster readable, leader {}",
                    now.leader.as_deref().unwrap_or("?")
                ),
            ),
        }
    }
    if let (Some(new), Some(old)) = (&now.leader, &before.last_leader)
        && new != old
    {
        edges.edge(
            at,
            Severity::Warn,
            src.clone(),
            format!(
                "leader {} → {}",
                member_label(sites, spec, old),
                member_label(sites, spec, new)
            ),
        );
    }
    // From the last good read: a failed read leaves it as it was.
    if now.paused != before.paused {
        if now.paused {
            edges.edge(at, Severity::Warn, src.clone(), PAUSED);
        } else {
            edges.edge(
                at,
                Severity::Ok,
                src.clone(),
                "resumed: maintenance mode off",
            );
        }
    }
    member_edges(spec, state, &before, &now, at, edges);
    if now.history_len > before.history_len {
        for h in &state.history[before.history_len.min(state.history.len())..] {
            edges.edge(at, Severity::Warn, src.clone(), history_text(h));
        }
    }
}

fn first_edges(
    sites: &Sites,
    spec: &PatroniCluster,
    state: &PatroniState,
    now: &Facts,
    at: OffsetDateTime,
    edges: &mut Edges,
) {
    let src = source(spec);
    match (&now.trouble, &now.leader) {
        (Some(t), _) => edges.edge(at, Severity::Crit, src.clone(), t.text()),
        (None, Some(leader)) => edges.edge(
            at,
            Severity::Info,
            src.clone(),
            format!("leader {}", member_label(sites, spec, leader)),
        ),
        (None, None) => {}
    }
    if now.paused {
        edges.edge(at, Severity::Warn, src.clone(), PAUSED);
    }
    for (name, m) in &now.members {
        if let Some(e) = &m.unreachable {
            edges.edge(
                at,
                Severity::Warn,
                member_source(spec, name),
                format!("REST API unreachable: {e}"),
            );
        }
        if m.lag == LagClass::Over {
            edges.edge(
                at,
                Severity::Warn,
                member_source(spec, name),
                lag_edge(state, spec, name),
            );
        }
    }
    if let Some(last) = state.history.last() {
        edges.edge(
            at,
            Severity::Info,
            src,
            format!("last switch: {}", history_text(last)),
        );
    }
}

fn lag_edge(state: &PatroniState, spec: &PatroniCluster, name: &str) -> String {
    let lag = state
        .view()
        .and_then(|v| v.member(name))
        .and_then(|m| m.worst_lag())
        .map(|l| l.text())
        .unwrap_or_else(|| "unknown".into());
    format!("lag {lag} over the limit of {} B", state.limit(spec))
}

fn member_edges(
    spec: &PatroniCluster,
    state: &PatroniState,
    before: &Facts,
    now: &Facts,
    at: OffsetDateTime,
    edges: &mut Edges,
) {
    for (name, m) in &now.members {
        let src = member_source(spec, name);
        let Some((_, old)) = before.members.iter().find(|(n, _)| n == name) else {
            if !before.members.is_empty() {
                edges.edge(
                    at,
                    Severity::Info,
                    src,
                    format!("joined: {} {}", m.role, m.state),
                );
            }
            continue;
        };
        if (old.role.as_str(), old.state.as_str()) != (m.role.as_str(), m.state.as_str()) {
            let severity = if m.state == "running" || m.state == "streaming" {
                Severity::Info
            } else {
                Severity::Warn
            };
            edges.edge(
                at,
                severity,
                src.clone(),
                format!("{} {} → {} {}", old.role, old.state, m.role, m.state),
            );
        }
        if old.nofailover != m.nofailover {
            let text = if m.nofailover {
                "tagged nofailover: never a failover candidate"
            } else {
                "nofailover tag removed"
            };
            edges.edge(at, Severity::Info, src.clone(), text);
        }
        // Reachable or not: a failing API's error text may change from read to read (timeout,
        // then refused) without being news.
        if old.unreachable.is_some() != m.unreachable.is_some() {
            match &m.unreachable {
                Some(e) => edges.edge(
                    at,
                    Severity::Warn,
                    src.clone(),
                    format!("REST API unreachable: {e}"),
                ),
                None => edges.edge(at, Severity::Ok, src.clone(), "REST API answering again"),
            }
        }
        if old.lag != m.lag {
            match (old.lag, m.lag) {
                (_, LagClass::Over) => {
                    edges.edge(at, Severity::Warn, src.clone(), lag_edge(state, spec, name))
                }
                (LagClass::Over, LagClass::Within) => {
                    edges.edge(at, Severity::Ok, src.clone(), "lag back within the limit")
                }
                (LagClass::Within, LagClass::Unknown) => {
                    edges.edge(at, Severity::Warn, src.clone(), "lag unknown")
                }
                _ => {}
            }
        }
    }
    for (name, _) in &before.members {
        if !now.members.iter().any(|(n, _)| n == name) {
            edges.edge(
                at,
                Severity::Warn,
                member_source(spec, name),
                "gone from /cluster (Patroni stopped or its key expired)",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::patroni::cluster_view;

    fn reading(leader: Option<&str>) -> Reading {
        let member = |name: &str| {
            let role = if Some(name) == leader {
                "leader"
            } else {
                "replica"
            };
            serde_json::json!({"name": name, "role": role, "state": "running", "lag": 0})
        };
        let view = cluster_view(&serde_json::json!({"members": [member("p1"), member("p2")]}));
        Reading {
            nodes: Vec::new(),
            cluster: Ok((0, view.unwrap())),
            history: None,
            max_lag_on_failover: None,
        }
    }

    fn messages(edges: Edges) -> Vec<String> {
        edges.0.into_iter().map(|entry| entry.message).collect()
    }

    /// A switchover read in the moment the old leader has stepped down and the new one not yet
    /// taken over: the leader edge still names both.
    #[test]
    fn a_reading_without_a_leader_between_keeps_the_leader_edge() {
        let config = crate::config::tests::parse(
            "[sites.primary]\nlabel = \"site A\"\n[sites.secondary]\nlabel = \"site B\"\n\
             [[database]]\nname = \"lab\"\nkind = \"patroni\"\n\
             members = [\"http://127.0.0.1:18008\"]\nsites = { p1 = \"primary\", p2 = \"secondary\" }\n",
        );
        let spec = &config.kinds.patroni[0];
        let mut state = PatroniState::default();
        let now = OffsetDateTime::UNIX_EPOCH;
        // The cluster-wide edges (member role changes left out).
        let mut read = |leader| {
            let mut edges = Edges::default();
            on_reading(
                &config.sites,
                spec,
                &mut state,
                now,
                reading(leader),
                &mut edges,
            );
            messages(edges)
                .into_iter()
                .filter(|e| !e.contains("running →"))
                .collect::<Vec<_>>()
        };
        assert_eq!(read(Some("p1")), ["leader p1 (site A)"]);
        assert_eq!(read(None), ["NO LEADER"]);
        assert_eq!(
            read(Some("p2")),
            [
                "cluster readable, leader p2",
                "leader p1 (site A) → p2 (site B)"
            ]
        );
        // A leader that is back after a moment without one is no leader change.
        assert_eq!(read(None), ["NO LEADER"]);
        assert_eq!(read(Some("p2")), ["cluster readable, leader p2"]);
    }
}
