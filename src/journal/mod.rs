//! The journal on disk: the append-only, fsync'd file of timeline entries (`file`), reading it
//! back within bounds (`read`), where `journal export --output` writes (`export`), the writer task every entry goes through (`writer`), and the
//! tail of other consoles' lines (`tail`).

pub mod export;
mod file;
pub mod read;
pub mod tail;
pub mod writer;

pub use failover_core::timeline::Tail;
pub use file::Journal;
pub use read::{read_all, read_before, read_before_entry, read_runs, read_tail};
