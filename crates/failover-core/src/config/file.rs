//! The config file as written: every table kebab-case, unknown fields rejected, values that need
//! checking against each other kept with their position so errors can point at them. Each
//! kind's table is declared in its folder.

use indexmap::IndexMap;
use serde::Deserialize;
use toml::Spanned;

use crate::kinds::alarm::AlarmFile;
use crate::kinds::aws::AwsFile;
use crate::kinds::cloudwatch::CloudWatchFile;
use crate::kinds::dns::DnsFile;
use crate::kinds::health::HealthFile;
use crate::kinds::postgres::DatabaseFile;
use crate::kinds::rds::RdsFile;
use crate::kinds::route53::Route53File;
use crate::runbook::RunbookFile;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default)]
    pub console: ConsoleFile,
    #[serde(default)]
    pub sites: IndexMap<String, Spanned<SiteFile>>,
    #[serde(default)]
    pub health: Vec<HealthFile>,
    /// `kind = "postgres"` or `kind = "patroni"`.
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
    #[serde(default)]
    pub alarm: Vec<AlarmFile>,
    pub war_room: Option<super::war_room::WarRoomFile>,
    pub objectives: Option<ObjectivesFile>,
    #[serde(default)]
    pub service: Vec<super::service::ServiceFile>,
    #[serde(default)]
    pub plan: Vec<super::plan::PlanFile>,
}

/// `[objectives]`: what every run and drill is measured against.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ObjectivesFile {
    pub rto: Option<Spanned<crate::schema::ConfigDuration>>,
    pub rpo: Option<Spanned<crate::schema::ConfigDuration>>,
    pub rpo_bytes: Option<Spanned<u64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ConsoleFile {
    pub title: Option<String>,
    pub journal: Option<String>,
    pub theme: Option<Spanned<String>>,
    pub log: Option<String>,
    /// Show a 5-minute sparkline at the end of each row at 120 columns and wider (default true).
    pub sparklines: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SiteFile {
    pub label: Option<String>,
}
