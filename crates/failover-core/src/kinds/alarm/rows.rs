//! One row per alarm, in the Health pane's columns: glyph, alarm, site, state and since when,
//! then CloudWatch's reason. An alarm in ALARM counts in the pane's title.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::{AlarmSource, AlarmState, AlarmValue, Alarms, Row};
use crate::kinds::{NameColumn, RowCtx, Rows, World};
use crate::text::{clean, clock};
use crate::theme::{Glyphs, cell};

pub fn rows(world: &World<'_>, ctx: &RowCtx<'_>) -> Rows {
    let mut rows = Rows::default();
    for (spec, st) in world.alarm().map(|(_, spec, state)| (spec, state)) {
        source_rows(world, ctx, spec, st, &mut rows);
    }
    rows
}

fn source_rows(
    world: &World<'_>,
    ctx: &RowCtx<'_>,
    spec: &AlarmSource,
    st: &AlarmState,
    out: &mut Rows,
) {
    let theme = &ctx.view.theme;
    let g = Glyphs::new(ctx.view.ascii);
    let site = spec
        .site
        .map(|s| world.sites.label(s).to_string())
        .unwrap_or_default();
    let old = st.stale || st.error.is_some();
    // What the source as a whole says, when it says more than its alarms: an error, silence,
    // nothing read yet, or a prefix that matches nothing.
    let whole = if let Some(e) = &st.error {
        Some((
            g.bad,
            theme.warn,
            "error",
            e.describe(spec.aws.profile.as_deref()),
        ))
    } else if st.stale {
        let last = st.last_at.map(clock).unwrap_or_default();
        Some((
            g.stale,
            theme.stale,
            "stale",
            format!("no answer since {last}"),
        ))
    } else {
        match (st.rows(spec), &spec.alarms) {
            (None, _) => Some((g.pending, theme.dim, "waiting", what(spec))),
            (Some(rows), Alarms::Prefix(p)) if rows.is_empty() => Some((
                g.warn,
                theme.warn,
                "NONE",
                format!("no alarm starts with {p:?}"),
            )),
            _ => None,
        }
    };
    let rows = st.rows(spec).unwrap_or_default();
    let names: Vec<&str> = std::iter::once(spec.name.as_str())
        .chain(rows.iter().map(|r| r.name()))
        .collect();
    let column = NameColumn::fixed(&names, ctx.name_w, ctx.view.ascii);
    if let Some((glyph, style, state, detail)) = whole {
        out.lines.push(line(
            ctx,
            &g,
            (glyph, style),
            &column.cell(&spec.name),
            &site,
            state,
            &detail,
            style,
        ));
    }
    for row in rows.iter().copied() {
        let (glyph, style, state, detail) = match row {
            Row::NotFound(_) => (
                g.bad,
                theme.warn,
                "NOT FOUND".to_string(),
                "not found in CloudWatch".to_string(),
            ),
            Row::Found(a) => {
                let since = a.since.map(clock).unwrap_or_default();
                let (glyph, style) = match a.state {
                    AlarmValue::Ok => (g.ok, theme.ok),
                    AlarmValue::Alarm => (g.bad, theme.crit),
                    _ => (g.warn, theme.warn),
                };
                let (state, detail) = match a.state {
                    // Too long for the column with its time: the time goes with the reason.
                    AlarmValue::InsufficientData => (
                        a.state.label().to_string(),
                        format!("since {since}: {}", a.reason),
                    ),
                    _ => (format!("{} {since}", a.state.label()), a.reason.clone()),
                };
                (glyph, style, state, detail)
            }
        };
        if matches!(row, Row::Found(a) if a.state == AlarmValue::Alarm) {
            out.problems += 1;
        }
        // Rows from an older read while the source fails or is silent: marked as such.
        let (glyph, style) = if old {
            (g.stale, theme.stale)
        } else {
            (glyph, style)
        };
        let name = column.cell(row.name());
        let detail_style = if style == theme.crit {
            theme.crit
        } else {
            theme.dim
        };
        out.lines.push(line(
            ctx,
            &g,
            (glyph, style),
            &name,
            &site,
            &state,
            &detail,
            detail_style,
        ));
    }
}

/// What a source reads, before its first answer.
fn what(spec: &AlarmSource) -> String {
    match &spec.alarms {
        Alarms::Named(names) => format!("CloudWatch alarms {}", names.join(", ")),
        Alarms::Prefix(p) => format!("CloudWatch alarms {p}*"),
    }
}

#[allow(clippy::too_many_arguments)]
fn line(
    ctx: &RowCtx<'_>,
    g: &Glyphs,
    (glyph, style): (&str, Style),
    name: &str,
    site: &str,
    state: &str,
    detail: &str,
    detail_style: Style,
) -> Line<'static> {
    let theme = &ctx.view.theme;
    let ascii = ctx.view.ascii;
    let fixed = 2 + ctx.name_w + 1 + ctx.site_w + 1 + 18 + 8;
    Line::from(vec![
        Span::styled(format!("{glyph} "), style),
        Span::styled(format!("{name} "), theme.text),
        Span::styled(cell(&clean(site, ascii), ctx.site_w, g) + " ", theme.dim),
        Span::styled(cell(state.trim_end(), 18, g), style),
        Span::styled(format!("{:>7} ", ""), theme.text),
        Span::styled(
            cell(&clean(detail, ascii), ctx.width.saturating_sub(fixed), g),
            detail_style,
        ),
    ])
}
