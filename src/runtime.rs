//! The TUI: the engine plus terminal keys, signals and frames.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use crossterm::event::{Event, EventStream};
use futures::StreamExt;
use ratatui::layout::Size;
use tokio::signal::unix::{SignalKind, signal};
use tokio::time::Instant;

use crate::config::Config;
use crate::engine::{Engine, Live, Seat, Watch};
use crate::screen::Screen;
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

pub async fn run(
    config: Arc<Config>,
    args: TuiArgs,
    view: View,
    operator: String,
) -> Result<(), String> {
    // Everything that can fail for a reason the operator must fix happens before the terminal
    // is touched.
    let _log_guard = start_logging(&config, args.log.clone());
    if args.watch {
        run_as::<Watch>(config, view, operator).await
    } else {
        run_as::<Live>(config, view, operator).await
    }
}

async fn run_as<R: Seat>(config: Arc<Config>, view: View, operator: String) -> Result<(), String> {
    let mut engine = Engine::<R>::start(config, operator, view).await?;
    // No terminal (stdin/stdout not a TTY): an error that says so, not a panic, and the journal
    // records the stop.
    let mut screen = match start_terminal() {
        Ok(screen) => screen,
        Err(e) => {
            // The alternate screen was not entered; only raw mode may need undoing.
            let _ = crossterm::terminal::disable_raw_mode();
            let reason = format!("cannot start the terminal: {e}");
            engine.shutdown(&reason).await;
            return Err(reason);
        }
    };
    let result = event_loop(&mut screen, &mut engine).await;
    let _ = screen.close();
    ratatui::restore();
    let reason = match &result {
        Ok(reason) => reason.clone(),
        Err(e) => format!("terminal error: {e}"),
    };
    engine.shutdown(&reason).await;
    result.map(|_| ()).map_err(|e| e.to_string())
}

type StdoutScreen = Screen<io::BufWriter<io::Stdout>>;

/// Raw mode, the alternate screen and a panic hook that undoes them (ratatui's), then our own
/// screen over a buffered stdout.
fn start_terminal() -> io::Result<StdoutScreen> {
    drop(ratatui::try_init()?);
    let (width, height) = crossterm::terminal::size()?;
    Screen::new(
        io::BufWriter::with_capacity(1 << 16, io::stdout()),
        Size::new(width, height),
    )
}

/// Returns why it stopped.
async fn event_loop<R: Seat>(
    screen: &mut StdoutScreen,
    engine: &mut Engine<R>,
) -> io::Result<String> {
    // Terminal events come through a task of their own: polling crossterm's event stream from
    // the main loop at every message contends for its reader's lock (the thread waiting on
    // stdin holds it), and spins, hundreds of times a second on a busy console.
    let (keys_tx, mut keys) = tokio::sync::mpsc::channel(64);
    let reader = tokio::spawn(async move {
        let mut events = EventStream::new();
        while let Some(event) = events.next().await {
            let end = event.is_err();
            if keys_tx.send(event).await.is_err() || end {
                return;
            }
        }
    });
    let _abort_reader = AbortOnDrop(reader);
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut last_frame = Instant::now() - FRAME_GAP;
    // One timer for the next allowed frame, moved when it must: a new one at every message
    // would wake the runtime's driver each time.
    let frame_timer = tokio::time::sleep_until(last_frame);
    tokio::pin!(frame_timer);
    loop {
        let model = &mut engine.model;
        if model.ui.clock_dirty && !model.ui.dirty {
            if screen.has_frame() && ui::clock_alone(model, screen.area()) {
                screen.draw_header(|frame| ui::render_header(frame, model))?;
            } else {
                model.ui.dirty = true;
            }
            model.ui.clock_dirty = false;
        }
        if model.ui.dirty && last_frame.elapsed() >= FRAME_GAP {
            screen.draw(|frame| ui::render(frame, model))?;
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
            event = keys.recv() => match event {
                Some(Ok(Event::Key(key))) => Some(Msg::Key(key)),
                Some(Ok(Event::Resize(..))) => {
                    // The size the event carries can be stale when several come at once.
                    let (width, height) = crossterm::terminal::size()?;
                    screen.resize(Size::new(width, height))?;
                    Some(Msg::Resized)
                }
                Some(Ok(_)) => None,
                Some(Err(e)) => { tracing::warn!("terminal input error: {e}"); None }
                None => return Ok("terminal input closed".into()),
            },
            msg = engine.recv() => Some(msg),
            _ = &mut frame_timer, if dirty => None,
            _ = term.recv() => return Ok("SIGTERM".into()),
            _ = hup.recv() => return Ok("SIGHUP (terminal closed)".into()),
            _ = int.recv() => return Ok("SIGINT".into()),
        };
        // A key acts now: the clock moves first, so what it records (a gate passed, a split
        // brain accepted) carries the time of the key, not of the last tick.
        if let Some(Msg::Key(_)) = &msg
            && engine
                .handle(Msg::Tick(time::OffsetDateTime::now_utc()))
                .await
        {
            return Ok("operator quit".into());
        }
        if let Some(msg) = msg
            && engine.handle(msg).await
        {
            return Ok("operator quit".into());
        }
    }
}

/// The operator's filter (default "info"), with the SDK's request signer held at info whatever
/// it asks: at debug it logs canonical requests. (The SDK redacts credentials at every level; a
/// test checks that at trace. This is the second lock on that door.)
pub fn log_filter(wanted: Option<&str>) -> tracing_subscriber::EnvFilter {
    let wanted = wanted.filter(|w| !w.trim().is_empty()).unwrap_or("info");
    tracing_subscriber::EnvFilter::try_new(format!("{wanted},aws_sigv4=info"))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,aws_sigv4=info"))
}

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
    let (writer, guard) = tracing_appender::non_blocking(file);
    let filter = log_filter(std::env::var("FAILOVER_CONSOLE_LOG").ok().as_deref());
    tracing_subscriber::fmt()
        .with_writer(writer)
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
