//! The thread that owns the journal file. Every entry is written and fsync'd, then handed to
//! the model to be shown; a caller that must not go on before the entry is on disk (the
//! executor) waits for the acknowledgement. In war-room mode the same file is the local
//! mirror: other consoles' entries are written to it too, without being shown again.
//!
//! Before each write, and once a second, the writer checks that the path still names the open
//! file: a journal deleted or replaced under the console is re-created, its first entry says
//! why, and the model is told (a banner).

use std::panic::AssertUnwindSafe;

use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};

use crate::crash::{self, Crashes};
use crate::journal::Journal;
use failover_core::app::Msg;
use failover_core::timeline::{Entry, Kind, Severity};

enum Job {
    Write {
        /// Boxed: a check is one word, an entry hundreds of bytes.
        entry: Box<Entry>,
        /// This console's own entry: shown once written. (A mirrored one was shown on arrival.)
        own: bool,
        ack: Option<oneshot::Sender<Result<(), String>>>,
    },
    /// The second's look at whether the journal is still there.
    Check,
}

/// How often an idle writer checks that the journal is still there.
const CHECK_EVERY: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct JournalHandle {
    tx: mpsc::Sender<Job>,
}

impl JournalHandle {
    /// Queues the entry; it is shown once written.
    pub async fn append(&self, entry: Entry) -> Result<(), String> {
        self.send(entry, true, None).await
    }

    /// Returns once the entry is on disk, or why it is not.
    pub async fn append_synced(&self, entry: Entry) -> Result<(), String> {
        let (ack, done) = oneshot::channel();
        self.send(entry, true, Some(ack)).await?;
        done.await
            .map_err(|_| "journal writer stopped".to_string())?
    }

    /// Another console's entry, kept in the mirror.
    pub async fn mirror(&self, entry: Entry) -> Result<(), String> {
        self.send(entry, false, None).await
    }

    async fn send(
        &self,
        entry: Entry,
        own: bool,
        ack: Option<oneshot::Sender<Result<(), String>>>,
    ) -> Result<(), String> {
        self.tx
            .send(Job::Write {
                entry: Box::new(entry),
                own,
                ack,
            })
            .await
            .map_err(|_| "journal writer stopped".to_string())
    }
}

/// Starts the writer (inside the runtime: it also starts the check's clock); `Msg::Journaled`
/// for every own entry goes to `done`. `console` marks the entry it writes itself when it
/// re-creates the journal. If the writer panics, it says so to `crashes` (the console then
/// stops; see `crate::crash`).
pub fn spawn(
    mut journal: Journal,
    console: String,
    done: mpsc::UnboundedSender<Msg>,
    crashes: Crashes,
) -> JournalHandle {
    let (tx, mut rx) = mpsc::channel::<Job>(4096);
    let checks = tx.downgrade();
    tokio::spawn(async move {
        // On the clock's grid: the console's clock and the pollers wake the runtime then too.
        let mut tick = crate::grid::Rounds::new(CHECK_EVERY, Duration::ZERO);
        loop {
            tick.next().await;
            // Ends with the last handle: the writer then ends too.
            let Some(tx) = checks.upgrade() else { return };
            let _ = tx.try_send(Job::Check);
        }
    });
    let spawned = std::thread::Builder::new()
        .name("journal".into())
        .spawn(move || {
            let written = std::panic::catch_unwind(AssertUnwindSafe(|| {
                write_all(&mut journal, &console, &mut rx, &done)
            }));
            if let Err(panic) = written {
                crashes.report(format!("the journal writer: {}", crash::describe(&*panic)));
            }
        });
    if let Err(e) = spawned {
        tracing::error!("cannot start the journal writer: {e}");
    }
    JournalHandle { tx }
}

/// At most this many queued entries share one fsync.
const BATCH: usize = 512;

/// Writes each job's entry until the handles are gone or nobody reads what was written.
///
/// Entries queued together are written together and made durable by one `fsync` (a group
/// commit): an edge storm (ten thousand checks changing in one tick) costs a few fsyncs, not
/// ten thousand. Nobody is told an entry is written, by its acknowledgement or by
/// `Msg::Journaled`, before the fsync that covers it returned.
fn write_all(
    journal: &mut Journal,
    console: &str,
    rx: &mut mpsc::Receiver<Job>,
    done: &mpsc::UnboundedSender<Msg>,
) {
    let mut jobs = Vec::with_capacity(BATCH);
    let mut written = Vec::with_capacity(BATCH);
    while let Some(first) = rx.blocking_recv() {
        jobs.push(first);
        while jobs.len() < BATCH {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let lost = match journal.replaced() {
            Some(why) => recreate(journal, console, &why, done).err(),
            None => None,
        };
        for job in jobs.drain(..) {
            let Job::Write { entry, own, ack } = job else {
                continue;
            };
            let error = match &lost {
                Some(lost) => Some(lost.clone()),
                None => journal
                    .write(&entry)
                    .err()
                    .map(|e| format!("{}: {e}", journal.path().display())),
            };
            written.push((entry, own, ack, error));
        }
        if lost.is_none()
            && written.iter().any(|(.., error)| error.is_none())
            && let Err(e) = journal.sync()
        {
            let e = format!("{}: {e}", journal.path().display());
            for (.., error) in written.iter_mut().filter(|(.., error)| error.is_none()) {
                *error = Some(e.clone());
            }
        }
        for (entry, own, ack, error) in written.drain(..) {
            if let Some(e) = &error {
                tracing::error!("journal write failed: {e}");
            }
            if let Some(ack) = ack {
                let _ = ack.send(match &error {
                    None => Ok(()),
                    Some(e) => Err(e.clone()),
                });
            }
            if own
                && done
                    .send(Msg::Journaled {
                        entry: *entry,
                        error,
                    })
                    .is_err()
            {
                return;
            }
        }
    }
}

/// Opens a new journal at the path of one deleted or replaced, writes there first why, and
/// tells the model. Err: it cannot be re-created, so nothing can be written.
fn recreate(
    journal: &mut Journal,
    console: &str,
    why: &str,
    done: &mpsc::UnboundedSender<Msg>,
) -> Result<(), String> {
    let path = journal.path().display().to_string();
    tracing::warn!("journal {path} {why}: re-creating it");
    *journal = Journal::open(journal.path())
        .map_err(|e| format!("journal {path} {why} and cannot be re-created: {e}"))?;
    let mut entry = Entry::new(
        OffsetDateTime::now_utc(),
        Severity::Warn,
        Kind::Console,
        "journal",
        format!(
            "journal re-created: {path} was {why} while the console ran; \
             the entries before this one are not in this file"
        ),
    );
    entry.console = Some(console.to_string());
    let error = journal.append(&entry).err().map(|e| format!("{path}: {e}"));
    let _ = done.send(Msg::JournalRecreated(format!("{path} was {why}")));
    let _ = done.send(Msg::Journaled { entry, error });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use failover_core::timeline::Kind;

    fn edge(n: usize) -> Entry {
        Entry::new(
            OffsetDateTime::now_utc(),
            Severity::Warn,
            Kind::Edge,
            format!("health/b{n}"),
            "stale: no answer for 5.0s (limit 4.0s)",
        )
    }

    /// Ten thousand entries queued at once, as ten thousand checks going stale in one tick
    /// make: the writer never waits for the engine to take what it wrote (the engine may be
    /// waiting to queue the next entry: with both queues bounded, each waited on the other),
    /// every entry is on disk, and each is handed back once, in order.
    #[tokio::test]
    async fn an_edge_storm_is_written_whole_while_nobody_reads_what_was_written() {
        const N: usize = 10_000;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        let (done, mut written) = mpsc::unbounded_channel();
        let handle = spawn(
            Journal::open(&path).unwrap(),
            "test".into(),
            done,
            Crashes::default(),
        );
        let queued = async {
            for n in 0..N {
                handle.append(edge(n)).await.unwrap();
            }
            // The last one waits for its own fsync: every entry before it is written too.
            handle.append_synced(edge(N)).await.unwrap();
        };
        tokio::time::timeout(Duration::from_secs(60), queued)
            .await
            .expect("the writer stalled with nobody reading what it wrote");
        let lines = std::fs::read_to_string(&path).unwrap();
        assert_eq!(lines.lines().count(), N + 1);
        for n in 0..=N {
            match written.try_recv() {
                Ok(Msg::Journaled { entry, error }) => {
                    assert_eq!(entry.source, format!("health/b{n}"));
                    assert_eq!(error, None);
                }
                other => panic!("entry {n}: {:?}", other.map(|_| "another message")),
            }
        }
    }
}
