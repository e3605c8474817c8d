//! The estate overview and one chosen service's panes, as text snapshots at 80x24 and 160x48,
//! and the keys that choose a service and return to all. Eight services: two whose names share
//! a long prefix, one split (two primaries), one lagging, one with a run open, one not read
//! yet, one of health checks only.

#[path = "common/fixture.rs"]
mod fixture;
#[path = "common/screen.rs"]
mod screen;

use fixture::{SIZES, apply, snapshot_both};
use screen::render;

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use failover_core::app::model::{Overlay, Pane};
use failover_core::app::{Mode, Model, Msg};
use failover_core::history::Key;
use failover_core::kinds::{
    Observation,
    dns::DnsAnswer,
    health::ProbeOutcome,
    postgres::{Lsn, PgSnapshot, PrimaryReading, ReplicaReading, StandbyRow},
};
use failover_core::runbook::{Event, Phase, StepResult};
use time::OffsetDateTime;
use time::macros::datetime;

const T0: OffsetDateTime = datetime!(2026-03-01 14:30:00 UTC);

/// The databases in config order, each with a member per site, and a record of the same name.
const DATABASES: [&str; 7] = [
    "orders",
    "billing",
    "ledger",
    "payrec-eu",
    "payrec-us",
    "inventory",
    "checkout",
];

const SERVICES: &str = r#"
[[service]]
name = "orders"
database = "orders"
dns = ["api.failover.test."]
health = ["orders-api"]
runbooks = ["failover"]

[[service]]
name = "billing"
database = "billing"
dns = ["billing.failover.test."]

[[service]]
name = "ledger"
database = "ledger"
dns = ["ledger.failover.test."]

[[service]]
name = "payments-reconciliation-eu"
database = "payrec-eu"
dns = ["payrec-eu.failover.test."]

[[service]]
name = "payments-reconciliation-us"
database = "payrec-us"
dns = ["payrec-us.failover.test."]

[[service]]
name = "inventory"
database = "inventory"
dns = ["inventory.failover.test."]

[[service]]
name = "search"
health = ["search-west"]

[[service]]
name = "checkout"
database = "checkout"
dns = ["checkout.failover.test."]
"#;

fn config() -> String {
    let mut text = String::from(
        r#"
[console]
title = "estate: west / east"

[sites.primary]
label = "west"
[sites.secondary]
label = "east"

[[health]]
name = "orders-api"
site = "primary"
http = "http://127.0.0.1:18081/healthz"

[[health]]
name = "search-west"
site = "primary"
http = "http://127.0.0.1:18083/healthz"
"#,
    );
    for (i, db) in DATABASES.iter().enumerate() {
        let record = if *db == "orders" { "api" } else { db };
        text.push_str(&format!(
            r#"
[[database]]
name = "{db}"
kind = "postgres"
max-lag-bytes = 1048576
max-lag = "30s"
[[database.member]]
site = "primary"
dsn = "host=127.0.0.1 port={pa} user=postgres dbname=postgres"
[[database.member]]
site = "secondary"
dsn = "host=127.0.0.1 port={pb} user=postgres dbname=postgres"

[[dns]]
name = "{record}.failover.test."
type = "A"
resolvers = ["127.0.0.1:5353"]
[dns.answers]
primary = ["10.0.1.{i}"]
secondary = ["10.0.2.{i}"]
"#,
            pa = 54400 + 2 * i,
            pb = 54401 + 2 * i,
        ));
    }
    text.push_str(fixture::RUNBOOK);
    text.push_str(SERVICES);
    text
}

fn at(secs: f64) -> OffsetDateTime {
    fixture::after(T0, secs)
}

fn primary(lag: u64, replay_lag: Duration, standby: bool) -> PgSnapshot {
    PgSnapshot {
        in_recovery: false,
        timeline: Some(1),
        server_version: "17.2".into(),
        cluster_name: "site_a".into(),
        primary: Some(PrimaryReading {
            current_lsn: Lsn(0x16_B374_D848),
            standbys: if standby {
                vec![StandbyRow {
                    application_name: "site_b".into(),
                    state: "streaming".into(),
                    lag_bytes: Some(lag),
                    replay_lag: Some(replay_lag),
                }]
            } else {
                vec![]
            },
        }),
        replica: None,
    }
}

fn replica() -> PgSnapshot {
    PgSnapshot {
        in_recovery: true,
        timeline: Some(1),
        server_version: "17.2".into(),
        cluster_name: "site_b".into(),
        primary: None,
        replica: Some(ReplicaReading {
            receive_lsn: Some(Lsn(0x16_B374_D848)),
            replay_lsn: Some(Lsn(0x16_B374_D848)),
            replay_paused: false,
            receiver_status: Some("streaming".into()),
            since_last_replay: Some(Duration::from_secs(2)),
        }),
    }
}

fn pg(m: &mut Model, db: usize, member: usize, secs: f64, snapshot: PgSnapshot) {
    apply(
        m,
        Msg::Observed(Observation::Postgres {
            db,
            member,
            at: at(secs),
            result: Ok(snapshot),
        }),
    );
}

fn dns(m: &mut Model, record: usize, secs: f64, ip: String) {
    apply(
        m,
        Msg::Observed(Observation::Dns {
            record,
            resolver: 0,
            at: at(secs),
            answer: DnsAnswer::Records {
                values: vec![ip],
                ttl: 60,
            },
        }),
    );
}

fn probe(m: &mut Model, check: usize, secs: f64) {
    let outcome = ProbeOutcome {
        ok: true,
        latency: Duration::from_millis(3),
        detail: "200".into(),
    };
    apply(
        m,
        Msg::Observed(Observation::Probe {
            check,
            at: at(secs),
            outcome,
        }),
    );
}

fn key(m: &mut Model, code: KeyCode) {
    apply(m, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

/// Every service read (but checkout's database, not heard from yet): orders and the two
/// payments services on west; billing on east; ledger with a primary on each site; inventory
/// lagging 5.3 MiB; with `run`, a run of orders' runbook at step 4 of 5, driven by bob.
fn estate(mode: Mode, run: bool) -> Model {
    let mut m = fixture::model(&config(), mode, "alice@ops", fixture::dark(false), T0);
    for s in [1.0, 2.0] {
        probe(&mut m, 0, s);
        probe(&mut m, 1, s + 0.05);
        // Every database but checkout's (the last), not heard from yet.
        for (db, name) in DATABASES.iter().enumerate().take(6) {
            let t = s + 0.1 + 0.01 * db as f64;
            match *name {
                "billing" => {
                    pg(&mut m, db, 1, t, primary(0, Duration::ZERO, true));
                    pg(&mut m, db, 0, t, replica());
                }
                "ledger" => {
                    pg(&mut m, db, 0, t, primary(0, Duration::ZERO, false));
                    pg(&mut m, db, 1, t, primary(0, Duration::ZERO, false));
                }
                "inventory" => {
                    let lag = 5 * 1024 * 1024 + 300 * 1024;
                    pg(
                        &mut m,
                        db,
                        0,
                        t,
                        primary(lag, Duration::from_secs(41), true),
                    );
                    pg(&mut m, db, 1, t, replica());
                }
                _ => {
                    pg(&mut m, db, 0, t, primary(0, Duration::ZERO, true));
                    pg(&mut m, db, 1, t, replica());
                }
            }
        }
    }
    for (record, name) in DATABASES.iter().enumerate().take(6) {
        let site = if *name == "billing" { 2 } else { 1 };
        dns(&mut m, record, 2.5, format!("10.0.{site}.{record}"));
    }
    m.now = at(2.7);
    if run {
        bob_runs(&mut m);
    }
    m.ui.focus = Pane::Services;
    m.now = at(3.0);
    m
}

fn bob_runs(m: &mut Model) {
    m.holder = Some(fixture::bob_drives());
    let id = "20260301T142900Z-failover";
    let events = [
        Event::Armed {
            target: "secondary".into(),
            reason: "drill".into(),
            steps: fixture::RUNBOOK_STEPS.map(String::from).to_vec(),
            expected_primaries: vec![],
            class: None,
            incident_start: None,
            plan: None,
        },
        Event::GatePassed {
            step: 0,
            evidence: "lag 0 B".into(),
        },
        Event::GatePassed {
            step: 1,
            evidence: "every check healthy".into(),
        },
        Event::StepStarted {
            step: 2,
            phase: Phase::Do,
        },
        Event::StepFinished {
            step: 2,
            phase: Phase::Do,
            result: StepResult::Ok,
            detail: "exit 0".into(),
            elapsed_ms: 12,
        },
    ];
    for (i, event) in events.into_iter().enumerate() {
        let entry = fixture::run_entry(at(2.7 + 0.05 * i as f64), id, "bob@ops", event);
        apply(m, Msg::Foreign(entry));
    }
}

const NAMES: [&str; 8] = [
    "orders",
    "billing",
    "ledger",
    "pay",
    "pay",
    "inventory",
    "search",
    "checkout",
];

/// The overview's row of the service at `index` (its heading is the row above the first).
fn overview_row(screen: &str, index: usize) -> &str {
    let heading = screen
        .lines()
        .position(|l| l.contains("service") && l.contains("verdict"))
        .expect("the overview's heading");
    screen.lines().nth(heading + 1 + index).unwrap_or_default()
}

#[test]
fn overview_of_eight_services() {
    let m = estate(Mode::Live, true);
    snapshot_both!("overview", &m);
    for (w, h) in SIZES {
        let screen = render(&m, w, h);
        for (i, name) in NAMES.iter().enumerate() {
            assert!(
                overview_row(&screen, i).contains(name),
                "{name} at {w}x{h}:\n{screen}"
            );
        }
        // Names sharing a long prefix stay distinct.
        assert!(overview_row(&screen, 3).contains("-eu "), "{screen}");
        assert!(overview_row(&screen, 4).contains("-us "), "{screen}");
        let orders = overview_row(&screen, 0);
        assert!(orders.contains("west") && orders.contains("OK"), "{orders}");
        assert!(orders.contains("3/5 failover"), "{orders}");
        let billing = overview_row(&screen, 1);
        assert!(
            billing.contains("east") && !billing.contains("west"),
            "{billing}"
        );
        let ledger = overview_row(&screen, 2);
        assert!(
            ledger.contains("split") && ledger.contains("CRIT"),
            "{ledger}"
        );
        let inventory = overview_row(&screen, 5);
        assert!(inventory.contains("5.3 MiB, 41 s"), "{inventory}");
        let search = overview_row(&screen, 6);
        assert!(search.contains(" - "), "no database, no record: {search}");
        let checkout = overview_row(&screen, 7);
        assert!(
            checkout.contains(" ? ") && !checkout.contains(" 0 B"),
            "not read yet: unknown, never 0: {checkout}"
        );
        // The header, the run and the key bar are still there; Enter is the run's.
        assert!(
            screen.lines().next().unwrap().contains("estate"),
            "{screen}"
        );
        assert!(screen.contains("Run failover"), "{screen}");
        let footer = screen.lines().last().unwrap();
        assert!(footer.contains("l service"), "{footer}");
        assert!(!screen.contains("Replication"), "{screen}");
    }
}

#[test]
fn overview_without_a_run() {
    let m = estate(Mode::Live, false);
    snapshot_both!("overview_no_run", &m);
    for (w, h) in SIZES {
        let screen = render(&m, w, h);
        for (i, name) in NAMES.iter().enumerate() {
            assert!(overview_row(&screen, i).contains(name), "{screen}");
        }
        // The header, the timeline and the key bar are still there.
        assert!(screen.contains("Timeline ("), "{screen}");
        let footer = screen.lines().last().unwrap();
        assert!(footer.starts_with("Enter service"), "{footer}");
    }
}

#[test]
fn watch_console_has_the_overview() {
    let m = estate(Mode::Watch, true);
    let screen = render(&m, 80, 24);
    for (i, name) in NAMES.iter().enumerate() {
        assert!(overview_row(&screen, i).contains(name), "{screen}");
    }
}

#[test]
fn one_chosen_service() {
    let mut m = estate(Mode::Live, true);
    key(&mut m, KeyCode::Char('l'));
    assert_eq!(m.ui.service, Some(0));
    // The timeline in focus: at 80 columns it takes the run pane's place.
    for _ in 0..3 {
        key(&mut m, KeyCode::Tab);
    }
    assert_eq!(m.ui.focus, Pane::Timeline);
    snapshot_both!("service_orders", &m);
    for (w, h) in SIZES {
        let screen = render(&m, w, h);
        for title in ["Health (orders)", "Replication (orders)", "DNS (orders)"] {
            assert!(screen.contains(title), "{title} at {w}x{h}:\n{screen}");
        }
        assert!(screen.contains("Timeline: orders"), "{screen}");
        // Below the header (the estate's verdict): its own sources and its runbook's run only.
        let panes: String = screen.lines().skip(2).collect::<Vec<_>>().join("\n");
        for other in ["billing", "ledger", "search-west", "inventory"] {
            assert!(!panes.contains(other), "{other} at {w}x{h}:\n{screen}");
        }
        assert!(screen.contains("orders-api"), "{screen}");
        assert!(screen.contains("run/failover"), "{screen}");
        assert!(screen.lines().last().unwrap().contains("h all services"));
    }
}

#[test]
fn choosing_and_returning_by_keys() {
    let mut m = estate(Mode::Live, false);
    assert!(m.overview_shown());
    assert_eq!(m.ui.focus, Pane::Services);
    let all_entries = m.timeline.count_shown();
    let replication_all = m
        .pane_world()
        .row_count(failover_core::kinds::Section::Replication);
    assert_eq!(
        replication_all,
        7 * 3,
        "every database: a heading and two members"
    );

    // j moves the cursor to billing; l shows it.
    key(&mut m, KeyCode::Char('j'));
    key(&mut m, KeyCode::Char('l'));
    assert_eq!(m.ui.service, Some(1));
    assert!(!m.overview_shown());
    assert_eq!(m.ui.focus, Pane::Health);
    assert!(m.panes_shown().contains(&Pane::Replication));
    assert!(!m.panes_shown().contains(&Pane::Services));

    // Rows and scrolling follow the scope: billing's Replication pane has its heading and
    // two members, so j stops at its last row.
    assert_eq!(m.rows_in(Pane::Replication), 3);
    key(&mut m, KeyCode::Tab);
    assert_eq!(m.ui.focus, Pane::Replication);
    for _ in 0..5 {
        key(&mut m, KeyCode::Char('j'));
    }
    assert_eq!(m.ui.scroll[Pane::Replication.index()], 2);
    // Enter opens the history of billing's own member (database 1), not orders'.
    key(&mut m, KeyCode::Char('k'));
    key(&mut m, KeyCode::Enter);
    assert!(
        matches!(
            m.ui.overlay,
            Overlay::Detail(Key::Postgres { db: 1, member: 0 })
        ),
        "{:?}",
        m.ui.overlay
    );
    key(&mut m, KeyCode::Esc);
    // Health: billing has no check.
    assert_eq!(m.rows_in(Pane::Health), 0);

    // The timeline holds billing's entries only (and entries that concern every service).
    let shown: Vec<String> = m
        .timeline
        .shown_newest_first()
        .map(|s| s.entry.source.clone())
        .collect();
    assert!(!shown.is_empty());
    assert!(shown.len() < all_entries);
    for source in &shown {
        assert!(
            source.starts_with("db/billing") || source.starts_with("dns/billing"),
            "{source}"
        );
    }

    // h returns to all: the overview, every entry, the cursor where it was.
    key(&mut m, KeyCode::Char('h'));
    assert_eq!(m.ui.service, None);
    assert!(m.overview_shown());
    assert_eq!(m.ui.focus, Pane::Services);
    assert_eq!(m.timeline.count_shown(), all_entries);
    assert_eq!(m.ui.scroll[Pane::Services.index()], 1);
    assert_eq!(m.rows_in(Pane::Replication), replication_all);

    // Orders, by Enter, after bob armed its runbook (Enter is the run's once its pane is
    // closed): the run's entries are in its timeline. Backspace returns too.
    bob_runs(&mut m);
    // The run pane open, Enter is the run's (refused here: bob drives); closed, it chooses.
    m.ui.focus = Pane::Services;
    key(&mut m, KeyCode::Enter);
    assert_eq!(m.ui.service, None);
    m.runs.shown = false;
    m.runs.plan = None;
    m.ui.focus = Pane::Services;
    key(&mut m, KeyCode::Char('k'));
    key(&mut m, KeyCode::Enter);
    assert_eq!(m.ui.service, Some(0));
    assert!(
        m.timeline
            .shown_newest_first()
            .any(|s| s.entry.source == "run/failover")
    );
    key(&mut m, KeyCode::Backspace);
    assert_eq!(m.ui.service, None);

    // The cursor stops at the last service; Tab goes over the overview and the timeline.
    for _ in 0..20 {
        key(&mut m, KeyCode::Char('j'));
    }
    assert_eq!(m.ui.scroll[Pane::Services.index()], 7);
    key(&mut m, KeyCode::Tab);
    assert_eq!(m.ui.focus, Pane::Timeline);
    key(&mut m, KeyCode::Tab);
    assert_eq!(m.ui.focus, Pane::Services);
}

#[test]
fn help_lists_the_service_keys() {
    let mut m = estate(Mode::Live, false);
    key(&mut m, KeyCode::Char('?'));
    let screen = render(&m, 80, 24);
    assert!(screen.contains("show the chosen service"), "{screen}");
    assert!(screen.contains("back to all services"), "{screen}");
    // Everything fits at 80x24: the last line of help is there.
    assert!(screen.contains("A ! after a timeline time"), "{screen}");
}

#[test]
fn without_services_the_screen_and_keys_are_as_before() {
    let text = config();
    let text = &text[..text.find("[[service]]").expect("services")];
    let mut m = fixture::model(text, Mode::Live, "alice@ops", fixture::dark(false), T0);
    probe(&mut m, 0, 1.0);
    pg(&mut m, 0, 0, 1.1, primary(0, Duration::ZERO, true));
    m.now = at(2.0);
    assert!(!m.overview_shown());
    assert_eq!(m.ui.focus, Pane::Health);
    let before = render(&m, 80, 24);
    assert!(!before.contains("Services"), "{before}");
    for code in [KeyCode::Char('l'), KeyCode::Char('h'), KeyCode::Backspace] {
        key(&mut m, code);
    }
    assert_eq!(m.ui.service, None);
    assert_eq!(render(&m, 80, 24), before);
}
