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
//! it are sent, the ones after it are not (the JS side rolls the segment back).

use std::collections::VecDeque;
use std::sync::atomic::Ordering;

use bytes::BytesMut;
use postgres_protocol::message::backend::{DataRowBody, Message};
use postgres_protocol::message::frontend;
use tokio_postgres::{RawResponses, Statement};

use crate::core::conn::{Params, Shared};
use crate::core::error::{Error, Result};
use crate::core::exec::{
    bind_execute, decode_row, encode_params, is_stale_statement, rows_affected,
};
use crate::core::result::Rows;
use crate::core::types::value::read_list;
use crate::core::wire::Reader;
use crate::core::worker::{note_error, statement, track_transaction, Reply};

/// The answer of a statement that was not executed because an earlier one failed.
pub fn aborted() -> Error {
    Error::driver(
        "ERR_PIPELINE_ABORTED",
        "not executed: an earlier statement of the pipeline failed",
    )
}

/// Statements sent and not yet answered: what their responses need.
pub struct Sent {
    responses: RawResponses,
    statements: Vec<(Statement, String, Reply)>,
}

/// Sends the batch in `buf`, answering statement `i` through `replies[i]`. Returns the last
/// request sent, whose responses [`finish`] reads; statements that needed preparing split the
/// batch, and the parts before them are completed here, so everything after this call's
/// return is queued behind the whole batch.
pub async fn send(shared: &Shared, buf: Params, replies: Vec<Reply>) -> Option<Sent> {
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
        let stmt = match shared.cache.get(sql) {
            Some(s) => s,
            None => {
                if !statements.is_empty() {
                    let sent = dispatch(shared, &mut out, std::mem::take(&mut statements));
                    if !finish(shared, sent).await {
                        reply.send(Err(aborted()));
                        failed = true;
                        break;
                    }
                }
                match statement(shared, sql).await {
                    Ok(s) => s,
                    Err(e) => {
                        note_error(shared, &e);
                        reply.send(Err(e));
                        failed = true;
                        break;
                    }
                }
            }
        };
        track_transaction(shared, sql);
        let bound = encode_params(&stmt, &values).and_then(|p| bind_execute(&stmt, &p, &mut out));
        if let Err(e) = bound {
            reply.send(Err(e));
            failed = true;
            break;
        }
        statements.push((stmt, sql.to_string(), reply));
    }
    if failed {
        // The server's transaction does not know: the segment's end must roll back.
        shared.segment_failed.store(true, Ordering::Relaxed);
        for reply in replies {
            reply.send(Err(aborted()));
        }
    }
    if statements.is_empty() {
        return None;
    }
    dispatch(shared, &mut out, statements)
}

/// Closes `out` with a Sync and queues it as one request.
fn dispatch(
    shared: &Shared,
    out: &mut BytesMut,
    statements: Vec<(Statement, String, Reply)>,
) -> Option<Sent> {
    frontend::sync(out);
    match shared.client.send_raw(out.split().freeze()) {
        Ok(responses) => Some(Sent {
            responses,
            statements,
        }),
        Err(e) => {
            let e = Error::from(e);
            note_error(shared, &e);
            for (_, _, reply) in statements {
                reply.send(Err(e.clone()));
            }
            None
        }
    }
}

/// Reads the responses of `sent` up to its ReadyForQuery and answers each statement; true
/// when every statement succeeded.
pub async fn finish(shared: &Shared, sent: Option<Sent>) -> bool {
    let Some(Sent {
        mut responses,
        statements,
    }) = sent
    else {
        return false;
    };
    let mut pending = statements.into_iter();
    let mut current: Option<Running> = None;
    let mut ok = true;
    loop {
        let message = match responses.next().await {
            Ok(m) => m,
            Err(e) => {
                let e = Error::from(e);
                ok = false;
                // Only an ErrorResponse is followed by a ReadyForQuery (the server skips the
                // rest up to the Sync); a lost connection or a FATAL ends the request here.
                let lost = (!matches!(e, Error::Db(_))).then(|| e.clone());
                if let Some(lost) = &lost {
                    note_error(shared, lost);
                }
                let failing = current
                    .take()
                    .map(Running::into_parts)
                    .or_else(|| pending.next());
                if let Some((_, sql, reply)) = failing {
                    if is_stale_statement(&e) {
                        // Re-prepared on its next use.
                        shared.cache.remove(&sql);
                    }
                    reply.send(Err(e));
                }
                for (_, _, later) in pending.by_ref() {
                    later.send(Err(lost.clone().unwrap_or_else(aborted)));
                }
                if lost.is_some() {
                    return false;
                }
                continue;
            }
        };
        match message {
            Message::ReadyForQuery(_) => break,
            Message::BindComplete => {
                if let Some((stmt, sql, reply)) = pending.next() {
                    current = Some(Running::new(stmt, sql, reply));
                }
            }
            Message::DataRow(row) => {
                let Some(run) = current.as_mut() else {
                    continue;
                };
                if let Err(e) = run.row(&row, shared) {
                    // The rest of this statement's rows are read and dropped; it fails alone.
                    run.error.get_or_insert(e);
                }
            }
            Message::CommandComplete(_) | Message::EmptyQueryResponse => {
                let Some(run) = current.take() else {
                    continue;
                };
                let affected = match &message {
                    Message::CommandComplete(body) => body.tag().map(rows_affected).ok(),
                    _ => Some(0),
                };
                run.done(affected);
            }
            _ => {}
        }
    }
    ok
}

/// The statement whose rows are arriving.
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

    fn row(&mut self, row: &DataRowBody, shared: &Shared) -> Result<()> {
        if self.error.is_some() {
            return Ok(());
        }
        let columns = self.stmt.columns();
        decode_row(row, columns, &shared.types, self.rows.writer())?;
        let parts = self.reply.takes_parts().then_some(&self.reply);
        self.rows.row_done(columns, parts);
        Ok(())
    }

    fn done(self, affected: Option<u64>) {
        let response = match self.error {
            Some(e) => Err(e),
            None => Ok(self.rows.finish(&self.sql, affected)),
        };
        self.reply.send(response);
    }

    fn into_parts(self) -> (Statement, String, Reply) {
        (self.stmt, self.sql, self.reply)
    }
}
