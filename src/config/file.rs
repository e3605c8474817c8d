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
    #[serde(default)]
    pub runbook: Vec<RunbookFile>,
    pub aws: Option<AwsFile>,
    #[serde(default)]
    pub route53: Vec<Route53File>,
    #[serde(default)]
    pub rds: Vec<RdsFile>,
    #[serde(default)]
    pub cloudwatch: Vec<CloudWatchFile>,
}

/// `[aws]`: defaults for every AWS source. Credentials never sit here: they come from the
/// SDK's default chain (environment, profiles, SSO, IMDS).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AwsFile {
    pub region: Option<Spanned<String>>,
    pub profile: Option<Spanned<String>>,
    pub endpoint_url: Option<Spanned<String>>,
}

/// `[[route53]]`: one failover record set pair to read from Route 53.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Route53File {
    pub name: Spanned<String>,
    pub zone_id: Spanned<String>,
    #[serde(rename = "type")]
    pub record_type: Option<Spanned<String>>,
    pub region: Option<Spanned<String>>,
    pub profile: Option<Spanned<String>>,
    pub endpoint_url: Option<Spanned<String>>,
    pub interval: Option<Spanned<ConfigDuration>>,
    pub timeout: Option<Spanned<ConfigDuration>>,
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
    /// kind = "patroni": the REST API of every member, asked in this order.
    pub members: Option<Spanned<Vec<Spanned<String>>>>,
    /// kind = "patroni": Patroni member name -> site key.
    #[serde(default)]
    pub sites: IndexMap<String, Spanned<String>>,
    /// kind = "patroni": basic auth for the REST API; the password only from `password-env`.
    pub user: Option<Spanned<String>>,
    pub password_env: Option<Spanned<String>>,
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

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RunbookFile {
    pub name: Spanned<String>,
    pub description: Option<String>,
    pub from: Spanned<String>,
    pub to: Spanned<String>,
    #[serde(default)]
    pub step: Vec<Spanned<StepFile>>,
}

/// One step: exactly one of gate, action, wait, manual. A rollback has the same form.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct StepFile {
    pub title: Option<String>,
    pub gate: Option<Spanned<String>>,
    pub action: Option<Spanned<String>>,
    pub wait: Option<Spanned<String>>,
    pub manual: Option<String>,
    pub database: Option<Spanned<String>>,
    /// Lag gate on a `[[rds]]` source instead of a `[[database]]`.
    pub rds: Option<Spanned<String>>,
    /// CloudWatch gate: the `[[cloudwatch]]` check's name.
    pub check: Option<Spanned<String>>,
    pub site: Option<Spanned<String>>,
    pub record: Option<Spanned<String>>,
    #[serde(rename = "type")]
    pub record_type: Option<Spanned<String>>,
    pub server: Option<Spanned<String>>,
    pub zone: Option<String>,
    pub ttl: Option<u32>,
    /// DNS action: the new answers; default: `answers.<to>` of the [[dns]] record.
    pub values: Option<Vec<String>>,
    pub tsig_key_name: Option<String>,
    pub tsig_secret_env: Option<String>,
    pub tsig_algorithm: Option<Spanned<String>>,
    pub timeout: Option<Spanned<ConfigDuration>>,
    pub command: Option<Spanned<CommandFile>>,
    pub cwd: Option<String>,
    pub url: Option<Spanned<String>>,
    pub method: Option<Spanned<String>>,
    pub body: Option<String>,
    #[serde(default)]
    pub headers: IndexMap<String, String>,
    pub expect_status: Option<u16>,
    /// route53 action: "upsert" (default), "disable-health-check", "enable-health-check".
    pub mode: Option<Spanned<String>>,
    pub health_check_id: Option<Spanned<String>>,
    /// rds-promote: the read replica to promote.
    pub instance: Option<Spanned<String>>,
    /// rds-failover: the cluster, and the member to make its writer.
    pub cluster: Option<Spanned<String>>,
    pub target: Option<Spanned<String>>,
    /// patroni-switchover / patroni-failover: the member to make leader, and (switchover) the
    /// leader expected now.
    pub candidate: Option<Spanned<String>>,
    pub leader: Option<Spanned<String>>,
    /// AWS actions: over `[aws]` (and over the [[route53]] record's own for a route53 action).
    pub region: Option<Spanned<String>>,
    pub profile: Option<Spanned<String>>,
    pub endpoint_url: Option<Spanned<String>>,
    pub rollback: Option<Box<Spanned<StepFile>>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum CommandFile {
    Line(String),
    Argv(Vec<String>),
}

/// `[[rds]]`: RDS instances (and optionally their Aurora cluster), one per site.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RdsFile {
    pub name: Spanned<String>,
    /// Site key -> DB instance identifier.
    pub instances: Spanned<IndexMap<String, Spanned<String>>>,
    pub cluster: Option<Spanned<String>>,
    pub max_lag: Option<Spanned<ConfigDuration>>,
    pub lag_period: Option<Spanned<ConfigDuration>>,
    pub lag_max_age: Option<Spanned<ConfigDuration>>,
    pub region: Option<Spanned<String>>,
    pub profile: Option<Spanned<String>>,
    pub endpoint_url: Option<Spanned<String>>,
    pub interval: Option<Spanned<ConfigDuration>>,
    pub timeout: Option<Spanned<ConfigDuration>>,
}

/// `[[cloudwatch]]`: one metric with warn / crit thresholds.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct CloudWatchFile {
    pub name: Spanned<String>,
    pub site: Option<Spanned<String>>,
    pub namespace: Spanned<String>,
    pub metric: Spanned<String>,
    #[serde(default)]
    pub dimensions: IndexMap<String, Spanned<String>>,
    pub statistic: Option<Spanned<String>>,
    pub period: Option<Spanned<ConfigDuration>>,
    pub warn: Spanned<f64>,
    pub crit: Spanned<f64>,
    pub max_age: Option<Spanned<ConfigDuration>>,
    pub region: Option<Spanned<String>>,
    pub profile: Option<Spanned<String>>,
    pub endpoint_url: Option<Spanned<String>>,
    pub interval: Option<Spanned<ConfigDuration>>,
    pub timeout: Option<Spanned<ConfigDuration>>,
}
