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
    let mut spans = Vec::new();
    // For each site, what points at it: the primary of each database ("db"), DNS ("dns").
    let tags = |site: usize| -> Vec<&'static str> {
        let mut t = Vec::new();
        if serving.db.contains(&Some(site)) {
            t.push("db");
        }
        if serving.dns.contains(&RecordSite::Site(site)) {
            t.push("dns");
        }
        t
    };
    let known = serving.db.iter().any(Option::is_some) || serving.dns.iter().any(|r| !matches!(r, RecordSite::Pending));
    match serving.agreed() {
        Some(site) => {
            spans.push(Span::styled("serving ", theme.dim));
            spans.push(Span::styled(config.site_label(site).to_string(), theme.ok));
            spans.push(Span::styled(format!(" ({})", tags(site).join("+")), theme.dim));
            for other in (0..config.sites.len()).filter(|s| *s != site) {
                spans.push(Span::styled(format!(" · {} standby", config.site_label(other)), theme.dim));
            }
        }
        None if !known => spans.push(Span::styled("serving: waiting for sources", theme.dim)),
        None => {
            spans.push(Span::styled("SPLIT", theme.crit));
            for site in 0..config.sites.len() {
                let t = tags(site);
                let text = if t.is_empty() { "-".to_string() } else { t.join("+") };
                spans.push(Span::styled(format!(" {}: {text}", config.site_label(site)), if t.is_empty() { theme.dim } else { theme.warn }));
            }
            let odd: Vec<&str> = serving
                .dns
                .iter()
                .filter_map(|r| match r {
                    RecordSite::Mixed => Some("dns mixed"),
                    RecordSite::Unknown => Some("dns no site"),
                    RecordSite::NoAnswer => Some("dns no answer"),
                    _ => None,
                })
                .chain(serving.db.iter().filter(|d| d.is_none()).map(|_| "no single primary"))
                .collect();
            if !odd.is_empty() {
                spans.push(Span::styled(format!(" ({})", odd.join(", ")), theme.warn));
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
