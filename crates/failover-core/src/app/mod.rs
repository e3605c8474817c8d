//! The console's state and the one pure function that changes it. Sources, the terminal and the
//! journal talk to it only through `Msg` in and `Effect` out.

pub mod driver;
pub mod keys;
pub mod model;
pub mod numbers;
pub mod plans;
pub mod runs;
pub mod services;
pub mod update;
pub mod verdict;

pub use model::{Mode, Model};
pub use update::{Effect, Msg, update};
