//! The screen as text: one frame drawn into ratatui's TestBackend, trailing spaces trimmed.

use failover_core::app::Model;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

pub fn render(m: &Model, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    terminal
        .draw(|frame| failover_core::ui::render(frame, m))
        .expect("draw");
    let buffer = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..buffer.area.height {
        let mut line = String::new();
        for x in 0..buffer.area.width {
            line.push_str(buffer[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
