//! The Route 53 source against the lab's real moto server, through the real SDK code paths:
//! aws-config's default chain reading a profile from a credentials file, the HTTP client, the
//! XML protocol, and the errors an operator would meet.
// Needs the lab (`scripts/lab up`): run by `scripts/test`, which turns the feature on.
#![cfg(feature = "lab")]

mod common;

use failover_console::net::aws::AwsSource;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::screen::render;
use common::{API_A, IP_PRIMARY, IP_SECONDARY, Lab, PRIMARY, SECONDARY, assert_once, wait};
use failover_console::config::{self, Config};
use failover_console::engine::{Engine, Live};
use failover_console::kinds::route53::Poller;
use failover_core::kinds::dns::RecordSite;
use failover_core::kinds::health::CheckStatus;
use failover_core::kinds::{
    Observation,
    aws::AwsErrorKind,
    route53::{R53Reading, R53Set},
};
use failover_core::theme::{Theme, View};

use common::aws::{PROFILE, SECRET_KEY, SECRET_PROFILE, SESSION_TOKEN, aws_env, moto_url, seeded};

/// The ids of the last seed: they change on every `scripts/lab reset`.
fn aws_ids() -> (String, String, String) {
    (
        seeded("LAB_R53_ZONE_ID"),
        seeded("LAB_R53_HC_A"),
        seeded("LAB_R53_HC_B"),
    )
}

fn route53_config(zone: &str, extra: &str) -> Arc<Config> {
    let text = format!(
        r#"
[sites.primary]
label = "site A"
[aws]
profile = "{PROFILE}"
endpoint-url = "{}"
[[route53]]
name = "api.failover.test."
zone-id = "{zone}"
interval = "1s"
timeout = "3s"
{extra}
"#,
        moto_url()
    );
    Arc::new(config::from_str(&text, std::path::Path::new("aws-test.toml")).expect("config"))
}

async fn read_once(
    config: &Config,
) -> (
    Result<R53Reading, failover_core::kinds::aws::AwsError>,
    Duration,
) {
    aws_env();
    let started = Instant::now();
    let poller = Poller::new(0, config.kinds.route53[0].clone()).await;
    let observation = tokio::time::timeout(Duration::from_secs(15), poller.once())
        .await
        .expect("one Route 53 read within 15 s");
    let Observation::Route53 { record, result, .. } = observation else {
        panic!("not a Route 53 observation: {observation:?}");
    };
    assert_eq!(record, 0);
    (result, started.elapsed())
}

fn set<'a>(reading: &'a R53Reading, role: &str) -> &'a R53Set {
    reading
        .sets
        .iter()
        .find(|s| s.failover.as_deref() == Some(role))
        .unwrap_or_else(|| panic!("no {role} set in {reading:#?}"))
}

#[tokio::test]
async fn reads_both_failover_sets_and_their_health_checks() {
    let _lab = Lab::begin().await;
    let (zone, hc_a, hc_b) = aws_ids();
    let (result, _) = read_once(&route53_config(&zone, "")).await;
    let reading = result.expect("Route 53 answers");
    assert_eq!(reading.sets.len(), 2, "{reading:#?}");
    let primary = set(&reading, "PRIMARY");
    assert_eq!(primary.set_identifier.as_deref(), Some("site-a"));
    assert_eq!(primary.values, vec![IP_PRIMARY.to_string()]);
    assert_eq!(primary.ttl, Some(60));
    let check = primary
        .health_check
        .as_ref()
        .expect("PRIMARY has a health check");
    assert_eq!(check.id, hc_a);
    // moto's GetHealthCheckStatus is canned: every checker says "Success".
    let share = check.status.as_ref().expect("status read");
    assert!(share.total > 0 && share.healthy(), "{share:?}");
    let secondary = set(&reading, "SECONDARY");
    assert_eq!(secondary.set_identifier.as_deref(), Some("site-b"));
    assert_eq!(secondary.values, vec![IP_SECONDARY.to_string()]);
    assert_eq!(
        secondary.health_check.as_ref().map(|c| c.id.as_str()),
        Some(hc_b.as_str())
    );
}

#[tokio::test]
async fn sees_the_primary_record_change_after_r53_failover() {
    let lab = Lab::begin().await;
    let (zone, _, _) = aws_ids();
    let config = route53_config(&zone, "");
    let (before, _) = read_once(&config).await;
    assert_eq!(
        set(&before.expect("Route 53 answers"), "PRIMARY").values,
        vec![IP_PRIMARY.to_string()]
    );
    lab.run(&["r53-failover"]).await;
    let (after, _) = read_once(&config).await;
    assert_eq!(
        set(&after.expect("Route 53 answers"), "PRIMARY").values,
        vec![IP_SECONDARY.to_string()]
    );
}

#[tokio::test]
async fn a_closed_port_is_an_unreachable_endpoint() {
    // A port nothing listens on: bind, note it, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let config = route53_config(
        "Z0000000000000",
        &format!("endpoint-url = \"http://127.0.0.1:{port}\""),
    );
    let (result, took) = read_once(&config).await;
    let error = result.expect_err("nothing listens there");
    eprintln!("shown: {} ({error:?})", error.describe(Some(PROFILE)));
    assert_eq!(error.kind, AwsErrorKind::Unreachable, "{error:?}");
    assert!(
        error
            .describe(Some(PROFILE))
            .contains("endpoint unreachable"),
        "{error:?}"
    );
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[tokio::test]
async fn a_profile_that_does_not_exist_is_no_credentials() {
    let config = route53_config("Z0000000000000", "profile = \"nosuch\"");
    let (result, took) = read_once(&config).await;
    let error = result.expect_err("no such profile");
    assert_eq!(error.kind, AwsErrorKind::NoCredentials, "{error:?}");
    let shown = error.describe(Some("nosuch"));
    eprintln!("shown: {shown} ({error:?})");
    assert!(
        shown.contains("no credentials from profile nosuch"),
        "{shown}"
    );
    assert!(!shown.contains("testing"), "{shown}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

// -------------------------------------------------------------------------------------------------
// engine: the lab config plus a [[route53]] record, the world changes, the model follows
// -------------------------------------------------------------------------------------------------

/// The lab's config (health, database, DNS on the lab's ports) with the seeded Route 53 record.
fn lab_config_with_route53(lab: &Lab, zone: &str, extra: &str) -> (PathBuf, Arc<Config>) {
    let mut text = std::fs::read_to_string(&lab.config_path).expect("read the lab config");
    text.push_str(&format!(
        r#"
[aws]
profile = "{PROFILE}"
endpoint-url = "{}"

[[route53]]
name = "api.failover.test."
zone-id = "{zone}"
interval = "1s"
timeout = "3s"
{extra}
"#,
        moto_url()
    ));
    let path = lab.dir.path().join("aws-config.toml");
    std::fs::write(&path, &text).expect("write the config");
    let config = config::load(&path).unwrap_or_else(|e| panic!("config does not load: {e}"));
    (path, Arc::new(config))
}

async fn engine(config: Arc<Config>) -> Engine {
    aws_env();
    let view = View {
        theme: Theme::mono(),
        ascii: true,
    };
    Engine::<Live>::start(config, "aws-test".into(), view)
        .await
        .expect("engine starts")
}

fn intended_site(m: &failover_core::app::Model) -> Option<usize> {
    m.kinds.route53[0].intended.as_ref().and_then(|i| i.site)
}

#[tokio::test]
async fn route53_failover_changes_the_intended_site_once() {
    let lab = Lab::begin().await;
    let (zone, _, _) = aws_ids();
    let (path, config) = lab_config_with_route53(&lab, &zone, "");
    let mut engine = engine(config.clone()).await;
    wait(&mut engine, "Route 53 says site A", |m| {
        intended_site(m) == Some(PRIMARY)
    })
    .await;
    let reason = engine.model.kinds.route53[0]
        .intended
        .as_ref()
        .map(|i| i.reason.clone());
    assert_eq!(reason.as_deref(), Some("PRIMARY healthy 100% of checkers"));

    lab.run(&["r53-failover"]).await;
    wait(&mut engine, "Route 53 says site B", |m| {
        intended_site(m) == Some(SECONDARY)
    })
    .await;
    // The PRIMARY record now holds site B's address: Route 53 answers site B, the resolvers
    // (BIND) still say site A.
    let intended = engine.model.kinds.route53[0]
        .intended
        .clone()
        .expect("intended");
    assert_eq!(intended.role, "PRIMARY");
    assert_eq!(intended.values, vec![IP_SECONDARY.to_string()]);
    wait(&mut engine, "the resolvers answer", |m| {
        m.kinds.dns[0].site == RecordSite::Site(PRIMARY)
    })
    .await;
    let screen = render(&engine.model, 160, 48);
    assert!(
        screen.contains("Route 53 says site B (PRIMARY healthy 100% of checkers)")
            && screen.contains("resolvers still say site A (TTL "),
        "{screen}"
    );
    engine.shutdown("aws test done").await;
    let entries = lab.journal();
    assert_once(
        &entries,
        "route53/api.failover.test. A",
        "Route 53 says site B",
    );

    // status --json has the route53 array, through the real binary and the same credentials.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_failover-console"))
        .args([
            "--config",
            path.to_str().expect("utf-8 path"),
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
    let r53 = &json["route53"][0];
    assert_eq!(r53["intended"]["site"], "secondary", "{json:#}");
    assert_eq!(
        r53["record_sets"].as_array().map(Vec::len),
        Some(2),
        "{json:#}"
    );
    assert_eq!(r53["error"], serde_json::Value::Null, "{json:#}");

    // The text form puts the disagreement among the reasons and lists the record sets.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_failover-console"))
        .args(["--config", path.to_str().expect("utf-8 path"), "status"])
        .env("NO_COLOR", "1")
        .output()
        .await
        .expect("run status");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_ne!(out.status.code(), Some(0), "{text}");
    for want in [
        "WARNING  route53 api.failover.test. A: Route 53 says site B, resolvers still say site A (TTL ",
        "route53 api.failover.test. A:\n  PRIMARY   site-a: 10.0.2.100 ttl 60, health check ",
        "  intends site B (PRIMARY healthy 100% of checkers)",
    ] {
        assert!(text.contains(want), "{want:?} missing:\n{text}");
    }
}

#[tokio::test]
async fn missing_credentials_show_plainly_and_other_panes_keep_updating() {
    let lab = Lab::begin().await;
    let (zone, _, _) = aws_ids();
    let (_, config) = lab_config_with_route53(&lab, &zone, "profile = \"nosuch\"");
    let mut engine = engine(config).await;
    wait(&mut engine, "Route 53 says no credentials", |m| {
        m.kinds.route53[0]
            .error
            .as_ref()
            .is_some_and(|e| e.kind == AwsErrorKind::NoCredentials)
    })
    .await;
    lab.run(&["http", "api-a", "down"]).await;
    wait(&mut engine, "api-a unhealthy while Route 53 fails", |m| {
        m.kinds.health[API_A].status == CheckStatus::Unhealthy
    })
    .await;
    assert!(
        engine.model.kinds.route53[0].error.is_some(),
        "still failing: {:?}",
        engine.model.kinds.route53[0]
    );
    engine.shutdown("aws test done").await;
    let entries = lab.journal();
    assert_once(
        &entries,
        "route53/api.failover.test. A",
        "no credentials from profile nosuch",
    );
    let text = common::journal_text(&entries);
    assert!(
        !text.contains("testing"),
        "a credential in the journal:\n{text}"
    );
}

#[tokio::test]
async fn an_unreachable_endpoint_shows_plainly_and_other_panes_keep_updating() {
    let lab = Lab::begin().await;
    let (zone, _, _) = aws_ids();
    // A port nothing listens on: bind, note it, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let (_, config) = lab_config_with_route53(
        &lab,
        &zone,
        &format!("endpoint-url = \"http://127.0.0.1:{port}\""),
    );
    let mut engine = engine(config).await;
    wait(&mut engine, "Route 53 endpoint unreachable", |m| {
        m.kinds.route53[0]
            .error
            .as_ref()
            .is_some_and(|e| e.kind == AwsErrorKind::Unreachable)
    })
    .await;
    lab.run(&["http", "api-a", "down"]).await;
    wait(
        &mut engine,
        "api-a unhealthy while Route 53 is unreachable",
        |m| m.kinds.health[API_A].status == CheckStatus::Unhealthy,
    )
    .await;
    let screen = render(&engine.model, 300, 48);
    assert!(
        screen.contains("Route 53: endpoint unreachable: connection refused"),
        "{screen}"
    );
    engine.shutdown("aws test done").await;
    assert_once(
        &lab.journal(),
        "route53/api.failover.test. A",
        "endpoint unreachable: connection refused",
    );
}

/// A tracing writer into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn log_of_one_read(filter: tracing_subscriber::EnvFilter) -> String {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_env_filter(filter)
        .finish();
    let (zone, _, _) = aws_ids();
    let config = route53_config(&zone, "");
    let mut record = config.kinds.route53[0].clone();
    record.aws.profile = Some(SECRET_PROFILE.into());
    aws_env();
    {
        let _guard = tracing::subscriber::set_default(subscriber);
        let poller = Poller::new(0, record).await;
        let observation = tokio::time::timeout(Duration::from_secs(15), poller.once())
            .await
            .expect("one Route 53 read within 15 s");
        let Observation::Route53 { result, .. } = observation else {
            panic!("not a Route 53 observation");
        };
        result.expect("moto answers with the secret profile too");
    }
    let bytes = captured.0.lock().expect("log buffer").clone();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[tokio::test(flavor = "current_thread")]
async fn the_log_never_holds_credentials_even_at_trace() {
    let _lab = Lab::begin().await;
    // The SDK's own redaction, with every crate at trace, and the console's filter on top.
    for filter in [
        tracing_subscriber::EnvFilter::new("trace"),
        failover_console::runtime::log_filter(Some("trace")),
    ] {
        let log = log_of_one_read(filter).await;
        assert!(
            log.lines().count() > 20 && log.contains("route53"),
            "trace logging produced almost nothing, the test would prove nothing:\n{log}"
        );
        for secret in [SECRET_KEY, SESSION_TOKEN] {
            assert!(!log.contains(secret), "{secret} is in the log:\n{log}");
        }
    }
}
