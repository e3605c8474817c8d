//! The console without a terminal: pollers, clock, journal writer, driver lock, executor and
//! journal tail around `update`. The TUI adds keys, signals and frames; tests drive it directly.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::config::Config;
use crate::crash::{CrashWatch, Crashes};
use crate::executor::{Executor, InFlight};
use crate::journal::tail::Tail;
use crate::journal::writer::{self, JournalHandle};
use crate::journal::{self, Journal};
use crate::lock::{self, Acquired, DriverLock};
use failover_core::app::model::{Driver, TIMELINE_CAPACITY};
use failover_core::app::{Effect, Mode, Model, Msg, update};
use failover_core::kinds::Observation;
use failover_core::theme::View;
use failover_core::timeline::{Entry, Kind, Severity};

pub struct Engine {
    pub model: Model,
    observations: mpsc::Receiver<Observation>,
    journal: JournalHandle,
    journaled: mpsc::Receiver<Msg>,
    internal_tx: mpsc::Sender<Msg>,
    internal: mpsc::Receiver<Msg>,
    pending: VecDeque<Msg>,
    pollers: crate::pollers::Pollers,
    lock: Option<DriverLock>,
    executor: Option<Executor>,
    /// The steps being carried out, across executors.
    in_flight: InFlight,
    /// Panics in a step's task or the journal writer, which end the console.
    crashes: Crashes,
    tail: Tail,
    last_lock_try: Instant,
    /// The clock's next second. One timer kept across calls: a new one at every message (fifty
    /// a second on a busy console) re-registers with the runtime's timer and wakes its driver.
    tick: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl Engine {
    /// Opens the journal (refusing to start without it), reads its tail and its runs back,
    /// starts every poller, records the start and, for a LIVE console, asks for the driver lock.
    pub async fn start(
        config: Arc<Config>,
        mode: Mode,
        operator: String,
        view: View,
    ) -> Result<Engine, String> {
        let path = config.journal.clone();
        let file = Journal::open(&path)
            .map_err(|e| format!("cannot open journal {}: {e}", path.display()))?;
        let tail = journal::read_tail(&path, TIMELINE_CAPACITY)
            .map_err(|e| format!("cannot read journal {}: {e}", path.display()))?;
        let runs = journal::read_runs(&path)
            .map_err(|e| format!("cannot read journal {}: {e}", path.display()))?;
        let now = OffsetDateTime::now_utc();
        let mut model = Model::new(config.clone(), mode, operator.clone(), view, now);
        let (torn_last_line, unreadable_lines) = (tail.torn_last_line, tail.unreadable_lines);
        model.timeline.load(tail);
        for entry in &runs {
            failover_core::runbook::apply(&mut model.runs.current, entry, &config.runbooks);
        }
        model.runs.shown = model.runs.current.as_ref().is_some_and(|r| r.is_active());
        let crashes = Crashes::default();
        let (journal, journaled) = writer::spawn(file, model.console_id.clone(), crashes.clone());
        let (obs_tx, observations) = mpsc::channel(4096);
        let pollers = crate::kinds::spawn_all(&config, obs_tx);
        let (internal_tx, internal) = mpsc::channel(1024);

        let mut startup = Vec::new();
        if torn_last_line {
            startup.push(Entry::new(
                now,
                Severity::Warn,
                Kind::Console,
                "journal",
                "last journal line was torn (console killed while writing?): skipped",
            ));
        }
        if unreadable_lines > 0 {
            startup.push(Entry::new(
                now,
                Severity::Warn,
                Kind::Console,
                "journal",
                format!("{} unreadable journal line(s) skipped", unreadable_lines),
            ));
        }
        let mode_label = if mode == Mode::Watch { "WATCH" } else { "LIVE" };
        let started = format!(
            "started ({mode_label}, pid {}, v{})",
            std::process::id(),
            env!("CARGO_PKG_VERSION")
        );
        startup
            .push(Entry::new(now, Severity::Info, Kind::Console, "console", started).by(&operator));
        for entry in startup {
            journal.append(entry).await?;
        }
        let tail = Tail::from_end(&path);
        let mut engine = Engine {
            model,
            observations,
            journal,
            journaled,
            internal_tx,
            internal,
            pending: VecDeque::new(),
            pollers,
            lock: None,
            executor: None,
            in_flight: InFlight::default(),
            crashes,
            tail,
            last_lock_try: Instant::now(),
            tick: Box::pin(tokio::time::sleep_until(next_second())),
        };
        if mode == Mode::Live {
            engine.try_lock().await;
        }
        Ok(engine)
    }

    /// The next thing that happened: a journal write finished, a source answered, another
    /// console wrote, the executor reported, or the clock reached a new second.
    pub async fn recv(&mut self) -> Msg {
        loop {
            if let Some(msg) = self.pending.pop_front() {
                return msg;
            }
            tokio::select! {
                biased;
                Some(done) = self.journaled.recv() => return done,
                Some(msg) = self.internal.recv() => return msg,
                Some(observation) = self.observations.recv() => return Msg::Observed(observation),
                _ = self.tick.as_mut() => {
                    self.tick.as_mut().reset(next_second());
                    // Once a second, with the clock: other consoles' lines, the driver lock.
                    // (Any more often only wakes an idle console for nothing.)
                    self.housekeep().await;
                    return Msg::Tick(OffsetDateTime::now_utc());
                }
                (sources, panic) = self.pollers.panicked() => {
                    self.poller_panicked(sources, panic).await;
                }
            }
        }
    }

    /// A poller panicked: a CRIT edge naming its sources (journaled, then shown). The console
    /// goes on; the sources go stale as their limits pass.
    async fn poller_panicked(&mut self, sources: Vec<String>, panic: String) {
        let (source, named, goes) = match sources.as_slice() {
            [] => (
                "console".to_string(),
                "a source".to_string(),
                "its pane goes",
            ),
            [one] => (one.clone(), one.clone(), "its pane goes"),
            // One task polls several (health checks that share an interval).
            [first, ..] => (
                first.split('/').next().unwrap_or("console").to_string(),
                sources.join(", "),
                "they go",
            ),
        };
        let entry = Entry::new(
            OffsetDateTime::now_utc(),
            Severity::Crit,
            Kind::Edge,
            source,
            format!("poller for {named} panicked: {panic}; {goes} stale"),
        );
        if self.journal.append(entry).await.is_err() {
            self.model.journal_problem = Some("journal writer stopped".into());
        }
    }

    /// Other consoles' journal lines, and the driver lock's state.
    async fn housekeep(&mut self) {
        let own = self.model.console_id.clone();
        for entry in self.tail.read_new() {
            if entry.console.as_deref() != Some(own.as_str()) {
                self.pending.push_back(Msg::Foreign(entry));
            }
        }
        if let Some(lock) = &self.lock
            && !lock.still_ours()
        {
            self.lock = None;
            self.executor = None;
            self.pending.push_back(Msg::Driver(Driver::LockLost(
                "another console broke this console's driver lock".into(),
            )));
        }
        if matches!(self.model.driver, Driver::LockHeld(_))
            && self.last_lock_try.elapsed() > Duration::from_secs(2)
        {
            self.try_lock().await;
        }
    }

    async fn try_lock(&mut self) {
        self.last_lock_try = Instant::now();
        match lock::acquire(&self.model.config.journal, &self.model.operator) {
            Ok(Acquired::Driving(lock, token)) => {
                let note = format!(
                    "driver lock taken by {} (pid {})",
                    self.model.operator,
                    std::process::id()
                );
                self.start_driving(lock, token, Severity::Info, note).await;
            }
            Ok(Acquired::HeldBy(info)) => {
                if !matches!(&self.model.driver, Driver::LockHeld(held) if *held == info) {
                    self.pending.push_back(Msg::Driver(Driver::LockHeld(info)));
                }
            }
            Err(e) => {
                tracing::warn!("cannot take the driver lock: {e}");
                self.pending.push_back(Msg::Driver(Driver::LockLost(format!(
                    "cannot take the driver lock: {e}"
                ))));
            }
        }
    }

    /// Holds the lock from now on: journals how it was taken, then hands the token to the model.
    async fn start_driving(
        &mut self,
        lock: DriverLock,
        token: failover_core::app::driver::DriverToken,
        severity: Severity,
        note: String,
    ) {
        let entry = Entry::new(
            OffsetDateTime::now_utc(),
            severity,
            Kind::Console,
            "lock",
            note,
        )
        .by(&self.model.operator);
        let _ = self.journal.append(entry).await;
        self.lock = Some(lock);
        self.pending.push_back(Msg::Driver(Driver::Driving(token)));
    }

    /// Runs `update` and carries out its effects. Returns true when the operator asked to quit.
    pub async fn handle(&mut self, msg: Msg) -> bool {
        let mut quit = false;
        let effects = update(&mut self.model, msg);
        // The executor exists exactly while the model holds a driver token; a takeover's first
        // effects (reading back an interrupted step) already need it.
        match (self.model.driver.token(), &self.executor) {
            (Some(token), None) => {
                self.executor = Some(Executor::new(
                    token,
                    self.journal.clone(),
                    self.internal_tx.clone(),
                    self.model.operator.clone(),
                    self.in_flight.clone(),
                    self.crashes.clone(),
                ));
            }
            (None, Some(_)) => self.executor = None,
            _ => {}
        }
        for effect in effects {
            match effect {
                Effect::Record(entry) => {
                    if self.journal.append(entry).await.is_err() {
                        self.model.journal_problem = Some("journal writer stopped".into());
                    }
                }
                Effect::Execute(request) => match &self.executor {
                    Some(executor) => executor.execute(request),
                    None => self.model.flash("not driving: nothing executed"),
                },
                Effect::DryRun {
                    run_id,
                    runbook,
                    actions,
                } => match &self.executor {
                    Some(executor) => executor.dry_run(run_id, runbook, actions),
                    None => self.model.flash("not driving: no dry run"),
                },
                Effect::BreakLock { reason } => self.break_lock(reason).await,
                Effect::ReadOlder {
                    older,
                    oldest,
                    dropped,
                } => {
                    let path = self.model.config.journal.clone();
                    let tx = self.internal_tx.clone();
                    tokio::task::spawn_blocking(move || {
                        let page = match (older, oldest) {
                            (failover_core::timeline::Older::Before(at), _) => {
                                journal::read_before(&path, at, OLDER_PAGE)
                            }
                            (_, Some(oldest)) => {
                                journal::read_before_entry(&path, &oldest, OLDER_PAGE)
                            }
                            _ => Ok(journal::Tail::default()),
                        };
                        let page = page.map_err(|e| e.to_string());
                        let _ = tx.blocking_send(Msg::Older { page, dropped });
                    });
                }
                Effect::Quit => quit = true,
            }
        }
        quit
    }

    async fn break_lock(&mut self, reason: String) {
        match lock::break_lock(&self.model.config.journal, &self.model.operator) {
            Ok((lock, token, previous)) => {
                let was = previous
                    .map(|p| p.describe())
                    .unwrap_or_else(|| "unknown".into());
                let note = format!(
                    "driver lock BROKEN by {} (held by {was}): {reason}",
                    self.model.operator
                );
                self.start_driving(lock, token, Severity::Warn, note).await;
            }
            Err(e) => self.model.flash(format!("cannot break the lock: {e}")),
        }
    }

    /// Runs until `done(model)` holds or the deadline passes; says which.
    pub async fn run_until(
        &mut self,
        deadline: Duration,
        mut done: impl FnMut(&Model) -> bool,
    ) -> bool {
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

    /// Waits for the steps in flight (their outcomes journaled by their tasks), records the
    /// stop once everything queued is on disk (bounded), then lets go of the lock.
    pub async fn shutdown(mut self, reason: &str) {
        self.finish_steps().await;
        self.pollers.abort_all();
        let stop = Entry::new(
            OffsetDateTime::now_utc(),
            Severity::Info,
            Kind::Console,
            "console",
            format!("stopped: {reason}"),
        )
        .by(&self.model.operator);
        self.record_now(stop).await;
        self.release();
    }

    /// Gives up what this console holds for others: the driver lock. The hook for the war
    /// room's lease: its revocation goes here, after `stopped: ...` is on disk.
    pub fn release(&mut self) {
        self.executor = None;
        self.lock = None;
    }

    /// A panic that ends the console (in a step's task or the journal writer), once reported.
    pub fn crashes(&self) -> CrashWatch {
        self.crashes.watch()
    }

    /// The steps being carried out.
    pub fn in_flight(&self) -> InFlight {
        self.in_flight.clone()
    }

    /// Stopping: nothing new is executed from now on; what is in flight goes on.
    pub fn begin_stop(&mut self) {
        self.in_flight.close();
    }

    /// Journals a panic that ends the console, as a CRIT console entry.
    pub async fn journal_panic(&mut self, what: &str) {
        let entry = Entry::new(
            OffsetDateTime::now_utc(),
            Severity::Crit,
            Kind::Console,
            "console",
            format!("panic in {what}"),
        )
        .by(&self.model.operator);
        self.record_now(entry).await;
    }

    /// Runs the engine (messages handled, nothing new executed) until no step is in flight or
    /// the latest any of them can end (by its own timeouts) has passed. A step still running
    /// then is journaled as such: the console stops anyway.
    pub async fn finish_steps(&mut self) {
        self.begin_stop();
        let in_flight = self.in_flight.clone();
        loop {
            let flights = in_flight.current();
            let Some(until) = flights.iter().map(|f| f.until).max() else {
                return;
            };
            tokio::select! {
                _ = in_flight.idle() => return,
                _ = tokio::time::sleep_until(until) => {
                    for f in in_flight.current() {
                        let entry = Entry::new(
                            OffsetDateTime::now_utc(),
                            Severity::Crit,
                            Kind::Console,
                            "console",
                            format!(
                                "step {} {:?} still running past its own time limit: stopping anyway, its outcome is unknown",
                                f.step + 1,
                                f.title
                            ),
                        );
                        self.record_now(entry).await;
                    }
                    return;
                }
                msg = self.recv() => {
                    self.handle(msg).await;
                }
            }
        }
    }

    /// Journals `entry` and waits (bounded) until it is on disk. If the journal writer is gone
    /// (it panicked), the entry is appended to the file directly.
    async fn record_now(&mut self, entry: Entry) {
        let mut entry = entry;
        if entry.console.is_none() {
            entry.console = Some(self.model.console_id.clone());
        }
        let written = tokio::time::timeout(
            Duration::from_secs(2),
            self.journal.append_synced(entry.clone()),
        )
        .await;
        if let Ok(Err(e)) = written {
            tracing::warn!("journal writer: {e}; appending directly");
            let path = self.model.config.journal.clone();
            if let Err(e) = Journal::open(&path).and_then(|mut j| j.append(&entry)) {
                tracing::error!("cannot journal {:?}: {e}", entry.message);
            }
        }
    }
}

/// Entries read from the journal per page of older history.
const OLDER_PAGE: usize = 5000;

fn next_second() -> Instant {
    crate::kinds::next_second(Duration::ZERO)
}
