//! `[[alarm]]` sources in the Health pane, in the verdict, the healthy gate, the timeline and
//! `status --json`, from readings fed through `update` (recorded entries fed back as journaled).
//! Screens as text snapshots at 80x24 and 160x48; alarm names share a long prefix, as real ones do.

#[path = "common/fixture.rs"]
mod fixture;
#[path = "common/screen.rs"]
mod screen;

use std::time::Duration;

use failover_core::app::verdict::{self, Level};
use failover_core::app::{Mode, Model, Msg};
use failover_core::kinds::Observation;
use failover_core::kinds::alarm::{AlarmInfo, AlarmReading, AlarmValue};
use failover_core::kinds::aws::{AwsError, AwsErrorKind};
use failover_core::kinds::health::ProbeOutcome;
use failover_core::runbook::{Gate, evidence};
use failover_core::timeline::{Entry, Severity};
use fixture::{apply, snapshot_both};
use time::OffsetDateTime;
use time::macros::datetime;

const CONFIG: &str = r#"
[console]
title = "orders: site A / site B"

[sites.primary]
label = "site A"
[sites.secondary]
label = "site B"

[[health]]
name = "api-a"
site = "primary"
http = "http://127.0.0.1:18081/healthz"
[[health]]
name = "api-b"
site = "secondary"
http = "http://127.0.0.1:18082/healthz"

[aws]
region = "us-east-1"

[[alarm]]
name = "orders-a"
site = "primary"
alarm-names = ["orders-prod-eu-west-1-site-a-5xx-rate", "orders-prod-eu-west-1-site-a-p99-latency", "orders-prod-eu-west-1-site-a-gone"]

[[alarm]]
name = "orders-b"
site = "secondary"
alarm-prefix = "orders-prod-eu-west-1-site-b-"
"#;

const T0: OffsetDateTime = datetime!(2026-03-01 14:30:00 UTC);
const A: &str = "orders-prod-eu-west-1-site-a-";
const B: &str = "orders-prod-eu-west-1-site-b-";

fn at(secs: f64) -> OffsetDateTime {
    fixture::after(T0, secs)
}

fn alarm(name: &str, state: AlarmValue, reason: &str, since: f64) -> AlarmInfo {
    AlarmInfo {
        name: name.into(),
        state,
        reason: reason.into(),
        since: Some(at(since)),
    }
}

fn read(
    m: &mut Model,
    source: usize,
    secs: f64,
    result: Result<Vec<AlarmInfo>, AwsError>,
) -> Vec<Entry> {
    apply(
        m,
        Msg::Observed(Observation::Alarm {
            source,
            at: at(secs),
            result: result.map(|alarms| AlarmReading { alarms }),
        }),
    )
}

fn probes_ok(m: &mut Model) {
    for s in [1.0, 2.0] {
        for check in [0, 1] {
            apply(
                m,
                Msg::Observed(Observation::Probe {
                    check,
                    at: at(s),
                    outcome: ProbeOutcome {
                        ok: true,
                        latency: Duration::from_millis(3),
                        detail: "200".into(),
                    },
                }),
            );
        }
    }
}

/// Site A's named alarms (one of them not in CloudWatch), site B's by prefix.
fn readings(m: &mut Model, a_5xx: AlarmValue) -> Vec<Entry> {
    let mut entries = read(
        m,
        0,
        2.5,
        Ok(vec![
            alarm(
                &format!("{A}5xx-rate"),
                a_5xx,
                "Threshold Crossed: 1 datapoint [7.0] was greater than the threshold (5.0)",
                2.0,
            ),
            alarm(
                &format!("{A}p99-latency"),
                AlarmValue::Ok,
                "Threshold Crossed: 1 datapoint [0.21] was not greater than the threshold (0.5)",
                -600.0,
            ),
        ]),
    );
    entries.extend(read(
        m,
        1,
        2.6,
        Ok(vec![
            alarm(
                &format!("{B}5xx-rate"),
                AlarmValue::Ok,
                "Threshold Crossed: no datapoint over 5.0",
                -900.0,
            ),
            alarm(
                &format!("{B}p99-latency"),
                AlarmValue::InsufficientData,
                "Unchecked: Initial alarm creation",
                -60.0,
            ),
        ]),
    ));
    entries
}

fn model(a_5xx: AlarmValue) -> Model {
    let mut m = fixture::model(CONFIG, Mode::Live, "alice@ops", fixture::dark(false), T0);
    probes_ok(&mut m);
    readings(&mut m, a_5xx);
    m.now = at(3.0);
    m
}

#[test]
fn alarms_ok_and_one_not_found() {
    snapshot_both!("alarms_ok", &model(AlarmValue::Ok));
}

#[test]
fn an_alarm_in_alarm_is_critical_for_its_site() {
    let m = model(AlarmValue::Alarm);
    snapshot_both!("alarms_alarm", &m);
    let findings = verdict::assess(&m);
    assert_eq!(verdict::overall(&findings), Level::Critical);
    let alarm = findings
        .iter()
        .find(|f| f.text.contains("5xx-rate"))
        .expect("a finding for the alarm");
    assert_eq!(alarm.level, Level::Critical);
    // The state first: at 80 columns the header cuts the (long) alarm name, not the state.
    assert!(
        alarm.text.starts_with(&format!(
            "alarm orders-a ALARM (site A): {A}5xx-rate since 14:30:02: Threshold Crossed"
        )),
        "{}",
        alarm.text
    );
    // INSUFFICIENT_DATA is not known to be fine, nor known to be failing.
    let unknown = findings
        .iter()
        .find(|f| f.text.contains("site-b-p99-latency"))
        .expect("a finding for INSUFFICIENT_DATA");
    assert_eq!(unknown.level, Level::Unknown);
    // A named alarm CloudWatch does not return is said, not dropped.
    assert!(
        findings
            .iter()
            .any(|f| f.level == Level::Warning && f.text.contains("site-a-gone not found")),
        "{findings:#?}"
    );
}

#[test]
fn the_healthy_gate_counts_alarms_like_checks() {
    let ok = model(AlarmValue::Ok);
    let gate_a = Gate::Healthy { site: 0 };
    let passing = evidence::gate(&ok.world(), &gate_a);
    // The named alarm that is not found blocks as well.
    assert!(!passing.pass, "{passing:?}");
    assert!(
        passing.summary().contains("not found"),
        "{}",
        passing.summary()
    );
    let alarmed = model(AlarmValue::Alarm);
    let blocked = evidence::gate(&alarmed.world(), &gate_a);
    assert!(!blocked.pass);
    assert!(
        blocked
            .lines
            .iter()
            .any(|l| l.contains("5xx-rate ALARM since 14:30:02")),
        "{blocked:?}"
    );
    // Site B: INSUFFICIENT_DATA blocks the gate; its OK alarm is listed as fine.
    let b = evidence::gate(&ok.world(), &Gate::Healthy { site: 1 });
    assert!(!b.pass, "{b:?}");
    assert!(
        b.lines.iter().any(|l| l.starts_with("api-b healthy")),
        "{b:?}"
    );
}

#[test]
fn a_state_change_is_one_edge_and_the_same_reading_none() {
    let mut m = fixture::model(CONFIG, Mode::Live, "alice@ops", fixture::dark(false), T0);
    let first = readings(&mut m, AlarmValue::Ok);
    let texts: Vec<String> = first
        .iter()
        .map(|e| format!("{} {}", e.source, e.message))
        .collect();
    assert_eq!(texts.len(), 5, "{texts:#?}");
    assert!(
        texts[2].starts_with("alarm/orders-a orders-prod-eu-west-1-site-a-gone: not found"),
        "{texts:#?}"
    );
    assert!(
        readings(&mut m, AlarmValue::Ok).is_empty(),
        "an unchanged reading makes no edge"
    );
    let change = readings(&mut m, AlarmValue::Alarm);
    assert_eq!(change.len(), 1, "{change:#?}");
    assert_eq!(change[0].severity, Severity::Crit);
    assert!(
        change[0]
            .message
            .starts_with(&format!("{A}5xx-rate: OK → ALARM since 14:30:02")),
        "{}",
        change[0].message
    );
    let back = readings(&mut m, AlarmValue::Ok);
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].severity, Severity::Ok);
}

#[test]
fn a_failing_read_is_one_edge_keeps_the_alarms_marked_and_recovers_once() {
    let mut m = model(AlarmValue::Ok);
    let throttled = |secs| AwsError {
        kind: AwsErrorKind::Throttled {
            retry_in_secs: secs,
        },
        message: "Throttling: Rate exceeded".into(),
    };
    let first = read(&mut m, 1, 70.0, Err(throttled(120)));
    assert_eq!(first.len(), 1, "{first:#?}");
    assert_eq!(first[0].message, "throttled by AWS: next try in 120s");
    assert!(
        read(&mut m, 1, 200.0, Err(throttled(240))).is_empty(),
        "throttled again is no new edge"
    );
    m.now = at(201.0);
    snapshot_both!("alarms_throttled", &m);
    let again = read(
        &mut m,
        1,
        450.0,
        Ok(vec![alarm(
            &format!("{B}5xx-rate"),
            AlarmValue::Ok,
            "fine",
            -900.0,
        )]),
    );
    let texts: Vec<&str> = again.iter().map(|e| e.message.as_str()).collect();
    assert!(texts.contains(&"CloudWatch answering again"), "{texts:?}");
    assert!(
        texts
            .iter()
            .any(|t| t.ends_with("p99-latency: no longer returned by CloudWatch")),
        "{texts:?}"
    );
}

#[test]
fn status_json_lists_every_alarm_with_its_state() {
    let m = model(AlarmValue::Alarm);
    let json = m.world().status_json();
    let sources = json["alarm"].as_array().expect("an alarm array");
    assert_eq!(sources.len(), 2);
    assert_eq!(sources[0]["site"], "primary");
    let alarms = sources[0]["alarms"].as_array().unwrap();
    assert_eq!(alarms[0]["name"], format!("{A}5xx-rate"));
    assert_eq!(alarms[0]["state"], "ALARM");
    assert_eq!(alarms[0]["since"], "2026-03-01T14:30:02Z");
    assert_eq!(alarms[2]["error"], "not found");
    assert_eq!(sources[1]["alarm_prefix"], B);
    assert_eq!(sources[1]["alarms"][1]["state"], "INSUFFICIENT_DATA");
}
