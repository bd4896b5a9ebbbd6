//! Running prepared statements: one query, or one statement over many parameter sets.

use futures_util::future::maybe_done;
use futures_util::{pin_mut, poll, TryStreamExt};
use tokio_postgres::types::{to_sql_checked, Format, IsNull, ToSql, Type};
use tokio_postgres::Statement;

use crate::core::command::command_of;
use crate::core::conn::Shared;
use crate::core::error::{Error, Result};
use crate::core::result::{batch_error_buffer, write_header, RawCell};
use crate::core::types::decode::decode;
use crate::core::types::encode::{encode, Encoded};
use crate::core::types::value::{read_list, read_params, JsValue};
use crate::core::wire::{status, Reader, Writer};
use crate::core::worker::statement;

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

/// One query; a stale cached statement is re-prepared and retried once.
pub async fn query(shared: &Shared, stmt: Statement, sql: &str, params: &[u8]) -> Result<Vec<u8>> {
    let values = read_params(params).map_err(Error::param)?;
    let run = |stmt: Statement| {
        let values = &values;
        async move { execute(shared, &stmt, sql, encode_params(&stmt, values)?).await }
    };
    match run(stmt).await {
        Err(e) if is_stale_statement(&e) => {
            // The server dropped or re-planned the statement (DDL, DISCARD ALL). Outside a
            // transaction the retry succeeds; inside one the transaction is already aborted,
            // the retry fails with 25P02, and the original error is reported.
            shared.cache.remove(sql);
            let retried = match statement(shared, sql).await {
                Ok(fresh) => run(fresh).await,
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

/// Executes with encoded parameters; returns the full response buffer.
async fn execute(
    shared: &Shared,
    stmt: &Statement,
    sql: &str,
    params: Vec<Encoded>,
) -> Result<Vec<u8>> {
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

/// A parameterless statement that must not enter the statement cache (cursor FETCHes, whose
/// result columns depend on the cursor behind the name): an unnamed statement, one round trip.
pub async fn query_uncached(shared: &Shared, sql: &str) -> Result<Vec<u8>> {
    let stream = shared
        .client
        .query_typed_raw(sql, std::iter::empty::<(Encoded, Type)>())
        .await?;
    pin_mut!(stream);
    let mut w = Writer::with_capacity(256);
    let mut count_at = 0;
    let mut n: u32 = 0;
    let types = &shared.types;
    while let Some(row) = stream.try_next().await? {
        if n == 0 {
            write_header(&mut w, row.columns());
            count_at = w.buf.len();
            w.u32(0);
        }
        for (i, c) in row.columns().iter().enumerate() {
            let cell: RawCell<'_> = row.try_get(i)?;
            decode(c.type_(), cell.0, types, &mut w).map_err(|m| Error::driver("ERR_DECODE", m))?;
        }
        n += 1;
    }
    if n == 0 {
        // No row, so no column list: an empty result.
        write_header(&mut w, &[]);
        w.u32(0);
    } else {
        w.buf[count_at..count_at + 4].copy_from_slice(&n.to_le_bytes());
    }
    w.str(&command_of(sql));
    w.f64(stream.rows_affected().unwrap_or(n as u64) as f64);
    Ok(w.buf)
}

/// Runs `stmt` once per parameter set of `sets` (u32 count, then parameter lists).
///
/// Every set is converted first, so a set that does not fit is reported (with its index)
/// before any execution of this batch is sent; then all executions are sent at once and their
/// results collected in order. The response is `[OK][f64 total rows][u32 n][n results]`
/// (results only with `returning`), or a batch error naming the failing set.
pub async fn execute_many(
    shared: &Shared,
    stmt: &Statement,
    sql: &str,
    sets: &[u8],
    returning: bool,
) -> Result<Vec<u8>> {
    let mut r = Reader::new(sets);
    let n = r.u32().map_err(Error::param)? as usize;
    let mut encoded = Vec::with_capacity(n);
    for i in 0..n {
        let values = read_list(&mut r).map_err(Error::param)?;
        match encode_params(stmt, &values) {
            Ok(p) => encoded.push(p),
            Err(e) => return Ok(batch_error_buffer(i, &e)),
        }
    }
    let mut runs = Vec::with_capacity(n);
    for params in encoded {
        let fut = async move {
            if returning {
                execute(shared, stmt, sql, params).await.map(|b| (0, b))
            } else {
                Ok((
                    shared.client.execute_raw(stmt, params.iter()).await?,
                    Vec::new(),
                ))
            }
        };
        let mut run = Box::pin(maybe_done(fut));
        // The first poll writes the execution; the rest of the batch follows without waiting.
        let _ = poll!(run.as_mut());
        runs.push(run);
    }
    let mut w = Writer::with_capacity(if returning { 64 * n } else { 16 });
    w.u8(status::OK);
    w.f64(0.0);
    w.u32(if returning { n as u32 } else { 0 });
    let mut total = 0f64;
    for (i, mut run) in runs.into_iter().enumerate() {
        run.as_mut().await;
        match run.as_mut().take_output() {
            Some(Ok((count, block))) if returning => {
                // A result block ends with its row count (f64).
                total += block
                    .get(block.len() - 8..)
                    .map(|b| f64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
                    .unwrap_or(count as f64);
                w.buf.extend_from_slice(&block);
            }
            Some(Ok((count, _))) => total += count as f64,
            // Later executions fail with 25P02 (the batch's transaction is aborted): the first
            // error is the one to report.
            Some(Err(e)) => return Ok(batch_error_buffer(i, &e)),
            None => {}
        }
    }
    w.buf[1..9].copy_from_slice(&total.to_le_bytes());
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
