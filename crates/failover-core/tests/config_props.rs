//! Property tests of the config loader and validator: no input makes it panic, and a config it
//! accepts holds every duration within its documented bounds (issue 15).

use std::path::Path;
use std::time::Duration;

use failover_core::config::{self, Config, ConfigError, Drivers, Dsn};
use failover_core::runbook::StepKind;
use proptest::prelude::*;

/// The binary reads DSNs with tokio-postgres; here any DSN is taken as it is.
struct AnyDsn;

impl Drivers for AnyDsn {
    fn postgres_dsn(&self, dsn: &str) -> Result<Dsn, String> {
        Ok(Dsn {
            endpoint: dsn.to_string(),
            target: dsn.to_string(),
            has_password: false,
        })
    }
}

fn parse(text: &str) -> Result<Config, ConfigError> {
    let result = config::parse(text, Path::new("props.toml"), &AnyDsn);
    if let Err(e) = &result {
        // Rendering the error (excerpt and caret) must not panic either.
        let _ = e.to_string();
    }
    result
}

const DAY: Duration = Duration::from_secs(86_400);
const HOUR: Duration = Duration::from_secs(3_600);

const HEADERS: &[&str] = &[
    "[console]",
    "[sites.primary]",
    "[sites.secondary]",
    "[[health]]",
    "[[database]]",
    "[[database.member]]",
    "[[dns]]",
    "[dns.answers]",
    "[aws]",
    "[[cloudwatch]]",
    "[[rds]]",
    "[[route53]]",
    "[[alarm]]",
    "[[runbook]]",
    "[[runbook.step]]",
    "[war-room]",
];

const KEYS: &[&str] = &[
    "name",
    "site",
    "label",
    "http",
    "tcp",
    "interval",
    "timeout",
    "period",
    "max-age",
    "lag-period",
    "lag-max-age",
    "max-lag",
    "lease",
    "kind",
    "dsn",
    "members",
    "user",
    "password-env",
    "resolvers",
    "primary",
    "secondary",
    "endpoint-url",
    "region",
    "namespace",
    "metric",
    "warn",
    "crit",
    "expect-status",
    "failure-threshold",
    "journal",
    "action",
    "gate",
    "title",
    "from",
    "to",
    "database",
    "record",
    "etcd",
    "prefix",
    "command",
];

fn duration_text() -> impl Strategy<Value = String> {
    (
        any::<u64>(),
        prop::sample::select(vec!["ns", "us", "ms", "s", "m", "h", "d", "w", "y", ""]),
        prop::sample::select(vec!["", " ", " 1ms", "x"]),
    )
        .prop_map(|(n, unit, tail)| format!("{n}{unit}{tail}"))
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        duration_text().prop_map(|d| format!("{d:?}")),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| format!("{f:?}")),
        any::<bool>().prop_map(|b| b.to_string()),
        "[a-z:/.0-9@?=%_-]{0,30}".prop_map(|s| format!("{s:?}")),
        prop::sample::select(vec![
            "\"primary\"",
            "\"secondary\"",
            "\"http://127.0.0.1:1/x\"",
            "\"https://u:p@h/x?token=t\"",
            "\"patroni\"",
            "\"postgres\"",
            "[\"127.0.0.1:53\"]",
            "[\"http://127.0.0.1:8008\"]",
            "{ primary = \"10.0.0.1\" }",
            "\"",
            "[",
        ])
        .prop_map(str::to_string),
    ]
}

fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(HEADERS.to_vec()).prop_map(str::to_string),
        (prop::sample::select(KEYS.to_vec()), value()).prop_map(|(k, v)| format!("{k} = {v}")),
        ".{0,40}",
    ]
}

/// A config that is valid with every `{...}` filled in with a duration string.
fn with_durations(d: &[String; 9]) -> String {
    format!(
        r#"[sites.primary]
[sites.secondary]
[aws]
region = "us-east-1"
[[health]]
name = "api"
site = "primary"
http = "http://127.0.0.1:18081/healthz"
interval = {:?}
timeout = {:?}
[[database]]
name = "lab"
kind = "patroni"
members = ["http://127.0.0.1:18008"]
sites = {{ p1 = "primary", p2 = "secondary" }}
interval = {:?}
timeout = {:?}
[[cloudwatch]]
name = "canary"
namespace = "Lab"
metric = "Ok"
warn = 95
crit = 90
period = {:?}
max-age = {:?}
interval = {:?}
timeout = {:?}
[[runbook]]
name = "switchover"
from = "primary"
to = "secondary"
[[runbook.step]]
title = "Switch over"
action = "patroni-switchover"
database = "lab"
timeout = {:?}
"#,
        d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8]
    )
}

const KEY_NAMES: [&str; 9] = [
    "health interval",
    "health timeout",
    "patroni interval",
    "patroni timeout",
    "cloudwatch period",
    "cloudwatch max-age",
    "cloudwatch interval",
    "cloudwatch timeout",
    "step timeout",
];

/// Each key's documented range (README), where it is a plain range (with the template's other
/// values: max-age at least the 1s period).
const RANGES: [Option<(Duration, Duration)>; 9] = [
    Some((Duration::from_millis(100), DAY)),
    Some((Duration::from_millis(10), HOUR)),
    Some((Duration::from_millis(100), DAY)),
    Some((Duration::from_millis(10), HOUR)),
    None,
    Some((Duration::from_secs(1), DAY)),
    Some((Duration::from_secs(1), DAY)),
    Some((Duration::from_millis(100), HOUR)),
    None,
];

fn valid_durations() -> [String; 9] {
    std::array::from_fn(|_| "1s".to_string())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_text_is_refused_or_taken_without_a_panic(text in ".{0,400}") {
        let _ = parse(&text);
    }

    #[test]
    fn toml_ish_lines_are_refused_or_taken_without_a_panic(
        lines in prop::collection::vec(line(), 0..30)
    ) {
        let _ = parse(&lines.join("\n"));
    }

    /// One duration at a time, anything written: taken exactly when it reads as a duration
    /// within its key's range, and then read as written; what is computed from it saturates.
    #[test]
    fn a_duration_is_taken_exactly_within_its_range_and_read_as_written(
        key in 0usize..9,
        text in prop_oneof![
            duration_text(),
            (0u64..200_000).prop_map(|s| format!("{s}s")),
            (0u64..5_000_000).prop_map(|ms| format!("{ms}ms")),
            (0u64..30, prop::sample::select(vec!["m", "h", "d"])).prop_map(|(n, u)| format!("{n}{u}")),
        ]
    ) {
        let mut d = valid_durations();
        d[key] = text.clone();
        let result = parse(&with_durations(&d));
        let written = humantime::parse_duration(&text).ok();
        if let Some((low, high)) = RANGES[key] {
            let in_range = written.is_some_and(|w| (low..=high).contains(&w));
            prop_assert_eq!(result.is_ok(), in_range, "{} = {:?}: {:?}", KEY_NAMES[key], text, result.as_ref().err().map(|e| e.to_string()));
        }
        let Ok(c) = result else { return Ok(()) };
        let h = &c.kinds.health[0];
        let p = &c.kinds.patroni[0];
        let w = &c.kinds.cloudwatch[0];
        let StepKind::Action(a) = &c.runbooks[0].steps[0].kind else {
            panic!("the step is an action")
        };
        let read = [h.interval, h.timeout, p.interval, p.timeout, w.period, w.max_age, w.interval, w.timeout, a.spec.timeout()];
        prop_assert_eq!(Some(read[key]), written);
        prop_assert!(read.iter().all(|r| *r <= DAY));
        prop_assert!(h.timeout <= HOUR && p.timeout <= HOUR && w.timeout <= HOUR);
        prop_assert!(c.longest_timeout() <= 2 * HOUR + Duration::from_secs(1));
        prop_assert!(a.spec.max_duration() >= a.spec.timeout());
        let _ = a.spec.max_read_back();
    }

    #[test]
    fn out_of_range_durations_are_refused_naming_the_range(
        secs in (DAY.as_secs() + 1)..=u64::MAX,
        key in 0usize..9,
    ) {
        let mut d = valid_durations();
        d[key] = format!("{secs}s");
        let e = parse(&with_durations(&d)).unwrap_err();
        prop_assert!(e.message.contains("too long: expected at most 1d"), "{}", e);
    }
}

/// The base of the duration properties is itself a valid config (else they would prove nothing).
#[test]
fn the_duration_template_is_valid_as_is() {
    let c = parse(&with_durations(&valid_durations())).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.kinds.health[0].interval, Duration::from_secs(1));
    assert_eq!(c.runbooks[0].steps.len(), 1);
}
