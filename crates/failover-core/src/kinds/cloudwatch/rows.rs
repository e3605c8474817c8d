//! One row per `[[cloudwatch]]` check, in the Health pane's columns.

use ratatui::text::{Line, Span};

use super::{CloudWatchCheck, CwState, Level, Shown};
use crate::kinds::{RowCtx, Rows, World};
use crate::text::{clean, clock, setting};
use crate::theme::{Glyphs, cell};

/// One row per check, in the health pane's columns: glyph, name, site, state, value, detail. A
/// check in CRIT counts in the pane's title.
pub fn rows(world: &World<'_>, ctx: &RowCtx<'_>) -> Rows {
    let theme = &ctx.view.theme;
    let g = Glyphs::new(ctx.view.ascii);
    let ascii = ctx.view.ascii;
    let (name_w, site_w, width) = (ctx.name_w, ctx.site_w, ctx.width);
    let lines = world
        .cloudwatch()
        .map(|(_, spec, state)| (spec, state))
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
                    super::number(p.value)
                }
                _ => String::new(),
            };
            let detail = detail(spec, st);
            let fixed = 2 + name_w + 1 + site_w + 1 + 17 + 8;
            let site = spec
                .site
                .map(|s| world.sites.label(s).to_string())
                .unwrap_or_default();
            Line::from(vec![
                Span::styled(format!("{glyph} "), style),
                Span::styled(ctx.names.cell(&spec.name) + " ", theme.text),
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
        .collect();
    let problems = world
        .cloudwatch()
        .map(|(_, _, st)| st)
        .filter(|st| st.shown() == Shown::Level(Level::Crit))
        .count();
    Rows { lines, problems }
}

/// Why first (the end of the row is cut at 80 columns), then the metric and the thresholds.
fn detail(spec: &CloudWatchCheck, st: &CwState) -> String {
    let metric = super::metric_text(spec);
    let thresholds = super::thresholds(spec);
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
            let reason = super::reason(spec, p.value);
            let why = reason.split_once(' ').map(|(_, w)| w).unwrap_or(&reason);
            format!("{why}  {metric} at {}", clock(p.at))
        }
        (Shown::Level(_), Some(p)) => {
            format!("{metric} at {}  {thresholds}", clock(p.at))
        }
        _ => format!("{}  {metric}  {thresholds}", spec.namespace),
    }
}
