//! The config file, read and checked by the core with this side's drivers (tokio-postgres reads
//! the DSNs), and where to find it.

use std::path::{Path, PathBuf};

pub use failover_core::config::envs::{NamedEnv, ReadBy};
pub use failover_core::config::{Config, ConfigError};

use crate::kinds::postgres::PostgresDsns;
use failover_core::secrets::{ALWAYS_SECRET, Masker};

/// Parses and checks the file, then reads the values of the secrets it names (see
/// `known_secrets`).
pub fn from_str(text: &str, path: &Path) -> Result<Config, ConfigError> {
    let mut config = failover_core::config::parse(text, path, &PostgresDsns)?;
    config.masker = known_secrets(&config.secret_envs);
    Ok(config)
}

/// The values of the secrets the config names (`*-env`) and of the variables that always hold
/// one, as set in the console's environment now: masked in everything an action shows or
/// journals, and in the plan on screen.
pub fn known_secrets(config_envs: &[String]) -> Masker {
    Masker::new(
        config_envs
            .iter()
            .map(String::as_str)
            .chain(ALWAYS_SECRET)
            .filter_map(|name| std::env::var(name).ok()),
    )
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

/// What the console would refuse at start that the file's text does not show: a journal path
/// that is a directory, under a file or not writable, a war-room `ca-file` that cannot be
/// read. `check-config` asks this; the console meets the same errors when it opens them.
pub fn check_paths(config: &Config) -> Result<(), String> {
    let journal = &config.journal;
    let at = |what: String| format!("{}: console.journal: {what}", config.path.display());
    match std::fs::metadata(journal) {
        Ok(m) if m.is_dir() => {
            return Err(at(format!(
                "{} is a directory: expected a file (it is created if missing)",
                journal.display()
            )));
        }
        Ok(_) => {
            // Opening to append writes nothing; it fails as the console's own open would.
            if let Err(e) = std::fs::OpenOptions::new().append(true).open(journal) {
                return Err(at(format!("{}: {e}", journal.display())));
            }
        }
        Err(e) => {
            if let Some(file) = journal.ancestors().skip(1).find(|a| a.is_file()) {
                return Err(at(format!(
                    "{} cannot be created: {} is a file, not a directory",
                    journal.display(),
                    file.display()
                )));
            }
            if e.kind() != std::io::ErrorKind::NotFound {
                return Err(at(format!("{}: {e}", journal.display())));
            }
        }
    }
    if let Some(ca) = config.war_room.as_ref().and_then(|w| w.ca_file.as_ref())
        && config
            .war_room
            .as_ref()
            .is_some_and(|w| w.etcd.iter().any(|e| e.starts_with("https://")))
        && let Err(e) = std::fs::read(ca)
    {
        return Err(format!(
            "{}: war-room.ca-file {}: {e}",
            config.path.display(),
            ca.display()
        ));
    }
    Ok(())
}

/// The `*-env` variables the config names that are unset or empty: with `sources_only`, only
/// those a source reads (needed from the first round), else every one.
pub fn unset_envs(config: &Config, sources_only: bool) -> Vec<NamedEnv> {
    config
        .named_envs()
        .into_iter()
        .filter(|e| !sources_only || e.read_by == ReadBy::Source)
        .filter(|e| std::env::var_os(&e.var).is_none_or(|v| v.is_empty()))
        .collect()
}

/// Refuses to start (the TUI, `status`) while a source's `*-env` is unset: its reads would go
/// without their password. Steps' variables are read when the step runs.
pub fn check_envs(config: &Config) -> Result<(), String> {
    let unset = unset_envs(config, true);
    if unset.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = unset.iter().map(|e| format!("${}", e.var)).collect();
    let lines: Vec<String> = unset
        .iter()
        .map(|e| format!("  {} is unset or empty", e.describe()))
        .collect();
    Err(format!(
        "{}: {} not set: the console does not start without it (set it, or remove the key)\n{}",
        config.path.display(),
        names.join(", "),
        lines.join("\n")
    ))
}

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
