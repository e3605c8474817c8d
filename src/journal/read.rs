//! Reading the journal back: the tail at start-up, pages of older history, the latest run, and
//! everything for export. Every reader is bounded: a line longer than `MAX_LINE` is skipped
//! without being held in memory, and the tail reads at most `TAIL_WINDOW` bytes, so a journal of
//! any size, with or without newlines, opens in a bounded time.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::Path;

use failover_core::runbook::{Event, RunEvent};
use failover_core::timeline::{Entry, Tail};

/// The longest line any reader parses; a longer one is skipped (and counted).
pub const MAX_LINE: u64 = 1 << 20;
/// The most a tail or a page of older history reads back from its end.
pub const TAIL_WINDOW: u64 = 32 << 20;
/// Read backwards a block at a time.
const BLOCK: u64 = 64 * 1024;

/// Reads up to `max` of the newest entries, touching only the end of the file.
pub fn read_tail(path: &Path, max: usize) -> io::Result<Tail> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Tail::default()),
        Err(e) => return Err(e),
    };
    let len = file.metadata()?.len();
    read_lines_before(&file, len, max)
}

/// Up to `max` entries that end before byte `before` (where an earlier read stopped, as
/// `Tail::start` is), oldest first: a page of older history.
pub fn read_before(path: &Path, before: u64, max: usize) -> io::Result<Tail> {
    let file = File::open(path)?;
    let len = file.metadata()?.len();
    read_lines_before(&file, before.min(len), max)
}

/// Up to `max` entries before the line that holds `entry` (searched from the end of the file,
/// as this console would have written it): older history behind an entry that was written
/// after start-up, whose place in the file the timeline does not know.
pub fn read_before_entry(path: &Path, entry: &Entry, max: usize) -> io::Result<Tail> {
    let mut line = serde_json::to_vec(entry).map_err(io::Error::other)?;
    line.push(b'\n');
    let file = File::open(path)?;
    let len = file.metadata()?.len();
    const SEARCH_BLOCK: u64 = 1 << 20;
    let mut end = len;
    while end >= line.len() as u64 {
        let start = end.saturating_sub(SEARCH_BLOCK);
        let block = read_at(&file, start, end)?;
        let mut search = block.as_slice();
        while let Some(i) = memchr::memmem::rfind(search, &line) {
            let at = start + i as u64;
            if at == 0 || i > 0 && block[i - 1] == b'\n' {
                return read_lines_before(&file, at, max);
            }
            search = &block[..i];
        }
        if start == 0 {
            break;
        }
        // Overlap by a line's length, so a line across two blocks is found.
        end = start + line.len() as u64 - 1;
    }
    Err(io::Error::other(
        "the oldest entry shown is no longer in the journal",
    ))
}

fn read_at(file: &File, start: u64, end: u64) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; (end - start) as usize];
    file.read_exact_at(&mut buf, start)?;
    Ok(buf)
}

/// The newest `max` entries among the lines that end by `end`, reading backwards no further
/// than `TAIL_WINDOW`. `end` is the file's length (its last line may be torn) or where an earlier
/// read stopped. `Tail::start` is where this one stopped: the next page reads before it.
fn read_lines_before(file: &File, end: u64, max: usize) -> io::Result<Tail> {
    let mut tail = Tail {
        start: end,
        end,
        ..Tail::default()
    };
    if end == 0 || max == 0 {
        return Ok(tail);
    }
    let mut last = [0u8; 1];
    file.read_exact_at(&mut last, end - 1)?;
    // A last line without its newline: a console killed while writing it; never parsed.
    let torn = last[0] != b'\n';
    tail.torn_last_line = torn;
    // The line being looked for ends at `line_end`; its start is the byte after the first
    // newline below `search_below` (its own newline is not its start).
    let mut line_end = end;
    let mut search_below = if torn { end } else { end - 1 };
    let mut pos = end;
    let mut lines = Backwards {
        file,
        end,
        torn,
        found: Vec::new(),
    };
    'blocks: loop {
        if pos == 0 {
            // The first line of the file.
            lines.take(&mut tail, 0, line_end, &[], 0)?;
            line_end = 0;
            break;
        }
        if end - pos >= TAIL_WINDOW {
            if line_end - pos > MAX_LINE {
                // Stopped inside a line already too long: skip it, and the next page starts
                // here, mid-line (its head is then read as a line of its own, and skipped).
                if !(torn && line_end == end) {
                    tail.overlong_lines += 1;
                }
                line_end = pos;
            }
            break;
        }
        let start = pos.saturating_sub(BLOCK);
        let block = read_at(file, start, pos)?;
        let mut hi = (search_below.min(pos) - start) as usize;
        while let Some(i) = memchr::memrchr(b'\n', &block[..hi]) {
            let line_start = start + i as u64 + 1;
            lines.take(&mut tail, line_start, line_end, &block, start)?;
            line_end = line_start;
            search_below = line_start - 1;
            hi = i;
            if lines.found.len() >= max {
                break 'blocks;
            }
        }
        pos = start;
    }
    let mut newest_first = lines.found;
    newest_first.reverse();
    tail.start = newest_first.first().map(|(at, _)| *at).unwrap_or(line_end);
    (tail.offsets, tail.entries) = newest_first.into_iter().unzip();
    Ok(tail)
}

/// The lines `read_lines_before` finds, newest first.
struct Backwards<'a> {
    file: &'a File,
    /// Where the read began, and whether the line that ends there is torn (never parsed).
    end: u64,
    torn: bool,
    found: Vec<(u64, Entry)>,
}

impl Backwards<'_> {
    /// The line `[start, end)`: parsed from `block` (which begins at `block_start`) when it is
    /// all there, else read again from the file; skipped if torn or over-long.
    fn take(
        &mut self,
        tail: &mut Tail,
        start: u64,
        end: u64,
        block: &[u8],
        block_start: u64,
    ) -> io::Result<()> {
        if self.torn && end == self.end {
            return Ok(());
        }
        if end - start > MAX_LINE {
            tail.overlong_lines += 1;
            return Ok(());
        }
        let block_end = block_start + block.len() as u64;
        let owned;
        let bytes = if start >= block_start && end <= block_end {
            &block[(start - block_start) as usize..(end - block_start) as usize]
        } else {
            owned = read_at(self.file, start, end)?;
            &owned[..]
        };
        parse_line(bytes, start, tail, &mut self.found);
        Ok(())
    }
}

fn parse_line(line: &[u8], at: u64, tail: &mut Tail, into: &mut Vec<(u64, Entry)>) {
    if line.iter().all(u8::is_ascii_whitespace) {
        return;
    }
    match serde_json::from_slice::<Entry>(line) {
        Ok(e) => into.push((at, e)),
        Err(_) => tail.unreadable_lines += 1,
    }
}

/// Lines read forwards, each at most `MAX_LINE` long: a longer one is passed over without being
/// held in memory.
pub struct Lines<R> {
    reader: R,
    line: Vec<u8>,
}

/// One line from `Lines`.
pub enum Line<'a> {
    /// Its bytes, with the newline if it had one (the last line may not).
    Whole(&'a [u8]),
    /// Longer than `MAX_LINE`: skipped.
    Overlong,
}

impl<R: BufRead> Lines<R> {
    pub fn new(reader: R) -> Lines<R> {
        Lines {
            reader,
            line: Vec::new(),
        }
    }

    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        self.line.clear();
        let mut overlong = false;
        let mut any = false;
        loop {
            let buf = self.reader.fill_buf()?;
            if buf.is_empty() {
                break;
            }
            any = true;
            let (chunk, done) = match memchr::memchr(b'\n', buf) {
                Some(i) => (&buf[..=i], true),
                None => (buf, false),
            };
            let n = chunk.len();
            if !overlong {
                if (self.line.len() + n) as u64 > MAX_LINE + 1 {
                    overlong = true;
                    self.line.clear();
                } else {
                    self.line.extend_from_slice(chunk);
                }
            }
            self.reader.consume(n);
            if done {
                break;
            }
        }
        Ok(match (any, overlong) {
            (false, _) => None,
            (true, true) => Some(Line::Overlong),
            (true, false) => Some(Line::Whole(&self.line)),
        })
    }
}

/// The entries that rebuild the latest run, oldest first: its run events from the last `armed`
/// or `dry-run` event on (earlier runs are over: a new run replaces the one before), and the
/// driver marks from the one before that start (they say whose run events count). The file is
/// searched backwards for those lines, so a long journal is not parsed at start-up; only lines
/// that carry a run event or a driver mark are.
pub fn read_runs(path: &Path) -> io::Result<Vec<Entry>> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let end = file.metadata()?.len();
    let starts_run = |e: &Entry| {
        e.run.as_ref().is_some_and(|r| {
            matches!(
                r.event,
                Event::Armed { .. } | Event::DryRun { .. } | Event::PlanArmed { .. }
            )
        })
    };
    let Some(mut run_start) = last_entry_with(&file, end, RUN_STARTS, starts_run)? else {
        return Ok(Vec::new());
    };
    // A runbook armed by an evacuation plan: the plan's story starts at the plan's arming.
    let line = read_at(&file, run_start, line_end_after(&file, run_start)?)?;
    if let Ok(Entry {
        run:
            Some(RunEvent {
                event: Event::Armed { plan: Some(id), .. },
                ..
            }),
        ..
    }) = serde_json::from_slice::<Entry>(&line)
    {
        let plan_armed = |e: &Entry| {
            e.run
                .as_ref()
                .is_some_and(|r| r.id == id && matches!(r.event, Event::PlanArmed { .. }))
        };
        if let Some(start) = last_entry_with(&file, run_start, &[PLAN_START], plan_armed)? {
            run_start = start;
        }
    }
    let marks = |e: &Entry| e.driver.is_some();
    let from = last_entry_with(&file, run_start, &[DRIVER_MARK], marks)?.unwrap_or(run_start);
    file.seek(SeekFrom::Start(from))?;
    let finders = [
        memchr::memmem::Finder::new(b"\"run\":"),
        memchr::memmem::Finder::new(DRIVER_MARK),
    ];
    let mut entries = Vec::new();
    let mut lines = Lines::new(BufReader::with_capacity(256 * 1024, file));
    while let Some(line) = lines.next_line()? {
        // A last line with no newline is still being written (or was torn): as in the tail,
        // it is not an entry yet.
        let Line::Whole(line) = line else { continue };
        if !line.ends_with(b"\n") || finders.iter().all(|f| f.find(line).is_none()) {
            continue;
        }
        if let Ok(e) = serde_json::from_slice::<Entry>(line)
            && (e.run.is_some() || e.driver.is_some())
        {
            entries.push(e);
        }
    }
    Ok(entries)
}

/// A run's start (inside a JSON string those quotes would be escaped).
const RUN_STARTS: &[&[u8]] = &[b"\"event\":\"armed\"", b"\"event\":\"dry-run\"", PLAN_START];
/// An evacuation plan's start.
const PLAN_START: &[u8] = b"\"event\":\"plan-armed\"";
/// A change of driver.
const DRIVER_MARK: &[u8] = b"\"driver\":{\"";

/// The offset of the last line before `end` that holds one of `needles` and is an entry that
/// `is` accepts (a torn or garbled line that holds a needle is passed over).
fn last_entry_with(
    file: &File,
    mut end: u64,
    needles: &[&[u8]],
    is: impl Fn(&Entry) -> bool,
) -> io::Result<Option<u64>> {
    while let Some(start) = last_line_with(file, end, needles)? {
        let line = read_at(file, start, line_end_after(file, start)?.min(end))?;
        if line.ends_with(b"\n") && serde_json::from_slice::<Entry>(&line).is_ok_and(|e| is(&e)) {
            return Ok(Some(start));
        }
        end = start;
    }
    Ok(None)
}

/// The offset of the last line before `end` that holds one of `needles` and is not over-long,
/// read backwards a block at a time.
fn last_line_with(file: &File, end: u64, needles: &[&[u8]]) -> io::Result<Option<u64>> {
    const SEARCH_BLOCK: u64 = 1024 * 1024;
    let longest = needles.iter().map(|n| n.len()).max().unwrap_or(0);
    let needles: Vec<_> = needles.iter().map(memchr::memmem::FinderRev::new).collect();
    let mut pos = end;
    // The current block plus the first bytes of the block after it: a needle may straddle two
    // blocks, never two lines.
    let mut carry: Vec<u8> = Vec::new();
    while pos > 0 {
        let start = pos.saturating_sub(SEARCH_BLOCK);
        let mut buf = read_at(file, start, pos)?;
        buf.extend_from_slice(&carry);
        let Some(at) = needles.iter().filter_map(|n| n.rfind(&buf)).max() else {
            carry = buf[..buf.len().min(longest.saturating_sub(1))].to_vec();
            pos = start;
            continue;
        };
        let line_start = match memchr::memrchr(b'\n', &buf[..at]) {
            Some(i) => start + i as u64 + 1,
            None => line_start_before(file, start)?,
        };
        if line_end_after(file, start + at as u64)? - line_start <= MAX_LINE {
            return Ok(Some(line_start));
        }
        // A line too long to be read: look before it.
        carry.clear();
        pos = line_start;
    }
    Ok(None)
}

/// Where the line that holds byte `at - 1` begins.
fn line_start_before(file: &File, at: u64) -> io::Result<u64> {
    let mut pos = at;
    while pos > 0 {
        let start = pos.saturating_sub(BLOCK);
        let block = read_at(file, start, pos)?;
        if let Some(i) = memchr::memrchr(b'\n', &block) {
            return Ok(start + i as u64 + 1);
        }
        pos = start;
    }
    Ok(0)
}

/// Where the line that holds byte `at` ends (after its newline), looking at most `MAX_LINE`
/// ahead: a result more than `MAX_LINE` past its start means over-long.
fn line_end_after(file: &File, at: u64) -> io::Result<u64> {
    let len = file.metadata()?.len();
    let mut pos = at;
    while pos < len && pos - at <= MAX_LINE {
        let end = (pos + BLOCK).min(len);
        let block = read_at(file, pos, end)?;
        if let Some(i) = memchr::memchr(b'\n', &block) {
            return Ok(pos + i as u64 + 1);
        }
        pos = end;
    }
    Ok(pos.max(at))
}

/// Every entry, oldest first, for export. Unreadable and over-long lines are counted, not
/// fatal.
pub fn read_all(path: &Path) -> io::Result<(Vec<Entry>, usize)> {
    let file = File::open(path)?;
    let mut entries = Vec::new();
    let mut unreadable = 0;
    let mut lines = Lines::new(BufReader::new(file));
    while let Some(line) = lines.next_line()? {
        match line {
            Line::Overlong => unreadable += 1,
            Line::Whole(line) if line.iter().all(u8::is_ascii_whitespace) => {}
            Line::Whole(line) => match serde_json::from_slice::<Entry>(line) {
                Ok(e) => entries.push(e),
                Err(_) => unreadable += 1,
            },
        }
    }
    Ok((entries, unreadable))
}
