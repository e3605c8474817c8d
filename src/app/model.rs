//! Everything the screen shows, as plain data.

use std::sync::Arc;

use time::OffsetDateTime;
use tui_input::Input;

use super::dns::RecordState;
use super::health::CheckState;
use super::replication::DbState;
use crate::config::Config;
use crate::timeline::Timeline;
use crate::ui::View;

/// LIVE consoles may later drive runbooks; WATCH consoles never construct what could.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Live,
    Watch,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Health,
    Replication,
    Dns,
    Timeline,
}

impl Pane {
    pub const ALL: [Pane; 4] = [Pane::Health, Pane::Replication, Pane::Dns, Pane::Timeline];

    pub fn index(self) -> usize {
        Pane::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }

    pub fn title(self) -> &'static str {
        match self {
            Pane::Health => "Health",
            Pane::Replication => "Replication",
            Pane::Dns => "DNS",
            Pane::Timeline => "Timeline",
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
}

#[derive(Debug, Clone)]
pub struct UiState {
    pub focus: Pane,
    /// First row shown, per pane (timeline: 0 is the newest entry).
    pub scroll: [usize; 4],
    pub overlay: Overlay,
    pub filter: String,
    /// Set by anything that changes what is drawn; the runtime clears it after a frame.
    pub dirty: bool,
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
    pub dns: Vec<RecordState>,
    pub timeline: Timeline,
    pub ui: UiState,
    /// The last journal write failure, shown in the header until a write succeeds again.
    pub journal_problem: Option<String>,
}

pub const TIMELINE_CAPACITY: usize = 5_000;

impl Model {
    pub fn new(config: Arc<Config>, mode: Mode, operator: String, view: View, now: OffsetDateTime) -> Self {
        let health = config.health.iter().map(|_| CheckState::default()).collect();
        let dbs = config.databases.iter().map(DbState::new).collect();
        let dns = config.dns.iter().map(RecordState::new).collect();
        Model {
            config,
            mode,
            operator,
            view,
            started: now,
            now,
            health,
            dbs,
            dns,
            timeline: Timeline::new(TIMELINE_CAPACITY),
            ui: UiState { focus: Pane::Health, scroll: [0; 4], overlay: Overlay::None, filter: String::new(), dirty: true },
            journal_problem: None,
        }
    }

    /// How many rows a pane has to scroll through.
    pub fn rows_in(&self, pane: Pane) -> usize {
        match pane {
            Pane::Health => self.health.len(),
            Pane::Replication => self.dbs.iter().map(|d| d.members.len() + 1).sum(),
            Pane::Dns => self.dns.iter().map(|r| r.resolvers.len() + 1).sum(),
            Pane::Timeline => self.timeline.count_matching(&self.ui.filter),
        }
    }
}
