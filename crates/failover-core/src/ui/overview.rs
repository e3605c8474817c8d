//! The estate overview: one row per service, with where its primary is and where its DNS
//! points, its verdict and first reason, its worst replica lag, and its run if one is open.
//!
//! ```text
//!   service      db      dns     verdict lag            run           reason
//! > orders       site A  site A  OK      0 B, 0.0 s
//!   billing      split   site B  CRIT    ?              2/5 failover  primary on both sites
//! ```

use std::collections::BTreeSet;

use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use crate::app::Model;
use crate::app::model::Pane;
use crate::app::verdict::{self, Level, ServiceVerdict};
use crate::fit;
use crate::kinds::ReplicaLag;
use crate::kinds::dns::RecordSite;
use crate::runbook::evac::ItemState;
use crate::runbook::{RunState, StepStatus};
use crate::text::{bytes, clean, secs};
use crate::theme::{Glyphs, Theme, cell};

/// A cell's text and what it says (its colour).
type Cell = (String, Tone);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tone {
    Ok,
    Bad,
    Warn,
    Dim,
    Text,
}

/// The overview's title and lines: a heading, then one row per service in the config's order.
pub fn lines(model: &Model, width: usize) -> (String, Vec<Line<'static>>) {
    let theme = &model.view.theme;
    let g = Glyphs::new(model.view.ascii);
    let verdicts = verdict::services(model);
    let rows: Vec<Row> = verdicts.iter().map(|v| row(model, v)).collect();
    let names: Vec<String> = verdicts
        .iter()
        .map(|v| clean(&v.service.name, model.view.ascii).into_owned())
        .collect();
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let longest = name_refs.iter().map(|n| fit::width(n)).max().unwrap_or(0);
    let name_w = longest.clamp(7, if width < 120 { 16 } else { 32 });
    let shown_names = fit::names(&name_refs, name_w, g.ellipsis);
    // Each column as wide as its widest cell (and its heading), within a cap.
    let col = |head: &str, cells: &dyn Fn(&Row) -> &str, cap: usize| {
        rows.iter()
            .map(|r| fit::width(cells(r)))
            .chain([head.len()])
            .max()
            .unwrap_or(0)
            .min(cap)
    };
    let db_w = col("db", &|r| &r.db.0, 10);
    let dns_w = col("dns", &|r| &r.dns.0, 10);
    let level_w = "verdict".len();
    let lag_w = col("lag", &|r| &r.lag.0, 14);
    let any_run = rows.iter().any(|r| r.run.is_some());
    let run_w = if any_run {
        col("run", &|r| r.run.as_ref().map_or("", |c| &c.0), 18)
    } else {
        0
    };
    let fixed = 2 + name_w + 1 + db_w + 1 + dns_w + 1 + level_w + 1 + lag_w + 1;
    let run_cols = if any_run { run_w + 1 } else { 0 };
    let reason_w = width.saturating_sub(fixed + run_cols);

    let mut heading = format!(
        "  {} {} {} {} {} ",
        fit::pad("service", name_w),
        fit::pad("db", db_w),
        fit::pad("dns", dns_w),
        fit::pad("verdict", level_w),
        fit::pad("lag", lag_w),
    );
    if any_run {
        heading.push_str(&fit::pad("run", run_w));
        heading.push(' ');
    }
    heading.push_str("reason");
    let mut lines = vec![Line::from(Span::styled(
        cell(&heading, width, &g).trim_end().to_string(),
        theme.dim,
    ))];
    let cursor = model.ui.scroll[Pane::Services.index()].min(rows.len().saturating_sub(1));
    let focused = model.ui.focus == Pane::Services;
    for (i, (r, name)) in rows.iter().zip(shown_names).enumerate() {
        let here = i == cursor;
        let mark = if here { "> " } else { "  " };
        let mut name_style = theme.text;
        if here && focused {
            name_style = theme.focus.add_modifier(Modifier::BOLD);
        }
        let mut spans = vec![
            Span::styled(mark.to_string(), theme.accent),
            Span::styled(fit::pad(&name, name_w) + " ", name_style),
            span(theme, &r.db, db_w, &g),
            span(theme, &r.dns, dns_w, &g),
            span(theme, &r.level, level_w, &g),
            span(theme, &r.lag, lag_w, &g),
        ];
        if any_run {
            let empty = (String::new(), Tone::Dim);
            spans.push(span(theme, r.run.as_ref().unwrap_or(&empty), run_w, &g));
        }
        if reason_w > 0 && !r.reason.0.is_empty() {
            let text = cell(&clean(&r.reason.0, model.view.ascii), reason_w, &g);
            spans.push(Span::styled(
                text.trim_end().to_string(),
                style(theme, r.reason.1),
            ));
        }
        lines.push(Line::from(spans));
    }
    let census = verdict::census(&model.config, &verdicts);
    let title = format!(
        "Services ({}{})",
        verdicts.len(),
        if census.split > 0 {
            format!(", {} split", census.split)
        } else {
            String::new()
        }
    );
    (title, lines)
}

/// How many rows come before the first service's (the heading).
pub const HEADING_ROWS: usize = 1;

/// One service's cells.
struct Row {
    db: Cell,
    dns: Cell,
    level: Cell,
    lag: Cell,
    run: Option<Cell>,
    reason: Cell,
}

fn row(model: &Model, v: &ServiceVerdict<'_>) -> Row {
    let config = &model.config;
    let sources = &v.service.sources;
    let has_db =
        !(sources.postgres.is_empty() && sources.patroni.is_empty() && sources.rds.is_empty());
    let has_dns = !(sources.dns.is_empty() && sources.route53.is_empty());
    let level = match v.level {
        Level::Ok => ("OK", Tone::Ok),
        Level::Warning => ("WARN", Tone::Warn),
        Level::Critical => ("CRIT", Tone::Bad),
        Level::Unknown => ("UNKNOWN", Tone::Dim),
    };
    let reason = v
        .findings
        .iter()
        .find(|f| f.level == v.level && v.level != Level::Ok)
        .map(|f| {
            // The findings of a named service start with its name, which the row already says.
            let text = f
                .text
                .strip_prefix(&format!("{}: ", v.service.name))
                .unwrap_or(&f.text);
            (text.to_string(), level.1)
        })
        .unwrap_or((String::new(), Tone::Dim));
    let world = model.world().scoped(sources);
    Row {
        db: db_cell(config, v, has_db),
        dns: dns_cell(config, v, has_dns),
        level: (level.0.to_string(), level.1),
        lag: lag_cell(&world.replica_lags()),
        run: run_cell(model, v),
        reason,
    }
}

/// Where its primaries are: one site's label, "split" (two primaries, or primaries on two
/// sites), "no primary", "?" (not read yet) or "-" (no database in the service).
fn db_cell(config: &crate::config::Config, v: &ServiceVerdict<'_>, has_db: bool) -> Cell {
    let serving = &v.serving;
    let sites: BTreeSet<_> = serving.db.iter().flatten().copied().collect();
    if serving.db.iter().any(|d| d.len() > 1) || sites.len() > 1 {
        return ("split".into(), Tone::Bad);
    }
    if let Some(site) = sites.first() {
        return (config.site_label(*site).to_string(), Tone::Ok);
    }
    if serving.no_primary.iter().any(|n| *n) {
        return ("no primary".into(), Tone::Bad);
    }
    if has_db {
        ("?".into(), Tone::Dim)
    } else {
        ("-".into(), Tone::Dim)
    }
}

/// Where its records point: one site's label, "split" (records on different sites, or
/// resolvers disagreeing), "no site" (an answer matching no site), "no answer", "?" (not
/// read yet) or "-" (no record in the service).
fn dns_cell(config: &crate::config::Config, v: &ServiceVerdict<'_>, has_dns: bool) -> Cell {
    let dns = &v.serving.dns;
    let sites: BTreeSet<_> = dns
        .iter()
        .filter_map(|r| match r {
            RecordSite::Site(s) => Some(*s),
            _ => None,
        })
        .collect();
    if sites.len() > 1 || dns.contains(&RecordSite::Mixed) {
        return ("split".into(), Tone::Bad);
    }
    if dns.contains(&RecordSite::Unknown) {
        return ("no site".into(), Tone::Bad);
    }
    if dns.contains(&RecordSite::NoAnswer) {
        return ("no answer".into(), Tone::Bad);
    }
    match sites.first() {
        Some(site) => (config.site_label(*site).to_string(), Tone::Ok),
        None if has_dns => ("?".into(), Tone::Dim),
        None => ("-".into(), Tone::Dim),
    }
}

/// The worst replica lag: bytes and seconds as the Replication pane shows them; "?" when any
/// replica's lag is unknown (an unknown lag may be the worst); "-" without replicas.
fn lag_cell(lags: &[ReplicaLag]) -> Cell {
    if lags.is_empty() {
        return ("-".into(), Tone::Dim);
    }
    let mut worst_bytes: Option<u64> = None;
    let mut worst_time = None;
    for lag in lags {
        match lag {
            ReplicaLag::Unknown => return ("?".into(), Tone::Warn),
            ReplicaLag::Known { bytes, time } => {
                worst_bytes = worst_bytes.max(*bytes);
                worst_time = worst_time.max(*time);
            }
        }
    }
    let text = match (worst_bytes, worst_time) {
        (Some(b), Some(t)) => format!("{}, {}", bytes(b), secs(t)),
        (Some(b), None) => bytes(b),
        (None, Some(t)) => secs(t),
        (None, None) => "?".into(),
    };
    (text, Tone::Text)
}

/// The current run, when its runbook is one of this service's: "2/5 failover", with the state
/// of a step that needs a look, or how it ended.
fn run_cell(model: &Model, v: &ServiceVerdict<'_>) -> Option<Cell> {
    let run = model.runs.current.as_ref().filter(|run| {
        run.runbook_index
            .is_some_and(|r| v.service.runbooks.contains(&r))
    });
    // The service's place in the current plan, unless its run came after the plan ended.
    let plan_item = model.runs.evac.current.as_ref().and_then(|p| {
        let later = run.is_some_and(|r| p.ended_at.is_some_and(|end| r.armed_at > end));
        (!later)
            .then(|| p.items.iter().find(|i| i.service == v.service.name))
            .flatten()
    });
    let in_plan = match (plan_item, run) {
        (Some(item), Some(_)) if item.state == ItemState::Running => true,
        (Some(_), _) | (None, None) => return plan_cell(model, v),
        (None, Some(_)) => false,
    };
    let run = run?;
    // The state first: a long runbook name is what the column cuts.
    let label = |state: String| {
        if in_plan {
            format!("plan {state}")
        } else if run.dry_run {
            format!("{state} dry run {}", run.runbook)
        } else {
            format!("{state} {}", run.runbook)
        }
    };
    let done = run
        .steps
        .iter()
        .filter(|s| matches!(s.status, StepStatus::Ok | StepStatus::Skipped))
        .count();
    Some(match &run.state {
        RunState::Finished => (label("done".into()), Tone::Ok),
        RunState::Aborted(_) => (label("ABORTED".into()), Tone::Bad),
        RunState::Active => {
            let worst = run
                .steps
                .iter()
                .map(|s| s.status)
                .find(|s| matches!(s, StepStatus::Failed | StepStatus::Unknown));
            let progress = format!("{done}/{}", run.steps.len());
            match worst {
                Some(s) => (label(format!("{progress} {}", s.label())), Tone::Bad),
                None => (label(progress), Tone::Warn),
            }
        }
    })
}

/// The service's place in the current evacuation plan, when its own run is not the current one:
/// "plan moved", "plan pending"...
fn plan_cell(model: &Model, v: &ServiceVerdict<'_>) -> Option<Cell> {
    let plan = model.runs.evac.current.as_ref()?;
    let item = plan.items.iter().find(|i| i.service == v.service.name)?;
    Some(match &item.state {
        ItemState::Pending => ("plan pending".to_string(), Tone::Dim),
        ItemState::Running => ("plan running".to_string(), Tone::Warn),
        ItemState::Moved => ("plan moved".to_string(), Tone::Ok),
        ItemState::Skipped(_) => ("plan SKIPPED".to_string(), Tone::Bad),
        ItemState::Aborted => ("plan ABORTED".to_string(), Tone::Bad),
    })
}

fn span(theme: &Theme, (text, tone): &Cell, width: usize, g: &Glyphs) -> Span<'static> {
    Span::styled(cell(text, width, g) + " ", style(theme, *tone))
}

fn style(theme: &Theme, tone: Tone) -> Style {
    match tone {
        Tone::Ok => theme.ok,
        Tone::Bad => theme.crit,
        Tone::Warn => theme.warn,
        Tone::Dim => theme.dim,
        Tone::Text => theme.text,
    }
}
