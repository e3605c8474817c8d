//! The TUI: the engine plus terminal keys, signals and frames, and how it stops.
//!
//! Whatever stops it (SIGHUP, SIGTERM, SIGINT, `q`, the terminal gone, a panic), a step in
//! flight is waited for, up to its own time limit: its action's timeouts end it (an exec step:
//! SIGTERM to its group, then SIGKILL), never the stop. Its task journals the outcome, then the
//! engine journals `stopped: <why>` and lets go of the lock, and the exit code says why
//! (`Stop::exit_code`). After SIGHUP, or once the terminal's input has ended or a write to it
//! failed, nothing is written to the terminal again (`screen::mark_gone`). A panic in the event
//! loop, a step's task or the journal writer is journaled and stops the console the same way.

use std::io;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use crossterm::event::{Event, EventStream};
use futures::{FutureExt, StreamExt};
use ratatui::layout::Size;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::config::Config;
use crate::crash::{self, CrashWatch};
use crate::engine::{Engine, Live, Seat, Watch};
use crate::screen::{self, Screen, TtyOut};
use failover_core::app::Msg;
use failover_core::theme::View;
use failover_core::ui;

/// How the TUI runs: the flags of the default command.
#[derive(Debug, Args, Clone)]
pub struct TuiArgs {
    /// Read-only: shows everything, changes nothing (operator notes still go to the timeline)
    #[arg(long)]
    pub watch: bool,
    /// Theme: dark, light, high-contrast, mono, or a path to a theme .toml [default: from config]
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,
    /// Who is at the keyboard, recorded with every note and action [default: user@host]
    #[arg(long, value_name = "NAME")]
    pub operator: Option<String>,
    /// Only ASCII: no box drawing or symbols
    #[arg(long)]
    pub ascii: bool,
    /// Log file [default: console.log in the config, else $XDG_STATE_HOME/failover-console/console.log]
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
}

/// Frames are coalesced: at most one per this interval, drawn as soon as it is allowed.
const FRAME_GAP: Duration = Duration::from_millis(30);

/// A terminal that went away without a SIGHUP waits this long for one, to name the stop: the
/// kernel signals a hangup to the session's leader, which passes it on (a login shell does), a
/// moment after the terminal's reader and writer see it.
const HUP_GRACE: Duration = Duration::from_secs(1);

/// The signals that stop the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sig {
    Hup,
    Term,
    Int,
}

impl Sig {
    pub fn name(self) -> &'static str {
        match self {
            Sig::Hup => "SIGHUP",
            Sig::Term => "SIGTERM",
            Sig::Int => "SIGINT",
        }
    }

    pub fn number(self) -> i32 {
        match self {
            Sig::Hup => libc::SIGHUP,
            Sig::Term => libc::SIGTERM,
            Sig::Int => libc::SIGINT,
        }
    }
}

/// Why the console stopped.
#[derive(Debug, Clone, PartialEq)]
pub enum Stop {
    /// `q` (with `quit` typed during a run) or Ctrl-C.
    Quit,
    Signal(Sig),
    /// The terminal went away with no SIGHUP: its input ended, or a write to it failed.
    TerminalGone(String),
    /// The terminal failed some other way (it is still restored).
    TerminalError(String),
    /// A panic: where ("the event loop", "step 1's task", "the journal writer") and what.
    Panic(String),
}

impl Stop {
    /// As the journal's `stopped: ...` says it.
    pub fn reason(&self) -> String {
        match self {
            Stop::Quit => "operator quit".into(),
            Stop::Signal(sig) => sig.name().into(),
            Stop::TerminalGone(why) => format!("terminal gone ({why})"),
            Stop::TerminalError(e) => format!("terminal error: {e}"),
            Stop::Panic(_) => "panic".into(),
        }
    }

    /// 0 for the operator's quit; 128 + the signal's number, as a shell reports a process the
    /// signal killed; 101 for a panic, as Rust's; 1 for a terminal that failed or went away.
    pub fn exit_code(&self) -> u8 {
        match self {
            Stop::Quit => 0,
            Stop::Signal(sig) => 128 + sig.number() as u8,
            Stop::TerminalGone(_) | Stop::TerminalError(_) => 1,
            Stop::Panic(_) => 101,
        }
    }

    /// What the operator is told on stderr once the terminal is back, if anything.
    pub fn message(&self) -> Option<String> {
        match self {
            Stop::TerminalError(e) => Some(format!("terminal error: {e}")),
            Stop::Panic(what) => Some(format!(
                "stopped by a panic in {what} (journaled; the log has the details)"
            )),
            _ => None,
        }
    }
}

pub async fn run(
    config: Arc<Config>,
    args: TuiArgs,
    view: View,
    operator: String,
) -> Result<Stop, String> {
    // Everything that can fail for a reason the operator must fix happens before the terminal
    // is touched.
    let _log_guard = start_logging(&config, args.log.clone());
    crash::install_hook();
    if args.watch {
        run_as::<Watch>(config, view, operator).await
    } else {
        run_as::<Live>(config, view, operator).await
    }
}

async fn run_as<R: Seat>(
    config: Arc<Config>,
    view: View,
    operator: String,
) -> Result<Stop, String> {
    let mut engine = Engine::<R>::start(config, operator, view).await?;
    // No terminal (stdin/stdout not a TTY): an error that says so, not a panic, and the journal
    // records the stop.
    let started = start_terminal().and_then(|screen| Ok((screen, Inputs::start()?)));
    let (mut screen, mut inputs) = match started {
        Ok(started) => started,
        Err(e) => {
            screen::restore();
            let reason = format!("cannot start the terminal: {e}");
            engine.shutdown(&reason).await;
            return Err(reason);
        }
    };
    let catching = crash::catching();
    let mut crashes = engine.crashes();
    let looped = event_loop(&mut screen, &mut engine, &mut inputs, &mut crashes);
    let stop = match AssertUnwindSafe(looped).catch_unwind().await {
        Ok(stop) => stop,
        Err(panic) => Stop::Panic(format!("the event loop: {}", crash::describe(&*panic))),
    };
    tracing::info!("stopping: {}", stop.reason());
    if let Stop::Panic(what) = &stop {
        engine.journal_panic(what).await;
    }
    engine.begin_stop();
    let waited = stopping(&mut screen, &mut engine, &mut inputs, stop.clone());
    let stop = match AssertUnwindSafe(waited).catch_unwind().await {
        Ok(stop) => stop,
        Err(panic) => {
            let what = format!("the stop: {}", crash::describe(&*panic));
            engine.journal_panic(&what).await;
            Stop::Panic(what)
        }
    };
    drop(catching);
    give_back(&mut screen);
    engine.shutdown(&stop.reason()).await;
    tracing::info!("stopped: {}; exit code {}", stop.reason(), stop.exit_code());
    Ok(stop)
}

type StdoutScreen = Screen<io::BufWriter<TtyOut>>;

/// Raw mode, the alternate screen, then our own screen over a buffered stdout.
fn start_terminal() -> io::Result<StdoutScreen> {
    screen::enter()?;
    let (width, height) = crossterm::terminal::size()?;
    Screen::new(
        io::BufWriter::with_capacity(1 << 16, TtyOut::new()),
        Size::new(width, height),
    )
}

/// The terminal as it was before, if it is still there: the cursor, raw mode off, the main
/// screen back. Once only; nothing once it is gone.
fn give_back(screen: &mut StdoutScreen) {
    if !screen::gone() {
        let _ = screen.close();
    }
    screen::restore();
}

/// A write to the terminal failed: gone (a hung-up terminal), or some other error.
fn terminal_failed(e: io::Error) -> Stop {
    if screen::is_gone_error(&e) {
        screen::mark_gone();
        Stop::TerminalGone(format!("terminal write failed: {e}"))
    } else {
        Stop::TerminalError(e.to_string())
    }
}

/// Keys (from a task of their own) and the stopping signals.
struct Inputs {
    keys: mpsc::Receiver<io::Result<Event>>,
    keys_open: bool,
    _reader: AbortOnDrop,
    term: Signal,
    hup: Signal,
    int: Signal,
}

enum Input {
    Event(Event),
    /// The terminal's input ended or failed: the terminal is gone.
    Gone(String),
    Signal(Sig),
}

impl Inputs {
    fn start() -> io::Result<Inputs> {
        // Terminal events come through a task of their own: polling crossterm's event stream
        // from the main loop at every message contends for its reader's lock (the thread
        // waiting on stdin holds it), and spins, hundreds of times a second on a busy console.
        let (keys_tx, keys) = mpsc::channel(64);
        let reader = tokio::spawn(async move {
            let mut events = EventStream::new();
            while let Some(event) = events.next().await {
                let end = event.is_err();
                if keys_tx.send(event).await.is_err() || end {
                    return;
                }
            }
        });
        let reader = AbortOnDrop(reader);
        Ok(Inputs {
            keys,
            keys_open: true,
            _reader: reader,
            term: signal(SignalKind::terminate())?,
            hup: signal(SignalKind::hangup())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    async fn next(&mut self) -> Input {
        tokio::select! {
            event = self.keys.recv(), if self.keys_open => match event {
                Some(Ok(event)) => Input::Event(event),
                Some(Err(e)) => {
                    self.keys_open = false;
                    Input::Gone(format!("terminal input failed: {e}"))
                }
                None => {
                    self.keys_open = false;
                    Input::Gone("terminal input closed".into())
                }
            },
            _ = self.term.recv() => Input::Signal(Sig::Term),
            _ = self.hup.recv() => Input::Signal(Sig::Hup),
            _ = self.int.recv() => Input::Signal(Sig::Int),
        }
    }
}

/// Returns why it stopped.
async fn event_loop<R: Seat>(
    screen: &mut StdoutScreen,
    engine: &mut Engine<R>,
    inputs: &mut Inputs,
    crashes: &mut CrashWatch,
) -> Stop {
    let mut last_frame = Instant::now() - FRAME_GAP;
    // One timer for the next allowed frame, moved when it must: a new one at every message
    // would wake the runtime's driver each time.
    let frame_timer = tokio::time::sleep_until(last_frame);
    tokio::pin!(frame_timer);
    loop {
        let model = &mut engine.model;
        if model.ui.clock_dirty && !model.ui.dirty {
            if screen.has_frame() && ui::clock_alone(model, screen.area()) {
                if let Err(e) = screen.draw_header(|frame| ui::render_header(frame, model)) {
                    return terminal_failed(e);
                }
            } else {
                model.ui.dirty = true;
            }
            model.ui.clock_dirty = false;
        }
        if model.ui.dirty && last_frame.elapsed() >= FRAME_GAP {
            if let Err(e) = screen.draw(|frame| ui::render(frame, model)) {
                return terminal_failed(e);
            }
            model.ui.dirty = false;
            model.ui.clock_dirty = false;
            last_frame = Instant::now();
        }
        let next_frame = last_frame + FRAME_GAP;
        let dirty = engine.model.ui.dirty;
        if dirty && frame_timer.deadline() != next_frame {
            frame_timer.as_mut().reset(next_frame);
        }
        let msg = tokio::select! {
            input = inputs.next() => match input {
                Input::Event(Event::Key(key)) => Some(Msg::Key(key)),
                Input::Event(Event::Resize(..)) => {
                    // The size the event carries can be stale when several come at once.
                    let resized = crossterm::terminal::size()
                        .and_then(|(width, height)| screen.resize(Size::new(width, height)));
                    if let Err(e) = resized {
                        return terminal_failed(e);
                    }
                    Some(Msg::Resized)
                }
                Input::Event(_) => None,
                Input::Gone(why) => {
                    screen::mark_gone();
                    return Stop::TerminalGone(why);
                }
                Input::Signal(sig) => {
                    if sig == Sig::Hup {
                        screen::mark_gone();
                    }
                    return Stop::Signal(sig);
                }
            },
            msg = engine.recv() => Some(msg),
            _ = &mut frame_timer, if dirty => None,
            what = crashes.next() => return Stop::Panic(what),
        };
        // A key acts now: the clock moves first, so what it records (a gate passed, a split
        // brain accepted) carries the time of the key, not of the last tick.
        if let Some(Msg::Key(_)) = &msg
            && engine
                .handle(Msg::Tick(time::OffsetDateTime::now_utc()))
                .await
        {
            return Stop::Quit;
        }
        let tick = matches!(msg, Some(Msg::Tick(_)));
        if let Some(msg) = msg
            && engine.handle(msg).await
        {
            return Stop::Quit;
        }
        if tick {
            crate::test_hooks::main_loop_tick();
        }
    }
}

/// Stopping: the engine runs on (what the steps send is handled and shown, keys do nothing, a
/// second signal changes nothing) until no step is in flight or the latest any can end has
/// passed. A live terminal shows which step is waited for and for how long at most. After a
/// panic the model may be what broke: the terminal is given back at once and told in a line,
/// and messages are only drained. Returns the stop, named SIGHUP if one comes after the
/// terminal went away.
async fn stopping<R: Seat>(
    screen: &mut StdoutScreen,
    engine: &mut Engine<R>,
    inputs: &mut Inputs,
    mut stop: Stop,
) -> Stop {
    let panicked = matches!(stop, Stop::Panic(_));
    let in_flight = engine.in_flight();
    let mut hup_until = matches!(stop, Stop::TerminalGone(_)).then(|| Instant::now() + HUP_GRACE);
    if panicked && let Some(f) = in_flight.current().first() {
        give_back(screen);
        screen::say(&format!(
            "failover-console: {}; waiting for step {} (up to {} s) before stopping",
            stop.message().unwrap_or_default(),
            f.step + 1,
            seconds_until(f.until)
        ));
    }
    let mut last_frame = Instant::now() - FRAME_GAP;
    let mut shown = None;
    loop {
        let flights = in_flight.current();
        let until = flights.iter().map(|f| f.until).max();
        let Some(wait_until) = until.into_iter().chain(hup_until).max() else {
            break;
        };
        if wait_until <= Instant::now() {
            break;
        }
        let drawing = !panicked && !screen::gone();
        if drawing {
            if let (Some(f), Some(until)) = (flights.first(), until) {
                let notice = (f.step, seconds_until(until));
                if shown != Some(notice) {
                    engine.model.flash(format!(
                        "stopping: waiting for step {} (up to {} s)",
                        notice.0 + 1,
                        notice.1
                    ));
                    engine.model.ui.dirty = true;
                    shown = Some(notice);
                }
            }
            let model = &mut engine.model;
            if model.ui.dirty && last_frame.elapsed() >= FRAME_GAP {
                if let Err(e) = screen.draw(|frame| ui::render(frame, model)) {
                    tracing::warn!("while stopping: {}", terminal_failed(e).reason());
                }
                model.ui.dirty = false;
                last_frame = Instant::now();
            }
        }
        let dirty = drawing && engine.model.ui.dirty;
        tokio::select! {
            _ = in_flight.idle(), if until.is_some() => {}
            _ = tokio::time::sleep_until(wait_until) => {}
            _ = tokio::time::sleep_until(last_frame + FRAME_GAP), if dirty => {}
            input = inputs.next() => match input {
                Input::Signal(Sig::Hup) => {
                    screen::mark_gone();
                    hup_until = None;
                    if matches!(stop, Stop::TerminalGone(_)) {
                        stop = Stop::Signal(Sig::Hup);
                    } else {
                        tracing::info!("SIGHUP while stopping: the terminal is gone");
                    }
                }
                Input::Signal(sig) => {
                    tracing::info!("{} while stopping: the step in flight is still waited for", sig.name());
                }
                Input::Gone(why) => {
                    screen::mark_gone();
                    tracing::info!("while stopping: {why}");
                }
                Input::Event(Event::Resize(..)) if drawing => {
                    let resized = crossterm::terminal::size()
                        .and_then(|(width, height)| screen.resize(Size::new(width, height)));
                    if let Err(e) = resized {
                        tracing::warn!("while stopping: {}", terminal_failed(e).reason());
                    }
                    engine.model.ui.dirty = true;
                }
                Input::Event(_) => {}
            },
            msg = engine.recv() => {
                if !panicked {
                    engine.handle(msg).await;
                }
            }
        }
    }
    stop
}

/// Whole seconds from now until `until`, rounded up.
fn seconds_until(until: Instant) -> u64 {
    let left = until.saturating_duration_since(Instant::now());
    left.as_secs() + u64::from(left.subsec_nanos() > 0)
}

/// The operator's filter (default "info"), with the SDK's request signer held at info whatever
/// it asks: at debug it logs canonical requests. (The SDK redacts credentials at every level; a
/// test checks that at trace. This is the second lock on that door.)
pub fn log_filter(wanted: Option<&str>) -> tracing_subscriber::EnvFilter {
    let wanted = wanted.filter(|w| !w.trim().is_empty()).unwrap_or("info");
    tracing_subscriber::EnvFilter::try_new(format!("{wanted},aws_sigv4=info"))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,aws_sigv4=info"))
}

/// Log lines queued for the log file's writer thread.
const LOG_QUEUE_LINES: usize = 4096;

fn start_logging(
    config: &Config,
    cli_log: Option<PathBuf>,
) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let path = cli_log.or_else(|| config.log.clone()).or_else(|| {
        let state = std::env::var_os("XDG_STATE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))?;
        Some(state.join("failover-console").join("console.log"))
    })?;
    let dir = path.parent()?.to_path_buf();
    std::fs::create_dir_all(&dir).ok()?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .ok()?;
    // tracing-appender's default queue is 128,000 lines, allocated and touched up front: 4 MB,
    // a fifth of an idle console's peak RSS. A few thousand lines is seconds of the worst
    // storm; past it lines are dropped (the journal, not this log, is the record).
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(LOG_QUEUE_LINES)
        .lossy(true)
        .finish(file);
    let filter = log_filter(std::env::var("FAILOVER_CONSOLE_LOG").ok().as_deref());
    tracing_subscriber::fmt()
        .with_writer(crate::output::PrintableLog(writer))
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init()
        .ok()?;
    Some(guard)
}

/// Stops the terminal reader when the event loop ends, whichever way it ends.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exit_code_and_the_journal_say_why_it_stopped() {
        let cases = [
            (Stop::Quit, 0, "operator quit"),
            (Stop::Signal(Sig::Hup), 129, "SIGHUP"),
            (Stop::Signal(Sig::Int), 130, "SIGINT"),
            (Stop::Signal(Sig::Term), 143, "SIGTERM"),
            (Stop::Panic("the event loop: boom".into()), 101, "panic"),
            (
                Stop::TerminalGone("terminal input closed".into()),
                1,
                "terminal gone (terminal input closed)",
            ),
        ];
        for (stop, code, reason) in cases {
            assert_eq!((stop.exit_code(), stop.reason().as_str()), (code, reason));
        }
    }
}
