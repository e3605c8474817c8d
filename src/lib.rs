//! failover-console: a terminal console for moving a service to its standby site and back.
//!
//! This crate is the I/O around the pure core (`failover_core`): the command line, the runtime
//! and engine, the terminal, the journal, the driver lock, `status`, and each kind's source,
//! actions and client (`kinds`). Layers, each using only those below it:
//! `cli` → `runtime`, `status` → `engine` → `executor` → `kinds` → `actions` → `net`; and
//! `journal`, `record` (the shared record or the file), `lock`, `screen`, `config`, `pollers`, `grid` (the clock's grid everything periodic runs on), `crash` (panics) and `test_hooks` beside
//! them.

pub mod actions;
pub mod cli;
pub mod config;
pub mod cpu;
pub mod crash;
pub mod engine;
pub mod executor;
pub mod grid;
pub mod journal;
pub mod kinds;
pub mod lock;
pub mod net;
pub mod output;
pub mod pollers;
pub mod record;
pub mod runtime;
pub mod screen;
pub mod status;
pub mod test_hooks;
