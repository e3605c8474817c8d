//! The timeline with a long journal (issue 7, figure 4): start-up replay of a journal of
//! 1,000,000 entries (the newest 5,000 read for the timeline, the latest run found), and one
//! frame with the timeline focused and filtered at 250x70.
//!
//! Issue 15: start-up on a 200 MiB journal with no newline at all (one over-long line: the
//! readers skip lines over 1 MiB and read at most 32 MiB back), and on one of 200 MiB of lines.
//!
//! `cargo bench --bench timeline` writes the journals once under target/bench/ (about 650 MB).
//! Under `cargo test` (no `--bench`) it runs each case once on 20,000 entries and 4 MiB.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use failover_console::journal::{read_runs, read_tail};
use failover_core::app::model::TIMELINE_CAPACITY;
use failover_core::app::{Mode, Model, Msg, update};
use failover_core::theme::{Theme, View};
use failover_core::timeline::{Entry, Kind, Severity};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use time::macros::datetime;

const CONFIG: &str = r#"
[console]
title = "orders: site A / site B"
[sites.primary]
label = "site A"
[sites.secondary]
label = "site B"
[[health]]
name = "api-a"
site = "primary"
http = "http://127.0.0.1:18081/healthz"
"#;

fn entries_wanted() -> usize {
    if std::env::args().any(|a| a == "--bench") {
        1_000_000
    } else {
        20_000
    }
}

/// A journal of `n` entries like a long incident's: check edges, notes, and one run near the
/// start, so that finding the latest run means reading back through the whole file.
fn journal(n: usize) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    std::fs::create_dir_all(&dir).expect("target/bench");
    let path = dir.join(format!("journal-{n}.jsonl"));
    if path.exists() {
        return path;
    }
    let tmp = path.with_extension("tmp");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&tmp).expect("create journal"));
    let t0 = datetime!(2026-12-01 00:00:00 UTC);
    let run = r#"{"at":"2026-12-01T00:00:00Z","severity":"warn","kind":"run","source":"run/failover","message":"ARMED failover → site B by alice: drill","operator":"alice","run":{"id":"20261201T000000Z-failover","runbook":"failover","event":"armed","target":"secondary","reason":"drill","steps":["Replica caught up"],"expected_primaries":[]}}"#;
    writeln!(out, "{run}").expect("write");
    for i in 0..n - 1 {
        let at = t0 + time::Duration::milliseconds(i as i64 * 50);
        let (severity, source, message) = match i % 4 {
            0 => (
                Severity::Crit,
                format!("health/api-{}", i % 50),
                "healthy → unhealthy after 3 failed: status 503 (expected 200)".to_string(),
            ),
            1 => (
                Severity::Ok,
                format!("health/api-{}", i % 50),
                "unhealthy → healthy after 2 ok (200)".to_string(),
            ),
            2 => (
                Severity::Warn,
                "dns/api.failover.test. A".to_string(),
                format!("@127.0.0.1:5353 10.0.1.{} → site A", i % 250),
            ),
            _ => (
                Severity::Info,
                "operator".to_string(),
                format!("note {i}: checked the load balancer"),
            ),
        };
        let e = Entry::new(at, severity, Kind::Edge, source, message);
        serde_json::to_writer(&mut out, &e).expect("write");
        out.write_all(b"\n").expect("write");
    }
    out.flush().expect("flush");
    drop(out);
    std::fs::rename(&tmp, &path).expect("rename");
    path
}

fn bytes_wanted() -> u64 {
    if std::env::args().any(|a| a == "--bench") {
        200 << 20
    } else {
        4 << 20
    }
}

/// A journal of `size` bytes: entry lines like `journal`'s (`lines`), or the same bytes with
/// every newline taken out (one line).
fn big_journal(size: u64, lines: bool) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    let kind = if lines { "lines" } else { "no-newline" };
    let path = dir.join(format!("journal-{size}-{kind}.jsonl"));
    if path.exists() {
        return path;
    }
    let source = journal(20_000);
    let mut text = std::fs::read(&source).expect("the 20,000-entry journal");
    if !lines {
        text.retain(|b| *b != b'\n');
    }
    let tmp = path.with_extension("tmp");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&tmp).expect("create journal"));
    let mut written = 0u64;
    while written < size {
        let n = text.len().min((size - written) as usize);
        out.write_all(&text[..n]).expect("write");
        written += n as u64;
    }
    if lines {
        out.write_all(b"\n").expect("write");
    }
    out.flush().expect("flush");
    drop(out);
    std::fs::rename(&tmp, &path).expect("rename");
    path
}

fn model_with(path: &Path) -> Model {
    let config =
        failover_console::config::from_str(CONFIG, Path::new("bench.toml")).expect("config");
    let view = View {
        theme: Theme::load("dark").expect("theme"),
        ascii: false,
    };
    let now = datetime!(2026-12-01 14:00:00 UTC);
    let mut m = Model::new(Arc::new(config), Mode::Watch, "bench".into(), view, now);
    for e in read_tail(path, TIMELINE_CAPACITY).expect("tail").entries {
        m.timeline.push(e, true);
    }
    m
}

fn key(m: &mut Model, code: KeyCode) {
    update(m, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn benches(c: &mut Criterion) {
    let path = journal(entries_wanted());
    let mut group = c.benchmark_group("timeline");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(5));
    group.bench_function("startup_replay", |b| {
        b.iter(|| {
            let tail = read_tail(&path, TIMELINE_CAPACITY).expect("tail");
            let runs = read_runs(&path).expect("runs");
            assert_eq!(tail.entries.len(), TIMELINE_CAPACITY);
            assert_eq!(runs.len(), 1, "the run near the start is found");
        })
    });
    for lines in [false, true] {
        let big = big_journal(bytes_wanted(), lines);
        let name = if lines {
            "startup_200mib_lines"
        } else {
            "startup_200mib_no_newline"
        };
        group.bench_function(name, |b| {
            b.iter(|| {
                let tail = read_tail(&big, TIMELINE_CAPACITY).expect("tail");
                let runs = read_runs(&big).expect("runs");
                if lines {
                    assert_eq!(tail.entries.len(), TIMELINE_CAPACITY);
                    assert!(!runs.is_empty(), "the run is found");
                } else {
                    assert!(tail.entries.is_empty() && runs.is_empty());
                    assert!(tail.torn_last_line, "one line, with no newline");
                }
            })
        });
    }
    let mut m = model_with(&path);
    // Focus the timeline and filter it as an operator does: '/' then the text, Enter.
    key(&mut m, KeyCode::Char('/'));
    for c in "api-7".chars() {
        key(&mut m, KeyCode::Char(c));
    }
    key(&mut m, KeyCode::Enter);
    let mut terminal = Terminal::new(TestBackend::new(250, 70)).expect("terminal");
    group.bench_function("frame_filtered_250x70", |b| {
        b.iter(|| {
            // The whole frame is rendered every time; only the terminal write is a diff.
            terminal
                .draw(|frame| failover_core::ui::render(frame, &m))
                .expect("draw");
        })
    });
    group.finish();
}

criterion_group!(timeline, benches);
criterion_main!(timeline);
