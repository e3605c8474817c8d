//! A runbook step as written: one flat table. Which keys a step may have depends on its kind
//! (`action = "dns"`, `gate = "lag"`...): the runbook's step table checks that.

use indexmap::IndexMap;
use serde::Deserialize;
use toml::Spanned;

use super::duration::ConfigDuration;

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
    /// exec action: the variables of the console's environment the command also gets.
    pub env: Option<Vec<Spanned<String>>>,
    pub url: Option<Spanned<String>>,
    /// http action: the variable holding the URL, instead of `url`.
    pub url_env: Option<Spanned<String>>,
    pub method: Option<Spanned<String>>,
    pub body: Option<String>,
    #[serde(default)]
    pub headers: IndexMap<String, String>,
    /// http action: header name → the variable holding its value.
    #[serde(default)]
    pub header_env: IndexMap<String, Spanned<String>>,
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
