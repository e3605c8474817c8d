//! A DSN's TLS keys, `sslmode` and `sslrootcert`, read as libpq reads them and taken out before
//! tokio-postgres parses the rest: its parser knows only disable, prefer and require, and no
//! `sslrootcert`. Both forms: `key=value ...` (values quoted or not) and `postgres://...?k=v`.

/// libpq's `sslmode`, all but `allow`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// What the server's certificate is checked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// Encrypted, but any certificate is taken (prefer, require without sslrootcert).
    None,
    /// Signed by a trusted root (verify-ca, require with sslrootcert as libpq does).
    Chain,
    /// Signed by a trusted root and naming the host connected to (verify-full).
    ChainAndHost,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    pub mode: SslMode,
    /// A PEM file of trusted roots; "system" (or none) means the system's roots.
    pub rootcert: Option<String>,
}

impl TlsSettings {
    pub fn verification(&self) -> Verification {
        match self.mode {
            SslMode::Disable | SslMode::Prefer => Verification::None,
            SslMode::Require if self.rootcert.is_none() => Verification::None,
            SslMode::Require | SslMode::VerifyCa => Verification::Chain,
            SslMode::VerifyFull => Verification::ChainAndHost,
        }
    }

    /// The roots' file, when it is one (not the system's).
    pub fn rootcert_file(&self) -> Option<&str> {
        self.rootcert.as_deref().filter(|p| *p != "system")
    }
}

impl SslMode {
    fn parse(value: &str) -> Result<SslMode, String> {
        Ok(match value {
            "disable" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            "allow" => {
                return Err(
                    "sslmode \"allow\" is not supported: use \"disable\" or \"prefer\"".into(),
                );
            }
            other => {
                return Err(format!(
                    "unknown sslmode {other:?}: expected disable, prefer, require, verify-ca or verify-full"
                ));
            }
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

    /// The mode tokio-postgres is given: it negotiates; verification is the connector's.
    pub fn wire(self) -> tokio_postgres::config::SslMode {
        use tokio_postgres::config::SslMode as Wire;
        match self {
            SslMode::Disable => Wire::Disable,
            SslMode::Prefer => Wire::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => Wire::Require,
        }
    }
}

/// The DSN without its TLS keys, and those keys (libpq's default: prefer, no sslrootcert).
pub fn split(dsn: &str) -> Result<(String, TlsSettings), String> {
    let mut mode = None;
    let mut rootcert = None;
    let mut take = |key: &str, value: &str| -> Result<bool, String> {
        match key {
            "sslmode" => mode = Some(SslMode::parse(value)?),
            "sslrootcert" => rootcert = Some(value.to_string()),
            _ => return Ok(false),
        }
        Ok(true)
    };
    let rest = if is_url(dsn) {
        split_url(dsn, &mut take)?
    } else {
        split_pairs(dsn, &mut take)?
    };
    let rootcert = rootcert.filter(|r| !r.is_empty());
    Ok((
        rest,
        TlsSettings {
            mode: mode.unwrap_or(SslMode::Prefer),
            rootcert,
        },
    ))
}

type Take<'a> = dyn FnMut(&str, &str) -> Result<bool, String> + 'a;

fn is_url(dsn: &str) -> bool {
    let lower = dsn.trim_start().to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

fn split_url(dsn: &str, take: &mut Take<'_>) -> Result<String, String> {
    let Some((base, query)) = dsn.split_once('?') else {
        return Ok(dsn.to_string());
    };
    let mut kept = Vec::new();
    for param in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = param.split_once('=').unwrap_or((param, ""));
        if !take(&percent_decode(key)?, &percent_decode(value)?)? {
            kept.push(param);
        }
    }
    Ok(if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    })
}

fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text
                .get(i + 1..i + 3)
                .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or("invalid percent-encoding in the dsn's parameters")?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "a dsn parameter is not UTF-8 once decoded".to_string())
}

/// libpq's `key = value` pairs; the kept ones are written back quoted, which both parsers read
/// as written.
fn split_pairs(dsn: &str, take: &mut Take<'_>) -> Result<String, String> {
    let mut kept = Vec::new();
    let mut chars = dsn.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next() != Some('=') {
            return Err(format!("missing \"=\" after {key:?} in the dsn"));
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            loop {
                match chars.next() {
                    Some('\'') => break,
                    Some('\\') => value.extend(chars.next()),
                    Some(c) => value.push(c),
                    None => return Err(format!("unterminated quoted value of {key:?} in the dsn")),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                if c == '\\' {
                    value.extend(chars.next());
                } else {
                    value.push(c);
                }
            }
        }
        if !take(&key, &value)? {
            kept.push(format!("{key}='{}'", quote(&value)));
        }
    }
    Ok(kept.join(" "))
}

fn quote(value: &str) -> String {
    value.replace('\\', "\\\\").replace('\'', "\\'")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(dsn: &str) -> (String, TlsSettings) {
        split(dsn).unwrap()
    }

    #[test]
    fn key_value_form_loses_only_its_tls_keys() {
        let (rest, tls) = settings(
            "host=127.0.0.1 port = 54321 sslmode=verify-full sslrootcert='/etc/my ca.pem' user=postgres",
        );
        assert_eq!(rest, "host='127.0.0.1' port='54321' user='postgres'");
        assert_eq!(tls.mode, SslMode::VerifyFull);
        assert_eq!(tls.rootcert.as_deref(), Some("/etc/my ca.pem"));
        let config: tokio_postgres::Config = rest.parse().unwrap();
        assert_eq!(config.get_ports(), [54321]);
        assert_eq!(config.get_user(), Some("postgres"));
    }

    #[test]
    fn quoted_values_survive_the_rewrite() {
        let (rest, _) = settings(r"application_name='it\'s a \\ test' dbname=x\ y");
        let config: tokio_postgres::Config = rest.parse().unwrap();
        assert_eq!(config.get_application_name(), Some(r"it's a \ test"));
        assert_eq!(config.get_dbname(), Some("x y"));
    }

    #[test]
    fn url_form_loses_only_its_tls_keys() {
        let (rest, tls) = settings(
            "postgres://u@h:5/db?sslmode=verify-ca&connect_timeout=3&sslrootcert=%2Fca.pem",
        );
        assert_eq!(rest, "postgres://u@h:5/db?connect_timeout=3");
        assert_eq!(tls.mode, SslMode::VerifyCa);
        assert_eq!(tls.rootcert.as_deref(), Some("/ca.pem"));
        let (rest, tls) = settings("postgresql://h/db?%73slmode=disable");
        assert_eq!(rest, "postgresql://h/db");
        assert_eq!(tls.mode, SslMode::Disable);
    }

    #[test]
    fn libpq_defaults_and_rules() {
        let (_, tls) = settings("host=h");
        assert_eq!(tls.mode, SslMode::Prefer);
        assert_eq!(tls.verification(), Verification::None);
        let (_, tls) = settings("host=h sslmode=require");
        assert_eq!(tls.verification(), Verification::None);
        let (_, tls) = settings("host=h sslmode=require sslrootcert=/ca.pem");
        assert_eq!(tls.verification(), Verification::Chain);
        let (_, tls) = settings("host=h sslmode=verify-full sslrootcert=system");
        assert_eq!(tls.verification(), Verification::ChainAndHost);
        assert_eq!(tls.rootcert_file(), None);
    }

    #[test]
    fn refuses_unknown_modes_and_broken_pairs() {
        let e = split("host=h sslmode=bogus").unwrap_err();
        assert!(e.contains("unknown sslmode \"bogus\""), "{e}");
        assert!(e.contains("verify-full"), "{e}");
        assert!(
            split("host=h sslmode=allow")
                .unwrap_err()
                .contains("not supported")
        );
        assert!(split("postgres://h/?sslmode=VERIFY-FULL").is_err());
        assert!(split("host").unwrap_err().contains("missing \"=\""));
        assert!(split("host='h").unwrap_err().contains("unterminated"));
        assert!(split("postgres://h/?sslrootcert=%zz").is_err());
    }
}
