//! The one place with side effects for the TUI: terminal, clock, pollers and journal writer,
//! feeding `update` and drawing `render`.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{Event, EventStream};
use futures::StreamExt;
use time::OffsetDateTime;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::app::model::TIMELINE_CAPACITY;
use crate::app::{Effect, Mode, Model, Msg, update};
use crate::cli::TuiArgs;
use crate::config::Config;
use crate::timeline::journal::{self, Journal};
use crate::timeline::{Entry, Kind, Severity};
use crate::ui::{self, View};

/// Frames are coalesced: at most one per this interval, drawn as soon as it is allowed.
const FRAME_GAP: Duration = Duration::from_millis(30);

pub async fn run(config: Arc<Config>, args: TuiArgs, view: View, operator: String) -> Result<(), String> {
    // Everything that can fail for a reason the operator must fix happens before the terminal
    // is touched.
    let journal = Journal::open(&config.journal).map_err(|e| format!("cannot open journal {}: {e}", config.journal.display()))?;
    let tail = journal::read_tail(&config.journal, TIMELINE_CAPACITY)
        .map_err(|e| format!("cannot read journal {}: {e}", config.journal.display()))?;
    let _log_guard = start_logging(&config, args.log.clone());
    let mode = if args.watch { Mode::Watch } else { Mode::Live };

    let now = OffsetDateTime::now_utc();
    let mut model = Model::new(config.clone(), mode, operator.clone(), view, now);
    for entry in tail.entries {
        model.timeline.push(entry, true);
    }

    let (journal_tx, journal_done) = spawn_journal_writer(journal);
    let (obs_tx, mut obs_rx) = mpsc::channel(4096);
    let mut pollers = crate::sources::spawn_all(&config, obs_tx);

    let mut startup = Vec::new();
    if tail.torn_last_line {
        startup.push(Entry::new(now, Severity::Warn, Kind::Console, "journal", "last journal line was torn (console killed while writing?): skipped"));
    }
    if tail.unreadable_lines > 0 {
        startup.push(Entry::new(now, Severity::Warn, Kind::Console, "journal", format!("{} unreadable journal line(s) skipped", tail.unreadable_lines)));
    }
    let mode_label = if mode == Mode::Watch { "WATCH" } else { "LIVE" };
    startup.push(
        Entry::new(now, Severity::Info, Kind::Console, "console", format!("started ({mode_label}, pid {}, v{})", std::process::id(), env!("CARGO_PKG_VERSION")))
            .by(&operator),
    );
    for entry in startup {
        journal_tx.send(entry).await.map_err(|_| "journal writer stopped".to_string())?;
    }

    let mut terminal = ratatui::init();
    let result = event_loop(&mut terminal, &mut model, &mut obs_rx, &journal_tx, journal_done).await;
    pollers.abort_all();
    ratatui::restore();
    result.map_err(|e| e.to_string())
}

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    model: &mut Model,
    obs_rx: &mut mpsc::Receiver<crate::observe::Observation>,
    journal_tx: &mpsc::Sender<Entry>,
    mut journal_done: mpsc::Receiver<Msg>,
) -> io::Result<()> {
    let mut keys = EventStream::new();
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut last_frame = Instant::now() - FRAME_GAP;
    let mut quitting: Option<String> = None;
    loop {
        if model.ui.dirty && last_frame.elapsed() >= FRAME_GAP {
            terminal.draw(|frame| ui::render(frame, model))?;
            model.ui.dirty = false;
            last_frame = Instant::now();
        }
        let next_frame = last_frame + FRAME_GAP;
        let next_tick = next_second();
        let msg = tokio::select! {
            biased;
            Some(done) = journal_done.recv() => Some(done),
            event = keys.next() => match event {
                Some(Ok(Event::Key(key))) => Some(Msg::Key(key)),
                Some(Ok(Event::Resize(..))) => Some(Msg::Resized),
                Some(Ok(_)) => None,
                Some(Err(e)) => { tracing::warn!("terminal input error: {e}"); None }
                None => { quitting = Some("terminal input closed".into()); None }
            },
            Some(observation) = obs_rx.recv() => Some(Msg::Observed(observation)),
            _ = tokio::time::sleep_until(next_tick) => Some(Msg::Tick(OffsetDateTime::now_utc())),
            _ = tokio::time::sleep_until(next_frame), if model.ui.dirty => None,
            _ = term.recv() => { quitting = Some("SIGTERM".into()); None }
            _ = hup.recv() => { quitting = Some("SIGHUP (terminal closed)".into()); None }
            _ = int.recv() => { quitting = Some("SIGINT".into()); None }
        };
        if let Some(msg) = msg {
            for effect in update(model, msg) {
                match effect {
                    Effect::Record(entry) => {
                        if journal_tx.send(entry).await.is_err() {
                            model.journal_problem = Some("journal writer stopped".into());
                        }
                    }
                    Effect::Quit => quitting = Some("operator quit".into()),
                }
            }
        }
        if let Some(reason) = quitting.take() {
            let stop = Entry::new(OffsetDateTime::now_utc(), Severity::Info, Kind::Console, "console", format!("stopped: {reason}")).by(&model.operator);
            let _ = journal_tx.send(stop).await;
            // Wait (bounded) until everything queued is on disk.
            let deadline = Instant::now() + Duration::from_secs(2);
            while let Ok(Some(msg)) = tokio::time::timeout_at(deadline, journal_done.recv()).await {
                if let Msg::Journaled { entry, .. } = &msg
                    && entry.kind == Kind::Console
                    && entry.message.starts_with("stopped")
                {
                    break;
                }
            }
            return Ok(());
        }
    }
}

fn next_second() -> Instant {
    let now = OffsetDateTime::now_utc();
    let into_second = Duration::from_nanos(now.nanosecond() as u64);
    Instant::now() + (Duration::from_secs(1).saturating_sub(into_second)) + Duration::from_millis(2)
}

/// A thread owns the journal file: every entry is written and fsync'd, then handed back to be
/// shown.
fn spawn_journal_writer(mut journal: Journal) -> (mpsc::Sender<Entry>, mpsc::Receiver<Msg>) {
    let (tx, mut rx) = mpsc::channel::<Entry>(4096);
    let (done_tx, done_rx) = mpsc::channel::<Msg>(4096);
    std::thread::Builder::new()
        .name("journal".into())
        .spawn(move || {
            while let Some(entry) = rx.blocking_recv() {
                let error = journal.append(&entry).err().map(|e| format!("{}: {e}", journal.path().display()));
                if let Some(e) = &error {
                    tracing::error!("journal write failed: {e}");
                }
                if done_tx.blocking_send(Msg::Journaled { entry, error }).is_err() {
                    return;
                }
            }
        })
        .ok();
    (tx, done_rx)
}

fn start_logging(config: &Config, cli_log: Option<PathBuf>) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let path = cli_log.or_else(|| config.log.clone()).or_else(|| {
        let state = std::env::var_os("XDG_STATE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))?;
        Some(state.join("failover-console").join("console.log"))
    })?;
    let dir = path.parent()?.to_path_buf();
    std::fs::create_dir_all(&dir).ok()?;
    let file = std::fs::OpenOptions::new().create(true).append(true).open(&path).ok()?;
    let (writer, guard) = tracing_appender::non_blocking(file);
    let filter = tracing_subscriber::EnvFilter::try_from_env("FAILOVER_CONSOLE_LOG").unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt().with_writer(writer).with_ansi(false).with_env_filter(filter).try_init().ok()?;
    Some(guard)
}
