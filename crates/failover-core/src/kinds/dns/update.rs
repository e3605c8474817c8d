//! The DNS action's pure half: its fields and how the plan shows it. The binary sends it.

use std::net::SocketAddr;
use std::time::Duration;

use super::RecordType;

/// A TSIG key for signed updates. Only the environment variable's name: never the secret.
#[derive(Debug, Clone, PartialEq)]
pub struct Tsig {
    pub key_name: String,
    /// The environment variable holding the base64 secret: never the secret itself.
    pub secret_env: String,
    /// "hmac-sha256" (default), "hmac-sha384", "hmac-sha512".
    pub algorithm: String,
}

/// A DNS update action's fields, borrowed from its step.
#[derive(Debug, Clone, Copy)]
pub struct Update<'a> {
    pub server: SocketAddr,
    pub zone: Option<&'a str>,
    pub name: &'a str,
    pub record_type: RecordType,
    pub ttl: u32,
    pub values: &'a [String],
    pub tsig: Option<&'a Tsig>,
    pub timeout: Duration,
}

/// "api.failover.test." whether or not the config wrote the final dot.
pub fn fqdn(name: &str) -> String {
    let n = name.trim();
    if n.ends_with('.') {
        n.to_string()
    } else {
        format!("{n}.")
    }
}

/// At most `max` characters, marked when cut: outcomes stay one short line.
pub fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        format!("{}...", text.chars().take(max).collect::<String>())
    }
}

pub fn human(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

/// A value as nsupdate would take it (TXT quoted).
pub fn shown_value(record_type: RecordType, value: &str) -> String {
    match record_type {
        RecordType::Txt => format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\"")),
        _ => value.trim().to_string(),
    }
}

/// The update as nsupdate would show it. Never the secret: only the variable that holds it.
pub fn describe(u: &Update<'_>) -> Vec<String> {
    let name = fqdn(u.name);
    let mut lines = vec![format!("server {} {}", u.server.ip(), u.server.port())];
    match u.zone {
        Some(zone) => lines.push(format!("zone {}", fqdn(zone))),
        None => lines.push(format!(
            "zone: from the server's SOA for {name} (asked before sending)"
        )),
    }
    lines.push(format!("update delete {name} {}", u.record_type));
    for value in u.values {
        lines.push(format!(
            "update add {name} {} {} {}",
            u.ttl,
            u.record_type,
            shown_value(u.record_type, value)
        ));
    }
    match u.tsig {
        Some(t) => lines.push(format!(
            "key {} ({}, secret from ${})",
            t.key_name,
            algorithm_text(&t.algorithm),
            t.secret_env
        )),
        None => lines.push("no key: unsigned update".into()),
    }
    lines.push(format!(
        "send (one UPDATE; no answer within {} = outcome unknown)",
        human(u.timeout)
    ));
    lines
}

pub fn algorithm_text(a: &str) -> String {
    if a.trim().is_empty() {
        "hmac-sha256".into()
    } else {
        a.trim().to_ascii_lowercase()
    }
}
