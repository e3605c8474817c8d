//! Bad config files through the real binary: every one refused with exit 1 and
//! `file:line:col: message` on stderr, pointing at the right place, and never a panic.
//!
//! Each case lives in tests/invalid_configs/<name>.toml.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_failover-console");

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

/// Runs the binary with stdin closed, no colour forcing, and a private state dir so nothing
/// (logs) lands in the user's home.
fn run(args: &[&str]) -> Output {
    let state = std::env::temp_dir().join("failover-console-config-errors-state");
    Command::new(BIN)
        .args(args)
        .env_remove("NO_COLOR")
        .env("XDG_STATE_HOME", &state)
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .output()
        .expect("run failover-console")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn no_panic(out: &Output) {
    let err = stderr(out);
    assert!(!err.contains("panicked"), "the binary panicked:\n{err}");
}

/// check-config on tests/invalid_configs/<name>.toml: exit 1, and the first line of stderr is
/// exactly `<path>:<line>:<col>: ...` and contains `message`.
fn refused(name: &str, line: usize, col: usize, message: &str) {
    let path = dir().join("invalid_configs").join(format!("{name}.toml"));
    assert!(path.exists(), "missing case file {}", path.display());
    refused_at(&path, name, line, col, message);
}

/// The same checks for a case given as text (written to `<name>.toml` in a temporary directory).
fn refused_text(name: &str, text: &str, line: usize, col: usize, message: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    refused_at(&path, name, line, col, message);
}

fn refused_at(path: &Path, name: &str, line: usize, col: usize, message: &str) {
    let path_text = path.display().to_string();
    let out = run(&["check-config", "--config", &path_text]);
    let err = stderr(&out);
    no_panic(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{name}: expected exit 1, stderr:\n{err}"
    );
    assert!(
        out.stdout.is_empty(),
        "{name}: nothing on stdout for a bad config, got {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    let first = err.lines().next().unwrap_or_default();
    let prefix = format!("{path_text}:{line}:{col}: ");
    assert!(
        first.starts_with(&prefix),
        "{name}: expected first line to start with {prefix:?}, got:\n{err}"
    );
    assert!(
        first.contains(message),
        "{name}: expected {message:?} in:\n{err}"
    );
    assert!(
        err.contains(&format!("{name}.toml")),
        "{name}: file name missing from:\n{err}"
    );
    // The excerpt under it shows the offending line with a caret in the right column.
    let shown = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .nth(line - 1)
        .unwrap()
        .to_string();
    let excerpt = format!("{line} | {shown}");
    assert!(
        err.contains(&excerpt),
        "{name}: expected the excerpt {excerpt:?} in:\n{err}"
    );
    let caret = err
        .lines()
        .find(|l| l.trim_end().ends_with('^'))
        .unwrap_or_else(|| panic!("{name}: no caret line in:\n{err}"));
    let bar = caret.find('|').unwrap();
    let caret_col = caret[bar + 2..].chars().count();
    assert_eq!(
        caret_col, col,
        "{name}: caret under the wrong column:\n{err}"
    );
}

/// One test per case file of invalid_configs/ (named as the file), and `$cases`: the list of
/// those files, which `every_invalid_config_is_refused_without_panic` checks against the folder.
macro_rules! refused {
    ($cases:ident; $($test:ident: $line:expr, $col:expr, $msg:expr;)*) => {
        const $cases: &[&str] = &[$(stringify!($test)),*];
        $(
            #[test]
            fn $test() {
                refused(stringify!($test), $line, $col, $msg);
            }
        )*
    };
}

refused! {
    CASES;
    // TOML itself: an unterminated string; the column is where the string ran out.
    syntax_error: 5, 16, "invalid basic string";
    // Unknown fields, named, with what was expected.
    unknown_field_top: 7, 2, "unknown field `alerts`, expected one of `console`, `sites`";
    unknown_field_health: 8, 1, "unknown field `retries`, expected one of `name`, `site`, `http`, `tcp`";
    wrong_type: 8, 12, "invalid type: integer `5`, expected a string";
    bad_duration: 8, 12, "invalid duration \"1x\": expected a number with a unit";
    // Columns count characters, not bytes: multi-byte text earlier on the line.
    unicode_before_error: 1, 36, "unknown site \"primäry\"";
    interval_too_short: 7, 12, "interval too short: expected at least 100ms";
    // References between tables.
    unknown_site: 8, 8, "unknown site \"tertiary\": expected one of primary, secondary";
    unknown_site_in_member: 8, 8, "unknown site \"primray\": expected one of primary";
    unknown_site_in_answers: 9, 10, "unknown site \"site-c\"";
    // Duplicates point at the second one.
    duplicate_health_name: 10, 8, "duplicate health check name \"api\"";
    duplicate_member_site: 13, 8, "two members on site \"primary\": give each one a name";
    duplicate_dns_record: 9, 8, "duplicate dns record api.failover.test. A";
    // Health checks.
    health_http_and_tcp: 8, 7, "either http or tcp, not both";
    health_no_target: 5, 8, "health check \"api-a\" has no target: expected http = \"URL\" or tcp = \"host:port\"";
    bad_url: 7, 8, "invalid URL \"http//127.0.0.1:18081/healthz\"";
    unsupported_scheme: 7, 8, "unsupported URL scheme \"ftp\"";
    tcp_without_port: 7, 7, "invalid tcp target \"127.0.0.1\": expected host:port";
    expect_status_range: 8, 17, "expect-status 700 is not an HTTP status: expected 100 to 599";
    expect_status_on_tcp: 5, 8, "expect-status applies only to http checks";
    threshold_zero: 8, 21, "threshold 0 out of range: expected 1 to 10";
    // Databases.
    unknown_db_kind: 6, 8, "unknown database kind \"mysql\": expected \"postgres\"";
    // DNS.
    bad_resolver: 6, 32, "invalid resolver \"ns1.example.com:53\": expected an IP address";
    bad_a_answer: 12, 14, "answers.secondary: \"10.0.2.300\" is not an A value";
    empty_resolvers: 6, 13, "resolvers is empty";
    unknown_record_type: 6, 8, "unsupported record type \"MX\": expected A, AAAA, CNAME or TXT";
    // AWS.
    route53_interval_too_short: 7, 12, "interval too short: expected at least 1s";
    route53_bad_zone_id: 6, 11, "invalid zone-id \"Z01 2345\": expected a hosted zone id";
    route53_unknown_field: 7, 1, "unknown field `set-identifier`, expected one of `name`, `zone-id`, `type`";
    aws_bad_endpoint_url: 6, 16, "invalid endpoint-url \"127.0.0.1:15055\"";
    // [[rds]] and [[cloudwatch]], and the gates that read them.
    cloudwatch_bad_period: 15, 10, "invalid CloudWatch period \"1m 30s\": expected 1s, 5s, 10s, 30s or a multiple of 60s";
    cloudwatch_bad_statistic: 15, 13, "unsupported statistic \"avg\": expected Average, Minimum, Maximum, Sum, SampleCount or a";
    cloudwatch_equal_thresholds: 14, 8, "crit equals warn: crit < warn means lower is worse, crit > warn higher is worse";
    cloudwatch_unknown_field: 15, 1, "unknown field `threshold`, expected one of `name`, `site`, `namespace`, `metric`,";
    cloudwatch_unknown_site: 15, 8, "unknown site \"tertiary\": expected one of primary, secondary";
    rds_bad_identifier: 11, 25, "invalid DB instance identifier \"orders_a\": expected letters, digits and single hyphens,";
    rds_empty_instances: 11, 13, "instances is empty: expected { site = \"db-instance-id\", ... }";
    rds_instance_twice: 15, 25, "DB instance \"orders-a\" is already read by an [[rds]] source: each instance once";
    rds_interval_too_short: 12, 12, "interval too short: expected at least 1s (default 30s)";
    rds_lag_max_age_short: 13, 15, "lag-max-age is shorter than lag-period: no datapoint could ever be fresh";
    rds_unknown_site: 11, 48, "unknown site \"tertiary\": expected one of primary, secondary";
    runbook_cloudwatch_no_check: 23, 8, "a cloudwatch gate needs check = \"name of a [[cloudwatch]]\"";
    runbook_cloudwatch_unknown_check: 24, 9, "unknown cloudwatch check \"canary\": no [[cloudwatch]] of that name";
    runbook_rds_no_instance_at_site: 21, 7, "rds \"orders\" has no instance at site \"secondary\"";
    runbook_rds_unknown: 21, 7, "unknown rds \"billing\": no [[rds]] of that name";
    // Runbooks.
    runbook_unknown_gate: 55, 8, "unknown gate \"vibes\": expected \"lag\", \"healthy\", \"route53-health\" or \"cloudwatch\"";
    runbook_route53_health_unknown_record: 61, 10, "no [[route53]] record www.failover.test.";
    runbook_two_kinds: 53, 1, "a step has exactly one of gate, action, wait or manual";
    runbook_dns_without_server: 55, 10, "a dns action needs server = \"ip:port\"";
    runbook_unknown_database: 56, 12, "unknown database \"billing\"";
    runbook_wait_unknown_record: 56, 10, "no [[dns]] record www.failover.test.";
    runbook_tsig_half: 55, 10, "tsig-key-name and tsig-secret-env go together";
    runbook_unknown_action: 55, 10, "unknown action \"reboot\"";
    runbook_rollback_gate: 58, 12, "a rollback is an action or a manual instruction, not a gate or a wait";
    // [objectives]
    objectives_bad_rto: 5, 7, "invalid duration \"5 minutes please\": expected a number with a unit";
    objectives_rpo_too_long: 5, 7, "duration \"2d\" too long: expected at most 1d (24h)";
    objectives_rpo_bytes_zero: 6, 13, "rpo-bytes is 0: expected more than 0";
    objectives_unknown_field: 6, 1, "unknown field `rtt`, expected one of `rto`, `rpo`, `rpo-bytes`";
}

refused! {
    SERVICE_CASES;
    // [[service]]: every name refers to a source or runbook, each claimed by one service.
    service_unknown_dns: 33, 30, "unknown dns record www.failover.test.: no [[dns]] or [[route53]] record of that name";
    service_unknown_database: 34, 12, "unknown database \"billing\": no [[database]] or [[rds]] of that name";
    service_unknown_health: 33, 23, "unknown health check \"api-east\": no [[health]], [[cloudwatch]] or [[alarm]] of that name";
    service_unknown_runbook: 33, 25, "unknown runbook \"failback\": no [[runbook]] of that name";
    service_unknown_field: 34, 1, "unknown field `databases`, expected one of `name`, `dns`, `database`, `health`, `runbooks`";
    service_dns_in_two: 40, 8, "dns record \"api.failover.test\" already belongs to service \"orders\"";
    service_database_in_two: 40, 12, "database \"orders\" already belongs to service \"orders\"";
    service_runbook_in_two: 40, 13, "runbook \"failover\" already belongs to service \"orders\"";
    service_duplicate_name: 39, 8, "duplicate service name \"orders\": names must be unique";
    service_empty_name: 39, 8, "empty service name";
    runbook_service_unknown: 25, 11, "unknown service \"billing\": no [[service]] of that name";
    runbook_service_listed_by_another: 40, 13, "runbook \"orders/failover\" already belongs to service \"orders\"";
    plan_unknown_service: 63, 39, "unknown service \"ledger\": no [[service]] of that name";
    plan_unknown_runbook: 63, 39, "unknown runbook \"failover\": no [[runbook]] of that name";
    plan_runbook_in_no_service: 63, 39, "runbook \"stray\" belongs to no service";
    plan_runbook_of_another_service: 63, 13, "runbook \"orders-failover\" belongs to service \"orders\", not to \"billing\"";
    plan_runbook_other_site: 63, 41, "runbook \"orders-failback\" goes to \"west\", not to the plan's \"east\"";
    plan_runbook_twice: 63, 67, "\"orders/orders-failover\" is listed twice in this plan";
    plan_empty: 63, 12, "plan \"evacuate-west\" lists no runbooks";
    plan_duplicate_name: 66, 8, "duplicate plan name \"evacuate-west\": names must be unique";
    plan_unknown_field: 64, 1, "unknown field `order`, expected one of `name`, `to`, `runbooks`, `parallel`";
    plan_unknown_site: 62, 6, "unknown site \"north\": expected one of west, east";
    plan_parallel: 64, 12, "parallel = true is not supported: a plan runs its runbooks one at a time";
    plan_entry_without_service: 63, 13, "\"orders-failover\": expected service/runbook";
}

#[test]
fn route53_example_is_accepted_with_the_aws_flags() {
    let path = dir().join("fixtures/route53-example.toml");
    let out = run(&[
        "check-config",
        "--config",
        path.to_str().unwrap(),
        "--profile",
        "ops",
        "--region",
        "eu-west-1",
    ]);
    no_panic(&out);
    assert_eq!(out.status.code(), Some(0), "stderr:\n{}", stderr(&out));
}

#[test]
fn issue4_runbook_example_is_accepted_as_written() {
    let path = dir().join("fixtures/issue4-example.toml");
    let out = run(&["check-config", "--config", path.to_str().unwrap()]);
    no_panic(&out);
    assert_eq!(out.status.code(), Some(0), "stderr:\n{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 runbooks)"));
}

/// A refused secret is never echoed: the first line as `refused`, and the excerpt shows the
/// offending line with the quoted value at `col` masked as "****"; the secret (hunter2 in every
/// case file) appears nowhere in the output.
fn refused_secret_at(path: &Path, name: &str, line: usize, col: usize, message: &str) {
    let path_text = path.display().to_string();
    let out = run(&["check-config", "--config", &path_text]);
    let err = stderr(&out);
    no_panic(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{name}: expected exit 1:\n{err}"
    );
    let first = err.lines().next().unwrap_or_default();
    assert!(
        first.starts_with(&format!("{path_text}:{line}:{col}: ")) && first.contains(message),
        "{name}: expected {path_text}:{line}:{col}: ...{message}... in:\n{err}"
    );
    let text = std::fs::read_to_string(path).unwrap();
    assert!(
        text.contains("hunter2"),
        "{name}: the case file holds no secret"
    );
    assert!(
        !err.contains("hunter2") && out.stdout.is_empty(),
        "{name}: the secret was echoed:\n{err}"
    );
    let shown: Vec<char> = text.lines().nth(line - 1).unwrap().chars().collect();
    let value_end = shown[col..].iter().position(|c| *c == '"').unwrap() + col + 1;
    let before: String = shown[..col - 1].iter().collect();
    let after: String = shown[value_end..].iter().collect();
    let excerpt = format!("{line} | {before}\"****\"{after}");
    assert!(
        err.lines().any(|l| l == excerpt),
        "{name}: expected the masked excerpt {excerpt:?} in:\n{err}"
    );
}

macro_rules! refused_secret {
    ($cases:ident; $($test:ident: $line:expr, $col:expr, $msg:expr;)*) => {
        const $cases: &[&str] = &[$(stringify!($test)),*];
        $(
            #[test]
            fn $test() {
                let path = dir().join("invalid_configs").join(format!("{}.toml", stringify!($test)));
                refused_secret_at(&path, stringify!($test), $line, $col, $msg);
            }
        )*
    };
}

refused_secret! {
    SECRET_CASES;
    password_in_dsn: 9, 7, "the dsn holds a password";
    password_in_dsn_url: 9, 7, "the dsn holds a password";
    // tokio-postgres decodes the key: its own parser finds the password.
    password_in_dsn_percent_encoded: 9, 7, "the dsn holds a password";
    health_url_with_password: 7, 8, "the URL holds a user:password@: `status --json` and the journal show a check's URL";
    health_url_with_token: 7, 8, "the URL holds a secret-looking query value (Access_Token=...)";
}

#[test]
fn no_sites_has_no_position() {
    let path = dir().join("invalid_configs/no_sites.toml");
    let out = run(&["check-config", "--config", path.to_str().unwrap()]);
    no_panic(&out);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!("{}: no [sites.<name>] tables", path.display())),
        "{err}"
    );
}

#[test]
fn missing_file() {
    let path = std::env::temp_dir().join("failover-console-tests-no-such-dir/nope.toml");
    let out = run(&["check-config", "--config", path.to_str().unwrap()]);
    no_panic(&out);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("nope.toml"), "{err}");
    assert!(err.contains("cannot read the config file"), "{err}");
    assert!(err.contains("No such file or directory"), "{err}");
}

#[test]
fn issue_example_is_accepted_as_written() {
    let path = dir().join("fixtures/issue3-example.toml");
    let out = run(&["check-config", "--config", path.to_str().unwrap()]);
    no_panic(&out);
    assert_eq!(out.status.code(), Some(0), "stderr:\n{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(
            "OK (2 sites, 2 health checks, 1 databases with 2 members, 1 dns records, 0 runbooks)"
        ),
        "{stdout}"
    );
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
}

#[test]
fn issue_example_parses_to_what_it_says() {
    let path = dir().join("fixtures/issue3-example.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let c = failover_console::config::from_str(&text, &path).unwrap();
    assert_eq!(c.title, "orders: site A / site B");
    assert_eq!(
        c.journal,
        dir().join("fixtures/journal.jsonl"),
        "journal is relative to the config file"
    );
    assert_eq!(c.theme, "dark");
    assert_eq!(
        c.sites
            .iter()
            .map(|s| (s.key.as_str(), s.label.as_str()))
            .collect::<Vec<_>>(),
        [("primary", "site A"), ("secondary", "site B")]
    );
    let api = &c.kinds.health[0];
    assert_eq!(api.name, "api-a");
    assert_eq!((api.failure_threshold, api.success_threshold), (3, 2));
    assert_eq!(api.interval, std::time::Duration::from_secs(1));
    assert_eq!(api.timeout, std::time::Duration::from_millis(500));
    assert!(matches!(
        &api.target,
        failover_core::kinds::health::Target::Http {
            expect_status: 200,
            ..
        }
    ));
    assert!(
        matches!(&c.kinds.health[1].target, failover_core::kinds::health::Target::Tcp { addr } if addr == "127.0.0.1:54322")
    );
    let db = &c.kinds.postgres[0];
    assert_eq!(db.max_lag_bytes, 1_048_576);
    assert_eq!(db.max_lag, std::time::Duration::from_secs(30));
    assert_eq!(
        db.members.iter().map(|m| m.site).collect::<Vec<_>>(),
        [0, 1]
    );
    let dns = &c.kinds.dns[0];
    assert_eq!(dns.name, "api.failover.test.");
    assert_eq!(dns.resolvers, ["127.0.0.1:5353".parse().unwrap()]);
    assert_eq!(
        dns.answers,
        [
            (0, vec!["10.0.1.100".to_string()]),
            (1, vec!["10.0.2.100".to_string()])
        ]
    );
}

#[test]
fn shipped_config_is_accepted() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml");
    let out = run(&["check-config", "--config", path.to_str().unwrap()]);
    no_panic(&out);
    assert_eq!(out.status.code(), Some(0), "stderr:\n{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains(": OK ("));
}

#[test]
fn status_on_bad_config_is_unknown() {
    let path = dir().join("invalid_configs/bad_url.toml");
    let out = run(&["status", "--config", path.to_str().unwrap()]);
    no_panic(&out);
    assert_eq!(
        out.status.code(),
        Some(3),
        "status must exit 3 (UNKNOWN) on a bad config; stderr:\n{}",
        stderr(&out)
    );
    let err = stderr(&out);
    assert!(
        err.contains(&format!("{}:7:8: invalid URL", path.display())),
        "{err}"
    );
}

#[test]
fn status_json_on_bad_config_is_unknown() {
    let path = dir().join("invalid_configs/threshold_zero.toml");
    let out = run(&["status", "--json", "--config", path.to_str().unwrap()]);
    no_panic(&out);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("threshold 0 out of range"));
}

#[test]
fn tui_on_bad_config_exits_before_the_terminal() {
    let path = dir().join("invalid_configs/unknown_site.toml");
    let out = run(&["--config", path.to_str().unwrap()]);
    no_panic(&out);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains(":8:8: unknown site \"tertiary\""), "{err}");
    assert!(
        out.stdout.is_empty(),
        "the terminal was touched: {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// A copy of the example config in a temp dir, so that if the console did get past its checks,
/// its journal and log would land there and not in the repository.
fn scratch_config() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("config.toml");
    std::fs::copy(dir().join("fixtures/issue3-example.toml"), &path).unwrap();
    (tmp, path)
}

#[test]
fn unknown_theme_fails_before_the_terminal() {
    let (tmp, path) = scratch_config();
    let out = run(&["--config", path.to_str().unwrap(), "--theme", "nosuch"]);
    no_panic(&out);
    assert_eq!(out.status.code(), Some(1), "stderr:\n{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("unknown theme \"nosuch\": expected one of dark, light, high-contrast, mono"),
        "{err}"
    );
    assert!(
        !err.contains("terminal"),
        "failed on the terminal, not the theme: {err}"
    );
    assert!(
        out.stdout.is_empty(),
        "the terminal was touched: {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        !tmp.path().join("journal.jsonl").exists(),
        "the console started (journal opened) before refusing the theme"
    );
}

#[test]
fn missing_theme_file_fails_before_the_terminal() {
    let (tmp, path) = scratch_config();
    let theme = tmp.path().join("nosuch-theme.toml");
    let out = run(&[
        "--config",
        path.to_str().unwrap(),
        "--theme",
        theme.to_str().unwrap(),
    ]);
    no_panic(&out);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("cannot read theme") && err.contains("nosuch-theme.toml"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn unknown_theme_in_config_is_refused_by_check_config() {
    let (tmp, path) = scratch_config();
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("theme = \"dark\"", "theme = \"neon\"");
    std::fs::write(&path, text).unwrap();
    let out = run(&["check-config", "--config", path.to_str().unwrap()]);
    no_panic(&out);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("config.toml") && err.contains("unknown theme \"neon\""),
        "{err}"
    );
    drop(tmp);
}

/// Case files with a test of their own rather than a line in `refused!`.
const OTHER_CASES: &[&str] = &["no_sites"];

#[test]
fn every_invalid_config_is_refused_without_panic() {
    // Every case file is one this file tests, and every tested case has its file: a file added
    // without a test, or a test whose file is gone, fails here by name.
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir().join("invalid_configs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        files.push(path);
    }
    let mut on_disk: Vec<String> = files
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut tested: Vec<String> = [
        CASES,
        AWS_ACTION_CASES,
        SECRET_CASES,
        BOUND_CASES,
        OTHER_CASES,
        WRITABLE_CASES,
        SERVICE_CASES,
    ]
    .concat()
    .iter()
    .map(|c| c.to_string())
    .collect();
    tested.sort();
    let untested: Vec<&String> = on_disk.iter().filter(|f| !tested.contains(f)).collect();
    let missing: Vec<&String> = tested.iter().filter(|t| !on_disk.contains(t)).collect();
    assert!(
        untested.is_empty() && missing.is_empty(),
        "case files without a test: {untested:?}; tested cases without a file: {missing:?}"
    );
    assert_eq!(on_disk, tested, "each case once");
    let mut count = 0;
    for path in files {
        count += 1;
        for args in [&["check-config"][..], &["status"][..]] {
            let mut all: Vec<&str> = args.to_vec();
            all.extend(["--config", path.to_str().unwrap()]);
            let out = run(&all);
            no_panic(&out);
            let want = if args[0] == "status" { 3 } else { 1 };
            assert_eq!(
                out.status.code(),
                Some(want),
                "{} {}: stderr:\n{}",
                args[0],
                path.display(),
                stderr(&out)
            );
            assert!(
                stderr(&out).starts_with(&path.display().to_string()),
                "{}: {}",
                path.display(),
                stderr(&out)
            );
        }
    }
    assert_eq!(
        count,
        CASES.len()
            + AWS_ACTION_CASES.len()
            + SECRET_CASES.len()
            + BOUND_CASES.len()
            + OTHER_CASES.len()
            + WRITABLE_CASES.len()
            + SERVICE_CASES.len(),
        "every case file was run"
    );
}

#[test]
fn unknown_theme_fails_even_with_no_color() {
    // NO_COLOR replaces the theme, but a theme the operator named must still exist.
    let (tmp, path) = scratch_config();
    let out = Command::new(BIN)
        .args(["--config", path.to_str().unwrap(), "--theme", "nosuch"])
        .env("NO_COLOR", "1")
        .env("XDG_STATE_HOME", tmp.path())
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    no_panic(&out);
    assert_eq!(out.status.code(), Some(1), "stderr:\n{}", stderr(&out));
    assert!(
        stderr(&out).contains("unknown theme \"nosuch\""),
        "{}",
        stderr(&out)
    );
    assert!(
        !tmp.path().join("journal.jsonl").exists(),
        "the console started before refusing the theme"
    );
}

#[test]
fn no_terminal_is_a_clean_error_not_a_panic() {
    // Only a site: no pollers, so nothing touches the network.
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("config.toml");
    std::fs::write(&path, "[sites.primary]\nlabel = \"site A\"\n").unwrap();
    let out = Command::new(BIN)
        .args(["--config", path.to_str().unwrap(), "--operator", "tester"])
        .env_remove("NO_COLOR")
        .env("XDG_STATE_HOME", tmp.path())
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    no_panic(&out);
    assert_eq!(out.status.code(), Some(1), "stderr:\n{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot start the terminal"),
        "{}",
        stderr(&out)
    );
    assert!(
        out.stdout.is_empty(),
        "escape codes written to a non-terminal: {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    // The journal has the start and the stop, with why.
    let journal = std::fs::read_to_string(tmp.path().join("journal.jsonl")).unwrap();
    // (A LIVE console also takes the driver lock and says so.)
    let lines: Vec<&str> = journal
        .lines()
        .filter(|l| !l.contains("\"source\":\"lock\""))
        .collect();
    assert_eq!(lines.len(), 2, "{journal}");
    assert!(lines[0].contains("\"started (LIVE"), "{journal}");
    assert!(
        lines[1].contains("\"stopped: cannot start the terminal"),
        "{journal}"
    );
}

/// docs/aws.md's `[[rds]]` and `[[cloudwatch]]` examples and their gates, exactly as written
/// there, make a config the binary accepts.
#[test]
fn aws_doc_rds_and_cloudwatch_examples_are_accepted_as_written() {
    let readme = std::fs::read_to_string(dir().join("../docs/aws.md")).expect("read docs/aws.md");
    let blocks: Vec<&str> = readme
        .split("```toml\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .collect();
    let find = |start: &str, needle: &str| -> String {
        blocks
            .iter()
            .find(|b| b.starts_with(start) && b.contains(needle))
            .unwrap_or_else(|| {
                panic!("no docs/aws.md toml block starting {start:?} with {needle:?}")
            })
            .to_string()
    };
    let text = format!(
        "[sites.primary]\n[sites.secondary]\n[aws]\nregion = \"us-east-1\"\n{}{}\
         [[runbook]]\nname = \"aws\"\nfrom = \"primary\"\nto = \"secondary\"\n{}{}",
        find("[[rds]]", "instances"),
        find("[[cloudwatch]]", "dimensions"),
        find("[[runbook.step]]", "rds = "),
        find("[[runbook.step]]", "gate = \"cloudwatch\""),
    );
    let path = std::env::temp_dir().join(format!(
        "failover-console-readme-aws-{}.toml",
        std::process::id()
    ));
    std::fs::write(&path, &text).expect("write the config");
    let out = run(&["check-config", "--config", path.to_str().unwrap()]);
    no_panic(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}\nstderr:\n{}",
        stderr(&out)
    );
    let _ = std::fs::remove_file(&path);
}

// The AWS runbook actions (route53, rds-promote, rds-failover).
refused! {
    AWS_ACTION_CASES;
    runbook_route53_without_record: 28, 10, "a route53 action needs record = \"name.\" of a [[route53]] record";
    runbook_route53_unknown_record: 29, 10, "no [[route53]] record www.failover.test.: a route53 action changes a record the console reads";
    runbook_route53_unknown_mode: 30, 8, "unknown mode \"failover\": expected \"upsert\", \"disable-health-check\" or \"enable-health-check\"";
    runbook_route53_check_id_on_upsert: 30, 19, "health-check-id goes with mode = \"disable-health-check\" or \"enable-health-check\"";
    runbook_route53_without_dns: 29, 10, "a route53 UPSERT needs a [[dns]] record api.failover.test. A";
    runbook_rds_promote_without_instance: 28, 10, "an rds-promote action needs instance = \"name\" of the read replica to promote";
    runbook_rds_failover_without_target: 28, 10, "an rds-failover action needs target = \"name\" of the instance to make the writer";
    runbook_rds_bad_identifier: 29, 12, "invalid instance \"orders_b\": expected an RDS identifier";
    runbook_rds_key_of_another_action: 30, 11, "cluster does not apply to action = \"rds-promote\"";
    runbook_aws_action_bad_endpoint: 31, 16, "invalid endpoint-url \"127.0.0.1:15055\"";
}

// `wait = "writable"`: a [[database]] kind = "postgres" with a member at the site.
refused! {
    WRITABLE_CASES;
    runbook_writable_without_database: 25, 8, "a writable wait needs database = \"name\" of a [[database]] kind = \"postgres\"";
    runbook_writable_unknown_database: 26, 12, "unknown database \"billing\": no [[database]] kind = \"postgres\" of that name";
    runbook_writable_no_member_at_site: 27, 8, "database \"orders\" has no member at site \"tertiary\"";
    runbook_writable_key_of_another_step: 27, 10, "\"record\" is not a key of a writable wait (record does not apply to wait = \"writable\"; keys: title, wait, database, site, timeout, rollback)";
    runbook_writable_patroni_database: 32, 12, "database \"lab\" is kind = \"patroni\": the console reaches it only through Patroni's REST API";
    runbook_writable_rds_source: 33, 12, "\"billing\" is an [[rds]] source: the console reads it through the AWS APIs and has no dsn for its instances";
}

// Patroni clusters (`[[database]] kind = "patroni"`) and their runbook steps, as text.

const PATRONI_SITES: &str =
    "[sites.primary]\nlabel = \"site A\"\n[sites.secondary]\nlabel = \"site B\"\n";

/// PATRONI_SITES, then a database of the lab's pair with `extra` lines after `kind`.
fn patroni_db(extra: &str) -> String {
    format!("{PATRONI_SITES}\n[[database]]\nname = \"lab\"\nkind = \"patroni\"\n{extra}")
}

const PATRONI_MEMBERS: &str = "members = [\"http://127.0.0.1:18008\", \"http://127.0.0.1:18009\"]\nsites = { p1 = \"primary\", p2 = \"secondary\" }\n";

/// A runbook with one step of `step` lines, after a valid Patroni cluster "lab".
fn patroni_step(step: &str) -> String {
    format!(
        "{}\n[[runbook]]\nname = \"switchover\"\nfrom = \"primary\"\nto = \"secondary\"\n\n[[runbook.step]]\n{step}",
        patroni_db(PATRONI_MEMBERS)
    )
}

#[test]
fn patroni_without_members() {
    // Line 8: kind = "patroni"; the error points at its value.
    refused_text(
        "patroni_without_members",
        &patroni_db("sites = { p1 = \"primary\" }\n"),
        8,
        8,
        "a patroni database needs members = [\"http://host:8008\", ...]: every member's REST API",
    );
}

#[test]
fn patroni_member_url_with_credentials() {
    let name = "patroni_member_url_with_credentials";
    let text = patroni_db(
        "members = [\"http://127.0.0.1:18008\", \"http://admin:hunter2@127.0.0.1:18009\"]\n",
    );
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join(format!("{name}.toml"));
    std::fs::write(&path, &text).unwrap();
    refused_secret_at(
        &path,
        name,
        9,
        38,
        "credentials never sit in the file: use user = \"...\" and password-env = \"NAME\"",
    );
}

#[test]
fn patroni_with_database_member_tables() {
    let text = patroni_db(&format!(
        "{PATRONI_MEMBERS}\n[[database.member]]\nsite = \"primary\"\ndsn = \"host=127.0.0.1 port=54331 user=postgres\"\n"
    ));
    // Line 13: the member's site.
    refused_text(
        "patroni_with_database_member_tables",
        &text,
        13,
        8,
        "a patroni database lists its REST endpoints in members = [\"http://host:8008\", ...], not [[database.member]]",
    );
}

#[test]
fn patroni_user_without_password_env() {
    let text = patroni_db(&format!("{PATRONI_MEMBERS}user = \"patroni\"\n"));
    refused_text(
        "patroni_user_without_password_env",
        &text,
        11,
        8,
        "user needs password-env = \"NAME\" (the password is never in the file)",
    );
}

#[test]
fn patroni_failover_with_leader() {
    let text = patroni_step(
        "title = \"Fail over to p2\"\naction = \"patroni-failover\"\ndatabase = \"lab\"\ncandidate = \"p2\"\nleader = \"p1\"\n",
    );
    // Line 22: leader = "p1".
    refused_text(
        "patroni_failover_with_leader",
        &text,
        22,
        10,
        "a failover names only its candidate; leader = \"...\" is for patroni-switchover",
    );
}

#[test]
fn patroni_step_naming_an_unknown_database() {
    let text = patroni_step(
        "title = \"Switch over to p2\"\naction = \"patroni-switchover\"\ndatabase = \"nosuch\"\n",
    );
    // Line 20: database = "nosuch".
    refused_text(
        "patroni_step_naming_an_unknown_database",
        &text,
        20,
        12,
        "no kind = \"patroni\" database \"nosuch\"",
    );
}

#[test]
fn patroni_step_without_a_database() {
    let text = patroni_step("title = \"Switch over to p2\"\naction = \"patroni-switchover\"\n");
    // Line 19: the action.
    refused_text(
        "patroni_step_without_a_database",
        &text,
        19,
        10,
        "this step needs database = \"name\" of a kind = \"patroni\" database",
    );
}

#[test]
fn patroni_example_is_accepted_as_written() {
    let path = dir().join("../examples/patroni.toml");
    let out = run(&["check-config", "--config", path.to_str().unwrap()]);
    no_panic(&out);
    assert_eq!(out.status.code(), Some(0), "stderr:\n{}", stderr(&out));
}

// A key that belongs to another kind of step is refused where it stands, naming the keys the
// step does take (issue 13).

#[test]
fn a_key_of_another_step_kind_is_refused_with_the_keys_this_kind_takes() {
    let text = patroni_step(
        "title = \"Switch over to p2\"\naction = \"patroni-switchover\"\ndatabase = \"lab\"\nttl = 30\n",
    );
    // Line 21: ttl = 30, a dns action's key; the error points at its value.
    refused_text(
        "patroni_switchover_with_ttl",
        &text,
        21,
        7,
        "\"ttl\" is not a key of a patroni-switchover step (ttl does not apply to action = \"patroni-switchover\"; keys: title, action, database, candidate, leader, timeout, rollback)",
    );
}

#[test]
fn a_gate_takes_no_timeout_and_a_manual_step_only_its_text() {
    let gate = patroni_step("title = \"Site B healthy\"\ngate = \"healthy\"\ntimeout = \"5s\"\n");
    refused_text(
        "healthy_gate_with_timeout",
        &gate,
        20,
        11,
        "\"timeout\" is not a key of a healthy gate (timeout does not apply to gate = \"healthy\"; keys: title, gate, site, rollback)",
    );
    let manual = patroni_step(
        "title = \"Tell the team\"\nmanual = \"Post in #incident\"\nsite = \"secondary\"\n",
    );
    refused_text(
        "manual_step_with_site",
        &manual,
        20,
        8,
        "\"site\" is not a key of a manual step (keys: title, manual, rollback)",
    );
}

#[test]
fn a_rollback_is_held_to_its_own_kind_of_step() {
    let text = patroni_step(
        "title = \"Switch over to p2\"\naction = \"patroni-switchover\"\ndatabase = \"lab\"\nrollback = { action = \"exec\", command = \"true\", record = \"api.failover.test.\" }\n",
    );
    // Line 21: the rollback's record = "...", an exec action has none.
    refused_text(
        "rollback_with_a_key_of_another_kind",
        &text,
        21,
        58,
        "\"record\" is not a key of an exec step (record does not apply to action = \"exec\"; keys: title, action, command, cwd, env, timeout, rollback)",
    );
}

// `[[alarm]]`: CloudWatch alarms by name or by prefix.

const ALARM_SITES: &str = "[sites.primary]\nlabel = \"site A\"\n[sites.secondary]\nlabel = \"site B\"\n[aws]\nregion = \"us-east-1\"\n";

#[test]
fn alarm_sources_are_checked_where_they_stand() {
    let cases: [(&str, &str, usize, usize, &str); 5] = [
        (
            "alarm_without_alarms",
            "[[alarm]]\nname = \"orders\"\nsite = \"primary\"\n",
            8,
            8,
            "alarm \"orders\" names no alarm: expected alarm-names = [\"...\"] or alarm-prefix = \"...\"",
        ),
        (
            "alarm_with_names_and_prefix",
            "[[alarm]]\nname = \"orders\"\nalarm-names = [\"a\"]\nalarm-prefix = \"orders-\"\n",
            10,
            16,
            "an [[alarm]] has alarm-names = [...] or alarm-prefix = \"...\", not both",
        ),
        (
            "alarm_named_twice",
            "[[alarm]]\nname = \"orders\"\nalarm-names = [\"orders-5xx\", \"orders-5xx\"]\n",
            9,
            30,
            "alarm \"orders-5xx\" is listed twice",
        ),
        (
            "alarm_unknown_site",
            "[[alarm]]\nname = \"orders\"\nsite = \"tertiary\"\nalarm-prefix = \"orders-\"\n",
            9,
            8,
            "unknown site \"tertiary\": expected one of primary, secondary",
        ),
        (
            "alarm_interval_too_short",
            "[[alarm]]\nname = \"orders\"\nalarm-prefix = \"orders-\"\ninterval = \"500ms\"\n",
            10,
            12,
            "interval too short: expected at least 1s",
        ),
    ];
    for (name, table, line, col, message) in cases {
        refused_text(name, &format!("{ALARM_SITES}{table}"), line, col, message);
    }
}

#[test]
fn alarm_sources_are_counted_by_check_config() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("alarms.toml");
    std::fs::write(
        &path,
        format!(
            "{ALARM_SITES}[[alarm]]\nname = \"orders-a\"\nsite = \"primary\"\nalarm-names = [\"orders-a-5xx\"]\n[[alarm]]\nname = \"orders-b\"\nalarm-prefix = \"orders-b-\"\n"
        ),
    )
    .unwrap();
    let out = run(&["check-config", "--config", path.to_str().unwrap()]);
    no_panic(&out);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("0 health checks, 0 databases with 0 members, 0 dns records, 2 alarm sources, 0 runbooks"),
        "{stdout}"
    );
}

#[test]
fn war_room_example_is_the_shipped_config_plus_the_war_room_table() {
    let shipped = std::fs::read_to_string(dir().join("../config.toml")).expect("config.toml");
    let path = dir().join("../examples/war-room.toml");
    let example = std::fs::read_to_string(&path).expect("examples/war-room.toml");
    assert!(
        example.starts_with(&shipped),
        "examples/war-room.toml no longer starts with config.toml as shipped"
    );
    assert!(example[shipped.len()..].contains("\n[war-room]\n"));
    let out = run(&["check-config", "--config", path.to_str().unwrap()]);
    no_panic(&out);
    assert_eq!(out.status.code(), Some(0), "stderr:\n{}", stderr(&out));
    let config = failover_console::config::load(&path).expect("loads");
    let war_room = config.war_room.expect("[war-room]");
    assert_eq!(war_room.etcd.len(), 3);
}

// Issue 15: every duration has a bound, named in the message; credentials never cross a
// network in clear.
refused! {
    BOUND_CASES;
    interval_too_long: 8, 12, "duration \"18446744073709551615s\" too long: expected at most 1d (24h)";
    health_timeout_too_long: 8, 11, "timeout too long: expected at most 1h";
    cloudwatch_period_too_long: 15, 10, "duration \"18446744073709551615s\" too long: expected at most 1d";
    patroni_timeout_too_long: 8, 11, "duration \"99999999999999s\" too long: expected at most 1d";
    patroni_basic_auth_over_plain_http: 7, 37, "basic auth over plain http to a host that is not this machine";
    aws_endpoint_url_plain_http: 6, 16, "endpoint-url over plain http to a host that is not this machine";
}

#[test]
fn an_invalid_url_that_may_hold_credentials_is_not_shown() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("health_url_invalid_with_password.toml");
    std::fs::write(
        &path,
        "[sites.primary]\n[[health]]\nname = \"api\"\nsite = \"primary\"\nhttp = \"http://admin:hunter2@[::1:18081/healthz\"\n",
    )
    .unwrap();
    refused_secret_at(
        &path,
        "health_url_invalid_with_password",
        5,
        8,
        "invalid URL (not shown: it may hold credentials): invalid IPv6 address",
    );
}

#[test]
fn a_step_timeout_longer_than_a_day_is_refused() {
    let text = patroni_step(
        "title = \"Switch over to p2\"\naction = \"patroni-switchover\"\ndatabase = \"lab\"\ntimeout = \"25h\"\n",
    );
    // Line 21: timeout = "25h".
    refused_text(
        "step_timeout_too_long",
        &text,
        21,
        11,
        "duration \"25h\" too long: expected at most 1d (24h)",
    );
}

#[test]
fn war_room_credentials_over_plain_http_are_refused_except_to_loopback() {
    let war_room = |etcd: &str| {
        format!(
            "[sites.primary]\n[war-room]\netcd = [\"{etcd}\"]\nprefix = \"/fc/orders\"\nuser = \"console\"\npassword-env = \"ETCD_PASSWORD\"\n"
        )
    };
    refused_text(
        "war_room_plain_http",
        &war_room("http://10.0.0.7:2379"),
        3,
        9,
        "user and password over plain http to a host that is not this machine",
    );
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("loopback.toml");
    std::fs::write(&path, war_room("http://127.0.0.1:2379")).unwrap();
    let out = run(&["check-config", "--config", path.to_str().unwrap()]);
    no_panic(&out);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// check-config refuses a journal the console could not open, as the console would.
#[test]
fn check_config_refuses_a_journal_that_is_a_directory() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("journal.jsonl")).unwrap();
    let path = tmp.path().join("config.toml");
    std::fs::write(&path, "[sites.primary]\n").unwrap();
    let out = run(&["check-config", "--config", path.to_str().unwrap()]);
    no_panic(&out);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!("{}: console.journal: ", path.display()))
            && err.contains("journal.jsonl is a directory: expected a file"),
        "{err}"
    );
    // The console itself refuses it too (before the terminal: stdin is not one).
    let out = run(&["--config", path.to_str().unwrap()]);
    no_panic(&out);
    assert_ne!(out.status.code(), Some(0), "{}", stderr(&out));

    // Under a file: it could never be created.
    std::fs::write(
        &path,
        "[console]\njournal = \"config.toml/journal.jsonl\"\n[sites.primary]\n",
    )
    .unwrap();
    let out = run(&["check-config", "--config", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is a file, not a directory"),
        "{}",
        stderr(&out)
    );
}

/// A source's `*-env` that is unset: `status` and the console refuse to start, naming the
/// variable; check-config (which may run where secrets are not set) warns and passes.
#[test]
fn an_unset_password_env_stops_the_start_and_check_config_warns() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("config.toml");
    let var = "FAILOVER_TEST_UNSET_PATRONI_PASSWORD";
    std::fs::write(
        &path,
        format!(
            "[sites.primary]\n[[database]]\nname = \"lab\"\nkind = \"patroni\"\nmembers = [\"http://127.0.0.1:1\"]\nuser = \"patroni\"\npassword-env = \"{var}\"\n"
        ),
    )
    .unwrap();
    let config = path.to_str().unwrap();
    let run_unset = |args: &[&str]| {
        let state = tmp.path().join("state");
        Command::new(BIN)
            .args(args)
            .env_remove(var)
            .env("XDG_STATE_HOME", &state)
            .env("RUST_BACKTRACE", "0")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let out = run_unset(&["check-config", "--config", config]);
    no_panic(&out);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "warning: password-env {var} (database \"lab\") is unset"
        )),
        "{}",
        stderr(&out)
    );
    for (args, code) in [
        (vec!["status", "--config", config], 3),
        (vec!["--config", config], 1),
    ] {
        let out = run_unset(&args);
        no_panic(&out);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
        assert!(
            err.contains(&format!(
                "${var} not set: the console does not start without it"
            )),
            "{args:?}: {err}"
        );
        assert!(out.stdout.is_empty(), "{args:?}: nothing on stdout");
    }
    assert!(
        !tmp.path().join("journal.jsonl").exists(),
        "refused before the journal was opened"
    );
}
