//! What the commands print, run as the real binary: `status` (text and JSON) and the Markdown
//! export never carry a control character or a bidi override from the config or the journal,
//! and a reader that closes its end early (`| head -c1`) ends the command quietly, with the
//! exit code it would have had and nothing on stderr.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use failover_core::text::is_unsafe;
use failover_core::timeline::{Entry, Kind, Severity};

const BIN: &str = env!("CARGO_BIN_EXE_failover-console");

/// A title, site label and check name that would reorder or repaint a line: an RLO override,
/// an isolate, an escape sequence, a carriage return and a C1 CSI.
const TITLE: &str = "orders\u{202E}tpircs\u{202C} \u{1b}[2J";
const LABEL: &str = "site\u{2066}A\u{2069}\r";
const CHECK: &str = "api\u{9b}a";

fn write_config(dir: &Path) -> PathBuf {
    // Nothing listens on port 9: the check fails at once, so `status` ends quickly.
    let config = format!(
        r#"
[console]
title = "{title}"
journal = "journal.jsonl"

[sites.primary]
label = "{label}"
[sites.secondary]
label = "site B"

[[health]]
name = "{check}"
site = "primary"
tcp = "127.0.0.1:9"
"#,
        title = toml_escape(TITLE),
        label = toml_escape(LABEL),
        check = toml_escape(CHECK),
    );
    let path = dir.join("config.toml");
    std::fs::write(&path, config).expect("write config");
    path
}

/// A TOML basic string's content: every control and non-ASCII character as \uXXXX.
fn toml_escape(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii() && !c.is_control() {
                c.to_string()
            } else {
                format!("\\u{:04X}", c as u32)
            }
        })
        .collect()
}

fn command(config: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .arg("--config")
        .arg(config)
        .args(args)
        .env("XDG_STATE_HOME", config.with_file_name("state"))
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null());
    command
}

fn run(config: &Path, args: &[&str]) -> Output {
    command(config, args)
        .output()
        .expect("run failover-console")
}

fn assert_printable(what: &str, text: &str) {
    for (i, line) in text.lines().enumerate() {
        assert!(
            !line.chars().any(is_unsafe),
            "{what}, line {}: {line:?}",
            i + 1
        );
    }
    assert!(!text.contains('\r'), "{what}: a carriage return");
}

#[test]
fn status_text_and_json_print_no_control_or_bidi_character() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path());

    let text = run(&config, &["status"]);
    let stdout = String::from_utf8(text.stdout).expect("utf-8");
    assert_printable("status", &stdout);
    // The names are still there, their controls now spaces.
    assert!(stdout.starts_with("orders tpircs   [2J: "), "{stdout}");
    assert!(stdout.contains("api a"), "{stdout}");

    let json = run(&config, &["status", "--json"]);
    let stdout = String::from_utf8(json.stdout).expect("utf-8");
    assert_printable("status --json", &stdout);
    let value: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(value["title"], "orders tpircs   [2J");
    let all = value.to_string();
    assert!(
        !all.contains("\\u001b") && !all.contains("\\r") && !all.contains("\\u009b"),
        "escaped controls are still controls: {all}"
    );
    assert_eq!(json.status.code(), text.status.code());
}

#[test]
fn the_markdown_export_prints_no_control_or_bidi_character() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path());
    let at = time::OffsetDateTime::now_utc();
    let mut note = Entry::new(
        at,
        Severity::Info,
        Kind::Note,
        "operator",
        "failing over\u{202E}revokcab\u{1b}]0;pwned\u{7}",
    );
    note.operator = Some("alice\u{2067}".into());
    let edge = Entry::new(
        at,
        Severity::Crit,
        Kind::Edge,
        format!("health/{CHECK}"),
        "TXT \u{2066}v=spf1\u{2069}\u{8}",
    );
    let lines: String = [note, edge]
        .iter()
        .map(|e| serde_json::to_string(e).expect("entry") + "\n")
        .collect();
    std::fs::write(dir.path().join("journal.jsonl"), lines).expect("journal");

    let out = run(&config, &["journal", "export"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let markdown = String::from_utf8(out.stdout).expect("utf-8");
    assert_printable("export", &markdown);
    assert!(
        markdown.contains("failing over revokcab ]0;pwned "),
        "{markdown}"
    );
    assert!(markdown.contains("| health/api a |"), "{markdown}");
}

/// Starts the command with its stdout (or stderr) a pipe whose reading end is closed at once,
/// as `| head -c0` leaves it; the other stream is read whole.
fn run_with_closed(config: &Path, args: &[&str], closed_stdout: bool) -> (Option<i32>, String) {
    let mut child: Child = command(config, args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut kept = String::new();
    if closed_stdout {
        drop(child.stdout.take());
        let mut err = child.stderr.take().expect("stderr");
        err.read_to_string(&mut kept).expect("read stderr");
    } else {
        drop(child.stderr.take());
        let mut out = child.stdout.take().expect("stdout");
        out.read_to_string(&mut kept).expect("read stdout");
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            use std::os::unix::process::ExitStatusExt;
            assert_eq!(status.signal(), None, "killed by a signal: {status:?}");
            return (status.code(), kept);
        }
        assert!(Instant::now() < deadline, "still running after 30 s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_closed_stdout_or_stderr_ends_the_command_quietly_with_its_own_exit_code() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path());

    // status: the verdict's code (the check fails: CRITICAL), whoever reads the text.
    let normal = run(&config, &["status", "--json"]).status.code();
    assert_eq!(normal, Some(2));
    for args in [&["status", "--json"][..], &["status"][..]] {
        let (code, stderr) = run_with_closed(&config, args, true);
        assert_eq!((code, stderr.as_str()), (normal, ""), "{args:?}");
    }

    let (code, stderr) = run_with_closed(&config, &["check-config"], true);
    assert_eq!((code, stderr.as_str()), (Some(0), ""), "check-config");

    // An invalid config is said on stderr: closed, the command still exits 1, not 101.
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[console\n").expect("bad config");
    let (code, stdout) = run_with_closed(&bad, &["check-config"], false);
    assert_eq!(
        (code, stdout.as_str()),
        (Some(1), ""),
        "check-config, stderr closed"
    );

    std::fs::write(dir.path().join("journal.jsonl"), "").expect("journal");
    let (code, stderr) = run_with_closed(&config, &["journal", "export"], true);
    assert_eq!((code, stderr.as_str()), (Some(0), ""), "journal export");
}

/// `status` waiting on an endpoint that accepts and never answers, then a signal: it ends at
/// once, by that signal (a shell reports 128 + its number), never with 0 as if all were well.
#[test]
fn a_signal_ends_status_by_that_signal() {
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[sites.primary]
label = "site A"
[sites.secondary]
label = "site B"

[[health]]
name = "silent"
site = "primary"
http = "http://{}/healthz"
timeout = "30s"
"#,
            silent.local_addr().expect("addr")
        ),
    )
    .expect("config");
    for (signal, name) in [
        (libc::SIGTERM, "SIGTERM"),
        (libc::SIGINT, "SIGINT"),
        (libc::SIGHUP, "SIGHUP"),
    ] {
        let mut child = command(&config, &["status"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        // Signalled once its probe is waiting on the endpoint (the connection is accepted).
        let (_conn, _) = silent.accept().expect("the probe connects");
        let pid = libc::pid_t::try_from(child.id()).expect("pid");
        // SAFETY: kill(2) on the child this test started and has not reaped.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break status;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{name}: still running"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let shell_code = status.code().or(status.signal().map(|s| 128 + s));
        assert_eq!(shell_code, Some(128 + signal), "{name}: {status:?}");
    }
}
