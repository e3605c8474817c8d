//! UpdateHealthCheck Disabled=true/false on the PRIMARY set's health check (or a given one),
//! with the HealthCheckVersion read just before, and GetHealthCheck to read it back.

use aws_sdk_route53::Client;

use failover_core::actions::Outcome;
use failover_core::kinds::aws::call_timeout;
use failover_core::kinds::route53::{Route53Change, check_request, word};

use super::change::client;
use super::sets::read_pair;
use crate::actions::OutputSink;
use crate::net::aws::{WriteError, read_error, write_error};

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
