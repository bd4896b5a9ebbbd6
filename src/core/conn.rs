//! One PostgreSQL connection: a tokio-postgres client, its statement cache and what the
//! driver knows about the server.
//!
//! Transport and executor seam: `Conn::connect` is the only place that opens a socket and
//! spawns the protocol task; everything above talks to `Conn`. Today the task runs on the
//! addon's tokio runtime; a transport driven from the libuv loop would replace this function.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use futures_util::{pin_mut, TryStreamExt};
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

pub struct Conn {
    client: tokio_postgres::Client,
    cache: StatementCache,
    types: TypeOptions,
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
        Ok(Conn {
            client,
            cache: StatementCache::new(config.statement_cache_size),
            types: config.types,
            process_id,
            server_version,
            created: Instant::now(),
            broken: AtomicBool::new(false),
        })
    }

    pub fn is_closed(&self) -> bool {
        self.client.is_closed() || self.broken.load(Ordering::Relaxed)
    }

    /// Marks the connection unusable (the pool discards it on return).
    pub fn mark_broken(&self) {
        self.broken.store(true, Ordering::Relaxed);
    }

    pub fn cached_statements(&self) -> usize {
        self.cache.len()
    }

    async fn statement(&self, sql: &str) -> Result<Statement> {
        if let Some(s) = self.cache.get(sql) {
            return Ok(s);
        }
        let s = self.client.prepare(sql).await?;
        self.cache.put(sql, &s);
        Ok(s)
    }

    /// Runs `sql` with parameters in the JS wire format; returns the response buffer.
    pub async fn query(&self, sql: &str, params: &[u8]) -> Result<Vec<u8>> {
        let values = read_params(params).map_err(Error::param)?;
        let first = self.query_once(sql, &values).await;
        match first {
            Err(e) if is_stale_statement(&e) => {
                // The server dropped or re-planned the statement (DDL, DISCARD ALL). Outside a
                // transaction the retry succeeds; inside one the transaction is already
                // aborted, the retry fails with 25P02, and the original error is reported.
                self.cache.remove(sql);
                match self.query_once(sql, &values).await {
                    Err(e2) if e2.sqlstate() == Some("25P02") => Err(e),
                    other => other,
                }
            }
            other => other,
        }
    }

    async fn query_once(&self, sql: &str, values: &[JsValue<'_>]) -> Result<Vec<u8>> {
        let stmt = self.statement(sql).await?;
        let params = encode_params(&stmt, values)?;
        let columns = stmt.columns();
        let mut w = Writer::with_capacity(256);
        write_header(&mut w, columns);
        let count_at = w.buf.len();
        w.u32(0);
        let stream = self.client.query_raw(&stmt, params.iter()).await?;
        pin_mut!(stream);
        let mut n: u32 = 0;
        let types = &self.types;
        while let Some(row) = stream.try_next().await? {
            for (i, c) in columns.iter().enumerate() {
                let cell: RawCell<'_> = row.try_get(i)?;
                decode(c.type_(), cell.0, types, &mut w)
                    .map_err(|m| Error::driver("ERR_DECODE", m))?;
            }
            n += 1;
        }
        w.buf[count_at..count_at + 4].copy_from_slice(&n.to_le_bytes());
        w.str(&command_of(sql));
        w.f64(stream.rows_affected().unwrap_or(n as u64) as f64);
        Ok(w.buf)
    }
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
