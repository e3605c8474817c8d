//! The journal on disk: the append-only, fsync'd file of timeline entries (`file`), reading it
//! back within bounds (`read`), the writer task every entry goes through (`writer`), and the
//! tail of other consoles' lines (`tail`).

mod file;
pub mod read;
pub mod tail;
pub mod writer;

pub use failover_core::timeline::Tail;
pub use file::Journal;
pub use read::{read_all, read_before, read_before_entry, read_runs, read_tail};
