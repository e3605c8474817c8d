//! Integration tests against the REAL lab (`scripts/lab`): PostgreSQL primary + replica, two BIND
//! servers and nginx health endpoints on 127.0.0.1. Each test changes the world with
//! `scripts/lab ...` and waits, with a deadline, for the console's state (the engine's model, the
//! journal, `status --json`) to follow.
//!
//! The lab is shared, so the tests are serialised by `LAB`; each one starts with
//! `scripts/lab reset` and resets again when it ends (pass or fail). Run with
//! `cargo test --test lab -- --test-threads=1` after `scripts/lab up` (or `scripts/test`).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;
use std::time::{Duration, Instant};

use failover_console::app::dns::{Match, RecordSite};
use failover_console::app::health::CheckStatus;
use failover_console::app::replication::Role;
use failover_console::app::{Mode, Model};
use failover_console::config::{self, Config};
use failover_console::engine::Engine;
use failover_console::observe::DnsAnswer;
use failover_console::timeline::journal;
use failover_console::timeline::{Entry, Kind};
use failover_console::ui::{Theme, View};
use serde_json::Value;
use tokio::sync::{Mutex, MutexGuard};

/// Every wait for the state to follow the world.
const DEADLINE: Duration = Duration::from_secs(20);

/// The lab is one set of servers: one test at a time, across the test threads. (tokio's Mutex: it
/// does not block a runtime thread while waiting, and a failed test does not poison it.)
static LAB: Mutex<()> = Mutex::const_new(());

// Indices into the lab config (config.toml).
const API_A: usize = 0;
const API_B: usize = 1;
const DB_B_PORT: usize = 2;
const NODE_A: usize = 0;
const NODE_B: usize = 1;
const PRIMARY: usize = 0; // site ids, in config order
const SECONDARY: usize = 1;
const IP_PRIMARY: &str = "10.0.1.100";
const IP_SECONDARY: &str = "10.0.2.100";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn env_port(var: &str, default: u16) -> u16 {
    match std::env::var(var) {
        Ok(v) => v.parse().unwrap_or_else(|_| panic!("{var}={v:?} is not a port number")),
        Err(_) => default,
    }
}

/// config.toml's ports -> the lab's ports (`scripts/lab env`: LAB_* with the same defaults).
fn port_map() -> HashMap<u16, u16> {
    HashMap::from([
        (18081, env_port("LAB_HTTP_A_PORT", 18081)),
        (18082, env_port("LAB_HTTP_B_PORT", 18082)),
        (54321, env_port("LAB_PG_PRIMARY_PORT", 54321)),
        (54322, env_port("LAB_PG_REPLICA_PORT", 54322)),
        (5353, env_port("LAB_DNS_PORT", 5353)),
        (5354, env_port("LAB_DNS2_PORT", 5354)),
    ])
}

/// Rewrites every port in `text` (digits after ':' or 'port=') through `map`, in one pass.
fn remap_ports(text: &str, map: &HashMap<u16, u16>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let after_colon = out.ends_with(':') || out.ends_with("port=");
        if c.is_ascii_digit() && after_colon {
            let end = rest.find(|ch: char| !ch.is_ascii_digit()).unwrap_or(rest.len());
            let digits = &rest[..end];
            match digits.parse::<u16>().ok().and_then(|p| map.get(&p)) {
                Some(port) => out.push_str(&port.to_string()),
                None => out.push_str(digits),
            }
            rest = &rest[end..];
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// The lab config with the journal in `dir`, the lab's ports and short intervals.
fn write_config(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(repo().join("config.toml")).expect("read config.toml");
    let mut table: toml::Table = text.parse().expect("config.toml parses");
    let map = port_map();
    let remap = |v: &mut toml::Value| {
        if let Some(s) = v.as_str() {
            *v = toml::Value::String(remap_ports(s, &map));
        }
    };
    let s = |x: &str| toml::Value::String(x.to_string());
    let console = table.get_mut("console").and_then(|c| c.as_table_mut()).expect("[console]");
    console.insert("journal".into(), s(&dir.join("journal.jsonl").display().to_string()));
    console.insert("log".into(), s(&dir.join("console.log").display().to_string()));
    for check in table.get_mut("health").and_then(|h| h.as_array_mut()).expect("[[health]]") {
        let check = check.as_table_mut().expect("health table");
        for key in ["http", "tcp"] {
            if let Some(v) = check.get_mut(key) {
                remap(v);
            }
        }
        check.insert("interval".into(), s("300ms"));
        check.insert("timeout".into(), s("500ms"));
    }
    for db in table.get_mut("database").and_then(|d| d.as_array_mut()).expect("[[database]]") {
        let db = db.as_table_mut().expect("database table");
        db.insert("interval".into(), s("500ms"));
        db.insert("timeout".into(), s("2s"));
        for member in db.get_mut("member").and_then(|m| m.as_array_mut()).expect("[[database.member]]") {
            remap(member.as_table_mut().expect("member").get_mut("dsn").expect("dsn"));
        }
    }
    for record in table.get_mut("dns").and_then(|d| d.as_array_mut()).expect("[[dns]]") {
        let record = record.as_table_mut().expect("dns table");
        for r in record.get_mut("resolvers").and_then(|r| r.as_array_mut()).expect("resolvers") {
            remap(r);
        }
        record.insert("interval".into(), s("500ms"));
        record.insert("timeout".into(), s("1s"));
    }
    let path = dir.join("config.toml");
    std::fs::write(&path, toml::to_string(&table).expect("serialise config")).expect("write test config");
    path
}

fn not_up_hint() -> &'static str {
    "the failover lab is not up: run `scripts/test` (which starts it), or `sudo scripts/lab up` and then \
     `cargo test --test lab -- --test-threads=1`"
}

fn lab_sync(args: &[&str]) -> Output {
    std::process::Command::new(repo().join("scripts/lab"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run scripts/lab {}: {e}", args.join(" ")))
}

fn describe_output(args: &[&str], out: &Output) -> String {
    format!(
        "scripts/lab {} exited {}\n--- stdout\n{}--- stderr\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// One test's hold on the lab: the lock, a private directory (config + journal), and a reset when
/// it ends, whatever happened.
struct Lab {
    dir: tempfile::TempDir,
    config_path: PathBuf,
    config: Arc<Config>,
    _lock: MutexGuard<'static, ()>,
}

impl Lab {
    async fn begin() -> Lab {
        let lock = LAB.lock().await;
        let out = tokio::process::Command::new(repo().join("scripts/lab")).arg("reset").output().await.expect("run scripts/lab reset");
        if !out.status.success() {
            panic!("{}\n{}", not_up_hint(), describe_output(&["reset"], &out));
        }
        let map = port_map();
        for (what, port) in [
            ("pg node a", map[&54321]),
            ("pg node b", map[&54322]),
            ("http api-a", map[&18081]),
            ("http api-b", map[&18082]),
        ] {
            if std::net::TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(2)).is_err() {
                panic!("{}: {what} does not accept connections on 127.0.0.1:{port}", not_up_hint());
            }
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let config_path = write_config(dir.path());
        let config = Arc::new(config::load(&config_path).unwrap_or_else(|e| panic!("test config does not load: {e}")));
        Lab { dir, config_path, config, _lock: lock }
    }

    /// Runs `scripts/lab ARGS`, panicking with its output if it fails.
    async fn run(&self, args: &[&str]) -> String {
        let out = tokio::process::Command::new(repo().join("scripts/lab")).args(args).output().await.expect("run scripts/lab");
        assert!(out.status.success(), "{}", describe_output(args, &out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    async fn engine(&self) -> Engine {
        let view = View { theme: Theme::mono(), ascii: true };
        Engine::start(self.config.clone(), Mode::Live, "lab-test".into(), view).await.expect("engine starts")
    }

    fn journal(&self) -> Vec<Entry> {
        let (entries, unreadable) = journal::read_all(&self.config.journal).expect("read the journal");
        assert_eq!(unreadable, 0, "unreadable journal lines in {}", self.config.journal.display());
        entries
    }

    /// The console binary with this test's config: (exit code, stdout, stderr).
    async fn console(&self, args: &[&str]) -> (i32, String, String) {
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_failover-console"))
            .arg("--config")
            .arg(&self.config_path)
            .args(args)
            .env("NO_COLOR", "1")
            .output()
            .await
            .expect("run failover-console");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    async fn status_json(&self) -> (i32, Value) {
        let (code, stdout, stderr) = self.console(&["status", "--json"]).await;
        let json: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("status --json is not JSON ({e}):\n{stdout}\nstderr:\n{stderr}"));
        (code, json)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        // Leave the lab as we found it; the next test resets again anyway.
        let out = lab_sync(&["reset"]);
        if !out.status.success() {
            eprintln!("warning: reset after the test failed:\n{}", describe_output(&["reset"], &out));
        }
        let _ = &self.dir;
    }
}

/// The model, as much as a failed wait needs to be understood.
fn dump(m: &Model) -> String {
    let mut s = String::from("\n--- model\n");
    for (spec, st) in m.config.health.iter().zip(&m.health) {
        let last = st.last.as_ref().map(|o| o.detail.as_str()).unwrap_or("-");
        let _ = writeln!(s, "health {:<10} {:<9} ok_run={} fail_run={} stale={} last={last}", spec.name, st.status.label(), st.ok_run, st.fail_run, st.stale);
    }
    for (spec, db) in m.config.databases.iter().zip(&m.dbs) {
        for (member, st) in spec.members.iter().zip(&db.members) {
            let snap = st.snapshot.as_ref();
            let _ = writeln!(
                s,
                "db {}/{:<9} role={:<11} error={:?} stale={} timeline={:?} streaming={:?} paused={:?} lag={:?}",
                spec.name,
                member.name,
                st.role.label(),
                st.error,
                st.stale,
                snap.and_then(|x| x.timeline),
                st.streaming(),
                st.replay_paused(),
                st.lag,
            );
        }
    }
    for (spec, rec) in m.config.dns.iter().zip(&m.dns) {
        let _ = writeln!(s, "dns {} site={:?}", spec.name, rec.site);
        for (server, r) in spec.resolvers.iter().zip(&rec.resolvers) {
            let _ = writeln!(s, "  @{server} answer={:?} matched={:?} stale={}", r.answer, r.matched, r.stale);
        }
    }
    let _ = writeln!(s, "--- timeline (newest first)");
    for shown in m.timeline.newest_first().take(25) {
        let e = &shown.entry;
        let _ = writeln!(s, "{} {:<4} {:<28} {}", e.at, e.severity.label(), e.source, e.message);
    }
    s
}

/// Waits (bounded) until `done` holds; panics with `what` and the model otherwise.
async fn wait(engine: &mut Engine, what: &str, done: impl FnMut(&Model) -> bool) {
    let started = Instant::now();
    let ok = engine.run_until(DEADLINE, done).await;
    assert!(ok, "timed out after {:?} waiting for: {what}{}", started.elapsed(), dump(&engine.model));
}

/// Everything as `scripts/lab reset` leaves it: checks healthy, a primary, b streaming replica,
/// both resolvers answering site A.
fn normal(m: &Model) -> bool {
    let db = &m.dbs[0];
    m.health.iter().all(|h| h.status == CheckStatus::Healthy)
        && db.members[NODE_A].role == Role::Primary
        && db.members[NODE_B].role == Role::Replica
        && db.members[NODE_B].streaming() == Some(true)
        && m.dns[0].site == RecordSite::Site(PRIMARY)
}

async fn wait_normal(engine: &mut Engine) {
    wait(engine, "the normal lab (all checks healthy, a primary, b streaming replica, DNS on site A)", normal).await;
}

/// Edges from `source` whose message contains `needle`.
fn edges<'a>(entries: &'a [Entry], source: &str, needle: &str) -> Vec<&'a Entry> {
    entries.iter().filter(|e| e.kind == Kind::Edge && e.source == source && e.message.contains(needle)).collect()
}

fn journal_text(entries: &[Entry]) -> String {
    entries.iter().map(|e| format!("{} {:<4} {:?} {:<28} {}\n", e.at, e.severity.label(), e.kind, e.source, e.message)).collect()
}

#[track_caller]
fn assert_once(entries: &[Entry], source: &str, needle: &str) {
    let found = edges(entries, source, needle);
    assert_eq!(found.len(), 1, "expected exactly one {source:?} edge containing {needle:?}, found {}\n--- journal\n{}", found.len(), journal_text(entries));
}

// -------------------------------------------------------------------------------------------------
// engine: the world changes, the model follows, the journal holds each edge once
// -------------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoint_503_turns_unhealthy_after_threshold_and_recovers() {
    let lab = Lab::begin().await;
    let mut engine = lab.engine().await;
    wait_normal(&mut engine).await;
    let failure_threshold = lab.config.health[API_A].failure_threshold;
    assert_eq!(failure_threshold, 3, "config.toml's api-a failure-threshold");

    lab.run(&["http", "api-a", "down"]).await;
    // The first failed probe must not flip the check: it stays healthy until the threshold.
    wait(&mut engine, "api-a sees the first failed probe", |m| m.health[API_A].fail_run >= 1).await;
    let st = &engine.model.health[API_A];
    if st.fail_run < failure_threshold {
        assert_eq!(st.status, CheckStatus::Healthy, "api-a flipped before the threshold{}", dump(&engine.model));
    }
    wait(&mut engine, "api-a unhealthy", |m| m.health[API_A].status == CheckStatus::Unhealthy).await;
    let st = &engine.model.health[API_A];
    assert_eq!(st.fail_run, failure_threshold, "api-a went unhealthy after {} failures, not {failure_threshold}{}", st.fail_run, dump(&engine.model));
    assert_eq!(st.last.as_ref().map(|o| o.detail.as_str()), Some("status 503 (expected 200)"));
    assert_eq!(engine.model.health[API_B].status, CheckStatus::Healthy, "api-b must not be affected{}", dump(&engine.model));

    // Stays unhealthy (no flapping, no second edge) while still down: a few more probes.
    let probes_so_far = engine.model.health[API_A].fail_run;
    wait(&mut engine, "three more failed probes of api-a", |m| m.health[API_A].fail_run >= probes_so_far + 3).await;
    assert_eq!(engine.model.health[API_A].status, CheckStatus::Unhealthy);

    lab.run(&["http", "api-a", "up"]).await;
    wait(&mut engine, "api-a healthy again", |m| m.health[API_A].status == CheckStatus::Healthy).await;
    assert_eq!(engine.model.health[API_A].ok_run, lab.config.health[API_A].success_threshold);
    engine.shutdown("lab test done").await;

    let entries = lab.journal();
    assert_once(&entries, "health/api-a", "healthy → unhealthy after 3 failed: status 503 (expected 200)");
    assert_once(&entries, "health/api-a", "unhealthy → healthy after 2 ok");
    assert_once(&entries, "health/api-a", "pending → healthy");
    assert_eq!(edges(&entries, "health/api-a", "").len(), 3, "api-a edges\n{}", journal_text(&entries));
    assert!(edges(&entries, "health/api-b", "unhealthy").is_empty(), "api-b never failed\n{}", journal_text(&entries));
    let console: Vec<_> = entries.iter().filter(|e| e.kind == Kind::Console).collect();
    assert!(console.first().is_some_and(|e| e.message.starts_with("started (LIVE") && e.operator.as_deref() == Some("lab-test")), "{}", journal_text(&entries));
    assert!(console.last().is_some_and(|e| e.message == "stopped: lab test done"), "{}", journal_text(&entries));

    // The post-mortem export of this journal holds the edges.
    let (code, md, stderr) = lab.console(&["journal", "export", "--format", "markdown"]).await;
    assert_eq!(code, 0, "journal export failed: {stderr}");
    assert!(md.starts_with("# Incident timeline: orders: site A / site B"), "{md}");
    assert!(md.contains(&format!("- Entries: {}", entries.len())), "{md}");
    assert!(md.contains("- Operators: lab-test"), "{md}");
    for needle in [
        "| CRIT | health/api-a | healthy → unhealthy after 3 failed: status 503 (expected 200) |",
        "| OK | health/api-a | unhealthy → healthy after 2 ok (200) |",
    ] {
        assert_eq!(md.matches(needle).count(), 1, "markdown export should hold {needle:?} once:\n{md}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_replay_and_writes_put_lag_over_limit() {
    let lab = Lab::begin().await;
    let limit = lab.config.databases[0].max_lag_bytes;
    let mut engine = lab.engine().await;
    wait_normal(&mut engine).await;
    wait(&mut engine, "replica b within lag limits", |m| m.dbs[0].members[NODE_B].lag.as_ref().is_some_and(|l| !l.over_limit)).await;

    lab.run(&["pause-replay"]).await;
    wait(&mut engine, "b reports WAL replay paused", |m| m.dbs[0].members[NODE_B].replay_paused() == Some(true)).await;
    // ~5 MB of WAL that b receives but does not replay.
    lab.run(&["write", "5000"]).await;
    wait(&mut engine, "b's lag over the limit", |m| m.dbs[0].members[NODE_B].lag.as_ref().is_some_and(|l| l.over_limit)).await;
    let lag = engine.model.dbs[0].members[NODE_B].lag.clone().expect("lag");
    let (bytes, _) = lag.bytes.expect("lag bytes");
    assert!(bytes > limit, "lag {bytes} B should exceed the {limit} B limit{}", dump(&engine.model));
    assert_eq!(engine.model.dbs[0].members[NODE_B].streaming(), Some(true), "paused replay still streams{}", dump(&engine.model));
    assert_eq!(engine.model.dbs[0].members[NODE_A].role, Role::Primary);

    // Still over while paused: a few more readings must not produce another edge.
    let seen = engine.model.dbs[0].members[NODE_B].last_at;
    wait(&mut engine, "more readings of b", |m| m.dbs[0].members[NODE_B].last_at.zip(seen).is_some_and(|(now, then)| now - then >= time::Duration::seconds(2))).await;
    assert!(engine.model.dbs[0].members[NODE_B].lag.as_ref().is_some_and(|l| l.over_limit), "{}", dump(&engine.model));

    lab.run(&["resume-replay"]).await;
    wait(&mut engine, "b caught up (lag within limits, replay running)", |m| {
        let b = &m.dbs[0].members[NODE_B];
        b.replay_paused() == Some(false) && b.lag.as_ref().is_some_and(|l| !l.over_limit)
    })
    .await;
    engine.shutdown("lab test done").await;

    let entries = lab.journal();
    let b = "db/orders/site B";
    assert_once(&entries, b, "lag over limit");
    assert_once(&entries, b, "lag back within limits");
    assert_once(&entries, b, "WAL replay paused");
    assert_once(&entries, b, "WAL replay resumed");
    assert!(edges(&entries, "db/orders/site A", "lag").is_empty(), "the primary has no lag\n{}", journal_text(&entries));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promoting_the_replica_then_rejoining_swaps_roles() {
    let lab = Lab::begin().await;
    let mut engine = lab.engine().await;
    wait_normal(&mut engine).await;
    let timeline_before = engine.model.dbs[0].members[NODE_A].snapshot.as_ref().and_then(|s| s.timeline).expect("a's timeline");

    lab.run(&["promote", "b"]).await;
    wait(&mut engine, "b primary while a still primary (split brain)", |m| m.dbs[0].primaries() == vec![NODE_A, NODE_B]).await;
    let tl_b = engine.model.dbs[0].members[NODE_B].snapshot.as_ref().and_then(|s| s.timeline).expect("b's timeline");
    assert!(tl_b > timeline_before, "promotion must start a new timeline: b {tl_b}, a was {timeline_before}{}", dump(&engine.model));
    assert!(engine.model.dbs[0].members[NODE_B].lag.is_none(), "a primary has no lag{}", dump(&engine.model));

    lab.run(&["rejoin", "a"]).await;
    wait(&mut engine, "roles swapped: b the only primary, a a streaming replica of b", |m| {
        let db = &m.dbs[0];
        db.primaries() == vec![NODE_B] && db.members[NODE_A].role == Role::Replica && db.members[NODE_A].streaming() == Some(true)
    })
    .await;
    wait(&mut engine, "a's lag measured and within limits", |m| m.dbs[0].members[NODE_A].lag.as_ref().is_some_and(|l| !l.over_limit && l.bytes.is_some())).await;
    let tl_a = engine.model.dbs[0].members[NODE_A].snapshot.as_ref().and_then(|s| s.timeline);
    assert_eq!(tl_a, Some(tl_b), "a follows b's timeline{}", dump(&engine.model));
    engine.shutdown("lab test done").await;

    let entries = lab.journal();
    assert_once(&entries, "db/orders/site B", "replica → primary (promoted");
    assert_once(&entries, "db/orders", "split brain: 2 writable primaries (site A, site B)");
    assert_once(&entries, "db/orders", "one primary: site B");
    assert_once(&entries, "db/orders/site A", "reachable again: replica");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_record_change_moves_answer_and_site() {
    let lab = Lab::begin().await;
    let mut engine = lab.engine().await;
    wait_normal(&mut engine).await;
    let answers = |m: &Model, r: usize| match &m.dns[0].resolvers[r].answer {
        Some(DnsAnswer::Records { values, .. }) => values.clone(),
        _ => vec![],
    };
    assert_eq!(answers(&engine.model, 0), vec![IP_PRIMARY.to_string()]);

    // Only the second server changes: the resolvers disagree.
    lab.run(&["dns-set2", IP_SECONDARY]).await;
    wait(&mut engine, "the resolvers disagree (Mixed)", |m| m.dns[0].site == RecordSite::Mixed).await;
    assert_eq!(answers(&engine.model, 1), vec![IP_SECONDARY.to_string()], "{}", dump(&engine.model));
    assert_eq!(engine.model.dns[0].resolvers[1].matched, Some(Match::Site(SECONDARY)));
    assert_eq!(engine.model.dns[0].resolvers[0].matched, Some(Match::Site(PRIMARY)));

    // Then the main one: both agree on site B.
    lab.run(&["dns-set", IP_SECONDARY]).await;
    wait(&mut engine, "both resolvers answer site B", |m| m.dns[0].site == RecordSite::Site(SECONDARY)).await;
    assert_eq!(answers(&engine.model, 0), vec![IP_SECONDARY.to_string()], "{}", dump(&engine.model));

    // An answer matching no site.
    lab.run(&["dns-set", "192.0.2.7"]).await;
    wait(&mut engine, "main server's answer matches no site", |m| m.dns[0].resolvers[0].matched == Some(Match::Unknown)).await;
    assert_eq!(engine.model.dns[0].site, RecordSite::Mixed, "{}", dump(&engine.model));
    engine.shutdown("lab test done").await;

    let entries = lab.journal();
    let src = "dns/api.failover.test. A";
    let main = format!("127.0.0.1:{}", port_map()[&5353]);
    let second = format!("127.0.0.1:{}", port_map()[&5354]);
    assert_once(&entries, src, &format!("@{second}: {IP_PRIMARY} → {IP_SECONDARY} (site B)"));
    assert_once(&entries, src, &format!("@{main}: {IP_PRIMARY} → {IP_SECONDARY} (site B)"));
    assert_once(&entries, src, &format!("@{main}: {IP_SECONDARY} → 192.0.2.7 (no site)"));
    assert_once(&entries, src, "all resolvers agree: site A");
    assert_once(&entries, src, "all resolvers agree: site B");
    assert_eq!(edges(&entries, src, "resolvers disagree (mixed)").len(), 2, "mixed twice (set2, then the unknown answer)\n{}", journal_text(&entries));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopped_postgres_nodes_show_unreachable() {
    let lab = Lab::begin().await;
    let mut engine = lab.engine().await;
    wait_normal(&mut engine).await;

    lab.run(&["pg-stop", "b"]).await;
    wait(&mut engine, "b unreachable (connection refused)", |m| {
        let b = &m.dbs[0].members[NODE_B];
        b.role == Role::Unreachable && b.error.as_deref() == Some("connection refused")
    })
    .await;
    wait(&mut engine, "tcp check db-b-port unhealthy", |m| m.health[DB_B_PORT].status == CheckStatus::Unhealthy).await;
    assert_eq!(engine.model.health[DB_B_PORT].last.as_ref().map(|o| o.detail.as_str()), Some("connection refused"));
    assert_eq!(engine.model.dbs[0].members[NODE_A].role, Role::Primary);
    assert!(engine.model.dbs[0].members[NODE_B].snapshot.is_some(), "the last reading is kept while unreachable");
    // `status` says the same: a WARNING (the replica is gone, the primary serves).
    let (code, json) = lab.status_json().await;
    let member = &json["databases"][0]["members"][NODE_B];
    assert_eq!((member["role"].as_str(), member["error"].as_str()), (Some("unreachable"), Some("connection refused")), "{json:#}");
    assert_eq!(json["databases"][0]["primary_site"], "primary", "{json:#}");
    assert_eq!(code, 1, "a stopped replica is a WARNING; reasons {:?}", reasons(&json));
    assert!(reasons(&json).iter().any(|r| r == "WARNING db/orders/site B unreachable: connection refused"), "{:?}", reasons(&json));

    lab.run(&["pg-start", "b"]).await;
    wait(&mut engine, "b a streaming replica again", |m| m.dbs[0].members[NODE_B].role == Role::Replica && m.dbs[0].members[NODE_B].streaming() == Some(true)).await;

    // The primary goes away: no writable primary, the replica stops streaming.
    lab.run(&["pg-stop", "a"]).await;
    wait(&mut engine, "a unreachable, b not streaming", |m| {
        let db = &m.dbs[0];
        db.members[NODE_A].role == Role::Unreachable && db.primaries().is_empty() && db.members[NODE_B].streaming() == Some(false)
    })
    .await;
    lab.run(&["pg-start", "a"]).await;
    wait(&mut engine, "a primary again and b streaming", |m| m.dbs[0].primaries() == vec![NODE_A] && m.dbs[0].members[NODE_B].streaming() == Some(true)).await;
    engine.shutdown("lab test done").await;

    let entries = lab.journal();
    assert_once(&entries, "db/orders/site B", "replica → unreachable");
    assert_once(&entries, "db/orders/site B", "reachable again: replica");
    assert_once(&entries, "db/orders/site A", "primary → unreachable");
    assert_once(&entries, "db/orders/site A", "reachable again: primary");
    assert_once(&entries, "db/orders", "no writable primary");
    // At start, and again when a comes back.
    assert_eq!(edges(&entries, "db/orders", "one primary: site A").len(), 2, "{}", journal_text(&entries));
    assert_once(&entries, "db/orders/site B", "not streaming");
    assert_once(&entries, "db/orders/site B", "streaming again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopped_or_deleted_dns_answers_show_no_answer() {
    let lab = Lab::begin().await;
    let mut engine = lab.engine().await;
    wait_normal(&mut engine).await;
    let src = "dns/api.failover.test. A";
    let main = format!("127.0.0.1:{}", port_map()[&5353]);
    let timeout = lab.config.dns[0].timeout;

    lab.run(&["dns-stop"]).await;
    wait(&mut engine, "stopped main server: timeout or error, no answer", |m| {
        let r = &m.dns[0].resolvers[0];
        matches!(r.answer, Some(DnsAnswer::Timeout | DnsAnswer::Error(_))) && r.matched == Some(Match::NoAnswer)
    })
    .await;
    assert_eq!(engine.model.dns[0].resolvers[1].matched, Some(Match::Site(PRIMARY)), "the second server still answers{}", dump(&engine.model));
    assert_eq!(engine.model.dns[0].site, RecordSite::Mixed, "{}", dump(&engine.model));
    let described = engine.model.dns[0].resolvers[0].answer.as_ref().map(|a| a.describe()).unwrap_or_default();
    // `status` says the same, within one timeout.
    let asked = Instant::now();
    let (code, json) = lab.status_json().await;
    let took = asked.elapsed();
    let resolvers = &json["dns"][0]["resolvers"];
    assert_eq!(resolvers[0]["error"].as_str(), Some(described.as_str()), "{json:#}");
    assert!(resolvers[0]["site"].is_null(), "{json:#}");
    assert_eq!(resolvers[1]["site"], "primary", "{json:#}");
    assert_eq!(json["dns"][0]["site"], "mixed", "{json:#}");
    assert_eq!(code, 1, "one resolver down: the resolvers disagree, a WARNING; reasons {:?}", reasons(&json));
    assert!(took < timeout * 2, "status took {took:?} with a dead resolver whose timeout is {timeout:?}");

    // A dead server keeps producing results (timeouts), so it never goes stale: watch a few
    // probe rounds.
    let first_timeout = engine.model.dns[0].resolvers[0].last_at.expect("answered");
    let rounds = time::Duration::try_from(timeout * 4).expect("duration");
    wait(&mut engine, "four more probe rounds against the stopped server", |m| {
        m.dns[0].resolvers[0].last_at.is_some_and(|t| t - first_timeout >= rounds)
    })
    .await;
    let entries: Vec<Entry> = engine.model.timeline.newest_first().map(|s| s.entry.clone()).collect();
    let stale: Vec<_> = edges(&entries, src, "stale").into_iter().filter(|e| e.message.contains(&main)).collect();
    assert!(stale.is_empty(), "a server that times out answers every round and must not flap stale / answering again:\n{}", journal_text(&entries));

    lab.run(&["dns-start"]).await;
    wait(&mut engine, "main server answers site A again", |m| m.dns[0].site == RecordSite::Site(PRIMARY)).await;

    lab.run(&["dns-delete"]).await;
    wait(&mut engine, "main server answers NXDOMAIN", |m| m.dns[0].resolvers[0].answer == Some(DnsAnswer::NxDomain)).await;
    assert_eq!(engine.model.dns[0].resolvers[0].matched, Some(Match::NoAnswer));
    assert_eq!(engine.model.dns[0].site, RecordSite::Mixed, "{}", dump(&engine.model));
    engine.shutdown("lab test done").await;

    let entries = lab.journal();
    assert_once(&entries, src, &format!("@{main}: {IP_PRIMARY} → {described} (no answer)"));
    assert_once(&entries, src, &format!("@{main}: {described} → {IP_PRIMARY} (site A)"));
    assert_once(&entries, src, &format!("@{main}: {IP_PRIMARY} → NXDOMAIN (no answer)"));
    assert_eq!(edges(&entries, src, "resolvers disagree (mixed)").len(), 2, "mixed twice (stopped, then NXDOMAIN)\n{}", journal_text(&entries));
    assert_eq!(edges(&entries, src, "all resolvers agree: site A").len(), 2, "site A at start and after the restart\n{}", journal_text(&entries));
}

// -------------------------------------------------------------------------------------------------
// `status --json`: one round of probes against the lab, exit code and reasons
// -------------------------------------------------------------------------------------------------

fn reasons(json: &Value) -> Vec<String> {
    json["reasons"].as_array().map(|a| a.iter().map(|r| format!("{} {}", r["level"].as_str().unwrap_or("?"), r["text"].as_str().unwrap_or("?"))).collect()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_json_on_the_healthy_lab_is_ok() {
    let lab = Lab::begin().await;
    let (code, json) = lab.status_json().await;
    let pretty = serde_json::to_string_pretty(&json).unwrap_or_default();
    assert_eq!(code, 0, "healthy lab should exit 0 (OK); reasons {:?}\n{pretty}", reasons(&json));
    assert_eq!(json["verdict"], "OK", "{pretty}");
    assert_eq!(json["exit_code"], 0);
    assert_eq!(json["serving"], "primary", "{pretty}");
    assert_eq!(json["reasons"].as_array().map(Vec::len), Some(0), "{pretty}");

    let health = json["health"].as_array().expect("health array");
    let names: Vec<&str> = health.iter().filter_map(|h| h["name"].as_str()).collect();
    assert_eq!(names, ["api-a", "api-b", "db-b-port"], "{pretty}");
    for h in health {
        assert_eq!(h["healthy"], true, "{pretty}");
    }
    assert_eq!(health[0]["site"], "primary");
    assert_eq!(health[1]["site"], "secondary");
    assert_eq!(health[0]["detail"], "200");
    assert_eq!(health[2]["detail"], "connected");

    let db = &json["databases"][0];
    assert_eq!(db["name"], "orders");
    assert_eq!(db["writable_primaries"], 1, "{pretty}");
    assert_eq!(db["primary_site"], "primary", "{pretty}");
    let members = db["members"].as_array().expect("members");
    assert_eq!(members.len(), 2, "{pretty}");
    assert_eq!((members[0]["site"].as_str(), members[0]["role"].as_str()), (Some("primary"), Some("primary")), "{pretty}");
    assert_eq!((members[1]["site"].as_str(), members[1]["role"].as_str()), (Some("secondary"), Some("replica")), "{pretty}");
    assert_eq!(members[1]["streaming"], true, "{pretty}");
    assert_eq!(members[1]["replay_paused"], false, "{pretty}");
    assert_eq!(members[1]["lag_over_limit"], false, "{pretty}");
    assert!(members[1]["lag_bytes"].is_u64(), "{pretty}");
    assert_eq!(members[0]["timeline"], members[1]["timeline"], "{pretty}");

    let dns = &json["dns"][0];
    assert_eq!(dns["name"], "api.failover.test.");
    assert_eq!(dns["site"], "primary", "{pretty}");
    let resolvers = dns["resolvers"].as_array().expect("resolvers");
    assert_eq!(resolvers.len(), 2, "{pretty}");
    for r in resolvers {
        assert_eq!(r["answers"], serde_json::json!([IP_PRIMARY]), "{pretty}");
        assert_eq!(r["site"], "primary", "{pretty}");
        assert!(r["error"].is_null(), "{pretty}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_json_with_a_check_down_is_critical() {
    let lab = Lab::begin().await;
    lab.run(&["http", "api-a", "down"]).await;
    let (code, json) = lab.status_json().await;
    let pretty = serde_json::to_string_pretty(&json).unwrap_or_default();
    assert_eq!(code, 2, "api-a down: CRITICAL; reasons {:?}\n{pretty}", reasons(&json));
    assert_eq!(json["verdict"], "CRITICAL");
    assert!(
        reasons(&json).contains(&"CRITICAL health api-a (site A) unhealthy: status 503 (expected 200)".to_string()),
        "reasons should say why: {:?}",
        reasons(&json)
    );
    assert_eq!(json["health"][0]["healthy"], false, "{pretty}");
    assert_eq!(json["health"][1]["healthy"], true, "{pretty}");

    // The text form says the same.
    let (code, text, _) = lab.console(&["status"]).await;
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("CRITICAL health api-a (site A) unhealthy: status 503 (expected 200)"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_json_with_two_primaries_is_critical() {
    let lab = Lab::begin().await;
    lab.run(&["promote", "b"]).await;
    let (code, json) = lab.status_json().await;
    let pretty = serde_json::to_string_pretty(&json).unwrap_or_default();
    assert_eq!(code, 2, "split brain: CRITICAL; reasons {:?}\n{pretty}", reasons(&json));
    assert_eq!(json["verdict"], "CRITICAL");
    let db = &json["databases"][0];
    assert_eq!(db["writable_primaries"], 2, "{pretty}");
    assert!(db["primary_site"].is_null(), "{pretty}");
    let roles: Vec<&str> = db["members"].as_array().expect("members").iter().filter_map(|m| m["role"].as_str()).collect();
    assert_eq!(roles, ["primary", "primary"], "{pretty}");
    assert!(reasons(&json).contains(&"CRITICAL database orders: split brain, 2 writable primaries".to_string()), "{:?}", reasons(&json));
    assert!(json["serving"].is_null(), "no agreed site with two primaries: {pretty}");
}

#[test]
fn remap_ports_is_one_pass() {
    let map = HashMap::from([(5353, 54321), (54321, 7)]);
    assert_eq!(remap_ports("127.0.0.1:5353", &map), "127.0.0.1:54321");
    assert_eq!(remap_ports("host=127.0.0.1 port=54321 user=postgres", &map), "host=127.0.0.1 port=7 user=postgres");
    assert_eq!(remap_ports("http://127.0.0.1:18081/healthz", &map), "http://127.0.0.1:18081/healthz");
}
