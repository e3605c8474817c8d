//! `update(model, msg) -> effects`: all the console's logic, with no I/O.

use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind};
use time::OffsetDateTime;
use tui_input::Input;
use tui_input::backend::crossterm::to_input_request;

use super::keys::{Command, KeyMap};
use super::model::{Model, Overlay, Pane};
use crate::kinds::{self, Clock, Observation};
use crate::timeline::{Edges, Entry, Kind, Severity};

#[derive(Debug)]
pub enum Msg {
    Observed(Observation),
    /// The clock moved: staleness and the header clock.
    Tick(OffsetDateTime),
    Key(KeyEvent),
    Resized,
    /// An entry reached the journal (or failed to): now it may be shown.
    Journaled {
        entry: Entry,
        error: Option<String>,
    },
    /// The journal was deleted or replaced (what happened) and has been re-created.
    JournalRecreated(String),
    /// An entry another console wrote to the same journal.
    Foreign(Entry),
    /// A page of older history read from the journal, or why it could not be; `dropped` as
    /// the timeline's was when it was asked for.
    Older {
        page: Result<crate::timeline::Tail, String>,
        dropped: u64,
    },
    /// The driver lock was taken, lost or found held.
    Driver(super::model::Driver),
    /// Who drives per the record, as of the entries that follow: the driver key's holder
    /// (etcd) or the lock file's (file mode); None: nobody.
    Holder(Option<crate::timeline::LockInfo>),
    /// This console took (true) or lost (false) the recorder lease.
    Recorder(bool),
    /// The shared record became reachable or unreachable.
    Shared(super::model::Shared),
    /// A line of output from the running step.
    Output {
        run_id: String,
        line: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Append to the journal, then show (the runtime sends back `Msg::Journaled`).
    Record(Entry),
    /// Run a step's action (or its read-back or rollback): only a driving console's executor.
    Execute(super::runs::ExecRequest),
    /// Check each action of a dry run without running it, then record the end of the dry run.
    DryRun {
        run_id: String,
        runbook: String,
        actions: Vec<(usize, String, crate::actions::ActionSpec)>,
    },
    BreakLock {
        reason: String,
    },
    /// Read a page of the journal's history older than the timeline holds.
    ReadOlder {
        older: crate::timeline::Older,
        oldest: Option<Entry>,
        dropped: u64,
    },
    Quit,
}

/// Collects effects while the reducer runs.
#[derive(Debug, Default)]
pub struct Fx {
    pub effects: Vec<Effect>,
}

impl Fx {
    /// Journals the edges a source's state wrote.
    pub fn edges(&mut self, edges: Edges) {
        self.effects.extend(edges.0.into_iter().map(Effect::Record));
    }

    pub fn edge(
        &mut self,
        at: OffsetDateTime,
        severity: Severity,
        source: String,
        message: impl Into<String>,
    ) {
        self.effects.push(Effect::Record(Entry::new(
            at,
            severity,
            Kind::Edge,
            source,
            message,
        )));
    }
}

pub fn update(model: &mut Model, msg: Msg) -> Vec<Effect> {
    let mut fx = Fx::default();
    // Whether the screen may have changed: a probe or an answer like the last one, or a tick
    // inside the same second, changes nothing on screen, and an idle console then draws
    // nothing but its clock.
    let mut visible = true;
    let mut clock = false;
    match msg {
        Msg::Observed(observation) => visible = observe(model, observation, &mut fx),
        Msg::Tick(now) => {
            let second = |t: OffsetDateTime| t.unix_timestamp();
            clock = second(now) != second(model.now);
            // A new day: the timeline's older entries now carry their date.
            visible = now.date() != model.now.date();
            // Route 53's "TTL 47 s left" counts down with the clock, to "past their TTL".
            let ttls_left = kinds::route53::ttls_left(&model.world());
            model.now = now;
            visible |= kinds::route53::ttls_left(&model.world()) != ttls_left;
            mark_stale(model, &mut fx);
            // The run pane ticks on screen each second: an open run's RTO and a running step's
            // time, and the gates' evidence (a CloudWatch datapoint "40s old", an RDS lag
            // datapoint past lag-max-age). Readings redraw only what they change.
            visible |= clock && model.run_pane_open();
        }
        Msg::Key(key) => on_key(model, key, &mut fx),
        Msg::Resized => {}
        Msg::Journaled { entry, error } => {
            let journaled = error.is_none();
            match &error {
                Some(e) if entry.run.as_ref().is_some_and(|r| r.event.needs_record()) => {
                    super::runs::not_recorded(model, &entry, e)
                }
                _ => super::runs::on_journaled(model, &entry),
            }
            model.journal_problem = error;
            show(model, entry, journaled);
        }
        Msg::Older {
            page: Ok(page),
            dropped,
        } => {
            if dropped == model.timeline.dropped {
                model.timeline.prepend(page);
            } else {
                // Entries were dropped from the front since it was asked for: the page ends
                // before them. Ask again, from the new oldest.
                model.timeline.reading_older = false;
                read_older_near_the_end(model, &mut fx);
            }
        }
        Msg::Older { page: Err(e), .. } => {
            model.timeline.reading_older = false;
            model.timeline.older = crate::timeline::Older::None;
            fx.effects.push(Effect::Record(Entry::new(
                model.now,
                Severity::Warn,
                Kind::Console,
                "journal",
                format!("cannot read older history from the journal: {e}"),
            )));
        }
        Msg::JournalRecreated(what) => {
            model.journal_recreated = Some(format!("{what} at {}", crate::text::clock(model.now)));
        }
        Msg::Foreign(entry) => foreign(model, entry, &mut fx),
        Msg::Holder(holder) => model.holder = holder,
        Msg::Recorder(recorder) => model.recorder = recorder,
        Msg::Shared(shared) => model.shared = shared,
        Msg::Driver(driver) => {
            let was_driving = model.driver.token().is_some();
            model.driver = driver;
            if let (false, Some(_)) = (was_driving, model.driver.token()) {
                // Taking over: a step left running by a console that is gone has an unknown
                // outcome; record that, then read it back.
                resume(model, &mut fx);
            }
        }
        Msg::Output { run_id, line } => {
            if let Some(run) = model.runs.current.as_mut().filter(|r| r.id == run_id) {
                run.output.push(line);
                if run.output.len() > 200 {
                    run.output.remove(0);
                }
            }
        }
    }
    super::runs::progress(model, model.now, &mut fx);
    route_records(model, &mut fx);
    if model
        .ui
        .flash
        .as_ref()
        .is_some_and(|(_, until)| *until < model.now)
    {
        model.ui.flash = None;
        visible = true;
    }
    let running = model.runs.in_flight.is_some();
    if visible || running || !fx.effects.is_empty() {
        model.ui.dirty = true;
    } else if clock {
        model.ui.clock_dirty = true;
    }
    fx.effects
}

/// Another console's entry, from the record. Its run event counts only if the driver wrote it;
/// anything else changes nothing and is recorded once as a warning (by the console that
/// records edges: every other console sees that warning in the record).
fn foreign(model: &mut Model, entry: Entry, fx: &mut Fx) {
    if entry.run.is_some()
        && let Err(why) = super::runs::accept_foreign(model, &entry)
    {
        fx.edge(model.now, Severity::Warn, "record".into(), why);
        return;
    }
    super::runs::on_journaled(model, &entry);
    show(model, entry, true);
}

/// Observation edges go to the record only from the console that records them (the others
/// show the recorder's). A watch console records nothing but its notes; anything else it
/// would record (a journal read error) is only shown on its own screen.
fn route_records(model: &mut Model, fx: &mut Fx) {
    let records_edges = model.records_edges();
    let undecided = model.undecided();
    let watch = model.mode == super::Mode::Watch;
    let mut local = Vec::new();
    let mut early = Vec::new();
    fx.effects.retain(|effect| match effect {
        Effect::Record(entry) if entry.kind == Kind::Edge => {
            if !records_edges && undecided {
                early.push(entry.clone());
            }
            records_edges
        }
        Effect::Record(entry) if watch && entry.kind != Kind::Note => {
            local.push(entry.clone());
            false
        }
        _ => true,
    });
    for entry in local {
        show(model, entry, true);
        model.ui.dirty = true;
    }
    // Edges from before this console knew who records: its own to write once it is the one,
    // another console's business once that is known (that console saw them too).
    if records_edges {
        let early = std::mem::take(&mut model.early_edges);
        fx.effects.extend(early.into_iter().map(Effect::Record));
    } else if undecided {
        let room = super::model::EARLY_EDGES.saturating_sub(model.early_edges.len());
        model.early_edges.extend(early.into_iter().take(room));
    } else {
        model.early_edges.clear();
    }
}

fn show(model: &mut Model, entry: Entry, journaled: bool) {
    if model.ui.scroll[Pane::Timeline.index()] > 0 && entry.matches(&model.ui.filter) {
        // Keep the rows the operator is reading where they are.
        model.ui.scroll[Pane::Timeline.index()] += 1;
    }
    model.timeline.push(entry, journaled);
}

fn resume(model: &mut Model, fx: &mut Fx) {
    let Some(run) = model
        .runs
        .current
        .as_mut()
        .filter(|r| r.is_active() && !r.dry_run)
    else {
        return;
    };
    let interrupted = run.interrupted();
    let (id, name) = (run.id.clone(), run.runbook.clone());
    let message = if interrupted.is_empty() {
        format!("run {name} taken over by {}", model.operator)
    } else {
        let steps: Vec<String> = interrupted.iter().map(|i| (i + 1).to_string()).collect();
        format!(
            "run {name} resumed by {}: step {} was in flight, outcome unknown: reading back",
            model.operator,
            steps.join(", ")
        )
    };
    let mut entry = Entry::new(
        model.now,
        Severity::Warn,
        Kind::Run,
        format!("run/{name}"),
        message,
    )
    .by(&model.operator);
    entry.run = Some(crate::runbook::RunEvent {
        id,
        runbook: name,
        event: crate::runbook::Event::Resumed {
            interrupted: interrupted.clone(),
        },
    });
    fx.effects.push(Effect::Record(entry));
    for step in interrupted {
        super::runs::read_back_after_resume(model, step, fx);
    }
}

/// Applies a reading. Returns whether what the screen shows may have changed.
fn observe(model: &mut Model, observation: Observation, fx: &mut Fx) -> bool {
    let mut edges = Edges::default();
    let keys = model.history.keys_of(&observation);
    // What the sparklines show: where they end (every row moves with it), and these sources'.
    let spark = |model: &Model| {
        (model.config.sparklines && !keys.is_empty()).then(|| {
            (
                crate::history::spark_slot(model.history.newest_ms),
                keys.iter()
                    .map(|k| model.history.spark(*k))
                    .collect::<Vec<_>>(),
            )
        })
    };
    let spark_before = spark(model);
    if let Observation::Probe { check, at, outcome } = &observation {
        model.history.probe(*check, *at, outcome);
    }
    let fed = match &observation {
        Observation::Postgres { db, member, at, .. } => Some(Fed::Postgres(*db, *member, *at)),
        Observation::Patroni { cluster, at, .. } => Some(Fed::Patroni(*cluster, *at)),
        Observation::Rds { source, at, .. } => Some(Fed::Rds(*source, *at)),
        _ => None,
    };
    let config = &model.config;
    let visible = kinds::apply(
        &config.kinds,
        &mut model.kinds,
        &config.sites,
        observation,
        &mut edges,
    );
    // An episode starts only at a CRIT edge, and a site turns all healthy at an edge too (the
    // tick looks again each second): a reading without an edge leaves the episodes as they
    // are, and a look at every source per reading made ten thousand checks cost 10^8 looks a
    // second. A replica's full lag comes only with a PostgreSQL reading.
    if !edges.0.is_empty() || matches!(fed, Some(Fed::Postgres(..))) {
        super::numbers::track(model, &edges.0);
    }
    let (specs, states) = (&model.config.kinds, &model.kinds);
    match fed {
        Some(Fed::Postgres(db, member, at)) => model.history.postgres(states, db, member, at),
        Some(Fed::Patroni(cluster, at)) => model.history.patroni(specs, states, cluster, at),
        Some(Fed::Rds(source, at)) => model.history.rds(specs, states, source, at),
        None => {}
    }
    fx.edges(edges);
    // Sparklines move when a sample starts a new slot (or lands late in a shown one), not
    // with the clock.
    let detail_open = matches!(model.ui.overlay, Overlay::Detail(k) if keys.contains(&k));
    visible || detail_open || spark(model) != spark_before
}

/// A reading that feeds a history once its state took it.
enum Fed {
    Postgres(usize, usize, OffsetDateTime),
    Patroni(usize, OffsetDateTime),
    Rds(usize, OffsetDateTime),
}

/// A source that has not answered within its limit is stale: one edge each.
fn mark_stale(model: &mut Model, fx: &mut Fx) {
    let clock = Clock {
        now: model.now,
        started: model.polling_since,
    };
    let mut edges = Edges::default();
    let config = &model.config;
    model
        .kinds
        .mark_stale(&config.kinds, &config.sites, &clock, &mut edges);
    super::numbers::track(model, &edges.0);
    fx.edges(edges);
}

fn on_key(model: &mut Model, key: KeyEvent, fx: &mut Fx) {
    if key.kind == KeyEventKind::Release {
        return;
    }
    let keymap = KeyMap::of(model);
    if key.code == KeyCode::Char('c')
        && key
            .modifiers
            .contains(crossterm::event::KeyModifiers::CONTROL)
    {
        fx.effects.push(Effect::Quit);
        return;
    }
    match std::mem::take(&mut model.ui.overlay) {
        Overlay::None => {}
        Overlay::Help => {
            // Any key closes help; the quit key still quits.
            if keymap.lookup(&key) == Some(Command::Quit) {
                fx.effects.push(Effect::Quit);
            }
            return;
        }
        Overlay::Filter(input) => {
            match edit(input, key) {
                Edited::Editing(input) => {
                    // Filter as you type.
                    model.ui.filter = input.value().trim().to_string();
                    model.ui.overlay = Overlay::Filter(input);
                }
                Edited::Submitted(text) => model.ui.filter = text.trim().to_string(),
                Edited::Cancelled => model.ui.filter.clear(),
            }
            model.timeline.set_filter(&model.ui.filter);
            model.ui.scroll[Pane::Timeline.index()] = 0;
            return;
        }
        Overlay::Runbooks { selected } => {
            // The runbooks, then the evacuation plans.
            let runbooks = model.config.runbooks.len();
            let count = runbooks + model.config.plans.len();
            match key.code {
                KeyCode::Esc => {}
                KeyCode::Enter => {
                    let chosen = selected.min(count.saturating_sub(1));
                    if chosen < runbooks {
                        model.runs.plan = Some(chosen);
                        model.runs.evac.open = None;
                    } else {
                        model.runs.plan = None;
                        model.runs.evac.open = Some(chosen - runbooks);
                    }
                    model.runs.shown = true;
                    model.ui.focus = Pane::Run;
                }
                KeyCode::Char('j') | KeyCode::Down => {
                    model.ui.overlay = Overlay::Runbooks {
                        selected: (selected + 1).min(count.saturating_sub(1)),
                    }
                }
                KeyCode::Char('k') | KeyCode::Up => {
                    model.ui.overlay = Overlay::Runbooks {
                        selected: selected.saturating_sub(1),
                    }
                }
                _ if keymap.lookup(&key) == Some(Command::Quit) => fx.effects.push(Effect::Quit),
                _ => model.ui.overlay = Overlay::Runbooks { selected },
            }
            return;
        }
        Overlay::Prompt(prompt) => {
            let super::model::Prompt { purpose, input } = prompt;
            if let (KeyCode::Tab, super::model::Purpose::ArmReason { runbook, class }) =
                (key.code, &purpose)
            {
                let purpose = super::model::Purpose::ArmReason {
                    runbook: *runbook,
                    class: class.next(),
                };
                model.ui.overlay = Overlay::Prompt(super::model::Prompt { purpose, input });
                return;
            }
            if let (KeyCode::Tab, super::model::Purpose::ArmPlanReason { plan, class }) =
                (key.code, &purpose)
            {
                let purpose = super::model::Purpose::ArmPlanReason {
                    plan: *plan,
                    class: class.next(),
                };
                model.ui.overlay = Overlay::Prompt(super::model::Prompt { purpose, input });
                return;
            }
            match edit(input, key) {
                Edited::Editing(input) => {
                    model.ui.overlay = Overlay::Prompt(super::model::Prompt { purpose, input })
                }
                Edited::Submitted(text) => super::runs::on_prompt(model, purpose, text, fx),
                Edited::Cancelled => model.flash("cancelled: nothing done"),
            }
            return;
        }
        // Esc or Enter closes the detail view; any other key closes it and does what it does.
        Overlay::Detail(_) if matches!(key.code, KeyCode::Esc | KeyCode::Enter) => return,
        Overlay::Detail(_) => {}
        Overlay::Note(input) => {
            match edit(input, key) {
                Edited::Editing(input) => model.ui.overlay = Overlay::Note(input),
                Edited::Submitted(text) if !text.trim().is_empty() => {
                    let entry = Entry::new(
                        model.now,
                        Severity::Info,
                        Kind::Note,
                        "operator",
                        text.trim(),
                    )
                    .by(&model.operator);
                    fx.effects.push(Effect::Record(entry));
                }
                Edited::Submitted(_) | Edited::Cancelled => {}
            }
            return;
        }
    }
    let Some(command) = keymap.lookup(&key) else {
        return;
    };
    let focus = model.ui.focus;
    let rows = model.rows_in(focus);
    let scroll = &mut model.ui.scroll[focus.index()];
    match command {
        Command::Quit => {
            let running = model
                .runs
                .current
                .as_ref()
                .is_some_and(|r| r.is_active() && !r.dry_run);
            if running && model.driver.token().is_some() {
                model.ui.overlay = Overlay::Prompt(super::model::Prompt {
                    purpose: super::model::Purpose::QuitWord,
                    input: Input::default(),
                });
            } else {
                fx.effects.push(Effect::Quit);
            }
        }
        Command::Run(run_key) => super::runs::on_key(model, run_key, fx),
        Command::Help => model.ui.overlay = Overlay::Help,
        Command::FocusNext | Command::FocusPrev => {
            let panes = model.panes_shown();
            let at = panes.iter().position(|p| *p == focus).unwrap_or(0);
            let step = if command == Command::FocusNext {
                1
            } else {
                panes.len() - 1
            };
            model.ui.focus = panes[(at + step) % panes.len()];
        }
        Command::Down => *scroll = (*scroll + 1).min(rows.saturating_sub(1)),
        Command::Up => *scroll = scroll.saturating_sub(1),
        Command::PageDown => *scroll = (*scroll + 10).min(rows.saturating_sub(1)),
        Command::PageUp => *scroll = scroll.saturating_sub(10),
        Command::Top => *scroll = 0,
        Command::Bottom => *scroll = rows.saturating_sub(1),
        Command::Filter => {
            model.ui.focus = Pane::Timeline;
            model.ui.overlay = Overlay::Filter(Input::new(model.ui.filter.clone()));
        }
        Command::Note => model.ui.overlay = Overlay::Note(Input::default()),
        Command::Detail => detail(model, focus, fx),
        Command::ShowService => super::services::choose(model),
        Command::AllServices => super::services::all(model),
    }
    if focus == Pane::Timeline
        && matches!(command, Command::Down | Command::PageDown | Command::Bottom)
    {
        read_older_near_the_end(model, fx);
    }
}

/// Enter on a Health or Replication pane opens the history of the row at its top, unless the
/// run pane is open or Enter has something to do for a run; anywhere else it is the run's
/// Enter (a live console's).
fn detail(model: &mut Model, focus: Pane, fx: &mut Fx) {
    let run_enter = KeyMap::of(model)
        .binding(Command::Run(super::runs::RunKey::Act))
        .is_some();
    let for_run = super::keys::enter_is_the_runs(model);
    let section = match focus {
        Pane::Services if !for_run => return super::services::choose(model),
        Pane::Health if !for_run => kinds::Section::Health,
        Pane::Replication if !for_run => kinds::Section::Replication,
        _ => {
            if run_enter {
                super::runs::on_key(model, super::runs::RunKey::Act, fx);
            }
            return;
        }
    };
    let line = model.ui.scroll[focus.index()];
    match crate::history::key_at(
        &model.config.kinds,
        &model.kinds,
        &model.history,
        model.pane_scope(),
        section,
        line,
    ) {
        Some(key) => model.ui.overlay = Overlay::Detail(key),
        None => model.flash("no history for this row: j/k bring a check or a member to the top"),
    }
}

/// Rows of the timeline left below the view when the next page of older history is read.
const OLDER_AHEAD: usize = 50;

/// Scrolled to within `OLDER_AHEAD` rows of the oldest entry in memory, with older history in
/// the journal: ask for the next page of it (one at a time).
fn read_older_near_the_end(model: &mut Model, fx: &mut Fx) {
    let timeline = &mut model.timeline;
    let shown = timeline.count_shown();
    let scroll = model.ui.scroll[Pane::Timeline.index()];
    if timeline.older == crate::timeline::Older::None
        || timeline.reading_older
        || scroll + OLDER_AHEAD < shown
    {
        return;
    }
    timeline.reading_older = true;
    fx.effects.push(Effect::ReadOlder {
        older: timeline.older,
        oldest: timeline.oldest().cloned(),
        dropped: timeline.dropped,
    });
}

enum Edited {
    Editing(Input),
    Submitted(String),
    Cancelled,
}

/// A one-line input: Enter submits, Esc cancels, anything else edits.
fn edit(mut input: Input, key: KeyEvent) -> Edited {
    match key.code {
        KeyCode::Enter => Edited::Submitted(input.value().to_string()),
        KeyCode::Esc => Edited::Cancelled,
        _ => {
            if let Some(request) = to_input_request(&Event::Key(key)) {
                input.handle(request);
            }
            Edited::Editing(input)
        }
    }
}
