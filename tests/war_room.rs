//! The war room on the lab's real 3-member etcd cluster: consoles with separate journals (two
//! "bastions") on one prefix, one driving, the others following the shared record.
// Needs the lab (`scripts/lab up`): run by `scripts/test`, which turns the feature on.
#![cfg(feature = "lab")]

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::keys::*;
use common::*;
use crossterm::event::KeyCode;
use failover_console::config::{self, Config};
use failover_console::engine::{Engine, Live, Seat, Watch};
use failover_core::app::model::{Driver, Shared};
use failover_core::app::{Model, Msg};
use failover_core::runbook::{Event, Phase, StepResult, StepStatus};
use failover_core::theme::{Theme, View};
use failover_core::timeline::{Entry, Kind};
use time::OffsetDateTime;

/// Short, so that a lease lost to a crash frees the driver key quickly.
const LEASE: &str = "3s";
/// The failover runbook's index in config.toml, then the one this file adds.
const FAILOVER: usize = 0;
const SLOW: usize = 2;

/// A runbook named "slow": one `sleep SECS` step, then a manual one.
fn slow_runbook(secs: &str) -> String {
    format!(
        r#"
[[runbook]]
name = "slow"
description = "A step that takes a while"
from = "primary"
to = "secondary"

[[runbook.step]]
title = "Sleep {secs} s"
action = "exec"
command = ["sleep", "{secs}"]
timeout = "20s"

[[runbook.step]]
title = "Confirm by hand"
manual = "Check the world"
"#
    )
}

/// `slow_runbook(secs)` whose command writes its pid to `pid_file` first, so that a test can
/// end that process, and no other, by its pid.
fn slow_runbook_with_pid(secs: &str, pid_file: &Path) -> String {
    slow_runbook(secs).replace(
        &format!(r#"command = ["sleep", "{secs}"]"#),
        &format!(
            r#"command = ["sh", "-c", "echo $$ > {}; exec sleep {secs}"]"#,
            pid_file.display()
        ),
    )
}

fn endpoints() -> Vec<String> {
    std::env::var("LAB_WR_ETCD")
        .unwrap_or_else(|_| {
            "http://127.0.0.1:12471,http://127.0.0.1:12472,http://127.0.0.1:12473".into()
        })
        .split(',')
        .map(str::to_string)
        .collect()
}

/// A prefix of this test's own under the one `scripts/lab reset` clears.
fn prefix(tag: &str) -> String {
    let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
    format!(
        "/failover-console/test-{tag}-{}-{nanos}",
        std::process::id()
    )
}

/// The lab config in `dir` (its own journal: one bastion), on the war room's `prefix`.
fn war_config(dir: &Path, prefix: &str, extra: &str) -> Arc<Config> {
    let path = write_config(dir);
    let mut text = std::fs::read_to_string(&path).expect("config");
    let etcd: Vec<String> = endpoints().iter().map(|e| format!("{e:?}")).collect();
    text.push_str(&format!(
        "\n[war-room]\netcd = [{}]\nprefix = {prefix:?}\nlease = {LEASE:?}\n{extra}",
        etcd.join(", ")
    ));
    std::fs::write(&path, text).expect("write config");
    Arc::new(config::load(&path).unwrap_or_else(|e| panic!("war-room config: {e}")))
}

fn view() -> View {
    View {
        theme: Theme::mono(),
        ascii: true,
    }
}

async fn start<R: Seat>(config: &Arc<Config>, operator: &str) -> Engine<R> {
    Engine::<R>::start(config.clone(), operator.into(), view())
        .await
        .expect("engine starts")
}

/// Runs two consoles side by side until `done` holds (bounded); says which.
async fn both<A: Seat, B: Seat>(
    a: &mut Engine<A>,
    b: &mut Engine<B>,
    within: Duration,
    mut done: impl FnMut(&Model, &Model) -> bool,
) -> bool {
    let end = tokio::time::Instant::now() + within;
    loop {
        if done(&a.model, &b.model) {
            return true;
        }
        tokio::select! {
            msg = a.recv() => { a.handle(msg).await; }
            msg = b.recv() => { b.handle(msg).await; }
            _ = tokio::time::sleep_until(end) => return done(&a.model, &b.model),
        }
    }
}

async fn expect_both<A: Seat, B: Seat>(
    a: &mut Engine<A>,
    b: &mut Engine<B>,
    what: &str,
    done: impl FnMut(&Model, &Model) -> bool,
) {
    let ok = both(a, b, DEADLINE, done).await;
    assert!(
        ok,
        "timed out waiting for: {what}\n--- first{}\n--- second{}",
        run_dump(&a.model),
        run_dump(&b.model)
    );
}

/// A console run in a task of its own, noting when each run event of another console reached
/// it; stopped, it gives the engine back.
struct Background<R: Seat> {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<(Engine<R>, Seen)>,
}

/// Each run event another console wrote, and when it reached this one.
type Seen = Vec<(Entry, OffsetDateTime)>;

fn background<R: Seat + 'static>(mut engine: Engine<R>) -> Background<R>
where
    Engine<R>: Send,
{
    let (stop, mut stopped) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(async move {
        let mut seen = Vec::new();
        loop {
            tokio::select! {
                msg = engine.recv() => {
                    let run_entry = match &msg {
                        Msg::Foreign(e) if e.run.is_some() => Some(e.clone()),
                        _ => None,
                    };
                    engine.handle(msg).await;
                    if let Some(e) = run_entry {
                        seen.push((e, OffsetDateTime::now_utc()));
                    }
                }
                _ = &mut stopped => return (engine, seen),
            }
        }
    });
    Background { stop, task }
}

impl<R: Seat> Background<R> {
    async fn stop(self) -> (Engine<R>, Seen) {
        let _ = self.stop.send(());
        self.task.await.expect("background console")
    }
}

async fn shared(config: &Config) -> Vec<Entry> {
    failover_console::record::read_shared(config.war_room.as_ref().expect("[war-room]"))
        .await
        .expect("read the shared record")
}

/// Reads the shared record until `done` holds in it (bounded); returns it.
async fn shared_until(config: &Config, what: &str, done: impl Fn(&[Entry]) -> bool) -> Vec<Entry> {
    let end = Instant::now() + DEADLINE;
    loop {
        let record = shared(config).await;
        if done(&record) {
            return record;
        }
        assert!(
            Instant::now() < end,
            "the shared record never showed {what}:\n{}",
            journal_text(&record)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn run_events(entries: &[Entry]) -> Vec<(&Entry, &Event)> {
    entries
        .iter()
        .filter_map(|e| e.run.as_ref().map(|r| (e, &r.event)))
        .collect()
}

fn do_starts(entries: &[Entry], step: usize) -> usize {
    run_events(entries)
        .iter()
        .filter(
            |(_, ev)| matches!(ev, Event::StepStarted { step: s, phase: Phase::Do } if *s == step),
        )
        .count()
}

/// Opens the runbook's plan and arms it (the console must drive).
async fn arm_run<R: Seat>(engine: &mut Engine<R>, runbook: usize, reason: &str) {
    key(engine, KeyCode::Char('r')).await;
    for _ in 0..runbook {
        key(engine, KeyCode::Char('j')).await;
    }
    key(engine, KeyCode::Enter).await;
    key(engine, KeyCode::Enter).await;
    type_line(engine, "secondary").await;
    type_line(engine, reason).await;
}

fn armed(m: &Model) -> bool {
    m.runs
        .current
        .as_ref()
        .is_some_and(|r| r.is_active() && !r.dry_run)
}

// -------------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_bastions_one_drives_and_the_other_sees_who_and_cannot_arm() {
    let lab = Lab::begin().await;
    let p = prefix("bastions");
    let alice_cfg = war_config(lab.dir.path(), &p, "");
    let bob_dir = tempfile::tempdir().expect("tempdir");
    let bob_cfg = war_config(bob_dir.path(), &p, "");
    assert_ne!(
        alice_cfg.journal, bob_cfg.journal,
        "two journals, one record"
    );

    let mut alice = start::<Live>(&alice_cfg, "alice").await;
    wait(&mut alice, "alice drives", |m| m.driver.token().is_some()).await;
    let mut bob = start::<Live>(&bob_cfg, "bob").await;
    let alice_console = alice.model.console_id.clone();
    expect_both(&mut alice, &mut bob, "bob sees alice drive", |_, b| {
        matches!(&b.driver, Driver::LockHeld(h) if h.operator == "alice")
            && b.holder.as_ref().is_some_and(|h| h.operator == "alice")
    })
    .await;
    let holder = bob.model.holder.clone().expect("holder");
    assert_eq!(holder.console, alice_console);
    assert_eq!(holder.pid, std::process::id());
    assert!(holder.token > 0, "the driver key's revision is the token");
    assert_eq!(
        Some(holder.token),
        alice.model.driver.token().map(|t| t.value())
    );

    // Bob's keys arm nothing: the runbook list does not even open.
    arm_run(&mut bob, FAILOVER, "bob tries").await;
    assert!(bob.model.runs.current.is_none(), "{}", run_dump(&bob.model));
    let flash = bob.model.ui.flash.clone().map(|f| f.0).unwrap_or_default();
    assert!(flash.contains("alice"), "bob is told who drives: {flash:?}");

    // Alice arms; bob sees the run, armed by alice.
    arm_run(&mut alice, FAILOVER, "bastion test").await;
    expect_both(&mut alice, &mut bob, "bob follows alice's run", |a, b| {
        armed(a) && armed(b)
    })
    .await;
    let record = shared(&alice_cfg).await;
    let arms: Vec<_> = run_events(&record)
        .into_iter()
        .filter(|(_, ev)| matches!(ev, Event::Armed { .. }))
        .collect();
    assert_eq!(arms.len(), 1, "one run armed, by alice");
    assert_eq!(arms[0].0.token, Some(holder.token), "it carries her token");
    // Bob's own journal mirrors what he saw: alice's arming is in it.
    let (mirror, _) = failover_console::journal::read_all(&bob_cfg.journal).expect("mirror");
    assert!(
        mirror
            .iter()
            .any(|e| e.message.starts_with("ARMED failover")),
        "bob's mirror holds the shared record's entries"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watcher_and_a_second_bastion_follow_the_lab_failover_each_edge_once() {
    let lab = Lab::begin().await;
    let p = prefix("three");
    let driver_cfg = war_config(lab.dir.path(), &p, "");
    let (bob_dir, watch_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let bob_cfg = war_config(bob_dir.path(), &p, "");
    let watch_cfg = war_config(watch_dir.path(), &p, "");

    let mut driver = start::<Live>(&driver_cfg, "alice").await;
    wait(&mut driver, "alice drives", |m| m.driver.token().is_some()).await;
    wait_normal(&mut driver).await;
    let watcher = background(start::<Watch>(&watch_cfg, "carol").await);
    let bob = background(start::<Live>(&bob_cfg, "bob").await);

    // The lab failover, by keys, as in tests/runbook.rs.
    arm_run(&mut driver, FAILOVER, "war room e2e").await;
    wait(&mut driver, "the run armed", armed).await;
    do_step(&mut driver, 0).await;
    do_step(&mut driver, 1).await;
    key(&mut driver, KeyCode::Enter).await;
    type_line(&mut driver, "promote").await;
    wait(&mut driver, "the promotion", |m| {
        step_status(m, 2) == Some(StepStatus::Ok) && m.runs.in_flight.is_none()
    })
    .await;
    do_step(&mut driver, 3).await;
    do_step(&mut driver, 4).await;
    // The wait ends by itself once every resolver answers site B; then the manual step.
    key(&mut driver, KeyCode::Enter).await;
    wait(&mut driver, "the resolvers answer site B", |m| {
        step_status(m, 5) == Some(StepStatus::Ok)
    })
    .await;
    do_step(&mut driver, 6).await;
    wait(&mut driver, "the run finished", |m| {
        m.runs.current.as_ref().is_some_and(|r| !r.is_active())
    })
    .await;
    // Two more seconds of the world settling, then everyone stops.
    let _ = driver.run_until(Duration::from_secs(2), |_| false).await;
    let (watcher, seen) = watcher.stop().await;
    let (bob, _) = bob.stop().await;

    // Every run event of the driver reached the watcher, each within a second.
    let record = shared(&driver_cfg).await;
    let driver_events: Vec<&Entry> = record
        .iter()
        .filter(|e| e.run.is_some() && e.console.as_deref() == Some(&driver.model.console_id))
        .collect();
    assert!(driver_events.len() >= 8, "{}", journal_text(&record));
    let mut latencies = Vec::new();
    for e in &driver_events {
        let (_, at) = seen
            .iter()
            .find(|(s, _)| s.run == e.run && s.at == e.at)
            .unwrap_or_else(|| panic!("the watcher never saw {:?}", e.message));
        let latency = *at - e.at;
        latencies.push(latency);
        assert!(
            latency <= time::Duration::seconds(1),
            "{:?} reached the watcher after {latency}",
            e.message
        );
    }
    latencies.sort();
    eprintln!(
        "run events driver -> watcher: {} events, median {}, max {}",
        latencies.len(),
        latencies[latencies.len() / 2],
        latencies[latencies.len() - 1]
    );
    let statuses = |m: &Model| -> Vec<StepStatus> {
        m.runs
            .current
            .as_ref()
            .map(|r| r.steps.iter().map(|s| s.status).collect())
            .unwrap_or_default()
    };
    assert_eq!(statuses(&watcher.model), statuses(&driver.model));
    assert_eq!(statuses(&bob.model), statuses(&driver.model));

    // Each edge once: only the driver wrote edges, and no edge is in the record twice.
    let edges: Vec<&Entry> = record.iter().filter(|e| e.kind == Kind::Edge).collect();
    assert!(
        edges.len() >= 5,
        "the failover moves roles and DNS: {}",
        journal_text(&record)
    );
    for e in &edges {
        assert_eq!(
            e.console.as_deref(),
            Some(driver.model.console_id.as_str()),
            "an edge not from the driver: {e:?}"
        );
    }
    let mut keys: Vec<_> = edges
        .iter()
        .map(|e| (e.at, &e.source, &e.message))
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), edges.len(), "an edge twice in the record");
    // Neither the second bastion nor the watcher wrote anything but their start (and bob's
    // lock marks: none, he never drove).
    for (who, console) in [
        ("bob", &bob.model.console_id),
        ("carol", &watcher.model.console_id),
    ] {
        let theirs: Vec<_> = record
            .iter()
            .filter(|e| e.console.as_deref() == Some(console.as_str()))
            .map(|e| e.message.as_str())
            .collect();
        assert!(
            theirs.iter().all(|m| m.starts_with("started")),
            "{who} wrote more than its start: {theirs:?}"
        );
    }

    // `journal export` (from bob's bastion) reads the shared record: each edge once in it.
    let export = failover_console::cli::export_text(&bob_cfg, true, false)
        .await
        .expect("export");
    for e in &edges {
        let line = serde_json::to_string(e).unwrap();
        let count = export.lines().filter(|l| *l == line).count();
        assert_eq!(count, 1, "{line} in the export {count} times");
    }
    // `--local`: bob's mirror, which holds the same edges, once each.
    let local = failover_console::cli::export_text(&bob_cfg, true, true)
        .await
        .expect("export --local");
    for e in &edges {
        let count = local
            .lines()
            .filter(|l| l.contains(&serde_json::to_string(&e.message).unwrap()))
            .filter(|l| l.contains(&format!("{:?}", e.source)))
            .count();
        assert_eq!(count, 1, "{:?} in bob's mirror {count} times", e.message);
    }
    drop(watcher);
    drop(bob);
}

/// Alice driving on a fresh prefix (`tag`) with the slow runbook (the lab's journal), and beside
/// her `who`, a console of kind `R` with a journal of its own (the folder kept alive with it).
async fn alice_drives_beside<R: Seat>(
    lab: &Lab,
    tag: &str,
    who: &str,
) -> (Engine<Live>, Arc<Config>, Engine<R>, tempfile::TempDir) {
    let p = prefix(tag);
    let alice_cfg = war_config(lab.dir.path(), &p, &slow_runbook("6"));
    let dir = tempfile::tempdir().unwrap();
    let cfg = war_config(dir.path(), &p, &slow_runbook("6"));
    let mut alice = start::<Live>(&alice_cfg, "alice").await;
    wait(&mut alice, "alice drives", |m| m.driver.token().is_some()).await;
    let other = start::<R>(&cfg, who).await;
    (alice, alice_cfg, other, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn breaking_the_lock_mid_step_offers_no_retry_before_the_outcome() {
    let lab = Lab::begin().await;
    let (mut alice, alice_cfg, mut bob, _bob_dir) =
        alice_drives_beside::<Live>(&lab, "break", "bob").await;
    arm_run(&mut alice, SLOW, "break test").await;
    wait(&mut alice, "armed", armed).await;
    key(&mut alice, KeyCode::Enter).await;
    expect_both(
        &mut alice,
        &mut bob,
        "the 6 s step runs, bob sees it",
        |a, b| {
            step_status(a, 0) == Some(StepStatus::Running)
                && step_status(b, 0) == Some(StepStatus::Running)
                && matches!(b.driver, Driver::LockHeld(_))
        },
    )
    .await;
    let alice_token = alice.model.driver.token().map(|t| t.value()).unwrap();

    // B, the word, a reason.
    key(&mut bob, KeyCode::Char('B')).await;
    type_line(&mut bob, "brake").await;
    assert!(
        bob.model.driver.token().is_none(),
        "a wrong word breaks nothing"
    );
    key(&mut bob, KeyCode::Char('B')).await;
    type_line(&mut bob, "break").await;
    type_line(&mut bob, "alice's bastion froze").await;
    let broke_at = Instant::now();
    expect_both(&mut alice, &mut bob, "bob drives, alice watches", |a, b| {
        b.driver.token().is_some() && a.driver.token().is_none()
    })
    .await;
    assert!(bob.model.driver.token().unwrap().value() > alice_token);
    // Bob sees the step in flight as unknown and reads it back (a command cannot be read back).
    expect_both(&mut alice, &mut bob, "bob's read-back", |_, b| {
        b.runs.current.as_ref().is_some_and(|r| {
            r.steps[0].status == StepStatus::Unknown && r.steps[0].phase == Phase::ReadBack
        }) && b.runs.in_flight.is_none()
    })
    .await;
    // Enter does not even ask for a typed retry: alice's step may still be running.
    key(&mut bob, KeyCode::Enter).await;
    let flash = bob.model.ui.flash.clone().map(|f| f.0).unwrap_or_default();
    assert!(
        flash.contains("no retry before"),
        "{flash:?}{}",
        run_dump(&bob.model)
    );
    assert_eq!(
        do_starts(&shared(&alice_cfg).await, 0),
        1,
        "not started again"
    );

    // Alice's step ends (6 s after it started) and her outcome, under her old token, counts.
    expect_both(
        &mut alice,
        &mut bob,
        "alice's outcome reaches bob",
        |_, b| step_status(b, 0) == Some(StepStatus::Ok) && b.runs.orphans.is_empty(),
    )
    .await;
    assert!(broke_at.elapsed() < Duration::from_secs(10));
    let record = shared(&alice_cfg).await;
    let finished: Vec<_> = run_events(&record)
        .into_iter()
        .filter(|(_, ev)| {
            matches!(
                ev,
                Event::StepFinished {
                    step: 0,
                    phase: Phase::Do,
                    result: StepResult::Ok,
                    ..
                }
            )
        })
        .collect();
    assert_eq!(finished.len(), 1);
    assert_eq!(finished[0].0.token, Some(alice_token), "alice's token");
    assert_eq!(do_starts(&record, 0), 1, "the step ran once");
    // Alice's lease is gone: her driver key, revoked, and she knows it.
    assert!(matches!(
        alice.model.driver,
        Driver::LockLost(_) | Driver::LockHeld(_)
    ));
    assert!(
        record
            .iter()
            .any(|e| e.message.contains("driver lease BROKEN by bob")),
        "{}",
        journal_text(&record)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_run_events_are_ignored_and_shown_once() {
    let lab = Lab::begin().await;
    let (mut alice, alice_cfg, mut carol, _watch_dir) =
        alice_drives_beside::<Watch>(&lab, "forged", "carol").await;
    let p = alice_cfg
        .war_room
        .as_ref()
        .expect("[war-room]")
        .prefix
        .clone();
    arm_run(&mut alice, SLOW, "forgery test").await;
    expect_both(&mut alice, &mut carol, "both see the run", |a, c| {
        armed(a) && armed(c)
    })
    .await;
    let run = alice.model.runs.current.clone().unwrap();
    let token = alice.model.driver.token().unwrap().value();

    // A skip of step 1, written straight into etcd by someone who is not the driver (even
    // with the driver's token).
    let mut forged = Entry::new(
        OffsetDateTime::now_utc(),
        failover_core::timeline::Severity::Warn,
        Kind::Run,
        "run/slow",
        "step 1 skipped: forged",
    );
    forged.console = Some("evil:1".into());
    forged.token = Some(token);
    forged.run = Some(failover_core::timeline::RunEvent {
        id: run.id.clone(),
        runbook: run.runbook.clone(),
        event: Event::Skipped {
            step: 0,
            reason: "forged".into(),
        },
    });
    let mut client = etcd_client::Client::connect(endpoints(), None)
        .await
        .expect("etcd");
    client
        .put(
            format!("{p}/record/evil:1/{:020}", 1),
            serde_json::to_vec(&forged).unwrap(),
            None,
        )
        .await
        .expect("put the forged entry");
    let warned = |m: &Model| {
        m.timeline
            .newest_first()
            .filter(|s| {
                s.entry
                    .message
                    .starts_with("run event from evil:1 ignored: not the driver")
            })
            .count()
    };
    expect_both(
        &mut alice,
        &mut carol,
        "the warning on both screens",
        |a, c| warned(a) == 1 && warned(c) == 1,
    )
    .await;
    let _ = both(&mut alice, &mut carol, Duration::from_secs(1), |_, _| false).await;
    for m in [&alice.model, &carol.model] {
        assert_eq!(warned(m), 1, "shown once");
        assert_eq!(
            step_status(m, 0),
            Some(StepStatus::Pending),
            "nothing changed"
        );
    }
    let record = shared(&alice_cfg).await;
    let warnings = record
        .iter()
        .filter(|e| e.message.starts_with("run event from evil:1 ignored"))
        .count();
    assert_eq!(warnings, 1, "recorded once, by the driver");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_line_in_the_file_journal_is_ignored_and_shown() {
    let lab = Lab::begin().await;
    let mut text = std::fs::read_to_string(&lab.config_path).unwrap();
    text.push_str(&slow_runbook("6"));
    std::fs::write(&lab.config_path, text).unwrap();
    let config = Arc::new(config::load(&lab.config_path).unwrap());
    let mut alice = start::<Live>(&config, "alice").await;
    wait(&mut alice, "alice drives", |m| m.driver.token().is_some()).await;
    arm_run(&mut alice, SLOW, "forgery test").await;
    wait(&mut alice, "armed", armed).await;
    let run = alice.model.runs.current.clone().unwrap();
    let mut forged = Entry::new(
        OffsetDateTime::now_utc(),
        failover_core::timeline::Severity::Warn,
        Kind::Run,
        "run/slow",
        "step 1 skipped: forged",
    );
    forged.console = Some("evil:1".into());
    forged.token = alice.model.driver.token().map(|t| t.value());
    forged.run = Some(failover_core::timeline::RunEvent {
        id: run.id.clone(),
        runbook: run.runbook.clone(),
        event: Event::Skipped {
            step: 0,
            reason: "forged".into(),
        },
    });
    let mut line = serde_json::to_string(&forged).unwrap();
    line.push('\n');
    use std::io::Write as _;
    std::fs::OpenOptions::new()
        .append(true)
        .open(&config.journal)
        .unwrap()
        .write_all(line.as_bytes())
        .unwrap();
    wait(&mut alice, "the warning", |m| {
        m.timeline.newest_first().any(|s| {
            s.entry
                .message
                .starts_with("run event from evil:1 ignored: not the driver")
        })
    })
    .await;
    assert_eq!(step_status(&alice.model, 0), Some(StepStatus::Pending));
    // Started again, the console reads the forged line back and still ignores it.
    alice.shutdown("test").await;
    let again = start::<Watch>(&config, "carol").await;
    assert_eq!(step_status(&again.model, 0), Some(StepStatus::Pending));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_losing_its_leader_and_then_everything() {
    let lab = Lab::begin().await;
    let (mut alice, alice_cfg, mut carol, _watch_dir) =
        alice_drives_beside::<Watch>(&lab, "outage", "carol").await;
    arm_run(&mut alice, SLOW, "outage test").await;
    expect_both(&mut alice, &mut carol, "armed", |a, c| armed(a) && armed(c)).await;

    // The leader dies: the consoles go on; a step starts and both see it end.
    let leader = lab.run(&["wr-etcd-leader"]).await.trim().to_string();
    lab.run(&["wr-etcd-kill", &leader]).await;
    key(&mut alice, KeyCode::Enter).await;
    let refused = |m: &Model| {
        m.runs
            .current
            .as_ref()
            .is_some_and(|r| r.steps[0].detail.contains("refused"))
            && m.runs.in_flight.is_none()
    };
    expect_both(
        &mut alice,
        &mut carol,
        "the step running, or refused during the election",
        |a, c| {
            step_status(a, 0) == Some(StepStatus::Ok) && step_status(c, 0) == Some(StepStatus::Ok)
                || refused(a)
        },
    )
    .await;
    // An Enter that met the election (its fenced start got no answer in time) ran nothing;
    // alice tries again, as an operator would, until a start goes through (bounded).
    let end = Instant::now() + DEADLINE;
    let mut refusals = 0;
    while refused(&alice.model) && step_status(&alice.model, 0) != Some(StepStatus::Ok) {
        refusals += 1;
        assert!(
            Instant::now() < end,
            "every start refused{}",
            run_dump(&alice.model)
        );
        let _ = alice.run_until(Duration::from_millis(500), |_| false).await;
        key(&mut alice, KeyCode::Enter).await;
        let _ = alice
            .run_until(Duration::from_secs(5), |m| {
                m.runs.in_flight.is_none()
                    && (refused(m) || step_status(m, 0) == Some(StepStatus::Running))
            })
            .await;
        if step_status(&alice.model, 0) == Some(StepStatus::Running) {
            break;
        }
    }
    eprintln!("starts refused during the election: {refusals}");
    expect_both(
        &mut alice,
        &mut carol,
        "the step, through the new leader",
        |a, c| {
            step_status(a, 0) == Some(StepStatus::Ok) && step_status(c, 0) == Some(StepStatus::Ok)
        },
    )
    .await;
    assert_eq!(do_starts(&shared(&alice_cfg).await, 0), 1);
    lab.run(&["wr-etcd-start", &leader]).await;

    // Everything stops: the banner on both, no step starts, notes wait in the mirrors.
    lab.run(&["wr-etcd-stop", "all"]).await;
    expect_both(&mut alice, &mut carol, "the banner on both", |a, c| {
        matches!(a.shared, Shared::Unreachable { .. })
            && matches!(c.shared, Shared::Unreachable { .. })
    })
    .await;
    key(&mut alice, KeyCode::Enter).await;
    let flash = alice
        .model
        .ui
        .flash
        .clone()
        .map(|f| f.0)
        .unwrap_or_default();
    assert!(flash.contains("shared record unreachable"), "{flash:?}");
    for (who, note) in [("alice", "note while etcd is down (alice)")] {
        key(&mut alice, KeyCode::Char('n')).await;
        type_line(&mut alice, note).await;
        let _ = who;
    }
    key(&mut carol, KeyCode::Char('n')).await;
    type_line(&mut carol, "note while etcd is down (carol)").await;
    // Past the lease: alice stops driving.
    expect_both(&mut alice, &mut carol, "alice drops to watching", |a, _| {
        a.driver.token().is_none()
    })
    .await;

    lab.run(&["wr-etcd-start", "all"]).await;
    expect_both(&mut alice, &mut carol, "reachable again", |a, c| {
        a.shared == Shared::Reachable && c.shared == Shared::Reachable
    })
    .await;
    // Both notes, once each; the step started once.
    let end = Instant::now() + DEADLINE;
    loop {
        let record = shared(&alice_cfg).await;
        let count = |needle: &str| record.iter().filter(|e| e.message == needle).count();
        let (a, c) = (
            count("note while etcd is down (alice)"),
            count("note while etcd is down (carol)"),
        );
        if a == 1 && c == 1 {
            assert_eq!(
                do_starts(&record, 1),
                0,
                "no step started while unreachable"
            );
            break;
        }
        assert!(a <= 1 && c <= 1, "a note twice: {}", journal_text(&record));
        assert!(
            Instant::now() < end,
            "notes never arrived: {}",
            journal_text(&record)
        );
        let _ = both(
            &mut alice,
            &mut carol,
            Duration::from_millis(300),
            |_, _| false,
        )
        .await;
    }
    // The watcher sees alice's note come back.
    expect_both(&mut alice, &mut carol, "carol sees alice's note", |_, c| {
        c.timeline
            .newest_first()
            .any(|s| s.entry.message == "note while etcd is down (alice)")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_driver_killed_mid_step_leaves_it_unknown_to_whoever_takes_the_lease() {
    use common::tmux::Tmux;
    let lab = Lab::begin().await;
    let p = prefix("sigkill");
    let pid_file = lab.dir.path().join("step.pid");
    let runbook = slow_runbook_with_pid("8.25", &pid_file);
    assert!(runbook.contains("echo $$"), "{runbook}");
    let cfg = war_config(lab.dir.path(), &p, &runbook);
    let tmux = Tmux::start_args(&cfg.path, "wr-kill", "--operator alice", 80, 24);
    tmux.start_slow_run("kill test");
    let end = Instant::now() + DEADLINE;
    let started = loop {
        let record = shared(&cfg).await;
        if let Some((e, _)) = run_events(&record).into_iter().find(|(_, ev)| {
            matches!(
                ev,
                Event::StepStarted {
                    step: 0,
                    phase: Phase::Do
                }
            )
        }) {
            break e.clone();
        }
        assert!(
            Instant::now() < end,
            "the step never started: {}",
            tmux.screen()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let pid: u32 = started
        .console
        .as_deref()
        .and_then(|c| c.rsplit(':').next())
        .and_then(|p| p.parse().ok())
        .expect("pid in the console id");
    let status = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let killed = Instant::now();

    let bob_dir = tempfile::tempdir().unwrap();
    let bob_cfg = war_config(bob_dir.path(), &p, &runbook);
    let mut bob = start::<Live>(&bob_cfg, "bob").await;
    wait(&mut bob, "bob takes the lease once alice's expired", |m| {
        m.driver.token().is_some()
    })
    .await;
    let took = killed.elapsed();
    assert!(
        took >= Duration::from_secs(2),
        "the driver key must outlive a SIGKILL until its lease (3 s) expires: {took:?}"
    );
    wait(&mut bob, "the step unknown, read back", |m| {
        m.runs.current.as_ref().is_some_and(|r| {
            r.steps[0].status == StepStatus::Unknown
                && r.steps[0].phase == Phase::ReadBack
                && r.steps[0].finished.is_some()
        }) && m.runs.in_flight.is_none()
    })
    .await;
    shared_until(&cfg, "bob's resume of step 1", |record| {
        run_events(record).iter().any(|(e, ev)| {
            matches!(ev, Event::Resumed { interrupted } if interrupted == &vec![0])
                && e.operator.as_deref() == Some("bob")
        })
    })
    .await;
    // The command alice started may still be running: no retry before its timeout.
    key(&mut bob, KeyCode::Enter).await;
    let flash = bob.model.ui.flash.clone().map(|f| f.0).unwrap_or_default();
    assert!(
        flash.contains("no retry before"),
        "{flash:?}{}",
        run_dump(&bob.model)
    );
    assert_eq!(do_starts(&shared(&cfg).await, 0), 1);
    eprintln!("SIGKILLed driver: lease taken over after {took:?}");
    // Alice's command outlives her console (its own process group): end it, by its pid.
    let _ = std::process::Command::new("kill")
        .args(["-KILL", &common::tmux::step_pid(&pid_file).to_string()])
        .status();
    drop(tmux);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drivers_terminal_closed_mid_step_records_the_outcome_then_revokes_its_lease() {
    use common::tmux::{Tmux, process_exists, slow_runbook, step_pid};
    let lab = Lab::begin().await;
    let p = prefix("sighup");
    let pid_file = lab.dir.path().join("child.pid");
    let cfg = war_config(lab.dir.path(), &p, &slow_runbook(&pid_file, 6));
    let tmux = Tmux::start_args(&cfg.path, "wr-hup", "--operator alice", 80, 24);
    tmux.start_slow_run("hangup test");
    let record = shared_until(&cfg, "the step's start", |r| do_starts(r, 0) == 1).await;
    let console: u32 = record
        .iter()
        .find_map(|e| e.console.as_deref()?.rsplit(':').next()?.parse().ok())
        .expect("the console's pid in its id");
    let child = step_pid(&pid_file);

    // The SSH session drops: the terminal goes away under the console.
    tmux.kill();
    let end = Instant::now() + Duration::from_secs(25);
    while process_exists(console) {
        assert!(Instant::now() < end, "the console never stopped");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let exited = Instant::now();
    // The driver key is gone at once: revoked, not left to expire (its lease is 3 s).
    let mut client = etcd_client::Client::connect(endpoints(), None)
        .await
        .expect("etcd");
    let key = client
        .get(format!("{p}/driver"), None)
        .await
        .expect("read the driver key");
    let looked = exited.elapsed();
    assert!(
        key.kvs().is_empty() && looked < Duration::from_secs(1),
        "the driver key outlived the console ({looked:?} after it exited)"
    );
    assert!(!process_exists(child), "the step's command is gone");

    // In the shared record: the step's outcome (it ran its full time), then the stop, which
    // releases the driver.
    let record = shared_until(&cfg, "the stop", |r| {
        r.iter().any(|e| e.message == "stopped: SIGHUP")
    })
    .await;
    let text = journal_text(&record);
    let outcome = record
        .iter()
        .position(|e| {
            matches!(
                e.run.as_ref().map(|r| &r.event),
                Some(Event::StepFinished {
                    step: 0,
                    phase: Phase::Do,
                    result: StepResult::Ok,
                    elapsed_ms,
                    ..
                }) if *elapsed_ms >= 6000
            )
        })
        .unwrap_or_else(|| panic!("no full-length ok outcome:\n{text}"));
    let stopped = record
        .iter()
        .position(|e| e.message == "stopped: SIGHUP")
        .unwrap();
    assert!(outcome < stopped, "the outcome comes first:\n{text}");
    assert!(
        matches!(
            record[stopped].driver,
            Some(failover_core::timeline::DriverMark::Released { .. })
        ),
        "the stop releases the driver:\n{text}"
    );
    drop(tmux);
}
