//! One render function per pane. Each knows its three states: nothing configured, nothing heard
//! yet, and rows.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::Model;
use crate::app::model::Pane;
use crate::kinds::{NameColumn, RowCtx, Section, name_cap};
use crate::text::{clean, clock};
use crate::theme::{Glyphs, Theme, cell};
use crate::timeline::Severity;

pub fn render(frame: &mut Frame<'_>, area: Rect, model: &Model, pane: Pane, wide: bool) {
    let focused = model.ui.focus == pane;
    let inner_width = if wide {
        area.width.saturating_sub(2)
    } else {
        area.width
    } as usize;
    // The rows a source pane shows from its scroll position: only they are drawn.
    let shown = |section: Section| {
        let count = model.pane_world().row_count(section);
        let from = model.ui.scroll[pane.index()].min(count.saturating_sub(1));
        from..from + area.height as usize
    };
    let (title, lines) = match pane {
        Pane::Health => sources(
            model,
            Section::Health,
            inner_width,
            wide,
            shown(Section::Health),
        ),
        Pane::Replication => sources(
            model,
            Section::Replication,
            inner_width,
            wide,
            shown(Section::Replication),
        ),
        Pane::Dns => sources(model, Section::Dns, inner_width, wide, shown(Section::Dns)),
        Pane::Timeline => timeline(model, inner_width),
        Pane::Run => super::run::lines(model, inner_width),
        Pane::Services => super::overview::lines(model, inner_width),
    };
    let scroll = if pane == Pane::Timeline {
        0
    } else if pane == Pane::Services {
        // The cursor moves over rows that stay in place until it reaches the bottom.
        let chrome = if wide { 2 } else { 1 };
        let visible = area.height.saturating_sub(chrome) as usize;
        let cursor_line = model.ui.scroll[pane.index()] + super::overview::HEADING_ROWS;
        (cursor_line + 1).saturating_sub(visible)
    } else {
        let scrolled = model.ui.scroll[pane.index()].min(lines.len().saturating_sub(1));
        match (pane, super::run::cursor_rows(&lines)) {
            // Scrolling moves the run's rows only as far as the next step stays in view.
            (Pane::Run, Some(rows)) => {
                let chrome = if wide { 2 } else { 1 };
                let visible = area.height.saturating_sub(chrome) as usize;
                let lowest = rows.end.saturating_sub(visible).min(rows.start);
                scrolled.clamp(lowest, rows.start)
            }
            _ => scrolled,
        }
    };
    let theme = &model.view.theme;
    let mut lines = lines;
    // The focused row, whose history Enter opens: the top one, underlined (its colours say
    // its state).
    if focused
        && let Some(section) = section_of(pane)
        && crate::history::key_at(
            &model.config.kinds,
            &model.kinds,
            &model.history,
            model.pane_scope(),
            section,
            scroll,
        )
        .is_some()
        && let Some(line) = lines.get_mut(scroll)
    {
        *line = std::mem::take(line)
            .patch_style(Style::new().add_modifier(ratatui::style::Modifier::UNDERLINED));
    }
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

fn section_of(pane: Pane) -> Option<Section> {
    match pane {
        Pane::Health => Some(Section::Health),
        Pane::Replication => Some(Section::Replication),
        _ => None,
    }
}

fn placeholder<'a>(theme: &Theme, text: &str) -> Vec<Line<'a>> {
    vec![Line::from(Span::styled(text.to_string(), theme.dim))]
}

/// A pane of sources: every kind's rows in the registry's order under a title that counts
/// what needs attention, or what to configure when nothing is.
fn sources(
    model: &Model,
    section: Section,
    width: usize,
    wide: bool,
    shown: std::ops::Range<usize>,
) -> (String, Vec<Line<'static>>) {
    let theme = &model.view.theme;
    let config = &model.config;
    let (name, counted, nothing) = match section {
        Section::Health => ("Health", Some("failing"), "no [[health]] checks configured"),
        Section::Replication => (
            "Replication",
            Some("need attention"),
            "no [[database]] configured",
        ),
        Section::Dns => ("DNS", None, "no [[dns]] records configured"),
    };
    if config.kinds.in_section(section) == 0 {
        return (name.into(), placeholder(theme, nothing));
    }
    // The Health pane's name and site columns are as wide as their longest entries; names up
    // to what leaves the state, latency and some columns of detail.
    let site_w = config
        .sites
        .iter()
        .map(|s| s.label.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, if width < 100 { 7 } else { 14 });
    // At 120 columns and wider, each row with a history ends with its 5-minute sparkline.
    let sparks = wide && model.config.sparklines && section != Section::Dns;
    let row_width = if sparks {
        width.saturating_sub(super::detail::SPARK_WIDTH)
    } else {
        width
    };
    // Beside a sparkline the detail text gives way first: the names stay whole longer.
    let detail_min = if sparks { 8 } else { 20 };
    let max = name_cap(row_width, 2 + 1 + site_w + 1 + 18 + 8 + detail_min);
    let ascii = model.view.ascii;
    let names = model.name_columns.get((section, 4, max, ascii), || {
        NameColumn::new(&config.kinds.names(section), 4, max, ascii)
    });
    let ctx = RowCtx {
        width: row_width,
        view: &model.view,
        name_w: names.width,
        site_w,
        names: names.as_ref(),
        shown,
    };
    let world = model.pane_world();
    let service = model.chosen_service();
    // The chosen service's name in every pane title.
    let name = match service {
        Some(s) => format!("{name} ({})", clean(&s.name, model.view.ascii)),
        None => name.to_string(),
    };
    if service.is_some() && world.row_count(section) == 0 {
        let what = match section {
            Section::Health => "no health checks in this service",
            Section::Replication => "no database in this service",
            Section::Dns => "no dns records in this service",
        };
        return (name, placeholder(theme, what));
    }
    let mut rows = world.rows(section, &ctx);
    if sparks {
        // Rows of kinds with no history (they follow those with one) keep the full width.
        let with_history = crate::history::rows_with_history(
            &config.kinds,
            &model.kinds,
            model.pane_scope(),
            section,
        );
        if rows.lines.len() > with_history {
            let full = world.rows(
                section,
                &RowCtx {
                    width,
                    ..ctx.clone()
                },
            );
            rows.lines.truncate(with_history);
            rows.lines.extend(full.lines.into_iter().skip(with_history));
        }
        for (i, line) in rows.lines.iter_mut().enumerate() {
            if !ctx.shows(i) {
                continue;
            }
            let Some(series) = crate::history::key_at(
                &config.kinds,
                &model.kinds,
                &model.history,
                model.pane_scope(),
                section,
                i,
            )
            .and_then(|key| model.history.get(key)) else {
                continue;
            };
            let pad = ctx.width.saturating_sub(line.width());
            line.spans.push(Span::raw(" ".repeat(pad)));
            line.spans.extend(super::detail::spark(
                series,
                model.history.newest_ms,
                theme,
                model.view.ascii,
            ));
        }
    }
    let title = match counted {
        Some(what) if rows.problems > 0 => format!("{name}: {} {what}", rows.problems),
        _ => name,
    };
    (title, rows.lines)
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
    let service = model
        .chosen_service()
        .map(|s| clean(&s.name, model.view.ascii));
    let title = match (&service, filter.is_empty()) {
        (None, true) => format!("Timeline ({total}{more})"),
        (None, false) => format!(
            "Timeline: filter \"{}\" ({}/{total}{more})",
            clean(filter, model.view.ascii),
            model.timeline.count_shown()
        ),
        (Some(name), true) => format!(
            "Timeline: {name} ({}/{total}{more})",
            model.timeline.count_shown()
        ),
        (Some(name), false) => format!(
            "Timeline: {name}, filter \"{}\" ({}/{total}{more})",
            clean(filter, model.view.ascii),
            model.timeline.count_shown()
        ),
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
    let shown_sources: Vec<&str> = model
        .timeline
        .shown_newest_first()
        .skip(skip)
        .take(200)
        .map(|s| s.entry.source.as_str())
        .collect();
    let sources = NameColumn::fixed(&shown_sources, source_w, model.view.ascii);
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
            spans.push(Span::styled(sources.cell(&e.source) + " ", theme.dim));
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
            placeholder(
                theme,
                if filter.is_empty() {
                    "no entry of this service yet"
                } else {
                    "no entry matches the filter (Esc on / clears it)"
                },
            ),
        );
    }
    (title, lines)
}
