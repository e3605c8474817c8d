//! Route 53 as a runbook action, with the official SDK.
//!
//! - UPSERT (the default): ONE ChangeBatch that makes the failover set holding the target site's
//!   answers PRIMARY and the other SECONDARY. Each set is sent back exactly as read just before
//!   (SetIdentifier, values, TTL, HealthCheckId): only the roles move, never the values, since each
//!   set's health check watches its own site's endpoint. Then GetChange until INSYNC.
//! - disable-health-check / enable-health-check: UpdateHealthCheck Disabled=true/false on the
//!   PRIMARY set's health check (or a given one), guarded by the version read just before.
//!
//! The sets are matched to sites through the `[[dns]]` record of the same name, like the DNS
//! pane does. What is sent and what the plan shows are built from the same `FailoverSet`s.

use std::future::Future;

use aws_sdk_route53::Client;
use aws_sdk_route53::types::ChangeStatus;
use failover_core::actions::{Outcome, ReadBack};
use failover_core::kinds::aws::{call_timeout, human, poll_every};
use failover_core::kinds::route53::{
    Mode, Route53Change, SiteAnswers, batch_json, check_head, check_request, check_tail, comment,
    swap, toward_is_primary, upsert_head, upsert_tail, word,
};
use tokio::time::Instant;

use super::health_check::{resolve_check, set_check};
use super::sets::{batch_sdk, read_pair};
use crate::actions::OutputSink;
use crate::net::aws::{WriteError, read_error, write_error};

pub async fn client(spec: &Route53Change) -> Client {
    super::client(&spec.aws, call_timeout(spec.timeout)).await
}

/// The plan with Route 53 read now (read-only): the exact JSON that would be sent.
pub async fn plan(spec: &Route53Change) -> Vec<String> {
    let client = client(spec).await;
    match &spec.mode {
        Mode::Upsert { toward, .. } => {
            let decided = match read_pair(&client, spec).await {
                Ok(pair) => swap(&pair, spec, toward).map(|s| (pair, s)),
                Err(e) => Err(e),
            };
            let mut lines = upsert_head(spec, toward);
            match decided {
                Ok((_, Some(sets))) => {
                    lines.push("ChangeBatch JSON, exactly as it would be sent now:".into());
                    let text = comment(toward, &sets[0]);
                    lines.extend(batch_json(&text, &sets, spec.record_type).lines(2));
                }
                Ok((pair, None)) => lines.push(format!(
                    "nothing to send now: {}'s set is already PRIMARY ({})",
                    toward.label,
                    pair.roles()
                )),
                Err(e) => {
                    let mut fallback = failover_core::kinds::route53::describe(spec);
                    fallback.insert(2, format!("cannot read Route 53 now: {e}"));
                    return fallback;
                }
            }
            lines.extend(upsert_tail(spec, toward));
            lines
        }
        Mode::HealthCheck { disabled, id } => {
            let mut lines = check_head(spec, *disabled, id.as_deref());
            match resolve_check(&client, spec, id.as_deref()).await {
                Ok(check) if check.disabled == *disabled => lines.push(format!(
                    "nothing to send now: health check {} ({}) is already {}",
                    check.id,
                    check.whose,
                    word(*disabled)
                )),
                Ok(check) => {
                    lines.push(format!(
                        "UpdateHealthCheck JSON, exactly as it would be sent now ({} is {} now):",
                        check.whose,
                        word(check.disabled)
                    ));
                    lines.extend(check_request(&check.id, Some(check.version), *disabled).lines(2));
                }
                Err(e) => {
                    let mut fallback = failover_core::kinds::route53::describe(spec);
                    fallback.insert(3, format!("cannot read Route 53 now: {e}"));
                    return fallback;
                }
            }
            lines.push(check_tail(*disabled));
            lines
        }
    }
}

// ------------------------------------------------------------------------------------------------
// preflight / execute / read back
// ------------------------------------------------------------------------------------------------

/// What would stop it, read-only: credentials, the zone, the pair, which set is the target's.
pub async fn preflight(spec: &Route53Change) -> Vec<String> {
    let client = client(spec).await;
    let result = match &spec.mode {
        Mode::Upsert { toward, .. } => match read_pair(&client, spec).await {
            Ok(pair) => toward_is_primary(&pair, spec, toward).map(|_| ()),
            Err(e) => Err(e),
        },
        Mode::HealthCheck { id, .. } => resolve_check(&client, spec, id.as_deref())
            .await
            .map(|_| ()),
    };
    result.err().into_iter().collect()
}

pub async fn execute(spec: &Route53Change, output: &OutputSink) -> Outcome {
    match &spec.mode {
        Mode::Upsert { toward, .. } => upsert(spec, toward, output).await,
        Mode::HealthCheck { disabled, id } => {
            set_check(spec, *disabled, id.as_deref(), output).await
        }
    }
}

/// A future cut off at the deadline (None).
async fn before<T>(deadline: Instant, f: impl Future<Output = T>) -> Option<T> {
    tokio::time::timeout_at(deadline, f).await.ok()
}

async fn upsert(spec: &Route53Change, toward: &SiteAnswers, output: &OutputSink) -> Outcome {
    let started = Instant::now();
    let deadline = started + failover_core::text::wait(spec.timeout);
    let client = client(spec).await;
    let pair = match read_pair(&client, spec).await {
        Ok(p) => p,
        Err(e) => return Outcome::Failed(format!("{e}; nothing sent")),
    };
    let sets = match swap(&pair, spec, toward) {
        Ok(Some(sets)) => sets,
        Ok(None) => {
            return Outcome::Ok(format!(
                "{}'s set is already PRIMARY ({}): nothing sent",
                toward.label,
                pair.roles()
            ));
        }
        Err(e) => return Outcome::Failed(format!("{e}; nothing sent")),
    };
    let text = comment(toward, &sets[0]);
    let batch = match batch_sdk(&text, &sets, spec.record_type) {
        Ok(b) => b,
        Err(e) => {
            return Outcome::Failed(format!("cannot build the ChangeBatch: {e}; nothing sent"));
        }
    };
    let _ = output
        .send(format!(
            "ChangeResourceRecordSets {}",
            batch_json(&text, &sets, spec.record_type).flat()
        ))
        .await;
    let sent = client
        .change_resource_record_sets()
        .hosted_zone_id(&spec.zone_id)
        .change_batch(batch)
        .send()
        .await;
    let info = match sent {
        Ok(out) => out.change_info,
        Err(e) => {
            return match write_error(e, &spec.aws, call_timeout(spec.timeout)) {
                WriteError::NotSent(m) => {
                    Outcome::Failed(format!("ChangeResourceRecordSets refused: {m}"))
                }
                WriteError::Unknown(m) => Outcome::Unknown(format!(
                    "no answer to ChangeResourceRecordSets ({m}): the change may have been applied; read back"
                )),
            };
        }
    };
    let Some(info) = info else {
        return Outcome::Unknown(
            "ChangeResourceRecordSets answered without a ChangeInfo: read back".into(),
        );
    };
    let id = info.id.trim_start_matches("/change/").to_string();
    let moved = format!(
        "{}'s set {} PRIMARY, {} SECONDARY",
        toward.label, sets[0].set_identifier, sets[1].set_identifier
    );
    let mut status = info.status.clone();
    let mut last_error = None;
    let _ = output
        .send(format!("change {id}: {}", status.as_str()))
        .await;
    loop {
        if status == ChangeStatus::Insync {
            return Outcome::Ok(format!(
                "change {id} INSYNC after {}: {moved}",
                human(started.elapsed())
            ));
        }
        let now = Instant::now();
        if now >= deadline {
            let why = match &last_error {
                Some(e) => format!("last GetChange failed: {e}"),
                None => format!("last status {}", status.as_str()),
            };
            return Outcome::Unknown(format!(
                "ChangeBatch accepted (change {id}) but not INSYNC after {} ({why}): read back",
                human(started.elapsed())
            ));
        }
        tokio::time::sleep_until((now + poll_every(spec.timeout)).min(deadline)).await;
        match before(deadline, client.get_change().id(&id).send()).await {
            Some(Ok(out)) => {
                last_error = None;
                if let Some(i) = out.change_info() {
                    if i.status != status {
                        let _ = output
                            .send(format!(
                                "change {id}: {} after {}",
                                i.status.as_str(),
                                human(started.elapsed())
                            ))
                            .await;
                    }
                    status = i.status.clone();
                }
            }
            Some(Err(e)) => last_error = Some(read_error(e, &spec.aws, call_timeout(spec.timeout))),
            None => {}
        }
    }
}

pub async fn read_back(spec: &Route53Change) -> ReadBack {
    let client = client(spec).await;
    match &spec.mode {
        Mode::Upsert { toward, .. } => {
            let pair = match read_pair(&client, spec).await {
                Ok(p) => p,
                Err(e) => return ReadBack::Unreadable(e),
            };
            match toward_is_primary(&pair, spec, toward) {
                Ok(true) => ReadBack::Applied(format!(
                    "{}'s set is PRIMARY: {}",
                    toward.label,
                    pair.roles()
                )),
                Ok(false) => ReadBack::NotApplied(format!(
                    "{}'s set is still SECONDARY: {}",
                    toward.label,
                    pair.roles()
                )),
                Err(e) => ReadBack::Unreadable(e),
            }
        }
        Mode::HealthCheck { disabled, id } => {
            match resolve_check(&client, spec, id.as_deref()).await {
                Ok(check) if check.disabled == *disabled => ReadBack::Applied(format!(
                    "health check {} ({}) is {} (GetHealthCheck Disabled={})",
                    check.id,
                    check.whose,
                    word(check.disabled),
                    check.disabled
                )),
                Ok(check) => ReadBack::NotApplied(format!(
                    "health check {} ({}) is still {}",
                    check.id,
                    check.whose,
                    word(check.disabled)
                )),
                Err(e) => ReadBack::Unreadable(e),
            }
        }
    }
}
