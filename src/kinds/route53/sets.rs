//! Route 53's record sets through the SDK, for the source and the route53 action alike: one
//! name and type's sets, read page by page; a failover pair as the core's `FailoverSet`s; the
//! UPSERT of a pair as the SDK's ChangeBatch, built from the same sets the plan shows.

use aws_sdk_route53::Client;
use aws_sdk_route53::types::{
    AliasTarget, Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet,
    ResourceRecordSetFailover, RrType,
};
use failover_core::kinds::aws::{AwsError, call_timeout};
use failover_core::kinds::dns::RecordType;
use failover_core::kinds::route53::{Alias, FailoverSet, Pair, Role, Route53Change, same_name};

use crate::net::aws::{classify, read_text};

pub fn rr_type(t: RecordType) -> RrType {
    match t {
        RecordType::A => RrType::A,
        RecordType::Aaaa => RrType::Aaaa,
        RecordType::Cname => RrType::Cname,
        RecordType::Txt => RrType::Txt,
    }
}

/// Every record set of the name and type. Record sets come sorted by name then type: page until
/// past ours (a failover pair is two sets, so one page in practice); bounded in case of odd
/// answers.
pub async fn list_sets(
    client: &Client,
    zone_id: &str,
    name: &str,
    record_type: RecordType,
) -> Result<Vec<ResourceRecordSet>, AwsError> {
    let wanted = rr_type(record_type);
    let mut sets = Vec::new();
    let mut next: Option<(String, RrType, Option<String>)> =
        Some((name.to_string(), wanted.clone(), None));
    for _ in 0..10 {
        let Some((start, rtype, identifier)) = next.take() else {
            break;
        };
        let page = client
            .list_resource_record_sets()
            .hosted_zone_id(zone_id)
            .start_record_name(start)
            .start_record_type(rtype)
            .set_start_record_identifier(identifier)
            .max_items(100)
            .send()
            .await
            .map_err(classify)?;
        let mut past = false;
        for set in page.resource_record_sets() {
            if same_name(set.name(), name) && *set.r#type() == wanted {
                sets.push(set.clone());
            } else if !sets.is_empty() || !same_name(set.name(), name) {
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

pub fn from_sdk(set: &ResourceRecordSet) -> Result<FailoverSet, String> {
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

pub fn to_sdk(
    pair_set: &FailoverSet,
    record_type: RecordType,
) -> Result<ResourceRecordSet, String> {
    let mut set = ResourceRecordSet::builder()
        .name(&pair_set.name)
        .r#type(rr_type(record_type))
        .set_identifier(&pair_set.set_identifier)
        .failover(match pair_set.role {
            Role::Primary => ResourceRecordSetFailover::Primary,
            Role::Secondary => ResourceRecordSetFailover::Secondary,
        })
        .set_ttl(pair_set.ttl)
        .set_health_check_id(pair_set.health_check_id.clone());
    match &pair_set.alias {
        Some(a) => {
            let target = AliasTarget::builder()
                .hosted_zone_id(&a.hosted_zone_id)
                .dns_name(&a.dns_name)
                .evaluate_target_health(a.evaluate_target_health)
                .build()
                .map_err(|e| format!("alias target of {}: {e}", pair_set.set_identifier))?;
            set = set.alias_target(target);
        }
        None => {
            for value in &pair_set.values {
                let record = ResourceRecord::builder()
                    .value(value)
                    .build()
                    .map_err(|e| format!("value of {}: {e}", pair_set.set_identifier))?;
                set = set.resource_records(record);
            }
        }
    }
    set.build()
        .map_err(|e| format!("record set {}: {e}", pair_set.set_identifier))
}

pub async fn read_pair(client: &Client, spec: &Route53Change) -> Result<Pair, String> {
    let what = format!(
        "{} {} in zone {}",
        spec.name, spec.record_type, spec.zone_id
    );
    let sets = list_sets(client, &spec.zone_id, &spec.name, spec.record_type)
        .await
        .map_err(|e| {
            let e = read_text(&e, &spec.aws, call_timeout(spec.timeout));
            format!("cannot read {what}: {e}")
        })?;
    if sets.is_empty() {
        return Err(format!("no record set {what}"));
    }
    let sets: Vec<FailoverSet> = sets
        .iter()
        .map(from_sdk)
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
pub fn batch_sdk(
    comment: &str,
    sets: &[FailoverSet],
    record_type: RecordType,
) -> Result<ChangeBatch, String> {
    let mut batch = ChangeBatch::builder().comment(comment);
    for set in sets {
        let change = Change::builder()
            .action(ChangeAction::Upsert)
            .resource_record_set(to_sdk(set, record_type)?)
            .build()
            .map_err(|e| e.to_string())?;
        batch = batch.changes(change);
    }
    batch.build().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {

    use super::*;
    use failover_core::kinds::route53::batch_json;

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
            .map(|c| from_sdk(c.resource_record_set().unwrap()).unwrap())
            .collect();
        assert_eq!(back, sets.to_vec());
        assert_eq!(batch.comment(), Some("c"));
    }
}

/// Record sets as Route 53 could list them, any shape: decoding never panics, takes exactly
/// the failover sets with no other routing, and a decoded set survives the trip to the SDK and
/// back (the UPSERT writes what was read).
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn failover() -> impl Strategy<Value = Option<String>> {
        prop_oneof![
            Just(None),
            Just(Some("PRIMARY".to_string())),
            Just(Some("SECONDARY".to_string())),
            "[A-Za-z]{0,10}".prop_map(Some),
        ]
    }

    prop_compose! {
        fn sdk_set()(
            name in ".{0,30}",
            id in proptest::option::of(".{0,20}"),
            failover in failover(),
            ttl in proptest::option::of(any::<i64>()),
            values in proptest::collection::vec(".{0,40}", 0..5),
            weight in proptest::option::of(any::<i64>()),
            alias in proptest::option::of(("[A-Z0-9]{1,14}", "[a-z.]{1,20}", any::<bool>())),
            check in proptest::option::of("[a-f0-9-]{1,36}"),
        ) -> ResourceRecordSet {
            let mut set = ResourceRecordSet::builder()
                .name(name)
                .r#type(RrType::A)
                .set_set_identifier(id)
                .set_failover(failover.map(|f| ResourceRecordSetFailover::from(f.as_str())))
                .set_ttl(ttl)
                .set_weight(weight)
                .set_health_check_id(check);
            for v in values {
                set = set.resource_records(ResourceRecord::builder().value(v).build().unwrap());
            }
            if let Some((zone, dns, evaluate)) = alias {
                set = set.alias_target(
                    AliasTarget::builder()
                        .hosted_zone_id(zone)
                        .dns_name(dns)
                        .evaluate_target_health(evaluate)
                        .build()
                        .unwrap(),
                );
            }
            set.build().unwrap()
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn record_sets_decode_as_listed(set in sdk_set()) {
            let decoded = from_sdk(&set);
            let is_failover = matches!(
                set.failover().map(|f| f.as_str()),
                Some("PRIMARY") | Some("SECONDARY")
            );
            prop_assert_eq!(decoded.is_ok(), is_failover && set.weight().is_none());
            let Ok(decoded) = decoded else { return Ok(()) };
            prop_assert_eq!(&decoded.name, set.name());
            prop_assert_eq!(decoded.set_identifier.as_str(), set.set_identifier().unwrap_or(""));
            prop_assert_eq!(decoded.ttl, set.ttl());
            let values: Vec<&str> = set.resource_records().iter().map(|r| r.value()).collect();
            prop_assert_eq!(&decoded.values, &values);
            prop_assert_eq!(decoded.health_check_id.as_deref(), set.health_check_id());
            // Back to the SDK and decoded again: the same set (an alias carries no values).
            let again = from_sdk(&to_sdk(&decoded, RecordType::A).expect("to the SDK"));
            let mut expected = decoded.clone();
            if expected.alias.is_some() {
                expected.values.clear();
            }
            prop_assert_eq!(again, Ok(expected));
        }
    }
}
