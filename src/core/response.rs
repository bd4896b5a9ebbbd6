//! The one reader of the server's answers. Every request ferropg sends itself (a single query,
//! an executeMany chunk, a pipeline batch, a cursor FETCH, a simple-protocol script) is a run of
//! frontend messages closed by one Sync; its answer is the run of backend messages up to that
//! Sync's ReadyForQuery. tokio-postgres routes each answer to its request (`send_raw`); this
//! module says which statement of the request each message answers and what it means.
//!
//! The rules, from the protocol ("Message Flow" in the PostgreSQL docs): a statement's answer
//! ends with CommandComplete (its tag), EmptyQueryResponse or ErrorResponse; after an
//! ErrorResponse the server skips the rest of the request up to the Sync (extended protocol)
//! or the rest of the script (simple protocol), so statements that got no answer were not run;
//! ReadyForQuery ends the request and states the session's transaction status. A FATAL error
//! ends the session: no ReadyForQuery follows, and the connection closes.
//!
//! [`Tracker`] holds no I/O and is tested from byte fixtures; [`Response`] feeds it the
//! messages of one request.

use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use postgres_protocol::message::backend::{DataRowBody, Message, RowDescriptionBody};
use postgres_protocol::message::frontend;
use tokio_postgres::{RawCopyIn, RawResponses};

use crate::core::error::{Code, Error, Result};
use crate::core::reply::lost;
use crate::core::session::{Session, TxStatus};

/// What one backend message says about statement `index` of its request.
pub enum Event {
    /// The columns of the statement's rows (simple protocol, or a Describe).
    Columns(RowDescriptionBody),
    Row(DataRowBody),
    /// The statement completed with this CommandComplete tag ("" for an empty query).
    Done(String),
    /// The statement failed; the server runs nothing more of the request.
    Failed(Error),
    /// A COPY started (simple protocol): the server waits for data, or sends it.
    CopyIn,
    CopyOut,
    CopyData(Bytes),
    /// The request is over; the session's transaction status after it.
    Ready(TxStatus),
}

/// Which statement of a request the next message answers.
#[derive(Default)]
pub struct Tracker {
    index: usize,
    /// ReadyForQuery seen: the request is over.
    pub ready: bool,
}

impl Tracker {
    /// Classifies one message (`Err`: the connection was lost before the request ended).
    /// Returns the statement it answers and what it says, or None for messages that say
    /// nothing a caller needs (ParseComplete, BindComplete, NoData, CloseComplete, ...).
    pub fn step(&mut self, message: Message) -> Result<Option<(usize, Event)>> {
        let i = self.index;
        let event = match message {
            Message::RowDescription(body) => Event::Columns(body),
            Message::DataRow(row) => Event::Row(row),
            Message::CommandComplete(body) => {
                self.index += 1;
                Event::Done(
                    body.tag()
                        .map_err(|e| {
                            Error::driver(Code::Protocol, format!("malformed command tag: {e}"))
                        })?
                        .to_string(),
                )
            }
            Message::EmptyQueryResponse => {
                self.index += 1;
                Event::Done(String::new())
            }
            Message::ErrorResponse(body) => {
                self.index += 1;
                Event::Failed(Error::from_response(&body))
            }
            Message::CopyInResponse(_) => Event::CopyIn,
            Message::CopyOutResponse(_) => Event::CopyOut,
            Message::CopyData(body) => Event::CopyData(body.into_bytes()),
            Message::ReadyForQuery(body) => {
                self.ready = true;
                Event::Ready(TxStatus::from_byte(body.status()))
            }
            _ => return Ok(None),
        };
        Ok(Some((i, event)))
    }
}

/// The answer to one request, message by message.
pub struct Response {
    raw: RawResponses,
    tracker: Tracker,
    /// What [`Response::poll_next`] returns next: an event read by
    /// [`Response::copy_data_ready`] that was not COPY data, or one [`Response::poll_peek`]
    /// waited for (the end of the request, or the connection's loss, included).
    peeked: Option<Result<Option<(usize, Event)>>>,
}

impl Response {
    /// Queues `messages` (frontend messages without the Sync, which is added here) as one
    /// request, behind everything queued before on the connection.
    pub fn send(session: &Session, mut messages: BytesMut) -> Result<Response> {
        frontend::sync(&mut messages);
        let raw = session.client.send_raw(messages.freeze())?;
        Ok(Response {
            raw,
            tracker: Tracker::default(),
            peeked: None,
        })
    }

    /// Queues `messages` (Bind and Execute of a `COPY ... FROM STDIN`, no Sync) as a request
    /// whose data, and its end (CopyDone or CopyFail, then Sync), go through the returned
    /// `RawCopyIn`.
    pub fn send_copy_in(session: &Session, messages: BytesMut) -> Result<(RawCopyIn, Response)> {
        let (copy, raw) = session.client.send_raw_copy_in(messages.freeze())?;
        Ok((
            copy,
            Response {
                raw,
                tracker: Tracker::default(),
                peeked: None,
            },
        ))
    }

    /// Queues `sql` as a simple-protocol Query (which ends itself: no Sync).
    pub fn send_query(session: &Session, sql: &str) -> Result<Response> {
        let mut out = BytesMut::with_capacity(sql.len() + 8);
        frontend::query(sql, &mut out).map_err(|e| Error::param(e.to_string()))?;
        let raw = session.client.send_raw(out.freeze())?;
        Ok(Response {
            raw,
            tracker: Tracker::default(),
            peeked: None,
        })
    }

    /// The next event, or None once the request is over. `Err` when the connection was lost
    /// before its end (every statement not answered yet then failed with it).
    pub async fn next(&mut self) -> Result<Option<(usize, Event)>> {
        std::future::poll_fn(|cx| self.poll_next(cx)).await
    }

    /// [`Response::next`] as a poll: readers of many small messages (COPY data) poll it
    /// directly instead of building a future per message.
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<(usize, Event)>>> {
        if let Some(step) = self.peeked.take() {
            return Poll::Ready(step);
        }
        while !self.tracker.ready {
            let message = match self.raw.poll_next(cx) {
                Poll::Ready(Ok(m)) => m,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(lost(e))),
                Poll::Pending => return Poll::Pending,
            };
            if let Some(step) = self.tracker.step(message)? {
                return Poll::Ready(Ok(Some(step)));
            }
        }
        Poll::Ready(Ok(None))
    }

    /// COPY data that has already arrived, without waiting: `Some(data)`, or None when nothing
    /// has arrived or the next message is not COPY data (then [`Response::next`] returns it).
    /// The hot loop of `copyOut`: a CopyData message becomes its bytes and nothing more.
    pub fn copy_data_ready(&mut self) -> Result<Option<Bytes>> {
        if self.peeked.is_some() || self.tracker.ready {
            return Ok(None);
        }
        let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
        let message = match self.raw.poll_next(&mut cx) {
            Poll::Ready(Ok(m)) => m,
            Poll::Ready(Err(e)) => return Err(lost(e)),
            Poll::Pending => return Ok(None),
        };
        if let Message::CopyData(body) = message {
            return Ok(Some(body.into_bytes()));
        }
        if let Some(step) = self.tracker.step(message)? {
            self.peeked = Some(Ok(Some(step)));
        }
        Ok(None)
    }

    /// Whether [`Response::copy_data_ready`] stopped at a message that is not COPY data.
    pub fn has_pending(&self) -> bool {
        self.peeked.is_some()
    }

    /// Waits for the next event without taking it ([`Response::poll_next`] returns it next).
    /// Ready with the error when that event is a failure or the connection's loss, with None
    /// for any other event or the end of the request. A COPY FROM STDIN waiting for its
    /// caller's data watches its answer this way: the server says nothing during the COPY
    /// unless it ends it (an ERROR, a FATAL, the socket closed).
    pub fn poll_peek(&mut self, cx: &mut Context<'_>) -> Poll<Option<Error>> {
        if self.peeked.is_none() {
            let step = std::task::ready!(self.poll_next(cx));
            self.peeked = Some(step);
        }
        Poll::Ready(match &self.peeked {
            Some(Err(e)) | Some(Ok(Some((_, Event::Failed(e))))) => Some(e.clone()),
            _ => None,
        })
    }
}

/// The row count at the end of a command tag (`INSERT 0 3`, `UPDATE 2`, `SELECT 5`); None for
/// tags without one (`CREATE TABLE`, `SET`).
pub fn tag_rows(tag: &str) -> Option<u64> {
    // Byte scans rather than `rsplit_once` and `parse`: every statement's tag passes here, and
    // the char searcher's set-up cost more than these few bytes (~100 instructions a query).
    let b = tag.as_bytes();
    let digits = &b[b.iter().rposition(|&c| c == b' ')? + 1..];
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &d| {
        if d.is_ascii_digit() {
            n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        } else {
            None
        }
    })
}

/// node-postgres's `command`: the tag's first word (`CREATE TABLE t AS ...` answers `SELECT 5`).
pub fn tag_command(tag: &str) -> &str {
    match tag.as_bytes().iter().position(|&c| c == b' ') {
        // A space is one byte in UTF-8, so `i` is a char boundary.
        Some(i) => &tag[..i],
        None => tag,
    }
}
