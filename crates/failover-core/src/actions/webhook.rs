//! The http action's pure half: how the plan shows a request, with secrets masked.

use url::Url;

/// How much of the request body the plan shows.
const BODY_SHOWN: usize = 300;

/// Names of headers, query parameters and JSON fields whose values are never shown.
fn looks_secret(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "authorization",
        "auth",
        "token",
        "key",
        "secret",
        "password",
        "passwd",
        "cookie",
        "signature",
        "credential",
    ]
    .iter()
    .any(|s| n.contains(s))
}
/// "POST http://... (expect 200)", the headers (secret-looking values as ***), the body.
pub fn describe(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: Option<&str>,
    expect_status: u16,
) -> Vec<String> {
    let mut lines = vec![format!(
        "{} {} (expect {expect_status})",
        method.to_ascii_uppercase(),
        shown_url(url)
    )];
    for (name, value) in headers {
        let value = if looks_secret(name) {
            "***"
        } else {
            value.as_str()
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
/// The URL without its password or secret-looking query values.
pub fn shown_url(url: &str) -> String {
    let Ok(mut parsed) = Url::parse(url) else {
        return url.to_string();
    };
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some("***"));
    }
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if pairs.iter().any(|(k, _)| looks_secret(k)) {
        let masked = pairs.into_iter().map(|(k, v)| {
            if looks_secret(&k) {
                (k, "***".to_string())
            } else {
                (k, v)
            }
        });
        parsed.query_pairs_mut().clear().extend_pairs(masked);
    }
    parsed.to_string().replace("%2A%2A%2A", "***")
}
/// The body on one line; in JSON, the values of secret-looking fields as "***".
fn shown_body(body: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(mut json) if json.is_object() || json.is_array() => {
            mask_json(&mut json);
            json.to_string()
        }
        _ => body.split_whitespace().collect::<Vec<_>>().join(" "),
    }
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

    #[test]
    fn describe_masks_secrets() {
        let headers = vec![
            ("Authorization".to_string(), "Bearer abc123".to_string()),
            ("X-Api-Key".to_string(), "k-456".to_string()),
            ("Content-Type".to_string(), "application/json".to_string()),
        ];
        let lines = describe(
            "post",
            "https://ops:pw789@hooks.example/notify?channel=ops&token=t-000",
            &headers,
            Some(r#"{"text":"failover to B","password":"p-111","nested":{"api_key":"k-222"}}"#),
            200,
        );
        let all = lines.join("\n");
        for secret in ["abc123", "k-456", "pw789", "t-000", "p-111", "k-222"] {
            assert!(!all.contains(secret), "{secret} shown in:\n{all}");
        }
        assert!(
            lines[0].starts_with(
                "POST https://ops:***@hooks.example/notify?channel=ops&token=*** (expect 200)"
            ),
            "{all}"
        );
        assert!(
            all.contains("header Content-Type: application/json")
                && all.contains("header Authorization: ***"),
            "{all}"
        );
        assert!(all.contains(r#""text":"failover to B""#), "{all}");
    }
}
