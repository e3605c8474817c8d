//! Property tests of what the binary's side reads: PostgreSQL DSNs (with tokio-postgres's own
//! parser, through the config loader) and the .pgpass file (issue 15).

use std::path::Path;

use failover_console::kinds::postgres::PostgresDsns;
use failover_console::kinds::postgres::source::pgpass;
use failover_core::config::Drivers;
use proptest::prelude::*;

fn config_with_dsn(dsn: &str) -> String {
    format!(
        "[sites.primary]\n[[database]]\nname = \"orders\"\nkind = \"postgres\"\n[[database.member]]\nsite = \"primary\"\ndsn = {}\n",
        serde_json::to_string(dsn).unwrap()
    )
}

/// Percent-encodes every byte but unreserved ones, as a URL's userinfo or query would carry it.
fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// libpq's key=value quoting: 'value' with \ and ' escaped.
fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// A password in every spelling tokio-postgres reads.
fn dsn_with_password(password: &str, spelling: usize) -> String {
    match spelling {
        0 => format!(
            "host=127.0.0.1 user=u password={} dbname=d",
            quoted(password)
        ),
        1 => format!("postgres://u:{}@127.0.0.1:5432/d", pct(password)),
        2 => format!("postgresql://u@127.0.0.1/d?password={}", pct(password)),
        3 => format!("postgres://u@127.0.0.1/d?%70assword={}", pct(password)),
        _ => format!(
            "postgres://u@127.0.0.1/d?sslmode=disable&%70%61ssword={}",
            pct(password)
        ),
    }
}

/// One .pgpass field as written: `\` and `:` escaped.
fn escaped(s: &str) -> String {
    s.replace('\\', "\\\\").replace(':', "\\:")
}

fn field() -> impl Strategy<Value = String> {
    // Not starting with '#' (a comment line) and never a newline.
    "[a-zA-Z0-9._\\-][a-zA-Z0-9._:\\\\ *#-]{0,15}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_dsn_is_read_or_refused_without_a_panic(dsn in ".{0,120}") {
        let _ = PostgresDsns.postgres_dsn(&dsn);
        if let Err(e) = failover_console::config::from_str(&config_with_dsn(&dsn), Path::new("p.toml")) {
            let _ = e.to_string();
        }
    }

    #[test]
    fn a_password_in_any_spelling_is_refused_and_never_shown(
        secret in "[A-Za-z0-9!#$%&()*+,./;<>?@^_`{|}~ -]{4,24}",
        spelling in 0usize..5,
    ) {
        // A marker no other part of the output holds.
        let password = format!("Zq7{secret}");
        let dsn = dsn_with_password(&password, spelling);
        let read = PostgresDsns.postgres_dsn(&dsn);
        prop_assert!(read.as_ref().is_ok_and(|d| d.has_password), "{dsn}: {read:?}");
        prop_assert!(!read.unwrap().target.contains(&password));
        let e = failover_console::config::from_str(&config_with_dsn(&dsn), Path::new("p.toml"))
            .unwrap_err();
        prop_assert!(e.message.contains("the dsn holds a password"), "{dsn}: {e}");
        let shown = e.to_string();
        prop_assert!(!shown.contains(&password) && !shown.contains(&pct(&password)), "{shown}");
    }

    #[test]
    fn a_dsn_without_a_password_is_taken(
        user in "[a-z][a-z0-9_]{0,10}",
        db in "[a-z][a-z0-9_]{0,10}",
        port in 1u16..,
    ) {
        for dsn in [
            format!("host=127.0.0.1 port={port} user={user} dbname={db}"),
            format!("postgres://{user}@127.0.0.1:{port}/{db}?application_name=x"),
        ] {
            let read = PostgresDsns.postgres_dsn(&dsn).unwrap();
            prop_assert!(!read.has_password, "{dsn}");
            prop_assert_eq!(read.endpoint, format!("127.0.0.1:{port}"));
            prop_assert!(failover_console::config::from_str(&config_with_dsn(&dsn), Path::new("p.toml")).is_ok());
        }
    }

    #[test]
    fn pgpass_never_panics(text in "(.{0,40}\n){0,8}", host in ".{0,8}", user in ".{0,8}") {
        let _ = pgpass::find(&text, &host, "5432", "db", &user);
    }

    /// A line written for (host, port, db, user) gives its password back, whatever the fields
    /// hold once escaped; the first matching line wins; another user's line never matches.
    #[test]
    fn pgpass_finds_what_was_written(
        f in prop::array::uniform4(field()),
        password in "[^\n\r]{0,20}",
        other in "[a-zA-Z0-9]{1,8}",
    ) {
        let [host, port, db, user] = &f;
        let line = |user: &str, password: &str| {
            format!("{}:{}:{}:{}:{}\n", escaped(host), escaped(port), escaped(db), escaped(user), escaped(password))
        };
        let text = format!("# a comment\n{}{}", line(user, &password), line(user, "second"));
        prop_assert_eq!(pgpass::find(&text, host, port, db, user), Some(password.clone()));
        let not_user = format!("{user}{other}");
        if !user.contains('*') && user != "*" {
            prop_assert_eq!(pgpass::find(&line(user, &password), host, port, db, &not_user), None);
        }
    }
}
