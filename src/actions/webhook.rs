//! Call a webhook: one HTTP request (no redirects followed, no retry), judged by its status.
//! A refused or failed connection means nothing was sent; a timeout after connecting does not.

use std::time::{Duration, Instant};

use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{Method, Url};

use failover_core::actions::webhook::shown_url;
use failover_core::actions::{ActionSpec, Outcome};

/// How much of an unexpected answer's body is shown.
const BODY_SNIPPET: usize = 200;

struct Request<'a> {
    method: &'a str,
    url: &'a str,
    headers: &'a [(String, String)],
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

fn parse_method(method: &str) -> Result<Method, String> {
    Method::from_bytes(method.to_ascii_uppercase().as_bytes())
        .map_err(|_| format!("invalid HTTP method {method:?}"))
}

fn parse_url(url: &str) -> Result<Url, String> {
    let parsed = Url::parse(url).map_err(|e| format!("invalid URL {}: {e}", shown_url(url)))?;
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

/// The URL parses (http or https, with a host), the method and the headers are valid.
pub fn preflight(spec: &ActionSpec) -> Vec<String> {
    let Some(r) = fields(spec) else {
        return vec!["internal error: not a webhook action".into()];
    };
    let mut problems = Vec::new();
    if let Err(e) = parse_method(r.method) {
        problems.push(e);
    }
    if let Err(e) = parse_url(r.url) {
        problems.push(e);
    }
    for (name, value) in r.headers {
        if let Err(e) = parse_header(name, value) {
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
    let url = match parse_url(r.url) {
        Ok(u) => u,
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
    let mut request = client.request(method, url.clone());
    for (name, value) in r.headers {
        match parse_header(name, value) {
            Ok((n, v)) => request = request.header(n, v),
            Err(e) => return Outcome::Failed(format!("{e}; nothing sent")),
        }
    }
    if let Some(body) = r.body {
        request = request.body(body.to_string());
    }
    let where_ = shown_url(r.url);
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
