//! `[[cloudwatch]]`: one metric's latest datapoint, read from CloudWatch.

mod source;

pub use source::Poller;

use failover_core::kinds::CloudWatch;
use failover_core::kinds::cloudwatch::CloudWatchCheck;
use tokio::task::JoinSet;

use super::{Pollers, Sender, Source};
use crate::net::aws as aws_net;

impl Source for CloudWatch {
    fn spawn(specs: &[CloudWatchCheck], tx: &Sender, pollers: &mut Pollers) {
        aws_net::spawn_each(
            specs,
            tx,
            pollers,
            failover_core::kinds::cloudwatch::source,
            source::Poller::new,
        );
    }

    fn read_once(specs: &[CloudWatchCheck], tx: &Sender, tasks: &mut JoinSet<()>) {
        aws_net::read_each(specs, tx, tasks, source::Poller::new);
    }
}
