//! Patroni end to end against the lab's real cluster (p1 in site A, p2 in site B, on etcd):
//! `examples/patroni.toml` as written (only the journal path and the ports are replaced), its
//! pane, lag, edges, gates, the switchover and the failback by keys, the refusals before the
//! call, stopped members, and watch mode. Where it matters that no request reached Patroni, the
//! members' REST APIs sit behind a recording proxy started by the test.
//!
//! Every test begins with `Lab::begin()`, whose `scripts/lab reset` puts p1 back as the leader,
//! unpaused, untagged, without a replay delay; its drop resets again.
// Needs the lab (`scripts/lab up`): run by `scripts/test`, which turns the feature on.
#![cfg(feature = "lab")]

mod common;

use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use common::keys::*;
use common::screen::render;
use common::*;
use crossterm::event::KeyCode;
use failover_console::config::{self, Config};
use failover_console::engine::{Engine, Live, Seat, Watch};
use failover_core::app::Model;
use failover_core::app::model::{Driver, Overlay};
use failover_core::kinds::patroni::Lag;
use failover_core::kinds::patroni::{LagClass, Trouble, lag_class};
use failover_core::runbook::{Event, Phase, RunState, StepResult, StepStatus};
use failover_core::theme::{Theme, View};
use failover_core::timeline::{Entry, Kind};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const SWITCHOVER: usize = 0;
const FAILBACK: usize = 1;
/// The members line of examples/patroni.toml.
const MEMBERS: &str = r#"members = ["http://127.0.0.1:18008", "http://127.0.0.1:18009"]"#;
/// How long a switchover (POST, Patroni answers once done) and the old leader's rejoin may take.
const SWITCH_DEADLINE: Duration = Duration::from_secs(90);

fn api_port(member: &str) -> u16 {
    let map = port_map();
    match member {
        "p1" => map[&18008],
        "p2" => map[&18009],
        _ => panic!("no member {member}"),
    }
}

fn pg_port(member: &str) -> u16 {
    let map = port_map();
    match member {
        "p1" => map[&54331],
        "p2" => map[&54332],
        _ => panic!("no member {member}"),
    }
}

/// examples/patroni.toml pointed at the lab (its ports, a private journal); with `members`,
/// the REST endpoints are replaced by those (the recording proxies).
fn example_config(lab: &Lab, members: Option<&[String]>) -> (std::path::PathBuf, Arc<Config>) {
    let text =
        std::fs::read_to_string(repo().join("examples/patroni.toml")).expect("read the example");
    let journal = lab.dir.path().join("patroni-journal.jsonl");
    let from = "journal = \"patroni-journal.jsonl\"";
    assert!(text.contains(from), "examples/patroni.toml has no {from:?}");
    assert!(
        text.contains(MEMBERS),
        "examples/patroni.toml has no {MEMBERS:?}"
    );
    let text = text.replace(
        from,
        &format!("journal = {:?}", journal.display().to_string()),
    );
    let mut text = remap_ports(&text, &port_map());
    if let Some(members) = members {
        // After the remap: a proxy's port must not be taken for one of the lab's.
        let remapped = remap_ports(MEMBERS, &port_map());
        let list: Vec<String> = members.iter().map(|m| format!("{m:?}")).collect();
        text = text.replace(&remapped, &format!("members = [{}]", list.join(", ")));
    }
    let path = lab.dir.path().join("patroni.toml");
    std::fs::write(&path, &text).expect("write the config");
    let config = config::load(&path).unwrap_or_else(|e| panic!("examples/patroni.toml: {e}"));
    (path, Arc::new(config))
}

async fn start<R: Seat>(config: &Arc<Config>) -> Engine<R> {
    let view = View {
        theme: Theme::mono(),
        ascii: true,
    };
    Engine::<R>::start(config.clone(), "lab-test".into(), view)
        .await
        .expect("engine starts")
}

fn member<'a>(m: &'a Model, name: &str) -> Option<&'a failover_core::kinds::patroni::Member> {
    m.kinds.patroni[0].view().and_then(|v| v.member(name))
}

/// The lab after a reset as the console sees it: p1 leads and runs, p2 streams with no lag,
/// nothing paused or tagged, every health check healthy.
fn settled_lab(m: &Model) -> bool {
    use failover_core::kinds::health::CheckStatus;
    let st = &m.kinds.patroni[0];
    st.leader() == Some("p1")
        && st.trouble(&m.config.kinds.patroni[0]).is_none()
        && st.view().is_some_and(|v| !v.paused)
        && member(m, "p1").is_some_and(|p| p.state == "running")
        && member(m, "p2").is_some_and(|p| {
            p.state == "streaming" && !p.nofailover && p.worst_lag() == Some(Lag::Bytes(0))
        })
        && m.kinds
            .health
            .iter()
            .all(|h| h.status == CheckStatus::Healthy)
}

/// The model's Patroni state and the run, for a failed wait.
fn pdump(m: &Model) -> String {
    let mut s = run_dump(m);
    for (spec, st) in m.config.kinds.patroni.iter().zip(&m.kinds.patroni) {
        s.push_str(&format!(
            "--- patroni {} error={:?} stale={} trouble={:?} limit={}\n",
            spec.name,
            st.error,
            st.stale,
            st.trouble(spec),
            st.limit(spec)
        ));
        for (i, n) in st.nodes.iter().enumerate() {
            s.push_str(&format!("  endpoint {i}: {n:?}\n"));
        }
        if let Some(v) = st.view() {
            s.push_str(&format!("  paused={}\n", v.paused));
            for m in &v.members {
                s.push_str(&format!("  {m:?}\n"));
            }
        }
    }
    s
}

async fn until<R: Seat>(
    engine: &mut Engine<R>,
    deadline: Duration,
    what: &str,
    done: impl FnMut(&Model) -> bool,
) {
    let ok = engine.run_until(deadline, done).await;
    assert!(
        ok,
        "timed out after {deadline:?} waiting for: {what}{}",
        pdump(&engine.model)
    );
}

async fn wait_settled<R: Seat>(engine: &mut Engine<R>) {
    until(
        engine,
        DEADLINE,
        "p1 leading, p2 streaming with lag 0 B, every check healthy",
        settled_lab,
    )
    .await;
}

/// Timeline entries (shown, so journaled) from `source` whose message contains `needle`.
fn shown(m: &Model, source: &str, needle: &str) -> bool {
    m.timeline
        .newest_first()
        .any(|s| s.entry.source == source && s.entry.message.contains(needle))
}

/// The screen with runs of spaces squeezed to one, so rows read as words.
fn screen(m: &Model) -> String {
    render(m, 160, 50)
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The screen's line that contains every one of `words`.
fn line_with<'a>(screen: &'a str, words: &[&str]) -> Option<&'a str> {
    screen.lines().find(|l| words.iter().all(|w| l.contains(w)))
}

async fn get_json(port: u16, path: &str) -> Value {
    let url = format!("http://127.0.0.1:{port}{path}");
    reqwest::Client::new()
        .get(&url)
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: not JSON: {e}"))
}

/// The leader as Patroni's own /cluster says it (asked directly, not through the console).
async fn patroni_leader(port: u16) -> Option<String> {
    let cluster = get_json(port, "/cluster").await;
    cluster["members"]
        .as_array()?
        .iter()
        .find(|m| m["role"] == "leader")
        .and_then(|m| m["name"].as_str())
        .map(str::to_string)
}

/// `SELECT pg_is_in_recovery()` on a member's PostgreSQL, through tokio-postgres.
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

/// Waits (bounded) until the member's PostgreSQL answers `pg_is_in_recovery()` with `want`.
async fn wait_recovery(port: u16, want: bool, deadline: Duration) {
    let until = tokio::time::Instant::now() + deadline;
    let mut last;
    loop {
        last = in_recovery(port).await;
        if last == Ok(want) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < until,
            "port {port}: pg_is_in_recovery() is not {want} after {deadline:?}: {last:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Waits (bounded) until Patroni's /history has `len` lines; they must be exactly that many.
async fn wait_history(port: u16, len: usize) -> Vec<Value> {
    let until = tokio::time::Instant::now() + DEADLINE;
    loop {
        let history = get_json(port, "/history").await;
        let lines = history.as_array().cloned().expect("/history is a list");
        if lines.len() >= len || tokio::time::Instant::now() >= until {
            assert_eq!(lines.len(), len, "/history: {history}");
            return lines;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn run_events(entries: &[Entry], runbook: &str) -> Vec<Event> {
    entries
        .iter()
        .filter_map(|e| e.run.as_ref())
        .filter(|r| r.runbook == runbook)
        .map(|r| r.event.clone())
        .collect()
}

fn journal(config: &Config) -> Vec<Entry> {
    let (entries, unreadable) =
        failover_console::journal::read_all(&config.journal).expect("read the journal");
    assert_eq!(unreadable, 0, "unreadable journal lines");
    entries
}

fn flash(m: &Model) -> String {
    m.ui.flash.clone().map(|f| f.0).unwrap_or_default()
}

/// Arms runbook `index` by keys and waits until the run is active (not a dry run).
async fn arm_run(engine: &mut Engine, index: usize, site: &str, reason: &str) {
    arm(engine, index, site, reason).await;
    let name = engine.model.config.runbooks[index].name.clone();
    until(engine, DEADLINE, "the run armed", |m| {
        m.runs
            .current
            .as_ref()
            .is_some_and(|r| r.runbook == name && r.is_active() && !r.dry_run)
    })
    .await;
}

/// Enter on an action step and wait (up to `deadline`) until it settles; it must end Ok.
async fn do_action(engine: &mut Engine, step: usize, deadline: Duration) {
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
        pdump(&engine.model)
    );
}

/// Enter on a gate step that must block: it stays pending and the flash says why.
fn assert_gate_blocks(engine: &Engine, step: usize, why: &[&str]) {
    let m = &engine.model;
    assert_eq!(
        step_status(m, step),
        Some(StepStatus::Pending),
        "the failing gate must block Enter{}",
        pdump(m)
    );
    let flash = flash(m);
    assert!(
        flash.contains("gate blocks"),
        "flash: {flash:?}{}",
        pdump(m)
    );
    for w in why {
        assert!(flash.contains(w), "flash {flash:?} does not say {w:?}");
    }
}

async fn override_gate(engine: &mut Engine, step: usize, reason: &str) {
    key(engine, KeyCode::Char('o')).await;
    type_line(engine, "override").await;
    type_line(engine, reason).await;
    until(engine, DEADLINE, "the gate overridden", |m| {
        step_status(m, step) == Some(StepStatus::Ok)
    })
    .await;
}

// -------------------------------------------------------------------------------------------------
// A recording proxy in front of a member's REST API
// -------------------------------------------------------------------------------------------------

/// Forwards 127.0.0.1:<port> to a member's REST API and keeps every byte clients sent.
struct Recorder {
    port: u16,
    sent: Arc<StdMutex<Vec<u8>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Recorder {
    async fn start(upstream: u16) -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let sent = Arc::new(StdMutex::new(Vec::new()));
        let record = sent.clone();
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let record = record.clone();
                tokio::spawn(async move {
                    // A stopped member: the client sees the connection closed.
                    let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)).await else {
                        return;
                    };
                    let (mut client_rx, mut client_tx) = client.into_split();
                    let (mut server_rx, mut server_tx) = server.into_split();
                    let up = async {
                        let mut buf = vec![0u8; 16 * 1024];
                        loop {
                            let n = match client_rx.read(&mut buf).await {
                                Ok(0) | Err(_) => break,
                                Ok(n) => n,
                            };
                            record.lock().unwrap().extend_from_slice(&buf[..n]);
                            if server_tx.write_all(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                        let _ = server_tx.shutdown().await;
                    };
                    let down = async {
                        let _ = tokio::io::copy(&mut server_rx, &mut client_tx).await;
                        let _ = client_tx.shutdown().await;
                    };
                    tokio::join!(up, down);
                });
            }
        });
        Recorder { port, sent, accept }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every HTTP/1 request line seen so far ("GET /cluster HTTP/1.1").
    fn request_lines(&self) -> Vec<String> {
        let bytes = self.sent.lock().unwrap().clone();
        String::from_utf8_lossy(&bytes)
            .split("\r\n")
            .filter_map(|line| {
                let at = line.find(" HTTP/1.")?;
                // A body without a line end runs into the next request line: cut it off.
                let start = [
                    "GET ", "POST ", "PUT ", "PATCH ", "DELETE ", "HEAD ", "OPTIONS ",
                ]
                .iter()
                .filter_map(|m| line[..at].rfind(m))
                .max()?;
                Some(line[start..].to_string())
            })
            .collect()
    }

    /// Whether "POST" appears anywhere in what clients sent, request line or not.
    fn saw_post(&self) -> bool {
        let bytes = self.sent.lock().unwrap();
        bytes.windows(4).any(|w| w == b"POST")
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn proxies() -> (Recorder, Recorder) {
    (
        Recorder::start(api_port("p1")).await,
        Recorder::start(api_port("p2")).await,
    )
}

fn all_requests(p: &(Recorder, Recorder)) -> Vec<String> {
    let mut lines = p.0.request_lines();
    lines.extend(p.1.request_lines());
    lines
}

/// Waits until two more `GET /cluster` went through the proxies: a POST sent after what the
/// test just did would have been seen by then.
async fn two_more_polls<R: Seat>(engine: &mut Engine<R>, proxy: &(Recorder, Recorder)) {
    let seen = all_requests(proxy).len();
    until(
        engine,
        DEADLINE,
        "two more polls through the proxies",
        |_| {
            all_requests(proxy)
                .iter()
                .skip(seen)
                .filter(|l| l.starts_with("GET /cluster "))
                .count()
                >= 2
        },
    )
    .await;
}

// -------------------------------------------------------------------------------------------------
// 1. the pane: leader and replica with byte lag; status --json
// -------------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pane_shows_the_leader_and_the_replica_with_byte_lag() {
    let lab = Lab::begin().await;
    let (path, config) = example_config(&lab, None);
    let mut engine = start::<Live>(&config).await;
    wait_settled(&mut engine).await;
    let text = screen(&engine.model);
    assert!(
        text.contains("patroni lab leader: p1 (site A)"),
        "cluster header:\n{text}"
    );
    let p1 = line_with(&text, &["p1 leader running"])
        .unwrap_or_else(|| panic!("no row \"p1 leader running\":\n{text}"));
    assert!(p1.contains("tl ") && p1.contains("site A"), "{p1}");
    assert!(!p1.contains("lag"), "a leader has no lag: {p1}");
    let p2 = line_with(&text, &["p2 replica streaming"])
        .unwrap_or_else(|| panic!("no row \"p2 replica streaming\":\n{text}"));
    assert!(p2.contains("lag 0 B"), "{p2}");
    assert!(p2.contains("site B"), "{p2}");
    assert!(!p2.contains("OVER"), "{p2}");
    assert!(
        shown(&engine.model, "patroni/lab", "leader p1 (site A)"),
        "the first reading names the leader{}",
        pdump(&engine.model)
    );
    engine.shutdown("test done").await;

    // status --json from the binary, on the same config.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_failover-console"))
        .arg("--config")
        .arg(&path)
        .args(["status", "--json"])
        .env("NO_COLOR", "1")
        .output()
        .await
        .expect("run failover-console status --json");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "status --json is not JSON ({e}):\n{stdout}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let cluster = &json["patroni"][0];
    assert_eq!(cluster["name"], "lab", "{json:#}");
    assert_eq!(cluster["leader"], "p1", "{json:#}");
    assert_eq!(cluster["paused"], false, "{json:#}");
    assert_eq!(cluster["trouble"], Value::Null, "{json:#}");
    let members = cluster["members"].as_array().expect("members");
    let p2 = members
        .iter()
        .find(|m| m["name"] == "p2")
        .unwrap_or_else(|| panic!("no p2 in {json:#}"));
    assert_eq!(p2["role"], "replica", "{json:#}");
    assert_eq!(p2["site"], "secondary", "{json:#}");
    assert!(p2["lag_bytes"].is_u64(), "lag_bytes is a number: {json:#}");
    assert!(p2["replay_lag_bytes"].is_u64(), "{json:#}");
    let p1 = members
        .iter()
        .find(|m| m["name"] == "p1")
        .unwrap_or_else(|| panic!("no p1 in {json:#}"));
    assert_eq!(p1["role"], "leader", "{json:#}");
    assert_eq!(
        p1["lag_bytes"],
        Value::Null,
        "a leader has no lag: {json:#}"
    );
}

// -------------------------------------------------------------------------------------------------
// 2. lag over the limit: the row, the edge, and the switchover's gate
// -------------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_lag_over_the_limit_is_shown_and_blocks_the_gate() {
    let lab = Lab::begin().await;
    let (_, config) = example_config(&lab, None);
    let mut engine = start::<Live>(&config).await;
    until(
        &mut engine,
        DEADLINE,
        "the driver lock and a settled lab",
        |m| m.driver.token().is_some() && settled_lab(m),
    )
    .await;
    // p2 receives the WAL at once but replays it only after 60 s: Patroni's own `lag` stays
    // small, replay_lag grows past maximum_lag_on_failover (1 MiB).
    lab.run(&["patroni-delay", "60"]).await;
    lab.run(&["patroni-write", "3000"]).await;
    until(&mut engine, DEADLINE, "p2's replay lag over 1 MiB", |m| {
        let limit = m.kinds.patroni[0].limit(&m.config.kinds.patroni[0]);
        member(m, "p2").is_some_and(|p| {
            matches!(p.replay_lag, Some(Lag::Bytes(b)) if b > 1_048_576)
                && lag_class(p, limit) == LagClass::Over
        })
    })
    .await;
    until(&mut engine, DEADLINE, "the lag edge on the timeline", |m| {
        shown(m, "patroni/lab/p2", "over the limit of 1048576 B")
    })
    .await;
    let worst = match member(&engine.model, "p2").and_then(|p| p.worst_lag()) {
        Some(Lag::Bytes(b)) => b,
        other => panic!("p2's lag {other:?}"),
    };
    let text = screen(&engine.model);
    let row = line_with(&text, &["p2 replica"]).unwrap_or_else(|| panic!("no p2 row:\n{text}"));
    assert!(
        row.contains(&format!("lag {worst} B (")) && row.contains(" OVER"),
        "the row gives the lag over the limit (the worst of lag, recv, replay) and says OVER: {row}"
    );
    assert!(row.contains("replay "), "the row shows replay lag: {row}");
    assert!(
        line_with(&text, &["patroni/lab/p2", "lag", "over the limit"]).is_some(),
        "the timeline shows the lag edge:\n{text}"
    );
    assert!(
        engine
            .model
            .timeline
            .newest_first()
            .any(|s| s.entry.source == "patroni/lab/p2"
                && s.entry.message.starts_with("lag ")
                && s.entry.message.contains(" B (")
                && s.entry.message.contains("over the limit")),
        "the edge gives the lag in bytes{}",
        pdump(&engine.model)
    );

    // The switchover's first step, "p2 caught up", blocks on it.
    arm_run(&mut engine, SWITCHOVER, "secondary", "lag test").await;
    key(&mut engine, KeyCode::Enter).await;
    assert_gate_blocks(&engine, 0, &["p2", "lag over 1048576 B"]);
    let f = flash(&engine.model);
    assert!(
        f.contains("patroni/lab/p2: replica streaming, lag ")
            && f.contains(" MiB) (limit 1048576 B)"),
        "the flash gives the lag: {f}"
    );
    // Enter again: still blocked, nothing recorded as passed.
    key(&mut engine, KeyCode::Enter).await;
    assert_eq!(step_status(&engine.model, 0), Some(StepStatus::Pending));

    // Without the delay p2 replays and the edge says so.
    lab.run(&["patroni-delay", "0"]).await;
    until(
        &mut engine,
        DEADLINE,
        "p2's lag back within the limit",
        |m| shown(m, "patroni/lab/p2", "lag back within the limit"),
    )
    .await;
    engine.shutdown("test done").await;
    let events = run_events(&journal(&config), "switchover");
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::GatePassed { .. } | Event::StepStarted { .. })),
        "{events:#?}"
    );
}

// -------------------------------------------------------------------------------------------------
// 3. the switchover by keys, and the failback
// -------------------------------------------------------------------------------------------------

fn posts(p: &(Recorder, Recorder)) -> Vec<String> {
    all_requests(p)
        .into_iter()
        .filter(|l| l.starts_with("POST "))
        .collect()
}

/// Step `step` of `runbook` started once and finished once with `result`, in that order;
/// returns the two journal messages.
fn started_and_finished(
    entries: &[Entry],
    runbook: &str,
    step: usize,
    result: StepResult,
) -> (String, String) {
    let of_step: Vec<(&Entry, &Event)> = entries
        .iter()
        .filter_map(|e| {
            e.run
                .as_ref()
                .filter(|r| r.runbook == runbook)
                .map(|r| (e, &r.event))
        })
        .filter(|(_, ev)| {
            matches!(ev, Event::StepStarted { step: s, phase: Phase::Do }
                | Event::StepFinished { step: s, phase: Phase::Do, .. } if *s == step)
        })
        .collect();
    let text = journal_text(entries);
    assert_eq!(
        of_step.len(),
        2,
        "step {} of {runbook}: {of_step:#?}\n{text}",
        step + 1
    );
    assert!(
        matches!(of_step[0].1, Event::StepStarted { .. }),
        "started first: {of_step:#?}"
    );
    assert!(
        matches!(of_step[1].1, Event::StepFinished { result: r, .. } if *r == result),
        "finished {result:?}: {of_step:#?}"
    );
    (of_step[0].0.message.clone(), of_step[1].0.message.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switchover_by_keys_makes_p2_leader_and_the_failback_returns_to_p1() {
    let lab = Lab::begin().await;
    let proxy = proxies().await;
    let (_, config) = example_config(&lab, Some(&[proxy.0.url(), proxy.1.url()]));
    let mut engine = start::<Live>(&config).await;
    until(
        &mut engine,
        DEADLINE,
        "the driver lock and a settled lab",
        |m| m.driver.token().is_some() && settled_lab(m),
    )
    .await;
    let timeline = member(&engine.model, "p1")
        .and_then(|p| p.timeline)
        .expect("p1's timeline");
    let history = get_json(api_port("p1"), "/history").await;
    let history_len = history.as_array().map(Vec::len).unwrap_or(0);

    arm_run(
        &mut engine,
        SWITCHOVER,
        "secondary",
        "e2e: planned switchover to site B",
    )
    .await;
    do_step(&mut engine, 0).await; // gate: p2 caught up
    do_step(&mut engine, 1).await; // gate: site B's PostgreSQL port answers
    do_action(&mut engine, 2, SWITCH_DEADLINE).await; // POST /switchover, read until p2 leads
    let run = engine.model.runs.current.clone().expect("the run");
    assert!(
        run.steps[2].detail.starts_with("p2 leads"),
        "{}",
        pdump(&engine.model)
    );
    assert!(
        run.output.iter().any(|l| l.contains("/switchover {")),
        "the POST is shown in the run pane: {:?}",
        run.output
    );
    assert!(
        run.output
            .iter()
            .any(|l| l.starts_with("Patroni answered 200")),
        "{:?}",
        run.output
    );

    // Patroni and PostgreSQL themselves, not through the console.
    assert_eq!(
        patroni_leader(api_port("p1")).await.as_deref(),
        Some("p2"),
        "Patroni's /cluster (asked on p1) after the switchover"
    );
    wait_recovery(pg_port("p2"), false, DEADLINE).await;
    wait_recovery(pg_port("p1"), true, SWITCH_DEADLINE).await; // p1 rejoins as a replica
    // The new leader writes the switch to the DCS's history on its next loop.
    let history = wait_history(api_port("p1"), history_len + 1).await;
    assert_eq!(
        history.last().and_then(|l| l[4].as_str()),
        Some("p2"),
        "{history:?}"
    );

    // The console's own view and timeline.
    until(
        &mut engine,
        DEADLINE,
        "the leader edge and the history edge",
        |m| {
            shown(m, "patroni/lab", "leader p1 (site A) → p2 (site B)")
                && shown(
                    m,
                    "patroni/lab",
                    &format!("history: timeline {timeline} ended at LSN "),
                )
        },
    )
    .await;
    do_step(&mut engine, 3).await; // manual: tell the application teams
    until(&mut engine, DEADLINE, "the switchover run finished", |m| {
        m.runs
            .current
            .as_ref()
            .is_some_and(|r| r.state == RunState::Finished)
    })
    .await;
    assert_eq!(
        posts(&proxy),
        ["POST /switchover HTTP/1.1"],
        "exactly one POST reached Patroni: {:#?}",
        all_requests(&proxy)
    );

    // Failback: once p1 streams from p2 and has caught up.
    until(
        &mut engine,
        SWITCH_DEADLINE,
        "p1 a streaming replica within the limit",
        |m| {
            let limit = m.kinds.patroni[0].limit(&m.config.kinds.patroni[0]);
            m.kinds.patroni[0].leader() == Some("p2")
                && member(m, "p1").is_some_and(|p| {
                    p.state == "streaming" && lag_class(p, limit) == LagClass::Within
                })
        },
    )
    .await;
    key(&mut engine, KeyCode::Esc).await;
    key(&mut engine, KeyCode::Char('r')).await;
    for _ in 0..FAILBACK {
        key(&mut engine, KeyCode::Char('j')).await;
    }
    key(&mut engine, KeyCode::Enter).await;
    assert_eq!(
        engine.model.runs.plan,
        Some(FAILBACK),
        "the failback plan is open"
    );
    let plan = screen(&engine.model);
    assert!(
        plan.contains("failback: a switchover of lab back to p1"),
        "the plan says failback:\n{plan}"
    );
    key(&mut engine, KeyCode::Enter).await;
    type_line(&mut engine, "primary").await;
    type_line(&mut engine, "e2e: site A is back").await;
    until(&mut engine, DEADLINE, "the failback armed", |m| {
        m.runs
            .current
            .as_ref()
            .is_some_and(|r| r.runbook == "failback" && r.is_active())
    })
    .await;
    do_step(&mut engine, 0).await; // gate: p1 caught up
    do_action(&mut engine, 1, SWITCH_DEADLINE).await; // switchover back to p1
    until(
        &mut engine,
        DEADLINE,
        "the failback run finished and the edge",
        |m| {
            m.runs
                .current
                .as_ref()
                .is_some_and(|r| r.runbook == "failback" && r.state == RunState::Finished)
                && shown(m, "patroni/lab", "leader p2 (site B) → p1 (site A)")
        },
    )
    .await;
    assert_eq!(
        patroni_leader(api_port("p2")).await.as_deref(),
        Some("p1"),
        "Patroni's /cluster (asked on p2) after the failback"
    );
    wait_recovery(pg_port("p1"), false, DEADLINE).await;
    wait_recovery(pg_port("p2"), true, SWITCH_DEADLINE).await;
    assert_eq!(
        posts(&proxy),
        ["POST /switchover HTTP/1.1", "POST /switchover HTTP/1.1"],
        "{:#?}",
        all_requests(&proxy)
    );
    engine.shutdown("test done").await;

    // The journal: each switchover started (journaled before the call) and finished once.
    let entries = journal(&config);
    let (started, finished) = started_and_finished(&entries, "switchover", 2, StepResult::Ok);
    assert!(
        started.contains("\"Switch over to p2\" started: switchover of lab: p1 hands over to p2"),
        "{started}"
    );
    assert!(
        finished.contains("ok in") && finished.contains("p2 leads"),
        "{finished}"
    );
    let (started, finished) = started_and_finished(&entries, "failback", 1, StepResult::Ok);
    assert!(
        started.contains("started: failback: a switchover of lab back to p1, from p2"),
        "{started}"
    );
    assert!(finished.contains("p1 leads"), "{finished}");
    for runbook in ["switchover", "failback"] {
        let events = run_events(&entries, runbook);
        assert!(
            matches!(common::last_run_step(&events), Some(Event::Finished)),
            "{runbook}: {events:#?}"
        );
        assert!(
            !events
                .iter()
                .any(|e| matches!(e, Event::StepRefused { .. })),
            "{runbook}: {events:#?}"
        );
    }
    let edges = |needle: &str| {
        entries
            .iter()
            .filter(|e| {
                e.kind == Kind::Edge && e.source == "patroni/lab" && e.message.contains(needle)
            })
            .count()
    };
    assert_eq!(
        edges("leader p1 (site A) → p2 (site B)"),
        1,
        "{}",
        journal_text(&entries)
    );
    assert_eq!(
        edges("leader p2 (site B) → p1 (site A)"),
        1,
        "{}",
        journal_text(&entries)
    );
    let history_edge = entries
        .iter()
        .find(|e| {
            e.kind == Kind::Edge
                && e.message
                    .starts_with(&format!("history: timeline {timeline} ended at LSN "))
        })
        .unwrap_or_else(|| panic!("no history edge:\n{}", journal_text(&entries)));
    assert!(
        history_edge.message.contains(", new leader p2"),
        "{}",
        history_edge.message
    );
}

// -------------------------------------------------------------------------------------------------
// 4. refused before the call: what Patroni would answer 412 to (and a paused cluster)
// -------------------------------------------------------------------------------------------------

/// The switchover armed on a cluster the lab has just changed by `change`: the gate blocks
/// with `gate_says`, the operator overrides it, and Enter on the switchover is refused with
/// `refusal` before any request: the recording proxies saw GETs and no POST, Patroni's leader and
/// /history are unchanged, the journal has the refusal and no start.
async fn refused_before_the_call(
    change: &[&str],
    shows: impl FnMut(&Model) -> bool,
    shows_what: &str,
    gate_says: &str,
    refusal: &str,
) {
    let lab = Lab::begin().await;
    let proxy = proxies().await;
    let (_, config) = example_config(&lab, Some(&[proxy.0.url(), proxy.1.url()]));
    let mut engine = start::<Live>(&config).await;
    until(
        &mut engine,
        DEADLINE,
        "the driver lock and a settled lab",
        |m| m.driver.token().is_some() && settled_lab(m),
    )
    .await;
    lab.run(change).await;
    until(&mut engine, DEADLINE, shows_what, shows).await;
    let history = get_json(api_port("p1"), "/history").await;

    arm_run(&mut engine, SWITCHOVER, "secondary", "refusal test").await;
    key(&mut engine, KeyCode::Enter).await;
    assert_gate_blocks(&engine, 0, &[gate_says]);
    override_gate(&mut engine, 0, "testing the refusal before the call").await;
    do_step(&mut engine, 1).await; // site B's PostgreSQL port answers
    key(&mut engine, KeyCode::Enter).await;
    until(&mut engine, DEADLINE, "the switchover refused", |m| {
        m.runs
            .current
            .as_ref()
            .is_some_and(|r| r.steps[2].detail.starts_with("refused: "))
    })
    .await;
    let m = &engine.model;
    let detail = m.runs.current.as_ref().expect("run").steps[2]
        .detail
        .clone();
    assert!(detail.contains(refusal), "{detail:?}{}", pdump(m));
    assert_eq!(step_status(m, 2), Some(StepStatus::Pending), "nothing ran");
    assert!(m.runs.in_flight.is_none(), "nothing in flight");
    let f = flash(m);
    assert!(
        f.starts_with("refused: ") && f.contains(refusal),
        "flash: {f}"
    );
    let text = screen(m);
    assert!(text.contains(refusal), "the refusal is on screen:\n{text}");
    // Let at least two more polls pass through the proxies, so a POST sent after the refusal
    // would have been seen.
    two_more_polls(&mut engine, &proxy).await;
    engine.shutdown("test done").await;

    let requests = all_requests(&proxy);
    assert!(
        requests.iter().any(|l| l.starts_with("GET /patroni ")),
        "the proxies carry the console's reads: {requests:#?}"
    );
    assert!(
        !proxy.0.saw_post() && !proxy.1.saw_post(),
        "no POST may reach Patroni: {requests:#?}"
    );
    assert_eq!(patroni_leader(api_port("p1")).await.as_deref(), Some("p1"));
    assert_eq!(
        get_json(api_port("p1"), "/history").await,
        history,
        "no timeline switch"
    );
    let entries = journal(&config);
    let events = run_events(&entries, "switchover");
    assert!(
        events.iter().any(
            |e| matches!(e, Event::StepRefused { step: 2, reason } if reason.contains(refusal))
        ),
        "{events:#?}"
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::StepStarted { step: 2, .. })),
        "the switchover never started: {events:#?}"
    );
    let text = journal_text(&entries);
    assert!(
        text.contains("step 3 \"Switch over to p2\" refused: "),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nofailover_candidate_is_refused_before_the_call() {
    refused_before_the_call(
        &["patroni-tag", "p2", "nofailover", "true"],
        |m| {
            member(m, "p2").is_some_and(|p| p.nofailover)
                && shown(
                    m,
                    "patroni/lab/p2",
                    "tagged nofailover: never a failover candidate",
                )
                && line_with(&screen(m), &["p2 replica", "NOFAILOVER"]).is_some()
        },
        "p2 tagged nofailover on the pane and the timeline",
        "tagged nofailover",
        "p2 is tagged nofailover",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_cluster_is_refused_before_the_call() {
    refused_before_the_call(
        &["patroni-pause"],
        |m| {
            m.kinds.patroni[0].view().is_some_and(|v| v.paused)
                && shown(m, "patroni/lab", "PAUSED: maintenance mode")
                && line_with(&screen(m), &["patroni lab leader: p1", "PAUSED"]).is_some()
        },
        "the cluster paused on the pane and the timeline",
        "cluster paused",
        "cluster lab is paused (maintenance mode)",
    )
    .await;
}

// -------------------------------------------------------------------------------------------------
// 5. stopped members
// -------------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_member_and_then_both_are_shown() {
    let lab = Lab::begin().await;
    let (_, config) = example_config(&lab, None);
    let mut engine = start::<Live>(&config).await;
    wait_settled(&mut engine).await;

    lab.run(&["patroni-stop", "p2"]).await;
    until(&mut engine, DEADLINE, "p2's REST API unreachable", |m| {
        let spec = &m.config.kinds.patroni[0];
        member(m, "p2").is_some_and(|p| m.kinds.patroni[0].unreachable(spec, p).is_some())
            && shown(m, "patroni/lab/p2", "REST API unreachable")
    })
    .await;
    let text = screen(&engine.model);
    let row = line_with(&text, &["p2 replica"]).unwrap_or_else(|| panic!("no p2 row:\n{text}"));
    assert!(row.contains("REST API unreachable"), "{row}");
    assert!(
        line_with(&text, &["patroni/lab/p2", "REST API unreachable"]).is_some(),
        "the timeline shows it:\n{text}"
    );
    assert_eq!(
        engine.model.kinds.patroni[0].leader(),
        Some("p1"),
        "p1 still leads{}",
        pdump(&engine.model)
    );
    assert!(
        !text.contains("NO MEMBER ANSWERS"),
        "p1 still answers:\n{text}"
    );

    lab.run(&["patroni-stop", "p1"]).await;
    until(&mut engine, DEADLINE, "no member answers", |m| {
        matches!(
            m.kinds.patroni[0].trouble(&m.config.kinds.patroni[0]),
            Some(Trouble::NoAnswer(_))
        ) && shown(m, "patroni/lab", "NO MEMBER ANSWERS")
    })
    .await;
    let text = screen(&engine.model);
    let header = line_with(&text, &["patroni lab", "NO MEMBER ANSWERS"])
        .unwrap_or_else(|| panic!("the cluster header says NO MEMBER ANSWERS:\n{text}"));
    assert!(header.contains("connection refused"), "{header}");
    assert!(
        engine.model.kinds.patroni[0].leader().is_none(),
        "no leader is claimed from an unanswered read"
    );
    engine.shutdown("test done").await;
    // Both members come back with the reset in Lab's drop (and the next test's begin).
}

// -------------------------------------------------------------------------------------------------
// 6. watch mode sends no POST
// -------------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_mode_sends_no_post_to_patroni() {
    let lab = Lab::begin().await;
    let proxy = proxies().await;
    let (_, config) = example_config(&lab, Some(&[proxy.0.url(), proxy.1.url()]));
    let mut watcher = start::<Watch>(&config).await;
    wait_settled(&mut watcher).await;
    assert!(matches!(watcher.model.driver, Driver::Watching));
    assert!(
        watcher.model.driver.token().is_none(),
        "a watcher holds no driver token, so no executor"
    );
    // Every runbook key, as an operator bent on a switchover would type them.
    for index in [SWITCHOVER, FAILBACK, 2] {
        key(&mut watcher, KeyCode::Char('r')).await;
        for _ in 0..index {
            key(&mut watcher, KeyCode::Char('j')).await;
        }
        key(&mut watcher, KeyCode::Enter).await;
        key(&mut watcher, KeyCode::Enter).await;
        type_line(&mut watcher, "secondary").await;
        type_line(&mut watcher, "watch mode test").await;
        for _ in 0..4 {
            key(&mut watcher, KeyCode::Enter).await;
        }
        // A watch console binds no key that acts: they do nothing, not even refuse.
        for c in ['D', 'o', 's', 'a', 'R', 'v', 'B'] {
            watcher.model.ui.flash = None;
            key(&mut watcher, KeyCode::Char(c)).await;
            let f = flash(&watcher.model);
            assert!(f.is_empty(), "key {c} is bound in watch mode: {f}");
        }
        type_line(&mut watcher, "override").await;
        key(&mut watcher, KeyCode::Esc).await;
    }
    assert!(
        watcher.model.runs.current.is_none(),
        "{}",
        pdump(&watcher.model)
    );
    assert!(
        matches!(watcher.model.ui.overlay, Overlay::None | Overlay::Help),
        "no prompt opened: {:?}",
        watcher.model.ui.overlay
    );
    two_more_polls(&mut watcher, &proxy).await;
    assert!(watcher.model.driver.token().is_none());
    watcher.shutdown("test done").await;

    let requests = all_requests(&proxy);
    for path in ["/patroni", "/cluster", "/history", "/config"] {
        assert!(
            requests
                .iter()
                .any(|l| l.starts_with(&format!("GET {path} "))),
            "the watcher reads {path}: {requests:#?}"
        );
    }
    assert!(
        requests.iter().all(|l| l.starts_with("GET ")),
        "only GETs: {requests:#?}"
    );
    assert!(
        !proxy.0.saw_post() && !proxy.1.saw_post(),
        "no POST reached Patroni: {requests:#?}"
    );
    assert!(run_events(&journal(&config), "switchover").is_empty());
    assert_eq!(patroni_leader(api_port("p1")).await.as_deref(), Some("p1"));
}

// -------------------------------------------------------------------------------------------------
// 7. patroni-failover by keys; the leader changed since arming
// -------------------------------------------------------------------------------------------------

const FAILOVER: usize = 2;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_by_keys_makes_p2_leader_with_one_post_and_its_outcome_journaled() {
    let lab = Lab::begin().await;
    let proxy = proxies().await;
    let (_, config) = example_config(&lab, Some(&[proxy.0.url(), proxy.1.url()]));
    let mut engine = start::<Live>(&config).await;
    until(
        &mut engine,
        DEADLINE,
        "the driver lock and a settled lab",
        |m| m.driver.token().is_some() && settled_lab(m),
    )
    .await;
    arm_run(&mut engine, FAILOVER, "secondary", "e2e: p1 is failing").await;
    do_step(&mut engine, 0).await; // gate: p2 caught up
    do_action(&mut engine, 1, SWITCH_DEADLINE).await; // POST /failover, read until p2 leads
    let run = engine.model.runs.current.clone().expect("the run");
    assert!(
        run.steps[1].detail.starts_with("p2 leads"),
        "{}",
        pdump(&engine.model)
    );
    assert!(
        run.output
            .iter()
            .any(|l| l.contains("/failover {") && l.contains("\"candidate\":\"p2\"")),
        "the POST is shown in the run pane: {:?}",
        run.output
    );
    // Patroni and PostgreSQL themselves.
    assert_eq!(
        patroni_leader(api_port("p2")).await.as_deref(),
        Some("p2"),
        "Patroni's /cluster (asked on p2) after the failover"
    );
    wait_recovery(pg_port("p2"), false, DEADLINE).await;
    until(&mut engine, DEADLINE, "the leader edge", |m| {
        shown(m, "patroni/lab", "leader p1 (site A) → p2 (site B)")
    })
    .await;
    until(&mut engine, DEADLINE, "the run finished", |m| {
        m.runs
            .current
            .as_ref()
            .is_some_and(|r| r.state == RunState::Finished)
    })
    .await;
    assert_eq!(
        posts(&proxy),
        ["POST /failover HTTP/1.1"],
        "exactly one POST reached Patroni: {:#?}",
        all_requests(&proxy)
    );
    engine.shutdown("test done").await;

    let entries = journal(&config);
    let (started, finished) = started_and_finished(&entries, "failover", 1, StepResult::Ok);
    assert!(
        started.contains("\"Fail over to p2\" started: ") && started.contains("p2"),
        "{started}"
    );
    assert!(
        finished.contains("ok in") && finished.contains("p2 leads"),
        "{finished}"
    );
    let events = run_events(&entries, "failover");
    assert!(
        matches!(common::last_run_step(&events), Some(Event::Finished)),
        "{events:#?}"
    );
    // Lab's drop resets the lab: p1 leads again.
}

/// POST /switchover straight to Patroni (not through the console): `candidate` leads after.
async fn switchover_behind_the_consoles_back(leader: &str, candidate: &str) {
    let url = format!("http://127.0.0.1:{}/switchover", api_port(leader));
    let reply = reqwest::Client::new()
        .post(&url)
        .json(&serde_json::json!({ "leader": leader, "candidate": candidate }))
        .timeout(SWITCH_DEADLINE)
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST {url}: {e}"));
    let status = reply.status().as_u16();
    let body = reply.text().await.unwrap_or_default();
    assert_eq!(status, 200, "POST {url}: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_switchover_is_refused_when_the_leader_changed_since_arming() {
    let lab = Lab::begin().await;
    let (_, config) = example_config(&lab, None);
    let mut engine = start::<Live>(&config).await;
    until(
        &mut engine,
        DEADLINE,
        "the driver lock and a settled lab",
        |m| m.driver.token().is_some() && settled_lab(m),
    )
    .await;
    let history_len = get_json(api_port("p1"), "/history")
        .await
        .as_array()
        .map(Vec::len)
        .unwrap_or(0);
    arm_run(&mut engine, SWITCHOVER, "secondary", "leader guard test").await;
    do_step(&mut engine, 0).await;
    do_step(&mut engine, 1).await;

    // Someone switches over by hand meanwhile.
    switchover_behind_the_consoles_back("p1", "p2").await;
    until(&mut engine, SWITCH_DEADLINE, "p2 seen as the leader", |m| {
        m.kinds.patroni[0].leader() == Some("p2")
    })
    .await;
    // The new leader writes the switch to /history on its next loop: wait for that line.
    let history = Value::Array(wait_history(api_port("p2"), history_len + 1).await);
    key(&mut engine, KeyCode::Enter).await;
    let want = "the leader changed since arming: was p1, now p2";
    until(&mut engine, DEADLINE, "the switchover refused", |m| {
        m.runs
            .current
            .as_ref()
            .is_some_and(|r| r.steps[2].detail.starts_with("refused: "))
    })
    .await;
    let m = &engine.model;
    let detail = m.runs.current.as_ref().expect("run").steps[2]
        .detail
        .clone();
    assert_eq!(detail, format!("refused: {want}"), "{}", pdump(m));
    assert_eq!(step_status(m, 2), Some(StepStatus::Pending), "nothing ran");
    assert!(m.runs.in_flight.is_none());
    // The run pane cuts the line at its width: its start is on screen.
    assert!(
        screen(m).contains("refused: the leader changed since arming"),
        "on screen:\n{}",
        screen(m)
    );
    engine.shutdown("test done").await;

    assert_eq!(patroni_leader(api_port("p2")).await.as_deref(), Some("p2"));
    assert_eq!(
        get_json(api_port("p2"), "/history").await,
        history,
        "no switch after the refusal"
    );
    let entries = journal(&config);
    let events = run_events(&entries, "switchover");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::StepRefused { step: 2, reason } if reason == want)),
        "{events:#?}"
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::StepStarted { step: 2, .. })),
        "the switchover never started: {events:#?}"
    );
    assert!(
        journal_text(&entries).contains(&format!("step 3 \"Switch over to p2\" refused: {want}")),
        "{}",
        journal_text(&entries)
    );
}

/// Patroni's members behind the lab's nginx (`/fault/patroni-503/`): a POST /failover reaches
/// Patroni, which acts on it, but the console gets Patroni's 503 "status unknown" at once.
fn answering_503() -> [String; 2] {
    let http = env_port("LAB_HTTP_PORT", 18080);
    ["p1", "p2"].map(|m| format!("http://127.0.0.1:{http}/fault/patroni-503/{m}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failover_answered_503_is_unknown_and_reading_back_finds_p2_leading() {
    let lab = Lab::begin().await;
    let (_, config) = example_config(&lab, Some(&answering_503()));
    let mut engine = start::<Live>(&config).await;
    until(
        &mut engine,
        DEADLINE,
        "the driver lock and a settled lab",
        |m| m.driver.token().is_some() && settled_lab(m),
    )
    .await;
    arm_run(
        &mut engine,
        FAILOVER,
        "secondary",
        "e2e: the answer is lost",
    )
    .await;
    do_step(&mut engine, 0).await; // gate: p2 caught up
    key(&mut engine, KeyCode::Enter).await; // POST /failover: 503
    // An unknown outcome is read back at once: p2 leads, so the step is done.
    until(&mut engine, SWITCH_DEADLINE, "step 2 read back", |m| {
        step_status(m, 1) == Some(StepStatus::Ok) && m.runs.in_flight.is_none()
    })
    .await;
    let run = engine.model.runs.current.clone().expect("the run");
    assert!(
        run.steps[1].detail.contains("p2 is the leader"),
        "{}",
        pdump(&engine.model)
    );
    // Patroni did act on it, by its own word.
    assert_eq!(patroni_leader(api_port("p2")).await.as_deref(), Some("p2"));
    engine.shutdown("test done").await;

    let entries = journal(&config);
    let text = journal_text(&entries);
    let finished: Vec<&Entry> = entries
        .iter()
        .filter(|e| {
            e.run
                .as_ref()
                .is_some_and(|r| matches!(r.event, Event::StepFinished { step: 1, .. }))
        })
        .collect();
    assert_eq!(
        finished.len(),
        2,
        "the unknown outcome, then the read-back's:\n{text}"
    );
    assert!(
        matches!(
            finished[0].run.as_ref().map(|r| &r.event),
            Some(Event::StepFinished {
                phase: Phase::Do,
                result: StepResult::Unknown,
                ..
            })
        ),
        "{text}"
    );
    assert!(
        matches!(
            finished[1].run.as_ref().map(|r| &r.event),
            Some(Event::StepFinished {
                phase: Phase::ReadBack,
                ..
            })
        ),
        "{text}"
    );
    // Lab's drop resets the lab: p1 leads again.
}
