//! Establishing a session with a server: the hosts tried in order, each within
//! `connect_timeout`; on each, libpq's `sslmode` decisions (TLS first or plain first, and which
//! failure allows the other); then the startup handshake and the protocol task, on the driver
//! that will run the connection.

use std::sync::Arc;

use tokio::sync::oneshot;

use crate::core::config::{Config, Host, SslMode};
use crate::core::driver::{open, Driver, Roam, Stream};
use crate::core::error::{Code, Error, Result};
use crate::core::events::{drive, Events};
use crate::core::reply::gone;
use crate::core::tls::{negotiate, tls_failure, Answer, Connector, MaybeConnector};
use crate::core::tls_files::mode_name;

/// A session that has passed authentication, with its protocol task running.
pub struct Established {
    pub client: tokio_postgres::Client,
    pub server_version: String,
    pub roam: Arc<Roam>,
    pub host: Host,
    pub port: u16,
    /// The TLS the session uses (a CancelRequest for it goes the same way).
    pub tls: Option<Connector>,
    pub direct: bool,
}

/// How one attempt talks to the server.
enum Plan {
    Plain,
    /// TLS; `required`: a server that declines it fails the attempt (else: go on without).
    Tls {
        connector: Connector,
        required: bool,
    },
}

/// Opens a session on the first host that accepts one; `password` (from a password function)
/// overrides the configured one.
pub async fn establish(
    config: &Config,
    password: Option<&str>,
    events: Option<Arc<dyn Events>>,
    driver: &Arc<dyn Driver>,
) -> Result<Established> {
    let settings = config.to_tokio(password);
    let mut last = None;
    for (i, host) in config.hosts.iter().enumerate() {
        let port = config
            .ports
            .get(i)
            .or(config.ports.first())
            .copied()
            .unwrap_or(5432);
        let attempt = on_host(config, &settings, host, port, &events, driver);
        let r = match config.connect_timeout {
            Some(t) => tokio::time::timeout(t, attempt).await.unwrap_or_else(|_| {
                Err(Error::driver(
                    Code::Connection,
                    format!(
                        "timed out connecting to {} after {} ms",
                        describe(host, port),
                        t.as_millis()
                    ),
                ))
            }),
            None => attempt.await,
        };
        match r {
            Ok(e) => return Ok(e),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| Error::config("no host to connect to")))
}

/// Whether a failed attempt was the server turning the session down (so that the other
/// choice of TLS may be accepted), rather than the network or the TLS check failing.
fn refused_by_server(e: &Error) -> bool {
    e.sqlstate().is_some()
}

/// libpq's sslmode on one host: `allow` tries without TLS first and with it when the server
/// refuses; `prefer` the reverse (also when the TLS handshake fails); `require` and `verify-*`
/// only with. Unix-domain sockets never use TLS (as in libpq).
async fn on_host(
    config: &Config,
    settings: &tokio_postgres::Config,
    host: &Host,
    port: u16,
    events: &Option<Arc<dyn Events>>,
    driver: &Arc<dyn Driver>,
) -> Result<Established> {
    let name = match host {
        Host::Tcp(name) => name,
        Host::Unix(_) => {
            return attempt(config, settings, host, port, Plan::Plain, events, driver).await
        }
    };
    let tls = |required| -> Result<Plan> {
        Ok(Plan::Tls {
            connector: Connector::new(&config.tls, name)?,
            required,
        })
    };
    let go = |plan| attempt(config, settings, host, port, plan, events, driver);
    match config.tls.mode {
        SslMode::Disable => go(Plan::Plain).await,
        SslMode::Allow => match go(Plan::Plain).await {
            Err(e) if refused_by_server(&e) => go(tls(true)?).await,
            r => r,
        },
        SslMode::Prefer => match go(tls(false)?).await {
            Err(e) if refused_by_server(&e) || e.code() == Code::Tls.as_str() => {
                go(Plan::Plain).await
            }
            r => r,
        },
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => go(tls(true)?).await,
    }
}

pub fn describe(host: &Host, port: u16) -> String {
    match host {
        Host::Tcp(name) => format!("{name}:{port}"),
        Host::Unix(dir) => format!("{}", dir.join(format!(".s.PGSQL.{port}")).display()),
    }
}

/// One connection attempt: the socket is opened here (on the runtime); asking for TLS, the
/// PostgreSQL handshake and then the protocol task run on the driver.
async fn attempt(
    config: &Config,
    settings: &tokio_postgres::Config,
    host: &Host,
    port: u16,
    plan: Plan,
    events: &Option<Arc<dyn Events>>,
    driver: &Arc<dyn Driver>,
) -> Result<Established> {
    let refused = |e: std::io::Error| {
        Error::driver(
            Code::Connection,
            format!(
                "error connecting to server at {}: {e}",
                describe(host, port)
            ),
        )
    };
    let stream = Stream(
        driver
            .stream(open(host, port).await.map_err(refused)?)
            .map_err(refused)?,
    );
    let (connector, required) = match plan {
        Plan::Plain => (None, false),
        Plan::Tls {
            connector,
            required,
        } => (Some(connector), required),
    };
    let direct = config.tls.direct;
    let mode = config.tls.mode;
    let at = describe(host, port);
    let settings = settings.clone();
    let (tx, rx) = oneshot::channel();
    let roam = Arc::new(Roam::default());
    let events = events.clone();
    let task_connector = connector.clone();
    driver.spawn_roaming(
        Box::pin(async move {
            let mut tx = tx;
            let r = tokio::select! {
                biased;
                r = startup(stream, settings, task_connector, required, direct, mode, at) => r,
                // The caller gave up (connect timeout): drop the half-open connection.
                () = tx.closed() => return,
            };
            match r {
                Ok((client, connection, used_tls)) => {
                    let version = connection
                        .parameter("server_version")
                        .unwrap_or_default()
                        .to_string();
                    // The protocol task ends when the socket closes; the client then reports
                    // is_closed() and the pool discards it. Statements in flight see
                    // ERR_CONNECTION_CLOSED.
                    if tx.send(Ok((client, version, used_tls))).is_ok() {
                        drive(connection, events).await;
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                }
            }
        }),
        roam.clone(),
    );
    let (client, server_version, used_tls) = rx.await.unwrap_or_else(|_| Err(gone()))?;
    Ok(Established {
        client,
        server_version,
        roam,
        host: host.clone(),
        port,
        tls: if used_tls { connector } else { None },
        direct,
    })
}

type Session = (
    tokio_postgres::Client,
    tokio_postgres::Connection<Stream, crate::core::tls::TlsStream>,
    bool,
);

/// Asks for TLS when the plan says so, then runs the startup handshake. Returns whether the
/// session uses TLS.
async fn startup(
    mut stream: Stream,
    mut settings: tokio_postgres::Config,
    connector: Option<Connector>,
    required: bool,
    direct: bool,
    mode: SslMode,
    at: String,
) -> Result<Session> {
    use tokio_postgres::config::{SslMode as TpMode, SslNegotiation};
    let use_tls = match &connector {
        None => false,
        Some(_) => match negotiate(&mut stream, direct).await? {
            Answer::Tls => true,
            Answer::Plain if required => {
                return Err(Error::driver(
                    Code::Tls,
                    format!(
                        "the server at {at} does not support TLS, which sslmode={} requires",
                        mode_name(mode)
                    ),
                ))
            }
            Answer::Plain => false,
        },
    };
    // TLS has been agreed on already: tokio-postgres only runs the handshake (Direct).
    if use_tls {
        settings
            .ssl_mode(TpMode::Require)
            .ssl_negotiation(SslNegotiation::Direct);
    } else {
        settings.ssl_mode(TpMode::Disable);
    }
    match settings
        .connect_raw(stream, MaybeConnector(connector))
        .await
    {
        Ok((client, connection)) => Ok((client, connection, use_tls)),
        Err(e) => Err(match tls_failure(&e) {
            Some(f) => Error::driver(Code::Tls, format!("{} (server at {at})", f.0)),
            None => Error::from_connect(e),
        }),
    }
}
