//! Route 53's intended answer for a record, and how the resolvers compare: under the `[[dns]]`
//! record of the same name, or on its own.

use ratatui::text::{Line, Span};

use super::{compare, intended_text};
use crate::kinds::dns::{RecordSite, RecordState};
use crate::kinds::{RowCtx, Rows, World};
use crate::text::clean;
use crate::theme::{Glyphs, cell};

/// The records no `[[dns]]` record shows: a heading each, then Route 53's answer.
pub fn rows(world: &World<'_>, ctx: &RowCtx<'_>) -> Rows {
    let theme = &ctx.view.theme;
    let mut lines = Vec::new();
    for (i, r53, _) in world.route53() {
        let shown = world
            .specs
            .dns
            .iter()
            .any(|d| d.name == r53.name && d.record_type == r53.record_type);
        if !shown {
            lines.push(Line::from(Span::styled(
                format!(
                    "{} {} (Route 53 only)",
                    clean(&r53.name, ctx.view.ascii),
                    r53.record_type
                ),
                theme.accent,
            )));
            lines.extend(record_lines(world, ctx, i, None));
        }
    }
    Rows { lines, problems: 0 }
}

/// "Route 53 says site B (PRIMARY unhealthy 0% of checkers)", and under it how the resolvers of
/// the same record compare: "resolvers still say site A (TTL 47 s left)".
pub fn record_lines(
    world: &World<'_>,
    ctx: &RowCtx<'_>,
    index: usize,
    dns: Option<&RecordState>,
) -> Vec<Line<'static>> {
    let theme = &ctx.view.theme;
    let width = ctx.width;
    let g = Glyphs::new(ctx.view.ascii);
    let (Some(spec), Some(st)) = (
        world.specs.route53.get(index),
        world.states.route53.get(index),
    ) else {
        return Vec::new();
    };
    let resolvers = dns.and(compare(world, index)).map(|c| {
        let said = |site: RecordSite| match site {
            RecordSite::Site(s) => world.sites.label(s).to_string(),
            RecordSite::Mixed => "MIXED".to_string(),
            RecordSite::Unknown => "no site".to_string(),
            RecordSite::NoAnswer => "nothing".to_string(),
            RecordSite::Pending => "?".to_string(),
        };
        if c.agree {
            let ttl = c.ttl.map(|t| format!(" (ttl {t})")).unwrap_or_default();
            format!("resolvers agree{ttl}")
        } else {
            let left = match c.ttl_left {
                Some(0) => " (past their TTL)".to_string(),
                Some(t) => format!(" (TTL {t} s left)"),
                None => String::new(),
            };
            format!("resolvers still say {}{left}", said(c.resolvers))
        }
    });
    let (glyph, style, text) = if let Some(e) = &st.error {
        (
            g.bad,
            theme.warn,
            format!("Route 53: {}", e.describe(spec.aws.profile.as_deref())),
        )
    } else if let Some(i) = &st.intended {
        let text = format!("Route 53 says {}", intended_text(world.sites, i));
        let agree = match (compare(world, index), i.site) {
            (Some(c), _) => c.agree,
            (None, Some(_)) => dns.is_none(),
            (None, None) => false,
        };
        if agree {
            (g.ok, theme.ok, text)
        } else {
            (g.warn, theme.warn, text)
        }
    } else {
        (g.pending, theme.dim, "Route 53: waiting".to_string())
    };
    let (glyph, style) = if st.stale {
        (g.stale, theme.stale)
    } else {
        (glyph, style)
    };
    let mut lines = vec![Line::from(vec![
        Span::styled(format!("  {glyph} "), style),
        Span::styled(
            cell(&clean(&text, ctx.view.ascii), width.saturating_sub(4), &g),
            style,
        ),
    ])];
    if st.error.is_none()
        && let Some(r) = resolvers
    {
        lines.push(Line::from(Span::styled(
            format!("    {}", cell(&r, width.saturating_sub(4), &g)),
            style,
        )));
    }
    lines
}
