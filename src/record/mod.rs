//! The record: where this console's entries go, where other consoles' entries come from, who
//! drives and who records the edges. File mode (the default): the journal file, tailed, with
//! flocks beside it, for consoles on one host. War-room mode (`[war-room]`): etcd, for consoles
//! on several bastions, mirrored to each console's journal file.
//!
//! Everything the record tells the console arrives as `Msg`s on one channel, in the record's
//! order: this console's entries once written (`Journaled`), other consoles' (`Foreign`), who
//! drives (`Holder`, `Driver`), whether this console records (`Recorder`), and whether the
//! shared record answers (`Shared`).

mod etcd;
mod file;

use std::sync::Arc;

use tokio::sync::mpsc;

use crate::config::Config;
use crate::journal::writer::{self, JournalHandle};
use crate::journal::{self, Journal};
use crate::lock::Claimant;
use failover_core::app::model::TIMELINE_CAPACITY;
use failover_core::app::{Mode, Msg};
use failover_core::timeline::{Entry, Tail};

pub use etcd::read_all as read_shared;

pub struct Record {
    pub handle: RecordHandle,
    pub events: mpsc::UnboundedReceiver<Msg>,
    pub history: History,
}

/// What the record held at start-up.
#[derive(Default)]
pub struct History {
    /// The newest entries, for the timeline.
    pub tail: Tail,
    /// The latest run's events and the driver marks that say whose they were, oldest first.
    pub runs: Vec<Entry>,
    /// What the console should say about the record itself (torn lines, an unreachable etcd).
    pub warnings: Vec<Entry>,
}

/// Writes to the record. Cloned into the executor; only this console's entries go through it.
#[derive(Clone)]
pub struct RecordHandle {
    console: String,
    journal: JournalHandle,
    backend: Backend,
    /// War-room mode: this console's hold on its journal as its mirror.
    _mirror: Option<Arc<crate::lock::MirrorLock>>,
}

#[derive(Clone)]
enum Backend {
    File(file::Handle),
    Etcd(etcd::Handle),
}

/// Opens the record: reads its history, starts following it and, for a live console, asks
/// for the driver lock or lease and the recorder's.
pub async fn open(
    config: &Arc<Config>,
    who: Claimant,
    mode: Mode,
    crashes: crate::crash::Crashes,
) -> Result<Record, String> {
    let path = &config.journal;
    // Two war-room consoles mirroring into one file would each write the other's entries
    // again: each needs a journal of its own.
    let mirror = match &config.war_room {
        None => None,
        Some(_) => match crate::lock::acquire_mirror(path) {
            Ok(Some(lock)) => Some(Arc::new(lock)),
            Ok(None) => {
                return Err(format!(
                    "journal {} is already the war-room mirror of another console on this host: \
                     give each console its own journal (`journal = ...` in [console])",
                    path.display()
                ));
            }
            Err(e) => return Err(format!("cannot lock journal {}: {e}", path.display())),
        },
    };
    let file =
        Journal::open(path).map_err(|e| format!("cannot open journal {}: {e}", path.display()))?;
    // Unbounded: the journal writer hands every written entry back here while the engine may be
    // waiting to queue the next one for it; with a bound on both sides an edge storm (ten
    // thousand checks going stale in one tick) filled both queues and each waited on the
    // other. What comes through is bounded by what the engine queued and the record read.
    let (events_tx, events) = mpsc::unbounded_channel();
    let journal = writer::spawn(file, who.console.clone(), events_tx.clone(), crashes);
    let live = mode == Mode::Live;
    let (backend, history) = match &config.war_room {
        None => {
            let history = file_history(path)?;
            let handle = file::spawn(path.clone(), who.clone(), live, journal.clone(), events_tx);
            (Backend::File(handle), history)
        }
        Some(war_room) => {
            let mirror = file_history(path)?;
            let (handle, history) = etcd::open(
                war_room.clone(),
                who.clone(),
                live,
                journal.clone(),
                events_tx,
                mirror,
            )
            .await;
            (Backend::Etcd(handle), history)
        }
    };
    Ok(Record {
        handle: RecordHandle {
            console: who.console,
            journal,
            backend,
            _mirror: mirror,
        },
        events,
        history,
    })
}

fn file_history(path: &std::path::Path) -> Result<History, String> {
    let read_error = |e: std::io::Error| format!("cannot read journal {}: {e}", path.display());
    let tail = journal::read_tail(path, TIMELINE_CAPACITY).map_err(read_error)?;
    let runs = journal::read_runs(path).map_err(read_error)?;
    Ok(History {
        tail,
        runs,
        warnings: Vec::new(),
    })
}

impl RecordHandle {
    pub fn console(&self) -> &str {
        &self.console
    }

    fn stamp(&self, mut entry: Entry) -> Entry {
        if entry.console.is_none() {
            entry.console = Some(self.console.clone());
        }
        entry
    }

    /// Queues the entry; it is shown once in the journal (the mirror, in war-room mode) and
    /// reaches the shared record as soon as it answers.
    pub async fn append(&self, entry: Entry) -> Result<(), String> {
        let entry = self.stamp(entry);
        if let Backend::Etcd(etcd) = &self.backend {
            etcd.put(entry.clone()).await?;
        }
        self.journal.append(entry).await
    }

    /// Returns once the entry is on disk here (and queued for the shared record).
    pub async fn append_synced(&self, entry: Entry) -> Result<(), String> {
        let entry = self.stamp(entry);
        if let Backend::Etcd(etcd) = &self.backend {
            etcd.put(entry.clone()).await?;
        }
        self.journal.append_synced(entry).await
    }

    /// A mutating step's start: written only while this console still holds the driver lock or
    /// lease with `token` (in war-room mode, in one etcd transaction with that check), and on
    /// disk here, before it returns. An error means the step must not run.
    pub async fn append_fenced(&self, entry: Entry, token: u64) -> Result<(), String> {
        let entry = self.stamp(entry);
        match &self.backend {
            Backend::File(file) => file.check_fence(token)?,
            Backend::Etcd(etcd) => etcd.put_fenced(entry.clone(), token).await?,
        }
        self.journal.append_synced(entry).await
    }

    /// Takes the driver lock or lease from its holder; the outcome comes back as `Msg`s.
    pub async fn break_lock(&self, reason: String) {
        match &self.backend {
            Backend::File(file) => file.break_lock(reason).await,
            Backend::Etcd(etcd) => etcd.break_lock(reason).await,
        }
    }

    /// At the end, after the stop entry: sends what is still queued to the shared record, then
    /// lets go of every lock and lease. Bounded: a console that cannot reach etcd stops anyway
    /// (its lease then expires).
    pub async fn release(&self) {
        match &self.backend {
            Backend::File(file) => file.release().await,
            Backend::Etcd(etcd) => etcd.release().await,
        }
    }
}
