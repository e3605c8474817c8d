//! One driver at a time: an exclusive lock beside the journal. Holding it is what makes a
//! `DriverToken`, and only a token lets a console arm a runbook or construct an executor; a
//! watch console never asks for one.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

pub use failover_core::app::driver::{DriverToken, LockInfo};
use time::OffsetDateTime;

/// Held while this console drives; dropping it releases the lock.
#[derive(Debug)]
pub struct DriverLock {
    file: File,
    path: PathBuf,
    pub info: LockInfo,
}

pub enum Acquired {
    Driving(DriverLock, DriverToken),
    HeldBy(LockInfo),
}

pub fn lock_path(journal: &Path) -> PathBuf {
    let mut name = journal
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".lock");
    journal.with_file_name(name)
}

pub fn acquire(journal: &Path, operator: &str) -> io::Result<Acquired> {
    let path = lock_path(journal);
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)?;
    match file.try_lock() {
        Ok(()) => {
            let info = write_info(&mut file, operator)?;
            Ok(Acquired::Driving(
                DriverLock { file, path, info },
                DriverToken::held(),
            ))
        }
        Err(std::fs::TryLockError::WouldBlock) => Ok(Acquired::HeldBy(
            read_info(&mut file).unwrap_or_else(unknown_holder),
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}

/// Takes the lock from a holder that is still alive (a hung console, a lost SSH session): the
/// old lock file is moved aside and a new one locked. The old driver notices (its lock file is
/// no longer the one at the path, and the journal says so) and stops driving.
pub fn break_lock(
    journal: &Path,
    operator: &str,
) -> io::Result<(DriverLock, DriverToken, Option<LockInfo>)> {
    let path = lock_path(journal);
    let previous = OpenOptions::new()
        .read(true)
        .open(&path)
        .ok()
        .and_then(|mut f| read_info(&mut f));
    let mut aside = path.clone().into_os_string();
    aside.push(".broken");
    let _ = std::fs::rename(&path, &aside);
    let mut file = OpenOptions::new()
        .create_new(true)
        .read(true)
        .write(true)
        .open(&path)?;
    file.try_lock()
        .map_err(|e| io::Error::other(format!("cannot lock the new lock file: {e:?}")))?;
    let info = write_info(&mut file, operator)?;
    Ok((
        DriverLock { file, path, info },
        DriverToken::held(),
        previous,
    ))
}

impl DriverLock {
    /// False once someone broke the lock: the file at the path is no longer ours.
    pub fn still_ours(&self) -> bool {
        use std::os::unix::fs::MetadataExt;
        match (self.file.metadata(), std::fs::metadata(&self.path)) {
            (Ok(mine), Ok(there)) => mine.ino() == there.ino() && mine.dev() == there.dev(),
            _ => false,
        }
    }
}

fn write_info(file: &mut File, operator: &str) -> io::Result<LockInfo> {
    let info = LockInfo {
        operator: operator.to_string(),
        host: whoami::hostname().unwrap_or_else(|_| "localhost".into()),
        pid: std::process::id(),
        since: OffsetDateTime::now_utc(),
    };
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    file.write_all(&serde_json::to_vec(&info).map_err(io::Error::other)?)?;
    file.sync_data()?;
    Ok(info)
}

fn read_info(file: &mut File) -> Option<LockInfo> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    serde_json::from_str(&text).ok()
}

fn unknown_holder() -> LockInfo {
    LockInfo {
        operator: "unknown".into(),
        host: "?".into(),
        pid: 0,
        since: OffsetDateTime::UNIX_EPOCH,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_is_refused_and_told_who_drives() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("journal.jsonl");
        let Acquired::Driving(first, _token) = acquire(&journal, "alice").unwrap() else {
            panic!("first must drive")
        };
        match acquire(&journal, "bob").unwrap() {
            Acquired::HeldBy(info) => assert_eq!(info.operator, "alice"),
            Acquired::Driving(..) => panic!("two drivers"),
        }
        assert!(first.still_ours());
        let (_second, _t, previous) = break_lock(&journal, "bob").unwrap();
        assert_eq!(previous.map(|p| p.operator).as_deref(), Some("alice"));
        assert!(
            !first.still_ours(),
            "the old driver must see its lock was broken"
        );
        drop(first);
        assert!(
            matches!(acquire(&journal, "carol").unwrap(), Acquired::HeldBy(i) if i.operator == "bob")
        );
    }
}
