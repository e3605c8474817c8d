//! The view: `render(frame, model)` draws everything from the model and nothing else.
//!
//! ```text
//! wide (>= 120 columns)                      narrow (stacked)
//! header: title, sites, badge, clock         header
//! ┌ Health ──────────┐┌ DNS ─────────────┐   Health
//! └──────────────────┘└──────────────────┘   Replication
//! ┌ Replication ─────────────────────────┐   DNS
//! ┌ Timeline ────────────────────────────┐   Timeline
//! footer: keys that work now                 footer
//! ```
//!
//! With named services and none chosen, the Services overview takes the place of Health,
//! Replication and DNS (above the run pane and the timeline).

mod detail;
mod header;
mod overlay;
mod overview;
mod panes;
mod plan;
pub(crate) mod run;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::symbols::border;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::app::Model;
use crate::app::model::Pane;
pub use crate::theme::{Theme, View};

pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 10;
const WIDE: u16 = 120;

pub fn render(frame: &mut Frame<'_>, model: &Model) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let text = format!(
            "terminal too small ({}x{}): need at least {MIN_WIDTH}x{MIN_HEIGHT}",
            area.width, area.height
        );
        frame.render_widget(
            Paragraph::new(text).wrap(ratatui::widgets::Wrap { trim: true }),
            area,
        );
        return;
    }
    let [head, body, foot] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    header::render(frame, head, model);
    let wide = area.width >= WIDE;
    for (pane, rect) in pane_areas(model, body, wide) {
        panes::render(frame, rect, model, pane, wide);
    }
    overlay::footer(frame, foot, model);
    overlay::render(frame, area, model);
}

/// Whether the header alone can be drawn over the last full frame (see `Screen::draw_header`):
/// a frame big enough for the usual layout, no overlay open.
pub fn clock_alone(model: &Model, area: Rect) -> bool {
    area.width >= MIN_WIDTH
        && area.height >= MIN_HEIGHT
        && matches!(model.ui.overlay, crate::app::model::Overlay::None)
}

/// The clock's line alone, into a frame of that line (`screen::CLOCK_ROWS`): the once-a-second
/// clock costs one line, not a whole frame.
pub fn render_header(frame: &mut Frame<'_>, model: &Model) {
    let area = frame.area();
    header::render_top(frame, area, model);
}

fn pane_areas(model: &Model, body: Rect, wide: bool) -> Vec<(Pane, Rect)> {
    let chrome = if wide { 2 } else { 1 };
    let want = |pane: Pane| model.rows_in(pane).max(1) as u16 + chrome;
    let run_open = model.run_pane_open();
    if model.overview_shown() {
        return overview_areas(model, body, wide, want(Pane::Services) + 1);
    }
    if wide {
        let top = want(Pane::Health).max(want(Pane::Dns));
        let heights = fit(
            [top, want(Pane::Replication), 0],
            body.height,
            if run_open { 14 } else { 8 },
        );
        let [row, r, t] = Layout::vertical([
            Constraint::Length(heights[0]),
            Constraint::Length(heights[1]),
            Constraint::Min(0),
        ])
        .areas(body);
        let [h, d] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(row);
        if run_open {
            let [run, timeline] =
                Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)])
                    .areas(t);
            return vec![
                (Pane::Health, h),
                (Pane::Replication, r),
                (Pane::Dns, d),
                (Pane::Run, run),
                (Pane::Timeline, timeline),
            ];
        }
        vec![
            (Pane::Health, h),
            (Pane::Replication, r),
            (Pane::Dns, d),
            (Pane::Timeline, t),
        ]
    } else {
        let reserve = if run_open {
            (body.height / 2).max(8)
        } else {
            5
        };
        let heights = fit(
            [want(Pane::Health), want(Pane::Replication), want(Pane::Dns)],
            body.height,
            reserve,
        );
        let [h, r, d, t] = Layout::vertical([
            Constraint::Length(heights[0]),
            Constraint::Length(heights[1]),
            Constraint::Length(heights[2]),
            Constraint::Min(0),
        ])
        .areas(body);
        // Narrow: the run pane takes the timeline's place unless the timeline has the focus.
        let bottom = if run_open && model.ui.focus != Pane::Timeline {
            Pane::Run
        } else {
            Pane::Timeline
        };
        vec![
            (Pane::Health, h),
            (Pane::Replication, r),
            (Pane::Dns, d),
            (bottom, t),
        ]
    }
}

/// The overview on top, as tall as its rows; below it the run pane and the timeline (wide:
/// side by side; narrow: the run pane unless the timeline has the focus).
fn overview_areas(model: &Model, body: Rect, wide: bool, want: u16) -> Vec<(Pane, Rect)> {
    let run_open = model.run_pane_open();
    let reserve = if run_open { 8 } else { 5 };
    let height = want.min(body.height.saturating_sub(reserve)).max(3);
    let [top, bottom] =
        Layout::vertical([Constraint::Length(height), Constraint::Min(0)]).areas(body);
    let mut areas = vec![(Pane::Services, top)];
    match (run_open, wide) {
        (false, _) => areas.push((Pane::Timeline, bottom)),
        (true, true) => {
            let [run, timeline] =
                Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)])
                    .areas(bottom);
            areas.push((Pane::Run, run));
            areas.push((Pane::Timeline, timeline));
        }
        (true, false) if model.ui.focus == Pane::Timeline => areas.push((Pane::Timeline, bottom)),
        (true, false) => areas.push((Pane::Run, bottom)),
    }
    areas
}

/// Shrinks the largest wants until they fit `total - reserve`, never below 2 rows each (a want
/// of 0 stays 0).
fn fit(mut wants: [u16; 3], total: u16, reserve: u16) -> [u16; 3] {
    let budget = total.saturating_sub(reserve);
    while wants.iter().sum::<u16>() > budget {
        let Some((i, _)) = wants
            .iter()
            .enumerate()
            .filter(|(_, w)| **w > 2)
            .max_by_key(|(_, w)| **w)
        else {
            break;
        };
        wants[i] -= 1;
    }
    wants
}

pub(crate) fn block<'a>(model: &Model, title: Line<'a>, focused: bool, wide: bool) -> Block<'a> {
    let theme = &model.view.theme;
    let set = if model.view.ascii {
        border::Set {
            top_left: "+",
            top_right: "+",
            bottom_left: "+",
            bottom_right: "+",
            vertical_left: "|",
            vertical_right: "|",
            horizontal_top: "-",
            horizontal_bottom: "-",
        }
    } else if focused {
        border::THICK
    } else {
        border::PLAIN
    };
    let borders = if wide { Borders::ALL } else { Borders::TOP };
    Block::default()
        .borders(borders)
        .border_set(set)
        .border_style(if focused { theme.focus } else { theme.border })
        .title(title)
}
