//! A pipeline batch: the statements a `pipeline()` block queued in one JS tick, sent as one
//! request closed by a single Sync, and answered with one reply.
//!
//! One Sync instead of one per statement saves the server a ReadyForQuery and an output flush
//! per statement (asyncpg's executemany does the same); unlike executeMany, the statements may
//! differ. The batch buffer holds a u32 count, then per statement its SQL (u32 length, UTF-8;
//! u32::MAX: the same as the statement before) and its parameter list (as
//! `types::value::read_list` reads it). The reply ([`Answers`])
//! holds every statement's response in order, each in the format of a single query's: one
//! completion, one thread wake-up and one buffer for the whole batch, where a reply per
//! statement cost JS a promise callback, a Buffer view and a table entry each (W5's 5,000
//! statements, see docs/performance.md). Rows of a large result still go out in parts while
//! it runs, tagged with the statement's index (`status::BATCH_PART`); and in a long batch,
//! the responses already in go out every [`AHEAD`] statements (`status::BATCH_ANSWERS`), so
//! that JS settles them while the server runs the rest instead of all of them after it.
//!
//! Order and failure, as on the server: statements run in order; when one fails, the server
//! skips the rest up to the Sync, and they are answered `ERR_PIPELINE_ABORTED`. A statement
//! that must be prepared first waits until the statements before it have completed (they go
//! out as a batch of their own), so that its Parse cannot fail on their behalf. A statement
//! whose parameters do not fit its types is rejected before it is sent: the statements before
//! it are sent, the ones after it are not, and an implicit segment is marked failed so that its
//! end rolls back (`Session::segment_failed`).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::BytesMut;
use tokio_postgres::Statement;

use crate::core::error::{Code, Error, Result};
use crate::core::exec::{
    bind_execute, check_columns, decode_row, encode_params, parse_unnamed, result_format,
};
use crate::core::reply::Reply;
use crate::core::response::{Event, Response};
use crate::core::result::{error_buffer, Rows};
use crate::core::session::Params;
use crate::core::session::Session;
use crate::core::sql_text::{copy_in_only, is_copy_from_stdin};
use crate::core::types::value::read_list;
use crate::core::wire::{status, Reader};

/// The answer of a statement that was not executed because an earlier one failed.
pub fn aborted() -> Error {
    Error::driver(
        Code::PipelineAborted,
        "not executed: an earlier statement of the pipeline failed",
    )
}

/// The one reply of a batch: `[OK][u32 n]`, then per statement, in order, `[u32 length]` and
/// its response; for a receiver that takes parts, every [`AHEAD`] responses go out before it as
/// `[BATCH_ANSWERS][u32 n]` and the same list, and the reply holds the rest. Statements are
/// answered in order (the server answers them in order, and a refused statement ends what is
/// sent); [`Answers::done`] answers those left, so every statement of the batch has its
/// response.
pub struct Answers {
    reply: Reply,
    buf: Vec<u8>,
    count: usize,
    answered: usize,
    /// Statements whose responses went out ahead of the reply.
    ahead: usize,
    /// The statement refused before it was sent, and why: answered in its turn by `done`.
    refused: Option<(usize, Error)>,
    parts: bool,
}

/// How many responses a batch collects before it hands them to JS ahead of its reply. A
/// part costs one completion; W5's `pipeline()` of 5,000 statements spent ~20 ms settling
/// them after the server had finished when they all came at the end (docs/performance.md,
/// session 17).
pub const AHEAD: usize = 256;

impl Answers {
    /// The answers of `count` statements, delivered through `reply`.
    pub fn new(reply: Reply, count: usize) -> Self {
        let parts = reply.takes_parts();
        Answers {
            reply,
            buf: Self::head(count.min(AHEAD)),
            count,
            answered: 0,
            ahead: 0,
            refused: None,
            parts,
        }
    }

    /// An empty buffer of answers (`[status][u32 n]`, n written when it is sent) with room
    /// for about `n` of them.
    fn head(n: usize) -> Vec<u8> {
        let mut buf = Vec::with_capacity(64 * n + 5);
        buf.push(status::OK);
        buf.extend_from_slice(&0u32.to_le_bytes());
        buf
    }

    /// Answers the next statement.
    fn push(&mut self, response: Result<Vec<u8>>) {
        let body = match response {
            Ok(b) => b,
            Err(e) => error_buffer(&e),
        };
        self.buf
            .extend_from_slice(&(body.len() as u32).to_le_bytes());
        self.buf.extend_from_slice(&body);
        self.answered += 1;
        // The last ones go with the reply.
        if self.parts && self.answered - self.ahead >= AHEAD && self.answered < self.count {
            let mut part = std::mem::replace(&mut self.buf, Self::head(AHEAD));
            part[0] = status::BATCH_ANSWERS;
            part[1..5].copy_from_slice(&((self.answered - self.ahead) as u32).to_le_bytes());
            self.ahead = self.answered;
            self.reply.ahead(part);
        }
    }

    /// Records that statement `index` was refused before it was sent: it is answered with `e`
    /// and the statements after it as aborted.
    fn refuse(&mut self, index: usize, e: Error) {
        self.refused.get_or_insert((index, e));
    }

    /// Hands rows of statement `index` ahead of the reply: `[BATCH_PART][u32 index]`, then
    /// the part.
    fn part(&self, index: usize, part: Vec<u8>) {
        let mut framed = Vec::with_capacity(5 + part.len());
        framed.push(status::BATCH_PART);
        framed.extend_from_slice(&(index as u32).to_le_bytes());
        framed.extend_from_slice(&part);
        self.reply.part(framed);
    }

    /// Answers the statements left (the refused one with its error, the rest as aborted) and
    /// sends the reply.
    pub fn done(mut self) {
        while self.answered < self.count {
            let e = match self.refused.take() {
                Some((i, e)) if i == self.answered => e,
                other => {
                    self.refused = other;
                    aborted()
                }
            };
            self.push(Err(e));
        }
        let n = (self.answered - self.ahead) as u32;
        self.buf[1..5].copy_from_slice(&n.to_le_bytes());
        let Answers { reply, buf, .. } = self;
        reply.send(Ok(buf));
    }
}

/// Statements sent and not yet answered: what their responses need, and the batch's answers.
pub struct Sent {
    response: Option<Response>,
    statements: Vec<(Statement, Arc<str>)>,
    answers: Answers,
}

/// Sends the batch in `buf`, answered through `reply` (see [`Answers`]). Returns the last
/// request sent, whose responses [`finish`] reads, or None when nothing is left to read (the
/// reply has then been sent); statements that needed preparing split the batch, and the parts
/// before them are completed here, so everything after this call's return is queued behind
/// the whole batch. `implicit`: the batch belongs to a pipeline segment that ferropg brackets
/// in its own transaction.
pub async fn send(session: &Session, buf: Params, reply: Reply, implicit: bool) -> Option<Sent> {
    let mut r = Reader::new((*buf).as_ref());
    let count = r.u32().unwrap_or(0) as usize;
    let mut sent = Sent {
        response: None,
        statements: Vec::new(),
        answers: Answers::new(reply, count),
    };
    let mut out = BytesMut::new();
    let mut ok = true;
    // The statement before, which a statement with the same SQL repeats (lib/params.js writes
    // no SQL for it): no text to check, hash and look up again.
    let mut prev: Option<(Arc<str>, Statement)> = None;
    for index in 0..count {
        let item = r
            .opt_str()
            .and_then(|sql| Ok((sql, read_list(&mut r)?)))
            .map_err(Error::param);
        let (text, values) = match item {
            Ok(item) => item,
            Err(e) => {
                sent.answers.refuse(index, e);
                ok = false;
                break;
            }
        };
        let (sql, stmt) = match (text, prev.take()) {
            (None, Some(p)) => p,
            (None, None) => {
                let e = Error::param("malformed parameter buffer (a repeat of no statement)");
                sent.answers.refuse(index, e);
                ok = false;
                break;
            }
            (Some(sql), _) => {
                if is_copy_from_stdin(sql) {
                    sent.answers.refuse(index, copy_in_only());
                    ok = false;
                    break;
                }
                let stmt = match session.cache.get(sql) {
                    Some(s) => s,
                    None => {
                        if !sent.statements.is_empty() {
                            dispatch(session, &mut out, &mut sent);
                            if !read(session, &mut sent).await {
                                ok = false;
                                break;
                            }
                        }
                        match session.statement(sql).await {
                            Ok(s) => s,
                            Err(e) => {
                                session.note_error(&e);
                                sent.answers.refuse(index, e);
                                ok = false;
                                break;
                            }
                        }
                    }
                };
                (Arc::from(sql), stmt)
            }
        };
        let bound = encode_params(&stmt, &values).and_then(|p| {
            parse_unnamed(&stmt, &sql, &mut out)?;
            bind_execute(&stmt, &p, result_format(&session.types), &mut out)
        });
        if let Err(e) = bound {
            sent.answers.refuse(index, e);
            ok = false;
            break;
        }
        sent.statements.push((stmt.clone(), sql.clone()));
        prev = Some((sql, stmt));
    }
    if !ok && implicit {
        // The server's transaction does not know: the segment's end must roll back.
        session.segment_failed.store(true, Ordering::Relaxed);
    }
    if sent.statements.is_empty() {
        sent.answers.done();
        return None;
    }
    dispatch(session, &mut out, &mut sent);
    Some(sent)
}

/// Queues `out` (closed with a Sync) as one request for the statements collected in `sent`.
fn dispatch(session: &Session, out: &mut BytesMut, sent: &mut Sent) {
    match Response::send(session, out.split()) {
        Ok(response) => sent.response = Some(response),
        Err(e) => {
            session.note_error(&e);
            for _ in sent.statements.drain(..) {
                sent.answers.push(Err(e.clone()));
            }
        }
    }
}

/// Reads the responses of `sent` up to its ReadyForQuery and answers its statements; true when
/// every statement succeeded.
async fn read(session: &Session, sent: &mut Sent) -> bool {
    let Some(mut response) = sent.response.take() else {
        return false;
    };
    let answers = &mut sent.answers;
    let first = answers.answered;
    let mut running: Vec<Option<Running>> = sent
        .statements
        .drain(..)
        .enumerate()
        .map(|(i, (stmt, sql))| Some(Running::new(stmt, sql, first + i)))
        .collect();
    let mut ok = true;
    loop {
        let (i, event) = match response.next().await {
            Ok(Some(step)) => step,
            Ok(None) => break,
            Err(lost) => {
                // No ReadyForQuery will come: every statement not answered fails with it.
                session.note_error(&lost);
                for _ in running.iter_mut().filter_map(Option::take) {
                    answers.push(Err(lost.clone()));
                }
                return false;
            }
        };
        match event {
            Event::Row(row) => {
                if let Some(Some(run)) = running.get_mut(i) {
                    run.row(&row, session, answers);
                }
            }
            Event::Done(tag) => {
                if let Some(run) = running.get_mut(i).and_then(Option::take) {
                    answers.push(run.done(&tag));
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
                    answers.push(Err(e));
                }
            }
            _ => {}
        }
    }
    // Statements the server skipped after a failure.
    for _ in running.into_iter().flatten() {
        ok = false;
        answers.push(Err(aborted()));
    }
    ok
}

/// Reads the responses of the last request of a batch and sends the batch's reply.
pub async fn finish(session: &Session, mut sent: Sent) {
    read(session, &mut sent).await;
    sent.answers.done();
}

/// A statement whose rows are arriving.
struct Running {
    stmt: Statement,
    sql: Arc<str>,
    index: usize,
    rows: Rows,
    /// A row that could not be decoded: the statement fails with it once its rows are read.
    error: Option<Error>,
}

impl Running {
    fn new(stmt: Statement, sql: Arc<str>, index: usize) -> Self {
        let rows = Rows::new(stmt.id(), stmt.columns());
        Running {
            stmt,
            sql,
            index,
            rows,
            error: None,
        }
    }

    fn row(
        &mut self,
        row: &postgres_protocol::message::backend::DataRowBody,
        session: &Session,
        answers: &Answers,
    ) {
        if self.error.is_some() {
            return;
        }
        let columns = self.stmt.columns();
        match decode_row(row, columns, &session.types, self.rows.writer()) {
            Ok(()) => {
                if let Some(part) = self.rows.row_done(columns, answers.parts) {
                    answers.part(self.index, part);
                }
            }
            Err(e) => self.error = Some(e),
        }
    }

    /// The statement's response (a row that could not be decoded fails it alone: the server
    /// ran it).
    fn done(self, tag: &str) -> Result<Vec<u8>> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.rows.finish(tag)),
        }
    }
}

#[cfg(test)]
#[path = "batch_test.rs"]
mod tests;
