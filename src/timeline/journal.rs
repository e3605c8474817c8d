//! The journal: JSON Lines, appended and fsync'd one entry at a time. Reading it back takes only
//! the tail, from the end of the file, and skips a torn last line (a crash mid-write).

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::Entry;

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

#[derive(Debug, Default)]
pub struct Tail {
    /// Oldest first.
    pub entries: Vec<Entry>,
    /// A last line without its newline: the console was killed while writing it.
    pub torn_last_line: bool,
    /// Lines that are not journal entries (hand edits, corruption), skipped.
    pub unreadable_lines: usize,
}

/// Reads up to `max` of the newest entries, touching only the end of the file.
pub fn read_tail(path: &Path, max: usize) -> io::Result<Tail> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Tail::default()),
        Err(e) => return Err(e),
    };
    let len = file.metadata()?.len();
    let mut tail = Tail::default();
    if len == 0 || max == 0 {
        return Ok(tail);
    }
    const BLOCK: u64 = 64 * 1024;
    let mut pos = len;
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
        let newlines = buf.iter().filter(|b| **b == b'\n').count();
        if pos == 0 || newlines > max + 1 {
            break;
        }
    }
    let mut text = buf.as_slice();
    if pos > 0 {
        // The first line in the buffer may be cut: drop it.
        match text.iter().position(|b| *b == b'\n') {
            Some(i) => text = &text[i + 1..],
            None => text = &[],
        }
    }
    if !text.is_empty() && *text.last().unwrap_or(&b'\n') != b'\n' {
        tail.torn_last_line = true;
        let cut = text
            .iter()
            .rposition(|b| *b == b'\n')
            .map(|i| i + 1)
            .unwrap_or(0);
        text = &text[..cut];
    }
    for line in text
        .split(|b| *b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
    {
        match serde_json::from_slice::<Entry>(line) {
            Ok(e) => tail.entries.push(e),
            Err(_) => tail.unreadable_lines += 1,
        }
    }
    if tail.entries.len() > max {
        tail.entries.drain(..tail.entries.len() - max);
    }
    Ok(tail)
}

/// The run entries that rebuild the latest run, oldest first: from the last `armed` or
/// `dry-run` event on (earlier runs are over: a new run replaces the one before). The file is
/// searched backwards for that line, so a long journal is not parsed at start-up; only lines
/// that carry a run event are.
pub fn read_runs(path: &Path) -> io::Result<Vec<Entry>> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let Some(from) = last_run_start(&mut file)? else {
        return Ok(Vec::new());
    };
    file.seek(SeekFrom::Start(from))?;
    let finder = memchr::memmem::Finder::new(b"\"run\":");
    let mut entries = Vec::new();
    let mut reader = BufReader::with_capacity(256 * 1024, file);
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        if finder.find(&line).is_none() {
            continue;
        }
        if let Ok(e) = serde_json::from_slice::<Entry>(&line)
            && e.run.is_some()
        {
            entries.push(e);
        }
    }
    Ok(entries)
}

/// The offset of the line of the last run start (`"event":"armed"` or `"event":"dry-run"`;
/// inside a JSON string those quotes would be escaped), read backwards a block at a time.
fn last_run_start(file: &mut File) -> io::Result<Option<u64>> {
    const BLOCK: u64 = 1024 * 1024;
    let needles = [
        memchr::memmem::FinderRev::new(b"\"event\":\"armed\""),
        memchr::memmem::FinderRev::new(b"\"event\":\"dry-run\""),
    ];
    let mut pos = file.metadata()?.len();
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
    use crate::timeline::{Kind, Severity};
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
