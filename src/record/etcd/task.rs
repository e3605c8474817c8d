//! The war room's one task: it owns the etcd client, the watch on the prefix, this console's
//! lease (live consoles only), and the queue of this console's entries that etcd has not
//! confirmed yet. It reconnects by itself (etcd-client does not: issue 54), says when the shared
//! record has not answered for a while, and drops driving when its lease may have expired.

use std::collections::VecDeque;
use std::time::Duration;

use etcd_client::{
    Client, Compare, CompareOp, EventType, LeaseKeepAliveStream, LeaseKeeper, PutOptions, Txn,
    TxnOp, TxnOpResponse, WatchOptions, WatchResponse, WatchStream,
};
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::wire::{self, Keys, call};
use crate::journal::writer::JournalHandle;
use crate::lock::{self, Claimant, LockInfo};
use failover_core::app::Msg;
use failover_core::app::driver::DriverToken;
use failover_core::app::model::{Driver, Shared};
use failover_core::config::WarRoom;
use failover_core::runbook::{Event, RunEvent};
use failover_core::timeline::{DriverMark, Entry, Kind, Severity};

pub enum Command {
    Put(Entry),
    Fenced {
        entry: Entry,
        token: u64,
        ack: oneshot::Sender<Result<(), String>>,
    },
    Break(String),
    Release(oneshot::Sender<()>),
}

/// What `open` found.
pub struct Start {
    /// A client for one member, and which (its index in the endpoints).
    pub client: Option<(Client, usize)>,
    /// The revision the history was read at; None: not read (etcd did not answer).
    pub rev: Option<i64>,
    pub holder: Option<LockInfo>,
}

/// Not answering for this long is "unreachable" on screen (a leader election takes ~1.5 s).
const BANNER_AFTER: Duration = Duration::from_secs(2);
/// Between attempts to reconnect.
const RECONNECT: Duration = Duration::from_secs(1);

struct Conn {
    client: Client,
    watch: WatchStream,
}

struct Lease {
    id: i64,
    keeper: LeaseKeeper,
    answers: LeaseKeepAliveStream,
    /// The last time etcd said it was alive: past the TTL it may have expired.
    renewed: Instant,
}

struct Task {
    config: WarRoom,
    keys: Keys,
    who: Claimant,
    live: bool,
    journal: JournalHandle,
    events: mpsc::UnboundedSender<Msg>,
    conn: Option<Conn>,
    /// Kept across reconnections: a lease outlives a broken connection.
    lease_id: Option<i64>,
    lease: Option<Lease>,
    /// This console's entries etcd has not confirmed, oldest first, with their keys.
    queue: VecDeque<(String, Entry)>,
    next_seq: u64,
    /// The driver key this console created (its token), while it drives.
    driving: Option<LockInfo>,
    /// Driving given up because etcd stopped answering: taken up again if the key and the
    /// lease turn out to have survived, with the same token.
    suspended: Option<LockInfo>,
    recorder: bool,
    /// The recorder key was seen free (or never looked at): worth a try.
    recorder_free: bool,
    /// No campaign for the driver key before this: a console whose lease was just broken
    /// must not take the key back before the console that broke it.
    campaign_after: Instant,
    holder: Option<LockInfo>,
    /// The last revision seen; the watch resumes after it.
    rev: Option<i64>,
    /// Since when etcd has not answered (wall clock for the banner, monotonic for the rest).
    down: Option<(OffsetDateTime, Instant)>,
    told_down: bool,
    next_connect: Instant,
    client_spare: Option<Client>,
    /// The member (index in the endpoints) connected to, or to try first.
    member: usize,
    /// A step's start whose fenced write got no answer: it may still have been committed.
    /// Looked up once etcd answers again; if it is there, a refusal follows it.
    unsure: Option<(String, Entry)>,
}

#[allow(clippy::too_many_arguments)]
pub async fn run(
    config: WarRoom,
    keys: Keys,
    who: Claimant,
    live: bool,
    journal: JournalHandle,
    events: mpsc::UnboundedSender<Msg>,
    start: Start,
    mut commands: mpsc::Receiver<Command>,
) {
    let reachable = start.client.is_some();
    let mut task = Task {
        config,
        keys,
        who,
        live,
        journal,
        events,
        conn: None,
        lease_id: None,
        lease: None,
        queue: VecDeque::new(),
        next_seq: 1,
        driving: None,
        suspended: None,
        recorder: false,
        recorder_free: true,
        campaign_after: Instant::now(),
        holder: None,
        rev: start.rev,
        down: (!reachable).then(|| (OffsetDateTime::now_utc(), Instant::now())),
        told_down: false,
        next_connect: Instant::now(),
        member: start.client.as_ref().map(|(_, m)| *m).unwrap_or(0),
        client_spare: start.client.map(|(c, _)| c),
        unsure: None,
    };
    if task.tell(Msg::Shared(Shared::Reachable)).await.is_err() {
        return;
    }
    task.set_holder(start.holder).await;
    // On the clock's grid: the console's clock and the pollers wake the runtime then too.
    let mut tick = crate::grid::Rounds::new(Duration::from_millis(500), Duration::ZERO);
    loop {
        tokio::select! {
            command = commands.recv() => match command {
                Some(Command::Put(entry)) => {
                    // Sent at once: a watcher sees a run event within a second.
                    task.enqueue(entry);
                    if task.conn.is_some() {
                        task.flush().await;
                    }
                }
                Some(Command::Fenced { entry, token, ack }) => {
                    let result = task.put_fenced(entry, token).await;
                    let _ = ack.send(result);
                }
                Some(Command::Break(reason)) => task.break_lock(reason).await,
                Some(Command::Release(done)) => {
                    task.release().await;
                    let _ = done.send(());
                    return;
                }
                None => return,
            },
            answer = next_watch(&mut task.conn) => match answer {
                Ok(Some(response)) => task.watched(response).await,
                Ok(None) => task.lost("the watch ended".into()).await,
                Err(e) => task.lost(format!("watch: {e}")).await,
            },
            _ = tick.next() => {
                if task.turn().await.is_err() {
                    return;
                }
            }
        }
    }
}

async fn next_watch(conn: &mut Option<Conn>) -> Result<Option<WatchResponse>, etcd_client::Error> {
    match conn {
        Some(c) => c.watch.message().await,
        None => std::future::pending().await,
    }
}

impl Task {
    async fn tell(&self, msg: Msg) -> Result<(), ()> {
        self.events.send(msg).map_err(|_| ())
    }

    fn enqueue(&mut self, entry: Entry) {
        let key = self.keys.entry(&self.who.console, self.next_seq);
        self.next_seq += 1;
        self.queue.push_back((key, entry));
    }

    /// Twice a second: reconnect when due; keep the lease; send what is queued; try for the
    /// driver and recorder keys; judge how long etcd has been silent.
    async fn turn(&mut self) -> Result<(), ()> {
        if self.conn.is_none() && Instant::now() >= self.next_connect {
            self.connect().await;
        }
        if self.conn.is_some() {
            self.keep_lease().await;
        }
        if self.conn.is_some() {
            self.flush().await;
        }
        if self.conn.is_some() && self.live {
            self.campaign().await;
        }
        self.judge_silence().await
    }

    /// A call failed or the watch broke: drop the connection and try again shortly.
    async fn lost(&mut self, why: String) {
        if self.conn.take().is_some() {
            tracing::warn!("war room: etcd connection lost: {why}");
        }
        self.lease = None;
        // The next connection starts with the next member: this one may be the one that died.
        self.member = (self.member + 1) % self.config.etcd.len().max(1);
        if self.down.is_none() {
            self.down = Some((OffsetDateTime::now_utc(), Instant::now()));
        }
        self.next_connect = Instant::now() + RECONNECT;
    }

    async fn judge_silence(&mut self) -> Result<(), ()> {
        let Some((since, at)) = self.down else {
            return Ok(());
        };
        if !self.told_down && at.elapsed() >= BANNER_AFTER {
            self.told_down = true;
            self.tell(Msg::Shared(Shared::Unreachable { since }))
                .await?;
        }
        // Past the lease's TTL without renewing it, another console may already hold the
        // driver key: stop driving now.
        if let Some(info) = &self.driving
            && at.elapsed() >= self.config.lease
        {
            let info = info.clone();
            self.driving = None;
            self.suspended = Some(info);
            self.tell(Msg::Driver(Driver::LockLost(format!(
                "etcd has not answered for {}s: the driver lease may have expired; watching",
                self.config.lease.as_secs()
            ))))
            .await?;
        }
        Ok(())
    }

    async fn connect(&mut self) {
        let client = match self.client_spare.take() {
            Some(c) => Ok(c),
            None => wire::connect(&self.config, self.member)
                .await
                .map(|(client, member)| {
                    self.member = member;
                    client
                }),
        };
        let mut client = match client {
            Ok(c) => c,
            Err(e) => return self.lost(e).await,
        };
        // Where to watch from: after the last revision seen; on a first contact (etcd was
        // down at start-up), from now, saying that the entries of the gap are not shown.
        let from = match self.rev {
            Some(rev) => rev + 1,
            None => {
                match call("reading the revision", client.get(self.keys.driver(), None)).await {
                    Ok(r) => {
                        let rev = r.header().map(|h| h.revision()).unwrap_or(0);
                        self.rev = Some(rev);
                        let holder = r.kvs().first().map(wire::holder);
                        self.set_holder(holder).await;
                        self.note(
                        Severity::Warn,
                        "shared record reachable: entries written while it was not are in `journal export`, not on this screen",
                    )
                    .await;
                        rev + 1
                    }
                    Err(e) => return self.lost(e).await,
                }
            }
        };
        let options = WatchOptions::new().with_prefix().with_start_revision(from);
        let watch = match call("watch", client.watch(self.keys.all(), Some(options))).await {
            Ok(w) => w,
            Err(e) => return self.lost(e).await,
        };
        self.conn = Some(Conn { client, watch });
        if self.live && !self.resume_lease().await {
            return;
        }
        self.flush().await;
        self.settle_unsure().await;
        if self.conn.is_some() && self.down.take().is_some() && self.told_down {
            self.told_down = false;
            let _ = self.tell(Msg::Shared(Shared::Reachable)).await;
        }
    }

    fn client(&self) -> Option<Client> {
        self.conn.as_ref().map(|c| c.client.clone())
    }

    /// This console's lease after a (re)connection: the old one if etcd still has it (then
    /// driving resumes with the same token if the driver key is still ours), else a new one.
    /// False if etcd stopped answering meanwhile.
    async fn resume_lease(&mut self) -> bool {
        let Some(mut client) = self.client() else {
            return false;
        };
        let ttl = self.config.lease.as_secs() as i64;
        let alive = match self.lease_id {
            Some(id) => match call("lease", client.lease_time_to_live(id, None)).await {
                Ok(r) => r.ttl() > 0,
                Err(e) => {
                    self.lost(e).await;
                    return false;
                }
            },
            None => false,
        };
        if !alive {
            self.lease_id = None;
            if self.recorder {
                self.recorder = false;
                let _ = self.tell(Msg::Recorder(false)).await;
            }
            if let Some(info) = self.driving.take().or(self.suspended.take()) {
                self.mark_released(&info, "driver lease expired while etcd did not answer")
                    .await;
                let _ = self
                    .tell(Msg::Driver(Driver::LockLost(
                        "the driver lease expired while etcd did not answer".into(),
                    )))
                    .await;
            }
            match call("lease", client.lease_grant(ttl, None)).await {
                Ok(r) => self.lease_id = Some(r.id()),
                Err(e) => {
                    self.lost(e).await;
                    return false;
                }
            }
        }
        let id = self.lease_id.unwrap_or_default();
        match call("lease keep-alive", client.lease_keep_alive(id)).await {
            Ok((keeper, answers)) => {
                self.lease = Some(Lease {
                    id,
                    keeper,
                    answers,
                    renewed: Instant::now(),
                })
            }
            Err(e) => {
                self.lost(e).await;
                return false;
            }
        }
        if let Some(info) = self.suspended.take() {
            let still = match call("driver key", client.get(self.keys.driver(), None)).await {
                Ok(r) => r.kvs().first().is_some_and(|kv| {
                    kv.create_revision() as u64 == info.token && kv.lease() == id
                }),
                Err(e) => {
                    self.lost(e).await;
                    return false;
                }
            };
            if still {
                self.note(
                    Severity::Warn,
                    "driver lease held through etcd's silence (same token): driving again",
                )
                .await;
                self.driving = Some(info.clone());
                let _ = self
                    .tell(Msg::Driver(Driver::Driving(DriverToken::held(info.token))))
                    .await;
            } else {
                self.mark_released(&info, "driver lease lost while etcd did not answer")
                    .await;
            }
        }
        true
    }

    /// Renews the lease every third of its TTL; an answer of 0 s means it is gone.
    async fn keep_lease(&mut self) {
        let third = self.config.lease / 3;
        let Some(lease) = &mut self.lease else {
            return;
        };
        if lease.renewed.elapsed() < third {
            return;
        }
        let renewed = async {
            lease.keeper.keep_alive().await?;
            lease.answers.message().await
        };
        match tokio::time::timeout(wire::CALL_TIMEOUT, renewed).await {
            Ok(Ok(Some(answer))) if answer.ttl() > 0 => lease.renewed = Instant::now(),
            Ok(Ok(_)) => self.lease_gone().await,
            Ok(Err(e)) => self.lost(format!("lease keep-alive: {e}")).await,
            Err(_) => self.lost("lease keep-alive: no answer".into()).await,
        }
    }

    /// etcd says this console's lease no longer exists (revoked by a break, or expired).
    async fn lease_gone(&mut self) {
        self.lease = None;
        self.lease_id = None;
        if self.recorder {
            self.recorder = false;
            let _ = self.tell(Msg::Recorder(false)).await;
        }
        if let Some(info) = self.driving.take() {
            let _ = self
                .tell(Msg::Driver(Driver::LockLost(
                    "this console's driver lease was revoked or expired".into(),
                )))
                .await;
            self.mark_released(&info, "driver lease gone").await;
        }
        if let Some(mut client) = self.client() {
            let ttl = self.config.lease.as_secs() as i64;
            match call("lease", client.lease_grant(ttl, None)).await {
                Ok(r) => {
                    self.lease_id = Some(r.id());
                    self.resume_lease().await;
                }
                Err(e) => self.lost(e).await,
            }
        }
    }

    /// Sends the queue, oldest first, each entry only if its key is not there yet (an entry
    /// whose answer was lost is not written twice).
    async fn flush(&mut self) {
        while let Some((key, entry)) = self.queue.front() {
            let Some(mut client) = self.client() else {
                return;
            };
            let txn = Txn::new()
                .when([Compare::create_revision(key.clone(), CompareOp::Equal, 0)])
                .and_then([TxnOp::put(key.clone(), wire::json(entry), None)]);
            match call("writing the record", client.txn(txn)).await {
                Ok(_) => {
                    self.queue.pop_front();
                }
                Err(e) => return self.lost(e).await,
            }
        }
    }

    /// A start this console gave up on may have been committed after all: if it is in the
    /// record, the record says at once that the step was not executed.
    async fn settle_unsure(&mut self) {
        let (Some((key, start)), Some(mut client)) = (self.unsure.take(), self.client()) else {
            return;
        };
        let found = match call("reading a step's start", client.get(key.clone(), None)).await {
            Ok(r) => !r.kvs().is_empty(),
            Err(e) => {
                self.unsure = Some((key, start));
                return self.lost(e).await;
            }
        };
        let Some(run) = start.run.clone().filter(|_| found) else {
            return;
        };
        let Event::StepStarted { step, .. } = run.event else {
            return;
        };
        let reason = "its start reached the shared record after this console had stopped \
                      waiting for etcd's answer"
            .to_string();
        let mut refused = self.own_entry(
            Severity::Crit,
            format!("step {} refused: {reason}: not executed", step + 1),
        );
        refused.kind = Kind::Run;
        refused.source = start.source.clone();
        refused.token = start.token;
        refused.run = Some(RunEvent {
            event: Event::StepRefused { step, reason },
            ..run
        });
        self.write_own(refused).await;
    }

    /// A mutating step's start: in one transaction with the check that the driver key is still
    /// the one this console created (`token`). Everything queued before it goes first.
    async fn put_fenced(&mut self, entry: Entry, token: u64) -> Result<(), String> {
        if self.conn.is_some() {
            self.flush().await;
        }
        if self.conn.is_none() || !self.queue.is_empty() {
            return Err("the shared record (etcd) does not answer: not executed".into());
        }
        let key = self.keys.entry(&self.who.console, self.next_seq);
        self.next_seq += 1;
        let Some(mut client) = self.client() else {
            return Err("the shared record (etcd) does not answer: not executed".into());
        };
        let txn = Txn::new()
            .when([
                Compare::create_revision(self.keys.driver(), CompareOp::Equal, token as i64),
                Compare::create_revision(key.clone(), CompareOp::Equal, 0),
            ])
            .and_then([TxnOp::put(key.clone(), wire::json(&entry), None)]);
        match call("writing the step's start", client.txn(txn)).await {
            Ok(r) if r.succeeded() => Ok(()),
            Ok(_) => {
                if let Some(info) = self.driving.take() {
                    let _ = self
                        .tell(Msg::Driver(Driver::LockLost(
                            "this console no longer holds the driver lease".into(),
                        )))
                        .await;
                    self.mark_released(&info, "driver lease no longer ours")
                        .await;
                }
                Err(format!(
                    "this console lost the driver lease (token {token} is no longer the driver key's): not executed"
                ))
            }
            Err(e) => {
                self.unsure = Some((key, entry));
                self.lost(e.clone()).await;
                Err(format!(
                    "the shared record did not answer ({e}): not executed"
                ))
            }
        }
    }

    /// A live console takes the driver key when nobody holds it, and the recorder key likewise.
    async fn campaign(&mut self) {
        let Some(lease) = self.lease.as_ref().map(|l| l.id) else {
            return;
        };
        let free = self.driving.is_none() && self.suspended.is_none() && self.holder.is_none();
        if free && Instant::now() >= self.campaign_after {
            self.take_driver(lease, None).await;
        }
        if !self.recorder && self.recorder_free && self.conn.is_some() {
            let info = lock::info_for(&self.who, 0);
            match self.create(self.keys.recorder(), &info, lease).await {
                Ok(Ok(_)) => {
                    self.recorder = true;
                    let _ = self.tell(Msg::Recorder(true)).await;
                }
                Ok(Err(_)) => self.recorder_free = false,
                Err(e) => self.lost(e).await,
            }
        }
    }

    /// Creates `key` bound to the lease if it is absent: Ok(Ok(create revision)), or
    /// Ok(Err(holder)) when another console has it.
    async fn create(
        &mut self,
        key: String,
        info: &LockInfo,
        lease: i64,
    ) -> Result<Result<i64, Option<LockInfo>>, String> {
        let Some(mut client) = self.client() else {
            return Err("not connected".into());
        };
        let txn = Txn::new()
            .when([Compare::create_revision(key.clone(), CompareOp::Equal, 0)])
            .and_then([TxnOp::put(
                key.clone(),
                wire::json(info),
                Some(PutOptions::new().with_lease(lease)),
            )])
            .or_else([TxnOp::get(key, None)]);
        let response = call("taking a lease key", client.txn(txn)).await?;
        if response.succeeded() {
            return Ok(Ok(response.header().map(|h| h.revision()).unwrap_or(0)));
        }
        let holder = response.op_responses().into_iter().find_map(|op| match op {
            TxnOpResponse::Get(get) => get.kvs().first().map(wire::holder),
            _ => None,
        });
        Ok(Err(holder))
    }

    /// Takes the driver key; `broke` names the holder whose lease was just revoked.
    async fn take_driver(&mut self, lease: i64, broke: Option<(Option<LockInfo>, String)>) {
        let mut info = lock::info_for(&self.who, 0);
        match self.create(self.keys.driver(), &info, lease).await {
            Ok(Ok(revision)) => {
                info.token = revision as u64;
                let (severity, message) = match broke {
                    None => (
                        Severity::Info,
                        format!("driver lease taken by {}", info.describe()),
                    ),
                    Some((was, reason)) => (
                        Severity::Warn,
                        format!(
                            "driver lease BROKEN by {} (held by {}): {reason}",
                            self.who.operator,
                            was.map(|w| w.describe()).unwrap_or_else(|| "nobody".into())
                        ),
                    ),
                };
                let mut entry = self.own_entry(severity, message);
                entry.driver = Some(DriverMark::Took(info.clone()));
                self.write_own(entry).await;
                self.driving = Some(info.clone());
                self.set_holder(Some(info.clone())).await;
                let _ = self
                    .tell(Msg::Driver(Driver::Driving(DriverToken::held(info.token))))
                    .await;
            }
            Ok(Err(holder)) => {
                if holder.is_some() {
                    self.set_holder(holder).await;
                }
            }
            Err(e) => self.lost(e).await,
        }
    }

    /// B: revokes the holder's lease (its driver key goes with it), then takes the key.
    async fn break_lock(&mut self, reason: String) {
        let refuse =
            |why: String| Msg::Driver(Driver::LockLost(format!("cannot break the lock: {why}")));
        let (Some(mut client), Some(lease)) = (self.client(), self.lease.as_ref().map(|l| l.id))
        else {
            let _ = self
                .tell(refuse("the shared record (etcd) does not answer".into()))
                .await;
            return;
        };
        let held = match call(
            "reading the driver key",
            client.get(self.keys.driver(), None),
        )
        .await
        {
            Ok(r) => r.kvs().first().map(|kv| (wire::holder(kv), kv.lease())),
            Err(e) => {
                self.lost(e.clone()).await;
                let _ = self.tell(refuse(e)).await;
                return;
            }
        };
        if let Some((_, their_lease)) = &held
            && let Err(e) = call(
                "revoking the holder's lease",
                client.lease_revoke(*their_lease),
            )
            .await
        {
            let _ = self.tell(refuse(e)).await;
            return;
        }
        self.take_driver(lease, Some((held.map(|(h, _)| h), reason)))
            .await;
    }

    /// At the end (the stop entry says the lease is released): the queue, then the lease,
    /// and with it the keys.
    async fn release(&mut self) {
        self.driving = None;
        if self.conn.is_some() {
            self.flush().await;
        }
        if let (Some(mut client), Some(id)) = (self.client(), self.lease_id) {
            let _ = call("revoking the lease", client.lease_revoke(id)).await;
        }
    }

    async fn mark_released(&mut self, info: &LockInfo, what: &str) {
        let mut entry = self.own_entry(Severity::Info, format!("{what} by {}", self.who.operator));
        entry.driver = Some(DriverMark::Released {
            console: info.console.clone(),
            token: info.token,
        });
        self.write_own(entry).await;
    }

    fn own_entry(&self, severity: Severity, message: String) -> Entry {
        let mut entry = Entry::new(
            OffsetDateTime::now_utc(),
            severity,
            Kind::Console,
            "lock",
            message,
        )
        .by(&self.who.operator);
        entry.console = Some(self.who.console.clone());
        entry
    }

    /// An entry of this task's own (a driver mark): to the mirror and the model, and queued.
    async fn write_own(&mut self, entry: Entry) {
        self.enqueue(entry.clone());
        let _ = self.journal.append_synced(entry).await;
        if self.conn.is_some() {
            self.flush().await;
        }
    }

    async fn note(&mut self, severity: Severity, message: &str) {
        let mut entry = Entry::new(
            OffsetDateTime::now_utc(),
            severity,
            Kind::Console,
            "war-room",
            message,
        );
        entry.console = Some(self.who.console.clone());
        let _ = self.tell(Msg::Foreign(entry)).await;
    }

    /// Who holds the driver key, told to the model; a live console that does not drive is
    /// told who does (what its run keys then say).
    async fn set_holder(&mut self, holder: Option<LockInfo>) {
        if holder == self.holder {
            return;
        }
        self.holder = holder.clone();
        let _ = self.tell(Msg::Holder(holder.clone())).await;
        if let Some(h) = holder
            && self.live
            && self.driving.is_none()
            && h.console != self.who.console
        {
            let _ = self.tell(Msg::Driver(Driver::LockHeld(h))).await;
        }
    }

    /// What the watch saw, in revision order: other consoles' entries, and the driver and
    /// recorder keys changing hands.
    async fn watched(&mut self, response: WatchResponse) {
        if response.canceled() {
            let why = response.cancel_reason().to_string();
            return self.lost(format!("watch canceled: {why}")).await;
        }
        let records = self.keys.records();
        let driver = self.keys.driver();
        let recorder = self.keys.recorder();
        for event in response.events() {
            let Some(kv) = event.kv() else { continue };
            self.rev = Some(self.rev.unwrap_or(0).max(kv.mod_revision()));
            let key = String::from_utf8_lossy(kv.key()).into_owned();
            let put = event.event_type() == EventType::Put;
            if key.starts_with(&records) {
                if put {
                    self.foreign(kv).await;
                }
            } else if key == driver {
                self.driver_changed(put.then(|| wire::holder(kv)), kv.mod_revision())
                    .await;
            } else if key == recorder && !put {
                self.recorder_free = true;
            } else if key == recorder
                && put
                && self.recorder
                && kv.lease() != self.lease_id.unwrap_or(0)
            {
                self.recorder = false;
                let _ = self.tell(Msg::Recorder(false)).await;
            }
        }
        if let Some(header) = response.header() {
            self.rev = Some(self.rev.unwrap_or(0).max(header.revision()));
        }
    }

    async fn foreign(&mut self, kv: &etcd_client::KeyValue) {
        let entry = match wire::entry(kv) {
            Ok(e) => e,
            Err(e) => {
                return self.note(Severity::Warn, &format!("{e}: skipped")).await;
            }
        };
        if entry.console.as_deref() == Some(self.who.console.as_str()) {
            return; // shown when it reached the mirror
        }
        let _ = self.journal.mirror(entry.clone()).await;
        let _ = self.tell(Msg::Foreign(entry)).await;
    }

    async fn driver_changed(&mut self, holder: Option<LockInfo>, revision: i64) {
        if let Some(mine) = &self.driving
            && revision < mine.token as i64
        {
            // From before this console took the key (the holder's lease it revoked to break
            // the lock): already known, and no longer true.
            return;
        }
        if let Some(mine) = &self.driving
            && holder.as_ref().is_none_or(|h| h.token != mine.token)
        {
            let info = self.driving.take();
            self.campaign_after = Instant::now() + self.config.lease;
            let why = match &holder {
                Some(h) => format!("the driver lease was taken by {}", h.describe()),
                None => "this console's driver lease was revoked (the lock was broken)".into(),
            };
            let _ = self.tell(Msg::Driver(Driver::LockLost(why))).await;
            if let Some(info) = info {
                self.mark_released(&info, "driver lease lost").await;
            }
        }
        if holder.is_none() && self.live {
            let _ = self.tell(Msg::Driver(Driver::NotYet)).await;
        }
        self.set_holder(holder).await;
    }
}
