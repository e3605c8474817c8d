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

mod health_check;
mod sets;

use std::future::Future;
use std::time::Duration;

use aws_sdk_route53::Client;
use aws_sdk_route53::types::ChangeStatus;
use tokio::time::Instant;

use self::health_check::{check_head, check_request, check_tail, resolve_check, set_check, word};
use self::sets::{
    batch_json, batch_sdk, comment, preview_json, read_pair, swap, toward_is_primary,
};
use super::aws::{
    WriteError, call_timeout, human, poll_every, read_error, where_text, write_error,
};
use super::{Outcome, OutputSink, ReadBack};
use crate::config::{AwsSettings, RecordType};

pub(super) const AT_RUN_TIME: &str = "(as read at run time)";
/// Route 53 is global; its API lives in us-east-1 unless told otherwise.
pub(super) const ROUTE53_REGION: &str = "us-east-1";

#[derive(Debug, Clone, PartialEq)]
pub struct Route53Change {
    /// Fully qualified, lower case, with the trailing dot.
    pub name: String,
    pub zone_id: String,
    pub record_type: RecordType,
    pub aws: AwsSettings,
    pub mode: Mode,
    pub timeout: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// `toward`'s set becomes PRIMARY, the other SECONDARY. `others`: the other sites' answers,
    /// for the plan only.
    Upsert {
        toward: SiteAnswers,
        others: Vec<SiteAnswers>,
    },
    /// UpdateHealthCheck Disabled=`disabled` on `id`, or on the PRIMARY set's health check.
    HealthCheck { disabled: bool, id: Option<String> },
}

#[derive(Debug, Clone, PartialEq)]
pub struct SiteAnswers {
    pub label: String,
    /// Normalised like the DNS pane's answers.
    pub values: Vec<String>,
}

// ------------------------------------------------------------------------------------------------
// describe / plan
// ------------------------------------------------------------------------------------------------

pub(super) async fn client(spec: &Route53Change) -> Client {
    crate::sources::route53::client(&spec.aws, call_timeout(spec.timeout)).await
}

fn upsert_head(spec: &Route53Change, toward: &SiteAnswers) -> Vec<String> {
    vec![
        format!(
            "Route 53 UPSERT {} {} in zone {}: {}'s set becomes PRIMARY, the other SECONDARY, in one ChangeBatch",
            spec.name, spec.record_type, spec.zone_id, toward.label
        ),
        where_text(&spec.aws, Some(ROUTE53_REGION)),
    ]
}

fn upsert_tail(spec: &Route53Change, toward: &SiteAnswers) -> Vec<String> {
    vec![
        format!(
            "then GetChange every {} until INSYNC, up to {} (not INSYNC by then: outcome unknown, read back)",
            human(poll_every(spec.timeout)),
            human(spec.timeout)
        ),
        format!(
            "read back: ListResourceRecordSets shows {}'s set PRIMARY",
            toward.label
        ),
    ]
}

/// The plan from config alone: the ChangeBatch with what config knows (name, type, roles, the
/// `[[dns]]` answers); set ids, TTL and health checks are read at run time.
pub fn describe(spec: &Route53Change) -> Vec<String> {
    match &spec.mode {
        Mode::Upsert { toward, others } => {
            let mut lines = upsert_head(spec, toward);
            lines.push(
                "ChangeBatch JSON (each set keeps its own values, TTL and health check as read at run time):"
                    .into(),
            );
            lines.extend(preview_json(spec, toward, others).lines(2));
            lines.extend(upsert_tail(spec, toward));
            lines
        }
        Mode::HealthCheck { disabled, id } => {
            let mut lines = check_head(spec, *disabled, id.as_deref());
            lines.push("UpdateHealthCheck JSON:".into());
            let shown_id = id
                .as_deref()
                .unwrap_or("(the PRIMARY set's, as read at run time)");
            lines.extend(check_request(shown_id, None, *disabled).lines(2));
            lines.push(check_tail(*disabled));
            lines
        }
    }
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
                    let mut fallback = describe(spec);
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
                    let mut fallback = describe(spec);
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
    let deadline = started + spec.timeout;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(mode: Mode) -> Route53Change {
        Route53Change {
            name: "api.failover.test.".into(),
            zone_id: "Z123".into(),
            record_type: RecordType::A,
            aws: AwsSettings {
                region: None,
                profile: Some("ops".into()),
                endpoint_url: None,
            },
            mode,
            timeout: Duration::from_secs(60),
        }
    }

    fn site(label: &str, ip: &str) -> SiteAnswers {
        SiteAnswers {
            label: label.into(),
            values: vec![ip.into()],
        }
    }

    #[test]
    fn describe_shows_the_batch_config_knows_and_says_what_is_read_later() {
        let lines = describe(&spec(Mode::Upsert {
            toward: site("site B", "10.0.2.100"),
            others: vec![site("site A", "10.0.1.100")],
        }));
        assert_eq!(
            lines[0],
            "Route 53 UPSERT api.failover.test. A in zone Z123: site B's set becomes PRIMARY, the other SECONDARY, in one ChangeBatch"
        );
        assert_eq!(lines[1], "AWS: region us-east-1 (default), profile ops");
        let json: Vec<&str> = lines
            .iter()
            .filter(|l| l.starts_with("  "))
            .map(String::as_str)
            .collect();
        let value: serde_json::Value = serde_json::from_str(&json.join("\n")).unwrap();
        let changes = &value["Changes"];
        assert_eq!(changes[0]["ResourceRecordSet"]["Failover"], "PRIMARY");
        assert_eq!(
            changes[0]["ResourceRecordSet"]["ResourceRecords"][0]["Value"],
            "10.0.2.100"
        );
        assert_eq!(changes[1]["ResourceRecordSet"]["Failover"], "SECONDARY");
        assert_eq!(
            changes[1]["ResourceRecordSet"]["ResourceRecords"][0]["Value"],
            "10.0.1.100"
        );
        assert_eq!(changes[1]["ResourceRecordSet"]["TTL"], AT_RUN_TIME);
        assert!(lines.iter().all(|l| l.chars().count() <= 120), "{lines:#?}");
        assert!(
            lines
                .last()
                .unwrap()
                .contains("ListResourceRecordSets shows site B's set PRIMARY")
        );
    }

    #[test]
    fn disabling_says_plainly_that_disabled_means_healthy() {
        let lines = describe(&spec(Mode::HealthCheck {
            disabled: true,
            id: None,
        }));
        assert!(lines[0].starts_with("Route 53 UpdateHealthCheck Disabled=true on the health check of api.failover.test. A's PRIMARY set"));
        assert!(
            lines[1].contains("treats a disabled health check as HEALTHY"),
            "{lines:#?}"
        );
        let given = describe(&spec(Mode::HealthCheck {
            disabled: false,
            id: Some("abc".into()),
        }));
        assert_eq!(
            given[0],
            "Route 53 UpdateHealthCheck Disabled=false on health check abc"
        );
        assert!(
            given
                .iter()
                .any(|l| l.contains("\"HealthCheckId\": \"abc\"")),
            "{given:#?}"
        );
    }
}
