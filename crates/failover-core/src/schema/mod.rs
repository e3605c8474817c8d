//! The config file's common shapes and the checks every table shares: positions in the file,
//! sites, durations, names, addresses. Each kind's own table is checked in its folder.

pub mod duration;
pub mod secrets;
mod sites;
mod step;

use std::collections::HashSet;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;

pub use duration::ConfigDuration;
pub use sites::{Site, SiteId, Sites};
pub use step::{CommandFile, StepFile};

/// What checking a config needs from drivers the core does not link.
pub trait Drivers {
    /// Whether a PostgreSQL connection string parses, and if so where it points.
    fn postgres_dsn(&self, dsn: &str) -> Result<Dsn, String>;
}

/// Where a PostgreSQL connection string points, in words that never hold a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dsn {
    /// "127.0.0.1:54322": the first host and port, for "connecting to ...".
    pub endpoint: String,
    /// "host 127.0.0.1 port 54322 user postgres db postgres", for the plan.
    pub target: String,
    /// Whether the driver, reading it as it would to connect, found a password in it (in any
    /// spelling it accepts: `password=`, `user:pass@`, a percent-encoded `?%70assword=`).
    pub has_password: bool,
}

/// A config problem, pointing at the place in the file when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    pub position: Option<(usize, usize)>,
    pub message: String,
    /// The offending line, for context.
    pub line_text: Option<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some((line, col)) => {
                write!(f, "{}:{line}:{col}: {}", self.file.display(), self.message)?
            }
            None => write!(f, "{}: {}", self.file.display(), self.message)?,
        }
        if let (Some(text), Some((line, col))) = (&self.line_text, self.position) {
            let gutter = line.to_string().len();
            write!(
                f,
                "\n{:gutter$} |\n{line} | {text}\n{:gutter$} | {:>col$}",
                "", "", "^"
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

pub struct Checker<'a> {
    pub text: &'a str,
    pub path: &'a Path,
}

impl Checker<'_> {
    pub fn error(&self, span: Option<Range<usize>>, message: impl Into<String>) -> ConfigError {
        let position = span.map(|s| line_col(self.text, s.start));
        let line_text = position
            .and_then(|(line, _)| self.text.lines().nth(line - 1))
            .map(str::to_string);
        ConfigError {
            file: self.path.to_path_buf(),
            position,
            message: message.into(),
            line_text,
        }
    }

    pub fn at<T>(&self, value: &Spanned<T>, message: impl Into<String>) -> ConfigError {
        self.error(Some(value.span()), message)
    }

    /// An error at a value that holds (or may hold) a secret: the excerpt shows its line with
    /// the value masked, so the secret is not copied to a terminal or a CI log.
    pub fn secret_at<T>(&self, value: &Spanned<T>, message: impl Into<String>) -> ConfigError {
        let mut e = self.at(value, message);
        e.line_text = masked_line(self.text, value.span());
        e
    }

    pub fn site(&self, sites: &Sites, name: &Spanned<String>) -> Result<SiteId, ConfigError> {
        sites.by_key(name.get_ref()).ok_or_else(|| {
            let keys: Vec<&str> = sites.iter().map(|s| s.key.as_str()).collect();
            self.at(
                name,
                format!(
                    "unknown site {:?}: expected one of {}",
                    name.get_ref(),
                    keys.join(", ")
                ),
            )
        })
    }

    /// A path relative to the config file's directory.
    pub fn relative(&self, p: &str) -> PathBuf {
        let p = PathBuf::from(p);
        if p.is_absolute() {
            p
        } else {
            self.path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default()
                .join(p)
        }
    }
}

/// The line `span` starts on, with the span's part of that line replaced by `"****"`.
fn masked_line(text: &str, span: Range<usize>) -> Option<String> {
    let start = span.start.min(text.len());
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let end = span.end.clamp(start, line_end);
    let (before, after) = (text.get(line_start..start)?, text.get(end..line_end)?);
    Some(
        format!("{before}\"****\"{after}")
            .trim_end_matches('\r')
            .to_string(),
    )
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

pub fn unique(
    c: &Checker<'_>,
    seen: &mut HashSet<String>,
    name: &Spanned<String>,
    what: &str,
) -> Result<(), ConfigError> {
    if name.get_ref().trim().is_empty() {
        return Err(c.at(name, format!("empty {what} name")));
    }
    if !seen.insert(name.get_ref().clone()) {
        return Err(c.at(
            name,
            format!(
                "duplicate {what} name {:?}: names must be unique",
                name.get_ref()
            ),
        ));
    }
    Ok(())
}

pub fn duration_or(value: &Option<Spanned<ConfigDuration>>, default: Duration) -> Duration {
    value.as_ref().map(|d| d.get_ref().0).unwrap_or(default)
}

pub fn interval_and_timeout(
    c: &Checker<'_>,
    interval: &Option<Spanned<ConfigDuration>>,
    timeout: &Option<Spanned<ConfigDuration>>,
    defaults: (Duration, Duration),
) -> Result<(Duration, Duration), ConfigError> {
    let i = duration_or(interval, defaults.0);
    let t = duration_or(timeout, defaults.1);
    if let Some(span) = interval
        && i < Duration::from_millis(100)
    {
        return Err(c.at(span, "interval too short: expected at least 100ms"));
    }
    if let Some(span) = timeout
        && t < Duration::from_millis(10)
    {
        return Err(c.at(span, "timeout too short: expected at least 10ms"));
    }
    timeout_at_most_an_hour(c, timeout)?;
    Ok((i, t))
}

/// Every source's read timeout: at most [`duration::LONGEST_TIMEOUT`].
pub fn timeout_at_most_an_hour(
    c: &Checker<'_>,
    timeout: &Option<Spanned<ConfigDuration>>,
) -> Result<(), ConfigError> {
    match timeout {
        Some(t) if t.get_ref().0 > duration::LONGEST_TIMEOUT => {
            Err(c.at(t, "timeout too long: expected at most 1h"))
        }
        _ => Ok(()),
    }
}

pub fn non_empty(
    c: &Checker<'_>,
    v: &Option<Spanned<String>>,
    what: &str,
) -> Result<Option<String>, ConfigError> {
    match v {
        None => Ok(None),
        Some(s) if s.get_ref().trim().is_empty() || s.get_ref().contains(char::is_whitespace) => {
            Err(c.at(s, format!("invalid {what} {:?}", s.get_ref())))
        }
        Some(s) => Ok(Some(s.get_ref().clone())),
    }
}

pub fn endpoint_url(
    c: &Checker<'_>,
    v: &Option<Spanned<String>>,
) -> Result<Option<String>, ConfigError> {
    let Some(u) = v else { return Ok(None) };
    let parsed = url::Url::parse(u.get_ref())
        .map_err(|e| c.at(u, format!("invalid endpoint-url {:?}: {e}", u.get_ref())))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(c.at(
            u,
            format!(
                "invalid endpoint-url {:?}: expected http(s)://host[:port]",
                u.get_ref()
            ),
        ));
    }
    if secrets::clear_to_network(&parsed) {
        return Err(c.at(
            u,
            "endpoint-url over plain http to a host that is not this machine: AWS requests carry signed credentials and session tokens; use https:// (plain http only to loopback, e.g. a local moto)",
        ));
    }
    if let Some(what) = secrets::secret_in_url(&parsed) {
        return Err(c.secret_at(
            u,
            format!("endpoint-url holds {what}: AWS credentials come from the SDK's chain, never the file"),
        ));
    }
    Ok(Some(u.get_ref().trim_end_matches('/').to_string()))
}

/// An invalid URL: named in the message, unless it may hold credentials (an `@`): then masked.
pub fn invalid_url(c: &Checker<'_>, u: &Spanned<String>, e: url::ParseError) -> ConfigError {
    if u.get_ref().contains('@') {
        c.secret_at(
            u,
            format!("invalid URL (not shown: it may hold credentials): {e}"),
        )
    } else {
        c.at(u, format!("invalid URL {:?}: {e}", u.get_ref()))
    }
}

/// "ip:port", or "ip" for port 53.
pub fn resolver_addr(
    c: &Checker<'_>,
    r: &Spanned<String>,
    what: &str,
) -> Result<SocketAddr, ConfigError> {
    let text = r.get_ref();
    text.parse::<SocketAddr>()
        .or_else(|_| text.parse::<IpAddr>().map(|ip| SocketAddr::new(ip, 53)))
        .map_err(|_| c.at(r, format!("invalid {what} {text:?}: expected an IP address with an optional port, e.g. \"127.0.0.1:5353\"")))
}
