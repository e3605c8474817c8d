//! A header per `[[rds]]` source (max-lag, its cluster, errors), then one row per instance.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::{
    Lag, RdsInstance, RdsRole, RdsSource, lag, lag_text, over, placement, role_word, value_text,
};
use crate::kinds::{NameColumn, RowCtx, Rows, World, name_cap};
use crate::text::{clean, clock, setting};
use crate::theme::{Glyphs, Theme, cell};

/// Instances that need a look (lag over or unknown, not available, not found).
fn instance_problem(spec: &RdsSource, inst: &Result<RdsInstance, String>) -> bool {
    match inst {
        Err(_) => true,
        Ok(i) => {
            i.status != "available"
                || matches!(lag(i), Lag::NoData(_) | Lag::Unreadable(_))
                || over(spec, i) == Some(true)
        }
    }
}

/// The header and one row per instance of each `[[rds]]` source; and how many need attention.
pub fn rows(world: &World<'_>, ctx: &RowCtx<'_>) -> Rows {
    let theme = &ctx.view.theme;
    let width = ctx.width;
    let g = Glyphs::new(ctx.view.ascii);
    let ascii = ctx.view.ascii;
    let mut lines = Vec::new();
    let mut problems = 0;
    for (spec, st) in world.rds().map(|(_, spec, state)| (spec, state)) {
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
        let role_w = 11;
        let labels: Vec<&str> = spec
            .instances
            .iter()
            .map(|i| world.sites.label(i.site))
            .collect();
        let column = NameColumn::new(&labels, 4, name_cap(width, 4 + 1 + role_w + 1 + 36), ascii);
        let label_w = column.width;
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
                        role_word(&inst.role).to_string(),
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
                    column.cell(world.sites.label(inst_spec.site)) + " ",
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
    Rows { lines, problems }
}

fn detail_style(
    theme: &Theme,
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
    let lag = lag_text(spec, inst);
    let mut parts = vec![inst.id.clone()];
    if inst.status != "available" {
        parts.push(format!("STATUS {}", inst.status));
    }
    match super::lag(inst) {
        Lag::Known {
            metric, value, at, ..
        } if over(spec, inst) == Some(true) => parts.push(format!(
            "LAG {} OVER {} ({} at {})",
            value_text(metric, value),
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
        RdsRole::ReadReplica { source } => parts.push(format!("of {source}")),
        RdsRole::Primary { replicas } if !replicas.is_empty() => {
            parts.push(format!("replicas: {}", replicas.join(", ")))
        }
        _ => {}
    }
    parts.push(placement(inst));
    parts.join("  ")
}
