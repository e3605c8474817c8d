//! An evacuation plan on the real lab, by keys: examples/evacuation.toml as written (only the
//! journal path and the ports are replaced) moves orders (the PostgreSQL pair behind
//! api.failover.test.) then inventory (the Patroni pair behind pat.failover.test., in the same
//! BIND) to site B, each verified in PostgreSQL, Patroni and DNS themselves; and with
//! inventory's gate failing (its site B check down), the plan stops after orders, orders left
//! moved and journaled, nothing of inventory done.
// Needs the lab (`scripts/lab up`): run by `scripts/test`, which turns the feature on.
#![cfg(feature = "lab")]

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use common::keys::*;
use common::*;
use crossterm::event::KeyCode;
use failover_console::config::{self, Config};
use failover_console::engine::{Engine, Live};
use failover_core::app::Model;
use failover_core::app::model::{Overlay, Purpose};
use failover_core::kinds::dns::RecordSite;
use failover_core::runbook::evac::ItemState;
use failover_core::runbook::{Event, RunState, StepStatus};
use failover_core::theme::{Theme, View};
use failover_core::timeline::Entry;

const ORDERS: usize = 0;
const INVENTORY: usize = 1;
/// A promote, a switchover and the old leader's rejoin may take this long.
const SLOW: Duration = Duration::from_secs(90);

/// examples/evacuation.toml pointed at the lab (its ports, a private journal).
fn example_config(lab: &Lab) -> (PathBuf, Arc<Config>) {
    let text =
        std::fs::read_to_string(repo().join("examples/evacuation.toml")).expect("read the example");
    let journal = lab.dir.path().join("evacuation-journal.jsonl");
    let from = "journal = \"evacuation-journal.jsonl\"";
    assert!(
        text.contains(from),
        "examples/evacuation.toml has no {from:?}"
    );
    let text = text.replace(
        from,
        &format!("journal = {:?}", journal.display().to_string()),
    );
    let mut map = port_map();
    map.insert(18080, env_port("LAB_HTTP_PORT", 18080));
    let text = remap_ports(&text, &map);
    let path = lab.dir.path().join("evacuation.toml");
    std::fs::write(&path, &text).expect("write the config");
    let config = config::load(&path).unwrap_or_else(|e| panic!("examples/evacuation.toml: {e}"));
    (path, Arc::new(config))
}

async fn start(config: &Arc<Config>) -> Engine {
    let view = View {
        theme: Theme::mono(),
        ascii: true,
    };
    Engine::<Live>::start(config.clone(), "lab-test".into(), view)
        .await
        .expect("engine starts")
}

/// Both services on site A, both replicas streaming, every check healthy.
fn settled(m: &Model) -> bool {
    use failover_core::kinds::health::CheckStatus;
    use failover_core::kinds::postgres::Role;
    let pg = &m.kinds.postgres[0];
    let pt = &m.kinds.patroni[0];
    m.driver.token().is_some()
        && m.kinds
            .health
            .iter()
            .all(|h| h.status == CheckStatus::Healthy)
        && pg.members[0].role == Role::Primary
        && pg.members[1].role == Role::Replica
        && pg.members[1].streaming() == Some(true)
        && pt.leader() == Some("p1")
        && pt
            .view()
            .and_then(|v| v.member("p2"))
            .is_some_and(|p| p.state == "streaming")
        && m.kinds.dns.iter().all(|d| d.site == RecordSite::Site(0))
}

fn plan_dump(m: &Model) -> String {
    let mut s = run_dump(m);
    if let Some(plan) = &m.runs.evac.current {
        s.push_str(&format!("--- plan {} {:?}\n", plan.name, plan.state));
        for item in &plan.items {
            s.push_str(&format!(
                "  {}/{} {:?}\n",
                item.service, item.runbook, item.state
            ));
        }
    }
    s
}

async fn until(
    engine: &mut Engine,
    deadline: Duration,
    what: &str,
    done: impl FnMut(&Model) -> bool,
) {
    let ok = engine.run_until(deadline, done).await;
    assert!(
        ok,
        "timed out after {deadline:?} waiting for: {what}{}",
        plan_dump(&engine.model)
    );
}

/// r, down past the two runbooks to the plan, Enter: every gate shown; Enter, the site, the
/// reason.
async fn arm_plan(engine: &mut Engine, reason: &str) {
    key(engine, KeyCode::Char('r')).await;
    key(engine, KeyCode::Char('j')).await;
    key(engine, KeyCode::Char('j')).await;
    key(engine, KeyCode::Enter).await;
    assert_eq!(engine.model.runs.evac.open, Some(0), "the plan is open");
    key(engine, KeyCode::Enter).await;
    assert!(matches!(
        &engine.model.ui.overlay,
        Overlay::Prompt(p) if p.purpose == Purpose::ArmPlanSite { plan: 0 }
    ));
    type_line(engine, "secondary").await;
    type_line(engine, reason).await;
    until(
        engine,
        DEADLINE,
        "the plan and its first runbook armed",
        |m| {
            m.runs.current.as_ref().is_some_and(|r| {
                r.is_active() && r.plan.is_some() && r.runbook == "orders-failover"
            })
        },
    )
    .await;
}

/// Enter on the current step, then until it settles; it must be ok.
async fn step(engine: &mut Engine, step: usize, deadline: Duration) {
    key(engine, KeyCode::Enter).await;
    until(
        engine,
        deadline,
        &format!("step {} settles", step + 1),
        |m| {
            matches!(
                step_status(m, step),
                Some(StepStatus::Ok | StepStatus::Failed | StepStatus::Unknown)
            ) && m.runs.in_flight.is_none()
        },
    )
    .await;
    assert_eq!(
        step_status(&engine.model, step),
        Some(StepStatus::Ok),
        "step {} is not ok{}",
        step + 1,
        plan_dump(&engine.model)
    );
}

/// orders-failover by keys: the lag gate, the promote (site A still writable: typed), both DNS
/// servers, the resolvers' wait.
async fn move_orders(engine: &mut Engine) {
    step(engine, 0, DEADLINE).await;
    key(engine, KeyCode::Enter).await;
    type_line(engine, "promote").await;
    until(engine, SLOW, "the promote", |m| {
        step_status(m, 1) == Some(StepStatus::Ok) && m.runs.in_flight.is_none()
    })
    .await;
    step(engine, 2, DEADLINE).await;
    step(engine, 3, DEADLINE).await;
    key(engine, KeyCode::Enter).await;
    until(engine, SLOW, "orders moved", |m| {
        item_state(m, ORDERS) == Some(ItemState::Moved)
    })
    .await;
}

fn item_state(m: &Model, i: usize) -> Option<ItemState> {
    m.runs
        .evac
        .current
        .as_ref()
        .map(|p| p.items[i].state.clone())
}

async fn dig(port: u16, name: &str) -> String {
    let out = tokio::process::Command::new("dig")
        .args(["+short", "@127.0.0.1", "-p", &port.to_string(), name, "A"])
        .output()
        .await
        .expect("run dig");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

async fn dns_both(name: &str) -> [String; 2] {
    let map = port_map();
    [dig(map[&5353], name).await, dig(map[&5354], name).await]
}

/// `SELECT pg_is_in_recovery()` on a PostgreSQL port.
async fn in_recovery(port: u16) -> Result<bool, String> {
    let (client, conn) = tokio_postgres::connect(
        &format!("host=127.0.0.1 port={port} user=postgres dbname=postgres connect_timeout=3"),
        tokio_postgres::NoTls,
    )
    .await
    .map_err(|e| e.to_string())?;
    let conn = tokio::spawn(conn);
    let row = client
        .query_one("SELECT pg_is_in_recovery()", &[])
        .await
        .map_err(|e| e.to_string());
    drop(client);
    let _ = conn.await;
    Ok(row?.get(0))
}

async fn patroni_leader(port: u16) -> Option<String> {
    let url = format!("http://127.0.0.1:{port}/cluster");
    let cluster: serde_json::Value = reqwest::Client::new()
        .get(&url)
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    cluster["members"]
        .as_array()?
        .iter()
        .find(|m| m["role"] == "leader")
        .and_then(|m| m["name"].as_str())
        .map(str::to_string)
}

fn plan_events(entries: &[Entry]) -> Vec<(String, Event)> {
    entries
        .iter()
        .filter_map(|e| e.run.as_ref().map(|r| (r.runbook.clone(), r.event.clone())))
        .filter(|(_, e)| {
            matches!(
                e,
                Event::PlanArmed { .. }
                    | Event::Armed { .. }
                    | Event::Finished
                    | Event::Aborted { .. }
                    | Event::PlanSkipped { .. }
                    | Event::PlanFinished
                    | Event::PlanAborted { .. }
            )
        })
        .collect()
}

fn names(events: &[(String, Event)]) -> Vec<String> {
    events
        .iter()
        .map(|(r, e)| {
            let what = match e {
                Event::PlanArmed { .. } => "plan-armed",
                Event::Armed { .. } => "armed",
                Event::Finished => "finished",
                Event::Aborted { .. } => "aborted",
                Event::PlanSkipped { .. } => "plan-skipped",
                Event::PlanFinished => "plan-finished",
                Event::PlanAborted { .. } => "plan-aborted",
                _ => "?",
            };
            format!("{r} {what}")
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_evacuation_plan_moves_both_services_by_keys() {
    let lab = Lab::begin().await;
    lab.run(&["http", "inventory-b", "up"]).await;
    assert_eq!(
        dns_both("pat.failover.test.").await,
        ["10.0.1.200", "10.0.1.200"]
    );
    let (path, config) = example_config(&lab);
    let owned = |v: [(&str, &str, &str); 2]| {
        v.map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
            .to_vec()
    };
    assert_eq!(
        services_status(&path).await,
        owned([("orders", "OK", "primary"), ("inventory", "OK", "primary")]),
        "status --json before the plan"
    );
    let mut engine = start(&config).await;
    until(
        &mut engine,
        DEADLINE,
        "both services settled on site A",
        settled,
    )
    .await;
    let started = std::time::Instant::now();
    arm_plan(&mut engine, "e2e: evacuate site A").await;

    move_orders(&mut engine).await;
    // The next runbook armed by itself, inside the plan.
    until(&mut engine, DEADLINE, "inventory's runbook armed", |m| {
        m.runs
            .current
            .as_ref()
            .is_some_and(|r| r.is_active() && r.runbook == "inventory-switchover")
    })
    .await;
    step(&mut engine, 0, DEADLINE).await; // lag gate
    step(&mut engine, 1, DEADLINE).await; // site B healthy
    step(&mut engine, 2, SLOW).await; // switchover to p2
    step(&mut engine, 3, DEADLINE).await;
    step(&mut engine, 4, DEADLINE).await;
    key(&mut engine, KeyCode::Enter).await; // the resolvers' wait
    until(&mut engine, SLOW, "the plan finished", |m| {
        m.runs
            .evac
            .current
            .as_ref()
            .is_some_and(|p| p.state == RunState::Finished)
    })
    .await;
    let took = started.elapsed();
    let plan = engine.model.runs.evac.current.clone().unwrap();
    assert!(
        plan.items.iter().all(|i| i.state == ItemState::Moved),
        "{}",
        plan_dump(&engine.model)
    );
    engine.shutdown("test done").await;

    // PostgreSQL, Patroni and DNS themselves.
    let map = port_map();
    assert_eq!(
        in_recovery(map[&54322]).await,
        Ok(false),
        "orders: b promoted"
    );
    let mut leader = None;
    for port in [map[&18008], map[&18009]] {
        leader = leader.or(patroni_leader(port).await);
    }
    assert_eq!(
        leader.as_deref(),
        Some("p2"),
        "inventory: Patroni's /cluster"
    );
    assert_eq!(
        in_recovery(map[&54332]).await,
        Ok(false),
        "inventory: p2 writable"
    );
    assert_eq!(
        dns_both("api.failover.test.").await,
        ["10.0.2.100", "10.0.2.100"]
    );
    assert_eq!(
        dns_both("pat.failover.test.").await,
        ["10.0.2.200", "10.0.2.200"]
    );

    // The journal: the plan, each runbook inside it in order, its end.
    let (entries, unreadable) =
        failover_console::journal::read_all(&config.journal).expect("the journal");
    assert_eq!(unreadable, 0);
    assert_eq!(
        names(&plan_events(&entries)),
        [
            "evacuate-site-a plan-armed",
            "orders-failover armed",
            "orders-failover finished",
            "inventory-switchover armed",
            "inventory-switchover finished",
            "evacuate-site-a plan-finished",
        ]
    );
    for (_, e) in plan_events(&entries) {
        if let Event::Armed { plan, .. } = e {
            assert_eq!(
                plan.as_deref(),
                Some(plan_id(&entries)),
                "each run carries the plan's id"
            );
        }
    }
    // The export: the plan with each service's figures.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_failover-console"))
        .arg("--config")
        .arg(&path)
        .args(["journal", "export", "--format", "markdown"])
        .env("NO_COLOR", "1")
        .output()
        .await
        .expect("run the export");
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(md.contains("### Plan evacuate-site-a"), "{md}");
    assert!(md.contains("| orders | orders-failover | moved |"), "{md}");
    assert!(
        md.contains("| inventory | inventory-switchover | moved |"),
        "{md}"
    );
    // Each service per `status --json`. Right after the plan orders is a split brain (the
    // runbook does not stop site A's primary) and says so; once it is fenced, and Patroni's old
    // leader has rejoined as a replica, both are served from site B.
    let split = services_status(&path).await;
    assert_eq!(split[0].0, "orders");
    assert_eq!(
        (split[0].1.as_str(), split[0].2.as_str()),
        ("CRITICAL", "null"),
        "{split:?}"
    );
    lab.run(&["pg-stop", "a"]).await;
    let deadline = std::time::Instant::now() + SLOW;
    let mut after = services_status(&path).await;
    while after[1].1 != "OK" && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        after = services_status(&path).await;
    }
    assert_eq!(after[0].0, "orders");
    assert_eq!(
        after[0].2, "secondary",
        "orders served from site B: {after:?}"
    );
    assert_eq!(
        after[1],
        owned([("", "", ""), ("inventory", "OK", "secondary")])[1]
    );
    eprintln!("plan_lab: both services moved by keys in {took:?}");
}

/// `status --json`: each service's name, verdict and serving site key.
async fn services_status(path: &std::path::Path) -> Vec<(String, String, String)> {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_failover-console"))
        .arg("--config")
        .arg(path)
        .args(["status", "--json"])
        .output()
        .await
        .expect("run status");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status --json");
    json["services"]
        .as_array()
        .expect("services")
        .iter()
        .map(|s| {
            let text = |v: &serde_json::Value| v.as_str().unwrap_or("null").to_string();
            (text(&s["name"]), text(&s["verdict"]), text(&s["serving"]))
        })
        .collect()
}

fn plan_id(entries: &[Entry]) -> &str {
    entries
        .iter()
        .find_map(|e| {
            e.run
                .as_ref()
                .filter(|r| matches!(r.event, Event::PlanArmed { .. }))
                .map(|r| r.id.as_str())
        })
        .expect("the plan's arming")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_gate_on_the_second_service_stops_the_plan_after_the_first() {
    let lab = Lab::begin().await;
    lab.run(&["http", "inventory-b", "up"]).await;
    let (_, config) = example_config(&lab);
    let mut engine = start(&config).await;
    until(
        &mut engine,
        DEADLINE,
        "both services settled on site A",
        settled,
    )
    .await;
    arm_plan(
        &mut engine,
        "e2e: evacuate site A, inventory's front end down",
    )
    .await;
    move_orders(&mut engine).await;
    until(&mut engine, DEADLINE, "inventory's runbook armed", |m| {
        m.runs
            .current
            .as_ref()
            .is_some_and(|r| r.is_active() && r.runbook == "inventory-switchover")
    })
    .await;
    step(&mut engine, 0, DEADLINE).await; // lag gate: passes
    lab.run(&["http", "inventory-b", "down"]).await;
    until(&mut engine, DEADLINE, "inventory-b unhealthy", |m| {
        m.kinds.health[2].status == failover_core::kinds::health::CheckStatus::Unhealthy
    })
    .await;
    key(&mut engine, KeyCode::Enter).await; // the healthy gate: blocks
    let flash = engine
        .model
        .ui
        .flash
        .clone()
        .map(|f| f.0)
        .unwrap_or_default();
    assert!(
        flash.contains("gate blocks"),
        "{flash}{}",
        plan_dump(&engine.model)
    );
    assert_eq!(step_status(&engine.model, 1), Some(StepStatus::Pending));
    // A few seconds on: nothing moves on its own.
    let calm = engine
        .run_until(Duration::from_secs(3), |m| {
            m.runs
                .current
                .as_ref()
                .is_some_and(|r| r.steps[1].status != StepStatus::Pending)
        })
        .await;
    assert!(
        !calm,
        "the blocked gate stays pending{}",
        plan_dump(&engine.model)
    );
    assert_eq!(item_state(&engine.model, ORDERS), Some(ItemState::Moved));
    assert_eq!(
        item_state(&engine.model, INVENTORY),
        Some(ItemState::Running)
    );
    for (w, h) in [(80, 24), (160, 48)] {
        let screen = common::screen::render(&engine.model, w, h);
        assert!(
            screen.contains("orders-failover: moved")
                && screen.contains("inventory-switchover: BLOCKED at step 2/6"),
            "{w}x{h}:\n{screen}"
        );
        if w == 80 {
            eprintln!("plan_lab, the plan stopped at 80x24:\n{screen}");
        }
    }
    engine.shutdown("test done").await;

    // orders moved, in PostgreSQL and DNS; inventory untouched: p1 leads, pat on site A.
    let map = port_map();
    assert_eq!(in_recovery(map[&54322]).await, Ok(false));
    assert_eq!(
        dns_both("api.failover.test.").await,
        ["10.0.2.100", "10.0.2.100"]
    );
    let mut leader = None;
    for port in [map[&18008], map[&18009]] {
        leader = leader.or(patroni_leader(port).await);
    }
    assert_eq!(leader.as_deref(), Some("p1"));
    assert_eq!(
        dns_both("pat.failover.test.").await,
        ["10.0.1.200", "10.0.1.200"]
    );
    let (entries, _) = failover_console::journal::read_all(&config.journal).expect("the journal");
    assert_eq!(
        names(&plan_events(&entries)),
        [
            "evacuate-site-a plan-armed",
            "orders-failover armed",
            "orders-failover finished",
            "inventory-switchover armed",
        ]
    );
}
