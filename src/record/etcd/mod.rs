//! War-room mode: the shared record and the driver and recorder leases on etcd v3 (see `wire`
//! for the keys). One task owns the client, the watch, the lease and the queue of entries not
//! yet in etcd (`task`); the console talks to it through a `Handle`.

mod task;
mod wire;

use std::collections::HashSet;

use etcd_client::{Client, GetOptions, SortOrder, SortTarget};
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};

use super::History;
use crate::journal::writer::JournalHandle;
use crate::lock::{Claimant, LockInfo};
use failover_core::app::Msg;
use failover_core::app::model::TIMELINE_CAPACITY;
use failover_core::config::WarRoom;
use failover_core::timeline::{Entry, Event, Kind, Severity, Tail};
use wire::{Keys, call};

#[derive(Clone)]
pub struct Handle {
    commands: mpsc::Sender<task::Command>,
}

impl Handle {
    pub async fn put(&self, entry: Entry) -> Result<(), String> {
        self.commands
            .send(task::Command::Put(entry))
            .await
            .map_err(|_| "the war-room task stopped".to_string())
    }

    pub async fn put_fenced(&self, entry: Entry, token: u64) -> Result<(), String> {
        let (ack, done) = oneshot::channel();
        self.commands
            .send(task::Command::Fenced { entry, token, ack })
            .await
            .map_err(|_| "the war-room task stopped: not executed".to_string())?;
        done.await
            .map_err(|_| "the war-room task stopped: not executed".to_string())?
    }

    pub async fn break_lock(&self, reason: String) {
        let _ = self.commands.send(task::Command::Break(reason)).await;
    }

    pub async fn release(&self) {
        let (done, wait) = oneshot::channel();
        if self
            .commands
            .send(task::Command::Release(done))
            .await
            .is_ok()
        {
            // Sending what is queued and revoking the lease: each call bounded; all of it too.
            let _ = tokio::time::timeout(3 * wire::CALL_TIMEOUT, wait).await;
        }
    }
}

/// Connects, reads the shared record's history (mirroring into the journal what it does not
/// hold yet) and starts the task. When etcd does not answer, the console starts on its mirror
/// and says so; the task keeps trying.
pub async fn open(
    config: WarRoom,
    who: Claimant,
    live: bool,
    journal: JournalHandle,
    events: mpsc::UnboundedSender<Msg>,
    mirror: History,
) -> (Handle, History) {
    let keys = Keys::new(&config.prefix);
    let loaded = async {
        let (mut client, member) = wire::connect(&config, 0).await?;
        load(&mut client, &keys)
            .await
            .map(|l| ((client, member), l))
    }
    .await;
    let (commands, rx) = mpsc::channel(1024);
    let (history, start) = match loaded {
        Ok((client, loaded)) => {
            mirror_missing(&journal, &mirror.tail.entries, &loaded.entries).await;
            let start = task::Start {
                client: Some(client),
                rev: Some(loaded.rev),
                holder: loaded.driver.clone(),
            };
            (history_of(loaded.entries), start)
        }
        Err(e) => {
            let mut history = mirror;
            history.warnings.push(Entry::new(
                OffsetDateTime::now_utc(),
                Severity::Warn,
                Kind::Console,
                "war-room",
                format!(
                    "shared record unreachable at start-up ({e}): showing this console's mirror ({})",
                    config.etcd.join(", ")
                ),
            ));
            let start = task::Start {
                client: None,
                rev: None,
                holder: None,
            };
            (history, start)
        }
    };
    tokio::spawn(task::run(
        config, keys, who, live, journal, events, start, rx,
    ));
    (Handle { commands }, history)
}

struct Loaded {
    entries: Vec<Entry>,
    driver: Option<LockInfo>,
    /// The revision the record was read at: the watch starts after it.
    rev: i64,
}

/// Reads the whole record, oldest first, a page at a time, all at one revision.
async fn load(client: &mut Client, keys: &Keys) -> Result<Loaded, String> {
    const PAGE: i64 = 1000;
    let mut entries = Vec::new();
    let mut rev = 0;
    let mut min = 0;
    loop {
        let mut options = GetOptions::new()
            .with_prefix()
            .with_sort(SortTarget::Create, SortOrder::Ascend)
            .with_limit(PAGE)
            .with_min_create_revision(min);
        if rev > 0 {
            options = options.with_revision(rev);
        }
        let page = call(
            "reading the record",
            client.get(keys.records(), Some(options)),
        )
        .await?;
        if rev == 0 {
            rev = page.header().map(|h| h.revision()).unwrap_or(0);
        }
        for kv in page.kvs() {
            min = kv.create_revision() + 1;
            match wire::entry(kv) {
                Ok(e) => entries.push(e),
                Err(e) => tracing::warn!("war room: {e}"),
            }
        }
        if !page.more() || page.kvs().is_empty() {
            break;
        }
    }
    let driver = call(
        "reading the driver key",
        client.get(keys.driver(), Some(GetOptions::new().with_revision(rev))),
    )
    .await?
    .kvs()
    .first()
    .map(wire::holder);
    Ok(Loaded {
        entries,
        driver,
        rev,
    })
}

/// The timeline's tail and the latest run, from the whole record.
fn history_of(entries: Vec<Entry>) -> History {
    let run_start = entries.iter().rposition(|e| {
        matches!(
            e.run.as_ref().map(|r| &r.event),
            Some(Event::Armed { .. } | Event::DryRun { .. } | Event::PlanArmed { .. })
        )
    });
    // A runbook armed by an evacuation plan: the plan's story starts at the plan's arming.
    let run_start = run_start.map(|start| {
        let plan = match entries[start].run.as_ref().map(|r| &r.event) {
            Some(Event::Armed { plan: Some(id), .. }) => id,
            _ => return start,
        };
        entries[..start]
            .iter()
            .rposition(|e| {
                e.run
                    .as_ref()
                    .is_some_and(|r| &r.id == plan && matches!(r.event, Event::PlanArmed { .. }))
            })
            .unwrap_or(start)
    });
    let runs = match run_start {
        Some(start) => {
            let from = entries[..start]
                .iter()
                .rposition(|e| e.driver.is_some())
                .unwrap_or(start);
            entries[from..]
                .iter()
                .filter(|e| e.run.is_some() || e.driver.is_some())
                .cloned()
                .collect()
        }
        None => Vec::new(),
    };
    let skip = entries.len().saturating_sub(TIMELINE_CAPACITY);
    let shown: Vec<Entry> = entries.into_iter().skip(skip).collect();
    // No byte offsets: older history than the timeline holds is read with `journal export`.
    let tail = Tail {
        offsets: vec![0; shown.len()],
        entries: shown,
        ..Tail::default()
    };
    History {
        tail,
        runs,
        warnings: Vec::new(),
    }
}

/// Writes to the local mirror the record's entries it does not hold yet (by console, time and
/// message, against the mirror's tail): after a first start, or after time away.
async fn mirror_missing(journal: &JournalHandle, mirror: &[Entry], record: &[Entry]) {
    let key = |e: &Entry| (e.console.clone(), e.at, e.message.clone());
    let held: HashSet<_> = mirror.iter().map(key).collect();
    let oldest_held = mirror.first().map(|e| e.at);
    for entry in record {
        let older_than_mirror_tail = oldest_held.is_some_and(|at| entry.at < at);
        if !older_than_mirror_tail && !held.contains(&key(entry)) {
            let _ = journal.mirror(entry.clone()).await;
        }
    }
}

/// The whole shared record, oldest first, for `journal export`.
pub async fn read_all(config: &WarRoom) -> Result<Vec<Entry>, String> {
    let (mut client, _) = wire::connect(config, 0).await?;
    load(&mut client, &Keys::new(&config.prefix))
        .await
        .map(|l| l.entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use failover_core::timeline::{RunClass, RunEvent};

    fn entry(id: &str, runbook: &str, event: Event) -> Entry {
        let mut e = Entry::new(
            OffsetDateTime::UNIX_EPOCH,
            Severity::Info,
            Kind::Run,
            "run",
            "m",
        );
        e.run = Some(RunEvent {
            id: id.into(),
            runbook: runbook.into(),
            event,
        });
        e
    }

    fn armed(id: &str, plan: Option<&str>) -> Entry {
        entry(
            id,
            "rb",
            Event::Armed {
                target: "b".into(),
                reason: "r".into(),
                steps: Vec::new(),
                expected_primaries: Vec::new(),
                class: None,
                incident_start: None,
                plan: plan.map(str::to_string),
            },
        )
    }

    #[test]
    fn a_runbook_armed_by_a_plan_is_read_back_from_the_plans_arming() {
        let plan = entry(
            "P",
            "evacuate",
            Event::PlanArmed {
                target: "b".into(),
                reason: "r".into(),
                class: RunClass::Drill,
                runbooks: vec!["s/rb".into(), "t/rb2".into()],
            },
        );
        let entries = vec![
            armed("old", None),
            plan,
            armed("R1", Some("P")),
            entry("R1", "rb", Event::Finished),
            armed("R2", Some("P")),
        ];
        let runs = history_of(entries).runs;
        assert_eq!(runs.len(), 4);
        assert_eq!(runs[0].run.as_ref().map(|r| r.id.as_str()), Some("P"));
    }
}
