//! Known secrets, kept out of everything shown or journaled: which environment variables the
//! config names for secrets (the binary reads their values at start), and the masker that
//! replaces those values in text. Imports nothing of ours.

/// What a secret value is replaced with.
pub const MASK: &str = "•••";

/// Shorter values are not masked: "on" or "1" would be masked everywhere.
pub const MIN_SECRET_LEN: usize = 4;

/// Variables that hold a secret whenever they are set, whether or not the config names them.
pub const ALWAYS_SECRET: [&str; 3] = ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "PGPASSWORD"];

/// Replaces every known secret value in a text with `MASK`. Its `Debug` shows how many, never
/// which.
#[derive(Clone, Default, PartialEq)]
pub struct Masker {
    /// Longest first, so that a secret containing another is masked whole.
    values: Vec<String>,
}

impl std::fmt::Debug for Masker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Masker({} values)", self.values.len())
    }
}

impl Masker {
    pub fn new(values: impl IntoIterator<Item = String>) -> Masker {
        let mut values: Vec<String> = values
            .into_iter()
            .filter(|v| v.chars().count() >= MIN_SECRET_LEN)
            .collect();
        values.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        values.dedup();
        Masker { values }
    }

    pub fn mask(&self, text: &str) -> String {
        let mut out = text.to_string();
        for value in &self.values {
            if out.contains(value.as_str()) {
                out = out.replace(value.as_str(), MASK);
            }
        }
        out
    }

    /// Whether `value` is one of the known secrets.
    pub fn is_secret(&self, value: &str) -> bool {
        self.values.iter().any(|v| v == value)
    }
}

/// Names of headers, query parameters, form and JSON fields whose values are never shown.
pub fn looks_secret(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "authorization",
        "auth",
        "token",
        "key",
        "secret",
        "password",
        "passwd",
        "pwd",
        "cookie",
        "signature",
        "credential",
    ]
    .iter()
    .any(|s| n.contains(s))
}

/// Every environment variable the config file names for a secret: the value of each key that
/// ends in `-env` (`password-env`, `tsig-secret-env`, `url-env`...), and each value of a
/// `header-env` table, anywhere in the file. Sorted, without repeats.
pub fn env_names(file: &toml::Table) -> Vec<String> {
    let mut names = Vec::new();
    collect(file, &mut names);
    names.sort();
    names.dedup();
    names
}

fn collect(table: &toml::Table, names: &mut Vec<String>) {
    for (key, value) in table {
        match value {
            toml::Value::String(name) if key.ends_with("-env") => names.push(name.clone()),
            toml::Value::Table(t) if key.ends_with("-env") => {
                names.extend(t.values().filter_map(|v| v.as_str()).map(str::to_string))
            }
            toml::Value::Table(t) => collect(t, names),
            toml::Value::Array(items) => {
                for item in items {
                    if let toml::Value::Table(t) = item {
                        collect(t, names);
                    }
                }
            }
            _ => {}
        }
    }
}

/// A name a step may give in `env`, `url-env` or `header-env`: letters, digits and `_`, not
/// starting with a digit. The error says what is wrong, for the config's message.
pub fn check_env_name(name: &str) -> Result<(), String> {
    let valid = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(())
    } else if name.is_empty() {
        Err("an empty variable name".into())
    } else {
        Err(format!(
            "{name:?} is not an environment variable name (letters, digits and _, not starting with a digit)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_every_known_value_longest_first_and_ignores_short_ones() {
        let m = Masker::new(["abc".into(), "hunter2".into(), "hunter2-and-more".into()]);
        assert_eq!(
            m.mask("a hunter2-and-more, hunter2 and abc"),
            "a •••, ••• and abc"
        );
        assert!(m.is_secret("hunter2") && !m.is_secret("abc"));
        assert_eq!(format!("{m:?}"), "Masker(2 values)");
        assert_eq!(Masker::default().mask("as is"), "as is");
    }

    #[test]
    fn env_names_come_from_every_env_key_and_header_env_table() {
        let file: toml::Table = r#"
[war-room]
password-env = "ETCD_PW"
[[database]]
password-env = "PG_PW"
[[database.member]]
password-env = "PG_B_PW"
[[runbook]]
[[runbook.step]]
tsig-secret-env = "TSIG"
url-env = "HOOK_URL"
header-env = { Authorization = "HOOK_AUTH" }
env = ["NOT_A_SECRET"]
[runbook.step.rollback]
url-env = "ROLLBACK_URL"
"#
        .parse()
        .expect("toml");
        assert_eq!(
            env_names(&file),
            [
                "ETCD_PW",
                "HOOK_AUTH",
                "HOOK_URL",
                "PG_B_PW",
                "PG_PW",
                "ROLLBACK_URL",
                "TSIG"
            ]
        );
    }

    #[test]
    fn env_names_are_checked() {
        assert!(check_env_name("DEPLOY_TAG_2").is_ok());
        assert!(check_env_name("_x").is_ok());
        for bad in ["", "2FA", "A-B", "A=B", "A B", "É"] {
            assert!(check_env_name(bad).is_err(), "{bad:?} accepted");
        }
    }
}

#[cfg(test)]
mod props {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// No known secret (of four characters or more) survives masking, wherever it stands,
        /// and a text without one is left as it was.
        #[test]
        fn no_known_secret_survives(
            secrets in prop::collection::vec("[a-zA-Z0-9+/=_-]{4,16}", 1..4),
            parts in prop::collection::vec(any::<String>(), 0..6),
        ) {
            let masker = Masker::new(secrets.clone());
            let mut text = String::new();
            for (i, part) in parts.iter().enumerate() {
                text.push_str(part);
                text.push_str(&secrets[i % secrets.len()]);
            }
            let masked = masker.mask(&text);
            for s in &secrets {
                prop_assert!(!masked.contains(s.as_str()), "{} survives in {:?}", s, masked);
            }
            let clean: String = parts.concat();
            if !secrets.iter().any(|s| clean.contains(s.as_str())) {
                prop_assert_eq!(masker.mask(&clean), clean);
            }
        }
    }
}
