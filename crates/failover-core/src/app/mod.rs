//! The console's state and the one pure function that changes it. Sources, the terminal and the
//! journal talk to it only through `Msg` in and `Effect` out.

mod aws_findings;
pub mod cloudwatch;
pub mod dns;
pub mod health;
pub mod keys;
pub mod model;
pub mod patroni;
pub mod rds;
pub mod replication;
pub mod route53;
pub mod runs;
pub mod update;
pub mod verdict;

pub use model::{Mode, Model};
pub use update::{Effect, Msg, update};
