//! `status`: one round of reads, a summary, and a monitoring-plugin exit code. It has no
//! history, so thresholds are one probe.

use std::sync::Arc;

use failover_core::app::verdict::{self, Level};
use failover_core::app::{Mode, Model, Msg, update};
use failover_core::config::Config;
use failover_core::theme::{Theme, View};
use serde_json::{Value, json};
use time::OffsetDateTime;

pub async fn run(config: Arc<Config>, json: bool) -> u8 {
    let model = poll(config).await;
    let findings = verdict::assess(&model);
    let level = verdict::overall(&findings);
    let text = if json {
        let value = printable_json(to_json(&model, level, &findings));
        serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
    } else {
        to_text(&model, level, &findings)
    };
    // The exit code is the verdict's, whether or not anyone read the text to its end.
    if let Err(e) = crate::output::stdout(&text) {
        crate::output::stderr(&format!("failover-console: cannot write the status: {e}"));
    }
    level.exit_code() as u8
}

/// Every string in `value` (keys too: some are names from the config) made printable: JSON
/// escapes control characters, but a bidi control would pass through as it is.
pub fn printable_json(value: Value) -> Value {
    let text = |s: String| match failover_core::text::printable(&s) {
        std::borrow::Cow::Borrowed(_) => s,
        std::borrow::Cow::Owned(clean) => clean,
    };
    match value {
        Value::String(s) => Value::String(text(s)),
        Value::Array(items) => Value::Array(items.into_iter().map(printable_json).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (text(k), printable_json(v)))
                .collect(),
        ),
        other => other,
    }
}

pub async fn poll(config: Arc<Config>) -> Model {
    let mut one_shot = (*config).clone();
    for check in &mut one_shot.kinds.health {
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
    for observation in crate::kinds::poll_once(&one_shot).await {
        let _ = update(&mut model, Msg::Observed(observation));
    }
    model
}

/// The verdict, where traffic goes, and every kind's sources.
pub fn to_json(model: &Model, level: Level, findings: &[verdict::Finding]) -> Value {
    let config = &model.config;
    let agreed = verdict::serving(model).agreed();
    let serving = agreed
        .map(|s| Value::String(config.sites[s].key.clone()))
        .unwrap_or(Value::Null);
    let serving_label = agreed
        .map(|s| Value::String(config.site_label(s).to_string()))
        .unwrap_or(Value::Null);
    let mut out = json!({
        "title": config.title,
        "verdict": level.label(),
        "exit_code": level.exit_code(),
        "reasons": findings.iter().map(|f| json!({"level": f.level.label(), "text": f.text})).collect::<Vec<_>>(),
        "serving": serving,
        "serving_label": serving_label,
    });
    if let Value::Object(map) = &mut out {
        map.insert("services".into(), services_json(model));
        map.extend(model.world().status_json());
    }
    out
}

/// One verdict per service (one, "all", when the config names none): the exit code is the worst.
fn services_json(model: &Model) -> Value {
    let config = &model.config;
    let sites = |sites: &mut dyn Iterator<Item = usize>| -> Vec<Value> {
        let mut keys: Vec<usize> = sites.collect();
        keys.sort_unstable();
        keys.dedup();
        keys.into_iter()
            .map(|s| Value::String(config.sites[s].key.clone()))
            .collect()
    };
    let services = verdict::services(model)
        .iter()
        .map(|v| {
            let site = v.site();
            json!({
                "name": v.service.name,
                "implicit": v.service.implicit,
                "verdict": v.level.label(),
                "exit_code": v.level.exit_code(),
                "serving": site.map(|s| config.sites[s].key.clone()),
                "serving_label": site.map(|s| config.site_label(s).to_string()),
                "primary": sites(&mut v.serving.db.iter().flatten().copied()),
                "dns": sites(&mut v.serving.dns.iter().filter_map(|r| match r {
                    failover_core::kinds::dns::RecordSite::Site(s) => Some(*s),
                    _ => None,
                })),
                "troubles": v.serving.troubles(),
                "reasons": v.findings.iter().map(|f| json!({"level": f.level.label(), "text": f.text})).collect::<Vec<_>>(),
            })
        })
        .collect();
    Value::Array(services)
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
    if verdict::named(config) {
        for v in verdict::services(model) {
            let serving = v
                .site()
                .map(|s| config.site_label(s).to_string())
                .unwrap_or_else(|| "unknown".into());
            let _ = writeln!(
                out,
                "  service {}: {} (serving: {serving})",
                v.service.name,
                v.level.label()
            );
        }
    }
    for f in findings {
        let _ = writeln!(out, "  {:<8} {}", f.level.label(), f.text);
    }
    model.world().status_text(&mut out);
    out
}
