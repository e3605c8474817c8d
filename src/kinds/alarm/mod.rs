//! `[[alarm]]`: CloudWatch alarms read with DescribeAlarms, by name or by prefix, metric and
//! composite alike.

use std::time::Duration;

use aws_sdk_cloudwatch::types::{AlarmType, StateValue};
use failover_core::kinds::alarm::{AlarmInfo, AlarmReading, AlarmSource, AlarmValue, Alarms};
use failover_core::kinds::aws::AwsError;
use failover_core::kinds::{Alarm, Observation};
use time::OffsetDateTime;
use tokio::task::JoinSet;

use super::{Pollers, Sender, Source};
use crate::net::aws::{self as aws_net, AwsSource, classify, sdk_config};

impl Source for Alarm {
    fn spawn(specs: &[AlarmSource], tx: &Sender, pollers: &mut Pollers) {
        aws_net::spawn_each(
            specs,
            tx,
            pollers,
            failover_core::kinds::alarm::source,
            Poller::new,
        );
    }

    fn read_once(specs: &[AlarmSource], tx: &Sender, tasks: &mut JoinSet<()>) {
        aws_net::read_each(specs, tx, tasks, Poller::new);
    }
}

pub struct Poller {
    index: usize,
    spec: AlarmSource,
    client: aws_sdk_cloudwatch::Client,
}

impl Poller {
    pub async fn new(index: usize, spec: AlarmSource) -> Poller {
        let config = sdk_config(&spec.aws, spec.timeout, None).await;
        Poller {
            index,
            client: aws_sdk_cloudwatch::Client::new(&config),
            spec,
        }
    }
}

/// Pages of DescribeAlarms read at most: 10 of 100 alarms.
const MAX_PAGES: usize = 10;

impl AwsSource for Poller {
    type Reading = AlarmReading;

    fn timing(&self) -> (Duration, Duration) {
        (self.spec.interval, self.spec.timeout)
    }

    fn observation(&self, result: Result<AlarmReading, AwsError>) -> Observation {
        Observation::Alarm {
            source: self.index,
            at: OffsetDateTime::now_utc(),
            result,
        }
    }

    async fn read(&self) -> Result<AlarmReading, AwsError> {
        let mut alarms = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut request = self
                .client
                .describe_alarms()
                .alarm_types(AlarmType::MetricAlarm)
                .alarm_types(AlarmType::CompositeAlarm)
                .max_records(100)
                .set_next_token(token.take());
            request = match &self.spec.alarms {
                Alarms::Named(names) => request.set_alarm_names(Some(names.clone())),
                Alarms::Prefix(prefix) => request.alarm_name_prefix(prefix),
            };
            let page = request.send().await.map_err(classify)?;
            let metric = page.metric_alarms().iter().map(|a| {
                let since = a
                    .state_transitioned_timestamp()
                    .or(a.state_updated_timestamp());
                info(a.alarm_name(), a.state_value(), a.state_reason(), since)
            });
            let composite = page.composite_alarms().iter().map(|a| {
                let since = a
                    .state_transitioned_timestamp()
                    .or(a.state_updated_timestamp());
                info(a.alarm_name(), a.state_value(), a.state_reason(), since)
            });
            alarms.extend(metric.chain(composite).flatten());
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        alarms.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(AlarmReading { alarms })
    }
}

/// One alarm as the core reads it; an alarm without a name is no alarm.
fn info(
    name: Option<&str>,
    state: Option<&StateValue>,
    reason: Option<&str>,
    since: Option<&aws_sdk_cloudwatch::primitives::DateTime>,
) -> Option<AlarmInfo> {
    Some(AlarmInfo {
        name: name?.to_string(),
        state: AlarmValue::from_api(state.map(|s| s.as_str()).unwrap_or("")),
        reason: reason.unwrap_or_default().to_string(),
        since: since.and_then(|t| OffsetDateTime::from_unix_timestamp(t.secs()).ok()),
    })
}
