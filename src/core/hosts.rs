//! Where a configuration connects, with libpq's meaning: host, hostaddr and port lists (tried
//! in order, or shuffled with `load_balance_hosts=random`), the server a session must be
//! (`target_session_attrs`), and the TCP settings that notice a dead peer (`keepalives*`,
//! `tcp_user_timeout`).

use std::path::PathBuf;
use std::time::Duration;

use crate::core::error::{Error, Result};
use crate::core::keys::Setting;

/// Where to reach one server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    Tcp(String),
    /// A directory holding the server's `.s.PGSQL.<port>` socket.
    Unix(PathBuf),
}

/// One server to try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Where the socket goes: `hostaddr` when given, else `host`.
    pub host: Host,
    /// The `host` entry as configured: what TLS checks the certificate against, what
    /// `.pgpass` lines and a password function see.
    pub name: String,
    pub port: u16,
}

impl Endpoint {
    /// `name:port`, or the socket's path, for messages.
    pub fn describe(&self) -> String {
        match &self.host {
            Host::Tcp(addr) if *addr != self.name => {
                format!("{} ({addr}):{}", self.name, self.port)
            }
            Host::Tcp(_) => format!("{}:{}", self.name, self.port),
            Host::Unix(dir) => format!("{}", dir.join(format!(".s.PGSQL.{}", self.port)).display()),
        }
    }
}

/// libpq's `target_session_attrs`: what the server of a new session must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionAttrs {
    Any,
    ReadWrite,
    ReadOnly,
    Primary,
    Standby,
    /// A standby if any host is one, else any server.
    PreferStandby,
}

impl SessionAttrs {
    pub fn name(self) -> &'static str {
        match self {
            SessionAttrs::Any => "any",
            SessionAttrs::ReadWrite => "read-write",
            SessionAttrs::ReadOnly => "read-only",
            SessionAttrs::Primary => "primary",
            SessionAttrs::Standby => "standby",
            SessionAttrs::PreferStandby => "prefer-standby",
        }
    }
}

/// TCP keepalive probes: after `idle` without traffic, every `interval`, `count` times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keepalive {
    pub idle: Duration,
    pub interval: Duration,
    pub count: u32,
}

/// The TCP settings of every socket ferropg opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    /// `None`: `keepalives=0`.
    pub keepalive: Option<Keepalive>,
    /// `tcp_user_timeout` (`None`: the system's).
    pub user_timeout: Option<Duration>,
}

/// ferropg's keepalive defaults (libpq leaves them to the system, 2 hours on Linux): an idle
/// connection to a peer that vanished is noticed in 30 s (15 s idle, then 3 probes 5 s apart).
pub const DEFAULT_KEEPALIVE: Keepalive = Keepalive {
    idle: Duration::from_secs(15),
    interval: Duration::from_secs(5),
    count: 3,
};

fn list(s: &Setting) -> Vec<&str> {
    s.value.split(',').map(str::trim).collect()
}

fn parse_port(key: &str, v: &str) -> Result<u16> {
    match v.parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(Error::config(format!(
            "'{key}' must be a port number between 1 and 65535 (got '{v}')"
        ))),
    }
}

/// Where libpq builds look for a local server's socket (Debian's, then the upstream default).
pub const DEFAULT_SOCKET_DIRS: [&str; 2] = ["/var/run/postgresql", "/tmp"];

/// libpq's default: the local socket directory when a server listens there, else localhost.
fn default_host(port: u16) -> String {
    for dir in DEFAULT_SOCKET_DIRS {
        if std::path::Path::new(dir)
            .join(format!(".s.PGSQL.{port}"))
            .exists()
        {
            return dir.to_string();
        }
    }
    "localhost".to_string()
}

/// The servers to try, in the configured order.
pub(crate) fn endpoints(
    host: Option<&Setting>,
    hostaddr: Option<&Setting>,
    port: Option<&Setting>,
) -> Result<Vec<Endpoint>> {
    let ports = match port {
        Some(s) => list(s)
            .into_iter()
            .map(|p| {
                if p.is_empty() {
                    Ok(5432)
                } else {
                    parse_port(&s.key, p)
                }
            })
            .collect::<Result<Vec<_>>>()?,
        None => vec![5432],
    };
    let names: Vec<String> = match host {
        Some(s) => list(s).into_iter().map(String::from).collect(),
        None => Vec::new(),
    };
    let addrs: Vec<String> = match hostaddr {
        Some(s) => list(s).into_iter().map(String::from).collect(),
        None => Vec::new(),
    };
    if let Some(a) = hostaddr {
        for addr in addrs.iter().filter(|a| !a.is_empty()) {
            if addr.parse::<std::net::IpAddr>().is_err() {
                return Err(Error::config(format!(
                    "'{}' must list numeric IP addresses (got '{addr}'); put host names in 'host'",
                    a.key
                )));
            }
        }
    }
    if !names.is_empty() && !addrs.is_empty() && names.len() != addrs.len() {
        return Err(Error::config(format!(
            "'host' lists {} entries and 'hostaddr' {}: give the same number, or only one of them",
            names.len(),
            addrs.len()
        )));
    }
    let count = names.len().max(addrs.len()).max(1);
    if ports.len() != 1 && ports.len() != count {
        return Err(Error::config(format!(
            "'port' lists {} ports for {count} hosts: give one port, or one per host",
            ports.len()
        )));
    }
    (0..count)
        .map(|i| {
            let port = ports[if ports.len() == 1 { 0 } else { i }];
            let addr = addrs.get(i).filter(|a| !a.is_empty());
            let name = names
                .get(i)
                .filter(|n| !n.is_empty())
                .cloned()
                .or_else(|| addr.cloned())
                .unwrap_or_else(|| default_host(port));
            let host = match addr {
                Some(a) => Host::Tcp(a.clone()),
                None if name.starts_with('/') => Host::Unix(PathBuf::from(&name)),
                None => Host::Tcp(name.clone()),
            };
            Ok(Endpoint { host, name, port })
        })
        .collect()
}

pub(crate) fn session_attrs(s: Option<&Setting>) -> Result<SessionAttrs> {
    use SessionAttrs::*;
    let Some(s) = s else { return Ok(Any) };
    [Any, ReadWrite, ReadOnly, Primary, Standby, PreferStandby]
        .into_iter()
        .find(|a| a.name() == s.value)
        .ok_or_else(|| {
            Error::config(format!(
                "'{}' must be one of any, read-write, read-only, primary, standby, prefer-standby (got '{}')",
                s.key, s.value
            ))
        })
}

pub(crate) fn load_balance(s: Option<&Setting>) -> Result<bool> {
    match s.map(|s| (s, s.value.as_str())) {
        None | Some((_, "disable")) => Ok(false),
        Some((_, "random")) => Ok(true),
        Some((s, other)) => Err(Error::config(format!(
            "'{}' must be disable or random (got '{other}')",
            s.key
        ))),
    }
}

/// `keepalives`, `keepalives_idle`, `keepalives_interval`, `keepalives_count` (seconds and a
/// count, as libpq) and `tcp_user_timeout` (milliseconds).
pub(crate) fn network(get: &dyn Fn(&str) -> Option<Setting>) -> Result<Network> {
    let number = |key: &str, max: u64| -> Result<Option<u64>> {
        get(key)
            .map(|s| match s.value.trim().parse::<u64>() {
                Ok(n) if n <= max => Ok(n),
                _ => Err(Error::config(format!(
                    "'{}' must be a whole number between 0 and {max} (got '{}')",
                    s.key, s.value
                ))),
            })
            .transpose()
    };
    let on = number("keepalives", 1)? != Some(0);
    let secs = |key: &str, default: Duration| -> Result<Duration> {
        Ok(match number(key, 1 << 20)? {
            Some(0) | None => default,
            Some(n) => Duration::from_secs(n),
        })
    };
    let keepalive = on
        .then(|| -> Result<Keepalive> {
            Ok(Keepalive {
                idle: secs("keepalives_idle", DEFAULT_KEEPALIVE.idle)?,
                interval: secs("keepalives_interval", DEFAULT_KEEPALIVE.interval)?,
                count: match number("keepalives_count", 1000)? {
                    Some(0) | None => DEFAULT_KEEPALIVE.count,
                    Some(n) => n as u32,
                },
            })
        })
        .transpose()?;
    let user_timeout = number("tcp_user_timeout", u32::MAX as u64)?
        .filter(|n| *n > 0)
        .map(Duration::from_millis);
    Ok(Network {
        keepalive,
        user_timeout,
    })
}

/// Shuffles `items` in place (Fisher-Yates over the system's random numbers), for
/// `load_balance_hosts=random`.
pub fn shuffle<T>(items: &mut [T]) {
    use ring::rand::{SecureRandom, SystemRandom};
    let rng = SystemRandom::new();
    for i in (1..items.len()).rev() {
        let mut b = [0u8; 4];
        // A failure of the system's generator leaves the order as configured.
        if rng.fill(&mut b).is_err() {
            return;
        }
        items.swap(i, u32::from_le_bytes(b) as usize % (i + 1));
    }
}
