//! `status`: one round of probes, a summary, and a monitoring-plugin exit code. It has no
//! history, so thresholds are one probe.

use std::sync::Arc;

use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::app::dns::{Match, RecordSite};
use crate::app::health::CheckStatus;
use crate::app::replication::Role;
use crate::app::verdict::{self, Level};
use crate::app::{Mode, Model, Msg, update};
use crate::config::Config;
use crate::observe::DnsAnswer;
use crate::ui::{Theme, View};

pub async fn run(config: Arc<Config>, json: bool) -> u8 {
    let model = poll(config).await;
    let findings = verdict::assess(&model);
    let level = verdict::overall(&findings);
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&to_json(&model, level, &findings)).unwrap_or_default()
        );
    } else {
        print!("{}", to_text(&model, level, &findings));
    }
    level.exit_code() as u8
}

pub async fn poll(config: Arc<Config>) -> Model {
    let mut one_shot = (*config).clone();
    for check in &mut one_shot.health {
        check.failure_threshold = 1;
        check.success_threshold = 1;
    }
    let one_shot = Arc::new(one_shot);
    let view = View {
        theme: Theme::mono(),
        ascii: true,
    };
    let mut model = Model::new(
        one_shot.clone(),
        Mode::Watch,
        String::new(),
        view,
        OffsetDateTime::now_utc(),
    );
    for observation in crate::sources::poll_once(&one_shot).await {
        let _ = update(&mut model, Msg::Observed(observation));
    }
    model
}

fn site_name(config: &Config, site: Option<usize>) -> Value {
    site.map(|s| Value::String(config.sites[s].key.clone()))
        .unwrap_or(Value::Null)
}

pub fn to_json(model: &Model, level: Level, findings: &[verdict::Finding]) -> Value {
    let config = &model.config;
    let health: Vec<Value> = config
        .health
        .iter()
        .zip(&model.health)
        .map(|(spec, st)| {
            json!({
                "name": spec.name,
                "site": config.sites[spec.site].key,
                "target": spec.target.describe(),
                "healthy": match st.status { CheckStatus::Healthy => Value::Bool(true), CheckStatus::Unhealthy => Value::Bool(false), CheckStatus::Pending => Value::Null },
                "latency_ms": st.last.as_ref().map(|o| (o.latency.as_secs_f64() * 1000.0 * 10.0).round() / 10.0),
                "detail": st.last.as_ref().map(|o| o.detail.clone()),
            })
        })
        .collect();
    let databases: Vec<Value> = config
        .databases
        .iter()
        .zip(&model.dbs)
        .map(|(spec, db)| {
            let members: Vec<Value> = spec
                .members
                .iter()
                .zip(&db.members)
                .map(|(m, st)| {
                    let lag = st.lag.as_ref();
                    json!({
                        "name": m.name,
                        "site": config.sites[m.site].key,
                        "role": st.role.label(),
                        "error": st.error,
                        "timeline": st.snapshot.as_ref().and_then(|s| s.timeline),
                        "lag_bytes": lag.and_then(|l| l.bytes).map(|b| b.0),
                        "lag_bytes_source": lag.and_then(|l| l.bytes).map(|b| b.1.label()),
                        "lag_seconds": lag.and_then(|l| l.time).map(|t| t.0.as_secs_f64()),
                        "lag_seconds_source": lag.and_then(|l| l.time).map(|t| t.1.label()),
                        "lag_over_limit": lag.map(|l| l.over_limit),
                        "streaming": if st.role == Role::Replica { st.streaming() } else { None },
                        "replay_paused": if st.role == Role::Replica { st.replay_paused() } else { None },
                    })
                })
                .collect();
            let primaries = db.primaries();
            json!({
                "name": spec.name,
                "primary_site": if primaries.len() == 1 { site_name(config, Some(spec.members[primaries[0]].site)) } else { Value::Null },
                "primary_sites": primaries.iter().map(|m| config.sites[spec.members[*m].site].key.clone()).collect::<Vec<_>>(),
                "writable_primaries": primaries.len(),
                "max_lag_bytes": spec.max_lag_bytes,
                "max_lag_seconds": spec.max_lag.as_secs_f64(),
                "members": members,
            })
        })
        .collect();
    let dns: Vec<Value> = config
        .dns
        .iter()
        .zip(&model.dns)
        .map(|(spec, st)| {
            let resolvers: Vec<Value> = spec
                .resolvers
                .iter()
                .zip(&st.resolvers)
                .map(|(server, r)| {
                    let (values, ttl, error) = match &r.answer {
                        Some(DnsAnswer::Records { values, ttl }) => (json!(values), json!(ttl), Value::Null),
                        Some(other) => (json!([]), Value::Null, json!(other.describe())),
                        None => (json!([]), Value::Null, json!("no answer within the deadline")),
                    };
                    let site = match r.matched {
                        Some(Match::Site(s)) => site_name(config, Some(s)),
                        _ => Value::Null,
                    };
                    json!({ "resolver": server.to_string(), "answers": values, "ttl": ttl, "error": error, "site": site })
                })
                .collect();
            let site = match st.site {
                RecordSite::Site(s) => site_name(config, Some(s)),
                RecordSite::Mixed => json!("mixed"),
                RecordSite::Unknown => json!("unknown"),
                RecordSite::NoAnswer => json!("no-answer"),
                RecordSite::Pending => Value::Null,
            };
            json!({ "name": spec.name, "type": spec.record_type.to_string(), "site": site, "resolvers": resolvers })
        })
        .collect();
    let route53: Vec<Value> = config
        .route53
        .iter()
        .zip(&model.route53)
        .map(|(spec, st)| {
            let sets: Vec<Value> = st
                .reading
                .iter()
                .flat_map(|r| &r.sets)
                .map(|s| {
                    let check = s.health_check.as_ref().map(|c| {
                        let calculated = c.calculated.as_ref().map(|(metric, p)| json!({"metric": metric, "value": p.value, "timestamp": timestamp(p.at)}));
                        match &c.status {
                            Ok(share) if calculated.is_some() => json!({"id": c.id, "healthy": share.healthy(), "calculated": calculated}),
                            Ok(share) => json!({"id": c.id, "healthy": share.healthy(), "healthy_checkers": share.healthy, "checkers": share.total}),
                            Err(e) => json!({"id": c.id, "healthy": Value::Null, "error": e}),
                        }
                    });
                    json!({"set_identifier": s.set_identifier, "failover": s.failover, "values": s.values, "alias": s.alias, "ttl": s.ttl, "health_check": check})
                })
                .collect();
            let intended = st.intended.as_ref().map(|i| {
                json!({"role": i.role, "values": i.values, "site": site_name(config, i.site), "reason": i.reason})
            });
            let error = st.error.as_ref().map(|e| e.describe(spec.aws.profile.as_deref()));
            json!({"name": spec.name, "type": spec.record_type.to_string(), "zone_id": spec.zone_id, "intended": intended, "record_sets": sets, "error": error})
        })
        .collect();
    let serving = verdict::serving(model);
    let (rds, cloudwatch) = aws_json(model);
    json!({
        "title": config.title,
        "verdict": level.label(),
        "exit_code": level.exit_code(),
        "reasons": findings.iter().map(|f| json!({"level": f.level.label(), "text": f.text})).collect::<Vec<_>>(),
        "serving": site_name(config, serving.agreed()),
        "health": health,
        "databases": databases,
        "dns": dns,
        "route53": route53,
        "rds": rds,
        "cloudwatch": cloudwatch,
        "patroni": crate::app::patroni::json(model),
    })
}

fn timestamp(at: OffsetDateTime) -> Value {
    at.format(&time::format_description::well_known::Rfc3339)
        .map(Value::String)
        .unwrap_or(Value::Null)
}

fn age_seconds(model: &Model, at: OffsetDateTime) -> f64 {
    (model.now - at).as_seconds_f64().max(0.0).round()
}

/// `rds` and `cloudwatch`: every figure with its unit or its name, errors as plain text.
fn aws_json(model: &Model) -> (Vec<Value>, Vec<Value>) {
    use crate::app::{cloudwatch, rds};
    let config = &model.config;
    let rds = config
        .rds
        .iter()
        .zip(&model.rds)
        .map(|(spec, st)| {
            let instances: Vec<Value> = spec
                .instances
                .iter()
                .enumerate()
                .map(|(i, inst_spec)| {
                    let base = json!({"site": config.sites[inst_spec.site].key, "id": inst_spec.id});
                    let extra = match st.instance(i) {
                        None => json!({"found": Value::Null}),
                        Some(Err(e)) => json!({"found": false, "error": e}),
                        Some(Ok(inst)) => {
                            let (source, cluster) = match &inst.role {
                                crate::observe::RdsRole::ReadReplica { source } => (Some(source.clone()), None),
                                crate::observe::RdsRole::AuroraWriter { cluster }
                                | crate::observe::RdsRole::AuroraReader { cluster }
                                | crate::observe::RdsRole::AuroraUnknown { cluster } => (None, Some(cluster.clone())),
                                crate::observe::RdsRole::Primary { .. } => (None, None),
                            };
                            let lag = match rds::lag(inst) {
                                rds::Lag::NotApplicable => Value::Null,
                                rds::Lag::Known { metric, value, lag, at } => json!({
                                    "metric": metric.name(), "value": value, "unit": metric.unit(),
                                    "seconds": lag.as_secs_f64(), "timestamp": timestamp(at),
                                    "age_seconds": age_seconds(model, at),
                                    "over_max": lag > spec.max_lag,
                                }),
                                rds::Lag::NoData(metric) => json!({"metric": metric.name(), "unit": metric.unit(), "value": Value::Null, "error": "no datapoint"}),
                                rds::Lag::Unreadable(e) => json!({"value": Value::Null, "error": e}),
                            };
                            json!({
                                "found": true,
                                "status": inst.status,
                                "role": rds::role_word(&inst.role),
                                "role_text": rds::role_text(&inst.role),
                                "source": source,
                                "cluster": cluster,
                                "engine": inst.engine,
                                "availability_zone": inst.availability_zone,
                                "multi_az": inst.multi_az,
                                "lag": lag,
                            })
                        }
                    };
                    let mut merged = base;
                    if let (Some(m), Value::Object(e)) = (merged.as_object_mut(), extra) {
                        m.extend(e);
                    }
                    merged
                })
                .collect();
            let clusters: Vec<Value> = st
                .reading
                .iter()
                .flat_map(|r| &r.clusters)
                .map(|c| match c {
                    Ok(c) => json!({"id": c.id, "status": c.status, "engine": c.engine, "multi_az": c.multi_az,
                        "writer": c.members.iter().find(|(_, w)| *w).map(|(id, _)| id.clone()),
                        "readers": c.members.iter().filter(|(_, w)| !*w).map(|(id, _)| id.clone()).collect::<Vec<_>>()}),
                    Err(e) => json!({"error": e}),
                })
                .collect();
            json!({
                "name": spec.name,
                "max_lag_seconds": spec.max_lag.as_secs_f64(),
                "instances": instances,
                "clusters": clusters,
                "stale": st.stale,
                "error": st.error.as_ref().map(|e| e.describe(spec.aws.profile.as_deref())),
            })
        })
        .collect();
    let cloudwatch = config
        .cloudwatch
        .iter()
        .zip(&model.cloudwatch)
        .map(|(spec, st)| {
            json!({
                "name": spec.name,
                "site": site_name(config, spec.site),
                "namespace": spec.namespace,
                "metric": spec.metric,
                "dimensions": spec.dimensions.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect::<serde_json::Map<_, _>>(),
                "statistic": spec.statistic,
                "period_seconds": spec.period.as_secs(),
                "warn": spec.warn,
                "crit": spec.crit,
                "state": st.shown().label(),
                "value": st.latest.map(|p| p.value),
                "timestamp": st.latest.map(|p| timestamp(p.at)),
                "age_seconds": st.latest.map(|p| age_seconds(model, p.at)),
                "detail": cloudwatch::describe(spec, st, model.now),
                "error": st.error.as_ref().map(|e| e.describe(spec.aws.profile.as_deref())),
            })
        })
        .collect();
    (rds, cloudwatch)
}

pub fn to_text(model: &Model, level: Level, findings: &[verdict::Finding]) -> String {
    use std::fmt::Write;
    let config = &model.config;
    let mut out = String::new();
    let serving = verdict::serving(model)
        .agreed()
        .map(|s| config.site_label(s).to_string())
        .unwrap_or_else(|| "unknown".into());
    let _ = writeln!(
        out,
        "{}: {} (serving: {serving})",
        config.title,
        level.label()
    );
    for f in findings {
        let _ = writeln!(out, "  {:<8} {}", f.level.label(), f.text);
    }
    let _ = writeln!(out, "health:");
    for (spec, st) in config.health.iter().zip(&model.health) {
        let state = match st.status {
            CheckStatus::Healthy => "ok",
            CheckStatus::Unhealthy => "FAIL",
            CheckStatus::Pending => "?",
        };
        let detail = st
            .last
            .as_ref()
            .map(|o| format!("{} in {}", o.detail, crate::ui::format::latency(o.latency)))
            .unwrap_or_else(|| "no result".into());
        let _ = writeln!(
            out,
            "  {state:<4} {} ({}): {detail}",
            spec.name,
            config.site_label(spec.site)
        );
    }
    for (spec, db) in config.databases.iter().zip(&model.dbs) {
        let _ = writeln!(out, "database {}:", spec.name);
        for (i, st) in db.members.iter().enumerate() {
            let m = &spec.members[i];
            let mut line = format!("  {:<11} {}", st.role.label(), config.site_label(m.site));
            if let Some(lag) = &st.lag {
                let _ = write!(line, ": lag {}", crate::app::replication::lag_text(lag));
            }
            if let Some(e) = &st.error {
                let _ = write!(line, ": {e}");
            }
            let _ = writeln!(out, "{line}");
        }
    }
    if !config.cloudwatch.is_empty() {
        let _ = writeln!(out, "cloudwatch:");
    }
    for (spec, st) in config.cloudwatch.iter().zip(&model.cloudwatch) {
        let site = spec
            .site
            .map(|s| format!(" ({})", config.site_label(s)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {}{site}: {}",
            spec.name,
            crate::app::cloudwatch::describe(spec, st, model.now)
        );
    }
    crate::app::patroni::text(model, &mut out);
    for (spec, st) in config.rds.iter().zip(&model.rds) {
        let _ = writeln!(out, "rds {}:", spec.name);
        if let Some(e) = &st.error {
            let _ = writeln!(out, "  error: {}", e.describe(spec.aws.profile.as_deref()));
        }
        for (i, inst_spec) in spec.instances.iter().enumerate() {
            let site = config.site_label(inst_spec.site);
            let line = match st.instance(i) {
                None => format!("{}: no result", inst_spec.id),
                Some(Err(e)) => e.clone(),
                Some(Ok(inst)) => {
                    let lag = crate::app::rds::lag_text(spec, inst);
                    let lag = if lag.is_empty() {
                        lag
                    } else {
                        format!(", {lag}")
                    };
                    format!(
                        "{} {}{lag}, {}",
                        inst.id,
                        crate::app::rds::role_text(&inst.role),
                        crate::app::rds::placement(inst)
                    )
                }
            };
            let _ = writeln!(out, "  {site}: {line}");
        }
    }
    for (spec, st) in config.dns.iter().zip(&model.dns) {
        let _ = writeln!(out, "dns {} {}:", spec.name, spec.record_type);
        for (server, r) in spec.resolvers.iter().zip(&st.resolvers) {
            let answer = r
                .answer
                .as_ref()
                .map(|a| a.describe())
                .unwrap_or_else(|| "no answer".into());
            let ttl = match &r.answer {
                Some(DnsAnswer::Records { ttl, .. }) => format!(" ttl {ttl}"),
                _ => String::new(),
            };
            let site = r
                .matched
                .map(|m| crate::app::dns::site_text(config, m))
                .unwrap_or_default();
            let _ = writeln!(out, "  @{server}: {answer}{ttl} -> {site}");
        }
    }
    for (spec, st) in config.route53.iter().zip(&model.route53) {
        let _ = writeln!(out, "route53 {} {}:", spec.name, spec.record_type);
        if let Some(e) = &st.error {
            let _ = writeln!(out, "  {}", e.describe(spec.aws.profile.as_deref()));
        }
        for set in st.reading.iter().flat_map(|r| &r.sets) {
            let check = match &set.health_check {
                None => "no health check".to_string(),
                Some(c) => match &c.status {
                    Ok(share) => format!(
                        "health check {} {} ({}/{} checkers)",
                        c.id,
                        if share.healthy() {
                            "healthy"
                        } else {
                            "UNHEALTHY"
                        },
                        share.healthy,
                        share.total
                    ),
                    Err(e) => format!("health check {} unreadable: {e}", c.id),
                },
            };
            let _ = writeln!(
                out,
                "  {:<9} {}: {} ttl {}, {check}",
                set.failover.as_deref().unwrap_or("simple"),
                set.set_identifier.as_deref().unwrap_or("-"),
                set.values.join(", "),
                set.ttl.map(|t| t.to_string()).unwrap_or_else(|| "-".into()),
            );
        }
        if let Some(i) = &st.intended {
            let _ = writeln!(
                out,
                "  intends {}",
                crate::app::route53::intended_text(config, i)
            );
        }
    }
    out
}
