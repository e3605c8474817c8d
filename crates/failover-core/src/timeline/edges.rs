//! The timeline entries a source's state writes as it changes: one per edge.

use time::OffsetDateTime;

use super::{Entry, Kind, Severity};

/// Collects edges while a reading is applied; the reducer journals them.
#[derive(Debug, Default)]
pub struct Edges(pub Vec<Entry>);

impl Edges {
    pub fn edge(
        &mut self,
        at: OffsetDateTime,
        severity: Severity,
        source: String,
        message: impl Into<String>,
    ) {
        self.0
            .push(Entry::new(at, severity, Kind::Edge, source, message));
    }

    /// A source heard from again after it went stale: one edge, and not stale any more.
    pub fn fresh_again(
        &mut self,
        stale: &mut bool,
        at: OffsetDateTime,
        source: impl FnOnce() -> String,
    ) {
        if *stale {
            *stale = false;
            self.edge(
                at,
                Severity::Ok,
                source(),
                "answering again (no longer stale)",
            );
        }
    }
}
