//! The TLS and authentication settings of a configuration, with libpq's meaning (PostgreSQL
//! docs, "SSL Support" and "Parameter Key Words"): which keys there are, their defaults, and
//! the combinations libpq refuses. Reading the files they name happens when a connection is
//! opened (`core::tls_files`), as in libpq, so that rotated certificates are picked up.

use std::path::PathBuf;

use crate::core::error::{Error, Result};
use crate::core::keys::Setting;

/// TLS policy, as libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// PEM text: a file to read when connecting, or the text itself (node-postgres's `ssl.ca`,
/// `ssl.cert`, `ssl.key`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pem {
    File(PathBuf),
    Inline(String),
}

/// The certificate authorities a server certificate is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Roots {
    /// `sslrootcert` unset: `~/.postgresql/root.crt` when it exists, else none.
    Default,
    Pem(Pem),
    /// `sslrootcert=system`: the platform's trust store.
    System,
}

/// libpq's `channel_binding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelBinding {
    Disable,
    Prefer,
    Require,
}

/// The highest or lowest TLS version allowed (rustls speaks 1.2 and 1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    V1_2,
    V1_3,
}

/// Everything that decides how a connection is secured and authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    pub mode: SslMode,
    pub roots: Roots,
    /// `sslcert`/`sslkey`; `None`: `~/.postgresql/postgresql.crt` and `.key` when they exist.
    pub cert: Option<Pem>,
    pub key: Option<Pem>,
    /// `sslcrl`; `None`: `~/.postgresql/root.crl` when it exists.
    pub crl: Option<PathBuf>,
    /// `sslsni`: send the host name in the handshake (never for an IP address).
    pub sni: bool,
    /// `sslnegotiation=direct`: start TLS at once, without asking with an SSLRequest.
    pub direct: bool,
    pub channel_binding: ChannelBinding,
    /// libpq's `require_auth`, as tokio-postgres's `AUTH_*` bits (None: any method).
    pub allowed_auth: Option<u8>,
    pub min_version: TlsVersion,
    pub max_version: TlsVersion,
    /// node-postgres's `ssl.servername`: the name sent and checked instead of the host.
    pub server_name: Option<String>,
    /// The home directory holding `.postgresql/` (libpq's default files).
    pub home: Option<PathBuf>,
}

impl Default for TlsSettings {
    fn default() -> Self {
        TlsSettings {
            mode: SslMode::Prefer,
            roots: Roots::Default,
            cert: None,
            key: None,
            crl: None,
            sni: true,
            direct: false,
            channel_binding: ChannelBinding::Prefer,
            allowed_auth: None,
            min_version: TlsVersion::V1_2,
            max_version: TlsVersion::V1_3,
            server_name: None,
            home: None,
        }
    }
}

/// Maps a setting's value through `choices`, or names the key and the allowed values.
fn choose<T: Copy>(s: &Setting, choices: &[(&str, T)]) -> Result<T> {
    choices
        .iter()
        .find(|(name, _)| *name == s.value)
        .map(|(_, v)| *v)
        .ok_or_else(|| {
            let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
            Error::config(format!(
                "'{}' must be one of {} (got '{}')",
                s.key,
                names.join(", "),
                s.value
            ))
        })
}

fn pem(file: Option<&Setting>, inline: Option<&Setting>) -> Option<Pem> {
    match (inline, file) {
        (Some(s), _) => Some(Pem::Inline(s.value.clone())),
        (None, Some(s)) => Some(Pem::File(PathBuf::from(&s.value))),
        (None, None) => None,
    }
}

impl TlsSettings {
    /// Reads the TLS keys through `get` (a canonical key's setting, if any).
    pub(crate) fn resolve(
        get: &dyn Fn(&str) -> Option<Setting>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<TlsSettings> {
        use SslMode::*;
        let mut t = TlsSettings {
            home: env("HOME").filter(|h| !h.is_empty()).map(PathBuf::from),
            ..TlsSettings::default()
        };
        let sslmode = get("sslmode");
        if let Some(s) = &sslmode {
            t.mode = choose(
                s,
                &[
                    ("disable", Disable),
                    ("allow", Allow),
                    ("prefer", Prefer),
                    ("require", Require),
                    ("verify-ca", VerifyCa),
                    ("verify-full", VerifyFull),
                ],
            )?;
        }
        t.roots = match (get("ssl.ca"), get("sslrootcert")) {
            (Some(s), _) => Roots::Pem(Pem::Inline(s.value)),
            (None, Some(s)) if s.value == "system" => Roots::System,
            (None, Some(s)) => Roots::Pem(Pem::File(PathBuf::from(s.value))),
            (None, None) => Roots::Default,
        };
        if t.roots == Roots::System {
            // libpq 16+: the system's roots vouch for any name, so only verify-full is safe.
            match &sslmode {
                None => t.mode = VerifyFull,
                Some(s) if t.mode != VerifyFull => {
                    return Err(Error::config(format!(
                    "weak sslmode '{}' may not be used with sslrootcert=system (use verify-full)",
                    s.value
                )))
                }
                Some(_) => {}
            }
        }
        t.cert = pem(get("sslcert").as_ref(), get("ssl.cert").as_ref());
        t.key = pem(get("sslkey").as_ref(), get("ssl.key").as_ref());
        t.crl = get("sslcrl").map(|s| PathBuf::from(s.value));
        if let Some(s) = get("sslsni") {
            t.sni = choose(&s, &[("1", true), ("0", false)])?;
        }
        if let Some(s) = get("sslnegotiation") {
            t.direct = choose(&s, &[("postgres", false), ("direct", true)])?;
            if t.direct && !matches!(t.mode, Require | VerifyCa | VerifyFull) {
                return Err(Error::config(format!(
                    "'{}=direct' needs sslmode require, verify-ca or verify-full: a server that does not speak TLS cannot be fallen back from",
                    s.key
                )));
            }
        }
        if let Some(s) = get("channel_binding") {
            t.channel_binding = choose(
                &s,
                &[
                    ("disable", ChannelBinding::Disable),
                    ("prefer", ChannelBinding::Prefer),
                    ("require", ChannelBinding::Require),
                ],
            )?;
            if t.channel_binding == ChannelBinding::Require && t.mode == Disable {
                return Err(Error::config(
                    "channel_binding=require needs TLS, but sslmode is disable",
                ));
            }
        }
        if let Some(s) = get("require_auth") {
            t.allowed_auth = Some(require_auth(&s)?);
        }
        let version = |key: &str| -> Result<Option<TlsVersion>> {
            get(key)
                .map(|s| {
                    choose(
                        &s,
                        &[("TLSv1.2", TlsVersion::V1_2), ("TLSv1.3", TlsVersion::V1_3)],
                    )
                })
                .transpose()
        };
        if let Some(v) = version("ssl_min_protocol_version")? {
            t.min_version = v;
        }
        if let Some(v) = version("ssl_max_protocol_version")? {
            t.max_version = v;
        }
        if t.min_version > t.max_version {
            return Err(Error::config(
                "ssl_min_protocol_version is above ssl_max_protocol_version",
            ));
        }
        t.server_name = get("ssl.servername").map(|s| s.value);
        Ok(t)
    }
}

/// libpq's `require_auth`: a comma-separated list of methods the server may use, or of
/// methods (each prefixed with `!`) it may not; not both.
fn require_auth(s: &Setting) -> Result<u8> {
    use tokio_postgres::config::{
        AUTH_GSS, AUTH_MD5, AUTH_NONE, AUTH_PASSWORD, AUTH_SCRAM, AUTH_SSPI,
    };
    let all = AUTH_NONE | AUTH_PASSWORD | AUTH_MD5 | AUTH_SCRAM | AUTH_GSS | AUTH_SSPI;
    let mut allowed = 0u8;
    let mut denied = 0u8;
    for item in s.value.split(',').map(str::trim) {
        let (negated, name) = match item.strip_prefix('!') {
            Some(n) => (true, n),
            None => (false, item),
        };
        let bit = match name {
            "password" => AUTH_PASSWORD,
            "md5" => AUTH_MD5,
            "scram-sha-256" => AUTH_SCRAM,
            "gss" => AUTH_GSS,
            "sspi" => AUTH_SSPI,
            "none" => AUTH_NONE,
            _ => {
                return Err(Error::config(format!(
                    "'{}' lists '{item}': the methods are password, md5, scram-sha-256, gss, sspi and none, each optionally prefixed with '!'",
                    s.key
                )))
            }
        };
        if negated {
            denied |= bit;
        } else {
            allowed |= bit;
        }
    }
    match (allowed, denied) {
        (a, 0) => Ok(a),
        (0, d) => Ok(all & !d),
        _ => Err(Error::config(format!(
            "'{}' mixes required and negated ('!') methods; use one kind",
            s.key
        ))),
    }
}
