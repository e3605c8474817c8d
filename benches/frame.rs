//! One frame of a busy console (issue 7): 50 HTTP checks, all healthy, at 160x48, as the idle
//! benchmark shows it; and the reducer's work for one probe result like the last.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use failover_core::app::{Effect, Mode, Model, Msg, update};
use failover_core::kinds::{Observation, health::ProbeOutcome};
use failover_core::theme::{Theme, View};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use time::macros::datetime;

fn config() -> String {
    let mut text = String::from(
        "[console]\ntitle = \"bench 50\"\n[sites.primary]\nlabel = \"site A\"\n[sites.secondary]\nlabel = \"site B\"\n",
    );
    for i in 1..=50 {
        text.push_str(&format!(
            "[[health]]\nname = \"b{i}\"\nsite = \"primary\"\nhttp = \"http://127.0.0.1:18080/ep/b{i}/healthz\"\ninterval = \"1s\"\n"
        ));
    }
    text
}

fn probe(check: usize, secs: i64) -> Msg {
    Msg::Observed(Observation::Probe {
        check,
        at: datetime!(2026-12-01 14:00:00 UTC) + time::Duration::seconds(secs),
        outcome: ProbeOutcome {
            ok: true,
            latency: Duration::from_micros(500),
            detail: "200".into(),
        },
    })
}

fn model() -> Model {
    let config = failover_console::config::from_str(&config(), Path::new("bench.toml")).unwrap();
    let view = View {
        theme: Theme::load("dark").unwrap(),
        ascii: false,
    };
    let now = datetime!(2026-12-01 14:00:00 UTC);
    let mut m = Model::new(Arc::new(config), Mode::Live, "bench".into(), view, now);
    for s in 0..3 {
        for c in 0..50 {
            for e in update(&mut m, probe(c, s)) {
                if let Effect::Record(entry) = e {
                    update(&mut m, Msg::Journaled { entry, error: None });
                }
            }
        }
    }
    m
}

fn benches(c: &mut Criterion) {
    let mut m = model();
    let mut group = c.benchmark_group("frame");
    group
        .sample_size(50)
        .measurement_time(Duration::from_secs(4));
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).unwrap();
    group.bench_function("render_50_checks_160x48", |b| {
        b.iter(|| {
            terminal
                .draw(|frame| failover_core::ui::render(frame, &m))
                .unwrap();
        })
    });
    let mut s = 3;
    group.bench_function("update_steady_probe", |b| {
        b.iter(|| {
            s += 1;
            update(&mut m, probe((s % 50) as usize, s / 50 + 3))
        })
    });
    group.finish();
}

criterion_group!(frame, benches);
criterion_main!(frame);
