//! A heading per database (its primary, its limits), then one row per member: live role,
//! lag in bytes and time with where the time came from, streaming, replay paused, timeline.

use ratatui::text::{Line, Span};

use super::{Member, Role};
use crate::kinds::{NameColumn, RowCtx, Rows, World, name_cap};
use crate::text::{bytes, clean, clock, secs};
use crate::theme::{Glyphs, cell};

pub fn rows(world: &World<'_>, ctx: &RowCtx<'_>) -> Rows {
    let theme = &ctx.view.theme;
    let g = Glyphs::new(ctx.view.ascii);
    let mut lines = Vec::new();
    let mut problems = 0;
    for (spec, db) in world.postgres().map(|(_, spec, state)| (spec, state)) {
        let primaries = db.primaries();
        let (summary, style) = match primaries.len() {
            _ if !db.all_seen() => ("waiting for every member".to_string(), theme.dim),
            0 => ("NO PRIMARY".to_string(), theme.crit),
            1 => (
                format!(
                    "primary: {}",
                    world.sites.label(spec.members[primaries[0]].site)
                ),
                theme.ok,
            ),
            n => (format!("SPLIT BRAIN: {n} primaries"), theme.crit),
        };
        lines.push(Line::from(vec![
            Span::styled(clean(&spec.name, ctx.view.ascii).into_owned(), theme.accent),
            Span::raw(" "),
            Span::styled(summary, style),
            Span::styled(
                format!(
                    "  limit {} / {}",
                    bytes(spec.max_lag_bytes),
                    secs(spec.max_lag)
                ),
                theme.dim,
            ),
        ]));
        // The row shows the member's own name when it has one, else its site's label.
        let shown = |m: &Member| {
            if m.name != world.sites[m.site].key {
                m.name.clone()
            } else {
                world.sites.label(m.site).to_string()
            }
        };
        // Room for "UNREACHABLE", or for "replica stale 12:45:22" when a member is stale; then a space.
        let role_w = if db.members.iter().any(|m| m.stale) {
            22
        } else {
            11
        };
        let labels: Vec<String> = spec.members.iter().map(shown).collect();
        let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
        let column = NameColumn::new(
            &labels,
            4,
            name_cap(ctx.width, 4 + 1 + role_w + 1 + 36),
            ctx.view.ascii,
        );
        let label_w = column.width;
        for (i, m) in db.members.iter().enumerate() {
            let member = &spec.members[i];
            let label = shown(member);
            let snap = m.snapshot.as_ref();
            let tl = snap
                .and_then(|s| s.timeline)
                .map(|t| format!("tl {t}"))
                .unwrap_or_default();
            let (glyph, role_style, role, detail, detail_style) = match m.role {
                Role::Unknown => (
                    g.pending,
                    theme.dim,
                    "waiting".to_string(),
                    connecting(member),
                    theme.dim,
                ),
                Role::Unreachable => {
                    problems += 1;
                    let was = snap
                        .map(|s| {
                            if s.in_recovery {
                                "(was replica) "
                            } else {
                                "(was primary) "
                            }
                        })
                        .unwrap_or("");
                    (
                        g.bad,
                        theme.crit,
                        "UNREACHABLE".to_string(),
                        format!("{was}{}", m.error.as_deref().unwrap_or("?")),
                        theme.crit,
                    )
                }
                Role::Primary => {
                    let lsn = snap
                        .and_then(|s| s.primary.as_ref())
                        .map(|p| format!("lsn {}", p.current_lsn))
                        .unwrap_or_default();
                    let standbys = snap
                        .and_then(|s| s.primary.as_ref())
                        .map(|p| p.standbys.len())
                        .unwrap_or(0);
                    let plural = if standbys == 1 { "" } else { "s" };
                    let detail = format!("{tl}  {lsn}  {standbys} standby{plural}");
                    if primaries.len() > 1 {
                        // Split brain: not a healthy primary, whatever it says of itself.
                        (
                            g.bad,
                            theme.crit,
                            "PRIMARY".to_string(),
                            format!("SPLIT BRAIN  {detail}"),
                            theme.crit,
                        )
                    } else {
                        (g.ok, theme.ok, "primary".to_string(), detail, theme.dim)
                    }
                }
                Role::Replica => {
                    let replica = snap.and_then(|s| s.replica.as_ref());
                    let streaming = m.streaming() == Some(true);
                    let paused = m.replay_paused() == Some(true);
                    let over = m.lag.as_ref().is_some_and(|l| l.over_limit);
                    let lag = m.lag.as_ref();
                    let bytes = lag
                        .and_then(|l| l.bytes)
                        .map(|(b, _)| bytes(b))
                        .unwrap_or_else(|| "? B".into());
                    let time = lag
                        .and_then(|l| l.time)
                        .map(|(t, src)| format!("{} ({})", secs(t), src.label()))
                        .unwrap_or_else(|| "? s".into());
                    // Problems first: at 80 columns the end of the row is cut.
                    let mut flags = Vec::new();
                    if !streaming {
                        flags.push(format!(
                            "NOT STREAMING ({})",
                            replica
                                .and_then(|r| r.receiver_status.clone())
                                .unwrap_or_else(|| "no walreceiver".into())
                        ));
                    }
                    if paused {
                        flags.push("REPLAY PAUSED".into());
                    }
                    if streaming {
                        flags.push("streaming".into());
                    }
                    let bad = over || !streaming || paused;
                    if bad {
                        problems += 1;
                    }
                    let glyph = if bad { g.warn } else { g.ok };
                    let style = if bad { theme.warn } else { theme.ok };
                    let lag_style = if over { theme.warn } else { theme.text };
                    let detail = if bad {
                        format!("{}  lag {bytes}, {time}  {tl}", flags.join(", "))
                    } else {
                        format!("lag {bytes}, {time}  {}  {tl}", flags.join(", "))
                    };
                    (glyph, style, "replica".to_string(), detail, lag_style)
                }
            };
            let (glyph, role_style) = if m.stale {
                (g.stale, theme.stale)
            } else {
                (glyph, role_style)
            };
            let role = if m.stale {
                format!("{role} stale {}", m.last_at.map(clock).unwrap_or_default())
            } else {
                role
            };
            let fixed = 4 + label_w + 1 + role_w + 1;
            lines.push(Line::from(vec![
                Span::styled(format!("  {glyph} "), role_style),
                Span::styled(column.cell(&label) + " ", theme.text),
                Span::styled(cell(&role, role_w, &g) + " ", role_style),
                Span::styled(
                    cell(
                        &clean(&detail, ctx.view.ascii),
                        ctx.width.saturating_sub(fixed),
                        &g,
                    ),
                    detail_style,
                ),
            ]));
        }
    }
    Rows { lines, problems }
}

/// What a member not heard from yet is waiting for: its host:port, never anything that could
/// be a secret.
fn connecting(member: &Member) -> String {
    format!("connecting to {}", member.points_at.endpoint)
}
