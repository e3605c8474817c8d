//! Configuration: the file schema (`file`), durations, and the validated form the console uses.
//! A bad file is refused before the terminal is touched, with file, line, column and what was
//! expected.

pub mod duration;
pub mod file;
pub mod runbook;
mod validate;

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use validate::{from_str, normalise_answer};

/// Index into `Config::sites`.
pub type SiteId = usize;

#[derive(Debug, Clone)]
pub struct Config {
    pub path: PathBuf,
    pub title: String,
    pub journal: PathBuf,
    pub log: Option<PathBuf>,
    pub theme: String,
    pub sites: Vec<Site>,
    pub health: Vec<HealthCheck>,
    pub databases: Vec<Database>,
    pub dns: Vec<DnsRecord>,
    pub runbooks: Vec<runbook::Runbook>,
}

#[derive(Debug, Clone)]
pub struct Site {
    pub key: String,
    pub label: String,
}

#[derive(Debug, Clone)]
pub struct HealthCheck {
    pub name: String,
    pub site: SiteId,
    pub target: Target,
    pub interval: Duration,
    pub timeout: Duration,
    pub failure_threshold: u32,
    pub success_threshold: u32,
}

#[derive(Debug, Clone)]
pub enum Target {
    Http {
        url: String,
        expect_status: u16,
        insecure: bool,
    },
    Tcp {
        addr: String,
    },
}

impl Target {
    pub fn describe(&self) -> String {
        match self {
            Target::Http { url, .. } => url.clone(),
            Target::Tcp { addr } => format!("tcp {addr}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    Postgres,
}

#[derive(Debug, Clone)]
pub struct Database {
    pub name: String,
    pub kind: DatabaseKind,
    pub max_lag_bytes: u64,
    pub max_lag: Duration,
    pub interval: Duration,
    pub timeout: Duration,
    pub members: Vec<Member>,
}

#[derive(Debug, Clone)]
pub struct Member {
    pub name: String,
    pub site: SiteId,
    /// libpq key=value or URL form, never with a password in it.
    pub dsn: String,
    pub password_env: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordType {
    A,
    Aaaa,
    Cname,
    Txt,
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RecordType::A => "A",
            RecordType::Aaaa => "AAAA",
            RecordType::Cname => "CNAME",
            RecordType::Txt => "TXT",
        })
    }
}

#[derive(Debug, Clone)]
pub struct DnsRecord {
    /// Fully qualified, with the trailing dot.
    pub name: String,
    pub record_type: RecordType,
    pub resolvers: Vec<SocketAddr>,
    pub interval: Duration,
    pub timeout: Duration,
    /// The answers that mean "this site serves", per site, normalised for comparison.
    pub answers: Vec<(SiteId, Vec<String>)>,
}

impl Config {
    pub fn site_label(&self, site: SiteId) -> &str {
        self.sites
            .get(site)
            .map(|s| s.label.as_str())
            .unwrap_or("?")
    }

    pub fn site_by_key(&self, key: &str) -> Option<SiteId> {
        self.sites.iter().position(|s| s.key == key)
    }

    /// The longest time one round of probes can take: bounds `status`.
    pub fn longest_timeout(&self) -> Duration {
        let health = self.health.iter().map(|h| h.timeout);
        let db = self.databases.iter().map(|d| d.timeout);
        let dns = self.dns.iter().map(|d| d.timeout);
        health
            .chain(db)
            .chain(dns)
            .max()
            .unwrap_or(Duration::from_secs(1))
    }
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

/// Where to look when `--config` is not given: ./config.toml, then the XDG config dir.
pub fn default_path() -> PathBuf {
    let local = PathBuf::from("config.toml");
    if local.exists() {
        return local;
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")));
    match base {
        Some(dir) => {
            let xdg = dir.join("failover-console").join("config.toml");
            if xdg.exists() { xdg } else { local }
        }
        None => local,
    }
}

pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: path.to_path_buf(),
        position: None,
        message: format!("cannot read the config file: {e}"),
        line_text: None,
    })?;
    from_str(&text, path)
}
