//! Config tests, and a parser for the core's own tests: the binary checks DSNs with its
//! PostgreSQL driver; here any DSN is taken as it is.

use std::path::Path;
use std::time::Duration;

use super::*;
use crate::kinds::dns::RecordType;

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

pub(crate) fn from_str(text: &str, path: &Path) -> Result<Config, ConfigError> {
    super::parse(text, path, &AnyDsn)
}

/// A config from text, for tests; panics on a bad one.
pub(crate) fn parse(text: &str) -> Config {
    from_str(text, Path::new("t.toml")).unwrap()
}

#[test]
fn route53_settings_inherit_aws_and_flags_win() {
    let text = r#"
[sites.primary]
[aws]
region = "us-east-1"
profile = "ops"
endpoint-url = "http://127.0.0.1:15055/"
[[route53]]
name = "API.failover.test"
zone-id = "/hostedzone/Z123"
region = "eu-west-1"
"#;
    let mut config = from_str(text, Path::new("t.toml")).unwrap();
    let r = &config.kinds.route53[0];
    assert_eq!(r.name, "api.failover.test.");
    assert_eq!(r.zone_id, "Z123");
    assert_eq!(r.record_type, RecordType::A);
    assert_eq!(r.interval, Duration::from_secs(30));
    assert_eq!(r.aws.region.as_deref(), Some("eu-west-1"));
    assert_eq!(r.aws.profile.as_deref(), Some("ops"));
    assert_eq!(
        r.aws.endpoint_url.as_deref(),
        Some("http://127.0.0.1:15055")
    );
    config.apply_aws_flags(Some("other"), None);
    assert_eq!(
        config.kinds.route53[0].aws.profile.as_deref(),
        Some("other")
    );
    assert_eq!(
        config.kinds.route53[0].aws.region.as_deref(),
        Some("eu-west-1")
    );
    assert_eq!(config.aws.profile.as_deref(), Some("other"));
}

#[test]
fn aws_actions_resolve_records_sites_and_settings_and_flags_win() {
    use crate::actions::ActionSpec;
    use crate::kinds::route53::{Mode, SiteAnswers};
    let text = r#"
[sites.primary]
label = "site A"
[sites.secondary]
label = "site B"
[aws]
region = "eu-west-1"
profile = "ops"
[[dns]]
name = "api.failover.test."
resolvers = ["127.0.0.1:5353"]
[dns.answers]
primary = ["10.0.1.100"]
secondary = ["10.0.2.100"]
[[route53]]
name = "api.failover.test."
zone-id = "Z123"
profile = "r53-read"
[[runbook]]
name = "failover"
from = "primary"
to = "secondary"
[[runbook.step]]
title = "promote"
action = "rds-promote"
instance = "Orders-B"
endpoint-url = "http://127.0.0.1:15055/"
[[runbook.step]]
title = "writer"
action = "rds-failover"
cluster = "ledger"
target = "ledger-b"
timeout = "10m"
[[runbook.step]]
title = "route 53"
action = "route53"
record = "api.failover.test"
profile = "r53-write"
rollback = { action = "route53", record = "api.failover.test." }
[[runbook.step]]
title = "pin"
action = "route53"
record = "api.failover.test."
mode = "disable-health-check"
health-check-id = "abc"
"#;
    let mut config = from_str(text, Path::new("t.toml")).unwrap();
    let steps = &config.runbooks[0].steps;
    let spec = |i: usize| match &steps[i].kind {
        StepKind::Action(a) => a.spec.clone(),
        other => panic!("{other:?}"),
    };
    let ActionSpec::RdsPromote(p) = spec(0) else {
        panic!()
    };
    assert_eq!(p.instance, "orders-b");
    assert_eq!(p.timeout, Duration::from_secs(300));
    assert_eq!(p.aws.region.as_deref(), Some("eu-west-1"));
    assert_eq!(
        p.aws.endpoint_url.as_deref(),
        Some("http://127.0.0.1:15055")
    );
    let ActionSpec::RdsFailover(f) = spec(1) else {
        panic!()
    };
    assert_eq!(
        (f.cluster.as_str(), f.target.as_str()),
        ("ledger", "ledger-b")
    );
    assert_eq!(f.timeout, Duration::from_secs(600));
    let ActionSpec::Route53(r) = spec(2) else {
        panic!()
    };
    assert_eq!(r.zone_id, "Z123");
    assert_eq!(r.timeout, Duration::from_secs(60));
    assert_eq!(r.aws.profile.as_deref(), Some("r53-write"));
    let site = |label: &str, ip: &str| SiteAnswers {
        label: label.into(),
        values: vec![ip.into()],
    };
    assert_eq!(
        r.mode,
        Mode::Upsert {
            toward: site("site B", "10.0.2.100"),
            others: vec![site("site A", "10.0.1.100")],
        }
    );
    // The rollback moves things back toward `from`, with the record's own profile.
    let Some(Rollback::Action(back)) = &steps[2].rollback else {
        panic!()
    };
    let ActionSpec::Route53(back) = &back.spec else {
        panic!()
    };
    assert_eq!(
        back.mode,
        Mode::Upsert {
            toward: site("site A", "10.0.1.100"),
            others: vec![site("site B", "10.0.2.100")],
        }
    );
    assert_eq!(back.aws.profile.as_deref(), Some("r53-read"));
    let ActionSpec::Route53(pin) = spec(3) else {
        panic!()
    };
    assert_eq!(
        pin.mode,
        Mode::HealthCheck {
            disabled: true,
            id: Some("abc".into())
        }
    );
    for line in spec(2).describe().iter().chain(&spec(3).describe()) {
        eprintln!("{line}");
    }

    config.apply_aws_flags(Some("flag"), Some("us-west-2"));
    let steps = &config.runbooks[0].steps;
    let StepKind::Action(a) = &steps[2].kind else {
        panic!()
    };
    let mut spec = a.spec.clone();
    let aws = spec.aws_mut().unwrap();
    assert_eq!(aws.profile.as_deref(), Some("flag"));
    assert_eq!(aws.region.as_deref(), Some("us-west-2"));
    let Some(Rollback::Action(back)) = &steps[2].rollback else {
        panic!()
    };
    let mut back = back.spec.clone();
    assert_eq!(back.aws_mut().unwrap().profile.as_deref(), Some("flag"));
}

const SITES: &str = "[sites.a]\nlabel = \"site A\"\n[sites.b]\n[aws]\nregion = \"eu-west-1\"\n";

#[test]
fn rds_defaults_and_sites() {
    let text = format!(
        "{SITES}[[rds]]\nname = \"orders\"\ninstances = {{ a = \"orders-a\", b = \"orders-b\" }}\nmax-lag = \"10s\"\n"
    );
    let config = from_str(&text, Path::new("t.toml")).unwrap();
    let r = &config.kinds.rds[0];
    assert_eq!(r.instances.len(), 2);
    assert_eq!(
        (r.instances[1].site, r.instances[1].id.as_str()),
        (1, "orders-b")
    );
    assert_eq!(r.instance_at(0), Some(0));
    assert_eq!(r.max_lag, Duration::from_secs(10));
    assert_eq!(r.lag_period, Duration::from_secs(60));
    assert_eq!(r.lag_max_age, Duration::from_secs(300));
    assert_eq!(r.interval, Duration::from_secs(30));
    assert_eq!(r.aws.region.as_deref(), Some("eu-west-1"));
}

#[test]
fn cloudwatch_defaults() {
    let text = format!(
        "{SITES}[[cloudwatch]]\nname = \"canary\"\nnamespace = \"Lab/Canary\"\nmetric = \"SuccessPercent\"\ndimensions = {{ CanaryName = \"checkout\" }}\nwarn = 95\ncrit = 90.5\nperiod = \"5m\"\n"
    );
    let config = from_str(&text, Path::new("t.toml")).unwrap();
    let cw = &config.kinds.cloudwatch[0];
    assert_eq!(cw.site, None);
    assert_eq!(cw.statistic, "Average");
    assert_eq!((cw.warn, cw.crit), (95.0, 90.5));
    assert_eq!(cw.max_age, Duration::from_secs(900));
    assert_eq!(
        cw.dimensions,
        vec![("CanaryName".to_string(), "checkout".to_string())]
    );
}

#[test]
fn periods_and_statistics() {
    let check = |extra: &str| {
        let text = format!(
            "{SITES}[[cloudwatch]]\nname = \"x\"\nnamespace = \"N\"\nmetric = \"M\"\nwarn = 1\ncrit = 2\n{extra}\n"
        );
        from_str(&text, Path::new("t.toml"))
            .map(|_| ())
            .map_err(|e| e.message)
    };
    assert!(check("period = \"1s\"").is_ok());
    assert!(check("period = \"2m\"").is_ok());
    assert!(
        check("period = \"90s\"")
            .unwrap_err()
            .contains("invalid CloudWatch period")
    );
    assert!(check("statistic = \"p99.9\"").is_ok());
    assert!(
        check("statistic = \"avg\"")
            .unwrap_err()
            .contains("unsupported statistic")
    );
    assert!(check("statistic = \"p100\"").is_err());
}

#[test]
fn war_room_is_read_exactly_as_documented() {
    let text = r#"
[sites.primary]
[war-room]
etcd = ["http://127.0.0.1:2379"]        # endpoints of one etcd v3 cluster
prefix = "/failover-console/orders"     # every console of one service uses the same prefix
lease = "10s"                           # TTL of the driver and recorder leases (default 10s)
"#;
    let w = parse(text).war_room.unwrap();
    assert_eq!(w.etcd, ["http://127.0.0.1:2379"]);
    assert_eq!(w.prefix, "/failover-console/orders");
    assert_eq!(w.lease, Duration::from_secs(10));
    assert_eq!(w.user, None);
    assert!(
        parse("[sites.a]").war_room.is_none(),
        "file mode by default"
    );

    let with_auth = r#"
[sites.primary]
[war-room]
etcd = ["https://etcd-1:2379/", "https://etcd-2:2379"]
prefix = "/fc/orders/"
user = "console"
password-env = "ETCD_PASSWORD"
ca-file = "etcd-ca.pem"
"#;
    let w = parse(with_auth).war_room.unwrap();
    assert_eq!(w.etcd, ["https://etcd-1:2379", "https://etcd-2:2379"]);
    assert_eq!(w.prefix, "/fc/orders");
    assert_eq!(w.lease, war_room::DEFAULT_LEASE);
    assert_eq!(w.password_env.as_deref(), Some("ETCD_PASSWORD"));
    assert_eq!(w.ca_file, Some(std::path::PathBuf::from("etcd-ca.pem")));
}

#[test]
fn war_room_mistakes_are_pointed_at() {
    let bad = |body: &str, wanted: &str| {
        let text = format!("[sites.primary]\n[war-room]\n{body}\n");
        let e = from_str(&text, Path::new("t.toml")).unwrap_err();
        assert!(e.message.contains(wanted), "{body}: {}", e.message);
        assert!(e.position.is_some(), "{body}: no position");
    };
    bad("etcd = []\nprefix = \"/x\"", "at least one endpoint");
    bad(
        "etcd = [\"127.0.0.1:2379\"]\nprefix = \"/x\"",
        "invalid etcd endpoint",
    );
    bad(
        "etcd = [\"http://a:1\", \"https://b:2\"]\nprefix = \"/x\"",
        "mixes",
    );
    bad(
        "etcd = [\"http://a:1\"]\nprefix = \"orders\"",
        "invalid prefix",
    );
    bad(
        "etcd = [\"http://a:1\"]\nprefix = \"/x\"\nlease = \"1s\"",
        "between 2s and 5m",
    );
    bad(
        "etcd = [\"http://a:1\"]\nprefix = \"/x\"\nuser = \"c\"",
        "needs password-env",
    );
    bad(
        "etcd = [\"http://a:1\"]\nprefix = \"/x\"\npassword-env = \"P\"",
        "without user",
    );
    bad(
        "etcd = [\"http://a:1\"]\nprefix = \"/x\"\npassword = \"hunter2\"",
        "unknown field",
    );
}
