//! COPY streams: `copyIn` feeds a `COPY ... FROM STDIN` (any format), `copyOut` reads a
//! `COPY ... TO STDOUT`. Both are started through the connection's submission queue, so they
//! run in call order with everything else on the connection.

use std::sync::PoisonError;
use std::task::Poll;

use bytes::{Bytes, BytesMut};
use futures_util::task::AtomicWaker;
use postgres_protocol::message::frontend;
use tokio::sync::Mutex;
use tokio_postgres::types::Type;
use tokio_postgres::{RawCopyIn, Statement};

use crate::core::cancel::Canceller;
use crate::core::exec::{bind_execute, parse_unnamed};
use crate::core::progress::Sent;
use crate::core::reply::gone;
use crate::core::response::{tag_rows, Event, Response};
use crate::core::session::Session;

use crate::core::error::{Code, Error, Result};
use crate::core::result::write_header;
use crate::core::types::decode::decode;
use crate::core::types::TypeOptions;
use crate::core::wire::Writer;

fn ended() -> Error {
    Error::driver(Code::CopyEnded, "the COPY has already ended")
}

/// An open `COPY ... FROM STDIN`: its data goes out through the request that started it, and
/// its answer (the start, the final tag, an error) is read by the one response reader. It stays
/// in flight on its connection (`Sent`) until it is finished or aborted.
///
/// The data side and the answer side are held apart so that the answer can be watched
/// ([`CopyIn::watch`]) while the caller is between writes: a COPY fed by a slow source would
/// otherwise learn of a lost connection only at its next write.
pub struct CopyIn {
    /// The data side; taken by `finish` and `abort`.
    copy: Mutex<Option<RawCopyIn>>,
    /// The answer side and the job's place in flight; taken by `finish` and `abort`. A std
    /// mutex, held only while the answer is polled, never across an await.
    answer: std::sync::Mutex<Option<(Response, Sent)>>,
    /// The task of a pending [`CopyIn::watch`], woken when the answer side is taken (its
    /// waker registered in the answer's channel is then replaced by the new reader's).
    watcher: AtomicWaker,
}

impl CopyIn {
    /// Executes `stmt` (a `COPY ... FROM STDIN`) and waits for the server to ask for data.
    pub async fn start(
        session: &Session,
        stmt: &Statement,
        sql: &str,
        sent: Sent,
    ) -> Result<CopyIn> {
        let mut out = BytesMut::with_capacity(32);
        parse_unnamed(stmt, sql, &mut out)?;
        bind_execute(stmt, &[], 1, &mut out)?;
        // Without a Sync the server keeps the answer of a statement that is not a COPY in its
        // output buffer: Flush sends it (a COPY ignores it).
        frontend::flush(&mut out);
        let (copy, mut response) = Response::send_copy_in(session, out)?;
        let refused = loop {
            match response.next().await? {
                Some((_, Event::CopyIn)) => {
                    return Ok(CopyIn {
                        copy: Mutex::new(Some(copy)),
                        answer: std::sync::Mutex::new(Some((response, sent))),
                        watcher: AtomicWaker::new(),
                    })
                }
                Some((_, Event::Failed(e))) => break e,
                Some((_, Event::Done(_) | Event::CopyOut)) => {
                    break Error::driver(
                        Code::InvalidArgument,
                        "copyIn needs a COPY ... FROM STDIN statement",
                    )
                }
                Some(_) => {}
                None => return Err(gone()),
            }
        };
        // The server waits for a Sync: dropping the COPY sends it (after a CopyFail, which
        // the server ignores outside a COPY). The connection stays usable.
        drop(copy);
        drain(&mut response).await;
        Err(refused)
    }

    /// Sends data; resolves once the connection has taken it (backpressure).
    pub async fn write(&self, data: Bytes) -> Result<()> {
        let mut g = self.copy.lock().await;
        let copy = g.as_mut().ok_or_else(ended)?;
        copy.send(data).await.map_err(Into::into)
    }

    /// Resolves when the server answers before the COPY's end, which it does only to end it:
    /// with its error (an ERROR, a FATAL such as `pg_terminate_backend`'s) or the connection's
    /// loss. None once the COPY was finished or aborted, or for any other answer. The answer
    /// is left for `finish` or `abort` to read.
    pub async fn watch(&self) -> Option<Error> {
        std::future::poll_fn(|cx| {
            self.watcher.register(cx.waker());
            let mut g = self.answer.lock().unwrap_or_else(PoisonError::into_inner);
            match g.as_mut() {
                Some((response, _)) => response.poll_peek(cx),
                None => Poll::Ready(None),
            }
        })
        .await
    }

    /// Takes the answer side (ending a pending `watch`).
    fn take_answer(&self) -> Option<(Response, Sent)> {
        let taken = self
            .answer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        self.watcher.wake();
        taken
    }

    /// Ends the COPY; returns the number of rows copied (from the server's `COPY n` tag).
    pub async fn finish(&self) -> Result<u64> {
        let copy = self.copy.lock().await.take();
        let answer = self.take_answer();
        let (Some(copy), Some((mut response, _sent))) = (copy, answer) else {
            return Err(ended());
        };
        copy.finish().await?;
        let mut outcome = None;
        while let Some((_, event)) = response.next().await? {
            match event {
                Event::Done(tag) => outcome = Some(Ok(tag_rows(&tag).unwrap_or(0))),
                Event::Failed(e) => outcome = Some(Err(e)),
                _ => {}
            }
        }
        outcome.unwrap_or_else(|| Err(gone()))
    }

    /// Aborts the COPY (CopyFail): the server rolls it back and the connection stays usable.
    pub async fn abort(&self) {
        drop(self.copy.lock().await.take());
        if let Some((mut response, _sent)) = self.take_answer() {
            drain(&mut response).await;
        }
    }
}

/// An open `COPY ... TO STDOUT`, read through the one response reader (`core::response`):
/// CopyData until CommandComplete and ReadyForQuery. The connection hands the data over as the
/// caller reads it (a bounded channel per request), which is the backpressure.
pub struct CopyOut {
    /// The COPY's answer, and its place in flight until it ends.
    response: Mutex<Option<(Response, Sent)>>,
    cancel: Canceller,
}

impl CopyOut {
    /// Executes `stmt` (a `COPY ... TO STDOUT`) and waits for the server to start sending.
    pub async fn start(
        session: &Session,
        stmt: &Statement,
        sql: &str,
        sent: Sent,
    ) -> Result<CopyOut> {
        let mut out = BytesMut::with_capacity(32);
        parse_unnamed(stmt, sql, &mut out)?;
        bind_execute(stmt, &[], 1, &mut out)?;
        let mut response = Response::send(session, out)?;
        loop {
            match response.next().await? {
                Some((_, Event::CopyOut)) => {
                    return Ok(CopyOut {
                        response: Mutex::new(Some((response, sent))),
                        cancel: session.canceller.clone(),
                    })
                }
                Some((_, Event::Failed(e))) => {
                    drain(&mut response).await;
                    return Err(e);
                }
                Some((_, Event::Done(_))) => {
                    drain(&mut response).await;
                    return Err(Error::driver(
                        Code::InvalidArgument,
                        "copyOut needs a COPY ... TO STDOUT statement",
                    ));
                }
                Some(_) => {}
                None => return Err(gone()),
            }
        }
    }

    /// The next data: everything already received, up to about `max` bytes, waiting only
    /// for the first message. None at the end of the COPY.
    pub async fn read(&self, max: usize) -> Result<Option<Vec<u8>>> {
        let mut g = self.response.lock().await;
        let Some((response, _)) = g.as_mut() else {
            return Ok(None);
        };
        let mut out = Vec::new();
        let mut finished = false;
        loop {
            // The data already here comes along without waiting (and without an event each).
            if !out.is_empty() {
                match response.copy_data_ready() {
                    Ok(Some(data)) => {
                        out.extend_from_slice(&data);
                        if out.len() >= max {
                            break;
                        }
                        continue;
                    }
                    // Nothing more yet: hand over what is here.
                    Ok(None) if !response.has_pending() => break,
                    Ok(None) => {}
                    Err(e) => {
                        *g = None;
                        return Err(e);
                    }
                }
            }
            match response.next().await {
                Ok(Some((_, Event::CopyData(data)))) => {
                    if out.is_empty() {
                        out.reserve(data.len().max(max.min(1 << 16)));
                    }
                    out.extend_from_slice(&data);
                    if out.len() >= max {
                        break;
                    }
                }
                Ok(Some((_, Event::Failed(e)))) => {
                    drain(response).await;
                    *g = None;
                    return Err(e);
                }
                Ok(Some((_, Event::Done(_)))) | Ok(None) => {
                    finished = true;
                    break;
                }
                Ok(Some(_)) => {}
                Err(e) => {
                    *g = None;
                    return Err(e);
                }
            }
        }
        if finished {
            drain(response).await;
            *g = None;
        }
        Ok((!out.is_empty()).then_some(out))
    }

    /// Stops the COPY early: asks the server to cancel it, then reads what is still in
    /// flight so the connection is usable afterwards.
    pub async fn cancel(&self) {
        let mut g = self.response.lock().await;
        let Some((mut response, _sent)) = g.take() else {
            return;
        };
        let _ = self.cancel.cancel().await;
        drain(&mut response).await;
    }
}

/// Reads a request's remaining messages up to its ReadyForQuery (or the connection's end).
async fn drain(response: &mut Response) {
    while let Ok(Some(_)) = response.next().await {}
}

/// `copyOutRows`: a binary `COPY (query) TO STDOUT` decoded into result blocks (the same
/// format and type mapping as query results), batch by batch.
pub struct CopyOutRows {
    out: CopyOut,
    stmt: Statement,
    types: TypeOptions,
    state: Mutex<RowsState>,
}

/// Where a binary COPY OUT stream stands: bytes received and not decoded yet, and whether
/// the header has been read. Public for the fuzz target (`fuzz/fuzz_targets/copy_out.rs`).
#[derive(Default)]
pub struct RowsState {
    pub pending: BytesMut,
    header_done: bool,
    ended: bool,
}

/// Binary COPY's signature (the header goes on with flags and an extension length).
const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";

impl CopyOutRows {
    pub fn new(out: CopyOut, stmt: Statement, types: TypeOptions) -> Self {
        CopyOutRows {
            out,
            stmt,
            types,
            state: Mutex::new(RowsState::default()),
        }
    }

    /// The next result block of at least one row (up to about `max` bytes of input), or None
    /// at the end.
    pub async fn read(&self, max: usize) -> Result<Option<Vec<u8>>> {
        let mut st = self.state.lock().await;
        let columns = self.stmt.columns();
        let mut w = Writer::with_capacity(max.min(1 << 20));
        write_header(&mut w, self.stmt.id(), columns);
        let count_at = w.buf.len();
        w.u32(0);
        let column_types: Vec<&Type> = columns.iter().map(|c| c.type_()).collect();
        let mut n: u32 = 0;
        let mut total = 0;
        loop {
            total += parse_tuples(&mut st, &column_types, &self.types, &mut w, &mut n, max)?;
            if n > 0 && (total >= max || st.ended) {
                break;
            }
            if st.ended {
                return Ok(None);
            }
            // Waits for one message at most; whatever else has arrived comes along.
            match self.out.read(max).await? {
                Some(data) => st.pending.extend_from_slice(&data),
                None => st.ended = true,
            }
        }
        w.buf[count_at..count_at + 4].copy_from_slice(&n.to_le_bytes());
        w.str("COPY");
        w.f64(n as f64);
        Ok(Some(w.buf))
    }

    pub async fn cancel(&self) {
        self.out.cancel().await;
    }
}

/// Decodes the complete tuples in `st.pending` (binary COPY: the header once, then tuples of
/// `columns.len()` fields until the -1 trailer) into `w`, counting them in `n`, and stops once
/// `max` bytes are consumed; returns the bytes consumed. An incomplete tuple waits for more
/// bytes; data that cannot be binary COPY of these columns is `ERR_PROTOCOL`, a value that does
/// not decode `ERR_DECODE`. Public for the fuzz target.
pub fn parse_tuples(
    st: &mut RowsState,
    columns: &[&Type],
    types: &TypeOptions,
    w: &mut Writer,
    n: &mut u32,
    max: usize,
) -> Result<usize> {
    let bad = || Error::driver(Code::Protocol, "malformed binary COPY data");
    let mut p = 0usize;
    let buf = &st.pending[..];
    if !st.header_done {
        if buf.len() < SIGNATURE.len() + 8 {
            return Ok(0);
        }
        if &buf[..SIGNATURE.len()] != SIGNATURE {
            return Err(bad());
        }
        let ext = u32::from_be_bytes(buf[15..19].try_into().map_err(|_| bad())?) as usize;
        if buf.len() < 19 + ext {
            return Ok(0);
        }
        p = 19 + ext;
        st.header_done = true;
    }
    while p + 2 <= buf.len() && p < max {
        let fields = i16::from_be_bytes([buf[p], buf[p + 1]]);
        if fields == -1 {
            p = buf.len();
            break;
        }
        if fields as usize != columns.len() {
            return Err(bad());
        }
        // Check that the whole tuple is here before writing any of it.
        let mut q = p + 2;
        let mut complete = true;
        for _ in 0..fields {
            let Some(lb) = buf.get(q..q + 4) else {
                complete = false;
                break;
            };
            let len = i32::from_be_bytes(lb.try_into().map_err(|_| bad())?);
            q += 4 + len.max(0) as usize;
            if q > buf.len() {
                complete = false;
                break;
            }
        }
        if !complete {
            break;
        }
        let mut q = p + 2;
        for ty in columns {
            let len = i32::from_be_bytes(buf[q..q + 4].try_into().map_err(|_| bad())?);
            q += 4;
            let raw = if len < 0 {
                None
            } else {
                let v = &buf[q..q + len as usize];
                q += len as usize;
                Some(v)
            };
            decode(ty, raw, types, w).map_err(|m| Error::driver(Code::Decode, m))?;
        }
        *n += 1;
        p = q;
    }
    let _ = st.pending.split_to(p);
    Ok(p)
}
