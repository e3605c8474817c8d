//! Verdicts per service: each service's DNS is compared with its own database only, the header
//! counts services per site, and `status --json` has one verdict per service. Pure: readings go
//! through `update`, no I/O.

#[path = "common/fixture.rs"]
mod fixture;
#[path = "common/screen.rs"]
mod screen;

use std::time::Duration;

use failover_console::status;
use failover_core::app::verdict::{self, Level};
use failover_core::app::{Mode, Model, Msg};
use failover_core::kinds::Observation;
use failover_core::kinds::dns::DnsAnswer;
use failover_core::kinds::health::ProbeOutcome;
use failover_core::kinds::postgres::{Lsn, PgSnapshot, PrimaryReading, ReplicaReading};
use time::OffsetDateTime;
use time::macros::datetime;

const T0: OffsetDateTime = datetime!(2026-03-01 12:00:00 UTC);

/// Two databases, billing primary in west and ledger primary in east, one DNS record that
/// routes billing's traffic: the issue's estate. `services` is appended.
fn estate(services: &str) -> String {
    let mut text = String::from(
        "[console]\ntitle = \"estate\"\n[sites.west]\nlabel = \"West\"\n[sites.east]\nlabel = \"East\"\n",
    );
    for (db, port) in [("billing", 1), ("ledger", 2)] {
        text += &format!(
            r#"
[[database]]
name = "{db}"
kind = "postgres"
interval = "1s"
[[database.member]]
site = "west"
dsn = "host=127.0.0.1 port=5{port}001"
[[database.member]]
site = "east"
dsn = "host=127.0.0.1 port=5{port}002"

[[health]]
name = "{db}-west"
site = "west"
tcp = "127.0.0.1:1{port}001"
failure-threshold = 1
success-threshold = 1
[[health]]
name = "{db}-east"
site = "east"
tcp = "127.0.0.1:1{port}002"
failure-threshold = 1
success-threshold = 1
"#
        );
    }
    text += r#"
[[dns]]
name = "billing.failover.test."
resolvers = ["127.0.0.1:5353"]
interval = "1s"
[dns.answers]
west = ["10.0.1.1"]
east = ["10.0.1.2"]
"#;
    text + services
}

const SERVICES: &str = r#"
[[service]]
name = "billing"
dns = ["billing.failover.test."]
database = "billing"
health = ["billing-west", "billing-east"]

[[service]]
name = "ledger"
database = "ledger"
health = ["ledger-west", "ledger-east"]
"#;

const WEST: usize = 0;
const EAST: usize = 1;

fn at(secs: f64) -> OffsetDateTime {
    fixture::after(T0, secs)
}

fn model(text: &str) -> Model {
    fixture::model(text, Mode::Live, "alice@ops", fixture::dark(false), T0)
}

fn primary() -> PgSnapshot {
    PgSnapshot {
        in_recovery: false,
        timeline: Some(1),
        server_version: "17.2".into(),
        cluster_name: "p".into(),
        primary: Some(PrimaryReading {
            current_lsn: Lsn(0x3_0000_0000),
            standbys: vec![],
        }),
        replica: None,
    }
}

fn replica() -> PgSnapshot {
    PgSnapshot {
        in_recovery: true,
        timeline: Some(1),
        server_version: "17.2".into(),
        cluster_name: "r".into(),
        primary: None,
        replica: Some(ReplicaReading {
            receive_lsn: Some(Lsn(0x3_0000_0000)),
            replay_lsn: Some(Lsn(0x3_0000_0000)),
            replay_paused: false,
            receiver_status: Some("streaming".into()),
            since_last_replay: Some(Duration::from_millis(100)),
        }),
    }
}

/// Every source answers at `secs`: each database's primary on `primaries[db]`, the DNS record
/// pointing at `dns_site`, every check healthy.
fn all_answer(m: &mut Model, secs: f64, primaries: [usize; 2], dns_site: usize) {
    for (db, primary_site) in primaries.into_iter().enumerate() {
        for member in [WEST, EAST] {
            let reading = if member == primary_site {
                primary()
            } else {
                replica()
            };
            fixture::apply(
                m,
                Msg::Observed(Observation::Postgres {
                    db,
                    member,
                    at: at(secs),
                    result: Ok(reading),
                }),
            );
        }
    }
    for check in 0..4 {
        fixture::apply(
            m,
            Msg::Observed(Observation::Probe {
                check,
                at: at(secs),
                outcome: ProbeOutcome {
                    ok: true,
                    latency: Duration::from_millis(3),
                    detail: "connected".into(),
                },
            }),
        );
    }
    let ip = if dns_site == WEST {
        "10.0.1.1"
    } else {
        "10.0.1.2"
    };
    fixture::apply(
        m,
        Msg::Observed(Observation::Dns {
            record: 0,
            resolver: 0,
            at: at(secs),
            answer: DnsAnswer::Records {
                values: vec![ip.into()],
                ttl: 60,
            },
        }),
    );
}

fn header(m: &Model) -> String {
    screen::render(m, 160, 48)
        .lines()
        .nth(1)
        .unwrap_or_default()
        .to_string()
}

#[test]
fn without_services_the_issue_estate_is_judged_as_one_and_split() {
    // Today's behaviour, kept for a config that names no service: one picture of everything.
    let mut m = model(&estate(""));
    all_answer(&mut m, 1.0, [WEST, EAST], WEST);
    let findings = verdict::assess(&m);
    assert_eq!(verdict::overall(&findings), Level::Critical, "{findings:?}");
    assert!(
        findings
            .iter()
            .any(|f| f.text == "traffic and primary disagree: DNS points at West, primary at West and East (separate services? name them with [[service]])"),
        "the message names every site it saw: {findings:?}"
    );
}

#[test]
fn two_services_on_different_sites_are_both_ok() {
    let mut m = model(&estate(SERVICES));
    all_answer(&mut m, 1.0, [WEST, EAST], WEST);
    let verdicts = verdict::services(&m);
    let summary: Vec<(&str, Level, Option<usize>)> = verdicts
        .iter()
        .map(|v| (v.service.name.as_str(), v.level, v.site()))
        .collect();
    assert_eq!(
        summary,
        [
            ("billing", Level::Ok, Some(WEST)),
            ("ledger", Level::Ok, Some(EAST))
        ],
        "{:?}",
        verdict::assess(&m)
    );
    assert_eq!(verdict::overall(&verdict::assess(&m)), Level::Ok);
    let census = verdict::census(&m.config, &verdicts);
    assert_eq!(census.on_site, [1, 1]);
    assert_eq!(
        (census.split, census.not_serving, census.waiting),
        (0, 0, 0)
    );
    let header = header(&m);
    assert!(
        header.starts_with("2 services: West 1 · East 1  OK"),
        "{header}"
    );
}

#[test]
fn a_real_split_inside_one_service_is_critical_and_names_it() {
    let mut m = model(&estate(SERVICES));
    all_answer(&mut m, 1.0, [WEST, EAST], WEST);
    // billing's DNS moves to East while its primary stays in West.
    all_answer(&mut m, 2.0, [WEST, EAST], EAST);
    let verdicts = verdict::services(&m);
    assert_eq!(verdicts[0].level, Level::Critical);
    assert_eq!(verdicts[0].site(), None);
    assert_eq!(verdicts[1].level, Level::Ok, "ledger is untouched");
    let findings = verdict::assess(&m);
    assert!(
        findings.iter().any(|f| f.level == Level::Critical
            && f.text
                == "billing: traffic and primary disagree: DNS points at East, primary at West"),
        "{findings:?}"
    );
    let census = verdict::census(&m.config, &verdicts);
    assert_eq!((census.on_site.clone(), census.split), (vec![0, 1], 1));
    let header = header(&m);
    assert!(
        header.starts_with(
            "2 services: West 0 · East 1 · SPLIT 1  CRITICAL: billing: traffic and primary disagree"
        ),
        "{header}"
    );
}

#[test]
fn a_split_brain_in_one_service_is_counted_split_and_named() {
    let mut m = model(&estate(SERVICES));
    all_answer(&mut m, 1.0, [WEST, EAST], WEST);
    // ledger's West member is promoted too: two primaries.
    fixture::apply(
        &mut m,
        Msg::Observed(Observation::Postgres {
            db: 1,
            member: WEST,
            at: at(2.0),
            result: Ok(primary()),
        }),
    );
    let verdicts = verdict::services(&m);
    assert_eq!(verdicts[0].level, Level::Ok, "billing is untouched");
    assert_eq!(verdicts[1].level, Level::Critical);
    assert!(
        verdicts[1]
            .findings
            .iter()
            .all(|f| f.text.starts_with("ledger: ")),
        "{:?}",
        verdicts[1].findings
    );
    assert_eq!(verdict::census(&m.config, &verdicts).split, 1);
}

#[test]
fn status_json_has_a_verdict_per_service_and_the_worst_exit_code() {
    let mut m = model(&estate(SERVICES));
    all_answer(&mut m, 1.0, [WEST, EAST], WEST);
    let findings = verdict::assess(&m);
    let level = verdict::overall(&findings);
    let json = status::to_json(&m, level, &findings);
    assert_eq!(json["verdict"], "OK");
    let services = json["services"].as_array().expect("services");
    assert_eq!(services.len(), 2);
    assert_eq!(services[0]["name"], "billing");
    assert_eq!(services[0]["serving"], "west");
    assert_eq!(services[0]["dns"], serde_json::json!(["west"]));
    assert_eq!(services[1]["name"], "ledger");
    assert_eq!(services[1]["serving"], "east");
    assert_eq!(services[1]["primary"], serde_json::json!(["east"]));

    all_answer(&mut m, 2.0, [WEST, EAST], EAST);
    let findings = verdict::assess(&m);
    let level = verdict::overall(&findings);
    let json = status::to_json(&m, level, &findings);
    assert_eq!(json["services"][0]["verdict"], "CRITICAL");
    assert_eq!(json["services"][0]["exit_code"], 2);
    assert_eq!(json["services"][1]["verdict"], "OK");
    assert_eq!(json["exit_code"], 2, "the worst service's");
    let text = status::to_text(&m, level, &findings);
    assert!(
        text.contains(
            "  service billing: CRITICAL (serving: unknown)\n  service ledger: OK (serving: East)\n"
        ),
        "{text}"
    );
}

#[test]
fn sources_no_service_lists_are_judged_as_unassigned() {
    // ledger's checks are in no service: a failing one is still a finding, under "unassigned".
    let services = r#"
[[service]]
name = "billing"
dns = ["billing.failover.test."]
database = "billing"
health = ["billing-west", "billing-east"]

[[service]]
name = "ledger"
database = "ledger"
"#;
    let mut m = model(&estate(services));
    all_answer(&mut m, 1.0, [WEST, EAST], WEST);
    fixture::apply(
        &mut m,
        Msg::Observed(Observation::Probe {
            check: 3,
            at: at(2.0),
            outcome: ProbeOutcome {
                ok: false,
                latency: Duration::from_millis(3),
                detail: "connection refused".into(),
            },
        }),
    );
    let verdicts = verdict::services(&m);
    let names: Vec<&str> = verdicts.iter().map(|v| v.service.name.as_str()).collect();
    assert_eq!(names, ["billing", "ledger", "unassigned"]);
    assert!(
        verdicts[2].findings.iter().any(
            |f| f.text == "unassigned: health ledger-east (East) unhealthy: connection refused"
        ),
        "{:?}",
        verdicts[2].findings
    );
}

#[test]
fn check_config_counts_the_services_and_warns_of_what_none_lists() {
    let dir = std::env::temp_dir().join(format!("services-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("estate.toml");
    // ledger's east check is in no service.
    let text = estate(SERVICES).replace(
        "health = [\"ledger-west\", \"ledger-east\"]",
        "health = [\"ledger-west\"]",
    );
    std::fs::write(&path, text).expect("write config");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_failover-console"))
        .args(["check-config", "--config"])
        .arg(&path)
        .output()
        .expect("run check-config");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stdout.contains(", 0 runbooks, 2 services)"), "{stdout}");
    assert!(
        stderr.contains(
            "warning: 1 sources and 0 runbooks are in no [[service]]: shown and judged as service \"unassigned\""
        ),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

const RUNBOOKS: &str = r#"
[[runbook]]
name = "billing-failover"
from = "west"
to = "east"
[[runbook.step]]
title = "Move billing"
manual = "move it"

[[runbook]]
name = "ledger-failover"
from = "west"
to = "east"
[[runbook.step]]
title = "Move ledger"
manual = "move it"
"#;

fn probe(m: &mut Model, check: usize, secs: f64, ok: bool) {
    fixture::apply(
        m,
        Msg::Observed(Observation::Probe {
            check,
            at: at(secs),
            outcome: ProbeOutcome {
                ok,
                latency: Duration::from_millis(3),
                detail: if ok {
                    "connected"
                } else {
                    "connection refused"
                }
                .into(),
            },
        }),
    );
}

#[test]
fn an_incident_starts_at_its_own_services_first_failure() {
    let services = SERVICES.replace(
        "health = [\"billing-west\", \"billing-east\"]",
        "health = [\"billing-west\", \"billing-east\"]\nrunbooks = [\"billing-failover\"]",
    ) + "runbooks = [\"ledger-failover\"]\n";
    let mut m = model(&(estate(&services) + RUNBOOKS));
    all_answer(&mut m, 1.0, [WEST, WEST], WEST);
    // ledger's west check fails first, billing's 4 s later.
    probe(&mut m, 2, 2.0, false);
    let (billing, ledger) = (0, 1);
    use failover_core::app::numbers::{incident_start, preselected};
    use failover_core::runbook::RunClass;
    assert_eq!(
        preselected(&m, billing),
        RunClass::Planned,
        "billing is fine"
    );
    assert_eq!(preselected(&m, ledger), RunClass::Unplanned);
    probe(&mut m, 0, 6.0, false);
    fixture::apply(&mut m, Msg::Tick(at(7.0)));
    assert_eq!(preselected(&m, billing), RunClass::Unplanned);
    assert_eq!(
        incident_start(&m, billing, RunClass::Unplanned),
        Some(at(6.0)),
        "billing's incident is its own check's failure, not ledger's"
    );
    assert_eq!(
        incident_start(&m, ledger, RunClass::Unplanned),
        Some(at(2.0))
    );
}

/// The issue's `[[service]]` and `[[plan]]` examples, as written: three services each with a
/// runbook called "failover", told apart by `service = ...` on the runbook.
#[test]
fn the_issues_service_and_plan_examples_are_accepted_as_written() {
    let mut text = String::from(
        "[sites.west]\n[sites.east]\n\n[[health]]\nname = \"api-a\"\nsite = \"west\"\ntcp = \"127.0.0.1:18081\"\n[[health]]\nname = \"api-b\"\nsite = \"east\"\ntcp = \"127.0.0.1:18082\"\n\n[[dns]]\nname = \"api.failover.test.\"\nresolvers = [\"127.0.0.1:5353\"]\n[dns.answers]\nwest = [\"10.0.1.100\"]\neast = [\"10.0.2.100\"]\n",
    );
    for (i, db) in ["orders", "billing", "ledger"].iter().enumerate() {
        text += &format!(
            "\n[[database]]\nname = \"{db}\"\nkind = \"postgres\"\n[[database.member]]\nsite = \"west\"\ndsn = \"host=127.0.0.1 port=5{i}321\"\n[[database.member]]\nsite = \"east\"\ndsn = \"host=127.0.0.1 port=5{i}322\"\n"
        );
        for (name, from, to) in [("failover", "east", "west"), ("failback", "west", "east")] {
            text += &format!(
                "\n[[runbook]]\nname = \"{name}\"\nservice = \"{db}\"\nfrom = \"{from}\"\nto = \"{to}\"\n[[runbook.step]]\ntitle = \"Move {db}\"\nmanual = \"move it\"\n"
            );
        }
    }
    text += r#"
[[service]]
name = "orders"
dns = ["api.failover.test."]        # the [[dns]] / [[route53]] records that route its traffic
database = "orders"                 # its [[database]], [[rds]] source or Patroni cluster
health = ["api-a", "api-b"]         # its checks (CloudWatch checks and alarms too)
runbooks = ["failover", "failback"]

[[service]]
name = "billing"
database = "billing"

[[service]]
name = "ledger"
database = "ledger"
runbooks = ["failover"]

[[plan]]
name = "evacuate-east"
to = "west"
runbooks = ["orders/failover", "billing/failover", "ledger/failover"]   # in this order
parallel = false
"#;
    let config = failover_console::config::from_str(&text, std::path::Path::new("issue.toml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = config.runbooks.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "orders/failover",
            "orders/failback",
            "billing/failover",
            "billing/failback",
            "ledger/failover",
            "ledger/failback"
        ]
    );
    // Each service holds its own two, listed or not.
    let held: Vec<Vec<usize>> = config.services.iter().map(|s| s.runbooks.clone()).collect();
    assert_eq!(held, [vec![0, 1], vec![2, 3], vec![4, 5]]);
    let plan = &config.plans[0];
    let order: Vec<&str> = plan
        .entries
        .iter()
        .map(|e| config.runbooks[e.runbook].name.as_str())
        .collect();
    assert_eq!(
        order,
        ["orders/failover", "billing/failover", "ledger/failover"]
    );
}
