//! Two lines: who and what (title, mode badge, operator, clock), then where traffic goes and how
//! bad it is.

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::model::{Driver, Shared};
use crate::app::verdict::{self, Level};
use crate::app::{Mode, Model};
use crate::text::{clean, clock};

pub fn render(frame: &mut Frame<'_>, area: Rect, model: &Model) {
    let [top, bottom] =
        ratatui::layout::Layout::vertical([ratatui::layout::Constraint::Length(1); 2]).areas(area);
    render_top(frame, top, model);
    render_bottom(frame, bottom, model);
}

/// Title, badge, operator and clock: the only line a steady second changes.
pub fn render_top(frame: &mut Frame<'_>, top: Rect, model: &Model) {
    let theme = &model.view.theme;
    let ascii = model.view.ascii;
    let config = &model.config;

    let badge = match (&model.mode, &model.driver, &model.holder) {
        (Mode::Live, Driver::Driving(_) | Driver::NotYet, _) => {
            Span::styled(" LIVE ", theme.badge_live)
        }
        (_, Driver::LockHeld(info), _) | (Mode::Watch, _, Some(info)) => Span::styled(
            format!(" WATCH: {} drives ", clean(&info.operator, ascii)),
            theme.badge_watch,
        ),
        (_, Driver::LockLost(_), _) => Span::styled(" WATCH: lock lost ", theme.badge_watch),
        _ => Span::styled(" WATCH ", theme.badge_watch),
    };
    let mut right = Vec::new();
    if model.journal_recreated.is_some() {
        // What happened is in the re-created file's first entry.
        right.push(Span::styled(" JOURNAL RE-CREATED ", theme.crit));
        right.push(Span::raw(" "));
    }
    if model.journal_problem.is_some() {
        // The details are in the log; the header says it loudly, and entries carry a `!`.
        right.push(Span::styled(" JOURNAL WRITE FAILED ", theme.crit));
        right.push(Span::raw(" "));
    }
    right.extend([
        badge,
        Span::raw(" "),
        Span::styled(clean(&model.operator, ascii).into_owned(), theme.dim),
        Span::raw(" "),
        Span::styled(format!("{} UTC", clock(model.now)), theme.text),
    ]);
    let right = Line::from(right);
    let right_width = right.width() as u16;
    frame.render_widget(Paragraph::new(right).alignment(Alignment::Right), top);
    let title_area = Rect {
        width: top.width.saturating_sub(right_width + 1),
        ..top
    };
    // While the shared record cannot be written, that takes the title's place: it is what the
    // people in the room must know first.
    let title = match model.shared {
        Shared::Unreachable { since } => Span::styled(
            format!("SHARED RECORD UNREACHABLE since {}", clock(since)),
            theme.crit,
        ),
        _ => Span::styled(clean(&config.title, ascii).into_owned(), theme.accent),
    };
    frame.render_widget(Paragraph::new(title), title_area);
}

/// Where traffic goes and the verdict.
fn render_bottom(frame: &mut Frame<'_>, bottom: Rect, model: &Model) {
    let theme = &model.view.theme;
    let ascii = model.view.ascii;
    let config = &model.config;
    let verdicts = verdict::services(model);
    let findings: Vec<verdict::Finding> =
        verdicts.iter().flat_map(|v| v.findings.clone()).collect();
    let level = verdict::overall(&findings);
    let mut spans = if verdict::named(config) {
        estate(model, &verdicts)
    } else {
        one_service(model, &verdict::serving(model))
    };
    let style = match level {
        Level::Ok => theme.ok,
        Level::Warning => theme.warn,
        Level::Critical => theme.crit,
        Level::Unknown => theme.stale,
    };
    spans.push(Span::raw("  "));
    spans.push(Span::styled(level.label(), style));
    let problems = findings.iter().filter(|f| f.level != Level::Ok).count();
    if let Some(first) = findings
        .iter()
        .find(|f| f.level == level && level != Level::Ok)
    {
        // The count first: at 80 columns the reason may be cut, the number must not be.
        let count = if problems > 1 {
            format!(" ({problems})")
        } else {
            String::new()
        };
        spans.push(Span::styled(
            format!("{count}: {}", clean(&first.text, ascii)),
            style,
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), bottom);
}

/// Named services: how many each site serves, and how many no one site does.
fn estate(model: &Model, verdicts: &[verdict::ServiceVerdict<'_>]) -> Vec<Span<'static>> {
    let theme = &model.view.theme;
    let ascii = model.view.ascii;
    let config = &model.config;
    let census = verdict::census(config, verdicts);
    let mut spans = vec![Span::styled(
        format!("{} services:", verdicts.len()),
        theme.dim,
    )];
    for (site, n) in census.on_site.iter().enumerate() {
        let sep = if site == 0 { " " } else { " · " };
        spans.push(Span::styled(
            clean(&format!("{sep}{} {n}", config.site_label(site)), ascii).into_owned(),
            if *n > 0 { theme.ok } else { theme.dim },
        ));
    }
    for (word, n, style) in [
        ("SPLIT", census.split, theme.crit),
        ("NOT SERVING", census.not_serving, theme.crit),
        ("waiting", census.waiting, theme.dim),
    ] {
        if n > 0 {
            spans.push(Span::styled(
                clean(&format!(" · {word} {n}"), ascii).into_owned(),
                style,
            ));
        }
    }
    spans
}

/// No named services: where traffic goes, site by site.
fn one_service(model: &Model, serving: &verdict::Serving) -> Vec<Span<'static>> {
    let theme = &model.view.theme;
    let ascii = model.view.ascii;
    let config = &model.config;
    let mut spans = Vec::new();
    let tagged = |site: usize| {
        let tags = serving.tags(site);
        if tags.is_empty() {
            "-".to_string()
        } else {
            tags.join("+")
        }
    };
    let troubles = serving.troubles();
    match serving.agreed() {
        Some(site) => {
            spans.push(Span::styled("serving ", theme.dim));
            spans.push(Span::styled(
                clean(config.site_label(site), ascii).into_owned(),
                theme.ok,
            ));
            spans.push(Span::styled(format!(" ({})", tagged(site)), theme.dim));
            for other in (0..config.sites.len()).filter(|s| *s != site) {
                spans.push(Span::styled(
                    clean(&format!(" · {} standby", config.site_label(other)), ascii).into_owned(),
                    theme.dim,
                ));
            }
        }
        None if serving.pointed_at().is_empty() && troubles.is_empty() => {
            spans.push(Span::styled("serving: waiting for sources", theme.dim))
        }
        None => {
            let word = if serving.pointed_at().len() > 1 || troubles.contains(&"dns mixed") {
                "SPLIT"
            } else {
                "NOT SERVING"
            };
            spans.push(Span::styled(word, theme.crit));
            for (i, site) in (0..config.sites.len()).enumerate() {
                let sep = if i == 0 { " " } else { " · " };
                let pointed = !serving.tags(site).is_empty();
                let text = format!("{sep}{}: {}", config.site_label(site), tagged(site));
                spans.push(Span::styled(
                    clean(&text, ascii).into_owned(),
                    if pointed { theme.warn } else { theme.dim },
                ));
            }
            if !troubles.is_empty() {
                spans.push(Span::styled(
                    format!(" ({})", troubles.join(", ")),
                    theme.warn,
                ));
            }
        }
    }
    spans
}
