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
pub struct RunbookFile {
    pub name: Spanned<String>,
    pub description: Option<String>,
    pub from: Spanned<String>,
    pub to: Spanned<String>,
    #[serde(default)]
    pub step: Vec<Spanned<StepFile>>,
}

