//! Secrets stay out of what the console shows and journals, driven by keys through the engine:
//! an exec step that runs `env` gets only PATH, HOME, LANG, TERM and what its step lists, and a
//! known secret it prints is masked in the run pane and the journal; webhooks on the lab's nginx
//! are journaled as `scheme://host/…`, never with their path, query, headers or body secrets.

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Once};
use std::time::Duration;

use common::keys::{arm, do_step, key, run_dump, step_status};
use common::screen::render;
use crossterm::event::KeyCode;
use failover_console::engine::{Engine, Live};
use failover_core::runbook::StepStatus;
use failover_core::theme::{Theme, View};

/// Set in the console's environment (once, before any console starts).
const TOKEN: (&str, &str) = ("SECRETS_TEST_TOKEN", "tok-Qx9-listed-secret");
const TSIG: (&str, &str) = ("SECRETS_TEST_TSIG", "tsig-Zk4-secret");
const HOOK_URL: (&str, &str) = (
    "SECRETS_TEST_HOOK_URL",
    "http://127.0.0.1:9/hook/url-Hh5-secret",
);
const AWS_KEY: (&str, &str) = ("AWS_SECRET_ACCESS_KEY", "aws-Wm7-secret-key");
const UNLISTED: (&str, &str) = ("SECRETS_TEST_UNLISTED", "unlisted-Yy2-value");
const VISIBLE: (&str, &str) = ("SECRETS_TEST_VISIBLE", "visible-Pp3-value");

fn set_env() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: done once, before any console of this test binary starts or reads these
        // variables; Rust's std serialises its own environment accesses.
        unsafe {
            for (name, value) in [TOKEN, TSIG, HOOK_URL, AWS_KEY, UNLISTED, VISIBLE] {
                std::env::set_var(name, value);
            }
        }
    });
}

fn view() -> View {
    View {
        theme: Theme::mono(),
        ascii: true,
    }
}

const HEAD: &str = r#"
[console]
title = "secrets test"
journal = "journal.jsonl"

[sites.primary]
label = "site A"
[sites.secondary]
label = "site B"

[[health]]
name = "nothing"
site = "primary"
tcp = "127.0.0.1:9"
interval = "1s"
timeout = "200ms"
"#;

fn write(dir: &Path, runbooks: &str) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(&path, format!("{HEAD}{runbooks}")).expect("write the config");
    path
}

async fn driving(path: &Path) -> Engine {
    set_env();
    let config = Arc::new(failover_console::config::load(path).expect("config loads"));
    let mut engine = Engine::<Live>::start(config, "secrets-test".into(), view())
        .await
        .expect("engine starts");
    let driving = engine
        .run_until(Duration::from_secs(5), |m| m.driver.token().is_some())
        .await;
    assert!(driving, "the console drives{}", run_dump(&engine.model));
    engine
}

async fn armed(engine: &mut Engine, runbook: usize) {
    arm(engine, runbook, "secondary", "secrets test").await;
    let armed = engine
        .run_until(Duration::from_secs(5), |m| {
            m.runs.current.as_ref().is_some_and(|r| r.is_active())
        })
        .await;
    assert!(armed, "the run is armed{}", run_dump(&engine.model));
}

/// Enter on the step, then wait until it has failed.
async fn failing_step(engine: &mut Engine, step: usize) {
    key(engine, KeyCode::Enter).await;
    let failed = engine
        .run_until(Duration::from_secs(30), |m| {
            step_status(m, step) == Some(StepStatus::Failed) && m.runs.in_flight.is_none()
        })
        .await;
    assert!(
        failed,
        "step {} did not fail{}",
        step + 1,
        run_dump(&engine.model)
    );
}

fn journal_text(path: &Path) -> String {
    std::fs::read_to_string(path.with_file_name("journal.jsonl")).expect("read the journal")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exec_step_gets_only_what_it_lists_and_known_secrets_are_masked() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The TSIG variable and the token are secrets because the config names them in a `*-env`;
    // AWS_SECRET_ACCESS_KEY always is. The second step's program is named after the TSIG
    // secret, so that its failure's text holds it.
    let path = write(
        dir.path(),
        &format!(
            r#"
[[runbook]]
name = "show-env"
from = "primary"
to = "secondary"

[[runbook.step]]
title = "Print the environment"
action = "exec"
command = ["env"]
env = ["{visible}", "{token}"]

[[runbook.step]]
title = "Run a missing program"
action = "exec"
command = ["/nonexistent/{tsig_value}"]

[[runbook]]
name = "notify"
from = "primary"
to = "secondary"

[[runbook.step]]
title = "Notify"
action = "http"
url-env = "{hook}"
header-env = {{ Authorization = "{token}", X-Tsig = "{tsig}" }}
"#,
            visible = VISIBLE.0,
            token = TOKEN.0,
            tsig = TSIG.0,
            tsig_value = TSIG.1,
            hook = HOOK_URL.0,
        ),
    );
    let mut engine = driving(&path).await;
    armed(&mut engine, 0).await;
    do_step(&mut engine, 0).await;
    // The run pane holds the output of the latest step: read it before the next starts.
    let output = engine
        .model
        .runs
        .current
        .as_ref()
        .map(|r| r.output.clone())
        .unwrap_or_default();
    let mut screen = render(&engine.model, 160, 50);
    failing_step(&mut engine, 1).await;
    screen.push_str(&render(&engine.model, 160, 50));
    engine.shutdown("test done").await;
    let journal = journal_text(&path);

    let mut names: Vec<&str> = output
        .iter()
        .filter_map(|l| l.split_once('=').map(|(n, _)| n))
        .collect();
    names.sort();
    let mut expected: Vec<&str> = ["PATH", "HOME", "LANG", "TERM"]
        .into_iter()
        .filter(|n| std::env::var_os(n).is_some())
        .chain([TOKEN.0, VISIBLE.0])
        .collect();
    expected.sort();
    assert_eq!(
        names, expected,
        "the child's whole environment: {output:#?}"
    );
    assert!(
        output.contains(&format!("{}={}", VISIBLE.0, VISIBLE.1)),
        "a listed variable is passed and shown: {output:#?}"
    );
    assert!(
        output.contains(&format!("{}=•••", TOKEN.0)),
        "a listed secret is passed, and masked in the run pane: {output:#?}"
    );
    for (what, text) in [("run pane", screen.as_str()), ("journal", journal.as_str())] {
        for secret in [TOKEN.1, TSIG.1, AWS_KEY.1, HOOK_URL.1, UNLISTED.1] {
            assert!(!text.contains(secret), "{secret} in the {what}:\n{text}");
        }
        assert!(
            !text.contains(UNLISTED.0),
            "{} in the {what}:\n{text}",
            UNLISTED.0
        );
    }
    assert!(
        screen.contains(&format!("{}={}", VISIBLE.0, VISIBLE.1)),
        "the run pane shows the output:\n{screen}"
    );
    assert!(
        journal.contains("cannot run /nonexistent/•••: not found"),
        "the failure is journaled, masked:\n{journal}"
    );
}

#[test]
fn env_names_are_checked_in_the_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    let step = |keys: &str| {
        format!(
            r#"
[[runbook]]
name = "r"
from = "primary"
to = "secondary"

[[runbook.step]]
title = "s"
{keys}
"#
        )
    };
    for (keys, message) in [
        (
            r#"action = "exec"
command = ["true"]
env = ["DEPLOY-TAG"]"#,
            "env: \"DEPLOY-TAG\" is not an environment variable name",
        ),
        (
            r#"action = "exec"
command = ["true"]
env = ["TAG", "TAG"]"#,
            "env: \"TAG\" is listed twice",
        ),
        (
            r#"action = "exec"
command = ["true"]
env = [""]"#,
            "env: an empty variable name",
        ),
        (
            r#"action = "http"
url-env = "2URL""#,
            "url-env: \"2URL\" is not an environment variable name",
        ),
        (
            r#"action = "http"
url = "https://hooks.example/x"
url-env = "URL""#,
            "url and url-env: give one of them, not both",
        ),
        (
            r#"action = "http""#,
            "an http action needs url = \"...\" or url-env = \"VARIABLE\"",
        ),
        (
            r#"action = "http"
url-env = "URL"
headers = { authorization = "x" }
header-env = { Authorization = "AUTH" }"#,
            "header Authorization is given in both headers and header-env",
        ),
        (
            r#"action = "http"
url-env = "URL"
header-env = { Authorization = "A=B" }"#,
            "header-env: \"A=B\" is not an environment variable name",
        ),
        (
            r#"action = "dns"
env = ["X"]"#,
            "\"env\" is not a key of a dns step",
        ),
    ] {
        let path = write(dir.path(), &step(keys));
        let err = failover_console::config::load(&path)
            .expect_err(&format!("accepted:\n{keys}"))
            .to_string();
        assert!(err.contains(message), "{keys}\n→ {err}");
    }
}

/// The lab's nginx: /ep/NAME/healthz answers 200 once `scripts/lab http NAME up`.
#[cfg(feature = "lab")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_are_journaled_as_scheme_and_host_only() {
    let lab = common::Lab::begin().await;
    let port = common::env_port("LAB_HTTP_PORT", 18080);
    // Tokens where a Slack-style URL, a signed query, a header and a form body put them.
    let (path_token, query_token, header_token, form_token) = (
        "PathTok3n-from-env",
        "qTok3n-from-env",
        "Bearer hTok3n-from-env",
        "fTok3n-literal",
    );
    let (env_ep, literal_ep) = (format!("hook-{path_token}"), "hook-PathTok3n-literal");
    lab.run(&["http", &env_ep, "up"]).await;
    lab.run(&["http", literal_ep, "up"]).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    // SAFETY: as in set_env: before the console starts, once in this test.
    unsafe {
        std::env::set_var(
            "SECRETS_LAB_HOOK_URL",
            format!("http://127.0.0.1:{port}/ep/{env_ep}/healthz?token={query_token}"),
        );
        std::env::set_var("SECRETS_LAB_HOOK_AUTH", header_token);
        std::env::set_var(
            "SECRETS_LAB_CLOSED_URL",
            format!("http://127.0.0.1:{closed}/ep/{env_ep}/healthz"),
        );
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        dir.path(),
        &format!(
            r#"
[[runbook]]
name = "notify"
from = "primary"
to = "secondary"

[[runbook.step]]
title = "Notify from the environment"
action = "http"
method = "GET"
url-env = "SECRETS_LAB_HOOK_URL"
header-env = {{ Authorization = "SECRETS_LAB_HOOK_AUTH" }}

[[runbook.step]]
title = "Notify with a form"
action = "http"
method = "GET"
url = "http://127.0.0.1:{port}/ep/{literal_ep}/healthz"
body = "channel=ops&token={form_token}&text=failover to B"

[[runbook.step]]
title = "Notify nobody"
action = "http"
url-env = "SECRETS_LAB_CLOSED_URL"
timeout = "2s"
"#
        ),
    );
    let mut engine = driving(&path).await;
    // A dry run journals every step's plan (the body too), then a real run.
    key(&mut engine, KeyCode::Char('r')).await;
    key(&mut engine, KeyCode::Enter).await;
    key(&mut engine, KeyCode::Char('D')).await;
    let dry = engine
        .run_until(Duration::from_secs(20), |m| {
            m.runs
                .current
                .as_ref()
                .is_some_and(|r| r.dry_run && r.state == failover_core::runbook::RunState::Finished)
        })
        .await;
    assert!(dry, "the dry run did not finish{}", run_dump(&engine.model));
    key(&mut engine, KeyCode::Esc).await;
    armed(&mut engine, 0).await;
    do_step(&mut engine, 0).await;
    do_step(&mut engine, 1).await;
    failing_step(&mut engine, 2).await;
    let screen = render(&engine.model, 160, 50);
    engine.shutdown("test done").await;
    let journal = journal_text(&path);

    let shown = format!("GET http://127.0.0.1:{port}/… (expect 200)");
    for (what, text) in [("journal", journal.as_str()), ("screen", screen.as_str())] {
        for secret in [
            path_token,
            query_token,
            header_token,
            form_token,
            literal_ep,
            "/ep/",
        ] {
            assert!(!text.contains(secret), "{secret} in the {what}:\n{text}");
        }
    }
    assert!(
        journal.contains(&format!(
            "would run: GET http://127.0.0.1:{port}/… ($SECRETS_LAB_HOOK_URL) (expect 200)"
        )),
        "the dry run shows the URL from the environment as scheme://host/…:\n{journal}"
    );
    assert!(
        journal.contains("header Authorization: $SECRETS_LAB_HOOK_AUTH"),
        "{journal}"
    );
    assert!(
        journal.contains("body: channel=ops&token=***&text=failover+to+B"),
        "the form body's token is masked:\n{journal}"
    );
    assert!(
        journal.contains(&format!("started: {shown}")),
        "the step's start names scheme://host/… only:\n{journal}"
    );
    assert!(
        journal.contains(&format!(
            "cannot connect to http://127.0.0.1:{closed}/…: connection refused; nothing sent"
        )),
        "{journal}"
    );
    drop(lab);
}
