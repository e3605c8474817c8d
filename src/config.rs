//! The config file, read and checked by the core with this side's drivers (tokio-postgres reads
//! the DSNs), and where to find it.

use std::path::{Path, PathBuf};

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
