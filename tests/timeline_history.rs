//! A journal longer than the timeline holds: start-up reads only its newest entries, and
//! scrolling down the timeline reads older history a page at a time, back to the first line,
//! through the engine as the console runs it. No lab: a config with no sources.

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use failover_console::engine::{Engine, Watch};
use failover_console::journal::Journal;
use failover_core::app::Msg;
use failover_core::theme::{Theme, View};
use failover_core::timeline::{Entry, Kind, Older, Severity};
use time::macros::datetime;

const ENTRIES: usize = 12_000;

fn entry(n: usize) -> Entry {
    Entry::new(
        datetime!(2026-11-25 04:00 UTC) + time::Duration::seconds(n as i64),
        Severity::Info,
        Kind::Note,
        "history",
        format!("entry {n}"),
    )
}

async fn press(engine: &mut Engine<Watch>, code: KeyCode) {
    engine
        .handle(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
        .await;
}

/// Runs the engine until `done` holds, 10 s at most.
async fn until(
    engine: &mut Engine<Watch>,
    what: &str,
    done: impl FnMut(&failover_core::app::Model) -> bool,
) {
    assert!(
        engine.run_until(Duration::from_secs(10), done).await,
        "timed out waiting for: {what} (timeline holds {}, older {:?})",
        engine.model.timeline.len(),
        engine.model.timeline.older
    );
}

#[tokio::test]
async fn scrolling_down_reads_older_history_a_page_at_a_time_to_the_first_entry() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.jsonl");
    let mut journal = Journal::open(&path).unwrap();
    for n in 0..ENTRIES {
        journal.append(&entry(n)).unwrap();
    }
    drop(journal);
    let config_path = dir.path().join("config.toml");
    std::fs::write(
        &config_path,
        format!(
            "[console]\ntitle = \"history\"\njournal = \"{}\"\n\n\
             [sites.primary]\nlabel = \"site A\"\n[sites.secondary]\nlabel = \"site B\"\n",
            path.display()
        ),
    )
    .unwrap();
    let config = std::sync::Arc::new(failover_console::config::load(&config_path).unwrap());
    let view = View {
        theme: Theme::mono(),
        ascii: true,
    };
    let mut engine = Engine::<Watch>::start(config, "history-test".into(), view)
        .await
        .expect("engine starts");

    // Start-up: the newest 5,000, older history below.
    let oldest = |e: &Engine<Watch>| e.model.timeline.oldest().map(|e| e.message.clone());
    assert_eq!(engine.model.timeline.len(), 5000);
    assert_eq!(oldest(&engine).as_deref(), Some("entry 7000"));
    assert!(matches!(engine.model.timeline.older, Older::Before(_)));
    // The console's own start line comes in once journaled and pushes "entry 7000" out: older
    // history now begins after it.
    until(&mut engine, "the start line", |m| {
        m.timeline
            .newest_first()
            .any(|s| s.entry.message.starts_with("started"))
    })
    .await;
    let held = engine.model.timeline.len();
    assert_eq!(held, 5000);
    assert_eq!(oldest(&engine).as_deref(), Some("entry 7001"));

    // Focus the timeline (Tab until it has the focus), then the end of it: the next page.
    for _ in 0..6 {
        if engine.model.ui.focus == failover_core::app::model::Pane::Timeline {
            break;
        }
        press(&mut engine, KeyCode::Tab).await;
    }
    assert_eq!(
        engine.model.ui.focus,
        failover_core::app::model::Pane::Timeline
    );
    press(&mut engine, KeyCode::End).await;
    until(&mut engine, "a second page", |m| {
        m.timeline.len() >= held + 5000
    })
    .await;
    assert_eq!(oldest(&engine).as_deref(), Some("entry 2001"));
    // Where the operator was reading stays put: the page came in below it.
    press(&mut engine, KeyCode::End).await;
    until(&mut engine, "the first entry", |m| {
        m.timeline.older == Older::None && !m.timeline.reading_older
    })
    .await;
    assert_eq!(oldest(&engine).as_deref(), Some("entry 0"));
    // Every entry once, in order.
    let messages: Vec<String> = engine
        .model
        .timeline
        .newest_first()
        .map(|s| s.entry.message.clone())
        .filter(|m| m.starts_with("entry "))
        .collect();
    let want: Vec<String> = (0..ENTRIES).rev().map(|n| format!("entry {n}")).collect();
    let first_difference = messages.iter().zip(&want).position(|(a, b)| a != b);
    assert!(
        messages.len() == want.len() && first_difference.is_none(),
        "{} entries (want {}), first difference at {first_difference:?}: {:?}",
        messages.len(),
        want.len(),
        first_difference.map(|i| &messages[i.saturating_sub(2)..(i + 3).min(messages.len())])
    );

    // The filter covers the pages read back too.
    engine.model.timeline.set_filter("entry 1234");
    let found: Vec<String> = engine
        .model
        .timeline
        .shown_newest_first()
        .map(|s| s.entry.message.clone())
        .collect();
    assert_eq!(found, ["entry 1234"]);
    engine.shutdown("test over").await;
}
