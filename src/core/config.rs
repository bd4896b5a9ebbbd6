//! Connection configuration: libpq-compatible parsing of URLs and `key=value` strings, object
//! settings, and the PG* environment defaults.
//!
//! tokio-postgres's own parser reads no environment and rejects several libpq keys, so every
//! source is parsed here into one [`Config`], then turned into a `tokio_postgres::Config`
//! programmatically. Precedence, highest first: explicit settings (object config), the
//! connection string, PG* environment variables, built-in defaults. Errors name the key and the
//! problem and never include a password.

use std::path::PathBuf;
use std::time::Duration;

use crate::core::connstring::parse_conn_string;
use crate::core::error::{Error, Result};
pub use crate::core::hosts::Host;
use crate::core::hosts::{self, Endpoint, Network, SessionAttrs};
use crate::core::keys::{canonical, Setting};
use crate::core::service;
pub use crate::core::tls_settings::SslMode;
use crate::core::tls_settings::{ChannelBinding, TlsSettings};
use crate::core::types::TypeOptions;

/// Pool sizing and lifetimes (ignored by a single `Client`).
#[derive(Debug, Clone, PartialEq)]
pub struct PoolSettings {
    pub max: usize,
    pub idle_timeout: Option<Duration>,
    pub max_lifetime: Option<Duration>,
    pub acquire_timeout: Option<Duration>,
    /// `healthCheckAfterMillis`: a connection idle at least this long answers a round trip
    /// before it is handed out (0: every time; unset: never).
    pub health_check_after: Option<Duration>,
}

/// Where a connection's protocol runs (see `core::driver`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// On the JS thread, from the event loop: no thread hop per round trip (sequential work).
    Loop,
    /// On the addon's runtime thread, beside the JS thread (concurrent and bulk work).
    Runtime,
}

/// A fully resolved configuration.
#[derive(Clone, PartialEq)]
pub struct Config {
    /// The servers to try, in order (see `core::hosts`).
    pub endpoints: Vec<Endpoint>,
    pub target_session_attrs: SessionAttrs,
    /// `load_balance_hosts=random`: try the servers in a random order.
    pub load_balance: bool,
    pub network: Network,
    /// The password file (`passfile`, `PGPASSFILE`, default `~/.pgpass`).
    pub passfile: Option<PathBuf>,
    pub user: String,
    pub password: Option<String>,
    pub dbname: String,
    pub application_name: Option<String>,
    pub connect_timeout: Option<Duration>,
    /// libpq `options` (e.g. `-c statement_timeout=1000`), sent in the startup packet.
    pub options: Option<String>,
    /// TLS and authentication policy (`sslmode`, `sslrootcert`, `channel_binding`, ...).
    pub tls: TlsSettings,
    pub statement_cache_size: usize,
    /// `prepare: false`: no named statements (for PgBouncer/Supavisor in transaction mode);
    /// every statement is the unnamed one, parsed in the request that runs it.
    pub prepare: bool,
    /// None: the default of what is opened (a client: Loop; a pool: Runtime).
    pub transport: Option<Transport>,
    pub types: TypeOptions,
    pub pool: PoolSettings,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("endpoints", &self.endpoints)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("dbname", &self.dbname)
            .field("application_name", &self.application_name)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

const ENV_KEYS: &[(&str, &str)] = &[
    ("PGHOST", "host"),
    ("PGHOSTADDR", "hostaddr"),
    ("PGPORT", "port"),
    ("PGUSER", "user"),
    ("PGPASSWORD", "password"),
    ("PGDATABASE", "dbname"),
    ("PGAPPNAME", "application_name"),
    ("PGCONNECT_TIMEOUT", "connect_timeout"),
    ("PGOPTIONS", "options"),
    ("PGSSLMODE", "sslmode"),
    ("PGSSLROOTCERT", "sslrootcert"),
    ("PGSSLCERT", "sslcert"),
    ("PGSSLKEY", "sslkey"),
    ("PGSSLCRL", "sslcrl"),
    ("PGSSLSNI", "sslsni"),
    ("PGSSLNEGOTIATION", "sslnegotiation"),
    ("PGSSLMINPROTOCOLVERSION", "ssl_min_protocol_version"),
    ("PGSSLMAXPROTOCOLVERSION", "ssl_max_protocol_version"),
    ("PGCHANNELBINDING", "channel_binding"),
    ("PGREQUIREAUTH", "require_auth"),
    ("PGTARGETSESSIONATTRS", "target_session_attrs"),
    ("PGLOADBALANCEHOSTS", "load_balance_hosts"),
    ("PGPASSFILE", "passfile"),
    ("PGCLIENTENCODING", "client_encoding"),
];

/// Collects settings by canonical key; the first source to set a key wins.
#[derive(Default)]
struct Layers {
    settings: Vec<(&'static str, Setting)>,
}

impl Layers {
    fn add(&mut self, key: &str, value: String) -> Result<()> {
        let canon = canonical(key)
            .ok_or_else(|| Error::config(format!("unknown connection setting '{key}'")))?;
        if !self.settings.iter().any(|(k, _)| *k == canon) {
            self.settings.push((
                canon,
                Setting {
                    key: key.to_string(),
                    value,
                },
            ));
        }
        Ok(())
    }

    /// A setting from a source ranked below those added so far (the service file, the
    /// environment), kept unless one of them set the key; `key` names it in errors.
    fn fallback(&mut self, canon: &'static str, key: String, value: String) {
        if self.get(canon).is_none() {
            self.settings.push((canon, Setting { key, value }));
        }
    }

    fn get(&self, canon: &str) -> Option<&Setting> {
        self.settings
            .iter()
            .find(|(k, _)| *k == canon)
            .map(|(_, s)| s)
    }
}

impl Config {
    /// Resolves a configuration from explicit settings (highest priority), an optional
    /// connection string, and an environment lookup (`std::env::var` in production).
    pub fn resolve(
        explicit: &[(String, String)],
        conn_string: Option<&str>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config> {
        let mut layers = Layers::default();
        for (k, v) in explicit {
            layers.add(k, v.clone())?;
        }
        if let Some(s) = conn_string {
            for (k, v) in parse_conn_string(s)? {
                layers.add(&k, v)?;
            }
        }
        // A service's settings rank below the string's and above the environment's.
        let service = layers
            .get("service")
            .map(|s| s.value.clone())
            .or_else(|| env("PGSERVICE").filter(|v| !v.is_empty()));
        if let Some(name) = service {
            let (settings, file) = service::settings(&name, env)?;
            for (k, v) in settings {
                if let Some(canon) = canonical(&k) {
                    let key = format!("{k} (service {name} in {})", file.display());
                    layers.fallback(canon, key, v);
                }
            }
        }
        for (var, key) in ENV_KEYS {
            if let Some(v) = env(var).filter(|v| !v.is_empty()) {
                // An environment value is checked like any other but reported by variable name.
                layers.fallback(key, (*var).to_string(), v);
            }
        }
        Self::from_layers(&layers, env)
    }

    fn from_layers(l: &Layers, env: &dyn Fn(&str) -> Option<String>) -> Result<Config> {
        let endpoints = hosts::endpoints(l.get("host"), l.get("hostaddr"), l.get("port"))?;
        let user = match l.get("user") {
            Some(s) => s.value.clone(),
            None => env("USER")
                .or_else(|| env("LOGNAME"))
                .unwrap_or_else(|| "postgres".to_string()),
        };
        let dbname = l
            .get("dbname")
            .map(|s| s.value.clone())
            .unwrap_or_else(|| user.clone());
        let application_name = l
            .get("application_name")
            .or_else(|| l.get("fallback_application_name"))
            .map(|s| s.value.clone());
        let connect_timeout = match (l.get("connect_timeout_millis"), l.get("connect_timeout")) {
            (Some(s), _) => Some(Duration::from_millis(parse_uint(s, u32::MAX as u64)?)),
            (None, Some(s)) => Some(Duration::from_secs(parse_uint(s, u32::MAX as u64)?)),
            (None, None) => None,
        }
        .filter(|d| !d.is_zero());
        let tls = TlsSettings::resolve(&|key| l.get(key).cloned(), env)?;
        if let Some(s) = l.get("client_encoding") {
            if !s.value.eq_ignore_ascii_case("utf8") && !s.value.eq_ignore_ascii_case("utf-8") {
                return Err(Error::config(format!(
                    "'{}' must be UTF8: ferropg exchanges text as UTF-8 (got '{}')",
                    s.key, s.value
                )));
            }
        }
        let statement_cache_size = match l.get("statement_cache_size") {
            Some(s) => parse_uint(s, 1 << 20)? as usize,
            None => 256,
        };
        let transport = match l.get("transport") {
            None => None,
            Some(s) => Some(match s.value.as_str() {
                "loop" => Transport::Loop,
                "runtime" => Transport::Runtime,
                other => {
                    return Err(Error::config(format!(
                        "'{}' must be 'loop' or 'runtime' (got '{other}')",
                        s.key
                    )))
                }
            }),
        };
        let max = match l.get("max") {
            Some(s) => parse_uint(s, 10_000)? as usize,
            None => 10,
        };
        if max == 0 {
            return Err(Error::config("'max' must be at least 1"));
        }
        let millis = |key: &str| -> Result<Option<Duration>> {
            l.get(key)
                .map(|s| parse_uint(s, u32::MAX as u64).map(Duration::from_millis))
                .transpose()
                .map(|d| d.filter(|d| !d.is_zero()))
        };
        let pool = PoolSettings {
            max,
            idle_timeout: millis("idle_timeout_millis")?,
            acquire_timeout: millis("acquire_timeout_millis")?,
            // Zero is a setting here (check every hand-out), not "off".
            health_check_after: l
                .get("health_check_after_millis")
                .map(|s| parse_uint(s, u32::MAX as u64).map(Duration::from_millis))
                .transpose()?,
            max_lifetime: l
                .get("max_lifetime_seconds")
                .map(|s| parse_uint(s, u32::MAX as u64).map(Duration::from_secs))
                .transpose()?
                .filter(|d| !d.is_zero()),
        };
        let mut types = TypeOptions::default();
        for (key, field) in [
            ("types.int8", 0),
            ("types.numeric", 1),
            ("types.date", 2),
            ("types.timestamp", 3),
            ("types.results", 4),
        ] {
            if let Some(s) = l.get(key) {
                types.set(field, &s.value).map_err(|allowed| {
                    Error::config(format!(
                        "'{}' must be one of {allowed} (got '{}')",
                        s.key, s.value
                    ))
                })?;
            }
        }
        let passfile = l
            .get("passfile")
            .map(|s| PathBuf::from(&s.value))
            .or_else(|| env("HOME").map(|h| PathBuf::from(h).join(".pgpass")));
        Ok(Config {
            endpoints,
            target_session_attrs: hosts::session_attrs(l.get("target_session_attrs"))?,
            load_balance: hosts::load_balance(l.get("load_balance_hosts"))?,
            network: hosts::network(&|key| l.get(key).cloned())?,
            passfile,
            user,
            password: l.get("password").map(|s| s.value.clone()),
            dbname,
            application_name,
            connect_timeout,
            options: l
                .get("options")
                .map(|s| s.value.clone())
                .filter(|s| !s.is_empty()),
            tls,
            statement_cache_size,
            prepare: match l.get("prepare") {
                None => true,
                Some(s) => match s.value.as_str() {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    other => {
                        return Err(Error::config(format!(
                            "'{}' must be true or false (got '{other}')",
                            s.key
                        )))
                    }
                },
            },
            transport,
            types,
            pool,
        })
    }

    /// The tokio-postgres configuration; `password` overrides the configured one (it comes
    /// from a user's password function).
    pub fn to_tokio(&self, password: Option<&str>) -> tokio_postgres::Config {
        let mut c = tokio_postgres::Config::new();
        c.user(&self.user).dbname(&self.dbname);
        if let Some(pw) = password.or(self.password.as_deref()) {
            c.password(pw);
        }
        if let Some(a) = &self.application_name {
            c.application_name(a);
        }
        if let Some(o) = &self.options {
            c.options(o);
        }
        c.channel_binding(match self.tls.channel_binding {
            ChannelBinding::Disable => tokio_postgres::config::ChannelBinding::Disable,
            ChannelBinding::Prefer => tokio_postgres::config::ChannelBinding::Prefer,
            ChannelBinding::Require => tokio_postgres::config::ChannelBinding::Require,
        });
        c.allowed_auth(self.tls.allowed_auth);
        c
    }
}

fn parse_uint(s: &Setting, max: u64) -> Result<u64> {
    match s.value.trim().parse::<u64>() {
        Ok(n) if n <= max => Ok(n),
        _ => Err(Error::config(format!(
            "'{}' must be a whole number between 0 and {max} (got '{}')",
            s.key, s.value
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn resolve(s: &str) -> Result<Config> {
        Config::resolve(&[], Some(s), &no_env)
    }

    #[test]
    fn environment_defaults_and_precedence() {
        let env = |k: &str| match k {
            "PGHOST" => Some("envhost".to_string()),
            "PGPORT" => Some("7777".to_string()),
            "PGUSER" => Some("envuser".to_string()),
            "PGPASSWORD" => Some("envpw".to_string()),
            "PGAPPNAME" => Some("envapp".to_string()),
            "PGCONNECT_TIMEOUT" => Some("3".to_string()),
            _ => None,
        };
        let c = Config::resolve(&[], None, &env).unwrap();
        assert_eq!(c.endpoints[0].host, Host::Tcp("envhost".into()));
        assert_eq!(c.endpoints[0].port, 7777);
        assert_eq!(c.user, "envuser");
        assert_eq!(c.dbname, "envuser");
        assert_eq!(c.password.as_deref(), Some("envpw"));
        assert_eq!(c.application_name.as_deref(), Some("envapp"));
        assert_eq!(c.connect_timeout, Some(Duration::from_secs(3)));
        let explicit = vec![("port".to_string(), "9".to_string())];
        let c = Config::resolve(&explicit, Some("postgres://urluser@urlhost:8/x"), &env).unwrap();
        assert_eq!(c.endpoints[0].port, 9);
        assert_eq!(c.user, "urluser");
        assert_eq!(c.endpoints[0].host, Host::Tcp("urlhost".into()));
    }

    #[test]
    fn errors_name_the_key_and_hide_the_password() {
        let e = resolve("postgres://u:secretpw@h:99999/db").unwrap_err();
        assert!(
            e.to_string().contains("'port'") && e.to_string().contains("99999"),
            "{e}"
        );
        assert!(!e.to_string().contains("secretpw"));
        let e = resolve("host=x bogus=1 password=secretpw").unwrap_err();
        assert!(e.to_string().contains("'bogus'"), "{e}");
        let e = resolve("postgres://u:secretpw@h/db?nope=1").unwrap_err();
        assert!(e.to_string().contains("'nope'") && !e.to_string().contains("secretpw"));
        let e = Config::resolve(&[("max".into(), "0".into())], None, &no_env).unwrap_err();
        assert!(e.to_string().contains("'max'"));
        let e =
            Config::resolve(&[("types.int8".into(), "float".into())], None, &no_env).unwrap_err();
        assert!(
            e.to_string().contains("'types.int8'") && e.to_string().contains("bigint"),
            "{e}"
        );
        let e = resolve("mysql://x").unwrap_err();
        assert_eq!(e.code(), "ERR_INVALID_CONFIG");
        let c = resolve("postgres://u:secretpw@h/db").unwrap();
        assert!(!format!("{c:?}").contains("secretpw"));
    }
}
