//! The command line: the TUI by default, plus `status`, `check-config`, `report` and `journal
//! export`.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::{self, Config};
use crate::runtime::TuiArgs;
use failover_core::runbook::numbers;
use failover_core::theme::{Theme, View};

#[derive(Debug, Parser)]
#[command(
    name = "failover-console",
    version,
    about = "A terminal console for failing a service over to its standby site, and back"
)]
pub struct Cli {
    /// Config file [default: ./config.toml, else $XDG_CONFIG_HOME/failover-console/config.toml]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub aws: AwsFlags,
    #[command(flatten)]
    pub tui: TuiArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// AWS: which profile and region, over `[aws]` and every source's own. Credentials come only
/// from the SDK's default chain (environment, profiles, SSO, IMDS).
#[derive(Debug, Args, Clone, Default)]
pub struct AwsFlags {
    /// AWS profile for every AWS source [default: from config, else the SDK's chain]
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// AWS region for every AWS source [default: from config, else the SDK's chain]
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Poll every source once, print a summary, exit 0 OK / 1 WARNING / 2 CRITICAL / 3 UNKNOWN
    Status {
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Exit 0 if the config is valid, else print what is wrong and exit 1
    CheckConfig,
    /// List the runs and drills in the journal with their RTO, RPO and objectives
    Report {
        /// How far back: a duration such as 90d, 2w, 36h
        #[arg(long, value_name = "DURATION", default_value = "90d")]
        since: String,
        /// Print JSON instead of Markdown
        #[arg(long)]
        json: bool,
    },
    /// The incident journal
    Journal {
        #[command(subcommand)]
        command: JournalCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum JournalCommand {
    /// Write the journal as an incident timeline for the post-mortem
    Export {
        #[arg(long, value_enum, default_value_t = ExportFormat::Markdown)]
        format: ExportFormat,
        /// Write here instead of stdout
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// With [war-room]: this console's local mirror instead of the shared record (etcd)
        #[arg(long)]
        local: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    Markdown,
    Jsonl,
}

fn load_config(path: &Option<PathBuf>, aws: &AwsFlags) -> Result<Config, String> {
    let path = path.clone().unwrap_or_else(config::default_path);
    let mut config = config::load(&path).map_err(|e| e.to_string())?;
    config.apply_aws_flags(aws.profile.as_deref(), aws.region.as_deref());
    Ok(config)
}

/// The console and `status` start only with every source's `*-env` set.
fn with_envs(config: Config) -> Result<Config, String> {
    config::check_envs(&config).map(|()| config)
}

pub fn operator_name(given: Option<&str>) -> String {
    if let Some(name) = given.filter(|n| !n.trim().is_empty()) {
        return name.trim().to_string();
    }
    let user = std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .or_else(|| whoami::username().ok())
        .unwrap_or_else(|| "unknown".into());
    let host = whoami::hostname().unwrap_or_else(|_| "localhost".into());
    format!("{user}@{host}")
}

/// NO_COLOR (any non-empty value) wins over every theme.
pub fn view(theme_name: &str, ascii: bool) -> Result<View, String> {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    // A bad --theme is refused even when NO_COLOR makes it moot: the operator asked for it.
    let theme = Theme::load(theme_name)?;
    let theme = if no_color { Theme::mono() } else { theme };
    Ok(View { theme, ascii })
}

pub async fn run(cli: Cli) -> u8 {
    match cli.command {
        None => {
            let config = match load_config(&cli.config, &cli.aws).and_then(with_envs) {
                Ok(c) => c,
                Err(e) => {
                    crate::output::stderr(&e);
                    return 1;
                }
            };
            let theme = cli
                .tui
                .theme
                .clone()
                .unwrap_or_else(|| config.theme.clone());
            let view = match view(&theme, cli.tui.ascii) {
                Ok(v) => v,
                Err(e) => {
                    crate::output::stderr(&format!("failover-console: {e}"));
                    return 1;
                }
            };
            let operator = operator_name(cli.tui.operator.as_deref());
            // The terminal may be gone by now (an SSH session dropped): `say`, not eprintln!.
            match crate::runtime::run(Arc::new(config), cli.tui, view, operator).await {
                Ok(stop) => {
                    if let Some(message) = stop.message() {
                        crate::screen::say(&format!("failover-console: {message}"));
                    }
                    stop.exit_code()
                }
                Err(e) => {
                    crate::screen::say(&format!("failover-console: {e}"));
                    1
                }
            }
        }
        Some(Command::CheckConfig) => match load_config(&cli.config, &cli.aws) {
            Ok(c) => match Theme::load(&c.theme)
                .map_err(|e| format!("{}: console.theme: {e}", c.path.display()))
                .and_then(|_| config::check_paths(&c))
            {
                Ok(()) => {
                    for unset in config::unset_envs(&c, false) {
                        crate::output::stderr(&format!(
                            "warning: {} is unset or empty here",
                            unset.describe()
                        ));
                    }
                    let named = c.services.iter().filter(|s| !s.implicit).count();
                    for rest in c.services.iter().filter(|s| s.implicit && named > 0) {
                        crate::output::stderr(&format!(
                            "warning: {} sources and {} runbooks are in no [[service]]: shown and judged as service {:?}",
                            rest.sources.count(),
                            rest.runbooks.len(),
                            rest.name
                        ));
                    }
                    let services = if named > 0 {
                        format!(", {named} services")
                    } else {
                        String::new()
                    };
                    let said = crate::output::stdout(&format!(
                        "{}: OK ({} sites, {}, {} runbooks{services}{})\n",
                        c.path.display(),
                        c.sites.len(),
                        c.kinds.census().join(", "),
                        c.runbooks.len(),
                        match c.plans.len() {
                            0 => String::new(),
                            n => format!(", {n} evacuation plans"),
                        }
                    ));
                    // Valid whether or not stdout could take it (a full disk is still said).
                    if let Err(e) = said {
                        crate::output::stderr(&format!("failover-console: {e}"));
                    }
                    0
                }
                Err(e) => {
                    crate::output::stderr(&e);
                    1
                }
            },
            Err(e) => {
                crate::output::stderr(&e);
                1
            }
        },
        Some(Command::Status { json }) => {
            match load_config(&cli.config, &cli.aws).and_then(with_envs) {
                Ok(c) => crate::status::run(Arc::new(c), json).await,
                Err(e) => {
                    crate::output::stderr(&e);
                    3
                }
            }
        }
        Some(Command::Report { since, json }) => {
            let since_text = since.trim().to_string();
            let since = match parse_since(&since) {
                Ok(d) => d,
                Err(e) => {
                    crate::output::stderr(&format!("failover-console: {e}"));
                    return 2;
                }
            };
            let config = match load_config(&cli.config, &cli.aws) {
                Ok(c) => c,
                Err(e) => {
                    crate::output::stderr(&e);
                    return 1;
                }
            };
            match report_text(&config, since, &since_text, json).await {
                Ok(text) => write_export(text.as_bytes(), None, &config.journal),
                Err(e) => {
                    crate::output::stderr(&format!("failover-console: {e}"));
                    1
                }
            }
        }
        Some(Command::Journal {
            command:
                JournalCommand::Export {
                    format,
                    output,
                    local,
                },
        }) => {
            let config = match load_config(&cli.config, &cli.aws) {
                Ok(c) => c,
                Err(e) => {
                    crate::output::stderr(&e);
                    return 1;
                }
            };
            let jsonl = matches!(format, ExportFormat::Jsonl);
            match export_bytes(&config, jsonl, local).await {
                Ok(bytes) => write_export(&bytes, output, &config.journal),
                Err(e) => {
                    crate::output::stderr(&format!("failover-console: {e}"));
                    1
                }
            }
        }
    }
}

/// `--since`: a duration back from now, more than zero.
fn parse_since(text: &str) -> Result<std::time::Duration, String> {
    match humantime::parse_duration(text.trim()) {
        Ok(d) if !d.is_zero() && d.as_secs() <= 100 * 365 * 86_400 => Ok(d),
        _ => Err(format!(
            "invalid --since {text:?}: expected a duration such as 90d, 2w or 36h"
        )),
    }
}

/// The journal's entries: the shared record's with `[war-room]`, else the journal file's.
async fn record_entries(config: &Config) -> Result<Vec<failover_core::timeline::Entry>, String> {
    if let Some(war_room) = &config.war_room {
        return crate::record::read_shared(war_room)
            .await
            .map_err(|e| format!("cannot read the shared record ({e})"));
    }
    let path = &config.journal;
    crate::journal::read_all(path)
        .map(|(entries, _)| entries)
        .map_err(|e| format!("cannot read journal {}: {e}", path.display()))
}

/// `report`: the runs and drills armed since `since` ago, with their figures.
pub async fn report_text(
    config: &Config,
    since: std::time::Duration,
    since_text: &str,
    json: bool,
) -> Result<String, String> {
    let entries = record_entries(config).await?;
    let now = time::OffsetDateTime::now_utc();
    let from = time::Duration::try_from(since)
        .ok()
        .and_then(|d| now.checked_sub(d))
        .unwrap_or(time::PrimitiveDateTime::MIN.assume_utc());
    let runs: Vec<_> = numbers::runs(&entries)
        .into_iter()
        .filter(|r| r.armed_at >= from)
        .collect();
    let from_text = failover_core::text::rfc3339(from).unwrap_or_default();
    if json {
        let value = serde_json::json!({
            "since": from_text,
            "journal": config.journal.display().to_string(),
            "runs": runs.iter().map(|r| numbers::run_json(r, &config.objectives, &config.sites)).collect::<Vec<_>>(),
        });
        return Ok(serde_json::to_string_pretty(&value).unwrap_or_default() + "\n");
    }
    let stamp = |t: time::OffsetDateTime| {
        t.format(time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second]"
        ))
        .unwrap_or_default()
    };
    let mut out = format!(
        "# Runs and drills: {}\n\nSince {} UTC ({}): {} run(s)\n",
        config.title,
        stamp(from),
        since_text,
        runs.len()
    );
    out.push_str(&numbers::summary_markdown(
        &runs,
        &config.objectives,
        &config.sites,
        &stamp,
    ));
    Ok(failover_core::text::printable_lines(&out).into_owned())
}

/// `export_bytes` as text (bytes that are not UTF-8 replaced).
pub async fn export_text(config: &Config, jsonl: bool, local: bool) -> Result<String, String> {
    let bytes = export_bytes(config, jsonl, local).await?;
    Ok(String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into()))
}

/// The incident record: the shared record (etcd) when the config has `[war-room]` and `local`
/// is not asked for, else the journal file (in war-room mode, this console's mirror), whose
/// JSON Lines export is a copy of its bytes.
pub async fn export_bytes(config: &Config, jsonl: bool, local: bool) -> Result<Vec<u8>, String> {
    if let (Some(war_room), false) = (&config.war_room, local) {
        let entries = crate::record::read_shared(war_room).await.map_err(|e| {
            format!("cannot read the shared record ({e}); --local exports this console's mirror")
        })?;
        return Ok(if jsonl {
            entries
                .iter()
                .filter_map(|e| serde_json::to_string(e).ok())
                .map(|line| line + "\n")
                .collect::<String>()
        } else {
            let source = format!("etcd {} {}", war_room.etcd.join(","), war_room.prefix);
            let summary = failover_core::runbook::evac::export_summary(
                &entries,
                &config.objectives,
                &config.sites,
            );
            failover_core::timeline::export::markdown(
                &config.title,
                &source,
                &entries,
                0,
                &summary,
                &|key| site_label(config, key),
            )
        }
        .into_bytes());
    }
    let path = &config.journal;
    let cannot = |e: std::io::Error| format!("cannot read journal {}: {e}", path.display());
    if jsonl {
        return std::fs::read(path).map_err(cannot);
    }
    let (entries, unreadable) = crate::journal::read_all(path).map_err(cannot)?;
    let summary =
        failover_core::runbook::evac::export_summary(&entries, &config.objectives, &config.sites);
    Ok(failover_core::timeline::export::markdown(
        &config.title,
        &path.display().to_string(),
        &entries,
        unreadable,
        &summary,
        &|key| site_label(config, key),
    )
    .into_bytes())
}

/// A site's label for its key; anything else (a member's own name) as it is.
fn site_label(config: &Config, key: &str) -> String {
    config
        .site_by_key(key)
        .map(|site| config.sites.label(site).to_string())
        .unwrap_or_else(|| key.to_string())
}

fn write_export(bytes: &[u8], output: Option<PathBuf>, journal: &std::path::Path) -> u8 {
    match output {
        Some(file) => match crate::journal::export::write_file(&file, bytes, journal) {
            Ok(()) => {
                crate::output::stderr(&format!("wrote {}", file.display()));
                0
            }
            Err(e) => {
                crate::output::stderr(&format!("failover-console: {e}"));
                1
            }
        },
        // A closed pipe (`| head`) is a reader that has enough: still 0.
        None => match crate::output::stdout_bytes(bytes) {
            Ok(()) => 0,
            Err(e) => {
                crate::output::stderr(&format!("failover-console: cannot write the export: {e}"));
                1
            }
        },
    }
}
