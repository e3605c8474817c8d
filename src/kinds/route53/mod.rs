//! `[[route53]]`: the record's sets and health checks read from Route 53, and the route53 action
//! (a failover pair's roles swapped in one ChangeBatch, or a health check disabled / enabled).

mod change;
mod health_check;
mod sets;
mod source;

pub use source::Poller;

use std::time::Duration;

use aws_sdk_route53::Client;
use failover_core::kinds::Route53;
use failover_core::kinds::aws::AwsSettings;
pub use failover_core::kinds::route53::ROUTE53_REGION;
use failover_core::kinds::route53::Route53Record;
use tokio::task::JoinSet;

pub use change::{execute, plan, preflight, read_back};

use super::{Pollers, Sender, Source};
use crate::net::aws::{self as aws_net, sdk_config};

/// An SDK client for these settings; Route 53's API lives in us-east-1 unless told otherwise.
/// Loading never fails: missing credentials show up on the first call, as a classified error.
pub async fn client(aws: &AwsSettings, timeout: Duration) -> Client {
    Client::new(&sdk_config(aws, timeout, Some(ROUTE53_REGION)).await)
}

impl Source for Route53 {
    fn spawn(specs: &[Route53Record], tx: &Sender, pollers: &mut Pollers) {
        aws_net::spawn_each(
            specs,
            tx,
            pollers,
            failover_core::kinds::route53::source,
            source::Poller::new,
        );
    }

    fn read_once(specs: &[Route53Record], tx: &Sender, tasks: &mut JoinSet<()>) {
        aws_net::read_each(specs, tx, tasks, source::Poller::new);
    }
}
