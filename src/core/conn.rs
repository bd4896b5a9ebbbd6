//! One PostgreSQL connection: a tokio-postgres client, its statement cache and what the
//! driver knows about the server.
//!
//! Transport and executor seam: `Conn::connect` is the only place that opens a socket and
//! spawns the protocol task; everything above talks to `Conn`. Today the task runs on the
//! addon's tokio runtime; a transport driven from the libuv loop would replace this function.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use futures_util::stream::FuturesUnordered;
use futures_util::{pin_mut, poll, StreamExt, TryStreamExt};
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::types::{to_sql_checked, Format, IsNull, ToSql, Type};
use tokio_postgres::{NoTls, Statement};

use crate::core::command::command_of;
use crate::core::config::Config;
use crate::core::error::{Error, Result};
use crate::core::result::{write_header, RawCell};
use crate::core::stmt_cache::StatementCache;
use crate::core::types::decode::decode;
use crate::core::types::encode::{encode, Encoded};
use crate::core::types::value::{read_params, JsValue};
use crate::core::types::TypeOptions;
use crate::core::wire::Writer;

/// A query waiting for its turn on the connection.
struct Request {
    sql: String,
    params: Box<dyn AsRef<[u8]> + Send>,
    reply: oneshot::Sender<Result<Vec<u8>>>,
}

/// What the submission worker and running queries share.
struct Shared {
    client: tokio_postgres::Client,
    cache: StatementCache,
    types: TypeOptions,
}

pub struct Conn {
    shared: Arc<Shared>,
    queue: mpsc::UnboundedSender<Request>,
    pub process_id: i32,
    pub server_version: String,
    pub created: Instant,
    broken: AtomicBool,
}

impl ToSql for Encoded {
    fn to_sql(
        &self,
        _: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Encoded::Null => return Ok(IsNull::Yes),
            Encoded::Text(s) => out.extend_from_slice(s.as_bytes()),
            Encoded::Binary(b) => out.extend_from_slice(b),
        }
        Ok(IsNull::No)
    }
    fn accepts(_: &Type) -> bool {
        true
    }
    fn encode_format(&self, _: &Type) -> Format {
        match self {
            Encoded::Text(_) => Format::Text,
            _ => Format::Binary,
        }
    }
    to_sql_checked!();
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Conn(pid {})", self.process_id)
    }
}

/// Is this the error after which a cached statement must be re-prepared?
fn is_stale_statement(e: &Error) -> bool {
    match e {
        Error::Db(d) => {
            d.code == "26000"
                || (d.code == "0A000"
                    && d.message
                        .contains("cached plan must not change result type"))
        }
        _ => false,
    }
}

impl Conn {
    /// Opens a connection; `password` (from a password function) overrides the configured one.
    pub async fn connect(config: &Config, password: Option<&str>) -> Result<Conn> {
        let (client, connection) = config.to_tokio(password).connect(NoTls).await?;
        let server_version = connection
            .parameter("server_version")
            .unwrap_or_default()
            .to_string();
        // The protocol task ends when the socket closes; the client then reports is_closed()
        // and the pool discards it. Its error needs no handler: callers see ERR_CONNECTION_CLOSED.
        tokio::spawn(async move {
            let _ = connection.await;
        });
        let mut process_id = 0;
        for m in client.simple_query("SELECT pg_backend_pid()").await? {
            if let tokio_postgres::SimpleQueryMessage::Row(r) = m {
                process_id = r.get(0).and_then(|s| s.parse().ok()).unwrap_or(0);
            }
        }
        let shared = Arc::new(Shared {
            client,
            cache: StatementCache::new(config.statement_cache_size),
            types: config.types,
        });
        let (queue, requests) = mpsc::unbounded_channel();
        tokio::spawn(submission_worker(shared.clone(), requests));
        Ok(Conn {
            shared,
            queue,
            process_id,
            server_version,
            created: Instant::now(),
            broken: AtomicBool::new(false),
        })
    }

    pub fn is_closed(&self) -> bool {
        self.shared.client.is_closed() || self.broken.load(Ordering::Relaxed)
    }

    /// Marks the connection unusable (the pool discards it on return).
    pub fn mark_broken(&self) {
        self.broken.store(true, Ordering::Relaxed);
    }

    pub fn cached_statements(&self) -> usize {
        self.shared.cache.len()
    }

    /// Queues a query; queries run in the order they were submitted (see `submission_worker`).
    pub fn submit(
        &self,
        sql: String,
        params: Box<dyn AsRef<[u8]> + Send>,
    ) -> oneshot::Receiver<Result<Vec<u8>>> {
        let (reply, rx) = oneshot::channel();
        // A send error means the worker is gone; dropping `reply` makes `rx` report it.
        let _ = self.queue.send(Request { sql, params, reply });
        rx
    }

    /// Runs `sql` with parameters in the JS wire format; returns the response buffer.
    pub async fn query(&self, sql: String, params: Box<dyn AsRef<[u8]> + Send>) -> Result<Vec<u8>> {
        closed_if_dropped(self.submit(sql, params).await)
    }
}

/// The reply of a submitted query; a dropped reply means the connection went away.
pub fn closed_if_dropped(
    r: std::result::Result<Result<Vec<u8>>, oneshot::error::RecvError>,
) -> Result<Vec<u8>> {
    r.unwrap_or_else(|_| {
        Err(Error::driver(
            "ERR_CONNECTION_CLOSED",
            "the connection closed before the query completed",
        ))
    })
}

/// Sends queries in submission order without waiting for earlier results.
///
/// tokio-postgres writes a request when its future is first polled, so the worker polls each
/// query once, in order, before taking the next. A query whose statement is not cached must be
/// prepared first (one round trip); the worker waits for that before sending anything later, so
/// an INSERT that needs preparing can never be overtaken by a cached SELECT behind it. Queries
/// already sent keep being driven meanwhile.
async fn submission_worker(shared: Arc<Shared>, mut requests: mpsc::UnboundedReceiver<Request>) {
    let mut inflight = FuturesUnordered::new();
    loop {
        tokio::select! {
            biased;
            Some(()) = inflight.next(), if !inflight.is_empty() => {}
            req = requests.recv() => {
                let Some(req) = req else { break };
                let stmt = {
                    let prepare = statement(&shared, &req.sql);
                    pin_mut!(prepare);
                    loop {
                        tokio::select! {
                            biased;
                            s = &mut prepare => break s,
                            Some(()) = inflight.next(), if !inflight.is_empty() => {}
                        }
                    }
                };
                let mut fut = Box::pin(run(shared.clone(), stmt, req));
                if poll!(fut.as_mut()).is_pending() {
                    inflight.push(fut);
                }
            }
        }
    }
    while inflight.next().await.is_some() {}
}

async fn statement(shared: &Shared, sql: &str) -> Result<Statement> {
    if let Some(s) = shared.cache.get(sql) {
        return Ok(s);
    }
    let s = shared.client.prepare(sql).await?;
    shared.cache.put(sql, &s);
    Ok(s)
}

async fn run(shared: Arc<Shared>, stmt: Result<Statement>, req: Request) {
    let r = match stmt {
        Ok(stmt) => execute_with_retry(&shared, stmt, &req.sql, (*req.params).as_ref()).await,
        Err(e) => Err(e),
    };
    let _ = req.reply.send(r);
}

async fn execute_with_retry(
    shared: &Shared,
    stmt: Statement,
    sql: &str,
    params: &[u8],
) -> Result<Vec<u8>> {
    let values = read_params(params).map_err(Error::param)?;
    match execute(shared, &stmt, sql, &values).await {
        Err(e) if is_stale_statement(&e) => {
            // The server dropped or re-planned the statement (DDL, DISCARD ALL). Outside a
            // transaction the retry succeeds; inside one the transaction is already aborted,
            // the retry fails with 25P02, and the original error is reported.
            shared.cache.remove(sql);
            let retried = match statement(shared, sql).await {
                Ok(fresh) => execute(shared, &fresh, sql, &values).await,
                Err(e2) => Err(e2),
            };
            match retried {
                Err(e2) if e2.sqlstate() == Some("25P02") => Err(e),
                other => other,
            }
        }
        other => other,
    }
}

async fn execute(
    shared: &Shared,
    stmt: &Statement,
    sql: &str,
    values: &[JsValue<'_>],
) -> Result<Vec<u8>> {
    let params = encode_params(stmt, values)?;
    let columns = stmt.columns();
    let mut w = Writer::with_capacity(256);
    write_header(&mut w, columns);
    let count_at = w.buf.len();
    w.u32(0);
    let stream = shared.client.query_raw(stmt, params.iter()).await?;
    pin_mut!(stream);
    let mut n: u32 = 0;
    let types = &shared.types;
    while let Some(row) = stream.try_next().await? {
        for (i, c) in columns.iter().enumerate() {
            let cell: RawCell<'_> = row.try_get(i)?;
            decode(c.type_(), cell.0, types, &mut w).map_err(|m| Error::driver("ERR_DECODE", m))?;
        }
        n += 1;
    }
    w.buf[count_at..count_at + 4].copy_from_slice(&n.to_le_bytes());
    w.str(&command_of(sql));
    w.f64(stream.rows_affected().unwrap_or(n as u64) as f64);
    Ok(w.buf)
}

/// Converts every value to its `$n`'s type, or names the first that does not fit.
pub fn encode_params(stmt: &Statement, values: &[JsValue<'_>]) -> Result<Vec<Encoded>> {
    let types = stmt.params();
    if types.len() != values.len() {
        return Err(Error::param(format!(
            "the statement expects {} parameter{}, got {}",
            types.len(),
            if types.len() == 1 { "" } else { "s" },
            values.len()
        )));
    }
    values
        .iter()
        .zip(types)
        .enumerate()
        .map(|(i, (v, ty))| {
            let e = encode(v, ty).map_err(|m| Error::param(format!("${}: {m}", i + 1)))?;
            if let Encoded::Text(t) = &e {
                if t.contains('\0') {
                    return Err(Error::param(format!(
                        "${}: {} contains a NUL character, which PostgreSQL text cannot hold",
                        i + 1,
                        v.describe()
                    )));
                }
            }
            Ok(e)
        })
        .collect()
}
