//! Parameterless SQL over the simple query protocol: transaction control (`simple`), and
//! `simpleQuery` scripts (`simple_query`), whose values arrive in text format.

use bytes::BytesMut;
use postgres_protocol::message::backend::{DataRowBody, RowDescriptionBody};
use postgres_protocol::message::frontend;

use crate::core::error::Result;
use crate::core::exec::{as_text, decode_row_with, param_io};
use crate::core::response::{Event, Response};
use crate::core::result::{describe, Rows};
use crate::core::session::Session;
use crate::core::types::text::decode_text;
use crate::core::types::ResultsMode;
use crate::core::wire::{status, Writer};

/// Runs parameterless SQL through the simple query protocol and waits for it to end
/// (transaction control); `[OK]`, or the first error.
pub async fn simple(session: &Session, sql: &str) -> Result<Vec<u8>> {
    let mut response = Response::send_query(session, sql)?;
    let mut failed = None;
    while let Some((_, event)) = response.next().await? {
        if let Event::Failed(e) = event {
            failed.get_or_insert(e);
        }
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(vec![status::OK]),
    }
}

/// Runs a script (any SQL text, several statements allowed) through the simple query
/// protocol: one implicit transaction unless the script manages its own, as the server runs
/// it. The response is `[OK][u32 n]` then one result per statement that completed, each a
/// whole single-query response (values decoded from the text format with the same JS types as
/// the binary format gives); or the error of the statement that failed (the server then ran
/// nothing more of the script). Rows are decoded once the script has ended, after the types of
/// their columns are known.
pub async fn simple_query(session: &Session, sql: &str) -> Result<Vec<u8>> {
    let mut response = Response::send_query(session, sql)?;
    // Per statement: its description and its rows, until its tag arrives.
    let mut done: Vec<(Option<RowDescriptionBody>, Vec<DataRowBody>, String)> = Vec::new();
    let mut description = None;
    let mut raw_rows = Vec::new();
    let mut failed = None;
    while let Some((_, event)) = response.next().await? {
        match event {
            Event::Columns(body) => description = Some(body),
            Event::Row(row) => raw_rows.push(row),
            Event::Done(tag) => {
                done.push((description.take(), std::mem::take(&mut raw_rows), tag));
            }
            Event::Failed(e) => {
                failed.get_or_insert(e);
            }
            Event::CopyIn => {
                // The server now waits for data that a script cannot give: CopyFail ends the
                // COPY (the script then fails with it). The Sync behind it is answered by a
                // ReadyForQuery of its own, which the request made for it takes.
                let mut out = BytesMut::new();
                frontend::copy_fail(
                    "COPY FROM STDIN cannot run in simpleQuery: use copyIn()",
                    &mut out,
                )
                .map_err(param_io)?;
                drop(Response::send(session, out)?);
            }
            _ => {}
        }
    }
    if let Some(e) = failed {
        return Err(e);
    }
    // Simple-protocol results are text already: decoded to values, or kept as text.
    let text_decoder = match session.types.results {
        ResultsMode::Values => decode_text,
        ResultsMode::Text => as_text,
    };
    let mut w = Writer::with_capacity(256);
    w.u8(status::OK);
    w.u32(done.len() as u32);
    for (description, raw_rows, tag) in done {
        let columns = match &description {
            Some(body) => describe(session, body).await?,
            None => Vec::new(),
        };
        let mut rows = Rows::new(0, &columns);
        for row in &raw_rows {
            decode_row_with(text_decoder, row, &columns, &session.types, rows.writer())?;
            rows.row_done(&columns, false);
        }
        w.buf.extend_from_slice(&rows.finish(&tag));
    }
    Ok(w.buf)
}
