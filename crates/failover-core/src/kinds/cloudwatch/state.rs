//! `[[cloudwatch]]` checks: the latest datapoint against warn / crit, and the edges between
//! states.

use time::OffsetDateTime;

use super::{CloudWatchCheck, Datapoint};
use crate::kinds::aws::{self, AwsError};
use crate::text;
use crate::timeline::{Edges, Severity};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Level {
    /// No reading yet.
    #[default]
    Waiting,
    Ok,
    Warn,
    Crit,
    /// CloudWatch has no datapoint within `max-age`: not zero, not OK.
    NoData,
}

impl Level {
    pub fn label(self) -> &'static str {
        match self {
            Level::Waiting => "waiting",
            Level::Ok => "OK",
            Level::Warn => "WARN",
            Level::Crit => "CRIT",
            Level::NoData => "NO DATA",
        }
    }
}

/// What the check shows, all things considered: its level unless the source fails or is stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    Level(Level),
    Error,
    Stale,
}

impl Shown {
    pub fn label(self) -> &'static str {
        match self {
            Shown::Level(l) => l.label(),
            Shown::Error => "error",
            Shown::Stale => "stale",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct CwState {
    /// From the last successful read.
    pub level: Level,
    pub latest: Option<Datapoint>,
    pub error: Option<AwsError>,
    /// When the level (or the error) began.
    pub since: Option<OffsetDateTime>,
    pub last_at: Option<OffsetDateTime>,
    pub stale: bool,
}

impl CwState {
    /// Everything the screen shows of the check (its row, the verdict's findings, the gates'
    /// evidence); equal before and after a read: nothing to redraw. (`shown` is the state its
    /// row names.) The datapoint is compared whole: its value and its time are both shown.
    pub fn on_screen(&self) -> impl PartialEq + use<> {
        (
            self.level,
            self.latest,
            self.error.clone(),
            self.since,
            self.stale,
            self.last_at.filter(|_| self.stale),
        )
    }

    pub fn shown(&self) -> Shown {
        if self.stale {
            Shown::Stale
        } else if self.error.is_some() {
            Shown::Error
        } else {
            Shown::Level(self.level)
        }
    }
}

pub fn source(spec: &CloudWatchCheck) -> String {
    format!("cloudwatch/{}", spec.name)
}

pub fn lower_is_worse(spec: &CloudWatchCheck) -> bool {
    spec.crit < spec.warn
}

/// Beyond a threshold is worse than it; exactly at it is not.
pub fn level(spec: &CloudWatchCheck, value: f64) -> Level {
    let beyond = |threshold: f64| {
        if lower_is_worse(spec) {
            value < threshold
        } else {
            value > threshold
        }
    };
    if beyond(spec.crit) {
        Level::Crit
    } else if beyond(spec.warn) {
        Level::Warn
    } else {
        Level::Ok
    }
}

/// "99.5", "100", "0.001".
pub fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else if v.abs() >= 100.0 {
        format!("{v:.1}")
    } else {
        let text = format!("{v:.3}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// "warn < 95, crit < 90".
pub fn thresholds(spec: &CloudWatchCheck) -> String {
    let op = if lower_is_worse(spec) { "<" } else { ">" };
    format!(
        "warn {op} {}, crit {op} {}",
        number(spec.warn),
        number(spec.crit)
    )
}

/// "SuccessPercent Average 1m".
pub fn metric_text(spec: &CloudWatchCheck) -> String {
    format!(
        "{} {} {}",
        spec.metric,
        spec.statistic,
        text::setting(spec.period)
    )
}

/// "93 below warn 95": why the level is what it is.
pub fn reason(spec: &CloudWatchCheck, value: f64) -> String {
    let (word, bound) = if lower_is_worse(spec) {
        ("below", "at or above")
    } else {
        ("above", "at or below")
    };
    match level(spec, value) {
        Level::Crit => format!("{} {word} crit {}", number(value), number(spec.crit)),
        Level::Warn => format!("{} {word} warn {}", number(value), number(spec.warn)),
        _ => format!("{} {bound} warn {}", number(value), number(spec.warn)),
    }
}

/// One line for panes, gates and `status`: "OK: 100 at or above warn 95 (SuccessPercent
/// Average 1m, 40s old)", "NO DATA: nothing in the last 5m", "error: ...", "stale: ...".
pub fn describe(spec: &CloudWatchCheck, st: &CwState, now: OffsetDateTime) -> String {
    let age = |p: &Datapoint| format!("{}, {} old", metric_text(spec), text::since(now, p.at));
    let level_text = match (st.level, &st.latest) {
        (Level::Waiting, _) => "no reading yet".to_string(),
        (Level::NoData, _) => format!(
            "no datapoint of {} in the last {}",
            metric_text(spec),
            text::setting(spec.max_age)
        ),
        (_, Some(p)) => format!("{} ({})", reason(spec, p.value), age(p)),
        (_, None) => String::new(),
    };
    match st.shown() {
        Shown::Level(l) => format!("{}: {level_text}", l.label()),
        Shown::Error => format!(
            "error: {}",
            st.error
                .as_ref()
                .map(|e| e.describe(spec.aws.profile.as_deref()))
                .unwrap_or_default()
        ),
        Shown::Stale => format!(
            "stale: no answer since {}, was {}",
            st.last_at
                .map(|t| format!("{} ago", text::since(now, t)))
                .unwrap_or_else(|| "the start".into()),
            st.level.label()
        ),
    }
}

pub fn on_reading(
    spec: &CloudWatchCheck,
    state: &mut CwState,
    at: OffsetDateTime,
    result: Result<Option<Datapoint>, AwsError>,
    edges: &mut Edges,
) {
    let source = source(spec);
    edges.fresh_again(&mut state.stale, at, || source.clone());
    state.last_at = Some(at);
    let point = match result {
        Err(e) => {
            let profile = spec.aws.profile.as_deref();
            if aws::on_error(&mut state.error, e, at, source, profile, edges) {
                state.since = Some(at);
            }
            return;
        }
        Ok(point) => point,
    };
    let recovered = state.error.take().is_some();
    let next = point.map_or(Level::NoData, |p| level(spec, p.value));
    state.latest = point;
    if next == state.level {
        if recovered {
            edges.edge(at, Severity::Ok, source, "CloudWatch answering again");
            state.since = Some(at);
        }
        return;
    }
    let severity = match next {
        Level::Ok => Severity::Ok,
        Level::Crit => Severity::Crit,
        _ => Severity::Warn,
    };
    let detail = match point {
        Some(p) => reason(spec, p.value),
        None => format!("no datapoint in the last {}", text::setting(spec.max_age)),
    };
    edges.edge(
        at,
        severity,
        source,
        format!(
            "{} → {}: {detail} ({})",
            state.level.label(),
            next.label(),
            metric_text(spec)
        ),
    );
    state.level = next;
    state.since = Some(at);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(warn: f64, crit: f64) -> CloudWatchCheck {
        let text = format!(
            "[sites.a]\n[[cloudwatch]]\nname = \"c\"\nnamespace = \"N\"\nmetric = \"M\"\nwarn = {warn}\ncrit = {crit}\n"
        );
        crate::config::tests::parse(&text)
            .kinds
            .cloudwatch
            .remove(0)
    }

    #[test]
    fn thresholds_point_either_way() {
        let lower = spec(95.0, 90.0);
        assert_eq!(level(&lower, 100.0), Level::Ok);
        assert_eq!(level(&lower, 95.0), Level::Ok);
        assert_eq!(level(&lower, 94.9), Level::Warn);
        assert_eq!(level(&lower, 90.0), Level::Warn);
        assert_eq!(level(&lower, 89.0), Level::Crit);
        assert_eq!(thresholds(&lower), "warn < 95, crit < 90");
        assert_eq!(reason(&lower, 93.0), "93 below warn 95");
        let higher = spec(2.0, 5.0);
        assert_eq!(level(&higher, 1.0), Level::Ok);
        assert_eq!(level(&higher, 3.0), Level::Warn);
        assert_eq!(level(&higher, 5.5), Level::Crit);
        assert_eq!(reason(&higher, 1.5), "1.5 at or below warn 2");
    }

    #[test]
    fn numbers_read_plainly() {
        assert_eq!(number(100.0), "100");
        assert_eq!(number(99.5), "99.5");
        assert_eq!(number(0.0012), "0.001");
        assert_eq!(number(1234.56), "1234.6");
    }
}
