//! The http action's pure half: how the plan shows a request, with secrets masked.

use url::Url;

use crate::secrets::looks_secret;

/// How much of the request body the plan shows.
const BODY_SHOWN: usize = 300;

/// A webhook's URL or a header's value: as written in the config, or read from an environment
/// variable when the action runs (`url-env`, `header-env`).
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    Literal(String),
    Env(String),
}

/// "POST https://host/… (expect 200)", the headers (secret-looking values as ***, those from
/// the environment by name), the body (secret-looking fields as ***).
pub fn describe(
    method: &str,
    url: &Field,
    headers: &[(String, Field)],
    body: Option<&str>,
    expect_status: u16,
) -> Vec<String> {
    let shown = match url {
        Field::Literal(u) => shown_url(u),
        Field::Env(name) => format!("${name}"),
    };
    let mut lines = vec![format!(
        "{} {shown} (expect {expect_status})",
        method.to_ascii_uppercase(),
    )];
    for (name, value) in headers {
        let value = match value {
            Field::Env(var) => format!("${var}"),
            Field::Literal(_) if looks_secret(name) => "***".into(),
            Field::Literal(v) => v.clone(),
        };
        lines.push(format!("header {name}: {value}"));
    }
    if let Some(body) = body {
        let shown = shown_body(body);
        let cut: String = shown.chars().take(BODY_SHOWN).collect();
        let more = if cut.len() < shown.len() {
            format!(" ... ({} bytes)", body.len())
        } else {
            String::new()
        };
        lines.push(format!("body: {cut}{more}"));
    }
    lines
}

/// A webhook as it is shown and journaled: `scheme://host[:port]/…`. Never its user, password,
/// path, query or fragment: a Slack-style URL holds its token in the path.
pub fn shown_url(url: &str) -> String {
    let Ok(parsed) = Url::parse(url.trim()) else {
        return "(an invalid URL)".into();
    };
    let Some(host) = parsed.host_str().filter(|h| !h.is_empty()) else {
        return format!("{}:…", parsed.scheme());
    };
    let port = parsed.port().map(|p| format!(":{p}")).unwrap_or_default();
    format!("{}://{host}{port}/…", parsed.scheme())
}
/// The body on one line; in JSON, the values of secret-looking fields as "***".
fn shown_body(body: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(mut json) if json.is_object() || json.is_array() => {
            mask_json(&mut json);
            json.to_string()
        }
        _ if is_form(body) => {
            let masked = url::form_urlencoded::parse(body.as_bytes()).map(|(k, v)| {
                if looks_secret(&k) {
                    (k, "***".into())
                } else {
                    (k, v)
                }
            });
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(masked)
                .finish()
                .replace("%2A%2A%2A", "***")
        }
        _ => body.split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

/// `a=1&b=2`: one line, every part a `key=value` (spaces left unencoded are taken too).
fn is_form(body: &str) -> bool {
    let body = body.trim();
    !body.is_empty()
        && !body.contains(['\n', '\r'])
        && body.split('&').all(|part| part.contains('='))
}
fn mask_json(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if looks_secret(k) && !v.is_object() && !v.is_array() {
                    *v = serde_json::Value::String("***".into());
                } else {
                    mask_json(v);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(mask_json),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn literal_headers(pairs: &[(&str, &str)]) -> Vec<(String, Field)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Field::Literal(v.to_string())))
            .collect()
    }

    #[test]
    fn describe_masks_secrets() {
        let headers = literal_headers(&[
            ("Authorization", "Bearer abc123"),
            ("X-Api-Key", "k-456"),
            ("Content-Type", "application/json"),
        ]);
        let lines = describe(
            "post",
            &Field::Literal(
                "https://ops:pw789@hooks.example/notify/T0-path-secret?channel=ops&token=t-000#f-1"
                    .into(),
            ),
            &headers,
            Some(r#"{"text":"failover to B","password":"p-111","nested":{"api_key":"k-222"}}"#),
            200,
        );
        let all = lines.join("\n");
        for secret in [
            "abc123",
            "k-456",
            "pw789",
            "ops",
            "T0-path-secret",
            "notify",
            "t-000",
            "f-1",
            "p-111",
            "k-222",
        ] {
            assert!(!all.contains(secret), "{secret} shown in:\n{all}");
        }
        assert_eq!(lines[0], "POST https://hooks.example/… (expect 200)");
        assert!(
            all.contains("header Content-Type: application/json")
                && all.contains("header Authorization: ***"),
            "{all}"
        );
        assert!(all.contains(r#""text":"failover to B""#), "{all}");
    }

    #[test]
    fn from_the_environment_only_the_names_are_shown() {
        let headers = vec![("Authorization".to_string(), Field::Env("HOOK_AUTH".into()))];
        let lines = describe("put", &Field::Env("HOOK_URL".into()), &headers, None, 204);
        assert_eq!(
            lines,
            [
                "PUT $HOOK_URL (expect 204)",
                "header Authorization: $HOOK_AUTH"
            ]
        );
    }

    #[test]
    fn form_bodies_hide_their_secret_fields() {
        let lines = describe(
            "POST",
            &Field::Literal("http://127.0.0.1:8080/hook".into()),
            &[],
            Some("channel=ops&token=xoxb-form-secret&text=failover to B&client_secret=cs-9"),
            200,
        );
        assert_eq!(lines[0], "POST http://127.0.0.1:8080/… (expect 200)");
        assert_eq!(
            lines[1],
            "body: channel=ops&token=***&text=failover+to+B&client_secret=***"
        );
    }

    #[test]
    fn a_url_shows_its_scheme_and_host_only() {
        assert_eq!(
            shown_url("https://hooks.slack.com/services/T000/B000/XXXXSECRET"),
            "https://hooks.slack.com/…"
        );
        assert_eq!(shown_url("http://[::1]:9/x?y=z"), "http://[::1]:9/…");
        assert_eq!(shown_url("not a url/with-token"), "(an invalid URL)");
        assert_eq!(shown_url("mailto:someone-secret@example"), "mailto:…");
    }
}

#[cfg(test)]
mod props {
    use proptest::prelude::*;

    use super::*;

    /// Secrets start with an upper-case letter: nothing else in a shown URL is upper-case.
    fn secret() -> impl Strategy<Value = String> {
        "S[A-Za-z0-9_~.-]{3,24}"
    }

    fn secret_key() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "token",
            "api_key",
            "password",
            "client_secret",
            "Authorization",
            "X-Signature",
            "access_token",
        ])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn no_panic_on_any_url(url in any::<String>()) {
            let shown = shown_url(&url);
            prop_assert!(shown == "(an invalid URL)" || shown.ends_with('…'), "{shown}");
        }

        #[test]
        fn a_url_keeps_its_scheme_and_host_and_nothing_secret(
            https in any::<bool>(),
            host in "[a-z]{1,12}(\\.[a-z]{2,6}){0,2}",
            port in prop::option::of(1u16..),
            user in prop::option::of((secret(), prop::option::of(secret()))),
            path in prop::collection::vec(secret(), 0..4),
            query in prop::collection::vec(("[a-z]{1,6}", secret()), 0..3),
            fragment in prop::option::of(secret()),
        ) {
            let scheme = if https { "https" } else { "http" };
            let mut url = format!("{scheme}://");
            let mut secrets: Vec<String> = Vec::new();
            if let Some((name, password)) = &user {
                url.push_str(name);
                secrets.push(name.clone());
                if let Some(p) = password {
                    url.push(':');
                    url.push_str(p);
                    secrets.push(p.clone());
                }
                url.push('@');
            }
            url.push_str(&host);
            if let Some(p) = port {
                url.push_str(&format!(":{p}"));
            }
            for segment in &path {
                url.push('/');
                url.push_str(segment);
                secrets.push(segment.clone());
            }
            for (i, (k, v)) in query.iter().enumerate() {
                url.push(if i == 0 { '?' } else { '&' });
                url.push_str(&format!("{k}={v}"));
                secrets.push(v.clone());
            }
            if let Some(f) = &fragment {
                url.push('#');
                url.push_str(f);
                secrets.push(f.clone());
            }
            let shown = shown_url(&url);
            let default_port = if https { 443 } else { 80 };
            let port = port
                .filter(|p| *p != default_port)
                .map(|p| format!(":{p}"))
                .unwrap_or_default();
            prop_assert_eq!(&shown, &format!("{scheme}://{host}{port}/…"), "{}", url);
            for s in &secrets {
                prop_assert!(!shown.contains(s.as_str()), "{} survives in {}", s, shown);
            }
        }

        #[test]
        fn a_body_never_shows_its_secret_fields(
            key in secret_key(),
            value in secret(),
            text in "[a-z ]{0,20}",
        ) {
            let json = serde_json::json!({"text": text, key: value, "nested": [{key: value}]});
            let form = format!("text={text}&{key}={value}&channel=ops");
            for body in [json.to_string(), form] {
                let lines = describe("POST", &Field::Literal("https://h.example/x".into()), &[], Some(&body), 200);
                let all = lines.join("\n");
                prop_assert!(!all.contains(value.as_str()), "{} shown in {}", value, all);
            }
        }

        #[test]
        fn secret_looking_headers_are_never_shown(key in secret_key(), value in secret()) {
            let headers = vec![(key.to_string(), Field::Literal(value.clone()))];
            let all = describe("GET", &Field::Literal("http://h/".into()), &headers, None, 200).join("\n");
            prop_assert!(!all.contains(value.as_str()), "{}", all);
        }
    }
}
