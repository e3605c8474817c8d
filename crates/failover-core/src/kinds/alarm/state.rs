//! The alarms of an `[[alarm]]` source as last read, and the edges between readings.

use time::OffsetDateTime;

use super::{AlarmInfo, AlarmReading, AlarmSource, AlarmValue, Alarms};
use crate::kinds::aws::{self, AwsError};
use crate::text::clock;
use crate::timeline::{Edges, Severity};

#[derive(Debug, Clone, Default)]
pub struct AlarmState {
    /// The last successful read.
    pub reading: Option<AlarmReading>,
    pub error: Option<AwsError>,
    pub last_at: Option<OffsetDateTime>,
    pub stale: bool,
    /// Each alarm's state as last put on the timeline (None: not found).
    reported: Vec<(String, Option<AlarmValue>)>,
}

/// One alarm a source shows: found with its state, or named in the config and not found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Row<'a> {
    Found(&'a AlarmInfo),
    NotFound(&'a str),
}

impl Row<'_> {
    pub fn name(&self) -> &str {
        match self {
            Row::Found(a) => &a.name,
            Row::NotFound(name) => name,
        }
    }
}

impl AlarmState {
    /// The alarms to show, once read: the named ones in the config's order (found or not), or
    /// every one the prefix matched, in CloudWatch's order.
    pub fn rows<'a>(&'a self, spec: &'a AlarmSource) -> Option<Vec<Row<'a>>> {
        let reading = self.reading.as_ref()?;
        Some(match &spec.alarms {
            Alarms::Named(names) => names
                .iter()
                .map(|n| match reading.alarms.iter().find(|a| &a.name == n) {
                    Some(a) => Row::Found(a),
                    None => Row::NotFound(n),
                })
                .collect(),
            Alarms::Prefix(_) => reading.alarms.iter().map(Row::Found).collect(),
        })
    }

    /// Everything the rows show; equal before and after a read: nothing to redraw.
    pub fn shown(&self) -> impl PartialEq + use<> {
        (
            self.reading.clone(),
            // Whole: the row shows the error's message too ("timeout: ...").
            self.error.clone(),
            self.stale,
        )
    }
}

pub fn source(spec: &AlarmSource) -> String {
    format!("alarm/{}", spec.name)
}

/// "ALARM since 12:00:01: Threshold Crossed: 1 datapoint [7.0] was greater than 5.0".
pub fn describe(a: &AlarmInfo) -> String {
    let since = a
        .since
        .map(|t| format!(" since {}", clock(t)))
        .unwrap_or_default();
    if a.reason.is_empty() {
        format!("{}{since}", a.state.label())
    } else {
        format!("{}{since}: {}", a.state.label(), a.reason)
    }
}

fn severity(state: Option<&AlarmValue>) -> Severity {
    match state {
        Some(AlarmValue::Ok) => Severity::Ok,
        Some(AlarmValue::Alarm) => Severity::Crit,
        _ => Severity::Warn,
    }
}

pub fn on_reading(
    spec: &AlarmSource,
    state: &mut AlarmState,
    at: OffsetDateTime,
    result: Result<AlarmReading, AwsError>,
    edges: &mut Edges,
) {
    let source = source(spec);
    edges.fresh_again(&mut state.stale, at, || source.clone());
    state.last_at = Some(at);
    let reading = match result {
        Err(e) => {
            let profile = spec.aws.profile.as_deref();
            aws::on_error(&mut state.error, e, at, source, profile, edges);
            return;
        }
        Ok(reading) => reading,
    };
    if state.error.take().is_some() {
        edges.edge(
            at,
            Severity::Ok,
            source.clone(),
            "CloudWatch answering again",
        );
    }
    state.reading = Some(reading);
    let now: Vec<(String, Option<AlarmValue>, String)> = state
        .rows(spec)
        .unwrap_or_default()
        .iter()
        .map(|row| match row {
            Row::Found(a) => (a.name.clone(), Some(a.state.clone()), describe(a)),
            Row::NotFound(n) => (n.to_string(), None, "not found in CloudWatch".into()),
        })
        .collect();
    for (name, value, text) in &now {
        let old = state
            .reported
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v);
        match old {
            Some(old) if old == value => {}
            Some(old) => {
                let was = old.as_ref().map(|v| v.label()).unwrap_or("not found");
                edges.edge(
                    at,
                    severity(value.as_ref()),
                    source.clone(),
                    format!("{name}: {was} → {text}"),
                );
            }
            None => {
                let severity = match value {
                    Some(AlarmValue::Ok) => Severity::Info,
                    other => severity(other.as_ref()),
                };
                edges.edge(at, severity, source.clone(), format!("{name}: {text}"));
            }
        }
    }
    // An alarm a prefix no longer matches (deleted or renamed) is gone from the screen: say so.
    for (name, _) in &state.reported {
        if !now.iter().any(|(n, _, _)| n == name) {
            edges.edge(
                at,
                Severity::Warn,
                source.clone(),
                format!("{name}: no longer returned by CloudWatch"),
            );
        }
    }
    state.reported = now.into_iter().map(|(n, v, _)| (n, v)).collect();
}
