//! What the commands print, at one boundary: text from outside (config names, DNS answers,
//! Patroni's names, error messages) loses its control characters and bidi controls on the way
//! out, and a reader that went away (`status --json | head -c1`: a closed pipe) ends the
//! printing quietly, where println! would panic with "failed printing to stdout".
//!
//! Rust starts every program with SIGPIPE ignored, so a closed pipe is an EPIPE error here,
//! never a signal that kills the process.

use std::io::{self, Write};

use failover_core::text::printable_lines;

/// Writes `text` to stdout, made printable; a closed stdout is not an error (the reader has
/// all it wanted). Other errors (a full disk behind a redirect) are returned.
pub fn stdout(text: &str) -> io::Result<()> {
    quiet_if_closed(write_to(&mut io::stdout().lock(), text))
}

/// Writes bytes to stdout as they are (a JSON Lines export is a copy of the journal; a
/// Markdown export is made printable where it is written); a closed stdout is not an error.
pub fn stdout_bytes(bytes: &[u8]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    quiet_if_closed(out.write_all(bytes).and_then(|()| out.flush()))
}

/// Writes `text` and a newline to stderr, made printable; a closed or failing stderr is
/// ignored: there is nowhere left to say anything.
pub fn stderr(line: &str) {
    let mut text = line.to_string();
    text.push('\n');
    let _ = write_to(&mut io::stderr().lock(), &text);
}

fn write_to(out: &mut impl Write, text: &str) -> io::Result<()> {
    out.write_all(printable_lines(text).as_bytes())?;
    out.flush()
}

fn quiet_if_closed(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// A log writer that makes every line printable before it reaches the log file (tracing's
/// formatter writes one event per call).
pub struct PrintableLog<W>(pub W);

impl<W: Write> Write for PrintableLog<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match std::str::from_utf8(buf) {
            Ok(text) => self.0.write_all(printable_lines(text).as_bytes())?,
            Err(_) => {
                let text = String::from_utf8_lossy(buf);
                self.0.write_all(printable_lines(&text).as_bytes())?
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl<'a, M: tracing_subscriber::fmt::MakeWriter<'a>> tracing_subscriber::fmt::MakeWriter<'a>
    for PrintableLog<M>
{
    type Writer = PrintableLog<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        PrintableLog(self.0.make_writer())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_line_loses_its_controls_but_not_its_newline() {
        let mut log = PrintableLog(Vec::new());
        log.write_all("probe api\u{202E}a: \x1b[31mred\n".as_bytes())
            .unwrap();
        assert_eq!(String::from_utf8(log.0).unwrap(), "probe api a:  [31mred\n");
    }
}
