//! What in a URL is a secret the file must not hold, and where credentials may go over plain
//! http (loopback only).

use std::net::IpAddr;

/// Query keys (case-insensitive, `-` and `_` ignored) that hold a secret, by their last word:
/// `token`, `access_token`, `sessionToken`, `api_key`, `X-Amz-Signature`, `client_secret`...
const SECRET_KEY_ENDINGS: &[&str] = &[
    "token",
    "key",
    "secret",
    "password",
    "passwd",
    "pwd",
    "pass",
    "sig",
    "signature",
    "auth",
    "authorization",
    "credential",
    "credentials",
];

/// Whether a query key names a secret.
pub fn is_secret_key(key: &str) -> bool {
    let folded: String = key
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | '.'))
        .flat_map(char::to_lowercase)
        .collect();
    SECRET_KEY_ENDINGS.iter().any(|end| folded.ends_with(end))
}

/// What in `url` is a secret, in words that do not repeat it: "user:password@", "a user name
/// (user@)", "the query value of \"token\"". `None`: nothing.
pub fn secret_in_url(url: &url::Url) -> Option<String> {
    if url.password().is_some() {
        return Some("a user:password@".into());
    }
    if !url.username().is_empty() {
        return Some("a user name (user@)".into());
    }
    url.query_pairs()
        .find(|(k, v)| is_secret_key(k) && !v.is_empty())
        .map(|(k, _)| format!("a secret-looking query value ({k}=...)"))
}

/// Whether `url` goes to this machine: `localhost` or a loopback address.
pub fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Whether credentials sent to `url` would cross a network in clear: plain http to a host
/// that is not this machine.
pub fn clear_to_network(url: &url::Url) -> bool {
    url.scheme() == "http" && !is_loopback(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> url::Url {
        url::Url::parse(s).unwrap()
    }

    #[test]
    fn secret_query_keys_by_their_last_word_any_case() {
        for k in [
            "token",
            "TOKEN",
            "access_token",
            "api_key",
            "apiKey",
            "api-key",
            "secret",
            "client_secret",
            "password",
            "sig",
            "signature",
            "X-Amz-Signature",
            "X-Amz-Security-Token",
            "sessionToken",
        ] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in ["check", "db", "verbose", "format", "site"] {
            assert!(!is_secret_key(k), "{k}");
        }
    }

    #[test]
    fn secrets_in_urls_are_named_without_their_value() {
        let said = secret_in_url(&url("http://u:hunter2@h/x")).unwrap();
        assert!(!said.contains("hunter2"), "{said}");
        assert!(secret_in_url(&url("http://u@h/x")).is_some());
        let said = secret_in_url(&url("https://h/x?a=1&Access_Token=hunter2")).unwrap();
        assert!(said.contains("Access_Token=..."), "{said}");
        assert!(!said.contains("hunter2"), "{said}");
        assert!(
            secret_in_url(&url("https://h/x?token=")).is_none(),
            "empty: no secret"
        );
        assert!(secret_in_url(&url("https://h/healthz?check=db")).is_none());
    }

    #[test]
    fn only_loopback_takes_credentials_over_plain_http() {
        for u in [
            "http://127.0.0.1:8008",
            "http://127.8.9.1",
            "http://localhost:1",
            "http://LOCALHOST.",
            "http://[::1]:8008",
            "https://10.0.0.5",
        ] {
            assert!(!clear_to_network(&url(u)), "{u}");
        }
        for u in [
            "http://10.0.0.5:8008",
            "http://patroni.example.com",
            "http://localhost.example.com",
            "http://[::2]",
        ] {
            assert!(clear_to_network(&url(u)), "{u}");
        }
    }
}
