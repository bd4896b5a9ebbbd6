//! A pipeline batch: the statements a `pipeline()` block queued in one JS tick, sent as one
//! request closed by a single Sync.
//!
//! One Sync instead of one per statement saves the server a ReadyForQuery and an output flush
//! per statement (asyncpg's executemany does the same); unlike executeMany, the statements may
//! differ. The batch buffer holds a u32 count, then per statement its SQL (u32 length, UTF-8)
//! and its parameter list (as `types::value::read_list` reads it). Each statement has its own
//! reply, in the response format of a single query, so its promise settles on its own.
//!
//! Order and failure, as on the server: statements run in order; when one fails, the server
//! skips the rest up to the Sync, and they are answered `ERR_PIPELINE_ABORTED`. A statement
//! that must be prepared first waits until the statements before it have completed (they go
//! out as a batch of their own), so that its Parse cannot fail on their behalf. A statement
//! whose parameters do not fit its types is rejected before it is sent: the statements before
//! it are sent, the ones after it are not, and an implicit segment is marked failed so that its
//! end rolls back (`Session::segment_failed`).

use std::collections::VecDeque;
use std::sync::atomic::Ordering;

use bytes::BytesMut;
use tokio_postgres::Statement;

use crate::core::error::{Code, Error, Result};
use crate::core::exec::{
    bind_execute, check_columns, decode_row, encode_params, parse_unnamed, result_format,
};
use crate::core::reply::Reply;
use crate::core::response::{Event, Response};
use crate::core::result::Rows;
use crate::core::session::Params;
use crate::core::session::Session;
use crate::core::sql_text::{copy_in_only, is_copy_from_stdin};
use crate::core::types::value::read_list;
use crate::core::wire::Reader;

/// The answer of a statement that was not executed because an earlier one failed.
pub fn aborted() -> Error {
    Error::driver(
        Code::PipelineAborted,
        "not executed: an earlier statement of the pipeline failed",
    )
}

/// Statements sent and not yet answered: what their responses need.
pub struct Sent {
    response: Response,
    statements: Vec<(Statement, String, Reply)>,
}

/// Sends the batch in `buf`, answering statement `i` through `replies[i]`. Returns the last
/// request sent, whose responses [`finish`] reads; statements that needed preparing split the
/// batch, and the parts before them are completed here, so everything after this call's
/// return is queued behind the whole batch. `implicit`: the batch belongs to a pipeline
/// segment that ferropg brackets in its own transaction.
pub async fn send(
    session: &Session,
    buf: Params,
    replies: Vec<Reply>,
    implicit: bool,
) -> Option<Sent> {
    let mut replies: VecDeque<Reply> = replies.into();
    let mut r = Reader::new((*buf).as_ref());
    let mut out = BytesMut::new();
    let mut statements: Vec<(Statement, String, Reply)> = Vec::new();
    let count = r.u32().unwrap_or(0) as usize;
    let mut failed = false;
    for _ in 0..count {
        let Some(reply) = replies.pop_front() else {
            break;
        };
        let item = r
            .str()
            .and_then(|sql| Ok((sql, read_list(&mut r)?)))
            .map_err(Error::param);
        let (sql, values) = match item {
            Ok(item) => item,
            Err(e) => {
                reply.send(Err(e));
                failed = true;
                break;
            }
        };
        if is_copy_from_stdin(sql) {
            reply.send(Err(copy_in_only()));
            failed = true;
            break;
        }
        let stmt = match session.cache.get(sql) {
            Some(s) => s,
            None => {
                if !statements.is_empty() {
                    let sent = dispatch(session, &mut out, std::mem::take(&mut statements));
                    if !finish(session, sent).await {
                        reply.send(Err(aborted()));
                        failed = true;
                        break;
                    }
                }
                match session.statement(sql).await {
                    Ok(s) => s,
                    Err(e) => {
                        session.note_error(&e);
                        reply.send(Err(e));
                        failed = true;
                        break;
                    }
                }
            }
        };
        let bound = encode_params(&stmt, &values).and_then(|p| {
            parse_unnamed(&stmt, sql, &mut out)?;
            bind_execute(&stmt, &p, result_format(&session.types), &mut out)
        });
        if let Err(e) = bound {
            reply.send(Err(e));
            failed = true;
            break;
        }
        statements.push((stmt, sql.to_string(), reply));
    }
    if failed {
        // The server's transaction does not know: the segment's end must roll back.
        if implicit {
            session.segment_failed.store(true, Ordering::Relaxed);
        }
        for reply in replies {
            reply.send(Err(aborted()));
        }
    }
    if statements.is_empty() {
        return None;
    }
    dispatch(session, &mut out, statements)
}

/// Queues `out` (closed with a Sync) as one request.
fn dispatch(
    session: &Session,
    out: &mut BytesMut,
    statements: Vec<(Statement, String, Reply)>,
) -> Option<Sent> {
    match Response::send(session, out.split()) {
        Ok(response) => Some(Sent {
            response,
            statements,
        }),
        Err(e) => {
            session.note_error(&e);
            for (_, _, reply) in statements {
                reply.send(Err(e.clone()));
            }
            None
        }
    }
}

/// Reads the responses of `sent` up to its ReadyForQuery and answers each statement; true
/// when every statement succeeded.
pub async fn finish(session: &Session, sent: Option<Sent>) -> bool {
    let Some(Sent {
        mut response,
        statements,
    }) = sent
    else {
        return false;
    };
    let mut running: Vec<Option<Running>> = statements
        .into_iter()
        .map(|(stmt, sql, reply)| Some(Running::new(stmt, sql, reply)))
        .collect();
    let mut ok = true;
    loop {
        let (i, event) = match response.next().await {
            Ok(Some(step)) => step,
            Ok(None) => break,
            Err(lost) => {
                // No ReadyForQuery will come: every statement not answered fails with it.
                session.note_error(&lost);
                for run in running.iter_mut().filter_map(Option::take) {
                    run.reply.send(Err(lost.clone()));
                }
                return false;
            }
        };
        match event {
            Event::Row(row) => {
                if let Some(Some(run)) = running.get_mut(i) {
                    run.row(&row, session);
                }
            }
            Event::Done(tag) => {
                if let Some(run) = running.get_mut(i).and_then(Option::take) {
                    run.done(&tag);
                }
            }
            Event::Columns(body) => {
                if let Some(Some(run)) = running.get_mut(i) {
                    if let Err(e) = check_columns(&body, run.stmt.columns()) {
                        // Described again on its next use.
                        session.cache.remove(&run.sql);
                        run.error.get_or_insert(e);
                    }
                }
            }
            Event::Failed(e) => {
                ok = false;
                session.note_error(&e);
                if let Some(run) = running.get_mut(i).and_then(Option::take) {
                    if e.is_stale_statement() {
                        // Re-prepared on its next use.
                        session.cache.remove(&run.sql);
                    }
                    run.reply.send(Err(e));
                }
            }
            _ => {}
        }
    }
    // Statements the server skipped after a failure.
    for run in running.into_iter().flatten() {
        ok = false;
        run.reply.send(Err(aborted()));
    }
    ok
}

/// A statement whose rows are arriving.
struct Running {
    stmt: Statement,
    sql: String,
    reply: Reply,
    rows: Rows,
    /// A row that could not be decoded: the statement fails with it once its rows are read.
    error: Option<Error>,
}

impl Running {
    fn new(stmt: Statement, sql: String, reply: Reply) -> Self {
        let rows = Rows::new(stmt.columns());
        Running {
            stmt,
            sql,
            reply,
            rows,
            error: None,
        }
    }

    fn row(&mut self, row: &postgres_protocol::message::backend::DataRowBody, session: &Session) {
        if self.error.is_some() {
            return;
        }
        let columns = self.stmt.columns();
        match decode_row(row, columns, &session.types, self.rows.writer()) {
            Ok(()) => {
                let parts = self.reply.takes_parts().then_some(&self.reply);
                self.rows.row_done(columns, parts);
            }
            Err(e) => self.error = Some(e),
        }
    }

    /// Answers the statement (a row that could not be decoded fails it alone: the server ran
    /// it).
    fn done(self, tag: &str) {
        let response: Result<Vec<u8>> = match self.error {
            Some(e) => Err(e),
            None => Ok(self.rows.finish(tag)),
        };
        self.reply.send(response);
    }
}
