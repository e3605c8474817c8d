//! `[[rds]]`: instances and their cluster read from RDS (lag from CloudWatch), and the
//! rds-promote / rds-failover actions.

mod actions;
mod source;

pub use source::Poller;

use failover_core::kinds::Rds;
use failover_core::kinds::rds::RdsSource;
use tokio::task::JoinSet;

pub use actions::{
    execute_failover, execute_promote, preflight_failover, preflight_promote, read_back_failover,
    read_back_promote,
};

use super::{Pollers, Sender, Source};
use crate::net::aws as aws_net;

impl Source for Rds {
    fn spawn(specs: &[RdsSource], tx: &Sender, pollers: &mut Pollers) {
        aws_net::spawn_each(
            specs,
            tx,
            pollers,
            failover_core::kinds::rds::source_all,
            source::Poller::new,
        );
    }

    fn read_once(specs: &[RdsSource], tx: &Sender, tasks: &mut JoinSet<()>) {
        aws_net::read_each(specs, tx, tasks, source::Poller::new);
    }
}
