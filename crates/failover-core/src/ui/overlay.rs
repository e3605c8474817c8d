//! The footer (keys that work now, or the line being typed) and the help overlay.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};
use tui_input::Input;

use crate::app::Model;
use crate::app::keys::{self, KeyMap};
use crate::app::model::Overlay;
use crate::text::clean;

pub fn footer(frame: &mut Frame<'_>, area: Rect, model: &Model) {
    let theme = &model.view.theme;
    let question;
    let (prompt, input) = match &model.ui.overlay {
        Overlay::Filter(input) => ("filter: ", input),
        Overlay::Note(input) => ("note: ", input),
        Overlay::Prompt(p) => {
            question = p.purpose.question(model);
            (question.as_str(), &p.input)
        }
        Overlay::Runbooks { .. } => {
            frame.render_widget(
                Paragraph::new(Span::styled(
                    "j/k choose  Enter open the plan  Esc close",
                    theme.dim,
                )),
                area,
            );
            return;
        }
        Overlay::Help => {
            frame.render_widget(
                Paragraph::new(Span::styled("any key: close help", theme.dim)),
                area,
            );
            return;
        }
        Overlay::Detail(_) => {
            frame.render_widget(
                Paragraph::new(Span::styled("Esc close  q quit", theme.dim)),
                area,
            );
            return;
        }
        Overlay::None if model.ui.flash.is_some() => {
            let text = model
                .ui
                .flash
                .as_ref()
                .map(|(t, _)| t.clone())
                .unwrap_or_default();
            frame.render_widget(
                Paragraph::new(Span::styled(
                    clean(&text, model.view.ascii).into_owned(),
                    theme.warn,
                )),
                area,
            );
            return;
        }
        Overlay::None => {
            // Only the keys that do something now, most important first: at 80 columns the
            // line is cut at the right.
            let mut spans = Vec::new();
            for hint in keys::available(model) {
                spans.push(Span::styled(hint.key, theme.accent));
                spans.push(Span::styled(
                    format!(" {}  ", clean(&hint.what, model.view.ascii)),
                    theme.dim,
                ));
            }
            if !model.ui.filter.is_empty() {
                spans.push(Span::styled(
                    format!("filter: {}", clean(&model.ui.filter, model.view.ascii)),
                    theme.warn,
                ));
            }
            frame.render_widget(Paragraph::new(Line::from(spans)), area);
            return;
        }
    };
    input_line(frame, area, model, prompt, input);
}

/// The fewest columns a prompt leaves for what is typed, before its hint is dropped.
const MIN_INPUT: usize = 24;

fn input_line(frame: &mut Frame<'_>, area: Rect, model: &Model, prompt: &str, input: &Input) {
    let theme = &model.view.theme;
    let prompt_w = Span::raw(prompt).width();
    // What is typed must stay readable at 80 columns: the hint yields first.
    let room = |hint: &str| (area.width as usize).saturating_sub(prompt_w + hint.len() + 1);
    let hint = match "  Enter ok, Esc cancel" {
        h if room(h) >= MIN_INPUT => h,
        _ => "",
    };
    let width = room(hint);
    let scroll = input.visual_scroll(width);
    let shown: String = input.value().chars().skip(scroll).take(width).collect();
    let line = Line::from(vec![
        Span::styled(prompt.to_string(), theme.accent),
        Span::styled(clean(&shown, model.view.ascii).into_owned(), theme.text),
        Span::raw(" ".repeat(width.saturating_sub(shown.chars().count()))),
        Span::styled(hint, theme.dim),
    ]);
    frame.render_widget(Paragraph::new(line), area);
    let x = area.x + prompt_w as u16 + (input.visual_cursor().saturating_sub(scroll)) as u16;
    frame.set_cursor_position(Position::new(x.min(area.right().saturating_sub(1)), area.y));
}

pub fn render(frame: &mut Frame<'_>, area: Rect, model: &Model) {
    if let Overlay::Runbooks { selected } = &model.ui.overlay {
        runbooks(frame, area, model, *selected);
        return;
    }
    if let Overlay::Detail(key) = model.ui.overlay {
        super::detail::render(frame, area, model, key);
        return;
    }
    if !matches!(model.ui.overlay, Overlay::Help) {
        return;
    }
    let theme = &model.view.theme;
    let keymap = KeyMap::of(model);
    // Two columns, so every key fits at 80x24.
    let bindings: Vec<_> = keymap.help().collect();
    let half = bindings.len().div_ceil(2);
    let cell = |b: Option<&&crate::app::keys::Binding>| -> Vec<Span<'_>> {
        match b {
            Some(b) => vec![
                Span::styled(format!("{:>10} ", b.keys), theme.accent),
                Span::styled(format!("{:<25}", b.help), theme.text),
            ],
            None => Vec::new(),
        }
    };
    let mut lines: Vec<Line<'_>> = (0..half)
        .map(|i| {
            let mut spans = cell(bindings.get(i));
            spans.extend(cell(bindings.get(i + half)));
            Line::from(spans)
        })
        .collect();
    let glyphs = crate::theme::Glyphs::new(model.view.ascii);
    lines.push(Line::raw(""));
    lines.push(Line::from(Span::styled(
        format!(
            "{} healthy  {} failing  {} waiting  {} stale: no answer in interval+timeout",
            glyphs.ok, glyphs.bad, glyphs.pending, glyphs.stale
        ),
        theme.dim,
    )));
    lines.push(Line::from(Span::styled(
        "Enter on Health or Replication, run pane closed: the top row's history.",
        theme.dim,
    )));
    if crate::app::verdict::named(&model.config) {
        lines.push(Line::from(Span::styled(
            "Services: l (Enter, run pane closed) shows one service; h returns to all.",
            theme.dim,
        )));
    }
    lines.push(Line::from(Span::styled(
        "Times are UTC. Lag: bytes, then seconds and their source.",
        theme.dim,
    )));
    lines.push(Line::from(Span::styled(
        "A ! after a timeline time: that entry could not be journaled.",
        theme.dim,
    )));
    if model.mode == crate::app::Mode::Watch {
        lines.push(Line::from(Span::styled(
            "WATCH mode: read-only. This console changes nothing but its own notes.",
            theme.warn,
        )));
    }
    let popup = centered(area, lines.len() as u16 + 2);
    frame.render_widget(Clear, popup);
    let block = super::block(model, Line::from(" Help "), true, true);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        popup,
    );
}

fn runbooks(frame: &mut Frame<'_>, area: Rect, model: &Model, selected: usize) {
    let theme = &model.view.theme;
    let config = &model.config;
    let lines: Vec<Line<'_>> = config
        .runbooks
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let style = if i == selected {
                theme.focus
            } else {
                theme.text
            };
            let mark = if i == selected { "> " } else { "  " };
            let text = format!(
                "{mark}{}: {} → {}  {}",
                r.name,
                config.site_label(r.from),
                config.site_label(r.to),
                r.description
            );
            Line::from(Span::styled(
                clean(&text, model.view.ascii).into_owned(),
                style,
            ))
        })
        .collect();
    // The evacuation plans after the runbooks, marked as plans.
    let mut lines = lines;
    let first = config.runbooks.len();
    for (i, p) in config.plans.iter().enumerate() {
        let chosen = first + i == selected;
        let style = if chosen { theme.focus } else { theme.text };
        let mark = if chosen { "> " } else { "  " };
        let text = format!(
            "{mark}PLAN {}: → {}  {} runbooks in order",
            p.name,
            config.site_label(p.to),
            p.entries.len()
        );
        lines.push(Line::from(Span::styled(
            clean(&text, model.view.ascii).into_owned(),
            style,
        )));
    }
    let popup = centered(area, lines.len() as u16 + 2);
    frame.render_widget(Clear, popup);
    let block = super::block(model, Line::from(" Runbooks "), true, true);
    frame.render_widget(Paragraph::new(lines).block(block), popup);
}

/// A 76-column box of `height` rows in the middle of `area` (smaller if `area` is).
fn centered(area: Rect, height: u16) -> Rect {
    let [popup] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [popup] = Layout::horizontal([Constraint::Length(76.min(area.width))])
        .flex(Flex::Center)
        .areas(popup);
    popup
}
