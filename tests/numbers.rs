//! A run in numbers, through the reducer with a scripted clock: an unplanned failover (a CRIT
//! edge, arming, the steps, DNS answers) gives the exact RTO breakdown and RPO; a promote with
//! the old primary unreachable gives a lower bound; an unknown lag stays unknown; objectives
//! met and missed with their margins; an old journal's run (no class) still loads.

#[path = "common/fixture.rs"]
mod fixture;
#[path = "common/screen.rs"]
mod screen;

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use failover_core::app::driver::DriverToken;
use failover_core::app::model::{Driver, Overlay, Purpose};
use failover_core::app::{Effect, Mode, Model, Msg, update};
use failover_core::kinds::{
    Observation,
    dns::DnsAnswer,
    health::ProbeOutcome,
    postgres::{Lsn, PgSnapshot, PrimaryReading, ReplicaReading, StandbyRow},
};
use failover_core::runbook::numbers::{self, Figures, Rpo, Verdict};
use failover_core::runbook::{Event, Milestone, Phase, RunClass, StepResult};
use failover_core::timeline::Entry;
use fixture::{records, run_entry};
use time::OffsetDateTime;
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
interval = "1s"
timeout = "500ms"
failure-threshold = 3
success-threshold = 2

[[health]]
name = "db-b-port"
site = "secondary"
tcp = "127.0.0.1:54322"

[[database]]
name = "orders"
kind = "postgres"
max-lag-bytes = 16777216
max-lag = "30s"
interval = "1s"
[[database.member]]
site = "primary"
dsn = "host=127.0.0.1 port=54321 user=postgres"
[[database.member]]
site = "secondary"
dsn = "host=127.0.0.1 port=54322 user=postgres"

[[dns]]
name = "api.failover.test."
type = "A"
resolvers = ["127.0.0.1:5353", "127.0.0.1:5354"]
interval = "2s"
[dns.answers]
primary = ["10.0.1.100"]
secondary = ["10.0.2.100"]

[objectives]
rto = "5m"
rpo = "30s"
rpo-bytes = 16777216

[[runbook]]
name = "failover"
from = "primary"
to = "secondary"

[[runbook.step]]
title = "Site B healthy"
gate = "healthy"
site = "secondary"

[[runbook.step]]
title = "Promote site B"
action = "promote"
database = "orders"

[[runbook.step]]
title = "Point api at site B"
action = "dns"
record = "api.failover.test."
server = "127.0.0.1:5353"

[[runbook.step]]
title = "Resolvers answer site B"
wait = "dns"
record = "api.failover.test."
timeout = "10m"
"#;

const T0: OffsetDateTime = datetime!(2026-03-01 12:00:00 UTC);
const PROMOTE: usize = 1;
const DNS: usize = 2;
const LAG_BYTES: u64 = 1_258_291; // 1.2 MiB

fn at(secs: f64) -> OffsetDateTime {
    fixture::after(T0, secs)
}

/// What the sources answer at one moment.
#[derive(Clone, Copy)]
struct Scene {
    api_a_ok: bool,
    /// Site A: a primary, or unreachable.
    a_up: bool,
    /// Site B promoted.
    b_primary: bool,
    /// Site B's replica knows its own LSNs (else nothing of its lag is known).
    b_knows_lsns: bool,
    /// Each resolver answers site B.
    resolvers_b: [bool; 2],
}

const NORMAL: Scene = Scene {
    api_a_ok: true,
    a_up: true,
    b_primary: false,
    b_knows_lsns: true,
    resolvers_b: [false, false],
};

fn primary_a() -> PgSnapshot {
    PgSnapshot {
        in_recovery: false,
        timeline: Some(1),
        server_version: "17.2".into(),
        cluster_name: "site_a".into(),
        primary: Some(PrimaryReading {
            current_lsn: Lsn(0x3_0000_0000),
            standbys: vec![StandbyRow {
                application_name: "site_b".into(),
                state: "streaming".into(),
                lag_bytes: Some(LAG_BYTES),
                replay_lag: Some(Duration::from_secs(2)),
            }],
        }),
        replica: None,
    }
}

fn replica_b(knows: bool) -> PgSnapshot {
    let lsn = knows.then_some(Lsn(0x3_0000_0000));
    PgSnapshot {
        in_recovery: true,
        timeline: Some(1),
        server_version: "17.2".into(),
        cluster_name: "site_b".into(),
        primary: None,
        replica: Some(ReplicaReading {
            receive_lsn: lsn,
            replay_lsn: lsn,
            replay_paused: false,
            receiver_status: Some("streaming".into()),
            since_last_replay: None,
        }),
    }
}

fn promoted_b() -> PgSnapshot {
    PgSnapshot {
        in_recovery: false,
        timeline: Some(2),
        server_version: "17.2".into(),
        cluster_name: "site_b".into(),
        primary: Some(PrimaryReading {
            current_lsn: Lsn(0x3_0000_1000),
            standbys: vec![],
        }),
        replica: None,
    }
}

/// `update`, then every entry it records back as journaled (and so on), as the engine does.
fn settle(m: &mut Model, msg: Msg) -> Vec<Effect> {
    let effects = update(m, msg);
    let mut pending = records(&effects);
    while !pending.is_empty() {
        let entry = pending.remove(0);
        pending.extend(records(&update(m, Msg::Journaled { entry, error: None })));
    }
    effects
}

fn observe(m: &mut Model, o: Observation) {
    settle(m, Msg::Observed(o));
}

/// The clock moves to `secs`, and every source answers as `s` there.
fn beat(m: &mut Model, secs: f64, s: Scene) {
    let t = at(secs);
    settle(m, Msg::Tick(t));
    let probe = |ok: bool| ProbeOutcome {
        ok,
        latency: Duration::from_millis(12),
        detail: if ok {
            "200".into()
        } else {
            "status 503 (expected 200)".into()
        },
    };
    observe(
        m,
        Observation::Probe {
            check: 0,
            at: t,
            outcome: probe(s.api_a_ok),
        },
    );
    observe(
        m,
        Observation::Probe {
            check: 1,
            at: t,
            outcome: probe(true),
        },
    );
    let a = if s.a_up {
        Ok(primary_a())
    } else {
        Err("connection refused".to_string())
    };
    observe(
        m,
        Observation::Postgres {
            db: 0,
            member: 0,
            at: t,
            result: a,
        },
    );
    let b = if s.b_primary {
        promoted_b()
    } else {
        replica_b(s.b_knows_lsns)
    };
    observe(
        m,
        Observation::Postgres {
            db: 0,
            member: 1,
            at: t,
            result: Ok(b),
        },
    );
    for (resolver, on_b) in s.resolvers_b.into_iter().enumerate() {
        let ip = if on_b { "10.0.2.100" } else { "10.0.1.100" };
        observe(
            m,
            Observation::Dns {
                record: 0,
                resolver,
                at: t,
                answer: DnsAnswer::Records {
                    values: vec![ip.into()],
                    ttl: 60,
                },
            },
        );
    }
}

fn hit(m: &mut Model, code: KeyCode) -> Vec<Effect> {
    settle(m, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn type_line(m: &mut Model, text: &str) -> Vec<Effect> {
    for c in text.chars() {
        hit(m, KeyCode::Char(c));
    }
    hit(m, KeyCode::Enter)
}

/// The executor's side of the current run: `event` journaled at `secs`.
fn executor(m: &mut Model, secs: f64, event: Event) {
    let id = m.runs.current.as_ref().expect("a run").id.clone();
    let mut entry = run_entry(at(secs), &id, "alice@ops", event);
    entry.console = None;
    entry.token = None;
    settle(m, Msg::Journaled { entry, error: None });
}

fn finished(step: usize, secs: f64, m: &mut Model) {
    executor(
        m,
        secs,
        Event::StepFinished {
            step,
            phase: Phase::Do,
            result: StepResult::Ok,
            detail: "ok".into(),
            elapsed_ms: 10,
        },
    );
}

fn started(step: usize, secs: f64, m: &mut Model) {
    executor(
        m,
        secs,
        Event::StepStarted {
            step,
            phase: Phase::Do,
        },
    );
}

/// Healthy until 10 s; then api-a fails (CRIT on the third failure, at 12 s); with `a_down`,
/// site A's database stops answering at 70 s. Armed at 72 s with the class pre-selected.
fn incident(a_down: bool, b_knows_lsns: bool) -> (Model, Scene) {
    let mut m = fixture::model(CONFIG, Mode::Live, "alice@ops", fixture::dark(false), T0);
    settle(&mut m, Msg::Driver(Driver::Driving(DriverToken::held(1))));
    let mut s = Scene {
        b_knows_lsns,
        ..NORMAL
    };
    for t in [0.1, 0.2, 5.0, 9.0] {
        beat(&mut m, t, s);
    }
    s.api_a_ok = false;
    for t in [10.0, 11.0, 12.0, 30.0, 60.0] {
        beat(&mut m, t, s);
    }
    if a_down {
        s.a_up = false;
    }
    beat(&mut m, 70.0, s);
    beat(&mut m, 72.0, s);
    hit(&mut m, KeyCode::Char('r'));
    hit(&mut m, KeyCode::Enter);
    hit(&mut m, KeyCode::Enter);
    type_line(&mut m, "secondary");
    match &m.ui.overlay {
        Overlay::Prompt(p) => {
            assert_eq!(
                p.purpose,
                Purpose::ArmReason {
                    runbook: 0,
                    class: RunClass::Unplanned
                },
                "a failing check of the source site pre-selects unplanned"
            );
            assert!(
                p.purpose
                    .question(&m)
                    .contains("unplanned failover; Tab: class"),
                "{}",
                p.purpose.question(&m)
            );
        }
        other => panic!("the reason prompt: {other:?}"),
    }
    type_line(&mut m, "site A is down");
    let run = m.runs.current.as_ref().expect("armed");
    assert_eq!(run.class, Some(RunClass::Unplanned));
    assert_eq!(run.incident_start, Some(at(12.0)), "the CRIT edge of api-a");
    (m, s)
}

/// The rest of the run: gate, promote (confirming a split brain if site A still answers),
/// A fenced, the DNS change, the resolvers turning at `first` and `second` seconds.
fn recover(m: &mut Model, mut s: Scene, first: f64, second: f64) -> Vec<Effect> {
    hit(m, KeyCode::Enter); // the healthy gate
    beat(m, 79.0, s);
    settle(m, Msg::Tick(at(80.0)));
    let mut effects = hit(m, KeyCode::Enter);
    if matches!(&m.ui.overlay, Overlay::Prompt(p) if matches!(p.purpose, Purpose::SplitBrainWord { .. }))
    {
        effects.extend(type_line(m, "promote"));
    }
    started(PROMOTE, 80.0, m);
    finished(PROMOTE, 85.0, m);
    s.a_up = false;
    s.b_primary = true;
    beat(m, 86.0, s);
    settle(m, Msg::Tick(at(90.0)));
    hit(m, KeyCode::Enter);
    started(DNS, 90.0, m);
    finished(DNS, 92.0, m);
    hit(m, KeyCode::Enter); // the wait starts
    s.resolvers_b = [true, false];
    beat(m, first, s);
    s.resolvers_b = [true, true];
    beat(m, second, s);
    effects
}

fn figures(m: &Model) -> Figures {
    numbers::figures(
        m.runs.current.as_ref().expect("a run"),
        &m.config.objectives,
    )
}

fn milestone_entries(m: &Model) -> Vec<Entry> {
    all_entries(m)
        .into_iter()
        .filter(|e| {
            e.run
                .as_ref()
                .is_some_and(|r| matches!(r.event, Event::Milestone { .. }))
        })
        .collect()
}

/// The timeline's entries, oldest first.
fn all_entries(m: &Model) -> Vec<Entry> {
    let mut out: Vec<Entry> = m.timeline.newest_first().map(|s| s.entry.clone()).collect();
    out.reverse();
    out
}

#[test]
fn an_unplanned_failover_gives_the_exact_rto_breakdown_and_rpo() {
    let (mut m, s) = incident(false, true);
    let effects = recover(&mut m, s, 100.0, 130.0);
    let lag = records(&effects)
        .into_iter()
        .find_map(|e| match e.run.map(|r| r.event) {
            Some(Event::LagAtPromote { step, lag }) => Some((step, lag, e.message)),
            _ => None,
        })
        .expect("the lag is journaled with the promote");
    assert_eq!(lag.0, PROMOTE);
    assert_eq!(lag.1.bytes, Some(LAG_BYTES));
    assert_eq!(lag.1.seconds, Some(2.0));
    assert_eq!(lag.1.source, "pg_stat_replication");
    assert_eq!(lag.1.age_ms, Some(1000), "read at 79 s, promoted at 80 s");
    assert!(!lag.1.lower_bound);

    let f = figures(&m);
    assert_eq!(f.from, at(12.0));
    assert_eq!(f.armed, at(72.0));
    assert_eq!(f.promoted, Some(at(85.0)));
    assert_eq!(f.dns_accepted, Some(at(92.0)));
    assert_eq!(f.all_resolvers, Some(at(130.0)));
    assert_eq!(f.serving, Some(at(130.0)));
    assert_eq!(f.rto, Some(Duration::from_secs(118)));
    assert_eq!(
        numbers::breakdown_text(&f),
        "detect→arm 1m00s · arm→promote 13.0s · promote→DNS 7.0s · DNS→resolvers 38.0s"
    );
    assert_eq!(
        numbers::rto_text(&f),
        "RTO 1m58s from the first failing edge"
    );
    assert_eq!(
        numbers::rpo_text(&f),
        "RPO 1.2 MiB, 2.0s (pg_stat_replication, read 1.0s before promotion)"
    );
    assert_eq!(
        f.rto_verdict,
        Verdict::Met {
            margin: "3m02s".into()
        }
    );
    assert_eq!(
        f.rpo_verdict,
        Verdict::Met {
            margin: "28.0s".into()
        }
    );
    assert_eq!(
        f.rpo_bytes_verdict,
        Verdict::Met {
            margin: failover_core::text::bytes(16_777_216 - LAG_BYTES)
        }
    );
    // Each milestone journaled once, by this console.
    let kinds: Vec<Milestone> = milestone_entries(&m)
        .iter()
        .filter_map(|e| match e.run.as_ref().map(|r| &r.event) {
            Some(Event::Milestone { milestone, .. }) => Some(*milestone),
            _ => None,
        })
        .collect();
    assert_eq!(
        kinds,
        [
            Milestone::Promoted,
            Milestone::DnsAccepted,
            Milestone::AllResolvers,
            Milestone::TargetServing
        ]
    );
    // A watcher rebuilding the run from the same entries gets the same figures.
    let entries = all_entries(&m);
    let rebuilt = numbers::runs(&entries);
    assert_eq!(rebuilt.len(), 1);
    assert_eq!(numbers::figures(&rebuilt[0], &m.config.objectives), f);
}

#[test]
fn the_run_pane_ticks_while_open_and_shows_the_figures_at_the_end() {
    let (mut m, s) = incident(false, true);
    settle(&mut m, Msg::Tick(at(74.0)));
    let screen = screen::render(&m, 80, 24);
    assert!(screen.contains("RTO 1m02s of 5m"), "{screen}");
    assert!(screen.contains("unplanned failover"), "{screen}");
    recover(&mut m, s, 100.0, 130.0);
    for (w, h) in fixture::SIZES {
        insta::assert_snapshot!(format!("figures_{w}x{h}"), screen::render(&m, w, h));
    }
}

#[test]
fn the_old_primary_unreachable_gives_a_lower_bound_never_a_met_objective() {
    let (mut m, s) = incident(true, true);
    recover(&mut m, s, 100.0, 130.0);
    let f = figures(&m);
    let Rpo::Known(lag) = &f.rpo else {
        panic!("{:?}", f.rpo)
    };
    assert!(lag.lower_bound);
    assert_eq!(
        lag.bytes,
        Some(LAG_BYTES),
        "the last figure read with site A's"
    );
    assert_eq!(
        numbers::rpo_text(&f),
        "RPO ≥ 1.2 MiB, 2.0s (pg_stat_replication, last read 20.0s before promotion)"
    );
    assert!(
        matches!(f.rpo_verdict, Verdict::NotProven(_)),
        "{:?}",
        f.rpo_verdict
    );
    assert!(matches!(f.rpo_bytes_verdict, Verdict::NotProven(_)));
    assert_eq!(f.rto, Some(Duration::from_secs(118)));
}

#[test]
fn an_unknown_lag_stays_unknown_never_zero() {
    let (mut m, s) = incident(true, false);
    // Site A was never read with its standby's figures before it went down? It was: drop them.
    m.runs.full_lag.clear();
    recover(&mut m, s, 100.0, 130.0);
    let f = figures(&m);
    assert!(matches!(f.rpo, Rpo::Unknown { .. }), "{:?}", f.rpo);
    assert!(
        numbers::rpo_text(&f).starts_with("RPO unknown"),
        "{}",
        numbers::rpo_text(&f)
    );
    assert!(matches!(f.rpo_verdict, Verdict::NotProven(_)));
    let json = numbers::json(&f);
    assert_eq!(json["rpo"]["bytes"], serde_json::Value::Null);
    assert_eq!(json["rpo"]["seconds"], serde_json::Value::Null);
    assert_eq!(json["objectives"]["rpo"]["verdict"], "not-proven");
}

#[test]
fn an_rto_over_the_objective_is_missed_by_its_margin() {
    let (mut m, s) = incident(false, true);
    recover(&mut m, s, 100.0, 400.0);
    let f = figures(&m);
    assert_eq!(f.rto, Some(Duration::from_secs(388)));
    assert_eq!(f.rto_verdict, Verdict::Missed { by: "1m28s".into() });
    assert!(numbers::objectives_text(&f).starts_with("RTO MISSED by 1m28s"));
    assert_eq!(numbers::json(&f)["objectives"]["rto"]["verdict"], "missed");
    assert_eq!(numbers::json(&f)["rto_seconds"], 388.0);
}

#[test]
fn tab_cycles_the_class_and_a_planned_run_counts_from_arming() {
    let mut m = fixture::model(CONFIG, Mode::Live, "alice@ops", fixture::dark(false), T0);
    settle(&mut m, Msg::Driver(Driver::Driving(DriverToken::held(1))));
    for t in [0.1, 0.2, 5.0] {
        beat(&mut m, t, NORMAL);
    }
    hit(&mut m, KeyCode::Char('r'));
    hit(&mut m, KeyCode::Enter);
    hit(&mut m, KeyCode::Enter);
    type_line(&mut m, "secondary");
    let class = |m: &Model| match &m.ui.overlay {
        Overlay::Prompt(p) => match p.purpose {
            Purpose::ArmReason { class, .. } => class,
            _ => panic!("{:?}", p.purpose),
        },
        _ => panic!("no prompt"),
    };
    assert_eq!(class(&m), RunClass::Planned, "nothing of site A fails");
    hit(&mut m, KeyCode::Tab);
    assert_eq!(class(&m), RunClass::Drill);
    type_line(&mut m, "quarterly drill");
    let run = m.runs.current.as_ref().expect("armed");
    assert_eq!(run.class, Some(RunClass::Drill));
    assert_eq!(run.incident_start, None);
    let f = figures(&m);
    assert_eq!(f.from, f.armed);
    assert_eq!(numbers::class_label(f.class), "drill");
}

#[test]
fn an_old_journals_run_without_the_new_fields_loads_unclassified() {
    let line = r#"{"at":"2026-03-01T12:00:00Z","severity":"warn","kind":"run","source":"run/failover","message":"ARMED","operator":"alice@ops","run":{"id":"20260301T120000Z-failover","runbook":"failover","event":"armed","target":"secondary","reason":"old","steps":["one"],"expected_primaries":[]}}"#;
    let entry: Entry = serde_json::from_str(line).expect("an old armed line parses");
    let runs = numbers::runs(&[entry]);
    assert_eq!(runs.len(), 1);
    let f = numbers::figures(&runs[0], &Default::default());
    assert_eq!(f.class, None);
    assert_eq!(numbers::class_label(f.class), "unclassified");
    assert_eq!(f.rpo, Rpo::NotRecorded);
    assert_eq!(numbers::rto_text(&f), "RTO running");
}

#[test]
fn a_runbook_with_a_write_check_serves_only_once_the_check_passed() {
    let config = format!(
        "{CONFIG}\n[[runbook.step]]\ntitle = \"Site B takes writes\"\nwait = \"writable\"\ndatabase = \"orders\"\n"
    );
    let mut m = fixture::model(&config, Mode::Live, "alice@ops", fixture::dark(false), T0);
    settle(&mut m, Msg::Driver(Driver::Driving(DriverToken::held(1))));
    let s = NORMAL;
    beat(&mut m, 0.1, s);
    beat(&mut m, 5.0, s);
    hit(&mut m, KeyCode::Char('r'));
    hit(&mut m, KeyCode::Enter);
    hit(&mut m, KeyCode::Enter);
    type_line(&mut m, "secondary");
    type_line(&mut m, "planned move");
    let mut s = s;
    hit(&mut m, KeyCode::Enter); // the healthy gate
    beat(&mut m, 9.0, s);
    settle(&mut m, Msg::Tick(at(10.0)));
    hit(&mut m, KeyCode::Enter);
    if matches!(&m.ui.overlay, Overlay::Prompt(p) if matches!(p.purpose, Purpose::SplitBrainWord { .. }))
    {
        type_line(&mut m, "promote");
    }
    started(PROMOTE, 10.0, &mut m);
    finished(PROMOTE, 12.0, &mut m);
    s.a_up = false;
    s.b_primary = true;
    beat(&mut m, 13.0, s);
    hit(&mut m, KeyCode::Enter);
    started(DNS, 14.0, &mut m);
    finished(DNS, 15.0, &mut m);
    hit(&mut m, KeyCode::Enter); // the DNS wait starts
    s.resolvers_b = [true, true];
    beat(&mut m, 20.0, s);
    beat(&mut m, 21.0, s);
    assert_eq!(figures(&m).all_resolvers, Some(at(20.0)));
    assert_eq!(
        figures(&m).serving,
        None,
        "database, resolvers and health serve, but the write check has not passed"
    );
    const WRITABLE: usize = 4;
    hit(&mut m, KeyCode::Enter);
    started(WRITABLE, 22.0, &mut m);
    finished(WRITABLE, 25.0, &mut m);
    beat(&mut m, 26.0, s);
    let f = figures(&m);
    assert!(
        f.serving.is_some_and(|t| t >= at(25.0) && t <= at(26.0)),
        "serving once the write committed: {:?}",
        f.serving
    );
    assert!(
        numbers::breakdown_text(&f).ends_with(" · resolvers→serving 5.0s")
            || numbers::breakdown_text(&f).ends_with(" · resolvers→serving 6.0s"),
        "the wait for the write check is in the breakdown: {}",
        numbers::breakdown_text(&f)
    );
}
