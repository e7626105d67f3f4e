//! Configuration: defaults in code, an optional `tollgate.toml`, then `TOLLGATE_*`
//! environment variables (for example `TOLLGATE_LISTEN=0.0.0.0:8080`).

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Everything an operator can set.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address and port to listen on (`127.0.0.1:0` picks a free port).
    pub listen: String,
    /// Where the SQLite database and the master key file live.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; default: `tollgate.db` in the data directory.
    pub database_url: Option<String>,
    /// The external base URL (the token issuer); default `http://<listen address>`.
    pub public_url: Option<String>,
    /// 64 hex characters; default: the `master.key` file in the data directory, created on
    /// first start. Processes sharing one PostgreSQL database must share this key.
    pub master_key: Option<String>,
    /// Largest database connection pool.
    pub db_max_connections: u32,
    /// Lifetime of a console session, in hours.
    pub session_ttl_hours: i64,
    /// Lifetime of an unsaved "new client" draft, in seconds.
    pub draft_ttl_seconds: i64,
    /// Most live (unexpired) secrets a client may hold at once.
    pub max_live_secrets: i64,
    /// `text` or `json` log lines.
    pub log_format: String,
    /// Lifetime of access tokens, in seconds.
    pub token_lifetime_seconds: i64,
    /// Algorithm of new signing keys: `ES256`, `EdDSA` or `RS256`.
    pub signing_alg: String,
    /// Default `aud` of access tokens; default `<public_url>/v1` (the compliance API).
    pub audience: Option<String>,
    /// Further audiences a client may ask for with the `resource` parameter (RFC 8707).
    pub resources: Vec<String>,
    /// How long a rotated-in key is published before it signs (resource servers' JWKS
    /// caches must have seen it by then).
    pub key_publish_delay_seconds: i64,
    /// How often each process re-reads the signing keys from the database.
    pub key_refresh_seconds: u64,
    /// How long a client's credentials and state are cached per process, in milliseconds;
    /// bounds how late another process sees a deleted client or deactivated person.
    pub client_cache_ttl_ms: u64,
    /// How often last-used times of secrets are written, in seconds.
    pub usage_flush_seconds: u64,
    /// Failed authentications of one client or address, per window, before answers slow down.
    pub auth_failures_before_delay: u32,
    /// Failed authentications per window before failures are answered 429.
    pub auth_failures_before_429: u32,
    /// The window of the two limits above, in seconds.
    pub auth_failure_window_seconds: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./tollgate-data"),
            database_url: None,
            public_url: None,
            master_key: None,
            db_max_connections: 16,
            session_ttl_hours: 12,
            draft_ttl_seconds: 3600,
            max_live_secrets: 10,
            log_format: "text".into(),
            token_lifetime_seconds: 3600,
            signing_alg: "ES256".into(),
            audience: None,
            resources: Vec::new(),
            key_publish_delay_seconds: 300,
            key_refresh_seconds: 10,
            client_cache_ttl_ms: 500,
            usage_flush_seconds: 5,
            auth_failures_before_delay: 5,
            auth_failures_before_429: 20,
            auth_failure_window_seconds: 60,
        }
    }
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file or an environment variable holds an invalid value.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Loads defaults, then `path` (if given, it must exist; otherwise `./tollgate.toml` if
    /// present), then `TOLLGATE_*` variables from `env`.
    pub fn load(
        path: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut table = toml::Table::try_from(Config::default())
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        let file = match path {
            Some(p) => Some(p.to_path_buf()),
            None => Some(PathBuf::from("tollgate.toml")).filter(|p| p.exists()),
        };
        if let Some(file) = file {
            let text = std::fs::read_to_string(&file).map_err(|source| ConfigError::Read {
                path: file.clone(),
                source,
            })?;
            let from_file: toml::Table = text
                .parse()
                .map_err(|e| ConfigError::Invalid(format!("{}: {e}", file.display())))?;
            table.extend(from_file);
        }
        let known: Vec<String> = Config::field_names();
        for (key, value) in env {
            let Some(name) = key.strip_prefix("TOLLGATE_") else {
                continue;
            };
            let name = name.to_ascii_lowercase();
            if !known.contains(&name) {
                continue;
            }
            let parsed = format!("v = {value}")
                .parse::<toml::Table>()
                .ok()
                .and_then(|mut t| t.remove("v"))
                .filter(|v| !v.is_str() || value.starts_with('"'))
                .unwrap_or(toml::Value::String(value));
            table.insert(name, parsed);
        }
        let config: Config = table.clone().try_into().map_err(|e: toml::de::Error| {
            // Name the setting at fault: try each one alone over the defaults.
            let culprit = table.iter().find(|(key, value)| {
                let mut single = toml::Table::try_from(Config::default()).unwrap_or_default();
                single.insert((*key).clone(), (*value).clone());
                single.try_into::<Config>().is_err()
            });
            match culprit {
                Some((key, _)) => ConfigError::Invalid(format!("{key}: {}", e.message())),
                None => ConfigError::Invalid(e.message().to_owned()),
            }
        })?;
        config.check()?;
        Ok(config)
    }

    fn field_names() -> Vec<String> {
        let all = Config {
            database_url: Some(String::new()),
            public_url: Some(String::new()),
            master_key: Some(String::new()),
            audience: Some(String::new()),
            ..Config::default()
        };
        toml::Table::try_from(all)
            .map(|t| t.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn check(&self) -> Result<(), ConfigError> {
        let bad = |m: &str| Err(ConfigError::Invalid(m.to_owned()));
        if self.session_ttl_hours < 1 {
            return bad("session_ttl_hours must be at least 1");
        }
        if !(60..=86_400).contains(&self.draft_ttl_seconds) {
            return bad("draft_ttl_seconds must be between 60 and 86400");
        }
        if self.max_live_secrets < 1 {
            return bad("max_live_secrets must be at least 1");
        }
        if !(60..=86_400).contains(&self.token_lifetime_seconds) {
            return bad("token_lifetime_seconds must be between 60 and 86400");
        }
        if !matches!(self.signing_alg.as_str(), "ES256" | "EdDSA" | "RS256") {
            return bad("signing_alg must be ES256, EdDSA or RS256");
        }
        if self.key_publish_delay_seconds < 0 || self.key_refresh_seconds == 0 {
            return bad("key_publish_delay_seconds must be >= 0 and key_refresh_seconds >= 1");
        }
        if self.auth_failures_before_429 < self.auth_failures_before_delay {
            return bad("auth_failures_before_429 must be >= auth_failures_before_delay");
        }
        if !matches!(self.log_format.as_str(), "text" | "json") {
            return bad("log_format must be `text` or `json`");
        }
        Ok(())
    }

    /// The database URL in effect.
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("tollgate.db").display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_need_no_file_and_use_sqlite_in_the_data_directory() {
        let c = Config::load(None, env(&[])).unwrap();
        assert_eq!(c.database_url(), "sqlite://./tollgate-data/tollgate.db");
        assert_eq!(c.max_live_secrets, 10);
    }

    #[test]
    fn environment_variables_override_defaults_with_typed_values() {
        let c = Config::load(
            None,
            env(&[
                ("TOLLGATE_LISTEN", "0.0.0.0:9000"),
                ("TOLLGATE_MAX_LIVE_SECRETS", "3"),
                ("TOLLGATE_UNRELATED", "x"),
            ]),
        )
        .unwrap();
        assert_eq!(c.listen, "0.0.0.0:9000");
        assert_eq!(c.max_live_secrets, 3);
    }

    #[test]
    fn invalid_values_are_refused_with_a_message() {
        let err = Config::load(None, env(&[("TOLLGATE_MAX_LIVE_SECRETS", "many")])).unwrap_err();
        assert!(err.to_string().contains("max_live_secrets"), "{err}");
    }
}
