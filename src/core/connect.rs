//! Establishing a session, as libpq does: the servers tried in order (or shuffled), each within
//! `connect_timeout`; the password for each (a password function, the configured one, or the
//! password file); on each, the `sslmode` decisions (see [`on_host`]); then whether the server
//! is what `target_session_attrs` asks for.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::oneshot;

use crate::core::config::{Config, Host, SslMode};
use crate::core::driver::{open, Driver, Roam, Stream};
use crate::core::error::{Code, Error, Result};
use crate::core::events::{drive, Events};
use crate::core::hangup::Hangup;
use crate::core::hosts::{shuffle, Endpoint, SessionAttrs, DEFAULT_SOCKET_DIRS};
use crate::core::passfile::{self, Miss};
use crate::core::reply::gone;
use crate::core::tls::{negotiate, tls_failure, Answer, Connector, MaybeConnector};
use crate::core::tls_files::mode_name;

/// What a password function is told: the server and role a new connection is for (an RDS IAM
/// token, say, is signed for the host and the user).
#[derive(Debug, Clone)]
pub struct PasswordTarget {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub database: String,
}

/// Supplies a password per connection attempt (the user's password function).
pub trait PasswordSource: Send + Sync {
    fn password(
        &self,
        target: PasswordTarget,
    ) -> Pin<Box<dyn Future<Output = Result<String>> + Send + '_>>;
}

/// A session that has passed authentication, with its protocol task running.
pub struct Established {
    pub client: tokio_postgres::Client,
    pub server_version: String,
    pub roam: Arc<Roam>,
    /// Ends the protocol task, which drops the socket (see `Session::note_error`).
    pub hangup: Arc<Hangup>,
    pub endpoint: Endpoint,
    /// The address the TCP socket reached (a CancelRequest goes to the same server).
    pub peer: Option<std::net::SocketAddr>,
    /// The socket's descriptor (owned by the protocol task), for [`Conn::idle_input`].
    pub fd: std::os::fd::RawFd,
    /// The TLS the session uses (a CancelRequest for it goes the same way).
    pub tls: Option<Connector>,
    pub direct: bool,
    /// `in_hot_standby` and `default_transaction_read_only` as the server reported them at
    /// startup (PostgreSQL 14+).
    hot_standby: Option<bool>,
    default_read_only: Option<bool>,
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

/// Opens a session on the first server that accepts one and is what `target_session_attrs`
/// asks for (`prefer-standby`: a standby if any server is one, else any).
pub async fn establish(
    config: &Config,
    source: Option<&dyn PasswordSource>,
    events: Option<Arc<dyn Events>>,
    driver: &Arc<dyn Driver>,
) -> Result<Established> {
    let mut order: Vec<&Endpoint> = config.endpoints.iter().collect();
    if config.load_balance {
        shuffle(&mut order);
    }
    let passes: &[SessionAttrs] = match config.target_session_attrs {
        SessionAttrs::PreferStandby => &[SessionAttrs::Standby, SessionAttrs::Any],
        _ => std::slice::from_ref(&config.target_session_attrs),
    };
    let mut failures: Vec<(String, Error)> = Vec::new();
    for want in passes {
        for ep in &order {
            let attempt = async {
                let e = on_endpoint(config, source, ep, &events, driver).await?;
                is_wanted(e, *want).await
            };
            let r = match config.connect_timeout {
                Some(t) => tokio::time::timeout(t, attempt).await.unwrap_or_else(|_| {
                    Err(Error::driver(
                        Code::Connection,
                        format!(
                            "timed out connecting to {} after {} ms",
                            ep.describe(),
                            t.as_millis()
                        ),
                    ))
                }),
                None => attempt.await,
            };
            match r {
                Ok(e) => return Ok(e),
                Err(e) => failures.push((ep.describe(), e)),
            }
        }
    }
    Err(summarize(failures))
}

/// The last failure; with several servers, a driver error also lists what happened on the
/// others (a server's own error is kept as it is, with its SQLSTATE).
fn summarize(mut failures: Vec<(String, Error)>) -> Error {
    let Some((at, last)) = failures.pop() else {
        return Error::config("no host to connect to");
    };
    match last {
        Error::Driver { code, message, .. } => {
            // Every driver error names the server it is about (a connection closed during
            // startup says only "early eof" on its own).
            let message = if message.contains(&at) {
                message
            } else {
                format!("{message} (server {at})")
            };
            if failures.is_empty() {
                return Error::driver(code, message);
            }
            let earlier: Vec<String> = failures
                .iter()
                .map(|(at, e)| format!("{at}: {e}"))
                .collect();
            Error::driver(code, format!("{message} (earlier: {})", earlier.join("; ")))
        }
        e => e,
    }
}

/// The password for a connection to `ep`: the password function's, else the configured one
/// (the `password` key or PGPASSWORD, which `to_tokio` uses), else the password file's.
/// Returns the password and, when none was found, why the password file had none.
async fn password_for(
    config: &Config,
    source: Option<&dyn PasswordSource>,
    ep: &Endpoint,
) -> Result<(Option<String>, Option<String>)> {
    if let Some(s) = source {
        let target = PasswordTarget {
            host: ep.name.clone(),
            port: ep.port,
            user: config.user.clone(),
            database: config.dbname.clone(),
        };
        return Ok((Some(s.password(target).await?), None));
    }
    if config.password.is_some() {
        return Ok((None, None));
    }
    let Some(file) = &config.passfile else {
        return Ok((None, None));
    };
    let target = passfile::Target {
        host: &ep.name,
        // libpq: a socket in the default directory also matches `localhost` lines.
        localhost_too: matches!(&ep.host, Host::Unix(d) if DEFAULT_SOCKET_DIRS.iter().any(|s| d.as_os_str() == *s)),
        port: ep.port,
        database: &config.dbname,
        user: &config.user,
    };
    Ok(match passfile::lookup(file, &target) {
        Ok(pw) => (Some(pw), None),
        Err(Miss::Exposed) => (
            None,
            Some(format!(
                "the password file \"{}\" was ignored: it has group or world access (permissions should be u=rw (0600) or less)",
                file.display()
            )),
        ),
        Err(Miss::NoFile | Miss::NoMatch) => (None, None),
    })
}

/// libpq's sslmode on one server: `allow` tries without TLS first and with it when the server
/// refuses; `prefer` the reverse (also when the TLS handshake fails); `require` and `verify-*`
/// only with. Unix-domain sockets never use TLS (as in libpq).
async fn on_endpoint(
    config: &Config,
    source: Option<&dyn PasswordSource>,
    ep: &Endpoint,
    events: &Option<Arc<dyn Events>>,
    driver: &Arc<dyn Driver>,
) -> Result<Established> {
    let (password, note) = password_for(config, source, ep).await?;
    let settings = config.to_tokio(password.as_deref());
    let go = |plan| attempt(config, &settings, ep, plan, note.clone(), events, driver);
    if matches!(ep.host, Host::Unix(_)) {
        return go(Plan::Plain).await;
    }
    let tls = |required| -> Result<Plan> {
        Ok(Plan::Tls {
            connector: Connector::new(&config.tls, &ep.name)?,
            required,
        })
    };
    match config.tls.mode {
        SslMode::Disable => go(Plan::Plain).await,
        SslMode::Allow => match go(Plan::Plain).await {
            Err(e) if refused_by_server(&e) => go(tls(true)?).await,
            r => r,
        },
        SslMode::Prefer => match go(tls(false)?).await {
            Err(first) if refused_by_server(&first) || first.code() == Code::Tls.as_str() => {
                match go(Plan::Plain).await {
                    // pg_hba.conf has no entry for a plain session: the TLS attempt's error
                    // (a wrong password, an untrusted certificate) is the one that explains.
                    Err(e) if e.sqlstate() == Some("28000") => Err(first),
                    r => r,
                }
            }
            r => r,
        },
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => go(tls(true)?).await,
    }
}

/// Whether a failed attempt was the server turning the session down (so that the other
/// choice of TLS may be accepted), rather than the network or the TLS check failing.
fn refused_by_server(e: &Error) -> bool {
    e.sqlstate().is_some()
}

/// Keeps the session if its server is what `want` asks for, as libpq decides it: from
/// `in_hot_standby` and `default_transaction_read_only` when the server reported them at
/// startup (PostgreSQL 14+), else by asking it.
async fn is_wanted(e: Established, want: SessionAttrs) -> Result<Established> {
    if want == SessionAttrs::Any {
        return Ok(e);
    }
    let standby = match e.hot_standby {
        Some(v) => v,
        None => ask(&e.client, "SELECT pg_catalog.pg_is_in_recovery()").await? == "t",
    };
    let read_only = match (want, e.default_read_only) {
        (SessionAttrs::Primary | SessionAttrs::Standby, _) => standby,
        (_, Some(v)) => v || standby,
        (_, None) => ask(&e.client, "SHOW transaction_read_only").await? == "on",
    };
    let ok = match want {
        SessionAttrs::ReadWrite => !read_only,
        SessionAttrs::ReadOnly => read_only,
        SessionAttrs::Primary => !standby,
        SessionAttrs::Standby => standby,
        SessionAttrs::Any | SessionAttrs::PreferStandby => true,
    };
    if ok {
        return Ok(e);
    }
    let what = match (standby, read_only) {
        (true, _) => "a standby (in hot standby mode)",
        (false, true) => "a primary with read-only sessions (default_transaction_read_only)",
        (false, false) => "a read-write primary",
    };
    Err(Error::driver(
        Code::Connection,
        format!(
            "the server at {} is {what}, not what target_session_attrs={} asks for",
            e.endpoint.describe(),
            want.name()
        ),
    ))
}

/// The first value of a one-row query.
async fn ask(client: &tokio_postgres::Client, sql: &str) -> Result<String> {
    for m in client.simple_query(sql).await? {
        if let tokio_postgres::SimpleQueryMessage::Row(r) = m {
            return Ok(r.get(0).unwrap_or_default().to_string());
        }
    }
    Err(Error::driver(
        Code::Protocol,
        format!("'{sql}' returned no row"),
    ))
}

/// What the startup handshake learned.
struct Startup {
    client: tokio_postgres::Client,
    version: String,
    used_tls: bool,
    hot_standby: Option<bool>,
    default_read_only: Option<bool>,
}

/// One connection attempt: the socket is opened here (on the runtime); asking for TLS, the
/// PostgreSQL handshake and then the protocol task run on the driver.
async fn attempt(
    config: &Config,
    settings: &tokio_postgres::Config,
    ep: &Endpoint,
    plan: Plan,
    password_note: Option<String>,
    events: &Option<Arc<dyn Events>>,
    driver: &Arc<dyn Driver>,
) -> Result<Established> {
    let refused = |e: std::io::Error| {
        Error::driver(
            Code::Connection,
            format!("error connecting to server at {}: {e}", ep.describe()),
        )
    };
    let socket = open(&ep.host, ep.port, &config.network, config.load_balance)
        .await
        .map_err(refused)?;
    let peer = socket.peer();
    let fd = socket.fd();
    let stream = Stream(driver.stream(socket).map_err(refused)?);
    let (connector, required) = match plan {
        Plan::Plain => (None, false),
        Plan::Tls {
            connector,
            required,
        } => (Some(connector), required),
    };
    let context = Context {
        required,
        direct: config.tls.direct,
        mode: config.tls.mode,
        at: ep.describe(),
        password_note,
    };
    let settings = settings.clone();
    let (tx, rx) = oneshot::channel();
    let roam = Arc::new(Roam::default());
    let hangup = Arc::new(Hangup::default());
    let task_hangup = hangup.clone();
    let events = events.clone();
    let task_connector = connector.clone();
    driver.spawn_roaming(
        Box::pin(async move {
            let mut tx = tx;
            let r = tokio::select! {
                biased;
                r = startup(stream, settings, task_connector, context) => r,
                // The caller gave up (connect timeout): drop the half-open connection.
                () = tx.closed() => return,
            };
            match r {
                Ok((s, connection)) => {
                    // The protocol task ends when the socket closes; the client then reports
                    // is_closed() and the pool discards it. Statements in flight see
                    // ERR_CONNECTION_CLOSED (ERR_PROTOCOL after a malformed message length).
                    if tx.send(Ok(s)).is_ok() {
                        drive(connection, events, task_hangup).await;
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                }
            }
        }),
        roam.clone(),
    );
    let s = rx.await.unwrap_or_else(|_| Err(gone()))?;
    Ok(Established {
        client: s.client,
        server_version: s.version,
        roam,
        hangup,
        endpoint: ep.clone(),
        peer,
        fd,
        tls: if s.used_tls { connector } else { None },
        direct: config.tls.direct,
        hot_standby: s.hot_standby,
        default_read_only: s.default_read_only,
    })
}

/// What [`startup`] needs besides the stream, for its decisions and messages.
struct Context {
    required: bool,
    direct: bool,
    mode: SslMode,
    at: String,
    password_note: Option<String>,
}

/// Asks for TLS when a connector is given, then runs the startup handshake.
async fn startup(
    mut stream: Stream,
    mut settings: tokio_postgres::Config,
    connector: Option<Connector>,
    cx: Context,
) -> Result<(
    Startup,
    tokio_postgres::Connection<Stream, crate::core::tls::TlsStream>,
)> {
    use tokio_postgres::config::{SslMode as TpMode, SslNegotiation};
    let use_tls = match &connector {
        None => false,
        Some(_) => match negotiate(&mut stream, cx.direct).await? {
            Answer::Tls => true,
            Answer::Plain if cx.required => {
                return Err(Error::driver(
                    Code::Tls,
                    format!(
                        "the server at {} does not support TLS, which sslmode={} requires",
                        cx.at,
                        mode_name(cx.mode)
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
        Ok((client, connection)) => {
            let flag = |name| connection.parameter(name).map(|v| v == "on");
            let s = Startup {
                client,
                version: connection
                    .parameter("server_version")
                    .unwrap_or_default()
                    .to_string(),
                used_tls: use_tls,
                hot_standby: flag("in_hot_standby"),
                default_read_only: flag("default_transaction_read_only"),
            };
            Ok((s, connection))
        }
        Err(e) => Err(match tls_failure(&e) {
            Some(f) => Error::driver(Code::Tls, format!("{} (server at {})", f.0, cx.at)),
            None if is_password_missing(&e) => Error::driver(
                Code::Connection,
                format!(
                    "the server at {} asked for a password and none was given: set 'password' (or PGPASSWORD), a password function, or a line in the password file (~/.pgpass or PGPASSFILE){}",
                    cx.at,
                    cx.password_note.map(|n| format!("; {n}")).unwrap_or_default()
                ),
            ),
            None => Error::from_connect(e),
        }),
    }
}

/// tokio-postgres's "password missing" (its error kinds are private; the cause is its text).
fn is_password_missing(e: &tokio_postgres::Error) -> bool {
    std::error::Error::source(e).is_some_and(|c| c.to_string() == "password missing")
}
