//! Call a webhook: one HTTP request (no redirects followed, no retry), judged by its status.
//! A refused or failed connection means nothing was sent; a timeout after connecting does not.

use std::time::{Duration, Instant};

use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{Method, Url};

use failover_core::actions::webhook::{Field, shown_url};
use failover_core::actions::{ActionSpec, Outcome};

/// How much of an unexpected answer's body is shown.
const BODY_SNIPPET: usize = 200;

struct Request<'a> {
    method: &'a str,
    url: &'a Field,
    headers: &'a [(String, Field)],
    body: Option<&'a str>,
    expect_status: u16,
    timeout: Duration,
}

fn fields(spec: &ActionSpec) -> Option<Request<'_>> {
    match spec {
        ActionSpec::Http {
            method,
            url,
            headers,
            body,
            expect_status,
            timeout,
        } => Some(Request {
            method,
            url,
            headers,
            body: body.as_deref(),
            expect_status: *expect_status,
            timeout: *timeout,
        }),
        _ => None,
    }
}

/// A literal, or the value of its variable now (`url-env`, `header-env`); never the value in the
/// error.
fn resolve(field: &Field, what: &str) -> Result<String, String> {
    match field {
        Field::Literal(v) => Ok(v.clone()),
        Field::Env(var) => match std::env::var(var) {
            Ok(v) if !v.is_empty() => Ok(v),
            Ok(_) => Err(format!("{what}: {var} is empty")),
            Err(std::env::VarError::NotPresent) => Err(format!("{what}: {var} is not set")),
            Err(std::env::VarError::NotUnicode(_)) => {
                Err(format!("{what}: {var} is not valid UTF-8"))
            }
        },
    }
}

/// Every header, its value resolved and checked.
fn headers(r: &Request<'_>) -> Result<Vec<(HeaderName, HeaderValue)>, String> {
    r.headers
        .iter()
        .map(|(name, value)| parse_header(name, &resolve(value, &format!("header {name}"))?))
        .collect()
}

fn parse_method(method: &str) -> Result<Method, String> {
    Method::from_bytes(method.to_ascii_uppercase().as_bytes())
        .map_err(|_| format!("invalid HTTP method {method:?}"))
}

fn parse_url(url: &str) -> Result<Url, String> {
    let parsed = Url::parse(url).map_err(|e| format!("invalid URL: {e}"))?;
    if parsed.scheme() != "http" && parsed.scheme() != "https" {
        return Err(format!("URL {} is not http or https", shown_url(url)));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!("URL {} has no host", shown_url(url)));
    }
    Ok(parsed)
}

/// Never the value: it may be a secret.
fn parse_header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), String> {
    let n = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| format!("invalid header name {name:?}"))?;
    let v = HeaderValue::from_str(value).map_err(|_| format!("invalid value for header {name}"))?;
    Ok((n, v))
}

/// The plan: `describe()`, with a URL from the environment shown as `scheme://host/…` too.
pub fn plan(spec: &ActionSpec) -> Vec<String> {
    let mut lines = spec.describe();
    if let Some(Request {
        url: Field::Env(var),
        ..
    }) = fields(spec)
        && let (Ok(url), Some(first)) = (std::env::var(var), lines.first_mut())
    {
        *first = first.replacen(
            &format!("${var}"),
            &format!("{} (${var})", shown_url(&url)),
            1,
        );
    }
    lines
}

/// The URL parses (http or https, with a host), the method and the headers are valid.
pub fn preflight(spec: &ActionSpec) -> Vec<String> {
    let Some(r) = fields(spec) else {
        return vec!["internal error: not a webhook action".into()];
    };
    let mut problems = Vec::new();
    if let Err(e) = parse_method(r.method) {
        problems.push(e);
    }
    if let Err(e) = resolve(r.url, "url").and_then(|u| parse_url(&u)) {
        problems.push(e);
    }
    for (name, value) in r.headers {
        if let Err(e) =
            resolve(value, &format!("header {name}")).and_then(|v| parse_header(name, &v))
        {
            problems.push(e);
        }
    }
    if !(100..=599).contains(&r.expect_status) {
        problems.push(format!(
            "expected status {} is not an HTTP status",
            r.expect_status
        ));
    }
    problems
}

pub async fn execute(spec: &ActionSpec) -> Outcome {
    let Some(r) = fields(spec) else {
        return Outcome::Failed("internal error: not a webhook action".into());
    };
    let method = match parse_method(r.method) {
        Ok(m) => m,
        Err(e) => return Outcome::Failed(format!("{e}; nothing sent")),
    };
    let url_text = match resolve(r.url, "url") {
        Ok(u) => u,
        Err(e) => return Outcome::Failed(format!("{e}; nothing sent")),
    };
    let url = match parse_url(&url_text) {
        Ok(u) => u,
        Err(e) => return Outcome::Failed(format!("{e}; nothing sent")),
    };
    let headers = match headers(&r) {
        Ok(h) => h,
        Err(e) => return Outcome::Failed(format!("{e}; nothing sent")),
    };
    let client = match reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .connect_timeout(r.timeout)
        .timeout(r.timeout)
        .user_agent(concat!("failover-console/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(c) => c,
        Err(e) => return Outcome::Failed(format!("HTTP client unavailable: {e}; nothing sent")),
    };
    let mut request = client.request(method, url);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    if let Some(body) = r.body {
        request = request.body(body.to_string());
    }
    let where_ = shown_url(&url_text);
    let started = Instant::now();
    match request.send().await {
        Ok(mut response) => {
            let took = started.elapsed();
            let status = response.status().as_u16();
            if status == r.expect_status {
                return Outcome::Ok(format!("HTTP {status} in {} ms", took.as_millis()));
            }
            // The first bytes of the body say why, when the server says anything.
            let mut bytes = Vec::new();
            while bytes.len() < 4 * BODY_SNIPPET {
                match response.chunk().await {
                    Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
                    _ => break,
                }
            }
            let text = String::from_utf8_lossy(&bytes);
            let text: String = text
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .chars()
                .filter(|c| !c.is_control())
                .take(BODY_SNIPPET)
                .collect();
            if text.is_empty() {
                Outcome::Failed(format!("HTTP {status} (expected {})", r.expect_status))
            } else {
                Outcome::Failed(format!("HTTP {status}: {text}"))
            }
        }
        Err(e) => {
            // reqwest's own text names the whole URL, token and all.
            let e = e.without_url();
            let text = crate::net::http::describe(&e, r.timeout);
            if e.is_builder() {
                Outcome::Failed(format!("invalid request to {where_}: {text}; nothing sent"))
            } else if e.is_connect() {
                // No connection (refused, unreachable, TLS handshake): the request never left.
                Outcome::Failed(format!("cannot connect to {where_}: {text}; nothing sent"))
            } else if e.is_timeout() {
                Outcome::Unknown(format!(
                    "no answer from {where_} within {}: the request may have been received; check by hand",
                    humantime::format_duration(r.timeout)
                ))
            } else {
                Outcome::Unknown(format!(
                    "{text} ({where_}): the request may have been received; check by hand"
                ))
            }
        }
    }
}
