//! Short human forms for durations, sizes, clocks, errors and untrusted text. A leaf: it imports
//! nothing of the project, so every layer can use it.

use std::borrow::Cow;
use std::time::Duration;

use time::OffsetDateTime;

/// "850ms", "4s", "12m03s", "1h02m", "3d04h".
pub fn age(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0 if d.subsec_millis() > 0 => format!("{}ms", d.as_millis()),
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        3600..86400 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d{:02}h", s / 86400, (s % 86400) / 3600),
    }
}

/// The longest a timer is ever set for. A config duration is at most a day and a deadline sums a
/// few of them; clamping makes `Instant::now() + wait(d)` safe whatever the sum is.
pub const LONGEST_WAIT: Duration = Duration::from_secs(30 * 86_400);

/// `d`, at most [`LONGEST_WAIT`]: what is added to an `Instant`.
pub fn wait(d: Duration) -> Duration {
    d.min(LONGEST_WAIT)
}

/// `at + d` on the wall clock; `None` when that is past what `OffsetDateTime` holds.
pub fn clock_after(at: OffsetDateTime, d: Duration) -> Option<OffsetDateTime> {
    time::Duration::try_from(d)
        .ok()
        .and_then(|d| at.checked_add(d))
}

/// A configured duration as it was written: "30s", "5m", "1h 30m".
pub fn setting(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

/// Whole seconds and up: for "in this state for" and "answered ... ago" columns.
pub fn since(now: OffsetDateTime, then: OffsetDateTime) -> String {
    let elapsed = Duration::try_from(now - then).unwrap_or_default();
    age(Duration::from_secs(elapsed.as_secs()))
}

/// Below this, a probe's latency is shown as "<5ms": with many checks answered on one thread,
/// the console's own scheduling moves a latency by a few milliseconds from one second to the
/// next, so finer figures would be noise (and a repaint) every second.
pub const LATENCY_FLOOR: Duration = Duration::from_millis(5);

/// A probe's latency in the Health pane: under `LATENCY_FLOOR`, "<5ms".
pub fn probe_latency(d: Duration) -> String {
    if d < LATENCY_FLOOR {
        "<5ms".into()
    } else {
        latency(d)
    }
}

pub fn latency(d: Duration) -> String {
    if d < Duration::from_millis(10) {
        format!("{:.1}ms", d.as_secs_f64() * 1000.0)
    } else if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

pub fn clock(t: OffsetDateTime) -> String {
    format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
}

/// "2026-12-06T05:00:52Z", for machine-read output.
pub fn rfc3339(t: OffsetDateTime) -> Option<String> {
    t.format(&time::format_description::well_known::Rfc3339)
        .ok()
}

/// A bidi embedding, override or isolate (U+202A–U+202E, U+2066–U+2069) or mark (LRM, RLM,
/// ALM): text from outside could use one to show a line in another order than it is.
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
    )
}

/// What never reaches an output: a C0 or C1 control (escape sequences, carriage returns,
/// backspaces...) or a bidi control.
pub fn is_unsafe(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

/// One field of text from outside (a name, an answer, an error) for any output: every unsafe
/// character (newlines too) becomes a space; anything else is unchanged.
pub fn printable(text: &str) -> Cow<'_, str> {
    replace_unsafe(text, |_| false)
}

/// A whole document for stdout, stderr, a file or a log (status, the Markdown export, an error
/// message): as `printable`, but its line breaks are kept.
pub fn printable_lines(text: &str) -> Cow<'_, str> {
    replace_unsafe(text, |c| c == '\n')
}

fn replace_unsafe(text: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !text.chars().any(|c| is_unsafe(c) && !keep(c)) {
        return Cow::Borrowed(text);
    }
    text.chars()
        .map(|c| if is_unsafe(c) && !keep(c) { ' ' } else { c })
        .collect::<String>()
        .into()
}

/// Text from outside (error messages, DNS answers, notes) never reaches the terminal with
/// control characters or bidi controls in it; in ASCII mode, symbols become ASCII.
pub fn clean(text: &str, ascii: bool) -> Cow<'_, str> {
    let needs_work = text
        .chars()
        .any(|c| is_unsafe(c) || (ascii && !c.is_ascii()));
    if !needs_work {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            c if is_unsafe(c) => out.push(' '),
            c if !ascii || c.is_ascii() => out.push(c),
            '→' => out.push_str("->"),
            '≥' => out.push_str(">="),
            '←' => out.push_str("<-"),
            '·' | '•' | '●' => out.push('*'),
            '…' => out.push_str("..."),
            '−' | '–' | '—' => out.push('-'),
            _ => out.push('?'),
        }
    }
    Cow::Owned(out)
}

/// Exact below 10 KiB, then binary units with one decimal.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 10 * 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// "4.2 s", "37 s".
pub fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 10.0 {
        format!("{s:.1} s")
    } else {
        format!("{:.0} s", s)
    }
}

/// "0/3000060" for a PostgreSQL LSN given as a number.
pub fn lsn(lsn: u64) -> String {
    format!("{:X}/{:X}", lsn >> 32, lsn & 0xFFFF_FFFF)
}

/// "127.0.0.1:8008" for "http://127.0.0.1:8008".
pub fn without_scheme(url: &str) -> &str {
    url.split_once("://").map(|(_, rest)| rest).unwrap_or(url)
}

/// A socket error as an operator reads it: "connection refused", not "os error 111".
pub fn io_error(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        ConnectionRefused => "connection refused".into(),
        ConnectionReset => "connection reset".into(),
        HostUnreachable => "host unreachable".into(),
        NetworkUnreachable => "network unreachable".into(),
        TimedOut => "timed out".into(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_and_wall_clock_sums_never_overflow() {
        let now = std::time::Instant::now();
        assert_eq!(wait(Duration::MAX), LONGEST_WAIT);
        assert_eq!(wait(Duration::from_secs(5)), Duration::from_secs(5));
        let _later = now + wait(Duration::MAX);
        let t = OffsetDateTime::UNIX_EPOCH;
        assert_eq!(
            clock_after(t, Duration::from_secs(60)),
            Some(t + time::Duration::minutes(1))
        );
        assert_eq!(clock_after(t, Duration::MAX), None);
    }

    #[test]
    fn ages_read_naturally() {
        assert_eq!(age(Duration::from_millis(850)), "850ms");
        assert_eq!(age(Duration::from_secs(4)), "4s");
        assert_eq!(age(Duration::from_secs(723)), "12m03s");
        assert_eq!(age(Duration::from_secs(3720)), "1h02m");
        assert_eq!(age(Duration::from_secs(273600)), "3d04h");
    }

    #[test]
    fn byte_figures_stay_exact_when_small() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(10_239), "10239 B");
        assert_eq!(bytes(1024 * 1024), "1.0 MiB");
    }

    #[test]
    fn control_characters_never_reach_the_terminal() {
        assert_eq!(clean("a\x1b[2Jb", false), "a [2Jb");
        assert_eq!(clean("A → B", true), "A -> B");
        assert_eq!(clean("api\u{202E}lmth.exe", false), "api lmth.exe");
    }

    #[test]
    fn printable_keeps_only_what_a_document_needs() {
        assert_eq!(printable("a\nb\tc\u{9b}d"), "a b c d");
        assert_eq!(printable_lines("a\r\nb\u{2066}c\u{2069}\n"), "a \nb c \n");
        assert!(matches!(printable("site A → B"), Cow::Borrowed(_)));
    }
}
