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
    /// caches must have seen it by then). Either 0 (a new key signs at once: tests, or one
    /// process whose resource servers refetch the JWKS on an unknown `kid`) or at least
    /// `key_refresh_seconds` + [`KEY_PUBLISH_MARGIN_SECONDS`], so that every process publishes
    /// the key, and every cache obeying the JWKS `max-age` has refetched it, before any process
    /// signs with it.
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

/// Slack between a process re-reading the keys and a rotated-in key starting to sign:
/// covers the time a refresh takes and clock differences between processes (keep their clocks
/// synchronised, for example with NTP). See [`Config::key_publish_delay_seconds`].
pub const KEY_PUBLISH_MARGIN_SECONDS: i64 = 1;

/// Longest `max-age` of the JWKS, whatever the publish delay allows.
pub const JWKS_MAX_AGE_CAP_SECONDS: i64 = 300;

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
        config.validate()?;
        Ok(config)
    }

    /// How long caches may keep the JWKS (`Cache-Control: max-age`): short enough that a cache
    /// that fetched it just before a process published a rotated-in key refetches it before
    /// that key signs. A process publishes a new key within `key_refresh_seconds`; the key
    /// signs `key_publish_delay_seconds` after it was added; so the JWKS may be cached for the
    /// difference, less [`KEY_PUBLISH_MARGIN_SECONDS`], and at most
    /// [`JWKS_MAX_AGE_CAP_SECONDS`]. Zero when keys sign at once.
    pub fn jwks_max_age_seconds(&self) -> i64 {
        let refresh = i64::try_from(self.key_refresh_seconds).unwrap_or(i64::MAX);
        self.key_publish_delay_seconds
            .saturating_sub(refresh)
            .saturating_sub(KEY_PUBLISH_MARGIN_SECONDS)
            .clamp(0, JWKS_MAX_AGE_CAP_SECONDS)
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

    /// Checks the values against each other and their ranges. [`Config::load`] calls it, and
    /// so does start-up, so a configuration built in code is refused the same way.
    pub fn validate(&self) -> Result<(), ConfigError> {
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
        let refresh = i64::try_from(self.key_refresh_seconds).unwrap_or(i64::MAX);
        let least = refresh.saturating_add(KEY_PUBLISH_MARGIN_SECONDS);
        if self.key_publish_delay_seconds != 0 && self.key_publish_delay_seconds < least {
            return Err(ConfigError::Invalid(format!(
                "key_publish_delay_seconds ({}) must be 0 or at least key_refresh_seconds ({}) + \
                 {KEY_PUBLISH_MARGIN_SECONDS}, that is {least}: otherwise a process may sign with a \
                 rotated-in key before another process publishes it. Raise \
                 key_publish_delay_seconds or lower key_refresh_seconds",
                self.key_publish_delay_seconds, self.key_refresh_seconds
            )));
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
    fn a_publish_delay_shorter_than_the_key_refresh_is_refused_with_both_settings_named() {
        let err = Config::load(
            None,
            env(&[
                ("TOLLGATE_KEY_PUBLISH_DELAY_SECONDS", "10"),
                ("TOLLGATE_KEY_REFRESH_SECONDS", "10"),
            ]),
        )
        .unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("key_publish_delay_seconds")
                && message.contains("key_refresh_seconds"),
            "{message}"
        );
        assert!(
            message.contains("11"),
            "names the least accepted value: {message}"
        );
    }

    #[test]
    fn a_publish_delay_of_zero_or_past_the_refresh_and_margin_is_accepted() {
        for (delay, refresh) in [("0", "10"), ("11", "10"), ("300", "10"), ("2", "1")] {
            let c = Config::load(
                None,
                env(&[
                    ("TOLLGATE_KEY_PUBLISH_DELAY_SECONDS", delay),
                    ("TOLLGATE_KEY_REFRESH_SECONDS", refresh),
                ]),
            );
            assert!(c.is_ok(), "{delay}/{refresh}: {c:?}");
        }
    }

    #[test]
    fn the_jwks_max_age_leaves_time_to_see_a_new_key_before_it_signs() {
        let with = |delay, refresh| Config {
            key_publish_delay_seconds: delay,
            key_refresh_seconds: refresh,
            ..Config::default()
        };
        assert_eq!(with(300, 10).jwks_max_age_seconds(), 289);
        assert_eq!(with(2, 1).jwks_max_age_seconds(), 0);
        assert_eq!(with(0, 10).jwks_max_age_seconds(), 0);
        assert_eq!(with(3600, 10).jwks_max_age_seconds(), 300);
        for (delay, refresh) in [(300, 10), (11, 10), (3600, 60)] {
            let c = with(delay, refresh);
            assert!(c.jwks_max_age_seconds() <= delay - refresh as i64);
        }
    }

    #[test]
    fn invalid_values_are_refused_with_a_message() {
        let err = Config::load(None, env(&[("TOLLGATE_MAX_LIVE_SECRETS", "many")])).unwrap_err();
        assert!(err.to_string().contains("max_live_secrets"), "{err}");
    }
}
