//! Everything the screen shows, as plain data.

use std::sync::Arc;

use time::OffsetDateTime;
use tui_input::Input;

use super::dns::RecordState;
use super::health::CheckState;
use super::replication::DbState;
use crate::config::Config;
use crate::lock::{DriverToken, LockInfo};
use crate::timeline::Timeline;
use crate::ui::View;

/// What the operator asked for. A WATCH console never asks for the driver lock, so it never
/// holds a `DriverToken` and never constructs an executor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Live,
    Watch,
}

/// Whether this console drives runbooks now. Only `Driving` carries the token that arming a run
/// and constructing an executor require.
#[derive(Debug)]
pub enum Driver {
    Driving(DriverToken),
    /// `--watch`: never drives.
    Watching,
    /// A LIVE console that has not asked for the lock yet (or has no journal to lock).
    NotYet,
    /// Another console drives; this one follows its run from the journal until the lock frees.
    LockHeld(LockInfo),
    /// Someone broke this console's lock.
    LockLost(String),
}

impl Driver {
    pub fn token(&self) -> Option<&DriverToken> {
        match self {
            Driver::Driving(token) => Some(token),
            _ => None,
        }
    }

    /// Why runbook keys do nothing here, in a line.
    pub fn why_not(&self) -> Option<String> {
        match self {
            Driver::Driving(_) => None,
            Driver::Watching => Some("watching: this console is read-only (--watch)".into()),
            Driver::NotYet => Some("not driving yet: waiting for the driver lock".into()),
            Driver::LockHeld(info) => Some(format!(
                "watching: {} drives (B breaks the lock)",
                info.describe()
            )),
            Driver::LockLost(why) => Some(format!("watching: {why}")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Health,
    Replication,
    Dns,
    Timeline,
    /// The runbook plan or run, while one is open.
    Run,
}

impl Pane {
    pub const ALL: [Pane; 5] = [
        Pane::Health,
        Pane::Replication,
        Pane::Dns,
        Pane::Timeline,
        Pane::Run,
    ];

    pub fn index(self) -> usize {
        Pane::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }

    pub fn title(self) -> &'static str {
        match self {
            Pane::Health => "Health",
            Pane::Replication => "Replication",
            Pane::Dns => "DNS",
            Pane::Timeline => "Timeline",
            Pane::Run => "Run",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub enum Overlay {
    #[default]
    None,
    Help,
    Filter(Input),
    Note(Input),
    /// Choosing a runbook.
    Runbooks {
        selected: usize,
    },
    /// A typed confirmation or reason.
    Prompt(Prompt),
}

#[derive(Debug, Clone)]
pub struct Prompt {
    pub purpose: Purpose,
    pub input: Input,
}

/// What a prompt is for; the two-stage ones go word, then reason.
#[derive(Debug, Clone, PartialEq)]
pub enum Purpose {
    ArmSite { runbook: usize },
    ArmReason { runbook: usize },
    OverrideWord { step: usize },
    OverrideReason { step: usize },
    SkipReason { step: usize },
    AbortWord,
    AbortReason,
    RollbackWord { step: usize },
    SplitBrainWord { step: usize },
    RetryWord { step: usize },
    QuitWord,
    BreakLockReason,
}

impl Purpose {
    /// The question, shown before the input.
    pub fn question(&self, model: &Model) -> String {
        let runbook_to = |r: usize| {
            model
                .config
                .runbooks
                .get(r)
                .map(|rb| model.config.sites[rb.to].key.clone())
                .unwrap_or_default()
        };
        match self {
            Purpose::ArmSite { runbook } => format!("type {} to arm: ", runbook_to(*runbook)),
            Purpose::ArmReason { .. } => "reason for this run: ".into(),
            Purpose::OverrideWord { step } => format!("gate {} blocks; type override: ", step + 1),
            Purpose::OverrideReason { .. } => "reason for the override: ".into(),
            Purpose::SkipReason { step } => format!("reason to skip step {}: ", step + 1),
            Purpose::AbortWord => "type abort to end this run: ".into(),
            Purpose::AbortReason => "reason for aborting: ".into(),
            Purpose::RollbackWord { step } => format!("type rollback to undo step {}: ", step + 1),
            Purpose::SplitBrainWord { .. } => {
                "OLD PRIMARY STILL WRITABLE: type promote for split brain: ".into()
            }
            Purpose::RetryWord { step } => format!(
                "step {} outcome unknown, not readable; type retry to run it again: ",
                step + 1
            ),
            Purpose::QuitWord => "a run is in progress (it can be resumed); type quit: ".into(),
            Purpose::BreakLockReason => "break the driver lock; reason: ".into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct UiState {
    pub focus: Pane,
    /// First row shown, per pane (timeline: 0 is the newest entry).
    pub scroll: [usize; 5],
    pub overlay: Overlay,
    pub filter: String,
    /// Set by anything that changes what is drawn; the runtime clears it after a frame.
    pub dirty: bool,
    /// Only the header's clock changed: the runtime redraws the header over the last frame.
    pub clock_dirty: bool,
    /// A one-line message in the footer (a refused key, a blocked gate), until the given time.
    pub flash: Option<(String, OffsetDateTime)>,
}

/// The runbook side of the model: the plan being looked at and the current run.
#[derive(Debug, Default)]
pub struct Runs {
    /// The runbook whose plan is open (before arming).
    pub plan: Option<usize>,
    /// The current run, rebuilt from journaled events only.
    pub current: Option<crate::runbook::RunView>,
    /// The run pane is shown (closed with Esc once a run has ended).
    pub shown: bool,
    /// A step this console asked the executor to run, until its outcome is journaled: Enter
    /// cannot start it twice.
    pub in_flight: Option<usize>,
    /// A wait whose end this console has recorded but not yet seen journaled: it is recorded
    /// once, not again on every message until the journal catches up.
    pub wait_ended: Option<usize>,
}

pub struct Model {
    pub config: Arc<Config>,
    pub mode: Mode,
    pub operator: String,
    pub view: View,
    pub started: OffsetDateTime,
    pub now: OffsetDateTime,
    pub health: Vec<CheckState>,
    pub dbs: Vec<DbState>,
    /// One per `[[database]] kind = "patroni"`.
    pub patroni: Vec<super::patroni::PatroniState>,
    pub dns: Vec<RecordState>,
    /// One per `[[route53]]` record.
    pub route53: Vec<super::route53::R53State>,
    /// One per `[[rds]]` source.
    pub rds: Vec<super::rds::RdsState>,
    /// One per `[[cloudwatch]]` check.
    pub cloudwatch: Vec<super::cloudwatch::CwState>,
    pub timeline: Timeline,
    pub ui: UiState,
    pub driver: Driver,
    pub runs: Runs,
    /// "host:pid": marks the journal lines this console wrote.
    pub console_id: String,
    /// The last journal write failure, shown in the header until a write succeeds again.
    pub journal_problem: Option<String>,
}

pub const TIMELINE_CAPACITY: usize = 5_000;

impl Model {
    pub fn new(
        config: Arc<Config>,
        mode: Mode,
        operator: String,
        view: View,
        now: OffsetDateTime,
    ) -> Self {
        let health = config
            .health
            .iter()
            .map(|_| CheckState::default())
            .collect();
        let dbs = config.databases.iter().map(DbState::new).collect();
        let patroni = config.patroni.iter().map(|_| Default::default()).collect();
        let dns = config.dns.iter().map(RecordState::new).collect();
        let route53 = config.route53.iter().map(|_| Default::default()).collect();
        let rds = config.rds.iter().map(|_| Default::default()).collect();
        let cloudwatch = config
            .cloudwatch
            .iter()
            .map(|_| Default::default())
            .collect();
        Model {
            config,
            mode,
            operator,
            view,
            started: now,
            now,
            health,
            dbs,
            patroni,
            dns,
            route53,
            rds,
            cloudwatch,
            timeline: Timeline::new(TIMELINE_CAPACITY),
            ui: UiState {
                focus: Pane::Health,
                scroll: [0; 5],
                overlay: Overlay::None,
                filter: String::new(),
                dirty: true,
                clock_dirty: false,
                flash: None,
            },
            driver: if mode == Mode::Watch {
                Driver::Watching
            } else {
                Driver::NotYet
            },
            runs: Runs::default(),
            console_id: console_id(),
            journal_problem: None,
        }
    }

    /// The run pane is on screen (a plan is open, or a run is shown).
    pub fn run_pane_open(&self) -> bool {
        self.runs.plan.is_some() || (self.runs.shown && self.runs.current.is_some())
    }

    pub fn flash(&mut self, text: impl Into<String>) {
        self.ui.flash = Some((text.into(), self.now + time::Duration::seconds(6)));
    }

    /// How many rows a pane has to scroll through.
    pub fn rows_in(&self, pane: Pane) -> usize {
        match pane {
            Pane::Health => self.health.len() + self.cloudwatch.len(),
            Pane::Replication => {
                let pg: usize = self.dbs.iter().map(|d| d.members.len() + 1).sum();
                let rds: usize = self.config.rds.iter().map(|r| r.instances.len() + 1).sum();
                let patroni: usize = self
                    .config
                    .patroni
                    .iter()
                    .zip(&self.patroni)
                    .map(|(spec, p)| {
                        p.view().map_or(0, |v| v.members.len()) + p.missing(spec).len() + 1
                    })
                    .sum();
                pg + rds + patroni
            }
            Pane::Dns => {
                let dns: usize = self.dns.iter().map(|r| r.resolvers.len() + 1).sum();
                // Two rows each: under its [[dns]] record, Route 53's answer and how the
                // resolvers compare; on its own, a heading and the answer.
                let route53 = 2 * self.config.route53.len();
                dns + route53
            }
            Pane::Timeline => self.timeline.count_shown(),
            Pane::Run => {
                self.runs
                    .current
                    .as_ref()
                    .map(|r| r.steps.len())
                    .unwrap_or(0)
                    + 20
            }
        }
    }
}

/// "host:pid", with "#n" for a second console in the same process (tests run several).
fn console_id() -> String {
    static COUNT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let base = format!(
        "{}:{}",
        whoami::hostname().unwrap_or_else(|_| "localhost".into()),
        std::process::id()
    );
    if n == 0 { base } else { format!("{base}#{n}") }
}
