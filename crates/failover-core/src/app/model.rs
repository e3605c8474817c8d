//! Everything the screen shows, as plain data.

use std::sync::Arc;

use time::OffsetDateTime;
use tui_input::Input;

pub use super::driver::Driver;
use crate::config::Config;
use crate::kinds::{Section, States, World};
use crate::theme::View;
use crate::timeline::Timeline;
use crate::timeline::{Entry, LockInfo};

/// What the operator asked for. A WATCH console never asks for the driver lock, so it never
/// holds a `DriverToken` and never constructs an executor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Live,
    Watch,
}

/// Where the record lives, and whether this console can write to it now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shared {
    /// The journal file (and a flock beside it): single host.
    File,
    /// etcd (`[war-room]`), answering.
    Reachable,
    /// etcd, not answering since then: entries wait in the local mirror; no step starts.
    Unreachable { since: OffsetDateTime },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Health,
    Replication,
    Dns,
    Timeline,
    /// The runbook plan or run, while one is open.
    Run,
    /// The estate overview: one row per service, while the config names services and none is
    /// chosen.
    Services,
}

impl Pane {
    pub const ALL: [Pane; 6] = [
        Pane::Health,
        Pane::Replication,
        Pane::Dns,
        Pane::Timeline,
        Pane::Run,
        Pane::Services,
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
            Pane::Services => "Services",
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
    /// A source's history, its last results and its config.
    Detail(crate::history::Key),
}

#[derive(Debug, Clone)]
pub struct Prompt {
    pub purpose: Purpose,
    pub input: Input,
}

/// What a prompt is for; the two-stage ones go word, then reason.
#[derive(Debug, Clone, PartialEq)]
pub enum Purpose {
    ArmSite {
        runbook: usize,
    },
    /// The reason, with the run's class (Tab cycles it).
    ArmReason {
        runbook: usize,
        class: crate::runbook::RunClass,
    },
    OverrideWord {
        step: usize,
    },
    OverrideReason {
        step: usize,
    },
    SkipReason {
        step: usize,
    },
    AbortWord,
    AbortReason,
    RollbackWord {
        step: usize,
    },
    SplitBrainWord {
        step: usize,
    },
    RetryWord {
        step: usize,
    },
    /// Arming an evacuation plan: its target site, then the reason with its class.
    ArmPlanSite {
        plan: usize,
    },
    ArmPlanReason {
        plan: usize,
        class: crate::runbook::RunClass,
    },
    /// The reason to skip the plan's current service.
    SkipServiceReason {
        entry: usize,
    },
    QuitWord,
    BreakLockWord,
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
            Purpose::ArmReason { class, .. } => {
                format!("reason for this run ({}; Tab: class): ", class.label())
            }
            Purpose::OverrideWord { step } => format!("gate {} blocks; type override: ", step + 1),
            Purpose::OverrideReason { .. } => "reason for the override: ".into(),
            Purpose::SkipReason { step } => format!("reason to skip step {}: ", step + 1),
            Purpose::AbortWord => match super::plans::active(model) {
                Some(plan) => format!("type abort to end plan {} (all of it): ", plan.name),
                None => "type abort to end this run: ".into(),
            },
            Purpose::ArmPlanSite { plan } => {
                let plan = &model.config.plans[*plan];
                format!(
                    "type {} to arm plan {}: ",
                    model.config.sites[plan.to].key, plan.name
                )
            }
            Purpose::ArmPlanReason { class, .. } => {
                format!("reason for this plan ({}; Tab: class): ", class.label())
            }
            Purpose::SkipServiceReason { entry } => {
                let service = super::plans::active(model)
                    .and_then(|p| p.items.get(*entry))
                    .map(|i| i.service.clone())
                    .unwrap_or_default();
                format!("reason to skip service {service}: ")
            }
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
            Purpose::BreakLockWord => match &model.driver {
                Driver::LockHeld(info) => {
                    format!("{} drives; type break to take the lock: ", info.operator)
                }
                _ => "type break to take the driver lock: ".into(),
            },
            Purpose::BreakLockReason => "break the driver lock; reason: ".into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct UiState {
    pub focus: Pane,
    /// First row shown, per pane (timeline: 0 is the newest entry; services: the cursor).
    pub scroll: [usize; 6],
    /// The service whose panes are shown, an index into `Config::services`; None: the
    /// overview (or, without named services, everything).
    pub service: Option<usize>,
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
    /// Steps another driver started and had not finished when this console took over: their
    /// outcome may still come; no retry before it does or their time is up.
    pub orphans: Vec<Orphan>,
    /// Per named service (None: every source), per site: the first CRIT edge on one of its
    /// sources since it was last all healthy.
    pub failing_since: std::collections::HashMap<Option<usize>, Vec<Option<OffsetDateTime>>>,
    /// Per (database, member): the last lag read with the primary's figures.
    pub full_lag: std::collections::HashMap<(usize, usize), super::numbers::FullLag>,
    /// Milestones this console recorded and has not yet seen journaled: recorded once.
    pub milestones_sent: Vec<crate::runbook::Milestone>,
    /// The evacuation plan open before arming, and the current one.
    pub evac: super::plans::Plans,
}

/// A step left in flight by a driver that lost the lock or lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Orphan {
    pub step: usize,
    pub starter: crate::runbook::Starter,
    /// When it started, plus its action's timeout and the executor's grace: past this, its
    /// driver (whose lease is gone) can no longer be running it.
    pub retry_at: OffsetDateTime,
}

/// How long a live console keeps the edges it saw before it knew who records them.
pub const UNDECIDED: time::Duration = time::Duration::seconds(10);
/// At most this many of them.
pub const EARLY_EDGES: usize = 256;

pub struct Model {
    pub config: Arc<Config>,
    /// The panes' name columns, made once from the config's names.
    pub name_columns: crate::kinds::NameColumns,
    pub mode: Mode,
    pub operator: String,
    pub view: View,
    pub started: OffsetDateTime,
    /// When the pollers started: a source never heard from is stale counting from here.
    pub polling_since: OffsetDateTime,
    pub now: OffsetDateTime,
    /// Every source's live state, one per configured source of each kind.
    pub kinds: States,
    /// The last 15 minutes of each health check and PostgreSQL member.
    pub history: crate::history::History,
    pub timeline: Timeline,
    pub ui: UiState,
    pub driver: Driver,
    /// Who drives, per the record (the driver key or the lock file): the console whose run
    /// events are accepted. Shown on every console.
    pub holder: Option<LockInfo>,
    /// This console holds the recorder lease (or flock): while nobody drives, it writes the
    /// observation edges.
    pub recorder: bool,
    pub shared: Shared,
    pub runs: Runs,
    /// "host:pid": marks the journal lines this console wrote.
    pub console_id: String,
    /// The last journal write failure, shown in the header until a write succeeds again.
    pub journal_problem: Option<String>,
    /// The journal was deleted or replaced under the console and re-created: what happened and
    /// when, shown in the header for the rest of the session (older entries are in a file that
    /// is gone).
    pub journal_recreated: Option<String>,
    /// Edges seen while this live console did not yet know who records them (its first
    /// seconds, before the record answered): written if it turns out to be the one.
    pub early_edges: Vec<Entry>,
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
        let kinds = States::new(&config.kinds);
        let history = crate::history::History::new(&config.kinds);
        let focus = if super::verdict::named(&config) {
            Pane::Services
        } else {
            Pane::Health
        };
        Model {
            config,
            mode,
            operator,
            view,
            started: now,
            polling_since: now,
            now,
            kinds,
            history,
            timeline: Timeline::new(TIMELINE_CAPACITY),
            name_columns: Default::default(),
            ui: UiState {
                focus,
                scroll: [0; 6],
                service: None,
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
            holder: None,
            recorder: false,
            early_edges: Vec::new(),
            shared: Shared::File,
            runs: Runs::default(),
            console_id: console_id(),
            journal_problem: None,
            journal_recreated: None,
        }
    }

    /// The run pane is on screen (a plan is open, or a run is shown).
    pub fn run_pane_open(&self) -> bool {
        self.runs.plan.is_some()
            || self.runs.evac.open.is_some()
            || (self.runs.evac.shown && self.runs.evac.current.is_some())
            || (self.runs.shown && self.runs.current.is_some())
    }

    /// Whether this console writes observation edges to the record: the driver does; while
    /// nobody drives, the recorder does; a watch console never does. Every other console shows
    /// the recorder's edges, so each edge is in the record once.
    pub fn records_edges(&self) -> bool {
        match self.mode {
            Mode::Watch => false,
            Mode::Live => self.driver.token().is_some() || (self.holder.is_none() && self.recorder),
        }
    }

    /// A live console's first seconds, before it knows who records: not driving yet, no other
    /// holder (its own lock may be told a moment before its token), not the recorder, and less
    /// than `UNDECIDED` since it started.
    pub fn undecided(&self) -> bool {
        self.mode == Mode::Live
            && matches!(self.driver, Driver::NotYet)
            && self
                .holder
                .as_ref()
                .is_none_or(|h| h.console == self.console_id)
            && !self.recorder
            && self.now - self.started < UNDECIDED
    }

    pub fn flash(&mut self, text: impl Into<String>) {
        self.ui.flash = Some((text.into(), self.now + time::Duration::seconds(6)));
    }

    /// The estate overview takes the source panes' place: the config names services and none
    /// is chosen.
    pub fn overview_shown(&self) -> bool {
        self.ui.service.is_none() && super::verdict::named(&self.config)
    }

    /// The service whose panes are shown, if one is chosen.
    pub fn chosen_service(&self) -> Option<&crate::config::Service> {
        self.ui.service.and_then(|i| self.config.services.get(i))
    }

    /// What the Health, Replication and DNS panes show: the chosen service's sources, else
    /// every source.
    pub fn pane_world(&self) -> World<'_> {
        match self.chosen_service() {
            Some(service) => self.world().scoped(&service.sources),
            None => self.world(),
        }
    }

    /// The chosen service's sources, for what counts rows by index (history keys).
    pub fn pane_scope(&self) -> Option<&crate::kinds::Scope> {
        self.chosen_service().map(|s| &s.sources)
    }

    /// The first pane on screen: the overview's, else Health.
    pub fn home_pane(&self) -> Pane {
        if self.overview_shown() {
            Pane::Services
        } else {
            Pane::Health
        }
    }

    /// The panes on screen, in focus order.
    pub fn panes_shown(&self) -> Vec<Pane> {
        let overview = self.overview_shown();
        [
            Pane::Services,
            Pane::Health,
            Pane::Replication,
            Pane::Dns,
            Pane::Timeline,
            Pane::Run,
        ]
        .into_iter()
        .filter(|p| match p {
            Pane::Health | Pane::Replication | Pane::Dns => !overview,
            Pane::Services => overview,
            Pane::Run => self.run_pane_open(),
            Pane::Timeline => true,
        })
        .collect()
    }

    /// How many rows a pane has to scroll through.
    pub fn rows_in(&self, pane: Pane) -> usize {
        match pane {
            Pane::Health => self.pane_world().row_count(Section::Health),
            Pane::Replication => self.pane_world().row_count(Section::Replication),
            Pane::Dns => self.pane_world().row_count(Section::Dns),
            Pane::Services => self.config.services.len(),
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

    /// Everything the kinds judge and draw themselves by.
    pub fn world(&self) -> World<'_> {
        World {
            sites: &self.config.sites,
            specs: &self.config.kinds,
            states: &self.kinds,
            now: self.now,
            scope: None,
        }
    }

    /// The world of the runbook in hand: the active run's, else the one whose plan is open,
    /// else the last run's.
    pub fn run_world(&self) -> World<'_> {
        let current = self.runs.current.as_ref();
        let active = current
            .filter(|r| r.is_active())
            .and_then(|r| r.runbook_index);
        let runbook = active
            .or(self.runs.plan)
            .or(current.and_then(|r| r.runbook_index));
        self.world_for(runbook)
    }

    /// What a runbook's gates, waits and figures look at: the sources of the service that
    /// lists it, or every source for a runbook no named service lists.
    pub fn world_for(&self, runbook: Option<usize>) -> World<'_> {
        self.world_of(runbook.and_then(|r| self.service_of(r)))
    }

    /// The named service that lists `runbook`, if one does.
    pub fn service_of(&self, runbook: usize) -> Option<usize> {
        self.config
            .services
            .iter()
            .position(|s| !s.implicit && s.runbooks.contains(&runbook))
    }

    /// The name of the named service that lists `runbook`.
    pub fn service_name(&self, runbook: usize) -> Option<&str> {
        self.service_of(runbook)
            .map(|s| self.config.services[s].name.as_str())
    }

    /// One named service's sources (None: every source).
    pub fn world_of(&self, service: Option<usize>) -> World<'_> {
        match service.and_then(|s| self.config.services.get(s)) {
            Some(s) => self.world().scoped(&s.sources),
            None => self.world(),
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
