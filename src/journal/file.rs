//! The journal: JSON Lines, appended and fsync'd one entry at a time. Reading it back takes only
//! the tail, from the end of the file, and skips a torn last line (a crash mid-write).

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use failover_core::timeline::{Entry, Tail};

pub struct Journal {
    file: File,
    path: PathBuf,
}

impl Journal {
    /// Opens for appending, creating the file and its directory. If the last line was torn by a
    /// crash, a newline is written first so the next entry starts on a line of its own.
    pub fn open(path: &Path) -> io::Result<Journal> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)?;
        let len = file.metadata()?.len();
        if len > 0 {
            let mut last = [0u8; 1];
            file.seek(SeekFrom::Start(len - 1))?;
            file.read_exact(&mut last)?;
            if last[0] != b'\n' {
                file.write_all(b"\n")?;
                file.sync_data()?;
            }
        }
        Ok(Journal {
            file,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Returns only once the entry is on disk.
    pub fn append(&mut self, entry: &Entry) -> io::Result<()> {
        let mut line = serde_json::to_vec(entry).map_err(io::Error::other)?;
        line.push(b'\n');
        self.file.write_all(&line)?;
        self.file.sync_data()
    }
}

/// Reads up to `max` of the newest entries, touching only the end of the file.
pub fn read_tail(path: &Path, max: usize) -> io::Result<Tail> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Tail::default()),
        Err(e) => return Err(e),
    };
    let len = file.metadata()?.len();
    read_lines_before(&mut file, len, max)
}

/// Up to `max` entries that end before byte `before` (a line boundary, as `Tail::start` is),
/// oldest first: a page of older history.
pub fn read_before(path: &Path, before: u64, max: usize) -> io::Result<Tail> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    read_lines_before(&mut file, before.min(len), max)
}

/// Up to `max` entries before the line that holds `entry` (searched from the end of the file,
/// as this console would have written it): older history behind an entry that was written
/// after start-up, whose place in the file the timeline does not know.
pub fn read_before_entry(path: &Path, entry: &Entry, max: usize) -> io::Result<Tail> {
    let mut line = serde_json::to_vec(entry).map_err(io::Error::other)?;
    line.push(b'\n');
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    const BLOCK: u64 = 1 << 20;
    let mut end = len;
    loop {
        let start = end.saturating_sub(BLOCK);
        let mut block = vec![0u8; (end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut block)?;
        let mut search = block.as_slice();
        while let Some(i) = memchr::memmem::rfind(search, &line) {
            let at = start + i as u64;
            let at_line_start = i > 0 && block[i - 1] == b'\n' || at == 0;
            if at_line_start {
                return read_lines_before(&mut file, at, max);
            }
            search = &block[..i];
        }
        if start == 0 {
            return Err(io::Error::other(
                "the oldest entry shown is no longer in the journal",
            ));
        }
        // Overlap by a line's length, so a line across two blocks is found.
        end = (start + line.len() as u64).min(end - 1);
    }
}

fn read_lines_before(file: &mut File, end: u64, max: usize) -> io::Result<Tail> {
    let mut tail = Tail {
        start: end,
        end,
        ..Tail::default()
    };
    if end == 0 || max == 0 {
        return Ok(tail);
    }
    const BLOCK: u64 = 64 * 1024;
    let mut pos = end;
    let mut buf: Vec<u8> = Vec::new();
    // Read blocks backwards until the buffer holds more than `max` complete lines.
    loop {
        let start = pos.saturating_sub(BLOCK);
        let mut block = vec![0u8; (pos - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut block)?;
        block.extend_from_slice(&buf);
        buf = block;
        pos = start;
        let newlines = memchr::memchr_iter(b'\n', &buf).count();
        if pos == 0 || newlines > max + 1 {
            break;
        }
    }
    let mut text = buf.as_slice();
    // The file offset of `text[0]`.
    let mut base = pos;
    if pos > 0 {
        // The first line in the buffer may be cut: drop it.
        match memchr::memchr(b'\n', text) {
            Some(i) => {
                text = &text[i + 1..];
                base += i as u64 + 1;
            }
            None => text = &[],
        }
    }
    if !text.is_empty() && *text.last().unwrap_or(&b'\n') != b'\n' {
        tail.torn_last_line = true;
        let cut = memchr::memrchr(b'\n', text).map(|i| i + 1).unwrap_or(0);
        text = &text[..cut];
    }
    let mut lines: Vec<(u64, Entry)> = Vec::new();
    let mut offset = base;
    for line in text.split_inclusive(|b| *b == b'\n') {
        let at = offset;
        offset += line.len() as u64;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Entry>(line) {
            Ok(e) => lines.push((at, e)),
            Err(_) => tail.unreadable_lines += 1,
        }
    }
    if lines.len() > max {
        lines.drain(..lines.len() - max);
    }
    tail.start = lines.first().map(|(at, _)| *at).unwrap_or(base);
    (tail.offsets, tail.entries) = lines.into_iter().unzip();
    Ok(tail)
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
    let Some(run_start) = last_line_with(&mut file, end, RUN_STARTS)? else {
        return Ok(Vec::new());
    };
    let from = last_line_with(&mut file, run_start, &[DRIVER_MARK])?.unwrap_or(run_start);
    file.seek(SeekFrom::Start(from))?;
    let finders = [
        memchr::memmem::Finder::new(b"\"run\":"),
        memchr::memmem::Finder::new(DRIVER_MARK),
    ];
    let mut entries = Vec::new();
    let mut reader = BufReader::with_capacity(256 * 1024, file);
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        if finders.iter().all(|f| f.find(&line).is_none()) {
            continue;
        }
        if let Ok(e) = serde_json::from_slice::<Entry>(&line)
            && (e.run.is_some() || e.driver.is_some())
        {
            entries.push(e);
        }
    }
    Ok(entries)
}

/// A run's start (inside a JSON string those quotes would be escaped).
const RUN_STARTS: &[&[u8]] = &[b"\"event\":\"armed\"", b"\"event\":\"dry-run\""];
/// A change of driver.
const DRIVER_MARK: &[u8] = b"\"driver\":{\"";

/// The offset of the last line before `end` that holds one of `needles`, read backwards a block
/// at a time.
fn last_line_with(file: &mut File, end: u64, needles: &[&[u8]]) -> io::Result<Option<u64>> {
    const BLOCK: u64 = 1024 * 1024;
    let needles: Vec<_> = needles.iter().map(memchr::memmem::FinderRev::new).collect();
    let mut pos = end;
    // The current block plus the start of the block after it, up to its first newline: a
    // needle may straddle two blocks, never two lines.
    let mut carry: Vec<u8> = Vec::new();
    let mut buf = Vec::new();
    while pos > 0 {
        let start = pos.saturating_sub(BLOCK);
        buf.clear();
        buf.resize((pos - start) as usize, 0);
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut buf)?;
        buf.extend_from_slice(&carry);
        let found = needles.iter().filter_map(|n| n.rfind(&buf)).max();
        if let Some(at) = found {
            let line_start = memchr::memrchr(b'\n', &buf[..at])
                .map(|i| i + 1)
                .unwrap_or(0);
            return Ok(Some(start + line_start as u64));
        }
        let first_newline = memchr::memchr(b'\n', &buf).unwrap_or(buf.len());
        carry = buf[..first_newline].to_vec();
        pos = start;
    }
    Ok(None)
}

/// Every entry, oldest first, for export. Unreadable lines are counted, not fatal.
pub fn read_all(path: &Path) -> io::Result<(Vec<Entry>, usize)> {
    let file = File::open(path)?;
    let mut entries = Vec::new();
    let mut unreadable = 0;
    for line in BufReader::new(file).split(b'\n') {
        let line = line?;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Entry>(&line) {
            Ok(e) => entries.push(e),
            Err(_) => unreadable += 1,
        }
    }
    Ok((entries, unreadable))
}

#[cfg(test)]
mod tests {
    use super::*;
    use failover_core::timeline::{Kind, Severity};
    use time::macros::datetime;

    fn entry(n: usize) -> Entry {
        Entry::new(
            datetime!(2026-11-25 04:00 UTC),
            Severity::Info,
            Kind::Note,
            "test",
            format!("entry {n}"),
        )
    }

    #[test]
    fn appends_and_reads_back_the_tail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let mut j = Journal::open(&path).unwrap();
        for n in 0..5000 {
            j.append(&entry(n)).unwrap();
        }
        let tail = read_tail(&path, 3).unwrap();
        let messages: Vec<_> = tail.entries.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(messages, ["entry 4997", "entry 4998", "entry 4999"]);
        assert!(!tail.torn_last_line);
        assert_eq!(read_tail(&path, 10_000).unwrap().entries.len(), 5000);
    }

    #[test]
    fn older_history_reads_back_a_page_at_a_time_to_the_first_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let mut j = Journal::open(&path).unwrap();
        for n in 0..5000 {
            j.append(&entry(n)).unwrap();
        }
        let messages =
            |t: &Tail| -> Vec<String> { t.entries.iter().map(|e| e.message.clone()).collect() };
        let tail = read_tail(&path, 3).unwrap();
        assert!(tail.start > 0);
        let page = read_before(&path, tail.start, 2).unwrap();
        assert_eq!(messages(&page), ["entry 4995", "entry 4996"]);
        // Page after page, every entry once, down to the first line.
        let mut seen = messages(&tail);
        let mut before = tail.start;
        while before > 0 {
            let page = read_before(&path, before, 700).unwrap();
            assert!(page.start < before, "moves back");
            before = page.start;
            let mut older = messages(&page);
            older.append(&mut seen);
            seen = older;
        }
        let want: Vec<String> = (0..5000).map(|n| format!("entry {n}")).collect();
        assert_eq!(seen, want);
    }

    #[test]
    fn torn_last_line_is_skipped_and_next_entry_starts_clean() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let mut j = Journal::open(&path).unwrap();
        j.append(&entry(1)).unwrap();
        drop(j);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(br#"{"at":"2026-11-25T04:00:00Z","sever"#)
            .unwrap();
        drop(f);
        let tail = read_tail(&path, 10).unwrap();
        assert!(tail.torn_last_line);
        assert_eq!(tail.entries.len(), 1);

        let mut j = Journal::open(&path).unwrap();
        j.append(&entry(2)).unwrap();
        let tail = read_tail(&path, 10).unwrap();
        assert!(!tail.torn_last_line);
        assert_eq!(tail.unreadable_lines, 1);
        assert_eq!(tail.entries.last().unwrap().message, "entry 2");
    }
}
