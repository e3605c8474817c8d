//! UpdateHealthCheck Disabled=true/false on the PRIMARY set's health check (or a given one),
//! with the HealthCheckVersion read just before, and GetHealthCheck to read it back.

use aws_sdk_route53::Client;

use super::sets::read_pair;
use super::{AT_RUN_TIME, ROUTE53_REGION, Route53Change, client};
use crate::actions::aws::{WriteError, call_timeout, read_error, where_text, write_error};
use crate::actions::json_text::Json;
use crate::actions::{Outcome, OutputSink};

/// Said in the plan of a disable: the mode is easily mistaken for a way to fail over.
const DISABLED_IS_HEALTHY: &str = "Route 53 treats a disabled health check as HEALTHY: its record set keeps answering whatever its endpoint says";

pub(super) fn check_head(spec: &Route53Change, disabled: bool, id: Option<&str>) -> Vec<String> {
    let whose = match id {
        Some(id) => format!("health check {id}"),
        None => format!(
            "the health check of {} {}'s PRIMARY set (zone {}, found at run time)",
            spec.name, spec.record_type, spec.zone_id
        ),
    };
    let note = if disabled {
        format!("note: {DISABLED_IS_HEALTHY}")
    } else {
        "note: enabled again, a failing check makes Route 53 answer the SECONDARY (a disabled check counts as healthy)".into()
    };
    vec![
        format!("Route 53 UpdateHealthCheck Disabled={disabled} on {whose}"),
        note,
        where_text(&spec.aws, Some(ROUTE53_REGION)),
    ]
}

pub(super) fn check_request(id: &str, version: Option<i64>, disabled: bool) -> Json {
    Json::Obj(vec![
        ("HealthCheckId", Json::str(id)),
        (
            "HealthCheckVersion",
            match version {
                Some(v) => Json::Num(v),
                None => Json::str(AT_RUN_TIME),
            },
        ),
        ("Disabled", Json::Bool(disabled)),
    ])
}

pub(super) fn check_tail(disabled: bool) -> String {
    format!("read back: GetHealthCheck shows Disabled={disabled}")
}

pub(super) fn word(disabled: bool) -> &'static str {
    if disabled { "disabled" } else { "enabled" }
}

pub(super) struct CheckNow {
    pub(super) id: String,
    /// "the PRIMARY set site-a's" or "as configured".
    pub(super) whose: String,
    pub(super) version: i64,
    pub(super) disabled: bool,
}

pub(super) async fn resolve_check(
    client: &Client,
    spec: &Route53Change,
    id: Option<&str>,
) -> Result<CheckNow, String> {
    let (id, whose) = match id {
        Some(id) => (id.to_string(), "as configured".to_string()),
        None => {
            let pair = read_pair(client, spec).await?;
            let id = pair.primary.health_check_id.clone().ok_or_else(|| {
                format!(
                    "the PRIMARY set {} of {} has no health check",
                    pair.primary.set_identifier, spec.name
                )
            })?;
            (
                id,
                format!("the PRIMARY set {}'s", pair.primary.set_identifier),
            )
        }
    };
    let out = client
        .get_health_check()
        .health_check_id(&id)
        .send()
        .await
        .map_err(|e| {
            format!(
                "cannot read health check {id}: {}",
                read_error(e, &spec.aws, call_timeout(spec.timeout))
            )
        })?;
    let check = out
        .health_check()
        .ok_or_else(|| format!("GetHealthCheck {id}: no health check in the answer"))?;
    Ok(CheckNow {
        disabled: check
            .health_check_config()
            .and_then(|c| c.disabled())
            .unwrap_or(false),
        version: check.health_check_version(),
        id,
        whose,
    })
}

pub(super) async fn set_check(
    spec: &Route53Change,
    disabled: bool,
    id: Option<&str>,
    output: &OutputSink,
) -> Outcome {
    let client = client(spec).await;
    let check = match resolve_check(&client, spec, id).await {
        Ok(c) => c,
        Err(e) => return Outcome::Failed(format!("{e}; nothing sent")),
    };
    let what = format!("health check {} ({})", check.id, check.whose);
    if check.disabled == disabled {
        return Outcome::Ok(format!(
            "{what} is already {}: nothing sent",
            word(disabled)
        ));
    }
    let request = check_request(&check.id, Some(check.version), disabled);
    let _ = output
        .send(format!("UpdateHealthCheck {}", request.flat()))
        .await;
    let sent = client
        .update_health_check()
        .health_check_id(&check.id)
        .health_check_version(check.version)
        .disabled(disabled)
        .send()
        .await;
    match sent {
        Ok(out) => {
            let now = out
                .health_check()
                .and_then(|h| h.health_check_config())
                .and_then(|c| c.disabled())
                .unwrap_or(false);
            if now == disabled {
                let note = if disabled {
                    "; Route 53 now treats it as healthy whatever its endpoint says"
                } else {
                    ""
                };
                Outcome::Ok(format!("{what} {}{note}", word(disabled)))
            } else {
                Outcome::Unknown(format!(
                    "UpdateHealthCheck answered, but {what} shows Disabled={now}: read back"
                ))
            }
        }
        Err(e) => match write_error(e, &spec.aws, call_timeout(spec.timeout)) {
            WriteError::NotSent(m) => {
                Outcome::Failed(format!("UpdateHealthCheck on {what} refused: {m}"))
            }
            WriteError::Unknown(m) => Outcome::Unknown(format!(
                "no answer to UpdateHealthCheck on {what} ({m}): it may have been applied; read back"
            )),
        },
    }
}
