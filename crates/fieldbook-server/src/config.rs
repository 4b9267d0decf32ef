//! Server configuration: defaults, then a TOML file, then `FIELDBOOK_*` environment variables,
//! then command-line flags (see `fieldbook-server serve --help`).

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// The SQLite database file.
    pub database: PathBuf,
    /// Largest JSON request body, in bytes.
    pub max_body_bytes: usize,
    /// Sign-in attempts per account per minute (three times as many per address).
    pub login_attempts_per_minute: u32,
    /// Log as JSON lines (for a log collector) instead of text.
    pub log_json: bool,
    /// A pull stream begins no page after this many milliseconds, so that no answer outlives
    /// a client's timeout; the device then asks again from its cursor.
    pub pull_stream_budget_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8330)),
            database: PathBuf::from("fieldbook-server.sqlite"),
            max_body_bytes: 8 * 1024 * 1024,
            login_attempts_per_minute: 10,
            log_json: false,
            pull_stream_budget_ms: 10_000,
        }
    }
}

impl Config {
    /// Reads a TOML file (when given) over the defaults.
    pub fn load(file: Option<&std::path::Path>) -> anyhow::Result<Config> {
        match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| anyhow::anyhow!("cannot read the configuration file {}: {e}", path.display()))?;
                toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
            }
            None => Ok(Config::default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_overrides_defaults_and_unknown_keys_are_refused() {
        let config: Config = toml::from_str("listen = \"0.0.0.0:9000\"\nlog_json = true").unwrap();
        assert_eq!(config.listen.port(), 9000);
        assert!(config.log_json);
        assert_eq!(config.max_body_bytes, Config::default().max_body_bytes);
        assert!(toml::from_str::<Config>("lisen = \"0.0.0.0:9000\"").is_err());
    }
}
