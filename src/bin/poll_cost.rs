//! Cost per poll (issue 18): the console's engine (a `--watch` engine: it changes nothing, takes
//! no lock) on one config, on one thread as the binary runs, every message handled and every
//! change drawn to a 160x48 test terminal (`POLL_COST_FRAMES=0`: none drawn). After a warm-up, the process's CPU time (schedstat,
//! every thread) and the readings the engine received, per kind, are read before and after a
//! window; `scripts/bench poll-cost` runs it on one kind's config and on a config with nothing
//! to poll, and divides the difference by the number of readings.
//!
//! A binary beside the console (not a bench or an example, which bring the dev-dependencies
//! and so a second build of the dependencies): `cargo run --release --bin poll_cost -- CONFIG
//! WINDOW_SECS [WARMUP_SECS]` prints one line per kind:
//! `KIND polls=N errors=E sources=K missed=M cpu_ns=C wakeups=W secs=S` (missed: ticks of a
//! PostgreSQL member, DNS record or HTTP check with no reading in the window; wakeups: the
//! process's voluntary context switches in the window).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use failover_console::engine::{Engine, Watch};
use failover_core::app::Msg;
use failover_core::config::Config;
use failover_core::kinds::Observation;
use failover_core::kinds::dns::DnsAnswer;
use failover_core::theme::{Theme, View};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::time::Instant;

#[derive(Default)]
struct Count {
    polls: u64,
    errors: u64,
    /// Readings per source (PostgreSQL member, DNS record and resolver, HTTP check).
    per_source: BTreeMap<(usize, usize), u64>,
}

/// A source's place in the config, when it has its own interval: its readings in a window are
/// counted against the ticks the window held.
fn source(o: &Observation) -> Option<(usize, usize)> {
    match o {
        Observation::Probe { check, .. } => Some((*check, 0)),
        Observation::Postgres { db, member, .. } => Some((*db, *member)),
        Observation::Dns {
            record, resolver, ..
        } => Some((*record, *resolver)),
        _ => None,
    }
}

fn interval(config: &Config, kind: &str, (i, _): (usize, usize)) -> Option<Duration> {
    match kind {
        "http" => config.kinds.health.get(i).map(|h| h.interval),
        "dns" => config.kinds.dns.get(i).map(|d| d.interval),
        k if k.starts_with("postgres") => config.kinds.postgres.get(i).map(|d| d.interval),
        _ => None,
    }
}

/// Ticks a source missed in the window: fewer readings than whole intervals the window held,
/// less one (the window's edges cut a tick either way).
fn missed(config: &Config, kind: &str, c: &Count, secs: f64) -> u64 {
    c.per_source
        .iter()
        .filter_map(|(&key, &n)| {
            let every = interval(config, kind, key)?.as_secs_f64();
            let expected = (secs / every).floor() as u64;
            Some(expected.saturating_sub(1).saturating_sub(n))
        })
        .sum()
}

/// The kind of a reading, and whether it failed (a failed read may cost much less or more).
fn classify(o: &Observation) -> (&'static str, bool) {
    match o {
        Observation::Probe { outcome, .. } => ("http", !outcome.ok),
        Observation::Postgres { result, .. } => match result {
            Ok(s) if s.in_recovery => ("postgres-replica", false),
            Ok(_) => ("postgres-primary", false),
            Err(_) => ("postgres", true),
        },
        Observation::Dns { answer, .. } => (
            "dns",
            matches!(answer, DnsAnswer::Timeout | DnsAnswer::Error(_)),
        ),
        Observation::Route53 { result, .. } => ("route53", result.is_err()),
        Observation::Rds { result, .. } => ("rds", result.is_err()),
        Observation::Patroni { reading, .. } => ("patroni", reading.cluster.is_err()),
        Observation::CloudWatch { result, .. } => ("cloudwatch", result.is_err()),
        Observation::Alarm { result, .. } => ("alarm", result.is_err()),
    }
}

/// Nanoseconds this process spent on a CPU, every thread (schedstat's first field).
fn cpu_ns() -> u64 {
    let mut sum = 0;
    for task in std::fs::read_dir("/proc/self/task").expect("/proc/self/task") {
        let path = task.expect("task").path().join("schedstat");
        if let Ok(text) = std::fs::read_to_string(path) {
            sum += text
                .split_whitespace()
                .next()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    sum
}

/// Times this process's threads went to sleep and were woken (voluntary context switches,
/// every thread): a lone poll's cost is mostly these.
fn wakeups() -> u64 {
    let mut sum = 0;
    for task in std::fs::read_dir("/proc/self/task").expect("/proc/self/task") {
        let path = task.expect("task").path().join("status");
        if let Ok(text) = std::fs::read_to_string(path) {
            sum += text
                .lines()
                .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    sum
}

/// Runs the engine until `until`, counting readings per kind.
async fn pump(
    engine: &mut Engine<Watch>,
    terminal: &mut Terminal<TestBackend>,
    counts: &mut BTreeMap<&'static str, Count>,
    until: Instant,
    frames: bool,
) {
    // One timer for the window, as the console keeps one for its clock: a new one per message
    // would be the bench's cost, not the console's.
    let end = tokio::time::sleep_until(until);
    tokio::pin!(end);
    loop {
        let msg = tokio::select! {
            msg = engine.recv() => msg,
            _ = &mut end => return,
        };
        if let Msg::Observed(o) = &msg {
            let (kind, failed) = classify(o);
            let c = counts.entry(kind).or_default();
            c.polls += 1;
            c.errors += u64::from(failed);
            if let Some(key) = source(o) {
                *c.per_source.entry(key).or_default() += 1;
            }
        }
        engine.handle(msg).await;
        if frames && engine.model.ui.dirty {
            terminal
                .draw(|f| failover_core::ui::render(f, &engine.model))
                .expect("draw");
            engine.model.ui.dirty = false;
            engine.model.ui.clock_dirty = false;
        }
    }
}

fn main() {
    // As the console runs (src/main.rs).
    let _ = failover_console::cpu::batch();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(bench());
}

async fn bench() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        println!(
            "poll_cost: cargo run --release --bin poll_cost -- CONFIG WINDOW_SECS [WARMUP_SECS]"
        );
        return;
    }
    let config: Arc<Config> = Arc::new(
        failover_console::config::load(std::path::Path::new(&args[0])).expect("bench config"),
    );
    let window = Duration::from_secs_f64(args[1].parse().expect("WINDOW_SECS"));
    let warmup = Duration::from_secs_f64(args.get(2).map_or(3.0, |w| w.parse().expect("WARMUP")));
    // POLL_COST_FRAMES=0: readings applied, no frame drawn (what a poll costs before the screen).
    let frames = !matches!(std::env::var("POLL_COST_FRAMES").as_deref(), Ok("0"));
    let view = View {
        theme: Theme::load("dark").expect("theme"),
        ascii: false,
    };
    let mut engine = Engine::<Watch>::start(config.clone(), "bench".into(), view)
        .await
        .expect("engine");
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).expect("terminal");
    let mut before = BTreeMap::new();
    pump(
        &mut engine,
        &mut terminal,
        &mut before,
        Instant::now() + warmup,
        frames,
    )
    .await;
    let mut counts = BTreeMap::new();
    let (t0, c0, w0) = (Instant::now(), cpu_ns(), wakeups());
    pump(&mut engine, &mut terminal, &mut counts, t0 + window, frames).await;
    let (secs, cpu, woke) = (t0.elapsed().as_secs_f64(), cpu_ns() - c0, wakeups() - w0);
    engine.shutdown("bench done").await;
    if counts.is_empty() {
        counts.insert("none", Count::default());
    }
    for (kind, c) in &counts {
        println!(
            "{kind} polls={} errors={} sources={} missed={} cpu_ns={cpu} wakeups={woke} secs={secs:.3}",
            c.polls,
            c.errors,
            c.per_source.len(),
            missed(&config, kind, c, secs)
        );
    }
}
