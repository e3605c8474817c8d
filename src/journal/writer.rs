//! The thread that owns the journal file. Every entry is written and fsync'd, then handed to
//! the model to be shown; a caller that must not go on before the entry is on disk (the
//! executor) waits for the acknowledgement.

use std::panic::AssertUnwindSafe;

use tokio::sync::{mpsc, oneshot};

use crate::crash::{self, Crashes};
use crate::journal::Journal;
use failover_core::app::Msg;
use failover_core::timeline::Entry;

struct Job {
    entry: Entry,
    ack: Option<oneshot::Sender<Result<(), String>>>,
}

#[derive(Clone)]
pub struct JournalHandle {
    tx: mpsc::Sender<Job>,
    console_id: String,
}

impl JournalHandle {
    /// Queues the entry; it is shown once written.
    pub async fn append(&self, entry: Entry) -> Result<(), String> {
        self.tx
            .send(Job {
                entry: self.stamp(entry),
                ack: None,
            })
            .await
            .map_err(|_| "journal writer stopped".to_string())
    }

    /// Returns once the entry is on disk, or why it is not.
    pub async fn append_synced(&self, entry: Entry) -> Result<(), String> {
        let (ack, done) = oneshot::channel();
        self.tx
            .send(Job {
                entry: self.stamp(entry),
                ack: Some(ack),
            })
            .await
            .map_err(|_| "journal writer stopped".to_string())?;
        done.await
            .map_err(|_| "journal writer stopped".to_string())?
    }

    fn stamp(&self, mut entry: Entry) -> Entry {
        if entry.console.is_none() {
            entry.console = Some(self.console_id.clone());
        }
        entry
    }
}

/// Starts the writer; `Msg::Journaled` for every entry comes out of the receiver. If the writer
/// panics, it says so to `crashes` (the console then stops; see `crate::crash`).
pub fn spawn(
    mut journal: Journal,
    console_id: String,
    crashes: Crashes,
) -> (JournalHandle, mpsc::Receiver<Msg>) {
    let (tx, mut rx) = mpsc::channel::<Job>(4096);
    let (done_tx, done_rx) = mpsc::channel::<Msg>(4096);
    let spawned = std::thread::Builder::new()
        .name("journal".into())
        .spawn(move || {
            let written = std::panic::catch_unwind(AssertUnwindSafe(|| {
                write_all(&mut journal, &mut rx, &done_tx)
            }));
            if let Err(panic) = written {
                crashes.report(format!("the journal writer: {}", crash::describe(&*panic)));
            }
        });
    if let Err(e) = spawned {
        tracing::error!("cannot start the journal writer: {e}");
    }
    (JournalHandle { tx, console_id }, done_rx)
}

/// Writes each job's entry until the handles are gone or nobody reads what was written.
fn write_all(journal: &mut Journal, rx: &mut mpsc::Receiver<Job>, done_tx: &mpsc::Sender<Msg>) {
    while let Some(Job { entry, ack }) = rx.blocking_recv() {
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
        if done_tx
            .blocking_send(Msg::Journaled { entry, error })
            .is_err()
        {
            return;
        }
    }
}
