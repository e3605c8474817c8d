//! The journal failing under a running console, through the engine, without a terminal or the
//! lab: a journal deleted (re-created within a second, with a banner and an entry that says
//! why), and a journal whose writes fail (`/dev/full`: no run armed, no step started, the step
//! not left running).

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::keys::{arm, key, run_dump};
use crossterm::event::KeyCode;
use failover_console::engine::{Engine, Live};
use failover_console::journal;
use failover_core::app::Model;
use failover_core::runbook::{Event, StepStatus};
use failover_core::theme::{Theme, View};
use failover_core::timeline::Severity;

/// A console with one source (a port nothing listens on) and a one-step runbook whose command
/// leaves a mark (`ran`) in `dir`; its journal is `journal` (relative to `dir`).
fn config(dir: &Path, journal: &str) -> Arc<failover_console::config::Config> {
    let path = dir.join("config.toml");
    let mark = dir.join("ran");
    std::fs::write(
        &path,
        format!(
            r#"
[console]
title = "journal faults"
journal = "{journal}"

[sites.primary]
label = "site A"
[sites.secondary]
label = "site B"

[[health]]
name = "nothing"
site = "primary"
tcp = "127.0.0.1:9"
interval = "1s"
timeout = "200ms"

[[runbook]]
name = "mark"
description = "One command that leaves a mark"
from = "primary"
to = "secondary"

[[runbook.step]]
title = "Leave a mark"
action = "exec"
command = ["touch", "{}"]
timeout = "10s"
"#,
            mark.display()
        ),
    )
    .expect("write the config");
    Arc::new(failover_console::config::load(&path).expect("config loads"))
}

async fn driving(config: Arc<failover_console::config::Config>) -> Engine<Live> {
    let view = View {
        theme: Theme::mono(),
        ascii: true,
    };
    let mut engine = Engine::<Live>::start(config, "alice".into(), view)
        .await
        .expect("engine starts");
    let driving = engine
        .run_until(Duration::from_secs(5), |m| m.driver.token().is_some())
        .await;
    assert!(driving, "the console drives{}", run_dump(&engine.model));
    engine
}

fn flash(m: &Model) -> &str {
    m.ui.flash.as_ref().map(|f| f.0.as_str()).unwrap_or("")
}

#[tokio::test]
async fn a_deleted_journal_is_re_created_within_a_second_with_a_banner_and_why() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "journal.jsonl");
    let mut engine = driving(config.clone()).await;
    std::fs::remove_file(&config.journal).unwrap();
    let deleted = std::time::Instant::now();
    let seen = engine
        .run_until(Duration::from_secs(3), |m| m.journal_recreated.is_some())
        .await;
    assert!(seen, "the delete is noticed{}", run_dump(&engine.model));
    assert!(
        deleted.elapsed() < Duration::from_millis(1500),
        "within the writer's 1 s check ({:?})",
        deleted.elapsed()
    );
    let screen = common::screen::render(&engine.model, 120, 30);
    assert!(screen.contains("JOURNAL RE-CREATED"), "{screen}");

    // The new file starts with why; what follows is written there.
    let note = engine
        .run_until(Duration::from_secs(3), |m| {
            m.timeline
                .newest_first()
                .any(|s| s.entry.message.starts_with("journal re-created"))
        })
        .await;
    assert!(note, "the re-creation is on the timeline");
    engine.shutdown("SIGTERM").await;
    let (entries, unreadable) = journal::read_all(&config.journal).expect("the new journal");
    assert_eq!(unreadable, 0);
    let first = &entries[0];
    assert_eq!(first.severity, Severity::Warn);
    assert!(
        first.message.starts_with(&format!(
            "journal re-created: {} was deleted while the console ran",
            config.journal.display()
        )),
        "{}",
        first.message
    );
    assert_eq!(
        entries.last().map(|e| e.message.as_str()),
        Some("stopped: SIGTERM")
    );
}

#[tokio::test]
async fn while_journal_writes_fail_nothing_is_armed_and_no_step_starts() {
    let dir = tempfile::tempdir().unwrap();
    // The journal is a symlink: first to a file, then to /dev/full (every write: ENOSPC).
    let file = dir.path().join("journal-1.jsonl");
    let link = dir.path().join("journal.jsonl");
    std::os::unix::fs::symlink(&file, &link).unwrap();
    let config = config(dir.path(), "journal.jsonl");
    let mut engine = driving(config.clone()).await;

    // A disk that fills before the run is armed: nothing is armed.
    let full = dir.path().join("full.jsonl");
    std::os::unix::fs::symlink("/dev/full", &full).unwrap();
    std::fs::rename(&full, &link).unwrap();
    let failing = engine
        .run_until(Duration::from_secs(3), |m| m.journal_problem.is_some())
        .await;
    assert!(
        failing,
        "the writer finds /dev/full{}",
        run_dump(&engine.model)
    );
    arm(&mut engine, 0, "secondary", "drill").await;
    let refused = engine
        .run_until(Duration::from_secs(3), |m| {
            flash(m).starts_with("not armed")
        })
        .await;
    assert!(refused, "the arm is refused: {:?}", flash(&engine.model));
    assert!(
        engine.model.runs.current.is_none(),
        "no run ARMED with nothing on disk"
    );

    // The disk has room again: the run is armed.
    let room = dir.path().join("room.jsonl");
    std::os::unix::fs::symlink(dir.path().join("journal-2.jsonl"), &room).unwrap();
    std::fs::rename(&room, &link).unwrap();
    let writing = engine
        .run_until(Duration::from_secs(3), |m| m.journal_problem.is_none())
        .await;
    assert!(writing, "writes succeed again{}", run_dump(&engine.model));
    arm(&mut engine, 0, "secondary", "drill").await;
    let armed = engine
        .run_until(Duration::from_secs(3), |m| {
            m.runs.current.as_ref().is_some_and(|r| r.is_active())
        })
        .await;
    assert!(armed, "armed once on disk{}", run_dump(&engine.model));

    // Full again: Enter on the step refuses it, and it is not left running.
    let full = dir.path().join("full.jsonl");
    std::os::unix::fs::symlink("/dev/full", &full).unwrap();
    std::fs::rename(&full, &link).unwrap();
    let failing = engine
        .run_until(Duration::from_secs(3), |m| m.journal_problem.is_some())
        .await;
    assert!(failing, "the writer finds /dev/full again");
    for attempt in 0..2 {
        key(&mut engine, KeyCode::Enter).await;
        let settled = engine
            .run_until(Duration::from_secs(5), |m| {
                m.runs.in_flight.is_none()
                    && m.runs.current.as_ref().is_some_and(|r| {
                        r.steps[0]
                            .detail
                            .starts_with("refused: the start could not be recorded")
                    })
            })
            .await;
        assert!(
            settled,
            "attempt {attempt}: refused{}",
            run_dump(&engine.model)
        );
        let step = &engine.model.runs.current.as_ref().unwrap().steps[0];
        assert_eq!(step.status, StepStatus::Pending, "attempt {attempt}");
        // The executor's task lets go of its place just after it sends the refusal.
        tokio::time::timeout(Duration::from_secs(2), engine.in_flight().idle())
            .await
            .expect("no step in flight");
    }
    assert!(!dir.path().join("ran").exists(), "the command never ran");
    engine.shutdown("SIGTERM").await;
    // The second file holds the arm and no step start. (A milestone may be there too: this
    // runbook moves nothing, so its target site serves from the first tick after arming, which
    // can come before the disk fills again.)
    let (entries, _) = journal::read_all(&dir.path().join("journal-2.jsonl")).unwrap();
    let events: Vec<&Event> = entries
        .iter()
        .filter_map(|e| e.run.as_ref().map(|r| &r.event))
        .filter(|e| !matches!(e, Event::Milestone { .. }))
        .collect();
    assert!(matches!(events[..], [Event::Armed { .. }]), "{events:?}");
}

#[tokio::test]
async fn export_copies_jsonl_bytes_and_refuses_to_write_over_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "journal.jsonl");
    let mut bytes = b"{\"not\":\"an entry\"}\nnot utf-8: \xff\xfe\n".to_vec();
    bytes.extend(br#"{"at":"2026-12-06T12:00:00Z","severity":"info","kind":"note","source":"operator","message":"a note"}"#);
    bytes.push(b'\n');
    std::fs::write(&config.journal, &bytes).unwrap();
    let exported = failover_console::cli::export_bytes(&config, true, false)
        .await
        .expect("a jsonl export of a journal with a byte that is not UTF-8");
    assert_eq!(exported, bytes);

    // The real command, told to write over the journal (here through a symlink).
    let link = dir.path().join("export.jsonl");
    std::os::unix::fs::symlink(&config.journal, &link).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_failover-console"))
        .arg("--config")
        .arg(dir.path().join("config.toml"))
        .args(["journal", "export", "--format", "jsonl", "--output"])
        .arg(&link)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("is the journal itself"), "{stderr}");
    assert_eq!(std::fs::read(&config.journal).unwrap(), bytes);

    // Elsewhere: written, byte for byte.
    let elsewhere = dir.path().join("copy.jsonl");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_failover-console"))
        .arg("--config")
        .arg(dir.path().join("config.toml"))
        .args(["journal", "export", "--format", "jsonl", "--output"])
        .arg(&elsewhere)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(&elsewhere).unwrap(), bytes);
}
