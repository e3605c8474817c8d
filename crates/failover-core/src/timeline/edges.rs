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
}
