//! The thread that owns the journal file. Every entry is written and fsync'd, then handed to
//! the model to be shown; a caller that must not go on before the entry is on disk (the
//! executor) waits for the acknowledgement. In war-room mode the same file is the local
//! mirror: other consoles' entries are written to it too, without being shown again.

use std::panic::AssertUnwindSafe;

use tokio::sync::{mpsc, oneshot};

use crate::crash::{self, Crashes};
use crate::journal::Journal;
use failover_core::app::Msg;
use failover_core::timeline::Entry;

struct Job {
    entry: Entry,
    /// This console's own entry: shown once written. (A mirrored one was shown on arrival.)
    own: bool,
    ack: Option<oneshot::Sender<Result<(), String>>>,
}

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
            .send(Job { entry, own, ack })
            .await
            .map_err(|_| "journal writer stopped".to_string())
    }
}

/// Starts the writer; `Msg::Journaled` for every own entry goes to `done`. If the writer
/// panics, it says so to `crashes` (the console then stops; see `crate::crash`).
pub fn spawn(mut journal: Journal, done: mpsc::Sender<Msg>, crashes: Crashes) -> JournalHandle {
    let (tx, mut rx) = mpsc::channel::<Job>(4096);
    let spawned = std::thread::Builder::new()
        .name("journal".into())
        .spawn(move || {
            let written = std::panic::catch_unwind(AssertUnwindSafe(|| {
                write_all(&mut journal, &mut rx, &done)
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

/// Writes each job's entry until the handles are gone or nobody reads what was written.
fn write_all(journal: &mut Journal, rx: &mut mpsc::Receiver<Job>, done: &mpsc::Sender<Msg>) {
    while let Some(Job { entry, own, ack }) = rx.blocking_recv() {
        let error = journal
            .append(&entry)
            .err()
            .map(|e| format!("{}: {e}", journal.path().display()));
        if let Some(e) = &error {
            tracing::error!("journal write failed: {e}");
        }
        if let Some(ack) = ack {
            let _ = ack.send(match &error {
                None => Ok(()),
                Some(e) => Err(e.clone()),
            });
        }
        if own && done.blocking_send(Msg::Journaled { entry, error }).is_err() {
            return;
        }
    }
}
