//! failover-console's pure core: what the console knows and shows, and every decision it makes,
//! with no I/O. Readings come in, effects go out; the binary does the rest.
//!
//! Layers, each using only those above it in this list:
//! `text`, `secrets` → `theme`, `timeline`, `schema` → `kinds` → `history`, `actions` → `runbook` → `config` → `app`
//! → `ui`.

pub mod actions;
pub mod app;
pub mod config;
pub mod fit;
pub mod history;
pub mod kinds;
pub mod runbook;
pub mod schema;
pub mod secrets;
pub mod text;
pub mod theme;
pub mod timeline;
pub mod ui;
