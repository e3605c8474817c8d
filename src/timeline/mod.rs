//! The incident record: timeline entries, the append-only journal they are written to before
//! they are shown, and the post-mortem export.

pub mod export;
pub mod journal;
pub mod tail;

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
    pub run: Option<crate::runbook::RunEvent>,
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
#[derive(Debug, Clone)]
pub struct Timeline {
    entries: VecDeque<Shown>,
    capacity: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    pub entry: Entry,
    pub journaled: bool,
}

impl Timeline {
    pub fn new(capacity: usize) -> Self {
        Timeline {
            entries: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    pub fn push(&mut self, entry: Entry, journaled: bool) {
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
        }
        self.entries.push_back(Shown { entry, journaled });
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Newest first, as shown.
    pub fn newest_first(&self) -> impl Iterator<Item = &Shown> {
        self.entries.iter().rev()
    }

    pub fn count_matching(&self, filter: &str) -> usize {
        if filter.is_empty() {
            return self.entries.len();
        }
        self.entries
            .iter()
            .filter(|s| s.entry.matches(filter))
            .count()
    }
}
