//! The terminal, written by difference, and the clock alone when only the clock moved.
//!
//! Full frames go through ratatui's `Terminal`, which writes only the cells that changed. An idle
//! second changes only the clock: drawing a whole frame for it (or copying the last frame and
//! diffing all of it) was most of an idle console's work. Here the clock's line is drawn by a
//! one-row terminal of its own and only its changed cells are written; the next full frame then also
//! writes whatever the clock-only frames left different from what ratatui believes is shown.
//!
//! The size is read once and again on each resize event, not on every frame (crossterm opens
//! /dev/tty to read it); output is buffered and written once per frame; the cursor is hidden
//! once, not on every frame.
//!
//! The terminal can vanish under the console (an SSH session drops): from then on nothing is
//! written to it, not a frame, not the codes that would restore it (`mark_gone`, `TtyOut`,
//! `restore`). Writing to a hung-up terminal fails, and std's print macros panic when it does.

use std::io::{self, Write};
use std::mem::ManuallyDrop;
use std::os::fd::FromRawFd;
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::cursor::{Hide, MoveTo, Show};
use crossterm::queue;
use crossterm::terminal::{EnterAlternateScreen, LeaveAlternateScreen};
use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::{Buffer, Cell};
use ratatui::layout::{Position, Rect, Size};
use ratatui::{Frame, Terminal, TerminalOptions, Viewport};

/// Rows at the top of the screen that a clock-only frame redraws: the header's first line.
pub const CLOCK_ROWS: u16 = 1;

/// The terminal went away: nothing is written to it any more.
static GONE: AtomicBool = AtomicBool::new(false);
/// Raw mode and the alternate screen are on: `restore` has something to undo.
static ENTERED: AtomicBool = AtomicBool::new(false);

/// The terminal is gone (SIGHUP, its input ended, a write to it failed): from now on nothing is
/// written to it, and nothing read from it, for the rest of the process.
pub fn mark_gone() {
    if !GONE.swap(true, Ordering::SeqCst) {
        park_input();
    }
}

/// crossterm's reader spins at full speed on a hung-up terminal: reads return 0 (end of file)
/// and it reads again at once, forever, however long the console then waits for a step. Once
/// the terminal is gone, standard input becomes an empty pipe that never ends: that read
/// blocks instead. (crossterm reads fd 0 itself when stdin is a terminal.)
fn park_input() {
    let mut ends = [0; 2];
    // SAFETY: pipe(2) fills the local array; dup2(2) puts its read end on fd 0; the write end
    // stays open for the life of the process, so a read of fd 0 waits forever.
    unsafe {
        if libc::pipe(ends.as_mut_ptr()) == 0 {
            libc::dup2(ends[0], 0);
            libc::close(ends[0]);
        }
    }
}

pub fn gone() -> bool {
    GONE.load(Ordering::SeqCst)
}

/// Whether an error writing to (or reading from) the terminal means it is gone: a hung-up
/// terminal answers EIO, a vanished one ENXIO, a closed pipe EPIPE.
pub fn is_gone_error(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::BrokenPipe
        || matches!(
            e.raw_os_error(),
            Some(libc::EIO | libc::ENXIO | libc::EPIPE | libc::EBADF)
        )
}

/// Raw mode and the alternate screen (ratatui's `init` without its panic hook: ours in
/// `crash` knows whether the terminal is still there).
pub fn enter() -> io::Result<()> {
    crossterm::terminal::enable_raw_mode()?;
    ENTERED.store(true, Ordering::SeqCst);
    crossterm::execute!(TtyOut::new(), EnterAlternateScreen)
}

/// Leaves the alternate screen and raw mode and shows the cursor, once; nothing at all if the
/// terminal is gone. Never fails and never prints: it runs in the panic hook too.
pub fn restore() {
    if !ENTERED.swap(false, Ordering::SeqCst) || gone() {
        return;
    }
    let _ = crossterm::execute!(TtyOut::new(), Show, LeaveAlternateScreen);
    let _ = crossterm::terminal::disable_raw_mode();
}

/// A line for the operator on stderr, once the terminal is restored; nothing if it is gone.
/// (eprintln! would panic on a hung-up terminal.)
pub fn say(line: &str) {
    if gone() {
        return;
    }
    // SAFETY: fd 2 lives as long as the process; ManuallyDrop never closes it.
    let mut err = ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(2) });
    let _ = writeln!(err, "{}", failover_core::text::printable_lines(line));
}

/// Standard output, written directly (no buffer of std's that could be flushed later) and
/// silent once the terminal is gone. `Screen` buffers in front of it.
pub struct TtyOut {
    fd: ManuallyDrop<std::fs::File>,
}

impl TtyOut {
    pub fn new() -> TtyOut {
        // SAFETY: fd 1 lives as long as the process; ManuallyDrop never closes it.
        TtyOut {
            fd: ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(1) }),
        }
    }
}

impl Default for TtyOut {
    fn default() -> TtyOut {
        TtyOut::new()
    }
}

impl Write for TtyOut {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if gone() {
            return Ok(buf.len());
        }
        self.fd.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

pub struct Screen<W: Write> {
    full: Terminal<Out<W>>,
    header: Terminal<Blank>,
    /// The clock rows as the last full frame wrote them: what `full` diffs the next one against.
    drawn: Buffer,
    /// The clock rows as the terminal shows them now.
    shown: Buffer,
    /// The clock rows of the frame just drawn.
    scratch: Buffer,
    drawn_once: bool,
}

impl<W: Write> Screen<W> {
    pub fn new(writer: W, size: Size) -> io::Result<Screen<W>> {
        let area = Rect::new(0, 0, size.width, size.height);
        let out = Out {
            inner: CrosstermBackend::new(writer),
            size,
            cursor: Position::ORIGIN,
            hidden: false,
        };
        let full = Terminal::with_options(
            out,
            TerminalOptions {
                viewport: Viewport::Fixed(area),
            },
        )?;
        let head = header_area(area);
        let header = Terminal::with_options(
            Blank {
                size: head.as_size(),
            },
            TerminalOptions {
                viewport: Viewport::Fixed(head),
            },
        )?;
        Ok(Screen {
            full,
            header,
            drawn: Buffer::empty(head),
            shown: Buffer::empty(head),
            scratch: Buffer::empty(head),
            drawn_once: false,
        })
    }

    pub fn area(&self) -> Rect {
        let size = self.full.backend().size;
        Rect::new(0, 0, size.width, size.height)
    }

    /// Whether a full frame of the current size is on the terminal, for the header to be drawn
    /// over.
    pub fn has_frame(&self) -> bool {
        self.drawn_once
    }

    /// A new size: the terminal is cleared, and the next frame is written whole.
    pub fn resize(&mut self, size: Size) -> io::Result<()> {
        let area = Rect::new(0, 0, size.width, size.height);
        self.full.backend_mut().size = size;
        self.full.resize(area)?;
        let head = header_area(area);
        self.header.backend_mut().size = head.as_size();
        self.header.resize(head)?;
        self.drawn = Buffer::empty(head);
        self.shown = Buffer::empty(head);
        self.scratch = Buffer::empty(head);
        self.drawn_once = false;
        Ok(())
    }

    /// A whole frame.
    pub fn draw(&mut self, render: impl FnOnce(&mut Frame<'_>)) -> io::Result<()> {
        let completed = self.full.draw(|frame| {
            render(frame);
            scrub(frame.buffer_mut());
        })?;
        let cells = self.scratch.content.len();
        self.scratch
            .content
            .clone_from_slice(&completed.buffer.content[..cells]);
        if self.shown != self.drawn {
            // ratatui diffed the header against what it drew last, not against the clock drawn
            // since: write what still differs from the terminal. Cells it already wrote are
            // written again, the same.
            let fix = self.shown.diff(&self.scratch);
            if !fix.is_empty() {
                let out = self.full.backend_mut();
                out.inner.draw(fix.into_iter())?;
                out.restore_cursor()?;
                out.flush()?;
            }
        }
        self.drawn.content.clone_from_slice(&self.scratch.content);
        self.shown.content.clone_from_slice(&self.scratch.content);
        self.drawn_once = true;
        Ok(())
    }

    /// The header alone, over the last full frame: `render` draws into a frame of the header's
    /// rows only.
    pub fn draw_header(&mut self, render: impl FnOnce(&mut Frame<'_>)) -> io::Result<()> {
        self.header.current_buffer_mut().reset();
        let mut frame = self.header.get_frame();
        render(&mut frame);
        let next = self.header.current_buffer_mut();
        scrub(next);
        let updates = self.shown.diff(next);
        if !updates.is_empty() {
            let out = self.full.backend_mut();
            out.inner.draw(updates.into_iter())?;
            out.restore_cursor()?;
            out.flush()?;
        }
        self.shown.content.clone_from_slice(&next.content);
        Ok(())
    }

    /// Shows the cursor and writes out what is buffered (before the terminal is restored).
    pub fn close(&mut self) -> io::Result<()> {
        self.full.show_cursor()?;
        self.full.backend_mut().flush()
    }
}

/// The last guard before the terminal: a cell holding a control or bidi character (ratatui
/// joins a zero-width bidi override to the cell before it) keeps only the rest of its symbol,
/// whatever the render forgot to clean.
pub fn scrub(buffer: &mut Buffer) {
    for cell in &mut buffer.content {
        let symbol = cell.symbol();
        if symbol.chars().any(failover_core::text::is_unsafe) {
            let kept: String = symbol
                .chars()
                .filter(|c| !failover_core::text::is_unsafe(*c))
                .collect();
            cell.set_symbol(if kept.is_empty() { " " } else { &kept });
        }
    }
}

fn header_area(area: Rect) -> Rect {
    Rect {
        height: CLOCK_ROWS.min(area.height),
        ..area
    }
}

/// The real terminal, with the size given, not asked for, and the cursor's state remembered,
/// so that hiding a hidden cursor writes nothing and nothing flushes before the frame is done.
struct Out<W: Write> {
    inner: CrosstermBackend<W>,
    size: Size,
    cursor: Position,
    hidden: bool,
}

impl<W: Write> Out<W> {
    /// Cells written outside ratatui's frame moved the terminal's cursor.
    fn restore_cursor(&mut self) -> io::Result<()> {
        if !self.hidden {
            queue!(&mut self.inner, MoveTo(self.cursor.x, self.cursor.y))?;
        }
        Ok(())
    }
}

impl<W: Write> Backend for Out<W> {
    type Error = io::Error;

    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        let mut content = content.peekable();
        if content.peek().is_none() {
            return Ok(());
        }
        self.inner.draw(content)
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        if !self.hidden {
            queue!(&mut self.inner, Hide)?;
            self.hidden = true;
        }
        Ok(())
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        if self.hidden {
            queue!(&mut self.inner, Show)?;
            self.hidden = false;
        }
        Ok(())
    }

    fn get_cursor_position(&mut self) -> io::Result<Position> {
        // Asking the terminal would read stdin, which the key reader owns.
        Ok(self.cursor)
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        self.cursor = position.into();
        queue!(&mut self.inner, MoveTo(self.cursor.x, self.cursor.y))
    }

    fn clear(&mut self) -> io::Result<()> {
        self.inner.clear()
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        self.inner.clear_region(clear_type)
    }

    fn size(&self) -> io::Result<Size> {
        Ok(self.size)
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        Ok(window_size(self.size))
    }

    fn flush(&mut self) -> io::Result<()> {
        Write::flush(&mut self.inner)
    }
}

/// Columns and rows as given; pixels unknown (nothing here draws images).
fn window_size(size: Size) -> WindowSize {
    WindowSize {
        columns_rows: size,
        pixels: Size::default(),
    }
}

/// A terminal that writes nowhere: the header's frames are drawn into its buffer and written by
/// `Screen`.
struct Blank {
    size: Size,
}

impl Backend for Blank {
    type Error = io::Error;

    fn draw<'a, I>(&mut self, _content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        Ok(())
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn get_cursor_position(&mut self) -> io::Result<Position> {
        Ok(Position::ORIGIN)
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, _position: P) -> io::Result<()> {
        Ok(())
    }

    fn clear(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn clear_region(&mut self, _clear_type: ClearType) -> io::Result<()> {
        Ok(())
    }

    fn size(&self) -> io::Result<Size> {
        Ok(self.size)
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        Ok(window_size(self.size))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::text::Line;
    use ratatui::widgets::Widget;

    #[test]
    fn no_bidi_or_control_character_reaches_a_cell() {
        let area = Rect::new(0, 0, 30, 1);
        let mut buffer = Buffer::empty(area);
        // What a render that forgot `clean` would draw: a name from config or a TXT answer.
        Line::raw("api\u{202E}a-ipa\u{2066}x\u{2069} ok").render(area, &mut buffer);
        scrub(&mut buffer);
        let shown: String = buffer.content.iter().map(|c| c.symbol()).collect();
        assert!(
            !shown.chars().any(failover_core::text::is_unsafe),
            "{shown:?}"
        );
        assert!(shown.starts_with("apia-ipax ok"), "{shown:?}");
    }
}
