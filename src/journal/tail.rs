//! Follows the journal for lines other consoles append (a watcher following the driver's run).
//! Bounded like the other readers: a line longer than `MAX_LINE` is skipped, and a journal
//! replaced by another file (re-created after a delete) is followed from its first line.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::read::MAX_LINE;
use failover_core::timeline::Entry;

pub struct Tail {
    path: PathBuf,
    /// The file followed: its device and inode.
    id: Option<(u64, u64)>,
    offset: u64,
    /// The start of a line whose end has not been read yet.
    partial: Vec<u8>,
    /// The line being read is over `MAX_LINE`: its bytes are dropped up to its newline.
    skipping: bool,
}

/// Read at most this much at a time, so one call holds a bounded amount in memory.
const CHUNK: u64 = 4 << 20;

impl Tail {
    /// Starts at the current end of the file: what is already there was read at start-up.
    pub fn from_end(path: &Path) -> Tail {
        let meta = std::fs::metadata(path).ok();
        Tail {
            path: path.to_path_buf(),
            id: meta.as_ref().map(|m| (m.dev(), m.ino())),
            offset: meta.map(|m| m.len()).unwrap_or(0),
            partial: Vec::new(),
            skipping: false,
        }
    }

    /// Entries appended since the last call, by any console, oldest first.
    pub fn read_new(&mut self) -> Vec<Entry> {
        // Asked every second: a stat, and an open only when the length or the file moved.
        let Ok(meta) = std::fs::metadata(&self.path) else {
            return Vec::new();
        };
        let id = Some((meta.dev(), meta.ino()));
        if id == self.id && meta.len() == self.offset {
            return Vec::new();
        }
        let Ok(mut file) = File::open(&self.path) else {
            return Vec::new();
        };
        let Ok(meta) = file.metadata() else {
            return Vec::new();
        };
        let id = Some((meta.dev(), meta.ino()));
        if id != self.id {
            // Another file at the path (the journal re-created): every line in it is new.
            self.id = id;
            self.offset = 0;
            self.partial.clear();
            self.skipping = false;
        }
        let len = meta.len();
        if len < self.offset {
            // Truncated: start again from its end.
            self.offset = len;
            self.partial.clear();
            self.skipping = false;
            return Vec::new();
        }
        if len == self.offset || file.seek(SeekFrom::Start(self.offset)).is_err() {
            return Vec::new();
        }
        let mut bytes = Vec::new();
        let want = (len - self.offset).min(CHUNK);
        if file.take(want).read_to_end(&mut bytes).is_err() {
            return Vec::new();
        }
        self.offset += bytes.len() as u64;
        self.take_lines(&bytes)
    }

    /// The whole lines `bytes` completes, parsed; the rest is kept for the next call.
    fn take_lines(&mut self, mut bytes: &[u8]) -> Vec<Entry> {
        let mut entries = Vec::new();
        while let Some(i) = memchr::memchr(b'\n', bytes) {
            let (head, rest) = (&bytes[..i], &bytes[i + 1..]);
            bytes = rest;
            if std::mem::take(&mut self.skipping)
                || (self.partial.len() + head.len()) as u64 > MAX_LINE
            {
                self.partial.clear();
                continue;
            }
            self.partial.extend_from_slice(head);
            if let Ok(e) = serde_json::from_slice::<Entry>(&self.partial) {
                entries.push(e);
            }
            self.partial.clear();
        }
        if !self.skipping {
            if (self.partial.len() + bytes.len()) as u64 > MAX_LINE {
                self.skipping = true;
                self.partial.clear();
            } else {
                self.partial.extend_from_slice(bytes);
            }
        }
        entries
    }
}
