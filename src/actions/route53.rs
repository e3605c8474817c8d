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
use std::time::Duration;

use aws_sdk_route53::Client;
use aws_sdk_route53::types::{
    AliasTarget, Change, ChangeAction, ChangeBatch, ChangeStatus, ResourceRecord,
    ResourceRecordSet, ResourceRecordSetFailover, RrType,
};
use tokio::time::Instant;

use super::aws::{
    WriteError, call_timeout, human, poll_every, read_error, where_text, write_error,
};
use super::json_text::Json;
use super::{Outcome, OutputSink, ReadBack};
use crate::config::{AwsSettings, RecordType, normalise_answer};

const AT_RUN_TIME: &str = "(as read at run time)";
/// Route 53 is global; its API lives in us-east-1 unless told otherwise.
const ROUTE53_REGION: &str = "us-east-1";
const DISABLED_IS_HEALTHY: &str = "Route 53 treats a disabled health check as HEALTHY: its record set keeps answering whatever its endpoint says";

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
// the record sets as read
// ------------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Primary,
    Secondary,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Primary => "PRIMARY",
            Role::Secondary => "SECONDARY",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Alias {
    hosted_zone_id: String,
    dns_name: String,
    evaluate_target_health: bool,
}

/// One failover record set with every field a failover set can carry, as Route 53 returned it.
#[derive(Debug, Clone, PartialEq)]
struct FailoverSet {
    name: String,
    set_identifier: String,
    role: Role,
    ttl: Option<i64>,
    values: Vec<String>,
    alias: Option<Alias>,
    health_check_id: Option<String>,
}

impl FailoverSet {
    fn from_sdk(set: &ResourceRecordSet) -> Result<FailoverSet, String> {
        let id = set.set_identifier.clone().unwrap_or_default();
        let role = match set.failover.as_ref().map(|f| f.as_str()) {
            Some("PRIMARY") => Role::Primary,
            Some("SECONDARY") => Role::Secondary,
            _ => {
                return Err(format!(
                    "set {id:?} has no failover routing: a route53 action changes a failover pair"
                ));
            }
        };
        let other_routing = set.weight.is_some()
            || set.region.is_some()
            || set.geo_location.is_some()
            || set.multi_value_answer.is_some()
            || set.traffic_policy_instance_id.is_some()
            || set.cidr_routing_config.is_some()
            || set.geo_proximity_location.is_some();
        if other_routing {
            return Err(format!(
                "set {id} carries routing fields besides failover: the console does not rewrite it"
            ));
        }
        Ok(FailoverSet {
            name: set.name.clone(),
            set_identifier: id,
            role,
            ttl: set.ttl,
            values: set
                .resource_records()
                .iter()
                .map(|r| r.value().to_string())
                .collect(),
            alias: set.alias_target.as_ref().map(|a| Alias {
                hosted_zone_id: a.hosted_zone_id.clone(),
                dns_name: a.dns_name.clone(),
                evaluate_target_health: a.evaluate_target_health,
            }),
            health_check_id: set.health_check_id.clone(),
        })
    }

    fn with_role(&self, role: Role) -> FailoverSet {
        FailoverSet {
            role,
            ..self.clone()
        }
    }

    /// "site-b [10.0.2.100]" or "site-b [alias to x.elb.amazonaws.com.]".
    fn short(&self) -> String {
        match &self.alias {
            Some(a) => format!("{} [alias to {}]", self.set_identifier, a.dns_name),
            None => format!("{} [{}]", self.set_identifier, self.values.join(", ")),
        }
    }

    fn json(&self, record_type: RecordType) -> Json {
        let mut fields = vec![
            ("Name", Json::str(&self.name)),
            ("Type", Json::str(record_type.to_string())),
            ("SetIdentifier", Json::str(&self.set_identifier)),
            ("Failover", Json::str(self.role.as_str())),
        ];
        if let Some(ttl) = self.ttl {
            fields.push(("TTL", Json::Num(ttl)));
        }
        match &self.alias {
            Some(a) => fields.push((
                "AliasTarget",
                Json::Obj(vec![
                    ("HostedZoneId", Json::str(&a.hosted_zone_id)),
                    ("DNSName", Json::str(&a.dns_name)),
                    ("EvaluateTargetHealth", Json::Bool(a.evaluate_target_health)),
                ]),
            )),
            None => fields.push(("ResourceRecords", records_json(&self.values))),
        }
        if let Some(id) = &self.health_check_id {
            fields.push(("HealthCheckId", Json::str(id)));
        }
        Json::Obj(fields)
    }

    fn to_sdk(&self, record_type: RecordType) -> Result<ResourceRecordSet, String> {
        let mut set = ResourceRecordSet::builder()
            .name(&self.name)
            .r#type(rr_type(record_type))
            .set_identifier(&self.set_identifier)
            .failover(match self.role {
                Role::Primary => ResourceRecordSetFailover::Primary,
                Role::Secondary => ResourceRecordSetFailover::Secondary,
            })
            .set_ttl(self.ttl)
            .set_health_check_id(self.health_check_id.clone());
        match &self.alias {
            Some(a) => {
                let target = AliasTarget::builder()
                    .hosted_zone_id(&a.hosted_zone_id)
                    .dns_name(&a.dns_name)
                    .evaluate_target_health(a.evaluate_target_health)
                    .build()
                    .map_err(|e| format!("alias target of {}: {e}", self.set_identifier))?;
                set = set.alias_target(target);
            }
            None => {
                for value in &self.values {
                    let record = ResourceRecord::builder()
                        .value(value)
                        .build()
                        .map_err(|e| format!("value of {}: {e}", self.set_identifier))?;
                    set = set.resource_records(record);
                }
            }
        }
        set.build()
            .map_err(|e| format!("record set {}: {e}", self.set_identifier))
    }
}

fn records_json(values: &[String]) -> Json {
    Json::Arr(
        values
            .iter()
            .map(|v| Json::Obj(vec![("Value", Json::str(v))]))
            .collect(),
    )
}

/// The failover pair as read now.
#[derive(Debug, Clone)]
struct Pair {
    primary: FailoverSet,
    secondary: FailoverSet,
}

impl Pair {
    fn roles(&self) -> String {
        format!(
            "PRIMARY {}, SECONDARY {}",
            self.primary.short(),
            self.secondary.short()
        )
    }
}

fn rr_type(t: RecordType) -> RrType {
    match t {
        RecordType::A => RrType::A,
        RecordType::Aaaa => RrType::Aaaa,
        RecordType::Cname => RrType::Cname,
        RecordType::Txt => RrType::Txt,
    }
}

/// Route 53 escapes some characters in names as \ooo octal; we compare lower case with a dot.
fn same_name(returned: &str, wanted: &str) -> bool {
    let r = returned.trim().to_ascii_lowercase();
    let r = if r.ends_with('.') { r } else { format!("{r}.") };
    r.replace("\\052", "*") == wanted
}

async fn client(spec: &Route53Change) -> Client {
    crate::sources::route53::client(&spec.aws, call_timeout(spec.timeout)).await
}

/// Every record set of the name and type (sorted by name then type: page until past ours).
async fn list_sets(
    client: &Client,
    spec: &Route53Change,
) -> Result<Vec<ResourceRecordSet>, String> {
    let wanted = rr_type(spec.record_type);
    let mut sets = Vec::new();
    let mut next: Option<(String, RrType, Option<String>)> =
        Some((spec.name.clone(), wanted.clone(), None));
    for _ in 0..10 {
        let Some((name, rtype, identifier)) = next.take() else {
            break;
        };
        let page = client
            .list_resource_record_sets()
            .hosted_zone_id(&spec.zone_id)
            .start_record_name(name)
            .start_record_type(rtype)
            .set_start_record_identifier(identifier)
            .max_items(100)
            .send()
            .await
            .map_err(|e| read_error(e, &spec.aws, call_timeout(spec.timeout)))?;
        let mut past = false;
        for set in page.resource_record_sets() {
            if same_name(set.name(), &spec.name) && *set.r#type() == wanted {
                sets.push(set.clone());
            } else if !sets.is_empty() || !same_name(set.name(), &spec.name) {
                past = true;
            }
        }
        if page.is_truncated() && !past {
            next = page.next_record_name().map(|n| {
                (
                    n.to_string(),
                    page.next_record_type().cloned().unwrap_or(wanted.clone()),
                    page.next_record_identifier().map(str::to_string),
                )
            });
        }
    }
    Ok(sets)
}

async fn read_pair(client: &Client, spec: &Route53Change) -> Result<Pair, String> {
    let what = format!(
        "{} {} in zone {}",
        spec.name, spec.record_type, spec.zone_id
    );
    let sets = list_sets(client, spec)
        .await
        .map_err(|e| format!("cannot read {what}: {e}"))?;
    if sets.is_empty() {
        return Err(format!("no record set {what}"));
    }
    let sets: Vec<FailoverSet> = sets
        .iter()
        .map(FailoverSet::from_sdk)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{what}: {e}"))?;
    let of = |role: Role| sets.iter().filter(move |s| s.role == role);
    match (of(Role::Primary).count(), of(Role::Secondary).count()) {
        (1, 1) => Ok(Pair {
            primary: of(Role::Primary).next().cloned().expect("counted"),
            secondary: of(Role::Secondary).next().cloned().expect("counted"),
        }),
        _ => {
            let found: Vec<String> = sets
                .iter()
                .map(|s| format!("{} {}", s.role.as_str(), s.short()))
                .collect();
            Err(format!(
                "{what}: expected one PRIMARY and one SECONDARY set, found {}",
                found.join(", ")
            ))
        }
    }
}

/// Whether every value of the set is one of the site's answers.
fn holds(set: &FailoverSet, record_type: RecordType, site: &SiteAnswers) -> bool {
    !set.values.is_empty()
        && set
            .values
            .iter()
            .all(|v| site.values.contains(&normalise_answer(record_type, v)))
}

/// Which set is the target site's: true = the PRIMARY already is.
fn toward_is_primary(
    pair: &Pair,
    spec: &Route53Change,
    toward: &SiteAnswers,
) -> Result<bool, String> {
    let rt = spec.record_type;
    match (
        holds(&pair.primary, rt, toward),
        holds(&pair.secondary, rt, toward),
    ) {
        (true, false) => Ok(true),
        (false, true) => Ok(false),
        (true, true) => Err(format!(
            "both sets of {} hold {}'s answers ({}): cannot tell which is its ({})",
            spec.name,
            toward.label,
            toward.values.join(", "),
            pair.roles()
        )),
        (false, false) => Err(format!(
            "no set of {} holds {}'s answers ({}) from the [[dns]] record: {}",
            spec.name,
            toward.label,
            toward.values.join(", "),
            pair.roles()
        )),
    }
}

/// The sets to UPSERT (target's first, as PRIMARY), or None when the roles are already right.
fn swap(
    pair: &Pair,
    spec: &Route53Change,
    toward: &SiteAnswers,
) -> Result<Option<[FailoverSet; 2]>, String> {
    if toward_is_primary(pair, spec, toward)? {
        return Ok(None);
    }
    Ok(Some([
        pair.secondary.with_role(Role::Primary),
        pair.primary.with_role(Role::Secondary),
    ]))
}

fn comment(toward: &SiteAnswers, set: &FailoverSet) -> String {
    format!(
        "failover-console: {}'s set {} PRIMARY",
        toward.label, set.set_identifier
    )
}

fn batch_json(comment: &str, sets: &[FailoverSet], record_type: RecordType) -> Json {
    Json::Obj(vec![
        ("Comment", Json::str(comment)),
        (
            "Changes",
            Json::Arr(
                sets.iter()
                    .map(|s| {
                        Json::Obj(vec![
                            ("Action", Json::str("UPSERT")),
                            ("ResourceRecordSet", s.json(record_type)),
                        ])
                    })
                    .collect(),
            ),
        ),
    ])
}

fn batch_sdk(
    comment: &str,
    sets: &[FailoverSet],
    record_type: RecordType,
) -> Result<ChangeBatch, String> {
    let mut batch = ChangeBatch::builder().comment(comment);
    for set in sets {
        let change = Change::builder()
            .action(ChangeAction::Upsert)
            .resource_record_set(set.to_sdk(record_type)?)
            .build()
            .map_err(|e| e.to_string())?;
        batch = batch.changes(change);
    }
    batch.build().map_err(|e| e.to_string())
}

/// The batch as config knows it before anything is read.
fn preview_json(spec: &Route53Change, toward: &SiteAnswers, others: &[SiteAnswers]) -> Json {
    let set = |role: Role, values: Option<&[String]>| {
        Json::Obj(vec![
            ("Action", Json::str("UPSERT")),
            (
                "ResourceRecordSet",
                Json::Obj(vec![
                    ("Name", Json::str(&spec.name)),
                    ("Type", Json::str(spec.record_type.to_string())),
                    ("SetIdentifier", Json::str(AT_RUN_TIME)),
                    ("Failover", Json::str(role.as_str())),
                    ("TTL", Json::str(AT_RUN_TIME)),
                    (
                        "ResourceRecords",
                        match values {
                            Some(v) => records_json(v),
                            None => Json::str(AT_RUN_TIME),
                        },
                    ),
                    ("HealthCheckId", Json::str(AT_RUN_TIME)),
                ]),
            ),
        ])
    };
    let other = match others {
        [one] => Some(one.values.as_slice()),
        _ => None,
    };
    Json::Obj(vec![
        (
            "Comment",
            Json::str(format!(
                "failover-console: {}'s set {AT_RUN_TIME} PRIMARY",
                toward.label
            )),
        ),
        (
            "Changes",
            Json::Arr(vec![
                set(Role::Primary, Some(&toward.values)),
                set(Role::Secondary, other),
            ]),
        ),
    ])
}

// ------------------------------------------------------------------------------------------------
// describe / plan
// ------------------------------------------------------------------------------------------------

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

fn check_head(spec: &Route53Change, disabled: bool, id: Option<&str>) -> Vec<String> {
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

fn check_request(id: &str, version: Option<i64>, disabled: bool) -> Json {
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

fn check_tail(disabled: bool) -> String {
    format!("read back: GetHealthCheck shows Disabled={disabled}")
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

fn word(disabled: bool) -> &'static str {
    if disabled { "disabled" } else { "enabled" }
}

// ------------------------------------------------------------------------------------------------
// health checks
// ------------------------------------------------------------------------------------------------

struct CheckNow {
    id: String,
    /// "the PRIMARY set site-a's health check" or "as configured".
    whose: String,
    version: i64,
    disabled: bool,
}

async fn resolve_check(
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

async fn set_check(
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

    fn set(id: &str, role: Role, ip: &str) -> FailoverSet {
        FailoverSet {
            name: "api.failover.test.".into(),
            set_identifier: id.into(),
            role,
            ttl: Some(60),
            values: vec![ip.into()],
            alias: None,
            health_check_id: Some(format!("hc-{id}")),
        }
    }

    #[test]
    fn swap_moves_roles_never_values() {
        let toward = site("site B", "10.0.2.100");
        let s = spec(Mode::Upsert {
            toward: toward.clone(),
            others: vec![site("site A", "10.0.1.100")],
        });
        let pair = Pair {
            primary: set("site-a", Role::Primary, "10.0.1.100"),
            secondary: set("site-b", Role::Secondary, "10.0.2.100"),
        };
        let [first, second] = swap(&pair, &s, &toward).unwrap().unwrap();
        assert_eq!(first, set("site-b", Role::Primary, "10.0.2.100"));
        assert_eq!(second, set("site-a", Role::Secondary, "10.0.1.100"));
        // Already right: nothing to send.
        assert_eq!(
            swap(&pair, &s, &site("site A", "10.0.1.100")).unwrap(),
            None
        );
        // Neither set holds the answers: refused, naming both.
        let e = swap(&pair, &s, &site("site C", "10.0.3.100")).unwrap_err();
        assert!(
            e.contains("no set of api.failover.test. holds site C's answers (10.0.3.100)"),
            "{e}"
        );
        assert!(
            e.contains("PRIMARY site-a [10.0.1.100], SECONDARY site-b [10.0.2.100]"),
            "{e}"
        );
    }

    #[test]
    fn the_json_and_the_sdk_batch_carry_the_same_sets() {
        let sets = [
            set("site-b", Role::Primary, "10.0.2.100"),
            set("site-a", Role::Secondary, "10.0.1.100"),
        ];
        let json = batch_json("c", &sets, RecordType::A).flat();
        assert_eq!(
            json,
            r#"{"Comment": "c", "Changes": [{"Action": "UPSERT", "ResourceRecordSet": {"Name": "api.failover.test.", "Type": "A", "SetIdentifier": "site-b", "Failover": "PRIMARY", "TTL": 60, "ResourceRecords": [{"Value": "10.0.2.100"}], "HealthCheckId": "hc-site-b"}}, {"Action": "UPSERT", "ResourceRecordSet": {"Name": "api.failover.test.", "Type": "A", "SetIdentifier": "site-a", "Failover": "SECONDARY", "TTL": 60, "ResourceRecords": [{"Value": "10.0.1.100"}], "HealthCheckId": "hc-site-a"}}]}"#
        );
        let batch = batch_sdk("c", &sets, RecordType::A).unwrap();
        let back: Vec<FailoverSet> = batch
            .changes()
            .iter()
            .map(|c| FailoverSet::from_sdk(c.resource_record_set().unwrap()).unwrap())
            .collect();
        assert_eq!(back, sets.to_vec());
        assert_eq!(batch.comment(), Some("c"));
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
