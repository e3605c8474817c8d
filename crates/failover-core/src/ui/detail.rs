//! A source's history: the sparkline that ends its row, and the detail view (`Enter`): a
//! 15-minute chart, its last results with their errors, and its config.

use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Margin, Rect};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Chart, Clear, Dataset, GraphType, Paragraph};

use crate::app::Model;
use crate::history::{Key, Plotted, SPARK_CELLS, Sample, Series};
use crate::text::{bytes, clean, clock, latency, secs};
use crate::theme::Theme;

/// Columns a sparkline takes at the end of a row, with the space before it.
pub const SPARK_WIDTH: usize = SPARK_CELLS + 1;

const BARS: [&str; 8] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"];
const ASCII_BARS: [&str; 8] = ["_", ".", ",", "-", "=", "+", "*", "#"];

/// The 5-minute sparkline of a source: a space where no sample had a value.
pub fn spark(series: &Series, newest_ms: i64, theme: &Theme, ascii: bool) -> Vec<Span<'static>> {
    let bars = if ascii { ASCII_BARS } else { BARS };
    let text: String = series
        .spark(newest_ms)
        .iter()
        .map(|cell| cell.map_or(" ", |level| bars[level as usize]))
        .collect();
    vec![Span::raw(" "), Span::styled(text, theme.accent)]
}

pub fn render(frame: &mut Frame<'_>, area: Rect, model: &Model, key: Key) {
    let Some(series) = model.history.get(key) else {
        return;
    };
    let theme = &model.view.theme;
    let ascii = model.view.ascii;
    let popup = area.inner(Margin::new(2, 1));
    frame.render_widget(Clear, popup);
    let (name, unit) = describe(model, key, series.plotted());
    let title = Line::from(Span::styled(
        format!(" {}: last 15 minutes (Esc closes) ", clean(&name, ascii)),
        theme.focus,
    ));
    let block = super::block(model, title, true, true);
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let chart_h = (inner.height / 2).max(6);
    let [chart_area, rest] =
        Layout::vertical([Constraint::Length(chart_h), Constraint::Min(0)]).areas(inner);
    chart(frame, chart_area, model, series, unit);
    let config = config_lines(model, key, theme);
    let results = result_lines(series, key, theme, ascii);
    if rest.width >= 100 {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
                .areas(rest);
        frame.render_widget(Paragraph::new(results), left);
        frame.render_widget(Paragraph::new(config), right);
    } else {
        let [top, bottom] =
            Layout::vertical([Constraint::Length(config.len() as u16), Constraint::Min(0)])
                .areas(rest);
        frame.render_widget(Paragraph::new(config), top);
        frame.render_widget(Paragraph::new(results), bottom);
    }
    if ascii {
        asciify(frame, popup);
    }
}

/// What the chart's y axis measures.
#[derive(Clone, Copy)]
enum Unit {
    Ms,
    Bytes,
    Secs,
}

impl Unit {
    fn label(self, v: f64) -> String {
        match self {
            Unit::Ms => latency(Duration::from_secs_f64(v.max(0.0) / 1000.0)),
            Unit::Bytes => bytes(v.max(0.0) as u64),
            Unit::Secs => secs(Duration::from_secs_f64(v.max(0.0))),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Unit::Ms => "latency",
            Unit::Bytes => "lag (bytes)",
            Unit::Secs => "lag (seconds)",
        }
    }
}

fn chart(frame: &mut Frame<'_>, area: Rect, model: &Model, series: &Series, unit: Unit) {
    let theme = &model.view.theme;
    let plotted = series.plotted();
    let now_ms = (model.now.unix_timestamp_nanos() / 1_000_000) as i64;
    let window = crate::history::WINDOW.as_secs_f64();
    // Runs of known values, split where a value is unknown or a sample is missing: a gap in
    // the line, never a drop to 0.
    let samples: Vec<Sample> = series.recent(model.now).collect();
    let longest_gap = gap_limit(&samples);
    let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    let mut prev: Option<i64> = None;
    for s in samples {
        let x = (s.at_ms - now_ms) as f64 / 1000.0;
        let broken = prev.is_some_and(|p| s.at_ms - p > longest_gap);
        prev = Some(s.at_ms);
        match plotted.of(&s) {
            Some(y) if !broken => runs.last_mut().into_iter().for_each(|r| r.push((x, y))),
            Some(y) => runs.push(vec![(x, y)]),
            None => runs.push(Vec::new()),
        }
    }
    runs.retain(|r| !r.is_empty());
    let top = runs
        .iter()
        .flatten()
        .fold(0.0_f64, |a, (_, y)| a.max(*y))
        .max(match unit {
            Unit::Ms => 1.0,
            Unit::Bytes => 1024.0,
            Unit::Secs => 1.0,
        })
        * 1.1;
    let marker = if model.view.ascii {
        Marker::Dot
    } else {
        Marker::Braille
    };
    let mut datasets: Vec<Dataset<'_>> = runs
        .iter()
        .map(|run| {
            Dataset::default()
                .marker(marker)
                .graph_type(if run.len() > 1 {
                    GraphType::Line
                } else {
                    GraphType::Scatter
                })
                .style(theme.accent)
                .data(run)
        })
        .collect();
    if datasets.is_empty() {
        datasets.push(Dataset::default().name("no value in 15 minutes"));
    }
    let x_axis = Axis::default()
        .style(theme.dim)
        .bounds([-window, 0.0])
        .labels(["-15m", "-10m", "-5m", "now"]);
    let y_axis = Axis::default()
        .title(Span::styled(unit.name(), theme.dim))
        .style(theme.dim)
        .bounds([0.0, top])
        .labels([unit.label(0.0), unit.label(top / 2.0), unit.label(top)]);
    frame.render_widget(Chart::new(datasets).x_axis(x_axis).y_axis(y_axis), area);
}

/// Two samples further apart than this have a gap between them: twice the usual spacing.
fn gap_limit(samples: &[Sample]) -> i64 {
    let mut steps: Vec<i64> = samples
        .windows(2)
        .map(|w| w[1].at_ms - w[0].at_ms)
        .collect();
    steps.sort_unstable();
    steps
        .get(steps.len() / 2)
        .map_or(i64::MAX, |m| (m * 2).max(1_000))
}

fn describe(model: &Model, key: Key, plotted: Plotted) -> (String, Unit) {
    let specs = &model.config.kinds;
    match key {
        Key::Health(i) => (
            specs
                .health
                .get(i)
                .map(|h| format!("health {}", h.name))
                .unwrap_or_default(),
            Unit::Ms,
        ),
        Key::Postgres { db, member } => (
            specs
                .postgres
                .get(db)
                .and_then(|d| {
                    let m = d.members.get(member)?;
                    Some(format!("{} {}", d.name, member_name(model, m)))
                })
                .unwrap_or_default(),
            if plotted == Plotted::A {
                Unit::Bytes
            } else {
                Unit::Secs
            },
        ),
        Key::Patroni { cluster, member } => (
            specs
                .patroni
                .get(cluster)
                .zip(patroni_member(model, cluster, member))
                .map(|(c, m)| format!("patroni {} {m}", c.name))
                .unwrap_or_default(),
            Unit::Bytes,
        ),
        Key::Rds { source, instance } => (
            specs
                .rds
                .get(source)
                .and_then(|r| Some(format!("rds {} {}", r.name, r.instances.get(instance)?.id)))
                .unwrap_or_default(),
            Unit::Secs,
        ),
    }
}

/// The name of the Patroni member whose series is `member`.
fn patroni_member(model: &Model, cluster: usize, member: usize) -> Option<&str> {
    let (name, _) = model.history.patroni.get(cluster)?.get(member)?;
    Some(name)
}

/// The newest result first: its time, and its figures or error.
fn result_lines(series: &Series, key: Key, theme: &Theme, ascii: bool) -> Vec<Line<'static>> {
    let mut lines = vec![Line::from(Span::styled(
        format!("last {} results, newest first", series.results.len()),
        theme.dim,
    ))];
    for outcome in series.results.iter().rev() {
        let s = &outcome.sample;
        let at = time::OffsetDateTime::from_unix_timestamp_nanos(s.at_ms as i128 * 1_000_000)
            .map(clock)
            .unwrap_or_default();
        let (text, style) = match (&outcome.error, key) {
            (Some(e), _) => (format!("FAIL {}", clean(e, ascii)), theme.crit),
            (None, Key::Health(_)) => (
                format!(
                    "ok   {}",
                    s.a()
                        .map(|ms| latency(Duration::from_secs_f64(ms / 1000.0)))
                        .unwrap_or_default()
                ),
                theme.text,
            ),
            (None, Key::Postgres { .. }) => (
                match (s.a(), s.b()) {
                    (None, None) => "no lag (primary, or not known)".to_string(),
                    (b, t) => format!(
                        "lag {}, {}",
                        b.map_or("? B".into(), |b| bytes(b as u64)),
                        t.map_or("? s".into(), |t| secs(Duration::from_secs_f64(t)))
                    ),
                },
                theme.text,
            ),
            (None, Key::Patroni { .. }) => (
                s.a().map_or("no lag (leader, or unknown)".into(), |b| {
                    format!("lag {}", bytes(b as u64))
                }),
                theme.text,
            ),
            (None, Key::Rds { .. }) => (
                s.b()
                    .map_or("no lag (primary or writer, or no data)".into(), |t| {
                        format!("lag {}", secs(Duration::from_secs_f64(t)))
                    }),
                theme.text,
            ),
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{at}  "), theme.dim),
            Span::styled(text, style),
        ]));
    }
    lines
}

/// The source's config: never a secret (a DSN shows only host:port and database).
fn config_lines(model: &Model, key: Key, theme: &Theme) -> Vec<Line<'static>> {
    let config = &model.config;
    let ascii = model.view.ascii;
    let row = |name: &str, value: String| {
        Line::from(vec![
            Span::styled(format!("{name:<11}"), theme.dim),
            Span::styled(clean(&value, ascii).into_owned(), theme.text),
        ])
    };
    match key {
        Key::Health(i) => {
            let Some(h) = config.kinds.health.get(i) else {
                return Vec::new();
            };
            vec![
                row("check", h.name.clone()),
                row("site", config.site_label(h.site).to_string()),
                row("target", config.masker.mask(&h.target.describe())),
                row(
                    "every",
                    format!("{}, timeout {}", latency(h.interval), latency(h.timeout)),
                ),
                row(
                    "thresholds",
                    format!(
                        "unhealthy after {} failed, healthy after {} ok",
                        h.failure_threshold, h.success_threshold
                    ),
                ),
            ]
        }
        Key::Postgres { db, member } => {
            let Some((d, m)) = config
                .kinds
                .postgres
                .get(db)
                .and_then(|d| d.members.get(member).map(|m| (d, m)))
            else {
                return Vec::new();
            };
            let database = m
                .points_at
                .target
                .split_whitespace()
                .skip_while(|w| *w != "db")
                .nth(1)
                .unwrap_or("?");
            vec![
                row("member", format!("{} of {}", member_name(model, m), d.name)),
                row("site", config.site_label(m.site).to_string()),
                row("target", format!("{}/{database}", m.points_at.endpoint)),
                row(
                    "every",
                    format!("{}, timeout {}", latency(d.interval), latency(d.timeout)),
                ),
                row(
                    "limits",
                    format!("lag {} / {}", bytes(d.max_lag_bytes), secs(d.max_lag)),
                ),
            ]
        }
        Key::Patroni { cluster, member } => {
            let (Some(c), Some(state), Some(name)) = (
                config.kinds.patroni.get(cluster),
                model.kinds.patroni.get(cluster),
                patroni_member(model, cluster, member),
            ) else {
                return Vec::new();
            };
            let listed = state.view().and_then(|v| v.member(name));
            let api = listed
                .and_then(|m| state.endpoint_of(c, m))
                .and_then(|i| c.endpoints.get(i))
                .map(|e| without_credentials(e))
                .unwrap_or_else(|| "not one of the configured members".into());
            let limit = match c.max_lag_bytes {
                Some(b) => format!("lag {}", bytes(b)),
                None => format!("lag {} (maximum_lag_on_failover)", bytes(state.limit(c))),
            };
            let mut lines = vec![row("member", format!("{name} of {}", c.name))];
            if let Some(site) = c.site_of(name) {
                lines.push(row("site", config.site_label(site).to_string()));
            }
            lines.extend([
                row("api", config.masker.mask(&api)),
                row(
                    "every",
                    format!("{}, timeout {}", latency(c.interval), latency(c.timeout)),
                ),
                row("limit", limit),
            ]);
            lines
        }
        Key::Rds { source, instance } => {
            let Some((r, i)) = config
                .kinds
                .rds
                .get(source)
                .and_then(|r| r.instances.get(instance).map(|i| (r, i)))
            else {
                return Vec::new();
            };
            let mut lines = vec![
                row("instance", format!("{} of {}", i.id, r.name)),
                row("site", config.site_label(i.site).to_string()),
            ];
            if let Some(cluster) = &r.cluster {
                lines.push(row("cluster", cluster.clone()));
            }
            if let Some(region) = &r.aws.region {
                lines.push(row("region", region.clone()));
            }
            lines.extend([
                row(
                    "every",
                    format!("{}, timeout {}", latency(r.interval), latency(r.timeout)),
                ),
                row(
                    "limit",
                    format!(
                        "lag {}, no data after {}",
                        crate::text::setting(r.max_lag),
                        crate::text::setting(r.lag_max_age)
                    ),
                ),
            ]);
            lines
        }
    }
}

/// A URL without any user or password in it.
fn without_credentials(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.as_str().trim_end_matches('/').to_string()
        }
        Err(_) => "?".into(),
    }
}

/// A member's own name when it has one, else its site's label, as its row shows it.
fn member_name(model: &Model, m: &crate::kinds::postgres::Member) -> String {
    let config = &model.config;
    if m.name != config.sites[m.site].key {
        m.name.clone()
    } else {
        config.site_label(m.site).to_string()
    }
}

/// The ascii view: the chart's box-drawing and braille cells as plain characters.
fn asciify(frame: &mut Frame<'_>, area: Rect) {
    let buffer = frame.buffer_mut();
    for y in area.top()..area.bottom() {
        for x in area.left()..area.right() {
            let cell = &mut buffer[(x, y)];
            if cell.symbol().is_ascii() {
                continue;
            }
            let plain = match cell.symbol() {
                "│" | "┃" => "|",
                "─" | "━" => "-",
                "└" | "┘" | "┌" | "┐" => "+",
                _ => "*",
            };
            cell.set_symbol(plain);
        }
    }
}
