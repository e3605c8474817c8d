//! One render function per pane. Each knows its three states: nothing configured, nothing heard
//! yet, and rows.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::format::{clean, clock, probe_latency};
use crate::app::Model;
use crate::app::dns::{Match, RecordSite};
use crate::app::health::CheckStatus;
use crate::app::model::Pane;
use crate::app::replication::{self, Role};
use crate::config::Target;
use crate::observe::DnsAnswer;
use crate::timeline::Severity;
use crate::ui::theme::Theme;

pub struct Glyphs {
    pub ok: &'static str,
    pub bad: &'static str,
    pub warn: &'static str,
    pub pending: &'static str,
    pub stale: &'static str,
    pub ellipsis: &'static str,
}

impl Glyphs {
    pub fn new(ascii: bool) -> Glyphs {
        if ascii {
            Glyphs {
                ok: "+",
                bad: "x",
                warn: "!",
                pending: ".",
                stale: "?",
                ellipsis: "~",
            }
        } else {
            Glyphs {
                ok: "✔",
                bad: "✖",
                warn: "▲",
                pending: "…",
                stale: "◌",
                ellipsis: "…",
            }
        }
    }
}

/// Pads or cuts to exactly `width` columns.
pub(crate) fn cell(text: &str, width: usize, g: &Glyphs) -> String {
    let count = text.chars().count();
    if count <= width {
        format!("{text:<width$}")
    } else if width == 0 {
        String::new()
    } else {
        let mut s: String = text.chars().take(width - 1).collect();
        s.push_str(g.ellipsis);
        s
    }
}

pub fn render(frame: &mut Frame<'_>, area: Rect, model: &Model, pane: Pane, wide: bool) {
    let focused = model.ui.focus == pane;
    let inner_width = if wide {
        area.width.saturating_sub(2)
    } else {
        area.width
    } as usize;
    let (title, lines) = match pane {
        Pane::Health => health(model, inner_width),
        Pane::Replication => replication_rows(model, inner_width),
        Pane::Dns => dns(model, inner_width),
        Pane::Timeline => timeline(model, inner_width),
        Pane::Run => super::run::lines(model, inner_width),
    };
    let scroll = if pane == Pane::Timeline {
        0
    } else {
        model.ui.scroll[pane.index()].min(lines.len().saturating_sub(1))
    };
    let theme = &model.view.theme;
    let title = Line::from(vec![Span::styled(
        format!(" {title} "),
        if focused { theme.focus } else { theme.text },
    )]);
    let block = super::block(model, title, focused, wide);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .scroll((scroll as u16, 0)),
        area,
    );
}

fn placeholder<'a>(theme: &Theme, text: &str) -> Vec<Line<'a>> {
    vec![Line::from(Span::styled(text.to_string(), theme.dim))]
}

fn health(model: &Model, width: usize) -> (String, Vec<Line<'static>>) {
    let theme = &model.view.theme;
    let config = &model.config;
    let g = Glyphs::new(model.view.ascii);
    let failing = model
        .health
        .iter()
        .filter(|h| h.status == CheckStatus::Unhealthy)
        .count()
        + super::aws_rows::cloudwatch_failing(model);
    let title = if failing > 0 {
        format!("Health: {failing} failing")
    } else {
        "Health".to_string()
    };
    if config.health.is_empty() && config.cloudwatch.is_empty() {
        return (title, placeholder(theme, "no [[health]] checks configured"));
    }
    let name_w = config
        .health
        .iter()
        .map(|h| h.name.chars().count())
        .chain(config.cloudwatch.iter().map(|c| c.name.chars().count()))
        .max()
        .unwrap_or(4)
        .clamp(4, if width < 100 { 12 } else { 24 });
    let site_w = config
        .sites
        .iter()
        .map(|s| s.label.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, if width < 100 { 7 } else { 14 });
    let mut lines: Vec<Line<'static>> = config
        .health
        .iter()
        .zip(&model.health)
        .map(|(spec, st)| {
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
            let fixed = 2 + name_w + 1 + site_w + 1 + 18 + 8;
            let detail_w = width.saturating_sub(fixed);
            Line::from(vec![
                Span::styled(format!("{glyph} "), style),
                Span::styled(
                    cell(&clean(&spec.name, model.view.ascii), name_w, &g) + " ",
                    theme.text,
                ),
                Span::styled(
                    cell(
                        &clean(config.site_label(spec.site), model.view.ascii),
                        site_w,
                        &g,
                    ) + " ",
                    theme.dim,
                ),
                Span::styled(cell(&state, 18, &g), style),
                Span::styled(format!("{:>7} ", lat), theme.text),
                Span::styled(
                    cell(&clean(&detail, model.view.ascii), detail_w, &g),
                    if st.status == CheckStatus::Unhealthy {
                        theme.crit
                    } else {
                        theme.dim
                    },
                ),
            ])
        })
        .collect();
    lines.extend(super::aws_rows::cloudwatch_lines(
        model, width, name_w, site_w,
    ));
    (title, lines)
}

fn replication_rows(model: &Model, width: usize) -> (String, Vec<Line<'static>>) {
    let theme = &model.view.theme;
    let config = &model.config;
    let g = Glyphs::new(model.view.ascii);
    if config.databases.is_empty() && config.rds.is_empty() && config.patroni.is_empty() {
        return (
            "Replication".into(),
            placeholder(theme, "no [[database]] configured"),
        );
    }
    let mut lines = Vec::new();
    let mut problems = 0;
    for (spec, db) in config.databases.iter().zip(&model.dbs) {
        let primaries = db.primaries();
        let (summary, style) = match primaries.len() {
            _ if !db.all_seen() => ("waiting for every member".to_string(), theme.dim),
            0 => ("NO PRIMARY".to_string(), theme.crit),
            1 => (
                format!(
                    "primary: {}",
                    config.site_label(spec.members[primaries[0]].site)
                ),
                theme.ok,
            ),
            n => (format!("SPLIT BRAIN: {n} primaries"), theme.crit),
        };
        lines.push(Line::from(vec![
            Span::styled(
                clean(&spec.name, model.view.ascii).into_owned(),
                theme.accent,
            ),
            Span::raw(" "),
            Span::styled(summary, style),
            Span::styled(
                format!(
                    "  limit {} / {}",
                    replication::bytes(spec.max_lag_bytes),
                    replication::secs(spec.max_lag)
                ),
                theme.dim,
            ),
        ]));
        // The row shows the member's own name when it has one, else its site's label.
        let shown = |m: &crate::config::Member| {
            if m.name != config.sites[m.site].key {
                m.name.clone()
            } else {
                config.site_label(m.site).to_string()
            }
        };
        let label_w = spec
            .members
            .iter()
            .map(|m| shown(m).chars().count())
            .max()
            .unwrap_or(4)
            .clamp(4, if width < 100 { 16 } else { 24 });
        // Room for "UNREACHABLE", or for "replica stale 12:45:22" when a member is stale; then a space.
        let role_w = if db.members.iter().any(|m| m.stale) {
            22
        } else {
            11
        };
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
                    member_dsn_host(&member.dsn),
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
                        .map(|(b, _)| replication::bytes(b))
                        .unwrap_or_else(|| "? B".into());
                    let time = lag
                        .and_then(|l| l.time)
                        .map(|(t, src)| format!("{} ({})", replication::secs(t), src.label()))
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
                Span::styled(
                    cell(&clean(&label, model.view.ascii), label_w, &g) + " ",
                    theme.text,
                ),
                Span::styled(cell(&role, role_w, &g) + " ", role_style),
                Span::styled(
                    cell(
                        &clean(&detail, model.view.ascii),
                        width.saturating_sub(fixed),
                        &g,
                    ),
                    detail_style,
                ),
            ]));
        }
    }
    let (patroni_lines, patroni_problems) = super::patroni_rows::patroni_lines(model, width);
    lines.extend(patroni_lines);
    problems += patroni_problems;
    let (rds_lines, rds_problems) = super::aws_rows::rds_lines(model, width);
    lines.extend(rds_lines);
    problems += rds_problems;
    let title = if problems > 0 {
        format!("Replication: {problems} need attention")
    } else {
        "Replication".into()
    };
    (title, lines)
}

/// host:port of a DSN, to say what we are waiting for (never anything that could be a secret).
fn member_dsn_host(dsn: &str) -> String {
    match dsn.parse::<tokio_postgres::Config>() {
        Ok(c) => {
            let host = c
                .get_hosts()
                .first()
                .map(|h| match h {
                    tokio_postgres::config::Host::Tcp(h) => h.clone(),
                    tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
                })
                .unwrap_or_default();
            let port = c.get_ports().first().copied().unwrap_or(5432);
            format!("connecting to {host}:{port}")
        }
        Err(_) => "connecting".into(),
    }
}

fn dns(model: &Model, width: usize) -> (String, Vec<Line<'static>>) {
    let theme = &model.view.theme;
    let config = &model.config;
    let g = Glyphs::new(model.view.ascii);
    if config.dns.is_empty() {
        return (
            "DNS".into(),
            placeholder(theme, "no [[dns]] records configured"),
        );
    }
    let mut lines = Vec::new();
    for (spec, st) in config.dns.iter().zip(&model.dns) {
        let (site, style) = match st.site {
            RecordSite::Pending => ("waiting".to_string(), theme.dim),
            RecordSite::Site(s) => (format!("→ {}", config.site_label(s)), theme.ok),
            RecordSite::Mixed => ("MIXED: resolvers disagree".to_string(), theme.warn),
            RecordSite::Unknown => ("matches no site".to_string(), theme.crit),
            RecordSite::NoAnswer => ("NO ANSWER".to_string(), theme.crit),
        };
        lines.push(Line::from(vec![
            Span::styled(
                format!(
                    "{} {} ",
                    clean(&spec.name, model.view.ascii),
                    spec.record_type
                ),
                theme.accent,
            ),
            Span::styled(clean(&site, model.view.ascii).into_owned(), style),
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
                    let site = m
                        .map(|m| crate::app::dns::site_text(config, m))
                        .unwrap_or_default();
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
                        &clean(&answer, model.view.ascii),
                        width.saturating_sub(fixed),
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
        for (i, r53) in config.route53.iter().enumerate() {
            if r53.name == spec.name && r53.record_type == spec.record_type {
                lines.extend(route53_lines(model, i, Some(st), width));
            }
        }
    }
    for (i, r53) in config.route53.iter().enumerate() {
        let shown = config
            .dns
            .iter()
            .any(|d| d.name == r53.name && d.record_type == r53.record_type);
        if !shown {
            lines.push(Line::from(Span::styled(
                format!(
                    "{} {} (Route 53 only)",
                    clean(&r53.name, model.view.ascii),
                    r53.record_type
                ),
                theme.accent,
            )));
            lines.extend(route53_lines(model, i, None, width));
        }
    }
    ("DNS".into(), lines)
}

/// "Route 53 says site B (PRIMARY unhealthy 0% of checkers)", and under it how the resolvers of
/// the same record compare: "resolvers still say site A (TTL 47 s left)".
fn route53_lines(
    model: &Model,
    index: usize,
    dns: Option<&crate::app::dns::RecordState>,
    width: usize,
) -> Vec<Line<'static>> {
    let theme = &model.view.theme;
    let config = &model.config;
    let g = Glyphs::new(model.view.ascii);
    let (Some(spec), Some(st)) = (config.route53.get(index), model.route53.get(index)) else {
        return Vec::new();
    };
    let resolvers = dns
        .and(crate::app::route53::compare(model, index))
        .map(|c| {
            let said = |site: RecordSite| match site {
                RecordSite::Site(s) => config.site_label(s).to_string(),
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
        let text = format!(
            "Route 53 says {}",
            crate::app::route53::intended_text(config, i)
        );
        let agree = match (crate::app::route53::compare(model, index), i.site) {
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
            cell(&clean(&text, model.view.ascii), width.saturating_sub(4), &g),
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

/// Lays styled text out over at most `max_rows` rows of `width` columns, breaking at spaces
/// where it can, cutting the last row with an ellipsis if the text does not fit.
fn flow(
    segments: &[(String, Style)],
    width: usize,
    max_rows: usize,
    g: &Glyphs,
) -> Vec<Vec<Span<'static>>> {
    let width = width.max(2);
    let chars: Vec<(char, Style)> = segments
        .iter()
        .flat_map(|(t, style)| t.chars().map(move |c| (c, *style)))
        .collect();
    let mut rows = Vec::new();
    let mut start = 0;
    while start < chars.len() && rows.len() < max_rows {
        let last_row = rows.len() + 1 == max_rows;
        let mut end = (start + width).min(chars.len());
        if end < chars.len() && !last_row {
            // Break after the last space in the row, unless that leaves it nearly empty.
            if let Some(space) = chars[start..end].iter().rposition(|(c, _)| *c == ' ')
                && space > width / 3
            {
                end = start + space + 1;
            }
        }
        let mut row: Vec<(char, Style)> = chars[start..end].to_vec();
        if last_row && end < chars.len() {
            row.pop();
            row.extend(g.ellipsis.chars().map(|c| (c, chars[end - 1].1)));
        }
        rows.push(spans_of(&row));
        start = end;
    }
    rows
}

fn spans_of(chars: &[(char, Style)]) -> Vec<Span<'static>> {
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut text = String::new();
    let mut current: Option<Style> = None;
    for (c, style) in chars {
        if current.is_some_and(|s| s != *style) {
            spans.push(Span::styled(
                std::mem::take(&mut text),
                current.unwrap_or_default(),
            ));
        }
        current = Some(*style);
        text.push(*c);
    }
    if let Some(style) = current {
        spans.push(Span::styled(text, style));
    }
    spans
}

fn severity_style(theme: &Theme, s: Severity) -> Style {
    match s {
        Severity::Info => theme.text,
        Severity::Ok => theme.ok,
        Severity::Warn => theme.warn,
        Severity::Crit => theme.crit,
    }
}

fn timeline(model: &Model, width: usize) -> (String, Vec<Line<'static>>) {
    let theme = &model.view.theme;
    let g = Glyphs::new(model.view.ascii);
    let filter = &model.ui.filter;
    let total = model.timeline.len();
    let more = if model.timeline.reading_older {
        ", reading older..."
    } else if model.timeline.older != crate::timeline::Older::None {
        ", older below"
    } else {
        ""
    };
    let title = if filter.is_empty() {
        format!("Timeline ({total}{more})")
    } else {
        format!(
            "Timeline: filter \"{}\" ({}/{total}{more})",
            clean(filter, model.view.ascii),
            model.timeline.count_shown()
        )
    };
    if total == 0 {
        return (title, placeholder(theme, "nothing recorded yet"));
    }
    let skip = model.ui.scroll[Pane::Timeline.index()];
    let today = model.now.date();
    // Narrow: source and message flow over up to two lines, so the end of a message (the new
    // value, the site) is not cut. Wide: aligned columns.
    let narrow = width < 100;
    let source_w = 28;
    let mut lines: Vec<Line<'static>> = Vec::new();
    for shown in model.timeline.shown_newest_first().skip(skip).take(200) {
        let e = &shown.entry;
        let when = if e.at.date() == today {
            clock(e.at)
        } else {
            format!(
                "{:02}-{:02} {}",
                u8::from(e.at.month()),
                e.at.day(),
                clock(e.at)
            )
        };
        let mark = if shown.journaled { " " } else { "!" };
        let mut message = clean(&e.message, model.view.ascii).into_owned();
        if let Some(op) = &e.operator {
            message = format!("{}: {message}", clean(op, model.view.ascii));
        }
        let source = clean(&e.source, model.view.ascii).into_owned();
        let style = severity_style(theme, e.severity);
        let prefix = vec![
            Span::styled(format!("{when}{mark}"), theme.dim),
            Span::styled(format!("{:<5}", e.severity.label()), style),
        ];
        let indent = when.len() + 1 + 5;
        if narrow {
            let rows = flow(
                &[(format!("{source} "), theme.dim), (message, style)],
                width.saturating_sub(indent),
                2,
                &g,
            );
            for (n, row) in rows.into_iter().enumerate() {
                let mut spans = if n == 0 {
                    prefix.clone()
                } else {
                    vec![Span::raw(" ".repeat(indent))]
                };
                spans.extend(row);
                lines.push(Line::from(spans));
            }
        } else {
            let mut spans = prefix;
            spans.push(Span::styled(cell(&source, source_w, &g) + " ", theme.dim));
            spans.push(Span::styled(
                cell(&message, width.saturating_sub(indent + source_w + 1), &g),
                style,
            ));
            lines.push(Line::from(spans));
        }
    }
    if lines.is_empty() {
        return (
            title,
            placeholder(theme, "no entry matches the filter (Esc on / clears it)"),
        );
    }
    (title, lines)
}
