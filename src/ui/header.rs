//! Two lines: who and what (title, mode badge, operator, clock), then where traffic goes and how
//! bad it is.

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::format::{clean, clock};
use crate::app::dns::RecordSite;
use crate::app::verdict::{self, Level};
use crate::app::{Mode, Model};

pub fn render(frame: &mut Frame<'_>, area: Rect, model: &Model) {
    let theme = &model.view.theme;
    let ascii = model.view.ascii;
    let config = &model.config;
    let [top, bottom] = ratatui::layout::Layout::vertical([ratatui::layout::Constraint::Length(1); 2]).areas(area);

    let badge = match model.mode {
        Mode::Live => Span::styled(" LIVE ", theme.badge_live),
        Mode::Watch => Span::styled(" WATCH ", theme.badge_watch),
    };
    let right = Line::from(vec![
        badge,
        Span::raw(" "),
        Span::styled(clean(&model.operator, ascii).into_owned(), theme.dim),
        Span::raw(" "),
        Span::styled(format!("{} UTC", clock(model.now)), theme.text),
    ]);
    let right_width = right.width() as u16;
    frame.render_widget(Paragraph::new(right).alignment(Alignment::Right), top);
    let title_area = Rect { width: top.width.saturating_sub(right_width + 1), ..top };
    frame.render_widget(Paragraph::new(Span::styled(clean(&config.title, ascii).into_owned(), theme.accent)), title_area);

    let serving = verdict::serving(model);
    let findings = verdict::assess(model);
    let level = verdict::overall(&findings);
    let mut spans = vec![Span::styled("serving: ", theme.dim)];
    match serving.agreed() {
        Some(site) => spans.push(Span::styled(config.site_label(site).to_string(), theme.ok)),
        None => {
            let db: Vec<String> = serving.db.iter().map(|s| s.map(|s| config.site_label(s).to_string()).unwrap_or_else(|| "?".into())).collect();
            let dns: Vec<String> = serving
                .dns
                .iter()
                .map(|r| match r {
                    RecordSite::Site(s) => config.site_label(*s).to_string(),
                    RecordSite::Mixed => "mixed".into(),
                    RecordSite::Unknown => "no site".into(),
                    RecordSite::NoAnswer => "no answer".into(),
                    RecordSite::Pending => "?".into(),
                })
                .collect();
            let all_unknown = db.iter().chain(&dns).all(|s| s == "?");
            if all_unknown {
                spans.push(Span::styled("unknown (waiting for sources)", theme.dim));
            } else {
                spans.push(Span::styled("SPLIT", theme.crit));
                spans.push(Span::styled(format!(" db {} / dns {}", db.join(","), dns.join(",")), theme.warn));
            }
        }
    }
    let style = match level {
        Level::Ok => theme.ok,
        Level::Warning => theme.warn,
        Level::Critical => theme.crit,
        Level::Unknown => theme.stale,
    };
    spans.push(Span::raw("  "));
    spans.push(Span::styled(level.label(), style));
    if let Some(first) = findings.iter().filter(|f| f.level == level && level != Level::Ok).max_by_key(|f| f.level) {
        let more = findings.iter().filter(|f| f.level != Level::Ok).count().saturating_sub(1);
        let extra = if more > 0 { format!(" (+{more})") } else { String::new() };
        spans.push(Span::styled(format!(": {}{extra}", clean(&first.text, ascii)), style));
    }
    if let Some(problem) = &model.journal_problem {
        spans.insert(0, Span::styled(format!("JOURNAL WRITE FAILED: {} ", clean(problem, ascii)), theme.crit));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), bottom);
}
