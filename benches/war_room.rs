//! War room (issue 14): how long a driver's step start takes to be on a watcher's screen, over
//! the lab's real 3-member etcd cluster. A driving console and a `--watch` console (separate
//! journals, one prefix) run a runbook of 20 command steps; for each step, the time from the
//! driver's `step started` entry (written in the fenced transaction) to the watcher having
//! applied it and drawn a 160x48 frame with it.
//!
//! Needs the lab (`scripts/lab up`): `LAB_WR_ETCD` (from `scripts/lab env`) names the cluster.
//! Run by `scripts/bench war-room`, or `cargo bench --bench war_room`. Under `cargo test` (no
//! `--bench` argument) it does nothing.

use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use failover_console::engine::{Engine, Live, Seat, Watch};
use failover_core::app::{Model, Msg};
use failover_core::runbook::{Event, Phase, StepStatus};
use failover_core::theme::{Theme, View};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use time::OffsetDateTime;

const STEPS: usize = 20;

fn config_text(dir: &std::path::Path, prefix: &str, etcd: &[String]) -> String {
    let mut text = format!(
        "[console]\ntitle = \"bench: war room\"\njournal = \"{}\"\nlog = \"{}\"\n\
         [sites.primary]\nlabel = \"site A\"\n[sites.secondary]\nlabel = \"site B\"\n\
         [[health]]\nname = \"api-a\"\nsite = \"primary\"\nhttp = \"http://127.0.0.1:18081/healthz\"\n\
         [war-room]\netcd = [{}]\nprefix = \"{prefix}\"\n\
         [[runbook]]\nname = \"steps\"\nfrom = \"primary\"\nto = \"secondary\"\n",
        dir.join("journal.jsonl").display(),
        dir.join("console.log").display(),
        etcd.iter()
            .map(|e| format!("{e:?}"))
            .collect::<Vec<_>>()
            .join(", "),
    );
    for i in 1..=STEPS {
        text.push_str(&format!(
            "[[runbook.step]]\ntitle = \"step {i}\"\naction = \"exec\"\ncommand = [\"true\"]\ntimeout = \"10s\"\n"
        ));
    }
    text
}

fn view() -> View {
    View {
        theme: Theme::load("dark").expect("theme"),
        ascii: false,
    }
}

async fn key<R: Seat>(engine: &mut Engine<R>, code: KeyCode) {
    engine
        .handle(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
        .await;
}

async fn line<R: Seat>(engine: &mut Engine<R>, text: &str) {
    for c in text.chars() {
        key(engine, KeyCode::Char(c)).await;
    }
    key(engine, KeyCode::Enter).await;
}

fn status(m: &Model, step: usize) -> Option<StepStatus> {
    m.runs.current.as_ref().map(|r| r.steps[step].status)
}

/// Pumps both consoles; when the watcher applies the driver's start of a step, draws its frame
/// and notes the latency. Returns once `done` holds (or after 20 s: None).
async fn pump(
    driver: &mut Engine<Live>,
    watcher: &mut Engine<Watch>,
    terminal: &mut Terminal<TestBackend>,
    latencies: &mut Vec<f64>,
    mut done: impl FnMut(&Model, &Model) -> bool,
) -> Option<()> {
    let end = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if done(&driver.model, &watcher.model) {
            return Some(());
        }
        tokio::select! {
            msg = driver.recv() => { driver.handle(msg).await; }
            msg = watcher.recv() => {
                let started = match &msg {
                    Msg::Foreign(e) => e.run.as_ref().and_then(|r| match r.event {
                        Event::StepStarted { phase: Phase::Do, .. } => Some(e.at),
                        _ => None,
                    }),
                    _ => None,
                };
                watcher.handle(msg).await;
                if let Some(at) = started {
                    terminal
                        .draw(|f| failover_core::ui::render(f, &watcher.model))
                        .expect("draw");
                    let shown = OffsetDateTime::now_utc();
                    latencies.push((shown - at).as_seconds_f64() * 1000.0);
                }
            }
            _ = tokio::time::sleep_until(end) => return None,
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("war_room: run with `cargo bench --bench war_room` (needs the lab)");
        return;
    }
    let etcd: Vec<String> = std::env::var("LAB_WR_ETCD")
        .unwrap_or_else(|_| {
            "http://127.0.0.1:12471,http://127.0.0.1:12472,http://127.0.0.1:12473".into()
        })
        .split(',')
        .map(str::to_string)
        .collect();
    let prefix = format!(
        "/failover-console/bench-{}-{}",
        std::process::id(),
        OffsetDateTime::now_utc().unix_timestamp()
    );
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let configs: Vec<_> = dirs
        .iter()
        .map(|d| {
            let path = d.path().join("config.toml");
            std::fs::write(&path, config_text(d.path(), &prefix, &etcd)).unwrap();
            Arc::new(failover_console::config::load(&path).expect("bench config"))
        })
        .collect();
    let mut driver = Engine::<Live>::start(configs[0].clone(), "bench-driver".into(), view())
        .await
        .expect("driver");
    let mut watcher = Engine::<Watch>::start(configs[1].clone(), "bench-watch".into(), view())
        .await
        .expect("watcher");
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).unwrap();
    let mut latencies = Vec::new();
    pump(
        &mut driver,
        &mut watcher,
        &mut terminal,
        &mut latencies,
        |d, _| d.driver.token().is_some(),
    )
    .await
    .expect("the driver never took the lease: is the lab's etcd up?");
    key(&mut driver, KeyCode::Char('r')).await;
    key(&mut driver, KeyCode::Enter).await;
    key(&mut driver, KeyCode::Enter).await;
    line(&mut driver, "secondary").await;
    line(&mut driver, "bench").await;
    pump(
        &mut driver,
        &mut watcher,
        &mut terminal,
        &mut latencies,
        |d, w| d.runs.current.is_some() && w.runs.current.is_some(),
    )
    .await
    .expect("arming");
    for step in 0..STEPS {
        key(&mut driver, KeyCode::Enter).await;
        pump(
            &mut driver,
            &mut watcher,
            &mut terminal,
            &mut latencies,
            |d, w| {
                status(d, step) == Some(StepStatus::Ok)
                    && status(w, step) == Some(StepStatus::Ok)
                    && d.runs.in_flight.is_none()
            },
        )
        .await
        .unwrap_or_else(|| panic!("step {} did not finish on both consoles", step + 1));
    }
    driver.shutdown("bench done").await;
    watcher.shutdown("bench done").await;
    assert_eq!(latencies.len(), STEPS, "one start per step");
    let mut sorted = latencies.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[STEPS / 2];
    let max = sorted[STEPS - 1];
    println!(
        "war_room step start -> watcher frame: {STEPS} steps, median {median:.1} ms, max {max:.1} ms (budget: max <= 1000 ms): {}",
        if max <= 1000.0 { "PASS" } else { "FAIL" }
    );
}
