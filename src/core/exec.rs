//! Running prepared statements: one query, or one statement over many parameter sets.

use std::sync::atomic::Ordering;

use bytes::BytesMut;
use fallible_iterator::FallibleIterator;
use futures_util::{pin_mut, TryStreamExt};
use postgres_protocol::message::backend::{DataRowBody, Message};
use postgres_protocol::message::frontend;
use postgres_protocol::IsNull as WireNull;
use tokio_postgres::types::{to_sql_checked, Format, IsNull, ToSql, Type};
use tokio_postgres::{Column, Statement};

use crate::core::command::command_of;
use crate::core::conn::Shared;
use crate::core::error::{Error, Result};
use crate::core::result::{batch_error_buffer, write_columns, write_header, RawCell, Rows};
use crate::core::types::decode::decode;
use crate::core::types::encode::{encode, Encoded};
use crate::core::types::value::{read_list, read_params, JsValue};
use crate::core::types::TypeOptions;
use crate::core::wire::{status, Reader, Writer};
use crate::core::worker::{statement, Reply};

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
pub(crate) fn is_stale_statement(e: &Error) -> bool {
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

/// One query; a stale cached statement is re-prepared and retried once. Rows go to `parts`
/// ahead of the response when it takes them.
pub async fn query(
    shared: &Shared,
    stmt: Statement,
    sql: &str,
    params: &[u8],
    parts: &Reply,
) -> Result<Vec<u8>> {
    let values = read_params(params).map_err(Error::param)?;
    let parts = parts.takes_parts().then_some(parts);
    let run = |stmt: Statement| {
        let values = &values;
        async move { execute(shared, &stmt, sql, encode_params(&stmt, values)?, parts).await }
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

/// Executes with encoded parameters; returns the response buffer (the rows not already
/// handed to `parts`).
async fn execute(
    shared: &Shared,
    stmt: &Statement,
    sql: &str,
    params: Vec<Encoded>,
    parts: Option<&Reply>,
) -> Result<Vec<u8>> {
    let columns = stmt.columns();
    let mut rows = Rows::new(columns);
    let stream = shared.client.query_raw(stmt, params.iter()).await?;
    pin_mut!(stream);
    let types = &shared.types;
    while let Some(row) = stream.try_next().await? {
        for (i, c) in columns.iter().enumerate() {
            let cell: RawCell<'_> = row.try_get(i)?;
            decode(c.type_(), cell.0, types, rows.writer())
                .map_err(|m| Error::driver("ERR_DECODE", m))?;
        }
        rows.row_done(columns, parts);
    }
    Ok(rows.finish(sql, stream.rows_affected()))
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
/// before any execution of this batch is sent. Then the whole chunk goes out as one request:
/// a Bind and an Execute per set and a single Sync at the end (what asyncpg's executemany
/// sends). One Sync means one implicit transaction on the server, one ReadyForQuery and one
/// flush of the server's output for the chunk instead of one per statement; when a set fails,
/// the server skips the rest up to the Sync. The response is `[OK][f64 total rows][u32 n]`,
/// with `returning` followed by the columns and the command tag once, then per set `[u32
/// rows][rows][f64 rows affected]`; or a batch error naming the failing set.
pub async fn execute_many(
    shared: &Shared,
    stmt: &Statement,
    sql: &str,
    sets: &[u8],
    returning: bool,
) -> Result<Vec<u8>> {
    let mut r = Reader::new(sets);
    let n = r.u32().map_err(Error::param)? as usize;
    let mut out = BytesMut::with_capacity(sets.len() + 32 * n + 8);
    for i in 0..n {
        let values = read_list(&mut r).map_err(Error::param)?;
        match encode_params(stmt, &values) {
            Ok(p) => bind_execute(stmt, &p, &mut out)?,
            Err(e) => {
                shared.segment_failed.store(true, Ordering::Relaxed);
                return Ok(batch_error_buffer(i, &e));
            }
        }
    }
    frontend::sync(&mut out);
    let mut responses = shared.client.send_raw(out.freeze())?;

    let columns = stmt.columns();
    let types = &shared.types;
    let mut w = Writer::with_capacity(if returning { 64 * n } else { 16 });
    w.u8(status::OK);
    w.f64(0.0);
    w.u32(if returning { n as u32 } else { 0 });
    if returning {
        write_columns(&mut w, columns);
        w.str(&command_of(sql));
    }
    let mut total = 0f64;
    // Execution `done` is the one the next message belongs to; `rows_at` is where its row
    // count goes in a returning block.
    let mut done = 0usize;
    let mut rows = 0u32;
    let mut rows_at = None;
    let mut failed: Option<(usize, Error)> = None;
    loop {
        let message = match responses.next().await {
            Ok(m) => m,
            Err(e) => {
                let e = Error::from(e);
                // Only an ErrorResponse of the statement is followed by a ReadyForQuery; a
                // lost connection (or a FATAL) ends the request here.
                if !matches!(e, Error::Db(_)) {
                    return Err(e);
                }
                // The server skips everything after the failing set, up to the Sync.
                failed.get_or_insert((done, e));
                continue;
            }
        };
        match message {
            Message::ReadyForQuery(_) => break,
            Message::BindComplete if returning => {
                rows_at = Some(w.buf.len());
                w.u32(0);
                rows = 0;
            }
            Message::DataRow(row) if returning => {
                decode_row(&row, columns, types, &mut w)?;
                rows += 1;
            }
            Message::CommandComplete(_) | Message::EmptyQueryResponse => {
                let affected = match &message {
                    Message::CommandComplete(body) => rows_affected(body.tag().map_err(protocol)?),
                    _ => 0,
                };
                total += affected as f64;
                if let Some(at) = rows_at.take() {
                    w.buf[at..at + 4].copy_from_slice(&rows.to_le_bytes());
                    w.f64(affected as f64);
                }
                done += 1;
            }
            _ => {}
        }
    }
    if let Some((i, e)) = failed {
        return Ok(batch_error_buffer(i, &e));
    }
    w.buf[1..9].copy_from_slice(&total.to_le_bytes());
    Ok(w.buf)
}

/// Decodes the values of one DataRow into `w`.
pub(crate) fn decode_row(
    row: &DataRowBody,
    columns: &[Column],
    types: &TypeOptions,
    w: &mut Writer,
) -> Result<()> {
    let buf = row.buffer();
    let mut ranges = row.ranges();
    for c in columns {
        let range = ranges
            .next()
            .map_err(protocol)?
            .ok_or_else(|| Error::driver("ERR_PROTOCOL", "a row has fewer values than columns"))?;
        decode(c.type_(), range.map(|r| &buf[r]), types, w)
            .map_err(|m| Error::driver("ERR_DECODE", m))?;
    }
    Ok(())
}

/// Appends a Bind of `stmt` to the unnamed portal and an Execute of it, all results binary.
pub(crate) fn bind_execute(stmt: &Statement, params: &[Encoded], out: &mut BytesMut) -> Result<()> {
    let formats = params.iter().map(|p| match p {
        Encoded::Text(_) => 0,
        _ => 1,
    });
    let bound = frontend::bind(
        "",
        stmt.name(),
        formats,
        params,
        |p, buf| {
            Ok(match p {
                Encoded::Null => WireNull::Yes,
                Encoded::Text(t) => {
                    buf.extend_from_slice(t.as_bytes());
                    WireNull::No
                }
                Encoded::Binary(b) => {
                    buf.extend_from_slice(b);
                    WireNull::No
                }
            })
        },
        Some(1),
        out,
    );
    bound.map_err(|_| Error::param("a parameter is too large for the protocol"))?;
    frontend::execute("", 0, out).map_err(|e| Error::param(e.to_string()))
}

fn protocol(e: std::io::Error) -> Error {
    Error::driver(
        "ERR_PROTOCOL",
        format!("malformed message from the server: {e}"),
    )
}

/// The row count at the end of a command tag ("INSERT 0 3", "UPDATE 2"); 0 when it has none.
pub(crate) fn rows_affected(tag: &str) -> u64 {
    tag.rsplit(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
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

#[cfg(test)]
mod tests {
    use super::rows_affected;

    #[test]
    fn row_counts_come_from_the_end_of_the_command_tag() {
        assert_eq!(rows_affected("INSERT 0 3"), 3);
        assert_eq!(rows_affected("UPDATE 12"), 12);
        assert_eq!(rows_affected("SELECT 0"), 0);
        assert_eq!(rows_affected("CREATE TABLE"), 0);
        assert_eq!(rows_affected(""), 0);
    }
}
