//! The console without a terminal: pollers, clock and journal writer feeding `update`. The TUI
//! adds keys, signals and frames around it; tests drive it directly.

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::app::model::TIMELINE_CAPACITY;
use crate::app::{Effect, Mode, Model, Msg, update};
use crate::config::Config;
use crate::observe::Observation;
use crate::timeline::journal::{self, Journal};
use crate::timeline::{Entry, Kind, Severity};
use crate::ui::View;

pub struct Engine {
    pub model: Model,
    observations: mpsc::Receiver<Observation>,
    journal_tx: mpsc::Sender<Entry>,
    journaled: mpsc::Receiver<Msg>,
    pollers: JoinSet<()>,
}

impl Engine {
    /// Opens the journal (refusing to start without it), reads its tail back into the timeline,
    /// starts every poller and records the start.
    pub async fn start(config: Arc<Config>, mode: Mode, operator: String, view: View) -> Result<Engine, String> {
        let journal = Journal::open(&config.journal).map_err(|e| format!("cannot open journal {}: {e}", config.journal.display()))?;
        let tail = journal::read_tail(&config.journal, TIMELINE_CAPACITY)
            .map_err(|e| format!("cannot read journal {}: {e}", config.journal.display()))?;
        let now = OffsetDateTime::now_utc();
        let mut model = Model::new(config.clone(), mode, operator.clone(), view, now);
        for entry in tail.entries {
            model.timeline.push(entry, true);
        }
        let (journal_tx, journaled) = spawn_journal_writer(journal);
        let (obs_tx, observations) = mpsc::channel(4096);
        let pollers = crate::sources::spawn_all(&config, obs_tx);

        let mut startup = Vec::new();
        if tail.torn_last_line {
            startup.push(Entry::new(now, Severity::Warn, Kind::Console, "journal", "last journal line was torn (console killed while writing?): skipped"));
        }
        if tail.unreadable_lines > 0 {
            startup.push(Entry::new(now, Severity::Warn, Kind::Console, "journal", format!("{} unreadable journal line(s) skipped", tail.unreadable_lines)));
        }
        let mode_label = if mode == Mode::Watch { "WATCH" } else { "LIVE" };
        let started = format!("started ({mode_label}, pid {}, v{})", std::process::id(), env!("CARGO_PKG_VERSION"));
        startup.push(Entry::new(now, Severity::Info, Kind::Console, "console", started).by(&operator));
        for entry in startup {
            journal_tx.send(entry).await.map_err(|_| "journal writer stopped".to_string())?;
        }
        Ok(Engine { model, observations, journal_tx, journaled, pollers })
    }

    /// The next thing that happened: a journal write finished, a source answered, or the clock
    /// reached a new second.
    pub async fn recv(&mut self) -> Msg {
        let next_tick = next_second();
        tokio::select! {
            biased;
            Some(done) = self.journaled.recv() => done,
            Some(observation) = self.observations.recv() => Msg::Observed(observation),
            _ = tokio::time::sleep_until(next_tick) => Msg::Tick(OffsetDateTime::now_utc()),
        }
    }

    /// Runs `update` and carries out its effects. Returns true when the operator asked to quit.
    pub async fn handle(&mut self, msg: Msg) -> bool {
        let mut quit = false;
        for effect in update(&mut self.model, msg) {
            match effect {
                Effect::Record(entry) => {
                    if self.journal_tx.send(entry).await.is_err() {
                        self.model.journal_problem = Some("journal writer stopped".into());
                    }
                }
                Effect::Quit => quit = true,
            }
        }
        quit
    }

    /// Runs until `done(model)` holds or the deadline passes; says which.
    pub async fn run_until(&mut self, deadline: Duration, mut done: impl FnMut(&Model) -> bool) -> bool {
        let end = Instant::now() + deadline;
        loop {
            if done(&self.model) {
                return true;
            }
            match tokio::time::timeout_at(end, self.recv()).await {
                Ok(msg) => {
                    self.handle(msg).await;
                }
                Err(_) => return done(&self.model),
            }
        }
    }

    /// Records the stop and waits (bounded) until everything queued is on disk.
    pub async fn shutdown(mut self, reason: &str) {
        self.pollers.abort_all();
        let stop = Entry::new(OffsetDateTime::now_utc(), Severity::Info, Kind::Console, "console", format!("stopped: {reason}")).by(&self.model.operator);
        let stop_message = stop.message.clone();
        let _ = self.journal_tx.send(stop).await;
        let deadline = Instant::now() + Duration::from_secs(2);
        while let Ok(Some(msg)) = tokio::time::timeout_at(deadline, self.journaled.recv()).await {
            if let Msg::Journaled { entry, .. } = &msg
                && entry.kind == Kind::Console
                && entry.message == stop_message
            {
                break;
            }
        }
    }
}

fn next_second() -> Instant {
    let now = OffsetDateTime::now_utc();
    let into_second = Duration::from_nanos(now.nanosecond() as u64);
    Instant::now() + Duration::from_secs(1).saturating_sub(into_second) + Duration::from_millis(2)
}

/// A thread owns the journal file: every entry is written and fsync'd, then handed back to be
/// shown.
fn spawn_journal_writer(mut journal: Journal) -> (mpsc::Sender<Entry>, mpsc::Receiver<Msg>) {
    let (tx, mut rx) = mpsc::channel::<Entry>(4096);
    let (done_tx, done_rx) = mpsc::channel::<Msg>(4096);
    let spawned = std::thread::Builder::new().name("journal".into()).spawn(move || {
        while let Some(entry) = rx.blocking_recv() {
            let error = journal.append(&entry).err().map(|e| format!("{}: {e}", journal.path().display()));
            if let Some(e) = &error {
                tracing::error!("journal write failed: {e}");
            }
            if done_tx.blocking_send(Msg::Journaled { entry, error }).is_err() {
                return;
            }
        }
    });
    if let Err(e) = spawned {
        tracing::error!("cannot start the journal writer: {e}");
    }
    (tx, done_rx)
}
