//! Keys to commands, looked up in a table built for the console's mode: a watch console's table
//! simply has no entry for anything that acts.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::Mode;

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
    Run(super::runs::RunKey),
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

impl KeyMap {
    pub fn for_mode(_mode: Mode) -> KeyMap {
        use super::runs::RunKey as R;
        use Command as C;
        use KeyCode as K;
        let bindings = vec![
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
            bind(K::Char('s'), C::Run(R::Skip), "s", "skip the step (reason)"),
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
        ];
        KeyMap { bindings }
    }

    pub fn lookup(&self, key: &KeyEvent) -> Option<Command> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        self.bindings
            .iter()
            .find(|b| b.code == key.code && b.ctrl == ctrl)
            .map(|b| b.command)
    }

    /// The bindings worth listing in help, in order.
    pub fn help(&self) -> impl Iterator<Item = &Binding> {
        self.bindings.iter().filter(|b| !b.keys.is_empty())
    }
}
