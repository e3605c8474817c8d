//! The config file as written: every table kebab-case, unknown fields rejected, values that need
//! checking against each other kept with their position so errors can point at them.

use indexmap::IndexMap;
use serde::Deserialize;
use toml::Spanned;

use super::duration::ConfigDuration;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default)]
    pub console: ConsoleFile,
    #[serde(default)]
    pub sites: IndexMap<String, Spanned<SiteFile>>,
    #[serde(default)]
    pub health: Vec<HealthFile>,
    #[serde(default)]
    pub database: Vec<DatabaseFile>,
    #[serde(default)]
    pub dns: Vec<DnsFile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ConsoleFile {
    pub title: Option<String>,
    pub journal: Option<String>,
    pub theme: Option<Spanned<String>>,
    pub log: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SiteFile {
    pub label: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct HealthFile {
    pub name: Spanned<String>,
    pub site: Spanned<String>,
    pub http: Option<Spanned<String>>,
    pub tcp: Option<Spanned<String>>,
    pub expect_status: Option<Spanned<u16>>,
    pub interval: Option<Spanned<ConfigDuration>>,
    pub timeout: Option<Spanned<ConfigDuration>>,
    pub failure_threshold: Option<Spanned<u32>>,
    pub success_threshold: Option<Spanned<u32>>,
    /// Turns TLS certificate verification off for this check. Shown loudly on screen.
    pub insecure_skip_tls_verify: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct DatabaseFile {
    pub name: Spanned<String>,
    pub kind: Spanned<String>,
    pub max_lag_bytes: Option<u64>,
    pub max_lag: Option<Spanned<ConfigDuration>>,
    pub interval: Option<Spanned<ConfigDuration>>,
    pub timeout: Option<Spanned<ConfigDuration>>,
    #[serde(default)]
    pub member: Vec<MemberFile>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct MemberFile {
    pub site: Spanned<String>,
    pub dsn: Spanned<String>,
    pub name: Option<Spanned<String>>,
    pub password_env: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct DnsFile {
    pub name: Spanned<String>,
    #[serde(rename = "type")]
    pub record_type: Option<Spanned<String>>,
    pub resolvers: Spanned<Vec<Spanned<String>>>,
    pub interval: Option<Spanned<ConfigDuration>>,
    pub timeout: Option<Spanned<ConfigDuration>>,
    #[serde(default)]
    pub answers: IndexMap<String, Spanned<Vec<Spanned<String>>>>,
}
