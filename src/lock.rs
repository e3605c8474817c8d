//! File mode's locks, beside the journal: the driver lock (one driver at a time; its file names
//! the holder and a generation that is the fencing token) and the recorder lock (while nobody
//! drives, its holder writes the observation edges). A watch console takes neither.

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

/// Who is asking: written into the lock file for every other console to see.
#[derive(Debug, Clone)]
pub struct Claimant {
    pub operator: String,
    pub console: String,
}

pub fn lock_path(journal: &Path) -> PathBuf {
    beside(journal, ".lock")
}

pub fn recorder_path(journal: &Path) -> PathBuf {
    beside(journal, ".recorder.lock")
}

pub fn mirror_path(journal: &Path) -> PathBuf {
    beside(journal, ".mirror.lock")
}

fn beside(journal: &Path, suffix: &str) -> PathBuf {
    let mut name = journal
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(suffix);
    journal.with_file_name(name)
}

fn open_rw(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)
}

pub fn acquire(journal: &Path, who: &Claimant) -> io::Result<Acquired> {
    let path = lock_path(journal);
    let mut file = open_rw(&path)?;
    match file.try_lock() {
        Ok(()) => {
            let previous = read_info(&mut file).map(|i| i.token).unwrap_or(0);
            let info = write_info(&mut file, who, previous + 1)?;
            let token = DriverToken::held(info.token);
            Ok(Acquired::Driving(DriverLock { file, path, info }, token))
        }
        Err(std::fs::TryLockError::WouldBlock) => Ok(Acquired::HeldBy(
            read_info(&mut file).unwrap_or_else(unknown_holder),
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}

/// Who holds the driver lock now, without taking it: the lock file's holder while its flock is
/// held, else nobody. (The shared flock taken to find out is let go at once; a console trying
/// for the lock in that instant tries again at its next turn.)
pub fn holder(journal: &Path) -> Option<LockInfo> {
    let mut file = OpenOptions::new()
        .read(true)
        .open(lock_path(journal))
        .ok()?;
    match file.try_lock_shared() {
        Ok(()) => {
            let _ = file.unlock();
            None
        }
        Err(_) => read_info(&mut file),
    }
}

/// Takes the lock from a holder that is still alive (a hung console, a lost SSH session): the
/// old lock file is moved aside and a new one locked, with the next generation. The old driver
/// notices (its lock file is no longer the one at the path, and the journal says so) and stops
/// driving; its fenced writes fail from now on.
pub fn break_lock(
    journal: &Path,
    who: &Claimant,
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
    let generation = previous.as_ref().map(|p| p.token).unwrap_or(0) + 1;
    let info = write_info(&mut file, who, generation)?;
    let token = DriverToken::held(info.token);
    Ok((DriverLock { file, path, info }, token, previous))
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

/// Held while this console records the edges (file mode).
#[derive(Debug)]
pub struct RecorderLock {
    _file: File,
}

pub fn acquire_recorder(journal: &Path) -> io::Result<Option<RecorderLock>> {
    let file = open_rw(&recorder_path(journal))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(RecorderLock { _file: file })),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}

/// Held while a war-room console keeps this journal as its mirror: one console per mirror.
pub struct MirrorLock {
    _file: File,
}

/// The mirror's lock, or None when another console on this host already mirrors into it.
pub fn acquire_mirror(journal: &Path) -> io::Result<Option<MirrorLock>> {
    let file = open_rw(&mirror_path(journal))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(MirrorLock { _file: file })),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(e),
    }
}

/// This console as a lock holder: who, where, since when, and over which SSH connection.
pub fn info_for(who: &Claimant, token: u64) -> LockInfo {
    LockInfo {
        operator: who.operator.clone(),
        host: whoami::hostname().unwrap_or_else(|_| "localhost".into()),
        pid: std::process::id(),
        since: OffsetDateTime::now_utc(),
        console: who.console.clone(),
        token,
        ssh: ssh_client(),
    }
}

/// The SSH client's address, from `SSH_CONNECTION` ("client-ip client-port server-ip
/// server-port"), when the console runs in an SSH session.
pub fn ssh_client() -> Option<String> {
    let connection = std::env::var("SSH_CONNECTION").ok()?;
    let mut fields = connection.split_whitespace();
    let ip = fields.next()?;
    ip.parse::<std::net::IpAddr>().ok()?;
    Some(ip.to_string())
}

fn write_info(file: &mut File, who: &Claimant, token: u64) -> io::Result<LockInfo> {
    let info = info_for(who, token);
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
        console: String::new(),
        token: 0,
        ssh: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(name: &str) -> Claimant {
        Claimant {
            operator: name.into(),
            console: format!("host:{name}"),
        }
    }

    #[test]
    fn second_holder_is_refused_and_told_who_drives() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("journal.jsonl");
        assert_eq!(holder(&journal), None);
        let Acquired::Driving(first, token) = acquire(&journal, &who("alice")).unwrap() else {
            panic!("first must drive")
        };
        assert_eq!(token.value(), 1);
        assert_eq!(
            holder(&journal).map(|h| h.console),
            Some("host:alice".into())
        );
        match acquire(&journal, &who("bob")).unwrap() {
            Acquired::HeldBy(info) => {
                assert_eq!((info.operator.as_str(), info.token), ("alice", 1))
            }
            Acquired::Driving(..) => panic!("two drivers"),
        }
        assert!(first.still_ours());
        let (_second, token, previous) = break_lock(&journal, &who("bob")).unwrap();
        assert_eq!(token.value(), 2, "each holder a new generation");
        assert_eq!(previous.map(|p| p.operator).as_deref(), Some("alice"));
        assert!(
            !first.still_ours(),
            "the old driver must see its lock was broken"
        );
        drop(first);
        assert!(
            matches!(acquire(&journal, &who("carol")).unwrap(), Acquired::HeldBy(i) if i.operator == "bob")
        );
    }

    #[test]
    fn the_generation_survives_a_crashed_holder_and_one_recorder_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("journal.jsonl");
        let Acquired::Driving(first, _) = acquire(&journal, &who("alice")).unwrap() else {
            panic!()
        };
        drop(first); // as a crash would: the flock goes, the file stays
        assert_eq!(
            holder(&journal),
            None,
            "a lock file nobody holds names nobody"
        );
        let Acquired::Driving(_, token) = acquire(&journal, &who("bob")).unwrap() else {
            panic!()
        };
        assert_eq!(token.value(), 2);
        let recorder = acquire_recorder(&journal).unwrap();
        assert!(recorder.is_some());
        assert!(acquire_recorder(&journal).unwrap().is_none());
        drop(recorder);
        assert!(acquire_recorder(&journal).unwrap().is_some());
    }
}
