//! A heading per record (which site it points at), then one row per resolver with its live
//! answer and TTL; Route 53's view of the same record under it.

use ratatui::text::{Line, Span};

use super::{DnsAnswer, Match, RecordSite, site_text};
use crate::kinds::{RowCtx, Rows, World, route53};
use crate::text::{clean, clock};
use crate::theme::{Glyphs, cell};

pub fn rows(world: &World<'_>, ctx: &RowCtx<'_>) -> Rows {
    let theme = &ctx.view.theme;
    let g = Glyphs::new(ctx.view.ascii);
    let mut lines = Vec::new();
    for (spec, st) in world.dns().map(|(_, spec, state)| (spec, state)) {
        let (site, style) = match st.site {
            RecordSite::Pending => ("waiting".to_string(), theme.dim),
            RecordSite::Site(s) => (format!("→ {}", world.sites.label(s)), theme.ok),
            RecordSite::Mixed => ("MIXED: resolvers disagree".to_string(), theme.warn),
            RecordSite::Unknown => ("matches no site".to_string(), theme.crit),
            RecordSite::NoAnswer => ("NO ANSWER".to_string(), theme.crit),
        };
        lines.push(Line::from(vec![
            Span::styled(
                format!(
                    "{} {} ",
                    clean(&spec.name, ctx.view.ascii),
                    spec.record_type
                ),
                theme.accent,
            ),
            Span::styled(clean(&site, ctx.view.ascii).into_owned(), style),
        ]));
        let server_w = spec
            .resolvers
            .iter()
            .map(|r| r.to_string().len())
            .max()
            .unwrap_or(9)
            + 2;
        for (r, server) in st.resolvers.iter().zip(&spec.resolvers) {
            let (glyph, style, answer, ttl) = match (&r.answer, r.matched) {
                (None, _) => (g.pending, theme.dim, "waiting".to_string(), String::new()),
                (Some(a), m) => {
                    let ttl = if let DnsAnswer::Records { ttl, .. } = a {
                        format!("ttl {ttl}")
                    } else {
                        String::new()
                    };
                    let (glyph, style) = match m {
                        Some(Match::Site(_)) => (g.ok, theme.ok),
                        Some(Match::Unknown) => (g.warn, theme.warn),
                        _ => (g.bad, theme.crit),
                    };
                    let site = m.map(|m| site_text(world.sites, m)).unwrap_or_default();
                    (glyph, style, format!("{} → {site}", a.describe()), ttl)
                }
            };
            let (glyph, style) = if r.stale {
                (g.stale, theme.stale)
            } else {
                (glyph, style)
            };
            // Only a stale answer says when it was given: a fresh one is just now.
            let age = r
                .last_at
                .filter(|_| r.stale)
                .map(|t| format!("at {}", clock(t)))
                .unwrap_or_default();
            let fixed = 4 + server_w + 9 + 12;
            lines.push(Line::from(vec![
                Span::styled(format!("  {glyph} "), style),
                Span::styled(cell(&format!("@{server}"), server_w, &g), theme.dim),
                Span::styled(
                    cell(
                        &clean(&answer, ctx.view.ascii),
                        ctx.width.saturating_sub(fixed),
                        &g,
                    ),
                    style,
                ),
                Span::styled(format!(" {ttl:>8}"), theme.text),
                Span::styled(
                    format!(" {age:>11}"),
                    if r.stale { theme.stale } else { theme.dim },
                ),
            ]));
        }
        // Route 53's intent for the same name and type, under the resolvers' answers.
        for (i, r53, _) in world.route53() {
            if r53.name == spec.name && r53.record_type == spec.record_type {
                lines.extend(route53::record_lines(world, ctx, i, Some(st)));
            }
        }
    }
    Rows { lines, problems: 0 }
}
