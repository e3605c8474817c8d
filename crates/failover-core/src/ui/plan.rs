//! The run pane for an evacuation plan: before arming, every runbook of the plan with its
//! gates' live evidence; once armed, one row per service with its state, then the current
//! runbook's run as `ui::run` draws it.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::run::{cut, hints, live_verdict, run_lines, t};
use crate::app::Model;
use crate::config::Plan;
use crate::runbook::evac::{ItemState, PlanItem, PlanView};
use crate::runbook::{RunState, StepKind, StepStatus, evidence, numbers};
use crate::text::clock;
use crate::theme::Glyphs;

/// The pane's title and lines when a plan is open or current; None otherwise.
pub fn lines(model: &Model, width: usize) -> Option<(String, Vec<Line<'static>>)> {
    let open = model.runs.evac.open;
    match &model.runs.evac.current {
        Some(plan)
            if plan.is_active()
                || (model.runs.evac.shown && model.runs.plan.is_none() && open.is_none()) =>
        {
            Some(plan_lines(model, plan, width))
        }
        _ => open.map(|i| preview(model, &model.config.plans[i], width)),
    }
}

fn preview(model: &Model, plan: &Plan, width: usize) -> (String, Vec<Line<'static>>) {
    let theme = &model.view.theme;
    let config = &model.config;
    let title = format!(
        "Evacuation plan: {} → {} ({} runbooks, one at a time)",
        plan.name,
        config.site_label(plan.to),
        plan.entries.len()
    );
    let mut lines = Vec::new();
    for (n, entry) in plan.entries.iter().enumerate() {
        let runbook = &config.runbooks[entry.runbook];
        lines.push(Line::from(vec![
            Span::styled(format!("{:>2} ", n + 1), theme.accent),
            Span::styled(
                t(
                    model,
                    &format!(
                        "{}/{} ({} → {})",
                        config.services[entry.service].name,
                        runbook.name,
                        config.site_label(runbook.from),
                        config.site_label(runbook.to)
                    ),
                ),
                theme.text,
            ),
        ]));
        let gates = runbook
            .steps
            .iter()
            .enumerate()
            .filter(|(_, s)| matches!(s.kind, StepKind::Gate(_)));
        let mut any = false;
        for (i, step) in gates {
            any = true;
            let (verdict, style) = live_verdict(model, Some(entry.runbook), &step.kind);
            lines.push(Line::from(vec![
                Span::styled(format!("   gate {:>2} ", i + 1), theme.dim),
                Span::styled(
                    format!("{:<22} ", cut(&t(model, &step.title), 22)),
                    theme.text,
                ),
                Span::styled(cut(&verdict, width.saturating_sub(33)), style),
            ]));
        }
        if !any {
            lines.push(Line::from(Span::styled("   no gate", theme.dim)));
        }
    }
    lines.push(Line::from(Span::styled(
        t(model, &hints(model)),
        theme.accent,
    )));
    (title, lines)
}

fn plan_lines(model: &Model, plan: &PlanView, width: usize) -> (String, Vec<Line<'static>>) {
    let theme = &model.view.theme;
    let config = &model.config;
    let target = config
        .site_by_key(&plan.target)
        .map(|s| config.site_label(s).to_string())
        .unwrap_or_else(|| plan.target.clone());
    let moved = plan
        .items
        .iter()
        .filter(|i| i.state == ItemState::Moved)
        .count();
    let state = match &plan.state {
        RunState::Active => String::new(),
        RunState::Finished => " · finished".into(),
        RunState::Aborted(why) => format!(" · ABORTED: {why}"),
    };
    let title = format!(
        "Plan {} → {target} — {} · {moved}/{} moved{state}",
        plan.name,
        plan.class.label(),
        plan.items.len()
    );
    let who = plan.operator.clone().unwrap_or_else(|| "?".into());
    let mut lines = vec![Line::from(vec![
        Span::styled(
            format!("armed {} UTC by {} ", clock(plan.armed_at), t(model, &who)),
            theme.dim,
        ),
        Span::styled(
            cut(
                &format!("\"{}\"", t(model, &plan.reason)),
                width.saturating_sub(30),
            ),
            theme.text,
        ),
    ])];
    let service_width = plan
        .items
        .iter()
        .map(|i| i.service.chars().count())
        .max()
        .unwrap_or(0)
        .min(16);
    for item in &plan.items {
        let (glyph, text, style) = item_state(model, item);
        let fixed = 2 + service_width + 1;
        lines.push(Line::from(vec![
            Span::styled(format!("{glyph} "), style),
            Span::styled(
                format!(
                    "{:<service_width$} ",
                    cut(&t(model, &item.service), service_width)
                ),
                theme.text,
            ),
            Span::styled(cut(&t(model, &text), width.saturating_sub(fixed)), style),
        ]));
    }
    let current = model
        .runs
        .current
        .as_ref()
        .filter(|r| plan.holds(r) && (r.is_active() || !plan.is_active()));
    match current {
        Some(run) if plan.is_active() => {
            let (run_title, run_lines) = run_lines(model, run, width);
            let rule = if model.view.ascii { "--" } else { "──" };
            lines.push(Line::from(Span::styled(
                cut(&format!("{rule} {} ", t(model, &run_title)), width),
                theme.dim,
            )));
            lines.extend(run_lines);
        }
        _ => lines.push(Line::from(Span::styled(
            t(model, &hints(model)),
            theme.accent,
        ))),
    }
    (title, lines)
}

/// A service's row: its glyph, what state it is in, and the style to say it with.
fn item_state(model: &Model, item: &PlanItem) -> (&'static str, String, Style) {
    let theme = &model.view.theme;
    let g = Glyphs::new(model.view.ascii);
    let running = if model.view.ascii { ">" } else { "▶" };
    let skipped = if model.view.ascii { "-" } else { "↷" };
    let name = &item.runbook;
    match (&item.state, &item.run) {
        (ItemState::Pending, _) => (g.pending, format!("{name}: pending"), theme.dim),
        (ItemState::Skipped(why), _) => (skipped, format!("{name}: skipped: {why}"), theme.warn),
        (ItemState::Aborted, _) => (g.bad, format!("{name}: aborted"), theme.crit),
        (ItemState::Moved, run) => {
            let figures = run
                .as_ref()
                .map(|r| numbers::figures(r, &model.config.objectives));
            let text = match figures {
                Some(f) if f.rto.is_some() => format!(
                    "{name}: moved · RTO {} · RPO {}",
                    numbers::dur(f.rto.unwrap_or_default()),
                    numbers::rpo_figure(&f)
                ),
                _ => format!("{name}: moved (target not serving yet)"),
            };
            (g.ok, text, theme.ok)
        }
        (ItemState::Running, None) => (running, format!("{name}: armed"), theme.accent),
        (ItemState::Running, Some(run)) => {
            let n = run.steps.len();
            let live = model
                .runs
                .current
                .as_ref()
                .filter(|r| r.id == run.id)
                .unwrap_or(run);
            if let Some((k, step)) = live
                .steps
                .iter()
                .enumerate()
                .find(|(_, s)| matches!(s.status, StepStatus::Failed | StepStatus::Unknown))
            {
                let what = step.status.label();
                return (
                    g.bad,
                    format!("{name}: {what} at step {}/{n}: {}", k + 1, step.detail),
                    theme.crit,
                );
            }
            let Some(k) = live.cursor() else {
                return (running, format!("{name}: finishing"), theme.accent);
            };
            let gate = live
                .runbook_index
                .and_then(|i| model.config.runbooks[i].steps.get(k))
                .and_then(|s| match &s.kind {
                    StepKind::Gate(g) => {
                        Some(evidence::gate(&model.world_for(live.runbook_index), g))
                    }
                    _ => None,
                })
                .filter(|ev| !ev.pass);
            match gate {
                Some(ev) => (
                    g.bad,
                    format!("{name}: BLOCKED at step {}/{n}: {}", k + 1, ev.summary()),
                    theme.crit,
                ),
                None => (
                    running,
                    format!("{name}: running step {}/{n}", k + 1),
                    theme.accent,
                ),
            }
        }
    }
}
