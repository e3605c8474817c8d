//! One row per check: state and since when, latency, the last result.

use ratatui::text::{Line, Span};

use super::{CheckStatus, Target};
use crate::kinds::{RowCtx, Rows, World};
use crate::text::{clean, clock, probe_latency};
use crate::theme::{Glyphs, cell};

pub fn rows(world: &World<'_>, ctx: &RowCtx<'_>) -> Rows {
    let theme = &ctx.view.theme;
    let g = Glyphs::new(ctx.view.ascii);
    let lines: Vec<Line<'static>> = world
        .health()
        .map(|(_, spec, state)| (spec, state))
        .enumerate()
        .map(|(i, (spec, st))| {
            if !ctx.shows(i) {
                return Line::default();
            }
            let (glyph, style, state) = match (st.stale, st.status) {
                (true, _) => (g.stale, theme.stale, "stale".to_string()),
                (_, CheckStatus::Healthy) => (g.ok, theme.ok, "healthy".to_string()),
                (_, CheckStatus::Unhealthy) => (g.bad, theme.crit, "UNHEALTHY".to_string()),
                (_, CheckStatus::Pending) if st.last.is_none() => {
                    (g.pending, theme.dim, "waiting".to_string())
                }
                (_, CheckStatus::Pending) => {
                    let (run, need) = if st.fail_run > 0 {
                        (st.fail_run, spec.failure_threshold)
                    } else {
                        (st.ok_run, spec.success_threshold)
                    };
                    let what = if st.fail_run > 0 { "fail" } else { "ok" };
                    (g.pending, theme.dim, format!("{what} {run}/{need}"))
                }
            };
            // The time the state began (or, stale, of the last answer): it does not tick, so a
            // steady screen is not repainted, and it matches the timeline's entry.
            let for_how_long = match (st.stale, st.last_at, st.since) {
                (true, Some(last), _) => clock(last),
                (_, _, Some(since_at)) => clock(since_at),
                _ => String::new(),
            };
            let lat = st.shown_latency.map(probe_latency).unwrap_or_default();
            let mut detail = st
                .last
                .as_ref()
                .map(|o| o.detail.clone())
                .unwrap_or_else(|| spec.target.describe());
            if st.status != CheckStatus::Pending && !st.stale {
                let run = if st.status == CheckStatus::Healthy {
                    st.fail_run
                } else {
                    st.ok_run
                };
                if run > 0 {
                    let what = if st.status == CheckStatus::Healthy {
                        "failed"
                    } else {
                        "ok"
                    };
                    detail = format!("{detail} ({run} {what})");
                }
            }
            if let Target::Http { insecure: true, .. } = spec.target {
                detail = format!("TLS NOT VERIFIED · {detail}");
            }
            let state = if for_how_long.is_empty() {
                state
            } else {
                format!("{state} {for_how_long}")
            };
            let fixed = 2 + ctx.name_w + 1 + ctx.site_w + 1 + 18 + 8;
            let detail_w = ctx.width.saturating_sub(fixed);
            Line::from(vec![
                Span::styled(format!("{glyph} "), style),
                Span::styled(ctx.names.cell(&spec.name) + " ", theme.text),
                Span::styled(
                    cell(
                        &clean(world.sites.label(spec.site), ctx.view.ascii),
                        ctx.site_w,
                        &g,
                    ) + " ",
                    theme.dim,
                ),
                Span::styled(cell(&state, 18, &g), style),
                Span::styled(format!("{:>7} ", lat), theme.text),
                Span::styled(
                    cell(&clean(&detail, ctx.view.ascii), detail_w, &g),
                    if st.status == CheckStatus::Unhealthy {
                        theme.crit
                    } else {
                        theme.dim
                    },
                ),
            ])
        })
        .collect();
    let problems = world
        .health()
        .map(|(_, _, h)| h)
        .filter(|h| h.status == CheckStatus::Unhealthy)
        .count();
    Rows { lines, problems }
}
