//! `[[alarm]]` against the lab's real moto, through the real SDK: the seeded alarms read by name
//! and by prefix, an alarm moved to ALARM with SetAlarmState and the console following it (the
//! pane's state, the verdict, the healthy gate, one timeline edge each way), and `status --json`
//! through the binary.
// Needs the lab (`scripts/lab up`): run by `scripts/test`, which turns the feature on.
#![cfg(feature = "lab")]

mod common;

use std::sync::Arc;

use common::aws::{PROFILE, aws_env, moto_url, sdk_config};
use common::{Lab, assert_once, wait};
use failover_console::config;
use failover_console::engine::{Engine, Live};
use failover_core::app::Model;
use failover_core::app::verdict::{self, Level};
use failover_core::kinds::alarm::{AlarmValue, Row};
use failover_core::runbook::{Gate, evidence};
use failover_core::theme::{Theme, View};

const A_5XX: &str = "lab-orders-site-a-5xx-rate";
const A_LATENCY: &str = "lab-orders-site-a-p99-latency";
const B_5XX: &str = "lab-orders-site-b-5xx-rate";

fn alarms() -> String {
    format!(
        r#"
[aws]
region = "us-east-1"
profile = "{PROFILE}"
endpoint-url = "{}"

[[alarm]]
name = "orders-a"
site = "primary"
alarm-names = ["{A_5XX}", "{A_LATENCY}"]
interval = "1s"
timeout = "3s"

[[alarm]]
name = "orders-b"
site = "secondary"
alarm-prefix = "lab-orders-site-b-"
interval = "1s"
timeout = "3s"
"#,
        moto_url()
    )
}

/// The lab's config (health, database, DNS) with the alarm sources.
fn lab_config(lab: &Lab) -> (std::path::PathBuf, Arc<config::Config>) {
    let mut text = std::fs::read_to_string(&lab.config_path).expect("read the lab config");
    text.push_str(&alarms());
    let path = lab.dir.path().join("alarms.toml");
    std::fs::write(&path, &text).expect("write the config");
    let config = config::load(&path).unwrap_or_else(|e| panic!("config does not load: {e}"));
    (path, Arc::new(config))
}

/// An alarm's state as the model shows it.
fn state(m: &Model, source: usize, name: &str) -> Option<AlarmValue> {
    let spec = &m.config.kinds.alarm[source];
    m.kinds.alarm[source]
        .rows(spec)?
        .into_iter()
        .find_map(|row| match row {
            Row::Found(a) if a.name == name => Some(a.state.clone()),
            _ => None,
        })
}

async fn set_state(name: &str, value: &str, reason: &str) {
    let client = aws_sdk_cloudwatch::Client::new(&sdk_config().await);
    client
        .set_alarm_state()
        .alarm_name(name)
        .state_value(value.into())
        .state_reason(reason)
        .send()
        .await
        .unwrap_or_else(|e| panic!("SetAlarmState {name} {value}: {e:?}"));
}

#[tokio::test]
async fn an_alarm_moved_to_alarm_shows_counts_and_comes_back() {
    let lab = Lab::begin().await;
    aws_env();
    let (path, config) = lab_config(&lab);
    let view = View {
        theme: Theme::mono(),
        ascii: true,
    };
    let mut engine = Engine::<Live>::start(config, "alarm-test".into(), view)
        .await
        .expect("engine starts");
    wait(
        &mut engine,
        "the seeded alarms, OK, by name and by prefix",
        |m| {
            state(m, 0, A_5XX) == Some(AlarmValue::Ok)
                && state(m, 0, A_LATENCY) == Some(AlarmValue::Ok)
                && state(m, 1, B_5XX) == Some(AlarmValue::Ok)
        },
    )
    .await;
    let healthy_a = Gate::Healthy { site: 0 };
    assert!(
        evidence::gate(&engine.model.world(), &healthy_a)
            .lines
            .iter()
            .any(|l| l.starts_with(&format!("alarm {A_5XX} OK"))),
    );

    set_state(A_5XX, "ALARM", "Threshold Crossed: 1 datapoint [7.0] > 5.0").await;
    wait(&mut engine, "site A's 5xx alarm in ALARM", |m| {
        state(m, 0, A_5XX) == Some(AlarmValue::Alarm)
    })
    .await;
    let findings = verdict::assess(&engine.model);
    let alarm = findings
        .iter()
        .find(|f| f.text.contains(A_5XX))
        .expect("a finding for the alarm");
    // Nothing else agrees on a site while the alarm counts like a failing check of site A.
    assert!(alarm.level >= Level::Warning, "{findings:#?}");
    assert!(alarm.text.contains("Threshold Crossed"), "{}", alarm.text);
    let gate = evidence::gate(&engine.model.world(), &healthy_a);
    assert!(!gate.pass, "{gate:?}");

    // status --json through the binary: the alarm in ALARM, a critical or warning verdict.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_failover-console"))
        .args([
            "--config",
            path.to_str().expect("utf-8"),
            "status",
            "--json",
        ])
        .env("NO_COLOR", "1")
        .output()
        .await
        .expect("run status");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "status --json is not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let a = &json["alarm"][0];
    assert_eq!(a["site"], "primary", "{json:#}");
    assert_eq!(a["alarms"][0]["name"], A_5XX, "{json:#}");
    assert_eq!(a["alarms"][0]["state"], "ALARM", "{json:#}");
    assert_eq!(
        json["alarm"][1]["alarm_prefix"], "lab-orders-site-b-",
        "{json:#}"
    );
    assert_ne!(out.status.code(), Some(0), "{json:#}");

    set_state(
        A_5XX,
        "OK",
        "Threshold Crossed: 1 datapoint [0.0] not > 5.0",
    )
    .await;
    wait(&mut engine, "site A's 5xx alarm OK again", |m| {
        state(m, 0, A_5XX) == Some(AlarmValue::Ok)
    })
    .await;
    // Let the journal writer catch up, then one edge each way.
    engine.shutdown("test done").await;
    let entries = lab.journal();
    assert_once(&entries, "alarm/orders-a", &format!("{A_5XX}: OK → ALARM"));
    assert_once(&entries, "alarm/orders-a", &format!("{A_5XX}: ALARM → OK"));
}
