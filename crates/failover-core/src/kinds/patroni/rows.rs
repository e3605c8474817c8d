//! Rows for Patroni clusters in the replication pane: a cluster line (leader, who answered and
//! when, PAUSED, troubles), then one row per member with role, state, timeline and byte lag.

use ratatui::text::{Line, Span};

use super::{Lag, LagClass, Trouble, lag_class};
use crate::kinds::{NameColumn, RowCtx, Rows, World, name_cap};
use crate::text::{clean, clock, without_scheme as short};
use crate::theme::{Glyphs, cell};

pub fn rows(world: &World<'_>, ctx: &RowCtx<'_>) -> Rows {
    let theme = &ctx.view.theme;
    let width = ctx.width;
    let g = Glyphs::new(ctx.view.ascii);
    let ascii = ctx.view.ascii;
    let mut lines = Vec::new();
    let mut problems = 0;
    for (spec, st) in world.patroni().map(|(_, spec, state)| (spec, state)) {
        let limit = st.limit(spec);
        let mut header = vec![Span::styled(
            format!("patroni {}", clean(&spec.name, ascii)),
            theme.accent,
        )];
        let trouble = st.trouble(spec);
        match (&trouble, st.leader()) {
            (Some(t @ (Trouble::NoLeader | Trouble::Disagree(_))), _) => {
                problems += 1;
                header.push(Span::styled(format!(" {}", t.text()), theme.crit));
            }
            (_, Some(leader)) => {
                let site = spec
                    .site_of(leader)
                    .map(|s| format!(" ({})", world.sites.label(s)))
                    .unwrap_or_default();
                header.push(Span::styled(format!(" leader: {leader}{site}"), theme.ok));
            }
            _ => {}
        }
        if st.view().is_some_and(|v| v.paused) {
            problems += 1;
            header.push(Span::styled(" PAUSED", theme.crit));
        }
        header.push(Span::styled(format!("  limit {limit} B"), theme.dim));
        match (&trouble, &st.cluster) {
            (Some(Trouble::NoAnswer(e)), Some((_, _, at))) => {
                problems += 1;
                header.push(Span::styled(
                    clean(
                        &format!("  NO MEMBER ANSWERS (last answer {}): {e}", clock(*at)),
                        ascii,
                    )
                    .into_owned(),
                    theme.crit,
                ));
            }
            (Some(Trouble::NoAnswer(e)), None) => {
                problems += 1;
                header.push(Span::styled(
                    clean(&format!("  NO MEMBER ANSWERS: {e}"), ascii).into_owned(),
                    theme.crit,
                ));
            }
            (_, Some((endpoint, _, at))) => {
                let via = spec
                    .endpoints
                    .get(*endpoint)
                    .map(|e| short(e))
                    .unwrap_or("?");
                let (text, style) = if st.stale {
                    (
                        format!("  via {via} STALE since {}", clock(*at)),
                        theme.stale,
                    )
                } else {
                    (format!("  via {via}"), theme.dim)
                };
                header.push(Span::styled(text, style));
            }
            (_, None) => header.push(Span::styled("  waiting for a member", theme.dim)),
        }
        if let Some(s) = st.view().and_then(|v| v.scheduled_switchover.as_ref()) {
            header.push(Span::styled(
                clean(&format!("  switchover scheduled {s}"), ascii).into_owned(),
                theme.warn,
            ));
        }
        lines.push(Line::from(header));

        let Some(view) = st.view() else { continue };
        let old = st.error.is_some() || st.stale;
        let missing = st.missing(spec);
        let role_w = 14;
        let labels: Vec<&str> = view
            .members
            .iter()
            .map(|m| m.name.as_str())
            .chain(missing.iter().map(|(label, _)| label.as_str()))
            .collect();
        let column = NameColumn::new(&labels, 4, name_cap(width, 4 + 1 + role_w + 1 + 36), ascii);
        let label_w = column.width;
        for m in &view.members {
            let unreachable = st.unreachable(spec, m);
            let class = lag_class(m, limit);
            let (glyph, style) = if old {
                (g.stale, theme.stale)
            } else if unreachable.is_some() || !matches!(m.state.as_str(), "running" | "streaming")
            {
                problems += 1;
                (g.bad, theme.crit)
            } else if class == LagClass::Over || class == LagClass::Unknown {
                problems += 1;
                (g.warn, theme.warn)
            } else {
                (g.ok, theme.ok)
            };
            let mut detail = vec![m.state.clone()];
            if let Some(tl) = m.timeline {
                detail.push(format!("tl {tl}"));
            }
            if !m.is_leader() {
                // The lag the limit is held to (the worst of lag, receive_lag, replay_lag), so
                // OVER never stands next to Patroni's own `lag` of 0 B while replay is behind.
                let lag = m
                    .worst_lag()
                    .map(Lag::text)
                    .unwrap_or_else(|| "unknown".into());
                let mark = if class == LagClass::Over { " OVER" } else { "" };
                detail.push(format!("lag {lag}{mark}"));
                let part = |name: &str, l: Option<Lag>| l.map(|l| format!("{name} {}", l.text()));
                let parts: Vec<String> =
                    [part("recv", m.receive_lag), part("replay", m.replay_lag)]
                        .into_iter()
                        .flatten()
                        .collect();
                if !parts.is_empty() {
                    detail.push(parts.join(" "));
                }
            }
            if m.nofailover {
                detail.push("NOFAILOVER".into());
            }
            if m.noloadbalance {
                detail.push("noloadbalance".into());
            }
            if m.pending_restart {
                detail.push("PENDING RESTART".into());
            }
            if let Some(e) = unreachable {
                detail.push(format!("REST API unreachable: {e}"));
            }
            if let Some(site) = spec.site_of(&m.name) {
                detail.push(world.sites.label(site).to_string());
            }
            let detail = detail.join("  ");
            let fixed = 4 + label_w + 1 + role_w + 1;
            lines.push(Line::from(vec![
                Span::styled(format!("  {glyph} "), style),
                Span::styled(column.cell(&m.name) + " ", theme.text),
                Span::styled(cell(&m.role, role_w, &g) + " ", style),
                Span::styled(
                    cell(&clean(&detail, ascii), width.saturating_sub(fixed), &g),
                    if old { theme.stale } else { theme.text },
                ),
            ]));
        }
        for (label, why) in missing {
            problems += 1;
            lines.push(Line::from(vec![
                Span::styled(format!("  {} ", g.bad), theme.crit),
                Span::styled(column.cell(&label) + " ", theme.text),
                Span::styled(cell("missing", role_w, &g) + " ", theme.crit),
                Span::styled(
                    cell(
                        &clean(&why, ascii),
                        width.saturating_sub(4 + label_w + 1 + role_w + 1),
                        &g,
                    ),
                    theme.crit,
                ),
            ]));
        }
    }
    Rows { lines, problems }
}
