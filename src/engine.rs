//! The console without a terminal: pollers, clock and the record around `update`. The TUI adds
//! keys, signals and frames; tests drive it directly.
//!
//! An engine is built for one role. `Engine<Live>` may drive: while the model holds a driver
//! token it has an executor. `Engine<Watch>` has no executor field and no way to make one: a
//! watch console cannot act, whatever its model or keys say.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::config::Config;
use crate::crash::{CrashWatch, Crashes};
use crate::executor::{Executor, InFlight};
use crate::journal::{self, Journal};
use crate::lock::Claimant;
use crate::record::{self, RecordHandle};
use failover_core::app::{Effect, Mode, Model, Msg, update};
use failover_core::kinds::Observation;
use failover_core::secrets::Masker;
use failover_core::theme::View;
use failover_core::timeline::{DriverMark, Entry, Kind, Severity};

/// What a console may do beyond watching: the part of the engine that differs by role.
pub trait Seat: Sized + Send {
    const MODE: Mode;
    fn new() -> Self;
    /// After every update: keep what acting needs in step with the model (the executor exists
    /// exactly while the model holds a driver token).
    fn follow(&mut self, model: &Model, tools: &Tools<'_>);
    /// An effect that acts on the world or on the driver lock.
    fn act(
        &mut self,
        effect: Effect,
        model: &mut Model,
        record: &RecordHandle,
    ) -> impl Future<Output = ()> + Send;
}

/// What an executor is made with, besides the driver token.
pub struct Tools<'a> {
    record: &'a RecordHandle,
    msgs: &'a mpsc::Sender<Msg>,
    in_flight: &'a InFlight,
    crashes: &'a Crashes,
    masker: &'a Arc<Masker>,
}

/// A console that may drive.
pub struct Live {
    executor: Option<Executor>,
}

/// A `--watch` console: nothing here can act.
pub struct Watch;

impl Seat for Live {
    const MODE: Mode = Mode::Live;

    fn new() -> Self {
        Live { executor: None }
    }

    fn follow(&mut self, model: &Model, tools: &Tools<'_>) {
        // A takeover's first effects (reading back an interrupted step) already need it.
        match (model.driver.token(), &self.executor) {
            (Some(token), None) => {
                self.executor = Some(Executor::new(
                    token,
                    tools.record.clone(),
                    tools.msgs.clone(),
                    model.operator.clone(),
                    tools.in_flight.clone(),
                    tools.crashes.clone(),
                    tools.masker.clone(),
                ));
            }
            (None, Some(_)) => self.executor = None,
            _ => {}
        }
    }

    async fn act(&mut self, effect: Effect, model: &mut Model, record: &RecordHandle) {
        match effect {
            Effect::Execute(request) => match &self.executor {
                Some(executor) => executor.execute(request),
                None => model.flash("not driving: nothing executed"),
            },
            Effect::DryRun {
                run_id,
                runbook,
                actions,
            } => match &self.executor {
                Some(executor) => executor.dry_run(run_id, runbook, actions),
                None => model.flash("not driving: no dry run"),
            },
            Effect::BreakLock { reason } => record.break_lock(reason).await,
            _ => {}
        }
    }
}

impl Seat for Watch {
    const MODE: Mode = Mode::Watch;

    fn new() -> Self {
        Watch
    }

    fn follow(&mut self, _: &Model, _: &Tools<'_>) {}

    async fn act(&mut self, _effect: Effect, model: &mut Model, _record: &RecordHandle) {
        model.flash("watch mode: this console changes nothing");
    }
}

pub struct Engine<R: Seat = Live> {
    pub model: Model,
    observations: mpsc::Receiver<Observation>,
    record: RecordHandle,
    /// Everything the record tells: own entries written, other consoles', who drives.
    events: mpsc::UnboundedReceiver<Msg>,
    internal_tx: mpsc::Sender<Msg>,
    internal: mpsc::Receiver<Msg>,
    pending: VecDeque<Msg>,
    pollers: crate::pollers::Pollers,
    role: R,
    /// The steps being carried out, across executors (a step outlives an executor dropped when
    /// the lock is lost).
    in_flight: InFlight,
    /// Panics in a step's task or the journal writer, which end the console.
    crashes: Crashes,
    /// The known secrets' values, read at start: masked in what actions show and journal.
    masker: Arc<Masker>,
    /// The clock's next second. One timer kept across calls: a new one at every message (fifty
    /// a second on a busy console) re-registers with the runtime's timer and wakes its driver.
    tick: std::pin::Pin<Box<tokio::time::Sleep>>,
    /// The current tick was put off once already (see `LATE_TICK`).
    tick_put_off: bool,
}

/// A tick this late means the runtime was busy (a slow start-up, a loaded host): the pollers'
/// answers were held up with it. It waits `CATCH_UP` more for them, once, so that a source is not
/// judged stale on answers still queued behind the tick.
const LATE_TICK: Duration = Duration::from_millis(100);
const CATCH_UP: Duration = Duration::from_millis(150);

impl<R: Seat> Engine<R> {
    /// Opens the record (refusing to start without the journal), reads its history and the
    /// latest run back, starts every poller and records the start. A live console's record
    /// then asks for the driver lock or lease by itself.
    pub async fn start(config: Arc<Config>, operator: String, view: View) -> Result<Self, String> {
        let now = OffsetDateTime::now_utc();
        let mut model = Model::new(config.clone(), R::MODE, operator.clone(), view, now);
        let who = Claimant {
            operator: operator.clone(),
            console: model.console_id.clone(),
        };
        let crashes = Crashes::default();
        let opened = record::open(&config, who, R::MODE, crashes.clone()).await?;
        let history = opened.history;
        let (torn_last_line, unreadable_lines, overlong_lines) = (
            history.tail.torn_last_line,
            history.tail.unreadable_lines,
            history.tail.overlong_lines,
        );
        model.timeline.load(history.tail);
        failover_core::app::runs::replay(&mut model, &history.runs);
        // Who drives comes from the record itself from now on.
        model.holder = None;
        let (obs_tx, observations) = mpsc::channel(4096);
        // Opening the record can take a while: staleness counts from the first polls.
        model.polling_since = OffsetDateTime::now_utc();
        let pollers = crate::kinds::spawn_all(&config, obs_tx);
        let (internal_tx, internal) = mpsc::channel(1024);

        let mut startup = history.warnings;
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
        if overlong_lines > 0 {
            startup.push(Entry::new(
                now,
                Severity::Warn,
                Kind::Console,
                "journal",
                format!(
                    "{overlong_lines} journal line(s) longer than {} skipped",
                    failover_core::text::bytes(crate::journal::read::MAX_LINE)
                ),
            ));
        }
        let mode_label = if R::MODE == Mode::Watch {
            "WATCH"
        } else {
            "LIVE"
        };
        let ssh = crate::lock::ssh_client()
            .map(|a| format!(", ssh from {a}"))
            .unwrap_or_default();
        let started = format!(
            "started ({mode_label}, pid {}{ssh}, v{})",
            std::process::id(),
            env!("CARGO_PKG_VERSION")
        );
        startup
            .push(Entry::new(now, Severity::Info, Kind::Console, "console", started).by(&operator));
        let record = opened.handle;
        for entry in startup {
            record.append(entry).await?;
        }
        Ok(Engine {
            model,
            observations,
            record,
            events: opened.events,
            internal_tx,
            internal,
            pending: VecDeque::new(),
            pollers,
            role: R::new(),
            in_flight: InFlight::default(),
            crashes,
            masker: Arc::new(config.masker.clone()),
            tick: Box::pin(tokio::time::sleep_until(next_second())),
            tick_put_off: false,
        })
    }

    /// The next thing that happened: the record spoke (an entry written, another console's,
    /// who drives), a source answered, the executor reported, or the clock reached a new second.
    pub async fn recv(&mut self) -> Msg {
        loop {
            if let Some(msg) = self.pending.pop_front() {
                return msg;
            }
            tokio::select! {
                biased;
                Some(msg) = self.events.recv() => return msg,
                Some(msg) = self.internal.recv() => return msg,
                Some(observation) = self.observations.recv() => return Msg::Observed(observation),
                _ = self.tick.as_mut() => {
                    let late = Instant::now().saturating_duration_since(self.tick.deadline());
                    if late > LATE_TICK && !self.tick_put_off {
                        self.tick_put_off = true;
                        self.tick.as_mut().reset(Instant::now() + CATCH_UP);
                        continue;
                    }
                    self.tick_put_off = false;
                    self.tick.as_mut().reset(next_second());
                    return Msg::Tick(OffsetDateTime::now_utc());
                }
                (sources, panic) = self.pollers.panicked() => {
                    self.poller_panicked(sources, panic).await;
                }
            }
        }
    }

    /// A poller panicked: a CRIT edge naming its sources. It is about this console's own
    /// pollers, so this console records it whatever its role (a watch console only shows it).
    /// The console goes on; the sources go stale as their limits pass.
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
        )
        .by(&self.model.operator);
        if R::MODE == Mode::Watch {
            self.model.timeline.push(entry, false);
            self.model.ui.dirty = true;
        } else if self.record.append(entry).await.is_err() {
            self.model.journal_problem = Some("journal writer stopped".into());
        }
    }

    /// Runs `update` and carries out its effects. Returns true when the operator asked to quit.
    pub async fn handle(&mut self, msg: Msg) -> bool {
        let mut quit = false;
        let effects = update(&mut self.model, msg);
        let tools = Tools {
            record: &self.record,
            msgs: &self.internal_tx,
            in_flight: &self.in_flight,
            crashes: &self.crashes,
            masker: &self.masker,
        };
        self.role.follow(&self.model, &tools);
        for effect in effects {
            match effect {
                Effect::Record(entry) => {
                    if self.record.append(entry).await.is_err() {
                        self.model.journal_problem = Some("journal writer stopped".into());
                    }
                }
                Effect::ReadOlder {
                    older,
                    oldest,
                    dropped,
                } => self.read_older(older, oldest, dropped),
                Effect::Quit => quit = true,
                acting
                @ (Effect::Execute(_) | Effect::DryRun { .. } | Effect::BreakLock { .. }) => {
                    self.role.act(acting, &mut self.model, &self.record).await
                }
            }
        }
        quit
    }

    fn read_older(
        &self,
        older: failover_core::timeline::Older,
        oldest: Option<Entry>,
        dropped: u64,
    ) {
        let path = self.model.config.journal.clone();
        let tx = self.internal_tx.clone();
        tokio::task::spawn_blocking(move || {
            let page = match (older, oldest) {
                (failover_core::timeline::Older::Before(at), _) => {
                    journal::read_before(&path, at, OLDER_PAGE)
                }
                (_, Some(oldest)) => journal::read_before_entry(&path, &oldest, OLDER_PAGE),
                _ => Ok(journal::Tail::default()),
            };
            let page = page.map_err(|e| e.to_string());
            let _ = tx.blocking_send(Msg::Older { page, dropped });
        });
    }

    /// Runs until `done(model)` holds or the deadline passes; says which.
    pub async fn run_until(
        &mut self,
        deadline: Duration,
        mut done: impl FnMut(&Model) -> bool,
    ) -> bool {
        let end = Instant::now() + failover_core::text::wait(deadline);
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

    /// Waits for the steps in flight (their outcomes recorded by their tasks), records the stop
    /// (for a driver, also the release of its lock or lease) once everything queued is on disk
    /// (bounded), then lets go of the driver lock or lease and the recorder's.
    pub async fn shutdown(mut self, reason: &str) {
        self.finish_steps().await;
        self.pollers.abort_all();
        let mut stop = Entry::new(
            OffsetDateTime::now_utc(),
            Severity::Info,
            Kind::Console,
            "console",
            format!("stopped: {reason}"),
        )
        .by(&self.model.operator);
        // The stop of a driving console is also the release of its lock or lease.
        stop.driver = self.model.driver.token().map(|t| DriverMark::Released {
            console: self.model.console_id.clone(),
            token: t.value(),
        });
        self.record_now(stop).await;
        self.record.release().await;
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

    /// Records a panic that ends the console, as a CRIT console entry.
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
    /// then is recorded as such: the console stops anyway.
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

    /// Records `entry` and waits (bounded) until it is on disk. If the journal writer is gone
    /// (it panicked), the entry is appended to the file directly.
    async fn record_now(&mut self, entry: Entry) {
        let mut entry = entry;
        if entry.console.is_none() {
            entry.console = Some(self.model.console_id.clone());
        }
        let written = tokio::time::timeout(
            Duration::from_secs(2),
            self.record.append_synced(entry.clone()),
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
    crate::grid::next_second(Duration::ZERO)
}
