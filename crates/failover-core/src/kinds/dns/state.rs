//! Live DNS answers per resolver, and which site they send traffic to.

use time::OffsetDateTime;

use super::{DnsAnswer, DnsRecord};
use crate::schema::{SiteId, Sites};
use crate::timeline::{Edges, Severity};

/// What one resolver's answer means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    Site(SiteId),
    /// An answer that matches no configured site.
    Unknown,
    /// No usable answer: NXDOMAIN, SERVFAIL, timeout...
    NoAnswer,
}

/// What the resolvers together say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordSite {
    Pending,
    Site(SiteId),
    /// Resolvers disagree.
    Mixed,
    Unknown,
    NoAnswer,
}

#[derive(Debug, Clone, Default)]
pub struct ResolverState {
    pub answer: Option<DnsAnswer>,
    pub matched: Option<Match>,
    pub last_at: Option<OffsetDateTime>,
    pub stale: bool,
}

#[derive(Debug, Clone)]
pub struct RecordState {
    pub resolvers: Vec<ResolverState>,
    pub site: RecordSite,
}

impl RecordState {
    /// Everything the record's rows show; equal before and after an answer: nothing to redraw.
    pub fn shown(&self) -> impl PartialEq + use<> {
        let resolvers: Vec<_> = self
            .resolvers
            .iter()
            .map(|r| (r.answer.clone(), r.matched, r.stale))
            .collect();
        (self.site, resolvers)
    }

    pub fn new(spec: &DnsRecord) -> Self {
        RecordState {
            resolvers: spec
                .resolvers
                .iter()
                .map(|_| ResolverState::default())
                .collect(),
            site: RecordSite::Pending,
        }
    }
}

pub fn source(spec: &DnsRecord) -> String {
    format!("dns/{} {}", spec.name, spec.record_type)
}

pub fn match_answer(spec: &DnsRecord, answer: &DnsAnswer) -> Match {
    let DnsAnswer::Records { values, .. } = answer else {
        return Match::NoAnswer;
    };
    if values.is_empty() {
        return Match::NoAnswer;
    }
    spec.answers
        .iter()
        .find(|(_, expected)| values.iter().all(|v| expected.contains(v)))
        .map(|(site, _)| Match::Site(*site))
        .unwrap_or(Match::Unknown)
}

fn combine(state: &RecordState) -> RecordSite {
    let mut seen: Option<Match> = None;
    for r in &state.resolvers {
        let Some(m) = r.matched else {
            return RecordSite::Pending;
        };
        match seen {
            None => seen = Some(m),
            Some(prev) if prev != m => return RecordSite::Mixed,
            _ => {}
        }
    }
    match seen {
        Some(Match::Site(s)) => RecordSite::Site(s),
        Some(Match::Unknown) => RecordSite::Unknown,
        Some(Match::NoAnswer) => RecordSite::NoAnswer,
        None => RecordSite::Pending,
    }
}

pub fn site_text(sites: &Sites, m: Match) -> String {
    match m {
        Match::Site(s) => sites.label(s).to_string(),
        Match::Unknown => "no site".to_string(),
        Match::NoAnswer => "no answer".to_string(),
    }
}

/// Compares answers by meaning, not TTL: a TTL counting down on a cache is not a change.
fn same_answer(a: &DnsAnswer, b: &DnsAnswer) -> bool {
    match (a, b) {
        (DnsAnswer::Records { values: x, .. }, DnsAnswer::Records { values: y, .. }) => x == y,
        (DnsAnswer::Error(_), DnsAnswer::Error(_)) => true,
        _ => a == b,
    }
}

pub fn on_answer(
    sites: &Sites,
    spec: &DnsRecord,
    state: &mut RecordState,
    resolver: usize,
    at: OffsetDateTime,
    answer: DnsAnswer,
    edges: &mut Edges,
) {
    let source = source(spec);
    let server = spec.resolvers[resolver];
    let matched = match_answer(spec, &answer);
    let r = &mut state.resolvers[resolver];
    if r.stale {
        r.stale = false;
        edges.edge(
            at,
            Severity::Ok,
            source.clone(),
            format!("@{server} answering again (no longer stale)"),
        );
    }
    let changed = match &r.answer {
        None => true,
        Some(old) => !same_answer(old, &answer),
    };
    if changed {
        let severity = match matched {
            Match::Site(_) => Severity::Info,
            Match::Unknown | Match::NoAnswer => Severity::Warn,
        };
        let now = format!("{} ({})", answer.describe(), site_text(sites, matched));
        let message = match &r.answer {
            Some(old) => format!("@{server}: {} → {now}", old.describe()),
            None => format!("@{server}: {now}"),
        };
        edges.edge(at, severity, source.clone(), message);
    }
    r.answer = Some(answer);
    r.matched = Some(matched);
    r.last_at = Some(at);
    let site = combine(state);
    if site != state.site && site != RecordSite::Pending && spec.resolvers.len() > 1 {
        let (severity, message) = match site {
            RecordSite::Site(s) => (
                Severity::Info,
                format!("all resolvers agree: {}", sites.label(s)),
            ),
            RecordSite::Mixed => (Severity::Warn, "resolvers disagree (mixed)".to_string()),
            RecordSite::Unknown => (Severity::Warn, "answers match no site".to_string()),
            _ => (Severity::Warn, "no resolver gives an answer".to_string()),
        };
        edges.edge(at, severity, source, message);
    }
    state.site = site;
}
