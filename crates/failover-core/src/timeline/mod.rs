//! The incident record: timeline entries, the append-only journal they are written to before
//! they are shown, and the post-mortem export.

mod driver;
mod edges;
pub mod export;
pub mod run;

pub use driver::{DriverMark, LockInfo};
pub use edges::Edges;
pub use run::{
    Event, ExpectedPrimary, Milestone, Phase, PromoteLag, RunClass, RunEvent, StepResult,
};

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Ok,
    Warn,
    Crit,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Info => "INFO",
            Severity::Ok => "OK",
            Severity::Warn => "WARN",
            Severity::Crit => "CRIT",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A change the console observed in the world.
    Edge,
    /// Something an operator wrote.
    Note,
    /// The console itself: start, stop, journal trouble, the driver lock.
    Console,
    /// A runbook run: arming, each step's start and outcome, skips, overrides, abort.
    Run,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub severity: Severity,
    pub kind: Kind,
    pub source: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    /// Which console wrote it ("host:pid"), so consoles sharing a journal know each other's lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub console: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<RunEvent>,
    /// The driver's fencing token, on every run event a driver writes (see `LockInfo::token`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<u64>,
    /// On the entry that records a change of driver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<DriverMark>,
    /// Where the shared record (etcd) holds it: its revision, once known. A local mirror line
    /// of another console's entry carries it; this console's own lines are written before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rev: Option<i64>,
}

impl Entry {
    pub fn new(
        at: OffsetDateTime,
        severity: Severity,
        kind: Kind,
        source: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Entry {
            at,
            severity,
            kind,
            source: source.into(),
            message: message.into(),
            operator: None,
            console: None,
            run: None,
            token: None,
            driver: None,
            rev: None,
        }
    }

    pub fn by(mut self, operator: &str) -> Self {
        self.operator = Some(operator.to_string());
        self
    }

    pub fn matches(&self, filter: &str) -> bool {
        if filter.is_empty() {
            return true;
        }
        let needle = filter.to_lowercase();
        self.message.to_lowercase().contains(&needle)
            || self.source.to_lowercase().contains(&needle)
            || self.severity.label().to_lowercase() == needle
            || self
                .operator
                .as_deref()
                .is_some_and(|o| o.to_lowercase().contains(&needle))
    }
}

/// The entries on screen: the newest `capacity`, each marked if writing it to the journal failed.
/// The entries shown on the timeline, newest last, and those that match the operator's filter:
/// kept as entries arrive and when the filter changes, so a frame never searches them all.
#[derive(Debug, Clone)]
pub struct Timeline {
    entries: VecDeque<Shown>,
    capacity: usize,
    /// The sequence number of `entries[0]`: entries are numbered as they arrive.
    first: u64,
    /// The filter, lower case; empty: every entry.
    filter: String,
    /// One service's entries only; None: every service's.
    service: Option<ServiceEntries>,
    /// Sequence numbers of the entries that match `filter` and `service`, oldest first.
    matching: VecDeque<u64>,
    /// Older history in the journal, not read yet.
    pub older: Older,
    /// A page of older history has been asked for and has not come yet.
    pub reading_older: bool,
    /// Counts the entries dropped from the front: a page read before one was dropped would
    /// leave it out, and is read again.
    pub dropped: u64,
}

/// Which entries belong to one service: those of its sources (an entry's source is the
/// source's, or under it: "db/orders" holds "db/orders/west") and the runs of its runbooks.
/// Console entries and notes concern every service: they are always shown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceEntries {
    pub sources: Vec<String>,
    pub runbooks: Vec<String>,
}

impl ServiceEntries {
    pub fn holds(&self, entry: &Entry) -> bool {
        match entry.kind {
            Kind::Console | Kind::Note => true,
            Kind::Run => {
                let runbook = entry.run.as_ref().map(|r| r.runbook.as_str());
                let runbook = runbook.or_else(|| entry.source.strip_prefix("run/"));
                runbook.is_some_and(|r| self.runbooks.iter().any(|n| n == r))
            }
            Kind::Edge => self.sources.iter().any(|s| {
                entry
                    .source
                    .strip_prefix(s.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
            }),
        }
    }
}

/// A run of journal lines, read at start-up (the tail) or when the operator scrolls back (a page
/// of older history).
#[derive(Debug, Default)]
pub struct Tail {
    /// Oldest first.
    pub entries: Vec<Entry>,
    /// Where each of `entries` begins in the file.
    pub offsets: Vec<u64>,
    /// Where the first of `entries` begins in the file: everything before it is older history,
    /// read a page at a time with `read_before` when the operator scrolls to it.
    pub start: u64,
    /// Where the file ended when it was read: later lines are the live ones.
    pub end: u64,
    /// A last line without its newline: the console was killed while writing it.
    pub torn_last_line: bool,
    /// Lines that are not journal entries (hand edits, corruption), skipped.
    pub unreadable_lines: usize,
    /// Lines longer than the readers' limit (1 MiB), skipped without being read.
    pub overlong_lines: usize,
}

/// History in the journal older than the oldest entry in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Older {
    None,
    /// Lines before this byte.
    Before(u64),
    /// Lines before the one that holds the oldest entry in memory.
    BeforeOldest,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    pub entry: Entry,
    pub journaled: bool,
    /// What the filter searches, lower case: source, message and operator, NUL-separated.
    haystack: String,
    /// Where it begins in the journal, when it was read from there.
    offset: Option<u64>,
}

impl Shown {
    fn new(entry: Entry, journaled: bool, offset: Option<u64>) -> Shown {
        let mut haystack = entry.source.to_lowercase();
        haystack.push('\0');
        haystack.push_str(&entry.message.to_lowercase());
        if let Some(op) = &entry.operator {
            haystack.push('\0');
            haystack.push_str(&op.to_lowercase());
        }
        Shown {
            entry,
            journaled,
            haystack,
            offset,
        }
    }

    /// `needle` is lower case and not empty: the same rule as `Entry::matches`.
    fn matches(&self, needle: &str) -> bool {
        self.haystack.contains(needle) || self.entry.severity.label().eq_ignore_ascii_case(needle)
    }
}

impl Timeline {
    pub fn new(capacity: usize) -> Self {
        Timeline {
            entries: VecDeque::new(),
            capacity: capacity.max(1),
            // Room below for older pages put in front.
            first: 1 << 40,
            filter: String::new(),
            service: None,
            matching: VecDeque::new(),
            older: Older::None,
            reading_older: false,
            dropped: 0,
        }
    }

    /// The journal's tail at start-up: its entries, and where older history ends.
    pub fn load(&mut self, tail: Tail) {
        for (entry, offset) in tail.entries.into_iter().zip(tail.offsets) {
            self.push_at(entry, true, Some(offset));
        }
        if tail.start > 0 {
            self.older = Older::Before(tail.start);
        }
    }

    /// A page of older history (oldest first) in front of the oldest entry here; `start` is
    /// where the page begins in the journal. The operator asked for it: the timeline grows by
    /// it instead of dropping its newest.
    pub fn prepend(&mut self, page: Tail) {
        self.reading_older = false;
        self.older = if page.start > 0 {
            Older::Before(page.start)
        } else {
            Older::None
        };
        self.capacity += page.entries.len();
        for (entry, offset) in page.entries.into_iter().zip(page.offsets).rev() {
            let shown = Shown::new(entry, true, Some(offset));
            self.first -= 1;
            if self.filtering() && self.shows(&shown) {
                self.matching.push_front(self.first);
            }
            self.entries.push_front(shown);
        }
    }

    pub fn push(&mut self, entry: Entry, journaled: bool) {
        self.push_at(entry, journaled, None);
    }

    fn push_at(&mut self, entry: Entry, journaled: bool, offset: Option<u64>) {
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
            self.first += 1;
            self.dropped += 1;
            if self.matching.front().is_some_and(|s| *s < self.first) {
                self.matching.pop_front();
            }
            // What was dropped is older history now, read back on demand like the rest: from
            // where the new oldest begins, or, if that came after start-up (its place in the
            // file not known here), from the line that holds it.
            self.older = match self.entries.front() {
                Some(Shown {
                    offset: Some(at), ..
                }) => Older::Before(*at),
                _ => Older::BeforeOldest,
            };
        }
        let shown = Shown::new(entry, journaled, offset);
        if self.filtering() && self.shows(&shown) {
            self.matching
                .push_back(self.first + self.entries.len() as u64);
        }
        self.entries.push_back(shown);
    }

    /// Sets the filter (any case); finds the matching entries once, here.
    pub fn set_filter(&mut self, filter: &str) {
        let needle = filter.trim().to_lowercase();
        if needle == self.filter {
            return;
        }
        self.filter = needle;
        self.refilter();
    }

    /// Shows one service's entries only (None: every service's); the filter applies within.
    pub fn set_service(&mut self, service: Option<ServiceEntries>) {
        if service == self.service {
            return;
        }
        self.service = service;
        self.refilter();
    }

    fn filtering(&self) -> bool {
        !self.filter.is_empty() || self.service.is_some()
    }

    fn shows(&self, shown: &Shown) -> bool {
        (self.filter.is_empty() || shown.matches(&self.filter))
            && self.service.as_ref().is_none_or(|s| s.holds(&shown.entry))
    }

    fn refilter(&mut self) {
        self.matching.clear();
        if self.filtering() {
            let first = self.first;
            let matching: Vec<u64> = self
                .entries
                .iter()
                .enumerate()
                .filter(|(_, s)| self.shows(s))
                .map(|(i, _)| first + i as u64)
                .collect();
            self.matching.extend(matching);
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The oldest entry in memory.
    pub fn oldest(&self) -> Option<&Entry> {
        self.entries.front().map(|s| &s.entry)
    }

    /// Newest first, as shown.
    pub fn newest_first(&self) -> impl Iterator<Item = &Shown> {
        self.entries.iter().rev()
    }

    /// The entries that match the filter (all without one), newest first.
    pub fn shown_newest_first(&self) -> Box<dyn Iterator<Item = &Shown> + '_> {
        if !self.filtering() {
            return Box::new(self.entries.iter().rev());
        }
        Box::new(
            self.matching
                .iter()
                .rev()
                .filter_map(|seq| self.entries.get((seq - self.first) as usize)),
        )
    }

    /// How many entries the filter lets through.
    pub fn count_shown(&self) -> usize {
        if !self.filtering() {
            self.entries.len()
        } else {
            self.matching.len()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(i: usize, message: &str) -> Entry {
        let at = OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(i as i64);
        Entry::new(at, Severity::Info, Kind::Edge, "health/api-a", message)
    }

    fn shown(t: &Timeline) -> Vec<String> {
        t.shown_newest_first()
            .map(|s| s.entry.message.clone())
            .collect()
    }

    #[test]
    fn the_filter_follows_new_and_evicted_entries() {
        let mut t = Timeline::new(4);
        t.push(entry(0, "RED one"), true);
        t.push(entry(1, "blue two"), true);
        t.set_filter(" red ");
        assert_eq!(shown(&t), ["RED one"]);
        t.push(entry(2, "red three"), true);
        t.push(entry(3, "blue four"), true);
        assert_eq!(shown(&t), ["red three", "RED one"]);
        // Capacity 4: "RED one" goes, and with it its place in the filter.
        t.push(entry(4, "red five"), true);
        assert_eq!(shown(&t), ["red five", "red three"]);
        assert_eq!(t.count_shown(), 2);
        t.set_filter("api-a");
        assert_eq!(t.count_shown(), 4, "the source matches");
        t.set_filter("INFO");
        assert_eq!(t.count_shown(), 4, "the severity label matches");
        t.set_filter("");
        assert_eq!(
            shown(&t),
            ["red five", "blue four", "red three", "blue two"]
        );
    }

    #[test]
    fn a_service_shows_its_sources_and_runs_and_the_filter_applies_within() {
        let mut t = Timeline::new(10);
        let at = OffsetDateTime::UNIX_EPOCH;
        for source in [
            "db/orders/west",
            "db/orders-2/west",
            "dns/api.x. A",
            "health/api-a",
        ] {
            t.push(
                Entry::new(at, Severity::Warn, Kind::Edge, source, "flip"),
                true,
            );
        }
        t.push(
            Entry::new(at, Severity::Info, Kind::Run, "run/failover", "armed"),
            true,
        );
        t.push(
            Entry::new(at, Severity::Info, Kind::Run, "run/other", "armed"),
            true,
        );
        t.push(
            Entry::new(at, Severity::Info, Kind::Note, "operator", "hi"),
            true,
        );
        let sources = |t: &Timeline| -> Vec<String> {
            t.shown_newest_first()
                .map(|s| s.entry.source.clone())
                .collect()
        };
        t.set_service(Some(ServiceEntries {
            sources: vec!["db/orders".into(), "dns/api.x. A".into()],
            runbooks: vec!["failover".into()],
        }));
        assert_eq!(
            sources(&t),
            ["operator", "run/failover", "dns/api.x. A", "db/orders/west"]
        );
        t.push(
            Entry::new(at, Severity::Ok, Kind::Edge, "db/orders", "back"),
            true,
        );
        t.push(
            Entry::new(at, Severity::Ok, Kind::Edge, "health/api-b", "x"),
            true,
        );
        assert_eq!(
            t.count_shown(),
            5,
            "a new entry of its own counts, another's not"
        );
        t.set_filter("armed");
        assert_eq!(sources(&t), ["run/failover"]);
        t.set_service(None);
        assert_eq!(sources(&t), ["run/other", "run/failover"]);
        t.set_filter("");
        assert_eq!(t.count_shown(), 9);
    }
}
