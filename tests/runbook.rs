//! Runbooks end to end on the real lab, through the same key events an operator sends: arm,
//! gates, promote, DNS update, wait, manual step; wrong names, blocked gates, dry runs, a second
//! console, watch mode, failback. The real binary at 80x24 in tmux, killed with SIGKILL mid-step
//! and resumed, is in `runbook_tmux.rs`.
// Needs the lab (`scripts/lab up`): run by `scripts/test`, which turns the feature on.
#![cfg(feature = "lab")]

mod common;

use std::time::Duration;

use common::keys::*;
use common::*;
use crossterm::event::KeyCode;
use failover_console::engine::{Engine, Live, Watch};
use failover_core::app::model::{Driver, Overlay};
use failover_core::kinds::postgres::Role;
use failover_core::runbook::{Event, RunState, StepStatus};
use failover_core::theme::{Theme, View};
use failover_core::timeline::Entry;

const FAILOVER: usize = 0;
const FAILBACK: usize = 1;
const B_IP: &str = "10.0.2.100";
const A_IP: &str = "10.0.1.100";

fn tsig_hint() {
    assert!(
        std::env::var("FAILOVER_TSIG_SECRET").is_ok(),
        "FAILOVER_TSIG_SECRET is not set: run the tests with scripts/test (it exports `scripts/lab env`)"
    );
}

async fn driving(lab: &Lab) -> Engine {
    tsig_hint();
    let mut engine = lab.engine().await;
    wait(&mut engine, "the driver lock and a normal lab", |m| {
        m.driver.token().is_some() && normal(m)
    })
    .await;
    engine
}

fn run_events(entries: &[Entry]) -> Vec<Event> {
    entries
        .iter()
        .filter_map(|e| e.run.as_ref().map(|r| r.event.clone()))
        .collect()
}

async fn psql(lab: &Lab, port_var: &str, default: u16, sql: &str) -> String {
    let port = env_port(port_var, default).to_string();
    let out = tokio::process::Command::new("/usr/lib/postgresql/15/bin/psql")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-Atc",
            sql,
        ])
        .output()
        .await
        .expect("run psql");
    let _ = lab;
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

async fn dig(port_var: &str, default: u16) -> String {
    let port = env_port(port_var, default).to_string();
    let out = tokio::process::Command::new("dig")
        .args([
            "+short",
            "@127.0.0.1",
            "-p",
            &port,
            "api.failover.test.",
            "A",
        ])
        .output()
        .await
        .expect("run dig");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The whole failover, keys only, against the real PostgreSQL pair and DNS servers.
async fn failover(lab: &Lab, engine: &mut Engine) {
    arm(engine, FAILOVER, "secondary", "e2e: site A is failing").await;
    wait(engine, "the run armed", |m| {
        m.runs
            .current
            .as_ref()
            .is_some_and(|r| r.is_active() && !r.dry_run)
    })
    .await;
    do_step(engine, 0).await; // lag gate
    do_step(engine, 1).await; // healthy gate
    // Site A still answers as a writable primary: promote asks for a second, typed confirmation.
    key(engine, KeyCode::Enter).await;
    assert!(
        matches!(&engine.model.ui.overlay, Overlay::Prompt(p) if format!("{:?}", p.purpose).contains("SplitBrain")),
        "promoting while the old primary is writable must ask again{}",
        run_dump(&engine.model)
    );
    type_line(engine, "promote").await;
    let ok = engine
        .run_until(Duration::from_secs(30), |m| {
            step_status(m, 2) == Some(StepStatus::Ok) && m.runs.in_flight.is_none()
        })
        .await;
    assert!(ok, "promote did not finish{}", run_dump(&engine.model));
    assert_eq!(
        psql(
            lab,
            "LAB_PG_REPLICA_PORT",
            54322,
            "SELECT pg_is_in_recovery()"
        )
        .await,
        "f",
        "node b is really primary"
    );
    do_step(engine, 3).await; // dns on the main server
    assert_eq!(
        dig("LAB_DNS_PORT", 5353).await,
        B_IP,
        "the main DNS server really answers site B"
    );
    do_step(engine, 4).await; // dns on the second server
    assert_eq!(dig("LAB_DNS2_PORT", 5354).await, B_IP);
    // The wait finishes by itself once every resolver answers site B.
    key(engine, KeyCode::Enter).await;
    let ok = engine
        .run_until(Duration::from_secs(20), |m| {
            step_status(m, 5) == Some(StepStatus::Ok)
        })
        .await;
    assert!(
        ok,
        "the DNS wait did not see site B{}",
        run_dump(&engine.model)
    );
    do_step(engine, 6).await; // manual
    let ok = engine
        .run_until(Duration::from_secs(5), |m| {
            m.runs
                .current
                .as_ref()
                .is_some_and(|r| r.state == RunState::Finished)
        })
        .await;
    assert!(ok, "the run did not finish{}", run_dump(&engine.model));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_by_keys_promotes_and_repoints_dns_and_journals_every_step() {
    let lab = Lab::begin().await;
    let mut engine = driving(&lab).await;
    failover(&lab, &mut engine).await;
    // The ended run stays on screen; Enter does not offer to arm it again.
    assert!(engine.model.run_pane_open() && engine.model.runs.plan.is_none());
    key(&mut engine, KeyCode::Enter).await;
    assert!(
        matches!(engine.model.ui.overlay, Overlay::None),
        "{}",
        run_dump(&engine.model)
    );
    engine.shutdown("test done").await;

    let entries = lab.journal();
    let events = run_events(&entries);
    assert!(
        matches!(&events[0], Event::Armed { target, reason, .. } if target == "secondary" && reason == "e2e: site A is failing")
    );
    // Every action: started (journaled) before it finished, exactly once each.
    for step in [2, 3, 4] {
        let started: Vec<usize> = events
            .iter()
            .enumerate()
            .filter(|(_, e)| matches!(e, Event::StepStarted { step: s, .. } if *s == step))
            .map(|(i, _)| i)
            .collect();
        let finished: Vec<usize> = events
            .iter()
            .enumerate()
            .filter(|(_, e)| matches!(e, Event::StepFinished { step: s, .. } if *s == step))
            .map(|(i, _)| i)
            .collect();
        assert_eq!(
            (started.len(), finished.len()),
            (1, 1),
            "step {} starts and finishes once: {events:#?}",
            step + 1
        );
        assert!(
            started[0] < finished[0],
            "step {} journaled before it ran",
            step + 1
        );
    }
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::SplitBrainAccepted { step: 2, .. })),
        "the split-brain confirmation is on record"
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, Event::GatePassed { .. }))
            .count(),
        2
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::ManualDone { step: 6 }))
    );
    assert!(
        matches!(common::last_run_step(&events), Some(Event::Finished)),
        "{events:#?}"
    );
    for e in entries.iter().filter(|e| e.run.is_some()) {
        assert_eq!(
            e.operator.as_deref(),
            Some("lab-test"),
            "every run entry names the operator: {e:?}"
        );
    }
    let (code, markdown, _) = lab
        .console(&["journal", "export", "--format", "markdown"])
        .await;
    assert_eq!(code, 0);
    assert!(
        markdown.contains("## Runs") && markdown.contains("Reason: e2e: site A is failing"),
        "{markdown}"
    );
    assert!(markdown.contains("\"Promote site B\" ok in"), "{markdown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_site_name_arms_nothing() {
    let lab = Lab::begin().await;
    let mut engine = driving(&lab).await;
    key(&mut engine, KeyCode::Char('r')).await;
    key(&mut engine, KeyCode::Enter).await;
    key(&mut engine, KeyCode::Enter).await;
    type_line(&mut engine, "primary").await;
    assert!(
        matches!(engine.model.ui.overlay, Overlay::None),
        "a wrong name closes the prompt"
    );
    type_line(&mut engine, "secondary ").await; // not in a prompt any more: Enter opens it, text is not a name
    engine
        .run_until(Duration::from_millis(800), |_| false)
        .await;
    assert!(
        engine.model.runs.current.is_none(),
        "nothing armed{}",
        run_dump(&engine.model)
    );
    engine.shutdown("test done").await;
    assert!(
        run_events(&lab.journal()).is_empty(),
        "no run event in the journal"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_replay_blocks_the_lag_gate_until_overridden() {
    let lab = Lab::begin().await;
    let mut engine = driving(&lab).await;
    lab.run(&["pause-replay"]).await;
    lab.run(&["write", "3000"]).await;
    wait(&mut engine, "lag over the limit", |m| {
        m.kinds.postgres[0].members[1]
            .lag
            .as_ref()
            .is_some_and(|l| l.over_limit)
    })
    .await;
    arm(&mut engine, FAILOVER, "secondary", "gate test").await;
    wait(&mut engine, "armed", |m| m.runs.current.is_some()).await;
    key(&mut engine, KeyCode::Enter).await;
    engine
        .run_until(Duration::from_millis(800), |_| false)
        .await;
    assert_eq!(
        step_status(&engine.model, 0),
        Some(StepStatus::Pending),
        "a failing gate blocks Enter{}",
        run_dump(&engine.model)
    );
    let flash = engine
        .model
        .ui
        .flash
        .clone()
        .map(|f| f.0)
        .unwrap_or_default();
    assert!(
        flash.contains("gate blocks") && flash.contains("over"),
        "the operator is told why: {flash}"
    );
    // Override: the word, then a reason; a wrong word does nothing.
    key(&mut engine, KeyCode::Char('o')).await;
    type_line(&mut engine, "yes").await;
    assert_eq!(step_status(&engine.model, 0), Some(StepStatus::Pending));
    key(&mut engine, KeyCode::Char('o')).await;
    type_line(&mut engine, "override").await;
    type_line(&mut engine, "DBA accepts the loss of 3 MB").await;
    wait(&mut engine, "gate overridden", |m| {
        step_status(m, 0) == Some(StepStatus::Ok)
    })
    .await;
    engine.shutdown("test done").await;
    let events = run_events(&lab.journal());
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::GatePassed { step: 0, .. })),
        "the gate never passed"
    );
    assert!(
        events.iter().any(|e| matches!(e, Event::GateOverridden { step: 0, reason, evidence } if reason == "DBA accepts the loss of 3 MB" && evidence.contains("over"))),
        "{events:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_changes_nothing_and_says_so() {
    let lab = Lab::begin().await;
    let mut engine = driving(&lab).await;
    key(&mut engine, KeyCode::Char('r')).await;
    key(&mut engine, KeyCode::Enter).await;
    key(&mut engine, KeyCode::Char('D')).await;
    let ok = engine
        .run_until(Duration::from_secs(20), |m| {
            m.runs
                .current
                .as_ref()
                .is_some_and(|r| r.dry_run && r.state == RunState::Finished)
        })
        .await;
    assert!(ok, "the dry run did not finish{}", run_dump(&engine.model));
    engine.shutdown("test done").await;
    assert_eq!(
        psql(
            &lab,
            "LAB_PG_REPLICA_PORT",
            54322,
            "SELECT pg_is_in_recovery()"
        )
        .await,
        "t",
        "node b still a replica"
    );
    assert_eq!(dig("LAB_DNS_PORT", 5353).await, A_IP, "DNS unchanged");
    assert_eq!(dig("LAB_DNS2_PORT", 5354).await, A_IP, "DNS unchanged");
    let entries = lab.journal();
    let events = run_events(&entries);
    assert!(
        matches!(events.first(), Some(Event::DryRun { .. })),
        "{events:#?}"
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::StepStarted { .. } | Event::Armed { .. })),
        "nothing started: {events:#?}"
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, Event::DryRunStep { .. }))
            .count(),
        7,
        "every step evaluated: {events:#?}"
    );
    assert!(
        entries
            .iter()
            .filter(|e| e.run.is_some())
            .all(|e| e.message.to_lowercase().contains("dry run")),
        "every entry says dry run"
    );
    // The exact SQL and the exact DNS updates that would have been sent, as journaled: in the
    // event, and in the entry's message.
    let would = |step: usize| -> String {
        let (entry, would) = entries
            .iter()
            .find_map(|e| match e.run.as_ref().map(|r| &r.event) {
                Some(Event::DryRunStep {
                    step: s,
                    would,
                    blocked: None,
                }) if *s == step => Some((e, would.clone())),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no unblocked dry-run entry for step {}", step + 1));
        let title = RUNBOOK_TITLES[step];
        assert_eq!(
            entry.message,
            format!("dry run step {} {title:?}: would run: {would}", step + 1)
        );
        would
    };
    let pg_b = env_port("LAB_PG_REPLICA_PORT", 54322);
    assert_eq!(
        would(2),
        format!(
            "on orders/site B (host 127.0.0.1 port {pg_b} user postgres db postgres): \
             SELECT pg_is_in_recovery()  -- must be true ; SELECT pg_promote(true, 60)"
        )
    );
    for (step, var, default) in [(3, "LAB_DNS_PORT", 5353), (4, "LAB_DNS2_PORT", 5354)] {
        let port = env_port(var, default);
        assert_eq!(
            would(step),
            format!(
                "server 127.0.0.1 {port} ; \
                 zone: from the server's SOA for api.failover.test. (asked before sending) ; \
                 update delete api.failover.test. A ; \
                 update add api.failover.test. 60 A {B_IP} ; \
                 key failover-key (hmac-sha256, secret from $FAILOVER_TSIG_SECRET) ; \
                 send (one UPDATE; no answer within 10s = outcome unknown)"
            )
        );
    }
}

/// config.toml's failover runbook's step titles, in order (the dry run names the actions').
const RUNBOOK_TITLES: [&str; 7] = [
    "Replica caught up",
    "Site B healthy",
    "Promote site B",
    "Point api.failover.test. at site B",
    "Same on the second DNS server",
    "Resolvers answer site B",
    "Update the status page",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_console_cannot_drive_and_follows_the_run() {
    let lab = Lab::begin().await;
    let mut first = driving(&lab).await;
    let view = View {
        theme: Theme::mono(),
        ascii: true,
    };
    let mut second = Engine::<Live>::start(lab.config.clone(), "second".into(), view)
        .await
        .expect("second engine");
    wait(
        &mut second,
        "the lock held by the first",
        |m| matches!(&m.driver, Driver::LockHeld(info) if info.operator == "lab-test"),
    )
    .await;
    // Its run keys do nothing but say who drives.
    key(&mut second, KeyCode::Char('r')).await;
    let flash = second
        .model
        .ui
        .flash
        .clone()
        .map(|f| f.0)
        .unwrap_or_default();
    assert!(
        flash.contains("lab-test") && flash.contains("drives"),
        "{flash}"
    );
    assert!(matches!(second.model.ui.overlay, Overlay::None));
    // The driver arms and passes a gate; the second console sees it from the journal.
    arm(&mut first, FAILOVER, "secondary", "two consoles").await;
    wait(&mut first, "armed", |m| m.runs.current.is_some()).await;
    do_step(&mut first, 0).await;
    let ok = second
        .run_until(Duration::from_secs(5), |m| {
            step_status(m, 0) == Some(StepStatus::Ok)
        })
        .await;
    assert!(
        ok,
        "the watcher follows the driver's run{}",
        run_dump(&second.model)
    );
    second.shutdown("test done").await;
    first.shutdown("test done").await;
    let events = run_events(&lab.journal());
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, Event::Armed { .. }))
            .count(),
        1,
        "{events:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_mode_changes_nothing() {
    let lab = Lab::begin().await;
    let view = View {
        theme: Theme::mono(),
        ascii: true,
    };
    let mut watcher = Engine::<Watch>::start(lab.config.clone(), "watcher".into(), view)
        .await
        .expect("watch engine");
    wait(&mut watcher, "a normal lab", normal).await;
    assert!(matches!(watcher.model.driver, Driver::Watching));
    // A watch console binds no key that acts: they do nothing, not even refuse.
    for code in ['D', 'o', 's', 'a', 'R', 'v', 'B']
        .map(KeyCode::Char)
        .into_iter()
        .chain([KeyCode::Enter])
    {
        watcher.model.ui.flash = None;
        key(&mut watcher, code).await;
        assert_eq!(
            watcher.model.ui.flash, None,
            "{code:?} is bound in watch mode"
        );
        // Enter opens the top Health row's history: read-only, the watch console's too.
        let detail =
            code == KeyCode::Enter && matches!(watcher.model.ui.overlay, Overlay::Detail(_));
        assert!(
            detail || matches!(watcher.model.ui.overlay, Overlay::None),
            "{code:?}"
        );
        if detail {
            key(&mut watcher, KeyCode::Esc).await;
        }
    }
    // r only shows the current run (there is none): never the runbooks to arm.
    key(&mut watcher, KeyCode::Char('r')).await;
    assert!(matches!(watcher.model.ui.overlay, Overlay::None));
    key(&mut watcher, KeyCode::Enter).await;
    watcher.run_until(Duration::from_secs(1), |_| false).await;
    assert!(watcher.model.runs.current.is_none());
    assert!(
        !lock_file_taken(&lab),
        "a watcher never takes the driver lock"
    );
    watcher.shutdown("test done").await;
    assert!(run_events(&lab.journal()).is_empty());
    assert_eq!(
        psql(
            &lab,
            "LAB_PG_REPLICA_PORT",
            54322,
            "SELECT pg_is_in_recovery()"
        )
        .await,
        "t"
    );
}

fn lock_file_taken(lab: &Lab) -> bool {
    let path = failover_console::lock::lock_path(&lab.config.journal);
    path.exists()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failback_after_rejoin_returns_to_site_a() {
    let lab = Lab::begin().await;
    let mut engine = driving(&lab).await;
    failover(&lab, &mut engine).await;
    lab.run(&["rejoin", "a"]).await;
    wait(&mut engine, "site A streaming from site B", |m| {
        m.kinds.postgres[0].members[0].role == Role::Replica
            && m.kinds.postgres[0].members[0].streaming() == Some(true)
            && m.kinds.postgres[0].members[0]
                .lag
                .as_ref()
                .is_some_and(|l| !l.over_limit)
    })
    .await;
    key(&mut engine, KeyCode::Esc).await;
    arm(&mut engine, FAILBACK, "primary", "site A repaired").await;
    wait(&mut engine, "failback armed", |m| {
        m.runs
            .current
            .as_ref()
            .is_some_and(|r| r.runbook == "failback" && r.is_active())
    })
    .await;
    do_step(&mut engine, 0).await; // manual: rejoined
    do_step(&mut engine, 1).await; // lag gate on site A
    do_step(&mut engine, 2).await; // site A healthy
    key(&mut engine, KeyCode::Enter).await; // promote A while B is writable: a switchover back
    type_line(&mut engine, "promote").await;
    let ok = engine
        .run_until(Duration::from_secs(30), |m| {
            step_status(m, 3) == Some(StepStatus::Ok) && m.runs.in_flight.is_none()
        })
        .await;
    assert!(ok, "promote A{}", run_dump(&engine.model));
    do_step(&mut engine, 4).await;
    do_step(&mut engine, 5).await;
    key(&mut engine, KeyCode::Enter).await;
    let ok = engine
        .run_until(Duration::from_secs(20), |m| {
            step_status(m, 6) == Some(StepStatus::Ok)
        })
        .await;
    assert!(ok, "resolvers back on site A{}", run_dump(&engine.model));
    do_step(&mut engine, 7).await; // exec: scripts/lab rejoin b
    wait(
        &mut engine,
        "one primary, site A, and B streaming from it",
        |m| {
            m.kinds.postgres[0].primaries() == vec![0]
                && m.kinds.postgres[0].members[1].role == Role::Replica
                && m.kinds.postgres[0].members[1].streaming() == Some(true)
        },
    )
    .await;
    do_step(&mut engine, 8).await; // exec: scripts/lab status, output streamed
    let run = engine.model.runs.current.clone().expect("run");
    assert!(
        run.output.iter().any(|l| l.contains("pg-a")),
        "exec output reaches the run pane: {:?}",
        run.output
    );
    engine.shutdown("test done").await;
    assert_eq!(
        psql(
            &lab,
            "LAB_PG_PRIMARY_PORT",
            54321,
            "SELECT pg_is_in_recovery()"
        )
        .await,
        "f",
        "node a is primary again"
    );
    assert_eq!(dig("LAB_DNS_PORT", 5353).await, A_IP);
    assert_eq!(dig("LAB_DNS2_PORT", 5354).await, A_IP);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promote_refuses_when_the_target_is_no_longer_a_replica() {
    let lab = Lab::begin().await;
    let mut engine = driving(&lab).await;
    arm(&mut engine, FAILOVER, "secondary", "guard test").await;
    wait(&mut engine, "armed", |m| m.runs.current.is_some()).await;
    do_step(&mut engine, 0).await;
    do_step(&mut engine, 1).await;
    // Someone promotes site B by hand meanwhile.
    lab.run(&["promote", "b"]).await;
    wait(&mut engine, "site B seen as primary", |m| {
        m.kinds.postgres[0].members[1].role == Role::Primary
    })
    .await;
    key(&mut engine, KeyCode::Enter).await;
    let ok = engine
        .run_until(Duration::from_secs(5), |m| {
            m.runs
                .current
                .as_ref()
                .is_some_and(|r| r.steps[2].detail.starts_with("refused"))
        })
        .await;
    assert!(ok, "the promote must refuse{}", run_dump(&engine.model));
    assert_eq!(
        step_status(&engine.model, 2),
        Some(StepStatus::Pending),
        "nothing ran"
    );
    engine.shutdown("test done").await;
    let events = run_events(&lab.journal());
    assert!(
        events.iter().any(|e| matches!(e, Event::StepRefused { step: 2, reason } if reason.contains("not a replica now (primary)"))),
        "{events:#?}"
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::StepStarted { step: 2, .. })),
        "never started"
    );
}
