//! Choosing one service from the estate overview, and returning to all: the panes, the rows
//! that scroll and the timeline follow the chosen service's sources.

use super::model::{Model, Pane};
use crate::config::{Config, Service};
use crate::timeline::ServiceEntries;

/// Shows the panes of the service at the overview's cursor.
pub fn choose(model: &mut Model) {
    if !model.overview_shown() {
        return;
    }
    let count = model.config.services.len();
    let index = model.ui.scroll[Pane::Services.index()].min(count.saturating_sub(1));
    let Some(service) = model.config.services.get(index) else {
        return;
    };
    let entries = entries(&model.config, service);
    model.ui.service = Some(index);
    model.timeline.set_service(Some(entries));
    reset_scroll(model);
    if model.ui.focus == Pane::Services {
        model.ui.focus = Pane::Health;
    }
}

/// Back to the overview of every service.
pub fn all(model: &mut Model) {
    if model.ui.service.take().is_none() {
        return;
    }
    model.timeline.set_service(None);
    reset_scroll(model);
    if matches!(model.ui.focus, Pane::Health | Pane::Replication | Pane::Dns) {
        model.ui.focus = Pane::Services;
    }
}

/// The source panes and the timeline start at their top: their rows changed.
fn reset_scroll(model: &mut Model) {
    for pane in [Pane::Health, Pane::Replication, Pane::Dns, Pane::Timeline] {
        model.ui.scroll[pane.index()] = 0;
    }
}

/// The timeline entries of `service`: those of its sources, as each kind names them, and the
/// runs of its runbooks.
pub fn entries(config: &Config, service: &Service) -> ServiceEntries {
    use crate::kinds::{alarm, cloudwatch, dns, health, patroni, rds, route53};
    let k = &config.kinds;
    let s = &service.sources;
    let mut sources = Vec::new();
    sources.extend(s.health.iter().map(|&i| health::source(&k.health[i])));
    sources.extend(
        s.postgres
            .iter()
            .map(|&i| format!("db/{}", k.postgres[i].name)),
    );
    sources.extend(s.dns.iter().map(|&i| dns::source(&k.dns[i])));
    sources.extend(s.route53.iter().map(|&i| route53::source(&k.route53[i])));
    sources.extend(
        s.cloudwatch
            .iter()
            .map(|&i| cloudwatch::source(&k.cloudwatch[i])),
    );
    sources.extend(s.alarm.iter().map(|&i| alarm::source(&k.alarm[i])));
    sources.extend(s.patroni.iter().map(|&i| patroni::source(&k.patroni[i])));
    sources.extend(s.rds.iter().map(|&i| rds::source_all(&k.rds[i])));
    ServiceEntries {
        sources,
        runbooks: service
            .runbooks
            .iter()
            .filter_map(|&r| config.runbooks.get(r).map(|rb| rb.name.clone()))
            .collect(),
    }
}
