//! Rows for the AWS sources that sit in other panes: `[[cloudwatch]]` checks under the health
//! checks, `[[rds]]` instances under the PostgreSQL members.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::format::{clean, clock, setting};
use super::panes::{Glyphs, cell};
use crate::app::Model;
use crate::app::cloudwatch::{self, Level, Shown};
use crate::app::rds::{self, Lag};
use crate::config::{CloudWatchCheck, RdsSource};
use crate::observe::RdsInstance;

/// A check in CRIT, failing or stale: counted in the health pane's title.
pub fn cloudwatch_failing(model: &Model) -> usize {
    model
        .cloudwatch
        .iter()
        .filter(|st| st.shown() == Shown::Level(Level::Crit))
        .count()
}

/// One row per check, in the health pane's columns: glyph, name, site, state, value, detail.
pub fn cloudwatch_lines(
    model: &Model,
    width: usize,
    name_w: usize,
    site_w: usize,
) -> Vec<Line<'static>> {
    let theme = &model.view.theme;
    let g = Glyphs::new(model.view.ascii);
    let ascii = model.view.ascii;
    model
        .config
        .cloudwatch
        .iter()
        .zip(&model.cloudwatch)
        .map(|(spec, st)| {
            let shown = st.shown();
            let (glyph, style) = match shown {
                Shown::Stale => (g.stale, theme.stale),
                Shown::Error => (g.bad, theme.warn),
                Shown::Level(Level::Ok) => (g.ok, theme.ok),
                Shown::Level(Level::Warn | Level::NoData) => (g.warn, theme.warn),
                Shown::Level(Level::Crit) => (g.bad, theme.crit),
                Shown::Level(Level::Waiting) => (g.pending, theme.dim),
            };
            let since_text = match (shown, st.last_at, st.since) {
                (Shown::Stale, Some(last), _) => clock(last),
                (_, _, Some(at)) => clock(at),
                _ => String::new(),
            };
            let state = format!("{} {since_text}", shown.label());
            let value = match (shown, &st.latest) {
                (Shown::Level(Level::Ok | Level::Warn | Level::Crit), Some(p)) => {
                    cloudwatch::number(p.value)
                }
                _ => String::new(),
            };
            let detail = detail(spec, st);
            let fixed = 2 + name_w + 1 + site_w + 1 + 17 + 8;
            let site = spec
                .site
                .map(|s| model.config.site_label(s).to_string())
                .unwrap_or_default();
            Line::from(vec![
                Span::styled(format!("{glyph} "), style),
                Span::styled(
                    cell(&clean(&spec.name, ascii), name_w, &g) + " ",
                    theme.text,
                ),
                Span::styled(cell(&clean(&site, ascii), site_w, &g) + " ", theme.dim),
                Span::styled(cell(state.trim_end(), 17, &g), style),
                Span::styled(format!("{value:>7} "), theme.text),
                Span::styled(
                    cell(&clean(&detail, ascii), width.saturating_sub(fixed), &g),
                    if shown == Shown::Level(Level::Crit) {
                        theme.crit
                    } else {
                        theme.dim
                    },
                ),
            ])
        })
        .collect()
}

/// Why first (the end of the row is cut at 80 columns), then the metric and the thresholds.
fn detail(spec: &CloudWatchCheck, st: &cloudwatch::CwState) -> String {
    let metric = cloudwatch::metric_text(spec);
    let thresholds = cloudwatch::thresholds(spec);
    match (st.shown(), &st.latest) {
        (Shown::Error, _) => st
            .error
            .as_ref()
            .map(|e| e.describe(spec.aws.profile.as_deref()))
            .unwrap_or_default(),
        (Shown::Stale, _) => format!("no answer, was {}  {metric}", st.level.label()),
        (Shown::Level(Level::NoData), _) => {
            format!("none in {}  {metric}  {thresholds}", setting(spec.max_age))
        }
        (Shown::Level(Level::Warn | Level::Crit), Some(p)) => {
            // "93 below warn 95" without the value, which has its own column.
            let reason = cloudwatch::reason(spec, p.value);
            let why = reason.split_once(' ').map(|(_, w)| w).unwrap_or(&reason);
            format!("{why}  {metric} at {}", clock(p.at))
        }
        (Shown::Level(_), Some(p)) => {
            format!("{metric} at {}  {thresholds}", clock(p.at))
        }
        _ => format!("{}  {metric}  {thresholds}", spec.namespace),
    }
}

/// Instances that need a look (lag over or unknown, not available, not found).
fn instance_problem(spec: &RdsSource, inst: &Result<RdsInstance, String>) -> bool {
    match inst {
        Err(_) => true,
        Ok(i) => {
            i.status != "available"
                || matches!(rds::lag(i), Lag::NoData(_) | Lag::Unreadable(_))
                || rds::over(spec, i) == Some(true)
        }
    }
}

/// The header and one row per instance of each `[[rds]]` source; and how many need attention.
pub fn rds_lines(model: &Model, width: usize) -> (Vec<Line<'static>>, usize) {
    let theme = &model.view.theme;
    let config = &model.config;
    let g = Glyphs::new(model.view.ascii);
    let ascii = model.view.ascii;
    let mut lines = Vec::new();
    let mut problems = 0;
    for (spec, st) in config.rds.iter().zip(&model.rds) {
        let mut header = vec![
            Span::styled(format!("rds {}", clean(&spec.name, ascii)), theme.accent),
            Span::styled(format!("  max-lag {}", setting(spec.max_lag)), theme.dim),
        ];
        for cluster in st.reading.iter().flat_map(|r| &r.clusters) {
            let text = match cluster {
                Ok(c) => {
                    let writer = c
                        .members
                        .iter()
                        .find(|(_, w)| *w)
                        .map(|(id, _)| format!(", writer {id}"))
                        .unwrap_or_else(|| ", no writer".into());
                    format!("  cluster {} {}{writer}", c.id, c.status)
                }
                Err(e) => format!("  {e}"),
            };
            header.push(Span::styled(clean(&text, ascii).into_owned(), theme.dim));
        }
        if let Some(e) = &st.error {
            problems += 1;
            header.push(Span::styled(
                clean(
                    &format!("  {}", e.describe(spec.aws.profile.as_deref())),
                    ascii,
                )
                .into_owned(),
                theme.warn,
            ));
        } else if st.stale {
            header.push(Span::styled("  stale", theme.stale));
        }
        lines.push(Line::from(header));
        let label_w = spec
            .instances
            .iter()
            .map(|i| config.site_label(i.site).chars().count())
            .max()
            .unwrap_or(4)
            .clamp(4, if width < 100 { 16 } else { 24 });
        let role_w = 11;
        // Rows from an older read while the source fails or is silent: marked as such.
        let old = st.error.is_some() || st.stale;
        for (i, inst_spec) in spec.instances.iter().enumerate() {
            let found = st.instance(i);
            let (glyph, style, role, detail) = match found {
                None => (
                    g.pending,
                    theme.dim,
                    "waiting".to_string(),
                    inst_spec.id.clone(),
                ),
                Some(Err(e)) => (g.bad, theme.crit, "NOT FOUND".to_string(), e.clone()),
                Some(Ok(inst)) => {
                    let bad = found.is_some_and(|f| instance_problem(spec, f));
                    let (glyph, style) = if bad {
                        (g.warn, theme.warn)
                    } else {
                        (g.ok, theme.ok)
                    };
                    (
                        glyph,
                        style,
                        rds::role_word(&inst.role).to_string(),
                        instance_detail(spec, inst),
                    )
                }
            };
            if found.is_some_and(|f| instance_problem(spec, f)) {
                problems += 1;
            }
            let (glyph, style) = if old && found.is_some() {
                (g.stale, theme.stale)
            } else {
                (glyph, style)
            };
            let fixed = 4 + label_w + 1 + role_w + 1;
            lines.push(Line::from(vec![
                Span::styled(format!("  {glyph} "), style),
                Span::styled(
                    cell(
                        &clean(config.site_label(inst_spec.site), ascii),
                        label_w,
                        &g,
                    ) + " ",
                    theme.text,
                ),
                Span::styled(cell(&role, role_w, &g) + " ", style),
                Span::styled(
                    cell(&clean(&detail, ascii), width.saturating_sub(fixed), &g),
                    detail_style(theme, style, found, spec),
                ),
            ]));
        }
    }
    (lines, problems)
}

fn detail_style(
    theme: &crate::ui::Theme,
    role_style: Style,
    found: Option<&Result<RdsInstance, String>>,
    spec: &RdsSource,
) -> Style {
    match found {
        Some(f) if instance_problem(spec, f) => role_style,
        _ => theme.dim,
    }
}

/// "orders-b  lag 2 s (ReplicaLag, 40s old)  of orders-a  available, us-east-1a, postgres", with
/// problems first.
fn instance_detail(spec: &RdsSource, inst: &RdsInstance) -> String {
    let lag = rds::lag_text(spec, inst);
    let mut parts = vec![inst.id.clone()];
    if inst.status != "available" {
        parts.push(format!("STATUS {}", inst.status));
    }
    match rds::lag(inst) {
        Lag::Known {
            metric, value, at, ..
        } if rds::over(spec, inst) == Some(true) => parts.push(format!(
            "LAG {} OVER {} ({} at {})",
            rds::value_text(metric, value),
            setting(spec.max_lag),
            metric.name(),
            clock(at)
        )),
        Lag::NoData(metric) => parts.push(format!(
            "NO LAG DATA ({}, none in {})",
            metric.name(),
            setting(spec.lag_max_age)
        )),
        Lag::Unreadable(_) => parts.push(format!("LAG UNKNOWN: {lag}")),
        Lag::Known { .. } => parts.push(lag),
        Lag::NotApplicable => {}
    }
    match &inst.role {
        crate::observe::RdsRole::ReadReplica { source } => parts.push(format!("of {source}")),
        crate::observe::RdsRole::Primary { replicas } if !replicas.is_empty() => {
            parts.push(format!("replicas: {}", replicas.join(", ")))
        }
        _ => {}
    }
    parts.push(rds::placement(inst));
    parts.join("  ")
}
