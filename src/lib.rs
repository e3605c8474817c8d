//! failover-console: a terminal console for moving a service to its standby site and back.

pub mod actions;
pub mod app;
pub mod cli;
pub mod config;
pub mod engine;
pub mod executor;
pub mod journal_writer;
pub mod lock;
pub mod observe;
pub mod patroni;
pub mod runbook;
pub mod runtime;
pub mod screen;
pub mod sources;
pub mod status;
pub mod timeline;
pub mod ui;
