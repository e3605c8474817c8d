//! The journal: JSON Lines, appended and fsync'd one entry at a time. A write that fails part
//! way is cut back to the last whole line, so the next entry starts on a line of its own; a
//! journal deleted or replaced under the console is noticed (`replaced`) and re-created.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

use failover_core::timeline::Entry;

pub struct Journal {
    file: File,
    path: PathBuf,
    /// The open file's device and inode, to tell whether the path still names it.
    id: (u64, u64),
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
        let meta = file.metadata()?;
        let len = meta.len();
        if len > 0 {
            let mut last = [0u8; 1];
            file.read_exact_at(&mut last, len - 1)?;
            if last[0] != b'\n' {
                file.write_all(b"\n")?;
                file.sync_data()?;
            }
        }
        Ok(Journal {
            file,
            path: path.to_path_buf(),
            id: (meta.dev(), meta.ino()),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Returns only once the entry is on disk. A write that fails (a full disk, a file size
    /// limit) is cut back to the last whole line before the error is returned.
    pub fn append(&mut self, entry: &Entry) -> io::Result<()> {
        self.write(entry)?;
        self.sync()
    }

    /// Makes what `write` wrote durable.
    pub fn sync(&mut self) -> io::Result<()> {
        self.file.sync_data()
    }

    /// Writes the entry's line, not yet durable: `sync` makes it so (one fsync for many
    /// lines). A write that fails is cut back to the last whole line before the error is
    /// returned.
    pub fn write(&mut self, entry: &Entry) -> io::Result<()> {
        let mut line = serde_json::to_vec(entry).map_err(io::Error::other)?;
        line.push(b'\n');
        let before = self.file.metadata()?.len();
        if let Err(e) = self.file.write_all(&line) {
            if let Err(cut) = self.cut_to_whole_line(before) {
                tracing::error!(
                    "journal {}: cannot cut a failed write back: {cut}",
                    self.path.display()
                );
            }
            return Err(e);
        }
        Ok(())
    }

    /// Truncates what a failed write left after the last newline. Only bytes written since
    /// `before` are looked at: another console's lines before them are never touched.
    fn cut_to_whole_line(&mut self, before: u64) -> io::Result<()> {
        let len = self.file.metadata()?.len();
        let from = before.saturating_sub(1).min(len);
        let mut written = vec![0u8; (len - from) as usize];
        self.file.read_exact_at(&mut written, from)?;
        let keep = match memchr::memrchr(b'\n', &written) {
            Some(i) => from + i as u64 + 1,
            None => before.min(len),
        };
        if keep < len {
            self.file.set_len(keep)?;
            self.file.sync_data()?;
        }
        Ok(())
    }

    /// Why the path no longer names the open file (deleted, or replaced by another file), if
    /// it does not: entries written now would be lost with the old file.
    pub fn replaced(&self) -> Option<String> {
        match std::fs::metadata(&self.path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Some("deleted".into()),
            Err(_) => None,
            Ok(m) if (m.dev(), m.ino()) != self.id => Some("replaced by another file".into()),
            Ok(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{read_before, read_tail};
    use failover_core::timeline::Tail;
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

    /// The path of the journal the child writes (set only in the child process).
    const CHILD_ENV: &str = "FAILOVER_JOURNAL_SHORT_WRITE_CHILD";

    fn limit_file_size(bytes: u64) {
        // SAFETY: plain libc calls on this process's own limits and signal disposition.
        unsafe {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let mut limit = std::mem::zeroed::<libc::rlimit>();
            assert_eq!(libc::getrlimit(libc::RLIMIT_FSIZE, &mut limit), 0);
            limit.rlim_cur = bytes.min(limit.rlim_max);
            assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &limit), 0);
        }
    }

    /// Run by the next test in a child process of its own (a file size limit is the process's):
    /// entry 1 fits, entry 2 meets the limit half-way through its line, entry 3 is written once
    /// the limit is lifted.
    #[test]
    #[ignore = "the child of a_short_write_is_cut_back_to_the_last_whole_line"]
    fn short_write_child() {
        let Some(path) = std::env::var_os(CHILD_ENV) else {
            return;
        };
        let path = PathBuf::from(path);
        let mut j = Journal::open(&path).unwrap();
        j.append(&entry(1)).unwrap();
        let len = std::fs::metadata(&path).unwrap().len();
        limit_file_size(len + 20);
        let refused = j.append(&entry(2)).expect_err("the limit stops entry 2");
        println!("entry 2 refused: {refused}");
        limit_file_size(u64::MAX);
        j.append(&entry(3)).unwrap();
    }

    #[test]
    fn a_short_write_is_cut_back_to_the_last_whole_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "journal::file::tests::short_write_child",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &path)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&child.stdout);
        assert!(
            child.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&child.stderr)
        );
        assert!(
            stdout.contains("entry 2 refused: File too large"),
            "the write met the limit: {stdout}"
        );
        let mut want = Vec::new();
        for n in [1, 3] {
            want.extend(serde_json::to_vec(&entry(n)).unwrap());
            want.push(b'\n');
        }
        assert_eq!(
            String::from_utf8_lossy(&std::fs::read(&path).unwrap()),
            String::from_utf8_lossy(&want),
            "entry 2's half line is gone, entry 3 is whole"
        );
        let tail = read_tail(&path, 10).unwrap();
        assert_eq!((tail.unreadable_lines, tail.torn_last_line), (0, false));
    }

    #[test]
    fn a_deleted_or_replaced_journal_is_noticed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let j = Journal::open(&path).unwrap();
        assert_eq!(j.replaced(), None);
        std::fs::remove_file(&path).unwrap();
        assert_eq!(j.replaced().as_deref(), Some("deleted"));
        std::fs::write(dir.path().join("other"), b"").unwrap();
        std::fs::rename(dir.path().join("other"), &path).unwrap();
        assert_eq!(j.replaced().as_deref(), Some("replaced by another file"));
        assert_eq!(Journal::open(&path).unwrap().replaced(), None);
    }
}
