//! failover-console's pure core: what the console knows and shows, and every decision it makes,
//! with no I/O. Readings come in, effects go out; the binary does the rest.

pub mod text;
pub mod theme;
pub mod timeline;
pub mod schema;
pub mod kinds;
