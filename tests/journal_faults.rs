//! The journal failing under a running console, through the engine, without a terminal or the
//! lab: a journal deleted (re-created within a second, with a banner and an entry that says
//! why).

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::keys::run_dump;
use failover_console::engine::{Engine, Live};
use failover_console::journal;
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
