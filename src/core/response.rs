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
    /// An event read by [`Response::poll_copy_data`] that was not COPY data.
    pending: Option<(usize, Event)>,
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
            pending: None,
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
                pending: None,
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
            pending: None,
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
        if let Some(step) = self.pending.take() {
            return Poll::Ready(Ok(Some(step)));
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
        if self.pending.is_some() || self.tracker.ready {
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
        self.pending = self.tracker.step(message)?;
        Ok(None)
    }

    /// Whether [`Response::copy_data_ready`] stopped at a message that is not COPY data.
    pub fn has_pending(&self) -> bool {
        self.pending.is_some()
    }
}

/// The row count at the end of a command tag (`INSERT 0 3`, `UPDATE 2`, `SELECT 5`); None for
/// tags without one (`CREATE TABLE`, `SET`).
pub fn tag_rows(tag: &str) -> Option<u64> {
    let (_, last) = tag.rsplit_once(' ')?;
    last.parse().ok()
}

/// node-postgres's `command`: the tag's first word (`CREATE TABLE t AS ...` answers `SELECT 5`).
pub fn tag_command(tag: &str) -> &str {
    tag.split(' ').next().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use fallible_iterator::FallibleIterator;

    /// One backend message: tag, length, body.
    fn msg(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        v.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
        v.extend_from_slice(body);
        v
    }
    fn cstr(s: &str) -> Vec<u8> {
        let mut v = s.as_bytes().to_vec();
        v.push(0);
        v
    }
    fn complete(tag: &str) -> Vec<u8> {
        msg(b'C', &cstr(tag))
    }
    fn ready(status: u8) -> Vec<u8> {
        msg(b'Z', &[status])
    }
    fn data_row(values: &[Option<&[u8]>]) -> Vec<u8> {
        let mut b = (values.len() as u16).to_be_bytes().to_vec();
        for v in values {
            match v {
                Some(v) => {
                    b.extend_from_slice(&(v.len() as i32).to_be_bytes());
                    b.extend_from_slice(v);
                }
                None => b.extend_from_slice(&(-1i32).to_be_bytes()),
            }
        }
        msg(b'D', &b)
    }
    fn row_description(names: &[&str]) -> Vec<u8> {
        let mut b = (names.len() as u16).to_be_bytes().to_vec();
        for n in names {
            b.extend(cstr(n));
            b.extend_from_slice(&0u32.to_be_bytes()); // table
            b.extend_from_slice(&0i16.to_be_bytes()); // column
            b.extend_from_slice(&25u32.to_be_bytes()); // text
            b.extend_from_slice(&(-1i16).to_be_bytes());
            b.extend_from_slice(&(-1i32).to_be_bytes());
            b.extend_from_slice(&0i16.to_be_bytes());
        }
        msg(b'T', &b)
    }
    fn error(severity: &str, code: &str, message: &str) -> Vec<u8> {
        let mut b = Vec::new();
        for (t, v) in [
            (b'S', severity),
            (b'V', severity),
            (b'C', code),
            (b'M', message),
        ] {
            b.push(t);
            b.extend(cstr(v));
        }
        b.push(b'D');
        b.extend(cstr("some detail"));
        b.push(0);
        msg(b'E', &b)
    }
    fn notice() -> Vec<u8> {
        let mut b = vec![b'S'];
        b.extend(cstr("NOTICE"));
        b.push(b'M');
        b.extend(cstr("hello"));
        b.push(0);
        msg(b'N', &b)
    }
    fn parameter_status() -> Vec<u8> {
        let mut b = cstr("TimeZone");
        b.extend(cstr("UTC"));
        msg(b'S', &b)
    }

    /// What a request's bytes say, as `index:event` strings.
    fn read(parts: &[Vec<u8>]) -> Vec<String> {
        let mut buf = BytesMut::from(&parts.concat()[..]);
        let mut t = Tracker::default();
        let mut out = Vec::new();
        while let Some(m) = Message::parse(&mut buf).unwrap() {
            if let Some((i, e)) = t.step(m).unwrap() {
                out.push(match e {
                    Event::Columns(c) => {
                        format!("{i}:columns {}", c.fields().count().unwrap())
                    }
                    Event::Row(r) => format!("{i}:row {}", r.ranges().count().unwrap()),
                    Event::Done(tag) => format!("{i}:done {tag}"),
                    Event::Failed(e) => format!("{i}:failed {} {}", e.code(), e),
                    Event::CopyIn => format!("{i}:copy in"),
                    Event::CopyOut => format!("{i}:copy out"),
                    Event::CopyData(d) => format!("{i}:data {}", d.len()),
                    Event::Ready(s) => format!("{i}:ready {}", s.name()),
                });
            }
        }
        assert!(buf.is_empty(), "every byte is a whole message");
        out
    }

    const PARSE_COMPLETE: [u8; 5] = [b'1', 0, 0, 0, 4];
    const BIND_COMPLETE: [u8; 5] = [b'2', 0, 0, 0, 4];

    #[test]
    fn rows_then_the_tag_then_the_status() {
        let v = read(&[
            PARSE_COMPLETE.to_vec(),
            BIND_COMPLETE.to_vec(),
            data_row(&[Some(b"\0\0\0\x01"), None]),
            data_row(&[Some(b"\0\0\0\x02"), Some(b"x")]),
            complete("SELECT 2"),
            ready(b'I'),
        ]);
        assert_eq!(v, ["0:row 2", "0:row 2", "0:done SELECT 2", "1:ready idle"]);
    }

    #[test]
    fn an_error_mid_batch_answers_its_statement_and_the_rest_get_nothing() {
        // Three statements, one Sync: the second fails, the third is skipped by the server.
        let v = read(&[
            BIND_COMPLETE.to_vec(),
            complete("INSERT 0 1"),
            BIND_COMPLETE.to_vec(),
            error("ERROR", "42P01", "relation \"nope\" does not exist"),
            ready(b'I'),
        ]);
        assert_eq!(
            v,
            [
                "0:done INSERT 0 1",
                "1:failed 42P01 relation \"nope\" does not exist",
                "2:ready idle"
            ]
        );
    }

    #[test]
    fn an_error_after_partial_rows_fails_that_statement_in_a_transaction() {
        let v = read(&[
            BIND_COMPLETE.to_vec(),
            data_row(&[Some(b"1")]),
            data_row(&[Some(b"2")]),
            error("ERROR", "22012", "division by zero"),
            ready(b'E'),
        ]);
        assert_eq!(
            v,
            [
                "0:row 1",
                "0:row 1",
                "0:failed 22012 division by zero",
                "1:ready inError"
            ]
        );
    }

    #[test]
    fn notices_and_parameter_status_between_results_say_nothing_about_statements() {
        // tokio-postgres's framing hands these to the connection, not to the request; should
        // one reach a request, it must not shift which statement the next message answers.
        let v = read(&[
            row_description(&["a"]),
            notice(),
            data_row(&[Some(b"x")]),
            complete("SELECT 1"),
            parameter_status(),
            complete("SET"),
            ready(b'T'),
        ]);
        assert_eq!(
            v,
            [
                "0:columns 1",
                "0:row 1",
                "0:done SELECT 1",
                "1:done SET",
                "2:ready inTransaction"
            ]
        );
    }

    #[test]
    fn a_script_answers_statement_by_statement_and_an_empty_query_has_an_empty_tag() {
        let v = read(&[
            complete("BEGIN"),
            msg(b'I', &[]),
            row_description(&["a", "b"]),
            data_row(&[Some(b"1"), Some(b"2")]),
            complete("SELECT 1"),
            ready(b'T'),
        ]);
        assert_eq!(
            v,
            [
                "0:done BEGIN",
                "1:done ",
                "2:columns 2",
                "2:row 2",
                "2:done SELECT 1",
                "3:ready inTransaction"
            ]
        );
    }

    #[test]
    fn a_copy_start_and_its_data() {
        let mut copy_out = vec![0u8];
        copy_out.extend_from_slice(&1u16.to_be_bytes());
        copy_out.extend_from_slice(&0u16.to_be_bytes());
        let v = read(&[
            msg(b'H', &copy_out),
            msg(b'd', b"1\tone\n"),
            msg(b'c', &[]),
            complete("COPY 1"),
            msg(b'G', &copy_out),
            error("ERROR", "57014", "COPY from stdin failed: not supported"),
            ready(b'I'),
        ]);
        assert_eq!(
            v,
            [
                "0:copy out",
                "0:data 6",
                "0:done COPY 1",
                "1:copy in",
                "1:failed 57014 COPY from stdin failed: not supported",
                "2:ready idle"
            ]
        );
    }

    #[test]
    fn a_fatal_error_ends_the_session_without_ready_for_query() {
        let v = read(&[
            BIND_COMPLETE.to_vec(),
            data_row(&[Some(b"1")]),
            error(
                "FATAL",
                "57P01",
                "terminating connection due to administrator command",
            ),
        ]);
        assert_eq!(v.len(), 2);
        assert!(v[1].starts_with("0:failed ERR_CONNECTION_CLOSED the server closed the connection: terminating connection"));
    }

    #[test]
    fn server_error_fields_are_kept() {
        let mut buf = BytesMut::from(&error("ERROR", "23505", "duplicate key")[..]);
        let Some(Message::ErrorResponse(body)) = Message::parse(&mut buf).unwrap() else {
            panic!("not an ErrorResponse")
        };
        match Error::from_response(&body) {
            Error::Db(d) => {
                assert_eq!(
                    (d.severity.as_str(), d.code.as_str(), d.message.as_str()),
                    ("ERROR", "23505", "duplicate key")
                );
                assert_eq!(d.detail.as_deref(), Some("some detail"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn tags_give_command_and_rows() {
        assert_eq!(
            (tag_command("INSERT 0 3"), tag_rows("INSERT 0 3")),
            ("INSERT", Some(3))
        );
        assert_eq!(
            (tag_command("SELECT 5"), tag_rows("SELECT 5")),
            ("SELECT", Some(5))
        );
        assert_eq!(
            (tag_command("MERGE 2"), tag_rows("MERGE 2")),
            ("MERGE", Some(2))
        );
        assert_eq!(
            (tag_command("CREATE TABLE"), tag_rows("CREATE TABLE")),
            ("CREATE", None)
        );
        assert_eq!((tag_command("DO"), tag_rows("DO")), ("DO", None));
        assert_eq!((tag_command(""), tag_rows("")), ("", None));
    }
}
