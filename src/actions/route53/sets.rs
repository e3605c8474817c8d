//! The failover pair as Route 53 holds it: reading it, telling which set is a site's, and the
//! UPSERT that swaps the roles, as JSON for the plan and as the SDK's ChangeBatch, both built from
//! the same `FailoverSet`s so that what is shown is what is sent.

use aws_sdk_route53::Client;
use aws_sdk_route53::types::{
    AliasTarget, Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet,
    ResourceRecordSetFailover, RrType,
};

use super::{AT_RUN_TIME, Route53Change, SiteAnswers};
use crate::actions::aws::{call_timeout, read_error};
use crate::actions::json_text::Json;
use crate::config::{RecordType, normalise_answer};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    Primary,
    Secondary,
}

impl Role {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Role::Primary => "PRIMARY",
            Role::Secondary => "SECONDARY",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Alias {
    hosted_zone_id: String,
    dns_name: String,
    evaluate_target_health: bool,
}

/// One failover record set with every field a failover set can carry, as Route 53 returned it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct FailoverSet {
    pub(super) name: String,
    pub(super) set_identifier: String,
    pub(super) role: Role,
    pub(super) ttl: Option<i64>,
    pub(super) values: Vec<String>,
    pub(super) alias: Option<Alias>,
    pub(super) health_check_id: Option<String>,
}

impl FailoverSet {
    pub(super) fn from_sdk(set: &ResourceRecordSet) -> Result<FailoverSet, String> {
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

    pub(super) fn with_role(&self, role: Role) -> FailoverSet {
        FailoverSet {
            role,
            ..self.clone()
        }
    }

    /// "site-b [10.0.2.100]" or "site-b [alias to x.elb.amazonaws.com.]".
    pub(super) fn short(&self) -> String {
        match &self.alias {
            Some(a) => format!("{} [alias to {}]", self.set_identifier, a.dns_name),
            None => format!("{} [{}]", self.set_identifier, self.values.join(", ")),
        }
    }

    pub(super) fn json(&self, record_type: RecordType) -> Json {
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

    pub(super) fn to_sdk(&self, record_type: RecordType) -> Result<ResourceRecordSet, String> {
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
pub(super) struct Pair {
    pub(super) primary: FailoverSet,
    pub(super) secondary: FailoverSet,
}

impl Pair {
    pub(super) fn roles(&self) -> String {
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

pub(super) async fn read_pair(client: &Client, spec: &Route53Change) -> Result<Pair, String> {
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
pub(super) fn toward_is_primary(
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
pub(super) fn swap(
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

pub(super) fn comment(toward: &SiteAnswers, set: &FailoverSet) -> String {
    format!(
        "failover-console: {}'s set {} PRIMARY",
        toward.label, set.set_identifier
    )
}

pub(super) fn batch_json(comment: &str, sets: &[FailoverSet], record_type: RecordType) -> Json {
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

pub(super) fn batch_sdk(
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
pub(super) fn preview_json(
    spec: &Route53Change,
    toward: &SiteAnswers,
    others: &[SiteAnswers],
) -> Json {
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::Mode;
    use super::*;
    use crate::config::AwsSettings;

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
}
