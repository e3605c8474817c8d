//! The route53 action's pure half: what it changes, how the plan shows it, and which set of a
//! failover pair is a site's. The binary reads and writes Route 53 with the same `FailoverSet`s,
//! so that what is shown is what is sent.

use std::time::Duration;

use crate::kinds::aws::{AwsSettings, human, poll_every, where_text};
use crate::kinds::dns::{RecordType, normalise_answer};
use crate::kinds::json_text::Json;

pub const AT_RUN_TIME: &str = "(as read at run time)";
/// Route 53 is global; its API lives in us-east-1 unless told otherwise.
pub const ROUTE53_REGION: &str = "us-east-1";

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

/// Said in the plan of a disable: the mode is easily mistaken for a way to fail over.
const DISABLED_IS_HEALTHY: &str = "Route 53 treats a disabled health check as HEALTHY: its record set keeps answering whatever its endpoint says";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Primary,
    Secondary,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Primary => "PRIMARY",
            Role::Secondary => "SECONDARY",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Alias {
    pub hosted_zone_id: String,
    pub dns_name: String,
    pub evaluate_target_health: bool,
}

/// One failover record set with every field a failover set can carry, as Route 53 returned it.
#[derive(Debug, Clone, PartialEq)]
pub struct FailoverSet {
    pub name: String,
    pub set_identifier: String,
    pub role: Role,
    pub ttl: Option<i64>,
    pub values: Vec<String>,
    pub alias: Option<Alias>,
    pub health_check_id: Option<String>,
}

impl FailoverSet {
    pub fn with_role(&self, role: Role) -> FailoverSet {
        FailoverSet {
            role,
            ..self.clone()
        }
    }
    /// "site-b [10.0.2.100]" or "site-b [alias to x.elb.amazonaws.com.]".
    pub fn short(&self) -> String {
        match &self.alias {
            Some(a) => format!("{} [alias to {}]", self.set_identifier, a.dns_name),
            None => format!("{} [{}]", self.set_identifier, self.values.join(", ")),
        }
    }
    pub fn json(&self, record_type: RecordType) -> Json {
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
}

pub fn records_json(values: &[String]) -> Json {
    Json::Arr(
        values
            .iter()
            .map(|v| Json::Obj(vec![("Value", Json::str(v))]))
            .collect(),
    )
}
/// The failover pair as read now.
#[derive(Debug, Clone)]
pub struct Pair {
    pub primary: FailoverSet,
    pub secondary: FailoverSet,
}

impl Pair {
    pub fn roles(&self) -> String {
        format!(
            "PRIMARY {}, SECONDARY {}",
            self.primary.short(),
            self.secondary.short()
        )
    }
}

/// Route 53 escapes some characters in names as \ooo octal; we compare lower case with a dot.
pub fn same_name(returned: &str, wanted: &str) -> bool {
    let r = returned.trim().to_ascii_lowercase();
    let r = if r.ends_with('.') { r } else { format!("{r}.") };
    r.replace("\\052", "*") == wanted
}
/// Whether every value of the set is one of the site's answers.
pub fn holds(set: &FailoverSet, record_type: RecordType, site: &SiteAnswers) -> bool {
    !set.values.is_empty()
        && set
            .values
            .iter()
            .all(|v| site.values.contains(&normalise_answer(record_type, v)))
}
/// Which set is the target site's: true = the PRIMARY already is.
pub fn toward_is_primary(
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
pub fn swap(
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
pub fn comment(toward: &SiteAnswers, set: &FailoverSet) -> String {
    format!(
        "failover-console: {}'s set {} PRIMARY",
        toward.label, set.set_identifier
    )
}
pub fn batch_json(comment: &str, sets: &[FailoverSet], record_type: RecordType) -> Json {
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
/// The batch as config knows it before anything is read.
pub fn preview_json(spec: &Route53Change, toward: &SiteAnswers, others: &[SiteAnswers]) -> Json {
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
pub fn upsert_head(spec: &Route53Change, toward: &SiteAnswers) -> Vec<String> {
    vec![
        format!(
            "Route 53 UPSERT {} {} in zone {}: {}'s set becomes PRIMARY, the other SECONDARY, in one ChangeBatch",
            spec.name, spec.record_type, spec.zone_id, toward.label
        ),
        where_text(&spec.aws, Some(ROUTE53_REGION)),
    ]
}
pub fn upsert_tail(spec: &Route53Change, toward: &SiteAnswers) -> Vec<String> {
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
pub fn check_head(spec: &Route53Change, disabled: bool, id: Option<&str>) -> Vec<String> {
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
pub fn check_request(id: &str, version: Option<i64>, disabled: bool) -> Json {
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
pub fn check_tail(disabled: bool) -> String {
    format!("read back: GetHealthCheck shows Disabled={disabled}")
}
pub fn word(disabled: bool) -> &'static str {
    if disabled { "disabled" } else { "enabled" }
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

    #[test]
    fn names_compare_lower_case_with_the_dot() {
        assert!(same_name("API.failover.test.", "api.failover.test."));
        assert!(same_name("api.failover.test", "api.failover.test."));
        assert!(same_name("\\052.failover.test.", "*.failover.test."));
        assert!(!same_name("www.failover.test.", "api.failover.test."));
    }
}
