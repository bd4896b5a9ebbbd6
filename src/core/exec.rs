//! Running statements: one prepared statement, an executeMany chunk, an uncached statement,
//! a simple-protocol statement. Each is one request built here from frontend messages and read
//! back through `response` (the one reader), so `command`, `rowCount` and the transaction
//! status always come from the server's own messages.

use std::sync::atomic::Ordering;

use bytes::BytesMut;
use fallible_iterator::FallibleIterator;
use postgres_protocol::message::backend::{DataRowBody, RowDescriptionBody};
use postgres_protocol::message::frontend;
use postgres_protocol::IsNull as WireNull;
use tokio_postgres::types::Type;
use tokio_postgres::Statement;

use crate::core::error::{Code, Error, Result, STALE_COLUMNS};
use crate::core::reply::Reply;
use crate::core::response::{tag_command, tag_rows, Event, Response};
use crate::core::result::{
    batch_error_buffer, describe, write_columns, write_command, ColumnInfo, Rows,
};
use crate::core::session::{Session, TxStatus};
use crate::core::types::decode::{decode, write_text_or_bytes};
use crate::core::types::encode::{encode, push_int, Encoded};
use crate::core::types::value::{read_list, read_params, JsValue};
use crate::core::types::{ResultsMode, TypeOptions};
use crate::core::wire::{status, Reader, Writer};

/// With `prepare: false` (a transaction-mode pooler in front of the server) a statement is the
/// unnamed one: parsed again, with the parameter types it was described with, in each request
/// that binds it, and described there too, so that a result whose columns changed since is
/// noticed ([`check_columns`]) rather than decoded with the old types. Named statements need
/// nothing here.
pub(crate) fn parse_unnamed(stmt: &Statement, sql: &str, out: &mut BytesMut) -> Result<()> {
    if !stmt.name().is_empty() {
        return Ok(());
    }
    frontend::parse("", sql, stmt.params().iter().map(Type::oid), out).map_err(param_io)?;
    frontend::describe(b'S', "", out).map_err(param_io)
}

/// Whether a RowDescription (the Describe of [`parse_unnamed`]) names the types `columns`
/// were described with.
pub(crate) fn check_columns<C: ColumnInfo>(body: &RowDescriptionBody, columns: &[C]) -> Result<()> {
    let oids: Vec<u32> = body
        .fields()
        .map(|f| Ok(f.type_oid()))
        .collect()
        .map_err(Error::malformed)?;
    let same =
        oids.len() == columns.len() && oids.iter().zip(columns).all(|(o, c)| *o == c.type_().oid());
    if same {
        Ok(())
    } else {
        Err(Error::driver(Code::Protocol, STALE_COLUMNS))
    }
}

/// One query; a stale cached statement is re-prepared and retried once, only when the server
/// says the session is not inside a transaction (inside one the error leaves it aborted, so it
/// is reported). Rows go to `parts` ahead of the response when it takes them.
pub async fn query(
    session: &Session,
    stmt: Statement,
    sql: &str,
    params: &[u8],
    parts: &Reply,
) -> Result<Vec<u8>> {
    let values = read_params(params).map_err(Error::param)?;
    let parts = parts.takes_parts().then_some(parts);
    let (r, status) = execute(session, &stmt, sql, &values, parts).await;
    match r {
        Err(e) if e.is_stale_statement() && status == Some(TxStatus::Idle) => {
            // The server dropped or re-planned the statement (DDL, DISCARD ALL).
            session.cache.remove(sql);
            // Boxed: preparing is tokio-postgres's largest future (~1.2 KB), and this rare
            // path would otherwise make every query's future that much larger, and so every
            // query's copies of it.
            let fresh = Box::pin(session.statement(sql)).await?;
            execute(session, &fresh, sql, &values, parts).await.0
        }
        Err(e) if e.is_stale_statement() => {
            // Re-prepared on its next use, once the transaction has ended.
            session.cache.remove(sql);
            Err(e)
        }
        r => r,
    }
}

/// Binds and executes `stmt` (one request: Bind, Execute, Sync) and reads its answer; returns
/// the response buffer (the rows not already handed to `parts`) and the status the server
/// stated at its end (None when the connection was lost).
async fn execute(
    session: &Session,
    stmt: &Statement,
    sql: &str,
    values: &[JsValue<'_>],
    parts: Option<&Reply>,
) -> (Result<Vec<u8>>, Option<TxStatus>) {
    let sent = encode_params(stmt, values).and_then(|p| {
        let mut out = BytesMut::with_capacity(64);
        parse_unnamed(stmt, sql, &mut out)?;
        bind_execute(stmt, &p, result_format(&session.types), &mut out)?;
        Response::send(session, out)
    });
    match sent {
        Ok(response) => read_one(response, stmt.id(), stmt.columns(), &session.types, parts).await,
        // Not sent: the connection was closed before the request could go out.
        Err(e) => (Err(e.unrun()), None),
    }
}

/// Reads the answer of a one-statement request into a response buffer.
async fn read_one<C: ColumnInfo>(
    mut response: Response,
    list: u64,
    columns: &[C],
    types: &TypeOptions,
    parts: Option<&Reply>,
) -> (Result<Vec<u8>>, Option<TxStatus>) {
    let mut rows = Rows::new(list, columns);
    let mut outcome: Option<Result<String>> = None;
    let mut bad_row: Option<Error> = None;
    // Nothing of the answer has come yet: a FATAL now means the statement never ran.
    let mut first = true;
    loop {
        let next = response.next().await;
        let was_first = std::mem::replace(&mut first, false);
        match next {
            Ok(Some((_, Event::Row(row)))) => {
                if bad_row.is_none() {
                    // A value that cannot be decoded fails the statement once its rows are read.
                    match decode_row(&row, columns, types, rows.writer()) {
                        Ok(()) => {
                            if let (Some(part), Some(to)) =
                                (rows.row_done(columns, parts.is_some()), parts)
                            {
                                to.part(part);
                            }
                        }
                        Err(e) => bad_row = Some(e),
                    }
                }
            }
            Ok(Some((_, Event::Columns(body)))) => {
                if let Err(e) = check_columns(&body, columns) {
                    bad_row.get_or_insert(e);
                }
            }
            Ok(Some((_, Event::Done(tag)))) => outcome = Some(Ok(tag)),
            Ok(Some((_, Event::Failed(e)))) => {
                // A FATAL is ERR_CONNECTION_CLOSED (`Error::from_response`); any other first
                // error stays what it is (`unrun` changes only that code).
                outcome = Some(Err(if was_first { e.unrun() } else { e }))
            }
            Ok(Some((_, Event::Ready(status)))) => {
                let r = match (bad_row, outcome) {
                    (_, Some(Err(e))) | (Some(e), _) => Err(e),
                    (None, Some(Ok(tag))) => Ok(rows.finish(&tag)),
                    (None, None) => Err(Error::driver(
                        Code::Protocol,
                        "the server ended the request without completing the statement",
                    )),
                };
                return (r, Some(status));
            }
            Ok(Some(_)) => {}
            Ok(None) => return (Err(crate::core::reply::gone()), None),
            Err(e) => return (Err(outcome.and_then(Result::err).unwrap_or(e)), None),
        }
    }
}

/// A parameterless statement that must not enter the statement cache (cursor FETCHes, whose
/// result columns depend on the cursor behind the name): an unnamed statement described and
/// executed in one request. Its rows are decoded once the request is read, after the types of
/// its columns are known.
pub async fn query_uncached(session: &Session, sql: &str) -> Result<Vec<u8>> {
    let mut out = BytesMut::with_capacity(sql.len() + 32);
    frontend::parse("", sql, std::iter::empty(), &mut out).map_err(param_io)?;
    frontend::bind(
        "",
        "",
        std::iter::empty::<i16>(),
        std::iter::empty::<()>(),
        |(), _| Ok(WireNull::Yes),
        Some(result_format(&session.types)),
        &mut out,
    )
    .map_err(|_| Error::param("could not bind the statement"))?;
    frontend::describe(b'P', "", &mut out).map_err(param_io)?;
    frontend::execute("", 0, &mut out).map_err(param_io)?;
    let mut response = Response::send(session, out)?;
    let mut description = None;
    let mut raw_rows = Vec::new();
    let mut outcome = None;
    while let Some((_, event)) = response.next().await? {
        match event {
            Event::Columns(body) => description = Some(body),
            Event::Row(row) => raw_rows.push(row),
            Event::Done(tag) => outcome = Some(Ok(tag)),
            Event::Failed(e) => outcome = Some(Err(e)),
            _ => {}
        }
    }
    let tag =
        outcome.unwrap_or_else(|| Err(Error::malformed("the statement was not completed")))?;
    let columns = match &description {
        Some(body) => describe(session, body).await?,
        None => Vec::new(),
    };
    let mut rows = Rows::new(0, &columns);
    for row in &raw_rows {
        decode_row(row, &columns, &session.types, rows.writer())?;
        rows.row_done(&columns, false);
    }
    Ok(rows.finish(&tag))
}

/// Runs `stmt` once per parameter set of `sets` (u32 count, then parameter lists). `segment`:
/// the batch ends with an `EndSegment`, which a refused set makes roll back.
///
/// Every set is converted first, so a set that does not fit is reported (with its index)
/// before any execution of this batch is sent. Then the whole chunk goes out as one request:
/// a Bind and an Execute per set and a single Sync at the end (what asyncpg's executemany
/// sends). One Sync means one implicit transaction on the server, one ReadyForQuery and one
/// flush of the server's output for the chunk instead of one per statement; when a set fails,
/// the server skips the rest up to the Sync. The response is `[OK][f64 total rows][u32 n]`,
/// with `returning` followed by the columns, per set `[u32 rows][rows][f64 rows affected]`,
/// then the command; or a batch error naming the failing set.
pub async fn execute_many(
    session: &Session,
    stmt: &Statement,
    sql: &str,
    sets: &[u8],
    returning: bool,
    segment: bool,
) -> Result<Vec<u8>> {
    let mut r = Reader::new(sets);
    let n = r.u32().map_err(Error::param)? as usize;
    let mut out = BytesMut::with_capacity(sets.len() + 32 * n + 8);
    parse_unnamed(stmt, sql, &mut out)?;
    for i in 0..n {
        let values = read_list(&mut r).map_err(Error::param)?;
        match encode_params(stmt, &values) {
            Ok(p) => bind_execute(stmt, &p, result_format(&session.types), &mut out)?,
            Err(e) => {
                // The server cannot know: the segment's end must roll back (`EndSegment`).
                if segment {
                    session.segment_failed.store(true, Ordering::Relaxed);
                }
                return Ok(batch_error_buffer(i, &e));
            }
        }
    }
    let mut response = Response::send(session, out)?;

    let columns = stmt.columns();
    let types = &session.types;
    let mut w = Writer::with_capacity(if returning { 64 * n } else { 16 });
    w.u8(status::OK);
    w.f64(0.0);
    w.u32(if returning { n as u32 } else { 0 });
    if returning {
        write_columns(&mut w, stmt.id(), columns);
    }
    let mut command = None;
    let mut total = 0f64;
    // The execution whose rows are being written, where its row count goes, and how many.
    let mut open: Option<(usize, usize)> = None;
    let mut rows = 0u32;
    let mut failed: Option<(usize, Error)> = None;
    let mut bad_row = None;
    while let Some((i, event)) = response.next().await? {
        if returning && matches!(event, Event::Row(_) | Event::Done(_)) && open.is_none() {
            open = Some((i, w.buf.len()));
            w.u32(0);
            rows = 0;
        }
        match event {
            // A value that cannot be decoded fails the batch once its answer is read.
            Event::Row(row) if returning && bad_row.is_none() => {
                match decode_row(&row, columns, types, &mut w) {
                    Ok(()) => rows += 1,
                    Err(e) => bad_row = Some(e),
                }
            }
            Event::Done(tag) => {
                let affected = tag_rows(&tag).unwrap_or(0) as f64;
                total += affected;
                if let Some((_, at)) = open.take() {
                    w.buf[at..at + 4].copy_from_slice(&rows.to_le_bytes());
                    w.f64(affected);
                }
                command.get_or_insert(tag);
            }
            Event::Failed(e) => {
                failed.get_or_insert((i, e));
            }
            Event::Columns(body) => {
                if let Err(e) = check_columns(&body, columns) {
                    // Described again on its next use.
                    session.cache.remove(sql);
                    bad_row.get_or_insert(e);
                }
            }
            _ => {}
        }
    }
    if let Some((i, e)) = failed {
        return Ok(batch_error_buffer(i, &e));
    }
    if let Some(e) = bad_row {
        return Err(e);
    }
    w.buf[1..9].copy_from_slice(&total.to_le_bytes());
    if returning {
        // The command (the tag's first word, the same for every execution) goes last.
        write_command(&mut w, tag_command(command.as_deref().unwrap_or("")));
    }
    Ok(w.buf)
}

/// Decodes the values of one DataRow into `w` (binary format).
pub(crate) fn decode_row<C: ColumnInfo>(
    row: &DataRowBody,
    columns: &[C],
    types: &TypeOptions,
    w: &mut Writer,
) -> Result<()> {
    let decoder: Decoder = match types.results {
        ResultsMode::Values => decode,
        ResultsMode::Text => as_text,
    };
    decode_row_with(decoder, row, columns, types, w)
}

/// The format code a request asks its result columns in (Bind): binary, or text when the
/// connection hands values over as the server's text (`types.results: 'text'`).
pub(crate) fn result_format(types: &TypeOptions) -> i16 {
    match types.results {
        ResultsMode::Values => 1,
        ResultsMode::Text => 0,
    }
}

/// A value received in text format, handed over as that text (`ResultsMode::Text`).
pub(crate) fn as_text(
    _: &Type,
    raw: Option<&[u8]>,
    _: &TypeOptions,
    w: &mut Writer,
) -> std::result::Result<(), String> {
    match raw {
        None => w.u8(crate::core::wire::out::NULL),
        Some(raw) => write_text_or_bytes(raw, w),
    }
    Ok(())
}

/// A value decoder: `types::decode::decode` (binary) or `types::text::decode_text`.
type Decoder =
    fn(&Type, Option<&[u8]>, &TypeOptions, &mut Writer) -> std::result::Result<(), String>;

/// Decodes the values of one DataRow into `w` with `decoder`.
pub(crate) fn decode_row_with<C: ColumnInfo>(
    decoder: Decoder,
    row: &DataRowBody,
    columns: &[C],
    types: &TypeOptions,
    w: &mut Writer,
) -> Result<()> {
    let buf = row.buffer();
    let mut ranges = row.ranges();
    for c in columns {
        let range = ranges
            .next()
            .map_err(Error::malformed)?
            .ok_or_else(|| Error::driver(Code::Protocol, "a row has fewer values than columns"))?;
        decoder(c.type_(), range.map(|r| &buf[r]), types, w)
            .map_err(|m| Error::driver(Code::Decode, m))?;
    }
    // The count the row declares must be the description's: a value more is not dropped.
    if matches!(ranges.next(), Ok(Some(_))) {
        return Err(Error::driver(
            Code::Protocol,
            "a row has more values than columns",
        ));
    }
    Ok(())
}

/// Appends a Bind of `stmt` to the unnamed portal and an Execute of it, every result column in
/// `format` (see [`result_format`]).
pub(crate) fn bind_execute(
    stmt: &Statement,
    params: &[Encoded],
    format: i16,
    out: &mut BytesMut,
) -> Result<()> {
    let formats = params.iter().map(|p| match p {
        Encoded::Binary(_) => 1,
        _ => 0,
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
                Encoded::Int(n) => {
                    push_int(*n, buf);
                    WireNull::No
                }
            })
        },
        Some(format),
        out,
    );
    bound.map_err(|_| Error::param("a parameter is too large for the protocol"))?;
    frontend::execute("", 0, out).map_err(param_io)
}

pub(crate) fn param_io(e: std::io::Error) -> Error {
    Error::param(e.to_string())
}

/// Converts every value to its `$n`'s type, or names the first that does not fit.
pub fn encode_params<'a>(stmt: &Statement, values: &[JsValue<'a>]) -> Result<Vec<Encoded<'a>>> {
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
