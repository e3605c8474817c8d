//! The lab harness shared by the test files that use the real servers (`scripts/lab`).
#![allow(dead_code, unused_imports)]

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;
use std::time::{Duration, Instant};

use failover_console::config::{self, Config};
use failover_console::engine::{Engine, Live, Seat, Watch};
use failover_console::journal;
use failover_core::app::{Mode, Model};
use failover_core::kinds::dns::DnsAnswer;
use failover_core::kinds::dns::{Match, RecordSite};
use failover_core::kinds::health::CheckStatus;
use failover_core::kinds::postgres::Role;
use failover_core::theme::{Theme, View};
use failover_core::timeline::{Entry, Kind};
use serde_json::Value;
use tokio::sync::{Mutex, MutexGuard};

pub mod aws;
pub mod keys;
pub mod screen;
pub mod tmux;

/// Every wait for the state to follow the world.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// The lab is one set of servers: one test at a time, across the test threads. (tokio's Mutex: it
/// does not block a runtime thread while waiting, and a failed test does not poison it.)
pub static LAB: Mutex<()> = Mutex::const_new(());

// Indices into the lab config (config.toml).
pub const API_A: usize = 0;
pub const API_B: usize = 1;
pub const DB_B_PORT: usize = 2;
pub const NODE_A: usize = 0;
pub const NODE_B: usize = 1;
pub const PRIMARY: usize = 0; // site ids, in config order
pub const SECONDARY: usize = 1;
pub const IP_PRIMARY: &str = "10.0.1.100";
pub const IP_SECONDARY: &str = "10.0.2.100";

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn env_port(var: &str, default: u16) -> u16 {
    match std::env::var(var) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{var}={v:?} is not a port number")),
        Err(_) => default,
    }
}

/// config.toml's ports -> the lab's ports (`scripts/lab env`: LAB_* with the same defaults).
pub fn port_map() -> HashMap<u16, u16> {
    HashMap::from([
        (18081, env_port("LAB_HTTP_A_PORT", 18081)),
        (18082, env_port("LAB_HTTP_B_PORT", 18082)),
        (54321, env_port("LAB_PG_PRIMARY_PORT", 54321)),
        (54322, env_port("LAB_PG_REPLICA_PORT", 54322)),
        (5353, env_port("LAB_DNS_PORT", 5353)),
        (5354, env_port("LAB_DNS2_PORT", 5354)),
        // The Patroni pair (examples/patroni.toml): REST APIs and PostgreSQL ports.
        (18008, env_port("LAB_PATRONI_API1_PORT", 18008)),
        (18009, env_port("LAB_PATRONI_API2_PORT", 18009)),
        (54331, env_port("LAB_PATRONI_PG1_PORT", 54331)),
        (54332, env_port("LAB_PATRONI_PG2_PORT", 54332)),
    ])
}

/// Rewrites every port in `text` (digits after ':' or 'port=') through `map`, in one pass.
pub fn remap_ports(text: &str, map: &HashMap<u16, u16>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let after_colon = out.ends_with(':') || out.ends_with("port=");
        if c.is_ascii_digit() && after_colon {
            let end = rest
                .find(|ch: char| !ch.is_ascii_digit())
                .unwrap_or(rest.len());
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
pub fn write_config(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(repo().join("config.toml")).expect("read config.toml");
    let mut table: toml::Table = text.parse().expect("config.toml parses");
    let map = port_map();
    let remap = |v: &mut toml::Value| {
        if let Some(s) = v.as_str() {
            *v = toml::Value::String(remap_ports(s, &map));
        }
    };
    let s = |x: &str| toml::Value::String(x.to_string());
    let console = table
        .get_mut("console")
        .and_then(|c| c.as_table_mut())
        .expect("[console]");
    console.insert(
        "journal".into(),
        s(&dir.join("journal.jsonl").display().to_string()),
    );
    console.insert(
        "log".into(),
        s(&dir.join("console.log").display().to_string()),
    );
    for check in table
        .get_mut("health")
        .and_then(|h| h.as_array_mut())
        .expect("[[health]]")
    {
        let check = check.as_table_mut().expect("health table");
        for key in ["http", "tcp"] {
            if let Some(v) = check.get_mut(key) {
                remap(v);
            }
        }
        check.insert("interval".into(), s("300ms"));
        check.insert("timeout".into(), s("500ms"));
    }
    for db in table
        .get_mut("database")
        .and_then(|d| d.as_array_mut())
        .expect("[[database]]")
    {
        let db = db.as_table_mut().expect("database table");
        db.insert("interval".into(), s("500ms"));
        db.insert("timeout".into(), s("2s"));
        for member in db
            .get_mut("member")
            .and_then(|m| m.as_array_mut())
            .expect("[[database.member]]")
        {
            remap(
                member
                    .as_table_mut()
                    .expect("member")
                    .get_mut("dsn")
                    .expect("dsn"),
            );
        }
    }
    for record in table
        .get_mut("dns")
        .and_then(|d| d.as_array_mut())
        .expect("[[dns]]")
    {
        let record = record.as_table_mut().expect("dns table");
        for r in record
            .get_mut("resolvers")
            .and_then(|r| r.as_array_mut())
            .expect("resolvers")
        {
            remap(r);
        }
        record.insert("interval".into(), s("500ms"));
        record.insert("timeout".into(), s("1s"));
    }
    if let Some(runbooks) = table.get_mut("runbook").and_then(|r| r.as_array_mut()) {
        for runbook in runbooks {
            for step in runbook
                .get_mut("step")
                .and_then(|s| s.as_array_mut())
                .into_iter()
                .flatten()
            {
                let step = step.as_table_mut().expect("step table");
                if let Some(v) = step.get_mut("server") {
                    remap(v);
                }
                if let Some(v) = step
                    .get_mut("rollback")
                    .and_then(|r| r.as_table_mut())
                    .and_then(|r| r.get_mut("server"))
                {
                    remap(v);
                }
                // Relative commands are relative to the repository, not the test's directory.
                if let Some(first) = step
                    .get_mut("command")
                    .and_then(|c| c.as_array_mut())
                    .and_then(|c| c.first_mut())
                    && let Some(program) = first.as_str().filter(|p| p.starts_with("scripts/"))
                {
                    *first = s(&repo().join(program).display().to_string());
                }
            }
        }
    }
    let path = dir.join("config.toml");
    std::fs::write(&path, toml::to_string(&table).expect("serialise config"))
        .expect("write test config");
    path
}

pub fn not_up_hint() -> &'static str {
    "the failover lab is not up: run `scripts/test` (which starts it), or `sudo scripts/lab up` and then \
     `cargo test --test lab -- --test-threads=1`"
}

pub fn lab_sync(args: &[&str]) -> Output {
    std::process::Command::new(repo().join("scripts/lab"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run scripts/lab {}: {e}", args.join(" ")))
}

pub fn describe_output(args: &[&str], out: &Output) -> String {
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
pub struct Lab {
    pub dir: tempfile::TempDir,
    pub config_path: PathBuf,
    pub config: Arc<Config>,
    _lock: MutexGuard<'static, ()>,
}

impl Lab {
    pub async fn begin() -> Lab {
        let lock = LAB.lock().await;
        let out = tokio::process::Command::new(repo().join("scripts/lab"))
            .arg("reset")
            .output()
            .await
            .expect("run scripts/lab reset");
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
            if std::net::TcpStream::connect_timeout(
                &([127, 0, 0, 1], port).into(),
                Duration::from_secs(2),
            )
            .is_err()
            {
                panic!(
                    "{}: {what} does not accept connections on 127.0.0.1:{port}",
                    not_up_hint()
                );
            }
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let config_path = write_config(dir.path());
        let config = Arc::new(
            config::load(&config_path).unwrap_or_else(|e| panic!("test config does not load: {e}")),
        );
        Lab {
            dir,
            config_path,
            config,
            _lock: lock,
        }
    }

    /// Runs `scripts/lab ARGS`, panicking with its output if it fails.
    pub async fn run(&self, args: &[&str]) -> String {
        let out = tokio::process::Command::new(repo().join("scripts/lab"))
            .args(args)
            .output()
            .await
            .expect("run scripts/lab");
        assert!(out.status.success(), "{}", describe_output(args, &out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub async fn engine(&self) -> Engine {
        let view = View {
            theme: Theme::mono(),
            ascii: true,
        };
        Engine::<Live>::start(self.config.clone(), "lab-test".into(), view)
            .await
            .expect("engine starts")
    }

    pub fn journal(&self) -> Vec<Entry> {
        let (entries, unreadable) =
            journal::read_all(&self.config.journal).expect("read the journal");
        assert_eq!(
            unreadable,
            0,
            "unreadable journal lines in {}",
            self.config.journal.display()
        );
        entries
    }

    /// The console binary with this test's config: (exit code, stdout, stderr).
    pub async fn console(&self, args: &[&str]) -> (i32, String, String) {
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

    pub async fn status_json(&self) -> (i32, Value) {
        let (code, stdout, stderr) = self.console(&["status", "--json"]).await;
        let json: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
            panic!("status --json is not JSON ({e}):\n{stdout}\nstderr:\n{stderr}")
        });
        (code, json)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        // Leave the lab as we found it; the next test resets again anyway.
        let out = lab_sync(&["reset"]);
        if !out.status.success() {
            eprintln!(
                "warning: reset after the test failed:\n{}",
                describe_output(&["reset"], &out)
            );
        }
        let _ = &self.dir;
    }
}

/// The model, as much as a failed wait needs to be understood.
pub fn dump(m: &Model) -> String {
    let mut s = String::from("\n--- model\n");
    for (spec, st) in m.config.kinds.health.iter().zip(&m.kinds.health) {
        let last = st.last.as_ref().map(|o| o.detail.as_str()).unwrap_or("-");
        let _ = writeln!(
            s,
            "health {:<10} {:<9} ok_run={} fail_run={} stale={} last={last}",
            spec.name,
            st.status.label(),
            st.ok_run,
            st.fail_run,
            st.stale
        );
    }
    for (spec, db) in m.config.kinds.postgres.iter().zip(&m.kinds.postgres) {
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
    for (spec, rec) in m.config.kinds.dns.iter().zip(&m.kinds.dns) {
        let _ = writeln!(s, "dns {} site={:?}", spec.name, rec.site);
        for (server, r) in spec.resolvers.iter().zip(&rec.resolvers) {
            let _ = writeln!(
                s,
                "  @{server} answer={:?} matched={:?} stale={}",
                r.answer, r.matched, r.stale
            );
        }
    }
    let _ = writeln!(s, "--- timeline (newest first)");
    for shown in m.timeline.newest_first().take(25) {
        let e = &shown.entry;
        let _ = writeln!(
            s,
            "{} {:<4} {:<28} {}",
            e.at,
            e.severity.label(),
            e.source,
            e.message
        );
    }
    s
}

/// Waits (bounded) until `done` holds; panics with `what` and the model otherwise.
pub async fn wait<R: Seat>(engine: &mut Engine<R>, what: &str, done: impl FnMut(&Model) -> bool) {
    let started = Instant::now();
    let ok = engine.run_until(DEADLINE, done).await;
    assert!(
        ok,
        "timed out after {:?} waiting for: {what}{}",
        started.elapsed(),
        dump(&engine.model)
    );
}

/// Everything as `scripts/lab reset` leaves it: checks healthy, a primary, b streaming replica,
/// both resolvers answering site A.
pub fn normal(m: &Model) -> bool {
    let db = &m.kinds.postgres[0];
    m.kinds
        .health
        .iter()
        .all(|h| h.status == CheckStatus::Healthy)
        && db.members[NODE_A].role == Role::Primary
        && db.members[NODE_B].role == Role::Replica
        && db.members[NODE_B].streaming() == Some(true)
        && m.kinds.dns[0].site == RecordSite::Site(PRIMARY)
}

pub async fn wait_normal<R: Seat>(engine: &mut Engine<R>) {
    wait(
        engine,
        "the normal lab (all checks healthy, a primary, b streaming replica, DNS on site A)",
        normal,
    )
    .await;
}

/// Edges from `source` whose message contains `needle`.
pub fn edges<'a>(entries: &'a [Entry], source: &str, needle: &str) -> Vec<&'a Entry> {
    entries
        .iter()
        .filter(|e| e.kind == Kind::Edge && e.source == source && e.message.contains(needle))
        .collect()
}

pub fn journal_text(entries: &[Entry]) -> String {
    entries
        .iter()
        .map(|e| {
            format!(
                "{} {:<4} {:?} {:<28} {}\n",
                e.at,
                e.severity.label(),
                e.kind,
                e.source,
                e.message
            )
        })
        .collect()
}

#[track_caller]
pub fn assert_once(entries: &[Entry], source: &str, needle: &str) {
    let found = edges(entries, source, needle);
    assert_eq!(
        found.len(),
        1,
        "expected exactly one {source:?} edge containing {needle:?}, found {}\n--- journal\n{}",
        found.len(),
        journal_text(entries)
    );
}

// -------------------------------------------------------------------------------------------------
// engine: the world changes, the model follows, the journal holds each edge once
// -------------------------------------------------------------------------------------------------

/// A run's last event other than a milestone. `Finished` ends what the run did, while "target
/// serving" is recorded when a poller first sees the target serve, which may be after it.
pub fn last_run_step(
    events: &[failover_core::runbook::Event],
) -> Option<&failover_core::runbook::Event> {
    events
        .iter()
        .rev()
        .find(|e| !matches!(e, failover_core::runbook::Event::Milestone { .. }))
}
