//! PostgreSQL over TLS: every libpq sslmode, `sslrootcert` in the DSN, and what is refused.
//!
//! Without the lab: `check-config` on DSNs with each mode (the real binary). With the lab
//! (`--features lab`): the pg pair serves TLS with a certificate from the lab's CA
//! (`FAILOVER_LAB_PG_CA`); connections are made through the console's own `connect_dsn`, and
//! `pg_stat_ssl` says whether each one is encrypted. A second CA made by the test is the wrong
//! one.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_failover-console");

/// Two members (sites A and B) with these DSNs, the journal in `dir`.
fn config_text(dir: &Path, dsn_a: &str, dsn_b: &str) -> String {
    format!(
        r#"[console]
journal = "{journal}"
log = "{log}"

[sites.primary]
label = "site A"
[sites.secondary]
label = "site B"

[[database]]
name = "orders"
kind = "postgres"
interval = "500ms"
timeout = "2s"
[[database.member]]
site = "primary"
dsn = "{dsn_a}"
[[database.member]]
site = "secondary"
dsn = "{dsn_b}"
"#,
        journal = dir.join("journal.jsonl").display(),
        log = dir.join("console.log").display(),
    )
}

fn check_config(dsn_a: &str) -> Output {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("config.toml");
    let text = config_text(dir.path(), dsn_a, "host=127.0.0.1 port=54322 user=postgres");
    std::fs::write(&path, text).expect("write config");
    Command::new(BIN)
        .args(["check-config", "--config"])
        .arg(&path)
        .env("XDG_STATE_HOME", dir.path())
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .output()
        .expect("run failover-console check-config")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn check_config_refuses_an_unknown_sslmode() {
    for (mode, message) in [
        (
            "verify_full",
            "invalid dsn: unknown sslmode \"verify_full\": expected disable, prefer, require, verify-ca or verify-full",
        ),
        ("allow", "sslmode \"allow\" is not supported"),
    ] {
        let out = check_config(&format!("host=127.0.0.1 port=54321 sslmode={mode}"));
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "sslmode={mode}:\n{err}");
        assert!(err.contains(message), "sslmode={mode}:\n{err}");
        assert!(!err.contains("panicked"), "{err}");
        // The URL form is read the same way.
        let out = check_config(&format!(
            "postgres://postgres@127.0.0.1:54321/db?sslmode={mode}"
        ));
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(stderr(&out).contains(message), "{}", stderr(&out));
    }
}

#[test]
fn check_config_refuses_an_sslrootcert_it_cannot_read() {
    let out = check_config(
        "host=127.0.0.1 port=54321 sslmode=verify-full sslrootcert=/nonexistent/ca.crt",
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("sslrootcert=/nonexistent/ca.crt: cannot read it: "),
        "{err}"
    );
    let dir = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("ca.crt");
    std::fs::write(&not_pem, "not a certificate\n").unwrap();
    let out = check_config(&format!(
        "host=127.0.0.1 sslmode=verify-ca sslrootcert={}",
        not_pem.display()
    ));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no certificate in it"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn check_config_takes_every_libpq_mode() {
    for dsn in [
        "host=127.0.0.1 port=54321 sslmode=disable",
        "host=127.0.0.1 port=54321 sslmode=prefer",
        "host=127.0.0.1 port=54321 sslmode=require",
        "host=127.0.0.1 port=54321 sslmode=verify-ca",
        "host=127.0.0.1 port=54321 sslmode=verify-full sslrootcert=system",
        "postgres://postgres@127.0.0.1:54321/postgres?sslmode=verify-full&application_name=x",
    ] {
        let out = check_config(dsn);
        assert_eq!(out.status.code(), Some(0), "{dsn}:\n{}", stderr(&out));
    }
}

#[cfg(feature = "lab")]
mod lab {
    use std::path::{Path, PathBuf};
    use std::process::Command;
    use std::time::Duration;

    use failover_console::kinds::postgres::source::connect_dsn;
    use serde_json::Value;

    use super::common::tmux::Tmux;
    use super::common::{DEADLINE, Lab, env_port, repo};
    use super::config_text;

    fn lab_ca() -> PathBuf {
        let path = match std::env::var_os("FAILOVER_LAB_PG_CA") {
            Some(p) => PathBuf::from(p),
            None => std::env::var_os("LAB_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| repo().join("target/lab"))
                .join("pg-tls/ca.crt"),
        };
        assert!(
            path.exists(),
            "the lab's CA {} is missing: run `scripts/lab up`",
            path.display()
        );
        path
    }

    /// Another self-signed CA, with the same name as the lab's: it signed nothing the lab has.
    fn wrong_ca(dir: &Path) -> PathBuf {
        let (key, crt) = (dir.join("other-ca.key"), dir.join("other-ca.crt"));
        let out = Command::new("openssl")
            .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
            .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"])
            .args(["-subj", "/CN=failover lab CA", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&crt)
            .output()
            .expect("run openssl (scripts/lab installs it)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        crt
    }

    fn node(port: u16, extra: &str) -> String {
        format!("host=127.0.0.1 port={port} user=postgres dbname=postgres {extra}")
    }

    /// Connects as the console does; (in recovery, encrypted) as the server sees this session.
    async fn session(dsn: &str) -> Result<(bool, bool), String> {
        let client = connect_dsn(dsn, None, Duration::from_secs(5)).await?;
        let row = client
            .query_one(
                "SELECT pg_is_in_recovery(), (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid())",
                &[],
            )
            .await
            .map_err(|e| e.to_string())?;
        Ok((row.get(0), row.get(1)))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn each_sslmode_connects_or_refuses_as_libpq_does() {
        let lab = Lab::begin().await;
        let a = env_port("LAB_PG_PRIMARY_PORT", 54321);
        let b = env_port("LAB_PG_REPLICA_PORT", 54322);
        let ca = lab_ca().display().to_string();
        let wrong = wrong_ca(lab.dir.path()).display().to_string();

        // verify-full with the lab's CA: the chain and the host; the role is read over it.
        let full = format!("sslmode=verify-full sslrootcert={ca}");
        assert_eq!(session(&node(a, &full)).await, Ok((false, true)));
        assert_eq!(session(&node(b, &full)).await, Ok((true, true)));
        // The URL form, its path percent-encoded.
        let url = format!(
            "postgres://postgres@127.0.0.1:{a}/postgres?sslmode=verify-full&sslrootcert={}",
            ca.replace('/', "%2F")
        );
        assert_eq!(session(&url).await, Ok((false, true)));

        // require: encrypted, no verification; prefer (libpq's default) takes TLS when offered;
        // disable never asks for it.
        assert_eq!(
            session(&node(a, "sslmode=require")).await,
            Ok((false, true))
        );
        assert_eq!(session(&node(a, "")).await, Ok((false, true)));
        assert_eq!(
            session(&node(a, "sslmode=disable")).await,
            Ok((false, false))
        );

        // The wrong CA is refused by verify-full, verify-ca, and require with sslrootcert
        // (libpq's rule: require with a root file is verify-ca).
        let not_trusted = format!("TLS: certificate not trusted (sslrootcert={wrong})");
        for mode in ["verify-full", "verify-ca", "require"] {
            let dsn = node(a, &format!("sslmode={mode} sslrootcert={wrong}"));
            assert_eq!(
                session(&dsn).await,
                Err(not_trusted.clone()),
                "sslmode={mode}"
            );
        }

        // A host the certificate does not name: verify-ca takes it, verify-full does not.
        let elsewhere = |mode: &str| {
            format!(
                "host=db.invalid hostaddr=127.0.0.1 port={a} user=postgres sslmode={mode} sslrootcert={ca}"
            )
        };
        assert_eq!(session(&elsewhere("verify-ca")).await, Ok((false, true)));
        assert_eq!(
            session(&elsewhere("verify-full")).await,
            Err("TLS: certificate not valid for host db.invalid (sslmode=verify-full)".into())
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn status_reads_both_roles_over_verify_full() {
        let lab = Lab::begin().await;
        let ca = lab_ca().display().to_string();
        let full = format!("sslmode=verify-full sslrootcert={ca}");
        let dir = lab.dir.path();
        let path = dir.join("tls.toml");
        let text = config_text(
            dir,
            &node(env_port("LAB_PG_PRIMARY_PORT", 54321), &full),
            &node(env_port("LAB_PG_REPLICA_PORT", 54322), &full),
        );
        std::fs::write(&path, text).unwrap();
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_failover-console"))
            .arg("--config")
            .arg(&path)
            .args(["status", "--json"])
            .env("NO_COLOR", "1")
            .output()
            .await
            .expect("run status");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let json: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
            panic!(
                "status --json is not JSON ({e}):\n{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        let members = &json["databases"][0]["members"];
        assert_eq!(members[0]["role"], "primary", "{json:#}");
        assert_eq!(members[0]["error"], Value::Null, "{json:#}");
        assert_eq!(members[1]["role"], "replica", "{json:#}");
        assert_eq!(members[1]["error"], Value::Null, "{json:#}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_wrong_ca_is_on_screen_and_the_console_keeps_running() {
        let lab = Lab::begin().await;
        let dir = lab.dir.path();
        let wrong = wrong_ca(dir).display().to_string();
        let ca = lab_ca().display().to_string();
        let path = dir.join("tls.toml");
        let text = config_text(
            dir,
            &node(
                env_port("LAB_PG_PRIMARY_PORT", 54321),
                &format!("sslmode=verify-full sslrootcert={wrong}"),
            ),
            &node(
                env_port("LAB_PG_REPLICA_PORT", 54322),
                &format!("sslmode=verify-full sslrootcert={ca}"),
            ),
        );
        std::fs::write(&path, text).unwrap();
        let tmux = Tmux::start_args(&path, "pg-tls", "--operator tmux-test", 160, 40);
        let screen = tmux.wait_for("TLS: certificate not trusted", DEADLINE);
        assert!(screen.contains("UNREACHABLE"), "{screen}");
        // The member with the right CA is read beside it.
        tmux.wait_for("replica", DEADLINE);
        // Still drawing: a key opens the help, and the console is alive.
        tmux.keys(&["?"]);
        tmux.wait_for(" Help ", Duration::from_secs(2));
        assert!(tmux.alive(), "the console stopped:\n{}", tmux.screen());
    }
}
