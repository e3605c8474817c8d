//! The run pane: a runbook's plan before arming (every step, what it will call, live gates), then
//! the run (each step's status, elapsed time, outcome, and the next step's evidence).

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::app::Model;
use crate::app::keys::{self, Command};
use crate::runbook::StepKind;
use crate::runbook::{RunState, RunView, StepStatus, evidence, plan};
use crate::text::{clean, clock, latency, since};
use crate::theme::Glyphs;

pub fn lines(model: &Model, width: usize) -> (String, Vec<Line<'static>>) {
    if let Some(plan) = super::plan::lines(model, width) {
        return plan;
    }
    match (&model.runs.current, model.runs.plan) {
        (Some(run), _)
            if model.runs.shown
                && (run.is_active()
                    || model.runs.plan.is_none()
                    || run.runbook_index == model.runs.plan) =>
        {
            run_lines(model, run, width)
        }
        (_, Some(index)) => plan_lines(model, index, width),
        _ => ("Run".into(), vec![Line::from("r lists runbooks")]),
    }
}

/// The run pane's last line: why this console cannot act, or the run keys that work now (the
/// footer's first keys, from the same list).
pub fn hints(model: &Model) -> String {
    if let Some(why) = model.driver.why_not() {
        return why;
    }
    if model
        .runs
        .current
        .as_ref()
        .is_some_and(|r| r.is_active() && r.dry_run)
    {
        return "dry run in progress: nothing is executed".into();
    }
    keys::available(model)
        .into_iter()
        .filter(|h| matches!(h.command, Command::Run(_)))
        .map(|h| format!("{} {}", h.key, h.what))
        .collect::<Vec<_>>()
        .join("  ")
}

/// The rows of `lines` (as `run_lines` wrote them) that belong to the next step: its row, marked
/// `CURSOR`, and the indented rows under it that say what it will do. The pane keeps them in
/// view: at 80x24 a run's figures can push the step Enter does below the pane's last row.
pub(super) fn cursor_rows(lines: &[Line<'_>]) -> Option<std::ops::Range<usize>> {
    // The step's row starts with its marked number (a plan's running service, `> ` in ASCII,
    // has none).
    let marked = |l: &Line<'_>| {
        l.spans.first().is_some_and(|s| {
            s.content
                .strip_prefix(CURSOR)
                .is_some_and(|n| n.trim().parse::<usize>().is_ok())
        })
    };
    let start = lines.iter().position(marked)?;
    let under = lines[start + 1..]
        .iter()
        .take_while(|l| {
            l.spans
                .first()
                .is_some_and(|s| s.content.starts_with(DETAIL))
        })
        .count();
    Some(start..start + 1 + under)
}

/// The next step's marker, and the indent of the rows under it.
const CURSOR: &str = ">";
const DETAIL: &str = "       ";

pub(super) fn t(model: &Model, text: &str) -> String {
    clean(text, model.view.ascii).into_owned()
}

pub(super) fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        text.chars()
            .take(width.saturating_sub(1))
            .collect::<String>()
            + "~"
    }
}

fn plan_lines(model: &Model, index: usize, width: usize) -> (String, Vec<Line<'static>>) {
    let runbook = &model.config.runbooks[index];
    let theme = &model.view.theme;
    let config = &model.config;
    let title = format!(
        "Plan: {} ({} → {})",
        runbook.name,
        config.site_label(runbook.from),
        config.site_label(runbook.to)
    );
    let mut lines = Vec::new();
    if !runbook.description.is_empty() {
        lines.push(Line::from(Span::styled(
            t(model, &runbook.description),
            theme.dim,
        )));
    }
    for (i, step) in runbook.steps.iter().enumerate() {
        let (verdict, style) = live_verdict(model, Some(index), &step.kind);
        lines.push(Line::from(vec![
            Span::styled(format!("{:>2} {:<6} ", i + 1, step.kind.label()), theme.dim),
            Span::styled(
                format!("{:<24} ", cut(&t(model, &step.title), 24)),
                theme.text,
            ),
            Span::styled(verdict, style),
        ]));
        for detail in plan::describe(
            &config.sites,
            &config.kinds,
            model.service_name(index),
            step,
        ) {
            lines.push(Line::from(Span::styled(
                cut(
                    &format!("          {}", t(model, &config.masker.mask(&detail))),
                    width,
                ),
                theme.dim,
            )));
        }
    }
    lines.push(Line::from(Span::styled(
        t(model, &hints(model)),
        theme.accent,
    )));
    (title, lines)
}

/// A gate's or wait's live state: PASS / BLOCKS with the reason.
pub(super) fn live_verdict(
    model: &Model,
    runbook: Option<usize>,
    kind: &StepKind,
) -> (String, Style) {
    let theme = &model.view.theme;
    let ev = match kind {
        StepKind::Gate(g) => evidence::gate(&model.world_for(runbook), g),
        StepKind::Wait(w) => evidence::wait(&model.world_for(runbook), w),
        _ => return (String::new(), theme.dim),
    };
    if ev.pass {
        (format!("PASS {}", t(model, &ev.summary())), theme.ok)
    } else {
        (format!("BLOCKS {}", t(model, &ev.summary())), theme.warn)
    }
}

fn status_style(model: &Model, status: StepStatus) -> (&'static str, Style) {
    let theme = &model.view.theme;
    let g = Glyphs::new(model.view.ascii);
    match status {
        StepStatus::Pending => (g.pending, theme.dim),
        StepStatus::Running => (if model.view.ascii { ">" } else { "▶" }, theme.accent),
        StepStatus::Ok => (g.ok, theme.ok),
        StepStatus::Failed => (g.bad, theme.crit),
        StepStatus::Skipped => (if model.view.ascii { "-" } else { "↷" }, theme.warn),
        StepStatus::Unknown => ("?", theme.warn),
    }
}

pub(super) fn run_lines(
    model: &Model,
    run: &RunView,
    width: usize,
) -> (String, Vec<Line<'static>>) {
    let theme = &model.view.theme;
    let config = &model.config;
    let target = config
        .site_by_key(&run.target)
        .map(|s| config.site_label(s).to_string())
        .unwrap_or_else(|| run.target.clone());
    let kind = if run.dry_run { "DRY RUN" } else { "Run" };
    let state = match &run.state {
        RunState::Active => String::new(),
        RunState::Finished => " · finished".into(),
        RunState::Aborted(why) => format!(" · ABORTED: {why}"),
    };
    let class = match run.class {
        Some(c) if !run.dry_run => format!(" — {}", c.label()),
        _ => String::new(),
    };
    let rto = rto_clock(model, run);
    let title = format!("{kind} {} → {target}{class}{state}{rto}", run.runbook);
    let mut lines = Vec::new();
    let who = run.operator.clone().unwrap_or_else(|| "?".into());
    lines.push(Line::from(vec![
        Span::styled(
            format!("armed {} UTC by {} ", clock(run.armed_at), t(model, &who)),
            theme.dim,
        ),
        Span::styled(
            cut(
                &format!("\"{}\"", t(model, &run.reason)),
                width.saturating_sub(30),
            ),
            theme.text,
        ),
    ]));
    numbers_lines(model, run, width, &mut lines);
    if run.config_changed {
        lines.push(Line::from(Span::styled(
            "the runbook changed in the config since arming: abort and arm again",
            theme.crit,
        )));
    }
    let cursor = run.cursor();
    let runbook = run.runbook_index.map(|i| &config.runbooks[i]);
    for (i, step) in run.steps.iter().enumerate() {
        let (glyph, style) = status_style(model, step.status);
        let mut status = step.status.label().to_string();
        if step.status == StepStatus::Running {
            let elapsed = step
                .started
                .map(|s| since(model.now, s))
                .unwrap_or_default();
            status = format!("running {elapsed}");
        } else if let (Some(start), Some(end)) = (step.started, step.finished) {
            let took = std::time::Duration::try_from(end - start).unwrap_or_default();
            status = format!("{status} {}", latency(took));
        }
        if step.overridden {
            status = "OVERRIDDEN".into();
        }
        let marker = if Some(i) == cursor && run.is_active() {
            CURSOR
        } else {
            " "
        };
        let mut detail = step.detail.clone();
        if let Some((rb, text)) = &step.rollback {
            detail = format!("rollback {}: {text}", rb.label());
        }
        let fixed = 4 + 2 + 24 + 1 + 13;
        lines.push(Line::from(vec![
            Span::styled(format!("{marker}{:>2} ", i + 1), theme.accent),
            Span::styled(format!("{glyph} "), style),
            Span::styled(
                format!("{:<24} ", cut(&t(model, &step.title), 24)),
                theme.text,
            ),
            Span::styled(format!("{:<13}", cut(&status, 13)), style),
            Span::styled(cut(&t(model, &detail), width.saturating_sub(fixed)), style),
        ]));
        // The next step: what it will do, and for a gate or wait, the live evidence.
        if Some(i) == cursor
            && run.is_active()
            && !run.dry_run
            && let Some(step_spec) = runbook.and_then(|r| r.steps.get(i))
        {
            if matches!(step_spec.kind, StepKind::Gate(_) | StepKind::Wait(_)) {
                let (verdict, vstyle) = live_verdict(model, run.runbook_index, &step_spec.kind);
                lines.push(Line::from(Span::styled(
                    cut(&format!("{DETAIL}now: {verdict}"), width),
                    vstyle,
                )));
            }
            let service = run.runbook_index.and_then(|r| model.service_name(r));
            for d in plan::describe_kind(&config.sites, &config.kinds, service, &step_spec.kind)
                .into_iter()
                .take(3)
            {
                lines.push(Line::from(Span::styled(
                    cut(
                        &format!("{DETAIL}{}", t(model, &config.masker.mask(&d))),
                        width,
                    ),
                    theme.dim,
                )));
            }
        }
    }
    if !run.output.is_empty() {
        lines.push(Line::from(Span::styled("output:", theme.dim)));
        for line in run.output.iter().rev().take(5).rev() {
            lines.push(Line::from(Span::styled(
                cut(&format!("  {}", t(model, line)), width),
                theme.text,
            )));
        }
    }
    lines.push(Line::from(Span::styled(
        t(model, &hints(model)),
        theme.accent,
    )));
    (title, lines)
}

/// In the title, while the target does not serve yet: " · RTO 2m14s of 5m". It costs no row
/// of the pane, which at 80x24 has none to spare.
fn rto_clock(model: &Model, run: &RunView) -> String {
    use crate::runbook::numbers;
    if run.dry_run
        || run.class.is_none()
        || run.milestones.target_serving.is_some()
        || matches!(run.state, RunState::Aborted(_))
    {
        return String::new();
    }
    let f = numbers::figures(run, &model.config.objectives);
    let waiting = if run.is_active() {
        ""
    } else {
        ", target not serving yet"
    };
    format!(
        " · {}{waiting}",
        numbers::running_text(&f, &model.config.objectives, model.now)
    )
}

/// The run's figures once the target serves. Only for runs armed with a class: an older
/// journal's run did not record what the figures need.
fn numbers_lines(model: &Model, run: &RunView, width: usize, lines: &mut Vec<Line<'static>>) {
    use crate::runbook::numbers;
    if run.dry_run || run.class.is_none() {
        return;
    }
    let theme = &model.view.theme;
    let objectives = &model.config.objectives;
    let f = numbers::figures(run, objectives);
    let mut push = |text: String, style: Style| {
        lines.push(Line::from(Span::styled(
            cut(&t(model, &text), width),
            style,
        )));
    };
    if f.serving.is_none() {
        return;
    }
    let missed = |v: &numbers::Verdict| matches!(v, numbers::Verdict::Missed { .. });
    let style = |missed: bool| if missed { theme.crit } else { theme.ok };
    let with = |text: String, verdicts: &[&numbers::Verdict]| {
        let said: Vec<String> = verdicts
            .iter()
            .map(|v| v.short())
            .filter(|s| !s.is_empty())
            .collect();
        if said.is_empty() {
            text
        } else {
            format!("{text} · {}", said.join(", "))
        }
    };
    push(
        with(numbers::rto_text(&f), &[&f.rto_verdict]),
        style(missed(&f.rto_verdict)),
    );
    push(numbers::breakdown_text(&f), theme.text);
    // The verdict before the source: a narrow pane cuts the source, not the verdict.
    let mut rpo = with(
        format!("RPO {}", numbers::rpo_figure(&f)),
        &[&f.rpo_verdict, &f.rpo_bytes_verdict],
    );
    let source = numbers::rpo_source(&f);
    if !source.is_empty() {
        rpo = format!("{rpo} · {source}");
    }
    push(
        rpo,
        style(missed(&f.rpo_verdict) || missed(&f.rpo_bytes_verdict)),
    );
}
