//! Keys to commands, looked up in a table built for the console's mode: a watch console's table
//! simply has no entry for anything that acts. `available` lists the keys that do something in
//! the console's state now, for the footer.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::Mode;
use super::model::{Model, Purpose};
use super::runs::{self, Decision, RunKey};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Quit,
    Help,
    FocusNext,
    FocusPrev,
    Down,
    Up,
    PageDown,
    PageUp,
    Top,
    Bottom,
    Filter,
    Note,
    /// Enter: the focused row's history in the Health and Replication panes; elsewhere, in a
    /// live console, the run's Enter.
    Detail,
    /// The panes of the service at the overview's cursor (named services only).
    ShowService,
    /// Back to the overview of every service.
    AllServices,
    Run(RunKey),
}

#[derive(Debug, Clone)]
pub struct Binding {
    pub code: KeyCode,
    pub ctrl: bool,
    pub command: Command,
    pub keys: &'static str,
    pub help: &'static str,
}

#[derive(Debug, Clone)]
pub struct KeyMap {
    bindings: Vec<Binding>,
}

fn bind(code: KeyCode, command: Command, keys: &'static str, help: &'static str) -> Binding {
    Binding {
        code,
        ctrl: false,
        command,
        keys,
        help,
    }
}

/// The keys of every console: looking, moving, notes, help, quitting.
fn common() -> Vec<Binding> {
    use Command as C;
    use KeyCode as K;
    vec![
        bind(K::Char('?'), C::Help, "?", "help (this screen)"),
        bind(K::Char('q'), C::Quit, "q / Ctrl-C", "quit"),
        Binding {
            code: K::Char('c'),
            ctrl: true,
            command: C::Quit,
            keys: "",
            help: "",
        },
        bind(K::Tab, C::FocusNext, "Tab", "focus next pane"),
        bind(K::BackTab, C::FocusPrev, "Shift-Tab", "focus previous pane"),
        bind(K::Char('j'), C::Down, "j / Down", "scroll down"),
        bind(K::Down, C::Down, "", ""),
        bind(K::Char('k'), C::Up, "k / Up", "scroll up"),
        bind(K::Up, C::Up, "", ""),
        bind(K::PageDown, C::PageDown, "PgDn", "page down"),
        bind(K::PageUp, C::PageUp, "PgUp", "page up"),
        bind(K::Char('g'), C::Top, "g / Home", "top (timeline: newest)"),
        bind(K::Home, C::Top, "", ""),
        bind(K::Char('G'), C::Bottom, "G / End", "bottom"),
        bind(K::End, C::Bottom, "", ""),
        bind(K::Char('/'), C::Filter, "/", "filter the timeline"),
        bind(K::Char('n'), C::Note, "n", "operator note"),
        bind(K::Enter, C::Detail, "Enter", "history of the top row"),
    ]
}

/// The estate overview's keys, in a console whose config names services. Enter on the
/// overview chooses too (see `update::detail`).
fn services() -> Vec<Binding> {
    use Command as C;
    use KeyCode as K;
    vec![
        bind(
            K::Char('l'),
            C::ShowService,
            "l / Right",
            "show the chosen service",
        ),
        bind(K::Right, C::ShowService, "", ""),
        bind(
            K::Char('h'),
            C::AllServices,
            "h / Left",
            "back to all services",
        ),
        bind(K::Left, C::AllServices, "", ""),
        bind(K::Backspace, C::AllServices, "", ""),
    ]
}

/// A live console's runbook keys: arming and every step of a run.
fn live() -> Vec<Binding> {
    use Command as C;
    use KeyCode as K;
    use RunKey as R;
    vec![
        bind(
            K::Char('r'),
            C::Run(R::Runbooks),
            "r",
            "runbooks / current run",
        ),
        bind(K::Enter, C::Run(R::Act), "Enter", "arm / do the step"),
        bind(
            K::Char('D'),
            C::Run(R::DryRun),
            "D",
            "dry run (runs nothing)",
        ),
        bind(
            K::Char('o'),
            C::Run(R::Override),
            "o",
            "override a failing gate",
        ),
        // S shares s's help row: one more row would push the help's legend off 80x24.
        bind(
            K::Char('s'),
            C::Run(R::Skip),
            "s / S",
            "skip step / plan service",
        ),
        bind(K::Char('S'), C::Run(R::SkipService), "", ""),
        bind(K::Char('a'), C::Run(R::Abort), "a", "abort the run"),
        bind(
            K::Char('R'),
            C::Run(R::Rollback),
            "R",
            "roll back the last step",
        ),
        bind(
            K::Char('v'),
            C::Run(R::ReadBack),
            "v",
            "read the state back",
        ),
        bind(
            K::Char('B'),
            C::Run(R::BreakLock),
            "B",
            "break the driver lock",
        ),
        bind(K::Esc, C::Run(R::Close), "Esc", "close plan / ended run"),
    ]
}

/// A watch console's runbook keys: it follows the run another console drives, and acts on
/// nothing.
fn watch() -> Vec<Binding> {
    use Command as C;
    use KeyCode as K;
    use RunKey as R;
    vec![
        bind(
            K::Char('r'),
            C::Run(R::ShowRun),
            "r",
            "show the current run",
        ),
        bind(K::Esc, C::Run(R::Close), "Esc", "close the run pane"),
    ]
}

impl KeyMap {
    pub fn for_mode(mode: Mode) -> KeyMap {
        Self::for_console(mode, false)
    }

    /// The keys of `model`'s console: its mode's, and the overview's when services are named.
    pub fn of(model: &Model) -> KeyMap {
        Self::for_console(model.mode, super::verdict::named(&model.config))
    }

    pub fn for_console(mode: Mode, services: bool) -> KeyMap {
        let mut bindings = common();
        if services {
            bindings.extend(self::services());
        }
        if mode == Mode::Live {
            // In the arming reason prompt, Tab cycles the run's class (the prompt takes it).
            for b in bindings.iter_mut().filter(|b| b.code == KeyCode::Tab) {
                b.help = "next pane / run class";
            }
        }
        bindings.extend(match mode {
            Mode::Live => live(),
            Mode::Watch => watch(),
        });
        KeyMap { bindings }
    }

    pub fn lookup(&self, key: &KeyEvent) -> Option<Command> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        self.bindings
            .iter()
            .find(|b| b.code == key.code && b.ctrl == ctrl)
            .map(|b| b.command)
    }

    /// The first key bound to `command`, if this console has one.
    pub fn binding(&self, command: Command) -> Option<&Binding> {
        self.bindings.iter().find(|b| b.command == command)
    }

    /// The bindings worth listing in help, in order.
    pub fn help(&self) -> impl Iterator<Item = &Binding> {
        self.bindings.iter().filter(|b| !b.keys.is_empty())
    }
}

/// While the run pane is open, or where Enter has something to do for a run, Enter is the
/// run's (with its refusal, if it refuses), in a console that has the run's Enter.
pub fn enter_is_the_runs(model: &Model) -> bool {
    let run_enter = KeyMap::of(model)
        .binding(Command::Run(RunKey::Act))
        .is_some();
    run_enter && (model.run_pane_open() || runs::decide(model, RunKey::Act).is_ok())
}

/// A key that does something now, as the footer shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Hint {
    /// The key to press.
    pub code: KeyCode,
    pub command: Command,
    /// Its short name ("Enter", "o", "j/k").
    pub key: String,
    /// What it does now ("do step 3", "arm (type secondary)").
    pub what: String,
}

/// The run keys in the footer's order: what moves a run on first, so an 80-column footer, which
/// is cut at the right, keeps them.
const RUN_KEYS: [RunKey; 12] = [
    RunKey::Act,
    RunKey::ReadBack,
    RunKey::Override,
    RunKey::Skip,
    RunKey::Rollback,
    RunKey::Abort,
    RunKey::SkipService,
    RunKey::DryRun,
    RunKey::BreakLock,
    RunKey::Runbooks,
    RunKey::ShowRun,
    RunKey::Close,
];

/// The keys that always do something, after the run keys.
const GENERAL: [(Command, &str, &str); 6] = [
    (Command::Help, "?", "help"),
    (Command::Quit, "q", "quit"),
    (Command::FocusNext, "Tab", "focus"),
    (Command::Down, "j/k", "scroll"),
    (Command::Filter, "/", "filter"),
    (Command::Note, "n", "note"),
];

/// Every key that does something in the console's state now, most important first: the run
/// keys this console binds that `runs::decide` would not refuse, then the keys that always
/// work. The footer lists exactly these.
pub fn available(model: &Model) -> Vec<Hint> {
    let keymap = KeyMap::of(model);
    let mut hints = Vec::new();
    for run_key in RUN_KEYS {
        let command = Command::Run(run_key);
        let Some(binding) = keymap.binding(command) else {
            continue;
        };
        if let Ok(decision) = runs::decide(model, run_key) {
            hints.push(Hint {
                code: binding.code,
                command,
                key: name(binding.code),
                what: what(model, &decision),
            });
        }
    }
    if super::verdict::named(&model.config) {
        let (code, command, key, what) = if model.overview_shown() {
            // Enter chooses unless it is the run's now.
            if enter_is_the_runs(model) {
                (KeyCode::Char('l'), Command::ShowService, "l", "service")
            } else {
                (KeyCode::Enter, Command::ShowService, "Enter", "service")
            }
        } else {
            (
                KeyCode::Char('h'),
                Command::AllServices,
                "h",
                "all services",
            )
        };
        hints.push(Hint {
            code,
            command,
            key: key.into(),
            what: what.into(),
        });
    }
    for (command, key, what) in GENERAL {
        if let Some(binding) = keymap.binding(command) {
            hints.push(Hint {
                code: binding.code,
                command,
                key: key.into(),
                what: what.into(),
            });
        }
    }
    hints
}

fn name(code: KeyCode) -> String {
    match code {
        KeyCode::Char(c) => c.to_string(),
        KeyCode::Enter => "Enter".into(),
        KeyCode::Esc => "Esc".into(),
        KeyCode::Tab => "Tab".into(),
        other => format!("{other:?}"),
    }
}

/// What a run key's decision does, in a few words.
fn what(model: &Model, decision: &Decision) -> String {
    let site = |runbook: usize| {
        model
            .config
            .runbooks
            .get(runbook)
            .map(|r| model.config.sites[r.to].key.as_str())
            .unwrap_or_default()
    };
    match decision {
        Decision::Ask(Purpose::ArmSite { runbook }) => format!("arm (type {})", site(*runbook)),
        Decision::Ask(Purpose::RetryWord { step }) => format!("retry step {}", step + 1),
        Decision::Ask(Purpose::OverrideWord { .. }) => "override".into(),
        Decision::Ask(Purpose::SkipReason { .. }) => "skip".into(),
        Decision::Ask(Purpose::AbortWord) if crate::app::plans::active(model).is_some() => {
            "abort plan".into()
        }
        Decision::Ask(Purpose::AbortWord) => "abort".into(),
        Decision::Ask(Purpose::ArmPlanSite { plan }) => {
            let to = model.config.plans.get(*plan).map(|p| p.to).unwrap_or(0);
            format!("arm plan (type {})", model.config.sites[to].key)
        }
        Decision::Ask(Purpose::SkipServiceReason { .. }) => "skip service".into(),
        Decision::Ask(Purpose::RollbackWord { step }) => format!("roll back step {}", step + 1),
        Decision::Ask(Purpose::BreakLockWord | Purpose::BreakLockReason) => "break the lock".into(),
        Decision::Ask(_) => "confirm".into(),
        Decision::PassGate { step, .. }
        | Decision::ConfirmManual { step, .. }
        | Decision::StartWait { step }
        | Decision::StartAction { step, .. } => format!("do step {}", step + 1),
        Decision::ReadBack { .. } => "read back".into(),
        Decision::DryRun { .. } => "dry run".into(),
        Decision::ShowRun => "show run".into(),
        Decision::ChooseRunbook => "runbooks".into(),
        Decision::Close if model.runs.current.as_ref().is_some_and(|r| r.is_active()) => {
            "panes".into()
        }
        Decision::Close => "close".into(),
    }
}
