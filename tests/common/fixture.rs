//! What the model and screen tests share: a model from a config's text, messages applied as the
//! engine applies them, times after a test's start, and the screen at both sizes.
#![allow(dead_code, unused_macros, unused_imports)]

use std::path::Path;
use std::sync::Arc;

use failover_core::app::{Effect, Mode, Model, Msg, update};
use failover_core::runbook::{Event, RunEvent};
use failover_core::theme::{Theme, View};
use failover_core::timeline::{Entry, Kind, Severity};
use time::OffsetDateTime;

/// The smallest normal terminal, and the wide layout.
pub const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

/// `secs` after `t0`.
pub fn after(t0: OffsetDateTime, secs: f64) -> OffsetDateTime {
    t0 + time::Duration::seconds_f64(secs)
}

/// The dark theme, in Unicode or ASCII.
pub fn dark(ascii: bool) -> View {
    View {
        theme: Theme::load("dark").expect("the dark theme"),
        ascii,
    }
}

/// The mono theme in ASCII, as `status` draws.
pub fn mono() -> View {
    View {
        theme: Theme::mono(),
        ascii: true,
    }
}

/// A model of the config in `text`, started at `t0`. A live one holds the recorder lock, as a
/// console alone on its journal does a moment after it starts: it records the edges.
pub fn model(text: &str, mode: Mode, operator: &str, view: View, t0: OffsetDateTime) -> Model {
    let config = failover_console::config::from_str(text, Path::new("test.toml"))
        .expect("test config is valid");
    let mut m = Model::new(Arc::new(config), mode, operator.into(), view, t0);
    m.recorder = mode == Mode::Live;
    m
}

/// `update`, then every recorded entry back as journaled, as the engine does; the entries.
pub fn apply(m: &mut Model, msg: Msg) -> Vec<Entry> {
    let mut recorded = Vec::new();
    for effect in update(m, msg) {
        if let Effect::Record(entry) = effect {
            recorded.push(entry.clone());
            update(m, Msg::Journaled { entry, error: None });
        }
    }
    recorded
}

/// The entries `effects` ask to record.
pub fn records(effects: &[Effect]) -> Vec<Entry> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Record(entry) => Some(entry.clone()),
            _ => None,
        })
        .collect()
}

/// `update` alone: the entries it asks to record, not fed back.
pub fn step(m: &mut Model, msg: Msg) -> Vec<Entry> {
    records(&update(m, msg))
}

/// Snapshots the screen at both sizes, as `<name>_<w>x<h>` in the calling test file's snapshots.
macro_rules! snapshot_both {
    ($name:expr, $model:expr) => {
        for (w, h) in fixture::SIZES {
            insta::assert_snapshot!(format!("{}_{w}x{h}", $name), screen::render($model, w, h));
        }
    };
}
pub(crate) use snapshot_both;

/// A runbook of every step kind for the test configs (sites primary/secondary, database
/// "orders", record api.failover.test.): two gates, an action with a rollback, a wait, a
/// manual step.
pub const RUNBOOK: &str = r#"
[[runbook]]
name = "failover"
from = "primary"
to = "secondary"

[[runbook.step]]
title = "Replica caught up"
gate = "lag"
database = "orders"

[[runbook.step]]
title = "Site B healthy"
gate = "healthy"
site = "secondary"

[[runbook.step]]
title = "Fence site A"
action = "exec"
command = ["true"]
rollback = { action = "exec", command = ["true"] }

[[runbook.step]]
title = "Resolvers answer site B"
wait = "dns"
record = "api.failover.test."
timeout = "90s"

[[runbook.step]]
title = "Update the status page"
manual = "Post the incident template"
"#;

/// RUNBOOK's steps, as an arm journals them.
pub const RUNBOOK_STEPS: [&str; 5] = [
    "Replica caught up",
    "Site B healthy",
    "Fence site A",
    "Resolvers answer site B",
    "Update the status page",
];

/// The console that drives in these tests when another one does ("bob@ops" on a bastion).
pub const BOB_CONSOLE: &str = "bastion:4242";
pub const BOB_TOKEN: u64 = 7;

/// Bob as the holder of the driver lock, as the record says.
pub fn bob_drives() -> failover_core::timeline::LockInfo {
    failover_core::timeline::LockInfo {
        operator: "bob@ops".into(),
        host: "bastion".into(),
        pid: 4242,
        since: time::macros::datetime!(2026-03-01 11:00 UTC),
        console: BOB_CONSOLE.into(),
        token: BOB_TOKEN,
        ssh: None,
    }
}

/// An entry of RUNBOOK's run `id`, as a console (this one or another) journals it; written
/// by bob's console under his token (what counts when bob drives: `bob_drives`).
pub fn run_entry(at: OffsetDateTime, id: &str, by: &str, event: Event) -> Entry {
    let mut entry = Entry::new(
        at,
        Severity::Info,
        Kind::Run,
        "run/failover",
        describe(&event),
    )
    .by(by);
    entry.run = Some(RunEvent {
        id: id.into(),
        runbook: "failover".into(),
        event,
    });
    entry.console = Some(BOB_CONSOLE.into());
    entry.token = Some(BOB_TOKEN);
    entry
}

/// A run event's timeline line, close to what the console journals.
fn describe(event: &Event) -> String {
    match event {
        Event::Armed { target, reason, .. } => format!("ARMED failover -> {target}: {reason}"),
        Event::GatePassed { step, evidence } => {
            format!("step {} gate passed: {evidence}", step + 1)
        }
        Event::StepStarted { step, phase } => format!("step {} {phase:?} started", step + 1),
        Event::StepFinished {
            step,
            phase,
            result,
            detail,
            ..
        } => format!("step {} {phase:?} {result:?}: {detail}", step + 1),
        other => format!("{other:?}"),
    }
}
