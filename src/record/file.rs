//! File mode: the journal file is the record. Once a second a task reads the lines other
//! consoles appended, who holds the driver lock (before the lines, so they are judged by it),
//! and, for a live console, tries for the driver and recorder locks.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};

use crate::journal::tail::Tail;
use crate::journal::writer::JournalHandle;
use crate::lock::{self, Acquired, Claimant, DriverLock, LockInfo, RecorderLock};
use failover_core::app::Msg;
use failover_core::app::driver::DriverToken;
use failover_core::app::model::Driver;
use failover_core::timeline::{DriverMark, Entry, Kind, Severity};

/// How often a console that does not drive tries for the lock again.
const RETRY: Duration = Duration::from_secs(2);

#[derive(Clone)]
pub struct Handle {
    commands: mpsc::Sender<Command>,
    /// The lock this console drives with, for the fence check.
    lock: Arc<Mutex<Option<DriverLock>>>,
}

enum Command {
    Break(String),
    Release(oneshot::Sender<()>),
}

pub fn spawn(
    path: PathBuf,
    who: Claimant,
    live: bool,
    journal: JournalHandle,
    events: mpsc::UnboundedSender<Msg>,
) -> Handle {
    let (commands, rx) = mpsc::channel(8);
    let lock = Arc::new(Mutex::new(None));
    let task = Task {
        tail: Tail::from_end(&path),
        path,
        who,
        live,
        journal,
        events,
        lock: lock.clone(),
        recorder: None,
        holder: None,
        told: false,
        last_try: None,
    };
    tokio::spawn(task.run(rx));
    Handle { commands, lock }
}

impl Handle {
    /// Still the driver with `token`: the lock file at the path is the one this console locked.
    pub fn check_fence(&self, token: u64) -> Result<(), String> {
        let lock = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        match lock.as_ref() {
            Some(l) if l.info.token == token && l.still_ours() => Ok(()),
            _ => Err("this console lost the driver lock: not executed".into()),
        }
    }

    pub async fn break_lock(&self, reason: String) {
        let _ = self.commands.send(Command::Break(reason)).await;
    }

    pub async fn release(&self) {
        let (done, wait) = oneshot::channel();
        if self.commands.send(Command::Release(done)).await.is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(2), wait).await;
        }
    }
}

struct Task {
    path: PathBuf,
    who: Claimant,
    live: bool,
    journal: JournalHandle,
    events: mpsc::UnboundedSender<Msg>,
    tail: Tail,
    lock: Arc<Mutex<Option<DriverLock>>>,
    recorder: Option<RecorderLock>,
    /// The holder last told to the model.
    holder: Option<LockInfo>,
    /// The model has been told a holder (or none) once.
    told: bool,
    last_try: Option<tokio::time::Instant>,
}

impl Task {
    async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        // On the clock's grid: the console's clock and the pollers wake the runtime then too.
        let mut tick = crate::grid::Rounds::new(Duration::from_secs(1), Duration::ZERO);
        loop {
            tokio::select! {
                command = commands.recv() => match command {
                    Some(Command::Break(reason)) => self.break_lock(reason).await,
                    Some(Command::Release(done)) => {
                        self.release().await;
                        let _ = done.send(());
                        return;
                    }
                    None => return,
                },
                _ = tick.next() => {
                    if self.turn().await.is_err() {
                        return;
                    }
                }
            }
        }
    }

    /// One second's work. Err: the console is gone.
    ///
    /// Other consoles' lines first, each judged by the holder of its time: a driver's last
    /// outcome and its stop (the release) can share a second with the lock being free, and
    /// taking it before reading them would turn that outcome into a stranger's. A line that
    /// says its console took the lock moves the holder only if that console holds it now.
    async fn turn(&mut self) -> Result<(), ()> {
        self.read_others().await?;
        if self.live {
            self.keep_or_take().await?;
        }
        Ok(())
    }

    /// Other consoles' new lines, each judged by the holder of its time. Err: the console is
    /// gone.
    async fn read_others(&mut self) -> Result<(), ()> {
        let current = lock::holder(&self.path);
        if !self.told {
            // The first look: lines from before it are judged by today's holder.
            self.told = true;
            self.set_holder(current.clone()).await?;
        }
        for entry in self.tail.read_new() {
            if entry.console.as_deref() == Some(self.who.console.as_str()) {
                continue;
            }
            if let Some(DriverMark::Took(info)) = &entry.driver
                && current
                    .as_ref()
                    .is_some_and(|c| c.console == info.console && c.token == info.token)
            {
                self.set_holder(current.clone()).await?;
            }
            let released = matches!(
                &entry.driver,
                Some(DriverMark::Released { console, token })
                    if self.holder.as_ref().is_some_and(|h| &h.console == console && h.token == *token)
            );
            self.send(Msg::Foreign(entry)).await?;
            if released {
                self.set_holder(None).await?;
            }
        }
        self.set_holder(current).await
    }

    async fn send(&self, msg: Msg) -> Result<(), ()> {
        self.events.send(msg).map_err(|_| ())
    }

    fn driving(&self) -> bool {
        self.lock
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
    }

    /// Notices a broken lock; tries for a free one (every `RETRY`) and for the recorder's.
    async fn keep_or_take(&mut self) -> Result<(), ()> {
        let broken = {
            let mut lock = self.lock.lock().unwrap_or_else(|e| e.into_inner());
            match lock.as_ref() {
                Some(l) if !l.still_ours() => lock.take(),
                _ => None,
            }
        };
        if broken.is_some() {
            self.send(Msg::Driver(Driver::LockLost(
                "another console broke this console's driver lock".into(),
            )))
            .await?;
        }
        if self.recorder.is_none() {
            match lock::acquire_recorder(&self.path) {
                Ok(Some(r)) => {
                    self.recorder = Some(r);
                    self.send(Msg::Recorder(true)).await?;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!("cannot take the recorder lock: {e}"),
            }
        }
        if self.driving() || self.last_try.is_some_and(|t| t.elapsed() < RETRY) {
            return Ok(());
        }
        self.last_try = Some(tokio::time::Instant::now());
        match lock::acquire(&self.path, &self.who) {
            Ok(Acquired::Driving(lock, token)) => {
                let note = format!("driver lock taken by {}", lock.info.describe());
                self.start_driving(lock, token, Severity::Info, note)
                    .await?;
            }
            Ok(Acquired::HeldBy(info)) => {
                self.send(Msg::Driver(Driver::LockHeld(info))).await?;
            }
            Err(e) => {
                tracing::warn!("cannot take the driver lock: {e}");
                self.send(Msg::Driver(Driver::LockLost(format!(
                    "cannot take the driver lock: {e}"
                ))))
                .await?;
            }
        }
        Ok(())
    }

    /// Journals how the lock was taken (with the mark that makes this console's run events
    /// count), then hands the token to the model.
    async fn start_driving(
        &mut self,
        lock: DriverLock,
        token: DriverToken,
        severity: Severity,
        note: String,
    ) -> Result<(), ()> {
        let mut entry = Entry::new(
            OffsetDateTime::now_utc(),
            severity,
            Kind::Console,
            "lock",
            note,
        )
        .by(&self.who.operator);
        entry.console = Some(self.who.console.clone());
        entry.driver = Some(DriverMark::Took(lock.info.clone()));
        let _ = self.journal.append_synced(entry).await;
        let info = lock.info.clone();
        *self.lock.lock().unwrap_or_else(|e| e.into_inner()) = Some(lock);
        self.holder = Some(info.clone());
        self.send(Msg::Holder(Some(info))).await?;
        self.send(Msg::Driver(Driver::Driving(token))).await
    }

    async fn set_holder(&mut self, now: Option<LockInfo>) -> Result<(), ()> {
        if now != self.holder {
            self.holder = now.clone();
            self.send(Msg::Holder(now)).await?;
        }
        Ok(())
    }

    async fn break_lock(&mut self, reason: String) {
        // The driver's last lines first, while it still holds the lock: read after the break,
        // they would be judged by this console's lock and dropped as a stranger's.
        if self.read_others().await.is_err() {
            return;
        }
        match lock::break_lock(&self.path, &self.who) {
            Ok((lock, token, previous)) => {
                let was = previous
                    .map(|p| p.describe())
                    .unwrap_or_else(|| "unknown".into());
                let note = format!(
                    "driver lock BROKEN by {} (held by {was}): {reason}",
                    self.who.operator
                );
                let _ = self.start_driving(lock, token, Severity::Warn, note).await;
            }
            Err(e) => {
                let _ = self
                    .send(Msg::Driver(Driver::LockLost(format!(
                        "cannot break the lock: {e}"
                    ))))
                    .await;
            }
        }
    }

    /// The stop entry already says the lock is released: only the flocks go.
    async fn release(&mut self) {
        self.lock.lock().unwrap_or_else(|e| e.into_inner()).take();
        self.recorder = None;
    }
}
